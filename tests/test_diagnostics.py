"""Bivariate residuals, cross-tabulation with outside variables, the bootstrap LR test."""

import warnings

import numpy as np
import pandas as pd
import pytest

import lca
from lca.diagnostics import BLRTResult, blrt, crosstab


@pytest.fixture(scope="module")
def gss82():
    return lca.datasets.load_gss82()


@pytest.fixture(scope="module")
def gss82_holes():
    """gss82 with 8% of answers missing, a respondent with none, and survey weights."""
    rng = np.random.default_rng(5)
    data = lca.datasets.load_gss82().astype(object)
    data = data.mask(rng.random(data.shape) < 0.08)
    data.iloc[7] = None
    data.index = [f"r{i}" for i in range(len(data))]
    weights = rng.uniform(0.3, 2.0, len(data))
    return data, weights


def five_class_truth():
    """Five well-separated classes on nine indicators (as in tests/test_model.py)."""
    rng = np.random.default_rng(2024)
    sizes = np.array([0.32, 0.24, 0.18, 0.14, 0.12])
    n_cats = [4, 4, 5, 5, 3, 3, 4, 2, 6]
    cond = {f"q{j}": rng.dirichlet(np.full(c, 0.4), size=5).T for j, c in enumerate(n_cats)}
    return sizes, cond


# -- bivariate residuals ---------------------------------------------------------------


def brute_force_bvr(model, data, weights):
    """The BVR definition, one respondent and one cell at a time."""
    inds = model.indicators_
    sizes = model.class_sizes_.to_numpy()
    n_ind = len(inds)
    out = np.full((n_ind, n_ind), np.nan)
    rows = data[[ind.name for ind in inds]].to_numpy(dtype=object)
    for a in range(n_ind):
        for b in range(n_ind):
            if a == b:
                continue
            cats_a, cats_b = list(inds[a].categories), list(inds[b].categories)
            probs_a = model.conditional_probs_[inds[a].name].to_numpy()
            probs_b = model.conditional_probs_[inds[b].name].to_numpy()
            observed = np.zeros((len(cats_a), len(cats_b)))
            for i in range(len(rows)):
                x, y = rows[i, a], rows[i, b]
                if pd.isna(x) or pd.isna(y):
                    continue
                observed[cats_a.index(x), cats_b.index(y)] += weights[i]
            n = observed.sum()
            x2 = 0.0
            for r in range(len(cats_a)):
                for c in range(len(cats_b)):
                    expected = 0.0
                    for k in range(len(sizes)):
                        expected += n * sizes[k] * probs_a[r, k] * probs_b[c, k]
                    x2 += (observed[r, c] - expected) ** 2 / expected
            out[a, b] = x2 / ((len(cats_a) - 1) * (len(cats_b) - 1))
    return out


@pytest.mark.parametrize("k", [1, 2, 3])
def test_bvr_equals_brute_force_on_gss82(gss82, k):
    m = lca.LatentClassModel(k, n_starts=4, bayes_constant=0).fit(gss82)
    bvr = m.bivariate_residuals()
    expected = brute_force_bvr(m, gss82, np.ones(len(gss82)))
    np.testing.assert_allclose(bvr.to_numpy(), expected, rtol=1e-10)
    names = list(gss82.columns)
    assert bvr.index.tolist() == names and bvr.columns.tolist() == names


def test_bvr_with_missing_answers_and_weights(gss82_holes):
    data, weights = gss82_holes
    m = lca.LatentClassModel(2, n_starts=4).fit(data, weights=weights)
    bvr = m.bivariate_residuals()
    np.testing.assert_allclose(bvr.to_numpy(), brute_force_bvr(m, data, weights), rtol=1e-10)
    values = bvr.to_numpy()
    assert np.all(np.isnan(np.diag(values)))
    np.testing.assert_array_equal(values, values.T)
    off = values[~np.eye(len(values), dtype=bool)]
    assert np.all(np.isfinite(off)) and np.all(off >= 0)


def test_bvr_shrinks_when_the_classes_explain_the_association(gss82):
    largest = [
        np.nanmax(lca.LatentClassModel(k, n_starts=4, bayes_constant=0).fit(gss82)
                  .bivariate_residuals().to_numpy())
        for k in (1, 3)
    ]  # fmt: skip
    assert largest[1] < largest[0] / 10


def test_bvr_of_a_loaded_model_says_it_has_no_data(gss82, tmp_path):
    m = lca.LatentClassModel(2, n_starts=2).fit(gss82)
    m.save(tmp_path / "m.json")
    with pytest.raises(lca.NotFittedError, match="loaded from a file"):
        lca.load(tmp_path / "m.json").bivariate_residuals()


# -- crosstab ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_holes(gss82_holes):
    data, weights = gss82_holes
    return lca.LatentClassModel(3, n_starts=4).fit(data, weights=weights)


def hand_crosstab(assign, variable, weights, labels):
    """Column percentages and bases, by loops; ``assign`` is (n, K) shares."""
    n, k = assign.shape
    pct = np.zeros((len(labels), k + 1))
    wbase = np.zeros(k + 1)
    ubase = np.zeros(k + 1)
    for i in range(n):
        value = variable[i]
        row = labels.index("Missing" if pd.isna(value) else value)
        shares = [*assign[i], 1.0]
        for c in range(k + 1):
            pct[row, c] += weights[i] * shares[c]
            wbase[c] += weights[i] * shares[c]
            ubase[c] += shares[c]
    return np.vstack([100 * pct / wbase, wbase, ubase])


def test_crosstab_modal_equals_hand_computation(gss82_holes, fitted_holes):
    data, weights = gss82_holes
    rng = np.random.default_rng(1)
    sex = pd.Series(rng.choice(["Male", "Female", None], len(data), p=[0.45, 0.5, 0.05]),
                    index=data.index, name="sex")  # fmt: skip
    table = fitted_holes.crosstab(sex, weights=weights)
    assigned = fitted_holes.predict(data).to_numpy()
    onehot = np.eye(3)[assigned - 1]
    labels = ["Female", "Male", "Missing"]
    expected = hand_crosstab(onehot, sex.to_numpy(), weights, labels)
    assert table.index.tolist() == [*labels, "Weighted base", "Unweighted base"]
    assert table.columns.tolist() == [1, 2, 3, "Total"]
    assert table.index.name == "sex"
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=1e-12)
    # the unweighted bases count the respondents assigned to each class
    assert table.loc["Unweighted base", 2] == np.sum(assigned == 2)
    assert table.loc["Unweighted base", "Total"] == len(data)
    np.testing.assert_allclose(table.iloc[:3].sum(axis=0), 100.0)


def test_crosstab_proportional_equals_hand_computation(gss82_holes, fitted_holes):
    data, weights = gss82_holes
    party = pd.Series(np.random.default_rng(2).integers(1, 4, len(data)), index=data.index)
    table = crosstab(fitted_holes, party, weights=weights, kind="proportional")
    post = fitted_holes.predict_proba(data).to_numpy()
    expected = hand_crosstab(post, party.to_numpy(), weights, [1, 2, 3])
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=1e-12)
    assert "Missing" not in table.index


def test_crosstab_unweighted_and_categorical_order(gss82):
    m = lca.LatentClassModel(2, n_starts=2).fit(gss82)
    table = m.crosstab(gss82["COOPERAT"])  # a Categorical keeps its order
    assert table.index.tolist()[:3] == list(gss82["COOPERAT"].cat.categories)
    np.testing.assert_array_equal(table.loc["Weighted base"], table.loc["Unweighted base"])


def test_crosstab_refuses_true_beside_1_rather_than_merging_them(gss82):
    m = lca.LatentClassModel(2, n_starts=2).fit(gss82)
    mixed = pd.Series([1, True] * (len(gss82) // 2), index=gss82.index, dtype=object, name="kids")
    with pytest.raises(lca.DataError, match=r"column 'kids' mixes True \(bool\) and 1 \(int\)"):
        m.crosstab(mixed)
    # bools beside other numbers are separate categories
    fine = pd.Series([2, True] * (len(gss82) // 2), index=gss82.index, dtype=object)
    assert m.crosstab(fine).index.tolist()[:2] in ([True, 2], [2, True])


def test_crosstab_reorders_a_shuffled_series_and_refuses_misaligned_ones(gss82_holes, fitted_holes):
    data, weights = gss82_holes
    var = pd.Series(np.arange(len(data)) % 2, index=data.index)
    table = fitted_holes.crosstab(var, weights=weights)
    shuffled = var.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(fitted_holes.crosstab(shuffled, weights=weights), table)
    positional = fitted_holes.crosstab(var.to_numpy(), weights=weights)
    np.testing.assert_array_equal(positional.to_numpy(), table.to_numpy())
    with pytest.raises(lca.DataError, match="has 10 values but the model was fitted to 1202"):
        fitted_holes.crosstab(var.iloc[:10])
    with pytest.raises(lca.DataError, match="index is not the fitted data's index"):
        fitted_holes.crosstab(var.reset_index(drop=True))
    with pytest.raises(lca.DataError, match="one value per fitted row"):
        fitted_holes.crosstab(np.arange(5))
    with pytest.raises(lca.DataError, match="weights"):
        fitted_holes.crosstab(var, weights=np.ones(3))
    with pytest.raises(ValueError, match="kind must be"):
        fitted_holes.crosstab(var, kind="soft")
    with pytest.raises(lca.DataError, match="'Missing'"):
        fitted_holes.crosstab(var.map({0: "Missing", 1: "x"}))


# -- bootstrap likelihood ratio test -------------------------------------------------


def test_blrt_on_a_simulated_five_class_model():
    """Rejects 4 against 5 classes and keeps 5 against 6 (39 bootstrap samples, seed 0).

    39 samples make 1/40 = 0.025 the smallest p-value: enough to reject at 5%.
    """
    sizes, cond = five_class_truth()
    data, _ = lca.simulate(sizes, cond, 5000, random_state=11)
    options = dict(n_bootstrap=39, n_starts=8, bootstrap_starts=4, random_state=0, n_jobs=2)
    four_five = blrt(data, 5, **options)
    five_six = blrt(data, 6, **options)
    assert four_five.p_value == pytest.approx(1 / 40)
    assert four_five.statistic > 10 * four_five.bootstrap_statistics.max()
    assert five_six.p_value > 0.2
    assert five_six.n_classes == 6 and five_six.n_bootstrap == 39


def test_blrt_p_value_formula_and_result(gss82):
    res = blrt(gss82, 2, n_bootstrap=9, n_starts=4, bayes_constant=0)
    assert isinstance(res, BLRTResult)
    assert res.bootstrap_statistics.shape == (9,)
    m1 = lca.LatentClassModel(1, n_starts=4, bayes_constant=0).fit(gss82)
    m2 = lca.LatentClassModel(2, n_starts=4, bayes_constant=0).fit(gss82)
    assert res.statistic == pytest.approx(2 * (m2.loglik_ - m1.loglik_), rel=1e-9)
    assert res.loglik_null == pytest.approx(m1.loglik_) and res.loglik_alt == pytest.approx(
        m2.loglik_
    )
    expected = (1 + np.sum(res.bootstrap_statistics >= res.statistic)) / 10
    assert res.p_value == expected
    assert "1 vs 2 classes" in repr(res)
    assert BLRTResult.from_dict(res.to_dict()).p_value == res.p_value


def test_blrt_is_identical_for_any_n_jobs_and_repeats(gss82_holes):
    data, weights = gss82_holes
    runs = [
        blrt(data, 3, n_bootstrap=6, weights=weights, n_starts=3, random_state=4, n_jobs=n)
        for n in (1, 2, 1)
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.bootstrap_statistics, runs[0].bootstrap_statistics)
        assert other.p_value == runs[0].p_value
    other_seed = blrt(data, 3, n_bootstrap=6, weights=weights, n_starts=3, random_state=5)
    assert not np.array_equal(other_seed.bootstrap_statistics, runs[0].bootstrap_statistics)


def test_blrt_samples_keep_each_rows_missing_answers_and_weight(gss82_holes, monkeypatch):
    data, weights = gss82_holes
    seen = []
    original = lca.LatentClassModel.fit

    def spy(self, frame, weights=None, **kwargs):
        seen.append((frame.isna().to_numpy(), np.asarray(weights, dtype=float), frame))
        return original(self, frame, weights=weights, **kwargs)

    monkeypatch.setattr(lca.LatentClassModel, "fit", spy)
    blrt(data, 2, n_bootstrap=3, weights=weights, n_starts=2)
    assert len(seen) == 2 + 2 * 3  # the data, then two fits per sample
    mask = data.isna().to_numpy()
    for missing, w, _ in seen:
        np.testing.assert_array_equal(missing, mask)
        np.testing.assert_array_equal(w, weights)
    samples = [frame for _, _, frame in seen[2::2]]
    assert not samples[0].equals(samples[1])  # fresh draws
    assert list(samples[0].columns) == list(data.columns)


def test_blrt_weights_as_column_name(gss82_holes):
    data, weights = gss82_holes
    a = blrt(data, 2, n_bootstrap=3, weights=weights, n_starts=2)
    b = blrt(data.assign(wt=weights), 2, n_bootstrap=3, weights="wt", n_starts=2)
    np.testing.assert_array_equal(a.bootstrap_statistics, b.bootstrap_statistics)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_classes": 1}, "n_classes must be an integer >= 2"),
        ({"n_classes": 2, "n_bootstrap": 0}, "n_bootstrap must be an integer >= 1"),
        ({"n_classes": 2, "random_state": -1}, "random_state"),
        ({"n_classes": 2, "bootstrap_starts": 1.5}, "bootstrap_starts"),
        ({"n_classes": 2, "bootstrap_starts": 0}, "bootstrap_starts must be an integer >= 1"),
    ],
)
def test_blrt_refuses_bad_arguments(gss82, kwargs, message):
    with pytest.raises(ValueError, match=message):
        blrt(gss82, n_starts=2, **kwargs)


@pytest.mark.parametrize("kind", ["bch", "ml"])
def test_corrected_crosstab_warns_of_a_class_seldom_anyones_modal_class(kind):
    """20 distinct answer patterns whose posteriors are set by hand: class 2 holds 33.0%
    by them but is the modal class of one row (5.0%). Not for the modal table."""
    answers = pd.DataFrame([[int(b) for b in f"{i:05b}"] for i in range(20)], columns=list("abcde"))
    with pytest.warns(lca.ConvergenceWarning):
        model = lca.LatentClassModel(3, n_starts=1, max_iter=3, random_state=0).fit(answers)
    post = np.array([[0.6, 0.3, 0.1]] * 8 + [[0.1, 0.3, 0.6]] * 8 + [[0.45, 0.4, 0.15]] * 4)
    post[-1] = [0.1, 0.6, 0.3]
    by_pattern = np.empty_like(post)
    by_pattern[model._fit_inverse] = post  # row i's pattern gets row i's posteriors
    model._pattern_post = by_pattern
    outcome = pd.Series(["yes", "no"] * 10)
    with pytest.warns(UserWarning, match=r"class 2 holds 33\.0% .* only 5\.0%"):
        crosstab(model, outcome, kind=kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crosstab(model, outcome, kind="modal")


def test_crosstab_of_a_loaded_model_with_data_equals_the_fitted_models(gss82_holes, tmp_path):
    """A model loaded from a file keeps no rows: crosstab(variable, data=df) reads them
    and gives the fitted model's table, every kind, with weights as values or by name."""
    data, weights = gss82_holes
    model = lca.LatentClassModel(3, random_state=0).fit(data, weights=weights)
    model.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    rng = np.random.default_rng(1)
    variable = pd.Series(rng.choice(["x", "y", None], len(data)), index=data.index, name="v")
    with pytest.raises(lca.NotFittedError, match=r"crosstab\(variable, data=df\)"):
        loaded.crosstab(variable)
    with pytest.raises(ValueError, match="unknown= goes with data="):
        model.crosstab(variable, unknown="missing")
    with pytest.raises(lca.DataError, match=rf"has 10 values but the data have {len(data)} rows"):
        loaded.crosstab(variable.iloc[:10], data=data)
    framed = data.assign(v=variable, wt=weights)
    for kind in ("modal", "proportional", "bch", "ml"):
        expected = model.crosstab(variable, weights=weights, kind=kind)
        got = loaded.crosstab(variable, weights=weights, kind=kind, data=data)
        pd.testing.assert_frame_equal(got, expected, rtol=1e-9)
        by_name = loaded.crosstab("v", weights="wt", kind=kind, data=framed)
        pd.testing.assert_frame_equal(by_name, expected, rtol=1e-9)


def test_blrt_runs_under_a_process_backend_of_joblib():
    """A user's joblib backend of processes (loky) sends BLRT's tasks to other processes:
    they must pickle (a frame object in them did not), and give the threads' result."""
    import joblib

    rng = np.random.default_rng(0)
    cls = rng.integers(0, 2, 200)
    data = pd.DataFrame(
        {f"q{j}": (rng.random(200) < np.where(cls == 0, 0.8, 0.2)).astype(int) for j in range(4)}
    )
    threads = lca.blrt(data, n_classes=2, n_bootstrap=3, n_jobs=2, random_state=0)
    with joblib.parallel_config(backend="loky"):
        processes = lca.blrt(data, n_classes=2, n_bootstrap=3, n_jobs=2, random_state=0)
    np.testing.assert_array_equal(processes.bootstrap_statistics, threads.bootstrap_statistics)
