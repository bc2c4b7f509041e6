"""Continuous distal outcomes: class means corrected for classification error.

Step 3 of the bias-adjusted three-step approach (steps 1 and 2, and the
classification error matrix ``D[s, t] = P(assigned t | class s)``, are those
of :mod:`lca.three_step`) for a numeric outcome ``y`` measured outside the
latent class model: its mean and standard deviation within each class, and
Wald tests that the means differ.

- ``"bch"`` (Bolck, Croon & Hagenaars 2004; Bakk, Tekle & Vermunt 2013; the
  method Bakk & Vermunt 2016 recommend for continuous distal outcomes):
  ``mu_s = sum_i w_i a*_is y_i / sum_i w_i a*_is`` with the BCH weights
  ``a*_i = a_i D^-1`` (``a_i`` the respondent's assignment), whose
  expectation given the true class ``t`` is ``[s = t]``; so the weighted
  moments are unbiased whatever the distribution of ``y`` within a class.
  The weights can be negative.
- ``"ml"`` (Vermunt 2010; Latent GOLD's Step3 with a continuous dependent
  variable): ``y`` normal within each class, with its own mean and
  variance; ``sum_i w_i sum_t a_it log sum_s pi_s D[s, t] N(y_i; mu_s,
  sigma_s^2)`` maximised with ``D`` fixed, by EM. Efficient when ``y`` is
  normal within the classes, biased when it is not (Bakk & Vermunt 2016).
  EM starts from the posterior-weighted and the BCH moments, Newton steps
  polish each maximum to rounding error, and the better one is kept.
- ``"none"``: the mean within the assigned classes (modal, or weighted by
  the posteriors for proportional assignment), biased towards the overall
  mean when the classes are not well separated.

Standard errors. BCH and ``"none"`` solve ``sum_i w_i a_is (y_i - mu_s) = 0``;
their covariance is the sandwich ``Cov(mu_s, mu_t) = sum_i w_i a_is a_it
(y_i - mu_s)(y_i - mu_t) / (A_s A_t)``, ``A_s = sum_i w_i a_is`` (a
respondent's BCH weights are non-zero in several classes, so the means
covary). ML: minus the inverse Hessian of the log-likelihood (the default
for modal assignment) or the sandwich (``se_method="robust"``, the default
for proportional assignment), the Hessian analytic (:func:`ml_hessian`).
Weights count as frequency weights, as in :mod:`lca.three_step`, except
with ``se_method="design"``: the sandwich then takes them for sampling
weights and its middle is the between-PSU variance, within strata, of the
weighted scores (:mod:`lca.survey_design`), for every correction. ``D`` and
the posteriors are held fixed (step 1 as known, as in Latent GOLD's Step3
and Mplus's BCH).

Tests: the Wald test that every class has the same mean (chi-square with
K - 1 df) and one per pair of classes (1 df), the tests Mplus's BCH and
Latent GOLD's Step3 report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from .encoding import DataError, plain_name
from .exceptions import ConvergenceWarning, warn
from .survey_design import with_adjusted_f
from .three_step import (
    ASSIGNMENTS,
    _check_every_class_assigned,
    _check_not_time,
    assignment_shares,
    bch_shares,
    classification_errors,
    row_middle,
    step1_jacobian,
    warn_rarely_assigned,
)

CORRECTIONS = ("bch", "ml", "none")
SE_METHODS = ("hessian", "robust", "design")
MISSING = ("error", "omit")
#: Two-sided 95% normal quantile of the confidence limits.
Z95 = float(stats.norm.ppf(0.975))
#: A class standard deviation below this share of the outcome's is a collapsed class.
SD_FLOOR = 1e-6
#: Below this, a sum of scaled probabilities is computed again in log space (it might
#: have lost digits to underflow).
PRODUCT_FLOOR = 1e-250
#: The ML means: EM's relative tolerance before the Newton polish (:func:`ml_newton`),
#: the polish's bound on the score (times the total weight) and its most steps. Where
#: the polish fails, EM goes on to ``ML_EM_TOL``.
ML_POLISH_FROM = 1e-9
NEWTON_GRAD_TOL = 1e-10
NEWTON_STEPS = 20
#: A Newton step whose promised gain ``g' (-H)^-1 g`` is under this times |loglik| is
#: the last, taken without the check that the log-likelihood does not fall (which its
#: rounding, summed over many rows, no longer resolves).
NEWTON_LAST = 1e-13
ML_EM_TOL = 1e-12
#: Two EM estimates closer than this (largest difference of ``theta``) are one maximum.
SAME_MAXIMUM = 1e-3


def text_header(result, title: str) -> str:
    """The first lines of a distal result's text: its options and, per outcome, N."""
    counts = ", ".join(
        f"{name}: N = {result.n_obs[name]:g}"
        + (f" ({int(result.n_missing[name])} missing left out)" if result.n_missing[name] else "")
        for name in result.wald.index
    )
    return (
        f"{title}: correction={result.correction}, assignment={result.assignment}, "
        f"se={result.se_method}\n{counts}"
    )


@dataclass(frozen=True)
class DistalMeans:
    """Class means of continuous distal outcomes (step 3).

    Attributes
    ----------
    means : pandas.DataFrame
        Index (outcome, class); columns ``mean``, ``se``, ``ci_lower`` and
        ``ci_upper`` (95%, normal), ``sd`` (the outcome's standard deviation
        within the class; NaN where a BCH variance comes out negative) and
        ``base`` (the class's weighted number of respondents among the rows
        used: the sum of their weights times their BCH weights, ML
        responsibilities or assignment shares).
    wald : pandas.DataFrame
        One row per outcome: the Wald ``statistic`` that every class has the
        same mean, its ``df`` (K - 1) and ``p_value`` (chi-square).
    pairwise : pandas.DataFrame
        Index (outcome, class, vs), one row per pair of classes:
        ``difference`` (mean of ``class`` minus mean of ``vs``), ``se``,
        ``statistic`` (Wald, 1 df) and ``p_value``.
    classification_errors : pandas.DataFrame
        ``D``: rows the true class, columns the assigned class.
    covariance : dict of str to numpy.ndarray
        Per outcome, the (K, K) covariance of its class means.
    n_obs : pandas.Series
        Per outcome, the sum of the weights of the rows used.
    n_missing : pandas.Series
        Per outcome, the rows left out for a missing value (``missing="omit"``).
    correction, assignment, se_method : str
    """

    means: pd.DataFrame
    wald: pd.DataFrame
    pairwise: pd.DataFrame
    classification_errors: pd.DataFrame
    covariance: dict
    n_obs: pd.Series
    n_missing: pd.Series
    correction: str
    assignment: str
    se_method: str

    def table(self) -> pd.DataFrame:
        """The means as a (class, outcome) table, for profiling the classes."""
        return self.means["mean"].unstack(0)[list(self.wald.index)]

    def to_frame(self) -> pd.DataFrame:
        """The means table (a copy)."""
        return self.means.copy()

    def as_text(self) -> str:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
        return "\n\n".join(
            [
                text_header(self, "Class means of distal outcomes"),
                self.means.to_string(float_format=fmt),
                "Wald tests of equal means\n" + self.wald.to_string(float_format=fmt),
                "Pairwise Wald tests\n" + self.pairwise.to_string(float_format=fmt),
            ]
        )

    def __str__(self) -> str:
        return self.as_text()


# -- estimators on plain arrays ----------------------------------------------------------------


def weighted_moments(share: np.ndarray, y: np.ndarray, w: np.ndarray, middle=None) -> tuple:
    """Means, variances, sandwich covariance and bases of ``y`` in each class.

    ``share`` (n, K) are the rows' class weights (BCH weights, assignment
    shares), ``w`` the case weights. The means solve
    ``sum_i w_i share_is (y_i - mu_s) = 0``. ``middle(x, w)``: the sandwich's
    middle from the rows' scores (default ``x' W x``, frequency weights).
    """
    wa = w[:, None] * share
    base = wa.sum(axis=0)
    mean = (y @ wa) / base
    resid = y[:, None] - mean
    var = np.sum(wa * resid**2, axis=0) / base
    psi = share * resid
    outer = psi.T @ (w[:, None] * psi) if middle is None else middle(psi, w)
    cov = outer / np.outer(base, base)
    return mean, var, cov, base


def _normal_log_density(y, mean, sd):
    z = (y[:, None] - mean) / sd
    return -0.5 * z**2 - np.log(sd) - 0.5 * np.log(2.0 * np.pi)


def _ml_pieces(theta, share, log_d, y, used):
    """Log-likelihood terms and responsibilities at ``theta = (eta_2..K, mu, log sd)``.

    Returns the per-row log-likelihood ``sum_t a_it log sum_s ...`` and the
    responsibilities ``R_is = sum_t a_it P(s | t, y_i)``. ``share`` is (n, T),
    or for modal assignment (n,), each row's assigned class: the same
    numbers from one term per row instead of T.
    """
    k = log_d.shape[0]
    eta = np.concatenate([[0.0], theta[: k - 1]])
    log_pi = eta - np.logaddexp.reduce(eta)
    mean, sd = theta[k - 1 : 2 * k - 1], np.exp(theta[2 * k - 1 :])
    log_f = _normal_log_density(y, mean, sd)
    if share.ndim == 1:
        joint = log_pi + log_d[:, share].T + log_f  # (n, S)
        top = np.max(joint, axis=1, keepdims=True)
        lse = np.log(np.sum(np.exp(joint - top), axis=1)) + top[:, 0]
        return lse, np.exp(joint - lse[:, None]), log_pi, mean, sd
    # exp(log pi_s + log D_st + log f_is) = F_is C_ts with F the densities scaled by their
    # row maximum: every row's T sums over s are one matrix product, from one exponential
    # per (row, class) instead of 2 T (a row whose sum could have underflowed is done
    # again in log space)
    top = np.max(log_f, axis=1)
    f = np.exp(log_f - top[:, None])  # (n, S), each row's largest 1
    log_c = log_pi + log_d[:, used].T  # (T, S)
    sums = f @ np.exp(log_c).T  # (n, T)
    a = share[:, used]
    given = a > 0
    slow = np.flatnonzero(np.any(given & (sums < PRODUCT_FLOOR), axis=1))
    sums[slow] = 1.0  # these rows are done below
    ratio = np.divide(a, sums, out=np.zeros_like(sums), where=given)
    ll = np.sum(np.where(given, a * np.log(sums), 0.0), axis=1) + top * a.sum(axis=1)
    resp = f * (ratio @ np.exp(log_c))
    for i in slow:
        ll[i], resp[i] = 0.0, 0.0
        for t in np.flatnonzero(given[i]):
            joint = log_c[t] + log_f[i]
            lse = np.logaddexp.reduce(joint)
            ll[i] += a[i, t] * lse
            resp[i] += a[i, t] * np.exp(joint - lse)
    return ll, resp, log_pi, mean, sd


def _ml_scores(theta, share, log_d, y, used) -> np.ndarray:
    """Each row's gradient of its log-likelihood term, (n, 3K - 1)."""
    _, resp, log_pi, mean, sd = _ml_pieces(theta, share, log_d, y, used)
    z = (y[:, None] - mean) / sd
    total = 1.0 if share.ndim == 1 else share[:, used].sum(axis=1, keepdims=True)  # 1
    g_eta = resp[:, 1:] - total * np.exp(log_pi[1:])
    return np.hstack([g_eta, resp * z / sd, resp * (z**2 - 1.0)])


def _ml_map(theta, share, log_d, y, w, used) -> tuple:
    """One EM step: ``(next theta, log-likelihood at theta)``; a DataError where the step
    would empty a class or collapse it onto one value."""
    ll, resp, *_ = _ml_pieces(theta, share, log_d, y, used)
    loglik = float(w @ ll)
    r = w[:, None] * resp
    size = r.sum(axis=0)
    if np.any(size <= 0):
        raise DataError(
            "the ML correction emptied a class of the distal outcome's rows; use correction='bch'"
        )
    mean = (y @ r) / size
    sd = np.sqrt(np.sum(r * (y[:, None] - mean) ** 2, axis=0) / size)
    if np.any(sd < SD_FLOOR):
        s = int(np.argmin(sd))
        raise DataError(
            f"the ML correction collapsed class {s + 1} onto a single value of the outcome "
            "(its standard deviation went to 0, where the normal likelihood has no "
            "maximum); use correction='bch'"
        )
    log_size = np.log(size)
    return np.concatenate([log_size[1:] - log_size[0], mean, np.log(sd)]), loglik


def _ml_em(theta, share, log_d, y, w, used, max_iter: int, tol: float) -> tuple:
    """Plain EM from ``theta`` to ``(theta, loglik, converged, E-steps)``: it stops when an
    E-step raises the log-likelihood by at most ``tol`` (relative).

    Not accelerated: SQUAREM, tried here, ended at a lower local maximum than plain EM
    from the same start in 4 of 396 simulated cases (6-8 classes, 300 rows; a review's
    finding), which changes the class means.
    """
    prev = -np.inf
    for n_iter in range(1, max_iter + 1):
        theta_next, loglik = _ml_map(theta, share, log_d, y, w, used)
        theta = theta_next
        if loglik - prev <= tol * abs(loglik):
            return theta, loglik, True, n_iter
        prev = loglik
    return theta, loglik, False, max_iter


def _ml_loglik(theta, share, log_d, y, w, used) -> float:
    """``sum_i w_i l_i(theta)``."""
    return float(w @ _ml_pieces(theta, share, log_d, y, used)[0])


def ml_newton(theta, share, log_d, y, w, used, max_steps: int = NEWTON_STEPS) -> tuple:
    """Newton steps from EM's estimate: ``(theta, loglik, at_maximum)``.

    Each step, ``(-H)^-1 g`` with the analytic Hessian (:func:`ml_hessian`), is halved
    until the log-likelihood does not fall, so it never does, but for a last step whose
    promised gain is below the log-likelihood's rounding (``NEWTON_LAST``). ``at_maximum``: the
    score is within ``NEWTON_GRAD_TOL`` times the total weight of 0 (after steps where
    ``-H`` was positive definite; :func:`ml_covariance` checks it at the end, once the
    standard errors need it). It is False, with the last point,
    where ``-H`` is not positive definite or no halving of a step keeps the
    log-likelihood (the caller then goes on with EM). Near a maximum Newton converges
    quadratically: from EM stopped at a relative 1e-9, two to four steps reach
    rounding error, where EM alone stops about 1e-5 from it at a relative 1e-12.
    """
    ll = _ml_loglik(theta, share, log_d, y, w, used)
    limit = NEWTON_GRAD_TOL * float(np.sum(w))
    for _ in range(max_steps + 1):
        grad = w @ _ml_scores(theta, share, log_d, y, used)
        if np.max(np.abs(grad)) <= limit:  # (ml_covariance checks -H there)
            return theta, ll, True
        try:
            chol = np.linalg.cholesky(-ml_hessian(theta, share, log_d, y, w, used))
        except np.linalg.LinAlgError:
            return theta, ll, False
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        if float(grad @ step) <= NEWTON_LAST * abs(ll):
            # a gain the log-likelihood's rounding (summed over the rows) cannot show: the
            # quadratic model is exact enough here, so the step is taken unchecked, the last
            theta = theta + step
            return theta, _ml_loglik(theta, share, log_d, y, w, used), True
        length = 1.0
        while True:
            moved = theta + length * step
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ll_moved = _ml_loglik(moved, share, log_d, y, w, used)
            if ll_moved >= ll:  # False for NaN
                break
            length /= 2
            if length < 1e-6:
                return theta, ll, False
        theta, ll = moved, ll_moved
    return theta, ll, False


def _start(pi, mean, sd) -> np.ndarray:
    log_pi = np.log(np.clip(pi, 1e-12, None))
    return np.concatenate([log_pi[1:] - log_pi[0], mean, np.log(sd)])


def _compact(share: np.ndarray) -> np.ndarray:
    """``share`` for the ML functions: each row's class when every share is 0 or 1 (modal
    assignment; the same numbers, from one term per row), else the shares."""
    return share if np.any((share != 0) & (share != 1)) else np.argmax(share, axis=1)


def ml_normal(post, share, d, y, w, max_iter: int = 10_000, tol: float = ML_POLISH_FROM) -> tuple:
    """ML class means and sds of a normal distal outcome, ``D`` fixed.

    ``post`` and ``share`` are the posteriors and assignment shares of the
    rows used, ``d`` the classification errors, ``y`` the outcome
    (standardised by the caller: the starts floor a variance at 1e-4).
    Returns ``(theta, log_d, used)``: ``theta = (eta_2..K, mu, log sd)`` at
    the better of two maxima, reached from the posterior-weighted and from
    the BCH moments by EM to a relative ``tol`` and then Newton steps
    (:func:`ml_newton`; where they fail, EM goes on to ``ML_EM_TOL``);
    ``used`` the assigned classes among these rows.
    """
    with np.errstate(divide="ignore"):
        log_d = np.log(d)
    used = np.flatnonzero((w @ share) > 0)
    m, v, _, base = weighted_moments(post, y, w)
    starts = [_start(base / base.sum(), m, np.sqrt(np.maximum(v, 1e-4)))]
    try:  # BCH moments, where D has an inverse and they are usable
        m, v, _, base = weighted_moments(share @ np.linalg.inv(d), y, w)
    except np.linalg.LinAlgError:
        base = v = np.zeros(1)
    if np.all(base > 0) and np.all(v > 1e-4):
        starts.append(_start(base / base.sum(), m, np.sqrt(v)))
    form = _compact(share)
    fits, failure = [], None
    for theta0 in starts:
        try:
            fits.append(_ml_em(theta0, form, log_d, y, w, used, max_iter, tol))
        except DataError as exc:  # this start emptied or collapsed a class: try the other
            failure = exc
    if len(fits) == 2 and np.max(np.abs(fits[0][0] - fits[1][0])) < SAME_MAXIMUM:
        fits = [max(fits, key=lambda fit: fit[1])]  # one maximum, polished once
    best = None
    for theta, loglik, converged, n_iter in fits:
        theta, loglik, at_maximum = ml_newton(theta, form, log_d, y, w, used)
        if not at_maximum and n_iter < max_iter:
            try:
                theta, loglik, converged, more = _ml_em(
                    theta, form, log_d, y, w, used, max_iter - n_iter, min(tol, ML_EM_TOL)
                )
            except DataError as exc:
                failure = exc
                continue
            n_iter += more
        if best is None or loglik > best[1]:
            best = (theta, loglik, converged or at_maximum, n_iter)
    if best is None:
        raise failure
    theta, _, converged, n_iter = best
    if not converged:
        warn(
            f"the ML correction for a distal outcome did not converge in {n_iter} EM "
            "iterations; compare correction='bch'",
            ConvergenceWarning,
        )
    return theta, log_d, used


def ml_hessian(theta, share, log_d, y, w, used) -> np.ndarray:
    """The Hessian of ``sum_i w_i l_i(theta)``, analytically.

    With ``u_ist = log pi_s + log D_st + log f_s(y_i)`` and ``r_ist = P(s | t, y_i)``,
    each term ``a_it log sum_s exp(u_ist)`` has the Hessian ``a_it (E_r[grad^2 u] +
    Var_r[grad u])``: the mean over classes of the second derivatives, plus the
    covariance of the gradients, under the responsibilities. The gradient of ``u_is``
    is ``e_s - pi`` in the logits (``eta_2..K``), ``z_is / sd_s`` in ``mu_s`` and
    ``z_is^2 - 1`` in ``log sd_s``; its second derivatives ``-(diag pi - pi pi')``,
    ``-1 / sd_s^2``, ``-2 z_is / sd_s`` and ``-2 z_is^2``.
    """
    k = log_d.shape[0]
    eta = np.concatenate([[0.0], theta[: k - 1]])
    log_pi = eta - np.logaddexp.reduce(eta)
    mean, sd = theta[k - 1 : 2 * k - 1], np.exp(theta[2 * k - 1 :])
    if share.ndim == 1:  # each row's one assigned class
        terms = [(w, _ml_pieces(theta, share, log_d, y, used)[1], y)]
    else:
        log_f = _normal_log_density(y, mean, sd)
        terms = []
        for t in used:
            keep = (w * share[:, t]) > 0
            joint = log_pi + log_d[:, t] + log_f[keep]
            resp = np.exp(joint - np.max(joint, axis=1, keepdims=True))
            resp /= resp.sum(axis=1, keepdims=True)
            terms.append(((w * share[:, t])[keep], resp, y[keep]))
    pi = np.exp(log_pi)
    hess = np.zeros((3 * k - 1, 3 * k - 1))
    for c, r, yt in terms:
        z = (yt[:, None] - mean) / sd
        gm, gs = z / sd, z**2 - 1.0  # d u_is / d mu_s, d log sd_s (n, S)
        # each row's mean gradient under r, (n, 3K - 1)
        g = np.hstack([r[:, 1:] - pi[1:], r * gm, r * gs])
        hess -= g.T @ (c[:, None] * g)  # minus the mean gradients' outer products
        cr = c[:, None] * r  # (n, S)
        n_s = cr.sum(axis=0)  # sum_i c_i r_is
        # plus the mean of the gradients' outer products, block by block (a gradient
        # g_is has class s's mu and log sd only)
        v = np.eye(k)[:, 1:] - pi[1:]  # (S, K - 1): e_s - pi in the logits
        hess[: k - 1, : k - 1] += (v.T * n_s) @ v
        hess[: k - 1, k - 1 : 2 * k - 1] += v.T * (cr * gm).sum(axis=0)
        hess[: k - 1, 2 * k - 1 :] += v.T * (cr * gs).sum(axis=0)
        mm = (cr * gm * gm).sum(axis=0)
        ms = (cr * gm * gs).sum(axis=0)
        ss = (cr * gs * gs).sum(axis=0)
        # and the mean second derivatives
        hess[: k - 1, : k - 1] -= c.sum() * (np.diag(pi[1:]) - np.outer(pi[1:], pi[1:]))
        mm -= n_s / sd**2
        ms -= (cr * 2.0 * z / sd).sum(axis=0)
        ss -= (cr * 2.0 * z**2).sum(axis=0)
        idx = np.arange(k)
        hess[k - 1 + idx, k - 1 + idx] += mm
        hess[k - 1 + idx, 2 * k - 1 + idx] += ms
        hess[2 * k - 1 + idx, 2 * k - 1 + idx] += ss
    # the blocks above the diagonal were filled: mirror them
    upper = np.triu(hess, 1)
    return np.diag(np.diag(hess)) + upper + upper.T


def ml_covariance(theta, share, log_d, y, w, used, se_method: str, middle=None) -> tuple:
    """``(cov, inv)``: the covariance of ``theta`` (minus the inverse Hessian, or the
    sandwich, its middle ``middle(x, w)`` as for :func:`weighted_moments`) and
    minus the inverse Hessian."""
    hess = ml_hessian(theta, share, log_d, y, w, used)
    try:
        np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        raise DataError(
            "the ML correction's information matrix for a distal outcome is not positive "
            "definite (two classes the assignments do not tell apart, or a class holding "
            "almost none of the rows used), so it has no standard errors; use "
            "correction='bch' or fewer classes"
        ) from None
    inv = np.linalg.inv(-hess)
    if se_method == "hessian":
        return inv, inv
    g = _ml_scores(theta, share, log_d, y, used)
    outer = g.T @ (w[:, None] * g) if middle is None else middle(g, w)
    return inv @ outer @ inv, inv


# -- tests ------------------------------------------------------------------------------------


def _wald_table(rows: list, middle) -> pd.DataFrame:
    """The Wald tests of a distal step 3, one row per outcome; with a design
    (``middle.design``), the adjusted F on its degrees of freedom too."""
    table = pd.DataFrame(rows, columns=["outcome", "statistic", "df", "p_value"])
    table = table.set_index("outcome")
    if middle.design is not None:
        table = with_adjusted_f(table, "statistic", middle.design.df)
    return table


def wald_equal(mean: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Wald test that every entry of ``mean`` is the same: (statistic, df, p_value)."""
    k = mean.size
    c = np.hstack([-np.ones((k - 1, 1)), np.eye(k - 1)])
    diff = c @ mean
    contrast = c @ cov @ c.T
    try:
        # positive definite, and not only by rounding: each difference has a variance
        np.linalg.cholesky(contrast)
        if np.any(np.diag(contrast) <= 1e-12 * np.max(np.diag(cov))):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        return np.nan, k - 1, np.nan
    stat = float(diff @ np.linalg.solve(contrast, diff))
    return stat, k - 1, float(stats.chi2.sf(stat, k - 1))


def pairwise_tests(mean: np.ndarray, cov: np.ndarray) -> list[tuple]:
    """``(s, t, difference, se, statistic, p_value)`` for every pair s < t (0-based)."""
    rows = []
    for s in range(mean.size):
        for t in range(s + 1, mean.size):
            diff = float(mean[s] - mean[t])
            var = float(cov[s, s] + cov[t, t] - 2.0 * cov[s, t])
            if not var > 1e-12 * max(cov[s, s], cov[t, t]):  # no variance: no test
                rows.append((s, t, diff, np.nan, np.nan, np.nan))
                continue
            stat = diff**2 / var
            rows.append((s, t, diff, np.sqrt(var), stat, float(stats.chi2.sf(stat, 1))))
    return rows


def _step1_derivative(step1, fn) -> np.ndarray:
    """``d fn(post) / d theta1`` by central differences over the step-1 parameters."""
    post_at, cov1 = step1
    return step1_jacobian(lambda delta: fn(post_at(delta)), cov1.shape[0])


# -- the whole step ----------------------------------------------------------------------------


def _outcome_values(values: pd.Series, missing: str) -> np.ndarray:
    """A numeric outcome as floats (NaN where missing), or a DataError naming it."""
    name = values.name
    _check_not_time(values, "distal outcome")
    kind = values.dtype
    if (
        pd.api.types.is_bool_dtype(kind)
        or pd.api.types.is_complex_dtype(kind)
        or not pd.api.types.is_numeric_dtype(kind)
    ):
        raise DataError(
            f"distal outcome {name!r} is not numeric ({values.dtype}); give it as numbers, "
            "or estimate a categorical outcome's distribution in each class with "
            "model.distal_proportions(outcome)"
        )
    y = values.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(y)
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        row = plain_name(values.index[i])
        raise DataError(
            f"distal outcome {name!r} holds {float(y[i])!r} at row {row!r}; outcomes must be finite"
        )
    absent = np.isnan(y)
    if absent.any() and missing == "error":
        raise DataError(
            f"distal outcome {name!r} is missing in {int(absent.sum())} row(s), the first at "
            f"row {values.index[int(np.flatnonzero(absent)[0])]!r}; rows are never dropped "
            "silently: pass missing='omit' to leave them out of this outcome's means (the "
            "classification errors stay those of all rows), or impute them"
        )
    return y


def check_options(
    correction, assignment, se_method, missing, classes, outcomes, what, corrections
) -> str:
    """Check the options of a distal step 3 (``what``: "class means" or "class
    proportions"); returns ``se_method``, its default filled in."""
    if correction not in corrections:
        raise ValueError(f"correction must be one of {corrections}, not {correction!r}")
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"assignment must be one of {ASSIGNMENTS}, not {assignment!r}")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {MISSING}, not {missing!r}")
    if se_method is None:
        se_method = "hessian" if correction == "ml" and assignment == "modal" else "robust"
    if se_method not in SE_METHODS:
        raise ValueError(f"se_method must be one of {SE_METHODS}, not {se_method!r}")
    if se_method == "hessian" and correction != "ml":
        raise ValueError(
            f"BCH and uncorrected {what} are not maximum likelihood estimates; their "
            "standard errors are the sandwich's: se_method='robust' (the default), or "
            "'design' for a complex sample"
        )
    if len(classes) < 2:
        raise ValueError(f"{what} of distal outcomes need a model of 2 or more classes")
    if outcomes.shape[1] == 0:
        raise DataError("no distal outcomes given")
    if not outcomes.columns.is_unique:
        raise DataError(f"distal outcomes {list(outcomes.columns)} name a column twice")
    return se_method


def step2(post, weights, correction, assignment, classes) -> tuple:
    """The assignments' shares, the classification errors ``D`` and (for BCH) the
    BCH weights of a distal step 3, after the checks that every class is assigned."""
    share = assignment_shares(post, assignment)
    if correction != "none" or assignment == "modal":
        _check_every_class_assigned(share, weights)
    if correction != "none" and assignment == "modal":
        warn_rarely_assigned(post, share, weights, classes)
    d = classification_errors(post, share, weights)
    bch = bch_shares(post, weights, assignment) if correction == "bch" else None
    return share, d, bch


def distal_means(
    post: np.ndarray,
    outcomes: pd.DataFrame,
    weights: np.ndarray,
    classes: pd.Index,
    *,
    correction: str = "bch",
    assignment: str = "modal",
    se_method: str | None = None,
    missing: str = "error",
    step1=None,
    survey=None,
) -> DistalMeans:
    """Class means of numeric distal outcomes, corrected for classification error.

    Parameters
    ----------
    post : ndarray of shape (n, K)
        The respondents' posterior class probabilities (step 1).
    outcomes : pandas.DataFrame of shape (n, m)
        Numeric outcomes, one row per respondent, in the order of ``post``.
    weights : ndarray of shape (n,)
        Case weights (frequency weights; sampling weights with ``se_method="design"``).
    classes : pandas.Index
        Labels of the K classes.
    correction : {"bch", "ml", "none"}, default="bch"
    assignment : {"modal", "proportional"}, default="modal"
    se_method : {"hessian", "robust", "design"}, optional
        For ML only: default ``"hessian"`` with modal assignment,
        ``"robust"`` with proportional. BCH and uncorrected means have the
        sandwich (``"robust"``) only. ``"design"``: the design-based
        sandwich, with ``survey``.
    missing : {"error", "omit"}, default="error"
        A missing outcome is refused, or its row left out of that outcome's
        means (the classification errors and BCH weights stay those of all
        rows; the count is in ``n_missing``).
    step1 : (callable, ndarray), optional
        ``(post_at, cov1)``, as for :func:`lca.three_step.covariate_effects`:
        ``post_at(delta)`` the posteriors with the step-1 parameters moved by
        ``delta``, ``cov1`` their covariance. Adds step 1's estimation error,
        ``J cov1 J'`` with ``J`` the means' derivatives over the step-1
        parameters (modal assignments held fixed): for BCH and uncorrected
        means differenced directly, for ML through the score,
        ``J = (-H)^-1 d score / d theta1``.
    survey : lca.survey_design.SurveyDesign, optional
        With ``se_method="design"``: the design of the rows (default: every
        row its own PSU, one stratum).

    Returns
    -------
    DistalMeans
    """
    options = (correction, assignment, se_method, missing)
    se_method = check_options(*options, classes, outcomes, "class means", CORRECTIONS)
    values = {name: _outcome_values(outcomes[name], missing) for name in outcomes.columns}

    share, d, bch = step2(post, weights, correction, assignment, classes)
    rows_middle = row_middle(se_method, survey, len(weights))

    k = len(classes)
    frames, wald, pairs, covariance, n_obs, n_missing = [], [], [], {}, {}, {}
    for name, y in values.items():
        keep = ~np.isnan(y)
        middle = partial(rows_middle, keep=keep)
        yk, wk = y[keep], weights[keep]
        if not wk.sum() > 0:
            raise DataError(
                f"distal outcome {name!r} has no rows of positive weight with a value; "
                "there is nothing to estimate"
            )
        centre = float(np.average(yk, weights=wk))
        scale = float(np.sqrt(np.average((yk - centre) ** 2, weights=wk)))
        if not scale > 1e-12 * max(1.0, abs(centre)):
            raise DataError(
                f"distal outcome {name!r} takes a single value ({centre:g}) in the rows used; "
                "it has no class differences to estimate"
            )
        if correction == "ml":
            assigned = (wk @ share[keep]) > 0
            if not assigned.all():
                s = int(np.flatnonzero(~assigned)[0])
                raise DataError(
                    f"class {classes[s]} is nobody's assigned class among the rows with distal "
                    f"outcome {name!r}, so the ML correction cannot place its mean; use "
                    "correction='bch'"
                )
            z = (yk - centre) / scale
            theta, log_d, used = ml_normal(post[keep], share[keep], d, z, wk)
            form = _compact(share[keep])
            _, resp, _, mean, sd = _ml_pieces(theta, form, log_d, z, used)
            cov_theta, inv = ml_covariance(theta, form, log_d, z, wk, used, se_method, middle)
            mu = slice(k - 1, 2 * k - 1)
            cov = cov_theta[mu, mu] * scale**2
            mean, var, base = centre + scale * mean, (scale * sd) ** 2, wk @ resp
            if step1 is not None:

                def score(p, theta=theta, keep=keep, z=z, wk=wk, used=used, form=form):
                    share_p = p if assignment == "proportional" else share
                    with np.errstate(divide="ignore"):
                        log_d_p = np.log(classification_errors(p, share_p, weights))
                    form_p = share_p[keep] if assignment == "proportional" else form
                    return wk @ _ml_scores(theta, form_p, log_d_p, z, used)

                # d theta / d theta1 = (-H)^-1 d score / d theta1 (the score stays 0)
                moved = scale * inv[mu] @ _step1_derivative(step1, score)
                cov = cov + moved @ step1[1] @ moved.T
        else:
            rows = (bch if bch is not None else share)[keep]
            mean, var, cov, base = weighted_moments(rows, yk, wk, middle)
            if np.any(~(base > 0)):
                s = int(np.flatnonzero(~(base > 0))[0])
                raise DataError(
                    f"class {classes[s]} has no weight among the rows with distal outcome "
                    f"{name!r} (its base is {base[s]:.4g}), so its mean is undefined"
                )
            if step1 is not None:

                def means_at(p, keep=keep, yk=yk, wk=wk):
                    share_p = p if assignment == "proportional" else share
                    if correction == "bch":
                        d_p = classification_errors(p, share_p, weights)
                        share_p = share_p @ np.linalg.inv(d_p)
                    return weighted_moments(share_p[keep], yk, wk)[0]

                moved = _step1_derivative(step1, means_at)
                cov = cov + moved @ step1[1] @ moved.T
        se = np.sqrt(np.diag(cov))
        frames.append(
            pd.DataFrame(
                {
                    "mean": mean,
                    "se": se,
                    "ci_lower": mean - Z95 * se,
                    "ci_upper": mean + Z95 * se,
                    "sd": np.sqrt(np.where(var >= 0, var, np.nan)),
                    "base": base,
                },
                index=pd.MultiIndex.from_arrays([[name] * k, classes], names=["outcome", "class"]),
            )
        )
        test = wald_equal(mean, cov)
        if np.isnan(test[0]):
            warn(
                f"the class means of distal outcome {name!r} have a singular covariance (it is "
                "constant within some classes), so some Wald tests are NaN",
                UserWarning,
            )
        wald.append((name, *test))
        for s, t, *rest in pairwise_tests(mean, cov):
            pairs.append((name, classes[s], classes[t], *rest))
        covariance[name] = cov
        n_obs[name] = float(wk.sum())
        n_missing[name] = int((~keep).sum())
    names = pd.Index(list(values), name="outcome")
    return DistalMeans(
        means=pd.concat(frames),
        wald=_wald_table(wald, rows_middle),
        pairwise=pd.DataFrame(
            pairs,
            columns=["outcome", "class", "vs", "difference", "se", "statistic", "p_value"],
        ).set_index(["outcome", "class", "vs"]),
        classification_errors=pd.DataFrame(
            d,
            index=pd.Index(classes, name="class"),
            columns=pd.Index(classes, name="assigned"),
        ),
        covariance=covariance,
        n_obs=pd.Series(n_obs, index=names, dtype=float),
        n_missing=pd.Series(n_missing, index=names, dtype=int),
        correction=correction,
        assignment=assignment,
        se_method=se_method,
    )
