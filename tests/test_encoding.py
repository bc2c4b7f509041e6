"""Labels <-> codes, input checks and pattern compression."""

import warnings

import numpy as np
import pandas as pd
import pytest

import lca
from lca.encoding import DataError, compress, encode, learn_indicators


def test_labels_sorted_and_categorical_order_kept():
    df = pd.DataFrame(
        {
            "s": ["b", "a", "c", None],
            "i": [3, 1, 2, 1],
            "c": pd.Categorical(["lo", "hi", "mid", "hi"], categories=["lo", "mid", "hi", "x"]),
            "b": [True, False, True, pd.NA],
        }
    )
    s, i, c, b = learn_indicators(df)
    assert s.categories == ("a", "b", "c")
    assert i.categories == (1, 2, 3)
    # Categorical order kept; the unused category "x" is left out
    assert c.categories == ("lo", "mid", "hi")
    assert b.categories == (False, True)
    codes = encode(df, [s, i, c, b])
    assert codes.tolist() == [[1, 2, 0, 1], [0, 0, 2, 0], [2, 1, 1, 1], [-1, 0, 2, -1]]


def test_whole_floats_become_int_labels_and_missing_stays():
    df = pd.DataFrame({"q": [1.0, 2.0, np.nan, 3.0]})
    (q,) = learn_indicators(df)
    assert q.categories == (1, 2, 3)
    assert all(type(v) is int for v in q.categories)
    assert encode(df, [q])[:, 0].tolist() == [0, 1, -1, 2]


def test_predict_maps_other_types_when_text_agrees():
    (q,) = learn_indicators(pd.DataFrame({"q": [1, 2, 3]}))
    new = pd.DataFrame({"q": ["2", "3", "1", None]})
    assert encode(new, [q])[:, 0].tolist() == [1, 2, 0, -1]
    new = pd.DataFrame({"q": [2.0, 3.0, np.nan]})
    assert encode(new, [q])[:, 0].tolist() == [1, 2, -1]


def test_unknown_category_error_names_column_and_value():
    (q,) = learn_indicators(pd.DataFrame({"q": ["yes", "no"]}))
    with pytest.raises(DataError, match=r"column 'q' holds 'maybe'.*unknown='missing'"):
        encode(pd.DataFrame({"q": ["yes", "maybe"]}), [q])
    codes = encode(pd.DataFrame({"q": ["yes", "maybe"]}), [q], unknown="missing")
    assert codes[:, 0].tolist() == [1, -1]


def test_missing_indicator_column_is_named():
    inds = learn_indicators(pd.DataFrame({"a": [1, 2], "b": [1, 2]}))
    with pytest.raises(DataError, match=r"\['b'\] missing"):
        encode(pd.DataFrame({"a": [1, 2]}), inds)


@pytest.mark.parametrize(
    ("frame", "pattern"),
    [
        (pd.DataFrame(), "no columns"),
        (pd.DataFrame({"a": []}), "no rows"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "more than once"),
        (pd.DataFrame({"a": [1, 2], "b": [np.nan, np.nan]}), "column 'b' has no answers"),
        (pd.DataFrame({"a": [1, "1", 2]}), "column 'a' mixes 1"),
        (
            pd.DataFrame({"a": ["Good ", "Good", "Bad"]}),
            r"column 'a' holds 'Good ' and 'Good', which differ only in spaces.*\.str\.strip\(\)",
        ),
        (pd.DataFrame({"a": [1.0, np.inf]}), "column 'a' holds the infinite value inf"),
        (pd.DataFrame({"age": np.arange(80)}), "column 'age' has 80 distinct values"),
    ],
)
def test_bad_frames_are_refused_with_a_clear_message(frame, pattern):
    with pytest.raises(DataError, match=pattern):
        learn_indicators(frame)


def test_non_dataframe_refused():
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        learn_indicators(np.zeros((3, 2)))


def test_single_category_column_warns():
    with pytest.warns(UserWarning, match="column 'a' has one category only"):
        learn_indicators(pd.DataFrame({"a": [1, 1, np.nan], "b": [1, 2, 1]}))


def test_explicit_categories_fix_order():
    df = pd.DataFrame({"a": ["lo", "hi", "mid"]})
    (a,) = learn_indicators(df, categories={"a": ["lo", "mid", "hi"]})
    assert a.categories == ("lo", "mid", "hi")
    with pytest.raises(DataError, match="not in the data"):
        learn_indicators(df, categories={"zzz": [1]})


def test_compress_is_exact_and_order_free():
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 3, size=(2000, 5)).astype(np.int8)
    w = rng.uniform(0, 2, 2000)
    patterns, pw, inv = compress(codes, w)
    assert np.array_equal(patterns[inv], codes)
    assert len(np.unique(codes, axis=0)) == len(patterns)
    np.testing.assert_allclose(pw.sum(), w.sum())
    np.testing.assert_allclose(pw, np.bincount(inv, weights=w))
    # lexicographic, hence independent of row order
    perm = rng.permutation(2000)
    patterns2, pw2, inv2 = compress(codes[perm], w[perm])
    assert np.array_equal(patterns, patterns2)
    np.testing.assert_allclose(pw, pw2, rtol=1e-12)
    assert np.array_equal(inv[perm], inv2)


def test_compress_many_indicators_beyond_int64_key():
    rng = np.random.default_rng(1)
    codes = rng.integers(-1, 40, size=(500, 30)).astype(np.int8)
    codes[250:] = codes[:250]
    patterns, _, inv = compress(codes, np.ones(500))
    assert np.array_equal(patterns[inv], codes)
    assert len(patterns) == len(np.unique(codes, axis=0))


def test_negative_codes_apart_from_the_others_are_warned_about():
    """-9 beside 1..5 is often a missing-value code exported as a number: kept as a
    category, with a warning; a scale through zero or of negatives only is not warned."""
    with pytest.warns(UserWarning, match=r"column 'q' holds -9, -8 apart from its other codes"):
        (ind,) = learn_indicators(pd.DataFrame({"q": [1, 2, 5, -9, -8, 3]}))
    assert ind.categories == (-9, -8, 1, 2, 3, 5)
    with pytest.warns(lca.DataWarning, match=r"holds -1 apart from its other codes \(1 to 5\)"):
        learn_indicators(pd.DataFrame({"q": [-1, 1, 2, 3, 4, 5]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learn_indicators(pd.DataFrame({"q": [-2, -1, 0, 1, 2]}))
        learn_indicators(pd.DataFrame({"q": [-1, 0, 1, 2]}))  # -1 next to 0
        learn_indicators(pd.DataFrame({"q": [-3, -2, -1]}))
        learn_indicators(pd.DataFrame({"q": [-1, 1, 1]}))  # a -1/+1 item
        (ind,) = learn_indicators(pd.DataFrame({"q": [-2, -1, 1, 2]}))  # no middle
        assert ind.skipped == ()  # and no 0 to give
        # a continuous column is refused before any warning about its codes
        with pytest.raises(DataError, match="199 distinct values"):
            learn_indicators(pd.DataFrame({"q": [-5, *range(2, 200)]}))
    # the codes of the scale without the one apart: nobody gave 3 and 4, not -8..0
    with pytest.warns(lca.DataWarning, match="holds -9"):
        (ind,) = learn_indicators(pd.DataFrame({"q": [-9, 1, 2, 5]}))
    assert ind.skipped == (3, 4)
