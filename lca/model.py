"""The latent class model estimator."""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import ClassVar

import numpy as np
import pandas as pd

from . import _em, _kernels, criteria
from .encoding import (
    MAX_CATEGORIES,
    DataError,
    _is_number,
    answered_only_where_weightless,
    check_frame,
    compress,
    empty_rows,
    encode,
    encode_patterns,
    learn_indicators,
    name_list,
    plain_name,
    text_key,
)
from .exceptions import ConvergenceWarning, DataWarning, NotFittedError, warn


def _check_int(name, value, low, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_at_most(name, value, high):
    if value > high:
        raise ValueError(
            f"{name} must be at most {high} (categories are stored as 16-bit codes), got {value!r}"
        )


def _check_real(name, value, low, strict):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (strict and value == low):
        sign = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {sign} {low}, got {value!r}")


def check_weights(weights, data: pd.DataFrame) -> np.ndarray:
    """Validate case weights against the data and return them as floats."""
    values = weight_values(weights, data)
    with np.errstate(over="ignore"):
        total = float(values.sum())
    check_weight_total(bool((values > 0).any()), total)
    return values


def check_weight_total(any_positive: bool, total: float) -> None:
    """Refuse weights that are all zero or whose sum overflows (see :func:`check_weights`)."""
    if not any_positive:
        raise DataError("every weight is zero: there is nothing to fit")
    if not math.isfinite(total):
        raise DataError(
            f"the weights sum to {total!r}, beyond the range of floating-point numbers; "
            "rescale them (for instance to sum to the number of rows)"
        )


def weight_values(weights, data: pd.DataFrame) -> np.ndarray:
    """Case weights as floats, each checked (finite, >= 0); not their total.

    The row-by-row part of :func:`check_weights`, which a Dask fit runs on
    every partition.
    """
    n = data.shape[0]
    if weights is None:
        return np.ones(n)
    if isinstance(weights, str):
        raise DataError(
            f"weights={weights!r} is a name, and there is no frame here to take it from; "
            f"give the weights themselves, one per row, e.g. weights=df[{weights!r}]"
        )
    if isinstance(weights, pd.Series):
        if len(weights) != n:
            raise DataError(f"weights have {len(weights)} values but the data have {n} rows")
        index = data.index
        if not weights.index.equals(index) and index.is_unique and weights.index.is_unique:
            order = weights.index.get_indexer(index)  # -1: a row label the weights lack
            if (order >= 0).all():  # the same respondents in another order
                weights = weights.iloc[order].set_axis(index)
        if not weights.index.equals(index):
            raise DataError(
                "the weights' index is not aligned with the data's index; pass "
                "weights.reindex(data.index) or weights.to_numpy() if the order is right"
            )
        values = weights.to_numpy()
    else:
        values = np.asarray(weights)
        if values.ndim != 1 or values.shape[0] != n:
            raise DataError(f"weights must be one value per row ({n}), got shape {values.shape}")
    try:
        values = values.astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"weights must be numbers: {exc}") from None
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = plain_name(data.index[i])
        raise DataError(
            f"weights hold {float(values[i])!r} at row {row!r} ({int(bad.sum())} "
            "non-finite values); give every row a finite weight (0 to leave it out)"
        )
    if (values < 0).any():
        i = int(np.flatnonzero(values < 0)[0])
        row = plain_name(data.index[i])
        raise DataError(
            f"weights hold the negative value {float(values[i])!r} at row {row!r}; "
            "weights must be >= 0"
        )
    return values


def as_frame(data):
    """A 2-D NumPy array is read as a frame with columns 0..J-1; anything else is kept."""
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return pd.DataFrame(data)
    return data


def marginal_counts(patterns: np.ndarray, weights: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Weighted count of every answered category, on the flat category axis."""
    marg = np.zeros(int(offsets[-1]))
    for j in range(patterns.shape[1]):
        col = patterns[:, j]
        ok = col >= 0
        np.add.at(marg, offsets[j] + col[ok].astype(np.int64), weights[ok])
    return marg


DISTRIBUTED_NEEDS_DASK = (
    "distributed=True needs a Dask DataFrame (dask.dataframe.from_pandas(data, "
    "npartitions=...) or dask.dataframe.read_parquet(...)); pandas data are fitted in "
    "this process: leave distributed unset"
)


#: How the warning of ``unknown="missing"`` begins.
UNKNOWN_AS_MISSING = "answers the model has no category for, read as missing"


def dirichlet_priors(marg, offsets, n_classes: int, b: float, a: float) -> tuple:
    """Pseudo-counts of the Bayes constants: ``(a / K, (b / K) f_jc)``.

    ``marg`` holds the weighted counts of every category (``marginal_counts``);
    f_jc is the observed share of category c among the respondents who
    answered indicator j (uniform when nobody did).
    """
    shares = np.array(marg, dtype=float)
    for j in range(offsets.shape[0] - 1):
        block = shares[offsets[j] : offsets[j + 1]]
        total = block.sum()
        shares[offsets[j] : offsets[j + 1]] = block / total if total > 0 else 1.0 / len(block)
    return a / n_classes, (b / n_classes) * shares


def some_values(values: pd.Series, n: int = 3) -> str:
    """The first ``n`` distinct values, as a message shows them (``...`` if there are more)."""
    distinct = pd.unique(values)
    shown = [repr(v.item() if isinstance(v, np.generic) else v) for v in distinct[:n]]
    return ", ".join(shown) + (", ..." if len(distinct) > n else "")


def warn_unknown_as_missing(data, indicators, codes) -> None:
    """Say how many answers ``unknown="missing"`` read as missing, column by column,
    and which columns had no known answer at all (labels that do not match)."""
    parts, unmatched = [], []
    for j, ind in enumerate(indicators):
        if ind.name not in data.columns:
            continue
        column = data[ind.name]
        answered = column.notna().to_numpy()
        gone = answered & (codes[:, j] < 0)
        n = int(gone.sum())
        if not n:
            continue
        parts.append(f"{n} in {ind.name!r} ({some_values(column[gone])})")
        if n == int(answered.sum()):
            unmatched.append(ind.name)
    if not parts:
        return
    text = f"{UNKNOWN_AS_MISSING}: {'; '.join(parts)}"
    if unmatched:
        text += (
            f". No answer of {unmatched} is a category of the model: do their labels match "
            "the model's (model.indicators_)?"
        )
    warn(text, UserWarning)


def _listed(values, n: int = 6) -> str:
    """The first ``n`` of ``values`` for a message (``...`` if there are more)."""
    return ", ".join(map(repr, values[:n])) + (", ..." if len(values) > n else "")


def _warn_skipped_scores(indicators, ordinal) -> None:
    """Warn where an ordinal indicator's scores skip a category nobody gave."""
    for ind, is_ordinal in zip(indicators, ordinal):
        # two categories have one score difference whatever their scores; many gaps (1..5
        # and 99) are a code apart from the scale, not categories nobody gave
        few, many_gaps = ind.n_categories < 3, len(ind.skipped) > ind.n_categories
        if not (is_ordinal and ind.skipped) or few or many_gaps:
            continue
        if ind.ordered:  # an ordered Categorical's unused categories
            keep = f"list(df[{ind.name!r}].cat.categories)"
        else:
            full = sorted([*ind.categories, *ind.skipped])
            keep = repr(full) if len(full) <= 20 else "[every category in order]"
        warn(
            f"ordinal indicator {ind.name!r}: nobody gave {_listed(ind.skipped)}, between "
            f"its answered categories {_listed(ind.categories)}, which alone are scored, "
            "equidistantly, so the categories above a gap move down. To keep every "
            f"category's place (and count its parameters), give categories={{{ind.name!r}: "
            f"{keep}}}",
            DataWarning,
        )


@dataclass(frozen=True)
class EncodedData:
    """Data compressed to distinct answer patterns, ready for any number of fits.

    ``inverse`` and ``index`` (the pattern of every row, the rows' index)
    exist for pandas data only. ``distributed`` is the
    ``lca._dask.DistributedPatterns`` of a pattern table left in a Dask
    cluster's memory; ``patterns`` and ``pattern_weights`` are then None.
    """

    indicators: list
    patterns: np.ndarray | None
    pattern_weights: np.ndarray | None
    n_rows: int
    n_empty_rows: int
    inverse: np.ndarray | None = None
    index: pd.Index | None = None
    distributed: object = None
    #: rows of positive weight (pandas data only)
    n_weighted_rows: int | None = None


def informative_patterns(patterns, pattern_weights, distributed=None) -> int:
    """Distinct answer patterns with positive weight and at least one answer.

    The pattern of rows with no answer says nothing about the classes.
    ``distributed``: the ``lca._dask.DistributedPatterns`` holding the table.
    """
    if distributed is not None:
        return int(distributed.n_positive)
    answered = (patterns >= 0).any(axis=1)
    return int(np.count_nonzero((pattern_weights > 0) & answered))


def check_classes_fit_patterns(n_classes: int, n_patterns: int) -> None:
    """Refuse more classes than :func:`informative_patterns`."""
    if n_classes > n_patterns:
        raise DataError(
            f"n_classes={n_classes} exceeds the {n_patterns} distinct answer patterns in "
            "the data (rows with no answer not counted); a model cannot have more classes "
            "than patterns"
        )


def _aligned_rows(frame: pd.DataFrame, index: pd.Index, what: str) -> pd.DataFrame:
    """``frame`` on the respondents' ``index`` (reordered if it holds the same unique
    labels in another order), or a DataError saying how to align it."""
    if len(frame) != len(index):
        raise DataError(
            f"the {what} have {len(frame)} rows but the data have {len(index)}; "
            "give one row per respondent"
        )
    if frame.index.equals(index):
        return frame
    if not (index.is_unique and frame.index.is_unique) or set(frame.index) != set(index):
        raise DataError(
            f"the {what}' index is not the data's index; align them "
            f"({what}.reindex(data.index)) or set {what}.index = data.index "
            "if the rows are in the same order"
        )
    return frame.reindex(index)


def _as_list(start_from) -> list:
    """``fit(start_from=...)`` as a list of models."""
    return list(start_from) if isinstance(start_from, (list, tuple)) else [start_from]


#: Pattern starts (``pattern_starts``) are screened by this many EM
#: iterations, after which the best ``PATTERN_KEEP`` join the other starts.
PATTERN_SCREEN_ITER = 10
PATTERN_KEEP = 2


class LatentClassModel:
    """Latent class model for categorical (nominal or ordinal) indicators, fitted by EM.

    Parameters
    ----------
    n_classes : int, default=2
        Number of latent classes K.
    n_starts : int, default=16
        Random starting values (Latent GOLD's "random sets"). Each runs
        ``burn_in`` EM iterations; the ``n_final`` best are run to
        convergence and the best of those is kept. 0 fits from the starts
        given to ``fit(start_from=...)`` only.
    n_final : int or None, default=None
        Starts continued to convergence; ``None`` means
        ``max(2, n_starts // 4)`` (as Mplus' ``STARTS = 20 4``).
    burn_in : int, default=50
        EM iterations of every start before the best are chosen (Latent
        GOLD's default of 50 iterations per set).
    split_merge : int, default=0
        Split-and-merge moves (SMEM, Ueda et al. 2000) tried after the
        starts: each merges two classes of the best solution and splits one
        class in two, and is fitted like a start (in batches of 10: burn-in,
        then the best to convergence). A batch that raises the objective
        (by more than 1e-6 relative) replaces the solution, and the moves
        continue from it. Models with more classes than the data clearly
        support have many nearby maxima that random starts find only by
        chance; a few dozen moves usually climb past them. 0 (the default)
        tries none.
    pattern_starts : int, default=20
        With ``fit(start_from=...)`` given a model of ``n_classes - 1``
        classes: that many more candidate starts, each the (K-1)-class
        solution plus a small new class (1% of the respondents) placed at one
        of the answer patterns it predicts worst (largest Pearson residual,
        observed against expected count), as greedy EM for mixtures inserts
        a component (Vlassis & Likas 2002; Verbeek, Vlassis & Kroese 2003).
        They are screened by 10 EM iterations and the best 2 join the other
        starts. A small class that the (K-1)-class model has no room for
        shows there first; random starts, or halving a class, find it only
        by chance. ``compare`` fits every K this way from K-1. 0 adds none.
    max_iter : int, default=5000
        Most EM iterations (E-steps) for one start, burn-in included.
    tol : float, default=1e-12
        Convergence when one EM step raises the objective by less than
        ``tol * |objective|``.
    bayes_constant : float, default=1.0
        Latent GOLD's Bayes constant for the class-conditional probabilities
        (Dirichlet prior proportional to the observed marginals; see the
        statistical reference). ``0`` is plain maximum likelihood and
        reproduces poLCA.
    class_bayes_constant : float or None, default=None
        Bayes constant for the class sizes; ``None`` uses ``bayes_constant``.
    accelerate : bool, default=True
        Accelerate EM with SQUAREM, which never lowers the objective and
        needs about a third of plain EM's iterations. From a given start it
        usually reaches plain EM's maximum; where a likelihood has many
        nearby maxima (models with many classes) the two paths can end at
        different ones (20 of 90 starts in ``benchmarks/README.md``, section E),
        which is what the multi-start search is for.
    ordinal : column name, iterable of column names, or None, default=None
        Indicators of Latent GOLD's ordinal scale type (one name, or a list,
        Index or array of names): an adjacent-category
        logit with equidistant category scores, log P(y=c|k) = a_c + b_k c -
        log(normaliser), so (C - 1) intercepts + (K - 1) class effects
        instead of K (C - 1) free probabilities. Their category order comes
        from an ordered pandas Categorical, from ``categories=``, or from
        numeric labels (sorted); other labels of unknown order are refused.
    categories : mapping or None, default=None
        ``{column: [labels in order]}`` to fix the category order (and the
        allowed labels) of some indicators. Every label given is a category
        of the model, answered or not: one nobody gave has its parameters
        counted (in ``n_parameters_``, the information criteria and df),
        estimated at 0 by maximum likelihood, above 0 with a Bayes constant;
        leave it out to fit only the categories the data have.
    max_categories : int, default=50
        A column with more distinct values is refused as continuous.
    random_state : int, numpy Generator or None, default=0
        Seeds the one generator that draws every start.
    n_jobs : int or None, default=1
        Threads: starts run side by side, or, with many distinct answer
        patterns, one start uses several threads. The result is the same bit
        for bit whatever ``n_jobs`` is. -1 means all cores (joblib's
        convention); inside a running Dask client the starts go to the
        cluster.

    Attributes
    ----------
    class_sizes_ : pandas.Series
        Class sizes P_k indexed by class 1..K; classes are numbered by
        decreasing size.
    conditional_probs_ : dict of pandas.DataFrame
        Indicator name -> DataFrame (category x class) of P(y_j = c | k).
    loglik_ : float
        Log-likelihood at the estimates.
    log_prior_ : float
        Log of the Bayes-constant priors (0 when both constants are 0); the
        objective maximised is ``loglik_ + log_prior_``.
    bayes_constant_, class_bayes_constant_ : float
        The Bayes constants of the fit (of the conditional probabilities and
        of the class sizes), as they were when it ran.
    n_parameters_ : int
        (K - 1) + K * sum_j (C_j - 1) over nominal indicators, plus
        (C_j - 1) + (K - 1) for each ordinal one.
    n_obs_ : float
        N: the sum of the case weights (the number of rows without weights).
        Used by BIC, CAIC and SABIC.
    n_rows_ : int
        Rows of the data, every one kept.
    n_empty_rows_ : int
        Rows with no answer at all; their posterior is the class sizes.
    converged_ : bool
        Whether the best start converged.
    n_iter_ : int
        EM iterations (E-steps) of the best start.
    n_starts_at_best_ : int
        Of the starts run to convergence (``start_objectives_``), how many
        reached the best objective (relative difference under 1e-6). 1 means
        the maximum did not replicate: use more starts. 0 means a
        split-and-merge move (``split_merge``) found a higher maximum than
        every start.
    start_objectives_ : ndarray of shape (n_finished,)
        Final objective of each start run to convergence: the ``n_final``
        best after the burn-in, or every start when there are no more than
        ``n_final`` of them.
    indicators_ : list of Indicator
        Indicator names and category labels in model order.
    classes_ : pandas.RangeIndex
        The class numbers 1..K.
    n_classes_ : int
        K, the number of classes fitted.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_classes": lambda v: _check_int("n_classes", v, 1),
        "n_starts": lambda v: _check_int("n_starts", v, 0),
        "n_final": lambda v: _check_int("n_final", v, 1, allow_none=True),
        "burn_in": lambda v: _check_int("burn_in", v, 1),
        "split_merge": lambda v: _check_int("split_merge", v, 0),
        "pattern_starts": lambda v: _check_int("pattern_starts", v, 0),
        "max_iter": lambda v: _check_int("max_iter", v, 1),
        "tol": lambda v: _check_real("tol", v, 0.0, strict=True),
        "bayes_constant": lambda v: _check_real("bayes_constant", v, 0.0, strict=False),
        "class_bayes_constant": lambda v: (
            None if v is None else _check_real("class_bayes_constant", v, 0.0, strict=False)
        ),
        "max_categories": lambda v: (
            _check_int("max_categories", v, 2) or _check_at_most("max_categories", v, 32_767)
        ),
    }

    def __init__(
        self,
        n_classes: int = 2,
        *,
        n_starts: int = 16,
        n_final: int | None = None,
        burn_in: int = 50,
        split_merge: int = 0,
        pattern_starts: int = 20,
        max_iter: int = 5000,
        tol: float = 1e-12,
        bayes_constant: float = 1.0,
        class_bayes_constant: float | None = None,
        accelerate: bool = True,
        ordinal: Sequence[Hashable] | None = None,
        categories: Mapping[Hashable, Sequence] | None = None,
        max_categories: int = MAX_CATEGORIES,
        random_state: int | np.random.Generator | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_classes = n_classes
        self.n_starts = n_starts
        self.n_final = n_final
        self.burn_in = burn_in
        self.split_merge = split_merge
        self.pattern_starts = pattern_starts
        self.max_iter = max_iter
        self.tol = tol
        self.bayes_constant = bayes_constant
        self.class_bayes_constant = class_bayes_constant
        self.accelerate = accelerate
        self.ordinal = ordinal
        self.categories = categories
        self.max_categories = max_categories
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- scikit-learn plumbing -------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments, as scikit-learn estimators report them.

        Parameters
        ----------
        deep : bool, default=True
            Ignored (the model holds no sub-estimators); scikit-learn passes it.

        Returns
        -------
        dict
            Argument name -> value.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> LatentClassModel:
        """Set constructor arguments; they change the next fit, not the current one.

        Parameters
        ----------
        **params
            Constructor arguments by name; an unknown name raises ValueError.

        Returns
        -------
        LatentClassModel
            The model itself.
        """
        names = self._param_names()
        for key, value in params.items():
            if key not in names:
                raise ValueError(f"unknown parameter {key!r}; valid ones are {names}")
            setattr(self, key, value)
        return self

    def __setstate__(self, state: dict) -> None:
        """Unpickling; a model pickled before the Bayes constants of its fit were
        recorded gets them from its options, as a model file of that time does."""
        self.__dict__.update(state)
        if state.get("_stats") is not None and "bayes_constant_" not in state:
            self.bayes_constant_, self.class_bayes_constant_ = self._bayes_constants()

    def _bayes_constants(self) -> tuple[float, float]:
        """``(b, a)``: the Bayes constants of the conditional probabilities and of the
        class sizes that the options ask for (``class_bayes_constant=None``: ``b``)."""
        b = float(self.bayes_constant)
        a = b if self.class_bayes_constant is None else float(self.class_bayes_constant)
        return b, a

    def __sklearn_is_fitted__(self) -> bool:
        """Whether the model is fitted (scikit-learn's ``check_is_fitted`` asks)."""
        return hasattr(self, "_class_probs")

    def __sklearn_tags__(self):
        """scikit-learn's description of the estimator, which its pipelines and
        utilities read (scikit-learn >= 1.6; only they call it, so it imports it)."""
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(
            estimator_type="clusterer",
            target_tags=TargetTags(required=False),
            # data frames of any labels, missing answers kept in the likelihood
            input_tags=InputTags(categorical=True, string=True, allow_nan=True),
        )

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        }
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if not (v is defaults[k] or (type(v) is type(defaults[k]) and v == defaults[k]))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _validate_params(self) -> None:
        for name, check in self._parameter_constraints.items():
            check(getattr(self, name))
        rs = self.random_state
        if not (
            rs is None
            or isinstance(rs, np.random.Generator)
            or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0)
        ):
            raise ValueError(
                "random_state must be None, a non-negative integer or a numpy Generator, "
                f"got {rs!r}"
            )
        if not isinstance(self.accelerate, (bool, np.bool_)):
            raise ValueError(f"accelerate must be True or False, got {self.accelerate!r}")
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool)
            or not isinstance(self.n_jobs, numbers.Integral)
            or self.n_jobs == 0
        ):
            raise ValueError(f"n_jobs must be a non-zero integer or None, got {self.n_jobs!r}")

    def _reset(self) -> None:
        """Forget everything learned by a previous fit (labels included)."""
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)
        for name in (
            "_class_probs", "_cond_probs", "_patterns", "_pattern_post", "_stats", "_fit_params",
        ):  # fmt: skip
            self.__dict__.pop(name, None)

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(data) first"
            )

    @classmethod
    def from_parameters(
        cls,
        class_sizes: Sequence[float],
        conditional_probs: Mapping[Hashable, pd.DataFrame | Sequence],
        **options,
    ) -> LatentClassModel:
        """A model with given parameters, ready to predict, without fitting.

        Parameters
        ----------
        class_sizes : sequence of float of length K
            Sum to 1.
        conditional_probs : mapping
            Indicator name -> DataFrame (index: category labels in order;
            columns: the K classes) or array-like of shape (n_categories, K)
            with labels 1..C. Every column sums to 1.
        **options
            Constructor arguments recorded with the model.

        Classes keep the order given (they are not re-sorted by size). The
        probabilities of an indicator named in ``ordinal=`` must be of the
        ordinal model's form, to the rounding of published percentages: they
        are replaced by the closest of that form (its maximum likelihood fit
        to them), and refused (ValueError) when those are more than 0.005
        away.
        ``fit_stats``, ``classification_table`` and ``avepp`` need data and
        raise on such a model; ``predict``, ``profile``, ``sample`` and
        ``save`` work.
        """
        from .parameters import given_parameters, ordinal_form

        sizes, indicators, cond = given_parameters(class_sizes, conditional_probs)
        k = sizes.shape[0]
        model = cls(n_classes=k, **options)
        model._validate_params()
        model.indicators_ = indicators
        model._ordinal = model._ordinal_mask(indicators)
        n_cats = [ind.n_categories for ind in indicators]
        model._offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
        for j in np.flatnonzero(model._ordinal):
            lo, hi = model._offsets[j], model._offsets[j + 1]
            cond[lo:hi] = ordinal_form(cond[lo:hi], indicators[j].name)
        model._set_parameters(sizes, cond)
        model._stats = None
        model._tables = None
        model._avepp = None
        model.n_parameters_ = criteria.n_parameters(k, n_cats, model._ordinal)
        return model

    def _check_has_data_stats(self) -> None:
        self._check_fitted()
        if self._stats is None:
            raise NotFittedError(
                "this model was built from parameters, not fitted to data: it has no fit "
                "statistics, classification table or AvePP; fit it to data for those"
            )

    # -- fitting ---------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        y=None,
        *,
        weights=None,
        progress: bool = False,
        distributed: bool | None = None,
        start_from: LatentClassModel | Sequence[LatentClassModel] | None = None,
    ) -> LatentClassModel:
        """Fit the model to survey answers.

        Parameters
        ----------
        data : pandas.DataFrame of shape (n_respondents, n_indicators)
            One column per indicator (a 2-D NumPy array is read as a frame
            with columns 0..J-1); any str/int/float/bool labels; missing
            answers (NaN, None, pd.NA) stay in the likelihood. A Dask
            DataFrame is compressed to its answer patterns by Dask and then
            fitted here, with the same result as the same data in pandas.
            (Dask's default ``dataframe.convert-string`` turns object columns
            into text when the frame is built, so bool or mixed labels arrive
            as ``"True"``, ``"1.5"``; build the frame under
            ``dask.config.set({"dataframe.convert-string": False})`` to keep
            them.)
        weights : array-like of shape (n_respondents,), pandas.Series, str or None
            Non-negative case weights (survey weights or frequencies), or the
            name of a column of ``data`` holding them (that column is then
            not an indicator; the only form a Dask DataFrame takes). A Series
            is matched to the rows by its index (the same labels in another
            order are reordered; other labels are refused). The
            likelihood, class sizes, profiles and every statistic are
            weighted; N in BIC, CAIC and SABIC is the sum of the weights.
        y : None
            Ignored: latent classes are not supervised. Present so that
            scikit-learn pipelines, which pass ``y`` by position, work; give
            weights by keyword.
        progress : bool, default=False
            Show a progress bar over the random starts (tqdm, on stderr).
        distributed : bool or None, default=None
            Dask DataFrames only: whether EM runs distributed over the
            partitions (the pattern table stays in the cluster's memory and
            each EM round sums E-step statistics across partitions) instead
            of on the collected pattern table. None chooses distributed EM
            when the data have more than ``lca._dask.MAX_LOCAL_PATTERNS``
            distinct answer patterns. Both give the same fit; a model fitted
            distributed keeps no pattern table, so bivariate residuals are
            not available from it. ``crosstab`` needs the rows: it is
            available after a pandas fit only.
        start_from : LatentClassModel, list of them, or None, default=None
            Fitted models of the same indicators (names, categories and
            scale types) whose solutions are starting values beside the
            random ones (as poLCA's ``probs.start``, and more): a model with
            ``n_classes`` classes gives its estimates as one start; with
            ``n_classes - 1`` classes each of its classes split in two is one
            start (the two halves' log-probabilities moved apart at random);
            with ``n_classes + 1`` each pair of its classes merged is one
            start, and ``pattern_starts`` candidates with a new class at a
            badly fitted answer pattern are screened, the best 2 kept. They
            go through the burn-in with the random starts. With
            ``n_starts=0`` they are the only starts. :func:`lca.compare` uses
            split starts by default and merge starts on request.

        Returns
        -------
        self : LatentClassModel
        """
        self._start_fit(start_from)
        from ._dask import is_dask_collection

        if distributed not in (None, True, False):
            raise ValueError(f"distributed must be None, True or False, got {distributed!r}")
        if is_dask_collection(data):
            from ._dask import encode_dask

            encoded = encode_dask(self, data, weights, distributed)
        else:
            if distributed:
                raise ValueError(DISTRIBUTED_NEEDS_DASK)
            encoded = self._encode(data, weights)
        return self._fit_encoded(encoded, progress, start_from)

    def _start_fit(self, start_from) -> None:
        """Check the options and forget a previous fit."""
        self._validate_params()
        if self.n_starts == 0 and start_from is None:
            raise ValueError(
                "n_starts=0 leaves no starting values: give start_from= (fitted models) "
                "or n_starts >= 1 random starts"
            )
        self._reset()
        self._fit_params = self.get_params()  # what this fit used, whatever set_params does

    def _encode(self, data, weights) -> EncodedData:
        """pandas data as answer patterns, for this fit or several (``lca.compare``).

        The result depends on the options ``categories`` and
        ``max_categories`` only, so models that share them can share it.
        """
        if weights is None:
            # every row once: a read-only view of one 1.0, not a vector of n ones
            # (80 MB at 10^7 rows); the pattern weights are the same sums
            data = as_frame(data)
            check_frame(data)
            check_weight_total(data.shape[0] > 0, float(data.shape[0]))  # no rows: as before
            w = np.broadcast_to(np.float64(1.0), (data.shape[0],))
            everyone = True
        else:
            data, w = self._split_weights(data, weights)
            positive = w > 0
            everyone = bool(positive.all())
        # categories come from rows that count: a zero-weight row adds none
        # (its answers outside them are read as missing, which changes nothing)
        source = data if everyone else data[positive]
        if source is not data:
            check_frame(data)  # unique column names, before reading columns by name
            # column by column: one column's missing flags at a time, not the frame's
            name = next(
                (c for c in data.columns if source[c].isna().all() and data[c].notna().any()),
                None,
            )
            if name is not None:
                raise answered_only_where_weightless(name)
        indicators = learn_indicators(source, self.categories, self.max_categories)
        # once per data, not per fit (compare fits many models to one encoding)
        _warn_skipped_scores(indicators, self._ordinal_mask(indicators))
        # encoded straight into patterns: no (rows x indicators) codes are held,
        # and the per-row weights are summed into pattern_weights
        patterns, pattern_weights, inverse = encode_patterns(
            data, indicators, w, unknown="error" if everyone else "missing"
        )
        return EncodedData(
            indicators=indicators,
            patterns=patterns,
            pattern_weights=pattern_weights,
            inverse=inverse,
            index=data.index,
            n_rows=data.shape[0],
            n_empty_rows=empty_rows(patterns, inverse),
            n_weighted_rows=data.shape[0] if everyone else int(positive.sum()),
        )

    def _fit_encoded(self, encoded: EncodedData, progress=False, start_from=None):
        """Fit to data :meth:`_encode` made (after :meth:`_start_fit`)."""
        self._fit_patterns(
            encoded.indicators,
            encoded.patterns,
            encoded.pattern_weights,
            n_rows=encoded.n_rows,
            n_empty_rows=encoded.n_empty_rows,
            progress=progress,
            distributed=encoded.distributed,
            start_from=start_from,
        )
        # the fitted data, compressed: row i of the data is pattern inverse[i]
        self._fit_index = encoded.index
        self._fit_inverse = encoded.inverse
        self._n_weighted_rows = encoded.n_weighted_rows
        return self

    def fit_predict(self, data: pd.DataFrame, y=None, *, weights=None) -> pd.Series:
        """Fit, then return the modal class of every row (as ``predict``).

        An answer outside the categories the fit learned (possible only in
        a row of weight 0, whose answers add no category) is read as
        missing, as the fit read it.
        """
        self.fit(data, weights=weights)
        if isinstance(weights, str):
            data = data.drop(columns=[weights])
        # fit read an answer outside the learned categories, which only a
        # zero-weight row can hold, as missing: so does the prediction (as documented,
        # so without predict's warning about it)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=UNKNOWN_AS_MISSING, category=UserWarning)
            return self.predict(data, unknown="missing")

    @staticmethod
    def _split_weights(data, weights):
        if isinstance(weights, str):
            if not isinstance(data, pd.DataFrame) or weights not in data.columns:
                raise DataError(f"weights={weights!r} names no column of the data")
            return data.drop(columns=[weights]), check_weights(data[weights], data)
        data = as_frame(data)
        check_frame(data)
        return data, check_weights(weights, data)

    def _data_in_memory(self, data, weights, unknown: str, what: str, columns: str):
        """``data=`` of a method that reads the rows again: a pandas frame and its weights."""
        from ._dask import is_dask_collection

        if is_dask_collection(data):
            raise TypeError(
                f"{what} need the data in memory: pass a pandas DataFrame (for a Dask one, "
                f"ddf[{columns}].compute())"
            )
        if unknown not in ("error", "missing"):
            raise ValueError(f"unknown must be 'error' or 'missing', not {unknown!r}")
        return self._split_weights(data, weights)

    def _fit_patterns(
        self,
        indicators,
        patterns,
        pattern_weights,
        n_rows,
        n_empty_rows,
        progress=False,
        distributed=None,
        start_from=None,
    ):
        """Fit to a table of distinct answer patterns and their summed weights.

        ``distributed`` (``lca._dask.DistributedPatterns``) replaces the
        table when it lives in a Dask cluster's memory: every sum over
        patterns is then computed where the patterns are, and ``patterns``
        and ``pattern_weights`` are None.
        """
        n_classes = self.n_classes
        n_cats = np.array([ind.n_categories for ind in indicators], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
        check_classes_fit_patterns(
            n_classes, informative_patterns(patterns, pattern_weights, distributed)
        )
        if distributed is None:
            marg = marginal_counts(patterns, pattern_weights, offsets)
        else:
            marg = distributed.marginal_counts(offsets)
        b, a = self._bayes_constants()
        class_prior, cond_prior = dirichlet_priors(marg, offsets, n_classes, b, a)

        ordinal = self._ordinal_mask(indicators)
        rng = np.random.default_rng(self.random_state)
        starts = [_em.random_start(rng, n_classes, offsets, ordinal) for _ in range(self.n_starts)]
        if start_from is not None:
            starts += self._starts_from(start_from, indicators, ordinal, offsets, rng)
        screened = self._pattern_screen(
            start_from, ordinal, offsets, patterns, pattern_weights, distributed
        )
        n_final = self.n_final if self.n_final is not None else max(2, self.n_starts // 4)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            total = len(starts) + min(n_final, len(starts))
            if screened is not None:
                total += len(screened[0]) + min(PATTERN_KEEP, len(screened[0]))
            total += self.split_merge + 3 * -(-self.split_merge // _em.SPLIT_MERGE_BATCH)
            bar = tqdm(total=total, desc=f"{n_classes} classes, starts", leave=False)
        result = _em.search(
            patterns,
            pattern_weights,
            offsets,
            n_classes,
            class_prior,
            cond_prior,
            ordinal=ordinal,
            starts=starts,
            n_final=n_final,
            burn_in=self.burn_in,
            max_iter=self.max_iter,
            tol=float(self.tol),
            accelerate=bool(self.accelerate),
            n_jobs=self.n_jobs,
            progress=bar,
            evaluate=None if distributed is None else distributed.evaluator(offsets),
            split_merge=int(self.split_merge),
            rng=rng,
            screened=screened,
        )
        if bar is not None:
            bar.close()

        # classes by decreasing size; canonical parameters are probabilities
        sizes = np.exp(result.log_class)
        order = np.argsort(-sizes, kind="stable")
        class_probs = sizes[order]
        cond_probs = np.exp(result.log_cond[:, order])

        self.indicators_ = list(indicators)
        self._ordinal = ordinal
        self._offsets = offsets
        self._set_parameters(class_probs, cond_probs)
        self._class_prior = class_prior
        self._cond_prior = cond_prior

        if distributed is None:
            post, pattern_ll = self._pattern_posteriors(patterns)
            complete = np.all(patterns >= 0, axis=1)
            sums = criteria.pattern_sums(post, pattern_weights, pattern_ll, complete)
        else:
            post = None
            sums = distributed.pattern_sums(offsets, self._log_class, self._log_cond)
        loglik = sums["loglik"]
        log_prior = float(
            _kernels.log_prior(self._log_class, self._log_cond, class_prior, cond_prior)
        )
        n_par = criteria.n_parameters(n_classes, n_cats, ordinal)
        n_cells = math.prod(int(c) for c in n_cats)
        self._stats = criteria.fit_statistics(
            sums=sums, log_prior=log_prior, n_par=n_par, class_sizes=class_probs, n_cells=n_cells
        )
        self._tables = {kind: sums[kind] for kind in ("modal", "proportional")}
        self._avepp = criteria.average_posterior_from_table(sums["modal"])
        self._patterns = patterns
        self._pattern_weights = pattern_weights
        self._pattern_post = post

        self.loglik_ = loglik
        self.log_prior_ = log_prior
        self.bayes_constant_, self.class_bayes_constant_ = b, a
        self.n_parameters_ = n_par
        self.n_obs_ = float(sums["n_obs"])
        self.n_rows_ = int(n_rows)
        self.n_empty_rows_ = int(n_empty_rows)
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.n_starts_at_best_ = result.n_starts_at_best
        self.start_objectives_ = result.final_objectives
        self._warn_fit(n_par, n_cells, class_probs, result.converged)
        return self

    def _warn_fit(self, n_par: int, n_cells: int, class_probs, converged: bool) -> None:
        """The warnings of a finished fit: not identified, an empty class, not converged."""
        if n_par > n_cells - 1:
            warn(
                f"the model has {n_par} free parameters but the cross-table of the "
                f"indicators has only {n_cells - 1} free cells: it is not identified "
                "(different parameters fit equally well); use fewer classes or more indicators",
                UserWarning,
            )
        empty_classes = np.flatnonzero(class_probs < 1e-10) + 1
        if empty_classes.size:
            warn(
                f"class {', '.join(map(str, empty_classes))} is empty (size < 1e-10): in effect "
                f"the model has {len(class_probs) - empty_classes.size} classes and the "
                "probabilities of an empty class mean nothing; fit fewer classes",
                UserWarning,
            )
        if not converged:
            warn(
                f"the best start did not converge within max_iter={self.max_iter} EM "
                f"iterations (tol={self.tol}); raise max_iter, or loosen tol if the "
                "log-likelihood is stable enough for your purpose",
                ConvergenceWarning,
            )

    def _ordinal_mask(self, indicators) -> np.ndarray:
        """Which indicators are ordinal; refuses names and labels that cannot be."""
        names = name_list(self.ordinal, "ordinal")
        known = {ind.name for ind in indicators}
        absent = [n for n in names if n not in known]
        if absent:
            raise DataError(
                f"ordinal= names {absent!r}, which are not indicator columns; the indicators "
                f"are {sorted(map(str, known))}"
            )
        mask = np.zeros(len(indicators), dtype=np.bool_)
        for j, ind in enumerate(indicators):
            if ind.name not in names:
                continue
            if not (ind.ordered or all(_is_number(v) for v in ind.categories)):
                raise DataError(
                    f"ordinal indicator {ind.name!r} has labels that are not numbers, of "
                    "unknown order "
                    f"{list(ind.categories)!r}; give the order with an ordered pandas "
                    "Categorical (pd.Categorical(values, categories=[...], ordered=True)) or "
                    f"with categories={{{ind.name!r}: [lowest, ..., highest]}}"
                )
            mask[j] = True
        return mask

    def _reorder_classes(self, order, labels=None) -> None:
        """Renumber the classes: new class i+1 is old class order[i]+1.

        Statistics do not change; parameters, tables and posteriors follow.
        ``labels`` names the new classes (``class_labels_``).
        """
        order = np.asarray(order, dtype=np.int64)
        if sorted(order.tolist()) != list(range(self._class_probs.shape[0])):
            raise ValueError(f"order must be a permutation of the classes, got {order.tolist()}")
        self._set_parameters(self._class_probs[order], self._cond_probs[:, order])
        if getattr(self, "_tables", None) is not None:
            self._tables = {k: v[np.ix_(order, order)] for k, v in self._tables.items()}
            self._avepp = self._avepp[order]
        if getattr(self, "_pattern_post", None) is not None:
            self._pattern_post = self._pattern_post[:, order]
        if labels is not None:
            self.class_labels_ = [str(v) for v in labels]

    def _starts_from(self, start_from, indicators, ordinal, offsets, rng) -> list:
        """Starting values from fitted models (``fit(start_from=...)``)."""
        starts = []
        for other in _as_list(start_from):
            starts += self._starts_from_one(other, indicators, ordinal, offsets, rng)
        return starts

    def _pattern_screen(self, start_from, ordinal, offsets, patterns, pattern_weights, distributed):
        """Pattern starts from every (K-1)-class model in ``start_from``, to screen.

        ``(starts, PATTERN_SCREEN_ITER, PATTERN_KEEP)`` for ``_em.search``, or
        None. With the patterns in a Dask cluster (``distributed``) the worst
        fitted are found part by part; the starts are the same.
        """
        if start_from is None or self.pattern_starts == 0:
            return None
        starts = []
        for other in _as_list(start_from):  # already checked by _starts_from
            if other._class_probs.shape[0] != self.n_classes - 1:
                continue
            params = (other._log_class, other._log_cond)
            if distributed is None:
                starts += _em.pattern_starts(
                    *params, offsets, ordinal, patterns, pattern_weights, self.pattern_starts
                )
            else:
                seeds, posts = distributed.worst_patterns(offsets, *params, self.pattern_starts)
                starts += _em.seeded_starts(*params, offsets, ordinal, seeds, posts)
        return (starts, PATTERN_SCREEN_ITER, PATTERN_KEEP) if starts else None

    def _starts_from_one(self, other, indicators, ordinal, offsets, rng) -> list:
        k = self.n_classes
        if not isinstance(other, LatentClassModel) or not hasattr(other, "_log_cond"):
            raise TypeError(
                "start_from must be a fitted LatentClassModel or a list of them, got "
                f"{type(other).__name__}"
            )
        k_other = other._class_probs.shape[0]
        if k_other not in (k - 1, k, k + 1):
            raise ValueError(
                f"start_from has {k_other} classes; it must have n_classes={k} (its estimates "
                f"are one start), {k - 1} (each class split in two gives one start) or "
                f"{k + 1} (each pair of classes merged gives one start)"
            )
        mine = [(ind.name, tuple(ind.categories)) for ind in indicators]
        theirs = [(ind.name, tuple(ind.categories)) for ind in other.indicators_]
        if mine != theirs:
            if len(mine) != len(theirs):
                diff = f"{len(mine)} indicators here, {len(theirs)} in start_from"
            else:
                (a, ca), (b, cb) = next((x, y) for x, y in zip(mine, theirs) if x != y)
                diff = (
                    f"column {a!r} here is {b!r} in start_from"
                    if a != b
                    else f"column {a!r} has categories {list(ca)} here, {list(cb)} in start_from"
                )
            raise ValueError(
                f"start_from was fitted to other indicators than these data ({diff}); fit it "
                "to the same columns, or pass categories= so both have the same labels"
            )
        theirs_ordinal = np.asarray(other._ordinal, dtype=bool)
        if not np.array_equal(theirs_ordinal, ordinal):
            j = int(np.flatnonzero(theirs_ordinal != ordinal)[0])
            here, there = ("ordinal", "nominal") if ordinal[j] else ("nominal", "ordinal")
            raise ValueError(
                f"column {indicators[j].name!r} is {here} in this model but {there} in "
                f"start_from (ordinal={other.ordinal!r} there, {self.ordinal!r} here); give "
                "both models the same ordinal="
            )
        if k_other == k:
            return [(other._log_class.copy(), other._log_cond.copy())]
        if k_other == k + 1:
            return _em.merge_starts(other._log_class, other._log_cond, offsets, ordinal)
        return _em.split_starts(other._log_class, other._log_cond, offsets, ordinal, rng)

    def _set_parameters(self, class_probs: np.ndarray, cond_probs: np.ndarray) -> None:
        """Store the canonical parameters and the logs every method uses."""
        self._class_probs = np.ascontiguousarray(class_probs, dtype=float)
        self._cond_probs = np.ascontiguousarray(cond_probs, dtype=float)
        with np.errstate(divide="ignore"):
            self._log_class = np.log(self._class_probs)
            self._log_cond = np.log(self._cond_probs)
        k = self._class_probs.shape[0]
        classes = pd.RangeIndex(1, k + 1, name="class")
        self.class_sizes_ = pd.Series(self._class_probs, index=classes, name="class_size")
        self.conditional_probs_ = {}
        for j, ind in enumerate(self.indicators_):
            lo, hi = self._offsets[j], self._offsets[j + 1]
            self.conditional_probs_[ind.name] = pd.DataFrame(
                self._cond_probs[lo:hi],
                index=pd.Index(list(ind.categories), name=ind.name, dtype=object),
                columns=classes,
            )

    def _pattern_posteriors(self, patterns: np.ndarray):
        """Posteriors per pattern; threads only when n_jobs asks for them (same bits)."""
        n_jobs = _em.effective_n_jobs(self.n_jobs)
        parallel = n_jobs > 1 and patterns.shape[0] >= _em.PARALLEL_MIN_PATTERNS
        with _em.numba_threads(n_jobs):
            return _kernels.posteriors(
                patterns, self._offsets, self._log_class, self._log_cond, parallel
            )

    # -- results ---------------------------------------------------------------
    @property
    def classes_(self) -> pd.RangeIndex:
        """Class numbers 1..K."""
        self._check_fitted()
        return self.class_sizes_.index

    def fit_stats(self) -> pd.Series:
        """Fit statistics of the fitted model.

        Index: ``loglik, log_prior, n_obs, n_parameters, df, L2, X2, aic,
        aic3, bic, caic, sabic, entropy, entropy_r2, relative_entropy,
        classification_error, lambda, standard_r2, cl, clc, awe, icl_bic,
        min_avepp``. Definitions are in the statistical reference; the
        information criteria use the log-likelihood (not the log-posterior)
        and N = ``n_obs`` = the sum of the weights.

        L2, X2 and df: the model against the full cross-table of the
        indicators (prod_j C_j cells). With missing answers they are computed
        over respondents who answered every indicator, with expected counts
        N_complete * P(pattern) (poLCA's convention); df is
        ``min(N, cells - 1) - n_parameters``.
        """
        self._check_has_data_stats()
        return pd.Series(self._stats, name="value", dtype=float)

    def profile(self) -> pd.DataFrame:
        """Class-conditional probabilities of every category, with the total.

        Returns
        -------
        pandas.DataFrame
            Rows (indicator, category); columns classes 1..K and ``"Total"``,
            the model-implied share of the category in the whole sample,
            ``sum_k P_k P(c|k)``. Values are probabilities (0 to 1).

        Notes
        -----
        One index level holds the categories of every indicator, and pandas
        takes ``True`` for ``1`` and ``False`` for ``0`` there. When some
        indicators have bool labels and others the numbers 0 or 1, the
        category level therefore holds every label as text (``"True"``,
        ``"1"``), so that each row keeps its own label.
        """
        self._check_fitted()
        labels = [cat for ind in self.indicators_ for cat in ind.categories]
        as_text = any(isinstance(c, bool) for c in labels) and any(
            not isinstance(c, bool) and isinstance(c, numbers.Number) and c in (0, 1)
            for c in labels
        )
        names = [ind.name for ind in self.indicators_ for _ in ind.categories]
        cats = [text_key(c) if as_text else c for ind in self.indicators_ for c in ind.categories]
        # codes and levels, not tuples: a column named by a tuple stays one label
        factors = [pd.factorize(pd.Index(v, tupleize_cols=False)) for v in (names, cats)]
        index = pd.MultiIndex(
            levels=[uniques for _, uniques in factors],
            codes=[codes for codes, _ in factors],
            names=["indicator", "category"],
        )
        out = pd.DataFrame(self._cond_probs, index=index, columns=self.classes_)
        out["Total"] = self._cond_probs @ self._class_probs
        return out

    def classification_table(self, kind: str = "modal") -> pd.DataFrame:
        """Latent class (rows) against assigned class (columns), weighted.

        Parameters
        ----------
        kind : {"modal", "proportional"}, default="modal"
            ``"modal"``: cell (k, l) is the weighted sum of p_ik over the
            respondents assigned to l. ``"proportional"``: sum_i w_i p_ik p_il.

        Returns
        -------
        pandas.DataFrame of shape (n_classes, n_classes)
            Index: latent classes 1..K; columns ``assigned`` 1..K.
        """
        self._check_has_data_stats()
        if kind not in self._tables:
            raise ValueError(f"kind must be 'modal' or 'proportional', not {kind!r}")
        assigned = pd.RangeIndex(1, self.n_classes_ + 1, name="assigned")
        return pd.DataFrame(self._tables[kind], index=self.classes_, columns=assigned)

    @property
    def n_classes_(self) -> int:
        self._check_fitted()
        return int(self._class_probs.shape[0])

    def avepp(self) -> pd.Series:
        """Average posterior probability of each class among those assigned to it.

        NaN for a class to which no respondent is assigned.
        """
        self._check_has_data_stats()
        return pd.Series(self._avepp, index=self.classes_, name="avepp")

    def _check_has_fit_data(self) -> None:
        self._check_has_data_stats()
        if getattr(self, "_patterns", None) is None:
            raise NotFittedError(
                "this model was loaded from a file or fitted by distributed EM, and keeps no "
                "pattern table; fit it to the data in memory (pandas, or Dask with "
                "distributed=False) for bivariate residuals; cross-tabulate with "
                "model.crosstab(variable, data=df)"
            )

    def standard_errors(
        self,
        method: str = "hessian",
        data=None,
        weights=None,
        unknown: str = "error",
        *,
        strata=None,
        clusters=None,
        fpc=None,
    ):
        """Standard errors of the class sizes and class-conditional probabilities.

        Parameters
        ----------
        method : {"hessian", "opg", "robust", "design"}, default="hessian"
            ``"hessian"``: from the observed information matrix (minus the
            Hessian of the maximised log-likelihood plus log-prior; Latent
            GOLD's "standard"). ``"opg"``: from the outer product of the
            respondents' scores (what R's poLCA reports, which fits with
            ``bayes_constant=0``). ``"robust"``: the sandwich of the two
            (Latent GOLD's "robust"). ``"design"``: design-based
            (linearization) standard errors of a complex sample, with
            ``weights`` as sampling weights and the ``strata`` and
            ``clusters`` of the rows (see Notes); it needs ``data``.
        data : pandas.DataFrame, optional
            The data the model was fitted to, for a model that keeps no
            pattern table (loaded from a file, built from parameters, or
            fitted by distributed EM: collect its data to pandas first), and
            for ``method="design"``. By default the fitted patterns are used.
        weights : str or array-like, optional
            With ``data``: the weights the model was fitted with, as in
            :meth:`fit` (a column name or one value per row). A warning says
            when they do not sum to the fitted ``n_obs_``.
        unknown : {"error", "missing"}, default="error"
            With ``data``: what to do with an answer that is not a category
            of the model (``"missing"`` for a model fitted by
            ``Preset.fit(unknown="missing")``). Rows of zero weight add
            nothing and are not read.
        strata, clusters : str or array-like, optional
            With ``method="design"``: each row's stratum and primary sampling
            unit (cluster), as a column name of ``data`` or one value per
            row. Without ``clusters`` every respondent is a PSU; without
            ``strata`` there is one stratum. Cluster labels need only be
            unique within a stratum (PSUs are nested in strata).
        fpc : str or array-like, optional
            With ``method="design"``: a finite population correction, each
            row's stratum's number of PSUs in the population (or its
            sampling fraction, 0-1), the same for every row of a stratum.
            By default PSUs count as drawn with replacement.

        Returns
        -------
        lca.standard_errors.StandardErrors
            ``class_sizes`` (a Series like ``class_sizes_``), ``profile`` (a
            DataFrame like :meth:`profile`, with the standard errors of the
            probabilities and of their Total), ``boundary``, ``n_free`` and
            ``rank``; ``to_frame()`` puts estimates and standard errors side
            by side.

        Notes
        -----
        The information is computed in the logit parametrisation and carried
        to the probabilities by the delta method; see
        :mod:`lca.standard_errors`. For the first three methods weights
        count as frequency weights (a weight of 2 is two independent
        respondents), so survey weights should sum to the sample size, as in
        Latent GOLD without its survey options. ``method="design"`` treats
        them as sampling weights (their scale matters only through the Bayes
        constants, whose prior does not grow with them) and gives the
        linearization estimator of survey software (Stata's ``svy``, R's
        ``survey``, Mplus's ``TYPE=COMPLEX``): the sandwich ``H^-1 G H^-1``
        whose middle ``G`` is the between-PSU variance, within strata, of the
        weighted score totals, PSUs taken as sampled with replacement (no
        finite population correction); see :mod:`lca.survey_design`. A
        stratum with a single PSU is refused (merge it with a similar one).
        With few PSUs (the design's degrees of freedom, PSUs less strata,
        are in ``design_df``) these standard errors are themselves uncertain.
        A probability on the boundary (estimated at 0, as maximum likelihood
        can, which EM approaches without reaching: an expected count in its
        class under 0.01 respondents, for a category without a Bayes
        constant; for an ordinal indicator, a category nobody gave or a class
        giving one end of the scale only) is held fixed and gets NaN;
        ``boundary`` says where. When
        the information matrix is singular (a model that is not identified,
        or estimates not at a maximum) a warning says so.
        """
        from . import standard_errors as se

        args, unit, rows = self._se_inputs(data, weights, unknown, method, strata, clusters, fpc)
        sizes, cells, boundary, n_free, rank = se.standard_errors(
            *args, method=method, unit=unit, rows=rows
        )
        prof = self.profile()
        table = pd.DataFrame(cells, index=prof.index, columns=prof.columns)
        return se.StandardErrors(
            class_sizes=pd.Series(sizes, index=self.classes_, name="se"),
            profile=table,
            method=method,
            n_free=int(n_free),
            rank=int(rank),
            boundary=pd.DataFrame(boundary, index=prof.index, columns=self.classes_),
            estimates=prof,
            estimated_sizes=self.class_sizes_.copy(),
            design_df=None if rows is None else rows.design.df,
        )

    def indicator_tests(
        self,
        method: str = "hessian",
        data=None,
        weights=None,
        unknown: str = "error",
        *,
        strata=None,
        clusters=None,
        fpc=None,
    ) -> pd.DataFrame:
        """How well each indicator tells the classes apart: a Wald test and an R-squared.

        Parameters
        ----------
        method, data, weights, unknown, strata, clusters, fpc
            As for :meth:`standard_errors`, whose covariance the Wald tests use.

        Returns
        -------
        pandas.DataFrame
            Indexed by indicator: ``wald``, ``df`` and ``p_value``, the Wald test
            that the indicator's answers are distributed alike in every class
            (chi-square with ``df`` degrees of freedom: (K-1)(C-1) for a nominal
            indicator, K-1 for an ordinal one, fewer where probabilities sit on
            the boundary; infinite, p 0, for answers that separate the classes
            perfectly); and ``r2``, the share of the indicator's variance that
            the classes explain, ``1 - sum_k P_k V(y | k) / V(y)``, with the
            qualitative (Gini) variance ``V = 1 - sum_c P(c)^2`` for a nominal
            indicator and the variance of the scores 1..C for an ordinal one.
            With ``method="design"`` also ``f``, ``f_df1``, ``f_df2`` and
            ``f_p_value``: the adjusted Wald F of survey software (Korn &
            Graubard 1990), ``F = (d - q + 1) W / (d q)`` on ``(q, d - q +
            1)`` degrees of freedom, ``d`` the design's (PSUs less strata) and
            ``q`` the test's; with few PSUs it is the one to read.

        Notes
        -----
        Latent GOLD's profile output reports a Wald statistic and an R-squared per
        indicator too; its Wald test is on the logit parameters, this one on the
        probabilities (the delta method), for an ordinal indicator on the class
        mean scores. A test of logits is infinite or shrinks where an estimate
        approaches 0 (Hauck-Donner); this one stays defined there. With two
        classes it was within 2% of the likelihood ratio test in a review's
        grid; with three or four, 0.5-1.3 times it (the two are asymptotically
        equivalent, not equal). Weights count as frequency weights, as in
        :meth:`standard_errors`: survey weights should sum to the sample size,
        or give the sample's design with ``method="design"`` (``p_value`` is
        then the chi-square's, too liberal with few PSUs, and ``f_p_value``
        the adjusted F's). A small p-value says the indicator discriminates between at least two
        classes; it is not a test of the number of classes.
        """
        from scipy import stats as st

        from . import standard_errors as se

        args, unit, rows = self._se_inputs(data, weights, unknown, method, strata, clusters, fpc)
        wald, df = se.class_difference_tests(*args, method=method, unit=unit, rows=rows)
        with np.errstate(invalid="ignore"):
            p_value = np.where(df > 0, st.chi2.sf(wald, np.maximum(df, 1)), np.nan)
        p_value[np.isinf(wald)] = 0.0
        names = [ind.name for ind in self.indicators_]
        table = pd.DataFrame(
            {"wald": wald, "df": df, "p_value": p_value, "r2": self._indicator_r2()},
            index=pd.Index(names, name="indicator", dtype=object, tupleize_cols=False),
        )
        if rows is not None:  # the adjusted Wald F on the design's degrees of freedom
            from .survey_design import with_adjusted_f

            table = with_adjusted_f(table, "wald", rows.design.df)
        return table

    def _indicator_r2(self) -> np.ndarray:
        """Each indicator's R-squared (see :meth:`indicator_tests`)."""
        sizes, cond, offsets = self._class_probs, self._cond_probs, self._offsets
        out = np.full(len(self.indicators_), np.nan)
        for j in range(len(self.indicators_)):
            block = cond[offsets[j] : offsets[j + 1]]  # (C, K)
            total = block @ sizes
            if self._ordinal[j]:
                scores = np.arange(1.0, block.shape[0] + 1.0)[:, None]
                mean_k = (scores * block).sum(axis=0)
                within = ((scores - mean_k) ** 2 * block).sum(axis=0)
                overall = float(np.sum((scores[:, 0] - scores[:, 0] @ total) ** 2 * total))
            else:
                within = 1.0 - (block * block).sum(axis=0)
                overall = 1.0 - float(total @ total)
            if overall > 0:  # within <= overall (concavity): no negative R2, nor -0.0
                out[j] = max(0.0, 1.0 - float(sizes @ within) / overall)
        return out

    def _se_inputs(
        self, data, weights, unknown: str, method=None, strata=None, clusters=None, fpc=None
    ):
        """The positional arguments of ``standard_errors.standard_errors`` (patterns,
        weights, posteriors, parameters, priors), its ``unit``, and for
        ``method="design"`` its ``rows`` (``survey_design.DesignRows``)."""
        from .survey_design import DesignRows, check_not_weights, refuse_design, survey_design

        designed = method == "design"
        refuse_design((strata, clusters, fpc), method)
        check_not_weights((strata, clusters, fpc), weights)
        if designed and data is None:
            raise ValueError(
                "method='design' reads the rows again: give the data the model was fitted "
                "to with their sampling weights and design, model.standard_errors("
                "'design', data=df, weights='w', strata='stratum', clusters='psu')"
            )
        rows = None
        if data is None:
            self._check_fitted()
            if getattr(self, "_patterns", None) is None:
                raise NotFittedError(
                    "this model keeps no pattern table (it was loaded from a file, built from "
                    "parameters or fitted by distributed EM); give the data it was fitted to: "
                    "model.standard_errors(data=df, weights=...)"
                )
            if weights is not None:
                raise ValueError(
                    "weights go with data=; without data the fitted patterns and their "
                    "weights are used"
                )
            if unknown != "error":
                raise ValueError("unknown= goes with data=; the fitted patterns are used")
            patterns, pattern_weights = self._patterns, self._pattern_weights
            # respondents who count (rows of zero weight leave the fit entirely)
            n_rows = getattr(self, "_n_weighted_rows", None) or getattr(self, "n_rows_", 0)
        else:
            self._check_fitted()
            data, row_weights = self._data_in_memory(
                data, weights, unknown, "standard errors", "indicator and weight columns"
            )
            design = survey_design(data, strata, clusters, fpc) if designed else None
            positive = row_weights > 0
            n_rows = int(positive.sum())
            if not positive.all():  # rows of zero weight add nothing to any sum
                data, row_weights = data[positive], row_weights[positive]
                if designed:  # their PSUs still count in the design
                    design = design.subset(positive)
            patterns, pattern_weights, inverse = encode_patterns(
                data, self.indicators_, row_weights, unknown=unknown
            )
            if designed:
                rows = DesignRows(design, inverse, row_weights)
            fitted = getattr(self, "n_obs_", None)
            total = float(np.sum(row_weights))
            if fitted is not None and not math.isclose(total, fitted, rel_tol=1e-9):
                warn(
                    f"the weights sum to {total!r} but the model was fitted to N = "
                    f"{fitted!r}; standard errors are for the data given. Give the data "
                    "and weights the model was fitted with",
                    UserWarning,
                )
        post, _ = self._pattern_posteriors(patterns)
        if data is None and getattr(self, "_cond_prior", None) is not None:
            class_prior, cond_prior = self._class_prior, self._cond_prior
        else:  # the fit's priors, from the data given
            b = getattr(self, "bayes_constant_", None)
            a = getattr(self, "class_bayes_constant_", None)
            if b is None or a is None:
                b, a = self._bayes_constants()
            marg = marginal_counts(patterns, pattern_weights, self._offsets)
            class_prior, cond_prior = dirichlet_priors(marg, self._offsets, self.n_classes_, b, a)
        total = float(np.sum(pattern_weights))
        unit = total / n_rows if n_rows else 1.0
        args = (patterns, pattern_weights, post, self._class_probs, self._cond_probs,
                self._offsets, self._ordinal, float(class_prior), cond_prior)  # fmt: skip
        return args, unit, rows

    def bivariate_residuals(self) -> pd.DataFrame:
        """Bivariate residuals (Latent GOLD's BVR) of every pair of indicators.

        Returns
        -------
        pandas.DataFrame of shape (n_indicators, n_indicators)
            Symmetric; the diagonal is NaN. See :func:`lca.diagnostics.bivariate_residuals`.
        """
        from .diagnostics import bivariate_residuals

        self._check_has_fit_data()
        return bivariate_residuals(self)

    def bootstrap_gof(
        self,
        n_bootstrap: int = 99,
        weights=None,
        random_state: int | np.random.Generator | None = 0,
        n_jobs: int = 1,
        *,
        bootstrap_starts: int | None = None,
        progress: bool = False,
    ):
        """Bootstrap p-values of L2, X2 and every bivariate residual.

        Samples drawn from this model (each keeping the missing answers and
        weight of one row of the data) are fitted again, and each statistic
        on the data is compared with its values on them. See
        :func:`lca.bootstrap_gof` for the parameters.

        Returns
        -------
        lca.BootstrapGOFResult
        """
        from .goodness_of_fit import bootstrap_gof

        return bootstrap_gof(
            self, n_bootstrap, weights, random_state, n_jobs,
            bootstrap_starts=bootstrap_starts, progress=progress,
        )  # fmt: skip

    def crosstab(
        self,
        variable,
        weights=None,
        kind: str = "modal",
        *,
        data: pd.DataFrame | None = None,
        unknown: str = "error",
    ) -> pd.DataFrame:
        """How an outside variable is distributed within each class.

        Parameters
        ----------
        variable : pandas.Series of shape (n_rows,), or str with ``data``
            One value per respondent, indexed like the data (those this model
            was fitted to, or ``data``); or the name of a column of ``data``.
            Missing values are counted in a row ``"Missing"``.
        weights : array-like of shape (n_rows,), pandas.Series, str or None
            Case weights of the table (the model does not keep its own); with
            ``data``, also the name of its weights column.
        kind : {"modal", "proportional", "bch", "ml"}, default="modal"
            Count each respondent in its modal class, or spread it over the
            classes by its posterior probabilities; or estimate the
            distribution within each class corrected for the classification
            error of modal assignment (bias-adjusted three-step: BCH weights
            or maximum likelihood).
        data : pandas.DataFrame, optional
            The respondents' answers to the indicators (other columns are
            ignored), for a model that keeps no rows (loaded from a file or
            built from parameters) or for respondents it was not fitted to.
        unknown : {"error", "missing"}, default="error"
            With ``data``: an answer outside the model's categories is an
            error, or read as missing (as in ``predict``).

        Returns
        -------
        pandas.DataFrame
            Column percentages per class and in total, with the weighted and
            unweighted bases. See :func:`lca.diagnostics.crosstab`.
        """
        from .diagnostics import crosstab

        if data is None:
            if unknown != "error":
                raise ValueError("unknown= goes with data=; the fitted rows are used")
            self._check_has_fit_data()
            if getattr(self, "_fit_inverse", None) is None:
                raise NotFittedError(
                    "this model keeps no row-level data (it was fitted from a Dask "
                    "DataFrame); give the respondents' answers: model.crosstab(variable, "
                    "data=df), or cross-tabulate model.predict(ddf) with Dask"
                )
            return crosstab(self, variable, weights=weights, kind=kind)
        self._check_fitted()
        if isinstance(variable, str):
            variable = self._named_columns(variable, data, "variable")[variable]
        _, index, post, row_weights, _ = self._step3_rows(
            data, weights, unknown, "crosstab", "crosstab(variable, data=df)"
        )
        return crosstab(self, variable, kind=kind, rows=(index, post, row_weights))

    def covariate_effects(
        self,
        covariates,
        data=None,
        weights=None,
        *,
        correction: str = "ml",
        assignment: str = "modal",
        reference: int = 1,
        se_method: str | None = None,
        unknown: str = "error",
        step1_uncertainty: bool = False,
        strata=None,
        clusters=None,
        fpc=None,
    ):
        """Regress class membership on covariates, corrected for classification error.

        The bias-adjusted three-step approach (Vermunt 2010): this model is
        step 1; its respondents are assigned to classes (step 2) and the
        assignments regressed on the covariates by a multinomial logit whose
        likelihood allows for the assignments' classification error
        (step 3). The classes and their profiles stay those of this model.

        Parameters
        ----------
        covariates : pandas.DataFrame, pandas.Series, str or list of str
            One row per respondent, indexed like the data (a frame whose index
            holds the same unique labels in another order is reordered), or
            names of columns of ``data``. Numeric columns enter as they are;
            text, categorical and boolean ones as indicator columns against
            their first category. Missing values are refused, never dropped.
        data : pandas.DataFrame, optional
            The respondents' answers to the indicators, from which their
            posteriors are computed (any respondents, not only the fitted
            ones). By default, the rows the model was fitted to.
        weights : str, array-like or pandas.Series, optional
            Case weights (a column of ``data`` by name, or one value per row);
            rows of zero weight are left out. The model does not keep its own.
            They count as frequency weights, in the robust standard errors
            too (a respondent of weight 2 counts as two); with
            ``se_method="design"`` as sampling weights.
        correction : {"ml", "bch", "none"}, default="ml"
            ``"ml"``: maximum likelihood with the classification errors fixed
            (Vermunt 2010; Latent GOLD's Step3). ``"bch"``: the regression of
            the classes weighted by the inverse of the classification errors
            (Bakk, Tekle & Vermunt 2013). ``"none"``: the naive regression of
            the assigned classes, biased towards no effect.
        assignment : {"modal", "proportional"}, default="modal"
            Assign each respondent to its most probable class, or spread it
            over the classes by its posteriors.
        reference : int, default=1
            The class the others are compared with (coefficients 0).
        se_method : {"hessian", "robust", "design"}, optional
            Default ``"hessian"``, but ``"robust"`` (the sandwich) for BCH
            and for proportional assignment. ``"design"``: design-based
            standard errors of a complex sample, with ``strata`` and
            ``clusters`` (as for :meth:`standard_errors`).
        unknown : {"error", "missing"}, default="error"
            With ``data``: what to do with an answer that is not a category
            of the model.
        step1_uncertainty : bool, default=False
            Add the estimation error of this model (step 1) to the standard
            errors: ``cov3 + J cov1 J'``, with ``cov1`` the covariance of
            this model's parameters (:meth:`standard_errors`' "hessian") and
            ``J`` how the step-3 estimates move with them (Bakk, Oberski &
            Vermunt 2014), modal assignments held fixed. ``cov1`` comes from
            the data the model was fitted to; for a model that keeps none
            (loaded from a file, built from parameters, fitted by
            distributed EM) from ``data`` and ``weights``, which must then be
            those data (a warning says when the weights do not sum to its
            ``n_obs_``). It costs two step-3 gradients per free parameter of
            this model. With ``se_method="design"``, ``cov1`` is the
            design-based one, from ``data`` (which it then needs).
        strata, clusters, fpc : str or array-like, optional
            With ``se_method="design"``: each row's stratum, primary sampling
            unit and finite population correction (as for
            :meth:`standard_errors`), as column names of ``data`` or one
            value per row (of ``data``, or of the fitted rows without it).

        Returns
        -------
        lca.three_step.CovariateEffects
            ``coefficients`` (class, term) with standard errors, z, p-values
            and odds ratios; ``wald`` tests per covariate; the
            ``classification_errors`` matrix; ``predict_proba(covariates)``.

        Notes
        -----
        By default the standard errors treat the step-1 model as known (as
        Latent GOLD's Step3 does), so they omit its estimation error, which
        is small when the classes are well separated and can be large when
        they are not (Bakk, Oberski & Vermunt 2014); ``step1_uncertainty``
        adds it. See :mod:`lca.three_step`.
        """
        from . import three_step

        self._check_fitted()
        covariates = three_step._as_covariate_frame(
            self._named_columns(covariates, data, "covariates")
        )
        data, index, post, row_weights, rows = self._step3_rows(
            data, weights, unknown, "covariate effects", "covariate_effects(covariates, data=df)"
        )
        covariates = _aligned_rows(covariates, index, "covariates")
        survey = self._step3_design(se_method, (strata, clusters, fpc), data, index, weights)
        step1 = self._step1_from(
            step1_uncertainty, data, row_weights, unknown, rows, survey, (strata, clusters, fpc)
        )
        return three_step.covariate_effects(
            post,
            covariates,
            row_weights,
            self.classes_,
            correction=correction,
            assignment=assignment,
            reference=reference,
            se_method=se_method,
            step1=step1,
            survey=survey,
        )

    @staticmethod
    def _step3_design(se_method, design, data, index, weights=None):
        """The ``survey_design.SurveyDesign`` of step 3's rows for ``se_method="design"``
        (None otherwise, when a design is refused); ``design`` is ``(strata, clusters,
        fpc)``, ``weights`` the weights argument (a column name is no design column)."""
        from .survey_design import check_not_weights, refuse_design, survey_design

        refuse_design(design, se_method, "se_method")
        check_not_weights(design, weights)
        if se_method != "design":
            return None
        if data is None:
            named = [v for v in design if isinstance(v, str)]
            if named:
                raise ValueError(
                    f"strata, clusters or fpc given by column name ({named[0]!r}) need data=; "
                    "or pass one value per fitted row"
                )
            data = pd.DataFrame(index=index)
        return survey_design(data, *design)

    @staticmethod
    def _named_columns(values, data, what: str):
        """``values``, or the columns of ``data`` it names (a str, or a list, tuple or
        pandas Index of names; an array is values, not names)."""
        if isinstance(values, pd.Index) and not isinstance(values, pd.MultiIndex):
            values = list(values)
        if not isinstance(values, (str, list, tuple)):
            return values
        if data is None:
            raise ValueError(
                f"{what} given by column name need data= (the model keeps no columns "
                f"besides its indicators); or pass a DataFrame of {what}"
            )
        names = [values] if isinstance(values, str) else list(values)
        absent = [c for c in names if c not in data.columns]
        if absent:
            raise DataError(f"{what} {absent} name no column of the data")
        return data[names]

    def _step3_rows(self, data, weights, unknown: str, what: str, call: str) -> tuple:
        """``(data, index, post, weights, (patterns, inverse))`` of step 3's respondents.

        The fitted rows (``data`` None), or those of ``data`` (returned as
        ``_data_in_memory`` reads it; ``what`` names the step in messages,
        ``call`` shows how to give data when the model keeps no rows).
        """
        from .diagnostics import _aligned

        if data is None:
            if getattr(self, "_fit_inverse", None) is None:
                raise NotFittedError(
                    "this model keeps no row-level posteriors (it was loaded from a file, "
                    "built from parameters or fitted by distributed EM); give the "
                    f"respondents' answers: model.{call}"
                )
            if unknown != "error":
                raise ValueError("unknown= goes with data=; the fitted rows are used")
            index = self._fit_index
            if isinstance(weights, pd.Series):
                weights = _aligned(weights, index, "weights")
            row_weights = check_weights(weights, pd.DataFrame(index=index))
            post = self._pattern_post[self._fit_inverse]
            return None, index, post, row_weights, (self._patterns, self._fit_inverse)
        data, row_weights = self._data_in_memory(data, weights, unknown, what, "needed columns")
        post, _, rows = self._posteriors_rows(data, unknown, with_patterns=True)
        return data, data.index, post, row_weights, rows

    def distal_means(
        self,
        outcomes,
        data=None,
        weights=None,
        *,
        correction: str = "bch",
        assignment: str = "modal",
        se_method: str | None = None,
        missing: str = "error",
        unknown: str = "error",
        step1_uncertainty: bool = False,
        strata=None,
        clusters=None,
        fpc=None,
    ):
        """Mean of numeric outside variables in each class, corrected for classification error.

        Continuous distal outcomes by the bias-adjusted three-step approach:
        this model is step 1, its respondents are assigned to classes (step
        2), and each outcome's mean and standard deviation in each class are
        estimated allowing for the assignments' classification error (step
        3), with Wald tests that the classes' means differ.

        Parameters
        ----------
        outcomes : pandas.DataFrame, pandas.Series, str or list of str
            Numeric outcomes, one row per respondent, indexed like the data
            (a frame whose index holds the same unique labels in another order
            is reordered), or names of columns of ``data``.
        data : pandas.DataFrame, optional
            The respondents' answers to the indicators (any respondents, not
            only the fitted ones). By default, the rows the model was fitted to.
        weights : str, array-like or pandas.Series, optional
            Case weights (a column of ``data`` by name, or one value per row),
            counted as frequency weights, in the standard errors too (as
            sampling weights with ``se_method="design"``).
        correction : {"bch", "ml", "none"}, default="bch"
            ``"bch"``: means weighted by the inverse of the classification
            errors (Bakk, Tekle & Vermunt 2013), unbiased whatever the
            outcome's distribution within a class, the method Bakk & Vermunt
            (2016) recommend. ``"ml"``: maximum likelihood with a normal
            outcome of its own mean and variance in each class and the
            classification errors fixed (Vermunt 2010; Latent GOLD's Step3),
            biased when the outcome is not normal within the classes.
            ``"none"``: the means of the assigned classes, biased towards the
            overall mean.
        assignment : {"modal", "proportional"}, default="modal"
            Assign each respondent to its most probable class, or spread it
            over the classes by its posteriors.
        se_method : {"hessian", "robust", "design"}, optional
            ML only: the inverse Hessian (default for modal assignment) or the
            sandwich (default for proportional). BCH and uncorrected means
            have the sandwich. ``"design"`` (any correction): design-based
            standard errors of a complex sample, with ``strata`` and
            ``clusters`` (as for :meth:`covariate_effects`).
        missing : {"error", "omit"}, default="error"
            A missing outcome value is refused, or its row left out of that
            outcome's means (counted in ``n_missing``; the classification
            errors stay those of every row).
        unknown : {"error", "missing"}, default="error"
            With ``data``: what to do with an answer that is not a category
            of the model.
        step1_uncertainty : bool, default=False
            Add this model's estimation error to the standard errors, as
            :meth:`covariate_effects` does (``cov3 + J cov1 J'``, modal
            assignments held fixed; ``data`` must then be the data the model
            was fitted to, if it keeps none).
        strata, clusters, fpc : str or array-like, optional
            With ``se_method="design"``: each row's stratum, primary sampling
            unit and finite population correction, as for
            :meth:`covariate_effects`.

        Returns
        -------
        lca.distal.DistalMeans
            ``means`` (outcome, class) with standard errors, 95% limits, the
            within-class ``sd`` and ``base``; ``wald`` (equal means) and
            ``pairwise`` tests; ``classification_errors``; ``table()``.

        Notes
        -----
        By default the standard errors treat the step-1 model as known, as
        Latent GOLD's Step3 and Mplus's BCH do; ``step1_uncertainty`` adds
        its error. See :mod:`lca.distal`.
        """
        from . import distal

        post, outcomes, row_weights, step1, survey = self._distal_inputs(
            outcomes, data, weights, unknown, step1_uncertainty, "distal means",
            (se_method, strata, clusters, fpc),
        )  # fmt: skip
        return distal.distal_means(
            post,
            outcomes,
            row_weights,
            self.classes_,
            correction=correction,
            assignment=assignment,
            se_method=se_method,
            missing=missing,
            step1=step1,
            survey=survey,
        )

    def distal_proportions(
        self,
        outcomes,
        data=None,
        weights=None,
        *,
        correction: str = "ml",
        assignment: str = "modal",
        se_method: str | None = None,
        missing: str = "error",
        unknown: str = "error",
        step1_uncertainty: bool = False,
        strata=None,
        clusters=None,
        fpc=None,
    ):
        """Distribution of categorical outside variables in each class, with inference.

        Categorical distal outcomes by the bias-adjusted three-step approach
        (step 1 this model, step 2 the assignments, step 3 each outcome's
        distribution in each class allowing for the assignments'
        classification error): proportions with standard errors and 95%
        limits, and the Wald test that the distribution is the same in every
        class. :meth:`crosstab` gives the same corrected percentages as a
        table, without inference.

        Parameters
        ----------
        outcomes : pandas.DataFrame, pandas.Series, str or list of str
            Categorical outcomes (any labels), one row per respondent,
            indexed like the data, or names of columns of ``data``. A
            Categorical keeps its category order, other labels are sorted;
            categories nobody has (among the rows used) are left out.
        data : pandas.DataFrame, optional
            The respondents' answers to the indicators. By default, the rows
            the model was fitted to.
        weights : str, array-like or pandas.Series, optional
            Case weights (a column of ``data`` by name, or one value per row),
            counted as frequency weights, in the standard errors too (as
            sampling weights with ``se_method="design"``).
        correction : {"ml", "bch", "none"}, default="ml"
            ``"ml"``: maximum likelihood with the classification errors fixed
            (Vermunt 2010; Latent GOLD's Step3), the method Bakk & Vermunt
            (2016) recommend for categorical outcomes; proportions stay in
            0-1. ``"bch"``: BCH weights (Bakk, Tekle & Vermunt 2013); a rare
            category's proportion can fall below 0. ``"none"``: the
            distribution within the assigned classes, which understates how
            the classes differ.
        assignment : {"modal", "proportional"}, default="modal"
        se_method : {"hessian", "robust", "design"}, optional
            ML only: the inverse Hessian (default for modal assignment) or the
            sandwich (default for proportional). BCH and uncorrected
            proportions have the sandwich. ``"design"`` (any correction):
            design-based standard errors of a complex sample, with
            ``strata`` and ``clusters`` (as for :meth:`covariate_effects`).
        missing : {"error", "omit"}, default="error"
            A missing outcome value is refused, or its row left out of that
            outcome's proportions (counted in ``n_missing``; the
            classification errors stay those of every row). To keep missing
            answers as a category, recode them first.
        unknown : {"error", "missing"}, default="error"
            With ``data``: what to do with an answer that is not a category
            of the model.
        step1_uncertainty : bool, default=False
            Add this model's estimation error to the standard errors, as
            :meth:`distal_means` does.
        strata, clusters, fpc : str or array-like, optional
            With ``se_method="design"``: each row's stratum, primary sampling
            unit and finite population correction, as for
            :meth:`covariate_effects`.

        Returns
        -------
        lca.distal_categorical.DistalProportions
            ``proportions`` (outcome, category, class) with ``se``,
            95% limits ``ci_lower``, ``ci_upper`` (logit scale, inside 0-1
            except around a BCH proportion at or beyond 0 or 1);
            ``wald`` per outcome ((K-1)(C-1) df);
            ``classification_errors``; ``table()``.

        Notes
        -----
        An ML proportion at 0 (a category nobody in a class has, by the
        corrected estimates) is held there, exactly 0, with no standard error
        (NaN) and a warning naming it; the other proportions keep theirs (one
        at 1, its class's other categories all at 0, has 0), and the Wald test
        is the generalised one, with fewer df where the fixed proportions
        leave contrasts without variance, and NaN (with a warning) where they
        make classes differ for certain. Where the information is singular,
        that outcome's standard errors and test are NaN, with a warning. See
        :mod:`lca.distal_categorical`.
        """
        from . import distal_categorical

        post, outcomes, row_weights, step1, survey = self._distal_inputs(
            outcomes, data, weights, unknown, step1_uncertainty, "distal proportions",
            (se_method, strata, clusters, fpc),
        )  # fmt: skip
        return distal_categorical.distal_proportions(
            post,
            outcomes,
            row_weights,
            self.classes_,
            correction=correction,
            assignment=assignment,
            se_method=se_method,
            missing=missing,
            step1=step1,
            survey=survey,
        )

    def _distal_inputs(
        self, outcomes, data, weights, unknown, step1_uncertainty, what, design=(None,) * 4
    ):
        """Posteriors, outcomes (a DataFrame aligned with them), weights, the step-1
        term and the survey design of a distal step 3 (``what``, "distal means" or
        "distal proportions", names it and its method in messages; ``design`` is
        ``(se_method, strata, clusters, fpc)``)."""
        call = what.replace(" ", "_") + "(outcomes, data=df)"
        self._check_fitted()
        outcomes = self._named_columns(outcomes, data, "outcomes")
        if isinstance(outcomes, pd.Series):
            outcomes = outcomes.to_frame(outcomes.name if outcomes.name is not None else "outcome")
        if not isinstance(outcomes, pd.DataFrame):
            raise TypeError(
                f"outcomes must be a pandas DataFrame (or Series), not {type(outcomes).__name__}"
            )
        read, index, post, row_weights, rows = self._step3_rows(data, weights, unknown, what, call)
        outcomes = _aligned_rows(outcomes, index, "outcomes")
        se_method, *spec = design
        survey = self._step3_design(se_method, spec, read, index, weights)
        step1 = self._step1_from(step1_uncertainty, read, row_weights, unknown, rows, survey, spec)
        return post, outcomes, row_weights, step1, survey

    def _step1_from(
        self, wanted: bool, data, weights, unknown: str, rows, survey=None, design=(None,) * 3
    ):
        """``step1`` of step 3 (None unless ``wanted``): step 1 is the fit's own data, or,
        for a model that keeps none, ``data`` as ``_step3_rows`` read it. With a
        ``survey`` (se_method="design"), its design-based covariance from ``data``
        and ``design``, the ``(strata, clusters, fpc)`` given."""
        if not wanted:
            return None
        if survey is not None:
            if data is None:
                raise ValueError(
                    "step1_uncertainty with se_method='design' takes step 1's design-based "
                    "covariance from the rows: give data= (the data the model was fitted to, "
                    "with their weights, strata and clusters)"
                )
            return self._step1(*rows, data, weights, unknown, "design", *design)
        own = data is None or getattr(self, "_patterns", None) is not None
        source = (None, None, "error") if own else (data, weights, unknown)
        return self._step1(*rows, *source)

    def _step1(
        self,
        row_patterns,
        inverse,
        data=None,
        weights=None,
        unknown="error",
        method="hessian",
        strata=None,
        clusters=None,
        fpc=None,
    ):
        """``(post_at, cov1)`` of ``three_step.covariate_effects``'s ``step1``.

        ``cov1`` from the fitted patterns, or, for a model that keeps none,
        from ``data`` and ``weights`` (taken as the data it was fitted to, as
        by :meth:`standard_errors`); by ``method``, with the ``strata``,
        ``clusters`` and ``fpc`` of ``method="design"``.
        """
        from . import standard_errors as se

        if getattr(self, "n_obs_", None) is None:
            raise ValueError(
                "step1_uncertainty needs the estimation error of a fitted model, and this one "
                "was built from parameters (published estimates, whose error these data do not "
                "tell); fit the model to the data first, or leave step1_uncertainty=False"
            )
        args, unit, design_rows = self._se_inputs(
            data, weights, unknown, method, strata, clusters, fpc
        )
        lay, cov1, _ = se.parameter_covariance(*args, method=method, unit=unit, rows=design_rows)
        offsets = self._offsets

        def post_at(delta):
            log_class, log_cond = se.perturbed(self._log_class, self._log_cond, offsets, lay, delta)
            return _kernels.posteriors(row_patterns, offsets, log_class, log_cond, False)[0][
                inverse
            ]

        return post_at, cov1

    def summary(self):
        """Fit statistics, class sizes, AvePP, classification table and profile.

        Returns a summary object with ``as_text()``, ``as_html()``,
        ``to_frame()``; see :func:`lca.results.model_summary`.
        """
        from .results import model_summary

        self._check_has_data_stats()
        return model_summary(self)

    def plot_profile(self, kind: str = "bars", **kwargs):
        """Plot the class-conditional probabilities (needs matplotlib).

        See :func:`lca.plotting.plot_profile`.
        """
        from .plotting import plot_profile

        self._check_fitted()
        return plot_profile(self, kind=kind, **kwargs)

    # -- assignment ------------------------------------------------------------
    def _posteriors_rows(self, data: pd.DataFrame, unknown: str, with_patterns: bool = False):
        self._check_fitted()
        data = as_frame(data)
        codes = encode(data, self.indicators_, unknown=unknown)
        if unknown == "missing":
            warn_unknown_as_missing(data, self.indicators_, codes)
        patterns, _, inverse = compress(codes, np.zeros(codes.shape[0]))
        post, ll = self._pattern_posteriors(patterns)
        ll[np.all(patterns < 0, axis=1)] = 0.0  # no answers: log(sum_k P_k) = 0, not -1e-16
        impossible = int(np.sum(~np.isfinite(ll[inverse])))
        if impossible:
            warn(
                f"{impossible} row(s) have answers that are impossible under every class "
                "(probabilities estimated as exactly 0, as maximum likelihood can); their "
                "posterior is set to the class sizes. Fit with bayes_constant > 0 to avoid this",
                UserWarning,
            )
        if with_patterns:
            return post[inverse], ll[inverse], (patterns, inverse)
        return post[inverse], ll[inverse]

    def predict_proba(self, data: pd.DataFrame, unknown: str = "error") -> pd.DataFrame:
        """Posterior class probabilities of each respondent.

        Parameters
        ----------
        data : pandas.DataFrame
            Holds the indicator columns (order free, extra columns ignored);
            missing answers allowed.
        unknown : {"error", "missing"}, default="error"
            What to do with a category never seen in fitting.

        Returns
        -------
        pandas.DataFrame of shape (n_rows, n_classes)
            Index ``data.index``, columns classes 1..K; rows sum to 1.
        """
        dask = self._dask_predict(data, "predict_proba", unknown=unknown)
        if dask is not None:
            return dask
        data = as_frame(data)
        post, _ = self._posteriors_rows(data, unknown)
        return pd.DataFrame(post, index=data.index, columns=self.classes_)

    def predict(
        self, data: pd.DataFrame, unknown: str = "error", labels: bool = False
    ) -> pd.Series:
        """Modal class (1..K) of each respondent, indexed like ``data``.

        Parameters
        ----------
        data : pandas.DataFrame
            As for :meth:`predict_proba`.
        unknown : {"error", "missing"}, default="error"
            What to do with a category never seen in fitting.
        labels : bool, default=False
            The class names instead of their numbers, for models that have
            ``class_labels_`` (such as the presets').

        Returns
        -------
        pandas.Series of shape (n_rows,)
            Named ``class`` (int 1..K), or ``class_label`` with ``labels=True``;
            ties go to the lower class number.
        """
        dask = self._dask_predict(data, "predict", unknown=unknown, labels=labels)
        if dask is not None:
            return dask
        data = as_frame(data)
        post, _ = self._posteriors_rows(data, unknown)
        classes = pd.Series(
            criteria.modal_assignment(post) + 1, index=data.index, name="class", dtype=np.int64
        )
        if labels:
            names = getattr(self, "class_labels_", None)
            if names is None:
                raise ValueError("this model has no class_labels_; predict numbers instead")
            return classes.map(dict(enumerate(names, start=1))).rename("class_label")
        return classes

    def score_samples(self, data: pd.DataFrame, unknown: str = "error") -> pd.Series:
        """Log-likelihood log P(y_i) of each respondent under the model.

        Parameters
        ----------
        data : pandas.DataFrame
            As for :meth:`predict_proba`.
        unknown : {"error", "missing"}, default="error"
            What to do with a category never seen in fitting.

        Returns
        -------
        pandas.Series of shape (n_rows,)
            Named ``loglik``, indexed like ``data``; a respondent with no
            answer scores 0.
        """
        dask = self._dask_predict(data, "score_samples", unknown=unknown)
        if dask is not None:
            return dask
        data = as_frame(data)
        _, ll = self._posteriors_rows(data, unknown)
        return pd.Series(ll, index=data.index, name="loglik")

    def _dask_predict(self, data, method, **kwargs):
        from ._dask import is_dask_collection, predict_dask

        if not is_dask_collection(data):
            return None
        self._check_fitted()
        return predict_dask(self, data, method, **kwargs)

    def sample(
        self,
        n: int,
        random_state: int | np.random.Generator | None = None,
        missing: float = 0.0,
    ) -> tuple[pd.DataFrame, pd.Series]:
        """Draw respondents from the fitted model.

        Parameters
        ----------
        n : int
            Number of respondents.
        random_state : int, Generator or None
        missing : float, default=0.0
            Probability that each answer is missing (completely at random).

        Returns
        -------
        data : pandas.DataFrame of shape (n, n_indicators)
            Answers as pandas Categoricals with the fitted category labels
            (ordered as fitted; NaN for a missing answer).
        classes : pandas.Series of shape (n,)
            The true class (1..K) of each respondent.
        """
        self._check_fitted()
        from .simulate import labelled_frame

        codes, classes = self._draw_codes(n, random_state, missing)
        return labelled_frame(codes, self.indicators_), pd.Series(classes + 1, name="class")

    def _draw_codes(self, n: int, random_state, missing: float = 0.0) -> tuple:
        """Codes (n, J) and classes (0-based) of ``n`` respondents drawn from the model."""
        from .simulate import draw_codes

        return draw_codes(
            self._class_probs, self._cond_probs, self._offsets, n, random_state, missing
        )

    # -- persistence -----------------------------------------------------------
    def save(self, path: str | PathLike) -> None:
        """Write the fitted model to one JSON file (no pickle); see ``lca.load``."""
        self._check_fitted()
        from .io import save_model

        save_model(self, path)
