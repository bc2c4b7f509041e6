"""The low-memory encoding paths give what the plain ones give.

- ``lca._compress.pattern_table`` (row blocks, keys folded column by column,
  ranked when they would overflow) against a plain NumPy reference;
- ``encode_patterns`` against ``compress(encode(...))``;
- a Categorical column encoded from its own codes against the same values
  encoded through ``pd.factorize`` (an object column), errors included;
- other columns block by block against one block;
- the fit statistics' sums block by block against one block.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from lca import LatentClassModel, _compress, criteria, datasets
from lca.encoding import (
    DataError,
    Indicator,
    compress,
    empty_rows,
    encode,
    encode_patterns,
    learn_indicators,
)


def reference_table(codes, weights):
    """Distinct rows (lexicographic), their summed weights and the inverse: np.unique."""
    patterns, inverse = np.unique(codes.astype(np.int64), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return patterns.astype(np.int16), np.bincount(inverse, weights=weights), inverse


def assert_same_table(got, ref, codes):
    patterns, pw, inverse = got
    assert patterns.dtype == np.int16
    np.testing.assert_array_equal(patterns, ref[0])
    # bit for bit: summed in row order as np.bincount does
    np.testing.assert_array_equal(pw.view(np.int64), ref[1].view(np.int64))
    np.testing.assert_array_equal(inverse, ref[2])
    np.testing.assert_array_equal(patterns[inverse], codes)


@pytest.fixture
def small_blocks(monkeypatch):
    """Many row blocks on small data."""
    monkeypatch.setattr(_compress, "BLOCK_ROWS", 37)


# -- pattern_table -------------------------------------------------------------------
@pytest.mark.parametrize("dense_limit", [0, 10**6])  # hashing / table of flags
@pytest.mark.parametrize("block_rows", [None, 1, 64, 333])
def test_pattern_table_matches_numpy_reference(dense_limit, block_rows):
    rng = np.random.default_rng(0)
    n_cats = [4, 2, 7, 3, 5]
    codes = np.column_stack([rng.integers(-1, c, 1000) for c in n_cats]).astype(np.int8)
    codes[::9] = -1  # rows with every answer missing
    w = rng.uniform(0, 3, 1000)
    w[::5] = 0.0
    got = _compress.pattern_table(
        1000,
        [c + 1 for c in n_cats],
        _compress.array_blocks(codes, block_rows),
        w,
        block_rows=block_rows,
        dense_limit=dense_limit,
    )
    assert got[2].dtype == np.int32
    assert_same_table(got, reference_table(codes, w), codes)


@pytest.mark.parametrize("dense_limit", [0, 1 << 22])
def test_pattern_table_ranks_keys_that_would_overflow(dense_limit):
    # 45 columns of 4 codes: 5**45 overflows int32 and int64, so the keys are
    # replaced by their ranks several times on the way
    rng = np.random.default_rng(1)
    codes = rng.integers(-1, 4, size=(600, 45)).astype(np.int8)
    codes[300:] = codes[rng.integers(0, 300, 300)]  # repeated rows
    w = rng.uniform(0, 1, 600)
    got = _compress.pattern_table(
        600, [5] * 45, _compress.array_blocks(codes, 50), w, block_rows=50, dense_limit=dense_limit
    )
    assert_same_table(got, reference_table(codes, w), codes)


def test_pattern_table_widens_the_key_to_int64(monkeypatch):
    """More distinct keys than int32 holds (over 2**31 patterns) take an int64 key: made
    to happen on small data by lowering the int32 limit."""
    monkeypatch.setattr(_compress, "INT32_MAX", 1000)
    rng = np.random.default_rng(5)
    codes = rng.integers(-1, 6, size=(3000, 6)).astype(np.int8)
    w = rng.uniform(0, 2, 3000)
    got = _compress.pattern_table(
        3000, [7] * 6, _compress.array_blocks(codes, 256), w, block_rows=256
    )
    assert len(got[0]) > 1000 and got[2].dtype == np.int64  # the widened key is the inverse
    assert_same_table(got, reference_table(codes, w), codes)


def test_pattern_table_int16_codes_and_large_bases():
    rng = np.random.default_rng(2)
    codes = rng.integers(-1, 300, size=(400, 4)).astype(np.int16)
    codes[:, 1] = rng.integers(-1, 2, 400)
    w = np.ones(400)
    got = _compress.pattern_table(400, [301, 3, 301, 301], _compress.array_blocks(codes, 33), w)
    assert_same_table(got, reference_table(codes, w), codes)


def test_rank_keys_is_numpy_unique_inverse():
    rng = np.random.default_rng(3)
    for span, dense_limit in ((50, 10**6), (50, 0), (10**9, 0)):
        key = rng.integers(0, span, 2000).astype(np.int32)
        uniques, inverse = np.unique(key, return_inverse=True)
        got = _compress.rank_keys(key, span, block_rows=123, dense_limit=dense_limit)
        np.testing.assert_array_equal(got, uniques)
        np.testing.assert_array_equal(key, inverse)  # replaced in place


def test_empty_table_and_rows_in_pattern():
    patterns, pw, inverse = _compress.pattern_table(0, [3, 3], _compress.array_blocks(None), [])
    assert patterns.shape == (0, 2) and pw.shape == (0,) and inverse.shape == (0,)
    inverse = np.array([0, 2, 0, 1, 0], dtype=np.int32)
    assert _compress.rows_in_pattern(inverse, 0, block_rows=2) == 3
    assert _compress.rows_in_pattern(inverse, 1) == 1


def test_compress_matches_reference_over_many_blocks(small_blocks):
    rng = np.random.default_rng(4)
    codes = rng.integers(-1, 3, size=(500, 6)).astype(np.int8)
    w = rng.uniform(0, 2, 500)
    assert_same_table(compress(codes, w), reference_table(codes, w), codes)


# -- encode_patterns ---------------------------------------------------------------------
def survey(n=400, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["lo", "mid", "hi", None], dtype=object)
    return pd.DataFrame(
        {
            "cat": pd.Categorical.from_codes(
                rng.integers(-1, 3, n), categories=["lo", "mid", "hi", "unused"]
            ),
            "text": labels[rng.integers(0, 4, n)],
            "num": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 6, n).astype(float)),
            "flag": pd.array(rng.integers(0, 2, n).astype(bool), dtype="boolean"),
            "int": rng.integers(0, 7, n),
        }
    )


@pytest.mark.parametrize("blocks", [None, 37])
def test_encode_patterns_is_compress_of_encode(blocks, monkeypatch):
    if blocks:
        monkeypatch.setattr(_compress, "BLOCK_ROWS", blocks)
    df = survey()
    df.loc[df.index[:7], :] = None  # rows with every answer missing
    inds = learn_indicators(df)
    w = np.random.default_rng(1).uniform(0, 2, len(df))
    codes = encode(df, inds)
    ref = compress(codes, w)
    got = encode_patterns(df, inds, w)
    assert_same_table(got, ref, codes)
    assert_same_table(ref, reference_table(codes, w), codes)
    assert empty_rows(got[0], got[2]) == int(np.all(codes < 0, axis=1).sum()) == 7
    # and the codes do not depend on the blocks either
    monkeypatch.setattr(_compress, "BLOCK_ROWS", 10**6)
    np.testing.assert_array_equal(encode(df, inds), codes)


def test_empty_rows_without_an_all_missing_row():
    codes = np.array([[0, -1], [-1, 0], [0, 0]], dtype=np.int8)
    patterns, _, inverse = compress(codes, np.ones(3))
    assert empty_rows(patterns, inverse) == 0


def test_encode_patterns_refuses_what_encode_refuses():
    inds = learn_indicators(pd.DataFrame({"a": ["x", "y"]}))
    for call in (
        lambda df: encode(df, inds),
        lambda df: encode_patterns(df, inds, np.ones(len(df))),
    ):
        with pytest.raises(DataError, match="holds 'z'"):
            call(pd.DataFrame({"a": ["x", "z"]}))
        with pytest.raises(DataError, match=r"\['a'\] missing"):
            call(pd.DataFrame({"b": ["x"]}))
    with pytest.raises(ValueError, match="weights must have shape"):
        encode_patterns(pd.DataFrame({"a": ["x"]}), inds, np.ones(2))


def test_fit_keeps_an_int32_inverse_and_counts_empty_rows():
    df = survey(300, seed=2)[["cat", "text", "num"]]
    df.iloc[:5] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LatentClassModel(2, n_starts=1, max_iter=20, random_state=0).fit(df)
    codes = encode(df, m.indicators_)
    assert m._fit_inverse.dtype == np.int32
    np.testing.assert_array_equal(m._patterns[m._fit_inverse], codes)
    assert m.n_empty_rows_ == int(np.all(codes < 0, axis=1).sum()) >= 5


def test_unweighted_fit_holds_no_unit_vector_and_equals_a_fit_with_unit_weights(
    small_blocks, monkeypatch
):
    """weights=None sums a read-only view of one 1.0 over many blocks: the pattern
    weights, and so every fitted number, are the bits of a fit with np.ones(n)."""
    df = survey(700, seed=3)[["cat", "text", "num"]]
    seen = []
    original = _compress.pattern_table

    def spy(n_rows, bases, blocks, weights):
        seen.append(np.asarray(weights))
        return original(n_rows, bases, blocks, weights)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr("lca.encoding.pattern_table", spy)
        plain = LatentClassModel(3, n_starts=2, max_iter=30, random_state=0).fit(df)
        ones = LatentClassModel(3, n_starts=2, max_iter=30, random_state=0).fit(
            df, weights=np.ones(len(df))
        )
    assert seen[0].strides == (0,) and not seen[0].flags.writeable
    assert seen[1].strides == (8,)
    np.testing.assert_array_equal(plain._pattern_weights, ones._pattern_weights)
    np.testing.assert_array_equal(plain._log_cond, ones._log_cond)
    assert plain.loglik_ == ones.loglik_ and plain.n_obs_ == ones.n_obs_ == 700.0
    assert plain._n_weighted_rows == ones._n_weighted_rows == 700


# -- a Categorical from its own codes == through pd.factorize ------------------------------
def both_paths(column, indicator, unknown="error"):
    """Codes of a Categorical column, and of the same values as an object column."""
    cat = encode(pd.DataFrame({"q": column}), [indicator], unknown=unknown)[:, 0]
    values = pd.Series(np.asarray(column, dtype=object)).where(column.notna(), None)
    obj = encode(pd.DataFrame({"q": values}), [indicator], unknown=unknown)[:, 0]
    return cat, obj


def error_of(call):
    try:
        call()
    except DataError as exc:
        return str(exc)
    return None


def test_categorical_codes_match_factorize_path(small_blocks):
    rng = np.random.default_rng(5)
    (q,) = learn_indicators(
        pd.DataFrame({"q": pd.Categorical(["b", "c", "a"], categories=["c", "a", "b"])})
    )
    assert q.categories == ("c", "a", "b")
    # another order, unused categories, missing values, several blocks
    column = pd.Series(
        pd.Categorical.from_codes(rng.integers(-1, 3, 300), categories=["a", "b", "c", "never"])
    )
    cat, obj = both_paths(column, q)
    np.testing.assert_array_equal(cat, obj)
    assert set(cat.tolist()) == {-1, 0, 1, 2}
    expected = np.array([q.categories.index(v) if isinstance(v, str) else -1 for v in column])
    np.testing.assert_array_equal(cat, expected)


def test_categorical_other_label_types_map_as_factorize_does():
    (q,) = learn_indicators(pd.DataFrame({"q": [1, 2, 3]}))
    for categories in (["3", "1", "2"], [3.0, 1.0, 2.0], np.array([2, 3, 1], dtype=np.int8)):
        column = pd.Series(pd.Categorical.from_codes([0, 1, 2, -1, 1], categories=categories))
        cat, obj = both_paths(column, q)
        np.testing.assert_array_equal(cat, obj)
    (f,) = learn_indicators(pd.DataFrame({"q": [0.1, 0.25]}))
    column = pd.Series(
        pd.Categorical.from_codes([1, 0, -1], categories=np.array([0.25, 0.1], dtype=np.float32))
    )
    cat = encode(pd.DataFrame({"q": column}), [f])[:, 0]
    np.testing.assert_array_equal(cat, [0, 1, -1])  # float32 0.1 read as written
    plain = pd.DataFrame({"q": np.array([0.1, 0.25, np.nan], dtype=np.float32)})
    np.testing.assert_array_equal(encode(plain, [f])[:, 0], cat)


@pytest.mark.parametrize("unknown", ["error", "missing"])
def test_categorical_unknown_labels_raise_as_factorize_path(unknown, small_blocks):
    (q,) = learn_indicators(pd.DataFrame({"q": ["a", "b"]}))
    # two unknown categories; "y" (listed second) occurs first, in a later block
    codes = np.zeros(200, dtype=np.int64)
    codes[90] = 3
    codes[150] = 2
    column = pd.Series(pd.Categorical.from_codes(codes, categories=["a", "b", "x", "y"]))
    frame = pd.DataFrame({"q": column})
    obj = pd.DataFrame({"q": column.astype(object)})
    if unknown == "error":
        message = error_of(lambda: encode(frame, [q]))
        assert message is not None and "holds 'y'" in message
        assert message == error_of(lambda: encode(obj, [q]))
        assert message == error_of(lambda: encode_patterns(frame, [q], np.ones(200)))
    else:
        cat, via_object = both_paths(column, q, unknown="missing")
        np.testing.assert_array_equal(cat, via_object)
        assert cat[90] == cat[150] == -1
    # an unknown category that never occurs is no error
    unused = pd.Series(pd.Categorical.from_codes([0, 1, -1], categories=["a", "b", "x"]))
    cat, obj = both_paths(unused, q, unknown=unknown)
    np.testing.assert_array_equal(cat, [0, 1, -1])
    np.testing.assert_array_equal(obj, [0, 1, -1])


def test_categorical_infinite_and_odd_categories_raise_as_factorize_path():
    (q,) = learn_indicators(pd.DataFrame({"q": [1.0, 2.0]}))
    column = pd.Series(pd.Categorical([1.0, np.inf, 2.0], categories=[1.0, 2.0, np.inf]))
    for unknown in ("error", "missing"):
        cat = error_of(lambda u=unknown: encode(pd.DataFrame({"q": column}), [q], unknown=u))
        obj = error_of(
            lambda u=unknown: encode(pd.DataFrame({"q": column.astype(object)}), [q], unknown=u)
        )
        assert cat is not None and "infinite value inf" in cat
        assert cat == obj
    (d,) = learn_indicators(pd.DataFrame({"q": ["a", "b"]}))
    stamps = pd.Series(pd.Categorical(pd.to_datetime(["2020-01-01", "2021-01-01"])))
    cat = error_of(lambda: encode(pd.DataFrame({"q": stamps}), [d]))
    assert cat is not None and "Timestamp" in cat
    assert cat == error_of(lambda: encode(pd.DataFrame({"q": stamps.astype(object)}), [d]))


def test_learn_indicators_categorical_presence_over_blocks(small_blocks):
    codes = np.full(500, 2)
    codes[::3] = -1
    codes[400] = 0  # "a" occurs once, late
    column = pd.Categorical.from_codes(codes, categories=["a", "b", "c", "d"])
    (q,) = learn_indicators(pd.DataFrame({"q": column}))
    assert q.categories == ("a", "c")


# -- other columns block by block == in one block ----------------------------------------
def test_first_unknown_value_named_across_blocks(small_blocks):
    (q,) = learn_indicators(pd.DataFrame({"q": [1.0, 2.0]}))
    values = np.ones(300)
    values[250] = 7.0
    values[100] = 9.0  # occurs first: named
    for column in (values, values.astype(object), pd.array(values, dtype="Float64")):
        message = error_of(lambda c=column: encode(pd.DataFrame({"q": c}), [q]))
        assert message is not None and "holds 9" in message, message
    values[100] = np.inf  # the infinite value comes first now
    message = error_of(lambda: encode(pd.DataFrame({"q": values}), [q], unknown="missing"))
    assert message is not None and "infinite" in message


def test_bool_beside_number_in_other_blocks_is_refused(small_blocks):
    # the whole column is checked, not block by block
    ind = Indicator(name="q", categories=(False, True))
    values = np.array([True] * 100 + [False] * 100 + [1], dtype=object)
    with pytest.raises(DataError, match=r"column 'q' mixes True \(bool\) and 1 \(int\)"):
        encode(pd.DataFrame({"q": values}), [ind])
    with pytest.raises(DataError, match=r"column 'q' mixes True \(bool\) and 1 \(int\)"):
        encode_patterns(pd.DataFrame({"q": values}), [ind], np.ones(len(values)))
    values[:200] = np.True_  # numpy's bool, which pandas merges with the 1 into one value
    with pytest.raises(DataError, match=r"column 'q' mixes True \(bool\) and 1 \(int\)"):
        encode(pd.DataFrame({"q": values}), [ind])


def test_pattern_sums_block_by_block_equal_one_block(monkeypatch):
    """Blocks of 9 patterns (the last one short, zero-weight and incomplete patterns
    among them) add up to the sums over the whole table at once."""
    df = datasets.load_election().iloc[:, :12]  # the 12 candidate items, with missing answers
    model = LatentClassModel(3, n_starts=2, random_state=0).fit(df)
    patterns, weights = model._patterns, model._pattern_weights.copy()
    weights[::5] = 0.0  # patterns nobody has
    post, ll = model._pattern_posteriors(patterns)
    complete = np.all(patterns >= 0, axis=1)
    assert 0 < complete.sum() < len(complete) and len(weights) % 9
    whole = criteria._block_sums(post, weights, ll, complete)
    monkeypatch.setattr(criteria, "SUMS_BLOCK", 9)
    blocks = criteria.pattern_sums(post, weights, ll, complete)
    assert set(blocks) == set(criteria.SUM_NAMES) == set(whole)
    for name in criteria.SUM_NAMES:
        np.testing.assert_allclose(blocks[name], whole[name], rtol=1e-12, err_msg=name)
    assert blocks["n_obs"] == pytest.approx(weights.sum())
    empty = criteria.pattern_sums(post[:0], weights[:0], ll[:0], complete[:0])
    assert empty["n_obs"] == 0.0 and empty["modal"].shape == (3, 3)
