"""One EM iteration on distinct patterns: nanoseconds per pattern x indicator x class.

The issue's target 2: K = 5 classes, N = 10^4, 10^5 and 10^6 distinct answer
patterns (no help from compression) of 9 indicators with the categories of
the separation-type study, random parameters. An iteration is timed as EM
runs it: plain EM (no acceleration, no convergence test that could stop it)
for a block of iterations from one start, on one thread through
``lca._kernels.run_em`` (the whole loop in numba) and on every core through
``lca._em.run_threaded`` (the loop in Python, one call per iteration to
``lca._kernels.em_map_threads``: threaded E-step, then the M-step); block
time / iterations. The one-thread and the all-thread blocks alternate
(about 5 ms of work per block), block after block, so that a slow spell of
the machine slows both alike; the table gives the median over at least 21
blocks of each (the repeats column counts iterations).

    python benchmarks/bench_kernel.py [--classes 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def time_pair(args, blocks: int, block: int) -> tuple[float, float]:
    """Medians of one-thread and all-thread iterations, in alternating blocks.

    Each block runs ``block`` iterations back to back, as EM does, and gives
    their mean; the one-thread and the all-thread blocks alternate.
    """
    em_block(args, False, 2)  # compile or load
    em_block(args, True, 2)
    one, many = [], []
    for _ in range(blocks):
        for parallel, out in ((False, one), (True, many)):
            t = time.perf_counter()
            em_block(args, parallel, block)
            out.append((time.perf_counter() - t) / block)
    return statistics.median(one), statistics.median(many)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    threads = numba.get_num_threads()
    rows = []
    header = (
        f"| patterns | classes | repeats | 1 thread | ns per cell | {threads} threads | speed-up |"
    )
    print(header)
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in (10_000, 100_000, 1_000_000):
        # the M-step's settings (no ordinal indicator, no prior) are made once, as EM does
        estep_args = problem(n, args.classes)
        offsets = estep_args[2]
        no_ordinal = np.zeros(len(offsets) - 1, dtype=np.bool_)
        problem_args = (*estep_args, no_ordinal, np.zeros(int(offsets[-1])))
        cells = n * len(CATEGORIES) * args.classes
        block = -(-(5 * 10**6) // cells)  # iterations per block: ~5 ms at 1 ns/cell
        blocks = max(21, 10**8 // (cells * block))  # ~0.1 s of one-thread work in all
        one, many = time_pair(problem_args, blocks, block)
        repeats = blocks * block
        row = {"patterns": n, "classes": args.classes, "repeats": repeats, "block": block}
        rows.append({**row, "one_thread_s": one, "threads": threads, "many_s": many})
        print(
            f"| {n:,} | {args.classes} | {repeats} | {one * 1e3:.3f} ms | "
            f"{one / cells * 1e9:.2f} | {many * 1e3:.3f} ms | {one / many:.2f}x |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
