"""Saved models: exact round trip, and refusal of damaged or hostile files."""

import json

import numpy as np
import pandas as pd
import pytest

import lca
from lca.io import MAX_FILE_BYTES


@pytest.fixture(scope="module")
def fitted():
    data = lca.datasets.load_election()
    items = data.columns[:12]
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(data))
    model = lca.LatentClassModel(3, n_starts=4).fit(data[items], weights=w)
    return model, data[items]


def _save(model, tmp_path):
    path = tmp_path / "model.json"
    model.save(path)
    return path


def test_round_trip_is_exact(fitted, tmp_path):
    model, data = fitted
    loaded = lca.load(_save(model, tmp_path))
    a, b = model.predict_proba(data), loaded.predict_proba(data)
    pd.testing.assert_frame_equal(a, b, rtol=0, atol=1e-12)
    assert np.array_equal(a.to_numpy(), b.to_numpy())  # in fact bit for bit
    pd.testing.assert_series_equal(model.fit_stats(), loaded.fit_stats())
    pd.testing.assert_frame_equal(model.profile(), loaded.profile())
    pd.testing.assert_frame_equal(model.classification_table(), loaded.classification_table())
    pd.testing.assert_series_equal(model.avepp(), loaded.avepp())
    for name in ("loglik_", "log_prior_", "n_parameters_", "n_obs_", "n_rows_", "converged_",
                 "n_iter_", "n_starts_at_best_"):  # fmt: skip
        assert getattr(model, name) == getattr(loaded, name), name
    assert loaded.get_params() == model.get_params()


def test_label_and_name_types_survive(tmp_path):
    data = pd.DataFrame(
        {
            "s": ["x", "y", "x", "y", "x", "y"] * 10,
            3: [1, 2, 3, 1, 2, 3] * 10,
            "f": [0.5, 1.5, 0.5, 0.5, 1.5, 1.5] * 10,
            "b": [True, False, True, True, False, False] * 10,
        }
    )
    model = lca.LatentClassModel(2, n_starts=2).fit(data)
    loaded = lca.load(_save(model, tmp_path))
    assert [i.name for i in loaded.indicators_] == ["s", 3, "f", "b"]
    for a, b in zip(model.indicators_, loaded.indicators_):
        assert a.categories == b.categories
        assert [type(v) for v in a.categories] == [type(v) for v in b.categories]
    pd.testing.assert_frame_equal(model.predict_proba(data), loaded.predict_proba(data))


def test_numpy_column_names_in_options_are_saved_as_plain_names(tmp_path):
    """categories= keyed by a numpy int (as from df.columns.to_numpy()) saves and loads."""
    data = pd.DataFrame(np.random.default_rng(0).integers(1, 3, (100, 4)))
    key = data.columns.to_numpy()[0]  # numpy.int64
    model = lca.LatentClassModel(2, n_starts=2, categories={key: [2, 1]}).fit(data)
    loaded = lca.load(_save(model, tmp_path))
    assert loaded.get_params()["categories"] == {0: [2, 1]}
    assert loaded.indicators_[0].categories == (2, 1)
    pd.testing.assert_frame_equal(model.predict_proba(data), loaded.predict_proba(data))


def test_tuple_and_float_column_names_round_trip(tmp_path):
    """A MultiIndex's tuples and float names save and load, in options too."""
    rng = np.random.default_rng(1)
    codes = rng.integers(1, 4, (150, 4))
    columns = pd.MultiIndex.from_tuples([("wave1", 1), ("wave1", 2), ("wave2", 1), ("w", 2)])
    data = pd.DataFrame(codes, columns=columns)
    model = lca.LatentClassModel(
        2, n_starts=2, ordinal=[("wave1", 2)], categories={("wave2", 1): [3, 2, 1]}
    ).fit(data)
    path = _save(model, tmp_path)
    assert json.loads(path.read_text())["indicators"][0]["name"] == ["wave1", 1]
    loaded = lca.load(path)
    assert [i.name for i in loaded.indicators_] == list(columns)
    assert loaded.get_params()["ordinal"] == [("wave1", 2)]
    assert loaded.get_params()["categories"] == {("wave2", 1): [3, 2, 1]}
    a, b = model.predict_proba(data), loaded.predict_proba(data)
    assert np.array_equal(a.to_numpy(), b.to_numpy())

    floats = pd.DataFrame(codes, columns=np.array([0.5, 1.0, 2.0, 2.5], dtype=np.float32))
    model = lca.LatentClassModel(2, n_starts=2).fit(floats)
    loaded = lca.load(_save(model, tmp_path))
    names = [i.name for i in loaded.indicators_]
    assert names == [0.5, 1.0, 2.0, 2.5] and all(type(n) is float for n in names)
    assert np.array_equal(model.predict_proba(floats), loaded.predict_proba(floats))


def test_unwritable_column_name_is_refused_at_save(tmp_path):
    codes = np.random.default_rng(2).integers(1, 3, (100, 4))
    data = pd.DataFrame(codes, columns=[b"q1", "q2", "q3", "q4"])
    model = lca.LatentClassModel(2, n_starts=2).fit(data)
    with pytest.raises(TypeError, match=r"indicator name b'q1' cannot be saved.*rename the column"):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_model_from_parameters_round_trips(tmp_path):
    m = lca.LatentClassModel.from_parameters([0.5, 0.5], {"q": [[0.9, 0.2], [0.1, 0.8]]})
    loaded = lca.load(_save(m, tmp_path))
    new = pd.DataFrame({"q": [1, 2]})
    pd.testing.assert_frame_equal(m.predict_proba(new), loaded.predict_proba(new))
    with pytest.raises(lca.NotFittedError, match="built from parameters"):
        loaded.fit_stats()


def _mutated(fitted, tmp_path, mutate):
    model, _ = fitted
    content = json.loads(_save(model, tmp_path).read_text())
    mutate(content)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    return path


def _set(*keys, value):
    def mutate(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return mutate


def _scale_first_block(d):
    d["conditional_probs"][0] = [[2 * p for p in row] for row in d["conditional_probs"][0]]


def _swap_rows(d):
    d["conditional_probs"][0] = d["conditional_probs"][0][:-1]


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (_set("format_version", value=99), "newer than this lca reads"),
        (_set("format", value="something else"), "not an lca model file"),
        (lambda d: d.pop("class_sizes"), "field 'class_sizes' is missing"),
        (_set("class_sizes", value=[0.5, 0.3, 0.1]), "do not sum to 1"),
        (_set("class_sizes", value=[1.5, -0.3, -0.2]), "outside"),
        (_set("class_sizes", value=[0.5, 0.5]), "shape"),
        (_scale_first_block, "outside|do not sum"),
        (_swap_rows, "shape"),
        (_set("n_classes", value=10**9), "out of range"),
        (_set("options", "n_classes", value=7), "disagrees"),
        (_set("options", "__class__", value="os.system"), "unknown fitting options"),
        (_set("indicators", 0, "categories", value=[{"x": 1}]), "invalid category label"),
        (_set("indicators", 0, "name", value={"x": 1}), "indicator 0 has no valid name"),
        (_set("indicators", 0, "name", value=[]), "indicator 0 has no valid name"),
        (_set("options", "ordinal", value=[[]]), "option 'ordinal' is malformed"),
        (_set("fit_stats", "bic", value="oops"), "not a number"),
        (_set("class_match", value={"label": ["a", "b", "c"]}), "class_match must hold"),
    ],
)
def test_inconsistent_files_are_refused(fitted, tmp_path, mutate, pattern):
    with pytest.raises(lca.ModelFileError, match=pattern):
        lca.load(_mutated(fitted, tmp_path, mutate))


def test_truncated_malformed_and_foreign_files_are_refused(fitted, tmp_path):
    model, _ = fitted
    text = _save(model, tmp_path).read_text()
    bad = tmp_path / "bad.json"
    for content, pattern in [
        (text[: len(text) // 2], "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2, 3]", "not an lca model file"),
        (text.replace('"class_sizes": [', '"class_sizes": [NaN, ', 1), "not a valid number"),
    ]:
        bad.write_text(content)
        with pytest.raises(lca.ModelFileError, match=pattern):
            lca.load(bad)
    bad.write_bytes(b"\x80\x04\x95pickle\x00\xff")
    with pytest.raises(lca.ModelFileError, match="not a text"):
        lca.load(bad)
    with pytest.raises(lca.ModelFileError, match="cannot read"):
        lca.load(tmp_path / "does-not-exist.json")


def test_huge_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk or memory
    with pytest.raises(lca.ModelFileError, match="larger than a model file can be"):
        lca.load(big)


def test_absurd_sizes_are_refused_before_allocating(fitted, tmp_path):
    def many(d):
        d["n_classes"] = 5000
        d["options"]["n_classes"] = 5000
        d["indicators"][0]["categories"] = list(range(30_000))

    with pytest.raises(lca.ModelFileError, match=r"more than \d+ parameters"):
        lca.load(_mutated(fitted, tmp_path, many))
