"""Fit 5 classes to 10 million simulated respondents read from Parquet through Dask.

Reports wall time of each stage, peak memory (resident set) of every process
(the client and each worker), and the pattern-compression ratio. The Parquet
files are written to a temporary folder and deleted afterwards.

    python benchmarks/bench_dask.py [--rows 10000000] [--partitions 40] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


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


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/dask.json")
    args = parser.parse_args(argv)

    import dask.dataframe as dd
    import distributed

    import lca

    result: dict = {"workers": args.workers, "partitions": args.partitions}
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        result.update(write_parquet(Path(folder), args.rows, args.partitions))
        result["write_parquet_s"] = time.perf_counter() - t
        with (
            distributed.LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            ddf = dd.read_parquet(f"{folder}/*.parquet")
            model = lca.LatentClassModel(5, n_starts=16, random_state=0)
            t = time.perf_counter()
            model.fit(ddf, weights="weight")
            result["fit_s"] = time.perf_counter() - t
            result["distinct_patterns"] = int(model._patterns.shape[0])
            result["compression_ratio"] = result["rows"] / result["distinct_patterns"]
            result["loglik"] = model.loglik_
            t = time.perf_counter()
            assigned = model.predict(ddf.drop(columns="weight")).value_counts().compute()
            result["predict_s"] = time.perf_counter() - t
            result["assigned_rows"] = int(assigned.sum())
            result["worker_peak_rss_mb"] = sorted(client.run(peak_rss_mb).values())
    result["client_peak_rss_mb"] = peak_rss_mb()
    result["data_as_int8_mb"] = result["rows"] * result["indicators"] / 2**20
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    return result


if __name__ == "__main__":
    main()
