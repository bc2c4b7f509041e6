"""Model parameters given by hand (``from_parameters``, ``simulate``), checked.

Class sizes and conditional probabilities as users write them (a sequence,
and a mapping of indicator name to an array or a DataFrame of category x
class) become the indicators and the kernels' arrays, or a ``ValueError``
that names the argument, the indicator and what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .encoding import Indicator, explicit_labels, plain_name

#: How far from 1 a column of given probabilities may sum (float32 values are
#: within it); columns within it are rescaled to sum to 1 exactly.
SUM_ATOL = 1e-6


def check_probabilities(values: np.ndarray, what: str) -> None:
    """Refuse values that are not finite probabilities summing to 1 over axis 0."""
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} holds values that are not finite numbers: {values.tolist()}")
    if np.any(values < 0) or np.any(values > 1):
        raise ValueError(f"{what} holds probabilities outside [0, 1]: {values.tolist()}")
    sums = values.sum(axis=0)
    if np.any(np.abs(sums - 1.0) > SUM_ATOL):
        raise ValueError(
            f"{what} do not sum to 1 (sums {np.round(sums, 9).tolist()}); rescale them "
            "(values / values.sum(axis=0))"
        )


def given_parameters(class_sizes, conditional_probs) -> tuple[np.ndarray, list, np.ndarray]:
    """``(class sizes, indicators, conditional probabilities)`` of a model given by hand.

    ``conditional_probs`` maps each indicator name to an array-like of shape
    (n_categories, K), whose categories are labelled 1..C, or to a DataFrame
    whose index holds the labels in order. The probabilities come back
    stacked in the kernels' layout (all categories x K).
    """
    sizes = np.asarray(class_sizes, dtype=float)
    if sizes.ndim != 1 or sizes.shape[0] < 1:
        raise ValueError(f"class_sizes must be a sequence of K >= 1 shares, got {class_sizes!r}")
    check_probabilities(sizes, "class_sizes")
    sizes = sizes / sizes.sum()
    k = sizes.shape[0]
    if not isinstance(conditional_probs, Mapping) or not conditional_probs:
        raise ValueError(
            "conditional_probs must map each indicator name to its probabilities, "
            f"got {conditional_probs!r}; give at least one indicator"
        )
    indicators, blocks = [], []
    for name, probs in conditional_probs.items():
        name = plain_name(name)
        if isinstance(probs, pd.DataFrame):
            where = f"the index (category labels) of conditional_probs[{name!r}]"
            labels = tuple(explicit_labels(name, list(probs.index), where))
            arr = probs.to_numpy(dtype=float)
        else:
            arr = np.asarray(probs, dtype=float)
            labels = tuple(range(1, arr.shape[0] + 1)) if arr.ndim == 2 else ()
        if arr.ndim != 2 or arr.shape[1] != k:
            raise ValueError(
                f"conditional_probs[{name!r}] must have shape (n_categories, {k}), got {arr.shape}"
            )
        check_probabilities(arr, f"conditional_probs[{name!r}]")
        arr = arr / arr.sum(axis=0)
        indicators.append(Indicator(name=name, categories=labels, ordered=True))
        blocks.append(arr)
    return sizes, indicators, np.vstack(blocks)


#: How far (absolute) given probabilities of an ordinal indicator may be from the ordinal
#: model's closest ones: half a percentage point, the rounding of published percentages.
ORDINAL_ROUNDING = 0.005


def _ordinal_fit(block: np.ndarray) -> np.ndarray:
    """The ordinal model's probabilities (C, K) closest to ``block`` in Kullback-Leibler
    divergence: its maximum likelihood fit with ``block`` as the counts, by Newton steps
    (the log-likelihood of a multinomial logit, concave) from the additive fit of the
    log-ratios of adjacent categories."""
    n_cats, k = block.shape
    scores = np.arange(n_cats, dtype=float)
    ratio = np.diff(np.log(np.maximum(block, 1e-12)), axis=0)
    # theta = (a_1..a_{C-1}, b_1..b_K); logit[c, k] = a_c + scores[c] b_k, a_0 = 0
    theta = np.concatenate([np.cumsum(ratio.mean(axis=1) - ratio.mean()), ratio.mean(axis=0)])
    design = np.zeros((k, n_cats, n_cats - 1 + k))
    design[:, 1:, : n_cats - 1] = np.eye(n_cats - 1)
    design[np.arange(k), :, n_cats - 1 + np.arange(k)] = scores

    def fitted(t):
        logits = design @ t  # (K, C)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def objective(q):
        return float(np.sum(block.T * np.log(np.maximum(q, 1e-300))))

    q = fitted(theta)
    value = objective(q)
    for _ in range(100):
        resid = block.T - q  # (K, C)
        grad = np.einsum("kcp,kc->p", design, resid)
        if np.max(np.abs(grad)) < 1e-13:
            break
        cov = q[:, :, None] * np.eye(n_cats)[None] - q[:, :, None] * q[:, None, :]
        info = np.einsum("kcp,kcd,kdr->pr", design, cov, design)
        step = np.linalg.lstsq(info, grad, rcond=None)[0]
        length = 1.0
        while length > 1e-8:
            q_new = fitted(theta + length * step)
            if objective(q_new) >= value:
                break
            length /= 2
        else:
            break
        theta = theta + length * step
        q, value = q_new, objective(q_new)
    return q.T


def ordinal_form(block: np.ndarray, name) -> np.ndarray:
    """The probabilities (C, K) of an ordinal indicator as the ordinal model gives them.

    The ordinal model (Latent GOLD's adjacent-category logit with scores 0..C-1) has
    ``log P(c + 1 | k) - log P(c | k) = alpha_c + beta_k``: the log-ratios of adjacent
    categories are additive in category and class. Given probabilities are replaced by
    the model's closest ones (in Kullback-Leibler divergence: its maximum likelihood fit
    to them), and refused with a ValueError when that moves any of them by more than
    ``ORDINAL_ROUNDING``. A published 0.000 is such a rounding: the model's value is
    small but positive. Two categories are of the ordinal form whatever they are.
    """
    if block.shape[0] < 3:
        return block
    fitted = _ordinal_fit(block)
    moved = float(np.max(np.abs(fitted - block)))
    if moved > ORDINAL_ROUNDING:
        raise ValueError(
            f"conditional_probs[{name!r}] are not those of an ordinal indicator: the ordinal "
            "model's log-ratios of adjacent categories, log P(c+1|k) - log P(c|k), differ "
            "between classes by the same amount for every c, and the closest probabilities "
            f"of that form (by maximum likelihood) are up to {moved:.3g} from these; leave "
            f"{name!r} out of ordinal= to treat it as nominal"
        )
    return fitted
