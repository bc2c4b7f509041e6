"""Standard errors of the class sizes and class-conditional probabilities.

The model is taken in its logit parametrisation, where the parameters are
free: log P_k = g_k - log sum_l exp(g_l) with g = 0 for the largest class,
and for every indicator j and class k, log P(c|k) = eta_kc - log sum_c'
exp(eta_kc') with eta linear in the free parameters theta_j:

- a nominal indicator: eta_kc = theta_jkc, with theta = 0 for the category
  most probable in class k (K (C_j - 1) parameters);
- an ordinal one (adjacent-category logit, equidistant scores):
  eta_kc = a_c + b_k c, with a_0 = 0 and b = 0 for the largest class
  ((C_j - 1) + (K - 1) parameters).

The information matrix of these parameters is computed at the fitted values,
from the answer patterns, their weights (frequency weights: a pattern of
weight w counts as w independent respondents) and their posteriors:

- ``"hessian"`` (the default, Latent GOLD's "standard"): minus the Hessian of
  the maximised objective, the log-likelihood plus the log of the Dirichlet
  priors of the Bayes constants, by Louis's (1982) formula: the Hessian of
  the log-likelihood is ``sum_i w_i [sum_k p_ik (H_ik + g_ik g_ik') - s_i s_i']``
  with ``g_ik`` the
  score and ``H_ik`` the Hessian of log P(k, y_i), and ``s_i = sum_k p_ik
  g_ik`` the score of log P(y_i);
- ``"opg"``: the outer product of the pattern scores ``sum_i w_i s_i s_i'``
  (poLCA's ``probs.se`` and ``P.se``, Bandeen-Roche et al. 1997);
- ``"robust"``: the sandwich ``H^-1 (sum_i w_i s_i s_i') H^-1`` (White 1982;
  Latent GOLD's "robust");
- ``"design"``: the sandwich with the between-PSU variance of the weighted
  score totals in the middle, for a complex sample (strata, clusters,
  sampling weights; :mod:`lca.survey_design`).

Standard errors of the probabilities follow by the delta method (their
Jacobian is ``(diag p - p p') D`` per block), and so do those of the
profile's ``Total`` column, ``sum_k P_k P(c|k)``. The standard errors of the
probabilities do not depend on the choice of reference categories.

A probability on the boundary of the parameter space is held fixed and its
standard error is NaN. For a nominal indicator that is a probability below
``BOUNDARY``, or, for a category without a Bayes constant (all of them with
``bayes_constant=0``; with a constant, a category nobody chose), an expected
count in the class (``sum_i w_i p_ik [y_ij = c]``) below ``BOUNDARY_COUNT``
respondents (counted in mean weights, so the rule does not depend on the
scale of the weights): a maximum-likelihood estimate of 0 that EM approaches
geometrically and stops short of (gss82, 3 classes: 8e-9 at the default
tolerance, 4e-11 at 1e-14), whose standard error would otherwise depend on
where EM stopped. With a looser tolerance than the default such an estimate
can still be far enough from 0 (5e-3 at tol=1e-10 on gss82 with 4 classes) to
get a standard error.

- A nominal category on the boundary loses its logit; the others of that class
  and indicator are parametrised on the rest (when only one is left, its
  probability is 1, on the boundary too).
- An ordinal indicator: its end categories can be rare in a class with a large
  effect b_k without any parameter being infinite, so only these cases are on
  the boundary: a category nobody gave (its share, and so its Bayes
  constant, is 0; its intercept is fixed, the row is NaN); without Bayes
  constants, a class that gives one end of the scale only (expected count
  elsewhere under ``BOUNDARY_COUNT``: an infinite b_k, fixed, and the
  class's column is NaN); and an indicator of which one category only is
  given (certain in every class: all NaN, as for a nominal one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .exceptions import warn

#: A nominal probability below this is on the boundary: fixed, no standard error.
BOUNDARY = 1e-10
#: Without a Bayes constant, so is one whose expected count in its class is below this.
BOUNDARY_COUNT = 1e-2
#: Patterns per block when the score matrices are built.
BLOCK = 1024
#: An eigenvalue of the information matrix scaled to unit diagonal below this is zero.
RANK_TOL = 1e-6
METHODS = ("hessian", "opg", "robust", "design")


@dataclass(frozen=True)
class StandardErrors:
    """Standard errors of a fitted model's parameters.

    Attributes
    ----------
    class_sizes : pandas.Series
        Standard error of each class size, indexed by class like
        ``model.class_sizes_``.
    profile : pandas.DataFrame
        Standard error of every class-conditional probability and of the
        ``Total`` column, with the index and columns of ``model.profile()``;
        NaN for a probability on the boundary (see ``boundary``).
    method : str
        ``"hessian"``, ``"opg"``, ``"robust"`` or ``"design"``.
    n_free : int
        Free parameters in the information matrix: ``model.n_parameters_``
        less those fixed on the boundary.
    rank : int
        Rank of the information matrix; below ``n_free`` the model is not
        identified at these estimates (a warning says so) and the standard
        errors come from a pseudo-inverse.
    boundary : pandas.DataFrame
        Bool, like ``profile`` without ``Total``: True where a probability
        was fixed on the boundary.
    estimates : pandas.DataFrame
        ``model.profile()``, the estimates these are the standard errors of.
    estimated_sizes : pandas.Series
        ``model.class_sizes_``.
    design_df : int or None
        With ``method="design"``: the design's degrees of freedom, primary
        sampling units less strata (for t or F reference distributions).
    """

    class_sizes: pd.Series
    profile: pd.DataFrame
    method: str
    n_free: int
    rank: int
    boundary: pd.DataFrame
    estimates: pd.DataFrame
    estimated_sizes: pd.Series
    design_df: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """Estimates and standard errors side by side, the class sizes first.

        Returns
        -------
        pandas.DataFrame
            Rows: ``("class size", "")``, then the profile's (indicator,
            category); columns: (class 1..K or ``"Total"``, ``"estimate"`` or
            ``"se"``). The class-size row has NaN under ``Total``.
        """
        columns = list(self.estimates.columns)
        frame = pd.concat({"estimate": self.estimates, "se": self.profile}, axis=1)
        frame = frame.swaplevel(axis=1)[[(c, part) for c in columns for part in ("estimate", "se")]]
        sizes = []
        for c in columns:
            sizes += [self.estimated_sizes.get(c, np.nan), self.class_sizes.get(c, np.nan)]
        head = pd.DataFrame(
            [sizes],
            columns=frame.columns,
            index=pd.MultiIndex.from_tuples([("class size", "")], names=frame.index.names),
        )
        return pd.concat([head, frame])


@dataclass(frozen=True)
class Layout:
    """Where each free parameter sits.

    ``class_cols[k]`` is the column of class ``k``'s logit (-1 for the
    reference class). ``blocks[j][k]`` is ``(cols, design)`` for indicator
    ``j`` and class ``k``: ``eta_k = design @ theta[cols]``, ``design`` of
    shape (C_j, len(cols)). ``boundary`` (n_categories, n_classes) marks the
    fixed probabilities.
    """

    n_free: int
    class_cols: np.ndarray
    blocks: list
    boundary: np.ndarray


def expected_counts(patterns, weights, post, offsets) -> np.ndarray:
    """``sum_i w_i p_ik [y_ij = c]`` for every category (flat axis) and class."""
    counts = np.zeros((int(offsets[-1]), post.shape[1]))
    for j in range(offsets.shape[0] - 1):
        y = patterns[:, j].astype(np.int64)
        answered = y >= 0
        np.add.at(counts, offsets[j] + y[answered], weights[answered, None] * post[answered])
    return counts


def on_boundary(
    patterns,
    weights,
    post,
    cond_probs,
    offsets,
    ordinal,
    cond_prior,
    unit: float = 1.0,
    counts=None,
) -> np.ndarray:
    """Probabilities on the boundary (see the module's docstring): bool (C, K).

    ``unit`` is the weight of one respondent (the mean weight), so that the
    expected-count rule does not depend on the scale of the weights;
    ``counts``, :func:`expected_counts` if already made. For an ordinal
    indicator whole rows (a category never given) and columns (a class at an
    end of the scale) are marked.
    """
    if counts is None:
        counts = expected_counts(patterns, weights, post, offsets)
    fixed = np.zeros(cond_probs.shape, dtype=bool)
    least = BOUNDARY_COUNT * unit
    for j in range(offsets.shape[0] - 1):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        no_prior = cond_prior[lo:hi] <= 0.0
        if not ordinal[j]:
            fixed[lo:hi] = (cond_probs[lo:hi] < BOUNDARY) | (
                no_prior[:, None] & (counts[lo:hi] < least)
            )
            continue
        # large class effects make end categories rare without any being infinite:
        # only a category nobody gave, or a class that gives one end only, is
        dead_rows = no_prior & (counts[lo:hi].sum(axis=1) < least)
        rows = np.flatnonzero(~dead_rows)
        fixed[lo + np.flatnonzero(dead_rows)] = True
        if rows.size < 2:  # one category given (or none): it is certain in every class
            fixed[lo:hi] = True
            continue
        if not no_prior[rows].all():
            continue
        live = counts[lo + rows]
        outside_ends = np.minimum(live[1:].sum(axis=0), live[:-1].sum(axis=0))
        fixed[lo:hi, outside_ends < least] = True
    return fixed


def _nominal_block(p, held, n_free):
    """(cols, design, boundary) of one nominal indicator in one class."""
    n_cat = p.shape[0]
    held = held.copy()
    ref = int(np.argmax(p))
    held[ref] = False
    free = np.flatnonzero(~held)
    free = free[free != ref]
    if free.size == 0 and n_cat > 1:  # the others fixed: this one is 1
        held[:] = True
    design = np.zeros((n_cat, free.size))
    design[free, np.arange(free.size)] = 1.0
    return np.arange(n_free, n_free + free.size), design, held


def _ordinal_blocks(fixed, class_probs, n_free):
    """Per class (cols, design) of one ordinal indicator, and its boundary.

    A category fixed in every class has its intercept a_c fixed (it is never
    given); a class with any other fixed category has its effect b_k fixed
    (it sits at an end of the scale: infinite b_k), and all its
    probabilities on this indicator are on the boundary, with no design (its
    answers then say nothing about the free parameters).
    """
    n_cat, n_classes = fixed.shape
    dead_cols = fixed.all(axis=0)
    dead_rows = fixed.all(axis=1) if dead_cols.all() else fixed[:, ~dead_cols].all(axis=1)
    live = np.flatnonzero(~dead_cols)
    boundary = dead_rows[:, None] | dead_cols[None, :]
    if live.size == 0 or dead_rows.all():
        empty = np.zeros((n_cat, 0))
        return [(np.arange(n_free, n_free), empty)] * n_classes, np.ones_like(fixed)
    ref_class = int(live[np.argmax(class_probs[live])])
    rows = np.flatnonzero(~dead_rows)
    a_rows = rows[1:]  # a_c = 0 for the first category given
    b_classes = [k for k in live if k != ref_class]
    n_own = a_rows.size + len(b_classes)
    cols = np.arange(n_free, n_free + n_own)
    blocks = []
    for k in range(n_classes):
        design = np.zeros((n_cat, n_own))
        if not dead_cols[k]:
            design[a_rows, np.arange(a_rows.size)] = 1.0
            if k != ref_class:
                design[rows, a_rows.size + b_classes.index(k)] = rows
        blocks.append((cols, design))
    return blocks, boundary


def layout(class_probs, cond_probs, offsets, ordinal, fixed) -> Layout:
    """The free parameters of a model with these estimates; ``fixed`` from
    :func:`on_boundary`."""
    n_classes = class_probs.shape[0]
    ref_class = int(np.argmax(class_probs))
    class_cols = np.full(n_classes, -1, dtype=np.int64)
    others = [k for k in range(n_classes) if k != ref_class]
    class_cols[others] = np.arange(len(others))
    n_free = len(others)
    boundary = np.zeros(cond_probs.shape, dtype=bool)
    blocks = []
    for j in range(offsets.shape[0] - 1):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        if hi - lo > 1 and ordinal[j]:
            per_class, boundary[lo:hi] = _ordinal_blocks(fixed[lo:hi], class_probs, n_free)
            n_free += per_class[0][0].size
        else:
            per_class = []
            for k in range(n_classes):
                cols, design, boundary[lo:hi, k] = _nominal_block(
                    cond_probs[lo:hi, k], fixed[lo:hi, k], n_free
                )
                n_free += cols.size
                per_class.append((cols, design))
        blocks.append(per_class)
    return Layout(n_free, class_cols, blocks, boundary)


def _softmax_cov(p: np.ndarray) -> np.ndarray:
    """diag(p) - p p': the covariance of a multinomial draw, the softmax Jacobian."""
    return np.diag(p) - np.outer(p, p)


def class_support(lay: Layout, n_classes: int) -> list:
    """For each class, the columns its scores can be non-zero in (sorted), and
    where each free parameter sits among them (-1: not there)."""
    shared = lay.class_cols[lay.class_cols >= 0]
    out = []
    for k in range(n_classes):
        cols = np.unique(np.concatenate([shared] + [per_class[k][0] for per_class in lay.blocks]))
        where = np.full(lay.n_free, -1, dtype=np.int64)
        where[cols] = np.arange(cols.size)
        out.append((cols, where))
    return out


def class_scores(patterns, class_probs, cond_probs, offsets, lay: Layout, support) -> list:
    """Scores g_ik of log P(k, y_i) for a block of patterns.

    One array per class k, of shape (n, len(cols)) for ``(cols, where) =
    support[k]`` (:func:`class_support`): those columns of g_ik (the others
    are 0: a class's score involves the class sizes and its own conditional
    probabilities only).
    """
    n_classes = class_probs.shape[0]
    n = patterns.shape[0]
    free_classes = lay.class_cols >= 0
    out = []
    for k in range(n_classes):
        support_cols, where = support[k]
        scores = np.zeros((n, support_cols.size))
        grad = -class_probs[free_classes]
        if lay.class_cols[k] >= 0:
            grad = grad.copy()
            grad[lay.class_cols[k]] += 1.0
        scores[:, where[lay.class_cols[free_classes]]] = grad
        add_cond_scores(scores, patterns, cond_probs, offsets, lay, k, where)
        out.append(scores)
    return out


def add_cond_scores(scores, patterns, cond_probs, offsets, lay: Layout, k: int, where) -> None:
    """Add to ``scores`` (patterns x columns) the scores of log P(y_i | k) in the
    conditional probabilities' free parameters, parameter ``c`` in column ``where[c]``."""
    for j, per_class in enumerate(lay.blocks):
        cols, design = per_class[k]
        if cols.size == 0:
            continue
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        y = patterns[:, j].astype(np.int64)
        answered = np.flatnonzero(y >= 0)
        expected = design.T @ cond_probs[lo:hi, k]
        scores[np.ix_(answered, where[cols])] += design[y[answered]] - expected


def add_cond_information(info, lay: Layout, offsets, cond_probs, cond_prior, counts) -> None:
    """Add to ``info`` the complete-data information of the conditional probabilities,
    ``sum_i w_i p_ik (-H_ik)`` plus the Dirichlet priors' (``counts``: the expected
    counts, :func:`expected_counts`)."""
    for j, per_class in enumerate(lay.blocks):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        prior_mass = float(np.sum(cond_prior[lo:hi]))
        n_k = counts[lo:hi].sum(axis=0)  # sum_i w_i p_ik over those who answered j
        for k, (cols, design) in enumerate(per_class):
            if cols.size == 0:
                continue
            cov = design.T @ _softmax_cov(cond_probs[lo:hi, k]) @ design
            info[np.ix_(cols, cols)] += (n_k[k] + prior_mass) * cov


def information(
    patterns,
    weights,
    post,
    class_probs,
    cond_probs,
    offsets,
    lay: Layout,
    class_prior: float,
    cond_prior: np.ndarray,
    counts: np.ndarray,
    totals=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minus the Hessian of the objective, and the outer product of the scores.

    ``counts``: :func:`expected_counts`. Returns ``(hessian_info, opg)``, both
    of shape (n_free, n_free). ``totals`` (a ``survey_design.ScoreTotals``),
    if given, is fed the patterns' scores block by block.
    """
    n_classes = class_probs.shape[0]
    size = lay.n_free
    info = np.zeros((size, size))
    opg = np.zeros((size, size))
    # complete-data part, sum_i w_i sum_k p_ik (-H_ik), plus the priors' -Hessian
    free_classes = np.flatnonzero(lay.class_cols >= 0)
    cc = lay.class_cols[free_classes]
    mass = float(np.sum(weights)) + n_classes * class_prior
    info[np.ix_(cc, cc)] += mass * _softmax_cov(class_probs)[np.ix_(free_classes, free_classes)]
    add_cond_information(info, lay, offsets, cond_probs, cond_prior, counts)
    # missing information, sum_i w_i [sum_k p_ik g_ik g_ik' - s_i s_i']
    support = class_support(lay, n_classes)
    for start in range(0, patterns.shape[0], BLOCK):
        stop = min(patterns.shape[0], start + BLOCK)
        g = class_scores(patterns[start:stop], class_probs, cond_probs, offsets, lay, support)
        w = weights[start:stop]
        tau = post[start:stop]
        s = mixed_scores(g, tau, support, size)
        for k, (cols, _) in enumerate(support):
            info[np.ix_(cols, cols)] -= g[k].T @ (g[k] * (w * tau[:, k])[:, None])
        outer = s.T @ (s * w[:, None])
        info += outer
        opg += outer
        if totals is not None:
            totals.add(start, stop, s)
    return info, opg


def mixed_scores(g: list, tau: np.ndarray, support: list, size: int) -> np.ndarray:
    """``s_i = sum_k p_ik g_ik``, the scores of log P(y_i), from the class scores
    ``g`` of :func:`class_scores` and the posteriors ``tau``: shape (n, size)."""
    s = np.zeros((tau.shape[0], size))
    for k, (cols, _) in enumerate(support):
        s[:, cols] += tau[:, k, None] * g[k]
    return s


def pattern_scores(patterns, post, class_probs, cond_probs, offsets, lay: Layout) -> np.ndarray:
    """The score of log P(y_i) in the free parameters of ``lay``, for every pattern:
    shape (n_patterns, n_free)."""
    support = class_support(lay, class_probs.shape[0])
    out = np.zeros((patterns.shape[0], lay.n_free))
    for start in range(0, patterns.shape[0], BLOCK):
        stop = min(patterns.shape[0], start + BLOCK)
        g = class_scores(patterns[start:stop], class_probs, cond_probs, offsets, lay, support)
        out[start:stop] = mixed_scores(g, post[start:stop], support, lay.n_free)
    return out


def _inverse(
    matrix: np.ndarray,
    what: str,
    advice: str,
    then: str = "standard errors come from its pseudo-inverse and are not reliable",
) -> tuple[np.ndarray, int]:
    """Inverse of a symmetric matrix (pseudo-inverse, with a warning, if singular).

    The rank is judged on the matrix scaled to unit diagonal, so that a
    parameter with little information (a rare category) does not count as
    a missing dimension; an eigenvalue of the scaled matrix within
    ``RANK_TOL`` of 0 is 0 (EM stops short of the exact maximum, which
    leaves flat directions that far from 0).
    """
    size = matrix.shape[0]
    if size == 0:
        return matrix.copy(), 0
    diag = np.diag(matrix).copy()
    scale = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    values, vectors = np.linalg.eigh(matrix * np.outer(scale, scale))
    keep = values > RANK_TOL
    rank = int(np.sum(keep))
    if rank < size:
        warn(
            f"the {what} has rank {rank} of {size}: {advice}; {then}",
            UserWarning,
        )
    inv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    return inv * np.outer(scale, scale), rank


#: What a singular matrix means, and what to do.
_SINGULAR_INFO = (
    "the model is not identified at these estimates, or they are not at a maximum. Fit "
    "fewer classes, or with bayes_constant > 0, or refit with more starts"
)
_SINGULAR_OPG = (
    "the respondents' scores span fewer dimensions than there are free parameters (too "
    "few distinct answer patterns, or parameters the data say nothing about, kept off 0 "
    "by the Bayes constants only); use method='hessian'"
)


def covariance(
    info: np.ndarray, opg: np.ndarray, method: str, middle: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Covariance of the free parameters by ``method``, and the rank used;
    ``middle``: the design-based sandwich's (``method="design"``)."""
    if method == "opg":
        return _inverse(opg, "outer product of the scores", _SINGULAR_OPG)
    inv, rank = _inverse(info, "information matrix", _SINGULAR_INFO)
    if method == "robust":
        return inv @ opg @ inv, rank
    if method == "design":
        return inv @ middle @ inv, rank
    return inv, rank


def jacobians(class_probs, cond_probs, offsets, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Derivatives of the class sizes and of the profile's cells by the free parameters.

    Returns ``(sizes, cells)`` of shapes (K, n_free) and (n_categories, K + 1,
    n_free); column K of ``cells`` is the ``Total``, sum_k P_k P(c|k).
    """
    n_classes = class_probs.shape[0]
    free_classes = np.flatnonzero(lay.class_cols >= 0)
    sizes = np.zeros((n_classes, lay.n_free))
    sizes[:, lay.class_cols[free_classes]] = _softmax_cov(class_probs)[:, free_classes]
    cells = np.zeros((cond_probs.shape[0], n_classes + 1, lay.n_free))
    for j, per_class in enumerate(lay.blocks):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        cells[lo:hi, n_classes] += cond_probs[lo:hi] @ sizes
        for k, (cols, design) in enumerate(per_class):
            if cols.size == 0:
                continue
            d = _softmax_cov(cond_probs[lo:hi, k]) @ design
            cells[lo:hi, k, cols] += d
            cells[lo:hi, n_classes, cols] += class_probs[k] * d
    return sizes, cells


def standard_errors(
    patterns,
    weights,
    post,
    class_probs,
    cond_probs,
    offsets,
    ordinal,
    class_prior: float,
    cond_prior: np.ndarray,
    method: str = "hessian",
    unit: float = 1.0,
    rows=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Standard errors of the class sizes and of the profile's cells.

    ``unit``: the weight of one respondent (the mean weight), for
    :func:`on_boundary`. ``rows``: with ``method="design"``, the
    ``survey_design.DesignRows`` of the patterns. Returns ``(sizes, cells,
    boundary, n_free, rank)``: ``sizes`` of shape (K,), ``cells`` of shape
    (n_categories, K + 1) (the last column for the Total) with NaN on the
    boundary, ``boundary`` of shape (n_categories, K).
    """
    lay, cov, rank = parameter_covariance(
        patterns, weights, post, class_probs, cond_probs, offsets, ordinal, class_prior,
        cond_prior, method, unit, rows,
    )  # fmt: skip
    se_sizes, se_cells = errors_from_covariance(lay, cov, class_probs, cond_probs, offsets)
    return se_sizes, se_cells, lay.boundary, lay.n_free, rank


def errors_from_covariance(lay: Layout, cov, class_probs, cond_probs, offsets) -> tuple:
    """The delta method of :func:`standard_errors` from a covariance already computed:
    ``(sizes, cells)``, the cells NaN on the boundary."""
    jac_sizes, jac_cells = jacobians(class_probs, cond_probs, offsets, lay)
    var_sizes = np.einsum("kp,pq,kq->k", jac_sizes, cov, jac_sizes)
    var_cells = np.einsum("ckp,pq,ckq->ck", jac_cells, cov, jac_cells)
    se_sizes = np.sqrt(np.maximum(var_sizes, 0.0))
    se_cells = np.sqrt(np.maximum(var_cells, 0.0))
    se_cells[:, :-1][lay.boundary] = np.nan
    return se_sizes, se_cells


def class_difference_tests(*args, method: str = "hessian", unit: float = 1.0, rows=None):
    """Each indicator's Wald statistic that its answers are distributed alike in every
    class, and the statistic's degrees of freedom; ``args`` those of
    :func:`standard_errors`.

    Nominal: ``g = (P(c | k) - P(c | 1))`` over classes k = 2..K and all categories c
    but the last, (K-1)(C-1) df. Ordinal: the class mean scores' differences
    ``g_k = sum_c s_c (P(c | k) - P(c | 1))``, K-1 df: under the adjacent-category
    model the mean score rises strictly with the class effect, so the null is the
    same as that of the effects, and unlike a test of the effects themselves the
    statistic does not shrink as an effect grows towards an end of the scale
    (Hauck-Donner) nor vanishes where a class sits at an end. ``W = g' pinv(J cov
    J') g`` with ``J = dg / dtheta``, the delta method on the parameters'
    covariance as for :func:`standard_errors`; df the rank of ``J cov J'``. A
    difference with no variance at all (a class on the boundary that the others
    are not: answers that separate the classes perfectly) makes ``W`` infinite.
    """
    class_probs, cond_probs, offsets, ordinal = args[3:7]
    lay, cov, _ = parameter_covariance(*args, method, unit, rows)
    _, jac_cells = jacobians(class_probs, cond_probs, offsets, lay)
    n_classes = class_probs.shape[0]
    n_ind = len(offsets) - 1
    wald, df = np.full(n_ind, np.nan), np.zeros(n_ind, dtype=np.int64)
    for j in range(n_ind):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        if hi - lo < 2 or n_classes < 2:
            continue
        diff = cond_probs[lo:hi, 1:] - cond_probs[lo:hi, :1]  # (C, K-1)
        jac = jac_cells[lo:hi, 1:n_classes] - jac_cells[lo:hi, :1]  # (C, K-1, n_free)
        if ordinal[j]:
            scores = np.arange(1.0, hi - lo + 1.0)
            g, jac = scores @ diff, np.einsum("c,ckp->kp", scores, jac)
        else:  # the last category is implied by the others
            g = diff[:-1].T.ravel()
            jac = jac[:-1].transpose(1, 0, 2).reshape(g.size, -1)
        var = jac @ cov @ jac.T
        wald[j], df[j] = _wald(g, 0.5 * (var + var.T))
    return wald, df


def _wald(g: np.ndarray, var: np.ndarray) -> tuple[float, int]:
    """``g' pinv(var) g`` and the rank of ``var``; infinite when ``g`` has a part that
    ``var`` gives no variance (and ``g`` is not 0), NaN and 0 when there is nothing."""
    size = float(np.sqrt(g @ g))
    scale = float(np.max(np.abs(np.diag(var)))) if var.size else 0.0
    if scale > 0:
        values, vectors = np.linalg.eigh(var)
        keep = values > 1e-10 * scale
    else:
        values, vectors, keep = np.zeros(g.size), np.eye(g.size), np.zeros(g.size, bool)
    proj = vectors[:, keep].T @ g
    outside = float(np.sqrt(max(size * size - proj @ proj, 0.0)))
    if size > 1e-10 and outside > 1e-6 * size:
        return float("inf"), int(g.size)
    if not keep.any():
        return float("nan"), 0
    return float(np.sum(proj * proj / values[keep])), int(keep.sum())


def parameter_covariance(
    patterns,
    weights,
    post,
    class_probs,
    cond_probs,
    offsets,
    ordinal,
    class_prior: float,
    cond_prior: np.ndarray,
    method: str = "hessian",
    unit: float = 1.0,
    rows=None,
) -> tuple[Layout, np.ndarray, int]:
    """The free parameters' layout, their covariance by ``method``, and its rank.

    The arguments are those of :func:`standard_errors`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, not {method!r}")
    if (method == "design") != (rows is not None):
        raise ValueError("method='design' needs the rows' design (rows=), and only it does")
    counts = expected_counts(patterns, weights, post, offsets)
    fixed = on_boundary(
        patterns, weights, post, cond_probs, offsets, ordinal, cond_prior, unit, counts=counts
    )
    lay = layout(class_probs, cond_probs, offsets, ordinal, fixed)
    totals = None if rows is None else rows.totals(patterns.shape[0], lay.n_free)
    info, opg = information(
        patterns,
        weights,
        post,
        class_probs,
        cond_probs,
        offsets,
        lay,
        class_prior,
        cond_prior,
        counts,
        totals,
    )
    cov, rank = covariance(info, opg, method, None if totals is None else totals.middle())
    return lay, cov, rank


def _log_softmax(eta: np.ndarray) -> np.ndarray:
    top = np.max(eta)
    return eta - top - np.log(np.sum(np.exp(eta - top)))


def perturbed(log_class, log_cond, offsets, lay: Layout, delta: np.ndarray):
    """The log-parameters at free parameters ``delta`` (0: the estimates themselves).

    In the logit parametrisation of the module's docstring, centred at the
    estimates: every logit moves by its design times ``delta`` and each
    block is renormalised. A probability on the boundary (no column) keeps
    its logit, so it moves by the renormalisation only.
    """
    new_class = log_class.copy()
    free = np.flatnonzero(lay.class_cols >= 0)
    new_class[free] += delta[lay.class_cols[free]]
    new_class = _log_softmax(new_class)
    new_cond = log_cond.copy()
    for j, per_class in enumerate(lay.blocks):
        lo, hi = int(offsets[j]), int(offsets[j + 1])
        for k, (cols, design) in enumerate(per_class):
            if cols.size:
                new_cond[lo:hi, k] = _log_softmax(log_cond[lo:hi, k] + design @ delta[cols])
    return new_class, new_cond
