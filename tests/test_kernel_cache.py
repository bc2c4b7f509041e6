"""numba's disk cache across processes: threaded kernels are never cached.

A parallel=True function cached on disk, or called from a cached function,
can crash numba when a later process loads it (numba issues #8578, #10128):
here, a threaded fit in one process, then a threaded E-step in a second and a
third process crashed the third with a segmentation fault. The threaded
loops are now compiled per process and called from Python only.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIT = """
import numpy as np, pandas as pd, warnings, lca
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
df = pd.DataFrame(rng.integers(0, 4, (60000, 9))).astype("category")
m = lca.LatentClassModel(3, n_starts=2, max_iter=5, n_jobs=2).fit(df)
print(repr(m.loglik_), repr(float(m.predict_proba(df).to_numpy().sum())))
"""

ESTEP = """
import numpy as np
from lca import _kernels
rng = np.random.default_rng(0)
patterns = rng.integers(0, 2, (30000, 3)).astype(np.int16)
offsets = np.arange(0, 7, 2)
out = _kernels.estep(patterns, np.ones(30000), offsets, np.log([0.4, 0.6]),
                     np.log(rng.dirichlet([1, 1], size=(3, 2)).transpose(0, 2, 1).reshape(6, 2)),
                     True)
print(repr(out[0]))
"""


def _run(code, cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cache, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout.strip()


def test_threaded_kernels_survive_a_cache_written_by_other_processes(tmp_path):
    fitted = _run(FIT, tmp_path)
    first = _run(ESTEP, tmp_path)
    assert _run(ESTEP, tmp_path) == first  # loaded from the cache the others wrote
    assert _run(FIT, tmp_path) == fitted
    cached = {p.name for p in tmp_path.rglob("*.nbi")}
    assert any("_estep" in name for name in cached)  # the serial kernels are cached
    assert not [name for name in cached if "parallel" in name or "threads" in name]
