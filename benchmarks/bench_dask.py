"""Fit 5 classes to 10 million simulated respondents read from Parquet through Dask.

Two modes of ``LatentClassModel.fit(ddf, distributed=...)``:

* ``local``: the pattern table is collected and EM runs in the client (the
  default below ``lca._dask.MAX_LOCAL_PATTERNS`` distinct patterns);
* ``distributed``: the pattern table stays in the workers' memory and every
  EM round sends the parameters of the running starts to the partitions and
  adds their E-step sums in a tree of tasks (``distributed=True``).

For each mode: wall time of each stage, peak memory (resident set) of every
process (the client and each worker), and the pattern-compression ratio; for
the distributed mode also the number of E-step rounds, the time per round and
the bytes of parameters and E-step sums per round, measured on the arrays
actually sent. With ``--mode both`` each mode runs in its own Python process
with its own ``LocalCluster`` (peak memory is per process), on the same
Parquet files. The files are written to a temporary folder and deleted
afterwards.

    python benchmarks/bench_dask.py [--rows 10000000] [--partitions 40] [--workers 2]
        [--mode local|distributed|both]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODES = ("local", "distributed")


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process, in MB (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_parquet(folder: Path, rows: int, partitions: int, seed: int = 0) -> dict:
    """Simulated separation-type respondents, written partition by partition."""
    import pandas as pd

    import lca

    preset = lca.presets.get("separation-types")
    reference = preset.reference_model()
    per_part = rows // partitions
    for p in range(partitions):
        data, _ = reference.sample(per_part, random_state=seed + p, missing=0.02)
        data["weight"] = np.random.default_rng(p).uniform(0.5, 1.5, len(data))
        data.index = pd.RangeIndex(p * per_part, (p + 1) * per_part)
        data.to_parquet(folder / f"part-{p:04d}.parquet")
    return {"rows": per_part * partitions, "indicators": len(preset.indicators)}


def _transfer_log_length(dask_worker) -> int:
    return len(dask_worker.transfer_outgoing_log)


def _transfers_since(start: int, dask_worker=None) -> list:
    """What this worker sent after entry ``start`` of its log.

    One ``(time, to, task name, bytes)`` per value sent: ``time`` the middle
    of the transfer (this machine's clock), ``to`` "worker" or "client",
    bytes Dask's size estimate of the value.
    """
    from dask.utils import key_split

    return [
        (entry["middle"], "client" if entry["who"] is None else "worker", key_split(key), nbytes)
        for entry in list(dask_worker.transfer_outgoing_log)[start:]
        for key, nbytes in entry["keys"].items()
    ]


class RoundMeter:
    """Counts, times and weighs the E-step rounds of distributed EM, from outside ``lca``.

    Wraps ``DistributedPatterns.evaluator`` (one call of the returned function
    is one round: all running starts, every partition) and ``lca._em.lockstep``
    (one call per stage: burn-in, then the final starts), and restores both.
    After each stage it reads what every worker sent during it (the workers'
    transfer logs) and attributes each transfer to the round it fell in.
    """

    def __init__(self, client):
        self.client = client
        self.rounds: list[dict] = []
        self.stages: list[dict] = []
        self.transfers: list[tuple] = []
        self.source = None
        self.n_categories = None

    def __enter__(self):
        from lca import _dask, _em

        self._saved = (_dask.DistributedPatterns.evaluator, _em.lockstep)
        evaluator, lockstep = self._saved
        meter = self

        def metered_evaluator(patterns_self, offsets):
            evaluate = evaluator(patterns_self, offsets)
            meter.source = patterns_self
            meter.n_categories = int(offsets[-1])

            def metered(points):
                points = list(points)
                t0 = time.time()
                t = time.perf_counter()
                answers = evaluate(points)
                seconds = time.perf_counter() - t
                meter.rounds.append(
                    {
                        "stage": len(meter.stages),
                        "starts": len(points),
                        "s": seconds,
                        "t0": t0,
                        "t1": time.time(),
                        # what one partition receives and returns, from the real arrays
                        "param_bytes": sum(a.nbytes + b.nbytes for a, b in points),
                        "param_pickled_bytes": len(pickle.dumps(points, protocol=5)),
                        "result_bytes": sum(
                            np.asarray(ll).nbytes + counts.nbytes + class_counts.nbytes
                            for ll, counts, class_counts in answers
                        ),
                        "result_pickled_bytes": len(pickle.dumps(answers, protocol=5)),
                    }
                )
                return answers

            return metered

        def metered_lockstep(runs, evaluate, progress=None):
            before = meter.client.run(_transfer_log_length)
            first = len(meter.rounds)
            out = lockstep(runs, evaluate, progress)
            for address, start in before.items():
                sent = meter.client.run(_transfers_since, start, workers=[address])
                meter.transfers.extend(sent[address])
            meter.stages.append({"starts": len(runs), "rounds": len(meter.rounds) - first})
            return out

        _dask.DistributedPatterns.evaluator = metered_evaluator
        _em.lockstep = metered_lockstep
        return self

    def __exit__(self, *exc):
        from lca import _dask, _em

        _dask.DistributedPatterns.evaluator, _em.lockstep = self._saved
        return False

    def sent_by_round(self) -> tuple[list[dict], dict]:
        """Bytes the workers sent in each round, by "<task name> to <worker|client>".

        Task names: "list" the parameters of the running starts, "ndarray" the
        category offsets, "estep_sums" one partition's E-step sums,
        "add_estep_sums" a partial sum of the tree, "arrays" a part of the
        pattern table itself. The second value: what was sent between rounds.
        """
        per_round = [{} for _ in self.rounds]
        between: dict = {}
        starts = [r["t0"] for r in self.rounds]
        for when, to, name, nbytes in self.transfers:
            i = bisect.bisect_right(starts, when) - 1
            inside = i >= 0 and when <= self.rounds[i]["t1"]
            slot = per_round[i] if inside else between
            key = f"{name} to {to}"
            slot[key] = slot.get(key, 0) + int(nbytes)
        return per_round, between

    def summary(self) -> dict:
        import dask

        rounds = self.rounds
        seconds = np.array([r["s"] for r in rounds])
        first = rounds[0]
        n_parts = len(self.source.parts)
        sizes = dask.compute(*[dask.delayed(len)(part[2]) for part in self.source.parts])
        per_round, between = self.sent_by_round()
        names = sorted({k for sent in per_round for k in sent})
        totals = {k: sum(sent.get(k, 0) for sent in per_round) for k in names}
        moved = {
            i: sent["arrays to worker"]
            for i, sent in enumerate(per_round)
            if sent.get("arrays to worker")
        }
        return {
            "distinct_patterns": int(sum(sizes)),
            "pattern_partitions": n_parts,
            "patterns_per_partition_min_max": [int(min(sizes)), int(max(sizes))],
            "n_categories_total": self.n_categories,
            "rounds": len(rounds),
            "rounds_per_stage": [s["rounds"] for s in self.stages],
            "starts_per_stage": [s["starts"] for s in self.stages],
            "round_s_median": float(np.median(seconds)),
            "round_s_p10_p90": [float(np.quantile(seconds, 0.1)), float(np.quantile(seconds, 0.9))],
            "round_s_first": float(seconds[0]),
            "round_s_max": float(seconds.max()),
            "rounds_s_total": float(seconds.sum()),
            "round_starts_mean": float(np.mean([r["starts"] for r in rounds])),
            # the first round has every start running
            "first_round_starts": first["starts"],
            "param_bytes_per_start": first["param_bytes"] // first["starts"],
            "result_bytes_per_start": first["result_bytes"] // first["starts"],
            "first_round_param_bytes_per_partition": first["param_bytes"],
            "first_round_param_pickled_bytes": first["param_pickled_bytes"],
            "first_round_result_bytes_per_partition": first["result_bytes"],
            "first_round_result_pickled_bytes": first["result_pickled_bytes"],
            # if every partition's task ran on a machine of its own
            "all_rounds_param_bytes_to_partitions": n_parts * sum(r["param_bytes"] for r in rounds),
            "all_rounds_result_bytes_from_partitions": n_parts
            * sum(r["result_bytes"] for r in rounds),
            # measured: what the workers sent to each other and to the client
            "worker_bytes_sent_all_rounds": totals,
            "worker_bytes_sent_first_round": per_round[0],
            "worker_bytes_sent_per_round_median": {
                k: float(np.median([sent.get(k, 0) for sent in per_round])) for k in names
            },
            "worker_bytes_sent_between_rounds": between,
            "pattern_parts_moved_in_rounds": {
                "rounds": list(moved),
                "bytes": list(moved.values()),
                "round_s": [float(seconds[i]) for i in moved],
            },
        }


def run_mode(folder: str, mode: str, workers: int) -> dict:
    """Fit and assign in one mode with a fresh LocalCluster; peak memory of this process."""
    import dask
    import dask.dataframe as dd
    import distributed

    import lca

    result: dict = {}
    stage_s = {}
    fit_patterns = lca.LatentClassModel._fit_patterns

    def timed_fit_patterns(*args, **kwargs):  # the part of fit after the Dask passes
        t = time.perf_counter()
        out = fit_patterns(*args, **kwargs)
        stage_s["fit_patterns"] = time.perf_counter() - t
        return out

    lca.LatentClassModel._fit_patterns = timed_fit_patterns
    # keep every transfer in the workers' logs (the default keeps the last 1000)
    dask.config.set({"distributed.admin.low-level-log-length": 10_000_000})
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ddf = dd.read_parquet(f"{folder}/*.parquet")
        model = lca.LatentClassModel(5, n_starts=16, random_state=0)
        meter = RoundMeter(client)
        t = time.perf_counter()
        if mode == "distributed":
            with meter:
                model.fit(ddf, weights="weight", distributed=True)
        else:
            model.fit(ddf, weights="weight", distributed=False)
        result["fit_s"] = time.perf_counter() - t
        result["dask_passes_s"] = result["fit_s"] - stage_s["fit_patterns"]
        result["em_and_statistics_s"] = stage_s["fit_patterns"]
        result["loglik"] = model.loglik_
        result["n_iter"] = model.n_iter_
        result["converged"] = bool(model.converged_)
        if mode == "distributed":
            result.update(meter.summary())
        else:
            result["distinct_patterns"] = int(model._patterns.shape[0])
        t = time.perf_counter()
        assigned = model.predict(ddf.drop(columns="weight")).value_counts().compute()
        result["predict_s"] = time.perf_counter() - t
        result["assigned_rows"] = int(assigned.sum())
        result["worker_peak_rss_mb"] = sorted(client.run(peak_rss_mb).values())
    result["client_peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=(*MODES, "both"), default="both")
    parser.add_argument("--out", default="benchmarks/results/dask.json")
    # internal: one mode on Parquet files already written, result as JSON to --out
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.parquet:
        result = run_mode(args.parquet, args.mode, args.workers)
        Path(args.out).write_text(json.dumps(result))
        return result

    modes = MODES if args.mode == "both" else (args.mode,)
    result: dict = {"workers": args.workers, "partitions": args.partitions}
    result["load_average_before"] = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        result.update(write_parquet(Path(folder), args.rows, args.partitions))
        result["write_parquet_s"] = time.perf_counter() - t
        for mode in modes:  # each in a fresh process: peak memory per mode
            child_out = Path(folder) / f"{mode}.json"
            command = [sys.executable, __file__, "--mode", mode, "--workers", str(args.workers)]
            command += ["--parquet", folder, "--out", str(child_out)]
            subprocess.run(command, check=True)
            result[mode] = json.loads(child_out.read_text())
    for mode in modes:
        result[mode]["compression_ratio"] = result["rows"] / result[mode]["distinct_patterns"]
    if len(modes) == 2:
        a, b = result["local"]["loglik"], result["distributed"]["loglik"]
        result["loglik_relative_difference"] = abs(a - b) / abs(a)
    result["data_as_int8_mb"] = result["rows"] * result["indicators"] / 2**20
    result["load_average_after"] = list(os.getloadavg())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:>44}: {v}")
        else:
            print(f"{key:>46}: {value}")
    return result


if __name__ == "__main__":
    main()
