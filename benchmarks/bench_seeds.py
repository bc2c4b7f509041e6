"""Best log-likelihood per K of lca's model-selection sweep, seed after seed.

The data and settings of workload D of ``bench_core.py`` (N = 2,767, 2..10
classes, at most 1000 iterations, tolerance 1e-8, maximum likelihood,
``n_jobs=-1``), fitted with ``lca.compare`` for ``random_state`` 0, 1, ...:
how much of "at least the best log-likelihood a peer found" is the luck of
the starts. Prints one Markdown row per seed (K = 6..10, where the maxima
differ) and its wall time.

    python benchmarks/bench_seeds.py [--starts 50] [--seeds 4] [--split-merge 50]
        [--pattern-starts 20]
"""

from __future__ import annotations

import argparse

import bench_core

import lca

KS = range(2, 11)
SHOWN = range(6, 11)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--starts", type=int, default=50, help="random starts per K")
    parser.add_argument("--seeds", type=int, default=4, help="random_state 0 .. seeds-1")
    parser.add_argument("--split-merge", type=int, default=0, help="split-merge moves per K")
    parser.add_argument(
        "--pattern-starts", type=int, default=20, help="pattern starts per K (the default 20)"
    )
    args = parser.parse_args()
    params = bench_core.true_parameters()
    df, _ = lca.simulate(
        bench_core.CLASS_SIZES, params, bench_core.FULL.n_a, random_state=bench_core.DATA_SEED_A
    )
    print("| seed | " + " | ".join(f"K={k}" for k in SHOWN) + " | wall time |")
    print("|---:|" + "---:|" * (len(SHOWN) + 1))
    for seed in range(args.seeds):
        sweep = bench_core._lca_sweep(
            df, KS, args.starts, random_state=seed, n_jobs=-1, split_merge=args.split_merge,
            pattern_starts=args.pattern_starts,
        )  # fmt: skip
        lls = " | ".join(f"{sweep['per_k'][str(k)]['loglik']:.2f}" for k in SHOWN)
        print(f"| {seed} | {lls} | {sweep['total_s']:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
