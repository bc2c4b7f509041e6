"""Slow, obviously correct NumPy versions of the kernels and statistics.

Written per respondent with dense arrays and scipy's logsumexp, independent
of ``lca``'s flat layout tricks, chunking and pattern compression.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import logsumexp


def log_joint(codes, log_class, cond_blocks):
    """log P_k + sum_j log P(y_ij | k), shape (n, K); missing (-1) skipped."""
    n, n_ind = codes.shape
    out = np.tile(log_class, (n, 1))
    for j in range(n_ind):
        with np.errstate(divide="ignore"):
            logp = np.log(cond_blocks[j])  # (C_j, K)
        for i in range(n):
            c = codes[i, j]
            if c >= 0:
                out[i] += logp[c]
    return out


def posteriors(codes, log_class, cond_blocks):
    lj = log_joint(codes, log_class, cond_blocks)
    ll = logsumexp(lj, axis=1)
    return np.exp(lj - ll[:, None]), ll


def estep(codes, weights, log_class, cond_blocks):
    """Log-likelihood, per-indicator expected counts (list of (C_j, K)), class counts."""
    post, ll = posteriors(codes, log_class, cond_blocks)
    wp = post * weights[:, None]
    counts = []
    for j, block in enumerate(cond_blocks):
        cj = np.zeros_like(block)
        for c in range(block.shape[0]):
            cj[c] = wp[codes[:, j] == c].sum(axis=0)
        counts.append(cj)
    return float(np.sum(weights * ll)), counts, wp.sum(axis=0)


def mstep(counts, class_counts, a, b, marginals):
    """Posterior-mode M-step of the reference (Bayes constants a, b)."""
    k = class_counts.shape[0]
    n = class_counts.sum()
    sizes = (class_counts + a / k) / (n + a)
    blocks = []
    for cj, f in zip(counts, marginals):
        num = cj + (b / k) * f[:, None]
        blocks.append(num / num.sum(axis=0, keepdims=True))
    return sizes, blocks


def random_problem(rng, n, n_cats, k, missing=0.2):
    codes = np.stack([rng.integers(0, c, size=n) for c in n_cats], axis=1)
    codes[rng.random(codes.shape) < missing] = -1
    weights = rng.uniform(0.2, 3.0, size=n)
    sizes = rng.dirichlet(np.ones(k))
    blocks = [rng.dirichlet(np.ones(c), size=k).T for c in n_cats]
    return codes, weights, sizes, blocks


def flat(blocks):
    """Blocks -> the kernels' (n_categories_total, K) layout and offsets."""
    offsets = np.concatenate([[0], np.cumsum([b.shape[0] for b in blocks])]).astype(np.int64)
    return np.vstack(blocks), offsets


def adjusted_rand_index(a, b) -> float:
    """Hubert & Arabie's adjusted Rand index from the contingency table."""
    a = np.asarray(a)
    b = np.asarray(b)
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)

    def comb2(x):
        return x * (x - 1) / 2.0

    sum_cells = comb2(table).sum()
    sum_a = comb2(table.sum(axis=1)).sum()
    sum_b = comb2(table.sum(axis=0)).sum()
    expected = sum_a * sum_b / comb2(len(a))
    top = (sum_a + sum_b) / 2.0
    return float((sum_cells - expected) / (top - expected))


def full_table_fit(codes, weights, log_class, cond_blocks, n_par):
    """L2, X2 and df by enumerating every cell of the cross-table.

    Complete respondents only; expected m = N_complete * P(cell).
    """
    n_cats = [b.shape[0] for b in cond_blocks]
    complete = np.all(codes >= 0, axis=1)
    cells = np.array(list(itertools.product(*[range(c) for c in n_cats])))
    _, cell_ll = posteriors(cells, log_class, cond_blocks)
    observed = np.zeros(len(cells))
    index = {tuple(c): i for i, c in enumerate(cells)}
    for row, w in zip(codes[complete], weights[complete]):
        observed[index[tuple(row)]] += w
    n_c = observed.sum()
    m = n_c * np.exp(cell_ll)
    pos = observed > 0
    l2 = 2 * np.sum(observed[pos] * np.log(observed[pos] / m[pos]))
    x2 = np.sum((observed - m) ** 2 / m)
    df = min(weights.sum(), math.prod(n_cats) - 1) - n_par
    return l2, x2, df
