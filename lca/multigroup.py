"""Multiple-group latent class analysis: are the classes the same in every group?

A multiple-group model (Clogg & Goodman 1984, 1985; McCutcheon 2002) fits
one latent class model to several groups at once (men and women, regions,
survey years) and asks which of its parts differ between them:

- **heterogeneous**: every conditional probability P(y_j | class, group) is
  the group's own (as if each group were fitted alone, with the classes of
  each group matched to those of the others afterwards);
- **partial homogeneity**: the indicators named in ``free`` differ between
  groups, the others are equal across groups;
- **a uniform group effect** (``uniform=[item]``): the item's log-odds
  between categories differ between groups by the same amount in every
  class (Latent GOLD's direct effect of a covariate on an indicator), fitted
  as a :class:`lca.DirectEffectsModel` pair of the group and the item; one
  item at a time, nominal, without standard errors yet;
- **homogeneous measurement** (``free=()``): the classes mean the same in
  every group, only their sizes P(class | group) differ;
- **complete homogeneity** (also ``equal_sizes=True``): the groups differ in
  nothing; this is the ordinary latent class model of all respondents.

Each model is fitted by the EM engine of :class:`lca.LatentClassModel` on a
rewritten frame, which is exact, not an approximation: an indicator that is
free across groups becomes one column per group, answered in that group's
rows and missing elsewhere (missing answers stay in the likelihood, so its
probabilities are estimated from that group alone), and unless
``equal_sizes`` the group itself is one more indicator, whose P(group |
class) together with P(class) gives each group its own class sizes. The
likelihood of the answers given the group, which the fit statistics report,
is that model's log-likelihood less the log-probability of each
respondent's group. With ``bayes_constant=0`` this is maximum likelihood
of the multiple-group model, which the likelihood-ratio tests of
:func:`compare_groups` assume. With Bayes constants (Latent GOLD's default
of 1) the fit maximises the log-posterior of the rewritten model: a free
indicator's probabilities in a group get the prior a separate fit of that
group would give them (pseudo-counts b/K times the group's answer shares,
so a category nobody in the group gave stays at 0 there), a shared one the
one-group model's; the class sizes of group g get pseudo-counts b s_g / K
(s_g the group's share of the sample; with ``class_bayes_constant`` equal
to ``bayes_constant``, the default), b s_g in all rather than a one-group
model's ``class_bayes_constant``, so a small group's sizes are hardly
smoothed; and with the two constants different, the prior of a
heterogeneous model depends on how its groups' classes are paired.

:func:`compare_groups` fits the whole sequence and tests each restriction
with a likelihood-ratio test; each more general model starts from the
solution of the restricted one, so its log-likelihood is at least as high
and the classes keep their numbers along the sequence.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from warnings import warn

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import linear_sum_assignment

from . import criteria
from .diagnostics import largest_residual
from .encoding import (
    MAX_CATEGORIES,
    DataError,
    Indicator,
    answered_only_where_weightless,
    encode,
    learn_indicators,
    name_list,
    plain_name,
    text_key,
)
from .exceptions import DataWarning
from .model import (
    LatentClassModel,
    _warn_skipped_scores,
    as_frame,
    warn_unknown_as_missing,
)
from .survey_design import design_column

#: What :meth:`MultiGroupModel.fit_stats` reports, in order.
STAT_NAMES = (
    "loglik",
    "n_obs",
    "n_parameters",
    "aic",
    "aic3",
    "bic",
    "caic",
    "sabic",
    "entropy_r2",
    "classification_error",
)

#: Most groups a model takes (each is a column of the fitted frame per free indicator).
MAX_GROUPS = 1000

#: Options passed on to the one-group model that does the fitting.
ENGINE_OPTIONS = (
    "n_starts",
    "n_final",
    "burn_in",
    "pattern_starts",
    "max_iter",
    "tol",
    "bayes_constant",
    "class_bayes_constant",
    "accelerate",
    "random_state",
    "n_jobs",
)


def _group_labels(values: pd.Series, what: str) -> tuple[Indicator, np.ndarray]:
    """The group's labels (in the order an indicator's would be) and each row's code."""
    name = plain_name(values.name) if values.name is not None else "group"
    n_groups = values.nunique()
    if n_groups > MAX_GROUPS:
        raise DataError(
            f"{what} has {n_groups} different values; a multiple-group model takes at most "
            f"{MAX_GROUPS} groups (is it a group, or a number to use as a covariate?)"
        )
    frame = pd.DataFrame({name: values.to_numpy()}, index=values.index)
    with warnings.catch_warnings():  # one group is refused below, with the fix
        warnings.simplefilter("ignore", DataWarning)
        ind = learn_indicators(frame, max_categories=MAX_GROUPS + 1)[0]
    codes = encode(frame, [ind]).ravel().astype(np.int64)
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        row = plain_name(values.index[missing[0]])
        raise DataError(
            f"{what} is missing at row {row!r} ({missing.size} rows in all); every respondent "
            f"needs a group: fill it in, or leave those rows out of the data"
        )
    if ind.n_categories < 2:
        raise DataError(
            f"{what} has one value ({ind.categories[0]!r}) in every row: there is one group; "
            "fit a LatentClassModel instead"
        )
    return Indicator(name=name, categories=ind.categories), codes


@dataclass
class _Layout:
    """Where each indicator of each group sits in the one-group model's frame."""

    indicators: list  # the Indicator of every original column
    groups: tuple  # group labels, in order
    free: tuple  # names of the indicators free across groups
    equal_sizes: bool
    group_column: Hashable
    uniform: tuple = ()  # names of the indicators with a uniform group effect
    columns: list = field(default_factory=list)  # engine column names
    # (original indicator position, group code or -1 for every group) per engine column
    sources: list = field(default_factory=list)

    def __post_init__(self) -> None:
        free = set(self.free)
        for j, ind in enumerate(self.indicators):
            if ind.name in free:
                for g, label in enumerate(self.groups):
                    self.columns.append((ind.name, text_key(label)))
                    self.sources.append((j, g))
            else:
                self.columns.append(ind.name)
                self.sources.append((j, -1))
        if not self.equal_sizes:
            if self.group_column in self.columns:
                raise DataError(
                    f"the group is named {self.group_column!r}, as an indicator column is; "
                    "rename one of them (a Series: group=series.rename('...'))"
                )
            self.columns.append(self.group_column)

    def column_of(self, j: int, g: int) -> int:
        """The engine column of original indicator ``j`` in group ``g``."""
        return next(i for i, (jj, gg) in enumerate(self.sources) if jj == j and gg in (g, -1))

    @property
    def categories(self) -> dict:
        out = {
            col: list(self.indicators[j].categories)
            for col, (j, _) in zip(self.columns, self.sources)
        }
        if not self.equal_sizes:
            out[self.group_column] = list(self.groups)
        return out

    def frame(self, codes: np.ndarray, group_codes: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """The engine's frame: labels as objects, None where not answered or not this group."""
        out = {}
        for col, (j, g) in zip(self.columns, self.sources):
            labels = np.empty(len(self.indicators[j].categories) + 1, dtype=object)
            labels[:-1] = list(self.indicators[j].categories)
            labels[-1] = None
            c = np.where(codes[:, j] < 0, -1, codes[:, j])
            if g >= 0:
                c = np.where(group_codes == g, c, -1)
            out[col] = labels[c]
        if not self.equal_sizes:
            groups = np.empty(len(self.groups), dtype=object)
            groups[:] = list(self.groups)
            out[self.group_column] = groups[group_codes]
        frame = pd.DataFrame(dict(enumerate(out.values())), index=index)
        frame.columns = pd.Index(list(out), tupleize_cols=False, dtype=object)
        return frame


class MultiGroupModel:
    """Latent class model of several groups, with measurement equal or free across them.

    Parameters
    ----------
    n_classes : int, default=2
        Number of latent classes (the same in every group).
    free : "all", sequence of column names, or (), default=()
        Indicators whose conditional probabilities are each group's own:
        ``()`` for homogeneous measurement (the classes mean the same in
        every group), ``"all"`` for a heterogeneous model, a list for
        partial homogeneity.
    uniform : sequence of one column name, default=()
        A nominal indicator not in ``free`` whose categories' log-odds differ
        between groups by the same amount in every class (a uniform group
        effect, ``(G - 1)(C - 1)`` more parameters); one at most.
    equal_sizes : bool, default=False
        Class sizes equal in every group (structural homogeneity). With
        ``free=()`` this is the one-group model of all respondents.
    ordinal, categories, max_categories :
        As for :class:`lca.LatentClassModel` (by original column name).
    n_starts, n_final, burn_in, pattern_starts, max_iter, tol, bayes_constant, \
class_bayes_constant, accelerate, random_state, n_jobs :
        As for :class:`lca.LatentClassModel`, which fits the model.

    Attributes
    ----------
    groups_ : pandas.Index
        The group labels, in order.
    class_sizes_ : pandas.DataFrame
        P(class | group): one row per group, columns classes 1..K.
    conditional_probs_ : dict
        Indicator name -> DataFrame: rows its categories, columns a
        MultiIndex (group, class). An indicator not in ``free_`` has the
        same columns in every group.
    free_ : list
        Names of the indicators free across groups.
    n_classes_ : int
        Number of classes fitted.
    n_parameters_ : int
        Free parameters: G (K - 1) class sizes (K - 1 with ``equal_sizes``)
        plus, per indicator, those of one group or, if free, of every group,
        plus (G - 1)(C - 1) for a uniform effect. A category nobody gave (in
        a group, for a free indicator) is estimated at 0 and not counted, in
        every model alike, so a category declared in ``categories=`` that
        nobody gave makes this lower than a LatentClassModel's count.
    model_ : LatentClassModel
        The one-group model on the rewritten frame that was fitted (see the
        module's notes); its own fit statistics are of that frame.

    Notes
    -----
    In a heterogeneous model the likelihood does not tie class k of one group
    to class k of another; classes are matched afterwards, each group's to the
    first group's (or to those of ``start_from``), by the assignment that
    minimises the squared differences of their conditional probabilities.
    """

    def __init__(
        self,
        n_classes: int = 2,
        *,
        free: str | Sequence[Hashable] = (),
        uniform: Sequence[Hashable] = (),
        equal_sizes: bool = False,
        n_starts: int = 16,
        n_final: int | None = None,
        burn_in: int = 50,
        pattern_starts: int = 20,
        max_iter: int = 5000,
        tol: float = 1e-12,
        bayes_constant: float = 1.0,
        class_bayes_constant: float | None = None,
        accelerate: bool = True,
        ordinal: Sequence[Hashable] | None = None,
        categories: Mapping[Hashable, Sequence] | None = None,
        max_categories: int = MAX_CATEGORIES,
        random_state: int | np.random.Generator | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_classes = n_classes
        self.free = free
        self.uniform = uniform
        self.equal_sizes = equal_sizes
        self.n_starts = n_starts
        self.n_final = n_final
        self.burn_in = burn_in
        self.pattern_starts = pattern_starts
        self.max_iter = max_iter
        self.tol = tol
        self.bayes_constant = bayes_constant
        self.class_bayes_constant = class_bayes_constant
        self.accelerate = accelerate
        self.ordinal = ordinal
        self.categories = categories
        self.max_categories = max_categories
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments, as scikit-learn estimators report them."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> MultiGroupModel:
        """Set constructor arguments; they change the next fit."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for MultiGroupModel")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"MultiGroupModel(n_classes={self.n_classes}, free={self.free!r})"

    # -- fitting ---------------------------------------------------------------
    def _free_names(self, indicators) -> tuple:
        names = [ind.name for ind in indicators]
        if isinstance(self.free, str):
            if self.free != "all":
                raise ValueError(
                    f"free must be 'all', () or a list of column names, got {self.free!r} (for "
                    f"one column write free=[{self.free!r}])"
                )
            return tuple(names)
        free = list(self.free)
        unknown = [f for f in free if f not in names]
        if unknown:
            raise DataError(
                f"free= names {unknown!r}, which are not indicators; the indicators are {names!r}"
            )
        return tuple(n for n in names if n in free)

    def _uniform_names(self, indicators, free: tuple) -> tuple:
        if isinstance(self.uniform, str):
            raise TypeError(
                f"uniform= takes a list of column names; write uniform=[{self.uniform!r}]"
            )
        names = [ind.name for ind in indicators]
        uniform = list(self.uniform)
        if not uniform:
            return ()
        unknown = [u for u in uniform if u not in names]
        if unknown:
            raise DataError(
                f"uniform= names {unknown!r}, which are not indicators; the indicators are "
                f"{names!r}"
            )
        both = [u for u in uniform if u in free]
        if both:
            raise ValueError(
                f"{both!r} are in free= and uniform=; a free indicator's probabilities already "
                "differ between groups in every way: name it in one of them"
            )
        if len(uniform) > 1:
            raise ValueError(
                f"uniform= names {len(uniform)} indicators; one at a time is possible here (the "
                "group is in one direct effect of the fitted model); free the others or test "
                "them one by one"
            )
        if self.equal_sizes:
            raise ValueError("uniform= needs class sizes free across groups (equal_sizes=False)")
        if uniform[0] in set(name_list(self.ordinal, "ordinal")):
            raise ValueError(
                f"uniform= names {uniform[0]!r}, which is ordinal; a uniform group effect is on "
                "a nominal indicator here (leave it out of ordinal=, or free it)"
            )
        return tuple(uniform)

    def _engine(self, layout: _Layout) -> LatentClassModel:
        ordinal = None
        if self.ordinal is not None:
            wanted = set(name_list(self.ordinal, "ordinal"))
            ordinal = [c for c, (j, _) in zip(layout.columns, layout.sources)
                       if layout.indicators[j].name in wanted]  # fmt: skip
        options = self._engine_options()
        options.update(
            ordinal=ordinal,
            categories=layout.categories,
            max_categories=max(self.max_categories, len(layout.groups)),
        )
        if layout.uniform:
            from .direct_effects import DirectEffectsModel

            del options["pattern_starts"]  # not a search of that model
            pair = (layout.group_column, layout.uniform[0])
            return DirectEffectsModel(self.n_classes, [pair], **options)
        return LatentClassModel(self.n_classes, **options)

    def _engine_options(self) -> dict:
        """The options the one-group model that fits takes from this one."""
        return {name: getattr(self, name) for name in ENGINE_OPTIONS}

    def fit(
        self,
        data: pd.DataFrame,
        group,
        *,
        weights=None,
        start_from: MultiGroupModel | Sequence[MultiGroupModel] | None = None,
    ) -> MultiGroupModel:
        """Fit the model.

        Parameters
        ----------
        data : pandas.DataFrame
            One column per indicator (missing answers allowed), and possibly
            the group and weights columns.
        group : column name or pandas.Series or array-like
            Each respondent's group: the name of a column of ``data`` (then
            not an indicator), or one value per row (a Series is aligned by
            its index). No group may be missing.
        weights : column name, array-like or None
            Case weights, as for :meth:`lca.LatentClassModel.fit`.
        start_from : MultiGroupModel, list of them, or None
            Fitted models of the same data, groups and classes whose
            solutions are more starts (beside the random ones). Started from
            a more restricted model, this one ends at least as high, which a
            likelihood-ratio test between them needs; classes are numbered
            as in the first. Not used by a model with ``uniform=`` (it starts
            from its own fit without the uniform effect).

        Returns
        -------
        self : MultiGroupModel
        """
        self._validate_params()
        data = as_frame(data)
        values, what = design_column(group, data, "group")
        if (
            isinstance(group, Hashable)
            and not isinstance(group, pd.Series)
            and (group in data.columns)
        ):
            data = data.drop(columns=[group])
        data, w = LatentClassModel._split_weights(data, weights)
        group_ind, group_codes = _group_labels(values, what)
        counted = w > 0
        source = data if counted.all() else data[counted]
        if source is not data:  # as LatentClassModel: a column answered only where w = 0
            name = next(
                (c for c in data.columns if source[c].isna().all() and data[c].notna().any()),
                None,
            )
            if name is not None:
                raise answered_only_where_weightless(name)
        indicators = learn_indicators(source, self.categories, self.max_categories)
        ordinal_mask = self._checker()._ordinal_mask(indicators)  # names and labels checked
        _warn_skipped_scores(indicators, ordinal_mask)
        codes = encode(data, indicators, unknown="error" if source is data else "missing")
        if len(set(group_codes[counted])) < group_ind.n_categories:
            present = set(group_codes[counted])
            absent = [g for i, g in enumerate(group_ind.categories) if i not in present]
            raise DataError(
                f"group {absent[0]!r} has no respondent of positive weight; leave its rows out"
            )
        free = self._free_names(indicators)
        layout = _Layout(
            indicators=indicators,
            groups=group_ind.categories,
            free=free,
            equal_sizes=bool(self.equal_sizes),
            group_column=group_ind.name,
            uniform=self._uniform_names(indicators, free),
        )
        n_groups = len(layout.groups)
        given = {}  # per indicator, which categories each group gave (weight > 0)
        for j, ind in enumerate(indicators):
            ok = (codes[:, j] >= 0) & counted
            table = np.zeros((n_groups, ind.n_categories))
            np.add.at(table, (group_codes[ok], codes[ok, j]), w[ok])
            given[ind.name] = table > 0
            if ind.name in layout.free:
                answered = table.sum(axis=1)
                if (answered == 0).any():
                    g = layout.groups[int(np.flatnonzero(answered == 0)[0])]
                    raise DataError(
                        f"column {ind.name!r} has no answer in group {g!r}, so its probabilities "
                        "there cannot be estimated; leave it out of free="
                    )
        frame = layout.frame(codes, group_codes, data.index)
        engine = self._engine(layout)
        shares = np.bincount(group_codes, weights=w, minlength=n_groups)
        starts = [] if start_from is None else (
            list(start_from) if isinstance(start_from, (list, tuple)) else [start_from]
        )  # fmt: skip
        start = None  # a model with a uniform group effect starts from its own fit without it
        if starts and not layout.uniform:
            start = [self._start_model(m, layout, shares, engine) for m in starts]
        with warnings.catch_warnings():
            # about the rewritten columns: said of the data's own above
            warnings.simplefilter("ignore", DataWarning)
            engine.fit(frame, weights=w, start_from=start)
        self.model_ = engine
        self._layout = layout
        self._set_fitted(shares, starts[0] if starts else None, given)
        return self

    def _checker(self) -> LatentClassModel:
        """A one-group model of these options, for their checks."""
        return LatentClassModel(
            self.n_classes,
            ordinal=self.ordinal,
            categories=self.categories,
            max_categories=self.max_categories,
            **self._engine_options(),
        )

    def _validate_params(self) -> None:
        self._checker()._validate_params()
        if not isinstance(self.equal_sizes, (bool, np.bool_)):
            raise ValueError(f"equal_sizes must be True or False, got {self.equal_sizes!r}")
        for key in ("free", "uniform"):
            value = getattr(self, key)
            if isinstance(value, str) and (key == "free" and value == "all"):
                continue
            if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                allowed = "'all', () or a list" if key == "free" else "() or a list"
                raise ValueError(
                    f"{key} must be {allowed} of column names, got {value!r}"
                    + (
                        f" (for one column write {key}=[{value!r}])"
                        if isinstance(value, str)
                        else ""
                    )
                )

    def _start_model(self, other, layout, shares, engine) -> LatentClassModel:
        """``other``'s solution written in this model's layout, as a one-group model."""
        if not isinstance(other, MultiGroupModel) or not hasattr(other, "model_"):
            raise TypeError(f"start_from must be a fitted MultiGroupModel, got {other!r}")
        if other.n_classes_ != self.n_classes:
            raise ValueError(
                f"start_from has {other.n_classes_} classes; this model has {self.n_classes}"
            )
        mine = [(i.name, i.categories) for i in layout.indicators]
        theirs = [(i.name, i.categories) for i in other._layout.indicators]
        if mine != theirs or tuple(other.groups_) != tuple(layout.groups):
            raise ValueError(
                "start_from was fitted to other indicators, categories or groups than these "
                "data; fit it to the same data"
            )
        joint = other.class_sizes_.to_numpy().T * (shares / shares.sum())  # (K, G)
        sizes = joint.sum(axis=1)
        cond = {}
        for col, (j, g) in zip(layout.columns, layout.sources):
            probs = other._cond_by_group(j)  # (G, C, K)
            if g >= 0:
                cond[col] = probs[g]
            else:
                mixed = np.einsum("gck,kg->ck", probs, joint) / sizes
                cond[col] = mixed / mixed.sum(axis=0)
        if not layout.equal_sizes:
            cond[layout.group_column] = joint.T / sizes  # P(g | k)
        frames = {
            col: pd.DataFrame(
                p,
                index=pd.Index(layout.categories[col], dtype=object),
                columns=range(1, len(sizes) + 1),
            )
            for col, p in cond.items()
        }
        return LatentClassModel.from_parameters(
            sizes, frames, ordinal=engine.ordinal, categories=layout.categories
        )

    def _set_fitted(self, shares: np.ndarray, start_from, given: dict) -> None:
        layout, engine = self._layout, self.model_
        k, n_groups = engine.n_classes_, len(layout.groups)
        log_joint = self._log_joint()  # (G, K): log P(k, g) in the engine's classes
        log_group = np.logaddexp.reduce(log_joint, axis=1)
        # classes matched across groups / to start_from (see the class notes)
        perm = np.tile(np.arange(k), (n_groups, 1))
        all_free = len(layout.free) == len(layout.indicators) and not layout.equal_sizes
        ref = None if start_from is None else start_from._cond_matrix()
        if ref is not None and not all_free:
            cost = _match_cost(ref.reshape(-1, k), self._cond_matrix(perm).reshape(-1, k))
            perm[:] = linear_sum_assignment(cost)[1]
        if all_free:
            mine = self._cond_matrix(perm)  # (G, rows, K)
            for g in range(n_groups):
                if ref is None and g == 0:
                    continue
                target = mine[0] if ref is None else ref[g]
                perm[g] = linear_sum_assignment(_match_cost(target, mine[g]))[1]
        self._perm = perm
        # statistics of the answers given the group
        joint_ll = float(engine._stats["loglik"])
        if layout.equal_sizes:
            loglik = joint_ll
        else:
            loglik = joint_ll - float(np.dot(shares, log_group))
        n_cats = [ind.n_categories for ind in layout.indicators]
        free = set(layout.free)
        n_measure = 0
        for ind, is_ord in zip(layout.indicators, self._ordinal_by_column()):
            # a category nobody gave (in a group, for a free indicator) is estimated at 0
            # there: not a free parameter, in every model of the sequence alike
            cells = given[ind.name]
            per_group = cells.sum(axis=1) if ind.name in free else [cells.any(axis=0).sum()]
            n_measure += sum(criteria.n_parameters(k, [cg], [is_ord]) - (k - 1) for cg in per_group)
            if ind.name in layout.uniform:
                # the associations of the group-by-category table: (G - 1)(C - 1) when every
                # group gave every category; a cell nobody gave fixes one at -infinity
                n_measure += int(cells.sum()) - n_groups - int(cells.any(axis=0).sum()) + 1
        n_par = n_measure + (k - 1) * (1 if layout.equal_sizes else n_groups)
        n_obs = float(engine._stats["n_obs"])
        stats_ = {"loglik": loglik, "n_obs": n_obs, "n_parameters": float(n_par)}
        stats_.update(criteria.information_criteria(loglik, n_par, n_obs))
        # entropy R2 against the class sizes of the whole sample, the classes matched
        # (a heterogeneous fit's own P(class) pairs the groups' classes arbitrarily)
        sizes = np.exp(log_joint - log_group[:, None])[np.arange(n_groups)[:, None], perm]
        overall = (shares / shares.sum()) @ sizes
        prior_entropy = -float(np.sum(overall[overall > 0] * np.log(overall[overall > 0])))
        entropy = float(engine._stats["entropy"])
        stats_["entropy_r2"] = (
            1.0 - entropy / (n_obs * prior_entropy) if k > 1 and prior_entropy > 0 else 1.0
        )
        stats_["classification_error"] = float(engine._stats["classification_error"])
        cells = n_groups * int(np.prod(n_cats, dtype=float))
        if n_par > cells - n_groups:
            warn(
                f"the model has {n_par} free parameters but the {n_groups} groups' cross-tables "
                f"have only {cells - n_groups} free cells: it is not identified; use fewer "
                "classes or fewer free indicators",
                UserWarning,
                stacklevel=3,
            )
        self._restore({name: stats_[name] for name in STAT_NAMES}, int(n_par))

    def _restore(self, stats_: dict, n_parameters: int) -> None:
        """Every fitted attribute from the engine, the layout and ``_perm``."""
        layout = self._layout
        self.groups_ = pd.Index(list(layout.groups), name=layout.group_column, dtype=object)
        self.free_ = list(layout.free)
        log_joint = self._log_joint()
        self._log_sizes = log_joint - np.logaddexp.reduce(log_joint, axis=1)[:, None]
        self._stats = stats_
        self.n_parameters_ = n_parameters
        self._set_tables()

    def _ordinal_by_column(self) -> list:
        wanted = set(name_list(self.ordinal, "ordinal"))
        return [ind.name in wanted for ind in self._layout.indicators]

    def _log_joint(self) -> np.ndarray:
        """log P(class, group), (G, K), in the engine's class order."""
        engine, layout = self.model_, self._layout
        log_class = engine._log_class
        if layout.equal_sizes:
            return np.tile(log_class, (len(layout.groups), 1))
        j = len(layout.columns) - 1  # the group column is last
        lo, hi = engine._offsets[j], engine._offsets[j + 1]
        return (engine._log_cond[lo:hi] + log_class).astype(float)

    def _cond_by_group(self, j: int, perm=None) -> np.ndarray:
        """P(category | class, group) of original indicator ``j``: (G, C, K)."""
        engine, layout = self.model_, self._layout
        perm = self._perm if perm is None else perm
        n_groups = len(layout.groups)
        if layout.indicators[j].name in layout.uniform:  # P(g, y_j | k) of the direct effect
            joint = engine._joints[0]  # (G, C, K)
            cond = joint / joint.sum(axis=1, keepdims=True)
            return np.stack([cond[g][:, perm[g]] for g in range(n_groups)])
        out = []
        for g in range(n_groups):
            col = layout.column_of(j, g)
            lo, hi = engine._offsets[col], engine._offsets[col + 1]
            out.append(engine._cond_probs[lo:hi][:, perm[g]])
        return np.stack(out)

    def _cond_matrix(self, perm=None) -> np.ndarray:
        """Every indicator's P(category | class, group) stacked: (G, sum C_j, K)."""
        return np.concatenate(
            [self._cond_by_group(j, perm) for j in range(len(self._layout.indicators))], axis=1
        )

    def _set_tables(self) -> None:
        layout, k = self._layout, self.model_.n_classes_
        classes = pd.RangeIndex(1, k + 1, name="class")
        rows = np.arange(len(layout.groups))[:, None]
        sizes = np.exp(self._log_sizes[rows, self._perm])
        self.class_sizes_ = pd.DataFrame(sizes, index=self.groups_, columns=classes)
        columns = pd.MultiIndex.from_product([self.groups_, classes], names=["group", "class"])
        self.conditional_probs_ = {}
        for j, ind in enumerate(layout.indicators):
            probs = self._cond_by_group(j)  # (G, C, K)
            self.conditional_probs_[ind.name] = pd.DataFrame(
                np.concatenate(list(probs), axis=1),
                index=pd.Index(list(ind.categories), name=ind.name, dtype=object),
                columns=columns,
            )

    # -- results ---------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            from .exceptions import NotFittedError

            raise NotFittedError("this MultiGroupModel is not fitted yet; call fit first")

    @property
    def indicators_(self) -> list:
        """The indicators (names and category labels) of the data, as fitted."""
        self._check_fitted()
        return list(self._layout.indicators)

    @property
    def classes_(self) -> pd.RangeIndex:
        """Class numbers 1..K."""
        self._check_fitted()
        return self.class_sizes_.columns

    @property
    def n_classes_(self) -> int:
        self._check_fitted()
        return self.model_.n_classes_

    def fit_stats(self) -> pd.Series:
        """Fit statistics of the answers given the group.

        Index: ``loglik, n_obs, n_parameters, aic, aic3, bic, caic, sabic,
        entropy_r2, classification_error``. ``loglik`` is sum_i w_i log
        P(y_i | g_i); the information criteria use it with
        ``n_parameters_`` and N = ``n_obs``, the sum of the weights, so they
        compare models of the same groups (free or equal measurement or
        sizes), and with ``equal_sizes=True, free=()`` they are those of
        the one-group model. ``entropy_r2`` and ``classification_error``
        are of the posteriors P(class | y_i, g_i).
        """
        self._check_fitted()
        return pd.Series(self._stats, name="value", dtype=float)

    def profile(self) -> pd.DataFrame:
        """Class sizes and conditional probabilities of every group, side by side.

        Returns
        -------
        pandas.DataFrame
            Rows ("class size", "") then (indicator, category); columns a
            MultiIndex (group, class).
        """
        self._check_fitted()
        parts = [
            self.class_sizes_.stack()
            .to_frame()
            .T.set_axis(
                pd.MultiIndex.from_tuples([("class size", "")], names=["indicator", "category"])
            )
        ]
        for name, table in self.conditional_probs_.items():
            block = table.copy()
            block.index = pd.MultiIndex.from_arrays(
                [pd.Index([name] * len(table), dtype=object, tupleize_cols=False),
                 pd.Index(list(table.index), dtype=object)],
                names=["indicator", "category"],
            )  # fmt: skip
            parts.append(block)
        out = pd.concat(parts)
        out.columns = pd.MultiIndex.from_product(
            [self.groups_, self.class_sizes_.columns], names=["group", "class"]
        )
        return out

    def standard_errors(
        self,
        method: str = "hessian",
        data=None,
        group=None,
        weights=None,
        unknown="error",
        *,
        strata=None,
        clusters=None,
        fpc=None,
    ) -> pd.DataFrame:
        """Standard errors of the class sizes P(class | group) and of every probability.

        Parameters
        ----------
        method : {"hessian", "opg", "robust", "design"}, default="hessian"
            As for :meth:`lca.LatentClassModel.standard_errors`:
            ``"design"`` gives design-based (linearization) standard errors
            of a complex sample, with ``weights`` as sampling weights and
            the rows' ``strata`` and ``clusters``; it needs ``data``.
        data, group, weights : optional
            The data, groups and weights the model was fitted to, for a
            model loaded from a file (which keeps no pattern table) and for
            ``method="design"``; by default the fitted patterns are used.
        unknown : {"error", "missing"}, default="error"
            With ``data``: what to do with an answer the model does not know.
        strata, clusters, fpc : str or array-like, optional
            With ``method="design"``: each row's stratum, primary sampling
            unit and finite population correction, as for
            :meth:`lca.LatentClassModel.standard_errors` (column names of
            ``data`` or one value per row). The groups are domains of the
            one sample: a PSU may hold respondents of several groups, and
            the variance is that of the whole design (not of each group's
            rows taken as a sample of their own).

        Returns
        -------
        pandas.DataFrame
            The index and columns of :meth:`profile`; NaN for a probability
            on the boundary (estimated at 0 or 1).

        Notes
        -----
        The covariance of the one-group model on the rewritten frame (its
        logit parameters, observed information) carried by the delta method
        to P(class | group) = P(class) P(group | class) / P(group), by
        central differences, and by the one-group model's own delta method
        to the conditional probabilities. Weights count as frequency weights,
        but with ``method="design"`` as sampling weights.
        """
        from . import standard_errors as se_mod

        self._check_fitted()
        if method not in se_mod.METHODS:
            raise ValueError(
                f"method must be one of {', '.join(map(repr, se_mod.METHODS))}, not {method!r}"
            )
        engine, layout = self.model_, self._layout
        if layout.uniform:
            raise NotImplementedError(
                "standard errors of a model with a uniform group effect (uniform=) are not "
                "available yet: its fitted model is a DirectEffectsModel, which has none"
            )
        frame = None
        design = (strata, clusters, fpc)
        if method == "design" and data is None:
            raise ValueError(
                "method='design' reads the rows again: give the data the model was fitted to "
                "with their groups, sampling weights and design, model.standard_errors("
                "'design', data=df, group='g', weights='w', strata='stratum', clusters='psu')"
            )
        if data is not None:
            if group is None:
                raise ValueError("data= needs group= too (each row's group)")
            data = as_frame(data)
            if isinstance(weights, str):
                weights = data[weights]
            # the design's columns, read from the data before it is rewritten
            design = tuple(
                None if v is None else design_column(v, data, what)[0]
                for v, what in zip(design, ("strata", "clusters", "fpc"))
            )
            frame, _ = self._engine_frame(data, group, unknown)
        elif group is not None or weights is not None:
            raise ValueError("group= and weights= go with data=")
        elif getattr(engine, "_patterns", None) is None:
            from .exceptions import NotFittedError

            raise NotFittedError(
                "this model keeps no pattern table (it was loaded from a file); give the data "
                "it was fitted to: model.standard_errors(data=df, group='g', weights=...)"
            )
        args, unit, rows = engine._se_inputs(frame, weights, unknown, method, *design)
        lay, cov, _ = se_mod.parameter_covariance(*args, method=method, unit=unit, rows=rows)
        sizes_se, cells_se = se_mod.errors_from_covariance(
            lay, cov, engine._class_probs, engine._cond_probs, engine._offsets
        )
        if layout.equal_sizes:
            size_se = np.tile(sizes_se, (len(layout.groups), 1))
        else:
            size_se = self._size_errors(lay, cov)
        out = self.profile().copy() * np.nan
        rows = np.arange(len(layout.groups))[:, None]
        out.iloc[0] = size_se[rows, self._perm].ravel()
        k = engine.n_classes_
        row = 1
        for j, ind in enumerate(layout.indicators):
            c = ind.n_categories
            for g in range(len(layout.groups)):
                lo = engine._offsets[layout.column_of(j, g)]
                block = cells_se[lo : lo + c, :k][:, self._perm[g]]
                out.iloc[row : row + c, g * k : (g + 1) * k] = block
            row += c
        return out

    def _size_errors(self, lay, cov) -> np.ndarray:
        """Standard errors of P(class | group), (G, K) in the engine's classes."""
        from .standard_errors import perturbed

        engine, layout = self.model_, self._layout
        j = len(layout.columns) - 1  # the group column
        used = [int(c) for c in lay.class_cols if c >= 0]
        for cols, _ in lay.blocks[j]:
            used += [int(c) for c in cols]
        used = sorted(set(used))

        def sizes(delta):
            log_class, log_cond = perturbed(
                engine._log_class, engine._log_cond, engine._offsets, lay, delta
            )
            lo, hi = engine._offsets[j], engine._offsets[j + 1]
            log_joint = log_cond[lo:hi] + log_class
            return np.exp(log_joint - np.logaddexp.reduce(log_joint, axis=1)[:, None])

        h = 1e-5
        jac = np.empty((len(layout.groups), engine.n_classes_, len(used)))
        for i, col in enumerate(used):
            step = np.zeros(lay.n_free)
            step[col] = h
            jac[:, :, i] = (sizes(step) - sizes(-step)) / (2 * h)
        sub = cov[np.ix_(used, used)]
        return np.sqrt(np.maximum(np.einsum("gkp,pq,gkq->gk", jac, sub, jac), 0.0))

    def _engine_frame(self, data, group, unknown: str) -> tuple[pd.DataFrame, np.ndarray]:
        data = as_frame(data)
        codes, group_codes = self._codes(data, group, unknown)
        return self._layout.frame(codes, group_codes, data.index), group_codes

    def _codes(self, data: pd.DataFrame, group, unknown: str) -> tuple[np.ndarray, np.ndarray]:
        """The data's answer codes (rows x indicators) and each row's group code."""
        values, what = design_column(group, data, "group")
        layout = self._layout
        lookup = {label: g for g, label in enumerate(layout.groups)}
        group_codes = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values.to_numpy()):
            g = lookup.get(v) if isinstance(v, Hashable) else None
            if g is None:
                row = plain_name(values.index[i])
                raise DataError(
                    f"{what} holds {v!r} at row {row!r}, which is not one of the model's groups "
                    f"{list(layout.groups)!r}; a new respondent needs one of those groups"
                )
            group_codes[i] = g
        missing = [ind.name for ind in layout.indicators if ind.name not in data.columns]
        if missing:
            raise DataError(
                f"the data lack the indicator column(s) {missing!r} the model was fitted to"
            )
        codes = encode(data, layout.indicators, unknown=unknown)
        if unknown == "missing":
            warn_unknown_as_missing(data, layout.indicators, codes)
        return codes, group_codes

    def bivariate_residuals(
        self, data: pd.DataFrame, group, *, weights=None, unknown: str = "error"
    ) -> pd.DataFrame:
        """Bivariate residuals (Latent GOLD's BVR) of every pair of indicators, within
        each group.

        In group g, the Pearson X2 of the two-way table of indicators j and j'
        against the table the model implies there, ``N_gjj' sum_k P(k | g)
        P(y_j | k, g) P(y_j' | k, g)``, divided by ``(C_j - 1)(C_j' - 1)``;
        as :func:`lca.diagnostics.bivariate_residuals` for one group (the
        respondents of g who answered both, weighted). A large value (above
        3.84 as a rule of thumb) flags a pair whose association the classes
        do not explain in that group: local dependence that may differ
        between groups.

        Parameters
        ----------
        data, group, weights :
            The data, groups and weights the model was fitted to, as for
            :meth:`fit`.
        unknown : {"error", "missing"}, default="error"
            What to do with an answer that is not a category of the model.

        Returns
        -------
        pandas.DataFrame
            Rows a MultiIndex (group, indicator), columns the indicators:
            one symmetric block per group, NaN on the diagonal.
        """
        from .diagnostics import _pair_residual

        self._check_fitted()
        data = as_frame(data)
        values, _ = design_column(group, data, "group")
        data, w = LatentClassModel._split_weights(data, weights)
        codes, group_codes = self._codes(data, values, unknown)
        total = float(np.sum(w))
        if not np.isclose(total, self._stats["n_obs"], rtol=1e-9):
            warn(
                f"the weights sum to {total!r} but the model was fitted to N = "
                f"{self._stats['n_obs']!r}; the residuals are of the data given. Give the "
                "data and weights the model was fitted with",
                UserWarning,
                stacklevel=2,
            )
        layout = self._layout
        names = [ind.name for ind in layout.indicators]
        n_ind, n_groups = len(names), len(layout.groups)
        blocks = [self._cond_by_group(j) for j in range(n_ind)]  # (G, C, K), matched classes
        sizes = self.class_sizes_.to_numpy()
        out = np.full((n_groups, n_ind, n_ind), np.nan)
        for g in range(n_groups):
            rows = group_codes == g
            patterns, wg = codes[rows], w[rows]
            for j in range(n_ind):
                for jj in range(j + 1, n_ind):
                    out[g, j, jj] = out[g, jj, j] = _pair_residual(
                        patterns, wg, j, jj, blocks[j][g], blocks[jj][g], sizes[g]
                    )
        index = pd.MultiIndex.from_tuples(
            [(label, name) for label in self.groups_ for name in names],
            names=["group", "indicator"],
        )
        columns = pd.Index(names, dtype=object, tupleize_cols=False)
        return pd.DataFrame(out.reshape(n_groups * n_ind, n_ind), index=index, columns=columns)

    def predict_proba(self, data: pd.DataFrame, group, unknown: str = "error") -> pd.DataFrame:
        """Posterior class probabilities P(class | answers, group) of each respondent.

        Parameters
        ----------
        data : pandas.DataFrame
            The indicator columns (order free, extra columns ignored).
        group : column name, pandas.Series or array-like
            Each respondent's group, one of ``groups_``.
        unknown : {"error", "missing"}, default="error"
            What to do with a category never seen in fitting.

        Returns
        -------
        pandas.DataFrame
            Index ``data.index``, columns classes 1..K.
        """
        self._check_fitted()
        frame, group_codes = self._engine_frame(data, group, unknown)
        post = self.model_.predict_proba(frame, unknown=unknown).to_numpy()
        post = post[np.arange(post.shape[0])[:, None], self._perm[group_codes]]
        return pd.DataFrame(post, index=frame.index, columns=self.class_sizes_.columns)

    def predict(self, data: pd.DataFrame, group, unknown: str = "error") -> pd.Series:
        """Modal class (1..K) of each respondent given answers and group, indexed like ``data``."""
        post = self.predict_proba(data, group, unknown).to_numpy()
        return pd.Series(
            criteria.modal_assignment(post) + 1,
            index=as_frame(data).index,
            name="class",
            dtype=np.int64,
        )

    def as_text(self) -> str:
        """The fit, the class sizes of every group and the profile, as text."""
        from .three_step import tables_text

        self._check_fitted()
        fs = self._stats
        kind = (
            "heterogeneous"
            if len(self.free_) == len(self._layout.indicators)
            else f"free: {', '.join(map(str, self.free_))}"
            if self.free_
            else "homogeneous measurement"
        )
        if self._layout.uniform:
            kind += f"; uniform: {', '.join(map(str, self._layout.uniform))}"
        if self._layout.equal_sizes:
            kind += "; equal class sizes"
        head = (
            f"Multiple-group latent class model: {self.n_classes_} classes, "
            f"{len(self.groups_)} groups ({self.groups_.name}), {kind}; N = {fs['n_obs']:g}, "
            f"log-likelihood {fs['loglik']:.3f}, BIC {fs['bic']:.2f}, "
            f"{self.n_parameters_} parameters"
        )
        return tables_text(
            head,
            [("Class sizes and profile, by group", self.profile())],
        )

    def __str__(self) -> str:
        return self.as_text() if hasattr(self, "model_") else repr(self)

    def plot_profile(self, kind: str = "bars", **kwargs) -> list:
        """One profile plot per group (needs matplotlib), classes numbered alike.

        Parameters
        ----------
        kind, **kwargs
            As for :func:`lca.plotting.plot_profile`; the default title names
            the group.

        Returns
        -------
        list of matplotlib.figure.Figure
            In the order of ``groups_``.
        """
        from .plotting import plot_profile

        self._check_fitted()
        figures = []
        for g in self.groups_:
            one = LatentClassModel.from_parameters(
                self.class_sizes_.loc[g].to_numpy(),
                {name: table[g] for name, table in self.conditional_probs_.items()},
            )
            title = f"{self.groups_.name} = {g}: profile of the {self.n_classes_}-class model"
            figures.append(plot_profile(one, kind, **{"title": title, **kwargs}))
        return figures

    def save(self, path: str | PathLike) -> None:
        """Write the fitted model to one JSON file; ``lca.load`` reads it back."""
        self._check_fitted()
        from .io import save_model

        save_model(self, path)


def _match_cost(target: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """Squared distance between every target class (column) and every class of ``mine``."""
    return ((target[:, :, None] - mine[:, None, :]) ** 2).sum(axis=0)


@dataclass
class GroupComparison:
    """The models of :func:`compare_groups` and their table.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model: ``loglik, n_parameters, bic, aic, aic3, caic,
        entropy_r2``, ``max_bvr`` (the largest bivariate residual within a
        group, :meth:`MultiGroupModel.bivariate_residuals`), and the
        likelihood-ratio test of the restriction that
        leads to it from ``tested_against`` (``lr = 2 (LL_general -
        LL_restricted)`` on ``lr_df`` degrees of freedom, ``lr_p``).
    models : dict
        Row label -> fitted :class:`MultiGroupModel`.
    """

    table: pd.DataFrame
    models: dict

    def __repr__(self) -> str:
        return f"GroupComparison\n{self.table.to_string()}"

    def best(self, criterion: str = "bic") -> str:
        """The row (model) with the lowest ``criterion``: "bic", "aic", "aic3" or "caic"."""
        if criterion not in ("bic", "aic", "aic3", "caic"):
            raise ValueError(f"criterion must be 'bic', 'aic', 'aic3' or 'caic', not {criterion!r}")
        return str(self.table[criterion].idxmin())


def _lr_row(general: MultiGroupModel, restricted: MultiGroupModel) -> dict:
    lr = 2.0 * (general._stats["loglik"] - restricted._stats["loglik"])
    df = general.n_parameters_ - restricted.n_parameters_
    return {"lr": lr, "lr_df": df, "lr_p": float(stats.chi2.sf(max(lr, 0.0), df))}


def compare_groups(
    data: pd.DataFrame,
    group,
    n_classes: int,
    *,
    weights=None,
    free: Sequence[Hashable] = (),
    each_indicator: bool = True,
    uniform: bool = False,
    **options,
) -> GroupComparison:
    """Test measurement and structural equality across groups (multiple-group LCA).

    Fits, with ``n_classes`` classes: complete homogeneity (``equal_sizes``),
    homogeneous measurement (class sizes free), the partial model with the
    indicators of ``free`` free (if any), one model per other indicator with
    that indicator free as well (``each_indicator``), and the heterogeneous
    model (every indicator free). Each model starts (beside its random
    starts) from the one it generalises, so every likelihood-ratio test
    compares a model with one at least as high (exactly so with
    ``bayes_constant=0``: with Bayes constants the fits maximise the
    log-posterior, and the tests are approximate), and class k is the same
    class in every model.

    An indicator that truly differs between groups, while held equal, bends
    the classes, and then freeing another indicator can also raise the
    likelihood (it takes up part of the difference). So free the indicator
    with the largest statistic and test the others again with
    ``free=[that one]``, until none differs: the usual stepwise search
    (Millsap 2011, ch. 7, for the same problem in factor models).

    Parameters
    ----------
    data, group, weights :
        As for :meth:`MultiGroupModel.fit`.
    n_classes : int
        Number of classes.
    free : sequence of column names, default=()
        Indicators already known to differ between groups: the partial model
        that frees them is the one the other indicators and the
        heterogeneous model are tested against.
    each_indicator : bool, default=True
        Fit one model per indicator not in ``free`` with that indicator free
        too, tested against the model with ``free`` only.
    uniform : bool, default=False
        Also fit one model per nominal indicator not in ``free`` with a
        uniform group effect on it (``MultiGroupModel(uniform=[...])``, rows
        ``"... uniform: c"``), tested against the model with ``free`` only;
        its freed model is then tested against it as well, in the columns
        ``lr_beyond_uniform``, ``lr_beyond_uniform_df`` and
        ``lr_beyond_uniform_p`` (is the difference more than a uniform shift?).
    **options
        Constructor arguments of :class:`MultiGroupModel` (not
        ``equal_sizes``).

    Returns
    -------
    GroupComparison
        Rows ``"complete homogeneity"``, ``"homogeneous measurement"``, then
        ``"free: a, b"`` (the model of ``free``), ``"free: a, b, c"`` for each
        other indicator, and ``"heterogeneous"``.
    """
    for key in ("equal_sizes", "n_classes", "uniform"):
        if key in options:
            raise TypeError(f"compare_groups sets {key}= itself; do not pass it")
    if isinstance(free, str):
        raise TypeError(f"free= takes a list of column names; write free=[{free!r}]")
    base = list(free)
    frame = as_frame(data)
    absent = [f for f in base if f not in frame.columns]
    if absent:
        raise DataError(f"free= names {absent!r}, which are not columns of the data")
    models: dict = {}
    rows: dict = {}

    def fit(label, against, also=(), **kw):
        m = MultiGroupModel(n_classes, **kw, **options)
        starts = [models[a] for a in (against, *also) if a in models]
        m.fit(data, group, weights=weights, start_from=starts or None)
        models[label] = m
        row = {k: m._stats[k] for k in ("loglik", "n_parameters", "bic", "aic", "aic3", "caic")}
        row["entropy_r2"] = m._stats["entropy_r2"]
        row["max_bvr"] = largest_residual(m.bivariate_residuals(data, group, weights=weights))
        row["tested_against"] = against or ""
        if against is None:
            row.update(lr=np.nan, lr_df=np.nan, lr_p=np.nan)
        else:
            row.update(_lr_row(m, models[against]))
        rows[label] = row
        return m

    def label(names) -> str:
        return "free: " + ", ".join(str(plain_name(n)) for n in names)

    fit("complete homogeneity", None, free=(), equal_sizes=True)
    reference = "homogeneous measurement"
    homogeneous = fit(reference, "complete homogeneity", free=())
    if base:
        fit(label(base), reference, free=base)
        reference = label(base)
    ordinal = set(name_list(options.get("ordinal"), "ordinal"))
    for ind in homogeneous._layout.indicators:
        if ind.name in base:
            continue
        prefix = label(base) + "; " if base else ""
        if uniform and ind.name not in ordinal:
            fit(
                f"{prefix}uniform: {plain_name(ind.name)}", reference, free=base, uniform=[ind.name]
            )
        if each_indicator:
            shifted_label = f"{prefix}uniform: {plain_name(ind.name)}" if uniform else None
            freed = fit(
                label([*base, ind.name]), reference, also=(shifted_label,), free=[*base, ind.name]
            )
            if uniform and ind.name not in ordinal:
                shifted = models[f"{prefix}uniform: {plain_name(ind.name)}"]
                beyond = _lr_row(freed, shifted)
                rows[label([*base, ind.name])].update(
                    {f"{key}_beyond_uniform" if key == "lr" else f"lr_beyond_uniform_{key[3:]}": v
                     for key, v in beyond.items()}
                )  # fmt: skip
    if len(base) < len(homogeneous._layout.indicators):  # else the model of free= is it
        fit("heterogeneous", reference, free="all")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    table["n_parameters"] = table["n_parameters"].astype(int)
    for col in ("lr_df", "lr_beyond_uniform_df"):
        if col in table:
            table[col] = table[col].astype("Int64")
    return GroupComparison(table=table, models=models)
