"""Direct effects: SQUAREM against plain EM from the same starts, and the fit time.

No peer on PyPI fits latent class models with direct effects (poLCA and
StepMix have none; Latent GOLD is commercial), so this compares lca's own
accelerated EM with plain EM, from the same random starts on the same data:
the 2000 election study (``lca.datasets.load_election()``, 12 items, 1,785
respondents, missing answers), 4 and 8 classes, direct effects for the three
disjoint pairs of largest BVR in the model without them, Bayes constant 1,
relative tolerance 1e-12, at most 5,000 E-steps. It also times a whole
``DirectEffectsModel.fit`` (the model without direct effects, then 16 starts)
against ``LatentClassModel.fit`` with the same options, one thread.

    python benchmarks/bench_direct_effects.py [--starts 5] [--out results/direct_effects.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import lca
from lca import _direct_em, _em

HERE = Path(__file__).resolve().parent


def disjoint_pairs(model, n: int) -> list:
    """The ``n`` pairs of largest BVR, no indicator in two."""
    bvr = model.bivariate_residuals()
    upper = bvr.where(np.triu(np.ones(bvr.shape, dtype=bool), k=1)).stack()
    pairs: list = []
    for a, b in upper.sort_values(ascending=False).index:
        if len(pairs) < n and not {a, b} & {i for p in pairs for i in p}:
            pairs.append((a, b))
    return pairs


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="random starts per K (default 5)")
    parser.add_argument("--out", default=str(HERE / "results" / "direct_effects.json"))
    args = parser.parse_args()

    answers = lca.datasets.load_election().iloc[:, :12]
    rows = []
    for k in (4, 8):
        base, base_time = timed(lca.LatentClassModel(k).fit, answers)
        pairs = disjoint_pairs(base, 3)
        model, fit_time = timed(lca.DirectEffectsModel(k, pairs).fit, answers)
        problem = model._fitted_problem()
        rng = np.random.default_rng(0)
        for s in range(args.starts):
            log_class, log_cond = _em.random_start(rng, k, model._layout.offsets, model._ordinal)
            run = _direct_em.Run(log_class, _direct_em.to_composite(log_cond, model._layout))
            plain, plain_time = timed(_direct_em.run_em, problem, run, 5000, 1e-12)
            fast, fast_time = timed(_direct_em.run_em, problem, run, 5000, 1e-12, accelerate=True)
            rows.append(
                {
                    "classes": k,
                    "pairs": [list(p) for p in pairs],
                    "start": s,
                    "plain_e_steps": plain.n_iter,
                    "squarem_e_steps": fast.n_iter,
                    "plain_objective": plain.objective,
                    "squarem_objective": fast.objective,
                    "plain_seconds": plain_time,
                    "squarem_seconds": fast_time,
                    "fit_seconds": fit_time,
                    "fit_without_direct_effects_seconds": base_time,
                }
            )
    print(f"{'K':>2} {'start':>5} {'plain E':>8} {'SQUAREM E':>9} {'ratio':>6} "
          f"{'plain s':>8} {'SQ s':>6} {'objective difference':>21}")  # fmt: skip
    for r in rows:
        print(
            f"{r['classes']:>2} {r['start']:>5} {r['plain_e_steps']:>8} "
            f"{r['squarem_e_steps']:>9} {r['plain_e_steps'] / r['squarem_e_steps']:>6.2f} "
            f"{r['plain_seconds']:>8.3f} {r['squarem_seconds']:>6.3f} "
            f"{r['squarem_objective'] - r['plain_objective']:>21.6f}"
        )
    for k in (4, 8):
        sub = [r for r in rows if r["classes"] == k]
        plain = sum(r["plain_e_steps"] for r in sub)
        fast = sum(r["squarem_e_steps"] for r in sub)
        print(
            f"K = {k}: {plain / fast:.2f}x fewer E-steps in all, "
            f"{statistics.median(r['plain_seconds'] / r['squarem_seconds'] for r in sub):.2f}x "
            f"less time (median); DirectEffectsModel.fit {sub[0]['fit_seconds']:.2f} s, "
            f"LatentClassModel.fit {sub[0]['fit_without_direct_effects_seconds']:.2f} s"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"lca": lca.__version__, "runs": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
