"""Parametric bootstrap of a fitted model's goodness of fit: L2, X2 and every BVR.

With many indicators the cross-table has far more cells than respondents,
and L2 and X2 are then not chi-square distributed: their asymptotic
p-values say nothing (Latent GOLD's manual; Langeheine, Pannekoek & van de
Pol 1996). Neither are the bivariate residuals, whose 3.84 rule of thumb is
only a rule (Oberski, van Kollenburg & Vermunt 2013). The parametric
bootstrap gives each statistic its distribution under the fitted model:

1. draw ``B`` samples of N respondents from the fitted model, each
   respondent keeping the missing answers and the weight of one row of the
   data (so the samples are missing where the data are);
2. fit the same model (the same options, classes and scale types) to each
   sample, from its random starts and from the fitted model's estimates;
3. compute L2, X2 and the BVR of every pair of indicators on each sample;
4. ``p = (1 + #{statistic_b >= statistic}) / (B + 1)`` for each.

A small p-value says the data fit worse than samples from the model do: for
L2 and X2, that the model (its number of classes) does not reproduce the
cross-table; for a pair's BVR, that the classes do not explain the
association of those two indicators (local dependence). These are Latent
GOLD's "bootstrap L2" and Oberski et al.'s bootstrapped BVR p-values.

The bootstrap plugs in the estimates for the unknown parameters. In a review's
simulations (200-300 data sets per setting, B = 19) the p-values of X2 and
of the BVRs were uniform under the model, and so was L2's with 6-7 binary
indicators; with 1,024 cells and 600 respondents L2's was liberal (mean 0.40
instead of 0.525, p <= 0.10 in 15% of the data sets), and calibrated again at
2,000 respondents. Drawing from the true parameters instead was calibrated
there, so the cause is the plug-in, not the code.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .diagnostics import bivariate_residuals, bootstrap_fit_options, bootstrap_seed
from .encoding import compress
from .exceptions import ConvergenceWarning, NotFittedError, user_location, warn, warnings_from


@dataclass(frozen=True)
class BootstrapGOFResult:
    """Bootstrap p-values of a model's fit (see :func:`bootstrap_gof`).

    Attributes
    ----------
    n_classes : int
    n_bootstrap : int
        Bootstrap samples B; the smallest possible p-value is 1 / (B + 1).
    L2, X2 : float
        The statistics of the model on the data.
    p_L2, p_X2 : float
        Their bootstrap p-values.
    bootstrap_L2, bootstrap_X2 : ndarray of shape (n_bootstrap,)
        The statistics on each sample.
    bvr : pandas.DataFrame
        Bivariate residuals of the model on the data (symmetric, NaN diagonal).
    bvr_p_values : pandas.DataFrame
        The bootstrap p-value of each pair's BVR, laid out as ``bvr``.
    bootstrap_bvr : ndarray of shape (n_bootstrap, n_indicators, n_indicators)
        The BVRs on each sample.
    n_not_converged : int
        Bootstrap fits whose best start did not converge.
    """

    n_classes: int
    n_bootstrap: int
    L2: float
    X2: float
    p_L2: float
    p_X2: float
    bootstrap_L2: np.ndarray
    bootstrap_X2: np.ndarray
    bvr: pd.DataFrame
    bvr_p_values: pd.DataFrame
    bootstrap_bvr: np.ndarray
    n_not_converged: int = 0

    def __repr__(self) -> str:
        return (
            f"BootstrapGOFResult({self.n_classes} classes, B={self.n_bootstrap}: "
            f"L2={self.L2:.2f} p={self.p_L2:.4f}, X2={self.X2:.2f} p={self.p_X2:.4f}, "
            f"smallest BVR p={np.nanmin(self.bvr_p_values.to_numpy()):.4f})"
        )

    def n_significant(self, level: float = 0.05) -> int:
        """Pairs of indicators whose BVR has a bootstrap p-value at or below ``level``."""
        upper = np.triu(np.ones(self.bvr.shape, dtype=bool), k=1)
        return int(np.sum(self.bvr_p_values.to_numpy()[upper] <= level))

    def to_dict(self) -> dict:
        """Plain Python values (for JSON); names as :func:`lca.io` writes them."""
        from .io import _names_to_json

        return {
            "n_classes": int(self.n_classes),
            "n_bootstrap": int(self.n_bootstrap),
            "L2": _number(self.L2),
            "X2": _number(self.X2),
            "p_L2": _number(self.p_L2),
            "p_X2": _number(self.p_X2),
            "bootstrap_L2": [_number(v) for v in self.bootstrap_L2],
            "bootstrap_X2": [_number(v) for v in self.bootstrap_X2],
            "indicators": _names_to_json(list(self.bvr.index), "indicator"),
            "bvr": _matrix(self.bvr.to_numpy()),
            "bvr_p_values": _matrix(self.bvr_p_values.to_numpy()),
            "bootstrap_bvr": [_matrix(m) for m in self.bootstrap_bvr],
            "n_not_converged": int(self.n_not_converged),
        }

    @classmethod
    def from_dict(cls, d: dict) -> BootstrapGOFResult:
        """Inverse of :meth:`to_dict`; a ValueError if ``d`` is not one it wrote."""
        from .io import _name_from_json

        names = [_name_from_json(v) for v in d["indicators"]]
        if any(name is None for name in names):
            raise ValueError("an indicator name that to_dict does not write")
        index = pd.Index(names, name="indicator", dtype=object, tupleize_cols=False)
        j = len(names)

        def frame(values) -> pd.DataFrame:
            values = _array(values)
            if values.shape != (j, j):
                raise ValueError(f"a BVR table of shape {values.shape}, not ({j}, {j})")
            return pd.DataFrame(values, index=index, columns=index.rename(None))

        b = int(d["n_bootstrap"])
        draws = {name: _array(d[name]) for name in ("bootstrap_L2", "bootstrap_X2")}
        bvr_draws = _array(d["bootstrap_bvr"])
        if any(v.shape != (b,) for v in draws.values()) or bvr_draws.shape != (b, j, j):
            raise ValueError("bootstrap draws that do not match n_bootstrap and the indicators")
        return cls(
            n_classes=int(d["n_classes"]),
            n_bootstrap=int(d["n_bootstrap"]),
            L2=_array(d["L2"]).item(),
            X2=_array(d["X2"]).item(),
            p_L2=_array(d["p_L2"]).item(),
            p_X2=_array(d["p_X2"]).item(),
            bootstrap_L2=draws["bootstrap_L2"],
            bootstrap_X2=draws["bootstrap_X2"],
            bvr=frame(d["bvr"]),
            bvr_p_values=frame(d["bvr_p_values"]),
            bootstrap_bvr=bvr_draws,
            n_not_converged=int(d["n_not_converged"]),
        )

    def pairs(self) -> pd.DataFrame:
        """One row per pair of indicators: ``bvr`` and ``p_value``, smallest p first."""
        names = list(self.bvr.index)
        rows = [
            (names[j], names[jj], self.bvr.iat[j, jj], self.bvr_p_values.iat[j, jj])
            for j in range(len(names))
            for jj in range(j + 1, len(names))
        ]
        table = pd.DataFrame(rows, columns=["indicator_1", "indicator_2", "bvr", "p_value"])
        table = table.sort_values(["p_value", "bvr"], ascending=[True, False], kind="stable")
        return table.set_index(["indicator_1", "indicator_2"])

    def as_text(self) -> str:
        """The p-values of L2 and X2 and the pairs of smallest BVR p-value, as text."""
        lines = [
            f"Parametric bootstrap of the fit: {self.n_classes} classes, "
            f"{self.n_bootstrap} samples",
            f"  L2 {self.L2:12.2f}   bootstrap p {self.p_L2:.4f}",
            f"  X2 {self.X2:12.2f}   bootstrap p {self.p_X2:.4f}",
            "Bivariate residuals, smallest bootstrap p-values first:",
        ]
        pairs = self.pairs().head(10)
        for (a, b), row in pairs.iterrows():
            lines.append(f"  {a!s} x {b!s}: BVR {row['bvr']:.3f}, p {row['p_value']:.4f}")
        if self.n_not_converged:
            lines.append(f"({self.n_not_converged} bootstrap fits did not converge)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()


def _number(value) -> float | str:
    """A float for JSON: NaN (and infinity, an impossible answer pair) as text."""
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _matrix(values: np.ndarray) -> list:
    return [[_number(v) for v in row] for row in values]


def _array(values) -> np.ndarray:
    """Inverse of :func:`_number` over nested lists."""
    return np.asarray(
        np.vectorize(float, otypes=[float])(np.asarray(values, dtype=object)), dtype=float
    )


def _p_value(statistic: float, draws: np.ndarray) -> float:
    """``(1 + #{draws >= statistic}) / (B + 1)``; NaN where the statistic is NaN."""
    if np.isnan(statistic):
        return float("nan")
    return float((1.0 + np.count_nonzero(draws >= statistic)) / (draws.shape[0] + 1.0))


def _check_has_rows(model) -> None:
    """Refuse, each case by name, a model whose fitted rows are not kept."""
    from .model import LatentClassModel

    if not isinstance(model, LatentClassModel):
        raise TypeError(
            f"bootstrap_gof takes a LatentClassModel, not a {type(model).__name__} (for a "
            "latent class regression it is not there yet)"
        )
    model._check_fitted()
    if getattr(model, "_fit_params", None) is None and not hasattr(model, "loglik_"):
        raise NotFittedError(
            "this model was built from parameters (from_parameters, or a preset's "
            "reference_model) and was fitted to no data: fit a model to the data to test its fit"
        )
    if getattr(model, "_fit_params", None) is None:
        raise NotFittedError(
            "this model was read from a file (lca.load, or a checkpoint_dir that compare "
            "resumed from) and keeps no rows: fit it to the data again to bootstrap its fit, "
            "or give compare bootstrap_gof=True, which bootstraps the models it reads back"
        )
    if getattr(model, "_fit_inverse", None) is None or getattr(model, "_patterns", None) is None:
        raise NotFittedError(
            "this model was fitted on a Dask DataFrame and keeps no rows; bootstrap_gof "
            "needs the model fitted to the data in memory (pandas)"
        )


def _fit_weights(model, weights) -> np.ndarray:
    """Each fitted row's weight, checked against the weights the fit summed."""
    inverse = model._fit_inverse
    n = inverse.shape[0]
    if weights is None:
        w = np.ones(n)
    else:
        if isinstance(weights, str):
            raise TypeError(
                "give the weights as values (an array or a Series of the fitted rows), not "
                "a column name: the model keeps no data"
            )
        if isinstance(weights, pd.Series):
            index = model._fit_index
            if not weights.index.equals(index):
                # the same labels in another order are reordered, as fit does
                same = weights.index.is_unique and index.is_unique
                if not (same and len(weights) == len(index) and weights.index.isin(index).all()):
                    raise ValueError(
                        "the weights' index is not the index of the data the model fitted; "
                        "give the weights the model was fitted with"
                    )
                weights = weights.reindex(index)
            weights = weights.to_numpy()
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise ValueError(f"weights must have one value per fitted row ({n}), got {w.shape}")
    summed = np.bincount(inverse, weights=w, minlength=model._patterns.shape[0])
    if not np.allclose(summed, model._pattern_weights, rtol=1e-9, atol=1e-12):
        given = "no weights" if weights is None else "these weights"
        raise ValueError(
            f"the model was not fitted with {given}: give bootstrap_gof the weights the "
            "model was fitted with (the bootstrap samples keep each row's weight)"
        )
    return w


def _replicate_from(caller, *args):
    """:func:`_replicate`, its warnings pointing at the user's line, without those
    about the data as given (a sample drawn from the model)."""
    with warnings_from(caller, quiet_data=True):
        return _replicate(*args)


def _replicate(model, n_classes, missing, weights, seed, fit_options):
    """L2, X2 and the BVRs of the model refitted to one sample drawn from it."""
    from .model import EncodedData

    rng = np.random.default_rng(seed)
    codes, _ = model._draw_codes(missing.shape[0], rng)
    codes[missing] = -1  # each respondent keeps the original row's missing answers
    patterns, pattern_weights, inverse = compress(codes, weights)
    encoded = EncodedData(
        indicators=list(model.indicators_),  # every category, given in the sample or not
        patterns=patterns,
        pattern_weights=pattern_weights,
        n_rows=codes.shape[0],
        n_empty_rows=int(np.count_nonzero((patterns < 0).all(axis=1)[inverse])),
        inverse=inverse,
        index=pd.RangeIndex(codes.shape[0]),
        n_weighted_rows=int(np.count_nonzero(weights > 0)),
    )
    # the model's own kind (a DirectEffectsModel's options name its pairs)
    refit = type(model)(n_classes, random_state=int(rng.integers(2**63)), **fit_options)
    refit._start_fit(model)
    refit._fit_encoded(encoded, start_from=model)  # the estimates are one start
    stats = refit.fit_stats()
    bvr = bivariate_residuals(refit).to_numpy()
    return float(stats["L2"]), float(stats["X2"]), bvr, not refit.converged_


def bootstrap_gof(
    model,
    n_bootstrap: int = 99,
    weights=None,
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int = 1,
    *,
    bootstrap_starts: int | None = None,
    progress: bool = False,
) -> BootstrapGOFResult:
    """Bootstrap p-values of L2, X2 and every bivariate residual of a fitted model.

    Parameters
    ----------
    model : LatentClassModel
        Fitted in this session to data in memory (the samples keep the
        missing answers of its rows, which a model loaded from a file or
        fitted on Dask does not keep).
    n_bootstrap : int, default=99
        Bootstrap samples B.
    weights : array-like, pandas.Series or None
        The case weights the model was fitted with, one per row of its data
        (checked against the fit); None for an unweighted fit.
    random_state : int, numpy Generator or None, default=0
        Seeds the SeedSequence from which every sample gets its own seed:
        the same value gives the same p-values whatever ``n_jobs`` is.
    n_jobs : int, default=1
        Samples fitted side by side (threads).
    bootstrap_starts : int or None, default=None
        Random starts of each sample's fit (besides the model's estimates,
        always one start); None uses the model's ``n_starts``.
    progress : bool, default=False
        A progress bar over the samples.

    Returns
    -------
    BootstrapGOFResult
        The statistics, their bootstrap distributions and p-values
        (``p = (1 + #{stat_b >= stat}) / (B + 1)``); ``pairs()`` tabulates
        the BVRs with their p-values.

    Notes
    -----
    Weights are frequency weights here as everywhere in ``lca``: a sample
    repeats the data's weights row by row, so it has the data's N. A BVR
    that is NaN on the data (an indicator of one category) has a NaN
    p-value. The statistics use the log-likelihood, also when Bayes
    constants make the fits posterior-mode estimates.
    """
    _check_has_rows(model)
    check_n_bootstrap(n_bootstrap)
    w = _fit_weights(model, weights)
    missing = model._patterns[model._fit_inverse] < 0
    # the options of the fit, not any set_params since
    return bootstrap_fit(
        model, model._fit_params, missing, w, model.bivariate_residuals(),
        n_bootstrap=int(n_bootstrap), seed=bootstrap_seed(random_state), n_jobs=n_jobs,
        bootstrap_starts=bootstrap_starts, progress=progress,
    )  # fmt: skip


def check_n_bootstrap(n_bootstrap) -> None:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, numbers.Integral):
        raise ValueError(f"n_bootstrap must be an integer >= 1, got {n_bootstrap!r}")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be an integer >= 1, got {n_bootstrap!r}")


def bootstrap_fit(
    model,
    fit_params: dict,
    missing: np.ndarray,
    weights: np.ndarray,
    bvr: pd.DataFrame,
    *,
    n_bootstrap: int,
    seed: int | None,
    n_jobs: int = 1,
    bootstrap_starts: int | None = None,
    progress: bool = False,
) -> BootstrapGOFResult:
    """The bootstrap of :func:`bootstrap_gof`, given what it needs of the data.

    Parameters
    ----------
    model : LatentClassModel
        The fitted model (or one read from a file): samples are drawn from it,
        and its estimates are one start of every refit.
    fit_params : dict
        ``get_params()`` of the fit: the samples are fitted with these options
        (``bootstrap_starts`` random starts if given).
    missing : ndarray of bool of shape (n_rows, n_indicators)
        The data's missing answers, in the model's indicator order.
    weights : ndarray of shape (n_rows,)
    bvr : pandas.DataFrame
        The model's bivariate residuals on the data.
    n_bootstrap, seed, n_jobs, bootstrap_starts, progress
        As for :func:`bootstrap_gof` (``seed`` the SeedSequence's entropy).
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    fit_options = {**bootstrap_fit_options(fit_params, bootstrap_starts), "n_jobs": 1}
    k = int(fit_options.pop("n_classes"))
    children = np.random.SeedSequence(seed, spawn_key=(k, 1)).spawn(int(n_bootstrap))
    caller = user_location()
    tasks = (
        delayed(_replicate_from)(caller, model, k, missing, weights, child, fit_options)
        for child in children
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # counted and reported once
        runner = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")
        bar = tqdm(
            runner(tasks),
            total=int(n_bootstrap),
            desc=f"bootstrap fit {k} classes",
            disable=not progress,
            leave=False,
        )
        results = list(bar)
    l2 = np.array([r[0] for r in results])
    x2 = np.array([r[1] for r in results])
    bvr_b = np.stack([r[2] for r in results])
    not_converged = int(sum(r[3] for r in results))
    if not_converged:
        warn(
            f"{not_converged} of {n_bootstrap} bootstrap fits ({k} classes) did not "
            "converge; raise max_iter for sharper p-values",
            ConvergenceWarning,
        )
    stats = model.fit_stats()
    observed = bvr.to_numpy()
    p_bvr = np.full(observed.shape, np.nan)
    for j in range(observed.shape[0]):
        for jj in range(observed.shape[1]):
            if j != jj:
                p_bvr[j, jj] = _p_value(observed[j, jj], bvr_b[:, j, jj])
    return BootstrapGOFResult(
        n_classes=k,
        n_bootstrap=int(n_bootstrap),
        L2=float(stats["L2"]),
        X2=float(stats["X2"]),
        p_L2=_p_value(float(stats["L2"]), l2),
        p_X2=_p_value(float(stats["X2"]), x2),
        bootstrap_L2=l2,
        bootstrap_X2=x2,
        bvr=bvr,
        bvr_p_values=pd.DataFrame(p_bvr, index=bvr.index, columns=bvr.columns),
        bootstrap_bvr=bvr_b,
        n_not_converged=not_converged,
    )
