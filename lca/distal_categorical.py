"""Categorical distal outcomes: class proportions corrected for classification error.

Step 3 of the bias-adjusted three-step approach for an outcome with
categories ``c = 1..C`` measured outside the latent class model (steps 1 and
2, and the classification errors ``D[s, t] = P(assigned t | class s)``, are
those of :mod:`lca.three_step`): ``q[c, s] = P(outcome c | class s)`` with
standard errors, and the Wald test that the outcome's distribution is the
same in every class.

- ``"ml"`` (Vermunt 2010; Latent GOLD's Step3 with a nominal dependent
  variable; the method Bakk & Vermunt 2016 recommend for categorical
  outcomes): ``P(s)`` and ``q`` maximise ``sum_i w_i sum_t a_it log sum_s
  P(s) D[s, t] q[c_i, s]`` with ``D`` fixed (``a_it`` the respondent's
  assignment). The likelihood depends on the data only through the table
  ``n[t, c] = sum_i w_i a_it [c_i = c]``, so it is maximised by EM on that
  table and polished by Newton steps (:func:`lca.three_step.ml_distal_shares`,
  the estimator of ``crosstab(kind="ml")``; :func:`newton_polish`).
  Standard errors: the parameters are the logits
  ``P(s) = softmax(alpha)``, ``q[., s] = softmax(beta[., s])`` (each set's
  largest value the reference; a proportion at 0 held there, without a
  standard error); minus the inverse of the analytic Hessian of the table's
  log-likelihood (default with modal assignment) or the sandwich with one
  score per respondent (``se_method="robust"``, the default with
  proportional assignment; ``"design"`` for a complex sample, as in
  :mod:`lca.distal`), carried to ``q`` by the delta method.
- ``"bch"`` (Bolck, Croon & Hagenaars 2004; Bakk, Tekle & Vermunt 2013):
  ``q[c, s] = sum_i w_i a*_is [c_i = c] / sum_i w_i a*_is`` with the BCH
  weights ``a*_i = a_i D^-1``; unbiased, and can fall below 0 for a rare
  category.
- ``"none"``: the distribution within the assigned classes.

With ``D`` invertible the ML model of the table is saturated (``P(t, c) =
sum_s D[s, t] P(s) q[c, s]`` matches any table), so where every BCH
proportion lies in 0-1 the ML estimates are the BCH ones, with the same
standard errors; they differ where BCH would leave 0-1.

BCH and ``"none"`` have the sandwich covariance of their estimating
equations ``sum_i w_i a_is ([c_i = c] - q[c, s]) = 0``, joint over
categories and classes. The Wald test is that of ``q[c, s] - q[c, 1] = 0``
for every class ``s > 1`` and category ``c < C`` ((K - 1)(C - 1) df; the
last category follows from the others). Weights count as frequency weights
(as sampling weights with ``se_method="design"``, as in :mod:`lca.distal`);
``D`` and the posteriors are held fixed unless ``step1`` is given, which adds
step 1's estimation error as in :mod:`lca.distal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import special, stats

from .distal import Z95, _step1_derivative, _wald_table, check_options, step2, text_header
from .encoding import MAX_CATEGORIES, DataError
from .exceptions import warn
from .three_step import (
    _check_not_time,
    _is_numeric,
    _scalar,
    classification_errors,
    ml_distal_shares,
    row_middle,
)

CORRECTIONS = ("ml", "bch", "none")


#: An ML proportion or class size under this is taken to be on the boundary (0), where
#: its logit is at -inf: it is held fixed, with no standard error (EM leaves such a
#: value at 1e-9 to 1e-13 rather than at 0).
BOUNDARY = 1e-8


def proportion_limits(prop: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% limits of proportions, normal on the logit scale (the delta method).

    ``expit(logit(p) -/+ z se / (p (1 - p)))``: the limits stay inside 0-1
    and are not symmetric near the bounds, as Stata's ``proportion`` and R
    survey's ``svyciprop(method = "logit")`` give them; the symmetric
    ``p -/+ z se`` can leave 0-1 for a small class or a rare category. A
    proportion with no standard error (NaN) has NaN limits; one with a zero
    standard error, itself as both. A BCH proportion outside 0-1 (the
    correction can leave the range) or at 0 or 1 has no logit: it gets the
    symmetric normal limits.
    """
    prop = np.asarray(prop, dtype=float)
    se = np.asarray(se, dtype=float)
    inside = (prop > 0.0) & (prop < 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(prop) - np.log1p(-prop)
        half = Z95 * se / (prop * (1.0 - prop))
        lower = np.where(inside, special.expit(logit - half), prop - Z95 * se)
        upper = np.where(inside, special.expit(logit + half), prop + Z95 * se)
    return lower, upper


@dataclass(frozen=True)
class DistalProportions:
    """Class distributions of categorical distal outcomes (step 3).

    Attributes
    ----------
    proportions : pandas.DataFrame
        Index (outcome, category, class); columns ``proportion``, ``se``,
        ``ci_lower`` and ``ci_upper`` (95%, on the logit scale, so within
        0-1, except around a BCH proportion at or beyond 0 or 1:
        :func:`proportion_limits`). Only the categories observed among the
        rows used appear.
    wald : pandas.DataFrame
        One row per outcome: the Wald ``statistic`` that the outcome's
        distribution is the same in every class, its ``df`` ((K - 1)(C -
        1), fewer where ML proportions at 0 are held fixed) and ``p_value``
        (chi-square).
    classification_errors : pandas.DataFrame
        ``D``: rows the true class, columns the assigned class.
    covariance : dict of str to numpy.ndarray
        Per outcome, the (C K, C K) covariance of its proportions, in the
        order of ``proportions`` (category by category, the classes within).
    n_obs : pandas.Series
        Per outcome, the sum of the weights of the rows used.
    n_missing : pandas.Series
        Per outcome, the rows left out for a missing value (``missing="omit"``).
    correction, assignment, se_method : str
    """

    proportions: pd.DataFrame
    wald: pd.DataFrame
    classification_errors: pd.DataFrame
    covariance: dict
    n_obs: pd.Series
    n_missing: pd.Series
    correction: str
    assignment: str
    se_method: str

    def table(self) -> pd.DataFrame:
        """The proportions as an ((outcome, category), class) table, for profiling
        (categories in their order here, not sorted)."""
        prop = self.proportions["proportion"]
        rows = prop.index.droplevel("class").unique()
        classes = self.classification_errors.index
        return pd.DataFrame(
            prop.to_numpy().reshape(len(rows), len(classes)), index=rows, columns=classes
        )

    def to_frame(self) -> pd.DataFrame:
        """The proportions table (a copy)."""
        return self.proportions.copy()

    def as_text(self) -> str:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
        return "\n\n".join(
            [
                text_header(self, "Class proportions of distal outcomes"),
                self.proportions.to_string(float_format=fmt),
                "Wald tests of equal distributions\n" + self.wald.to_string(float_format=fmt),
            ]
        )

    def __str__(self) -> str:
        return self.as_text()


# -- estimators on plain arrays ----------------------------------------------------------------


def share_proportions(share: np.ndarray, y: np.ndarray, w: np.ndarray, middle=None) -> tuple:
    """Proportions, joint sandwich covariance and bases of BCH or assigned shares.

    ``share`` (n, K) the rows' class weights, ``y`` (n, C) the outcome as 0/1
    columns, ``w`` the case weights. Returns ``q`` (C, K), its covariance
    over ``q.ravel()`` (category-major) and the bases (K,). ``middle(x, w)``:
    the sandwich's middle from the rows' scores (default ``x' W x``).
    """
    wa = w[:, None] * share
    base = wa.sum(axis=0)
    q = (y.T @ wa) / base
    # psi_i[c, s] = a_is (y_ic - q_cs) / base_s
    psi = (share[:, None, :] * (y[:, :, None] - q[None])) / base
    psi = psi.reshape(len(w), -1)
    cov = psi.T @ (w[:, None] * psi) if middle is None else middle(psi, w)
    return q, cov, base


def _softmax(x: np.ndarray, axis: int = 0) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# The ML parameters are logits over every class and category, ``full = [alpha (K), beta
# (C, K) row by row]``, ``P(s) = softmax(alpha)`` and ``q[., s] = softmax(beta[., s])``;
# the free ones (``free``, indices into ``full``) leave out one reference per set (its
# largest value) and every value on the boundary (under ``BOUNDARY``), which stay fixed.
# A derivative over a free logit is the same whichever others are fixed, so the scores and
# Hessians below are over ``full`` and are taken at the ``free`` rows and columns.


def free_logits(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(full, free)`` for class sizes ``p`` (K,) and proportions ``q`` (C, K)."""
    k = q.shape[1]
    with np.errstate(divide="ignore"):
        full = np.concatenate([np.log(p), np.log(q).ravel()])
    full = np.maximum(full, -745.0)  # an exact 0: fixed at exp's smallest, not -inf
    keep_a = p > BOUNDARY
    keep_a[np.argmax(p)] = False
    keep_b = q > BOUNDARY
    keep_b[np.argmax(q, axis=0), np.arange(k)] = False
    return full, np.flatnonzero(np.concatenate([keep_a, keep_b.ravel()]))


def params_at(x: np.ndarray, full: np.ndarray, free: np.ndarray, k: int) -> tuple:
    """``(P(s), q)`` with the free logits at ``x``, the others as in ``full``."""
    full = full.copy()
    full[free] = x
    return _softmax(full[:k]), _softmax(full[k:].reshape(-1, k), axis=0)


def cell_pieces(p: np.ndarray, q: np.ndarray, d: np.ndarray) -> tuple:
    """Per cell (t, c) of the assignment-by-outcome table: ``log f``, the score of
    ``log f`` over every logit (T, C, K + C K) and ``r[t, c, s] = P(s | t, c)``."""
    n_cats, k = q.shape
    joint = p[:, None, None] * d[:, :, None] * q.T[:, None, :]  # (s, t, c)
    f = joint.sum(axis=0)  # (t, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(f > 0, joint / f, 0.0).transpose(1, 2, 0)  # (t, c, s)
        log_f = np.log(f)
    t_n = d.shape[1]
    score = np.empty((t_n, n_cats, k + n_cats * k))
    score[:, :, :k] = r - p
    # d log f / d beta[c', s] = r_s ([c = c'] - q[c', s])
    onehot = np.eye(n_cats)  # (c, c')
    b = r[:, :, None, :] * (onehot[None, :, :, None] - q[None, None, :, :])  # (t, c, c', s)
    score[:, :, k:] = b.reshape(t_n, n_cats, -1)
    return log_f, score, r


def cell_hessian(p: np.ndarray, q: np.ndarray, d: np.ndarray, table: np.ndarray, pieces=None):
    """Analytic Hessian of ``sum_tc n[t, c] log f(t, c)`` over every logit.

    ``d^2 log f = E_r[d^2 log(P(s) q[c, s])] + Cov_r(d log(P(s) q[c, s]))``: the
    complete-data terms, averaged over ``r = P(s | t, c)``, plus the covariance over
    ``r`` of their scores (Louis 1982). ``pieces``: :func:`cell_pieces` at ``(p, q)``,
    if already computed.
    """
    n_cats, k = q.shape
    n_par = k + n_cats * k
    _, score, r = cell_pieces(p, q, d) if pieces is None else pieces
    beta = k + np.arange(n_cats)[:, None] * k + np.arange(k)[None, :]  # (c, s) -> index
    # complete-data score of (class s, category c): e_s - p over alpha, [c = c'] - q[c', s]
    # over beta[c', s]
    comp = np.zeros((n_cats, k, n_par))
    comp[:, :, :k] = np.eye(k)[None] - p
    for s in range(k):
        comp[:, s, beta[:, s]] = np.eye(n_cats) - q[:, s]
    # each term summed over the cells (t, c) with their counts n[t, c] first
    hess = np.zeros((n_par, n_par))
    hess[:k, :k] = -table.sum() * (np.diag(p) - np.outer(p, p))
    in_class = np.einsum("tc,tcs->s", table, r)  # sum_tc n[t, c] r[t, c, s]
    for s in range(k):
        block = -(np.diag(q[:, s]) - np.outer(q[:, s], q[:, s]))
        hess[np.ix_(beta[:, s], beta[:, s])] += in_class[s] * block
    weight = np.einsum("tc,tcs->cs", table, r)
    comp = comp.reshape(-1, n_par)
    hess += (comp * weight.reshape(-1, 1)).T @ comp
    score = score.reshape(-1, n_par)
    hess -= (score * table.reshape(-1, 1)).T @ score
    return hess


def proportion_jacobian(q: np.ndarray) -> np.ndarray:
    """``d q.ravel() / d full`` (C K, K + C K): softmax within each class."""
    n_cats, k = q.shape
    jac = np.zeros((n_cats, k, k + n_cats * k))
    for s in range(k):
        for cp in range(n_cats):
            jac[:, s, k + cp * k + s] = q[:, s] * ((np.arange(n_cats) == cp) - q[cp, s])
    return jac.reshape(n_cats * k, -1)


def table_score(p, q, d, table, free, pieces=None) -> np.ndarray:
    """The table log-likelihood's gradient over the free logits (``pieces`` as for
    :func:`cell_hessian`)."""
    _, score, _ = cell_pieces(p, q, d) if pieces is None else pieces
    return np.einsum("tc,tcp->p", table, score[:, :, free])


def table_loglik(p: np.ndarray, q: np.ndarray, d: np.ndarray, table: np.ndarray) -> float:
    """``sum_tc n[t, c] log f(t, c)``, the cells of ``table`` with no weight left out."""
    log_f, _, _ = cell_pieces(p, q, d)
    seen = table > 0
    return float(np.sum(table[seen] * log_f[seen]))


def newton_polish(p, q, d, table, max_steps: int = 20) -> tuple:
    """Newton steps on the free logits from EM's estimate ``(p, q)``, each halved until
    the table's log-likelihood does not fall; ``(p, q)`` at the end.

    EM stops where a step changes the log-likelihood by a relative 1e-12, which leaves
    the proportions about 1e-6 (relative) from the maximum on a flat likelihood; two or
    three Newton steps with the analytic Hessian take them to rounding error. Values
    held fixed (references and proportions at 0) stay where EM left them. Stops, with
    the last point, where the information is not positive definite.
    """
    k = len(p)
    full, free = free_logits(p, q)
    if free.size == 0:  # nothing to move
        return p, q
    x = full[free]
    ll = table_loglik(p, q, d, table)
    for _ in range(max_steps):
        pieces = cell_pieces(p, q, d)  # once per step, for the score and the Hessian
        grad = table_score(p, q, d, table, free, pieces)
        if np.max(np.abs(grad)) <= 1e-12 * table.sum():  # at the maximum already
            break
        info = -cell_hessian(p, q, d, table, pieces)[np.ix_(free, free)]
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            break
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        length = 1.0
        while length > 1e-6:
            p_new, q_new = params_at(x + length * step, full, free, k)
            ll_new = table_loglik(p_new, q_new, d, table)
            if ll_new >= ll:
                break
            length /= 2
        else:
            break
        x = x + length * step
        p, q, gain, ll = p_new, q_new, ll_new - ll, ll_new
        if gain <= 1e-15 * abs(ll) and np.max(np.abs(length * step)) < 1e-10:
            break
    return p, q


def ml_proportions(post, share, d, y, w, assignment, se_method, middle=None) -> tuple:
    """ML estimates ``q`` (C, K), the covariance of ``q.ravel()``, the bases, and
    ``(inv, jac, p, free)`` for the step-1 term (``inv`` the free logits' inverse
    information, ``jac`` ``dq / d`` free logits); ``None`` for these where the
    information is singular. Proportions on the boundary are held at 0, with no
    variance; the rest have standard errors given them."""
    r_rows = ml_distal_shares(post, y, w, assignment, d=d)
    base = w @ r_rows
    p = base / base.sum()
    q = (y.T @ (w[:, None] * r_rows)) / base
    _, free = free_logits(p, q)
    nan = np.full((q.size, q.size), np.nan)
    table = share.T @ (w[:, None] * y)
    info = -cell_hessian(p, q, d, table)[np.ix_(free, free)]
    try:
        np.linalg.cholesky(info)
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return q, nan, base, None
    if se_method in ("robust", "design"):
        _, score, _ = cell_pieces(p, q, d)
        code = np.argmax(y, axis=1)
        rows = np.einsum("it,itp->ip", share, score[:, code][:, :, free].transpose(1, 0, 2))
        outer = rows.T @ (w[:, None] * rows) if middle is None else middle(rows, w)
        cov_x = inv @ outer @ inv
    else:
        cov_x = inv
    jac = proportion_jacobian(q)[:, free]
    return q, jac @ cov_x @ jac.T, base, (inv, jac, p, free)


def wald_same_distribution(q: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Wald test of ``q[c, s] = q[c, 1]`` for s > 1, c < C: (statistic, df, p_value).

    ``df`` is the rank of the contrasts' covariance: (K - 1)(C - 1), less where ML
    proportions held at 0 leave some contrasts without variance of their own (the
    generalised Wald test, with the pseudo-inverse). NaN when a contrast that has no
    variance is not 0 either, or when nothing has any.
    """
    n_cats, k = q.shape
    rows = []
    for c in range(n_cats - 1):
        for s in range(1, k):
            row = np.zeros((n_cats, k))
            row[c, s], row[c, 0] = 1.0, -1.0
            rows.append(row.ravel())
    contrast = np.array(rows)
    diff = contrast @ q.ravel()
    v = contrast @ cov @ contrast.T
    df = len(rows)
    if not np.all(np.isfinite(v)):
        return np.nan, df, np.nan
    values, vectors = np.linalg.eigh(v)
    scale = max(float(values[-1]), 0.0)
    kept = values > 1e-10 * scale
    if not kept.any():
        return np.nan, df, np.nan
    basis = vectors[:, kept]
    inside = basis @ (basis.T @ diff)
    if np.linalg.norm(diff - inside) > 1e-8 * max(1.0, np.linalg.norm(diff)):
        return np.nan, df, np.nan
    df = int(kept.sum())
    stat = float(np.sum((basis.T @ diff) ** 2 / values[kept]))
    return stat, df, float(stats.chi2.sf(stat, df))


# -- the whole step ----------------------------------------------------------------------------


def _outcome_codes(values: pd.Series, missing: str) -> tuple[list, np.ndarray]:
    """The categories of an outcome (a Categorical's order, others sorted) and each
    row's code (-1 where missing), or a DataError naming it."""
    from .diagnostics import _categories

    name = values.name
    _check_not_time(values, "distal outcome")
    absent = values.isna().to_numpy()
    if absent.any() and missing == "error":
        raise DataError(
            f"distal outcome {name!r} is missing in {int(absent.sum())} row(s), the first at "
            f"row {values.index[int(np.flatnonzero(absent)[0])]!r}; rows are never dropped "
            "silently: pass missing='omit' to leave them out of this outcome's proportions, "
            "or recode the missing values as a category of their own"
        )
    categories = _categories(values)
    distinct = values.nunique(dropna=True)
    if _is_numeric(values) and distinct > MAX_CATEGORIES:
        raise DataError(
            f"distal outcome {name!r} has {distinct} distinct numbers, more than "
            f"{MAX_CATEGORIES}: it looks continuous; give its class means with "
            "distal_means, or recode it into categories"
        )
    lookup = pd.Index(categories, dtype=object)
    codes = lookup.get_indexer(pd.Index(values.to_numpy(dtype=object), dtype=object))
    codes[absent] = -1
    return categories, codes


def distal_proportions(
    post: np.ndarray,
    outcomes: pd.DataFrame,
    weights: np.ndarray,
    classes: pd.Index,
    *,
    correction: str = "ml",
    assignment: str = "modal",
    se_method: str | None = None,
    missing: str = "error",
    step1=None,
    survey=None,
) -> DistalProportions:
    """Class proportions of categorical distal outcomes, corrected for classification error.

    Parameters
    ----------
    post : ndarray of shape (n, K)
        The respondents' posterior class probabilities (step 1).
    outcomes : pandas.DataFrame of shape (n, m)
        Categorical outcomes (any labels), one row per respondent, in the
        order of ``post``.
    weights : ndarray of shape (n,)
        Case weights (frequency weights; sampling weights with ``se_method="design"``).
    classes : pandas.Index
        Labels of the K classes.
    correction : {"ml", "bch", "none"}, default="ml"
    assignment : {"modal", "proportional"}, default="modal"
    se_method : {"hessian", "robust", "design"}, optional
        For ML only: default ``"hessian"`` with modal assignment,
        ``"robust"`` with proportional. BCH and uncorrected proportions have
        the sandwich only. ``"design"``: the design-based sandwich, with
        ``survey`` (as for :func:`lca.distal.distal_means`).
    missing : {"error", "omit"}, default="error"
    step1 : (callable, ndarray), optional
        ``(post_at, cov1)`` as for :func:`lca.distal.distal_means`: adds step
        1's estimation error ``J cov1 J'`` (BCH and uncorrected proportions
        differenced directly; ML through the score, ``J = dq/dtheta (-H)^-1
        d score / d theta1``).
    survey : lca.survey_design.SurveyDesign, optional
        With ``se_method="design"``: the design of the rows.

    Returns
    -------
    DistalProportions
    """
    options = (correction, assignment, se_method, missing)
    se_method = check_options(*options, classes, outcomes, "class proportions", CORRECTIONS)
    coded = {name: _outcome_codes(outcomes[name], missing) for name in outcomes.columns}

    share, d, bch = step2(post, weights, correction, assignment, classes)
    rows_middle = row_middle(se_method, survey, len(weights))

    k = len(classes)
    frames, wald, covariance, n_obs, n_missing = [], [], {}, {}, {}
    for name, (categories, codes) in coded.items():
        keep = codes >= 0
        middle = partial(rows_middle, keep=keep)
        wk = weights[keep]
        counts = np.bincount(codes[keep], weights=wk, minlength=len(categories))
        seen = np.flatnonzero(counts > 0)
        if seen.size < 2:
            raise DataError(
                f"distal outcome {name!r} has {seen.size} category with positive weight in the "
                "rows used; it has no class differences to estimate"
            )
        labels = [categories[j] for j in seen]
        y = (codes[keep][:, None] == seen[None, :]).astype(float)
        if correction == "ml":
            q, cov, base, parts = ml_proportions(
                post[keep], share[keep], d, y, wk, assignment, se_method, middle
            )
            fixed = q <= BOUNDARY
            if parts is None:
                warn(
                    f"the information of the ML proportions of distal outcome {name!r} is "
                    "singular, so they have no standard errors; its standard errors and Wald "
                    "test are NaN: merge rare categories, or use correction='bch'",
                    UserWarning,
                )
            elif fixed.any():
                c, s = (int(v[0]) for v in np.nonzero(fixed))
                warn(
                    f"{int(fixed.sum())} ML proportion(s) of distal outcome {name!r} are at 0 "
                    f"(category {_scalar(labels[c])!r} in class {classes[s]}: nobody in that class "
                    "has it, by the corrected estimates); they are held at 0 with no standard "
                    "error (NaN), the others' standard errors and the Wald test take them as "
                    "fixed. Merge rare categories to avoid it",
                    UserWarning,
                )
            if parts is not None and step1 is not None:
                inv, jac, p_hat, free = parts

                def score(p, keep=keep, y=y, wk=wk, q=q, p_hat=p_hat, free=free):
                    share_p = p if assignment == "proportional" else share
                    d_p = classification_errors(p, share_p, weights)
                    table = share_p[keep].T @ (wk[:, None] * y)
                    return table_score(p_hat, q, d_p, table, free)

                moved = jac @ inv @ _step1_derivative(step1, score)
                cov = cov + moved @ step1[1] @ moved.T
        else:
            rows = (bch if bch is not None else share)[keep]
            q, cov, base = share_proportions(rows, y, wk, middle)
            parts = None
            if np.any(~(base > 0)):
                s = int(np.flatnonzero(~(base > 0))[0])
                raise DataError(
                    f"class {classes[s]} has no weight among the rows with distal outcome "
                    f"{name!r} (its base is {base[s]:.4g}), so its proportions are undefined"
                )
            if step1 is not None:

                def props_at(p, keep=keep, y=y, wk=wk):
                    share_p = p if assignment == "proportional" else share
                    if correction == "bch":
                        share_p = share_p @ np.linalg.inv(
                            classification_errors(p, share_p, weights)
                        )
                    return share_proportions(share_p[keep], y, wk)[0].ravel()

                moved = _step1_derivative(step1, props_at)
                cov = cov + moved @ step1[1] @ moved.T
        se = np.sqrt(np.diag(cov))
        prop = q.ravel()
        if correction == "ml":  # held at 0: EM leaves 1e-9 to 1e-300 there
            se = np.where(prop <= BOUNDARY, np.nan, se)
            prop = np.where(prop <= BOUNDARY, 0.0, prop)
        lower, upper = proportion_limits(prop, se)
        index = pd.MultiIndex.from_arrays(
            [
                [name] * prop.size,
                np.repeat(np.array(labels, dtype=object), k),
                np.tile(classes, len(labels)),
            ],
            names=["outcome", "category", "class"],
        )
        frames.append(
            pd.DataFrame(
                {
                    "proportion": prop,
                    "se": se,
                    "ci_lower": lower,
                    "ci_upper": upper,
                },
                index=index,
            )
        )
        test = wald_same_distribution(q, cov)
        if np.isnan(test[0]) and correction != "ml":
            warn(
                f"the class proportions of distal outcome {name!r} have a singular covariance "
                "(constant within some classes), so its Wald test is NaN",
                UserWarning,
            )
        elif np.isnan(test[0]) and parts is not None:
            warn(
                f"the Wald test of distal outcome {name!r} is NaN: its proportions at 0 or 1 "
                "(held fixed, without sampling variance) make some classes differ for certain, "
                "where the test's large-sample theory does not hold; merge rare categories, "
                "or test with correction='bch'",
                UserWarning,
            )
        wald.append((name, *test))
        covariance[name] = cov
        n_obs[name] = float(wk.sum())
        n_missing[name] = int((~keep).sum())
    names = pd.Index(list(coded), name="outcome")
    return DistalProportions(
        proportions=pd.concat(frames),
        wald=_wald_table(wald, rows_middle),
        classification_errors=pd.DataFrame(
            d, index=pd.Index(classes, name="class"), columns=pd.Index(classes, name="assigned")
        ),
        covariance=covariance,
        n_obs=pd.Series(n_obs, index=names, dtype=float),
        n_missing=pd.Series(n_missing, index=names, dtype=int),
        correction=correction,
        assignment=assignment,
        se_method=se_method,
    )
