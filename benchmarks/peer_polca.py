"""Time the PyPI package ``polca`` (import name ``pypolca``) on a sweep over K.

A standalone peer script for ``bench_core.py``: it runs in its own virtual
environment (``polca`` needs Python >= 3.12) and imports only the standard
library, numpy, polars (a dependency of ``polca``, whose ``fit`` takes a
polars DataFrame) and ``polca`` itself, never ``lca``. Set it up with::

    /root/.pyenv/versions/3.12.1/bin/python3.12 -m venv benchmarks/.venv-polca
    benchmarks/.venv-polca/bin/pip install polca numpy pandas

and run it as::

    benchmarks/.venv-polca/bin/python benchmarks/peer_polca.py --data FILE.npy \
        --ks 2,3,4,5,6,7,8,9,10 --starts 10 --max-iter 1000 --tol 1e-8 --seed 0 --repeats 1

``FILE.npy`` holds an integer array (N x J) of 0-based category codes without
missing values. For every repeat and every K the script calls
``pypolca.fit(formula, data, nclass=K, nrep=starts, maxiter=..., tol=...,
seed=seed, calc_se=False)`` and times that call with ``time.perf_counter``
(the data are converted to a polars DataFrame once, before the sweep; a tiny
warm-up fit runs before any timing). It prints one JSON object to stdout::

    {"polca_version": ..., "python": ..., "settings": {...},
     "repeats": [{"total_s": ..., "per_k": {"2": {"wall_s": ..., "loglik": ...,
                  "n_iter": ..., ...}, ...}}]}

Progress goes to stderr.

What ``polca`` 0.4.0 does (source: github.com/marcandre259/pypolca, files
``pypolca/api.py`` as installed, ``src/cpp/core/em_engine.cpp`` and
``src/cpp/core/math_ops.cpp``):

* API. ``pypolca.fit(formula, data, nclass, maxiter=1000, tol=1e-10,
  verbose=False, na_rm=True, probs_start=None, beta_start=None, nrep=1,
  seed=None, max_restarts=100, calc_se=True)``; ``data`` is a polars
  DataFrame of 1-based codes (0 means missing to the C++ engine), formula
  ``"cbind(Y1, ..., YJ) ~ 1"``. Random starts: ``nrep``; each start ``r``
  gets C++ seed ``default_rng(seed).integers(0, 2**32)`` (api.py, ``fit``
  loop) and the engine draws every class-conditional distribution as
  normalised Exp(1) draws (a flat Dirichlet) from ``std::mt19937(seed)``,
  with equal class sizes. ``fit`` returns only the best start
  (``.loglik``, ``.iterations``, ``.converged``, ``.probs``, ``.prior``).
  The number of categories of an item is the largest code seen in it.
  ``calc_se=True`` (the default) computes standard errors after *every*
  start; ``lca``'s ``fit`` computes none, so this script passes
  ``calc_se=False`` (``--calc-se`` turns them back on).
* Log-likelihood. ``e_step`` (math_ops.cpp) returns
  ``sum_i logsumexp_k(log prior_ik + sum_j log theta_kj(y_ij))``, skipping
  items with code 0: the standard LL. Checked independently with numpy from
  the returned ``probs`` and ``prior`` on simulated data (N=600, 5 items,
  3 classes): equal to 5e-12 relative. ``.loglik`` belongs to the returned
  parameters (the E-step after the last M-step).
* Missing values. ``fit(na_rm=True)`` (the default, as R's poLCA) drops
  every row with a null (listwise deletion); ``na_rm=False`` codes nulls as
  0 and the engine leaves those items out of the row's likelihood and of
  the M-step denominators (full-information ML; checked with numpy too).
  The data here have no missing values.
* Convergence. em_engine.cpp, ``fit_em``: ``while (std::abs(dll) >= tol)``
  with ``dll = log_lik_latest - log_lik_prev`` the change of the
  log-likelihood over one EM iteration, i.e. it stops when the *absolute*
  change is below ``tol`` (checked empirically: with tol 1e-2 / 1e-3 / 1e-5
  the engine stops at the first iteration whose LL gain is below that
  value). ``lca`` stops when one EM step raises the objective by less than
  ``tol * |objective|`` (relative). With ``--tol-mode relative`` (the
  default) this script therefore passes polca the absolute tolerance
  ``tol * |LL_1|``, where ``LL_1`` is the log-likelihood of the
  one-class (independence) model of the same data, known in closed form
  before any fit. Since ``|LL_1| >= |LL_K|`` this is at most as strict as
  ``lca``'s rule at the optimum: polca's effective relative tolerance is
  ``tol * |LL_1| / |LL_K|``, reported per K as ``effective_rel_tol`` (a
  factor close to 1; EM's linear convergence turns it into a few
  iterations). ``--tol-mode absolute`` passes ``--tol`` unchanged.
* Iterations. ``maxiter`` bounds the EM iterations (M-step + E-step) after
  the initial E-step, so a start evaluates at most ``maxiter + 1``
  E-steps; ``lca``'s ``max_iter`` counts E-steps (initial one included).
  The script passes ``maxiter = max_iter - 1``, so both engines evaluate at
  most ``max_iter`` E-steps per start. ``n_iter`` reported is polca's own
  count for the best start (EM iterations); ``n_estep = n_iter + 1`` is the
  count comparable with ``lca``'s ``n_iter``. polca has no acceleration.
* Threads. The C++ core (Eigen, no OpenMP: ``ldd`` shows no libgomp) runs
  on one thread; the starts run one after another.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import sys
import time
from importlib.metadata import version

import numpy as np
import polars as pl
import pypolca


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_ks(text: str) -> list[int]:
    ks = [int(t) for t in text.split(",") if t.strip()]
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"--ks needs positive integers, got {text!r}")
    return ks


def load_codes(path: str) -> np.ndarray:
    y = np.load(path)
    if y.ndim != 2 or not np.issubdtype(y.dtype, np.integer):
        raise SystemExit(f"{path}: need a 2-D integer array, got {y.dtype} {y.shape}")
    if y.min() < 0:
        raise SystemExit(f"{path}: codes must be 0-based non-negative integers")
    return y.astype(np.int64)


def independence_loglik(y: np.ndarray) -> float:
    """Log-likelihood of the one-class model: sum_j sum_c n_jc log(n_jc / N)."""
    n = y.shape[0]
    total = 0.0
    for j in range(y.shape[1]):
        counts = np.bincount(y[:, j])
        counts = counts[counts > 0].astype(np.float64)
        total += float(np.sum(counts * np.log(counts / n)))
    return total


def fit_one(df: pl.DataFrame, formula: str, k: int, args: argparse.Namespace, tol_abs: float):
    return pypolca.fit(
        formula,
        df,
        nclass=k,
        maxiter=max(args.max_iter - 1, 1),
        tol=tol_abs,
        nrep=args.starts,
        seed=args.seed,
        calc_se=args.calc_se,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help=".npy file, int (N x J), 0-based codes")
    ap.add_argument("--ks", type=parse_ks, default=parse_ks("2,3,4,5,6,7,8,9,10"))
    ap.add_argument("--starts", type=int, default=10, help="random starts per K (polca nrep)")
    ap.add_argument("--max-iter", type=int, default=1000, help="most E-steps per start, as lca")
    ap.add_argument("--tol", type=float, default=1e-8)
    ap.add_argument(
        "--tol-mode",
        choices=("relative", "absolute"),
        default="relative",
        help="relative (default): --tol is relative as in lca and polca gets tol*|LL_1|; "
        "absolute: --tol goes to polca unchanged",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--calc-se", action="store_true", help="let polca compute standard errors")
    args = ap.parse_args(argv)

    y = load_codes(args.data)
    n, n_items = y.shape
    names = [f"Y{j + 1}" for j in range(n_items)]
    df = pl.DataFrame({name: y[:, j] + 1 for j, name in enumerate(names)})
    formula = "cbind(" + ", ".join(names) + ") ~ 1"
    ll_indep = independence_loglik(y)
    tol_abs = args.tol * abs(ll_indep) if args.tol_mode == "relative" else args.tol
    log(
        f"polca {version('polca')}: N={n}, J={n_items}, ks={args.ks}, starts={args.starts}, "
        f"max_iter={args.max_iter}, tol={args.tol} ({args.tol_mode}; polca tol={tol_abs:.6g}, "
        f"LL_1={ll_indep:.4f}), seed={args.seed}, repeats={args.repeats}"
    )

    # warm-up: first call into the extension, page faults, polars code paths
    pypolca.fit(formula, df.head(200), nclass=2, maxiter=5, tol=0.0, nrep=1, seed=0, calc_se=False)

    repeats = []
    for rep in range(args.repeats):
        per_k: dict[str, dict] = {}
        gc.collect()
        t_all = time.perf_counter()
        for k in args.ks:
            t0 = time.perf_counter()
            res = fit_one(df, formula, k, args, tol_abs)
            wall = time.perf_counter() - t0
            ll = float(res.loglik)
            n_iter = int(res.iterations)
            per_k[str(k)] = {
                "wall_s": wall,
                "loglik": ll,
                "n_iter": n_iter,
                "n_estep": n_iter + 1,
                "converged": bool(res.converged),
                "effective_rel_tol": tol_abs / abs(ll) if ll != 0 else math.inf,
            }
            log(
                f"  repeat {rep + 1}/{args.repeats} K={k}: {wall:.2f} s, LL={ll:.6f}, "
                f"iterations={n_iter}, converged={res.converged}"
            )
        total = time.perf_counter() - t_all
        log(f"repeat {rep + 1}/{args.repeats}: sweep {total:.2f} s")
        repeats.append({"total_s": total, "per_k": per_k})

    out = {
        "polca_version": version("polca"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "settings": {
            "data": args.data,
            "n": n,
            "n_items": n_items,
            "categories": [int(c) for c in y.max(axis=0) + 1],
            "ks": args.ks,
            "starts": args.starts,
            "max_iter": args.max_iter,
            "polca_maxiter": max(args.max_iter - 1, 1),
            "tol": args.tol,
            "tol_mode": args.tol_mode,
            "polca_tol": tol_abs,
            "loglik_1class": ll_indep,
            "seed": args.seed,
            "calc_se": args.calc_se,
        },
        "repeats": repeats,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
