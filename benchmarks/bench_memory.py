"""Peak memory of ``LatentClassModel.fit`` on 10 million rows (issue #5, target 3).

Target: fitting 10^7 rows adds at most twice the size of the data as int8
codes, plus the pattern table (distinct patterns x indicators x int16 plus
their float64 weights), to the process's memory at its peak.

The data are those of ``bench_core.py``: 9 indicators with 4, 4, 5, 5, 5, 5,
4, 2, 7 categories, 5 classes (``CATEGORIES``, ``CLASS_SIZES``,
``true_parameters()``), drawn with ``lca.simulate.draw_codes`` in blocks of
10^6 rows and held as a pandas DataFrame of Categorical columns (int8 codes,
labels 1..C). The model is ``LatentClassModel(5, n_starts=1, max_iter=5)``.

Every measurement runs in a fresh Python process (``NUMBA_NUM_THREADS=1``):
a tiny fit first loads the compiled kernels, the data are built, freed heap
memory is handed back (``malloc_trim``), then the resident set (VmRSS) is
read, its peak (VmHWM) reset by writing ``5`` to ``/proc/self/clear_refs``
(Linux), and the fit run; the peak is VmHWM after the fit, or the highest
peak a stage wrapper saw (a wrapper resets VmHWM). Two measurements:

* ``fit``: the whole fit, nothing patched: RSS before, peak, peak - before.
* ``stages``: the same fit with each stage wrapped (the functions ``fit``
  calls, looked up by name: weights check, ``learn_indicators``, ``encode``,
  ``compress`` or the fused ``encode_patterns``, EM ``_em.search``, and the
  statistics ``_pattern_posteriors`` + ``criteria.pattern_sums``); each
  wrapper resets the peak on entry and reports its peak above the RSS at
  entry, and the RSS it leaves behind (memory still held by what it
  returned).

Results: ``<out>/memory.json`` and ``<out>/memory.md`` (the Markdown is also
printed). No timing assertions; the wall time of each stage is reported for
information only.

Usage::

    python benchmarks/bench_memory.py                   # 10^7 rows, about 30 s
    python benchmarks/bench_memory.py --rows 3000000    # another size
    python benchmarks/bench_memory.py --quick           # 200,000 rows, to a temporary folder
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_SEED = 3
BLOCK_ROWS = 1_000_000
MB = 1e6


# -- /proc/self/status ------------------------------------------------------------
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss() -> int:
    """Resident set size in bytes."""
    return _status_kb("VmRSS") * 1024


def peak() -> int:
    """Peak resident set size (since the last reset) in bytes."""
    return _status_kb("VmHWM") * 1024


def trim() -> None:
    """Give freed heap memory back to the system (glibc), so RSS counts live data only."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak() -> None:
    """Reset VmHWM to the current resident set (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


# -- data -------------------------------------------------------------------------
def build_frame(n_rows: int):
    """The bench_core data as a DataFrame of Categorical columns, built in blocks."""
    import pandas as pd

    sys.path.insert(0, str(HERE))
    from bench_core import CLASS_SIZES, true_parameters

    from lca.simulate import draw_codes

    params = true_parameters()
    blocks = list(params.values())
    cond = np.vstack(blocks)
    offsets = np.concatenate([[0], np.cumsum([b.shape[0] for b in blocks])]).astype(np.int64)
    rng = np.random.default_rng(DATA_SEED)
    codes = np.empty((n_rows, len(blocks)), dtype=np.int8)
    for start in range(0, n_rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_rows)
        codes[start:stop] = draw_codes(CLASS_SIZES, cond, offsets, stop - start, random_state=rng)[
            0
        ]
    frame = pd.DataFrame(
        {
            name: pd.Categorical.from_codes(
                np.ascontiguousarray(codes[:, j]), categories=list(range(1, b.shape[0] + 1))
            )
            for j, (name, b) in enumerate(zip(params, blocks))
        }
    )
    return frame


# -- stage wrappers ----------------------------------------------------------------
#: (stage, module, attribute) of what ``fit`` calls, patched when present.
STAGES = (
    ("weights", "lca.model", "check_weights"),
    ("learn", "lca.model", "learn_indicators"),
    ("encode", "lca.model", "encode"),
    ("compress", "lca.model", "compress"),
    ("encode+compress", "lca.model", "encode_patterns"),
    ("EM", "lca._em", "search"),
    ("statistics", "lca.model", "LatentClassModel._pattern_posteriors"),
    ("statistics", "lca.criteria", "pattern_sums"),
)


def _wrap(records: list, stage: str, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        before = rss()
        reset_peak()
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        seconds = time.perf_counter() - t0
        records.append(
            {
                "stage": stage,
                "function": func.__qualname__,
                "rss_before": before,
                "peak_above_before": peak() - before,
                "rss_after_minus_before": rss() - before,
                "seconds": seconds,
            }
        )
        return out

    return wrapper


def install_wrappers(records: list) -> list[str]:
    import importlib

    patched = []
    for stage, module_name, attr in STAGES:
        module = importlib.import_module(module_name)
        owner, _, name = attr.rpartition(".")
        target = getattr(module, owner) if owner else module
        func = getattr(target, name, None)
        if func is None:
            continue
        setattr(target, name, _wrap(records, stage, func))
        patched.append(f"{module_name}.{attr}")
    return patched


# -- one measurement (child process) ------------------------------------------------
def child(kind: str, n_rows: int, n_classes: int, max_iter: int) -> dict:
    import pandas as pd

    import lca

    warm = pd.DataFrame({"a": [1, 2, 1, 2, 1, 1], "b": [1, 1, 2, 2, 1, 2]})
    lca.LatentClassModel(1, n_starts=1, max_iter=2, random_state=0).fit(warm)
    records: list = []
    patched = install_wrappers(records) if kind == "stages" else []

    t0 = time.perf_counter()
    frame = build_frame(n_rows)
    build_s = time.perf_counter() - t0
    gc.collect()
    trim()
    model = lca.LatentClassModel(n_classes, n_starts=1, max_iter=max_iter, random_state=0)
    before = rss()
    reset_peak()
    t0 = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 iterations do not converge
        model.fit(frame)
    fit_s = time.perf_counter() - t0
    top = max([peak()] + [r["rss_before"] + r["peak_above_before"] for r in records])
    after = rss()
    patterns, weights = model._patterns, model._pattern_weights
    inverse = model._fit_inverse
    return {
        "kind": kind,
        "rows": n_rows,
        "indicators": frame.shape[1],
        "frame_bytes": int(frame.memory_usage(deep=True, index=True).sum()),
        "data_int8_bytes": n_rows * frame.shape[1],
        "n_patterns": int(patterns.shape[0]),
        "pattern_table_bytes": int(patterns.nbytes + weights.nbytes),
        "inverse_dtype": str(inverse.dtype),
        "inverse_bytes": int(inverse.nbytes),
        "rss_before": before,
        "peak": top,
        "peak_minus_before": top - before,
        "rss_after_minus_before": after - before,
        "build_seconds": build_s,
        "fit_seconds": fit_s,
        "loglik": float(model.loglik_),
        "patched": patched,
        "stages": records,
    }


def run_child(kind: str, args) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--rows",
        str(args.rows),
        "--classes",
        str(args.classes),
        "--max-iter",
        str(args.max_iter),
    ]
    print(f"[{kind}] {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- report -----------------------------------------------------------------------
def summarise(fit: dict, stages: dict) -> dict:
    data = fit["data_int8_bytes"]
    table = fit["pattern_table_bytes"]
    target = 2 * data + table
    return {
        "data_int8_bytes": data,
        "pattern_table_bytes": table,
        "target_bytes": target,
        "peak_minus_before": fit["peak_minus_before"],
        "ratio_to_data": fit["peak_minus_before"] / data,
        "ratio_to_target": fit["peak_minus_before"] / target,
        "meets_target": fit["peak_minus_before"] <= target,
        "stages_peak_minus_before": stages["peak_minus_before"],
    }


def stage_rows(stages: dict) -> list[dict]:
    """Per stage: its peak above the RSS at fit start, and above its own entry."""
    base = stages["rss_before"]
    merged: dict[str, dict] = {}
    for r in stages["stages"]:
        row = merged.setdefault(
            r["stage"],
            {"stage": r["stage"], "functions": [], "peak_above_fit_start": 0, "peak_above_entry": 0,
             "held_after": 0, "seconds": 0.0},
        )  # fmt: skip
        if r["function"] not in row["functions"]:
            row["functions"].append(r["function"])
        row["peak_above_fit_start"] = max(
            row["peak_above_fit_start"], r["rss_before"] + r["peak_above_before"] - base
        )
        row["peak_above_entry"] = max(row["peak_above_entry"], r["peak_above_before"])
        row["held_after"] += r["rss_after_minus_before"]
        row["seconds"] += r["seconds"]
    return list(merged.values())


def markdown(result: dict) -> str:
    fit, s = result["fit"], result["summary"]
    mb = lambda b: f"{b / MB:,.1f}"  # noqa: E731
    lines = [
        f"# Peak memory of `fit` on {fit['rows']:,} rows",
        "",
        f"`{result['command']}` (git {result['git']}, {result['machine']}, "
        f"NUMBA_NUM_THREADS=1). Data: {fit['indicators']} Categorical columns "
        f"(DataFrame {mb(fit['frame_bytes'])} MB), {fit['n_patterns']:,} distinct answer "
        f"patterns; `LatentClassModel({result['classes']}, n_starts=1, "
        f"max_iter={result['max_iter']})`. MB = 10^6 bytes.",
        "",
        "| measure | MB |",
        "|---|---:|",
        f"| data as int8 codes (rows x indicators) | {mb(s['data_int8_bytes'])} |",
        f"| pattern table (patterns x indicators x int16 + float64 weights) | "
        f"{mb(s['pattern_table_bytes'])} |",
        f"| target: 2 x data + pattern table | {mb(s['target_bytes'])} |",
        f"| RSS before fit (data built) | {mb(fit['rss_before'])} |",
        f"| peak RSS during fit | {mb(fit['peak'])} |",
        f"| **peak - before** | **{mb(fit['peak_minus_before'])}** |",
        f"| RSS after fit - before (the model, `_fit_inverse` {fit['inverse_dtype']}: "
        f"{mb(fit['inverse_bytes'])}, and freed memory the allocator keeps) | "
        f"{mb(fit['rss_after_minus_before'])} |",
        "",
        f"(peak - before) / int8 data = **{s['ratio_to_data']:.2f}**; "
        f"/ target = **{s['ratio_to_target']:.2f}** "
        f"({'meets' if s['meets_target'] else 'misses'} the target). "
        f"Fit took {fit['fit_seconds']:.1f} s.",
        "",
        "By stage (a second process, each stage wrapped; peaks are RSS above the start "
        f"of the fit, whose peak there was {mb(s['stages_peak_minus_before'])} MB):",
        "",
        "| stage | functions | peak above fit start | peak above stage entry | "
        "held after stage | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in result["stage_rows"]:
        lines.append(
            f"| {r['stage']} | {', '.join(f'`{f}`' for f in r['functions'])} | "
            f"{mb(r['peak_above_fit_start'])} | {mb(r['peak_above_entry'])} | "
            f"{mb(r['held_after'])} | {r['seconds']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "lca"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> dict | None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200,000 rows, temporary folder")
    parser.add_argument("--out", help="results folder (default benchmarks/results)")
    parser.add_argument("--child", choices=("fit", "stages"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.classes, args.max_iter)))
        return None
    if args.quick and args.rows == parser.get_default("rows"):
        args.rows = 200_000
    out = Path(args.out or (tempfile.mkdtemp() if args.quick else HERE / "results"))
    out.mkdir(parents=True, exist_ok=True)

    fit = run_child("fit", args)
    stages = run_child("stages", args)
    command = "python benchmarks/bench_memory.py" + (
        f" --rows {args.rows}" if args.rows != parser.get_default("rows") else ""
    )
    result = {
        "command": command,
        "git": git_head(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}",
        "classes": args.classes,
        "max_iter": args.max_iter,
        "summary": summarise(fit, stages),
        "fit": fit,
        "stages": stages,
        "stage_rows": stage_rows(stages),
    }
    text = markdown(result)
    (out / "memory.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "memory.md").write_text(text)
    print(text)
    print(f"written to {out / 'memory.json'} and {out / 'memory.md'}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
