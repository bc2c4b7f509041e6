"""Core speed benchmark of ``lca`` against StepMix on simulated survey data.

The data imitate the separation-type study: 9 indicators with 2 to 7
categories and 5 latent classes of unequal size, drawn from one fixed set of
parameters; every engine fits the very same rows.

Workloads
---------
A. ``N = 2,767`` respondents: a 5-class maximum-likelihood fit from 10 random
   starts, every start run to convergence (relative tolerance 1e-8, at most
   1000 iterations). Wall time, best log-likelihood, starts at the best.
B. ``N = 1,000,000`` respondents: 200 plain EM iterations from one random
   start. Total time, time per iteration and the marginal cost of one more
   iteration. ``lca`` compresses the rows to distinct answer patterns, so their
   number is reported too.
C. Numba compilation: ``import lca`` plus a first tiny fit in a fresh Python
   process, once with an empty numba cache and once with the cache it left.
D. The study's model-selection sweep on the data of A: 2 to 10 classes, 10
   random starts per K, at most 1000 iterations, relative tolerance 1e-8,
   maximum likelihood. lca with its default search (every start screened by
   50 iterations, the best 2 finished), with every start finished, and with
   50 starts screened; the peers finish all 10 starts. Peers: polca (PyPI,
   C++ core; needs Python >= 3.12, so it runs ``peer_polca.py`` in the venv
   ``benchmarks/.venv-polca``, see that script, or ``--polca-python``) and
   StepMix (in this process; slow: about 8 minutes here). Wall time of the
   whole sweep, best log-likelihood per K, and which K lca's best is below
   the best any peer found (relative tolerance 1e-6).

The in-process timings of A and B exclude compilation: a tiny fit warms the
kernels up first. Results go to ``<out>/core.json`` and ``<out>/core.md``
(rewritten after every workload, so an interrupted run keeps what it
measured); the Markdown is also printed to stdout, progress goes to stderr.

Usage::

    python benchmarks/bench_core.py            # full run, 10+ minutes with StepMix's sweep
    python benchmarks/bench_core.py --quick    # smoke test of A, B and D, under a minute
    python benchmarks/bench_core.py --quick --workloads ABC   # also C (cold compile)
    python benchmarks/bench_core.py --workloads D --sweep-peers polca   # the sweep, no StepMix
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import lca

if TYPE_CHECKING:
    from stepmix import StepMix

#: Categories of the 9 indicators.
CATEGORIES = (4, 4, 5, 5, 5, 5, 4, 2, 7)
#: True class sizes (5 classes).
CLASS_SIZES = (0.41, 0.21, 0.16, 0.18, 0.04)
N_CLASSES = len(CLASS_SIZES)
#: Concentration of the Dirichlet drawing each class-conditional distribution.
DIRICHLET_ALPHA = 0.5
PARAM_SEED = 20240601
DATA_SEED_A = 1
DATA_SEED_B = 2
#: Workload A settings (both engines).
N_STARTS = 10
MAX_ITER_A = 1000
TOL_A = 1e-8
#: Workload D: the sweep.
SWEEP_KS = tuple(range(2, 11))
#: Default location of the Python that runs peer_polca.py.
POLCA_PYTHON = Path(__file__).resolve().parent / ".venv-polca" / "bin" / "python"
#: Workload B: EM iterations.
ITER_B = 200
#: Iterations of the StepMix probe that decides whether B runs at full size.
PROBE_ITERS = 5
#: Two log-likelihoods within this relative distance are "the same optimum".
SAME_OPTIMUM_RTOL = 1e-6
#: Pause before each timed call: OpenBLAS worker threads left spinning by the previous
#: call (StepMix's matrix products) would otherwise add to the next call's CPU time.
SETTLE_S = 0.3


@dataclass(frozen=True)
class Config:
    n_a: int
    n_b: int
    n_b_fallback: int
    repeats_a: int
    repeats_b_lca: int
    repeats_compile: int
    stepmix_budget: float
    repeats_sweep: int = 3
    sweep_ks: tuple[int, ...] = SWEEP_KS


FULL = Config(
    n_a=2_767,
    n_b=1_000_000,
    n_b_fallback=100_000,
    repeats_a=3,
    repeats_b_lca=3,
    repeats_compile=2,
    stepmix_budget=180.0,
)
QUICK = Config(
    n_a=500,
    n_b=10_000,
    n_b_fallback=1_000,
    repeats_a=1,
    repeats_b_lca=1,
    repeats_compile=1,
    stepmix_budget=20.0,
    repeats_sweep=1,
    sweep_ks=(2, 3, 4),
)


# -- helpers -------------------------------------------------------------------
_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress line on stderr with the elapsed time."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Timing:
    """Wall and CPU seconds (all threads of this process) of repeated calls.

    CPU time is less sensitive than wall time to other processes competing for
    the cores; for a multi-threaded call it exceeds the wall time.
    """

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, fn: Callable[[], Any]) -> Any:
        gc.collect()
        time.sleep(SETTLE_S)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        out = fn()
        self.wall.append(time.perf_counter() - wall0)
        self.cpu.append(time.process_time() - cpu0)
        return out

    @property
    def median_wall(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def min_wall(self) -> float:
        return min(self.wall)


def repeated(fn: Callable[[], Any], repeats: int) -> tuple[Timing, Any]:
    """Timing of ``repeats`` calls and the last result."""
    timing, out = Timing(), None
    for _ in range(repeats):
        out = timing.add(fn)
    return timing, out


def count_at_best(logliks: np.ndarray) -> int:
    """How many starts end within SAME_OPTIMUM_RTOL of the best log-likelihood."""
    finite = logliks[np.isfinite(logliks)]
    best = finite.max()
    return int(np.sum(np.abs(finite - best) <= SAME_OPTIMUM_RTOL * abs(best)))


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other processes may compete for the cores."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, cwd=cwd, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return proc.stdout.strip()


def lca_provenance() -> dict[str, Any]:
    """Where the measured ``lca`` was imported from and, in a git checkout, its state.

    ``lca_source`` is ``"commit"`` for a clean checkout, ``"working tree"`` when
    files of the package differ from the commit (the figures then describe
    uncommitted code) and ``"snapshot"`` for a ``git archive`` export whose folder
    holds a ``REVISION`` file (see the README).
    """
    pkg = Path(lca.__file__).resolve().parent
    commit = _git(["rev-parse", "--short", "HEAD"], pkg)
    if commit is None:
        revision = pkg.parent / "REVISION"
        if revision.is_file():
            commit = revision.read_text().strip()
        source = "snapshot" if commit else "outside git"
        return {"lca_path": str(pkg), "lca_commit": commit, "lca_source": source}
    dirty = _git(["status", "--porcelain", "--", "."], pkg)
    source = "working tree" if dirty else "commit"
    return {"lca_path": str(pkg), "lca_commit": commit, "lca_source": source}


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def machine_info() -> dict[str, Any]:
    """CPU, cores, thread settings, package versions and the measured lca."""
    import numba
    import sklearn
    import stepmix

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas: list[dict[str, Any]] = []
    try:
        from threadpoolctl import threadpool_info

        blas = [
            {k: d.get(k) for k in ("internal_api", "version", "num_threads")}
            for d in threadpool_info()
        ]
    except ImportError:
        pass
    bench_dir = Path(__file__).resolve().parent
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "stepmix": getattr(stepmix, "__version__", _dist_version("stepmix")),
        "scikit_learn": sklearn.__version__,
        "blas": blas,
        "lca": lca.__version__,
        **lca_provenance(),
        "benchmark_commit": _git(["rev-parse", "--short", "HEAD"], bench_dir),
    }


# -- data ----------------------------------------------------------------------
def true_parameters() -> dict[str, np.ndarray]:
    """Class-conditional probabilities, (C_j x K) per indicator, from a fixed seed."""
    rng = np.random.default_rng(PARAM_SEED)
    return {
        f"q{j + 1}": rng.dirichlet(np.full(c, DIRICHLET_ALPHA), size=N_CLASSES).T
        for j, c in enumerate(CATEGORIES)
    }


def integer_codes(df: pd.DataFrame) -> np.ndarray:
    """Categorical columns as 0-based integer codes (StepMix's input)."""
    return np.column_stack([df[c].cat.codes.to_numpy(dtype=np.int64) for c in df.columns])


def distinct_patterns(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``codes`` and how often each occurs."""
    patterns, counts = np.unique(codes, axis=0, return_counts=True)
    return patterns, counts.astype(float)


def tiny_data() -> pd.DataFrame:
    """200 rows, 3 binary indicators, 2 classes: enough to run every kernel once."""
    probs = {
        "a": [[0.8, 0.2], [0.2, 0.8]],
        "b": [[0.7, 0.3], [0.3, 0.7]],
        "c": [[0.9, 0.1], [0.1, 0.9]],
    }
    return lca.simulate([0.5, 0.5], probs, 200, random_state=0)[0]


# -- engines -------------------------------------------------------------------
def lca_model(**options: Any) -> lca.LatentClassModel:
    base = {"n_classes": N_CLASSES, "bayes_constant": 0.0, "random_state": 0, "n_jobs": 1}
    return lca.LatentClassModel(**{**base, **options})


def stepmix_model(n_init: int, max_iter: int, rel_tol: float) -> StepMix:
    """StepMix categorical LCA; ``abs_tol=0`` so only the relative criterion stops EM."""
    from stepmix import StepMix

    return StepMix(
        n_components=N_CLASSES,
        measurement="categorical",
        n_init=n_init,
        max_iter=max_iter,
        abs_tol=0.0,
        rel_tol=rel_tol,
        init_params="random",
        verbose=0,
        progress_bar=0,
        random_state=0,
    )


def warm_up() -> None:
    """Compile (or load) the numba kernels and import StepMix's stack."""
    df = tiny_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lca_model(n_classes=2, n_starts=2).fit(df)
        stepmix_model(n_init=1, max_iter=5, rel_tol=0.0).fit(integer_codes(df))


# -- workload A ----------------------------------------------------------------
def workload_a(df: pd.DataFrame, cfg: Config) -> dict[str, Any]:
    """10 random starts, each to convergence; both engines, maximum likelihood.

    The engines take turns within each repeat, so a change in the machine's load
    falls on all of them alike.
    """
    n = len(df)
    codes = integer_codes(df)

    def lca_fit(accelerate: bool) -> Callable[[], Any]:
        return lambda: lca_model(
            n_starts=N_STARTS,
            n_final=N_STARTS,  # no burn-in selection: every start runs to convergence
            max_iter=MAX_ITER_A,
            tol=TOL_A,
            accelerate=accelerate,
        ).fit(df)

    engines: dict[str, Callable[[], Any]] = {
        "lca (SQUAREM, default)": lca_fit(True),
        "lca (plain EM)": lca_fit(False),
        "StepMix": lambda: stepmix_model(N_STARTS, MAX_ITER_A, TOL_A).fit(codes),
    }
    timings = {name: Timing() for name in engines}
    fitted: dict[str, Any] = {}
    for r in range(cfg.repeats_a):
        for name, fit in engines.items():
            log(f"A: repeat {r + 1}/{cfg.repeats_a}, {name}")
            fitted[name] = timings[name].add(fit)

    rows: list[dict[str, Any]] = []
    for name, model in fitted.items():
        if name == "StepMix":
            # score() and lower_bound_buffer_ (each start at its final parameters) are
            # average log-likelihoods
            loglik = float(model.score(codes) * n)
            start_ll = np.asarray(model.lower_bound_buffer_, dtype=float) * n
        else:
            loglik = float(model.loglik_)
            start_ll = np.asarray(model.start_objectives_, dtype=float)  # no priors: logliks
        t = timings[name]
        rows.append(
            {
                "engine": name,
                "wall_s": t.wall,
                "cpu_s": t.cpu,
                "median_s": t.median_wall,
                "min_s": t.min_wall,
                "median_cpu_s": t.median_cpu,
                "loglik": loglik,
                "start_logliks": start_ll.tolist(),
                "starts_at_best": count_at_best(start_ll),
                "n_iter_best": int(model.n_iter_),
                # StepMix's flag is True as soon as any one start converged
                "converged": bool(model.converged_),
            }
        )
    by = {r["engine"]: r for r in rows}
    stepmix_t = by["StepMix"]["median_s"]
    return {
        "n": n,
        "n_patterns": len(distinct_patterns(codes)[0]),
        "rows": rows,
        "ratio_stepmix_over_lca": stepmix_t / by["lca (SQUAREM, default)"]["median_s"],
        "ratio_stepmix_over_lca_plain_em": stepmix_t / by["lca (plain EM)"]["median_s"],
        "ratio_cpu_stepmix_over_lca": by["StepMix"]["median_cpu_s"]
        / by["lca (SQUAREM, default)"]["median_cpu_s"],
        "loglik_lca_minus_stepmix": by["lca (SQUAREM, default)"]["loglik"]
        - by["StepMix"]["loglik"],
    }


# -- workload B ----------------------------------------------------------------
def _lca_b(df: pd.DataFrame, max_iter: int, n_jobs: int) -> lca.LatentClassModel:
    # tol=1e-300 is met only once an EM step no longer raises the log-likelihood at all (a
    # floating-point fixed point), so max_iter E-steps run unless EM gets there first
    return lca_model(
        n_starts=1, n_final=1, max_iter=max_iter, tol=1e-300, accelerate=False, n_jobs=n_jobs
    ).fit(df)


def _b_row(
    engine: str,
    rows_fitted: int,
    full: Timing,
    n_iter_full: int,
    one: Timing,
    n_iter_one: int,
    loglik: float,
    scale: float = 1.0,
    note: str = "",
) -> dict[str, Any]:
    if n_iter_full < ITER_B and not note:
        note = f"EM reached a floating-point fixed point after {n_iter_full} iterations"
    extra = max(1, n_iter_full - n_iter_one)
    marginal = (full.median_wall - one.median_wall) / extra
    return {
        "engine": engine,
        "rows_fitted": rows_fitted,
        "n_iter": n_iter_full,
        "wall_s": full.wall,
        "cpu_s": full.cpu,
        "total_s": full.median_wall,
        "total_cpu_s": full.median_cpu,
        "one_iter_wall_s": one.wall,
        "one_iter_cpu_s": one.cpu,
        "per_iter_s": full.median_wall / n_iter_full,
        "marginal_per_iter_s": marginal,
        "marginal_cpu_per_iter_s": (full.median_cpu - one.median_cpu) / extra,
        "scale_to_n_b": scale,
        "per_iter_at_n_b_s": scale * full.median_wall / n_iter_full,
        "marginal_per_iter_at_n_b_s": scale * marginal,
        "loglik_after": loglik,
        "note": note,
    }


def workload_b(df: pd.DataFrame, cfg: Config) -> dict[str, Any]:
    """200 plain EM iterations from one start at a million rows."""
    n = len(df)
    codes = integer_codes(df)
    unique = Timing()
    patterns, counts = unique.add(lambda: distinct_patterns(codes))
    log(f"B: {n:,} rows, {len(patterns):,} distinct patterns")
    rows: list[dict[str, Any]] = []

    for label, n_jobs in (("lca (n_jobs=1)", 1), ("lca (n_jobs=-1)", -1)):
        log(f"B: {label}, {cfg.repeats_b_lca} repeat(s)")
        _lca_b(df, 1, n_jobs)  # untimed: first use of this data size and thread pool
        one, m_one = repeated(lambda n_jobs=n_jobs: _lca_b(df, 1, n_jobs), cfg.repeats_b_lca)
        full, m = repeated(lambda n_jobs=n_jobs: _lca_b(df, ITER_B, n_jobs), cfg.repeats_b_lca)
        rows.append(
            _b_row(label, n, full, int(m.n_iter_), one, int(m_one.n_iter_), float(m.loglik_))
        )

    # StepMix: probe the cost of an iteration at full size, then decide
    log(f"B: StepMix probe at {n:,} rows ({PROBE_ITERS} iterations)")
    one_full, _ = repeated(lambda: stepmix_model(1, 1, 0.0).fit(codes), 1)
    probe_t, _ = repeated(lambda: stepmix_model(1, 1 + PROBE_ITERS, 0.0).fit(codes), 1)
    probe_marginal = (probe_t.median_wall - one_full.median_wall) / PROBE_ITERS
    estimate = one_full.median_wall + (ITER_B - 1) * probe_marginal
    probe = {
        "rows": n,
        "one_iter_s": one_full.median_wall,
        "probe_iters": 1 + PROBE_ITERS,
        "probe_s": probe_t.median_wall,
        "marginal_per_iter_s": probe_marginal,
        "marginal_cpu_per_iter_s": (probe_t.median_cpu - one_full.median_cpu) / PROBE_ITERS,
        "estimated_total_s": estimate,
        "budget_s": cfg.stepmix_budget,
    }
    if estimate <= cfg.stepmix_budget:
        sub, scale, note, one = codes, 1.0, "", one_full
    else:
        sub = codes[: cfg.n_b_fallback]
        scale = n / len(sub)
        note = (
            f"run on the first {len(sub):,} rows and scaled x{scale:g} (estimated "
            f"{estimate:.0f} s at {n:,} rows > budget {cfg.stepmix_budget:.0f} s)"
        )
        log(f"B: StepMix {note}")
        one, _ = repeated(lambda: stepmix_model(1, 1, 0.0).fit(sub), 1)
    log(f"B: StepMix, {ITER_B} iterations on {len(sub):,} rows")
    full, sm = repeated(lambda: stepmix_model(1, ITER_B, 0.0).fit(sub), 1)
    loglik = float(sm.score(sub) * len(sub))
    rows.append(_b_row("StepMix", len(sub), full, int(sm.n_iter_), one, 1, loglik, scale, note))

    # StepMix on the distinct patterns with their counts as sample weights
    log(f"B: StepMix on {len(patterns):,} weighted distinct patterns")
    one, _ = repeated(lambda: stepmix_model(1, 1, 0.0).fit(patterns, sample_weight=counts), 1)
    full, smw = repeated(
        lambda: stepmix_model(1, ITER_B, 0.0).fit(patterns, sample_weight=counts), 1
    )
    loglik = float(smw.score(patterns, sample_weight=counts) * counts.sum())
    note = f"plus {unique.median_wall:.2f} s for np.unique, not included"
    rows.append(
        _b_row(
            "StepMix (weighted patterns)",
            len(patterns),
            full,
            int(smw.n_iter_),
            one,
            1,
            loglik,
            note=note,
        )
    )

    by = {r["engine"]: r for r in rows}
    lca1, sm_row = by["lca (n_jobs=1)"], by["StepMix"]
    return {
        "n": n,
        "n_patterns": len(patterns),
        "iterations": ITER_B,
        "unique_s": unique.median_wall,
        "stepmix_probe": probe,
        "rows": rows,
        "lca_same_result_any_n_jobs": by["lca (n_jobs=-1)"]["loglik_after"] == lca1["loglik_after"],
        "ratio_per_iter_stepmix_over_lca": sm_row["per_iter_at_n_b_s"] / lca1["per_iter_s"],
        "ratio_marginal_stepmix_over_lca": sm_row["marginal_per_iter_at_n_b_s"]
        / lca1["marginal_per_iter_s"],
    }


# -- workload C: compilation ---------------------------------------------------
_COMPILE_SNIPPET = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    import lca
    t1 = time.perf_counter()
    probs = {"a": [[0.8, 0.2], [0.2, 0.8]], "b": [[0.7, 0.3], [0.3, 0.7]],
             "c": [[0.9, 0.1], [0.1, 0.9]]}
    df, _ = lca.simulate([0.5, 0.5], probs, 200, random_state=0)
    def fit():
        lca.LatentClassModel(n_classes=2, n_starts=2, random_state=0).fit(df)
    t2 = time.perf_counter()
    fit()
    t3 = time.perf_counter()
    fit()
    t4 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "first_fit_s": t3 - t2, "second_fit_s": t4 - t3,
                      "lca_file": lca.__file__}))
    """
)


def _compile_run(cache_dir: str) -> dict[str, Any]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    start = time.perf_counter()
    # cwd: with ``-c`` the working directory comes first on sys.path, and a checkout's
    # lca/ there would shadow the lca this process imported (e.g. a snapshot on PYTHONPATH)
    proc = subprocess.run(
        [sys.executable, "-c", _COMPILE_SNIPPET],
        env=env,
        cwd=cache_dir,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        log(f"C: run failed (exit {proc.returncode}); its stderr is kept in the JSON")
        return {"error": proc.stderr[-4000:], "process_s": elapsed}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = elapsed
    if Path(out.pop("lca_file")).resolve().parent != Path(lca.__file__).resolve().parent:
        raise RuntimeError("the compile-time subprocess imported another lca than this process")
    return out


def compile_times(cfg: Config) -> dict[str, Any]:
    """``import lca`` + first tiny fit in fresh processes, cold and warm numba cache."""
    runs: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
    for r in range(cfg.repeats_compile):
        with tempfile.TemporaryDirectory(prefix="lca-numba-cache-") as cache_dir:
            log(f"C: cold run {r + 1} (empty NUMBA_CACHE_DIR)")
            runs["cold"].append(_compile_run(cache_dir))
            log(f"C: warm run {r + 1} (the cache the cold run left)")
            runs["warm"].append(_compile_run(cache_dir))
    median: dict[str, dict[str, float] | None] = {}
    for kind, lst in runs.items():
        ok = [run for run in lst if "error" not in run]
        median[kind] = (
            {key: statistics.median(run[key] for run in ok) for key in ok[0]} if ok else None
        )
    failed = sum("error" in run for lst in runs.values() for run in lst)
    return {"runs": runs, "median": median, "failed_runs": failed}


# -- workload D ----------------------------------------------------------------
def _lca_sweep(df: pd.DataFrame, ks, starts: int, **options: Any) -> dict[str, Any]:
    """``lca.compare`` over ``ks``: what a user runs for a model-selection table."""
    settings = {"n_starts": starts, "max_iter": MAX_ITER_A, "tol": TOL_A, "bayes_constant": 0.0}
    settings.update(random_state=0, n_jobs=1)
    start = time.perf_counter()
    res = lca.compare(df, ks, progress=False, **{**settings, **options})
    total = time.perf_counter() - start
    per_k = {
        str(k): {
            "loglik": float(res.models[k].loglik_),
            "n_estep": int(res.models[k].n_iter_),
            "converged": bool(res.models[k].converged_),
        }
        for k in ks
    }
    return {"total_s": total, "per_k": per_k}


def _stepmix_sweep(codes: np.ndarray, ks, starts: int) -> dict[str, Any]:
    per_k = {}
    start = time.perf_counter()
    for k in ks:
        t0 = time.perf_counter()
        model = stepmix_model(starts, MAX_ITER_A, TOL_A)
        model.set_params(n_components=k)
        model.fit(codes)
        per_k[str(k)] = {
            "wall_s": time.perf_counter() - t0,
            "loglik": float(model.score(codes) * len(codes)),
            "n_estep": int(model.n_iter_),
            "converged": bool(model.converged_),
        }
    return {"total_s": time.perf_counter() - start, "per_k": per_k}


def _polca_sweep(
    codes: np.ndarray, ks, starts: int, python: Path, repeats: int
) -> list[dict[str, Any]]:
    script = Path(__file__).resolve().parent / "peer_polca.py"
    with tempfile.TemporaryDirectory(prefix="lca-bench-") as tmp:
        data = Path(tmp) / "codes.npy"
        np.save(data, codes)
        cmd = [
            str(python), str(script), "--data", str(data), "--ks", ",".join(map(str, ks)),
            "--starts", str(starts), "--max-iter", str(MAX_ITER_A), "--tol", str(TOL_A),
            "--seed", "0", "--repeats", str(repeats),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"peer_polca.py failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def workload_d(
    df: pd.DataFrame, cfg: Config, peers: set[str], polca_python: Path, starts: int
) -> dict:
    """The 2..10 sweep with ``starts`` random starts per K: lca and the peers; medians."""
    codes = integer_codes(df)
    ks = cfg.sweep_ks
    engines: dict[str, Callable[[], dict[str, Any]]] = {
        "lca, 1 thread": lambda: _lca_sweep(df, ks, starts),
        "lca, 2 threads": lambda: _lca_sweep(df, ks, starts, n_jobs=-1),
        "lca, no pattern starts, 2 threads": lambda: _lca_sweep(
            df, ks, starts, n_jobs=-1, pattern_starts=0
        ),
        "lca, random starts only, 2 threads": lambda: _lca_sweep(
            df, ks, starts, n_jobs=-1, split_starts=False
        ),
        "lca, split and merge starts, 2 threads": lambda: _lca_sweep(
            df, ks, starts, n_jobs=-1, merge_starts=True
        ),
        "lca, split starts and split-merge moves, 2 threads": lambda: _lca_sweep(
            df, ks, starts, n_jobs=-1, split_merge=starts
        ),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
    for r in range(cfg.repeats_sweep):
        for name, fn in engines.items():
            log(f"D{starts}: repeat {r + 1}/{cfg.repeats_sweep}, {name}")
            time.sleep(SETTLE_S)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                runs[name].append(fn())
    notes = {}
    if "polca" in peers:
        if not polca_python.exists() and importlib.util.find_spec("pypolca") is not None:
            polca_python = Path(sys.executable)  # Python >= 3.12 with the bench extra
        if polca_python.exists():
            log(f"D{starts}: polca via {polca_python} (1 repeat)")
            out = _polca_sweep(codes, ks, starts, polca_python, 1)
            runs[f"polca {out['polca_version']}"] = out["repeats"]
        else:
            notes["polca"] = f"not run: no {polca_python} (see peer_polca.py to set it up)"
    if "stepmix" in peers:
        log(f"D{starts}: StepMix (1 repeat, minutes)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs["StepMix"] = [_stepmix_sweep(codes, ks, starts)]
    rows = []
    for name, reps in runs.items():
        best = reps[int(np.argsort([r["total_s"] for r in reps])[len(reps) // 2])]
        rows.append(
            {
                "engine": name,
                "peer": not name.startswith("lca"),
                "total_s": [r["total_s"] for r in reps],
                "median_s": statistics.median(r["total_s"] for r in reps),
                "per_k": best["per_k"],
            }
        )
    peer_rows = [r for r in rows if r["peer"]]
    result: dict[str, Any] = {
        "n": len(df), "ks": list(ks), "starts": starts, "rows": rows, "notes": notes
    }  # fmt: skip
    if peer_rows:
        fastest = min(peer_rows, key=lambda r: r["median_s"])
        best_peer = {k: max(r["per_k"][str(k)]["loglik"] for r in peer_rows) for k in ks}
        for r in rows:
            if r["peer"]:
                continue
            r["ratio_fastest_peer"] = fastest["median_s"] / r["median_s"]
            r["k_below_best_peer"] = [
                k
                for k in ks
                if r["per_k"][str(k)]["loglik"]
                < best_peer[k] - SAME_OPTIMUM_RTOL * abs(best_peer[k])
            ]
        result["fastest_peer"] = fastest["engine"]
        result["best_peer_loglik"] = {str(k): v for k, v in best_peer.items()}
    return result


# -- workload E ----------------------------------------------------------------
#: Iteration cap of workload E: high, so that slow plain-EM runs are counted in full.
MAX_ITER_E = 20_000


def workload_e(df: pd.DataFrame, cfg: Config, starts: int = 10) -> dict[str, Any]:
    """Plain EM against SQUAREM from the same random starts, every K of the sweep.

    Each start runs to convergence (relative tolerance TOL_A, at most MAX_ITER_E
    E-steps) once without and once with acceleration; E-steps are counted and the
    final objectives compared. No burn-in selection: every start is finished.
    """
    from lca import _em, _kernels

    rows = []
    for k in cfg.sweep_ks:
        with warnings.catch_warnings():  # one iteration: only its pattern table is used
            warnings.simplefilter("ignore", lca.ConvergenceWarning)
            model = lca_model(n_classes=k, n_starts=1, max_iter=1).fit(df)
        patterns, weights, offsets = model._patterns, model._pattern_weights, model._offsets
        answer_rows = _kernels.pattern_rows(patterns, offsets)
        ordinal = np.zeros(len(offsets) - 1, dtype=np.bool_)
        cond_prior = np.zeros(int(offsets[-1]))
        rng = np.random.default_rng(k)
        for s in range(starts):
            start = _em.random_start(rng, k, offsets)
            row: dict[str, Any] = {"k": k, "start": s}
            for name, accelerate in (("plain", False), ("squarem", True)):
                t0 = time.perf_counter()
                out = _kernels.run_em(
                    patterns, answer_rows, weights, offsets, *start, 0.0, cond_prior, ordinal,
                    MAX_ITER_E, TOL_A, accelerate,
                )  # fmt: skip
                row[name] = {
                    "objective": float(out[2]),
                    "n_estep": int(out[4]),
                    "converged": bool(out[5]),
                    "wall_s": time.perf_counter() - t0,
                }
            a, b = row["plain"]["objective"], row["squarem"]["objective"]
            row["same_optimum"] = abs(a - b) <= SAME_OPTIMUM_RTOL * abs(a)
            row["squarem_minus_plain"] = b - a
            rows.append(row)
    same = [r for r in rows if r["same_optimum"]]
    total = {name: sum(r[name]["n_estep"] for r in same) for name in ("plain", "squarem")}
    per_k = {}
    for k in cfg.sweep_ks:
        rk = [r for r in rows if r["k"] == k]
        sk = [r for r in rk if r["same_optimum"]]
        per_k[str(k)] = {
            "runs": len(rk),
            "same_optimum": len(sk),
            "squarem_higher": sum(
                r["squarem_minus_plain"] > 0 for r in rk if not r["same_optimum"]
            ),
            "plain_estep": sum(r["plain"]["n_estep"] for r in sk),
            "squarem_estep": sum(r["squarem"]["n_estep"] for r in sk),
            "plain_wall_s": sum(r["plain"]["wall_s"] for r in sk),
            "squarem_wall_s": sum(r["squarem"]["wall_s"] for r in sk),
            "plain_not_converged": sum(not r["plain"]["converged"] for r in rk),
        }
    return {
        "n": len(df),
        "starts": starts,
        "max_iter": MAX_ITER_E,
        "tol": TOL_A,
        "runs": rows,
        "per_k": per_k,
        "same_optimum": len(same),
        "total_estep": total,
        "ratio_estep_plain_over_squarem": total["plain"] / max(1, total["squarem"]),
        "ratio_wall_plain_over_squarem": sum(r["plain"]["wall_s"] for r in same)
        / max(1e-12, sum(r["squarem"]["wall_s"] for r in same)),
    }


def _markdown_e(e: dict[str, Any]) -> list[str]:
    lines = [
        f"## E. EM acceleration: plain EM and SQUAREM from the same {e['starts']} random starts "
        f"per K (N = {e['n']:,})",
        "",
        f"Every start run to convergence both ways (relative tolerance {e['tol']:g}, at most "
        f"{e['max_iter']:,} E-steps), maximum likelihood. E-steps are summed over the starts "
        "where both reach the same optimum (relative 1e-6).",
        "",
        "| K | same optimum | SQUAREM higher elsewhere | E-steps plain | E-steps SQUAREM | ratio "
        "| plain not converged |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, r in e["per_k"].items():
        ratio = r["plain_estep"] / max(1, r["squarem_estep"])
        lines.append(
            f"| {k} | {r['same_optimum']}/{r['runs']} | {r['squarem_higher']} "
            f"| {r['plain_estep']:,} | {r['squarem_estep']:,} | {ratio:.1f}x "
            f"| {r['plain_not_converged']} |"
        )
    lines += [
        "",
        f"All K: **{e['ratio_estep_plain_over_squarem']:.1f}x fewer E-steps** with SQUAREM "
        f"({e['total_estep']['plain']:,} against {e['total_estep']['squarem']:,}, "
        f"{e['same_optimum']} runs at the same optimum); wall time "
        f"{e['ratio_wall_plain_over_squarem']:.1f}x.",
        _load(e),
        "",
    ]
    return lines


# -- report --------------------------------------------------------------------
def _s(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def _load(section: dict[str, Any]) -> str:
    before, after = section["load_before"], section["load_after"]
    return f"Load average (1/5/15 min) before: {before}, after: {after}."


def _markdown_a(a: dict[str, Any]) -> list[str]:
    lines = [
        f"## A. {N_CLASSES} classes, {N_STARTS} random starts each run to convergence "
        f"(N = {a['n']:,}, {a['n_patterns']:,} distinct patterns)",
        "",
        f"Relative tolerance {TOL_A:g}, at most {MAX_ITER_A} iterations, maximum likelihood.",
        "",
        "| engine | wall time: median (min) | CPU time (median) | repeats "
        "| best log-likelihood | starts at best | iterations of best start | converged |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in a["rows"]:
        lines.append(
            f"| {r['engine']} | {_s(r['median_s'])} ({_s(r['min_s'])}) | {_s(r['median_cpu_s'])} "
            f"| {len(r['wall_s'])} | {r['loglik']:.4f} | {r['starts_at_best']}/{N_STARTS} "
            f"| {r['n_iter_best']} | {r['converged']} |"
        )
    lines += [
        "",
        f"StepMix / lca wall time: **{a['ratio_stepmix_over_lca']:.1f}x** (lca default, "
        f"SQUAREM); {a['ratio_stepmix_over_lca_plain_em']:.1f}x (lca plain EM); CPU time "
        f"{a['ratio_cpu_stepmix_over_lca']:.1f}x (lca default). "
        f"Best log-likelihood, lca minus StepMix: {a['loglik_lca_minus_stepmix']:+.2e}.",
        _load(a),
        "",
    ]
    return lines


def _markdown_b(b: dict[str, Any]) -> list[str]:
    lines = [
        f"## B. {b['iterations']} EM iterations, {N_CLASSES} classes, one start "
        f"(N = {b['n']:,} rows, {b['n_patterns']:,} distinct patterns)",
        "",
        "Time per iteration = total fit time / iterations; marginal = (total - time of a "
        "1-iteration fit) / (iterations - 1), i.e. without the fixed cost of reading the data.",
        "",
        "| engine | rows fitted | iterations | total wall | total CPU | wall / iteration "
        "| marginal wall / iteration | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in b["rows"]:
        tag = " (scaled)" if r["scale_to_n_b"] != 1.0 else ""
        lines.append(
            f"| {r['engine']} | {r['rows_fitted']:,} | {r['n_iter']} | {_s(r['total_s'])} "
            f"| {_s(r['total_cpu_s'])} | {_s(r['per_iter_at_n_b_s'])}{tag} "
            f"| {_s(r['marginal_per_iter_at_n_b_s'])}{tag} | {r['note']} |"
        )
    p = b["stepmix_probe"]
    lines += [
        "",
        f"StepMix / lca (n_jobs=1) per iteration: **{b['ratio_per_iter_stepmix_over_lca']:.0f}x**; "
        f"marginal: {b['ratio_marginal_stepmix_over_lca']:.0f}x.",
        f"StepMix probe at {p['rows']:,} rows: {_s(p['marginal_per_iter_s'])} per extra "
        f"iteration, {_s(p['one_iter_s'])} for a 1-iteration fit "
        f"(estimated {p['estimated_total_s']:.0f} s for {b['iterations']} iterations; "
        f"budget {p['budget_s']:.0f} s).",
        _load(b),
        "",
    ]
    return lines


def _markdown_c(c: dict[str, Any]) -> list[str]:
    lines = [
        "## C. Numba compilation (fresh process, `import lca` + first tiny fit)",
        "",
        "| numba cache | import lca | first tiny fit | second tiny fit | whole process |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, label in (("cold", "cold (empty NUMBA_CACHE_DIR)"), ("warm", "warm (cached)")):
        m = c["median"][kind]
        if m is None:
            lines.append(f"| {label} | failed | | | |")
            continue
        lines.append(
            f"| {label} | {_s(m['import_s'])} | {_s(m['first_fit_s'])} "
            f"| {_s(m['second_fit_s'])} | {_s(m['process_s'])} |"
        )
    n_runs = len(c["runs"]["cold"])
    lines += [
        "",
        f"Medians of {n_runs} run(s) each; failed runs: {c['failed_runs']}.",
        _load(c),
        "",
    ]
    return lines


def _markdown_d(d: dict[str, Any]) -> list[str]:
    ks = d["ks"]
    lines = [
        f"## D{d['starts']}. Model-selection sweep: {ks[0]}..{ks[-1]} classes, {d['starts']} "
        f"random starts per K (N = {d['n']:,})",
        "",
        f"At most {MAX_ITER_A} iterations, relative tolerance {TOL_A:g}, maximum likelihood. "
        "lca runs `lca.compare` (its default search: every start 50 iterations, the best "
        "quarter (at least 2) to convergence; with split starts, also K-1 starts from the "
        "K-1 class model with one class split in two; with merge starts, a second pass "
        "down refits every K from the K+1 class model with each pair of classes merged; with "
        "split-merge moves (`split_merge=` as many as the random starts), after the starts, "
        "moves that merge two classes of the best solution and split one are fitted in "
        "batches of 10 and adopted when they raise the likelihood; the "
        "fit statistics and bivariate residuals of every model are included). "
        "Wall time of the whole sweep (median of repeats); the ratio is the fastest peer's "
        "time over lca's; 'below best peer' lists the K where lca's best log-likelihood is "
        "lower than the best any peer found (relative tolerance 1e-6).",
        "",
        "| engine | sweep wall time | repeats | fastest peer / this | K below best peer |",
        "|---|---:|---:|---:|---|",
    ]
    for r in d["rows"]:
        ratio = f"{r['ratio_fastest_peer']:.0f}x" if "ratio_fastest_peer" in r else ""
        below = r.get("k_below_best_peer")
        below = "" if below is None else (", ".join(map(str, below)) or "none")
        lines.append(
            f"| {r['engine']} | {_s(r['median_s'])} | {len(r['total_s'])} | {ratio} | {below} |"
        )
    lines += ["", "Best log-likelihood per K:", ""]
    lines.append("| engine | " + " | ".join(f"K={k}" for k in ks) + " |")
    lines.append("|---|" + "---:|" * len(ks))
    for r in d["rows"]:
        cells = " | ".join(f"{r['per_k'][str(k)]['loglik']:.2f}" for k in ks)
        lines.append(f"| {r['engine']} | {cells} |")
    for peer, note in d.get("notes", {}).items():
        lines.append(f"\n{peer}: {note}")
    lines += ["", _load(d), ""]
    return lines


def markdown(results: dict[str, Any]) -> str:
    mi = results["machine"]
    where = f"{mi['lca_source']} {mi['lca_commit'] or ''}".strip()
    lines = [
        f"# lca core benchmark{' (QUICK smoke test)' if results['quick'] else ''}",
        "",
        f"Machine: {mi['cpu']}, {mi['usable_cores']} usable cores; Python {mi['python']}, "
        f"numpy {mi['numpy']}, numba {mi['numba']}, StepMix {mi['stepmix']}, "
        f"scikit-learn {mi['scikit_learn']}; lca {mi['lca']} from {mi['lca_path']} ({where}).",
        "",
        f"Data: {len(CATEGORIES)} indicators with categories {list(CATEGORIES)}, "
        f"{N_CLASSES} classes of sizes {list(CLASS_SIZES)}, class-conditional probabilities "
        f"from Dirichlet({DIRICHLET_ALPHA}) (seed {PARAM_SEED}).",
        "",
    ]
    for key, part in (("A", _markdown_a), ("B", _markdown_b), ("C", _markdown_c)):
        if key in results:
            lines += part(results[key])
    for key in sorted((k for k in results if k.startswith("D")), key=lambda k: int(k[1:])):
        lines += _markdown_d(results[key])
    if "E" in results:
        lines += _markdown_e(results["E"])
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def save(results: dict[str, Any], out: Path) -> str:
    """Write core.json and core.md; return the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "core.json", json.dumps(results, indent=2) + "\n")
    report = markdown(results)
    write_atomic(out / "core.md", report)
    return report


# -- main ----------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 repeat (smoke test)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="directory for core.json and core.md (default: benchmarks/results)",
    )
    parser.add_argument(
        "--workloads",
        default=None,
        help="which workloads to run, e.g. 'AC' (default: ABCDE; ABDE with --quick, since a cold "
        "numba compile alone takes longer than the quick run should)",
    )
    parser.add_argument(
        "--stepmix-budget",
        type=float,
        default=None,
        help="seconds StepMix may take for workload B at full size before it is run on a "
        "subsample and scaled (default 180; 20 with --quick)",
    )
    parser.add_argument(
        "--sweep-peers",
        default="polca,stepmix",
        help="peers of workload D, comma-separated from polca,stepmix (default both; StepMix "
        "takes minutes)",
    )
    parser.add_argument(
        "--polca-python",
        type=Path,
        default=POLCA_PYTHON,
        help=f"Python (>= 3.12) with polca installed (default {POLCA_PYTHON})",
    )
    parser.add_argument(
        "--sweep-starts",
        default="10,50",
        help="random starts per K of workload D, comma-separated: one sweep per value, each "
        "against the peers with the same starts (default 10,50)",
    )
    args = parser.parse_args(argv)
    try:
        sweep_starts = [int(v) for v in args.sweep_starts.split(",") if v.strip()]
    except ValueError:
        sweep_starts = []
    if not sweep_starts or min(sweep_starts) < 1:
        parser.error(f"--sweep-starts takes integers >= 1, got {args.sweep_starts!r}")
    cfg = QUICK if args.quick else FULL
    if args.stepmix_budget is not None:
        cfg = replace(cfg, stepmix_budget=args.stepmix_budget)
    todo = set((args.workloads or ("ABDE" if args.quick else "ABCDE")).upper())
    if not todo or not todo <= set("ABCDE"):
        parser.error(f"--workloads takes letters from 'ABCDE', got {args.workloads!r}")
    peers = {p.strip().lower() for p in args.sweep_peers.split(",") if p.strip()}
    if not peers <= {"polca", "stepmix"}:
        parser.error(f"--sweep-peers takes polca and/or stepmix, got {args.sweep_peers!r}")

    results: dict[str, Any] = {
        "quick": args.quick,
        "command": " ".join(["python", *(sys.argv if argv is None else ["bench_core.py", *argv])]),
        "config": asdict(cfg),
        "machine": machine_info(),
    }
    log(f"lca from {results['machine']['lca_path']} ({results['machine']['lca_source']})")
    log("warming up (compile or load the numba kernels)")
    warm_up()

    params = true_parameters()
    results["data"] = {
        "categories": list(CATEGORIES),
        "class_sizes": list(CLASS_SIZES),
        "dirichlet_alpha": DIRICHLET_ALPHA,
        "param_seed": PARAM_SEED,
        "data_seeds": {"A": DATA_SEED_A, "B": DATA_SEED_B},
        "true_conditional_probs": {k: v.tolist() for k, v in params.items()},
    }
    workloads: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    if "A" in todo:

        def run_a() -> dict[str, Any]:
            df_a, _ = lca.simulate(CLASS_SIZES, params, cfg.n_a, random_state=DATA_SEED_A)
            return workload_a(df_a, cfg)

        workloads.append(("A", run_a))
    if "B" in todo:

        def run_b() -> dict[str, Any]:
            log(f"B: simulating {cfg.n_b:,} rows")
            df_b, _ = lca.simulate(CLASS_SIZES, params, cfg.n_b, random_state=DATA_SEED_B)
            # both engines warn that 200 iterations did not converge: expected here
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return workload_b(df_b, cfg)

        workloads.append(("B", run_b))
    if "C" in todo:
        workloads.append(("C", lambda: compile_times(cfg)))
    if "D" in todo:
        for starts in sweep_starts:

            def run_d(starts: int = starts) -> dict[str, Any]:
                df_a, _ = lca.simulate(CLASS_SIZES, params, cfg.n_a, random_state=DATA_SEED_A)
                return workload_d(df_a, cfg, peers, args.polca_python, starts)

            workloads.append((f"D{starts}", run_d))
    if "E" in todo:

        def run_e() -> dict[str, Any]:
            df_a, _ = lca.simulate(CLASS_SIZES, params, cfg.n_a, random_state=DATA_SEED_A)
            return workload_e(df_a, cfg)

        workloads.append(("E", run_e))

    for key, run in workloads:
        before = load_average()
        section = run()
        section["load_before"], section["load_after"] = before, load_average()
        results[key] = section
        save(results, args.out)

    report = save(results, args.out)
    print(report)
    if "A" in results:
        a = results["A"]
        print(
            f"ratio A (StepMix / lca wall time): {a['ratio_stepmix_over_lca']:.2f}x "
            f"(lca plain EM: {a['ratio_stepmix_over_lca_plain_em']:.2f}x)"
        )
    if "B" in results:
        b = results["B"]
        print(
            f"ratio B (StepMix / lca time per iteration): "
            f"{b['ratio_per_iter_stepmix_over_lca']:.1f}x "
            f"(marginal {b['ratio_marginal_stepmix_over_lca']:.1f}x)"
        )
    for key in (k for k in results if k.startswith("D")):
        for r in results[key]["rows"]:
            if "ratio_fastest_peer" in r:
                print(
                    f"ratio {key} ({results[key]['fastest_peer']} / {r['engine']}): "
                    f"{r['ratio_fastest_peer']:.1f}x; K below best peer: {r['k_below_best_peer']}"
                )
    log(f"wrote {args.out / 'core.json'} and {args.out / 'core.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
