"""Summary objects: reports made of tables, rendered as text or HTML, never printed.

- :func:`model_summary`: one fitted model (fit statistics, classes, AvePP,
  classification table, and the profile in per cent as in the reference
  study's Table B.9).
- :func:`comparison_summary`: models with different numbers of classes side
  by side (the study's Table B.8), with the class sizes of each model and the
  number of classes each criterion chooses.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd

Formatter = Callable[[object], str]


def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def fmt_number(value) -> str:
    """A number for a report: whole numbers without decimals, others by size."""
    if _is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.3f}" if abs(v) >= 100 else f"{v:.4f}"
    return str(value)


def fixed(decimals: int) -> Formatter:
    """A formatter with a fixed number of decimals (blank for NaN)."""

    def fmt(value) -> str:
        if _is_missing(value):
            return ""
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, numbers.Real):
            return f"{float(value):.{decimals}f}"
        return str(value)

    return fmt


class Summary:
    """A report: titled tables plus notes, rendered on demand.

    Returned by :meth:`LatentClassModel.summary` and
    :meth:`Comparison.summary`; nothing is printed. ``str(summary)`` and
    ``summary.as_text()`` give plain text, ``summary.as_html()`` (and
    notebooks, through ``_repr_html_``) HTML.

    Parameters
    ----------
    title : str
    tables : dict of str to pandas.DataFrame
        The tables in report order, with their numbers unrounded.
    formats : dict of str to callable, optional
        Table name -> function turning one value into text (or a dict of
        column -> function). Tables without one use :func:`fmt_number`.
    notes : list of str, optional
        Lines printed below the tables.
    main : str, optional
        The table :meth:`to_frame` returns by default (the first otherwise).

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
    notes : list of str
    """

    def __init__(
        self,
        title: str,
        tables: dict[str, pd.DataFrame],
        formats: dict | None = None,
        notes: list[str] | None = None,
        main: str | None = None,
    ) -> None:
        self.title = title
        self.tables = dict(tables)
        if not self.tables:
            raise ValueError("a Summary needs at least one table")
        self.formats = dict(formats or {})
        self.notes = list(notes or [])
        self.main = main if main is not None else next(iter(self.tables))
        self._table_name(self.main)

    def to_frame(self, name: str | None = None) -> pd.DataFrame:
        """One of the tables as a DataFrame (a copy, numbers unrounded).

        Parameters
        ----------
        name : str or None
            A key of :attr:`tables`; ``None`` gives the main table.
        """
        return self.tables[self._table_name(self.main if name is None else name)].copy()

    def _table_name(self, name: str) -> str:
        if name not in self.tables:
            raise KeyError(f"no table {name!r}; the tables are {list(self.tables)}")
        return name

    def formatted(self, name: str) -> pd.DataFrame:
        """Table ``name`` with every value turned into text as the report shows it."""
        table = self.tables[self._table_name(name)]
        fmt = self.formats.get(name, fmt_number)
        if isinstance(fmt, dict):
            out = pd.DataFrame(index=table.index)
            for col in table.columns:
                f = fmt.get(col, fmt_number)
                out[col] = [f(v) for v in table[col].tolist()]
            return out
        return table.map(fmt).astype(object)

    def as_text(self) -> str:
        """The report as plain text."""
        parts = [self.title, "=" * len(self.title)]
        for name in self.tables:
            parts += ["", name, "-" * len(name), self.formatted(name).to_string()]
        if self.notes:
            parts += ["", *self.notes]
        return "\n".join(parts)

    def as_html(self) -> str:
        """The report as an HTML fragment."""
        parts = [f"<div class='lca-summary'><h3>{html.escape(self.title)}</h3>"]
        for name in self.tables:
            parts.append(f"<h4>{html.escape(name)}</h4>")
            parts.append(self.formatted(name).to_html(escape=True, border=0))
        if self.notes:
            items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            parts.append(f"<ul>{items}</ul>")
        parts.append("</div>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


# -- one model ------------------------------------------------------------------------


def profile_percent(model) -> pd.DataFrame:
    """The profile in per cent with a first row of class sizes (Table B.9 layout).

    Rows ``("Class size", "")`` then (indicator, category); columns classes
    1..K and ``"Total"``; values 0 to 100.
    """
    prof = 100.0 * model.profile()
    sizes = [*(100.0 * model.class_sizes_.to_numpy()), 100.0]
    top = pd.DataFrame(
        [sizes],
        index=pd.MultiIndex.from_tuples([("Class size", "")], names=prof.index.names),
        columns=prof.columns,
    )
    return pd.concat([top, prof])


def model_summary(model) -> Summary:
    """Report of one fitted model.

    Parameters
    ----------
    model : LatentClassModel
        Fitted to data, or loaded from a file written after fitting.

    Returns
    -------
    Summary
        Tables ``"Model"`` (size and estimation), ``"Fit statistics"``
        (every ``fit_stats()`` entry), ``"Classes"`` (size, share assigned by
        modal assignment, AvePP; per cent except AvePP),
        ``"Classification table (modal)"`` (latent class against assigned
        class, weighted counts with totals) and ``"Profile (%)"`` (the main
        table: class sizes, then each category's percentage within each
        class and in total).
    """
    k = model.n_classes_
    stats = model.fit_stats()
    info = pd.DataFrame(
        {
            "value": [
                k,
                model.n_obs_,
                model.n_rows_,
                model.n_parameters_,
                model.loglik_,
                model.log_prior_,
                float(model.bayes_constant_),
                bool(model.converged_),
                model.n_iter_,
                f"{model.n_starts_at_best_} of {len(model.start_objectives_)}"
                + (" (best from a split-merge move)" if model.n_starts_at_best_ == 0 else ""),
            ]
        },
        index=pd.Index(
            [
                "classes",
                "N (sum of weights)",
                "rows",
                "parameters",
                "log-likelihood",
                "log-prior",
                "Bayes constant",
                "converged",
                "EM iterations",
                "finished starts at the best",
            ],
            dtype=object,
        ),
        dtype=object,
    )
    if model.class_bayes_constant_ != model.bayes_constant_:
        at = list(info.index).index("Bayes constant") + 1
        row = pd.DataFrame(
            {"value": [float(model.class_bayes_constant_)]},
            index=pd.Index(["class Bayes constant"], dtype=object),
            dtype=object,
        )
        info = pd.concat([info.iloc[:at], row, info.iloc[at:]])
    modal = model.classification_table("modal")
    n_obs = float(modal.to_numpy().sum())
    classes = pd.DataFrame(
        {
            "size (%)": 100.0 * model.class_sizes_.to_numpy(),
            "assigned (%)": 100.0 * modal.sum(axis=0).to_numpy() / n_obs,
            "AvePP": model.avepp().to_numpy(),
        },
        index=model.classes_,
    )
    table = modal.copy()
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    fit = stats.to_frame("value")
    notes = [
        "Information criteria use the log-likelihood; N is the sum of the weights.",
        "AvePP: average posterior probability of the class among respondents assigned to it.",
    ]
    finished = len(model.start_objectives_)
    if model.n_starts_at_best_ == 1 and finished > 1:
        notes.append(
            f"The best objective was reached by 1 of {finished} finished starts: it did not "
            "replicate and may not be the highest maximum; fit with more starts (n_starts) "
            "and check that it is reached again."
        )
    title = f"Latent class model with {k} class{'es' if k != 1 else ''}"
    tables = {
        "Model": info,
        "Fit statistics": fit,
        "Classes": classes,
        "Classification table (modal)": table,
        "Profile (%)": profile_percent(model),
    }
    formats = {
        "Classes": {"size (%)": fixed(1), "assigned (%)": fixed(1), "AvePP": fixed(3)},
        "Classification table (modal)": fixed(1),
        "Profile (%)": fixed(1),
    }
    effects = getattr(model, "direct_effects_", None)
    if effects:  # a DirectEffectsModel: its association parameters and their joint test
        n = len(effects)
        title += f" and {n} direct effect{'s' if n != 1 else ''}"
        test = model.likelihood_ratio_test()
        tables["Model"] = pd.concat(
            [
                info,
                pd.DataFrame(
                    {
                        "value": [
                            f"{test['lr']:.2f} on {test['df']:.0f} df, p = {test['p_value']:.3g}"
                        ]
                    },
                    index=pd.Index(["direct effects: LR test against none"], dtype=object),
                    dtype=object,
                ),
            ]
        )
        for (a, b), gamma in effects.items():
            tables[f"Direct effect {a} x {b}"] = gamma
            formats[f"Direct effect {a} x {b}"] = fixed(3)
        notes.append(
            "Direct effects: the association of a pair within every class, effect coded "
            "(rows and columns sum to 0), as Latent GOLD reports it."
        )
    return Summary(title, tables, formats=formats, notes=notes, main="Profile (%)")


# -- a comparison across numbers of classes --------------------------------------------

#: Comparison table columns shown in the report, with their labels and decimals.
COMPARISON_COLUMNS = {
    "loglik": ("LL", 2),
    "n_parameters": ("Npar", 0),
    "bic": ("BIC(LL)", 2),
    "aic": ("AIC(LL)", 2),
    "aic3": ("AIC3(LL)", 2),
    "sabic": ("SABIC(LL)", 2),
    "caic": ("CAIC(LL)", 2),
    "entropy_r2": ("Entropy R2", 3),
    "classification_error": ("Class. error", 3),
    "min_avepp": ("Min AvePP", 3),
    "smallest_class": ("Smallest class (%)", 1),
    "max_bvr": ("Max BVR", 2),
    "blrt_p": ("BLRT p", 3),
    "lmr_p": ("VLMR p", 3),
    "lmr_adjusted_p": ("aLMR p", 3),
    "bootstrap_p_L2": ("L2 boot p", 3),
    "bootstrap_p_X2": ("X2 boot p", 3),
    "bvr_significant": ("BVRs p<=.05", 0),
    "n_starts_at_best": ("Starts at best", 0),
}

#: Criteria whose choice the comparison report lists.
CHOICE_CRITERIA = ("bic", "aic", "aic3", "sabic", "caic", "icl_bic")


def comparison_summary(comparison) -> Summary:
    """Report of a :class:`Comparison` (the reference study's Table B.8).

    Returns
    -------
    Summary
        Tables ``"Model comparison"`` (the main table: LL, parameters,
        information criteria, entropy R-squared, classification error,
        lowest AvePP, smallest class in per cent, largest BVR, BLRT p-value
        when computed, finished starts at the best), ``"Class sizes (%)"``
        (one row per model) and ``"Lowest value"`` (the number of classes each
        information criterion chooses).
    """
    table = comparison.table
    cols = [c for c in COMPARISON_COLUMNS if c in table.columns]
    main = table[cols].copy()
    if "smallest_class" in main:
        main["smallest_class"] = 100.0 * main["smallest_class"]
    labels = {c: COMPARISON_COLUMNS[c][0] for c in cols}
    formats = {labels[c]: fixed(COMPARISON_COLUMNS[c][1]) for c in cols}
    main = main.rename(columns=labels)
    main.columns.name = None

    tables = {"Model comparison": main}
    all_formats: dict = {"Model comparison": formats}
    sizes = _class_sizes(comparison)
    if sizes is not None:
        tables["Class sizes (%)"] = sizes
        all_formats["Class sizes (%)"] = fixed(1)
    choices = []
    for crit in CHOICE_CRITERIA:
        if crit in table.columns and table[crit].notna().any():
            choices.append((crit, comparison.best(crit)))
    if choices:
        tables["Lowest value"] = pd.DataFrame(
            {"n_classes": [k for _, k in choices]},
            index=pd.Index([crit for crit, _ in choices], name="criterion"),
        )
    notes = [
        "Information criteria use the log-likelihood (LL); N is the sum of the weights.",
        "Max BVR: the largest bivariate residual; above 3.84 flags local dependence.",
    ]
    if "blrt_p" in table.columns:
        notes.append(
            "BLRT p: bootstrap likelihood ratio test of K-1 against K classes "
            "(p <= 0.05: K fits better)."
        )
    if "lmr_p" in table.columns:
        notes.append(
            "VLMR p and aLMR p: Vuong-Lo-Mendell-Rubin and adjusted LMR tests of K-1 against K "
            "classes (Mplus TECH11); liberal: in simulations they rejected a true K-1 class "
            "model far more often than 5% of the time (lca.lmr_test), so prefer the BLRT."
        )
    if "bootstrap_p_L2" in table.columns:
        notes.append(
            "L2 and X2 boot p: parametric bootstrap p-values of the fit (p <= 0.05: the data "
            "fit worse than samples from the model); BVRs p<=.05: pairs of indicators whose "
            "bivariate residual has a bootstrap p-value of 0.05 or less."
        )
    if "n_starts_at_best" in table.columns:
        models = getattr(comparison, "models", {})

        def finished(k) -> int:  # starts run to the end; unknown: assume several
            objectives = getattr(models.get(k), "start_objectives_", None)
            return 2 if objectives is None else len(objectives)

        once = [
            int(k) for k in table.index if table.loc[k, "n_starts_at_best"] == 1 and finished(k) > 1
        ]
        if once:
            notes.append(
                f"Best objective not replicated (reached by one finished start only) at "
                f"{', '.join(map(str, once))} classes: more starts (n_starts) may find higher "
                "maxima."
            )
    title = "Comparison of models by number of classes"
    effects = next(
        (list(m.direct_effects_) for m in getattr(comparison, "models", {}).values()
         if getattr(m, "direct_effects_", None)),
        None,
    )  # fmt: skip
    if effects:
        title += " (with direct effects)"
        notes.append(
            "Every model has direct effects for "
            + ", ".join(f"{a} x {b}" for a, b in effects)
            + " (lca.DirectEffectsModel)."
        )
    return Summary(
        title,
        tables,
        formats=all_formats,
        notes=notes,
        main="Model comparison",
    )


def _class_sizes(comparison) -> pd.DataFrame | None:
    if not comparison.models:
        return None
    width = max(m.n_classes_ for m in comparison.models.values())
    rows = {}
    for k, model in sorted(comparison.models.items()):
        sizes = 100.0 * model.class_sizes_.to_numpy()
        rows[k] = np.concatenate([sizes, np.full(width - sizes.shape[0], np.nan)])
    out = pd.DataFrame.from_dict(rows, orient="index", columns=range(1, width + 1))
    out.index.name = "n_classes"
    out.columns.name = "class"
    return out
