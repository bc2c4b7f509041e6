"""Defects found in review, each pinned by a test."""

import math

import numpy as np
import pandas as pd
import pytest

import lca


@pytest.fixture(scope="module")
def gss82():
    return lca.datasets.load_gss82().astype(object)


def test_a_zero_weight_row_adds_no_category(gss82):
    extra = pd.DataFrame(
        [
            {
                "PURPOSE": "Other",
                "ACCURACY": "Mostly true",
                "UNDERSTA": "Good",
                "COOPERAT": "Interested",
            }
        ]
    )
    a = lca.LatentClassModel(3, bayes_constant=0).fit(gss82)
    data = pd.concat([gss82, extra], ignore_index=True)
    b = lca.LatentClassModel(3, bayes_constant=0).fit(data, weights=np.r_[np.ones(1202), 0.0])
    assert b.n_parameters_ == a.n_parameters_ == 20
    assert b.loglik_ == pytest.approx(a.loglik_, rel=1e-10)
    assert b.fit_stats()["bic"] == pytest.approx(a.fit_stats()["bic"], rel=1e-10)
    assert b.n_rows_ == 1203
    assert "Other" not in b.indicators_[0].categories


def test_y_is_ignored_and_weights_are_keyword_only(gss82):
    y = np.arange(len(gss82)) % 3
    a = lca.LatentClassModel(2, n_starts=2).fit(gss82, y)
    assert a.n_obs_ == len(gss82)  # y was not taken as weights
    with pytest.raises(TypeError):
        lca.LatentClassModel(2).fit(gss82, None, np.ones(len(gss82)))


def test_refit_forgets_labels_of_a_previous_fit():
    p = lca.presets.get("separation-types")
    data, _ = p.simulate(800, random_state=1)
    m = p.fit(data, n_starts=4)
    assert m.class_labels_ is not None
    m.fit(data)
    assert not hasattr(m, "class_labels_") and not hasattr(m, "class_match_")
    with pytest.raises(ValueError, match="no class_labels_"):
        m.predict(data, labels=True)


def test_preset_fit_takes_a_weights_column():
    p = lca.presets.get("service-use")
    data, _ = p.simulate(600, random_state=2)
    data["w"] = np.random.default_rng(0).uniform(0.5, 1.5, len(data))
    m = p.fit(data, weights="w", n_starts=2)
    assert m.n_obs_ == pytest.approx(data["w"].sum())


def test_max_categories_is_bounded_by_the_code_type():
    data = pd.DataFrame({"a": np.arange(10), "b": np.arange(10) % 2})
    with pytest.raises(ValueError, match="at most 32767"):
        lca.LatentClassModel(1, max_categories=40_000).fit(data)


def test_numpy_integer_seed_is_saved(tmp_path, gss82):
    m = lca.LatentClassModel(2, n_starts=2, random_state=np.int64(5)).fit(gss82)
    m.save(tmp_path / "m.json")
    assert lca.load(tmp_path / "m.json").get_params()["random_state"] == 5


@pytest.mark.filterwarnings("error")
def test_profile_keeps_a_column_named_by_a_tuple_as_one_label():
    data = lca.datasets.load_gss82().rename(columns={"PURPOSE": ("wave1", "purpose")})
    model = lca.LatentClassModel(2, random_state=0, n_starts=2).fit(data)
    profile = model.profile()  # pandas warned (Pandas4Warning) and padded the tuples
    assert profile.index.nlevels == 2
    rows = [v == ("wave1", "purpose") for v in profile.index.get_level_values("indicator")]
    assert sum(rows) == 3  # its three categories
    np.testing.assert_array_equal(
        profile.loc[rows, 1].to_numpy(),
        model.conditional_probs_[("wave1", "purpose")][1].to_numpy(),
    )
    assert "wave1" in str(model.summary())


def test_a_row_without_answers_scores_exactly_zero_and_one_class_has_entropy_plus_zero():
    data = lca.datasets.load_gss82()
    model = lca.LatentClassModel(3, random_state=0, n_starts=2).fit(data)
    empty = data.iloc[:2].astype(object)
    empty.iloc[0] = None  # log(sum_k P_k) = log 1
    scores = model.score_samples(empty)
    assert scores.iloc[0] == 0.0
    assert scores.iloc[1] == pytest.approx(model.score_samples(data.iloc[[1]]).iloc[0])
    one = lca.LatentClassModel(1).fit(data)
    assert math.copysign(1.0, one.fit_stats()["entropy"]) == 1.0  # printed 0, not -0


def test_unknown_missing_says_what_it_read_as_missing_and_which_columns_match_nothing():
    preset = lca.presets.get("separation-types")
    data, _ = preset.simulate(300, random_state=1)
    data = data.astype(object)
    first, second = preset.indicators[:2]
    data.loc[data.index[:5], first] = "weird"
    data[second] = data[second].str.lower()  # labels that do not match at all
    with pytest.warns(UserWarning) as record:
        post = preset.reference_model().predict_proba(data, unknown="missing")
    (message,) = [str(w.message) for w in record]
    assert f"5 in {first!r} ('weird')" in message
    assert f"300 in {second!r}" in message
    assert f"No answer of [{second!r}] is a category of the model" in message
    # the posteriors are those of the data with these answers missing
    masked = data.copy()
    masked.loc[data.index[:5], first] = None
    masked[second] = None
    np.testing.assert_allclose(
        post.to_numpy(), preset.reference_model().predict_proba(masked).to_numpy()
    )
