"""Per-indicator Wald tests and R-squared: against the likelihood ratio test written
out, calibrated where an indicator says nothing of the classes, and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lca
from lca.model import LatentClassModel


def two_class_data(seed: int, n: int, weak: np.ndarray, ordinal_weak=None) -> pd.DataFrame:
    """Five binary indicators that tell two classes apart well, and ``q5`` whose
    answers (rows: categories) depend on the class as ``weak`` (C, 2) says."""
    rng = np.random.default_rng(seed)
    cls = (rng.random(n) < 0.4).astype(int)
    data = {}
    for j in range(5):
        p = np.where(cls == 0, 0.85, 0.2)
        data[f"q{j}"] = (rng.random(n) < p).astype(int) + 1
    cum = np.cumsum(weak, axis=0)  # (C, 2)
    data["q5"] = (rng.random(n)[:, None] > cum[:, cls].T).sum(axis=1) + 1
    return pd.DataFrame(data)


def lr_statistic(data: pd.DataFrame, model: LatentClassModel, item: str, **options) -> float:
    """2 (LL - LL0), LL0 the maximum with ``item`` distributed alike in every class: it is
    then independent of the rest, so LL0 is the model of the other indicators plus the
    log-likelihood of ``item``'s own proportions."""
    rest = LatentClassModel(model.n_classes, bayes_constant=0, n_starts=8, **options)
    rest.fit(data.drop(columns=item))
    counts = data[item].value_counts().to_numpy(float)
    own = float(counts @ np.log(counts / counts.sum()))
    return 2.0 * (model.loglik_ - (rest.loglik_ + own))


@pytest.mark.parametrize(
    "weak",
    [
        np.array([[0.45, 0.55], [0.55, 0.45]]),  # binary, small effect
        np.array([[0.30, 0.36], [0.40, 0.40], [0.30, 0.24]]),  # 3 categories
    ],
    ids=["binary", "three"],
)
def test_the_wald_test_is_the_likelihood_ratio_test_for_a_weak_indicator(weak):
    """Wald and LR agree for local alternatives with two classes (within 2% here,
    N = 4,000; 5% allowed; with 3-4 classes a review found 0.5-1.3 times)."""
    data = two_class_data(1, 4000, weak)
    model = LatentClassModel(2, bayes_constant=0, n_starts=8, random_state=0).fit(data)
    tests = model.indicator_tests()
    lr = lr_statistic(data, model, "q5", random_state=0)
    assert tests.loc["q5", "df"] == weak.shape[0] - 1
    assert tests.loc["q5", "wald"] == pytest.approx(lr, rel=0.05)
    assert lr > 5  # a real effect: the comparison is not of two zeros
    assert (tests.loc[["q0", "q1"], "p_value"] < 1e-10).all()


def test_an_ordinal_indicators_test_is_of_its_class_effects():
    """K-1 degrees of freedom, and again the likelihood ratio test (its null: every
    class effect 0, the indicator independent of the classes)."""
    weak = np.array([[0.30, 0.25], [0.30, 0.28], [0.25, 0.27], [0.15, 0.20]])
    data = two_class_data(2, 4000, weak)
    options = dict(ordinal=["q5"], random_state=0)
    model = LatentClassModel(2, bayes_constant=0, n_starts=8, **options).fit(data)
    tests = model.indicator_tests()
    assert tests.loc["q5", "df"] == 1
    assert tests.loc["q5", "wald"] == pytest.approx(
        lr_statistic(data, model, "q5", random_state=0), rel=0.05
    )


def test_p_values_are_uniform_for_an_indicator_that_says_nothing_of_the_classes():
    same = np.array([[0.3, 0.3], [0.5, 0.5], [0.2, 0.2]])
    p = []
    for seed in range(30):
        data = two_class_data(100 + seed, 600, same)
        model = LatentClassModel(2, n_starts=4, random_state=seed).fit(data)
        p.append(model.indicator_tests().loc["q5", "p_value"])
    p = np.array(p)
    assert 0.33 < p.mean() < 0.67
    assert np.mean(p < 0.05) <= 0.2


def test_r2_by_hand():
    """Binary: 1 - sum_k P_k (1 - sum_c P(c|k)^2) / (1 - sum_c P(c)^2); 0.5/0.5 classes
    with P(1) 0.9 and 0.1 give 1 - 0.18 / 0.5 = 0.64 (the squared correlation of a
    binary indicator with the class); an ordinal one by its scores' variances."""
    probs = {
        "a": pd.DataFrame([[0.9, 0.1], [0.1, 0.9]], index=[1, 2], columns=[1, 2]),
        "b": pd.DataFrame([[0.5, 0.5], [0.5, 0.5]], index=[1, 2], columns=[1, 2]),
        "c": pd.DataFrame([[0.6, 0.1], [0.3, 0.3], [0.1, 0.6]], index=[1, 2, 3], columns=[1, 2]),
    }
    model = LatentClassModel.from_parameters([0.5, 0.5], probs)
    data, _ = lca.simulate([0.5, 0.5], probs, 300, random_state=0)
    # not the data's maximum, so its information is not of one: only the R-squared counts
    with pytest.warns(UserWarning, match="the information matrix has rank"):
        tests = model.indicator_tests(data=data)
    assert tests.loc["a", "r2"] == pytest.approx(0.64)
    assert tests.loc["b", "r2"] == pytest.approx(0.0, abs=1e-12)
    within = 1 - (0.36 + 0.09 + 0.01)  # either class
    total = 1 - (0.35**2 + 0.3**2 + 0.35**2)
    assert tests.loc["c", "r2"] == pytest.approx(1 - within / total)
    ordinal = LatentClassModel(2, ordinal=["c"], n_starts=4, random_state=0)
    ordinal.fit(pd.concat([data] * 4, ignore_index=True))
    prof = ordinal.conditional_probs_["c"].to_numpy()  # (category, class)
    sizes = ordinal.class_sizes_.to_numpy()
    scores = np.array([1.0, 2.0, 3.0])
    mean_k = scores @ prof
    var_k = ((scores[:, None] - mean_k) ** 2 * prof).sum(axis=0)
    total_p = prof @ sizes
    var = float(((scores - scores @ total_p) ** 2) @ total_p)
    assert ordinal.indicator_tests().loc["c", "r2"] == pytest.approx(1 - sizes @ var_k / var)


def test_the_table_is_labelled_and_a_model_read_from_a_file_needs_its_data(tmp_path):
    data = two_class_data(3, 500, np.array([[0.4, 0.6], [0.6, 0.4]]))
    model = LatentClassModel(2, n_starts=2, random_state=0).fit(data)
    tests = model.indicator_tests()
    assert list(tests.index) == list(data.columns)
    assert list(tests.columns) == ["wald", "df", "p_value", "r2"]
    model.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    with pytest.raises(lca.NotFittedError):
        loaded.indicator_tests()
    pd.testing.assert_frame_equal(loaded.indicator_tests(data=data), tests, rtol=1e-9)
    robust = model.indicator_tests(method="robust")
    assert not np.allclose(robust["wald"], tests["wald"])


def adjacent_category(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P(c | k) of the adjacent-category model: exp(a_c + b_k s_c), s_c = 1..C."""
    scores = np.arange(1.0, a.size + 1.0)
    eta = a[:, None] + scores[:, None] * b[None, :]
    p = np.exp(eta - eta.max(axis=0))
    return p / p.sum(axis=0)


def test_an_ordinal_test_grows_with_the_effect_up_to_an_end_of_the_scale():
    """A test of the class effects themselves shrinks as a class nears an end of the
    scale (Hauck-Donner); the test of the class mean scores grows with the effect,
    and stays within a factor 2 of the likelihood ratio test."""
    rng = np.random.default_rng(0)
    n = 2000
    cls = (rng.random(n) < 0.5).astype(int)
    base = pd.DataFrame(
        {f"q{j}": np.where(rng.random(n) < np.where(cls == 0, 0.85, 0.15), 1, 2) for j in range(5)}
    )
    u = rng.random(n)
    walds = []
    for effect in (1.0, 3.0, 6.0):
        probs = adjacent_category(np.zeros(4), np.array([0.0, -effect]))
        data = base.assign(y=(u[:, None] > np.cumsum(probs, axis=0)[:, cls].T).sum(axis=1) + 1)
        model = LatentClassModel(2, bayes_constant=0, n_starts=4, ordinal=["y"], random_state=0)
        model.fit(data)
        walds.append(model.indicator_tests().loc["y", "wald"])
        lr = lr_statistic(data, model, "y", random_state=0)
        assert 0.5 * lr < walds[-1] < 2.0 * lr
    assert walds[0] < walds[1] < walds[2]


@pytest.mark.parametrize("ordinal", [None, ["y"]])
def test_answers_that_separate_the_classes_perfectly_get_an_infinite_statistic(ordinal):
    rng = np.random.default_rng(0)
    n = 1000
    cls = (rng.random(n) < 0.5).astype(int)
    data = pd.DataFrame(
        {f"q{j}": np.where(rng.random(n) < np.where(cls == 0, 0.95, 0.05), 1, 2) for j in range(3)}
    )
    data["y"] = cls + 1
    model = LatentClassModel(2, bayes_constant=0, n_starts=8, ordinal=ordinal, random_state=0)
    row = model.fit(data).indicator_tests().loc["y"]
    assert np.isinf(row["wald"]) and row["p_value"] == 0.0 and row["df"] == 1
    assert row["r2"] == pytest.approx(1.0)
