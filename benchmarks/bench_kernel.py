"""One EM iteration on distinct patterns: nanoseconds per pattern x indicator x class.

The issue's target 2: K = 5 classes, N = 10^4, 10^5 and 10^6 distinct answer
patterns (no help from compression) of 9 indicators with the categories of
the separation-type study, random parameters. An iteration is timed as EM
runs it: plain EM (no acceleration, no convergence test that could stop it)
for a block of iterations from one start, on one thread through
``lca._kernels.run_em`` (the whole loop in numba) and on every core through
``lca._em.run_threaded`` (the loop in Python, one call per iteration to
``lca._kernels.em_map_threads``: threaded E-step, then the M-step); block
time / iterations. The last column is the machine's ceiling for as many
threads: one-thread EM on each of as many parts of the patterns at once, in
Python threads that share nothing (``run_em`` releases the GIL). The three kinds
of block alternate (about 5 ms of work per block), block after block, so
that a slow spell of the machine slows all alike; the table gives the median
over at least 21 blocks of each (the repeats column counts iterations).

    python benchmarks/bench_kernel.py [--classes 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import threading
import time

import numba
import numpy as np

from lca import _em, _kernels

CATEGORIES = (4, 4, 5, 5, 5, 5, 4, 2, 7)


def problem(n: int, n_classes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(CATEGORIES)]).astype(np.int64)
    patterns = np.column_stack([rng.integers(0, c, n) for c in CATEGORIES]).astype(np.int16)
    weights = np.ones(n)
    log_class = np.log(rng.dirichlet(np.ones(n_classes)))
    log_cond = np.vstack([np.log(rng.dirichlet(np.ones(c), size=n_classes).T) for c in CATEGORIES])
    data = (patterns, _kernels.pattern_rows(patterns, offsets))
    return data, weights, offsets, log_class, np.ascontiguousarray(log_cond)


def em_block(args, parallel: bool, iterations: int) -> None:
    """``iterations`` plain EM iterations from the start, as a fit runs them."""
    data, weights, offsets, log_class, log_cond, ordinal, cond_prior = args
    # tol = -1: "the objective rose by at most -|objective|" never holds, so it runs them all
    if parallel:
        fitted = (*data, weights, offsets, 0.0, cond_prior, ordinal)
        out = _em.run_threaded(fitted, (log_class, log_cond), iterations, -1.0, False)
    else:
        out = _kernels.run_em(
            *data, weights, offsets, log_class, log_cond, 0.0, cond_prior, ordinal,
            iterations, -1.0, False,
        )  # fmt: skip
    assert out[4] == iterations


def split(args, n_parts: int) -> list:
    """The problem cut into ``n_parts`` contiguous parts of the patterns."""
    data, weights, *rest = args
    bounds = np.linspace(0, weights.shape[0], n_parts + 1).astype(int)
    return [
        ((data[0][lo:hi].copy(), data[1][lo:hi].copy()), weights[lo:hi].copy(), *rest)
        for lo, hi in itertools.pairwise(bounds)
    ]


def independent_block(parts, iterations: int) -> float:
    """One-thread EM on every part at the same time, one Python thread each.

    ``run_em`` releases the GIL, and the runs share nothing: how much faster
    this is than one thread doing all parts is what the cores of this
    machine give such a loop, whatever the threading of ``lca``. The time
    includes starting and joining the threads (about 0.1 ms, a few percent
    of a block at 10,000 patterns, so the ceiling is if anything low there):
    threads started before the clock and released by a barrier gave lower
    and less steady figures on the benchmark's VM. Returns the seconds.
    """
    t0 = time.perf_counter()
    threads = [threading.Thread(target=em_block, args=(part, False, iterations)) for part in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def timed_block(args, parallel: bool, iterations: int) -> float:
    """:func:`em_block`, timed; returns the seconds."""
    t0 = time.perf_counter()
    em_block(args, parallel, iterations)
    return time.perf_counter() - t0


def time_blocks(args, blocks: int, block: int, threads: int) -> tuple[float, float, float]:
    """Medians of one-thread, all-thread and independent-parts iterations.

    Each block runs ``block`` iterations back to back, as EM does, and gives
    their mean; the three kinds of block alternate.
    """
    parts = split(args, threads)
    em_block(args, False, 2)  # compile or load
    em_block(args, True, 2)
    one, many, ceiling = [], [], []
    runs = (
        (timed_block, (args, False, block), one),
        (timed_block, (args, True, block), many),
        (independent_block, (parts, block), ceiling),
    )
    for _ in range(blocks):
        for run, run_args, out in runs:
            # numba's OpenMP workers spin for a while after a parallel loop: let
            # them go idle, so that they take no core from the next block, then
            # run the block once untimed, so that it starts with warm caches
            time.sleep(0.01)
            run(*run_args)
            out.append(run(*run_args) / block)
    return statistics.median(one), statistics.median(many), statistics.median(ceiling)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    threads = numba.get_num_threads()
    rows = []
    header = (
        f"| patterns | classes | repeats | 1 thread | ns per cell | {threads} threads | speed-up "
        f"| {threads} independent parts: speed-up |"
    )
    print(header)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (10_000, 100_000, 1_000_000):
        # the M-step's settings (no ordinal indicator, no prior) are made once, as EM does
        estep_args = problem(n, args.classes)
        offsets = estep_args[2]
        no_ordinal = np.zeros(len(offsets) - 1, dtype=np.bool_)
        problem_args = (*estep_args, no_ordinal, np.zeros(int(offsets[-1])))
        cells = n * len(CATEGORIES) * args.classes
        block = -(-(5 * 10**6) // cells)  # iterations per block: ~5 ms at 1 ns/cell
        blocks = max(21, 10**8 // (cells * block))  # ~0.1 s of one-thread work in all
        one, many, ceiling = time_blocks(problem_args, blocks, block, threads)
        repeats = blocks * block
        row = {"patterns": n, "classes": args.classes, "repeats": repeats, "block": block}
        rows.append(
            {**row, "one_thread_s": one, "threads": threads, "many_s": many, "parts_s": ceiling}
        )
        print(
            f"| {n:,} | {args.classes} | {repeats} | {one * 1e3:.3f} ms | "
            f"{one / cells * 1e9:.2f} | {many * 1e3:.3f} ms | {one / many:.2f}x | "
            f"{one / ceiling:.2f}x |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
