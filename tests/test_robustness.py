"""Hostile and degenerate input (issue 7): every bad input gets one clear error.

Each test asserts on the message: it must name the column, the value or the
option, and say what to do. Cases already covered by ``test_encoding.py``,
``test_model.py``, ``test_io.py`` and ``test_cli.py`` are not repeated here.

Tests marked ``xfail(strict=True)`` document bugs in modules this file does not
own; each reason says what is wrong. When the bug is fixed the test XPASSes,
which fails the run: remove the marker then.
"""

import json
import math
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lca
from lca.cli import main, read_table
from lca.encoding import compress, encode, learn_indicators

# These tests feed degenerate data on purpose (tiny tables where the model is not
# identified, classes that empty, answers made impossible by maximum likelihood);
# the warnings that say so are expected here. Tests that check a warning is
# raised use pytest.warns, which still sees it.
pytestmark = [
    pytest.mark.filterwarnings("ignore:the model has .* free parameters:UserWarning"),
    pytest.mark.filterwarnings("ignore:class .* is empty:UserWarning"),
    pytest.mark.filterwarnings("ignore:.* row\\(s\\) have answers that are impossible:UserWarning"),
]


@pytest.fixture(scope="module")
def small():
    """A small survey with three indicators of different label types."""
    rng = np.random.default_rng(0)
    n = 120
    return pd.DataFrame(
        {
            "q1": rng.choice(["yes", "no"], n),
            "q2": rng.integers(1, 4, n),
            "q3": rng.choice([True, False], n),
        }
    )


@pytest.fixture(scope="module")
def fitted(small):
    return lca.LatentClassModel(2, n_starts=3).fit(small)


def _fit(data, **options):
    options = {"n_starts": 2, **options}
    return lca.LatentClassModel(**options).fit(data)


# -- data: refused through the public entry points ---------------------------------------


@pytest.mark.parametrize(
    ("data", "weights", "pattern"),
    [
        (pd.DataFrame(index=range(5)), None, "no columns: give one column per indicator"),
        # the weights column is the only column: zero indicators are left
        (pd.DataFrame({"w": [1.0, 2.0]}), "w", "no columns"),
        (pd.DataFrame({"a": pd.Series([], dtype=object)}), None, "no rows"),
        (pd.DataFrame([[1, 2], [2, 1]], columns=["a", "a"]), None, r"\['a'\] appear more"),
    ],
)
def test_empty_and_duplicate_frames_are_refused_by_fit(data, weights, pattern):
    with pytest.raises(lca.DataError, match=pattern):
        lca.LatentClassModel(2).fit(data, weights=weights)


@pytest.mark.parametrize(
    "empty",
    [
        pd.Series([None, None, None], dtype=object),
        pd.array([pd.NA, pd.NA, pd.NA], dtype="Int64"),
        pd.Series([pd.NaT, pd.NaT, pd.NaT]),
        pd.Categorical([None, None, None], categories=["x", "y"]),
        pd.array([None, None, None], dtype="string"),
    ],
    ids=["None", "Int64-NA", "NaT", "Categorical", "string"],
)
def test_a_column_entirely_missing_is_named(empty):
    data = pd.DataFrame({"a": [1, 2, 1], "b": empty})
    with pytest.raises(lca.DataError, match=r"column 'b' has no answers at all.*drop it"):
        _fit(data)


def test_one_category_column_warns_and_the_fit_still_works():
    data = pd.DataFrame({"a": [1, 2, 1, 2, 2], "const": ["same"] * 5})
    with pytest.warns(UserWarning, match=r"column 'const' has one category only \('same'\)"):
        m = _fit(data, n_classes=1)
    assert m.conditional_probs_["const"].loc["same", 1] == pytest.approx(1.0)
    assert m.n_parameters_ == 1  # (K-1) + K (2-1) + K (1-1)


def test_warnings_of_bootstrap_fits_in_threads_point_at_the_users_line():
    """BLRT's bootstrap fits run in joblib's threads, whose stacks lead into joblib: their
    warnings (here: 3 classes on 3 binary items are not identified) point at the line of
    this file that called lca, as the data's own fits do."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.integers(0, 2, (300, 3)), columns=["a", "b", "c"])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        lca.blrt(data, n_classes=3, n_bootstrap=4, n_jobs=2, random_state=0)
    mine = [r for r in record if "not identified" in str(r.message)]
    assert len(mine) > 2  # the data's 3-class fit and those of the samples
    assert all(r.filename == __file__ for r in mine), {r.filename for r in mine}


def test_categories_must_map_columns_to_labels():
    data = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 2]})
    with pytest.raises(TypeError, match=r"categories= maps column names.*got a list"):
        _fit(data, categories=["a"])


def test_saving_into_a_folder_that_does_not_exist_names_the_folder(tmp_path):
    model = _fit(pd.DataFrame({"a": ["x", "y", "x", "y"], "b": [1, 2, 2, 1]}), n_classes=1)
    target = tmp_path / "nowhere" / "m.json"
    with pytest.raises(FileNotFoundError, match=r"the folder .*nowhere does not exist"):
        model.save(target)
    assert not (tmp_path / "nowhere").exists()


def test_warnings_point_at_the_users_line_whatever_the_call_path(monkeypatch):
    """The same warning reached through fit, compare and standard_errors is reported at
    the line of this file that called lca, not inside the library (a fixed stacklevel
    was right for one path only; the reviewer saw lca/model.py:742)."""
    data = lca.datasets.load_gss82().assign(const="x")
    calls = [
        lambda: lca.LatentClassModel(2, n_starts=2, random_state=0).fit(data),
        lambda: lca.compare(data, [1, 2], n_starts=2, random_state=0, progress=False),
    ]
    for call in calls:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            call()
        mine = [r for r in record if "one category only" in str(r.message)]
        assert mine and all(r.filename == __file__ for r in mine), [r.filename for r in mine]
    model = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(data.drop(columns="const"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.standard_errors(data=data.drop(columns="const"), weights=np.full(len(data), 2.0))
    mine = [r for r in record if "the weights sum to" in str(r.message)]
    assert mine and all(r.filename == __file__ for r in mine), [r.filename for r in mine]
    # code run by exec (a notebook cell, python -c) is the user's too, even where the
    # current folder is the package's (a "<cell>" made absolute would lie inside it)
    monkeypatch.chdir(Path(lca.__file__).parent)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        exec(compile("lca.LatentClassModel(1).fit(data)", "<cell>", "exec"))
    mine = [r for r in record if "one category only" in str(r.message)]
    assert mine and all(r.filename == "<cell>" for r in mine), [r.filename for r in mine]


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        ([1.0, "1", 2.0], r"mixes 1.0 \(float\) and '1' \(str\)"),
        ([1.5, "1.5", 2.5], r"mixes 1.5 \(float\) and '1.5' \(str\)"),
        ([True, "True", False], r"mixes True \(bool\) and 'True' \(str\)"),
        (["a", " a", "b"], r"holds 'a' and ' a', which differ only in spaces"),
        (pd.Categorical([1, "1", 2]), r"mixes 1 \(int\) and '1' \(str\)"),
        # True == 1 in Python: pandas would merge them silently (fixed in encoding.py)
        (pd.Series([True, 1, False], dtype=object), r"mixes True \(bool\) and 1 \(int\)"),
        (pd.Series([0.0, False, 2], dtype=object), r"mixes False \(bool\) and 0.0 \(float\)"),
        (pd.Series([np.True_, 1, 2], dtype=object), r"mixes True \(bool\) and 1 \(int\)"),
    ],
    ids=[
        "float-str",
        "decimal-str",
        "bool-str",
        "space",
        "categorical",
        "bool-int",
        "bool-0",
        "numpy-bool-int",
    ],
)
def test_lookalike_labels_are_refused_with_both_values_named(values, pattern):
    data = pd.DataFrame({"a": values, "b": [1, 2, 1]})
    with pytest.raises(lca.DataError, match=rf"column 'a' {pattern}.*recode them to one label"):
        _fit(data)


def test_bool_beside_other_numbers_is_not_a_lookalike():
    data = pd.DataFrame({"a": pd.Series([False, 2, 3, False], dtype=object)})
    (a,) = learn_indicators(data)
    assert a.categories == (False, 2, 3)


def test_continuous_looking_column_names_the_override_and_the_override_works():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"age": rng.integers(18, 90, 400), "b": rng.integers(0, 2, 400)})
    n_distinct = data["age"].nunique()
    assert n_distinct > 50
    with pytest.raises(
        lca.DataError,
        match=rf"column 'age' has {n_distinct} distinct values, more than max_categories=50.*"
        "raise max_categories",
    ):
        _fit(data)
    m = _fit(data, max_categories=100)
    assert m.indicators_[0].n_categories == n_distinct
    # the threshold itself is allowed: exactly max_categories distinct values
    (age,) = learn_indicators(data[["age"]], max_categories=n_distinct)
    assert age.n_categories == n_distinct


def test_continuous_text_and_float_columns_are_refused_too():
    text = pd.DataFrame({"t": [f"id{i}" for i in range(60)]})
    with pytest.raises(lca.DataError, match="column 't' has 60 distinct values"):
        learn_indicators(text)
    floats = pd.DataFrame({"x": np.linspace(0, 1, 51)})
    with pytest.raises(lca.DataError, match="column 'x' has 51 distinct values"):
        learn_indicators(floats)


@pytest.mark.parametrize(
    "column",
    [
        [1.0, -np.inf, 2.0],
        pd.Series([1, np.inf, "x"], dtype=object),
        pd.array([1.5, np.inf, None], dtype="Float64"),
        pd.Categorical([1.0, np.inf, 2.0]),  # fixed in encoding.py: was accepted
    ],
    ids=["-inf", "object", "Float64", "Categorical"],
)
def test_infinite_values_are_refused(column):
    data = pd.DataFrame({"a": column, "b": [1, 2, 1]})
    with pytest.raises(lca.DataError, match=r"column 'a' holds the infinite value -?inf.*NaN"):
        _fit(data)


@pytest.mark.parametrize(
    "data",
    [np.array([1, 2]), [[1, 2], [2, 1]], pd.Series([1, 2]), None, {"a": [1, 2]}],
    ids=["1-d ndarray", "list", "Series", "None", "dict"],
)
def test_non_dataframe_input_is_refused_with_the_fix(data):
    with pytest.raises(
        lca.DataError, match=r"expected a pandas DataFrame.*pandas.DataFrame\(...\)"
    ):
        lca.LatentClassModel(2).fit(data)


def test_a_2d_array_is_a_frame_with_columns_0_to_j():
    codes = np.array([[1, 2, 1], [2, 1, 1], [1, 1, 2], [2, 2, 2]] * 10)
    from_array = lca.LatentClassModel(2, n_starts=2).fit(codes)
    from_frame = lca.LatentClassModel(2, n_starts=2).fit(pd.DataFrame(codes))
    assert [ind.name for ind in from_array.indicators_] == [0, 1, 2]
    assert from_array.loglik_ == from_frame.loglik_
    post = from_array.predict_proba(codes)
    assert post.index.tolist() == list(range(40))
    np.testing.assert_array_equal(post.to_numpy(), from_frame.predict_proba(pd.DataFrame(codes)))


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (pd.Timestamp("2020-01-01"), "Timestamp"),
        (1 + 2j, "complex"),
        (b"yes", "bytes"),
        ((1, 2), "tuple"),
        ([1, 2], "list"),  # unhashable: was a bare TypeError
        ({"a": 1}, "dict"),
    ],
)
def test_values_that_cannot_be_labels_name_the_column(value, type_name):
    data = pd.DataFrame({"a": pd.Series([value, value, None], dtype=object), "b": [1, 2, 1]})
    with pytest.raises(
        lca.DataError, match=rf"column 'a' holds .* of type {type_name}, which cannot be a category"
    ):
        _fit(data)


def test_float32_labels_read_as_written():
    data = pd.DataFrame({"x": np.array([0.1, 0.2, 0.1, 0.2], dtype=np.float32)})
    (x,) = learn_indicators(data)
    assert x.categories == (0.1, 0.2)
    # a float64 or text 0.1 at prediction is the same answer
    new = pd.DataFrame({"x": [0.2, 0.1, "0.1"]})
    assert encode(new, [x])[:, 0].tolist() == [1, 0, 0]


@pytest.mark.parametrize(
    ("order", "pattern"),
    [
        ("yn", r"categories= for column 'a' must be a list of labels, got 'yn'"),
        ([], r"categories= for column 'a' is empty"),
        (["y", None, "n"], r"categories= for column 'a' holds the missing value None"),
        (["y", np.nan, "n"], r"categories= for column 'a' holds the missing value nan"),
        (["y", "n", "y"], r"categories= for column 'a' repeats the label 'y'; list each"),
        (["y"], r"column 'a' holds 'n', which is not among the labels given in categories="),
        ([1.0, np.inf], r"column 'a' holds the infinite value inf"),
        ([*range(60), "y", "n"], r"categories= gives column 'a' 62 labels.*max_categories"),
    ],
    ids=["str", "empty", "None", "nan", "repeat", "incomplete", "inf", "too-many"],
)
def test_bad_explicit_categories_are_refused(order, pattern):
    data = pd.DataFrame({"a": ["y", "n", "y"], "b": [1, 2, 1]})
    with pytest.raises(lca.DataError, match=pattern):
        _fit(data, categories={"a": order})


@pytest.mark.parametrize(
    ("index", "pattern"),
    [
        (["x", "x"], r"conditional_probs\['q'\] repeats the label 'x'"),
        ([1, "1"], r"column 'q' mixes 1 \(int\) and '1' \(str\)"),
        ([1.0, np.nan], r"conditional_probs\['q'\] holds the missing value nan"),
        ([1.0, np.inf], r"column 'q' holds the infinite value inf"),
    ],
    ids=["repeat", "lookalike", "nan", "inf"],
)
def test_from_parameters_checks_category_labels_as_fit_does(index, pattern, tmp_path):
    # each would predict wrongly or give a file that cannot be saved or loaded
    probs = pd.DataFrame([[0.9, 0.2], [0.1, 0.8]], index=index)
    with pytest.raises(lca.DataError, match=pattern):
        lca.LatentClassModel.from_parameters([0.5, 0.5], {"q": probs})


_A = r"conditional_probs\['a'\] "
_HALVES = {"a": [[0.5, 0.5], [0.5, 0.5]]}


@pytest.mark.parametrize(
    ("sizes", "probs", "pattern"),
    [
        ([0.5, 0.5], {"a": [[1.2, 0.5], [-0.2, 0.5]]}, _A + "holds probabilities outside"),
        ([0.5, 0.5], {"a": [[np.nan, 0.5], [0.5, 0.5]]}, _A + "holds values that are not finite"),
        ([0.5, 0.5], {"a": [[1, 1], [1, 1]]}, _A + r"do not sum to 1 .sums \[2.0, 2.0\]"),
        ([0.7, 0.8], _HALVES, "class_sizes do not sum to 1"),
        ([1.2, -0.2], _HALVES, "class_sizes holds probabilities outside"),
        ([1.0], {}, "give at least one indicator"),
    ],
    ids=["outside", "nan", "columns-sum-2", "sizes-sum-2", "negative-size", "empty"],
)
def test_simulate_and_from_parameters_refuse_what_is_not_a_model(sizes, probs, pattern):
    with pytest.raises(ValueError, match=pattern):
        lca.simulate(sizes, probs, 100, random_state=0)
    with pytest.raises(ValueError, match=pattern):
        lca.LatentClassModel.from_parameters(sizes, probs)


def test_float32_probabilities_are_accepted_and_rescaled_exactly():
    probs = np.array([[0.1, 0.3], [0.2, 0.3], [0.7, 0.4]], dtype=np.float32)
    data, _ = lca.simulate([0.5, 0.5], {"a": probs}, 10, random_state=0)
    assert data.shape == (10, 1)
    m = lca.LatentClassModel.from_parameters(np.float32([0.3, 0.7]), {"a": probs})
    np.testing.assert_allclose(m.conditional_probs_["a"].sum(axis=0), 1.0, atol=1e-15)
    assert m.class_sizes_.sum() == pytest.approx(1.0, abs=1e-15)


def test_from_parameters_needs_an_indicator():
    with pytest.raises(ValueError, match="give at least one indicator"):
        lca.LatentClassModel.from_parameters([1.0], {})


@pytest.mark.parametrize(
    "dtype",
    [pd.SparseDtype(float), pd.SparseDtype(np.float32), pd.SparseDtype(float, 1.0)],
    ids=["float64", "float32", "fill-1"],
)
def test_sparse_columns_fit_and_predict_as_dense_ones(dtype):
    dense = pd.DataFrame(
        np.random.default_rng(0).integers(1, 3, (100, 4)), columns=list("abcd")
    ).astype(float)
    dense.iloc[::7, 0] = np.nan
    ref = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(dense)
    sparse = dense.astype(dtype)
    m = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(sparse)
    assert [i.categories for i in m.indicators_] == [i.categories for i in ref.indicators_]
    assert m.loglik_ == ref.loglik_
    pd.testing.assert_frame_equal(m.predict_proba(sparse), ref.predict_proba(dense))


# -- options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"n_classes": True}, "n_classes must be an integer >= 1, got True"),
        ({"n_classes": "2"}, "n_classes must be an integer >= 1, got '2'"),
        ({"n_classes": None}, "n_classes must be an integer >= 1, got None"),
        ({"n_classes": -3}, "n_classes must be an integer >= 1, got -3"),
        ({"n_classes": np.float64(2.0)}, "n_classes must be an integer"),
        ({"n_starts": True}, "n_starts must be an integer >= 0"),
        ({"n_starts": 2.0}, "n_starts must be an integer >= 0"),
        ({"n_final": 0}, "n_final must be an integer >= 1"),
        ({"tol": float("nan")}, "tol must be a finite number > 0"),
        ({"tol": float("inf")}, "tol must be a finite number > 0"),
        ({"tol": "1e-6"}, "tol must be a finite number > 0"),
        ({"bayes_constant": float("nan")}, "bayes_constant must be a finite number >= 0"),
        ({"bayes_constant": float("inf")}, "bayes_constant must be a finite number >= 0"),
        ({"bayes_constant": -1e-300}, "bayes_constant must be a finite number >= 0"),
        ({"class_bayes_constant": -1.0}, "class_bayes_constant must be a finite number >= 0"),
        ({"max_categories": 1}, "max_categories must be an integer >= 2"),
        ({"n_jobs": 0}, "n_jobs must be a non-zero integer"),
    ],
)
def test_more_bad_options_are_refused_naming_the_option(small, options, pattern):
    with pytest.raises(ValueError, match=pattern):
        lca.LatentClassModel(**options).fit(small)


def test_numpy_integers_are_valid_options(small):
    m = lca.LatentClassModel(np.int64(2), n_starts=np.int32(2)).fit(small)
    assert m.n_classes_ == 2


def test_options_are_checked_before_the_data(small):
    # a bad option is reported even when the data are bad too: one clear error first
    with pytest.raises(ValueError, match="n_classes must be"):
        lca.LatentClassModel(0).fit(pd.DataFrame())


# one row carries weight, so every column has one category (and says so)
@pytest.mark.filterwarnings("ignore:column .* has one category only:UserWarning")
def test_patterns_with_zero_weight_do_not_count_as_distinct(small):
    w = np.zeros(len(small))
    w[0] = 1.0
    with pytest.raises(lca.DataError, match="n_classes=2 exceeds the 1 distinct answer patterns"):
        lca.LatentClassModel(2).fit(small, weights=w)


def test_rows_with_no_answer_do_not_count_as_a_pattern():
    data = pd.DataFrame({"a": [1, 1, 2, 2, np.nan], "b": [1, 1, 2, 2, np.nan]})
    with pytest.raises(lca.DataError, match="n_classes=3 exceeds the 2 distinct answer patterns"):
        lca.LatentClassModel(3).fit(data)
    assert lca.LatentClassModel(2, n_starts=2).fit(data).n_rows_ == 5


def test_no_complete_row_gives_no_l2_or_x2(tmp_path):
    # every row misses a or b: the full cross-table has no observed count to test against
    data = pd.DataFrame(np.random.default_rng(0).integers(1, 3, (100, 4))).astype(float)
    data.iloc[::2, 0] = np.nan
    data.iloc[1::2, 1] = np.nan
    m = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(data)
    stats = m.fit_stats()
    assert np.isnan(stats["L2"]) and np.isnan(stats["X2"])
    assert stats["df"] == min(100, 2**4 - 1) - m.n_parameters_
    assert np.isfinite(stats["bic"])
    m.save(tmp_path / "m.json")
    assert np.isnan(lca.load(tmp_path / "m.json").fit_stats()["L2"])


def test_as_many_classes_as_patterns_is_allowed():
    data = pd.DataFrame({"a": [1, 2, 1, 2, 1], "b": [1, 1, 2, 2, 1]})
    m = _fit(data, n_classes=4, bayes_constant=0.0)
    assert np.isfinite(m.loglik_)
    assert np.all(np.isfinite(m.predict_proba(data).to_numpy()))


def test_compare_refuses_bad_class_numbers(small):
    with pytest.raises(ValueError, match=r"n_classes must be .*>= 1, got 0"):
        lca.compare(small, [0, 1], progress=False)
    with pytest.raises(ValueError, match="n_classes is empty"):
        lca.compare(small, [], progress=False)


@pytest.mark.parametrize("k", [2.5, "3", True])
def test_compare_refuses_class_numbers_that_are_not_integers(small, k):
    with pytest.raises(ValueError, match="integer"):
        lca.compare(small, [1, k], progress=False, n_starts=1)


# -- weights -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        (pd.Series(np.ones(5)), r"weights have 5 values but the data have 120 rows"),
        (np.ones((120, 1)), r"one value per row \(120\), got shape \(120, 1\)"),
        (3.0, r"one value per row \(120\), got shape \(\)"),
        (np.array(["a"] * 120), "weights must be numbers"),
        (pd.Series(np.ones(120), index=np.arange(120) + 1000), "reindex"),
        (pd.array([1.0, None] + [1.0] * 118, dtype="Float64"), "nan at row 1"),
        (np.r_[np.ones(7), -np.inf, np.ones(112)], "-inf at row 7"),
    ],
    ids=["series-length", "2d", "scalar", "text", "other-labels", "pd.NA", "-inf"],
)
def test_more_bad_weights_are_refused(small, weights, pattern):
    with pytest.raises(lca.DataError, match=pattern):
        lca.LatentClassModel(2).fit(small, weights=weights)


def test_weights_column_errors_name_the_row_label(small):
    data = small.assign(wt=1.0)
    data.index = [f"r{i}" for i in range(len(data))]
    data.loc["r5", "wt"] = -2.0
    with pytest.raises(lca.DataError, match=r"negative value -2.0 at row 'r5'"):
        lca.LatentClassModel(2).fit(data, weights="wt")
    with pytest.raises(lca.DataError, match=r"weights='nope' names no column"):
        lca.LatentClassModel(2).fit(data, weights="nope")


@pytest.mark.parametrize("k", [1, 2])
def test_a_zero_weight_row_with_an_impossible_answer(k):
    # category 0 of q is answered only by the zero-weight row: its ML probability is 0
    data = pd.DataFrame({"q": [0, 1, 2, 1, 2], "r": [0, 0, 1, 1, 0]})
    m = lca.LatentClassModel(k, n_starts=2, bayes_constant=0.0).fit(
        data, weights=[0.0, 1.0, 1.0, 1.0, 1.0]
    )
    assert np.isfinite(m.loglik_)
    assert not m.fit_stats().isna().any()
    # a zero-weight row adds no category: its answer 0 is unknown to the model
    assert m.indicators_[0].categories == (1, 2)
    with pytest.raises(lca.DataError, match="column 'q' holds 0"):
        m.predict_proba(data)
    with pytest.warns(UserWarning, match=r"read as missing: 1 in 'q' \(0\)"):
        assert np.isfinite(m.predict_proba(data, unknown="missing").to_numpy()).all()


def test_fit_predict_reads_a_zero_weight_rows_unknown_answer_as_fit_did():
    # fit read the zero-weight row's answer 0 (no category) as missing; fit_predict must too
    data = pd.DataFrame({"q": [0, 1, 2, 1, 2, 2], "r": [0, 0, 1, 1, 0, 1]})
    w = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    model = lca.LatentClassModel(2, n_starts=2, random_state=0)
    classes = model.fit_predict(data, weights=w)
    as_missing = data.astype(float)
    as_missing.loc[0, "q"] = np.nan
    pd.testing.assert_series_equal(classes, model.predict(as_missing))


def test_a_column_answered_only_in_zero_weight_rows_is_named():
    data = pd.DataFrame({"q": [1, 2, 1, 2], "r": [0.0, np.nan, np.nan, np.nan]})
    with pytest.raises(lca.DataError, match="column 'r' has answers only in rows of weight 0"):
        lca.LatentClassModel(1).fit(data, weights=[0.0, 1.0, 1.0, 1.0])


def test_zero_weight_rows_are_kept_and_assigned(small):
    w = np.ones(len(small))
    w[:10] = 0.0
    m = lca.LatentClassModel(2, n_starts=2).fit(small, weights=w)
    assert m.n_rows_ == len(small)
    assert m.n_obs_ == pytest.approx(len(small) - 10)
    post = m.predict_proba(small)
    assert post.shape == (len(small), 2) and np.isfinite(post.to_numpy()).all()


def test_weights_whose_sum_overflows_are_refused(small):
    with pytest.raises(lca.DataError, match="sum"):
        lca.LatentClassModel(2, n_starts=1).fit(small, weights=np.full(len(small), 1e308))


# -- prediction ------------------------------------------------------------------------


def test_type_changed_between_fit_and_predict_is_mapped_when_text_agrees(fitted, small):
    # q2 was int at fit, q3 bool; a CSV round trip makes text of both
    as_text = small.astype(str)
    pd.testing.assert_frame_equal(fitted.predict_proba(as_text), fitted.predict_proba(small))
    # whole floats (integer codes with blanks) map to the int labels
    floats = small.assign(q2=small["q2"].astype(float))
    floats.loc[0, "q2"] = np.nan
    post = fitted.predict_proba(floats)
    assert np.isfinite(post.to_numpy()).all()
    expected = fitted.predict_proba(small.assign(q2=small["q2"].astype(object)).mask(
        floats.isna()
    ))  # fmt: skip
    pd.testing.assert_frame_equal(post, expected)


@pytest.mark.parametrize(
    ("value", "shown"), [("01", "'01'"), ("2.0", "'2.0'"), (2.5, "2.5"), (True, "True")]
)
def test_text_that_differs_is_not_guessed(fitted, small, value, shown):
    new = small.head(3).astype(object)
    new.loc[1, "q2"] = value
    with pytest.raises(
        lca.DataError,
        match=rf"column 'q2' holds {shown} \(first at row 1\), a category the model does not",
    ):
        fitted.predict(new)
    # the row is named by its label, in a Categorical column too
    labelled = new.set_axis(["a", "b", "c"])
    for frame in (labelled, labelled.astype({"q2": "category"})):
        with pytest.raises(lca.DataError, match=rf"holds {shown} \(first at row 'b'\)"):
            fitted.predict(frame)
    with pytest.warns(UserWarning, match="read as missing: 1 in 'q2'"):
        post = fitted.predict_proba(new, unknown="missing")
    np.testing.assert_allclose(post.sum(axis=1), 1.0)


def test_after_a_json_round_trip_types_still_map(fitted, small, tmp_path):
    path = tmp_path / "m.json"
    fitted.save(path)
    loaded = lca.load(path)
    pd.testing.assert_frame_equal(
        loaded.predict_proba(small.astype(str)), fitted.predict_proba(small)
    )


def test_unsupported_and_unhashable_values_at_prediction(fitted, small):
    new = small.head(2).astype(object)
    new.loc[0, "q1"] = pd.Timestamp("2020-01-01")
    with pytest.raises(lca.DataError, match=r"column 'q1' holds Timestamp.*model does not have"):
        fitted.predict(new)
    with pytest.warns(UserWarning, match="read as missing: 1 in 'q1' \\(Timestamp"):
        post = fitted.predict_proba(new, unknown="missing")
    assert np.isfinite(post.to_numpy()).all()
    new.loc[0, "q1"] = ["yes"]
    with pytest.raises(lca.DataError, match=r"column 'q1' holds \['yes'\] of type list"):
        fitted.predict(new)


def test_infinite_value_at_prediction_is_refused_even_with_unknown_missing(fitted, small):
    new = small.head(2).assign(q2=[1.0, np.inf])
    with pytest.raises(lca.DataError, match="column 'q2' holds the infinite value inf"):
        fitted.predict_proba(new, unknown="missing")


def test_prediction_on_an_empty_frame_returns_an_empty_result(fitted, small):
    # compress() crashed on zero rows (fixed in encoding.py)
    empty = small.iloc[:0]
    post = fitted.predict_proba(empty)
    assert post.shape == (0, 2) and list(post.columns) == [1, 2]
    assert fitted.predict(empty).shape == (0,)
    assert fitted.score_samples(empty).shape == (0,)
    patterns, pw, inv = compress(np.empty((0, 3), dtype=np.int8), np.zeros(0))
    assert patterns.shape == (0, 3) and pw.shape == (0,) and inv.shape == (0,)


@pytest.mark.parametrize(
    "index",
    [
        pd.Index([5] * 120),
        pd.Index([f"id{i}" for i in range(120)][::-1]),
        pd.MultiIndex.from_arrays([np.arange(120) % 7, np.arange(120)]),
        pd.date_range("2020-01-01", periods=120),
    ],
    ids=["duplicates", "strings", "multiindex", "dates"],
)
def test_prediction_output_index_is_the_input_index(fitted, small, index):
    new = small.set_axis(index)
    for out in (fitted.predict_proba(new), fitted.predict(new), fitted.score_samples(new)):
        assert out.index.equals(index)
    np.testing.assert_array_equal(
        fitted.predict_proba(new).to_numpy(), fitted.predict_proba(small).to_numpy()
    )


def test_prediction_with_a_renamed_or_missing_column_names_it(fitted, small):
    with pytest.raises(lca.DataError, match=r"\['q2'\] missing from the data"):
        fitted.predict(small.rename(columns={"q2": "Q2"}))
    with pytest.raises(lca.DataError, match="column 'q2' appears more than once"):
        fitted.predict(pd.concat([small, small[["q2"]]], axis=1))


def test_a_presets_absent_columns_and_unknown_labels_are_named():
    preset = lca.presets.get("service-use")
    data, _ = preset.simulate(60, random_state=1)
    first, second = preset.indicators[:2]
    with pytest.raises(lca.DataError, match=rf"preset needs column\(s\) \['{first}'\]"):
        preset.fit(data.drop(columns=[first]))
    with pytest.raises(lca.DataError, match=rf"\['{second}'\] missing from the data"):
        preset.reference_model().predict(data.drop(columns=[second]))
    data = data.astype(object)
    data.loc[0, first] = "Fax"
    with pytest.raises(lca.DataError, match=rf"column '{first}' holds 'Fax'"):
        preset.fit(data, n_starts=2)
    with pytest.raises(lca.DataError, match=rf"column '{first}' holds 'Fax'.*unknown='missing'"):
        preset.reference_model().predict(data)
    with pytest.warns(UserWarning, match=rf"read as missing: 1 in '{first}' \('Fax'\)"):
        post = preset.reference_model().predict_proba(data, unknown="missing")
    assert np.isfinite(post.to_numpy()).all()


# -- degenerate but valid data ----------------------------------------------------------


def _assert_finite_model(m, data):
    assert np.isfinite(m.loglik_) and np.isfinite(m.log_prior_)
    assert np.isfinite(m.class_sizes_.to_numpy()).all()
    for block in m.conditional_probs_.values():
        assert np.isfinite(block.to_numpy()).all()
    stats = m.fit_stats()
    assert not stats.isna().any(), list(stats.index[stats.isna()])
    post = m.predict_proba(data)
    assert np.isfinite(post.to_numpy()).all()
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("b", [0.0, 1.0])
def test_all_respondents_identical(b):
    data = pd.DataFrame({"a": ["x"] * 8, "b": [3] * 8})
    with pytest.warns(UserWarning, match="one category only"):
        m = _fit(data, n_classes=1, bayes_constant=b)
    _assert_finite_model(m, data)
    assert m.loglik_ == 0.0
    with pytest.warns(UserWarning, match="one category only"):
        with pytest.raises(lca.DataError, match="exceeds the 1 distinct answer patterns"):
            _fit(data, n_classes=2, bayes_constant=b)


@pytest.mark.parametrize("b", [0.0, 1.0])
def test_a_single_respondent(b):
    data = pd.DataFrame({"a": ["x"], "b": [2]}, index=["only"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one category per column
        m = _fit(data, n_classes=1, bayes_constant=b)
    _assert_finite_model(m, data)
    assert m.n_obs_ == 1.0 and m.predict(data).index.tolist() == ["only"]


@pytest.mark.parametrize(("k", "b"), [(1, 0.0), (2, 0.0), (3, 0.0), (3, 1.0)])
def test_a_single_indicator(k, b):
    data = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, 1, 1]})
    m = _fit(data, n_classes=k, bayes_constant=b)
    _assert_finite_model(m, data)
    # whatever K, one indicator is fitted by its marginal
    expected = float(
        (data["a"].value_counts() * np.log(data["a"].value_counts(normalize=True))).sum()
    )
    assert m.loglik_ == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("b", [0.0, 1.0])
def test_more_classes_than_needed(b):
    rng = np.random.default_rng(3)
    data = pd.DataFrame(rng.integers(0, 2, (40, 3)), columns=["a", "b", "c"])
    # not identified: EM crawls along a ridge of equal fit, which the default
    # tol (1e-12) may not let it leave within max_iter; the test is about finiteness
    m = _fit(data, n_classes=6, bayes_constant=b, n_starts=4, tol=1e-10)
    _assert_finite_model(m, data)


def test_respondents_without_answers_and_no_complete_case():
    # every respondent skipped one question: no complete case for L2/X2
    data = pd.DataFrame(
        {
            "a": [1, 2, None, None, 1, 2],
            "b": [None, None, 1, 2, 2, None],
            "c": [1, 1, 2, None, None, 2],
        }
    )
    data.loc[len(data)] = [None, None, None]  # and one empty row
    m = _fit(data, n_classes=2, bayes_constant=1.0)
    assert m.n_empty_rows_ == 1 and m.n_rows_ == 7
    assert np.isfinite(m.loglik_)
    post = m.predict_proba(data)
    assert np.isfinite(post.to_numpy()).all()
    np.testing.assert_allclose(post.iloc[-1].to_numpy(), m.class_sizes_.to_numpy())


def _empty_class_start(monkeypatch):
    """Make every random start have an empty last class (size exactly 0)."""
    import lca._em as em

    original = em.random_start

    def start(*args, **kwargs):
        log_class, log_cond = original(*args, **kwargs)
        log_class = log_class.copy()
        log_class[-1] = -np.inf
        log_class -= np.log(np.exp(log_class).sum())
        return log_class, log_cond

    monkeypatch.setattr(em, "random_start", start)


@pytest.mark.parametrize("accelerate", [False, True])
@pytest.mark.parametrize("b", [0.0, 1.0])
def test_a_class_that_is_empty_during_em_gives_finite_results(monkeypatch, accelerate, b):
    _empty_class_start(monkeypatch)
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.integers(0, 3, (200, 4)))
    m = lca.LatentClassModel(3, n_starts=3, bayes_constant=b, accelerate=accelerate).fit(data)
    _assert_finite_model(m, data)
    assert m.class_sizes_.sum() == pytest.approx(1.0)
    avepp = m.avepp()  # NaN is documented for a class nobody is assigned to
    assert ((avepp > 0) & (avepp <= 1) | avepp.isna()).all()


def test_an_empty_class_in_the_solution_warns(monkeypatch):
    _empty_class_start(monkeypatch)
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.integers(0, 3, (200, 4)))
    with pytest.warns(UserWarning, match="class 3"):
        m = lca.LatentClassModel(3, n_starts=3, bayes_constant=0.0, accelerate=False).fit(data)
    assert m.class_sizes_[3] == 0.0


def test_a_model_that_is_not_identified_warns():
    data = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, 1, 1]})
    with pytest.warns(UserWarning, match="not identified"):
        m = _fit(data, n_classes=2)
    assert m.fit_stats()["df"] < 0


# -- model files -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_text(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.json"
    fitted.save(path)
    return path.read_text(encoding="utf-8")


def _load_text(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    return lca.load(path)


def _load_dict(tmp_path, content):
    return _load_text(tmp_path, json.dumps(content))


REQUIRED_FIELDS = [
    "format_version",
    "n_classes",
    "indicators",
    "class_sizes",
    "conditional_probs",
    "n_parameters",
    "options",
    "fit_stats",
    "classification_tables",
    "avepp",
    "fitted",
]


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_every_missing_field_is_named(model_text, tmp_path, field):
    content = json.loads(model_text)
    del content[field]
    with pytest.raises(lca.ModelFileError, match=rf"field '{field}' is missing"):
        _load_dict(tmp_path, content)


@pytest.mark.parametrize(
    "field", ["loglik", "n_obs", "n_rows", "converged", "n_iter", "start_objectives"]
)
def test_every_missing_fitted_field_is_named(model_text, tmp_path, field):
    content = json.loads(model_text)
    del content["fitted"][field]
    with pytest.raises(lca.ModelFileError, match=rf"field '{field}' is missing"):
        _load_dict(tmp_path, content)


@pytest.mark.parametrize(
    ("version", "pattern"),
    [
        (0, "format version 0 is not valid"),
        (-1, "format version -1 is not valid"),
        (2, "version 2, newer than this lca reads.*upgrade lca"),
        (1.0, "'format_version' has the wrong type"),
        (True, "'format_version' has the wrong type"),
        ("1", "'format_version' has the wrong type"),
        (None, "'format_version' has the wrong type"),
    ],
)
def test_wrong_format_versions(model_text, tmp_path, version, pattern):
    content = json.loads(model_text)
    content["format_version"] = version
    with pytest.raises(lca.ModelFileError, match=pattern):
        _load_dict(tmp_path, content)


def _set_path(content, keys, value):
    target = content
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


@pytest.mark.parametrize(
    ("keys", "value", "pattern"),
    [
        (("class_sizes",), [None, 1.0], "class_sizes holds values that are not finite"),
        (("class_sizes",), [0.5, 0.5 + 1e-6], "do not sum to 1"),
        (("class_sizes",), [1.0, 0.0, 0.0], r"class_sizes has shape \(3,\), expected \(2,\)"),
        (("class_sizes",), [[0.5], [0.5]], r"shape \(2, 1\)"),
        (("class_sizes",), ["a", "b"], "class_sizes must be numbers"),
        (("conditional_probs", 0, 0), [1.1, 0.4], "outside"),
        (("conditional_probs", 0, 0), [0.5], "must be numbers|shape"),  # ragged
        (("conditional_probs", 0, 0), [None, 0.5], "not finite"),
        (("conditional_probs",), [], "0 blocks for 3 indicators"),
        (("indicators", 0, "name"), None, "indicator 0 has no valid name"),
        (("indicators", 0, "name"), True, "indicator 0 has no valid name"),
        (("indicators", 1, "name"), "q1", "two indicators have the same name"),
        (("indicators", 0, "categories"), [], "has 0 categories"),
        (("indicators", 0, "categories"), ["yes", " yes"], "repeats a category label"),
        (("indicators", 0, "categories"), [1, "1"], "repeats a category label"),
        (("indicators", 0, "categories"), [None, "x"], "invalid category label None"),
        (("indicators", 0, "ordered"), "yes", "'ordered' must be true or false"),
        (("indicators", 0), "q1", "indicator 0 is not an object"),
        (("indicators",), [], "0 indicators is out of range"),
        (("n_classes",), 0, "n_classes=0 is out of range"),
        (("n_classes",), "2", "'n_classes' has the wrong type"),
        (("options",), [], "'options' has the wrong type"),
        (("options", "tol"), -1.0, "invalid fitting option: tol must be"),
        (("options", "categories"), {"q1": ["yes"]}, "option 'categories' is malformed"),
        (("fit_stats", "bic"), None, None),  # a statistic may be missing (NaN): loads
        (("fitted", "converged"), "yes", "'converged' has the wrong type"),
        (("fitted", "start_objectives"), [[1.0]], "start_objectives has shape"),
        (("classification_tables", "modal"), [[1.0]], "classification table 'modal' has shape"),
        (("avepp",), [1.0], r"avepp has shape \(1,\)"),
    ],
)
def test_inconsistent_model_files_name_what_is_wrong(model_text, tmp_path, keys, value, pattern):
    content = json.loads(model_text)
    _set_path(content, keys, value)
    if pattern is None:
        assert math.isnan(_load_dict(tmp_path, content).fit_stats()["bic"])
        return
    with pytest.raises(lca.ModelFileError, match=pattern):
        _load_dict(tmp_path, content)


@pytest.mark.parametrize(
    "text",
    ["null", "1", '"lca.LatentClassModel"', "{}", '{"format": 1}', "[{}]", "\ufeff{}"],
)
def test_json_that_is_not_a_model(tmp_path, text):
    with pytest.raises(lca.ModelFileError):
        _load_text(tmp_path, text)


def test_json_infinity_and_overflowing_literals_are_refused(model_text, tmp_path):
    for literal in ("Infinity", "-Infinity", "1e999"):
        text = model_text.replace('"class_sizes": [', f'"class_sizes": [{literal}, ', 1)
        with pytest.raises(lca.ModelFileError, match=r"valid number|not finite|shape"):
            _load_text(tmp_path, text)


def test_deeply_nested_json_is_refused(tmp_path):
    with pytest.raises(lca.ModelFileError, match="nested too deeply"):
        _load_text(tmp_path, "[" * 200_000 + "]" * 200_000)


def test_absurd_sizes_are_refused_without_allocating(model_text, tmp_path):
    import tracemalloc

    cases = []
    content = json.loads(model_text)
    content["indicators"] = [{}] * 100_001
    cases.append((content, "100001 indicators is out of range"))
    content = json.loads(model_text)
    content["indicators"][0]["categories"] = list(range(40_000))
    cases.append((content, "40000 categories"))
    content = json.loads(model_text)
    content["n_classes"] = content["options"]["n_classes"] = 10_000
    content["indicators"][0]["categories"] = list(range(2_000))
    cases.append((content, "more than 10000000 parameters"))
    for content, pattern in cases:
        path = tmp_path / "big.json"
        path.write_text(json.dumps(content))
        size = path.stat().st_size
        tracemalloc.start()
        try:
            with pytest.raises(lca.ModelFileError, match=pattern):
                lca.load(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # parsing costs a few times the file; nothing of the announced size is allocated
        assert peak < 30 * size + 10 * 2**20


@pytest.mark.parametrize("value", [None, -5.0])
def test_a_classification_table_with_nan_is_refused(model_text, tmp_path, value):
    content = json.loads(model_text)
    content["classification_tables"]["proportional"][0][0] = value
    with pytest.raises(lca.ModelFileError, match="classification table"):
        _load_dict(tmp_path, content)


def test_a_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(lca.ModelFileError, match="cannot read"):
        lca.load(tmp_path)


def test_an_integer_with_too_many_digits_is_refused(model_text, tmp_path):
    text = model_text.replace('"n_iter": ', '"n_iter": 1' + "0" * 5000 + ', "x": ', 1)
    with pytest.raises(lca.ModelFileError):
        _load_text(tmp_path, text)


@pytest.mark.parametrize(
    "keys",
    [
        ("class_sizes", 0),
        ("fit_stats", "bic"),
        ("fitted", "loglik"),
        ("avepp", 0),
        ("options", "tol"),
    ],
)
def test_integers_beyond_float_range_are_refused(model_text, tmp_path, keys):
    content = json.loads(model_text)
    _set_path(content, keys, 10**400)
    with pytest.raises(lca.ModelFileError):
        _load_dict(tmp_path, content)


AUDIT_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import lca
    from lca.io import load

    valid, *hostile = sys.argv[1:]
    load(valid)  # warm up: every lazy import of a normal load happens here
    WATCH = ("exec", "compile", "import", "os.system", "os.exec", "os.posix_spawn",
             "os.spawn", "os.fork", "subprocess.Popen", "pickle.find_class", "marshal.loads",
             "ctypes.dlopen", "socket.connect", "urllib.Request", "open", "os.remove",
             "shutil.rmtree", "os.rename")
    events = []
    def hook(event, args):
        if event.startswith(WATCH):
            events.append([event, repr(args)[:200]])
    before = set(sys.modules)
    sys.addaudithook(hook)
    outcomes = []
    for path in hostile:
        try:
            model = load(path)
            outcomes.append("loaded")
        except lca.ModelFileError:
            outcomes.append("refused")
    opened = [a for e, a in events if e == "open"]
    others = [[e, a] for e, a in events if e != "open"]
    print(json.dumps({"outcomes": outcomes, "opened": opened, "others": others,
                      "new_modules": sorted(set(sys.modules) - before)}))
    """
)


def test_loading_never_imports_or_executes_anything(model_text, tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    pickle_text = f"cos\nsystem\n(S'touch {marker}'\ntR."
    base = json.loads(model_text)
    variants = []
    c = json.loads(model_text)
    c["options"]["__reduce__"] = payload
    variants.append(c)
    c = json.loads(model_text)
    c["options"]["random_state"] = {"py/object": "os.system", "args": [f"touch {marker}"]}
    variants.append(c)
    c = json.loads(model_text)
    c["format"] = "os.system"
    variants.append(c)
    c = json.loads(model_text)  # code in every free text field: just text
    c["indicators"][0]["name"] = payload
    c["indicators"][0]["categories"] = [pickle_text, "!!python/object/apply:os.system"]
    c["options"]["categories"] = [[payload, [pickle_text]]]
    c["lca_version"] = payload
    variants.append(c)
    c = json.loads(model_text)
    c["indicators"][1]["name"] = str(tmp_path / "other.json")  # a path is not opened
    variants.append(c)
    paths = []
    for i, content in enumerate(variants):
        path = tmp_path / f"hostile{i}.json"
        path.write_text(json.dumps(content))
        paths.append(str(path))
    (tmp_path / "other.json").write_text(json.dumps(base))
    valid = tmp_path / "valid.json"
    valid.write_text(model_text)
    result = subprocess.run(
        [sys.executable, "-c", AUDIT_SCRIPT, str(valid), *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcomes"] == ["refused", "refused", "refused", "loaded", "loaded"]
    assert report["others"] == []
    assert report["new_modules"] == []
    # the only files opened are the model files themselves
    assert len(report["opened"]) == len(paths)
    for opened, path in zip(report["opened"], paths):
        assert path in opened
    assert not marker.exists()


def test_a_model_with_code_like_labels_predicts_them_as_plain_text(fitted, small, tmp_path):
    code = "__import__('os').system('exit 1')"
    data = small.assign(q1=small["q1"].map({"yes": code, "no": "no"}))
    m = lca.LatentClassModel(2, n_starts=2).fit(data)
    m.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    assert loaded.indicators_[0].categories == (code, "no")
    pd.testing.assert_frame_equal(loaded.predict_proba(data), m.predict_proba(data))


# -- command line ----------------------------------------------------------------------


@pytest.fixture
def accents(tmp_path):
    frame = pd.DataFrame(
        {
            "Qualité": ["Très bien", "Passable", "Très bien", "Médiocre"] * 10,
            "Région": ["Île-de-France", "Bretagne", "Bretagne", "Corse"] * 10,
        }
    )
    path = tmp_path / "utf8.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    return frame, path


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_assign_reads_latin1_and_bom_files_against_a_utf8_model(accents, tmp_path, capsys):
    frame, path = accents
    model = tmp_path / "m.json"
    code, _, err = _run(["fit", path, "--classes", "2", "--starts", "2", "--out", model], capsys)
    assert code == 0, err
    expected = lca.load(model).predict(frame)
    for encoding in ("latin-1", "utf-8-sig", "cp1252"):
        new = tmp_path / f"new-{encoding}.csv"
        frame.to_csv(new, index=False, encoding=encoding)
        out = tmp_path / f"out-{encoding}.csv"
        code, _, err = _run(["assign", model, new, "--out", out], capsys)
        assert code == 0, (encoding, err)
        assigned = pd.read_csv(out, encoding="utf-8")
        assert list(assigned.columns[:2]) == ["Qualité", "Région"]
        assert assigned["class"].tolist() == expected.tolist()


def test_read_table_keeps_accented_headers_and_labels(accents, tmp_path):
    frame, _ = accents
    for encoding in ("latin-1", "utf-8-sig", "utf-8"):
        p = tmp_path / f"{encoding}.csv"
        frame.to_csv(p, index=False, encoding=encoding)
        pd.testing.assert_frame_equal(read_table(str(p)), frame)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "{csv}", "--weights", "poids", "--classes", "2", "--out", "{dir}/m.json"],
         "no weights column 'poids'"),
        (["fit", "{dir}", "--classes", "2", "--out", "{dir}/m.json"], "cannot read the file"),
        (["fit", "{empty}", "--classes", "2", "--out", "{dir}/m.json"], "cannot read the file"),
        (["fit", "{header}", "--classes", "2", "--out", "{dir}/m.json"], "no rows"),
        (["fit", "{csv}", "--classes", "2", "--starts", "0", "--out", "{dir}/m.json"],
         "--starts 0: give at least 1 random start"),
        (["fit", "{csv}", "--classes", "2", "--bayes-constant", "-1", "--out", "{dir}/m.json"],
         "--bayes-constant -1.0: give a number >= 0"),
        (["compare", "{csv}", "--classes", "3-1", "--quiet"], "the range runs downwards"),
        (["compare", "{csv}", "--classes", "0-2", "--quiet"], "numbers of classes must be >= 1"),
        (["assign", "{dir}/nope.json", "{csv}"], "cannot read model file"),
        (["assign", "{model}", "{dir}/nope.csv"], "nope.csv: no such file"),
        (["assign", "{model}", "{onecol}"], "['Région'] missing from the data"),
        (["assign", "{model}", "{unseen}"], "holds 'Excellent' (first at row 0), a category"),
    ],
)  # fmt: skip
def test_more_cli_errors_are_one_line(accents, tmp_path, capsys, argv, message):
    frame, path = accents
    model = tmp_path / "model.json"
    lca.LatentClassModel(2, n_starts=2).fit(frame).save(model)
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("a,b\n")
    frame[["Qualité"]].to_csv(tmp_path / "onecol.csv", index=False)
    frame.assign(Qualité="Excellent").to_csv(tmp_path / "unseen.csv", index=False)
    names = {
        "csv": path,
        "dir": tmp_path,
        "empty": tmp_path / "empty.csv",
        "header": tmp_path / "header.csv",
        "model": model,
        "onecol": tmp_path / "onecol.csv",
        "unseen": tmp_path / "unseen.csv",
    }
    argv = [a.format(**names) for a in argv]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert message in err
    assert "\n" not in err and "Traceback" not in err


def test_assign_unknown_missing_on_the_command_line(accents, tmp_path, capsys):
    frame, _ = accents
    model = tmp_path / "model.json"
    lca.LatentClassModel(2, n_starts=2).fit(frame).save(model)
    unseen = tmp_path / "unseen.csv"
    frame.assign(Qualité="Excellent").to_csv(unseen, index=False)
    out = tmp_path / "out.csv"
    code, _, err = _run(["assign", model, unseen, "--unknown", "missing", "--out", out], capsys)
    assert code == 0, err
    post = pd.read_csv(out)[["posterior_1", "posterior_2"]].to_numpy()
    np.testing.assert_allclose(post.sum(axis=1), 1.0)


def test_fit_out_into_a_missing_folder_is_one_line(accents, tmp_path, capsys):
    _, path = accents
    argv = ["fit", path, "--classes", "2", "--starts", "2", "--out", tmp_path / "no" / "m.json"]
    code, _, err = _run(argv, capsys)
    assert code == 2 and "does not exist" in err and "\n" not in err


def test_a_failed_save_leaves_no_temporary_file(fitted, tmp_path):
    (tmp_path / "m.json").mkdir()
    with pytest.raises(OSError):
        fitted.save(tmp_path / "m.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def _read_correctly_or_refused(path, frame, hint):
    from lca.reading import ReadError

    try:
        got = read_table(str(path))
    except ReadError as exc:
        assert hint in str(exc)
    else:
        pd.testing.assert_frame_equal(got, frame)


def test_utf16_csv_is_read_or_refused(accents, tmp_path):
    frame, _ = accents
    p = tmp_path / "utf16.csv"
    frame.to_csv(p, index=False, encoding="utf-16")
    _read_correctly_or_refused(p, frame, "UTF-16")


def test_semicolon_csv_is_read_or_refused(accents, tmp_path):
    frame, _ = accents
    p = tmp_path / "semicolon.csv"
    frame.to_csv(p, index=False, sep=";")
    _read_correctly_or_refused(p, frame, ";")
