"""Fitting a range of class numbers and comparing them.

:func:`compare` fits one model per number of classes and tabulates every fit
statistic, the largest bivariate residual and, on request, the bootstrap
likelihood ratio test of K-1 against K classes. With ``checkpoint_dir`` every
model is written as soon as it is fitted, so that an interrupted run can be
resumed and loses at most the model in progress.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from ._em import SAME_OPTIMUM_RTOL
from .criteria import FIT_STAT_NAMES
from .diagnostics import (
    BLRTResult,
    bivariate_residuals,
    bootstrap_fit_options,
    bootstrap_lr,
    bootstrap_seed,
    largest_residual,
    missing_mask,
)
from .encoding import python_label
from .exceptions import ModelFileError, warn
from .goodness_of_fit import BootstrapGOFResult, bootstrap_fit
from .model import (
    DISTRIBUTED_NEEDS_DASK,
    LatentClassModel,
    check_classes_fit_patterns,
    informative_patterns,
)

#: Criteria where a lower value is better.
LOWER_IS_BETTER = frozenset(
    {"aic", "aic3", "bic", "caic", "sabic", "clc", "awe", "icl_bic", "L2", "X2"}
    | {"classification_error"}
)
#: Criteria where a higher value is better.
HIGHER_IS_BETTER = frozenset(
    {"loglik", "entropy_r2", "relative_entropy", "lambda", "standard_r2", "min_avepp"}
)
#: Columns of the comparison table after the fit statistics.
EXTRA_COLUMNS = ("smallest_class", "n_starts_at_best", "converged", "max_bvr")
#: Columns of ``compare(bootstrap_gof=True)``.
GOF_COLUMNS = ("bootstrap_p_L2", "bootstrap_p_X2", "bvr_significant")

CHECKPOINT_FORMAT = "lca.compare.checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class Comparison:
    """Models with different numbers of classes, side by side.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by ``n_classes``: every ``fit_stats()`` entry, plus
        ``smallest_class`` (share of the smallest class),
        ``n_starts_at_best``, ``converged``, ``max_bvr`` (the largest
        bivariate residual), with ``blrt=True`` ``blrt_p``, with ``lmr=True``
        ``lmr_p`` and ``lmr_adjusted_p``, and with
        ``bootstrap_gof=True`` ``bootstrap_p_L2``, ``bootstrap_p_X2`` and
        ``bvr_significant``.
    models : dict
        ``n_classes`` -> fitted :class:`LatentClassModel` (loaded from its
        file when reused from a checkpoint: such a model keeps no data).
    blrt : dict
        ``n_classes`` -> :class:`lca.diagnostics.BLRTResult` of K-1 against
        K classes (empty without ``blrt=True``).
    gof : dict
        ``n_classes`` -> :class:`lca.BootstrapGOFResult`, the bootstrap of
        that model's fit (empty without ``bootstrap_gof=True``).
    lmr : dict
        ``n_classes`` -> :class:`lca.LMRResult`, the Vuong-Lo-Mendell-Rubin
        test of K-1 against K classes (empty without ``lmr=True``).
    reused : tuple of int
        Numbers of classes whose model was reused from ``checkpoint_dir``.
    replaced : tuple of int
        Numbers of classes whose model in ``checkpoint_dir`` was of another
        fit (other data or options) and was fitted again and overwritten.
    """

    table: pd.DataFrame
    models: dict = field(default_factory=dict)
    blrt: dict = field(default_factory=dict)
    gof: dict = field(default_factory=dict)
    reused: tuple = ()
    replaced: tuple = ()
    lmr: dict = field(default_factory=dict)

    def best(self, criterion: str = "bic") -> int:
        """The number of classes with the best value of ``criterion``.

        Lowest for information criteria, L2, X2 and classification error;
        highest for the log-likelihood, R-squared-type statistics and
        ``min_avepp``.
        """
        if criterion not in LOWER_IS_BETTER | HIGHER_IS_BETTER:
            raise ValueError(
                f"unknown criterion {criterion!r}; use one of "
                f"{sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER)}"
            )
        values = self.table[criterion]
        if values.isna().all():
            why = (
                " (L2 and X2 need respondents who answered every indicator)"
                if criterion in ("L2", "X2")
                else ""
            )
            raise ValueError(
                f"{criterion} is NaN for every model{why}; choose by another criterion"
            )
        return int(values.idxmin() if criterion in LOWER_IS_BETTER else values.idxmax())

    def summary(self):
        """The comparison as a report (the reference study's Table B.8).

        Returns
        -------
        lca.results.Summary
            With ``as_text()``, ``as_html()`` and ``to_frame()``; see
            :func:`lca.results.comparison_summary`.
        """
        from .results import comparison_summary

        return comparison_summary(self)

    def plot(
        self,
        criteria: Sequence[str] = ("bic", "aic", "aic3", "sabic"),
        **kwargs,
    ):
        """Plot criteria against the number of classes (needs matplotlib).

        Returns the matplotlib Figure; see :func:`lca.plotting.plot_criteria`.
        """
        from .plotting import plot_criteria

        return plot_criteria(self, criteria, **kwargs)


def compare(
    data: pd.DataFrame,
    n_classes: Iterable[int] = range(2, 11),
    weights=None,
    *,
    progress: bool = True,
    blrt: bool = False,
    lmr: bool = False,
    bootstrap_gof: bool = False,
    n_bootstrap: int = 99,
    bootstrap_starts: int | None = None,
    checkpoint_dir: str | PathLike | None = None,
    split_starts: bool = True,
    merge_starts: bool = False,
    distributed: bool | None = None,
    **model_options,
) -> Comparison:
    """Fit one model per number of classes and tabulate their statistics.

    The data are compressed to their answer patterns once and every model
    is fitted to that one table.

    Parameters
    ----------
    data : pandas.DataFrame or dask.dataframe.DataFrame
        One column per indicator (as for :meth:`LatentClassModel.fit`). A
        Dask DataFrame is compressed by Dask once (weights then must be the
        name of a column); ``blrt`` and ``checkpoint_dir`` need pandas data.
    n_classes : iterable of int, default=range(2, 11)
        Numbers of classes (sorted; repeats ignored).
    weights : array-like, str or None
        Case weights, or the name of the column holding them.
    progress : bool, default=True
        Show progress bars over the models and the bootstrap samples (tqdm,
        on stderr).
    blrt : bool, default=False
        Add a column ``blrt_p``: the bootstrap likelihood ratio test of K-1
        against K classes (:func:`lca.blrt`) for every K but the smallest
        (NaN there). A K-1 class model absent from ``n_classes`` is fitted
        for the test.
    lmr : bool, default=False
        Add columns ``lmr_p`` and ``lmr_adjusted_p``: the Vuong-Lo-Mendell-Rubin
        and adjusted LMR tests of K-1 against K classes (:func:`lca.lmr_test`,
        Mplus's TECH11) for every K whose K-1 is in ``n_classes``. They need
        no refits, but reject a true K-1 class model far more often than
        their level (see :func:`lca.lmr_test`); the BLRT is the reliable test.
        Only for :class:`LatentClassModel` fits (no ``direct_effects``).
    bootstrap_gof : bool, default=False
        Add columns ``bootstrap_p_L2``, ``bootstrap_p_X2`` and
        ``bvr_significant``: the parametric bootstrap of every model's fit
        (:func:`lca.bootstrap_gof`; the last column counts the pairs of
        indicators whose BVR has a bootstrap p-value <= 0.05). The results
        are in ``Comparison.gof``.
    n_bootstrap : int, default=99
        Bootstrap samples of each test.
    bootstrap_starts : int or None, default=None
        Random starts of the bootstrap fits (``None``: the models' own).
    checkpoint_dir : str, path or None
        A folder (created if needed) where every model is written as soon as
        it is fitted (``model_K.json``, a model file) with its table row and
        test (``model_K.row.json``). A later call with the same data and
        options reuses the finished ones, so an interrupted run loses at most
        the model in progress; a model fitted to other data or with other
        options (``n_jobs`` aside) is fitted again and overwritten, with a
        warning (``replaced`` lists them).
    split_starts : bool, default=True
        Also start each K from the K-1 class model of the sweep with one of
        its classes split in two (K-1 extra starts, beside the random ones;
        ``LatentClassModel.fit(start_from=...)``). Maxima of many-class
        models are often a smaller model's solution with one class divided,
        which random starts find only by chance (benchmarks/README.md). The
        K-1 class model also gives ``pattern_starts`` candidates (an option
        of :class:`LatentClassModel`, default 20): a small new class at each
        of the answer patterns it fits worst, screened by 10 iterations, the
        best 2 kept. A K whose K-1 is not in ``n_classes`` gets random starts
        only. False fits
        every K from random starts alone; ``blrt`` then fits its bootstrap
        samples the same way.
    merge_starts : bool, default=False
        After the sweep up, go down once: refit each K (but the largest)
        from its own solution, the K+1 class model with each pair of classes
        merged (K(K+1)/2 starts; no random starts, those ran on the way up),
        and keep the refit if its objective is higher: a model is never
        made worse. On the benchmark sweep it raised the best
        log-likelihood at 7, 8 and 9 classes. With ``checkpoint_dir`` the
        folder keeps the models of the way up; the way down is computed
        again on every call (it is deterministic). The bootstrap of
        ``blrt`` fits its samples with random and split starts only.
    distributed : bool or None, default=None
        Dask data only: as for :meth:`LatentClassModel.fit`. Models fitted
        distributed have no bivariate residuals (``max_bvr`` is NaN).
    **model_options
        Passed to :class:`LatentClassModel` (``n_starts``, ``bayes_constant``,
        ``random_state``, ``n_jobs``, ...); with ``direct_effects=[(a, b),
        ...]`` every model is a :class:`lca.DirectEffectsModel` with those
        direct effects (without ``merge_starts`` or Dask data; split starts
        do not apply to it, in the BLRT's fits either). Every model gets the same options,
        so a fixed ``random_state`` makes the whole table reproducible; the
        bootstrap draws its seeds from it too. ``n_jobs`` also fits bootstrap
        samples side by side.

    Returns
    -------
    Comparison

    Notes
    -----
    Reused models are loaded from their files and keep no data: their
    ``bivariate_residuals()`` and ``crosstab()`` raise (the table holds their
    ``max_bvr``); fit the model again for those.
    """
    if isinstance(n_classes, (numbers.Integral, str, bytes)) or not isinstance(n_classes, Iterable):
        raise ValueError(
            "n_classes must be a list or range of numbers of classes, such as range(2, 11) "
            f"(or [3] for one), got {n_classes!r}"
        )
    ks = list(n_classes)
    if not ks:
        raise ValueError("n_classes is empty: give at least one number of classes")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"n_classes must be integers >= 1, got {k!r}")
    ks = sorted({int(k) for k in ks})
    if (blrt or bootstrap_gof) and (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, numbers.Integral)
        or n_bootstrap < 1
    ):
        raise ValueError(f"n_bootstrap must be an integer >= 1, got {n_bootstrap!r}")
    kind = _model_class(model_options, merge_starts=merge_starts, data=data)
    kind(ks[0], **model_options)._validate_params()  # fail before anything
    if lmr and kind is not LatentClassModel:
        raise ValueError("lmr=True takes LatentClassModel fits; with direct_effects use blrt=True")
    if kind is not LatentClassModel:
        # a DirectEffectsModel takes no split starts: no K-1 model for its fit, its
        # checkpoint or its BLRT to depend on
        split_starts = False
    # bootstrap_starts checked before any fit
    fit_options = (
        bootstrap_fit_options(model_options, bootstrap_starts) if blrt or bootstrap_gof else {}
    )
    from tqdm.auto import tqdm

    from ._dask import is_dask_collection

    if distributed not in (None, True, False):
        raise ValueError(f"distributed must be None, True or False, got {distributed!r}")
    store = None
    probe = kind(ks[0], **model_options)
    # encoded once: every model shares the pattern table (same options, same data)
    if is_dask_collection(data):
        needs_rows = {
            "blrt=True": (blrt, "the bootstrap redraws rows with their own missing answers "
                          "and weights"),
            "bootstrap_gof=True": (bootstrap_gof, "its samples keep each row's missing "
                                   "answers and weight"),
            "checkpoint_dir": (checkpoint_dir is not None, "a checkpoint fingerprints the rows"),
        }  # fmt: skip
        for what, (wanted, why) in needs_rows.items():
            if wanted:
                raise ValueError(
                    f"{what} needs the data in memory as a pandas DataFrame ({why}); give "
                    f"data.compute(), or compare without {what.split('=')[0]}"
                )
        from ._dask import encode_dask

        frame = w = None
        encoded = encode_dask(probe, data, weights, distributed)
    else:
        if distributed:
            raise ValueError(DISTRIBUTED_NEEDS_DASK)
        frame, w = LatentClassModel._split_weights(data, weights)
        encoded = probe._encode(frame, w)
        if checkpoint_dir is not None:
            store = _Checkpoint(
                Path(checkpoint_dir), frame, w, model_options, encoded.indicators,
                split_starts, merge_starts,
            )  # fmt: skip
        if not (blrt or bootstrap_gof) and store is None:
            frame = w = None  # the rows are not needed any more: the patterns are

    if lmr and encoded.patterns is None:
        raise ValueError(
            "lmr=True needs the pattern table in memory, which distributed EM keeps on the "
            "cluster; compare with distributed=False (the table is collected once)"
        )
    # every K fits the table, checked before the first fit
    check_classes_fit_patterns(
        ks[-1],
        informative_patterns(encoded.patterns, encoded.pattern_weights, encoded.distributed),
    )

    def fit(k: int, start_from=None, **options) -> LatentClassModel:
        model = kind(k, **{**model_options, **options})
        model._start_fit(start_from)
        return model._fit_encoded(encoded, progress, start_from)

    models: dict[int, LatentClassModel] = {}
    rows: dict[int, dict] = {}
    reused, replaced = [], []
    for k in tqdm(ks, desc="classes", disable=not progress, leave=False):
        smaller = models.get(k - 1) if split_starts else None
        # a saved model counts only if it was split from the same K-1 model as now
        cached = store.load(k, split_from=_provenance(smaller)) if store is not None else None
        if cached is not None:
            models[k], rows[k] = cached
            reused.append(k)
            continue
        if store is not None and store.model_path(k).exists():
            if not replaced:  # before the fit, so that an unwanted run can be stopped
                warn(
                    f"{store.folder} holds a model_{k}.json that this run cannot reuse (fitted "
                    "to other data, with other options or from another smaller model): it is "
                    "fitted again and replaced, as are any others like it (give another "
                    "checkpoint folder to keep them)",
                    UserWarning,
                )
            replaced.append(k)
        model = fit(k, smaller)
        models[k] = model
        rows[k] = _row(model)
        if store is not None:
            store.save(k, model, rows[k], split_from=_provenance(smaller))

    if merge_starts:
        # down once: only the merged pairs and the model itself as starts (no random
        # starts: they were run on the way up); recomputed on every call, not saved
        for k in sorted(ks, reverse=True):
            if k + 1 not in models:
                continue
            current = models[k]
            refit = fit(k, [models[k + 1], current], n_starts=0, n_final=_n_final(current))
            if _objective(refit) > _objective(current) + SAME_OPTIMUM_RTOL * abs(
                _objective(current)
            ):
                # the sweep's options, not the refit's n_starts=0: what a bootstrap of
                # this model (or a refit of it) should use
                sweep = LatentClassModel(k, **model_options).get_params()
                refit.set_params(**sweep)
                refit._fit_params = sweep
                models[k], rows[k] = refit, _row(refit)
                if k in reused:
                    reused.remove(k)

    tests: dict[int, BLRTResult] = {}
    if blrt:
        seed = bootstrap_seed(model_options.get("random_state", 0))
        settings = {"n_bootstrap": int(n_bootstrap), "bootstrap_starts": bootstrap_starts}
        settings["seed"] = seed
        mask = None
        for k in ks[1:]:
            # a test is of these two models: a merge refit since makes it another
            these = [_provenance(models.get(k - 1)), _objective(models[k])]
            result = store.load_blrt(k, {**settings, "models": these}) if store else None
            if result is None:
                null = models[k - 1] if k - 1 in models else fit(k - 1)
                if mask is None:
                    mask = missing_mask(frame, null.indicators_)
                result = bootstrap_lr(
                    null,
                    mask,
                    w,
                    n_classes=k,
                    loglik_alt=models[k].loglik_,
                    n_bootstrap=int(n_bootstrap),
                    seed=seed,
                    fit_options=fit_options,
                    n_jobs=model_options.get("n_jobs", 1),
                    progress=progress,
                    # the data's K model was split from K-1 only if K-1 was in the sweep
                    split_starts=split_starts and (k - 1) in ks,
                )
                if store is not None:
                    store.save_blrt(k, {**settings, "models": these}, result)
            tests[k] = result
        for k in ks:
            rows[k]["blrt_p"] = tests[k].p_value if k in tests else float("nan")

    gof: dict[int, BootstrapGOFResult] = {}
    if bootstrap_gof:
        seed = bootstrap_seed(model_options.get("random_state", 0))
        settings = {"n_bootstrap": int(n_bootstrap), "bootstrap_starts": bootstrap_starts}
        settings["seed"] = seed
        missing = encoded.patterns[encoded.inverse] < 0  # each row's missing answers
        for k in ks:
            # of this model: a merge refit since is another
            these = {**settings, "model": _objective(models[k])}
            result = store.load_gof(k, these) if store is not None else None
            if result is None:
                model = _with_patterns(models[k], encoded)
                result = bootstrap_fit(
                    model, kind(k, **model_options).get_params(), missing, w,
                    bivariate_residuals(model), n_bootstrap=int(n_bootstrap), seed=seed,
                    n_jobs=model_options.get("n_jobs", 1), bootstrap_starts=bootstrap_starts,
                    progress=progress,
                )  # fmt: skip
                if store is not None:
                    store.save_gof(k, these, result)
            gof[k] = result
            rows[k].update(gof_columns(result))

    lmr_tests: dict = {}
    if lmr:
        from .lmr import lmr_test

        for k in ks[1:]:
            if k - 1 in models:
                lmr_tests[k] = lmr_test(
                    _with_patterns(models[k - 1], encoded), _with_patterns(models[k], encoded)
                )
        for k in ks:
            result = lmr_tests.get(k)
            rows[k]["lmr_p"] = float("nan") if result is None else result.p_value
            rows[k]["lmr_adjusted_p"] = float("nan") if result is None else result.adjusted_p_value

    columns = [*FIT_STAT_NAMES, *EXTRA_COLUMNS] + (["blrt_p"] if blrt else [])
    columns += ["lmr_p", "lmr_adjusted_p"] if lmr else []
    columns += list(GOF_COLUMNS) if bootstrap_gof else []
    table = pd.DataFrame(
        [rows[k] for k in ks], index=pd.Index(ks, name="n_classes"), columns=columns
    )
    types = {"n_parameters": int, "n_starts_at_best": int, "converged": bool}
    if bootstrap_gof:
        types["bvr_significant"] = int
    table = table.astype(types)
    return Comparison(
        table=table, models=models, blrt=tests, gof=gof, reused=tuple(reused),
        replaced=tuple(replaced), lmr=lmr_tests,
    )  # fmt: skip


def gof_columns(result: BootstrapGOFResult) -> dict:
    """The comparison table's bootstrap columns of one model."""
    return {
        "bootstrap_p_L2": result.p_L2,
        "bootstrap_p_X2": result.p_X2,
        "bvr_significant": result.n_significant(0.05),
    }


def _model_class(model_options: dict, merge_starts=False, data=None) -> type:
    """The kind of model ``compare`` fits: a DirectEffectsModel when the options name
    ``direct_effects``, else a LatentClassModel; refuses what the first lacks."""
    if "direct_effects" not in model_options:
        return LatentClassModel
    from ._dask import is_dask_collection
    from .direct_effects import DirectEffectsModel

    for option, given in (
        ("merge_starts=True", merge_starts),
        ("split_merge=", "split_merge" in model_options),
        ("pattern_starts=", "pattern_starts" in model_options),
        ("Dask data", data is not None and is_dask_collection(data)),
    ):
        if given:
            raise ValueError(
                f"direct_effects= does not take {option} (not available for "
                "a DirectEffectsModel yet)"
            )
    return DirectEffectsModel


def _with_patterns(model: LatentClassModel, encoded) -> LatentClassModel:
    """The model, or a shallow copy of one read back from a checkpoint (which keeps no
    data) given the sweep's pattern table, for its bivariate residuals."""
    if getattr(model, "_patterns", None) is not None:
        return model
    import copy

    view = copy.copy(model)
    view._patterns, view._pattern_weights = encoded.patterns, encoded.pattern_weights
    return view


def _objective(model: LatentClassModel) -> float:
    return float(model.loglik_ + model.log_prior_)


def _provenance(model: LatentClassModel | None) -> float | None:
    """What a model's split starts came from, as saved beside it: the objective."""
    return None if model is None else _objective(model)


def _n_final(model: LatentClassModel) -> int:
    return model.n_final if model.n_final is not None else max(2, model.n_starts // 4)


def _row(model: LatentClassModel) -> dict:
    """The comparison table's row of one freshly fitted model."""
    row = model.fit_stats().to_dict()
    row["smallest_class"] = float(np.min(model.class_sizes_.to_numpy()))
    row["n_starts_at_best"] = int(model.n_starts_at_best_)
    row["converged"] = bool(model.converged_)
    # a model fitted distributed (Dask) keeps no pattern table: no residuals
    distributed = getattr(model, "_patterns", None) is None
    row["max_bvr"] = float("nan") if distributed else largest_residual(bivariate_residuals(model))
    return row


# -- checkpoints ----------------------------------------------------------------------


def _data_key(frame: pd.DataFrame, weights: np.ndarray) -> str:
    """A fingerprint of the data and weights: equal keys, same fit."""
    h = hashlib.sha256()
    h.update(json.dumps([repr(c) for c in frame.columns]).encode())
    h.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=False)).tobytes())
    h.update(np.ascontiguousarray(weights, dtype=float).tobytes())
    return h.hexdigest()


def _options_key(model_options: dict) -> str | None:
    """The fitting options that change a fit, as text; None if they cannot be compared."""
    params = _model_class(model_options)(1, **model_options).get_params()
    del params["n_jobs"], params["n_classes"]  # n_jobs never changes the result
    if isinstance(params["random_state"], np.random.Generator):
        return None  # a generator's state moves on: never the same fit twice
    for name in ("tol", "bayes_constant", "class_bayes_constant"):
        if params[name] is not None:
            params[name] = float(params[name])
    cats = params["categories"]
    if cats is not None:
        params["categories"] = sorted(
            [repr(name), [repr(python_label(v)) for v in labels]] for name, labels in cats.items()
        )
    return json.dumps(params, sort_keys=True, default=repr)


def _write_json(path: Path, content: dict) -> None:
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(content, indent=1))
    os.replace(tmp, path)


class _Checkpoint:
    """The models and table rows of one ``compare`` call in a folder."""

    def __init__(
        self,
        folder: Path,
        frame: pd.DataFrame,
        weights: np.ndarray,
        options: dict,
        indicators: list,
        split_starts: bool = True,
        merge_starts: bool = False,
    ):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("model_*.json.tmp*"):  # left by a killed run
            stale.unlink(missing_ok=True)
        self.folder = folder
        key = _options_key(options)
        # split starts make model K depend on model K-1: part of what was fitted
        self.options_key = (
            None
            if key is None
            else f"{key}|split_starts={bool(split_starts)}|merge_starts={bool(merge_starts)}"
        )
        self.data_key = _data_key(frame, weights)
        # the indicators the sweep's models are fitted to (learned from the rows
        # with positive weight), which a saved model must have
        self._indicators = [(ind.name, ind.categories) for ind in indicators]

    def model_path(self, k: int) -> Path:
        return self.folder / f"model_{k}.json"

    def row_path(self, k: int) -> Path:
        return self.folder / f"model_{k}.row.json"

    def _read_row(self, k: int) -> dict | None:
        try:
            content = json.loads(self.row_path(k).read_text())
        except (OSError, ValueError):
            return None
        ok = (
            isinstance(content, dict)
            and content.get("format") == CHECKPOINT_FORMAT
            and content.get("format_version") == CHECKPOINT_VERSION
            and content.get("n_classes") == k
            and self.options_key is not None
            and content.get("options") == self.options_key
            and content.get("data") == self.data_key
            and isinstance(content.get("row"), dict)
        )
        return content if ok else None

    def load(self, k: int, split_from: float | None = None):
        """(model, row) saved for ``k`` classes by a run like this one, or None.

        ``split_from``: the objective of the K-1 class model this run splits
        for its starts (None: no split starts); a saved model split from
        another one (or from none) is not this run's model.
        """
        from .io import load

        content = self._read_row(k)
        if content is None or content.get("split_from") != split_from:
            return None
        row = content["row"]
        if not all(name in row for name in (*FIT_STAT_NAMES, *EXTRA_COLUMNS)):
            return None
        try:
            model = load(self.model_path(k))
        except ModelFileError:
            return None
        same = (
            model.n_classes_ == k
            and model._stats is not None
            and isinstance(row["loglik"], (int, float))
            and math.isclose(model.loglik_, row["loglik"], rel_tol=1e-12, abs_tol=1e-9)
            and [(ind.name, ind.categories) for ind in model.indicators_] == self._indicators
        )
        if not same:
            return None
        return model, {name: row[name] for name in (*FIT_STAT_NAMES, *EXTRA_COLUMNS)}

    def save(
        self, k: int, model: LatentClassModel, row: dict, split_from: float | None = None
    ) -> None:
        """Write the model, then its row (each atomically)."""
        model.save(self.model_path(k))
        _write_json(
            self.row_path(k),
            {
                "format": CHECKPOINT_FORMAT,
                "format_version": CHECKPOINT_VERSION,
                "n_classes": k,
                "options": self.options_key,
                "data": self.data_key,
                "row": row,
                "split_from": split_from,
                "blrt": None,
            },
        )

    def _load_result(self, k: int, key: str, settings: dict, from_dict):
        """The result saved under ``key`` for ``k`` classes with the same settings (and
        as many bootstrap samples), or None for none, other settings or a damaged one."""
        content = self._read_row(k)
        saved = None if content is None else content.get(key)
        if not isinstance(saved, dict) or saved.get("settings") != settings:
            return None
        try:
            result = from_dict(saved["result"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
        return result if result.n_bootstrap == settings["n_bootstrap"] else None

    def _save_result(self, k: int, key: str, settings: dict, result) -> None:
        """Add a result with its settings to the row file of ``k`` classes."""
        content = self._read_row(k)
        if content is None:
            return
        content[key] = {"settings": settings, "result": result.to_dict()}
        _write_json(self.row_path(k), content)

    def load_blrt(self, k: int, settings: dict) -> BLRTResult | None:
        """The test of k-1 against k classes saved with the same settings, or None."""
        return self._load_result(k, "blrt", settings, BLRTResult.from_dict)

    def save_blrt(self, k: int, settings: dict, result: BLRTResult) -> None:
        """Add the test to the row file of ``k`` classes."""
        self._save_result(k, "blrt", settings, result)

    def load_gof(self, k: int, settings: dict) -> BootstrapGOFResult | None:
        """The bootstrap of the k-class model's fit saved with the same settings, or None."""
        result = self._load_result(k, "gof", settings, BootstrapGOFResult.from_dict)
        names = [name for name, _ in self._indicators]
        if result is None or result.n_classes != k or list(result.bvr.index) != names:
            return None
        return result

    def save_gof(self, k: int, settings: dict, result: BootstrapGOFResult) -> None:
        """Add the bootstrap of the fit to the row file of ``k`` classes."""
        self._save_result(k, "gof", settings, result)
