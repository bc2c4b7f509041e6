"""Workload E of ``bench_core.py`` (plain EM against SQUAREM from the same starts) on real data.

For each data set shipped in ``lca.datasets`` (its categorical columns), every
K in 2..6 at which the model is identified (no more free parameters than the
cross-table of the indicators has free cells), 10 random starts (seed K),
each run to convergence (relative tolerance 1e-8, at most 20,000 E-steps)
with plain EM and with SQUAREM; the
E-steps are summed over the starts where both reach the same optimum
(relative 1e-6). Prints one Markdown row per data set.

    python benchmarks/bench_accel.py
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import bench_core

import lca
import lca.datasets

DATASETS = ("carcinoma", "cheating", "election", "gss82", "values")


def identified_ks(df) -> tuple[int, ...]:
    """K in 2..6 with (K - 1) + K sum_j (C_j - 1) <= prod_j C_j - 1."""
    cats = [len(df[c].cat.categories) for c in df.columns]
    cells = math.prod(cats) - 1
    return tuple(k for k in range(2, 7) if (k - 1) + k * sum(c - 1 for c in cats) <= cells)


def main() -> None:
    print("| data | N | K | same optimum | E-steps plain | E-steps SQUAREM | ratio |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name in DATASETS:
        df = getattr(lca.datasets, f"load_{name}")()
        df = df.select_dtypes("category")
        ks = identified_ks(df)
        cfg = dataclasses.replace(bench_core.FULL, sweep_ks=ks)
        with warnings.catch_warnings():  # EM of 1 iteration in workload_e's set-up
            warnings.simplefilter("ignore", lca.ConvergenceWarning)
            e = bench_core.workload_e(df, cfg)
        total = e["total_estep"]
        print(
            f"| {name} | {len(df):,} | {ks[0]}-{ks[-1]} | {e['same_optimum']}/{len(e['runs'])} | "
            f"{total['plain']:,} | {total['squarem']:,} | "
            f"{e['ratio_estep_plain_over_squarem']:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
