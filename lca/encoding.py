"""Survey answers with any category labels <-> integer codes (missing = -1).

Rules, shared by fitting and prediction:

- Missing answers are ``NaN``, ``None``, ``pd.NA`` and ``NaT``; they become
  code ``-1`` and stay in the model.
- A pandas ``Categorical`` keeps its category order (categories that never
  occur in the data are left out of the model); otherwise labels are sorted
  (numbers numerically, then text alphabetically). ``categories=`` fixes the
  order (and the allowed labels) explicitly.
- A float column whose values are all whole numbers (what CSV readers make of
  integer codes with blanks) is treated as integer labels.
- Labels that differ but read the same as text (``1`` and ``"1"``) are refused,
  and so are ``True``/``False`` beside the numbers ``1``/``0`` in one column
  (Python takes them for equal values).
- float32 values are read as written (``0.1``, not ``0.10000000149011612``).
- Values that cannot be labels (dates, lists, ...), infinite values and a
  ``categories=`` list that misses a label of the data, repeats one or holds a
  missing value are refused, naming the column and the value.
- At prediction a label of another type is mapped to a fitted category when
  their text agrees (``"2"`` -> ``2``, ``2.0`` -> ``2``); that is unambiguous
  because fitting refused look-alike labels.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._compress import array_blocks, pattern_table, row_blocks, rows_in_pattern
from .exceptions import DataWarning, warn

#: Default limit of distinct values before a column is taken for continuous.
MAX_CATEGORIES = 50


class DataError(ValueError):
    """Bad input data: the message names the column, the value and the fix."""


@dataclass(frozen=True)
class Indicator:
    """One indicator: its column name and category labels in model order."""

    name: Hashable
    categories: tuple
    ordered: bool = False
    #: In order, the labels the data's own order puts between answered categories
    #: but nobody gave (an ordered Categorical's unused categories, the missing
    #: integers between integer codes): ordinal scores are equidistant over
    #: ``categories``, so these move the scores. Found when learning from data only.
    skipped: tuple = field(default=(), compare=False, repr=False)

    @property
    def n_categories(self) -> int:
        return len(self.categories)


def python_label(value):
    """A category label as a plain Python bool, int, float or str."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        # float32 0.1 is 0.10000000149011612 as a float64: keep the value it
        # was written as (its shortest repr), so a float64 0.1 matches it
        return float(str(value))
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    raise DataError(
        f"category label {value!r} of type {type(value).__name__} is not supported; "
        "use str, int, float or bool labels"
    )


def plain_name(name):
    """A column name as a plain Python value: numpy ints, floats and strs as int, float
    and str."""
    if isinstance(name, np.integer):
        return int(name)
    if isinstance(name, np.floating):
        return float(name)
    if isinstance(name, np.str_):
        return str(name)
    return name


def name_list(option, what: str) -> list:
    """The column names an option such as ``ordinal=`` gives: one name, or a list of them.

    One str or int (numpy's too) is one name; any other iterable (a list, an
    Index, an array) lists names; ``None`` names none. Names come back as
    plain Python values (:func:`plain_name`).
    """
    if option is None:
        return []
    if isinstance(option, (str, numbers.Integral)) and not isinstance(option, (bool, np.bool_)):
        return [plain_name(option)]
    if isinstance(option, (bytes, bool, np.bool_)) or not isinstance(option, Iterable):
        raise DataError(
            f"{what}= takes a column name or a list of column names, got {option!r}; "
            f"write for example {what}=['q1', 'q2']"
        )
    return [plain_name(n) for n in option]


def text_key(value) -> str:
    """How a label reads as text; equal keys are the same answer."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sort_labels(labels: list) -> list:
    numbers_ = sorted(v for v in labels if _is_number(v))
    bools = sorted(v for v in labels if isinstance(v, bool))
    texts = sorted(v for v in labels if isinstance(v, str))
    return bools + numbers_ + texts


def _is_missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _column_values(df: pd.DataFrame, name) -> pd.Series:
    column = df[name]
    if isinstance(column, pd.DataFrame):
        raise DataError(f"column {name!r} appears more than once; give each indicator one column")
    return column


def _column_label(name, value):
    """``python_label``, with the column named in the error."""
    try:
        return python_label(value)
    except DataError:
        raise DataError(
            f"column {name!r} holds {value!r} of type {type(value).__name__}, which cannot be a "
            "category label; recode the column to str, int, float or bool labels"
        ) from None


def _check_finite(name, uniques: list) -> None:
    for v in uniques:
        if isinstance(v, float) and math.isinf(v):
            raise DataError(
                f"column {name!r} holds the infinite value {v!r}; recode it to a category "
                "or to missing (NaN)"
            )


def check_bool_number_mix(name, column: pd.Series, uniques: list) -> None:
    """Refuse True/False beside the numbers 1/0 in one column.

    Python holds ``True == 1`` and ``False == 0``, so ``pd.factorize`` would
    silently merge them (into ``uniques``, the first seen of each) although
    they read differently as text.
    """
    if column.dtype != object or not any(
        isinstance(u, (numbers.Number, np.bool_)) and not _is_missing(u) and u in (0, 1)
        for u in uniques
    ):
        return
    if pd.api.types.infer_dtype(column, skipna=True) not in ("mixed", "mixed-integer"):
        return  # no bool beside a number (fast checks before the Python loop)
    values = column.to_numpy()
    is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in values), bool, len(values))
    if not is_bool.any() or is_bool.all():
        return
    bools = {bool(v) for v in values[is_bool]}
    for v in values[~is_bool]:
        if isinstance(v, numbers.Number) and not _is_missing(v) and v in (0, 1) and v in bools:
            raise DataError(
                f"column {name!r} mixes {bool(v)!r} (bool) and {v!r} ({type(v).__name__}), "
                "which Python takes for the same value; recode them to one label"
            )


def _check_lookalikes(name, labels: list) -> None:
    seen: dict[str, object] = {}
    for v in labels:
        key = text_key(v)
        if key in seen and isinstance(v, str) and isinstance(seen[key], str):
            raise DataError(
                f"column {name!r} holds {seen[key]!r} and {v!r}, which differ only in spaces "
                f"around the text; strip them (df[{name!r}].str.strip()) or recode them to one "
                "label"
            )
        if key in seen:
            raise DataError(
                f"column {name!r} mixes {seen[key]!r} ({type(seen[key]).__name__}) and {v!r} "
                f"({type(v).__name__}), which read the same as text; recode them to one label"
            )
        seen[key] = v


def _whole_floats_to_int(labels: list) -> list:
    if labels and all(
        isinstance(v, float) and not isinstance(v, bool) and v.is_integer() for v in labels
    ):
        return [int(v) for v in labels]
    return labels


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _plain_values(values, dtype) -> list:
    """Values of an Index or array as a list, float32 values as written."""
    values = values.to_list() if isinstance(values, pd.Index) else list(np.asarray(values, object))
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if isinstance(dtype, pd.SparseDtype):
        dtype = dtype.subtype
    if dtype.kind == "f" and dtype.itemsize < 8:
        # float32 0.1 is 0.10000000149011612 as a float64: keep the value it
        # was written as (its shortest repr), so a float64 0.1 matches it
        short = np.dtype(getattr(dtype, "numpy_dtype", dtype)).type
        values = [v if _is_missing(v) else float(str(short(v))) for v in values]
    return values


def _factorize(name, column: pd.Series):
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True, sort=False)
    except TypeError:
        bad = next(v for v in column if not _hashable(v))
        raise DataError(
            f"column {name!r} holds {bad!r} of type {type(bad).__name__}, which cannot be a "
            "category label; recode the column to str, int, float or bool labels"
        ) from None
    uniques = _plain_values(uniques, column.dtype)
    return codes, uniques


def _categories_present(column: pd.Series) -> np.ndarray:
    """Which categories of a Categorical column occur in it (flags in category order)."""
    codes = column.array.codes
    seen = np.zeros(len(column.cat.categories) + 1, dtype=bool)  # last: missing (-1)
    for start, stop in row_blocks(codes.shape[0]):
        seen[codes[start:stop]] = True
    return seen[:-1]


def _code_lookup(labels) -> tuple[dict, dict]:
    """Exact (type, label) -> code and text -> code, as prediction matches labels."""
    exact = {(type(label), label): code for code, label in enumerate(labels)}
    by_text = {text_key(label): code for code, label in enumerate(labels)}
    return exact, by_text


def explicit_labels(name, order, where: str | None = None) -> list:
    """The labels of ``categories=`` for one column (or others given in order), checked.

    ``where`` names them in the errors (default: ``categories= for column
    'name'``).
    """
    where = where or f"categories= for column {name!r}"
    if isinstance(order, (str, bytes)) or not isinstance(order, Iterable):
        raise DataError(
            f"{where} must be a list of labels, got {order!r}; "
            f"write categories={{{name!r}: [label, ...]}}"
        )
    labels = []
    for v in order:
        if _is_missing(v):
            raise DataError(
                f"{where} holds the missing value {v!r}; list only "
                "real answers (missing answers need no category)"
            )
        labels.append(_column_label(name, v))
    if not labels:
        raise DataError(f"{where} is empty; list its labels in order")
    seen = set()
    for v in labels:
        if (type(v), v) in seen:
            raise DataError(f"{where} repeats the label {v!r}; list each label once")
        seen.add((type(v), v))
    _check_finite(name, labels)
    _check_lookalikes(name, labels)
    return labels


def _learn_indicator(name, column: pd.Series, order, max_categories: int) -> Indicator:
    ordered = False
    skipped: list = []
    if order is not None:
        labels = explicit_labels(name, order)
        exact, by_text = _code_lookup(labels)
        _, uniques = _factorize(name, column)
        check_bool_number_mix(name, column, uniques)
        for v in uniques:
            if _is_missing(v):
                continue
            label = _column_label(name, v)
            _check_finite(name, [label])
            if (type(label), label) not in exact and text_key(label) not in by_text:
                raise DataError(
                    f"column {name!r} holds {label!r}, which is not among the labels given in "
                    f"categories= ({labels!r}); add it there, or recode it"
                )
        ordered = True
        if len(labels) > max_categories:
            raise DataError(
                f"categories= gives column {name!r} {len(labels)} labels, more than "
                f"max_categories={max_categories}; raise max_categories"
            )
    elif isinstance(column.dtype, pd.CategoricalDtype):
        present = _categories_present(column)
        cats = column.cat.categories
        declared = [_column_label(name, v) for v in _plain_values(cats, cats.dtype)]
        labels = [v for v, used in zip(declared, present) if used]
        ordered = bool(column.cat.ordered)
        if ordered and present.any():
            first, last = np.flatnonzero(present)[[0, -1]]
            skipped = [v for v, used in zip(declared[first:last], present[first:last]) if not used]
        _check_finite(name, labels)
        _check_lookalikes(name, labels)
        if not ordered and all(_is_number(v) for v in labels):
            # an unordered Categorical's order means nothing; numbers have their own
            labels = _sort_labels(labels)
    else:
        _, uniques = _factorize(name, column)
        check_bool_number_mix(name, column, uniques)
        uniques = [v for v in uniques if not _is_missing(v)]
        labels = [_column_label(name, v) for v in uniques]
        _check_finite(name, labels)
        _check_lookalikes(name, labels)
        labels = _sort_labels(_whole_floats_to_int(labels))
    if not labels:
        raise DataError(f"column {name!r} has no answers at all (every value is missing); drop it")
    if len(labels) > max_categories:
        raise DataError(
            f"column {name!r} has {len(labels)} distinct values, more than max_categories="
            f"{max_categories}: it looks continuous. Recode it into categories, or raise "
            "max_categories if it really is categorical"
        )
    if order is None and not ordered:
        apart = set(_apart_codes(labels))
        scale = [v for v in labels if v not in apart]
        # a scale without a middle (-2, -1, 1, 2) has no category 0 to give
        mirrored = {-v for v in scale if _is_number(v) and v < 0} == {
            v for v in scale if _is_number(v) and v > 0
        }
        skipped = [v for v in _integer_gaps(scale) if not (v == 0 and mirrored)]
    if len(labels) == 1:
        warn(
            f"column {name!r} has one category only ({labels[0]!r}); it carries no "
            "information about the classes",
            DataWarning,
        )
    if order is None and not isinstance(column.dtype, pd.CategoricalDtype):
        _warn_negative_codes(name, labels)
    return Indicator(name=name, categories=tuple(labels), ordered=ordered, skipped=tuple(skipped))


def _warn_negative_codes(name, labels: list) -> None:
    """Warn about negative codes apart from a column's other codes (-9 beside 1..5), which
    survey files often use for "don't know" or "refused" (SPSS and Stata missing values
    exported as numbers)."""
    negative = _apart_codes(labels)
    if not negative:
        return
    rest = [v for v in labels if v >= 0]
    shown = ", ".join(map(repr, negative[:5])) + (", ..." if len(negative) > 5 else "")
    warn(
        f"column {name!r} holds {shown} apart from its other codes ({min(rest)!r} to "
        f"{max(rest)!r}); it is a category of the model. If it means a missing answer (as "
        f"-9 or -1 often do), make it missing first (df[{name!r}].mask(df[{name!r}] < 0))",
        DataWarning,
    )


def _apart_codes(labels: list) -> list:
    """The negative codes apart from the other codes of an all-numeric ``labels`` (-9 or
    -1 beside 1..5): none on a scale through or around zero (-2..2; -1/+1 and -2, -1,
    1, 2, whose negatives mirror its positives), nor among negatives only."""
    if not all(_is_number(v) for v in labels):
        return []
    negative = [v for v in labels if v < 0]
    rest = [v for v in labels if v >= 0]
    if not negative or not rest or min(rest) - max(negative) <= 1:
        return []  # none, only negatives, or a scale through zero
    if {-v for v in negative} == set(rest) - {0}:
        return []
    return negative


#: Most missing integers :func:`_integer_gaps` lists (a code such as 99 beside 1..5).
MAX_GAPS = 1000


def _integer_gaps(labels: list) -> list:
    """The integers between the smallest and the largest of integer ``labels`` that are not
    among them (none unless every label is an int)."""
    if len(labels) < 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        return []
    low, high = min(labels), max(labels)
    if high - low + 1 - len(labels) > MAX_GAPS:
        return []
    present = set(labels)
    return [v for v in range(low, high + 1) if v not in present]


def learn_indicators(
    df: pd.DataFrame,
    categories: Mapping[Hashable, Sequence] | None = None,
    max_categories: int = MAX_CATEGORIES,
) -> list[Indicator]:
    """Learn the indicators (names and category labels) of a data frame."""
    check_frame(df)
    if categories is not None and not isinstance(categories, Mapping):
        raise TypeError(
            "categories= maps column names to their labels in order, e.g. "
            f"categories={{'q1': ['low', 'mid', 'high']}}; got a {type(categories).__name__}"
        )
    categories = dict(categories or {})
    unknown = [c for c in categories if c not in df.columns]
    if unknown:
        raise DataError(
            f"categories= names column(s) {unknown!r} that are not in the data; "
            f"the columns are {list(df.columns)!r}"
        )
    return [
        _learn_indicator(name, _column_values(df, name), categories.get(name), max_categories)
        for name in df.columns
    ]


def answered_only_where_weightless(name) -> DataError:
    """The error for a column whose answers are all in rows of weight 0."""
    return DataError(
        f"column {name!r} has answers only in rows of weight 0, which do not count in the "
        "fit; drop the column, or give those rows a positive weight"
    )


def check_frame(df) -> None:
    """Refuse what cannot be a table of survey answers."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame with one column per indicator, got "
            f"{type(df).__name__}; wrap arrays with pandas.DataFrame(...)"
        )
    if df.shape[1] == 0:
        raise DataError("the data frame has no columns: give one column per indicator")
    if df.shape[0] == 0:
        raise DataError("the data frame has no rows: there is nothing to fit")
    duplicated = df.columns[df.columns.duplicated()].unique().tolist()
    if duplicated:
        raise DataError(
            f"column name(s) {duplicated!r} appear more than once; give each indicator one column"
        )


def code_dtype(indicators: Sequence[Indicator]):
    """The smallest integer type that holds every code and -1."""
    largest = max(ind.n_categories for ind in indicators)
    return np.int8 if largest <= 127 else np.int16


def _check_encode_args(df, indicators, unknown) -> None:
    if unknown not in ("error", "missing"):
        raise ValueError(f"unknown must be 'error' or 'missing', not {unknown!r}")
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame holding the indicator columns, got {type(df).__name__}"
        )
    absent = [ind.name for ind in indicators if ind.name not in df.columns]
    if absent:
        raise DataError(
            f"indicator column(s) {absent!r} missing from the data; expected columns "
            f"{[ind.name for ind in indicators]!r} (order free, extra columns ignored)"
        )


def encode(df: pd.DataFrame, indicators: Sequence[Indicator], unknown: str = "error") -> np.ndarray:
    """Codes of shape (n_rows, n_indicators); -1 marks a missing answer.

    ``unknown="error"`` refuses a label never seen in fitting; ``"missing"``
    treats it as a missing answer.
    """
    _check_encode_args(df, indicators, unknown)
    dtype = code_dtype(indicators)
    codes = np.empty((df.shape[0], len(indicators)), dtype=dtype)
    for j, ind in enumerate(indicators):
        column = _column_values(df, ind.name)
        for start, stop, part in _column_code_blocks(ind, column, unknown, dtype):
            codes[start:stop, j] = part
    return codes


def encode_patterns(
    df: pd.DataFrame, indicators: Sequence[Indicator], weights, unknown: str = "error"
):
    """``compress(encode(df, indicators, unknown), weights)`` without the codes.

    The same patterns, pattern weights and inverse (and the same errors), but
    the (n_rows, n_indicators) codes are never held: each column is encoded
    block by block straight into one integer key per row (see
    ``lca._compress``). Peak memory beyond the data is about one int32 per
    row plus the pattern table.
    """
    _check_encode_args(df, indicators, unknown)
    dtype = code_dtype(indicators)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (df.shape[0],):
        raise ValueError(f"weights must have shape ({df.shape[0]},), got {weights.shape}")

    def blocks(j):
        ind = indicators[j]
        return _column_code_blocks(ind, _column_values(df, ind.name), unknown, dtype)

    bases = [ind.n_categories + 1 for ind in indicators]
    return pattern_table(df.shape[0], bases, blocks, weights)


def empty_rows(patterns: np.ndarray, inverse: np.ndarray) -> int:
    """Rows with every answer missing (their pattern, all -1, sorts first)."""
    if patterns.shape[0] == 0 or not np.all(patterns[0] < 0):
        return 0
    return rows_in_pattern(inverse, 0)


def _column_code_blocks(ind: Indicator, column: pd.Series, unknown: str, dtype):
    """Codes of one column as ``(start, stop, codes)`` blocks of rows, in order.

    Every way gives the codes (and raises the error) that factorizing the
    whole column and mapping its distinct values in order of appearance
    would: a Categorical from its own codes through a table of its
    categories; other columns block by block, except an object column whose
    values may mix bools and numbers (``check_bool_number_mix`` needs the
    whole column).
    """
    n_rows = column.shape[0]
    if isinstance(column.dtype, pd.CategoricalDtype):
        yield from _categorical_code_blocks(ind, column, unknown, dtype)
    elif column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in (
        "mixed",
        "mixed-integer",
    ):
        yield 0, n_rows, _encode_values(ind, column, unknown, dtype)
    else:
        # no bool beside a number is possible: check_bool_number_mix passes
        for start, stop in row_blocks(n_rows):
            yield start, stop, _encode_values(ind, column.iloc[start:stop], unknown, dtype)


def _categorical_code_blocks(ind: Indicator, column: pd.Series, unknown: str, dtype):
    """Codes of a Categorical column from its own codes, without factorizing."""
    cat = column.array
    n_cats = len(cat.categories)
    # the categories as pd.factorize gives a Categorical's distinct values
    _, values = _factorize(
        ind.name, pd.Series(pd.Categorical.from_codes(range(n_cats), dtype=cat.dtype))
    )
    exact, by_text = _code_lookup(ind.categories)
    lookup = np.full(n_cats + 1, -1, dtype=dtype)  # last: missing (code -1)
    errors = {}
    codes = cat.codes
    for c, value in enumerate(values):

        def first_row(c=c):
            return column.index[int(np.argmax(codes == c))]

        try:
            lookup[c] = _value_code(ind, value, exact, by_text, unknown, first_row)
        except DataError as exc:
            errors[c] = exc
    if errors:
        # raise what the first such category to occur would raise
        bad = np.zeros(n_cats + 1, dtype=bool)
        bad[list(errors)] = True
        for start, stop in row_blocks(codes.shape[0]):
            hit = bad[codes[start:stop]]
            if hit.any():
                raise errors[int(codes[start + int(np.argmax(hit))])]
    for start, stop in row_blocks(codes.shape[0]):
        yield start, stop, lookup[codes[start:stop]]


def _value_code(ind: Indicator, value, exact: dict, by_text: dict, unknown: str, where=None) -> int:
    """Code of one distinct value of a column (-1 if missing); raises if it has none.

    ``where``: a function giving the label of the first row holding ``value``, for the
    message (called only then).
    """
    if _is_missing(value):
        return -1
    try:
        label = python_label(value)
    except DataError:
        label = None  # a type no label can have: never seen in fitting
    code = None
    if label is not None:
        code = exact.get((type(label), label))
        if code is None:
            code = by_text.get(text_key(label))
    if code is None:
        if isinstance(label, float) and math.isinf(label):
            raise DataError(
                f"column {ind.name!r} holds the infinite value {label!r}; recode it to a "
                "category or to missing (NaN)"
            )
        if unknown == "missing":
            return -1
        shown = value if label is None else label
        row = f" (first at row {plain_name(where())!r})" if where is not None else ""
        raise DataError(
            f"column {ind.name!r} holds {shown!r}{row}, a category the model does not have "
            f"(known: {list(ind.categories)!r}); recode it, or pass "
            "unknown='missing' to treat it as a missing answer"
        )
    return code


def _encode_values(ind: Indicator, column: pd.Series, unknown: str, dtype) -> np.ndarray:
    """Codes of (part of) a column: factorize, then map the distinct values in order."""
    fcodes, uniques = _factorize(ind.name, column)
    check_bool_number_mix(ind.name, column, uniques)
    exact, by_text = _code_lookup(ind.categories)
    lookup = np.empty(len(uniques) + 1, dtype=dtype)
    lookup[-1] = -1  # pd.factorize's missing sentinel
    for u, value in enumerate(uniques):

        def first_row(u=u):
            return column.index[int(np.argmax(fcodes == u))]

        lookup[u] = _value_code(ind, value, exact, by_text, unknown, first_row)
    return lookup[fcodes]


def compress(codes: np.ndarray, weights: np.ndarray):
    """Distinct answer patterns with summed weights.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_indicators)
        Category codes, -1 for missing.
    weights : ndarray of shape (n_rows,)

    Returns
    -------
    patterns : ndarray of shape (n_patterns, n_indicators), int16
        Distinct rows of ``codes`` in lexicographic order (so the result does
        not depend on the order of the rows).
    pattern_weights : ndarray of shape (n_patterns,)
    inverse : ndarray of shape (n_rows,), int32 (int64 beyond 2**31 - 1 patterns)
        ``patterns[inverse]`` equals ``codes``.
    """
    n_rows, n_indicators = codes.shape
    bases = [int(codes[:, j].max()) + 2 if n_rows else 1 for j in range(n_indicators)]
    return pattern_table(n_rows, bases, array_blocks(codes), weights)
