"""The bias-adjusted three-step approach (``covariate_effects``): its speed, and lca's
three steps against StepMix's on the same data.

Part 1, step 3 alone (``lca.three_step.covariate_effects``): posterior
probabilities drawn at random (softmax of Normal(0, 2^2) logits, N x K), p
covariates Normal(0, 1), unit weights; ML and BCH corrections, modal
assignment, Hessian (ML) and sandwich (BCH) standard errors. Median of
``--repeats`` runs after one untimed run.

Part 2, all three steps against StepMix 3 (if installed): data simulated from
a 3-class model of 6 binary indicators whose class sizes depend on a normal
and a 3-category covariate (as in ``tests/test_three_step.py``), N = 2,767 and
20,000. Both fit step 1 from 10 random starts (relative tolerance 1e-8 on the
log-likelihood, at most 1,000 iterations) and then step 3 with the ML or BCH
correction and modal assignment, StepMix with its Newton-Raphson step 3 (200
iterations, tolerance 1e-10: its default of one gradient step is far from the
maximum). Each is timed from the data frame to the coefficient table; the
largest difference of the coefficients, after matching the classes, is
printed too. lca's Bayes constants are 0 (StepMix's maximum likelihood); lca
runs on one thread (``n_jobs=1``) with its default search (every start 50
iterations, the best few to convergence); StepMix runs every start to
convergence.

Part 3, class means of a continuous distal outcome (``distal_means``, BCH)
against StepMix 3 (``structural="gaussian_diag"``, ``correction="BCH"``): the
data of part 2 with an outcome drawn Normal(0, 1), Normal(1, 1.5^2) and
Normal(2, 0.7^2) in the three true classes; both fit step 1 as in part 2,
then the BCH means (lca also their standard errors and Wald tests). Timed
from the data frame to the means; the largest difference of the means, after
matching the classes, is printed too.

Part 4, ML class means of a normal distal outcome (``distal_means``, modal and
proportional assignment) for N = 3,000 and 100,000 and K = 5 and 10, on posteriors
drawn as in part 1.

    python benchmarks/bench_three_step.py                 # all four parts
    python benchmarks/bench_three_step.py --part 1 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from functools import partial

import numpy as np
import pandas as pd

import lca
from lca import three_step

STEP3_SIZES = ((3_000, 5, 5), (100_000, 5, 5), (100_000, 10, 10))
PEER_SIZES = (2_767, 20_000)

#: Class 1 is the reference; rows Intercept, x, g[b], g[c] (as in the tests).
TRUE_BETA = np.array([[0.0, 0.3, -0.2], [0.0, 1.0, -0.8], [0.0, 0.5, 0.0], [0.0, 0.0, -0.7]])
PROFILES = np.array([[0.85] * 6, [0.15] * 6, [0.85] * 3 + [0.15] * 3])
#: Part 3: the distal outcome's mean and sd in each true class.
DISTAL_MEAN = np.array([0.0, 1.0, 2.0])
DISTAL_SD = np.array([1.0, 1.5, 0.7])


def median_time(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls after one untimed call (numba's cache loads,
    imports), and the last result."""
    times, out = [], fn()
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def part1(repeats: int) -> None:
    print("| N | K | covariates | ML | BCH |")
    print("|---:|---:|---:|---:|---:|")
    for n, k, p in STEP3_SIZES:
        rng = np.random.default_rng(0)
        logits = 2.0 * rng.normal(size=(n, k))
        post = np.exp(logits - logits.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        cov = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{j}" for j in range(p)])
        classes = pd.RangeIndex(1, k + 1)
        row = []
        for correction in ("ml", "bch"):
            step3 = partial(
                three_step.covariate_effects, post, cov, np.ones(n), classes, correction=correction
            )
            seconds, res = median_time(step3, repeats)
            assert res.converged
            row.append(f"{seconds:.2f} s")
        print(f"| {n:,} | {k} | {p} | {row[0]} | {row[1]} |", flush=True)


def simulate(rng, n, with_classes=False):
    x = rng.normal(size=n)
    g = rng.choice(np.array(["a", "b", "c"]), size=n)
    z = np.column_stack([np.ones(n), x, g == "b", g == "c"]).astype(float)
    eta = z @ TRUE_BETA
    pi = np.exp(eta - eta.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    cls = (rng.random(n)[:, None] > pi.cumsum(axis=1)).sum(axis=1)
    y = (rng.random((n, 6)) < PROFILES[cls]).astype(int)
    data = pd.DataFrame(y, columns=[f"q{j}" for j in range(6)])
    cov = pd.DataFrame({"x": x, "g": g})
    return (data, cov, cls) if with_classes else (data, cov)


def step1_model():
    """lca's step 1 as StepMix's: maximum likelihood (no Bayes constants), 10 starts."""
    return lca.LatentClassModel(
        3, n_starts=10, tol=1e-8, max_iter=1000, bayes_constant=0, random_state=0
    )


def run_lca(data, cov, correction):
    model = step1_model().fit(data)
    return model.covariate_effects(cov, correction=correction).beta()  # (term, class)


def run_stepmix(stepmix, data, cov, correction):
    z = three_step.Design.from_frame(cov).matrix(cov)[:, 1:]  # the same dummies
    sm = stepmix.StepMix(
        n_components=3, n_steps=3, measurement="bernoulli", structural="covariate",
        correction=correction.upper(), assignment="modal", n_init=10, max_iter=1000,
        abs_tol=0.0, rel_tol=1e-8, random_state=0, progress_bar=0,
        structural_params={"method": "newton-raphson", "max_iter": 200, "tol": 1e-10},
    )  # fmt: skip
    sm.fit(data.to_numpy(), z)
    beta = sm.get_parameters()["structural"]["beta"]  # (K, 1 + p), every class free
    post = sm.predict_proba_class(data.to_numpy())
    return beta, post


def largest_difference(ours: pd.DataFrame, beta: np.ndarray, lca_post, sm_post) -> float:
    """Match StepMix's classes to lca's by their posteriors, then compare the contrasts
    against lca's reference class."""
    overlap = lca_post.T @ sm_post  # (lca class, stepmix class)
    match = overlap.argmax(axis=1)
    theirs = beta[match] - beta[match[0]]  # lca class order, against lca's class 1
    return float(np.max(np.abs(ours.to_numpy() - theirs.T)))


def part2(repeats: int) -> None:
    try:
        import stepmix
    except ImportError:
        print("StepMix is not installed (pip install stepmix): part 2 skipped")
        return
    print("| N | correction | lca | StepMix | StepMix / lca | largest coefficient difference |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in PEER_SIZES:
        data, cov = simulate(np.random.default_rng(1), n)
        for correction in ("ml", "bch"):
            t_lca, ours = median_time(partial(run_lca, data, cov, correction), repeats)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # StepMix's own convergence chatter
                t_sm, (beta, sm_post) = median_time(
                    partial(run_stepmix, stepmix, data, cov, correction), repeats
                )
            lca_post = step1_model().fit(data).predict_proba(data).to_numpy()
            diff = largest_difference(ours, beta, lca_post, sm_post)
            print(
                f"| {n:,} | {correction.upper()} | {t_lca:.2f} s | {t_sm:.2f} s | "
                f"{t_sm / t_lca:.0f}x | {diff:.1e} |",
                flush=True,
            )


def run_lca_distal(data, outcome):
    model = step1_model().fit(data)
    return model.distal_means(outcome).means["mean"].to_numpy()


def run_stepmix_distal(stepmix, data, outcome):
    sm = stepmix.StepMix(
        n_components=3, n_steps=3, measurement="bernoulli", structural="gaussian_diag",
        correction="BCH", assignment="modal", n_init=10, max_iter=1000, abs_tol=0.0,
        rel_tol=1e-8, random_state=0, progress_bar=0,
    )  # fmt: skip
    sm.fit(data.to_numpy(), outcome.to_numpy().reshape(-1, 1))
    means = sm.get_parameters()["structural"]["means"].ravel()
    return means, sm.predict_proba_class(data.to_numpy())


def part3(repeats: int) -> None:
    try:
        import stepmix
    except ImportError:
        print("StepMix is not installed (pip install stepmix): part 3 skipped")
        return
    print("| N | lca (BCH means) | StepMix | StepMix / lca | largest difference of the means |")
    print("|---:|---:|---:|---:|---:|")
    for n in PEER_SIZES:
        rng = np.random.default_rng(2)
        data, _, cls = simulate(rng, n, with_classes=True)
        outcome = pd.Series(rng.normal(DISTAL_MEAN[cls], DISTAL_SD[cls]), name="y")
        t_lca, ours = median_time(partial(run_lca_distal, data, outcome), repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_sm, (theirs, sm_post) = median_time(
                partial(run_stepmix_distal, stepmix, data, outcome), repeats
            )
        lca_post = step1_model().fit(data).predict_proba(data).to_numpy()
        match = (lca_post.T @ sm_post).argmax(axis=1)
        diff = float(np.max(np.abs(ours - theirs[match])))
        print(
            f"| {n:,} | {t_lca:.2f} s | {t_sm:.2f} s | {t_sm / t_lca:.0f}x | {diff:.1e} |",
            flush=True,
        )


#: Part 4: (N, K) of the ML class means of a normal distal outcome.
DISTAL_SIZES = ((3_000, 5), (100_000, 5), (100_000, 10))


def part4(repeats: int) -> None:
    """ML class means of a normal distal outcome (``lca.distal.distal_means``), modal
    and proportional assignment, Hessian standard errors: posteriors as in part 1,
    the outcome Normal(0.3 s, 1) in each row's most probable class s (0-based)."""
    from lca import distal

    print("| N | K | ML, modal | ML, proportional |")
    print("|---:|---:|---:|---:|")
    for n, k in DISTAL_SIZES:
        rng = np.random.default_rng(0)
        logits = 2.0 * rng.normal(size=(n, k))
        post = np.exp(logits - logits.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        y = pd.DataFrame({"y": rng.normal(0.3 * post.argmax(axis=1), 1.0)})
        row = []
        for assignment in ("modal", "proportional"):
            means = partial(
                distal.distal_means, post, y, np.ones(n), pd.RangeIndex(1, k + 1),
                correction="ml", assignment=assignment,
            )  # fmt: skip
            seconds, _ = median_time(means, repeats)
            row.append(f"{seconds:.2f} s")
        print(f"| {n:,} | {k} | {row[0]} | {row[1]} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=(1, 2, 3, 4), help="one part only")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"lca {lca.__version__}")
    if args.part in (None, 1):
        part1(args.repeats)
    if args.part in (None, 2):
        part2(args.repeats)
    if args.part in (None, 3):
        part3(args.repeats)
    if args.part in (None, 4):
        part4(args.repeats)


if __name__ == "__main__":
    main()
