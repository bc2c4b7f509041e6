"""Respondents drawn from a latent class model with known parameters."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .encoding import Indicator
from .parameters import given_parameters


def draw_codes(class_probs, cond_probs, offsets, n, random_state=None, missing=0.0):
    """Category codes and true classes of ``n`` respondents.

    ``cond_probs`` has shape (n_categories_total, n_classes) in the kernels'
    flat layout. Answers are missing completely at random with probability
    ``missing`` (code -1).
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n (the number of respondents) must be an integer >= 0, got {n!r}")
    n = int(n)
    if not (0.0 <= missing < 1.0):
        raise ValueError(f"missing must be in [0, 1), got {missing!r}")
    rng = np.random.default_rng(random_state)
    class_probs = np.asarray(class_probs, dtype=float)
    classes = rng.choice(class_probs.shape[0], size=n, p=class_probs / class_probs.sum())
    n_ind = len(offsets) - 1
    largest = int(np.max(np.diff(offsets)))
    codes = np.empty((n, n_ind), dtype=np.int8 if largest <= 127 else np.int16)
    for j in range(n_ind):
        block = np.asarray(cond_probs[offsets[j] : offsets[j + 1]], dtype=float)
        cum = np.cumsum(block / block.sum(axis=0), axis=0).T  # (K, C)
        u = rng.random(n)
        code = (u[:, None] >= cum[classes]).sum(axis=1)
        codes[:, j] = np.minimum(code, block.shape[0] - 1)
    if missing > 0:
        codes[rng.random((n, n_ind)) < missing] = -1
    return codes, classes


def labelled_frame(codes: np.ndarray, indicators: Sequence[Indicator], index=None) -> pd.DataFrame:
    """Codes as a DataFrame of pandas Categoricals with the indicators' labels."""
    columns = {
        ind.name: pd.Categorical.from_codes(
            codes[:, j].astype(np.int64), categories=list(ind.categories), ordered=ind.ordered
        )
        for j, ind in enumerate(indicators)
    }
    return pd.DataFrame(columns, index=index)


def simulate(
    class_sizes: Sequence[float],
    conditional_probs: Mapping,
    n: int,
    random_state: int | np.random.Generator | None = None,
    missing: float = 0.0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Draw respondents from a latent class model with known parameters.

    Parameters
    ----------
    class_sizes : sequence of float of length K
    conditional_probs : mapping
        Indicator name -> array-like of shape (n_categories, K) of
        P(y_j = c | k) (columns sum to 1), or a DataFrame whose index holds
        the category labels. Probabilities outside [0, 1], or columns (or
        class sizes) not summing to 1, are refused.
    n : int
        Number of respondents.
    random_state : int, Generator or None
    missing : float, default=0.0
        Probability that each answer is missing (completely at random).

    Returns
    -------
    data : pandas.DataFrame of shape (n, n_indicators)
        Categorical columns.
    classes : pandas.Series of shape (n,)
        True class (1..K) of each respondent.
    """
    sizes, indicators, cond = given_parameters(class_sizes, conditional_probs)
    indicators = [Indicator(ind.name, ind.categories) for ind in indicators]  # unordered
    offsets = np.concatenate([[0], np.cumsum([i.n_categories for i in indicators])])
    codes, classes = draw_codes(
        sizes, cond, offsets.astype(np.int64), n, random_state=random_state, missing=missing
    )
    return labelled_frame(codes, indicators), pd.Series(classes + 1, name="class")
