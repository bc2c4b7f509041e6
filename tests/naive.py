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


# -- standard errors by finite differences ------------------------------------------


def logit_parameters(sizes, blocks, ordinal):
    """Free logits with reference category 0 and reference class 0 (a layout
    different from ``lca.standard_errors``'s, whose choice of references the
    standard errors of the probabilities must not depend on)."""
    theta = list(np.log(sizes[1:]) - np.log(sizes[0]))
    for block, is_ordinal in zip(blocks, ordinal):
        logp = np.log(block)  # (C, K)
        if is_ordinal:
            a = logp[1:, 0] - logp[0, 0]
            b = (logp[1, 1:] - logp[0, 1:]) - a[0]
            theta += list(a) + list(b)
        else:
            theta += list((logp[1:] - logp[0]).T.ravel())  # class by class
    return np.array(theta)


def probabilities(theta, n_classes, n_cats, ordinal):
    """Inverse of :func:`logit_parameters`: class sizes and (C_j, K) blocks."""
    g = np.concatenate([[0.0], theta[: n_classes - 1]])
    sizes = np.exp(g - logsumexp(g))
    pos = n_classes - 1
    blocks = []
    for c, is_ordinal in zip(n_cats, ordinal):
        if is_ordinal:
            a = np.concatenate([[0.0], theta[pos : pos + c - 1]])
            b = np.concatenate([[0.0], theta[pos + c - 1 : pos + c - 1 + n_classes - 1]])
            pos += c - 1 + n_classes - 1
            eta = a[:, None] + np.arange(c)[:, None] * b[None, :]
        else:
            eta = np.zeros((c, n_classes))
            eta[1:] = theta[pos : pos + n_classes * (c - 1)].reshape(n_classes, c - 1).T
            pos += n_classes * (c - 1)
        blocks.append(np.exp(eta - logsumexp(eta, axis=0, keepdims=True)))
    return sizes, blocks


def row_logliks(theta, codes, n_classes, n_cats, ordinal):
    """log P(y_i) of every row (vectorised :func:`log_joint`; missing skipped)."""
    sizes, blocks = probabilities(theta, n_classes, n_cats, ordinal)
    joint = np.tile(np.log(sizes), (codes.shape[0], 1))
    for j, block in enumerate(blocks):
        answered = codes[:, j] >= 0
        joint[answered] += np.log(block)[codes[answered, j]]
    return logsumexp(joint, axis=1)


def log_posterior(theta, codes, weights, n_classes, n_cats, ordinal, a, b, marginals):
    """Weighted log-likelihood plus the log-prior of the Bayes constants a, b."""
    sizes, blocks = probabilities(theta, n_classes, n_cats, ordinal)
    value = float(np.sum(weights * row_logliks(theta, codes, n_classes, n_cats, ordinal)))
    value += (a / n_classes) * float(np.sum(np.log(sizes)))
    for block, f in zip(blocks, marginals):
        value += float(np.sum((b / n_classes) * f[:, None] * np.log(block)))
    return value


def fd_hessian(f, x, h=5e-4):
    n = x.size
    hess = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h
            ej[j] = h
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
            hess[i, j] = hess[j, i] = v
    return hess


def fd_jacobian(f, x, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(cols).T


def design_middle(scores, weights, strata, psu, population=None):
    """The linearization sandwich's middle, by loops over strata and PSUs:
    sum_h n_h / (n_h - 1) (1 - n_h / N_h) sum_c (z_hc - zbar_h)(z_hc - zbar_h)', z_hc
    the sum of w_i s_i over PSU (h, c); ``psu`` None: every row its own PSU;
    ``population`` {stratum code: N_h}, None: with replacement."""
    size = scores.shape[1]
    middle = np.zeros((size, size))
    for h in np.unique(strata):
        in_h = np.flatnonzero(strata == h)
        units = [np.array([i]) for i in in_h] if psu is None else [
            in_h[psu[in_h] == c] for c in np.unique(psu[in_h])
        ]  # fmt: skip
        totals = np.array([sum(weights[i] * scores[i] for i in unit) for unit in units])
        dev = totals - totals.mean(axis=0)
        fpc = 1.0 if population is None else 1.0 - len(units) / population[h]
        middle += len(units) / (len(units) - 1) * fpc * dev.T @ dev
    return middle


def standard_errors(
    codes, weights, sizes, blocks, ordinal, a, b, marginals, method, strata=None, psu=None,
    population=None,
):  # fmt: skip
    """Standard errors of (sizes, profile cells with Total) by finite differences.

    Returns ``(se_sizes, se_cells)``, ``se_cells`` of shape (sum_j C_j, K + 1).
    ``method="design"``: with the rows' ``strata`` (codes) and ``psu`` (codes, or
    None), by :func:`design_middle`.
    """
    n_classes = sizes.shape[0]
    n_cats = [blk.shape[0] for blk in blocks]
    theta = logit_parameters(sizes, blocks, ordinal)
    info = -fd_hessian(
        lambda t: log_posterior(t, codes, weights, n_classes, n_cats, ordinal, a, b, marginals),
        theta,
    )
    scores = fd_jacobian(lambda t: row_logliks(t, codes, n_classes, n_cats, ordinal), theta)
    opg = scores.T @ (scores * weights[:, None])
    if method == "hessian":
        cov = np.linalg.inv(info)
    elif method == "opg":
        cov = np.linalg.inv(opg)
    elif method == "design":
        inv = np.linalg.inv(info)
        cov = inv @ design_middle(scores, weights, strata, psu, population) @ inv
    else:
        inv = np.linalg.inv(info)
        cov = inv @ opg @ inv

    def outputs(t):
        s, blks = probabilities(t, n_classes, n_cats, ordinal)
        cells = np.vstack(blks)
        return np.concatenate([s, np.column_stack([cells, cells @ s]).ravel()])

    jac = fd_jacobian(outputs, theta)
    se = np.sqrt(np.einsum("ip,pq,iq->i", jac, cov, jac))
    return se[:n_classes], se[n_classes:].reshape(-1, n_classes + 1)


def step3_loglik(beta, z, share, d, weights, bch=None):
    """Step-3 log-likelihood of a multinomial logit, in probabilities (not log space).

    ``beta`` (p, K). Without ``bch``: the ML correction's
    sum_i w_i sum_t a_it log sum_s pi_is D[s, t]; with ``bch`` (n, K):
    sum_i w_i sum_s bch_is log pi_is.
    """
    eta = z @ beta
    pi = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
    if bch is not None:
        return float(np.sum(weights * np.sum(bch * np.log(pi), axis=1)))
    prob = pi @ d  # P(assigned t | z_i), in probabilities
    with np.errstate(divide="ignore"):
        terms = np.where(share > 0, share * np.log(prob), 0.0)
    return float(np.sum(weights * terms.sum(axis=1)))


def classification_errors(post, share, weights):
    """D[s, t] = sum_i w_i p_is a_it / sum_i w_i p_is, by loops."""
    k = post.shape[1]
    d = np.zeros((k, k))
    for s in range(k):
        for t in range(k):
            d[s, t] = sum(weights[i] * post[i, s] * share[i, t] for i in range(post.shape[0]))
        d[s] /= sum(weights[i] * post[i, s] for i in range(post.shape[0]))
    return d


def model_standard_errors(model, codes, weights=None, method="hessian", **design):
    """:func:`standard_errors` at a fitted ``lca`` model's estimates, from its rows'
    ``codes`` (``lca.encoding.encode``); ``design``: ``strata``, ``psu`` and
    ``population`` of ``method="design"``."""
    w = np.ones(codes.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    off = model._offsets
    blocks = [model._cond_probs[off[j] : off[j + 1]] for j in range(len(model.indicators_))]
    marginals = []
    for j, block in enumerate(blocks):
        ok = codes[:, j] >= 0
        counts = np.bincount(codes[ok, j], weights=w[ok], minlength=block.shape[0])
        marginals.append(counts / counts.sum())
    return standard_errors(
        codes,
        w,
        model._class_probs,
        blocks,
        list(model._ordinal),
        model.class_bayes_constant_,
        model.bayes_constant_,
        marginals,
        method,
        **design,
    )
