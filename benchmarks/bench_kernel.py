"""One EM iteration on distinct patterns: nanoseconds per pattern x indicator x class.

The issue's target 2: K = 5 classes, N = 10^4, 10^5 and 10^6 distinct answer
patterns (no help from compression) of 9 indicators with the categories of
the separation-type study, random parameters. One iteration is what EM runs
for it: the E-step entry point (``lca._kernels._estep`` on one thread,
``estep_threads`` on every core; the answer rows are computed once per EM
run, so once here too) and then the M-step (``lca._kernels.mstep``, serial
in both). The one-thread and the all-thread iteration alternate, in blocks of
iterations run back to back as EM runs them (about 5 ms of work per block),
block after block, so that a slow spell of the machine slows both alike; the
table gives the median over at least 21 blocks of each (the repeats column
counts iterations). No Python in the loop apart from the two calls.

    python benchmarks/bench_kernel.py [--classes 5] [--json FILE]
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


def em_iteration(args, parallel: bool):
    """One E-step (serial or threaded, as EM calls them) and the M-step after it."""
    data, weights, offsets, log_class, log_cond, ordinal, cond_prior = args
    estep = _kernels.estep_threads if parallel else _kernels._estep
    _, counts, class_counts = estep(data, weights, offsets, log_class, log_cond)
    return _kernels.mstep(counts, class_counts, offsets, 0.0, cond_prior, log_cond, ordinal)


def time_pair(args, blocks: int, block: int) -> tuple[float, float]:
    """Medians of one-thread and all-thread iterations, in alternating blocks.

    Each block runs ``block`` iterations back to back, as EM does, and gives
    their mean; the one-thread and the all-thread blocks alternate.
    """
    em_iteration(args, False)  # compile or load
    em_iteration(args, True)
    one, many = [], []
    for _ in range(blocks):
        for parallel, out in ((False, one), (True, many)):
            t = time.perf_counter()
            for _ in range(block):
                em_iteration(args, parallel)
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
