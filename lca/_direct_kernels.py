"""numba kernel of the direct-effects M-step (see :mod:`lca._direct_em`).

:func:`pair_mstep` is :func:`lca._direct_em.pair_mstep` (its NumPy reference,
which the tests compare it with) for one pair's block of the composite
layout, written into the new parameters in place: fill the class tables with
the partly answered pairs' expected counts and the prior, then IPF cycles.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def pair_mstep(counts, log_cond, out, lo, c_a, c_b, prior, cycles, tol):
    """Write pair ``(lo, c_a, c_b)``'s new block of ``out`` (composite layout).

    ``counts`` and ``log_cond`` (rows, K): the E-step's expected counts and the
    current log-parameters; ``prior`` (c_a * c_b,): the joint cells'
    pseudo-counts. A class whose table is empty keeps its estimates.
    """
    n_classes = counts.shape[1]
    n_ab = c_a * c_b
    table = np.zeros((c_a, c_b, n_classes))
    m = np.zeros((c_a, c_b, n_classes))
    totals = np.zeros(n_classes)
    pa = np.zeros(c_a)
    pb = np.zeros(c_b)
    for k in range(n_classes):
        pa[:] = 0.0
        pb[:] = 0.0
        for a in range(c_a):
            for b in range(c_b):
                p = np.exp(log_cond[lo + a * c_b + b, k])
                pa[a] += p
                pb[b] += p
        for a in range(c_a):
            for b in range(c_b):
                r = lo + a * c_b + b
                p = np.exp(log_cond[r, k])
                t = counts[r, k] + prior[a * c_b + b]
                if pa[a] > 0.0:
                    t += counts[lo + n_ab + a, k] * p / pa[a]
                if pb[b] > 0.0:
                    t += counts[lo + n_ab + c_a + b, k] * p / pb[b]
                table[a, b, k] = t
                totals[k] += t
        for a in range(c_a):
            for b in range(c_b):
                m[a, b, k] = np.exp(log_cond[lo + a * c_b + b, k]) * totals[k]
    _ipf(table, m, cycles, tol)
    for k in range(n_classes):
        if not totals[k] > 0.0:
            for r in range(lo, lo + n_ab + c_a + c_b):
                out[r, k] = log_cond[r, k]
            continue
        fitted = 0.0
        for a in range(c_a):
            for b in range(c_b):
                fitted += m[a, b, k]
        for a in range(c_a):
            row = 0.0
            for b in range(c_b):
                out[lo + a * c_b + b, k] = np.log(m[a, b, k] / fitted)
                row += m[a, b, k]
            out[lo + n_ab + a, k] = np.log(row / fitted)
        for b in range(c_b):
            col = 0.0
            for a in range(c_a):
                col += m[a, b, k]
            out[lo + n_ab + c_a + b, k] = np.log(col / fitted)


@njit(cache=True, nogil=True)
def _ipf(table, m, cycles, tol):
    """:func:`lca._direct_em.ipf` in place on ``m``: a x b, class x a, class x b."""
    c_a, c_b, n_classes = table.shape
    t_ab = np.zeros((c_a, c_b))
    t_ka = np.zeros((c_a, n_classes))
    t_kb = np.zeros((c_b, n_classes))
    scale = 0.0
    for a in range(c_a):
        for b in range(c_b):
            for k in range(n_classes):
                v = table[a, b, k]
                t_ab[a, b] += v
                t_ka[a, k] += v
                t_kb[b, k] += v
                scale += v
    scale = max(scale, 1e-300)
    for _ in range(cycles):
        for a in range(c_a):
            for b in range(c_b):
                s = 0.0
                for k in range(n_classes):
                    s += m[a, b, k]
                f = t_ab[a, b] / s if s > 0.0 else 0.0
                for k in range(n_classes):
                    m[a, b, k] *= f
        for k in range(n_classes):
            for a in range(c_a):
                s = 0.0
                for b in range(c_b):
                    s += m[a, b, k]
                f = t_ka[a, k] / s if s > 0.0 else 0.0
                for b in range(c_b):
                    m[a, b, k] *= f
            for b in range(c_b):
                s = 0.0
                for a in range(c_a):
                    s += m[a, b, k]
                f = t_kb[b, k] / s if s > 0.0 else 0.0
                for a in range(c_a):
                    m[a, b, k] *= f
        err = 0.0
        for a in range(c_a):
            for b in range(c_b):
                s = 0.0
                for k in range(n_classes):
                    s += m[a, b, k]
                err = max(err, abs(s - t_ab[a, b]))
        for k in range(n_classes):
            for a in range(c_a):
                s = 0.0
                for b in range(c_b):
                    s += m[a, b, k]
                err = max(err, abs(s - t_ka[a, k]))
        if err <= tol * scale:
            break
