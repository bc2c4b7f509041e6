"""Distinct answer patterns of category codes, in row blocks.

Each row's codes are folded, one column at a time, into one integer key in
mixed radix (digit ``code + 1``, the first column most significant), so that
keys sort as the rows do lexicographically. The key is an int32 array of one
value per row, updated in place block by block: no (rows x columns) array and
no int64 array of one value per row is made unless the data need it. When
the next column would overflow the key, the keys are replaced by their ranks
among the distinct keys so far (which keeps their order) and folding goes on.
The distinct keys are then found (a table of flags when the key range is
small, hashing otherwise), the keys are overwritten by their ranks (the
inverse, looked up in a hash table of the distinct keys), the patterns are
decoded from the distinct keys, and the weights are added per pattern in row
order (``np.add.at``, so bit for bit what ``np.bincount`` gives).

Plain NumPy (and one pandas hash table); no Python object per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

#: Rows per block of the per-row loops (bounds their temporaries).
BLOCK_ROWS = 1 << 18
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

#: ``column_blocks(j)`` yields ``(start, stop, codes)`` covering the rows in
#: order; codes are in ``[-1, bases[j] - 2]``.
ColumnBlocks = Callable[[int], Iterable[tuple[int, int, np.ndarray]]]


def row_blocks(n_rows: int, block_rows: int | None = None):
    """``(start, stop)`` of consecutive row blocks (``BLOCK_ROWS`` rows by default)."""
    block_rows = block_rows or BLOCK_ROWS
    for start in range(0, n_rows, block_rows):
        yield start, min(start + block_rows, n_rows)


def array_blocks(codes: np.ndarray, block_rows: int | None = None) -> ColumnBlocks:
    """``column_blocks`` of a (rows x columns) array of codes."""

    def blocks(j: int):
        for start, stop in row_blocks(codes.shape[0], block_rows):
            yield start, stop, codes[start:stop, j]

    return blocks


def _dense_limit(n_rows: int) -> int:
    # a flag (1 byte) per possible key: at most 1 byte a row
    return max(n_rows, 1 << 22)


def rank_keys(key: np.ndarray, span: int, block_rows: int | None = None, dense_limit=None):
    """Replace ``key`` (values in ``[0, span)``) in place by its rank among its distinct values.

    Returns the distinct values, sorted, in ``key``'s dtype. They are found
    with a table of flags when ``span <= dense_limit``, else by hashing; the
    ranks are looked up in a hash table of the distinct values, block by
    block (no temporary of one value per row).
    """
    n_rows = key.shape[0]
    if dense_limit is None:
        dense_limit = _dense_limit(n_rows)
    if span <= dense_limit:
        present = np.zeros(span, dtype=bool)
        for start, stop in row_blocks(n_rows, block_rows):
            present[key[start:stop]] = True
        uniques = np.flatnonzero(present).astype(key.dtype)
        del present
    else:
        uniques = np.sort(pd.unique(key))
    index = pd.Index(uniques)
    for start, stop in row_blocks(n_rows, block_rows):
        part = key[start:stop]
        part[:] = index.get_indexer(part)
    return uniques


def pattern_table(
    n_rows: int,
    bases: Sequence[int],
    column_blocks: ColumnBlocks,
    weights: np.ndarray,
    block_rows: int | None = None,
    dense_limit: int | None = None,
):
    """Distinct rows of codes (lexicographic order), their summed weights and the inverse.

    Parameters
    ----------
    n_rows : int
    bases : sequence of int
        Per column, more than its largest code + 1 (its number of categories
        + 1 does).
    column_blocks : callable
        ``column_blocks(j)`` yields ``(start, stop, codes)`` for rows
        ``start:stop``, in order; called once per column, in column order.
    weights : ndarray of shape (n_rows,)
    block_rows, dense_limit : int
        Rows per block; largest key range handled by a table of flags rather
        than hashing (default: the number of rows, at least 2**22). Results do not
        depend on them.

    Returns
    -------
    patterns : ndarray of shape (n_patterns, n_columns), int16
    pattern_weights : ndarray of shape (n_patterns,), float64
        ``np.bincount(inverse, weights)``, added in row order as it does.
    inverse : ndarray of shape (n_rows,), int32 (int64 beyond 2**31 - 1 patterns)
        ``patterns[inverse]`` equals the codes.
    """
    n_columns = len(bases)
    weights = np.asarray(weights, dtype=float)
    if n_rows == 0:
        return np.empty((0, n_columns), dtype=np.int16), np.zeros(0), np.empty(0, dtype=np.int32)
    key = np.empty(n_rows, dtype=np.int32)
    span = 1
    # stages[s] = (sorted keys of the previous stage or None, bases folded in stage s)
    stages: list[tuple[np.ndarray | None, list[int]]] = [(None, [])]
    for j, base in enumerate(bases):
        base = int(base)
        limit = INT32_MAX if key.dtype == np.int32 else INT64_MAX
        if span * base > limit:
            uniques = rank_keys(key, span, block_rows, dense_limit)
            span = len(uniques)
            stages.append((uniques, []))
            if span * base > INT32_MAX and key.dtype == np.int32:
                key = key.astype(np.int64)
        for start, stop, codes in column_blocks(j):
            part = key[start:stop]
            if j == 0:
                part[:] = codes
            else:
                part *= base
                part += codes
            part += 1
        stages[-1][1].append(base)
        span *= base
    uniques = rank_keys(key, span, block_rows, dense_limit)
    n_patterns = len(uniques)
    inverse = key if key.dtype == np.int32 or n_patterns > INT32_MAX else key.astype(np.int32)
    del key

    patterns = np.empty((n_patterns, n_columns), dtype=np.int16)
    value = uniques.astype(np.int64)
    j = n_columns
    for previous, stage_bases in reversed(stages):
        for base in reversed(stage_bases):
            j -= 1
            value, digit = np.divmod(value, base)
            patterns[:, j] = digit - 1
        if previous is not None:
            value = previous[value].astype(np.int64)

    pattern_weights = np.zeros(n_patterns)
    for start, stop in row_blocks(n_rows, block_rows):
        np.add.at(pattern_weights, inverse[start:stop], weights[start:stop])
    return patterns, pattern_weights, inverse


def rows_in_pattern(inverse: np.ndarray, pattern: int, block_rows: int | None = None) -> int:
    """How many rows have the given pattern (``np.count_nonzero(inverse == pattern)``)."""
    return sum(
        int(np.count_nonzero(inverse[start:stop] == pattern))
        for start, stop in row_blocks(inverse.shape[0], block_rows)
    )
