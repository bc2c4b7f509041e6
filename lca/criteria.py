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


def entropy(post: np.ndarray, weights: np.ndarray) -> float:
    """EN = - sum_i w_i sum_k p_ik ln p_ik."""
    return float(-np.sum(weights * _xlogx(post).sum(axis=1)))


def classification_statistics(post: np.ndarray, weights: np.ndarray, class_sizes) -> dict:
    """Latent GOLD's classification statistics and Mplus' relative entropy.

    With one class every R-squared-type statistic is 1 and the error is 0
    (classification is trivially perfect).
    """
    class_sizes = np.asarray(class_sizes, dtype=float)
    n_obs = float(weights.sum())
    n_classes = post.shape[1]
    en = entropy(post, weights)
    error = float(np.sum(weights * (1.0 - post.max(axis=1))) / n_obs)
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
    gini_post = float(np.sum(weights * (1.0 - np.sum(post**2, axis=1))))
    largest = float(class_sizes.max())
    return {
        "entropy": en,
        "entropy_r2": 1.0 - en / (n_obs * prior_entropy) if prior_entropy > 0 else 1.0,
        "relative_entropy": 1.0 - en / (n_obs * math.log(n_classes)),
        "classification_error": error,
        "lambda": 1.0 - error / (1.0 - largest) if largest < 1.0 else 1.0,
        "standard_r2": 1.0 - gini_post / (n_obs * gini_prior) if gini_prior > 0 else 1.0,
    }


def goodness_of_fit(
    pattern_loglik: np.ndarray,
    pattern_weights: np.ndarray,
    complete: np.ndarray,
    n_par: int,
    n_obs: float,
    n_cells: int,
) -> dict:
    """L2, X2 and df over the full cross-table of the indicators.

    Computed over respondents who answered every indicator (as poLCA does
    with missing answers): observed counts ``n`` of the complete patterns
    against expected counts ``m = N_complete * P(pattern)``. X2 includes the
    cells nobody answered (their total expected count). ``df = min(N,
    n_cells - 1) - n_par`` with N the sum of all weights (poLCA's rule).
    """
    n = pattern_weights[complete]
    logp = pattern_loglik[complete]
    keep = n > 0
    n, logp = n[keep], logp[keep]
    n_complete = float(n.sum())
    if n_complete > 0:
        m = n_complete * np.exp(logp)
        l2 = float(2.0 * np.sum(n * (np.log(n) - np.log(n_complete) - logp)))
        x2 = float(np.sum((n - m) ** 2 / m) + max(n_complete - m.sum(), 0.0))
    else:
        l2 = x2 = 0.0
    df = min(n_obs, float(n_cells) - 1.0) - n_par
    return {"df": df, "L2": l2, "X2": x2}


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


def average_posterior(post: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AvePP of each class: weighted mean of p_il over respondents assigned to l.

    NaN for a class to which nobody is assigned.
    """
    table = classification_table(post, weights, "modal")
    assigned = table.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            assigned > 0, np.diag(table) / np.where(assigned > 0, assigned, 1.0), np.nan
        )


def fit_statistics(
    *,
    loglik: float,
    log_prior: float,
    n_par: int,
    post: np.ndarray,
    weights: np.ndarray,
    class_sizes: np.ndarray,
    pattern_loglik: np.ndarray,
    complete: np.ndarray,
    n_cells: int,
) -> dict:
    """Every statistic of ``FIT_STAT_NAMES`` from one model's patterns.

    ``post``, ``weights``, ``pattern_loglik`` and ``complete`` are per
    distinct answer pattern (weights summed), which gives the same sums as
    per respondent.
    """
    n_obs = float(weights.sum())
    stats = {"loglik": float(loglik), "log_prior": float(log_prior), "n_obs": n_obs}
    stats["n_parameters"] = n_par
    stats.update(goodness_of_fit(pattern_loglik, weights, complete, n_par, n_obs, n_cells))
    ic = information_criteria(loglik, n_par, n_obs)
    stats.update(ic)
    cs = classification_statistics(post, weights, class_sizes)
    stats.update(cs)
    en = cs["entropy"]
    cl = loglik - en
    stats["cl"] = cl
    stats["clc"] = -2.0 * loglik + 2.0 * en
    stats["awe"] = -2.0 * cl + 2.0 * n_par * (1.5 + math.log(n_obs))
    stats["icl_bic"] = ic["bic"] + 2.0 * en
    app = average_posterior(post, weights)
    stats["min_avepp"] = float(np.nanmin(app)) if np.any(np.isfinite(app)) else float("nan")
    return {name: stats[name] for name in FIT_STAT_NAMES}
