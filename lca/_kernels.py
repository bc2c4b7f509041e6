"""Numba kernels of the latent class model.

Every function here takes plain arrays and scalars. The layout, shared by all
of them:

``patterns``
    int16 array of shape (n_patterns, n_indicators): the category code of each
    distinct answer pattern, ``-1`` where the answer is missing.
``weights``
    float64 array of shape (n_patterns,): summed case weights of each pattern.
``offsets``
    int64 array of shape (n_indicators + 1,): indicator ``j`` owns rows
    ``offsets[j]:offsets[j + 1]`` of the flat category axis.
``log_class``
    float64 array of shape (n_classes,): log class sizes.
``log_cond``
    float64 array of shape (n_categories_total, n_classes): log
    class-conditional probabilities; row ``offsets[j] + c`` holds category
    ``c`` of indicator ``j`` for every class, so one (respondent, indicator)
    pair touches ``n_classes`` contiguous values.

Sums over patterns are made per chunk of patterns (``chunk_size``: it
depends on the number of patterns only) and the chunks are reduced serially
in order, so the serial and the parallel E-step give the same bits for any
number of threads. The E-step itself works on a copy of the
parameters as probabilities in lane groups of four classes (``_lane_tables``,
``pattern_rows``; see ``_estep_chunk``), falling back to log space for any
pattern whose probability could have underflowed. Python calls the kernels
through entry points in which "has ordinal indicators" is a compile-time
constant (``run_em`` and ``mstep`` choose), so that a fit without ordinal
indicators never compiles the ordinal M-step. The threaded loops
(``_estep_parallel`` and the EM step around it, ``_posteriors_parallel``) are
not cached on disk and are called from Python only (``estep``,
``em_map_threads``, ``posteriors``; EM with a threaded E-step is
``lca._em.run_threaded``): numba can crash loading a
cached parallel loop in a later process.

Compile time: numba compiles each jitted function to its own unit and links
its callees' code into it, optimising and emitting the linked code again, so
a chain of thin wrappers costs seconds on a cold cache. The thin wrappers of
the serial EM chain are therefore ``inline="always"``: numba copies their
code into each jitted caller before typing it (under the caller's options,
its error model included), and a call from Python still compiles them as a
cached unit of their own. A function that a threaded or uncached caller must
call as a cached unit has an inlined twin for the serial chain instead
(``inline_twin``). The first fit on a cold cache takes about 25% less time
this way (``benchmarks/README.md``, workload C).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ._simd import add_store4, load4, mul_load4, scale4, store4, sum4

#: Most patterns per chunk of the E-step (and per chunk of posteriors).
CHUNK = 2048
#: Fewest patterns per chunk of the E-step, and the number of chunks it aims at
#: below ``CHUNK * MIN_CHUNKS`` patterns: 10,000 patterns in 5 chunks of 2,048
#: would leave one of 2 threads 3 chunks to the other's 2 (1.67x at best).
MIN_CHUNK = 512
MIN_CHUNKS = 16
#: Floor for log-probabilities inside the SQUAREM extrapolation (exp(-700) ~ 1e-304).
LOG_FLOOR = -700.0


def inline_twin(dispatcher):
    """A second dispatcher of a jitted function, inlined into its callers.

    numba copies an ``inline="always"`` function's code into each jitted
    caller before typing it, so the twin, called from jitted code only, is
    never compiled (or cached) on its own and adds no compiled unit to its
    caller's chain; the original stays a cached unit for the callers that
    should not inline it (a threaded loop, whose parallel passes would go
    over the inlined code, or an uncached function, which would compile it
    again in every process). The inlined code runs under the caller's
    options, so only a function with numba's default error model may have a
    twin (``_estep_chunk`` and ``_posterior_rows`` use NumPy's).
    """
    if dispatcher.targetoptions.get("error_model", "python") != "python":
        raise ValueError(f"{dispatcher.py_func.__name__}: its error model would be lost")
    return njit(nogil=True, inline="always")(dispatcher.py_func)


@njit(cache=True, nogil=True)
def chunk_size(n_patterns):
    """Patterns per chunk of the E-step: a function of the number of patterns only.

    ``n / MIN_CHUNKS`` rounded up, within ``[MIN_CHUNK, CHUNK]``: at least 16
    chunks from 8,192 patterns on (threads share them evenly), at most 2,048
    patterns each (the per-chunk sums stay small next to the work).
    """
    return min(CHUNK, max(MIN_CHUNK, (n_patterns + MIN_CHUNKS - 1) // MIN_CHUNKS))


@njit(cache=True, nogil=True, inline="always")
def _log_joint(i, patterns, offsets, log_class, log_cond, lp):
    """lp[k] = log P_k + sum_j log P(y_ij | k) over answered j; returns max_k lp[k]."""
    n_classes = log_class.shape[0]
    for k in range(n_classes):
        lp[k] = log_class[k]
    for j in range(patterns.shape[1]):
        c = patterns[i, j]
        if c >= 0:
            row = offsets[j] + c
            for k in range(n_classes):
                lp[k] += log_cond[row, k]
    m = lp[0]
    for k in range(1, n_classes):
        if lp[k] > m:
            m = lp[k]
    return m


#: Below this total probability a pattern is computed again in log space: the
#: product of its probabilities might have lost digits to underflow.
PRODUCT_FLOOR = 1e-250
#: Classes per lane group of the E-step (four doubles: one AVX2 register).
LANES = 4


#: Numba's default ("python") error model checks every float division for a
#: zero divisor so that it can raise ZeroDivisionError; the checks cost the
#: serial E-step 15% (the threaded loop never had them: parfors use NumPy's
#: model). The divisors below are never zero (a total over classes is at least
#: PRODUCT_FLOOR, or at least 1 on the log-space path), and NumPy's model gives
#: the same bits.
@njit(cache=True, nogil=True, error_model="numpy")
def _estep_chunk(chunk, data, weights, offsets, log_class, log_cond, tables, sums, ll):
    """E-step sums over one chunk of patterns, written to slot ``chunk``.

    The joint probability of a pattern and a class is a product of
    probabilities: each pattern then costs one logarithm instead of one
    exponential per class. Every factor is at most 1, so the partial
    products only shrink: if the total over classes is at least
    ``PRODUCT_FLOOR``, every class whose product is a normal double is exact
    to rounding and any other has a posterior below 1e-58. A pattern whose
    total is smaller is computed again in log space, so nothing underflows.

    ``data = (patterns, rows)``, ``rows`` from :func:`pattern_rows`.
    ``tables = (class4, cond4)``: classes in groups of ``LANES``
    (``class4[g, l]`` is class ``4 g + l``; padding classes have probability
    0), each group one ``<4 x double>`` vector (``lca._simd``), so every
    loop over the answers is branch-free whatever the number of classes;
    ``cond4`` has the rows of :func:`pattern_rows`. ``sums = (counts4, class_counts4)`` in the same
    layout, one slot per chunk.
    """
    patterns, answer_rows = data
    class4, cond4 = tables
    acc = sums[0][chunk]
    cacc = sums[1][chunk]
    n_patterns, n_indicators = patterns.shape
    n_classes = log_class.shape[0]
    n_groups = class4.shape[0]
    width = n_groups * LANES  # one row of cond4 / acc, flat
    size = chunk_size(n_patterns)
    start = chunk * size
    stop = min(n_patterns, start + size)
    q = np.empty((n_groups, LANES))
    lp = np.empty(n_classes)
    total = 0.0
    for i in range(start, stop):
        w = weights[i]
        if w == 0.0:
            continue
        rows = answer_rows[i]
        s = 0.0
        for g in range(n_groups):
            lane0 = g * LANES
            v = load4(class4, lane0)
            for j in range(n_indicators):
                v = mul_load4(v, cond4, rows[j] * width + lane0)
            store4(q, lane0, v)
            s += sum4(v)
        if s >= PRODUCT_FLOOR:
            total += w * np.log(s)
            scale = w / s
        else:  # the slow and exact way
            m = _log_joint(i, patterns, offsets, log_class, log_cond, lp)
            if m == -np.inf:
                # impossible under every class: the objective is -inf, no sums
                total = -np.inf
                continue
            s = 0.0
            for k in range(n_classes):
                lp[k] = np.exp(lp[k] - m)
                s += lp[k]
            total += w * (m + np.log(s))
            scale = w / s
            for k in range(n_classes):
                q[k // LANES, k % LANES] = lp[k]
        for g in range(n_groups):
            lane0 = g * LANES
            v = scale4(load4(q, lane0), scale)
            add_store4(cacc, lane0, v)
            for j in range(n_indicators):
                add_store4(acc, rows[j] * width + lane0, v)
    ll[chunk] = total


@njit(cache=True, nogil=True, inline="always")
def _estep_chunks_serial(data, weights, offsets, log_class, log_cond, tables, sums, ll):
    for chunk in range(ll.shape[0]):
        _estep_chunk(chunk, data, weights, offsets, log_class, log_cond, tables, sums, ll)


@njit(cache=True, nogil=True)
def pattern_rows(patterns, offsets):
    """Row of every answer in the E-step's lane tables, shape (n_patterns, n_indicators).

    Indicator ``j`` owns rows ``offsets[j] + j .. offsets[j + 1] + j`` there:
    first a row of ones for a missing answer (code -1), then its categories,
    so the row of code ``c`` is ``offsets[j] + j + 1 + c`` with no branch.
    """
    n_patterns, n_indicators = patterns.shape
    rows = np.empty((n_patterns, n_indicators), dtype=np.int32)
    for i in range(n_patterns):
        for j in range(n_indicators):
            rows[i, j] = offsets[j] + j + 1 + patterns[i, j]
    return rows


@njit(cache=True, nogil=True)
def _lane_tables(offsets, log_class, log_cond):
    """``(class4, cond4)`` of ``_estep_chunk`` from the log-parameters."""
    n_indicators = offsets.shape[0] - 1
    n_cat, n_classes = log_cond.shape
    n_groups = (n_classes + LANES - 1) // LANES
    class4 = np.zeros((n_groups, LANES))
    cond4 = np.zeros((n_cat + n_indicators, n_groups, LANES))
    for k in range(n_classes):
        g, lane = k // LANES, k % LANES
        class4[g, lane] = np.exp(log_class[k])
        for j in range(n_indicators):
            cond4[offsets[j] + j, g, lane] = 1.0
            for r in range(offsets[j], offsets[j + 1]):
                cond4[r + j + 1, g, lane] = np.exp(log_cond[r, k])
    return class4, cond4


def estep(patterns, weights, offsets, log_class, log_cond, parallel):
    """Log-likelihood and expected counts at the given parameters.

    Returns
    -------
    loglik : float
        ``sum_i w_i log P(y_i)``.
    counts : ndarray of shape (n_categories_total, n_classes)
        ``sum_i w_i p_ik [y_ij = c]`` over respondents who answered ``j``.
    class_counts : ndarray of shape (n_classes,)
        ``sum_i w_i p_ik``.
    """
    data = (patterns, pattern_rows(patterns, offsets))
    run = _estep_parallel if parallel else _estep
    return run(data, weights, offsets, log_class, log_cond)


# Not cached, and called from Python only: a parallel=True function cached on
# disk, or called from a cached function, can crash numba when it is loaded
# in a later process (numba issues #8578 and #10128). It compiles once per
# process instead (a few seconds, the first time a fit uses threads).
@njit(parallel=True)
def _estep_parallel(data, weights, offsets, log_class, log_cond):
    """``_estep`` with the chunks on numba's threads; the same bits."""
    tables, sums, ll_c = _estep_setup(data[0].shape[0], offsets, log_class, log_cond)
    for chunk in prange(ll_c.shape[0]):
        _estep_chunk(chunk, data, weights, offsets, log_class, log_cond, tables, sums, ll_c)
    return _estep_reduce(offsets, log_cond.shape[1], sums, ll_c)


def em_map_threads(data, weights, offsets, log_class, log_cond, priors, ordinal):
    """One EM step with the E-step on numba's threads: ``_em_map``'s results and bits.

    ``(objective, loglik, log_class, log_cond)`` at the next point, in one
    call from Python (EM with a threaded E-step, ``lca._em.run_threaded``,
    makes one call per E-step, not one for each of its parts).
    """
    run = _em_map_threads_ordinal if ordinal.any() else _em_map_threads_nominal
    return run(data, weights, offsets, log_class, log_cond, priors, ordinal)


# Not cached (they call the parallel loop), compiled on first use in a process.
@njit
def _em_map_threads_ordinal(data, weights, offsets, log_class, log_cond, priors, ordinal):
    return _em_map_with(_estep_parallel(data, weights, offsets, log_class, log_cond),
                        offsets, log_class, log_cond, priors, ordinal, True)  # fmt: skip


@njit
def _em_map_threads_nominal(data, weights, offsets, log_class, log_cond, priors, ordinal):
    return _em_map_with(_estep_parallel(data, weights, offsets, log_class, log_cond),
                        offsets, log_class, log_cond, priors, ordinal, False)  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _estep(data, weights, offsets, log_class, log_cond):
    """``estep`` on one thread, with the pattern rows already computed (``data = (patterns,
    rows)``)."""
    tables, sums, ll_c = _estep_setup_inline(data[0].shape[0], offsets, log_class, log_cond)
    _estep_chunks_serial(data, weights, offsets, log_class, log_cond, tables, sums, ll_c)
    return _estep_reduce_inline(offsets, log_cond.shape[1], sums, ll_c)


@njit(cache=True, nogil=True)
def _estep_setup(n_patterns, offsets, log_class, log_cond):
    """Lane tables and zeroed per-chunk sums of ``_estep_chunk``."""
    n_indicators = offsets.shape[0] - 1
    n_cat = log_cond.shape[0]
    size = chunk_size(n_patterns)
    n_chunks = max(1, (n_patterns + size - 1) // size)
    tables = _lane_tables(offsets, log_class, log_cond)
    n_groups = tables[0].shape[0]
    sums = (
        np.zeros((n_chunks, n_cat + n_indicators, n_groups, LANES)),
        np.zeros((n_chunks, n_groups, LANES)),
    )
    return tables, sums, np.zeros(n_chunks)


@njit(cache=True, nogil=True)
def _estep_reduce(offsets, n_classes, sums, ll_c):
    """Per-chunk sums added in chunk order: the same bits for any number of threads."""
    n_indicators = offsets.shape[0] - 1
    n_cat = offsets[-1]
    counts = np.zeros((n_cat, n_classes))
    class_counts = np.zeros(n_classes)
    loglik = 0.0
    for chunk in range(ll_c.shape[0]):
        for j in range(n_indicators):
            for r in range(offsets[j], offsets[j + 1]):
                for k in range(n_classes):
                    counts[r, k] += sums[0][chunk, r + j + 1, k // LANES, k % LANES]
        for k in range(n_classes):
            class_counts[k] += sums[1][chunk, k // LANES, k % LANES]
        loglik += ll_c[chunk]
    return loglik, counts, class_counts


# the serial E-step inlines them; the threaded one calls the cached units
_estep_setup_inline = inline_twin(_estep_setup)
_estep_reduce_inline = inline_twin(_estep_reduce)


#: Newton iterations and step tolerance of the ordinal M-step.
ORDINAL_MAX_NEWTON = 100
ORDINAL_STEP_TOL = 1e-11
#: Largest change of one ordinal parameter (a logit) in one Newton step.
ORDINAL_MAX_STEP = 5.0
#: Tries of ever stronger damping before a Newton iteration gives up.
ORDINAL_MAX_DAMPING = 40


@njit(cache=True, nogil=True)
def _ordinal_objective(m, a, b, log_p):
    """sum_kc m_kc log P(c|k) for log P(c|k) = a_c + b_k c - log-normaliser; fills log_p."""
    n_cat, n_classes = m.shape
    total = 0.0
    for k in range(n_classes):
        mx = -np.inf
        for c in range(n_cat):
            eta = a[c] + b[k] * c
            log_p[c, k] = eta
            if eta > mx:
                mx = eta
        s = 0.0
        for c in range(n_cat):
            s += np.exp(log_p[c, k] - mx)
        norm = mx + np.log(s)
        for c in range(n_cat):
            log_p[c, k] -= norm
            if m[c, k] > 0.0:
                total += m[c, k] * log_p[c, k]
    return total


@njit(cache=True, nogil=True)
def _solve_spd(a, b):
    """Solve a x = b for a small symmetric positive definite ``a`` (Cholesky).

    Written out because numba's LAPACK binding for ``np.linalg.solve`` adds
    over ten seconds to the first compilation, for matrices of size ~10 here.
    """
    n = a.shape[0]
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = a[i, j]
            for t in range(j):
                s -= low[i, t] * low[j, t]
            if i == j:
                low[i, i] = np.sqrt(s) if s > 0.0 else 1e-150
            else:
                low[i, j] = s / low[j, j]
    y = np.empty(n)
    for i in range(n):
        s = b[i]
        for t in range(i):
            s -= low[i, t] * y[t]
        y[i] = s / low[i, i]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        s = y[i]
        for t in range(i + 1, n):
            s -= low[t, i] * x[t]
        x[i] = s / low[i, i]
    return x


@njit(cache=True, nogil=True)
def ordinal_mstep(m, prev_log):
    """M-step of one ordinal indicator (Latent GOLD's ordinal scale type).

    Adjacent-category logit with equidistant scores 0..C-1:
    log P(c|k) = a_c + b_k c - log sum_c' exp(a_c' + b_k c'), identified by
    a_0 = 0 and b_0 = 0, so (C - 1) + (K - 1) free parameters. Maximises
    sum_kc m_kc log P(c|k) (``m`` = expected counts plus the Bayes-constant
    pseudo-counts, shape (C, K)) by damped Newton steps (Levenberg-Marquardt,
    each at most ``ORDINAL_MAX_STEP`` long), from the parameters implied by
    ``prev_log``. A step is kept only if it does not lower the objective
    (which is concave).

    Returns the new log-probabilities, shape (C, K).
    """
    n_cat, n_classes = m.shape
    a = np.zeros(n_cat)
    b = np.zeros(n_classes)
    for c in range(1, n_cat):
        a[c] = prev_log[c, 0] - prev_log[0, 0]
    if n_cat > 1:
        for k in range(1, n_classes):
            b[k] = (prev_log[1, k] - prev_log[0, k]) - a[1]
    for c in range(n_cat):  # guard against -inf from a zero probability
        if not np.isfinite(a[c]):
            a[c] = 0.0
    for k in range(n_classes):
        if not np.isfinite(b[k]):
            b[k] = 0.0
    log_p = np.empty((n_cat, n_classes))
    trial = np.empty((n_cat, n_classes))
    if n_cat == 1:
        for k in range(n_classes):
            log_p[0, k] = 0.0
        return log_p
    n_k = np.zeros(n_classes)
    for c in range(n_cat):
        for k in range(n_classes):
            n_k[k] += m[c, k]
    dim = (n_cat - 1) + (n_classes - 1)
    f = _ordinal_objective(m, a, b, log_p)
    lam = 0.0
    for _ in range(ORDINAL_MAX_NEWTON):
        grad = np.zeros(dim)
        hess = np.zeros((dim, dim))  # minus the Hessian (positive definite)
        for k in range(n_classes):
            mu = 0.0
            for c in range(n_cat):
                mu += c * np.exp(log_p[c, k])
            for c in range(1, n_cat):
                p_c = np.exp(log_p[c, k])
                r = m[c, k] - n_k[k] * p_c
                grad[c - 1] += r
                if k > 0:
                    grad[n_cat - 2 + k] += c * r
                for c2 in range(1, n_cat):
                    p_c2 = np.exp(log_p[c2, k])
                    v = -n_k[k] * p_c * p_c2
                    if c2 == c:
                        v += n_k[k] * p_c
                    hess[c - 1, c2 - 1] += v
                if k > 0:
                    v = n_k[k] * p_c * (c - mu)
                    hess[c - 1, n_cat - 2 + k] += v
                    hess[n_cat - 2 + k, c - 1] += v
            if k > 0:
                var = 0.0
                for c in range(n_cat):
                    var += (c - mu) * (c - mu) * np.exp(log_p[c, k])
                hess[n_cat - 2 + k, n_cat - 2 + k] += n_k[k] * var
        # Levenberg-Marquardt: Newton's step, damped by ``lam`` (grown tenfold
        # after a step that lowers the objective, shrunk after one that does
        # not) and at most ORDINAL_MAX_STEP long. Near a saturated class
        # (P close to 1) the Hessian is nearly singular and the plain Newton
        # step is enormous; damping turns it into a gradient step instead.
        accepted = False
        size = 0.0
        for _ in range(ORDINAL_MAX_DAMPING):
            damped = hess.copy()
            for d in range(dim):
                damped[d, d] += (1e-10 + lam) * (1.0 + hess[d, d])
            step = _solve_spd(damped, grad)
            size = np.max(np.abs(step))
            if size > ORDINAL_MAX_STEP:
                for d in range(dim):
                    step[d] *= ORDINAL_MAX_STEP / size
                size = ORDINAL_MAX_STEP
            a_new = a.copy()
            b_new = b.copy()
            for c in range(1, n_cat):
                a_new[c] += step[c - 1]
            for k in range(1, n_classes):
                b_new[k] += step[n_cat - 2 + k]
            f_new = _ordinal_objective(m, a_new, b_new, trial)
            if f_new >= f:
                a, b, f = a_new, b_new, f_new
                log_p, trial = trial, log_p
                accepted = True
                lam *= 0.1
                break
            lam = max(10.0 * lam, 1e-8)
        if not accepted or size < ORDINAL_STEP_TOL:
            break
    return log_p


def mstep(counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal):
    """Posterior-mode (Bayes constants) or maximum-likelihood M-step.

    ``class_prior`` is ``a / K`` and ``cond_prior[offsets[j] + c]`` is
    ``(b / K) f_jc``; with both zero this is plain maximum likelihood. A class
    that received no weight for a nominal indicator keeps its previous
    probabilities (they do not enter the likelihood). Indicators flagged in
    ``ordinal`` (shape (n_indicators,)) get the ordinal M-step.
    """
    run = _mstep_ordinal if ordinal.any() else _mstep_nominal
    return run(counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal)


@njit(cache=True, nogil=True)
def _mstep_ordinal(counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal):
    return _mstep(
        counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal, True
    )


@njit(cache=True, nogil=True)
def _mstep_nominal(counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal):
    return _mstep(
        counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal, False
    )


def _ordinal_block(m, prev_log_cond, with_ordinal):
    """The ordinal M-step of one indicator (numba only; see the overload below)."""
    raise NotImplementedError("called from numba only")


@overload(_ordinal_block, prefer_literal=True)
def _ordinal_block_overload(m, prev_log_cond, with_ordinal):
    """With a literal False the ordinal M-step is not compiled at all.

    A model without ordinal indicators runs the ``*_nominal`` EM entry
    points, whose first compilation then skips the Newton solver (seconds).
    """
    if isinstance(with_ordinal, types.BooleanLiteral) and with_ordinal.literal_value:

        def ordinal(m, prev_log_cond, with_ordinal):
            return ordinal_mstep(m, prev_log_cond)

        return ordinal
    if isinstance(with_ordinal, types.BooleanLiteral):  # False

        def nominal_only(m, prev_log_cond, with_ordinal):
            if m.shape[0] > 0:  # run_em chooses the entry point: never reached
                raise ValueError("an ordinal indicator reached the nominal-only EM entry point")
            return np.empty((m.shape[0], m.shape[1]))  # gives the function its type

        return nominal_only
    return None  # with_ordinal must be a constant


@njit(cache=True, nogil=True, inline="always")
def _mstep(
    counts, class_counts, offsets, class_prior, cond_prior, prev_log_cond, ordinal, with_ordinal
):
    """``mstep``; ``with_ordinal`` (a constant) False compiles no ordinal M-step."""
    n_cat, n_classes = counts.shape
    n_indicators = offsets.shape[0] - 1
    log_class = np.empty(n_classes)
    denom = 0.0
    for k in range(n_classes):
        denom += class_counts[k] + class_prior
    for k in range(n_classes):
        log_class[k] = np.log((class_counts[k] + class_prior) / denom)
    log_cond = np.empty((n_cat, n_classes))
    for j in range(n_indicators):
        lo = offsets[j]
        hi = offsets[j + 1]
        if ordinal[j]:
            m = np.empty((hi - lo, n_classes))
            for r in range(lo, hi):
                for k in range(n_classes):
                    m[r - lo, k] = counts[r, k] + cond_prior[r]
            block = _ordinal_block(m, prev_log_cond[lo:hi], with_ordinal)
            for r in range(lo, hi):
                for k in range(n_classes):
                    log_cond[r, k] = block[r - lo, k]
            continue
        for k in range(n_classes):
            tot = 0.0
            for r in range(lo, hi):
                tot += counts[r, k] + cond_prior[r]
            if tot > 0.0:
                for r in range(lo, hi):
                    log_cond[r, k] = np.log((counts[r, k] + cond_prior[r]) / tot)
            else:
                for r in range(lo, hi):
                    log_cond[r, k] = prev_log_cond[r, k]
    return log_class, log_cond


@njit(cache=True, nogil=True)
def log_prior(log_class, log_cond, class_prior, cond_prior):
    """Log of the Dirichlet priors (Bayes constants), up to their constants."""
    total = 0.0
    if class_prior > 0.0:
        for k in range(log_class.shape[0]):
            total += class_prior * log_class[k]
    n_cat, n_classes = log_cond.shape
    for r in range(n_cat):
        if cond_prior[r] > 0.0:
            for k in range(n_classes):
                total += cond_prior[r] * log_cond[r, k]
    return total


@njit(cache=True, nogil=True)
def _normalise_blocks(log_class, log_cond, offsets):
    """Renormalise log-probabilities in place (log-sum-exp per block)."""
    m = log_class.max()
    s = 0.0
    for k in range(log_class.shape[0]):
        s += np.exp(log_class[k] - m)
    norm = m + np.log(s)
    for k in range(log_class.shape[0]):
        log_class[k] -= norm
    n_classes = log_cond.shape[1]
    for j in range(offsets.shape[0] - 1):
        for k in range(n_classes):
            m = log_cond[offsets[j], k]
            for r in range(offsets[j] + 1, offsets[j + 1]):
                if log_cond[r, k] > m:
                    m = log_cond[r, k]
            s = 0.0
            for r in range(offsets[j], offsets[j + 1]):
                s += np.exp(log_cond[r, k] - m)
            norm = m + np.log(s)
            for r in range(offsets[j], offsets[j + 1]):
                log_cond[r, k] -= norm


#: Growth (and shrink) factor of SQUAREM's bound on the step length.
STEP_GROWTH = 2.0


@njit(cache=True, nogil=True, inline="always")
def _squarem_norms(c0, c1, c2, p0, p1, p2):
    """||r||^2 and ||v||^2 of SQUAREM (r = x1 - x0, v = x2 - 2 x1 + x0) in the Fisher metric.

    The log-parameters are floored at ``LOG_FLOOR``. Each squared difference
    is weighted by the Fisher information of its log-parameter per
    respondent at ``x1``: ``P_k`` for a log class size, ``P_k P(c | k)`` for
    a log conditional probability. A probability on its way to zero moves its
    logarithm by a steady amount each step (large ``r``, small ``v``), which
    would make the unweighted step length ``|r| / |v|`` far too long for the
    parameters that matter; it carries almost no information, so its weight
    is almost zero.
    """
    out = np.zeros(2)
    n_classes = c0.shape[0]
    for k in range(n_classes):
        a = max(c0[k], LOG_FLOOR)
        b = max(c1[k], LOG_FLOOR)
        c = max(c2[k], LOG_FLOOR)
        w = np.exp(b)
        r = b - a
        v = c - 2.0 * b + a
        out[0] += w * r * r
        out[1] += w * v * v
    for row in range(p0.shape[0]):
        for k in range(n_classes):
            a = max(p0[row, k], LOG_FLOOR)
            b = max(p1[row, k], LOG_FLOOR)
            c = max(p2[row, k], LOG_FLOOR)
            w = np.exp(max(c1[k], LOG_FLOOR) + b)
            r = b - a
            v = c - 2.0 * b + a
            out[0] += w * r * r
            out[1] += w * v * v
    return out


@njit(cache=True, nogil=True, inline="always")
def _squarem_step(c0, c1, c2, p0, p1, p2, step_max):
    """SQUAREM's step length (scheme S3) within ``[-step_max, -1]``; 0.0 if undefined."""
    r2 = _squarem_norms(c0, c1, c2, p0, p1, p2)
    if r2[1] <= 0.0 or r2[0] <= 0.0:
        return 0.0
    alpha = -np.sqrt(r2[0] / r2[1])
    if alpha > -1.0:
        alpha = -1.0
    if alpha < -step_max:
        alpha = -step_max
    return alpha


@njit(cache=True, nogil=True, inline="always")
def _squarem_point(c0, c1, c2, p0, p1, p2, alpha, offsets):
    """The extrapolated point ``x0 - 2 alpha r + alpha^2 v``, renormalised."""
    xc = _extrapolate(c0, c1, c2, alpha)
    xp = _extrapolate(p0.ravel(), p1.ravel(), p2.ravel(), alpha).reshape(p0.shape)
    _normalise_blocks(xc, xp, offsets)
    return xc, xp


@njit(cache=True, nogil=True)
def _extrapolate(x0, x1, x2, alpha):
    """x0 - 2 alpha r + alpha^2 v, with logs floored at LOG_FLOOR."""
    out = np.empty(x0.shape[0])
    for t in range(x0.shape[0]):
        a = max(x0[t], LOG_FLOOR)
        b = max(x1[t], LOG_FLOOR)
        c = max(x2[t], LOG_FLOOR)
        out[t] = a - 2.0 * alpha * (b - a) + alpha * alpha * (c - 2.0 * b + a)
    return out


@njit(cache=True, nogil=True)
def _em_map(data, weights, offsets, log_class, log_cond, priors, ordinal, with_ordinal):
    """One EM step from the given point: its objective and the next point.

    ``priors = (class_prior, cond_prior)``; ``with_ordinal`` is a
    compile-time constant (see ``run_em``).
    """
    sums = _estep(data, weights, offsets, log_class, log_cond)
    return _em_map_with_inline(sums, offsets, log_class, log_cond, priors, ordinal, with_ordinal)


@njit(cache=True, nogil=True)
def _em_map_with(sums, offsets, log_class, log_cond, priors, ordinal, with_ordinal):
    """``_em_map`` from the E-step's ``(loglik, counts, class_counts)`` at the point."""
    ll, counts, class_counts = sums
    class_prior, cond_prior = priors
    objective = ll + log_prior(log_class, log_cond, class_prior, cond_prior)
    new_class, new_cond = _mstep(
        counts, class_counts, offsets, class_prior, cond_prior, log_cond, ordinal, with_ordinal
    )
    return objective, ll, new_class, new_cond


_em_map_with_inline = inline_twin(_em_map_with)


def run_em(
    patterns,
    rows,
    weights,
    offsets,
    log_class,
    log_cond,
    class_prior,
    cond_prior,
    ordinal,
    max_iter,
    tol,
    accelerate,
):
    """EM from one starting point on one thread; see ``_run_em``.

    A plain Python function: it calls one of two entry points, in each of
    which "has ordinal indicators" is a compile-time constant, so a fit
    without ordinal indicators never compiles the ordinal M-step (seconds of
    compilation). EM with a threaded E-step is ``lca._em.run_threaded``
    (the same steps and bits, driven from Python, so that no cached function
    holds a parallel loop).
    """
    args = (patterns, rows, weights, offsets, log_class, log_cond, class_prior, cond_prior,
            ordinal, max_iter, tol, accelerate)  # fmt: skip
    return (_run_em_ordinal if ordinal.any() else _run_em_nominal)(args)


@njit(cache=True, nogil=True)
def _run_em_ordinal(args):
    return _run_em(args, True)


@njit(cache=True, nogil=True)
def _run_em_nominal(args):
    return _run_em(args, False)


@njit(cache=True, nogil=True, inline="always")
def _run_em(args, with_ordinal):
    """EM (optionally SQUAREM-accelerated) from one starting point.

    The objective is the log-posterior (log-likelihood plus log-prior; the
    log-likelihood alone when both priors are zero). Convergence: one plain EM
    step from the current point raises the objective by less than
    ``tol * |objective|``. SQUAREM (Varadhan & Roland 2008, scheme S3) is
    applied to the log-parameters, with its step length measured in the
    Fisher metric (``_squarem_norms``) and bounded by ``step_max``, which
    doubles after an accepted step at the bound and halves after a rejected
    one. An extrapolated point is kept only if its objective is at least that
    of the EM step it replaces; a rejected one is retried once halfway to the
    plain EM point, then EM goes on from the plain point two steps on (with
    no E-step left for that point, the run ends at the plain point one step
    on). So the sequence of accepted objectives never decreases, no run
    evaluates more than ``max_iter`` E-steps, and the E-steps of a run are
    the first ones of any run with a larger ``max_iter`` from the same start,
    which therefore never ends lower. A linear combination of ordinal
    log-probabilities, renormalised, is again ordinal, so extrapolation keeps
    ordinal indicators in their model. ``args`` holds the arguments of
    :func:`run_em`; ``rows`` is ``pattern_rows(patterns, offsets)``,
    computed once by the caller for all its starts. ``with_ordinal`` is a
    constant (see :func:`run_em`).

    Returns
    -------
    log_class, log_cond : ndarrays
        Parameters at the last accepted point.
    objective, loglik : float
        At those parameters.
    n_iter : int
        Number of E-steps evaluated (each is one EM iteration's work).
    converged : bool
    """
    (patterns, rows, weights, offsets, log_class, log_cond, class_prior, cond_prior, ordinal,
     max_iter, tol, accelerate) = args  # fmt: skip
    data = (patterns, rows)
    priors = (class_prior, cond_prior)
    n_iter = 1
    obj0, ll0, c1, p1 = _em_map(
        data, weights, offsets, log_class, log_cond, priors, ordinal, with_ordinal
    )
    c0 = log_class.copy()
    p0 = log_cond.copy()
    converged = False
    step_max = 1.0
    while n_iter < max_iter:
        obj1, ll1, c2, p2 = _em_map(data, weights, offsets, c1, p1, priors, ordinal, with_ordinal)
        n_iter += 1
        if obj1 - obj0 <= tol * abs(obj0):
            # a plain EM step no longer moves the objective: keep the better point
            if obj1 >= obj0:
                c0, p0, obj0, ll0 = c1, p1, obj1, ll1
            converged = True
            break
        alpha = 0.0
        if accelerate and n_iter < max_iter:
            alpha = _squarem_step(c0, c1, c2, p0, p1, p2, step_max)
        if alpha == 0.0:
            c0, p0, obj0, ll0 = c1, p1, obj1, ll1
            c1, p1 = c2, p2
            continue
        # SQUAREM extrapolation in log space
        xc, xp = _squarem_point(c0, c1, c2, p0, p1, p2, alpha, offsets)
        objx, llx, cx1, px1 = _em_map(data, weights, offsets, xc, xp, priors, ordinal, with_ordinal)
        n_iter += 1
        accepted = np.isfinite(objx) and objx >= obj1
        if not accepted and alpha < -1.0 and n_iter < max_iter:
            # one step back, halfway to the plain EM point (alpha = -1)
            alpha = 0.5 * (alpha - 1.0)
            xc, xp = _squarem_point(c0, c1, c2, p0, p1, p2, alpha, offsets)
            objx, llx, cx1, px1 = _em_map(
                data, weights, offsets, xc, xp, priors, ordinal, with_ordinal
            )
            n_iter += 1
            accepted = np.isfinite(objx) and objx >= obj1
            if accepted:
                step_max = -alpha
        if accepted:
            if alpha == -step_max:
                step_max *= STEP_GROWTH
            c0, p0, obj0, ll0 = xc, xp, objx, llx
            c1, p1 = cx1, px1
        else:
            step_max = max(1.0, step_max / STEP_GROWTH)
            if n_iter >= max_iter:
                # no E-step left for the plain EM point two steps on: end at the
                # one a step on (evaluating the other would go over the budget,
                # and a longer run never evaluates it, so could end lower)
                c0, p0, obj0, ll0 = c1, p1, obj1, ll1
                break
            # fall back to the plain EM point two steps on
            c0, p0 = c2, p2
            obj0, ll0, c1, p1 = _em_map(
                data, weights, offsets, c0, p0, priors, ordinal, with_ordinal
            )
            n_iter += 1
    return c0, p0, obj0, ll0, n_iter, converged


@njit(cache=True, nogil=True, error_model="numpy")  # s >= 1: see _estep_chunk
def _posterior_rows(start, stop, patterns, offsets, log_class, log_cond, post, ll):
    n_classes = log_class.shape[0]
    lp = np.empty(n_classes)
    for i in range(start, stop):
        m = _log_joint(i, patterns, offsets, log_class, log_cond, lp)
        if m == -np.inf:
            # impossible under every class (zero probabilities from a
            # maximum-likelihood fit): report the class sizes as posterior
            for k in range(n_classes):
                post[i, k] = np.exp(log_class[k])
            ll[i] = -np.inf
            continue
        s = 0.0
        for k in range(n_classes):
            lp[k] = np.exp(lp[k] - m)
            s += lp[k]
        for k in range(n_classes):
            post[i, k] = lp[k] / s
        ll[i] = m + np.log(s)


# Not cached, called from Python only: see ``_estep_parallel``.
@njit(parallel=True)
def _posteriors_parallel(patterns, offsets, log_class, log_cond, post, ll):
    n = patterns.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    for chunk in prange(n_chunks):
        _posterior_rows(
            chunk * CHUNK,
            min(n, (chunk + 1) * CHUNK),
            patterns,
            offsets,
            log_class,
            log_cond,
            post,
            ll,
        )


def posteriors(patterns, offsets, log_class, log_cond, parallel):
    """Posterior class probabilities and log-likelihood of each pattern.

    Returns
    -------
    post : ndarray of shape (n_patterns, n_classes)
    loglik : ndarray of shape (n_patterns,)
        ``-inf`` for a pattern impossible under every class; its posterior is
        then the class sizes.
    """
    n = patterns.shape[0]
    post = np.empty((n, log_class.shape[0]))
    ll = np.empty(n)
    run = _posteriors_parallel if parallel else _posteriors_serial
    run(patterns, offsets, log_class, log_cond, post, ll)
    return post, ll


@njit(cache=True, nogil=True)
def _posteriors_serial(patterns, offsets, log_class, log_cond, post, ll):
    _posterior_rows(0, patterns.shape[0], patterns, offsets, log_class, log_cond, post, ll)


@njit(cache=True, nogil=True)
def class_loglik(patterns, offsets, log_cond):
    """``log P(y_p | k)`` of every answer pattern and class, (P, K): the sum of the
    answered indicators' log-probabilities (a code < 0 is a missing answer). The
    latent class regression's E-step, where every respondent has class sizes of its
    own (see ``lca._regression_em.pattern_loglik``, its NumPy reference)."""
    n_patterns, n_indicators = patterns.shape
    n_classes = log_cond.shape[1]
    out = np.zeros((n_patterns, n_classes))
    for p in range(n_patterns):
        for j in range(n_indicators):
            y = patterns[p, j]
            if y >= 0:
                r = offsets[j] + y
                for k in range(n_classes):
                    out[p, k] += log_cond[r, k]
    return out


@njit(cache=True, nogil=True)
def class_counts(patterns, offsets, pattern_post, n_categories):
    """``sum_p W_pk [y_pj = c]`` for every category (flat axis) and class, (C, K): the
    expected counts from the patterns' summed posteriors ``W`` (P, K); a code < 0 is a
    missing answer (see ``lca._regression_em.pattern_counts``, its NumPy reference)."""
    n_patterns, n_indicators = patterns.shape
    n_classes = pattern_post.shape[1]
    out = np.zeros((n_categories, n_classes))
    for p in range(n_patterns):
        for j in range(n_indicators):
            y = patterns[p, j]
            if y >= 0:
                r = offsets[j] + y
                for k in range(n_classes):
                    out[r, k] += pattern_post[p, k]
    return out


@njit(cache=True, nogil=True)
def log_softmax_rows(eta):
    """Each row's log-softmax, ``eta_ik - log sum_l exp(eta_il)`` (see
    ``lca._regression_em.log_softmax_rows``, its NumPy reference)."""
    n, n_classes = eta.shape
    out = np.empty((n, n_classes))
    for i in range(n):
        top = eta[i, 0]
        for k in range(1, n_classes):
            if eta[i, k] > top:
                top = eta[i, k]
        s = 0.0
        for k in range(n_classes):
            s += np.exp(eta[i, k] - top)
        norm = top + np.log(s)
        for k in range(n_classes):
            out[i, k] = eta[i, k] - norm
    return out


@njit(cache=True, nogil=True)
def regression_estep(log_pi, class_ll, inverse, weights):
    """The latent class regression's E-step: each row's posteriors and log-likelihood
    from its class probabilities ``log_pi`` (n, K) and its pattern's ``class_ll``
    (:func:`class_loglik`; row i has pattern ``inverse[i]``), and the weighted
    posteriors summed by pattern, (P, K). A row impossible in every class gets
    log-likelihood -inf and its class probabilities as posterior."""
    n, n_classes = log_pi.shape
    post = np.empty((n, n_classes))
    row_ll = np.empty(n)
    pattern_post = np.zeros((class_ll.shape[0], n_classes))
    for i in range(n):
        p = inverse[i]
        top = -np.inf
        for k in range(n_classes):
            v = log_pi[i, k] + class_ll[p, k]
            post[i, k] = v
            if v > top:
                top = v
        if top == -np.inf:
            row_ll[i] = -np.inf
            for k in range(n_classes):
                post[i, k] = np.exp(log_pi[i, k])
        else:
            s = 0.0
            for k in range(n_classes):
                e = np.exp(post[i, k] - top)
                post[i, k] = e
                s += e
            row_ll[i] = top + np.log(s)
            for k in range(n_classes):
                post[i, k] /= s
        for k in range(n_classes):
            pattern_post[p, k] += weights[i] * post[i, k]
    return post, row_ll, pattern_post
