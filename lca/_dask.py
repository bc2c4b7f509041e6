"""Fitting and assigning on Dask DataFrames (the optional extra ``lca[dask]``).

Each partition is encoded and compressed to its answer patterns with summed
weights where it lives; a Dask groupby sums the weights of equal patterns
across partitions (a missing answer is the code -1, a pattern value like any
other: nothing is dropped). The pattern table, whose size depends on the
number of distinct answer combinations and not on the number of rows, is then
collected and fitted exactly as a pandas DataFrame would be, so the result
equals the pandas fit.

Distributed EM, for pattern tables too large for one machine (more than
``MAX_LOCAL_PATTERNS`` distinct patterns, or ``fit(..., distributed=True)``):
the groupby leaves the table split by pattern hash over as many partitions as
the input had, persisted in the workers' memory as NumPy arrays. Each EM
round sends the parameters of every running start (a few kilobytes) to every
partition, which returns its E-step sums (expected counts, class counts and
log-likelihood); the sums are added in a binary tree of tasks and the M-step
runs here. All starts of the multi-start search run side by side, one round
for all of them (``lca._em.lockstep``), so the number of rounds is that of
the longest start, not the sum over starts. The fit statistics come from
sums over the partitions too (``lca.criteria.pattern_sums``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .encoding import (
    DataError,
    answered_only_where_weightless,
    compress,
    encode,
    learn_indicators,
)

#: Distinct patterns above which ``fit`` runs EM distributed (``distributed=None``).
MAX_LOCAL_PATTERNS = 5_000_000


def is_dask_collection(data) -> bool:
    """Whether ``data`` is a Dask DataFrame or Series (without importing Dask)."""
    return type(data).__module__.startswith("dask") and hasattr(data, "map_partitions")


def learn_indicators_dask(ddf, categories=None, max_categories=50, full=None):
    """Indicators of a Dask DataFrame, by the same rules as for pandas.

    The distinct values of every column are computed with Dask; the pandas
    rules then run on that small table, so labels, their order and every
    check are the same as for the whole data in pandas. ``full``: the data
    ``ddf`` was taken from (its rows of positive weight), to tell a column
    answered only in rows of weight 0 from one never answered.
    """
    import dask

    columns = list(ddf.columns)
    uniques = dask.compute(*[ddf[c].drop_duplicates() for c in columns])
    small = {}
    for c, values in zip(columns, uniques):
        values = values.reset_index(drop=True)
        dtype = ddf[c].dtype
        if isinstance(dtype, pd.CategoricalDtype) and ddf[c].cat.known:
            values = values.astype(dtype)  # keeps the declared category order
        elif isinstance(dtype, pd.CategoricalDtype) and not dtype.ordered:
            # unknown categories (e.g. after astype("category") on Dask): the
            # computed values carry them in partition order; pandas' astype
            # sorts them, and so do the rules for plain values
            values = values.astype(object)
        # unknown ordered categories keep the order found; categories= fixes it
        small[c] = values
    if full is not None:
        unanswered = [c for c in columns if small[c].isna().all()]
        answered = dask.compute(*[full[c].notnull().any() for c in unanswered])
        for c, any_answer in zip(unanswered, answered):
            if any_answer:
                raise answered_only_where_weightless(c)
    frame = pd.DataFrame(small)
    return learn_indicators(frame, categories, max_categories)


def _weights(part: pd.DataFrame, column) -> np.ndarray:
    """The weights of one partition as floats, checked row by row as for pandas."""
    from .model import weight_values

    return weight_values(part[column], part)


def _weight_facts(weights: pd.Series) -> pd.DataFrame:
    """Whether one partition has a positive weight, and its weights' sum."""
    values = _weights(weights.to_frame(), weights.name)
    with np.errstate(over="ignore"):
        total = float(values.sum())
    return pd.DataFrame({"positive": [bool((values > 0).any())], "total": [total]})


def _positive_weight(weights: pd.Series) -> pd.Series:
    return pd.Series(_weights(weights.to_frame(), weights.name) > 0, index=weights.index)


def _partition_patterns(part: pd.DataFrame, indicators, weights_column) -> pd.DataFrame:
    data = part.drop(columns=[weights_column]) if weights_column else part
    w = _weights(part, weights_column) if weights_column else np.ones(len(part))
    if len(part) == 0:
        return _meta(len(indicators))
    codes = encode(data, indicators, unknown="error" if bool((w > 0).all()) else "missing")
    patterns, pw, inverse = compress(codes, w)
    out = pd.DataFrame(patterns, columns=[f"c{j}" for j in range(patterns.shape[1])])
    out["w"] = pw
    out["rows"] = np.bincount(inverse, minlength=len(pw))
    return out


def _meta(n_indicators: int) -> pd.DataFrame:
    meta = {f"c{j}": pd.Series(dtype=np.int16) for j in range(n_indicators)}
    meta["w"] = pd.Series(dtype=float)
    meta["rows"] = pd.Series(dtype=np.int64)
    return pd.DataFrame(meta)


def check_dask_weights(ddf, weights):
    """Dask data take weights as the name of one of their columns."""
    if weights is None:
        return None
    if not isinstance(weights, str) or weights not in ddf.columns:
        raise DataError(
            "with a Dask DataFrame, pass weights as the name of its weights column "
            f"(got {type(weights).__name__}); columns are {list(ddf.columns)}"
        )
    return weights


def encode_dask(model, ddf, weights=None, distributed=None):
    """A Dask DataFrame as answer patterns (``lca.model.EncodedData``), for one or many fits.

    The pattern table is collected (local mode) or left on the workers
    (distributed mode). ``distributed``: None chooses distributed EM when
    the data have more than ``MAX_LOCAL_PATTERNS`` distinct answer patterns;
    True or False forces one mode. The result depends on the model's
    ``categories`` and ``max_categories`` only.
    """

    import dask.dataframe as dd

    from .model import EncodedData, check_weight_total

    if not isinstance(ddf, dd.DataFrame):
        raise DataError(
            f"expected a Dask DataFrame with one column per indicator, got "
            f"{type(ddf).__name__}; make a one-column frame with series.to_frame()"
        )
    weights = check_dask_weights(ddf, weights)
    data_cols = [c for c in ddf.columns if c != weights]
    full = None
    if weights is not None:
        # the checks and messages of pandas' check_weights, partition by partition
        meta = pd.DataFrame({"positive": pd.Series(dtype=bool), "total": pd.Series(dtype=float)})
        facts = ddf[weights].map_partitions(_weight_facts, meta=meta).compute()
        with np.errstate(over="ignore"):
            total = float(facts["total"].sum())
        check_weight_total(bool(facts["positive"].any()), total)
        positive = ddf[weights].map_partitions(_positive_weight, meta=pd.Series(dtype=bool))
        full = ddf[data_cols]
    # categories come from rows that count (positive weight), as for pandas
    source = ddf[positive][data_cols] if weights is not None else ddf[data_cols]
    indicators = learn_indicators_dask(source, model.categories, model.max_categories, full)
    from .model import _warn_skipped_scores  # as the pandas encoding warns

    _warn_skipped_scores(indicators, model._ordinal_mask(indicators))
    n_ind = len(indicators)
    local = ddf.map_partitions(
        _partition_patterns, indicators, weights, meta=_meta(n_ind)
    )  # one pattern table per partition
    keys = [f"c{j}" for j in range(n_ind)]
    # hash-partitioned by pattern: every distinct pattern lives in exactly one partition
    table = local.groupby(keys, sort=False)[["w", "rows"]].sum(split_out=ddf.npartitions)
    table = table.reset_index().persist()
    n_patterns = int(table.shape[0].compute())
    if distributed is None:
        distributed = n_patterns > MAX_LOCAL_PATTERNS
    if distributed:
        source = DistributedPatterns(table, keys)
        return EncodedData(
            indicators, None, None, source.n_rows, source.n_empty_rows, distributed=source
        )
    table = table.compute()
    patterns = table[keys].to_numpy(dtype=np.int16)
    order = np.lexsort(patterns.T[::-1])  # the order pandas' compress gives
    patterns = np.ascontiguousarray(patterns[order])
    pattern_weights = table["w"].to_numpy()[order]
    rows = table["rows"].to_numpy()[order]
    n_empty = int(rows[np.all(patterns < 0, axis=1)].sum())
    return EncodedData(indicators, patterns, pattern_weights, int(rows.sum()), n_empty)


def _arrays(part: pd.DataFrame, keys) -> tuple:
    patterns = np.ascontiguousarray(part[keys].to_numpy(dtype=np.int16))
    if patterns.ndim != 2:
        patterns = patterns.reshape(0, len(keys))
    return patterns, part["w"].to_numpy(dtype=float), part["rows"].to_numpy(dtype=np.int64)


def _counts(part) -> np.ndarray:
    from .model import informative_patterns

    patterns, weights, rows = part
    empty = np.all(patterns < 0, axis=1)
    counts = [
        informative_patterns(patterns, weights),
        rows.sum(),
        rows[empty].sum(),
        np.sum(weights),
    ]
    return np.array(counts, dtype=float)


def _marginal_counts(part, offsets) -> np.ndarray:
    from .model import marginal_counts

    return marginal_counts(part[0], part[1], offsets)


def _estep_sums(part, offsets, points) -> list:
    from . import _kernels

    patterns, weights, _ = part
    return [
        _kernels.estep(patterns, weights, offsets, log_class, log_cond, False)
        for log_class, log_cond in points
    ]


def _add_estep_sums(a: list, b: list) -> list:
    return [(x[0] + y[0], x[1] + y[1], x[2] + y[2]) for x, y in zip(a, b)]


def _pattern_sums(part, offsets, log_class, log_cond) -> dict:
    from . import _kernels
    from .criteria import pattern_sums

    patterns, weights, _ = part
    post, ll = _kernels.posteriors(patterns, offsets, log_class, log_cond, False)
    return pattern_sums(post, weights, ll, np.all(patterns >= 0, axis=1))


def _worst_patterns(part, offsets, log_class, log_cond, total, n) -> tuple:
    """This part's candidates for ``lca._em.worst_patterns``: residuals, patterns, posteriors."""
    from . import _em, _kernels

    patterns, weights, _ = part
    post, ll = _kernels.posteriors(patterns, offsets, log_class, log_cond, False)
    idx, resid = _em.worst_patterns(patterns, weights, ll, total, n)
    return resid[idx], patterns[idx], post[idx]


def _merge_worst(a, b, n) -> tuple:
    """The ``n`` worst of two parts' candidates, ranked as ``worst_patterns`` ranks."""
    from ._em import worst_first

    resid, patterns, post = (np.concatenate([x, y]) for x, y in zip(a, b))
    order = worst_first(resid, patterns)[:n]
    return resid[order], patterns[order], post[order]


def _add(a, b):
    return a + b


def tree_sum(values: list, add=_add):
    """Sum of delayed values by a binary tree of tasks (depth log2 of their number).

    Neighbours in partition order are added first, wherever Dask placed them:
    the order of the additions, hence every bit of the result, does not
    depend on the cluster (pairing by worker would move less data, about one
    partial sum per worker instead of half the partition sums, but would make
    the result depend on where the partitions landed).
    """
    import dask

    combine = dask.delayed(add, pure=True)
    while len(values) > 1:
        pairs = [combine(a, b) for a, b in zip(values[::2], values[1::2])]
        values = pairs + ([values[-1]] if len(values) % 2 else [])
    return values[0]


class DistributedPatterns:
    """A pattern table kept in a Dask cluster's memory, one part per partition.

    Everything EM and the fit statistics need from the table is a sum over
    patterns, computed where each part lives and added up in a tree.
    """

    def __init__(self, table, keys):
        import dask

        parts = [dask.delayed(_arrays, pure=True)(d, keys) for d in table.to_delayed()]
        self.parts = list(dask.persist(*parts))
        counts = self._sum(_counts)
        self.n_positive, self.n_rows, self.n_empty_rows = (int(v) for v in counts[:3])
        self.total_weight = float(counts[3])

    def _sum(self, fn, *args, add=_add):
        import dask

        task = dask.delayed(fn, pure=True)
        shared = [dask.delayed(a, traverse=False) for a in args]  # shipped once, not per part
        return dask.compute(tree_sum([task(p, *shared) for p in self.parts], add))[0]

    def marginal_counts(self, offsets) -> np.ndarray:
        return self._sum(_marginal_counts, offsets)

    def evaluator(self, offsets):
        """``evaluate(points)`` for :func:`lca._em.lockstep`: one E-step round on the cluster."""

        def evaluate(points):
            return self._sum(_estep_sums, offsets, list(points), add=_add_estep_sums)

        return evaluate

    def worst_patterns(self, offsets, log_class, log_cond, n) -> tuple:
        """The ``n`` worst-fitted patterns (``lca._em.worst_patterns``) and their
        posteriors, found part by part: ``(patterns, posteriors)``."""
        from functools import partial

        merge = partial(_merge_worst, n=n)
        _, patterns, post = self._sum(
            _worst_patterns, offsets, log_class, log_cond, self.total_weight, n, add=merge
        )
        return patterns, post

    def pattern_sums(self, offsets, log_class, log_cond) -> dict:
        from .criteria import add_sums

        return self._sum(_pattern_sums, offsets, log_class, log_cond, add=add_sums)


def predict_dask(model, ddf, method: str, **kwargs):
    """``predict_proba``, ``predict`` or ``score_samples`` partition by partition.

    Returns a lazy Dask DataFrame (posteriors) or Series, with the input's
    index and every row.
    """
    index = ddf._meta.index
    if method == "predict_proba":
        meta = pd.DataFrame({c: pd.Series(dtype=float) for c in model.classes_}, index=index)
        meta.columns = model.classes_
    elif method == "predict" and kwargs.get("labels"):
        meta = pd.Series(dtype=object, index=index, name="class_label")
    elif method == "predict":
        meta = pd.Series(dtype=np.int64, index=index, name="class")
    else:
        meta = pd.Series(dtype=float, index=index, name="loglik")
    return ddf.map_partitions(_apply, _slim(model), method, kwargs, meta=meta)


def _slim(model):
    """A shallow copy without the fitted data, to ship to every partition."""
    import copy

    slim = copy.copy(model)
    fitted_data = ("_patterns", "_pattern_weights", "_pattern_post", "_fit_inverse", "_fit_index")
    for name in (*fitted_data, "_pattern_class_mass"):  # the last: a regression's
        setattr(slim, name, None)
    return slim


def _apply(part, model, method, kwargs):
    if len(part) == 0:
        return predict_dask_empty(model, part, method)
    return getattr(model, method)(part, **kwargs)


def predict_dask_empty(model, part, method):
    if method == "predict_proba":
        return pd.DataFrame(
            np.zeros((0, model.n_classes_)), index=part.index, columns=model.classes_
        )
    if method == "predict":
        return pd.Series(np.zeros(0, np.int64), index=part.index, name="class")
    return pd.Series(np.zeros(0), index=part.index, name="loglik")


def active_client():
    """The active ``distributed.Client``, or None (never starts one)."""
    import sys

    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_client

        return get_client()
    except (ValueError, ImportError):
        return None
