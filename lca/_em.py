"""The multi-start EM search: random starts, burn-in, finishing the best few.

Strategy (Latent GOLD's "sets x iterations", Mplus' ``STARTS = n m``): every
random start runs ``burn_in`` EM iterations; the ``n_final`` best continue to
convergence; the best of those is kept. Starting values for all starts are
drawn up front from one generator, and starts are independent, so the result
is the same whether they run one after the other or side by side.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np

from . import _kernels

#: Distinct patterns from which one fit uses numba's threads inside the E-step
#: instead of running starts side by side.
PARALLEL_MIN_PATTERNS = 20_000

#: Two objectives within this relative distance are "the same maximum".
SAME_OPTIMUM_RTOL = 1e-6


@dataclass
class EMResult:
    log_class: np.ndarray
    log_cond: np.ndarray
    objective: float
    loglik: float
    n_iter: int
    converged: bool
    final_objectives: np.ndarray
    n_starts_at_best: int
    best_start: int


@contextmanager
def numba_threads(n_jobs: int):
    """Let numba's parallel kernels use ``n_jobs`` threads, and restore the setting after."""
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n_jobs, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def effective_n_jobs(n_jobs) -> int:
    """joblib's number of workers for ``n_jobs`` (-1: all cores), 1 without importing it.

    joblib takes 0.06-0.2 s to import, a noticeable part of a first small fit
    with a warm numba cache; the default ``n_jobs=1`` does not need it.
    """
    if n_jobs == 1:
        return 1
    from joblib import effective_n_jobs

    return effective_n_jobs(n_jobs)


def random_start(rng: np.random.Generator, n_classes: int, offsets: np.ndarray, ordinal=None):
    """Equal class sizes and class-conditional probabilities from Dirichlet(1).

    An ordinal indicator starts inside its model: intercepts from one
    Dirichlet draw and class effects b_k ~ Normal(0, 1) / (C - 1).
    """
    n_cat = int(offsets[-1])
    log_class = np.full(n_classes, -np.log(n_classes))
    log_cond = np.empty((n_cat, n_classes))
    for j in range(len(offsets) - 1):
        lo, hi = offsets[j], offsets[j + 1]
        if ordinal is not None and ordinal[j] and hi - lo > 1:
            a = np.log(np.maximum(rng.dirichlet(np.ones(hi - lo)), 1e-300))
            b = rng.normal(size=n_classes) / (hi - lo - 1)
            eta = a[:, None] + np.arange(hi - lo)[:, None] * b[None, :]
            log_cond[lo:hi] = eta - np.logaddexp.reduce(eta, axis=0)
            continue
        draws = rng.dirichlet(np.ones(hi - lo), size=n_classes).T
        log_cond[lo:hi] = np.log(np.maximum(draws, 1e-300))
    return log_class, log_cond


#: Standard deviation, on the logit scale, of the perturbation that makes the
#: two halves of a split class different (see :func:`split_starts`).
SPLIT_SCALE = 0.5


def split_starts(
    log_class: np.ndarray,
    log_cond: np.ndarray,
    offsets: np.ndarray,
    ordinal: np.ndarray,
    rng: np.random.Generator,
    scale: float = SPLIT_SCALE,
) -> list:
    """Starts for K classes from a (K-1)-class solution: one per class, split in two.

    Start ``c`` copies class ``c`` into a new class K, gives each half the
    size P_c / 2, and moves the two halves' log-probabilities apart by
    ``+z`` and ``-z`` (z ~ Normal(0, scale^2) per category; for an ordinal
    indicator z is a class effect delta * score with delta ~ Normal(0,
    scale^2 / (C-1)^2), so the halves stay in the adjacent-category logit
    model). This is the divisive idea of split-and-merge EM (Ueda et al.
    2000) and divisive LCA (van der Palm, van der Ark & Vermunt 2016): the
    K-class maximum is often the (K-1)-class one with one class divided,
    which random starts find by chance only.
    """
    n_old = log_class.shape[0]
    n_cat = log_cond.shape[0]
    out = []
    for c in range(n_old):
        new_class = np.append(log_class, log_class[c] - np.log(2.0))
        new_class[c] -= np.log(2.0)
        z = np.empty(n_cat)
        for j in range(len(offsets) - 1):
            lo, hi = int(offsets[j]), int(offsets[j + 1])
            if ordinal[j] and hi - lo > 1:
                z[lo:hi] = rng.normal() * scale / (hi - lo - 1) * np.arange(hi - lo)
            else:
                z[lo:hi] = rng.normal(size=hi - lo) * scale
        new_cond = np.concatenate([log_cond, log_cond[:, c : c + 1] - z[:, None]], axis=1)
        new_cond[:, c] += z
        for j in range(len(offsets) - 1):
            lo, hi = int(offsets[j]), int(offsets[j + 1])
            block = new_cond[lo:hi, [c, n_old]]
            new_cond[lo:hi, [c, n_old]] = block - np.logaddexp.reduce(block, axis=0)
        out.append((new_class, new_cond))
    return out


#: The new class of a pattern start (see :func:`pattern_starts`): its share of
#: the respondents, and the probability it gives each answer of its seed pattern.
PATTERN_SHARE = 0.01
PATTERN_PEAK = 0.7


def worst_patterns(patterns, weights, ll, total, n) -> tuple:
    """Up to ``n`` patterns seen more often than a model expects, worst fitted first.

    The key is the Pearson residual ``(w - E) / sqrt(E)``, ``E = total *
    P(y)`` (``ll`` = log P(y) of each pattern); ties go in
    lexicographic pattern order, the order of a pattern table, so a table
    split into parts (Dask) ranks alike. Returns ``(indices, residuals)``.
    """
    expected = total * np.exp(ll)
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = (weights - expected) / np.sqrt(expected)
    # a pattern impossible under the model (expected 0, residual +inf) comes first
    resid = np.where((weights > 0) & (resid > 0), resid, -np.inf)
    order = worst_first(resid, patterns)[:n]
    return order[resid[order] > -np.inf], resid


def worst_first(resid: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """Order of decreasing residual, ties in lexicographic pattern order."""
    keys = [patterns[:, j] for j in range(patterns.shape[1] - 1, -1, -1)] + [-resid]
    return np.lexsort(keys)


def pattern_starts(
    log_class: np.ndarray,
    log_cond: np.ndarray,
    offsets: np.ndarray,
    ordinal: np.ndarray,
    patterns: np.ndarray,
    weights: np.ndarray,
    n: int,
) -> list:
    """Starts for K classes from a (K-1)-class solution: a new class at each of
    the ``n`` answer patterns the solution predicts worst.

    The patterns are ranked by their Pearson residual under the solution,
    ``(observed - expected) / sqrt(expected)`` with ``expected = N P(y)``
    (weighted counts; only patterns observed more often than expected; see
    :func:`worst_patterns`), and each becomes a start by :func:`seeded_starts`.
    This is the component insertion of greedy EM for mixtures (Vlassis &
    Likas 2002; Verbeek, Vlassis & Kroese 2003): a small class that the K-1
    solution has no room for shows as a pattern it under-predicts, and a
    start placed there reaches a maximum that neither random starts nor
    halving a class find but by chance. Deterministic: no random numbers.
    """
    post, ll = _kernels.posteriors(patterns, offsets, log_class, log_cond, False)
    seeds, _ = worst_patterns(patterns, weights, ll, float(np.sum(weights)), n)
    return seeded_starts(log_class, log_cond, offsets, ordinal, patterns[seeds], post[seeds])


def seeded_starts(log_class, log_cond, offsets, ordinal, seeds, seed_posts) -> list:
    """One start per seed pattern: the K-1 classes (sizes scaled by
    ``1 - PATTERN_SHARE``) and a new class of share ``PATTERN_SHARE`` that
    answers each nominal indicator as the seed does with probability
    ``PATTERN_PEAK`` (the rest spread evenly over the other categories); for
    a missing answer or an ordinal indicator (whose class columns must stay
    in the adjacent-category model) it copies the column of the class the
    seed most probably belongs to (``seed_posts``, its posteriors)."""
    new_class = np.append(log_class + np.log1p(-PATTERN_SHARE), np.log(PATTERN_SHARE))
    out = []
    for pattern, post in zip(seeds, seed_posts):
        col = log_cond[:, int(np.argmax(post))].copy()
        for j in range(len(offsets) - 1):
            lo, hi = int(offsets[j]), int(offsets[j + 1])
            c = int(pattern[j])
            if c < 0 or ordinal[j] or hi - lo < 2:
                continue
            col[lo:hi] = np.log((1.0 - PATTERN_PEAK) / (hi - lo - 1))
            col[lo + c] = np.log(PATTERN_PEAK)
        out.append((new_class.copy(), np.column_stack([log_cond, col])))
    return out


def merge_starts(
    log_class: np.ndarray, log_cond: np.ndarray, offsets: np.ndarray, ordinal: np.ndarray
) -> list:
    """Starts for K classes from a (K+1)-class solution: one per pair of classes, merged.

    The merged class has the pair's total size; for a nominal indicator its
    probabilities are the pair's size-weighted mixture (the exact answer
    distribution of the two classes together); for an ordinal indicator the
    size-weighted mean of the two log-probability columns, renormalised, so
    that the start stays in the adjacent-category model. Pairs in order
    (0, 1), (0, 2), ..., the merged class last.
    """
    n_old = log_class.shape[0]
    out = []
    for a in range(n_old):
        for b in range(a + 1, n_old):
            keep = [c for c in range(n_old) if c not in (a, b)]
            size = np.logaddexp(log_class[a], log_class[b])
            if np.isfinite(size):
                wa, wb = np.exp(log_class[a] - size), np.exp(log_class[b] - size)
            else:  # two empty classes: any mixture is the same start
                wa = wb = 0.5
            with np.errstate(divide="ignore"):
                merged = np.logaddexp(np.log(wa) + log_cond[:, a], np.log(wb) + log_cond[:, b])
            for j in range(len(offsets) - 1):
                lo, hi = int(offsets[j]), int(offsets[j + 1])
                if ordinal[j] and hi - lo > 1:
                    eta = wa * np.maximum(log_cond[lo:hi, a], -700.0) + wb * np.maximum(
                        log_cond[lo:hi, b], -700.0
                    )
                    merged[lo:hi] = eta - np.logaddexp.reduce(eta)
            new_class = np.append(log_class[keep], size)
            new_cond = np.column_stack([log_cond[:, keep], merged])
            out.append((new_class, new_cond))
    return out


def _run(data, start, max_iter, tol, accelerate, parallel):
    if parallel:
        return run_threaded(data, start, max_iter, tol, accelerate)
    patterns, rows, weights, offsets, class_prior, cond_prior, ordinal = data
    return _kernels.run_em(
        patterns, rows, weights, offsets, *start, class_prior, cond_prior, ordinal,
        max_iter, tol, accelerate,
    )  # fmt: skip


def run_threaded(data, start, max_iter, tol, accelerate):
    """``_kernels.run_em`` with its E-steps on numba's threads: the same bits.

    The steps are those of :func:`em_steps` (which reproduces ``run_em`` bit
    for bit) and each EM step is ``_kernels.em_map_threads`` (one call: an
    E-step that reproduces the serial one bit for bit, then the M-step), so
    the result does not depend on the number of threads. The loop runs in
    Python (a few microseconds per iteration, against milliseconds for an
    E-step at the sizes where threads are used) so that the parallel loop is
    never inside a function numba caches on disk.
    """
    patterns, rows, weights, offsets, class_prior, cond_prior, ordinal = data
    steps = em_steps(
        start, offsets, class_prior, cond_prior, ordinal, max_iter, tol, accelerate, mapped=True
    )
    priors = (class_prior, cond_prior)

    def evaluate(points):
        return [
            _kernels.em_map_threads((patterns, rows), weights, offsets, *p, priors, ordinal)
            for p in points
        ]

    return lockstep([steps], evaluate)[0]


def em_steps(
    start, offsets, class_prior, cond_prior, ordinal, max_iter, tol, accelerate, mapped=False
):
    """``_kernels.run_em`` as a generator, for an E-step computed elsewhere.

    Yields each point ``(log_class, log_cond)`` whose E-step it needs and
    expects to be sent back ``(loglik, counts, class_counts)`` as
    ``_kernels.estep`` returns them (with ``mapped``, the whole EM step from
    that point, ``(objective, loglik, log_class, log_cond)`` as
    ``_kernels.em_map_threads`` returns it); returns what ``run_em``
    returns. The steps, their order and their arithmetic are those of
    ``run_em`` (given the same E-step results it gives the same bits:
    tested), so a search can run many starts side by side with one E-step
    round for all of them, as distributed EM does.
    """

    def em_map(log_class, log_cond):
        if mapped:
            return (yield (log_class, log_cond))
        ll, counts, class_counts = yield (log_class, log_cond)
        objective = ll + _kernels.log_prior(log_class, log_cond, class_prior, cond_prior)
        new_class, new_cond = _kernels.mstep(
            counts, class_counts, offsets, class_prior, cond_prior, log_cond, ordinal
        )
        return objective, ll, new_class, new_cond

    log_class, log_cond = start
    n_iter = 1
    obj0, ll0, c1, p1 = yield from em_map(log_class, log_cond)
    c0 = log_class.copy()
    p0 = log_cond.copy()
    converged = False
    step_max = 1.0
    while n_iter < max_iter:
        obj1, ll1, c2, p2 = yield from em_map(c1, p1)
        n_iter += 1
        if obj1 - obj0 <= tol * abs(obj0):
            if obj1 >= obj0:
                c0, p0, obj0, ll0 = c1, p1, obj1, ll1
            converged = True
            break
        alpha = 0.0
        if accelerate and n_iter < max_iter:
            alpha = _kernels._squarem_step(c0, c1, c2, p0, p1, p2, step_max)
        if alpha == 0.0:
            c0, p0, obj0, ll0 = c1, p1, obj1, ll1
            c1, p1 = c2, p2
            continue
        xc, xp = _kernels._squarem_point(c0, c1, c2, p0, p1, p2, alpha, offsets)
        objx, llx, cx1, px1 = yield from em_map(xc, xp)
        n_iter += 1
        accepted = np.isfinite(objx) and objx >= obj1
        if not accepted and alpha < -1.0 and n_iter < max_iter:
            alpha = 0.5 * (alpha - 1.0)
            xc, xp = _kernels._squarem_point(c0, c1, c2, p0, p1, p2, alpha, offsets)
            objx, llx, cx1, px1 = yield from em_map(xc, xp)
            n_iter += 1
            accepted = np.isfinite(objx) and objx >= obj1
            if accepted:
                step_max = -alpha
        if accepted:
            if alpha == -step_max:
                step_max *= _kernels.STEP_GROWTH
            c0, p0, obj0, ll0 = xc, xp, objx, llx
            c1, p1 = cx1, px1
        else:
            step_max = max(1.0, step_max / _kernels.STEP_GROWTH)
            if n_iter >= max_iter:
                c0, p0, obj0, ll0 = c1, p1, obj1, ll1
                break
            c0, p0 = c2, p2
            obj0, ll0, c1, p1 = yield from em_map(c0, p0)
            n_iter += 1
    return c0, p0, obj0, ll0, n_iter, converged


def lockstep(runs, evaluate, progress=None) -> list:
    """Drive ``em_steps`` generators side by side; one ``evaluate`` call per round.

    ``evaluate(points)`` gets the list of points the unfinished runs wait for
    and returns their E-step results in the same order.
    """
    results = [None] * len(runs)
    waiting = {i: next(run) for i, run in enumerate(runs)}
    while waiting:
        ids = list(waiting)
        answers = evaluate([waiting[i] for i in ids])
        for i, answer in zip(ids, answers):
            try:
                waiting[i] = runs[i].send(answer)
            except StopIteration as stop:
                results[i] = stop.value
                del waiting[i]
                if progress is not None:
                    progress.update(1)
    return results


def _map(fn, items, n_jobs: int, threaded: bool):
    """``[fn(*item) for item in items]``, on ``n_jobs`` threads if ``threaded``.

    The kernels release the GIL, so starts run side by side on threads of a
    plain thread pool. joblib's threading backend polled for results every
    10 ms, which cost about a fifth of a one-second ``compare`` sweep (17 of
    its stages run several starts), so joblib's ``parallel_config`` does not
    choose the backend here; a Dask cluster the user started still gets the
    work through joblib's Dask backend. An error or an interrupt cancels the
    starts not yet begun.
    """
    if not (threaded and n_jobs != 1 and len(items) > 1):
        return [fn(*it) for it in items]
    from ._dask import active_client

    if active_client() is not None:  # a Dask cluster the user started: run there
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="dask"):
            return Parallel(n_jobs=n_jobs)(delayed(fn)(*it) for it in items)
    pool = ThreadPoolExecutor(max_workers=max(1, min(n_jobs, len(items))))
    try:
        return list(pool.map(lambda item: fn(*item), items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def search(
    patterns: np.ndarray,
    weights: np.ndarray,
    offsets: np.ndarray,
    n_classes: int,
    class_prior: float,
    cond_prior: np.ndarray,
    *,
    ordinal: np.ndarray | None = None,
    starts: list,
    n_final: int,
    burn_in: int,
    max_iter: int,
    tol: float,
    accelerate: bool = True,
    n_jobs: int = 1,
    progress=None,
    evaluate=None,
    split_merge: int = 0,
    rng: np.random.Generator | None = None,
    screened: tuple | None = None,
) -> EMResult:
    """Run the multi-start search and return the best solution.

    ``screened = (starts, iterations, keep)``: further starts screened
    briefly, of which the best ``keep`` join ``starts`` (see :func:`_search`).

    ``split_merge`` > 0 then refines the best solution with up to that many
    split-and-merge moves drawn with ``rng`` (see :func:`_split_merge`).

    With ``evaluate`` (see :func:`lockstep`) the E-steps are computed by
    that function, for all running starts at once, and ``patterns`` and
    ``weights`` are not used: this is distributed EM.
    """
    if ordinal is None:
        ordinal = np.zeros(len(offsets) - 1, dtype=np.bool_)
    if evaluate is not None:
        settings = (offsets, float(class_prior), cond_prior, ordinal)

        def run_lockstep(items):
            runs = [em_steps(s, *settings, iters, tol, accelerate) for s, iters in items]
            return lockstep(runs, evaluate, progress)

        result = _search(starts, n_final, burn_in, max_iter, run_lockstep, screened)
        if split_merge:
            result = _split_merge(
                result, split_merge, offsets, ordinal, rng, burn_in, max_iter, run_lockstep
            )
        return result

    n_jobs = effective_n_jobs(n_jobs)
    parallel_estep = n_jobs > 1 and patterns.shape[0] >= PARALLEL_MIN_PATTERNS
    rows = _kernels.pattern_rows(patterns, offsets)  # once for all starts
    data = (patterns, rows, weights, offsets, float(class_prior), cond_prior, ordinal)

    def stage(start, iters):
        out = _run(data, start, iters, tol, accelerate, parallel_estep)
        if progress is not None:
            progress.update(1)
        return out

    def run_stage(items):
        return _map(stage, items, n_jobs, threaded=not parallel_estep)

    with numba_threads(n_jobs):
        result = _search(starts, n_final, burn_in, max_iter, run_stage, screened)
        if split_merge:
            result = _split_merge(
                result, split_merge, offsets, ordinal, rng, burn_in, max_iter, run_stage
            )
        return result


def _finite(objectives: np.ndarray) -> np.ndarray:
    """Objectives with NaN (a failed start) as -inf, for ranking."""
    return np.where(np.isfinite(objectives), objectives, -np.inf)


def _n_at(objectives: np.ndarray, best: float) -> int:
    """How many objectives equal ``best`` to ``SAME_OPTIMUM_RTOL`` relative."""
    return int(np.sum(np.abs(_finite(objectives) - best) <= SAME_OPTIMUM_RTOL * abs(best)))


def _screen(screened, max_iter, run_stage) -> tuple[list, list]:
    """The best ``keep`` of ``screened = (starts, iterations, keep)`` after that many
    EM iterations: their points and the E-steps each has used."""
    if not screened or not screened[0]:
        return [], []
    candidates, iters, keep = screened
    if iters >= max_iter:  # no budget to screen with: the first ``keep`` as they are
        return list(candidates[:keep]), [0] * min(keep, len(candidates))
    out = run_stage([(s, iters) for s in candidates])
    objectives = np.array([r[2] for r in out])
    order = np.argsort(-_finite(objectives), kind="stable")[:keep]
    return [(out[i][0], out[i][1]) for i in order], [int(out[i][4]) for i in order]


def _search(starts, n_final, burn_in, max_iter, run_stage, screened=None) -> EMResult:
    """Burn-in of every start, then the best ``n_final`` to convergence.

    ``run_stage(items)`` runs EM from each ``(start, n_iterations)`` and
    returns the ``run_em`` results in order. ``screened = (starts,
    iterations, keep)``: starts first run for only that many iterations, of
    which the best ``keep`` then join ``starts`` (after them, their E-steps
    counted in their budget): many cheap candidates, few of them carried on.
    """
    kept, used = _screen(screened, max_iter, run_stage)
    starts = list(starts) + kept
    used = [0] * (len(starts) - len(kept)) + used
    n_starts = len(starts)
    n_final = max(1, min(n_final, n_starts))
    burn = min(burn_in, max_iter) if n_final < n_starts else max_iter

    first = run_stage([(s, max(1, min(burn, max_iter - u))) for s, u in zip(starts, used)])
    first = [(*r[:4], r[4] + u, r[5]) for r, u in zip(first, used)]
    objectives = np.array([r[2] for r in first])
    # best first; ties keep start order (stable) so the choice is reproducible
    order = np.argsort(-_finite(objectives), kind="stable")
    chosen = order[:n_final]

    finals = []
    todo = []
    for s in chosen:
        log_class, log_cond, obj, ll, n_iter, conv = first[s]
        if conv or n_iter >= max_iter:
            finals.append((s, first[s]))
        else:
            todo.append(s)
    rest = run_stage([((first[s][0], first[s][1]), max_iter - first[s][4]) for s in todo])
    for s, r in zip(todo, rest):
        log_class, log_cond, obj, ll, n_iter, conv = r
        finals.append((s, (log_class, log_cond, obj, ll, n_iter + first[s][4], conv)))
    finals.sort(key=lambda item: item[0])

    final_obj = np.array([r[2] for _, r in finals])
    best_pos = int(np.argmax(_finite(final_obj)))  # first of equals: lowest start index
    best_start, best = finals[best_pos]
    best_obj = best[2]
    n_at_best = _n_at(final_obj, best_obj)
    return EMResult(
        log_class=best[0],
        log_cond=best[1],
        objective=float(best_obj),
        loglik=float(best[3]),
        n_iter=int(best[4]),
        converged=bool(best[5]),
        final_objectives=final_obj,
        n_starts_at_best=n_at_best,
        best_start=int(best_start),
    )


#: Split-and-merge moves fitted together: each batch is one burn-in-and-finish
#: search (:func:`_search`), after which the best solution may change.
SPLIT_MERGE_BATCH = 10


def split_merge_moves(n: int, rng: np.random.Generator) -> list:
    """Every split-and-merge move of an ``n``-class solution, in random order.

    A move merges a pair of classes (as :func:`merge_starts`) and splits one
    of the K - 1 classes left, the merged one included (as
    :func:`split_starts`): K (K - 1)^2 / 2 starts with K classes, each a few
    classes away from the solution. Returned as ``(pair, split)`` index
    pairs in an order drawn from ``rng``, so that trying the first few is a
    random sample of the moves.
    """
    n_moves = n * (n - 1) // 2 * (n - 1)
    order = rng.permutation(n_moves)
    return [(int(m) // (n - 1), int(m) % (n - 1)) for m in order]


def _split_merge(
    result: EMResult, n_moves, offsets, ordinal, rng, burn_in, max_iter, run_stage
) -> EMResult:
    """Refine a solution with split-and-merge moves (SMEM; Ueda et al. 2000).

    The moves of the current best solution (:func:`split_merge_moves`) are
    fitted in batches of ``SPLIT_MERGE_BATCH`` (burn-in, then the best
    quarter, at least 2, to convergence). A batch whose best objective
    exceeds the current one by more than ``SAME_OPTIMUM_RTOL`` relative
    becomes the current solution, and the next batch is drawn from its
    moves; otherwise the next batch takes the next moves of the same
    solution. It stops after ``n_moves`` moves in all, or when every move
    of the current solution has been tried. The objective never decreases.

    Where random starts stop at one of many nearby maxima (models with more
    classes than the data support, which have many small classes), a move
    that frees a class from one place and spends it in another reaches a
    higher one far more often than a new random start does. The returned
    ``final_objectives`` and ``n_starts_at_best`` still describe the
    random (and given) starts only, against the refined best.
    """
    n_classes = result.log_class.shape[0]
    if n_classes < 2:
        return result
    best = result
    moves = split_merge_moves(n_classes, rng)
    merged = merge_starts(best.log_class, best.log_cond, offsets, ordinal)
    done = 0
    while done < n_moves and moves:
        batch = moves[: min(SPLIT_MERGE_BATCH, n_moves - done)]
        moves = moves[len(batch) :]
        done += len(batch)
        starts = [
            split_starts(*merged[pair], offsets, ordinal, rng)[split] for pair, split in batch
        ]
        trial = _search(starts, max(2, -(-len(starts) // 4)), burn_in, max_iter, run_stage)
        if trial.objective > best.objective + SAME_OPTIMUM_RTOL * abs(best.objective):
            best = trial
            moves = split_merge_moves(n_classes, rng)
            merged = merge_starts(best.log_class, best.log_cond, offsets, ordinal)
    if best is result:
        return result
    n_at_best = _n_at(result.final_objectives, best.objective)
    return EMResult(
        log_class=best.log_class,
        log_cond=best.log_cond,
        objective=best.objective,
        loglik=best.loglik,
        n_iter=best.n_iter,
        converged=best.converged,
        final_objectives=result.final_objectives,
        n_starts_at_best=n_at_best,
        best_start=-1,
    )
