"""How often the VLMR and adjusted LMR tests reject a true model (their type I error).

Draws data sets from a K-class model (6 binary items), fits K and K+1 classes
by maximum likelihood (or with Bayes constants), and counts the data sets in
which ``lca.lmr_test`` rejects the true K at the 5% level. The naive
chi-square of Wilks (df = the difference in parameters), which is known to be
wrong here, is counted beside them. Not a speed benchmark: it documents what
the ``lca.lmr_test`` docstring says about the test's level.

    python benchmarks/calibrate_lmr.py                    # every setting below, about 1 minute
    python benchmarks/calibrate_lmr.py --classes 1 --n 500 --reps 200

Prints one line per setting: rejection rates at 0.05, mean p-values, and the
mean statistic beside the mean of the distribution it is referred to.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import lca

#: (true classes, respondents, data sets, Bayes constant)
SETTINGS = [(1, 500, 200, 0.0), (2, 500, 200, 0.0), (2, 2000, 100, 0.0), (3, 1000, 100, 0.0),
            (1, 500, 100, 1.0), (2, 500, 100, 1.0)]  # fmt: skip
ITEMS = 6
PROBS = np.array([[0.85] * ITEMS, [0.15] * ITEMS, [0.8, 0.8, 0.8, 0.2, 0.2, 0.2]])
SIZES = np.array([0.5, 0.3, 0.2])


def run(k: int, n: int, reps: int, bayes: float, seed: int = 123) -> dict:
    rng = np.random.default_rng(seed)
    sizes = SIZES[:k] / SIZES[:k].sum()
    p_vlmr, p_adj, p_naive, lr, mean = [], [], [], [], []
    for r in range(reps):
        z = rng.choice(k, size=n, p=sizes)
        y = (rng.random((n, ITEMS)) < PROBS[:k][z]).astype(int)
        df = pd.DataFrame(y, columns=[f"q{j}" for j in range(ITEMS)])
        with warnings.catch_warnings():
            # overfitted K+1 class models: flat directions, small classes
            warnings.simplefilter("ignore")
            null = lca.LatentClassModel(k, bayes_constant=bayes, n_starts=10, random_state=r)
            alt = lca.LatentClassModel(k + 1, bayes_constant=bayes, n_starts=20, random_state=r)
            test = lca.lmr_test(null.fit(df), alt.fit(df))
        p_vlmr.append(test.p_value)
        p_adj.append(test.adjusted_p_value)
        p_naive.append(stats.chi2.sf(max(test.statistic, 0.0), test.df))
        lr.append(test.statistic)
        mean.append(test.mean)
    out = {"statistic": (float(np.mean(lr)), float(np.mean(mean)))}
    for name, p in (("vlmr", p_vlmr), ("adjusted", p_adj), ("naive_chi2", p_naive)):
        p = np.asarray(p)
        out[name] = (float(np.mean(p <= 0.05)), float(np.mean(p)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, help="true classes K (tests K against K+1)")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--bayes-constant", type=float, default=0.0)
    args = parser.parse_args()
    settings = (
        SETTINGS
        if args.classes is None
        else [(args.classes, args.n, args.reps, args.bayes_constant)]
    )
    print(
        "K  N     data sets  Bayes  reject at 0.05: VLMR  aLMR  chi2 | mean p: VLMR  aLMR  "
        "chi2 | mean LR, mean of its distribution"
    )
    for k, n, reps, bayes in settings:
        t = time.perf_counter()
        res = run(k, n, reps, bayes)
        rates = "  ".join(f"{res[m][0]:.3f}" for m in ("vlmr", "adjusted", "naive_chi2"))
        means = "  ".join(f"{res[m][1]:.3f}" for m in ("vlmr", "adjusted", "naive_chi2"))
        lr = "{:.1f}, {:.1f}".format(*res["statistic"])
        print(f"{k}  {n:<5} {reps:<10} {bayes:<5}  {rates} | {means} | {lr}   "
              f"({time.perf_counter() - t:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
