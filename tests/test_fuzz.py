"""Fuzzing of everything that reads outside input (issue 7).

- ``lca.load`` over random bytes and over mutated valid model files (characters
  flipped, deleted, inserted, the file truncated; JSON values replaced by values
  of other types, numbers changed, keys deleted or added) raises only
  ``lca.ModelFileError``, never hangs, and whatever it accepts is a working model
  (it predicts finite probabilities summing to 1, and saves and loads again).
- ``lca.reading.read_table`` over random and mutated CSV bytes (UTF-8, UTF-8 with
  BOM, latin-1) returns a DataFrame or raises ``lca.reading.ReadError``; fitting
  what it returns raises only ``lca.DataError`` / ``ValueError`` or succeeds,
  and assigning it with a fitted model does the same.

Budget
------
CI runs a short budget: ``LCA_FUZZ_EXAMPLES`` examples per test (default 40).
For a release, run a long one, for instance::

    LCA_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py -p no:cacheprovider

(about an hour; examples that fail are saved in ``.hypothesis/`` and replayed
first on the next run). ``LCA_FUZZ_SEED`` fixes hypothesis' seed.
"""

import json
import os
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import lca
from lca.reading import ReadError, read_table

EXAMPLES = int(os.environ.get("LCA_FUZZ_EXAMPLES", "40"))
#: No single load or read may take longer (seconds): a hang is a failure.
TIME_LIMIT = 10.0

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
if os.environ.get("LCA_FUZZ_SEED"):
    fuzz_seed = seed(int(os.environ["LCA_FUZZ_SEED"]))
else:

    def fuzz_seed(f):
        return f


@pytest.fixture(scope="module")
def survey():
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "q1": rng.choice(["oui", "non", "très"], n),
            "q2": rng.integers(1, 4, n),
            "q3": rng.choice([True, False], n),
            "q4": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 2, n)),
        }
    )


@pytest.fixture(scope="module")
def model(survey):
    return lca.LatentClassModel(2, n_starts=2).fit(survey, weights=np.linspace(0.5, 2, 60))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model_bytes(model, workdir):
    path = workdir / "valid.json"
    model.save(path)
    return path.read_bytes()


# -- lca.load ----------------------------------------------------------------------------


def _load_only_model_file_error(path, survey):
    """Load; a refusal must be ModelFileError; an accepted file must be a working model."""
    start = time.perf_counter()
    try:
        loaded = lca.load(path)
    except lca.ModelFileError:
        return None
    finally:
        assert time.perf_counter() - start < TIME_LIMIT
    _check_working(loaded, survey, path)
    return loaded


def _check_working(loaded, survey, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)  # answers impossible under the model
        try:
            post = loaded.predict_proba(survey, unknown="missing")
        except lca.DataError:
            post = None  # e.g. an indicator renamed in the file: refused with a message
    if post is not None:
        values = post.to_numpy()
        assert post.index.equals(survey.index)
        assert np.isfinite(values).all()
        np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-9)
    # what load accepts, save writes and load reads back the same
    again = path.with_suffix(".again.json")
    loaded.save(again)
    reloaded = lca.load(again)
    np.testing.assert_array_equal(reloaded._class_probs, loaded._class_probs)
    np.testing.assert_array_equal(reloaded._cond_probs, loaded._cond_probs)


@fuzz
@fuzz_seed
@given(content=st.one_of(st.binary(max_size=3000), st.text(max_size=1000).map(str.encode)))
def test_load_random_bytes(content, workdir, survey):
    path = workdir / "random.json"
    path.write_bytes(content)
    assert _load_only_model_file_error(path, survey) is None


def mutations_of(alphabet: bytes, max_size: int):
    """Lists of byte mutations: (operation, relative position, byte from ``alphabet``)."""
    return st.lists(
        st.tuples(
            st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate", "set"]),
            st.floats(0, 1, exclude_max=True),
            st.sampled_from([*alphabet, None]),
        ),
        min_size=1,
        max_size=max_size,
    )


byte_mutations = mutations_of(b'{}[]",:0123456789.-eE tfnaul\\\n\x00\xff', 8)


def _mutate_bytes(data: bytes, mutations) -> bytes:
    b = bytearray(data)
    for op, where, char in mutations:
        if not b:
            break
        i = int(where * len(b))
        byte = char if char is not None else (b[i] ^ 0x5A)
        if op == "flip":
            b[i] ^= 1 << (i % 8)
        elif op == "delete":
            del b[i : i + 1 + i % 5]
        elif op == "insert":
            b[i:i] = bytes([byte])
        elif op == "truncate":
            del b[i:]
        elif op == "duplicate":
            b[i:i] = b[i : i + 1 + i % 40]
        else:
            b[i] = byte
    return bytes(b)


@fuzz
@fuzz_seed
@given(mutations=byte_mutations)
def test_load_mutated_bytes(mutations, model_bytes, workdir, survey):
    path = workdir / "mutated.json"
    path.write_bytes(_mutate_bytes(model_bytes, mutations))
    _load_only_model_file_error(path, survey)


# JSON values of every type; integers stay within float range (see
# test_robustness.py::test_integers_beyond_float_range_are_refused for beyond)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node, prefix=()):
    """Every path (tuple of keys/indices) into a JSON tree, the root excluded."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _number_change(value, how):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return {
        "zero": 0,
        "negate": -value,
        "plus_one": value + 1,
        "double": value * 2,
        "tiny": value * (1 + 1e-6),
        "float": float(value),
        "int": int(value) if np.isfinite(value) else 0,
        "nan": float("nan"),
        "inf": float("inf"),
        "subnormal": 5e-324,
    }[how]


NUMBER_CHANGES = ["zero", "negate", "plus_one", "double", "tiny", "float", "int", "nan", "inf",
                  "subnormal"]  # fmt: skip

structure_mutations = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(["replace", "delete", "add_key", "number", "wrap", "unwrap", "repeat"]),
        json_values,
        st.sampled_from(NUMBER_CHANGES),
    ),
    min_size=1,
    max_size=4,
)


def _mutate_structure(content, mutations):
    for where, op, value, how in mutations:
        paths = list(_paths(content))
        if not paths:
            break
        path = paths[int(where * len(paths))]
        parent = content
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if op == "replace":
            parent[key] = value
        elif op == "delete":
            del parent[key]
        elif op == "add_key":
            if isinstance(parent, dict):
                parent[f"extra{len(parent)}"] = value
            else:
                parent.insert(key, value)
        elif op == "number":
            parent[key] = _number_change(parent[key], how)
        elif op == "wrap":
            parent[key] = [parent[key]]
        elif op == "unwrap":
            if isinstance(parent[key], list) and parent[key]:
                parent[key] = parent[key][0]
        elif isinstance(parent, list):  # repeat an element
            parent.insert(key, json.loads(json.dumps(parent[key])))
    return content


@fuzz
@fuzz_seed
@given(mutations=structure_mutations)
def test_load_mutated_structure(mutations, model_bytes, workdir, survey):
    content = _mutate_structure(json.loads(model_bytes), mutations)
    path = workdir / "structure.json"
    path.write_text(json.dumps(content, allow_nan=True))
    _load_only_model_file_error(path, survey)


@fuzz
@fuzz_seed
@given(
    where=st.floats(0, 1, exclude_max=True),
    how=st.sampled_from(["zero", "negate", "plus_one", "double", "tiny", "nan", "inf"]),
)
def test_load_with_one_number_changed(where, how, model_bytes, workdir, survey):
    """A single number changed: the smallest damage, the hardest to notice."""
    content = json.loads(model_bytes)
    numbers = [
        p
        for p in _paths(content)
        if isinstance(_get(content, p), (int, float)) and not isinstance(_get(content, p), bool)
    ]
    target = numbers[int(where * len(numbers))]
    parent = _get(content, target[:-1])
    old = parent[target[-1]]
    new = parent[target[-1]] = _number_change(old, how)
    path = workdir / "number.json"
    path.write_text(json.dumps(content, allow_nan=True))
    loaded = _load_only_model_file_error(path, survey)
    if target[0] in ("class_sizes", "conditional_probs"):
        # a probability moved by more than the tolerance of the sums (1e-9) must be refused
        if loaded is not None and not abs(new - old) <= 1e-9:
            pytest.fail(f"{target}: {old!r} -> {new!r} ({how}) was accepted")


def _get(content, path):
    for key in path:
        content = content[key]
    return content


# -- the CSV reader and what follows it ----------------------------------------------------


@pytest.fixture(scope="module")
def csv_variants(survey):
    text = survey.to_csv(index=False)
    return {
        "utf-8": text.encode("utf-8"),
        "utf-8-sig": text.encode("utf-8-sig"),
        "latin-1": text.encode("latin-1"),
    }


def _read_fit_assign(path, model):
    start = time.perf_counter()
    try:
        frame = read_table(str(path))
    except ReadError:
        return
    finally:
        assert time.perf_counter() - start < TIME_LIMIT
    assert isinstance(frame, pd.DataFrame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        try:
            fitted = lca.LatentClassModel(2, n_starts=2, max_iter=200).fit(frame)
        except (lca.DataError, ValueError):
            pass
        else:
            post = fitted.predict_proba(frame)
            assert np.isfinite(post.to_numpy()).all()
            assert post.index.equals(frame.index)
        try:
            post = model.predict_proba(frame, unknown="missing")
        except (lca.DataError, ValueError):
            return
        assert np.isfinite(post.to_numpy()).all()
        np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-9)


@fuzz
@fuzz_seed
@given(content=st.binary(max_size=2000))
def test_read_table_random_bytes(content, workdir, model):
    path = workdir / "random.csv"
    path.write_bytes(content)
    _read_fit_assign(path, model)


csv_mutations = mutations_of(b",;\t\n\r\"'01 9.-eEinfNaTrue\xe9\xc3\xff\x00", 10)


@fuzz
@fuzz_seed
@given(encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]), mutations=csv_mutations)
def test_read_table_mutated_csv(encoding, mutations, csv_variants, workdir, model):
    path = workdir / "mutated.csv"
    path.write_bytes(_mutate_bytes(csv_variants[encoding], mutations))
    _read_fit_assign(path, model)


def test_unmutated_csv_variants_read_and_assign_the_same(csv_variants, workdir, model, survey):
    expected = model.predict_proba(survey)
    for encoding, content in csv_variants.items():
        path = workdir / f"{encoding}.csv"
        path.write_bytes(content)
        frame = read_table(str(path))
        assert list(frame.columns) == list(survey.columns)
        pd.testing.assert_frame_equal(model.predict_proba(frame), expected)
