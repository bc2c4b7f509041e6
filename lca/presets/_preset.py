"""One published typology: its tables, its reference model, and refitting it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from ..encoding import DataError
from ..exceptions import warn
from ..model import LatentClassModel, some_values

#: Percentage used for a published "+" (under 0.5 per cent, not zero).
PLUS_PERCENT = 0.25
#: Percentage used for a published 0: a probability of exactly 0 would make an
#: answer impossible for the class, so that no respondent giving it could ever
#: be assigned there. 0.1 per cent keeps such answers possible but rare.
ZERO_PERCENT = 0.1
#: A fitted class whose mean total-variation distance to its published match
#: is above this does not match any published class.
MATCH_THRESHOLD = 0.25
#: Appended to the published name a fitted class was paired with when it matches none.
NO_MATCH = "(no match)"


def published_probabilities(values) -> np.ndarray:
    """Published percentages of one indicator (categories x classes) -> probabilities.

    ``"+"`` becomes ``PLUS_PERCENT``, 0 becomes ``ZERO_PERCENT``, then every
    column is divided by its sum (published columns add up to 99-101 through
    rounding).
    """
    table = pd.DataFrame(values)
    num = table.replace("+", PLUS_PERCENT).apply(pd.to_numeric).to_numpy(dtype=float)
    num = np.where(num <= 0, ZERO_PERCENT, num)
    return num / num.sum(axis=0, keepdims=True)


def _read(filename: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath("data", filename).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class Preset:
    """A published latent class typology.

    Attributes
    ----------
    name, title : str
        The preset's name and the title of its published profile table.
    fit_title : str
        The title of its published table of fit statistics.
    class_labels : tuple of str
        Names of the published classes, in the published table's order.
    class_sizes : tuple of float
        Published class sizes (shares).
    n_respondents : int
        How many respondents the published model was fitted to (as its fit
        table implies); the size of a sample comparable with that table.
    ordinal : tuple of str
        Indicators the preset's model treats as ordinal.
    notes : str
        Known defects of the published tables and what the preset does about them.

    Percentages become probabilities by :func:`published_probabilities`:
    ``"+"`` (under 0.5 per cent) is read as 0.25 per cent; a published 0 as
    0.1 per cent (an exact 0 would make the answer impossible in that class);
    each class's column is then rescaled to sum to 1.
    """

    name: str
    title: str
    profile_file: str
    fit_file: str
    fit_title: str
    class_labels: tuple
    class_sizes: tuple
    n_respondents: int
    ordinal: tuple
    notes: str

    # -- the published tables ----------------------------------------------------
    def _raw(self) -> pd.DataFrame:
        return _read(self.profile_file)

    @property
    def n_classes(self) -> int:
        return len(self.class_labels)

    @property
    def indicators(self) -> list[str]:
        """Indicator names (the columns a data set must have), in table order."""
        return list(dict.fromkeys(self._raw()["indicator"]))

    @property
    def categories(self) -> dict[str, list[str]]:
        """Indicator -> its category labels, in the published (and model) order."""
        raw = self._raw()
        return {
            ind: raw.loc[raw["indicator"] == ind, "category"].tolist() for ind in self.indicators
        }

    def published_profile(self) -> pd.DataFrame:
        """The published profile table: percentages per class and the total.

        Rows (indicator, category); columns classes 1..K and ``"Total"``;
        ``"+"`` is shown as NaN (under 0.5 per cent). Values as printed,
        defects included (see ``notes``).
        """
        raw = self._raw()
        cols = [f"cluster_{k}" for k in range(1, self.n_classes + 1)] + ["total"]
        values = raw[cols].replace("+", np.nan).apply(pd.to_numeric)
        values.columns = [*range(1, self.n_classes + 1), "Total"]
        values.index = pd.MultiIndex.from_frame(raw[["indicator", "category"]])
        return values

    def published_fit(self) -> pd.DataFrame:
        """The published fit statistics (Table B.8 or B.10), indexed by n_classes."""
        fit = _read(self.fit_file).apply(pd.to_numeric)
        return fit.set_index("n_classes")

    def conditional_probs(self) -> dict[str, pd.DataFrame]:
        """Indicator -> DataFrame (category x class) of the published probabilities."""
        raw = self._raw()
        cols = [f"cluster_{k}" for k in range(1, self.n_classes + 1)]
        out = {}
        for ind in self.indicators:
            rows = raw[raw["indicator"] == ind]
            probs = published_probabilities(rows[cols].to_numpy())
            out[ind] = pd.DataFrame(
                probs,
                index=pd.Index(rows["category"].tolist(), name=ind),
                columns=range(1, self.n_classes + 1),
            )
        return out

    # -- models --------------------------------------------------------------------
    def reference_model(self) -> LatentClassModel:
        """The published model, ready to assign respondents without refitting.

        Class k is the published cluster k, named by ``class_labels``.
        Respondents need the preset's columns (``indicators``) with the
        published category labels (``categories``); missing answers are fine.
        """
        sizes = np.asarray(self.class_sizes, dtype=float)
        model = LatentClassModel.from_parameters(sizes / sizes.sum(), self.conditional_probs())
        model.class_labels_ = list(self.class_labels)
        return model

    def simulate(
        self, n: int, random_state=0, missing: float = 0.0
    ) -> tuple[pd.DataFrame, pd.Series]:
        """Respondents drawn from the published model, with their true classes (1..K)."""
        return self.reference_model().sample(n, random_state=random_state, missing=missing)

    def check_columns(self, data: pd.DataFrame) -> None:
        """Refuse data lacking the preset's columns, listing what is expected."""
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(data).__name__}")
        absent = [c for c in self.indicators if c not in data.columns]
        if absent:
            raise DataError(
                f"the {self.name!r} preset needs column(s) {absent}; it expects "
                f"{self.indicators} with the published category labels "
                f"(lca.presets.get({self.name!r}).categories)"
            )

    def fit(
        self, data: pd.DataFrame, weights=None, unknown: str = "error", **options
    ) -> LatentClassModel:
        """Fit the preset's model to new data and name its classes.

        The model has the preset's indicators, number of classes, ordinal
        indicators and category order (``options`` go to
        :class:`LatentClassModel` and may override them; ``categories=``
        replaces the labels of the columns it names). Fitted classes are
        matched to the published ones by the Hungarian algorithm on the mean
        total-variation distance between profiles, renumbered in the
        published order and named (``class_labels_``). ``class_match_`` says
        how close each match is; a class whose distance exceeds
        ``MATCH_THRESHOLD`` matches none: its label is the published name it
        was paired with followed by ``NO_MATCH``, and a warning names it. With another
        ``n_classes`` there is nothing to match: the classes are numbered by
        size, as any model's, and the model has no ``class_labels_`` or
        ``class_match_``.

        Parameters
        ----------
        data : pandas.DataFrame
            Holds the preset's columns (``indicators``) with the published
            labels (``categories``); other columns are ignored.
        weights : array-like, pandas.Series, str or None
            Case weights, as for :meth:`LatentClassModel.fit` (a str names a
            column of ``data``).
        unknown : {"error", "missing"}, default="error"
            Answers outside the published labels: refused, or fitted as
            missing answers (as ``predict`` does).
        **options
            Passed to :class:`LatentClassModel` (``n_starts``,
            ``random_state``, ``n_classes``, ...).

        Returns
        -------
        LatentClassModel
            Fitted; with the published number of classes, its classes are
            in the published order with ``class_labels_`` and ``class_match_``.
        """
        self.check_columns(data)
        if unknown not in ("error", "missing"):
            raise ValueError(f"unknown must be 'error' or 'missing', not {unknown!r}")
        settings = {
            "n_classes": self.n_classes,
            "ordinal": list(self.ordinal),
            "categories": self.categories,
        }
        given = options.pop("categories", None)
        if given is not None:  # per column: a caller's labels replace the published ones
            settings["categories"] = {**self.categories, **dict(given)}
        settings.update(options)
        data = self.published_labels_only(data, unknown, settings["categories"])
        columns = self.indicators + ([weights] if isinstance(weights, str) else [])
        model = LatentClassModel(**settings).fit(data[columns], weights=weights)
        if model.n_classes_ != self.n_classes:
            return model  # another number of classes: nothing to match
        return self.name_classes(model)

    def name_classes(self, model: LatentClassModel) -> LatentClassModel:
        """Match a fitted model's classes to the published ones, in place, as :meth:`fit` does.

        Parameters
        ----------
        model : LatentClassModel
            Fitted with the preset's number of classes and indicators (by
            :meth:`fit`, or by ``lca.compare`` with the preset's settings).

        Returns
        -------
        LatentClassModel
            The same model, its classes renumbered in the published order,
            with ``class_labels_`` and ``class_match_``.
        """
        if model.n_classes_ != self.n_classes:
            raise ValueError(
                f"the {self.name!r} preset has {self.n_classes} classes; this model has "
                f"{model.n_classes_}: there is nothing to match"
            )
        from scipy.optimize import linear_sum_assignment  # imported here: it is slow to load

        distance = self._profile_distance(model)
        rows, cols = linear_sum_assignment(distance)
        order = cols[np.argsort(rows)]  # published class i <- fitted class order[i]
        by_size = np.argsort(np.argsort(-model.class_sizes_.to_numpy(), kind="stable"))
        match = pd.DataFrame(
            {
                "label": list(self.class_labels),
                "fitted_class_by_size": by_size[order] + 1,
                "distance": distance[np.arange(self.n_classes), order],
            },
            index=pd.RangeIndex(1, self.n_classes + 1, name="class"),
        )
        match["matched"] = match["distance"] <= MATCH_THRESHOLD
        labels = [
            name if ok else f"{name} {NO_MATCH}"
            for name, ok in zip(self.class_labels, match["matched"])
        ]
        model._reorder_classes(order, labels=labels)
        model.class_match_ = match
        unmatched = match.loc[~match["matched"]]
        if len(unmatched):
            which = ", ".join(
                f"{k} (paired with {row.label!r}, distance {row.distance:.3f})"
                for k, row in unmatched.iterrows()
            )
            warn(
                f"{len(unmatched)} of the {self.n_classes} fitted classes match no published "
                f"{self.name!r} class (mean distance between profiles above "
                f"{MATCH_THRESHOLD}): class {which}. Their labels say {NO_MATCH}; "
                "model.class_match_ has every distance. These data may not hold the "
                "published typology (other questions, another population, or too few classes)",
                UserWarning,
            )
        return model

    def published_labels_only(
        self, data: pd.DataFrame, unknown: str = "error", categories: dict | None = None
    ) -> pd.DataFrame:
        """``data`` whose indicators hold only the preset's labels.

        Parameters
        ----------
        data : pandas.DataFrame
            Answers; columns that are not the preset's indicators are left as they are.
        unknown : {"error", "missing"}, default="error"
            Other answers: refused (a ``DataError`` naming the column, the
            value and its number of rows) or made missing, with a warning
            counting them.
        categories : dict, optional
            Labels per column instead of the preset's (``categories``).

        Returns
        -------
        pandas.DataFrame
            ``data``, or a copy with the outside answers missing.
        """
        if unknown not in ("error", "missing"):
            raise ValueError(f"unknown must be 'error' or 'missing', not {unknown!r}")
        categories = self.categories if categories is None else categories
        masked, said = {}, []
        for column, labels in categories.items():
            if column not in data.columns:
                continue
            values = data[column]
            outside = values.notna() & ~values.isin(labels)
            if not outside.any():
                continue
            if unknown == "error":
                first = values[outside].iloc[0]
                raise DataError(
                    f"column {column!r} holds {first!r} ({int(outside.sum())} rows), which is "
                    f"not among the {self.name!r} preset's labels {labels}; recode it to one "
                    "of them, or pass unknown='missing' to fit such answers as missing"
                )
            masked[column] = values.astype(object).mask(outside)
            said.append(f"{int(outside.sum())} in {column!r} ({some_values(values[outside])})")
        if said:
            warn(
                f"answers outside the {self.name!r} preset's labels, fitted as missing "
                f"(unknown='missing'): {'; '.join(said)}",
                UserWarning,
            )
        return data.assign(**masked) if masked else data

    def _profile_distance(self, model: LatentClassModel) -> np.ndarray:
        """Mean total-variation distance, published class (rows) x fitted class."""
        pub = self.conditional_probs()
        dist = np.zeros((self.n_classes, model.n_classes_))
        for ind in self.indicators:
            p = pub[ind].to_numpy()  # (C, K_pub)
            q = model.conditional_probs_[ind].reindex(pub[ind].index).fillna(0.0).to_numpy()
            dist += 0.5 * np.abs(p[:, :, None] - q[:, None, :]).sum(axis=0)
        return dist / len(self.indicators)
