"""A complex sampling design (strata, clusters, sampling weights) for standard errors.

Design-based ("linearization") standard errors of a model fitted by weighted
(pseudo-)maximum likelihood, as survey software gives them (Binder 1983;
Skinner, Holt & Smith 1989; Stata's ``svy``, R's ``survey``, Mplus's
``TYPE=COMPLEX``, Latent GOLD's survey options): the sandwich
``V = H^-1 G H^-1``, with ``H`` minus the Hessian of the weighted objective
and, in the middle, the between-PSU variance of the weighted score totals,

    G = sum_h n_h / (n_h - 1) sum_c (z_hc - zbar_h) (z_hc - zbar_h)',

``z_hc = sum_{i in PSU c of stratum h} w_i s_i`` (``s_i`` the score of
respondent i's log-likelihood, ``w_i`` the sampling weight), ``zbar_h`` the
mean of the ``n_h`` PSU totals of stratum h. PSUs are taken as sampled with
replacement, the usual approximation for a multi-stage design, unless a finite
population correction is given (``fpc``: each stratum's number of PSUs in the
population, N_h, or its sampling fraction f_h = n_h / N_h), which multiplies
stratum h's term by ``1 - f_h`` (without replacement at the first stage).
Without clusters every respondent is a PSU; without strata there is one
stratum. PSUs are nested in strata: cluster labels need only be
unique within a stratum. Without a prior (``bayes_constant=0``) ``V`` does not
change when every weight is multiplied by one number; a prior's Hessian, in
``H``, does not grow with the weights. With clusters, memory holds one row of
free parameters per PSU (a design where every row is its own PSU takes the
path without clusters).

Rows of zero weight add nothing to a score total but their PSUs count in
``n_h`` (the domain convention: a respondent outside the weighted sample is
still part of the design), and so in the design's degrees of freedom, PSUs
less strata, even for a stratum whose rows all weigh 0 (Stata's ``subpop()``
would leave such a stratum out of them).

The scores of respondents who gave the same answers are equal, so ``G`` is
built from the answer patterns: the fitted score of each pattern is added to
the totals of the PSUs its respondents belong to (``ScoreTotals``).
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .encoding import DataError, plain_name


@dataclass(frozen=True)
class SurveyDesign:
    """The strata and PSUs of the rows of a data set.

    Attributes
    ----------
    stratum : ndarray of int64, shape (n_rows,)
        Each row's stratum, 0 .. n_strata - 1.
    psu : ndarray of int64, shape (n_rows,) or None
        Each row's PSU, 0 .. n_psu - 1 (numbered over all strata); None when
        every row is its own PSU.
    psu_stratum : ndarray of int64, shape (n_psu,) or None
        The stratum of each PSU (None with ``psu``).
    n_psu : ndarray of int64, shape (n_strata,)
        PSUs per stratum.
    strata_labels : list
        The stratum labels, in code order (``[None]`` without strata).
    fraction : ndarray of float, shape (n_strata,)
        Each stratum's sampling fraction of PSUs (0: with replacement, no
        finite population correction).
    """

    stratum: np.ndarray
    psu: np.ndarray | None
    psu_stratum: np.ndarray | None
    n_psu: np.ndarray
    strata_labels: list
    fraction: np.ndarray | None = None

    @property
    def n_strata(self) -> int:
        return int(self.n_psu.size)

    @property
    def total_psu(self) -> int:
        return int(self.n_psu.sum())

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs less strata."""
        return self.total_psu - self.n_strata

    def subset(self, keep: np.ndarray) -> SurveyDesign:
        """The design of the rows ``keep`` (a bool mask), with every PSU still counted
        (rows of zero weight left out of the score sums keep their PSUs in ``n_psu``)."""
        psu = None if self.psu is None else self.psu[keep]
        return SurveyDesign(
            self.stratum[keep], psu, self.psu_stratum, self.n_psu, self.strata_labels,
            self.fraction,
        )  # fmt: skip


def design_column(values, data: pd.DataFrame, what: str) -> tuple[pd.Series, str]:
    """``strata=`` or ``clusters=`` as a Series aligned with ``data``, and its name
    for messages."""
    if isinstance(values, str) or (isinstance(values, Hashable) and values in data.columns):
        if values not in data.columns:
            raise DataError(
                f"{what}={values!r} names no column of the data; give a column name or one "
                f"value per row"
            )
        return data[values], f"column {plain_name(values)!r}"
    n = data.shape[0]
    if isinstance(values, pd.Series):
        if len(values) != n:
            raise DataError(f"{what} has {len(values)} values but the data have {n} rows")
        index = data.index
        if not values.index.equals(index) and index.is_unique and values.index.is_unique:
            order = values.index.get_indexer(index)  # -1: a row label it lacks
            if (order >= 0).all():  # the same respondents in another order
                values = values.iloc[order].set_axis(index)
        if not values.index.equals(index):
            raise DataError(
                f"the index of {what} is not aligned with the data's index; pass "
                f"{what}.reindex(data.index), or {what}.to_numpy() if the order is right"
            )
        return values, what
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != n:
        raise DataError(f"{what} must be one value per row ({n}), got shape {array.shape}")
    return pd.Series(array, index=data.index), what


def refuse_design(spec, method: str, argument: str = "method") -> None:
    """Refuse ``(strata, clusters, fpc)`` given for another method than "design"."""
    if method != "design" and any(v is not None for v in spec):
        other = "" if method is None else f" (not {method!r})"
        raise ValueError(
            "strata=, clusters= and fpc= describe a complex sample, for design-based "
            f"standard errors: use {argument}='design'{other}"
        )


def check_not_weights(spec, weights) -> None:
    """Refuse a design column that is the weights column (named by ``weights``)."""
    if not isinstance(weights, str):
        return
    for what, v in zip(("strata", "clusters", "fpc"), spec):
        if isinstance(v, str) and v == weights:
            raise DataError(
                f"{what}={v!r} is the weights column (weights={weights!r}); name the "
                f"column of each row's {what} instead"
            )


def _codes(column: pd.Series, name: str, data: pd.DataFrame) -> tuple[np.ndarray, list]:
    """Integer codes of a design column (in order of first appearance), refusing
    missing values."""
    codes, labels = pd.factorize(column, use_na_sentinel=True)
    if (codes < 0).any():
        i = int(np.flatnonzero(codes < 0)[0])
        raise DataError(
            f"{name} is missing at row {plain_name(data.index[i])!r} "
            f"({int((codes < 0).sum())} rows); give every row a stratum and a cluster "
            "(rows outside the sample: weight 0)"
        )
    return codes.astype(np.int64), list(labels)


def survey_design(data: pd.DataFrame, strata=None, clusters=None, fpc=None) -> SurveyDesign:
    """The design of ``data``'s rows from ``strata=``, ``clusters=`` and ``fpc=``
    (column names of ``data`` or one value per row; any may be None).

    Raises a ``DataError`` for a missing value, for a stratum with a single PSU
    (its variance cannot be estimated), and for a finite population correction
    that varies within a stratum or counts fewer PSUs than were sampled, naming
    the stratum and the fix.
    """
    n = data.shape[0]
    if strata is None:
        stratum, strata_labels = np.zeros(n, dtype=np.int64), [None]
    else:
        column, name = design_column(strata, data, "strata")
        stratum, strata_labels = _codes(column, f"the stratum ({name})", data)
    n_strata = len(strata_labels)
    if clusters is None:
        psu, psu_stratum = None, None
        n_psu = np.bincount(stratum, minlength=n_strata).astype(np.int64)
    else:
        column, name = design_column(clusters, data, "clusters")
        cluster, _ = _codes(column, f"the cluster ({name})", data)
        # PSUs nested in strata: a (stratum, cluster) pair is one PSU
        pair = stratum * (int(cluster.max()) + 1) + cluster
        unique, psu = np.unique(pair, return_inverse=True)  # sorted: stratum by stratum
        psu = psu.astype(np.int64)
        psu_stratum = (unique // (int(cluster.max()) + 1)).astype(np.int64)
        n_psu = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
        if np.bincount(psu).max() == 1:  # every row its own PSU: the same, without a PSU table
            psu, psu_stratum = None, None
    single = np.flatnonzero(n_psu < 2)
    if single.size:
        label = strata_labels[int(single[0])]
        where = "the sample" if label is None else f"stratum {plain_name(label)!r}"
        unit = "respondent" if clusters is None else "cluster"
        others = "" if single.size == 1 else f" ({single.size} such strata)"
        raise DataError(
            f"{where} has a single {unit}{others}: its sampling variance cannot be "
            "estimated. Merge it with the most similar stratum (the usual remedy of "
            "survey software) before computing standard errors"
        )
    fraction = np.zeros(n_strata)
    if fpc is not None:
        fraction = _sampling_fractions(data, fpc, stratum, n_psu, strata_labels)
    return SurveyDesign(stratum, psu, psu_stratum, n_psu, strata_labels, fraction)


def _sampling_fractions(data, fpc, stratum, n_psu, strata_labels) -> np.ndarray:
    """Each stratum's sampling fraction from ``fpc=``: a fraction (0 < f <= 1) or the
    population's number of PSUs (> 1), the same for every row of a stratum."""
    if isinstance(fpc, numbers.Real) and not isinstance(fpc, bool):  # one for every stratum
        fpc = np.full(data.shape[0], float(fpc))
    column, name = design_column(fpc, data, "fpc")
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = plain_name(column.iloc[i])
        raise DataError(
            f"the finite population correction ({name}) holds {value!r} at row "
            f"{plain_name(data.index[i])!r}; give every row its stratum's number of PSUs "
            "in the population (or its sampling fraction, 0-1)"
        )
    fraction = np.zeros(n_psu.size)
    for h in range(n_psu.size):
        given = np.unique(values[stratum == h])
        where = (
            "the sample"
            if strata_labels[h] is None
            else f"stratum {plain_name(strata_labels[h])!r}"
        )
        if given.size > 1:
            shown = ", ".join(f"{v:g}" for v in given[:3]) + (", ..." if given.size > 3 else "")
            raise DataError(
                f"the finite population correction ({name}) takes {given.size} values in "
                f"{where} ({shown}); it must be the stratum's own, the same for every row of it"
            )
        value = float(given[0])
        if value > 1 and value < n_psu[h]:
            raise DataError(
                f"the finite population correction ({name}) gives {where} {value:g} PSUs "
                f"in the population but {n_psu[h]} were sampled; give the population's "
                "number of PSUs (or the sampling fraction, 0-1)"
            )
        fraction[h] = value if value <= 1 else n_psu[h] / value
    return fraction


@dataclass(frozen=True)
class DesignRows:
    """The rows behind a table of answer patterns: each row's pattern
    (``inverse``), sampling weight and place in the design."""

    design: SurveyDesign
    inverse: np.ndarray
    row_weights: np.ndarray

    def totals(self, n_patterns: int, n_free: int) -> ScoreTotals:
        return ScoreTotals(self.design, self.inverse, self.row_weights, n_patterns, n_free)


class ScoreTotals:
    """The middle ``G`` of the design-based sandwich, from the patterns' scores.

    ``inverse`` maps each row to its answer pattern; ``row_weights`` are the
    rows' sampling weights; ``design`` their strata and PSUs. Feed the score
    matrix of every block of patterns, in order, to :meth:`add`; then
    :meth:`middle` gives ``G``.
    """

    def __init__(self, design: SurveyDesign, inverse, row_weights, n_patterns: int, n_free: int):
        self.design = design
        inverse = np.asarray(inverse, dtype=np.int64)
        w = np.asarray(row_weights, dtype=float)
        n_strata = design.n_strata
        # n_h / (n_h - 1), times 1 - f_h with a finite population correction
        self.factor = design.n_psu / (design.n_psu - 1.0)
        if design.fraction is not None:
            self.factor = self.factor * (1.0 - design.fraction)
        # T_h = sum over the stratum's rows of w_i s_i = sum_p B[h, p] s_p
        # by pattern (column), so that a block of patterns is a cheap slice
        self.by_stratum = sparse.csc_matrix(
            (w, (design.stratum, inverse)), shape=(n_strata, n_patterns)
        )
        self.strata_totals = np.zeros((n_strata, n_free))
        if design.psu is None:
            # every row its own PSU: sum_i f_h w_i^2 s_p(i) s_p(i)' by pattern
            self.square_weights = np.bincount(
                inverse, weights=self.factor[design.stratum] * w * w, minlength=n_patterns
            )
            self.outer = np.zeros((n_free, n_free))
        else:
            self.by_psu = sparse.csc_matrix(
                (w, (design.psu, inverse)), shape=(design.total_psu, n_patterns)
            )
            self.psu_totals = np.zeros((design.total_psu, n_free))

    def add(self, start: int, stop: int, scores: np.ndarray) -> None:
        """Add the scores of patterns ``start:stop`` (shape (stop - start, n_free))."""
        self.strata_totals += self.by_stratum[:, start:stop] @ scores
        if self.design.psu is None:
            v = self.square_weights[start:stop]
            self.outer += scores.T @ (scores * v[:, None])
        else:
            self.psu_totals += self.by_psu[:, start:stop] @ scores

    def middle(self) -> np.ndarray:
        """``G = sum_h a_h (sum_c z_hc z_hc' - T_h T_h' / n_h)``, ``a_h = n_h / (n_h - 1)``
        (times ``1 - f_h`` with a finite population correction)."""
        design = self.design
        if design.psu is None:
            outer = self.outer.copy()
        else:  # PSUs are numbered stratum by stratum: each stratum's totals are a view
            z = self.psu_totals
            bounds = np.concatenate([[0], np.cumsum(design.n_psu)])
            outer = np.zeros((z.shape[1], z.shape[1]))
            for h in range(design.n_strata):
                block = z[bounds[h] : bounds[h + 1]]
                outer += self.factor[h] * (block.T @ block)
        t = self.strata_totals
        outer -= t.T @ (t * (self.factor / design.n_psu)[:, None])
        return 0.5 * (outer + outer.T)


class RowMiddle:
    """The middle of a sandwich from each row's score ``x_i`` (not weighted).

    Without a design, ``sum_i w_i x_i x_i'`` (frequency weights); with one, the
    design-based ``G`` of :class:`ScoreTotals`, every row its own pattern.
    ``design`` is that of all the rows a step was given; :meth:`__call__`
    takes the scores of those ``keep`` selects (the others add nothing, but
    their PSUs count).
    """

    def __init__(self, design: SurveyDesign | None = None):
        self.design = design

    def __call__(self, x: np.ndarray, w: np.ndarray, keep=None) -> np.ndarray:
        x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
        if self.design is None:
            return x.T @ (w[:, None] * x)
        design = self.design if keep is None else self.design.subset(np.asarray(keep, bool))
        n = design.stratum.size
        if n != x.shape[0]:
            raise ValueError(f"{x.shape[0]} scores for {n} rows of the design")
        totals = ScoreTotals(design, np.arange(n), w, n, x.shape[1])
        totals.add(0, n, x)
        return totals.middle()


def adjusted_f(statistic, q, d):
    """The adjusted Wald F of a design-based Wald statistic (Korn & Graubard 1990;
    Stata's ``svy`` default): ``F = (d - q + 1) W / (d q)`` on ``(q, d - q + 1)``
    degrees of freedom, ``d`` the design's (PSUs less strata), ``q`` the statistic's.

    Returns ``(f, df2, p_value)``; NaN where ``d - q + 1 < 1`` (too few PSUs for ``q``
    contrasts) or the statistic is undefined, and an infinite statistic gives an
    infinite F with p 0.
    """
    from scipy import stats

    w = np.asarray(statistic, dtype=float)
    q = np.asarray(q, dtype=float)
    df2 = d - q + 1.0
    ok = (df2 >= 1) & (q >= 1) & ~np.isnan(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(ok, df2 * w / (d * np.maximum(q, 1.0)), np.nan)
        p = np.where(ok, stats.f.sf(f, np.maximum(q, 1.0), np.maximum(df2, 1.0)), np.nan)
    return f, np.where(ok, df2, np.nan), p


def with_adjusted_f(table: pd.DataFrame, statistic: str, d: int) -> pd.DataFrame:
    """``table`` (with columns ``statistic`` and ``df``) and the adjusted F test:
    columns ``f``, ``f_df1``, ``f_df2`` and ``f_p_value``."""
    f, df2, p = adjusted_f(table[statistic].to_numpy(), table["df"].to_numpy(), d)
    return table.assign(f=f, f_df1=table["df"], f_df2=df2, f_p_value=p)
