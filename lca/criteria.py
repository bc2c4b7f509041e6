"""Fit statistics of a latent class model, as pure functions.

Definitions and sources are in the project's statistical reference
(Latent GOLD's manual for the information criteria and classification
statistics, poLCA for L2/X2/df, Mplus for relative entropy). ``N`` is the
sum of the case weights throughout.
"""

from __future__ import annotations

import math

import numpy as np

#: Names and order of ``LatentClassModel.fit_stats()``.
FIT_STAT_NAMES = (
    "loglik",
    "log_prior",
    "n_obs",
    "n_parameters",
    "df",
    "L2",
    "X2",
    "aic",
    "aic3",
    "bic",
    "caic",
    "sabic",
    "entropy",
    "entropy_r2",
    "relative_entropy",
    "classification_error",
    "lambda",
    "standard_r2",
    "cl",
    "clc",
    "awe",
    "icl_bic",
    "min_avepp",
)


def n_parameters(n_classes: int, n_categories, ordinal=None) -> int:
    """Free parameters: (K-1) + sum_j of K (C_j - 1) for a nominal indicator.

    An ordinal indicator (adjacent-category logit, equidistant scores) has
    (C_j - 1) intercepts + (K - 1) class effects instead (for C_j >= 2).
    """
    ordinal = [False] * len(n_categories) if ordinal is None else list(ordinal)
    total = n_classes - 1
    for c, is_ordinal in zip(n_categories, ordinal):
        if c <= 1:
            continue
        total += (c - 1) + (n_classes - 1) if is_ordinal else n_classes * (c - 1)
    return int(total)


def information_criteria(loglik: float, n_par: int, n_obs: float) -> dict:
    """AIC, AIC3, BIC, CAIC and SABIC, all based on the log-likelihood."""
    deviance = -2.0 * loglik
    return {
        "aic": deviance + 2.0 * n_par,
        "aic3": deviance + 3.0 * n_par,
        "bic": deviance + math.log(n_obs) * n_par,
        "caic": deviance + (math.log(n_obs) + 1.0) * n_par,
        "sabic": deviance + math.log((n_obs + 2.0) / 24.0) * n_par,
    }


def _xlogx(p: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p)
    pos = p > 0
    out[pos] = p[pos] * np.log(p[pos])
    return out


def classification_statistics(sums: dict, class_sizes) -> dict:
    """Latent GOLD's classification statistics and Mplus' relative entropy.

    ``sums`` holds the additive sums of :func:`pattern_sums` (``n_obs``,
    ``entropy``, ``error``, ``gini``). With one class every R-squared-type
    statistic is 1 and the error is 0 (classification is trivially perfect).
    """
    class_sizes = np.asarray(class_sizes, dtype=float)
    n_obs = float(sums["n_obs"])
    n_classes = class_sizes.shape[0]
    en = float(sums["entropy"])
    error = float(sums["error"]) / n_obs
    if n_classes == 1:
        return {
            "entropy": en,
            "entropy_r2": 1.0,
            "relative_entropy": 1.0,
            "classification_error": error,
            "lambda": 1.0,
            "standard_r2": 1.0,
        }
    prior_entropy = -float(_xlogx(class_sizes).sum())
    gini_prior = 1.0 - float(np.sum(class_sizes**2))
    largest = float(class_sizes.max())
    return {
        "entropy": en,
        "entropy_r2": 1.0 - en / (n_obs * prior_entropy) if prior_entropy > 0 else 1.0,
        "relative_entropy": 1.0 - en / (n_obs * math.log(n_classes)),
        "classification_error": error,
        "lambda": 1.0 - error / (1.0 - largest) if largest < 1.0 else 1.0,
        "standard_r2": 1.0 - float(sums["gini"]) / (n_obs * gini_prior) if gini_prior > 0 else 1.0,
    }


def goodness_of_fit(sums: dict, n_par: int, n_obs: float, n_cells: int) -> dict:
    """L2, X2 and df over the full cross-table of the indicators.

    Computed over respondents who answered every indicator (as poLCA does
    with missing answers): observed counts ``n`` of the complete patterns
    against expected counts ``m = N_complete * P(pattern)``. X2 includes the
    cells nobody answered (their total expected count); both are NaN when no
    respondent answered every indicator. ``df = min(N,
    n_cells - 1) - n_par`` with N the sum of all weights (poLCA's rule).

    ``sums`` holds the additive sums of :func:`pattern_sums` over the
    complete patterns with ``n > 0``: ``n_complete = sum n``, ``nlogn = sum n
    ln n``, ``nlogp = sum n ln P``, ``n2_over_p = sum n^2 / P`` and ``p_sum =
    sum P``, from which ``L2 = 2 (sum n ln n - N_c ln N_c - sum n ln P)`` and
    ``sum (n - m)^2 / m = sum n^2 / P / N_c - 2 N_c + N_c sum P``.
    """
    n_complete = float(sums["n_complete"])
    if n_complete > 0:
        l2 = 2.0 * (sums["nlogn"] - n_complete * math.log(n_complete) - sums["nlogp"])
        observed = sums["n2_over_p"] / n_complete - 2.0 * n_complete + n_complete * sums["p_sum"]
        x2 = observed + max(n_complete - n_complete * sums["p_sum"], 0.0)
    else:  # no respondent answered every indicator: nothing to test the model against
        l2 = x2 = math.nan
    # compared as Python numbers: ``n_cells`` is an exact int and may be past
    # float's range (over 1023 binary indicators), where float() would overflow
    df = float(min(n_obs, n_cells - 1)) - n_par
    return {"df": df, "L2": float(l2), "X2": float(x2)}


def modal_assignment(post: np.ndarray) -> np.ndarray:
    """Index of the most probable class of each row (first of ties)."""
    return np.argmax(post, axis=1)


def classification_table(post: np.ndarray, weights: np.ndarray, kind: str = "modal"):
    """K x K table: rows the latent class, columns the assigned class.

    ``modal``: cell (k, l) sums ``w_i p_ik`` over respondents assigned to l.
    ``proportional``: cell (k, l) is ``sum_i w_i p_ik p_il``.
    """
    wp = post * weights[:, None]
    if kind == "modal":
        assign = modal_assignment(post)
        onehot = np.zeros_like(post)
        onehot[np.arange(post.shape[0]), assign] = 1.0
        return wp.T @ onehot
    if kind == "proportional":
        return wp.T @ post
    raise ValueError(f"kind must be 'modal' or 'proportional', not {kind!r}")


def average_posterior_from_table(table: np.ndarray) -> np.ndarray:
    """AvePP from the modal classification table: its diagonal over its column sums."""
    assigned = table.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            assigned > 0, np.diag(table) / np.where(assigned > 0, assigned, 1.0), np.nan
        )


#: Entries of :func:`pattern_sums`, each a sum over answer patterns.
SUM_NAMES = (
    "n_obs", "loglik", "entropy", "error", "gini", "modal", "proportional",
    "n_complete", "nlogn", "nlogp", "n2_over_p", "p_sum",
)  # fmt: skip


#: Patterns summed at a time by :func:`pattern_sums`: its temporaries (about six
#: arrays the size of the posteriors) then stay a few MB however many patterns
#: there are (at 10^7 rows, 246,656 patterns, they were 58 MB of a fit's peak).
SUMS_BLOCK = 1 << 15


def pattern_sums(
    post: np.ndarray, weights: np.ndarray, pattern_loglik: np.ndarray, complete: np.ndarray
) -> dict:
    """The additive sums over patterns behind every fit statistic.

    Each entry is a sum over patterns, so the sums of disjoint parts of a
    pattern table (partitions of a Dask DataFrame) add up to the sums of
    the whole; they are taken ``SUMS_BLOCK`` patterns at a time. A
    zero-weight pattern adds nothing (it may be impossible under the model).
    """
    total = None
    for start in range(0, max(1, len(weights)), SUMS_BLOCK):
        part = slice(start, start + SUMS_BLOCK)
        sums = _block_sums(post[part], weights[part], pattern_loglik[part], complete[part])
        total = sums if total is None else add_sums(total, sums)
    return total


def _block_sums(post, weights, pattern_loglik, complete) -> dict:
    """:func:`pattern_sums` of one block of patterns."""
    used = weights > 0
    w = np.where(used, weights, 0.0)
    post = np.where(used[:, None], post, 0.0)
    keep = complete & used
    n = weights[keep]
    logp = pattern_loglik[keep]
    with np.errstate(over="ignore"):
        inverse_p = np.exp(-logp)
    return {
        "n_obs": float(w.sum()),
        "loglik": float(np.sum(weights[used] * pattern_loglik[used])),
        "entropy": 0.0 - float(np.sum(w * _xlogx(post).sum(axis=1))),  # 0.0, not -0.0
        "error": float(np.sum(w * (1.0 - post.max(axis=1, initial=0.0)))),
        "gini": float(np.sum(w * (1.0 - np.sum(post**2, axis=1)))),
        "modal": classification_table(post, w, "modal"),
        "proportional": classification_table(post, w, "proportional"),
        "n_complete": float(n.sum()),
        "nlogn": float(np.sum(n * np.log(n))),
        "nlogp": float(np.sum(n * logp)),
        "n2_over_p": float(np.sum(n * n * inverse_p)),
        "p_sum": float(np.sum(np.exp(logp))),
    }


def add_sums(a: dict, b: dict) -> dict:
    """Entry-wise sum of two :func:`pattern_sums` results."""
    return {name: a[name] + b[name] for name in SUM_NAMES}


def fit_statistics(
    *, sums: dict, log_prior: float, n_par: int, class_sizes: np.ndarray, n_cells: int
) -> dict:
    """Every statistic of ``FIT_STAT_NAMES`` from the sums of :func:`pattern_sums`."""
    n_obs = float(sums["n_obs"])
    loglik = float(sums["loglik"])
    stats = {"loglik": loglik, "log_prior": float(log_prior), "n_obs": n_obs}
    stats["n_parameters"] = n_par
    stats.update(goodness_of_fit(sums, n_par, n_obs, n_cells))
    ic = information_criteria(loglik, n_par, n_obs)
    stats.update(ic)
    cs = classification_statistics(sums, class_sizes)
    stats.update(cs)
    en = cs["entropy"]
    cl = loglik - en
    stats["cl"] = cl
    stats["clc"] = -2.0 * loglik + 2.0 * en
    stats["awe"] = -2.0 * cl + 2.0 * n_par * (1.5 + math.log(n_obs))
    stats["icl_bic"] = ic["bic"] + 2.0 * en
    app = average_posterior_from_table(sums["modal"])
    stats["min_avepp"] = float(np.nanmin(app)) if np.any(np.isfinite(app)) else float("nan")
    return {name: stats[name] for name in FIT_STAT_NAMES}
