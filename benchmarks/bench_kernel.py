"""One E-step of the kernel on distinct patterns: nanoseconds per pattern x indicator x class.

The issue's target 2: K = 5 classes, N = 10^4, 10^5 and 10^6 distinct answer
patterns (no help from compression) of 9 indicators with the categories of
the separation-type study, random parameters. Times the E-step entry points
``lca._kernels._estep`` and ``estep_threads`` as EM runs them (the
answer rows are computed once per EM run, so they are computed here once
too) on one thread and on every core, repeated, and prints the median. Pure
kernel time: no M-step, no Python in the loop.

    python benchmarks/bench_kernel.py [--classes 5] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numba
import numpy as np

from lca import _kernels

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


def time_estep(args, parallel: bool, repeats: int) -> float:
    # the entry points EM uses: numba compiles the threaded loop into the second only
    estep = _kernels.estep_threads if parallel else _kernels._estep
    estep(*args)  # compile or load
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        estep(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    threads = numba.get_num_threads()
    rows = []
    print(f"| patterns | classes | 1 thread | ns per cell | {threads} threads | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (10_000, 100_000, 1_000_000):
        problem_args = problem(n, args.classes)
        cells = n * len(CATEGORIES) * args.classes
        one = time_estep(problem_args, False, args.repeats)  # the serial kernel (n_jobs=1)
        many = time_estep(problem_args, True, args.repeats)  # prange over chunks
        rows.append({"patterns": n, "one_thread_s": one, "threads": threads, "many_s": many})
        print(
            f"| {n:,} | {args.classes} | {one * 1e3:.2f} ms | {one / cells * 1e9:.2f} "
            f"| {many * 1e3:.2f} ms | {one / many:.2f}x |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
