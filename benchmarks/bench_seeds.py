"""Best log-likelihood per K of lca's model-selection sweep, seed after seed.

The data and settings of workload D of ``bench_core.py`` (N = 2,767, 2..10
classes, at most 1000 iterations, tolerance 1e-8, maximum likelihood,
``n_jobs=-1``), fitted with ``lca.compare`` for ``random_state`` 0, 1, ...:
how much of "at least the best log-likelihood a peer found" is the luck of
the starts. Prints one Markdown row per seed (K = 6..10, where the maxima
differ) and its wall time, then how many (seed, K) pairs are below the best
a peer found with as many starts in the run recorded in ``--results``
(relative tolerance 1e-6, as ``bench_core.py`` counts them) and the median
wall time.

    python benchmarks/bench_seeds.py [--starts 50] [--seeds 4] [--split-merge 50]
        [--pattern-starts 20] [--burn-in 50] [--results benchmarks/results/core.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import bench_core

import lca

KS = range(2, 11)
SHOWN = range(6, 11)
RESULTS = Path(__file__).resolve().parent / "results" / "core.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--starts", type=int, default=50, help="random starts per K")
    parser.add_argument("--seeds", type=int, default=4, help="random_state 0 .. seeds-1")
    parser.add_argument("--split-merge", type=int, default=0, help="split-merge moves per K")
    parser.add_argument(
        "--pattern-starts", type=int, default=20, help="pattern starts per K (the default 20)"
    )
    parser.add_argument("--burn-in", type=int, default=50, help="burn-in E-steps (default 50)")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="bench_core.py JSON with the peers' best"
    )
    args = parser.parse_args()
    params = bench_core.true_parameters()
    df, _ = lca.simulate(
        bench_core.CLASS_SIZES, params, bench_core.FULL.n_a, random_state=bench_core.DATA_SEED_A
    )
    peer_best = None
    if args.results.exists():
        recorded = json.loads(args.results.read_text()).get(f"D{args.starts}")
        if recorded and recorded.get("best_peer_loglik") and recorded["n"] == len(df):
            peer_best = {int(k): v for k, v in recorded["best_peer_loglik"].items()}
    print("| seed | " + " | ".join(f"K={k}" for k in SHOWN) + " | wall time |")
    print("|---:|" + "---:|" * (len(SHOWN) + 1))
    below, times = 0, []
    for seed in range(args.seeds):
        sweep = bench_core._lca_sweep(
            df, KS, args.starts, random_state=seed, n_jobs=-1, split_merge=args.split_merge,
            pattern_starts=args.pattern_starts, burn_in=args.burn_in,
        )  # fmt: skip
        lls = {k: sweep["per_k"][str(k)]["loglik"] for k in SHOWN}
        times.append(sweep["total_s"])
        if peer_best is not None:
            tol = bench_core.SAME_OPTIMUM_RTOL
            below += sum(not lls[k] >= peer_best[k] - tol * abs(peer_best[k]) for k in SHOWN)
        row = " | ".join(f"{lls[k]:.2f}" for k in SHOWN)
        print(f"| {seed} | {row} | {sweep['total_s']:.2f} s |", flush=True)
    if peer_best is None:
        print(f"\n(no peer's best with {args.starts} starts on these data in {args.results})")
    else:
        pairs = args.seeds * len(SHOWN)
        print(f"\n{below} of {pairs} (seed, K) pairs below the best peer of {args.results.name}")
    print(f"median wall time {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
