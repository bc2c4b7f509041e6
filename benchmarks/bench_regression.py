"""One-step latent class regression: lca against StepMix 3 on the same data.

Data: the indicators of ``bench_core.py`` (9 indicators with 2-7 categories, 5
classes, the class-conditional probabilities of ``bench_core.true_parameters``)
with class membership a multinomial logit of two covariates, ``x`` Normal(0, 1)
and ``g`` of three categories (coefficients ``BETA``, class 1 the reference);
N = 2,767 (the study's size) and 20,000. Both engines fit 5 classes by maximum
likelihood with 10 starts, relative tolerance 1e-10 on the log-likelihood, at
most 2,000 iterations:

- lca: ``LatentClassRegression(5, n_starts=10, bayes_constant=0, tol=1e-10)``:
  its default search for the model without covariates, then EM for the
  regression from that maximum, standard errors included (one thread);
- StepMix: ``StepMix(n_components=5, n_steps=1, measurement="categorical",
  structural="covariate", n_init=10)`` with Newton-Raphson steps for the
  coefficients (``structural_params={"method": "newton-raphson", "max_iter":
  1}``, one step per EM iteration), no standard errors.

Prints the wall time of each (median of ``--repeats`` after one untimed run of
lca to compile its kernels), the ratio, and both log-likelihoods.

    python benchmarks/bench_regression.py [--repeats 3] [--sizes 2767,20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import bench_core
import numpy as np
import pandas as pd

import lca

#: Rows Intercept, x, g[b], g[c]; columns the 5 classes (class 1 the reference).
BETA = np.array(
    [
        [0.0, -0.7, -0.9, -0.8, -2.3],
        [0.0, 0.8, -0.5, 0.3, 0.6],
        [0.0, 0.4, 0.0, -0.6, 0.5],
        [0.0, -0.3, 0.7, 0.2, 0.0],
    ]
)
SEED = 7


def simulate(n: int, seed: int = SEED) -> pd.DataFrame:
    """Indicators q1..q9 (categorical), covariates x and g."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    z = np.column_stack([np.ones(n), x, g == "b", g == "c"]).astype(float)
    eta = z @ BETA
    pi = np.exp(eta - eta.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    cls = (rng.random(n)[:, None] > np.cumsum(pi, axis=1)).sum(axis=1)
    out = {}
    for name, probs in bench_core.true_parameters().items():
        cum = np.cumsum(probs[:, cls], axis=0)
        out[name] = pd.Categorical((rng.random(n) > cum).sum(axis=0))
    data = pd.DataFrame(out)
    data["x"] = x
    data["g"] = g
    return data


def run_lca(data: pd.DataFrame):
    model = lca.LatentClassRegression(
        5, n_starts=10, bayes_constant=0.0, tol=1e-10, max_iter=2000, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-identified coefficient is not the point here
        return model.fit(data, ["x", "g"])


def run_stepmix(data: pd.DataFrame):
    from stepmix import StepMix

    items = data.drop(columns=["x", "g"])
    codes = np.column_stack([items[c].cat.codes.to_numpy() for c in items.columns])
    z = pd.get_dummies(data[["x", "g"]], columns=["g"], drop_first=True).astype(float)
    model = StepMix(
        n_components=5, n_steps=1, measurement="categorical", structural="covariate",
        n_init=10, max_iter=2000, abs_tol=0.0, rel_tol=1e-10, random_state=0, verbose=0,
        progress_bar=0, structural_params={"method": "newton-raphson", "max_iter": 1},
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(codes, z)
    return model, float(model.score(codes, z) * len(codes))


def median_time(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="2767,20000")
    args = parser.parse_args()
    try:
        import stepmix
    except ImportError:
        stepmix = None
    print("| N | lca | StepMix | StepMix / lca | log-likelihood lca | StepMix |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(v) for v in args.sizes.split(",")):
        data = simulate(n)
        run_lca(data)  # compile and warm up
        ours_s, ours = median_time(lambda data=data: run_lca(data), args.repeats)
        if stepmix is None:
            print(f"| {n:,} | {ours_s:.2f} s | - | - | {ours.loglik_:.2f} | - |", flush=True)
            continue
        theirs_s, (_, their_ll) = median_time(lambda data=data: run_stepmix(data), args.repeats)
        print(
            f"| {n:,} | {ours_s:.2f} s | {theirs_s:.2f} s | {theirs_s / ours_s:.1f}x "
            f"| {ours.loglik_:.2f} | {their_ll:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
