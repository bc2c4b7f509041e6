"""The two published typologies as presets."""

import warnings

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


def test_classes_of_data_without_the_typology_are_flagged_unmatched():
    """Answers shuffled column by column hold no classes: the fitted classes are far from
    the published profiles (mean total-variation distance, recomputed here), and those
    beyond MATCH_THRESHOLD are labelled "(no match)" and named in a warning."""
    from lca.presets._preset import MATCH_THRESHOLD, NO_MATCH

    preset = lca.presets.get("separation-types")
    data, _ = preset.simulate(2767, random_state=1)
    rng = np.random.default_rng(0)
    shuffled = data.apply(lambda s: pd.Series(rng.permutation(s.to_numpy()), dtype=s.dtype))
    with pytest.warns(UserWarning, match=r"fitted classes match no published 'separation-types'"):
        model = preset.fit(shuffled, n_starts=4, random_state=0)
    published = preset.conditional_probs()
    distance = np.mean(
        [
            0.5
            * np.abs(
                published[ind].to_numpy()
                - model.conditional_probs_[ind].reindex(published[ind].index).to_numpy()
            ).sum(axis=0)
            for ind in preset.indicators
        ],
        axis=0,
    )  # published class k against fitted class k, as renumbered
    np.testing.assert_allclose(model.class_match_["distance"], distance, rtol=1e-12)
    far = distance > MATCH_THRESHOLD
    assert far.sum() >= 3
    expected = [f"{n} {NO_MATCH}" if f else n for n, f in zip(preset.class_labels, far)]
    assert model.class_labels_ == expected
    assert set(model.predict(shuffled, labels=True)) <= set(expected)


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


def test_fit_refuses_or_masks_answers_outside_the_published_labels():
    preset = lca.presets.get("separation-types")
    data, _ = preset.simulate(600, random_state=1)
    data = data.astype(object)
    rows = data.index[:7]
    data.loc[rows, "time_since_separation"] = "2 years - 3 years"  # not in the report
    with pytest.raises(lca.DataError) as info:
        preset.fit(data, n_starts=2, random_state=0)
    message = str(info.value)
    assert "'time_since_separation' holds '2 years - 3 years' (7 rows)" in message
    assert "unknown='missing'" in message
    with pytest.warns(UserWarning, match=r"fitted as missing.*7 in 'time_since_separation'"):
        model = preset.fit(data, unknown="missing", n_starts=2, random_state=0)
    masked = data.copy()
    masked.loc[rows, "time_since_separation"] = np.nan
    same = preset.fit(masked, n_starts=2, random_state=0)
    assert model.loglik_ == same.loglik_
    assert model.n_obs_ == 600  # the rows stay, with that answer missing
    pd.testing.assert_frame_equal(model.predict_proba(masked), same.predict_proba(masked))
    with pytest.raises(ValueError, match="unknown must be 'error' or 'missing'"):
        preset.fit(data, unknown="drop")


def test_fit_with_another_number_of_classes_is_not_named():
    preset = lca.presets.get("service-use")
    data, _ = preset.simulate(800, random_state=2)
    model = preset.fit(data, n_classes=3, n_starts=2, random_state=0)
    assert model.n_classes_ == 3
    assert not hasattr(model, "class_labels_") and not hasattr(model, "class_match_")
    sizes = model.class_sizes_.to_numpy()
    assert (np.diff(sizes) <= 0).all()  # numbered by size


def test_class_sizes_reproduce_the_published_total_column(preset):
    # Total = sum_k P_k P(c|k): the published totals check the sizes, independently
    # of how they were chosen (Table B.9's time-since-separation totals are a known defect)
    published = preset.published_profile()["Total"].astype(float)
    model_total = 100 * preset.reference_model().profile()["Total"]
    keep = published.index.get_level_values("indicator") != "time_since_separation"
    error = (model_total[keep] - published[keep]).abs()
    assert error.mean() < 0.7  # rounding to whole per cents, plus "+" and rescaled columns
    assert error.max() < 2.0


def test_n_respondents_agrees_with_the_published_fit_table(preset):
    # BIC - AIC = npar (ln N - 2) and AIC3 - AIC = npar, from the published criteria
    fit = preset.published_fit().astype(float)
    npar = fit["aic3"] - fit["aic"]
    implied = np.exp((fit["bic"] - fit["aic"]) / npar + 2)
    assert np.abs(implied / preset.n_respondents - 1).max() < 0.02


def test_categories_given_to_fit_replace_the_published_labels_of_that_column():
    preset = lca.presets.get("separation-types")
    data, _ = preset.simulate(600, random_state=1)
    data = data.astype(object)
    data.iloc[:40, data.columns.get_loc("time_since_separation")] = "2 years - 3 years"
    labels = list(preset.categories["time_since_separation"])
    labels.insert(3, "2 years - 3 years")  # where the report lost it
    model = preset.fit(
        data, categories={"time_since_separation": labels}, n_starts=2, random_state=0
    )
    fitted = {ind.name: list(ind.categories) for ind in model.indicators_}
    assert fitted["time_since_separation"] == labels
    others = {k: list(v) for k, v in preset.categories.items() if k != "time_since_separation"}
    assert {k: fitted[k] for k in others} == others  # the other columns keep theirs
    assert model.class_labels_ == list(preset.class_labels)
    # with the lost category back the model has the published number of parameters
    # (AIC3 - AIC of Table B.8: 102, 125 and 148 for 4, 5 and 6 classes); without it,
    # one fewer (the lost category's ordinal intercept)
    published = (preset.published_fit()["aic3"] - preset.published_fit()["aic"]).tolist()
    with warnings.catch_warnings():  # 5 iterations: only the parameter count is used
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        # 5 iterations from one start may also leave a class unmatched
        warnings.filterwarnings("ignore", r"\d+ of the 5 fitted classes match no", UserWarning)
        counts = [
            preset.fit(
                data, n_classes=k, categories={"time_since_separation": labels}, n_starts=1,
                max_iter=5,
            ).n_parameters_
            for k in (4, 5, 6)
        ]  # fmt: skip
        plain, _ = preset.simulate(600, random_state=1)
        fewer = preset.fit(plain, n_classes=5, n_starts=1, max_iter=5).n_parameters_
    assert counts == published == [102, 125, 148]
    assert fewer == 124


def test_name_classes_refuses_another_number_of_classes():
    preset = lca.presets.get("service-use")
    data, _ = preset.simulate(500, random_state=2)
    model = lca.LatentClassModel(3, n_starts=2).fit(data)
    with pytest.raises(ValueError, match="has 4 classes; this model has 3"):
        preset.name_classes(model)
