"""Checks of a fitted model: local dependence, outside variables, bootstrap test.

- :func:`bivariate_residuals`: Latent GOLD's BVR of every pair of indicators.
- :func:`crosstab`: an outside variable within each class, with the weighted
  and unweighted bases of every class.
- :func:`blrt`: the parametric bootstrap likelihood ratio test of K-1 against
  K classes (Nylund, Asparouhov & Muthen 2007).

Definitions are in the project's statistical reference.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .encoding import DataError, _whole_floats_to_int, check_bool_number_mix
from .exceptions import ConvergenceWarning, user_location, warn, warnings_from

#: How :func:`crosstab` places respondents in classes.
CROSSTAB_KINDS = ("modal", "proportional", "bch", "ml")

#: Row labels :func:`crosstab` adds below the categories.
MISSING_ROW = "Missing"
WEIGHTED_BASE_ROW = "Weighted base"
UNWEIGHTED_BASE_ROW = "Unweighted base"


# -- bivariate residuals ---------------------------------------------------------------


def _pair_residual(
    patterns, weights, j, jj, block_j, block_jj, class_probs, mass=None, joint=None
) -> float:
    """Pearson X2 of one two-way table over the respondents who answered both.

    The expected table is ``sum_i w_i P(class | i) P(y_j | class) P(y_j' | class)``
    over those respondents: ``class_probs`` times their weight when every respondent
    has the same class probabilities, else ``mass`` (per pattern, the sum of
    ``w_i P(class | z_i)`` over its respondents, shape (n_patterns, K)).
    ``joint`` (C_j, C_j', K), for a pair with a direct effect, replaces the product
    ``P(y_j | class) P(y_j' | class)``.
    """
    a = patterns[:, j].astype(np.int64)
    b = patterns[:, jj].astype(np.int64)
    ok = (a >= 0) & (b >= 0)
    n_a, n_b = block_j.shape[0], block_jj.shape[0]
    cell = a[ok] * n_b + b[ok]
    observed = np.bincount(cell, weights=weights[ok], minlength=n_a * n_b).reshape(n_a, n_b)
    n_pair = observed.sum()
    if n_pair <= 0 or n_a < 2 or n_b < 2:
        return float("nan")
    classes = n_pair * class_probs if mass is None else mass[ok].sum(axis=0)
    if joint is None:
        expected = (block_j * classes) @ block_jj.T
    else:
        expected = joint @ classes
    positive = expected > 0
    if np.any(observed[~positive] > 0):
        return float("inf")  # an answer pair the model says is impossible
    resid = observed[positive] - expected[positive]
    x2 = float(np.sum(resid * resid / expected[positive]))
    return x2 / ((n_a - 1) * (n_b - 1))


def bivariate_residuals(model) -> pd.DataFrame:
    """Bivariate residuals (Latent GOLD's BVR) of every pair of indicators.

    For indicators j and j', the Pearson X2 of their observed two-way table
    against the table the model implies,
    ``N_jj' * sum_k P_k P(y_j | k) P(y_j' | k)``, divided by the degrees of
    freedom ``(C_j - 1)(C_j' - 1)``. Large values (above 3.84 as a rule of
    thumb) flag pairs whose association the classes do not explain.

    Parameters
    ----------
    model : LatentClassModel or LatentClassRegression
        Fitted to data in this session (a model loaded from a file keeps no
        data).

    Returns
    -------
    pandas.DataFrame of shape (n_indicators, n_indicators)
        Indexed and labelled by the indicator names; symmetric, with a NaN
        diagonal.

    Notes
    -----
    Weighted: the observed table sums the case weights. With missing answers
    the table of j and j' holds the respondents who answered both, and
    ``N_jj'`` is the sum of their weights (the expected table uses the class
    sizes of the whole sample). A pair nobody answered together, or with an
    indicator of one category, gets NaN. A cell with an observed answer but
    an expected count of exactly 0 (possible with ``bayes_constant=0``) makes
    the BVR infinite.

    For a :class:`~lca.LatentClassRegression` the class sizes are each
    respondent's own, given the covariates, as in Latent GOLD with
    covariates: the expected table is
    ``sum_i w_i sum_k P(k | z_i) P(y_j | k) P(y_j' | k)`` over the
    respondents who answered both.

    For a :class:`~lca.DirectEffectsModel` the expected table of a pair with a
    direct effect is ``N_jj' * sum_k P_k P(y_j, y_j' | k)``, from the pair's
    joint table.
    """
    patterns = model._patterns
    weights = model._pattern_weights
    offsets = model._offsets
    cond = model._cond_probs
    class_probs = getattr(model, "_class_probs", None)
    mass = getattr(model, "_pattern_class_mass", None)
    names = [ind.name for ind in model.indicators_]
    n_ind = len(names)
    pair_joint = getattr(model, "_pair_joint", lambda j, jj: None)
    out = np.full((n_ind, n_ind), np.nan)
    blocks = [cond[offsets[j] : offsets[j + 1]] for j in range(n_ind)]
    for j in range(n_ind):
        for jj in range(j + 1, n_ind):
            value = _pair_residual(
                patterns,
                weights,
                j,
                jj,
                blocks[j],
                blocks[jj],
                class_probs,
                mass,
                pair_joint(j, jj),
            )
            out[j, jj] = out[jj, j] = value
    index = pd.Index(names, name="indicator", dtype=object, tupleize_cols=False)
    return pd.DataFrame(out, index=index, columns=index.rename(None))


def largest_residual(bvr: pd.DataFrame) -> float:
    """The largest finite-or-infinite BVR of a table; NaN when it holds none."""
    values = bvr.to_numpy()
    values = values[~np.isnan(values)]
    return float(values.max()) if values.size else float("nan")


# -- cross-tabulation with an outside variable -----------------------------------------


def _aligned(values, index: pd.Index, what: str, fitted: bool = True) -> pd.Series:
    """``values`` as a Series on the index of the fitted data (or, ``fitted=False``, of
    the data given), or a DataError."""
    n = len(index)
    rows = "fitted row" if fitted else "row of the data"
    whose = "the model was fitted to" if fitted else "the data have"
    data = "the fitted data's" if fitted else "the data's"
    if not isinstance(values, pd.Series):
        arr = np.asarray(values, dtype=object)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise DataError(f"{what} must have one value per {rows} ({n}), got shape {arr.shape}")
        return pd.Series(arr, index=index)
    if len(values) != n:
        raise DataError(
            f"{what} has {len(values)} values but {whose} {n} rows; "
            "pass the variable of the same respondents"
        )
    if values.index.equals(index):
        return values
    if index.is_unique and values.index.is_unique and set(values.index) == set(index):
        return values.reindex(index)
    raise DataError(
        f"{what}'s index is not {data} index; align it (variable.reindex(data.index)) "
        f"or pass variable.to_numpy() if the rows are in the order of the data"
    )


def _categories(variable: pd.Series) -> list:
    present = variable.dropna()
    if isinstance(variable.dtype, pd.CategoricalDtype):
        return list(variable.cat.categories)
    labels = list(pd.unique(present))
    # True == 1 for pandas: refuse them side by side rather than merge them
    name = variable.name if variable.name is not None else "variable"
    check_bool_number_mix(name, variable, labels)
    # whole floats (integer codes with blanks) are labelled 1, 2, 3 as indicators are
    labels = _whole_floats_to_int(labels)
    try:
        return sorted(labels)
    except TypeError:  # labels of types that do not compare: order of appearance
        return labels


def crosstab(
    model,
    variable: pd.Series,
    weights=None,
    kind: str = "modal",
    rows: tuple | None = None,
) -> pd.DataFrame:
    """How an outside variable is distributed within each class.

    Column percentages of the categories of ``variable`` within each class
    and in the whole sample, with the weighted and unweighted base of every
    column below them (the layout of the reference study's Table 3.26).

    Parameters
    ----------
    model : LatentClassModel
        Fitted to data in this session.
    variable : pandas.Series of shape (n_rows,)
        One value per row of the fitted data, indexed like it (a Series whose
        index holds the same unique labels in another order is reordered);
        an array-like is taken in the fitted row order. Missing values (NaN,
        None, pd.NA) are counted in a row ``"Missing"``, shown only when
        there are any, so every respondent is in the table.
    weights : array-like of shape (n_rows,), pandas.Series or None
        Case weights of the percentages and the weighted base; ``None``
        counts every row once. The model does not keep the weights it was
        fitted with: pass them again to weight the table.
    rows : (index, posteriors, weights), optional
        Respondents other than the fitted ones (``LatentClassModel.crosstab``
        with ``data=``): their index, posterior probabilities and checked
        weights, which then replace ``weights``.
    kind : {"modal", "proportional", "bch", "ml"}, default="modal"
        ``"modal"`` counts each respondent in its modal class;
        ``"proportional"`` spreads it over the classes by its posterior
        probabilities. Both understate how the classes differ, by the
        classification error of the assignment; the bias-adjusted three-step
        estimates of the distribution within each class correct for it
        (:mod:`lca.three_step`, modal assignment): ``"bch"`` weights each
        respondent by the inverse of the classification error matrix
        (Bakk, Tekle & Vermunt 2013; a rare category can get a percentage
        below 0), ``"ml"`` by maximum likelihood with that matrix fixed
        (Vermunt 2010; percentages stay in 0-100).

    Returns
    -------
    pandas.DataFrame
        Rows: the categories of ``variable`` (a Categorical keeps its
        category order, others are sorted), ``"Missing"`` if any, then
        ``"Weighted base"`` and ``"Unweighted base"``. Columns: classes 1..K
        and ``"Total"``. Category rows are percentages of the column's
        weighted base (0 to 100; NaN in a class nobody is assigned to). The
        unweighted base counts respondents (for ``"proportional"``, the sum
        of their posterior probabilities; for ``"bch"`` and ``"ml"``, of
        their BCH weights or corrected posteriors).
    """
    from .model import check_weights

    if kind not in CROSSTAB_KINDS:
        raise ValueError(f"kind must be one of {CROSSTAB_KINDS}, not {kind!r}")
    if rows is None:
        index = model._fit_index
        if isinstance(weights, pd.Series):
            weights = _aligned(weights, index, "weights")
        w = check_weights(weights, pd.DataFrame(index=index))
        post = model._pattern_post[model._fit_inverse]
    else:
        index, post, w = rows
    variable = _aligned(variable, index, "variable", fitted=rows is None)

    categories = _categories(variable)
    missing = variable.isna().to_numpy()
    labels = [*categories, MISSING_ROW] if missing.any() else list(categories)
    for reserved in (MISSING_ROW, WEIGHTED_BASE_ROW, UNWEIGHTED_BASE_ROW):
        if reserved in categories:
            raise DataError(
                f"variable has a category {reserved!r}, a row label crosstab uses itself; "
                "rename that category"
            )
    row_of = np.full(len(variable), len(categories), dtype=np.int64)  # default: missing
    lookup = pd.Index(categories, dtype=object)
    pos = lookup.get_indexer(pd.Index(variable.to_numpy(dtype=object), dtype=object))
    present = ~missing
    row_of[present] = pos[present]
    onehot = np.zeros((len(variable), len(labels)))
    onehot[np.arange(len(variable)), row_of] = 1.0

    from . import three_step

    if kind in ("bch", "ml"):  # corrected for the error of modal assignment
        modal = three_step.assignment_shares(post, "modal")
        three_step.warn_rarely_assigned(post, modal, w, range(1, post.shape[1] + 1))
    if kind == "bch":
        share = three_step.bch_shares(post, w)
    elif kind == "ml":
        share = three_step.ml_distal_shares(post, onehot, w)
    else:
        share = three_step.assignment_shares(post, kind)
    k = share.shape[1]
    # one more column: the whole sample
    share = np.hstack([share, np.ones((share.shape[0], 1))])

    weighted = onehot.T @ (w[:, None] * share)  # (n_labels, K + 1)
    base = weighted.sum(axis=0)
    percent = np.full_like(weighted, np.nan)
    np.divide(100.0 * weighted, base, out=percent, where=base > 0)
    if kind == "ml":  # a proportion on the boundary, which EM leaves at 1e-9 to 1e-300
        from .distal_categorical import BOUNDARY

        percent[percent < 100 * BOUNDARY] = 0.0
    unweighted_base = share.sum(axis=0)
    body = np.vstack([percent, base, unweighted_base])
    rows = pd.Index([*labels, WEIGHTED_BASE_ROW, UNWEIGHTED_BASE_ROW], dtype=object)
    rows.name = variable.name
    columns = pd.Index([*range(1, k + 1), "Total"], dtype=object, name="class")
    return pd.DataFrame(body, index=rows, columns=columns)


# -- bootstrap likelihood ratio test -----------------------------------------------------


@dataclass(frozen=True)
class BLRTResult:
    """Result of a bootstrap likelihood ratio test of K-1 against K classes.

    Attributes
    ----------
    n_classes : int
        K, the number of classes of the alternative model.
    statistic : float
        ``2 (LL_K - LL_{K-1})`` on the data.
    p_value : float
        ``(1 + #{bootstrap statistics >= statistic}) / (n_bootstrap + 1)``.
    bootstrap_statistics : ndarray of shape (n_bootstrap,)
        The statistic on each bootstrap sample drawn from the K-1 model.
    n_bootstrap : int
        Number of bootstrap samples.
    loglik_null, loglik_alt : float
        Log-likelihoods of the K-1 and K class models on the data.
    n_not_converged : int
        Bootstrap fits (of 2 per sample) whose best start did not converge.
    """

    n_classes: int
    statistic: float
    p_value: float
    bootstrap_statistics: np.ndarray
    n_bootstrap: int
    loglik_null: float
    loglik_alt: float
    n_not_converged: int = 0

    def __repr__(self) -> str:
        k = self.n_classes
        return (
            f"BLRTResult({k - 1} vs {k} classes: statistic={self.statistic:.3f}, "
            f"p_value={self.p_value:.4f}, n_bootstrap={self.n_bootstrap})"
        )

    def to_dict(self) -> dict:
        """Plain Python values (for JSON)."""
        return {
            "n_classes": int(self.n_classes),
            "statistic": float(self.statistic),
            "p_value": float(self.p_value),
            "bootstrap_statistics": [float(v) for v in self.bootstrap_statistics],
            "n_bootstrap": int(self.n_bootstrap),
            "loglik_null": float(self.loglik_null),
            "loglik_alt": float(self.loglik_alt),
            "n_not_converged": int(self.n_not_converged),
        }

    @classmethod
    def from_dict(cls, d: dict) -> BLRTResult:
        """Inverse of :meth:`to_dict`."""
        stats = np.asarray(d["bootstrap_statistics"], dtype=float)
        return cls(
            n_classes=int(d["n_classes"]),
            statistic=float(d["statistic"]),
            p_value=float(d["p_value"]),
            bootstrap_statistics=stats,
            n_bootstrap=int(d["n_bootstrap"]),
            loglik_null=float(d["loglik_null"]),
            loglik_alt=float(d["loglik_alt"]),
            n_not_converged=int(d.get("n_not_converged", 0)),
        )


def bootstrap_seed(random_state) -> int | None:
    """The integer entropy of the bootstrap's SeedSequence from a ``random_state``."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return int(random_state)
    raise ValueError(
        f"random_state must be None, a non-negative integer or a numpy Generator, got "
        f"{random_state!r}"
    )


def _replicate_from(caller, *args):
    """:func:`_replicate`, its warnings pointing at ``caller`` (the user's line), without
    those about the data as given (a sample drawn from the model: the user saw them for
    the real data, and they would come once per sample)."""
    with warnings_from(caller, quiet_data=True):
        return _replicate(*args)


def _replicate(null_model, missing, weights, n_classes, seed, fit_options, split_starts=True):
    """LR statistic on one sample drawn from the K-1 class model.

    The sample's K class model starts from its K-1 class fit split (as the
    data's K class model in ``compare``) when ``split_starts``: the two
    searches must be alike, or the observed statistic and its bootstrap
    distribution would measure different things.
    """
    from .simulate import labelled_frame

    rng = np.random.default_rng(seed)
    # drawn from the null model as it is (a DirectEffectsModel with its pairs' tables)
    codes, _ = null_model._draw_codes(missing.shape[0], rng)
    codes[missing] = -1  # each respondent keeps the original row's missing answers
    frame = labelled_frame(codes, null_model.indicators_)
    fit_seed = int(rng.integers(2**63))
    kind = type(null_model)  # both fits of the null model's kind (and options)
    null = kind(n_classes - 1, random_state=fit_seed, **fit_options)
    null.fit(frame, weights=weights)
    alt = kind(n_classes, random_state=fit_seed, **fit_options)
    alt.fit(frame, weights=weights, start_from=null if split_starts else None)
    fits = [null, alt]
    statistic = 2.0 * (fits[1].loglik_ - fits[0].loglik_)
    return statistic, sum(not m.converged_ for m in fits)


def bootstrap_lr(
    null_model,
    missing: np.ndarray,
    weights: np.ndarray,
    *,
    n_classes: int,
    loglik_alt: float,
    n_bootstrap: int,
    seed: int | None,
    fit_options: dict,
    n_jobs: int = 1,
    progress: bool = False,
    split_starts: bool = True,
) -> BLRTResult:
    """The bootstrap part of :func:`blrt`, given the fitted K-1 class model.

    Parameters
    ----------
    null_model : LatentClassModel
        The K-1 class model fitted to the data (or loaded from a file).
    missing : ndarray of bool of shape (n_rows, n_indicators)
        Which answers of the data are missing, in the model's indicator order.
    weights : ndarray of shape (n_rows,)
        Case weights of the data.
    n_classes : int
        K.
    loglik_alt : float
        Log-likelihood of the K class model on the data.
    n_bootstrap : int
    seed : int or None
        Entropy of the SeedSequence from which one seed per sample is spawned.
    fit_options : dict
        Options of the bootstrap fits (without ``random_state``).
    n_jobs : int, default=1
        Bootstrap samples fitted side by side (threads; the EM kernels
        release the GIL). The result does not depend on it.
    progress : bool, default=False
        A progress bar over the samples.
    split_starts : bool, default=True
        Whether each sample's K class fit also starts from its K-1 class fit
        with one class split in two (as the data's K class model was).

    Returns
    -------
    BLRTResult
        The statistic on the data, its bootstrap distribution and p-value.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    children = np.random.SeedSequence(seed, spawn_key=(n_classes,)).spawn(n_bootstrap)
    fit_options = {**fit_options, "n_jobs": 1}
    # warnings of the fits in joblib's threads point at the user's line, not into joblib
    caller = user_location()
    tasks = (
        delayed(_replicate_from)(
            caller, null_model, missing, weights, n_classes, child, fit_options, split_starts
        )
        for child in children
    )
    with warnings.catch_warnings():
        # counted and reported once below instead of once per fit
        warnings.simplefilter("ignore", ConvergenceWarning)
        runner = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")
        bar = tqdm(
            runner(tasks),
            total=n_bootstrap,
            desc=f"BLRT {n_classes - 1} vs {n_classes}",
            disable=not progress,
            leave=False,
        )
        results = list(bar)
    stats = np.array([r[0] for r in results], dtype=float)
    not_converged = int(sum(r[1] for r in results))
    if not_converged:
        warn(
            f"{not_converged} of {2 * n_bootstrap} bootstrap fits ({n_classes - 1} and "
            f"{n_classes} classes) did not converge; raise max_iter for a sharper p-value",
            ConvergenceWarning,
        )
    statistic = 2.0 * (loglik_alt - null_model.loglik_)
    p_value = (1.0 + np.count_nonzero(stats >= statistic)) / (n_bootstrap + 1.0)
    return BLRTResult(
        n_classes=int(n_classes),
        statistic=float(statistic),
        p_value=float(p_value),
        bootstrap_statistics=stats,
        n_bootstrap=int(n_bootstrap),
        loglik_null=float(null_model.loglik_),
        loglik_alt=float(loglik_alt),
        n_not_converged=not_converged,
    )


def missing_mask(data: pd.DataFrame, indicators) -> np.ndarray:
    """Missing answers of ``data`` in the indicators' order, shape (n_rows, n_indicators)."""
    return np.column_stack([data[ind.name].isna().to_numpy() for ind in indicators])


def bootstrap_fit_options(model_options: dict, bootstrap_starts: int | None) -> dict:
    """Options of the bootstrap fits: the models' options, maybe with fewer starts."""
    options = {k: v for k, v in model_options.items() if k not in ("random_state", "n_jobs")}
    if bootstrap_starts is not None:
        if (
            isinstance(bootstrap_starts, bool)
            or not isinstance(bootstrap_starts, numbers.Integral)
            or bootstrap_starts < 1
        ):
            raise ValueError(f"bootstrap_starts must be an integer >= 1, got {bootstrap_starts!r}")
        options["n_starts"] = int(bootstrap_starts)
        if options.get("n_final") is not None:
            options["n_final"] = min(int(options["n_final"]), int(bootstrap_starts))
    return options


def blrt(
    data: pd.DataFrame,
    n_classes: int,
    n_bootstrap: int = 99,
    weights=None,
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int = 1,
    *,
    bootstrap_starts: int | None = None,
    progress: bool = False,
    split_starts: bool = True,
    **model_options,
) -> BLRTResult:
    """Bootstrap likelihood ratio test of ``n_classes - 1`` against ``n_classes`` classes.

    The parametric bootstrap of Nylund, Asparouhov & Muthen (2007): fit K-1
    and K classes to the data, ``LR = 2 (LL_K - LL_{K-1})``; draw
    ``n_bootstrap`` samples of N respondents from the fitted K-1 class model
    (each keeps the missing answers and the weight of one original row), fit
    K-1 and K classes to each, and compare.

    Parameters
    ----------
    data : pandas.DataFrame
        One column per indicator, as for :meth:`LatentClassModel.fit`.
    n_classes : int
        K >= 2.
    n_bootstrap : int, default=99
        Bootstrap samples B; the smallest possible p-value is 1 / (B + 1).
    weights : array-like, str or None
        Case weights, or the name of the column holding them.
    random_state : int, numpy Generator or None, default=0
        Seeds the fits to the data and the SeedSequence from which every
        bootstrap sample gets its own seed: the same value gives the same
        p-value whatever ``n_jobs`` is.
    n_jobs : int, default=1
        Bootstrap samples fitted side by side (threads).
    bootstrap_starts : int or None, default=None
        Random starts of the bootstrap fits; ``None`` uses ``n_starts`` of
        the models. Fewer starts are faster; too few can miss the K-class
        maximum, which lowers the bootstrap statistics and the p-value.
    progress : bool, default=False
        A progress bar over the bootstrap samples.
    split_starts : bool, default=True
        Fit the K class model (to the data and to every sample) also from
        the K-1 class fit with one class split in two, as
        :func:`lca.compare` does; the observed statistic and its bootstrap
        distribution come from the same search.
    **model_options
        Passed to :class:`LatentClassModel` (``n_starts``,
        ``bayes_constant``, ...); with ``direct_effects=[(a, b), ...]`` both
        models are :class:`lca.DirectEffectsModel` with those effects, and
        every sample is drawn with them (no split starts: that model takes
        no ``start_from``).

    Returns
    -------
    BLRTResult
        ``p_value = (1 + #{LR_b >= LR}) / (B + 1)``, the statistic, the
        bootstrap statistics, B and K.

    Notes
    -----
    The statistic uses the log-likelihood, also when Bayes constants make the
    fits posterior-mode estimates. A bootstrap fit that misses its maximum
    can give a statistic below 0; it is kept as it is.
    """
    from .model import LatentClassModel

    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, numbers.Integral):
        raise ValueError(f"n_bootstrap must be an integer >= 1, got {n_bootstrap!r}")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be an integer >= 1, got {n_bootstrap!r}")
    seed = bootstrap_seed(random_state)
    fit_seed = seed if seed is not None else random_state
    fit_options = bootstrap_fit_options(model_options, bootstrap_starts)
    frame, w = LatentClassModel._split_weights(data, weights)
    kind = LatentClassModel
    if "direct_effects" in model_options:  # no split starts for these: see the notes
        from .selection import _model_class

        kind = _model_class(model_options)
        split_starts = False
    null, alt = (
        kind(k, random_state=fit_seed, n_jobs=n_jobs, **model_options)
        for k in (n_classes - 1, n_classes)
    )
    null.fit(frame, weights=w)
    alt.fit(frame, weights=w, start_from=null if split_starts else None)
    return bootstrap_lr(
        null,
        missing_mask(frame, null.indicators_),
        w,
        n_classes=int(n_classes),
        loglik_alt=alt.loglik_,
        n_bootstrap=int(n_bootstrap),
        seed=seed,
        fit_options=fit_options,
        n_jobs=n_jobs,
        progress=progress,
        split_starts=split_starts,
    )
