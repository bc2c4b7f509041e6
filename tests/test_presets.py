"""The two published typologies as presets."""

import numpy as np
import pandas as pd
import pytest

import lca
from lca.presets import published_probabilities


@pytest.fixture(scope="module", params=["separation-types", "service-use"])
def preset(request):
    return lca.presets.get(request.param)


def test_registry():
    assert lca.presets.names() == ["separation-types", "service-use"]
    with pytest.raises(KeyError, match="no preset 'nope'"):
        lca.presets.get("nope")


def test_published_tables(preset):
    prof = preset.published_profile()
    assert list(prof.columns) == [*range(1, preset.n_classes + 1), "Total"]
    assert prof.index.get_level_values(0).unique().tolist() == preset.indicators
    sums = prof.drop(columns="Total").groupby(level=0).sum()
    assert ((sums >= 98) & (sums <= 102)).all().all()  # rounding, "+" shown as NaN
    fit = preset.published_fit()
    assert fit.index.tolist() == [4, 5, 6] and "bic" in fit.columns
    assert len(preset.indicators) == {"separation-types": 9, "service-use": 14}[preset.name]
    assert abs(sum(preset.class_sizes) - 1.0) < 1e-9


def test_percentages_to_probabilities_by_hand():
    probs = published_probabilities([["50", "0"], ["49", "+"], ["0", "100"]])
    # 0 -> 0.1, "+" -> 0.25, then columns rescaled
    np.testing.assert_allclose(probs[:, 0], np.array([50, 49, 0.1]) / 99.1)
    np.testing.assert_allclose(probs[:, 1], np.array([0.1, 0.25, 100]) / 100.35)


def test_reference_model_assigns_as_well_as_the_truth_allows(preset):
    ref = preset.reference_model()
    data, truth = preset.simulate(20_000, random_state=11)
    agreement = float((ref.predict(data) == truth).mean())
    # under the true model the expected share of correct modal assignments is E[max_k p_ik]
    expected = float(ref.predict_proba(data).max(axis=1).mean())
    assert abs(agreement - expected) < 0.01
    labels = ref.predict(data.iloc[:5], labels=True)
    assert set(labels) <= set(preset.class_labels)


def test_refit_recovers_the_published_classes(preset):
    data, truth = preset.simulate(2767, random_state=3)
    model = preset.fit(data, n_starts=16, random_state=0)
    assert model.class_labels_ == list(preset.class_labels)
    assert model.class_match_["matched"].all()
    sizes = model.class_sizes_.to_numpy()
    assert np.abs(sizes - np.array(preset.class_sizes)).max() < 0.03
    pred = model.predict(data)
    # naming: each fitted class carries the name of the true class most of its members are in
    dominant = pd.crosstab(pred, truth).idxmax(axis=1)
    named_right = float((pred.map(dominant) == pred).mean())
    assert named_right >= 0.95
    oracle = float((preset.reference_model().predict(data) == truth).mean())
    agreement = float((pred == truth).mean())
    assert agreement >= oracle - 0.02
    if preset.name == "separation-types":  # well separated: most respondents assigned right
        assert agreement >= 0.95


def test_separation_types_parameters_per_added_class():
    p = lca.presets.get("separation-types")
    data, _ = p.simulate(1000, random_state=0)
    counts = [p.fit(data, n_classes=k, n_starts=2).n_parameters_ for k in (4, 5, 6)]
    assert np.diff(counts).tolist() == [23, 23]


def test_wrong_columns_list_what_is_expected():
    p = lca.presets.get("separation-types")
    data, _ = p.simulate(50, random_state=0)
    with pytest.raises(lca.DataError, match=r"needs column\(s\) \['decisions'\]"):
        p.fit(data.drop(columns="decisions"))
    bad = data.astype(object)
    bad.loc[0, "decisions"] = "Mainly by NRP"
    with pytest.raises(lca.DataError, match="column 'decisions' holds 'Mainly by NRP'"):
        p.reference_model().predict(bad)


def test_fitted_preset_model_round_trips(tmp_path):
    p = lca.presets.get("service-use")
    data, _ = p.simulate(800, random_state=2)
    model = p.fit(data, n_starts=4)
    model.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    assert loaded.class_labels_ == list(p.class_labels)
    pd.testing.assert_series_equal(
        loaded.predict(data, labels=True), model.predict(data, labels=True)
    )
    pd.testing.assert_frame_equal(loaded.class_match_, model.class_match_)
    assert not hasattr(p.reference_model(), "class_match_")  # only fitted presets have one
