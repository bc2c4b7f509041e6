"""Multiple-group latent class models (lca.multigroup).

Each model is checked against an independent route to the same maximum
(the one-step regression on the group, separate fits per group, the
one-group model), against the likelihood and the M-step written out in
NumPy from the reported parameters, and against simulated truth.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import lca
from lca.exceptions import ModelFileError

ITEMS = ["MORALG", "CARESG", "KNOWG", "LEADG", "DISHONG", "INTELG"]


@pytest.fixture(scope="module")
def election():
    df = lca.datasets.load_election()
    return df.loc[df["GENDER"].notna(), [*ITEMS, "GENDER"]]


@pytest.fixture(scope="module")
def sequence(election):
    return lca.compare_groups(election, "GENDER", 3, bayes_constant=0)


def _simulated(n_per_group=1500, dif=0.0, seed=0):
    """Two groups, three classes, six binary items; item q1 shifted by ``dif`` in group b."""
    rng = np.random.default_rng(seed)
    probs = np.array(
        [
            [0.9, 0.8, 0.85, 0.9, 0.75, 0.8],
            [0.2, 0.3, 0.25, 0.8, 0.7, 0.75],
            [0.1, 0.15, 0.2, 0.1, 0.2, 0.25],
        ]
    )  # P(yes | class), classes x items
    sizes = {"a": [0.5, 0.3, 0.2], "b": [0.25, 0.35, 0.4]}
    frames = []
    for g, pk in sizes.items():
        k = rng.choice(3, size=n_per_group, p=pk)
        p = probs[k].copy()
        if g == "b":
            p[:, 0] = np.clip(p[:, 0] - dif, 0.01, 0.99)
        y = rng.random(p.shape) < p
        frame = pd.DataFrame(np.where(y, "yes", "no"), columns=[f"q{j + 1}" for j in range(6)])
        frame["grp"] = g
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.set_axis(pd.Index([f"r{i}" for i in range(len(out))]), axis=0), probs, sizes


# -- the same maximum by other routes ----------------------------------------------------


def test_homogeneous_measurement_is_the_regression_on_the_group(election, sequence):
    m = sequence.models["homogeneous measurement"]
    data = election.assign(GENDER=election["GENDER"].map({1: "m", 2: "f"}))
    reg = lca.LatentClassRegression(3, bayes_constant=0).fit(data, "GENDER")
    assert m.fit_stats()["loglik"] == pytest.approx(reg.loglik_, abs=1e-6)
    assert m.n_parameters_ == reg.n_parameters_ == 2 * 2 + 3 * 3 * 6
    assert m.fit_stats()["bic"] == pytest.approx(reg.fit_stats()["bic"], abs=1e-5)
    # the regression's class sizes per group (mean posterior of a group at ML)
    post = reg.predict_proba(data, "GENDER")
    for g, label in ((1, "m"), (2, "f")):
        sizes = post[data["GENDER"] == label].mean().to_numpy()
        assert np.sort(m.class_sizes_.loc[g].to_numpy()) == pytest.approx(np.sort(sizes), abs=1e-5)


def test_heterogeneous_is_separate_fits_per_group(election, sequence):
    m = sequence.models["heterogeneous"]
    sep = [
        lca.LatentClassModel(3, bayes_constant=0).fit(election.loc[election.GENDER == g, ITEMS])
        for g in (1, 2)
    ]
    assert m.fit_stats()["loglik"] == pytest.approx(sum(s.loglik_ for s in sep), abs=1e-6)
    assert m.n_parameters_ == sum(s.n_parameters_ for s in sep) == 2 * (2 + 54)
    # each group's classes are that group's own fit, up to their order
    for g, s in zip((1, 2), sep):
        mine = m.class_sizes_.loc[g].to_numpy()
        assert np.sort(mine) == pytest.approx(np.sort(s.class_sizes_.to_numpy()), abs=1e-5)


def test_complete_homogeneity_is_the_one_group_model(election, sequence):
    m = sequence.models["complete homogeneity"]
    one = lca.LatentClassModel(3, bayes_constant=0).fit(election[ITEMS])
    for stat in ("loglik", "n_parameters", "bic", "aic", "entropy_r2", "classification_error"):
        assert m.fit_stats()[stat] == pytest.approx(one.fit_stats()[stat], rel=1e-9, abs=1e-9)
    assert (m.class_sizes_.loc[1] == m.class_sizes_.loc[2]).all()
    np.testing.assert_allclose(
        m.predict_proba(election, "GENDER").to_numpy(),
        one.predict_proba(election[ITEMS]).to_numpy(),
        atol=1e-7,
    )


def test_each_restriction_is_tested_against_a_model_at_least_as_high(sequence):
    t = sequence.table
    assert list(t.index) == [
        "complete homogeneity",
        "homogeneous measurement",
        *[f"free: {c}" for c in ITEMS],
        "heterogeneous",
    ]
    tested = t.iloc[1:]
    assert (tested["lr"] >= -1e-7).all()
    for _, row in tested.iterrows():
        ref = t.loc[row["tested_against"]]
        assert row["lr"] == pytest.approx(2 * (row["loglik"] - ref["loglik"]))
        assert row["lr_df"] == row["n_parameters"] - ref["n_parameters"]
    # one free 4-category item adds 3 classes x 3 probabilities for the second group
    assert (t.loc[[f"free: {c}" for c in ITEMS], "lr_df"] == 9).all()
    assert t.loc["heterogeneous", "lr_df"] == 54


# -- the likelihood and the M-step written out from the reported parameters ---------------


def _numpy_loglik_and_posteriors(m, data, group, weights):
    """sum_i w_i log sum_k P(k | g_i) prod_j P(y_ij | k, g_i), missing answers skipped."""
    log_joint = np.log(m.class_sizes_.loc[group].to_numpy())  # (n, K)
    for name, table in m.conditional_probs_.items():
        for i, (y, g) in enumerate(zip(data[name], group)):
            if pd.isna(y):
                continue
            log_joint[i] += np.log(table.loc[y, g].to_numpy())
    ll = np.logaddexp.reduce(log_joint, axis=1)
    return float(np.dot(weights, ll)), np.exp(log_joint - ll[:, None])


@pytest.mark.parametrize("free", [(), ["q1", "q3"], "all"])
def test_likelihood_and_m_step_by_hand(free):
    data, _, _ = _simulated(n_per_group=300, dif=0.3, seed=4)
    rng = np.random.default_rng(1)
    data = data.mask(rng.random(data.shape) < 0.1).assign(grp=data["grp"])  # missing answers
    w = rng.uniform(0.2, 3.0, len(data))
    m = lca.MultiGroupModel(3, free=free, bayes_constant=0, tol=1e-13).fit(data, "grp", weights=w)
    ll, post = _numpy_loglik_and_posteriors(m, data, data["grp"].to_numpy(), w)
    assert m.fit_stats()["loglik"] == pytest.approx(ll, rel=1e-10)
    np.testing.assert_allclose(m.predict_proba(data, "grp").to_numpy(), post, atol=1e-10)
    # at the maximum the parameters are the M-step of their own posteriors:
    # class sizes within each group, probabilities within a group if free, pooled if not
    wp = post * w[:, None]
    for g in m.groups_:
        rows = (data["grp"] == g).to_numpy()
        sizes = wp[rows].sum(axis=0) / w[rows].sum()
        np.testing.assert_allclose(m.class_sizes_.loc[g].to_numpy(), sizes, atol=1e-6)
    for name in ITEMS_SIM:
        is_free = free == "all" or name in free
        for g in m.groups_:
            rows = (data["grp"] == g).to_numpy() if is_free else np.ones(len(data), bool)
            answered = rows & data[name].notna().to_numpy()
            yes = answered & (data[name] == "yes").to_numpy()
            expected = wp[yes].sum(axis=0) / wp[answered].sum(axis=0)
            got = m.conditional_probs_[name].loc["yes", g].to_numpy()
            np.testing.assert_allclose(got, expected, atol=1e-6)


ITEMS_SIM = [f"q{j + 1}" for j in range(6)]


def test_parameters_counted_by_hand_with_an_ordinal_indicator(election):
    m = lca.MultiGroupModel(3, free=["KNOWG", "LEADG"], ordinal=["KNOWG"], bayes_constant=0)
    m.fit(election, "GENDER")
    # sizes 2 x 2; KNOWG ordinal (3 intercepts + 2 class effects) per group;
    # LEADG nominal 3 x 3 per group; four shared nominal items 3 x 3 each
    assert m.n_parameters_ == 4 + 2 * 5 + 2 * 9 + 4 * 9
    table = m.conditional_probs_["KNOWG"]
    for g in m.groups_:  # adjacent-category logits linear in the category scores
        logits = np.diff(np.log(table[g].to_numpy()), axis=0)
        second = np.diff(logits, axis=1)  # class effects: the same at every step
        assert np.ptp(second, axis=0) == pytest.approx(np.zeros(2), abs=1e-8)


# -- simulated truth ---------------------------------------------------------------------


def test_the_shifted_item_stands_out_and_the_others_pass_once_it_is_free():
    data, probs, sizes = _simulated(n_per_group=2000, dif=0.35, seed=2)
    first = lca.compare_groups(data, "grp", 3, bayes_constant=0)
    lr = first.table["lr"]
    items = [f"free: q{j}" for j in range(1, 7)]
    assert lr[items].idxmax() == "free: q1"  # 0.9 -> 0.55 etc. in group b
    assert first.table.loc["free: q1", "lr_p"] < 1e-20
    assert first.table.loc["homogeneous measurement", "lr_p"] < 1e-20  # sizes differ
    # held equal, q1 bends the classes, so freeing another item helps too (q3
    # here); with q1 free, no other item and not the heterogeneous model differs
    second = lca.compare_groups(data, "grp", 3, free=["q1"], bayes_constant=0)
    t = second.table
    others = [f"free: q1, q{j}" for j in range(2, 7)]
    assert list(t.index) == [
        "complete homogeneity", "homogeneous measurement", "free: q1", *others, "heterogeneous"
    ]  # fmt: skip
    assert (t.loc[[*others, "heterogeneous"], "tested_against"] == "free: q1").all()
    assert (t.loc[others, "lr_p"] > 0.01).all()
    assert t.loc["heterogeneous", "lr_p"] > 0.01
    assert t.loc["free: q1", "loglik"] == pytest.approx(first.table.loc["free: q1", "loglik"])
    m = second.models["free: q1"]
    order = np.argsort(-m.conditional_probs_["q2"].loc["yes", "a"].to_numpy())  # class 1 first
    for g in ("a", "b"):
        np.testing.assert_allclose(m.class_sizes_.loc[g].to_numpy()[order], sizes[g], atol=0.05)
    yes = m.conditional_probs_["q1"].loc["yes"]
    assert yes[("a", order[0] + 1)] == pytest.approx(0.9, abs=0.05)
    assert yes[("b", order[0] + 1)] == pytest.approx(0.55, abs=0.07)
    for j in range(2, 7):  # the shared items recover the truth
        got = m.conditional_probs_[f"q{j}"].loc["yes", "a"].to_numpy()[order]
        np.testing.assert_allclose(got, probs[:, j - 1], atol=0.06)


def test_heterogeneous_classes_are_matched_across_groups():
    data, _, _ = _simulated(n_per_group=2000, seed=3)
    m = lca.MultiGroupModel(3, free="all", bayes_constant=0, random_state=5).fit(data, "grp")
    for name in ITEMS_SIM:
        yes = m.conditional_probs_[name].loc["yes"]
        assert np.abs(yes["a"].to_numpy() - yes["b"].to_numpy()).max() < 0.12


# -- rows, labels, weights ----------------------------------------------------------------


def test_outputs_follow_the_data_index_and_a_shuffled_group_series():
    data, _, _ = _simulated(n_per_group=200, seed=1)
    group = data.pop("grp")
    m = lca.MultiGroupModel(2, bayes_constant=0).fit(data, group.sample(frac=1, random_state=0))
    ref = lca.MultiGroupModel(2, bayes_constant=0).fit(data, group.to_numpy())
    assert m.fit_stats().equals(ref.fit_stats())
    new = data.iloc[::-7]
    post = m.predict_proba(new, group.loc[new.index])
    assert post.index.equals(new.index)
    assert m.predict(new, group.loc[new.index]).index.equals(new.index)


def test_integer_weights_equal_repeated_rows():
    data, _, _ = _simulated(n_per_group=150, seed=6)
    w = np.random.default_rng(0).integers(1, 4, len(data))
    a = lca.MultiGroupModel(2, free=["q2"], bayes_constant=0).fit(
        data.assign(w=w), "grp", weights="w"
    )
    b = lca.MultiGroupModel(2, free=["q2"], bayes_constant=0).fit(
        data.loc[data.index.repeat(w)].reset_index(drop=True), "grp"
    )
    assert a.fit_stats()["loglik"] == pytest.approx(b.fit_stats()["loglik"], rel=1e-9)
    assert a.fit_stats()["n_obs"] == b.fit_stats()["n_obs"] == w.sum()


def test_same_random_state_same_fit_whatever_n_jobs():
    data, _, _ = _simulated(n_per_group=300, seed=7)
    a = lca.MultiGroupModel(3, free="all", random_state=3, n_jobs=1).fit(data, "grp")
    b = lca.MultiGroupModel(3, free="all", random_state=3, n_jobs=2).fit(data, "grp")
    assert a.fit_stats().equals(b.fit_stats())
    assert a.profile().equals(b.profile())


def test_bad_input_is_named():
    data, _, _ = _simulated(n_per_group=50, seed=8)
    with pytest.raises(lca.DataError, match=r"missing at row 'r3'"):
        lca.MultiGroupModel(2).fit(data, data["grp"].mask(data.index == "r3"))
    with pytest.raises(lca.DataError, match="one group"):
        lca.MultiGroupModel(2).fit(data.assign(grp="a"), "grp")
    with pytest.raises(lca.DataError, match=r"\['q9'\], which are not indicators"):
        lca.MultiGroupModel(2, free=["q9"]).fit(data, "grp")
    with pytest.raises(ValueError, match=r"free=\['q1'\]"):
        lca.MultiGroupModel(2, free="q1").fit(data, "grp")
    with pytest.raises(lca.DataError, match="as an indicator column is"):
        lca.MultiGroupModel(2).fit(data, data["grp"].rename("q1"))
    nobody = data.assign(q1=data["q1"].mask(data["grp"] == "b"))
    with pytest.raises(lca.DataError, match=r"'q1' has no answer in group 'b'"):
        lca.MultiGroupModel(2, free="all").fit(nobody, "grp")
    m = lca.MultiGroupModel(2).fit(data, "grp")
    with pytest.raises(lca.DataError, match=r"holds 'c' at row 'r0'.*\['a', 'b'\]"):
        m.predict(data, data["grp"].replace("a", "c"))
    with pytest.raises(lca.DataError, match=r"lack the indicator column\(s\) \['q2'\]"):
        m.predict(data.drop(columns="q2"), "grp")
    with pytest.raises(lca.NotFittedError):
        lca.MultiGroupModel(2).predict(data, "grp")


# -- model files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("free", "equal_sizes"), [((), False), (["q1"], False), ("all", False), (["q2"], True)]
)
def test_saved_model_round_trips_exactly(tmp_path, free, equal_sizes):
    data, _, _ = _simulated(n_per_group=200, dif=0.3, seed=9)
    data["grp"] = data["grp"] == "b"  # bool group labels
    m = lca.MultiGroupModel(3, free=free, equal_sizes=equal_sizes).fit(data, "grp")
    path = tmp_path / "mg.json"
    m.save(path)
    back = lca.load(path)
    assert isinstance(back, lca.MultiGroupModel)
    assert back.get_params() == m.get_params()
    assert list(back.groups_) == [False, True]
    assert back.fit_stats().equals(m.fit_stats())
    assert back.profile().equals(m.profile())
    assert back.predict_proba(data, "grp").equals(m.predict_proba(data, "grp"))
    content = json.loads(path.read_text())
    content["class_match"][1] = [0, 0, 1]
    path.write_text(json.dumps(content))
    with pytest.raises(ModelFileError, match="permutation"):
        lca.load(path)


# -- standard errors -----------------------------------------------------------------------


def _by_estimate(values, estimates, target):
    """``values`` (per class) reordered so that ``estimates`` line up with ``target``."""
    order = [int(np.argmin(np.abs(estimates - t))) for t in target]
    return np.asarray(values)[order]


def test_standard_errors_of_the_heterogeneous_model_are_those_of_separate_fits(election):
    items = ITEMS[:4]
    m = lca.MultiGroupModel(2, free="all", bayes_constant=0).fit(
        election[[*items, "GENDER"]], "GENDER"
    )
    se = m.standard_errors()
    assert se.index.equals(m.profile().index) and se.columns.equals(m.profile().columns)
    for g in (1, 2):
        s = lca.LatentClassModel(2, bayes_constant=0).fit(election.loc[election.GENDER == g, items])
        ref = s.standard_errors()
        mine = m.class_sizes_.loc[g].to_numpy()
        theirs = s.class_sizes_.to_numpy()
        np.testing.assert_allclose(
            se.loc[("class size", ""), g].to_numpy(),
            _by_estimate(ref.class_sizes.to_numpy(), theirs, mine),
            rtol=1e-3,
        )
        key = m.conditional_probs_["KNOWG"].loc["Quite well", g].to_numpy()
        np.testing.assert_allclose(
            se.loc[("KNOWG", "Quite well"), g].to_numpy(),
            _by_estimate(
                ref.profile.loc[("KNOWG", "Quite well"), [1, 2]].to_numpy(),
                s.profile().loc[("KNOWG", "Quite well"), [1, 2]].to_numpy(),
                key,
            ),
            rtol=1e-3,
        )


def test_standard_errors_of_homogeneous_measurement_are_the_regressions(election, sequence):
    m = sequence.models["homogeneous measurement"]
    data = election.assign(GENDER=election["GENDER"].map({1: "m", 2: "f"}))
    reg = lca.LatentClassRegression(3, bayes_constant=0).fit(data, "GENDER")
    ref = reg.standard_errors().profile
    se = m.standard_errors()
    for name in ("MORALG", "DISHONG"):
        for cat in m.conditional_probs_[name].index:
            mine = m.conditional_probs_[name].loc[cat, 1].to_numpy()
            theirs = reg.profile().loc[(name, cat), [1, 2, 3]].to_numpy()
            for g in (1, 2):  # equal across groups, as the probabilities are
                np.testing.assert_allclose(
                    se.loc[(name, cat), g].to_numpy(),
                    _by_estimate(ref.loc[(name, cat), [1, 2, 3]].to_numpy(), theirs, mine),
                    rtol=2e-3,
                )


def test_standard_errors_from_a_saved_model_and_its_data(tmp_path):
    data, _, _ = _simulated(n_per_group=300, dif=0.3, seed=11)
    w = np.random.default_rng(2).uniform(0.5, 1.5, len(data))
    m = lca.MultiGroupModel(2, free=["q1"]).fit(data.assign(w=w), "grp", weights="w")
    m.save(tmp_path / "m.json")
    back = lca.load(tmp_path / "m.json")
    with pytest.raises(lca.NotFittedError, match="no pattern table"):
        back.standard_errors()
    a = m.standard_errors("robust")
    b = back.standard_errors("robust", data=data.assign(w=w), group="grp", weights="w")
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9)
    one = lca.MultiGroupModel(2, equal_sizes=True).fit(data, "grp")
    plain = lca.LatentClassModel(2).fit(data.drop(columns="grp")).standard_errors()
    got = one.standard_errors()
    np.testing.assert_allclose(got.loc[("class size", ""), "a"], plain.class_sizes, rtol=1e-6)
    np.testing.assert_allclose(
        got.loc[("q3", "yes"), "b"], plain.profile.loc[("q3", "yes"), [1, 2]], rtol=1e-6
    )


# -- a uniform group effect (Latent GOLD's direct effect of the group) ----------------------


def _shifted(n_per_group=2000, shift=-1.2, seed=0):
    """As ``_simulated``, but q1's log-odds shifted by ``shift`` in group b in every class."""
    from scipy.special import expit, logit

    rng = np.random.default_rng(seed)
    probs = np.array(
        [
            [0.9, 0.8, 0.85, 0.9, 0.75, 0.8],
            [0.2, 0.3, 0.25, 0.8, 0.7, 0.75],
            [0.1, 0.15, 0.2, 0.1, 0.2, 0.25],
        ]
    )
    frames = []
    for g, pk in {"a": [0.5, 0.3, 0.2], "b": [0.25, 0.35, 0.4]}.items():
        k = rng.choice(3, size=n_per_group, p=pk)
        p = probs[k].copy()
        if g == "b":
            p[:, 0] = expit(logit(p[:, 0]) + shift)
        y = rng.random(p.shape) < p
        frame = pd.DataFrame(np.where(y, "yes", "no"), columns=ITEMS_SIM)
        frames.append(frame.assign(grp=g))
    return pd.concat(frames, ignore_index=True)


def test_a_uniform_shift_is_found_and_nothing_beyond_it():
    data = _shifted()
    res = lca.compare_groups(data, "grp", 3, uniform=True, bayes_constant=0)
    t = res.table
    assert t.loc["uniform: q1", "lr_df"] == 1  # (G - 1)(C - 1) association parameters
    assert t.loc["uniform: q1", "lr_p"] < 1e-15
    assert t.loc["free: q1", "lr_beyond_uniform_df"] == 2
    assert t.loc["free: q1", "lr_beyond_uniform_p"] > 0.01
    assert (t.loc[[f"uniform: q{j}" for j in (4, 5, 6)], "lr_p"] > 0.01).all()
    # each freed item also started from its uniform model: at least as high
    assert (t.loc[[f"free: q{j}" for j in range(1, 7)], "lr_beyond_uniform"] >= -1e-7).all()
    m = res.models["uniform: q1"]
    yes = m.conditional_probs_["q1"]
    log_odds = np.log(yes.loc["yes"] / yes.loc["no"])
    shift = log_odds["b"].to_numpy() - log_odds["a"].to_numpy()
    assert np.ptp(shift) == pytest.approx(0.0, abs=1e-9)  # the same in every class
    assert shift[0] == pytest.approx(-1.2, abs=0.3)
    ll, post = _numpy_loglik_and_posteriors(m, data, data["grp"].to_numpy(), np.ones(len(data)))
    assert m.fit_stats()["loglik"] == pytest.approx(ll, rel=1e-10)
    np.testing.assert_allclose(m.predict_proba(data, "grp").to_numpy(), post, atol=1e-10)


def test_uniform_models_round_trip_and_refuse_what_they_cannot_do(tmp_path):
    data = _shifted(n_per_group=300, seed=1)
    m = lca.MultiGroupModel(2, free=["q2"], uniform=["q1"]).fit(data, "grp")
    assert m.n_parameters_ == 2 + 5 * 2 + 2 * 2 + 1
    m.save(tmp_path / "u.json")
    back = lca.load(tmp_path / "u.json")
    assert back.get_params() == m.get_params()
    assert back.fit_stats().equals(m.fit_stats())
    assert back.predict_proba(data, "grp").equals(m.predict_proba(data, "grp"))
    with pytest.raises(NotImplementedError, match="uniform"):
        m.standard_errors()
    for kwargs, message in [
        ({"free": ["q1"], "uniform": ["q1"]}, "in free= and uniform="),
        ({"uniform": ["q1", "q2"]}, "one at a time"),
        ({"uniform": ["q1"], "equal_sizes": True}, "equal_sizes=False"),
        ({"uniform": ["q9"]}, "not indicators"),
    ]:
        with pytest.raises((ValueError, lca.DataError), match=message):
            lca.MultiGroupModel(2, **kwargs).fit(data, "grp")


# -- review fixes --------------------------------------------------------------------------


def test_entropy_r2_does_not_depend_on_how_the_groups_classes_were_paired(election):
    values = set()
    for rs in range(4):
        m = lca.MultiGroupModel(3, free="all", bayes_constant=0, random_state=rs)
        m.fit(election, "GENDER")
        post = m.predict_proba(election, "GENDER").to_numpy()
        shares = election["GENDER"].value_counts(normalize=True).sort_index().to_numpy()
        overall = shares @ m.class_sizes_.to_numpy()
        en = -np.sum(post * np.log(np.clip(post, 1e-300, None)))
        by_hand = 1 - en / (len(election) * -np.sum(overall * np.log(overall)))
        assert m.fit_stats()["entropy_r2"] == pytest.approx(by_hand, rel=1e-8)
        values.add(m.fit_stats()["entropy_r2"])
    assert max(values) - min(values) < 1e-5  # the pairing moved it by 1e-3 before


def test_ordinal_is_read_as_for_a_one_group_model():
    data, _, _ = _simulated(n_per_group=200, seed=12)
    data["q1"] = np.where(data["q1"] == "yes", 3, np.where(data["q2"] == "yes", 2, 1))
    one = lca.MultiGroupModel(2, free=["q1"], ordinal="q1", bayes_constant=0).fit(data, "grp")
    listed = lca.MultiGroupModel(2, free=["q1"], ordinal=["q1"], bayes_constant=0).fit(data, "grp")
    assert one.n_parameters_ == listed.n_parameters_ == 2 + 2 * (2 + 1) + 5 * 2
    with pytest.raises(lca.DataError, match=r"ordinal= names \['zz'\]"):
        lca.MultiGroupModel(2, ordinal=["zz"]).fit(data, "grp")
    with pytest.raises(lca.DataError, match="unknown order"):
        lca.MultiGroupModel(2, ordinal=["q2"]).fit(data, "grp")


def test_a_category_nobody_in_a_group_gave_is_not_counted_there():
    data, _, _ = _simulated(n_per_group=200, seed=13)
    data.loc[data.index[:15], "q1"] = "maybe"  # group a only
    m = lca.MultiGroupModel(2, free="all", bayes_constant=0).fit(data, "grp")
    sep = [
        lca.LatentClassModel(2, bayes_constant=0).fit(data.loc[data.grp == g, ITEMS_SIM])
        for g in ("a", "b")
    ]
    assert m.n_parameters_ == sum(s.n_parameters_ for s in sep)
    assert m.fit_stats()["loglik"] == pytest.approx(sum(s.loglik_ for s in sep), abs=1e-6)
    assert (m.conditional_probs_["q1"].loc["maybe", "b"] == 0).all()


def test_warnings_name_the_data_columns_not_the_rewritten_ones():
    data, _, _ = _simulated(n_per_group=100, seed=14)
    data["q2"] = "yes"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lca.MultiGroupModel(2, free=["q2", "q3"]).fit(data, "grp")
    texts = [str(w.message) for w in caught]
    assert any("'q2' has one category only" in t for t in texts)
    assert not any("('q" in t for t in texts)
    m = lca.MultiGroupModel(2).fit(data.drop(columns="q2"), "grp")
    new = data.drop(columns="q2").iloc[:3].copy()
    new.loc[new.index[0], "q1"] = "maybe"
    with pytest.warns(UserWarning, match="read as missing"):
        m.predict_proba(new, "grp", unknown="missing")


def test_more_refusals_with_their_fix():
    data, _, _ = _simulated(n_per_group=60, seed=15)
    w = np.ones(len(data))
    w[data["grp"] == "b"] = 0
    only = data.assign(q7=np.where(data["grp"] == "b", "x", None), w=w)
    only.loc[only.index[:5], "w"] = 1.0  # group b keeps some weight; q7 only where w = 0
    only.loc[only.index[:5], "q7"] = None
    with pytest.raises(lca.DataError, match="weight 0"):
        lca.MultiGroupModel(2).fit(only, "grp", weights="w")
    with pytest.raises(ValueError, match="free must be"):
        lca.MultiGroupModel(2, free=None).fit(data, "grp")
    with pytest.raises(lca.DataError, match=r"\['q9'\], which are not columns"):
        lca.compare_groups(data, "grp", 2, free=["q9"])
    res = lca.compare_groups(data, "grp", 2, free=ITEMS_SIM, n_starts=2)
    assert "heterogeneous" not in res.table.index  # the model of free= is it
    with pytest.raises(lca.DataError, match="at most 1000 groups"):
        lca.MultiGroupModel(2).fit(
            pd.concat([data] * 9, ignore_index=True), np.arange(9 * len(data))
        )


def test_damaged_multigroup_files_are_refused(tmp_path):
    data, _, _ = _simulated(n_per_group=80, seed=16)
    path = tmp_path / "m.json"
    lca.MultiGroupModel(2, free=["q1"]).fit(data, "grp").save(path)
    good = json.loads(path.read_text())
    damages = [
        lambda d: d.__setitem__("class_match", [[0, 1], [0]]),
        lambda d: d.__setitem__("class_match", [[0.0, 1.0], [1.0, 0.0]]),
        lambda d: d["options"].__setitem__("tol", "x"),
        lambda d: d.__setitem__("n_parameters", -5),
        lambda d: d["options"].__setitem__("free_is_tuple", "yes"),
    ]
    for damage in damages:
        content = json.loads(json.dumps(good))
        damage(content)
        path.write_text(json.dumps(content))
        with pytest.raises(ModelFileError):
            lca.load(path)


def test_text_report_and_best_row(sequence):
    m = sequence.models["free: KNOWG"]
    text = str(m)
    assert text.startswith(
        "Multiple-group latent class model: 3 classes, 2 groups (GENDER), free: KNOWG; "
        f"N = 1785, log-likelihood {m.fit_stats()['loglik']:.3f}"
    )
    size = m.class_sizes_.loc[2, 3]
    assert f"{size:.4f}" in text
    assert sequence.best() == sequence.table["bic"].idxmin()
    assert sequence.best("aic") == sequence.table["aic"].idxmin()
    with pytest.raises(ValueError, match="criterion must be"):
        sequence.best("loglik")


def test_categories_nobody_gave_count_alike_in_every_model_of_the_sequence():
    data = _shifted(n_per_group=400, seed=2)
    declared = lca.compare_groups(
        data, "grp", 3, categories={"q2": ["no", "yes", "maybe"]}, bayes_constant=0
    ).table
    plain = lca.compare_groups(data, "grp", 3, bayes_constant=0).table
    np.testing.assert_allclose(declared["loglik"], plain["loglik"], rtol=1e-9)
    assert (declared["n_parameters"] == plain["n_parameters"]).all()
    assert declared.loc["free: q2", "lr_df"] == 3


def test_a_uniform_effect_counts_no_association_for_a_cell_nobody_gave():
    rng = np.random.default_rng(3)
    data = _shifted(n_per_group=300, seed=5).iloc[:, :4]
    data["grp"] = rng.choice(["a", "b", "c"], len(data))
    data["q1"] = np.where(rng.random(len(data)) < 0.3, "maybe", data["q1"])
    data.loc[(data["grp"] == "b") & (data["q1"] == "maybe"), "q1"] = "no"  # b never says maybe
    h = lca.MultiGroupModel(2, bayes_constant=0).fit(data, "grp")
    u = lca.MultiGroupModel(2, uniform=["q1"], bayes_constant=0).fit(data, "grp")
    f = lca.MultiGroupModel(2, free=["q1"], bayes_constant=0).fit(data, "grp")
    assert u.n_parameters_ - h.n_parameters_ == (3 - 1) * (3 - 1) - 1
    # K (C_g - 1) per group, b with 2 categories, against K (C - 1) once
    assert f.n_parameters_ - h.n_parameters_ == (2 * 2 + 2 * 1 + 2 * 2) - 2 * 2
    assert (u.conditional_probs_["q1"].loc["maybe", "b"] < 1e-8).all()


def test_a_damaged_uniform_file_is_refused(tmp_path):
    data = _shifted(n_per_group=100, seed=6)
    path = tmp_path / "u.json"
    lca.MultiGroupModel(2, uniform=["q1"]).fit(data, "grp").save(path)
    good = json.loads(path.read_text())
    for value in ([], "q1", ["q2"]):
        content = json.loads(json.dumps(good))
        content["uniform"] = value
        path.write_text(json.dumps(content))
        with pytest.raises(ModelFileError):
            lca.load(path)
    content = json.loads(json.dumps(good))
    del content["uniform"]
    path.write_text(json.dumps(content))
    with pytest.raises(ModelFileError):
        lca.load(path)
    plain = tmp_path / "p.json"
    lca.MultiGroupModel(2).fit(data, "grp").save(plain)
    content = json.loads(plain.read_text())
    content["uniform"] = ["q1"]
    content["options"]["uniform"] = ["q1"]
    plain.write_text(json.dumps(content))
    with pytest.raises(ModelFileError):
        lca.load(plain)


# -- bivariate residuals within each group -------------------------------------------------


def test_heterogeneous_bvrs_are_those_of_separate_fits(election, sequence):
    m = sequence.models["heterogeneous"]
    bvr = m.bivariate_residuals(election, "GENDER")
    assert list(bvr.index.names) == ["group", "indicator"]
    assert list(bvr.columns) == ITEMS
    for g in (1, 2):
        alone = lca.LatentClassModel(3, bayes_constant=0).fit(
            election.loc[election.GENDER == g, ITEMS]
        )
        np.testing.assert_allclose(
            bvr.loc[g].to_numpy(), alone.bivariate_residuals().to_numpy(), rtol=1e-4
        )
    row = sequence.table.loc["heterogeneous"]
    assert row["max_bvr"] == pytest.approx(np.nanmax(bvr.to_numpy()))


def test_bvrs_of_equal_measurement_by_hand():
    """Homogeneous measurement on simulated data, with weights and missing answers:
    each group's two-way tables against N_g sum_k P(k | g) P(a | k) P(b | k), in NumPy."""
    data, _, _ = _simulated(n_per_group=400, seed=2)
    rng = np.random.default_rng(3)
    data = data.mask(rng.random(data.shape) < 0.1).assign(grp=data["grp"])
    w = rng.uniform(0.5, 2.0, len(data))
    m = lca.MultiGroupModel(3, bayes_constant=0, random_state=0).fit(data, "grp", weights=w)
    bvr = m.bivariate_residuals(data, "grp", weights=w)
    for g in ("a", "b"):
        rows = (data["grp"] == g).to_numpy()
        sizes = m.class_sizes_.loc[g].to_numpy()
        for a, b in (("q1", "q2"), ("q3", "q6")):
            pa = m.conditional_probs_[a][g].to_numpy()  # (categories, classes)
            pb = m.conditional_probs_[b][g].to_numpy()
            both = rows & data[a].notna().to_numpy() & data[b].notna().to_numpy()
            cats_a = list(m.conditional_probs_[a].index)
            cats_b = list(m.conditional_probs_[b].index)
            observed = np.zeros((len(cats_a), len(cats_b)))
            for ya, yb, wi in zip(data.loc[both, a], data.loc[both, b], w[both]):
                observed[cats_a.index(ya), cats_b.index(yb)] += wi
            expected = w[both].sum() * (pa * sizes) @ pb.T
            x2 = ((observed - expected) ** 2 / expected).sum()
            assert bvr.loc[(g, a), b] == pytest.approx(x2, rel=1e-10)
            assert bvr.loc[(g, b), a] == bvr.loc[(g, a), b]


def test_local_dependence_in_one_group_shows_most_there():
    """q1 copies q2 for a third of group b's respondents. With measurement held equal
    their BVR is largest in b; a's grows too (b's dependence bends the shared
    probabilities), to under half of b's (seeds 4-8: b 26-28, a 6-14), and b's other
    pairs stay small."""
    data, _, _ = _simulated(n_per_group=1500, seed=4)
    in_b = np.flatnonzero(data["grp"].to_numpy() == "b")
    copy = np.random.default_rng(5).choice(in_b, size=len(in_b) // 3, replace=False)
    data.iloc[copy, 0] = data.iloc[copy, 1]
    m = lca.MultiGroupModel(3, bayes_constant=0, random_state=0).fit(data, "grp")
    bvr = m.bivariate_residuals(data, "grp")
    pair_b = bvr.loc[("b", "q1"), "q2"]
    assert pair_b > 20
    assert bvr.loc[("a", "q1"), "q2"] < pair_b / 2
    assert bvr.loc["b"].drop(index="q1", columns="q1").max().max() < 3.84
    assert m.bivariate_residuals(data, "grp").max().max() == pair_b


def test_bvrs_follow_weights_and_refuse_other_data():
    data, _, _ = _simulated(n_per_group=200, seed=6)
    reps = np.random.default_rng(7).integers(1, 4, size=len(data))
    long = data.loc[data.index.repeat(reps)].reset_index(drop=True)
    short = lca.MultiGroupModel(2, bayes_constant=0, random_state=0, tol=1e-12)
    short.fit(data, "grp", weights=reps.astype(float))
    rep = lca.MultiGroupModel(2, bayes_constant=0, random_state=0, tol=1e-12).fit(long, "grp")
    np.testing.assert_allclose(
        short.bivariate_residuals(data, "grp", weights=reps.astype(float)).to_numpy(),
        rep.bivariate_residuals(long, "grp").to_numpy(),
        rtol=1e-5,
    )
    with pytest.warns(UserWarning, match="weights sum to"):
        short.bivariate_residuals(data, "grp")
    with pytest.raises(lca.DataError, match="not one of the model's groups"):
        short.bivariate_residuals(data.assign(grp="c"), "grp")


# -- design-based standard errors ------------------------------------------------------------


@pytest.fixture(scope="module")
def designed(election):
    """The election items with sampling weights, 8 strata and 5 PSUs in each (PSUs hold
    men and women alike: the groups are domains of one sample)."""
    rng = np.random.default_rng(0)
    return election.assign(
        stratum=rng.integers(0, 8, len(election)),
        psu=rng.integers(0, 5, len(election)),
        w=rng.uniform(0.5, 2.0, len(election)),
    )


def test_design_errors_of_homogeneous_measurement_are_the_regressions(designed):
    items = designed[[*ITEMS, "GENDER"]]
    w = designed["w"].to_numpy()
    m = lca.MultiGroupModel(3, bayes_constant=0, random_state=0).fit(items, "GENDER", weights=w)
    se = m.standard_errors(
        "design", data=designed, group="GENDER", weights="w", strata="stratum", clusters="psu"
    )
    data = designed.assign(GENDER=designed["GENDER"].map({1: "m", 2: "f"}))
    reg = lca.LatentClassRegression(3, bayes_constant=0, se_method="design")
    reg.fit(data, "GENDER", weights="w", strata="stratum", clusters="psu")
    assert m.fit_stats()["loglik"] == pytest.approx(reg.loglik_, abs=1e-6)
    ref = reg.standard_errors().profile
    hessian = m.standard_errors("hessian", data=items, group="GENDER", weights=w)
    for name in ("MORALG", "DISHONG"):
        for cat in m.conditional_probs_[name].index:
            mine = m.conditional_probs_[name].loc[cat, 1].to_numpy()
            theirs = reg.profile().loc[(name, cat), [1, 2, 3]].to_numpy()
            expected = _by_estimate(ref.loc[(name, cat), [1, 2, 3]].to_numpy(), theirs, mine)
            for g in (1, 2):
                np.testing.assert_allclose(se.loc[(name, cat), g].to_numpy(), expected, rtol=1e-4)
    # the design matters: the class sizes' errors are not the frequency-weight ones
    assert not np.allclose(se.iloc[0].to_numpy(), hessian.iloc[0].to_numpy(), rtol=0.05)


def test_design_errors_of_complete_homogeneity_are_the_one_group_models(designed):
    items = designed[[*ITEMS, "GENDER"]]
    w = designed["w"].to_numpy()
    m = lca.MultiGroupModel(3, equal_sizes=True, bayes_constant=0, random_state=0)
    m.fit(items, "GENDER", weights=w)
    se = m.standard_errors(
        "design", data=designed, group="GENDER", weights=w, strata="stratum", clusters="psu"
    )
    one = lca.LatentClassModel(3, bayes_constant=0, random_state=0).fit(designed[ITEMS], weights=w)
    ref = one.standard_errors("design", data=designed, weights=w, strata="stratum", clusters="psu")
    mine = m.class_sizes_.loc[1].to_numpy()
    for g in (1, 2):
        got = se.iloc[0].loc[g].to_numpy()
        np.testing.assert_allclose(
            got,
            _by_estimate(ref.class_sizes.to_numpy(), one.class_sizes_.to_numpy(), mine),
            rtol=1e-4,
        )
    for cat in m.conditional_probs_["KNOWG"].index:
        mine = m.conditional_probs_["KNOWG"].loc[cat, 1].to_numpy()
        theirs = one.profile().loc[("KNOWG", cat), [1, 2, 3]].to_numpy()
        np.testing.assert_allclose(
            se.loc[("KNOWG", cat), 2].to_numpy(),
            _by_estimate(ref.profile.loc[("KNOWG", cat), [1, 2, 3]].to_numpy(), theirs, mine),
            rtol=1e-4,
        )


def test_design_errors_refuse_what_they_cannot_do(designed):
    items = designed[[*ITEMS, "GENDER"]]
    m = lca.MultiGroupModel(2, bayes_constant=0, random_state=0).fit(items, "GENDER")
    with pytest.raises(ValueError, match="reads the rows again"):
        m.standard_errors("design")
    with pytest.raises(ValueError, match="method"):
        m.standard_errors("sandwich")
    with pytest.raises(ValueError, match="design"):
        m.standard_errors("hessian", data=designed, group="GENDER", strata="stratum")
    lonely = designed.assign(stratum=np.where(designed["psu"] == 0, 99, designed["stratum"]))
    lonely.loc[lonely["stratum"] == 99, "psu"] = 0
    with pytest.raises(lca.DataError, match="single"):
        m.standard_errors("design", data=lonely, group="GENDER", strata="stratum", clusters="psu")
