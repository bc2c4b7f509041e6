"""lca: latent class analysis of categorical survey data.

>>> import lca
>>> df = lca.datasets.load_gss82()
>>> m = lca.LatentClassModel(n_classes=3).fit(df)
>>> m.fit_stats()["bic"]  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import datasets, presets
from .diagnostics import BLRTResult, blrt
from .direct_effects import DirectEffectsModel
from .encoding import DataError
from .exceptions import ConvergenceWarning, DataWarning, ModelFileError, NotFittedError
from .goodness_of_fit import BootstrapGOFResult, bootstrap_gof
from .io import load
from .lmr import LMRResult, lmr_test
from .model import LatentClassModel
from .multigroup import GroupComparison, MultiGroupModel, compare_groups
from .regression import LatentClassRegression, compare_regressions
from .selection import Comparison, compare
from .simulate import simulate

__all__ = [
    "BLRTResult",
    "BootstrapGOFResult",
    "Comparison",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "DirectEffectsModel",
    "GroupComparison",
    "LMRResult",
    "LatentClassModel",
    "LatentClassRegression",
    "ModelFileError",
    "MultiGroupModel",
    "NotFittedError",
    "__version__",
    "blrt",
    "bootstrap_gof",
    "compare",
    "compare_groups",
    "compare_regressions",
    "datasets",
    "lmr_test",
    "load",
    "presets",
    "simulate",
]
