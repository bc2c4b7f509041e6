"""The parametric bootstrap of the fit: calibrated under the model, powerful against
local dependence, samples missing where the data are, and reproducible."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lca
from lca.model import LatentClassModel

#: P(answer 1 | class) of 6 binary indicators in 2 classes.
PROBS = np.array([[0.85, 0.2], [0.8, 0.25], [0.75, 0.15], [0.8, 0.3], [0.7, 0.2], [0.9, 0.3]])


def simulate(seed: int, n: int, missing: float = 0.0) -> pd.DataFrame:
    cond = {f"q{j}": np.vstack([1 - PROBS[j], PROBS[j]]) for j in range(PROBS.shape[0])}
    data, _ = lca.simulate([0.6, 0.4], cond, n, random_state=seed, missing=missing)
    return data


def test_p_values_are_uniform_when_the_data_come_from_the_model():
    """Under the model, P(p <= a) is about a: over 40 data sets of 300 respondents
    (10% of answers missing), L2's p-values average about 1/2 and are rarely small.
    A bootstrap from other parameters, without the refit, or without the missing
    answers would be off (p-values near 0 or 1)."""
    p_l2, p_x2, p_bvr = [], [], []
    for seed in range(40):
        data = simulate(seed, 300, missing=0.1)
        model = LatentClassModel(2, n_starts=2, random_state=seed).fit(data)
        result = model.bootstrap_gof(19, random_state=seed, bootstrap_starts=1)
        p_l2.append(result.p_L2)
        p_x2.append(result.p_X2)
        p_bvr.append(result.bvr_p_values.iat[0, 1])
    p_l2, p_x2, p_bvr = np.array(p_l2), np.array(p_x2), np.array(p_bvr)
    assert 0.38 < p_l2.mean() < 0.62
    assert 0.38 < p_x2.mean() < 0.62
    assert np.mean(p_l2 <= 0.1) <= 0.25
    assert 0.35 < p_bvr.mean() < 0.65


def test_local_dependence_gets_the_smallest_p_value_and_other_pairs_do_not():
    data = simulate(100, 1500)
    copy = np.random.default_rng(1).random(1500) < 0.3  # q5 repeats q4 for 30%
    data["q5"] = data["q5"].where(~copy, data["q4"])
    model = LatentClassModel(2, n_starts=4, random_state=0).fit(data)
    result = model.bootstrap_gof(39, random_state=0)
    assert result.bvr_p_values.loc["q4", "q5"] == pytest.approx(1 / 40)
    first = result.pairs().index[0]
    assert set(first) == {"q4", "q5"}
    # the pairs of q0..q3, which the classes explain, are mostly not flagged
    others = result.bvr_p_values.loc[["q0", "q1", "q2", "q3"], ["q0", "q1", "q2", "q3"]]
    assert np.nanmedian(others.to_numpy()) > 0.05
    # the p-values count the samples at or above the data's statistic
    assert result.p_X2 == (1 + np.sum(result.bootstrap_X2 >= result.X2)) / 40
    np.testing.assert_array_equal(result.bvr.to_numpy(), model.bivariate_residuals().to_numpy())


def test_samples_keep_each_rows_missing_answers_and_weight(monkeypatch):
    data = simulate(3, 200, missing=0.15)
    weights = np.random.default_rng(3).integers(0, 4, 200).astype(float)
    model = LatentClassModel(2, n_starts=2, random_state=0).fit(data, weights=weights)
    seen = []
    original = LatentClassModel._fit_encoded

    def recording(self, encoded, progress=False, start_from=None):
        seen.append(encoded)
        return original(self, encoded, progress, start_from)

    monkeypatch.setattr(LatentClassModel, "_fit_encoded", recording)
    model.bootstrap_gof(3, weights=weights, random_state=0)
    missing = data[[ind.name for ind in model.indicators_]].isna().to_numpy()
    for encoded in seen:
        rows = encoded.patterns[encoded.inverse]
        np.testing.assert_array_equal(rows < 0, missing)
        np.testing.assert_allclose(
            np.bincount(encoded.inverse, weights=weights, minlength=len(encoded.patterns)),
            encoded.pattern_weights,
        )
        assert encoded.indicators == list(model.indicators_)


def test_the_same_seed_gives_the_same_p_values_whatever_n_jobs():
    data = simulate(5, 300)
    model = LatentClassModel(2, n_starts=2, random_state=0).fit(data)
    one = model.bootstrap_gof(8, random_state=4, n_jobs=1)
    two = lca.bootstrap_gof(model, 8, random_state=4, n_jobs=2)
    np.testing.assert_array_equal(one.bootstrap_L2, two.bootstrap_L2)
    np.testing.assert_array_equal(one.bootstrap_bvr, two.bootstrap_bvr)
    assert one.p_L2 == two.p_L2
    other = model.bootstrap_gof(8, random_state=5)
    assert not np.array_equal(one.bootstrap_L2, other.bootstrap_L2)
    assert "bootstrap p" in one.as_text() and "q" in one.as_text()


def test_weights_must_be_those_of_the_fit_and_the_rows_must_be_there(tmp_path):
    data = simulate(6, 200)
    weights = np.random.default_rng(6).uniform(0.5, 2.0, 200)
    model = LatentClassModel(2, n_starts=2, random_state=0).fit(data, weights=weights)
    with pytest.raises(ValueError, match="not fitted with no weights"):
        model.bootstrap_gof(2)
    with pytest.raises(ValueError, match="not fitted with these weights"):
        model.bootstrap_gof(2, weights=weights[::-1])
    with pytest.raises(ValueError, match="one value per fitted row"):
        model.bootstrap_gof(2, weights=weights[:10])
    with pytest.raises(TypeError, match="not a column name"):
        model.bootstrap_gof(2, weights="w")
    series = pd.Series(weights, index=data.index)
    given = model.bootstrap_gof(2, weights=series)
    shuffled = series.sample(frac=1, random_state=0)  # reordered by label, as fit does
    again = model.bootstrap_gof(2, weights=shuffled)
    np.testing.assert_array_equal(given.bootstrap_L2, again.bootstrap_L2)
    with pytest.raises(ValueError, match="not the index of the data"):
        model.bootstrap_gof(2, weights=series.set_axis(series.index + 1000))
    with pytest.raises(ValueError, match="n_bootstrap must be an integer >= 1"):
        model.bootstrap_gof(0, weights=weights)
    model.save(tmp_path / "m.json")
    with pytest.raises(lca.NotFittedError, match=r"read from a file.*fit it to the data again"):
        lca.load(tmp_path / "m.json").bootstrap_gof(2)
    with pytest.raises(lca.NotFittedError, match="not fitted yet"):
        LatentClassModel(2).bootstrap_gof(2)
    built = LatentClassModel.from_parameters(model.class_sizes_, model.conditional_probs_)
    with pytest.raises(lca.NotFittedError, match="built from parameters"):
        built.bootstrap_gof(2)
    noise = np.random.default_rng(0).normal(size=200)
    regression = lca.LatentClassRegression(2, n_starts=1).fit(data.assign(x=noise), "x")
    with pytest.raises(TypeError, match="takes a LatentClassModel, not a LatentClassRegression"):
        lca.bootstrap_gof(regression, 2)


def test_the_bootstrap_refits_the_model_as_fitted_whatever_set_params_did_since():
    data = simulate(7, 300)
    model = LatentClassModel(3, n_starts=2, random_state=0).fit(data)
    before = model.bootstrap_gof(4, random_state=1)
    model.set_params(n_classes=2, bayes_constant=0.0)
    after = model.bootstrap_gof(4, random_state=1)
    assert after.n_classes == 3
    np.testing.assert_array_equal(before.bootstrap_L2, after.bootstrap_L2)


def test_compare_bootstraps_every_model_as_the_model_itself_does(tmp_path):
    data = simulate(8, 300, missing=0.05)
    weights = np.random.default_rng(8).uniform(0.5, 2.0, 300)
    options = dict(n_starts=2, random_state=3, n_bootstrap=5, progress=False)
    res = lca.compare(data, [1, 2, 3], weights, bootstrap_gof=True, **options)
    for k in (1, 2, 3):
        own = res.models[k].bootstrap_gof(5, weights=weights, random_state=3)
        np.testing.assert_array_equal(res.gof[k].bootstrap_L2, own.bootstrap_L2)
        assert res.table.loc[k, "bootstrap_p_L2"] == own.p_L2
        assert res.table.loc[k, "bootstrap_p_X2"] == own.p_X2
        assert res.table.loc[k, "bvr_significant"] == own.n_significant()
    assert "L2 boot p" in res.summary().as_text()
    # checkpoints: the results are saved with the models and read back; models read
    # back (no rows kept) are bootstrapped from the sweep's pattern table, the same
    first = lca.compare(
        data, [2, 3], weights, bootstrap_gof=True, checkpoint_dir=tmp_path, **options
    )
    (tmp_path / "model_3.row.json").write_text(
        (tmp_path / "model_3.row.json").read_text().replace('"gof"', '"gof_dropped"')
    )
    again = lca.compare(
        data, [2, 3], weights, bootstrap_gof=True, checkpoint_dir=tmp_path, **options
    )
    assert again.reused == (2, 3)
    pd.testing.assert_frame_equal(again.table, first.table)
    for k in (2, 3):
        np.testing.assert_array_equal(again.gof[k].bootstrap_bvr, first.gof[k].bootstrap_bvr)
        pd.testing.assert_frame_equal(again.gof[k].bvr_p_values, first.gof[k].bvr_p_values)


def test_a_result_round_trips_through_its_dict():
    data = simulate(9, 200, missing=0.1)
    result = LatentClassModel(2, n_starts=2, random_state=0).fit(data).bootstrap_gof(3)
    back = lca.BootstrapGOFResult.from_dict(json.loads(json.dumps(result.to_dict())))
    for name in ("L2", "X2", "p_L2", "p_X2", "n_classes", "n_bootstrap", "n_not_converged"):
        assert getattr(back, name) == getattr(result, name)
    np.testing.assert_array_equal(back.bootstrap_bvr, result.bootstrap_bvr)
    pd.testing.assert_frame_equal(back.bvr, result.bvr)
    pd.testing.assert_frame_equal(back.bvr_p_values, result.bvr_p_values)


def three_answer_data(n: int = 400, n_items: int = 7, seed: int = 0) -> pd.DataFrame:
    """Two classes, items of 3 answers (5% missing): with one start per K, a K+1 class
    model merged gives some K a higher maximum (the way down of merge_starts)."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    low, high = np.linspace(0.8, 0.1, 3), np.linspace(0.8, 0.1, 3)[::-1]
    cols = {}
    for j in range(n_items):
        p = np.where(z[:, None] == 1, high / high.sum(), low / low.sum())
        v = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1).astype(float) + 1
        v[rng.random(n) < 0.05] = np.nan
        cols[f"q{j}"] = v
    return pd.DataFrame(cols)


def test_a_merge_refit_gets_its_own_bootstraps_and_the_sweeps_options(tmp_path):
    """Adding K+1 to a checkpointed sweep can replace model K by a merge refit: the
    saved bootstraps of the old model K are not reused for it, and the refit keeps the
    sweep's options, so its own bootstrap_gof is compare's."""
    data = three_answer_data()
    options = dict(n_starts=1, random_state=0, pattern_starts=0, merge_starts=True)
    options.update(progress=False, n_bootstrap=6, bootstrap_gof=True, blrt=True)
    lca.compare(data, [2, 3, 4], checkpoint_dir=tmp_path, **options)
    again = lca.compare(data, [2, 3, 4, 5], checkpoint_dir=tmp_path, **options)
    fresh = lca.compare(data, [2, 3, 4, 5], **options)
    refitted = [k for k in (2, 3, 4) if k not in again.reused]
    assert refitted, "no merge refit: the test does not test what it should"
    for k in (2, 3, 4, 5):
        assert again.models[k].loglik_ == fresh.models[k].loglik_
        np.testing.assert_array_equal(again.gof[k].bootstrap_L2, fresh.gof[k].bootstrap_L2)
        assert again.table.loc[k, "bootstrap_p_L2"] == fresh.table.loc[k, "bootstrap_p_L2"]
    for k in (3, 4, 5):
        np.testing.assert_array_equal(
            again.blrt[k].bootstrap_statistics, fresh.blrt[k].bootstrap_statistics
        )
    for k in refitted:
        model = fresh.models[k]
        assert model.n_starts == 1
        own = model.bootstrap_gof(6, random_state=0)
        np.testing.assert_array_equal(own.bootstrap_X2, fresh.gof[k].bootstrap_X2)


def test_bootstrap_starts_are_checked_before_any_fit(monkeypatch):
    calls = []
    monkeypatch.setattr(LatentClassModel, "_fit_encoded", lambda *a, **k: calls.append(1))
    with pytest.raises(ValueError, match="bootstrap_starts must be an integer >= 1"):
        lca.compare(simulate(1, 50), [1, 2], bootstrap_gof=True, bootstrap_starts=0)
    assert not calls


def test_tuple_indicator_names_round_trip(tmp_path):
    data = simulate(10, 200)
    data.columns = pd.MultiIndex.from_tuples([("wave1", c) for c in data.columns])
    model = LatentClassModel(2, n_starts=2, random_state=0).fit(data)
    result = model.bootstrap_gof(3)
    assert result.bvr.index[0] == ("wave1", "q0")
    back = lca.BootstrapGOFResult.from_dict(json.loads(json.dumps(result.to_dict())))
    pd.testing.assert_frame_equal(back.bvr_p_values, result.bvr_p_values)
