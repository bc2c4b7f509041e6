"""DirectEffectsModel: a pair of indicators associated within the classes.

Checked against independent calculations: the IPF M-step against a direct
numerical maximisation, the likelihood against enumeration of the missing
answers, the objective without association against LatentClassModel's, and
fits against data simulated with a known direct effect.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import lca
from lca import _direct_em
from lca.encoding import DataError

from . import naive


def simulate_pair(n, gamma, seed, missing=0.1, n_cat=(2, 2), classes=None):
    """Two classes (0.6, 0.4); y0 and y1 with a direct effect ``gamma`` (effect
    coded: log P(a, b | k) = alpha_ka + beta_kb + gamma * s_a * s_b, with scores
    s = -1, +1 for binary indicators, or an a x b linear-by-linear term), and
    four binary indicators independent given the class. ``classes`` (0 or 1 per
    respondent) replaces the random classes."""
    rng = np.random.default_rng(seed)
    cls = rng.choice(2, size=n, p=[0.6, 0.4]) if classes is None else np.asarray(classes)
    p = np.array([[0.9, 0.2], [0.8, 0.3], [0.85, 0.25], [0.75, 0.1]])
    cols = {f"y{j + 2}": (rng.random(n) < p[j][cls]).astype(int) for j in range(4)}
    c_a, c_b = n_cat
    sa = np.linspace(-1, 1, c_a)
    sb = np.linspace(-1, 1, c_b)
    y0 = np.empty(n, dtype=int)
    y1 = np.empty(n, dtype=int)
    for k, shift in enumerate((1.0, -1.0)):
        log_joint = shift * (sa[:, None] + 0.5 * sb[None, :]) + gamma * np.outer(sa, sb)
        prob = np.exp(log_joint)
        prob /= prob.sum()
        rows = np.flatnonzero(cls == k)
        cell = rng.choice(c_a * c_b, size=rows.size, p=prob.ravel())
        y0[rows] = cell // c_b
        y1[rows] = cell % c_b
    df = pd.DataFrame({"y0": y0, "y1": y1, **cols})
    if missing:
        df = df.mask(rng.random(df.shape) < missing)
    return df, cls


# -- the M-step ---------------------------------------------------------------------------


def _loglinear_mle(table):
    """{ka, kb, ab} fitted by maximising sum T log P(a, b | k) with BFGS."""
    c_a, c_b, k = table.shape

    def unpack(theta):
        alpha = theta[: c_a * k].reshape(c_a, 1, k)
        beta = theta[c_a * k : (c_a + c_b) * k].reshape(1, c_b, k)
        gamma = theta[(c_a + c_b) * k :].reshape(c_a, c_b, 1)
        eta = alpha + beta + gamma
        return eta - np.log(np.exp(eta).sum(axis=(0, 1), keepdims=True))

    def loss(theta):
        return -float(np.sum(table * unpack(theta)))

    theta0 = np.zeros((c_a + c_b) * k + c_a * c_b)
    res = optimize.minimize(loss, theta0, method="BFGS", options={"gtol": 1e-10})
    return np.exp(unpack(res.x))


def test_ipf_matches_direct_maximisation():
    rng = np.random.default_rng(3)
    table = rng.gamma(2.0, 10.0, size=(3, 4, 2))
    start = np.ones_like(table) * table.sum(axis=(0, 1)) / 12.0
    fitted = _direct_em.ipf(table, start, cycles=500)
    expected = _loglinear_mle(table)
    got = fitted / fitted.sum(axis=(0, 1))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # the maximum likelihood fit keeps the three margins of the table
    np.testing.assert_allclose(fitted.sum(axis=2), table.sum(axis=2), rtol=1e-9)
    np.testing.assert_allclose(fitted.sum(axis=1), table.sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(fitted.sum(axis=0), table.sum(axis=0), rtol=1e-9)


def test_ipf_cycle_never_lowers_the_objective():
    rng = np.random.default_rng(4)
    table = rng.gamma(1.0, 5.0, size=(2, 3, 3))
    # a start in the model's family with the table's class totals
    alpha = rng.normal(size=(2, 1, 3))
    beta = rng.normal(size=(1, 3, 3))
    gamma = rng.normal(size=(2, 3, 1))
    prob = np.exp(alpha + beta + gamma)
    prob /= prob.sum(axis=(0, 1))
    m = prob * table.sum(axis=(0, 1))
    values = []
    for _ in range(6):
        values.append(float(np.sum(table * np.log(m / m.sum(axis=(0, 1))))))
        m = _direct_em.ipf(table, m, cycles=1)
    assert np.all(np.diff(values) >= -1e-12 * abs(values[0]))
    assert values[-1] > values[0]


# -- the likelihood -----------------------------------------------------------------------


def _brute_force_loglik(model, df):
    """log P(y_i) by enumerating the missing answers of every row."""
    names = list(df.columns)
    sizes = model.class_sizes_.to_numpy()
    pair = next(iter(model.pair_probs_))
    joint = model.pair_probs_[pair]
    out = []
    for _, row in df.iterrows():
        total = 0.0
        for k in range(len(sizes)):
            lik = sizes[k]
            for name in names:
                if name in pair or pd.isna(row[name]):
                    continue
                lik *= model.conditional_probs_[name].loc[row[name], k + 1]
            a, b = (row[pair[0]], row[pair[1]])
            cats_a = joint.index.levels[0] if pd.isna(a) else [a]
            cats_b = joint.index.levels[1] if pd.isna(b) else [b]
            lik *= sum(joint.loc[(x, y), k + 1] for x in cats_a for y in cats_b)
            total += lik
        out.append(np.log(total))
    return np.array(out)


def test_likelihood_matches_enumeration_with_missing_answers():
    df, _ = simulate_pair(600, 0.8, seed=1, missing=0.25, n_cat=(3, 2))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=4).fit(df)
    got = model.score_samples(df).to_numpy()
    expected = _brute_force_loglik(model, df)
    expected[df.isna().all(axis=1).to_numpy()] = 0.0
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert model.loglik_ == pytest.approx(expected.sum(), rel=1e-12)


def test_objective_without_association_is_latent_class_models():
    df, _ = simulate_pair(500, 0.5, seed=2, missing=0.15)
    base = lca.LatentClassModel(2, n_starts=4, bayes_constant=1.0).fit(df)
    n_cats = [ind.n_categories for ind in base.indicators_]
    layout = _direct_em.make_layout(n_cats, [(0, 1)])
    marg = lca.model.marginal_counts(base._patterns, base._pattern_weights, layout.offsets)
    class_prior, cond_prior = lca.model.dirichlet_priors(marg, layout.offsets, 2, 1.0, 1.0)
    problem = _direct_em.make_problem(
        base._patterns,
        base._pattern_weights,
        layout,
        class_prior,
        cond_prior,
        np.zeros(len(layout.n_categories), dtype=bool),
    )
    composite = _direct_em.to_composite(base._log_cond, layout)
    objective, loglik, _, _ = _direct_em.estep(problem, base._log_class, composite)
    assert loglik == pytest.approx(base.loglik_, rel=1e-12)
    assert objective == pytest.approx(base.loglik_ + base.log_prior_, rel=1e-12)


def test_em_never_lowers_the_objective():
    df, _ = simulate_pair(800, 0.7, seed=5, missing=0.2, n_cat=(3, 3))
    df["y2"] = df["y2"].map({0: 1, 1: 3})  # numeric labels for an ordinal single
    model = lca.DirectEffectsModel(3, [("y0", "y1")], n_starts=2, ordinal=["y2"])
    model.fit(df)
    problem_layout = model._layout
    rng = np.random.default_rng(0)
    log_class, log_cond = lca._em.random_start(rng, 3, problem_layout.offsets, model._ordinal)
    problem = model._fitted_problem()  # the fit's priors: Bayes constants 1
    trace = []
    run = _direct_em.Run(log_class, _direct_em.to_composite(log_cond, problem_layout))
    _direct_em.run_em(problem, run, 300, 0.0, trace=trace)
    trace = np.array(trace)
    assert np.all(np.diff(trace) >= -1e-10 * np.abs(trace[1:]))
    assert trace[-1] > trace[0] + 10


# -- fits ---------------------------------------------------------------------------------


def test_recovers_a_known_direct_effect():
    df, cls = simulate_pair(6000, 0.6, seed=7, missing=0.1)
    base = lca.LatentClassModel(2).fit(df)
    model = lca.DirectEffectsModel(2, [("y0", "y1")]).fit(df)
    gamma = model.direct_effects_[("y0", "y1")]
    assert gamma.shape == (2, 2)
    # effect coding: gamma_11 = gamma / 1 (scores -1, +1, product +1)
    assert gamma.loc[1, 1] == pytest.approx(0.6, abs=0.08)
    np.testing.assert_allclose(gamma.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(gamma.sum(axis=1), 0.0, atol=1e-12)
    assert model.class_sizes_.iloc[0] == pytest.approx(0.6, abs=0.03)
    test = model.likelihood_ratio_test()
    assert test["df"] == 1
    assert test["p_value"] < 1e-10
    assert model.fit_stats()["bic"] < base.fit_stats()["bic"]
    assert model.n_parameters_ == base.n_parameters_ + 1
    # the local dependence that the model without the effect leaves, gone
    assert base.bivariate_residuals().loc["y0", "y1"] > 10
    assert model.bivariate_residuals().loc["y0", "y1"] < 3.84
    # the search starts from the model without the effect: never below it
    assert model.loglik_ + model.log_prior_ >= base.loglik_ + base.log_prior_
    assert model.independence_loglik_ == base.loglik_
    agree = (model.predict(df).to_numpy() - 1 == cls).mean()
    assert agree > 0.85


def test_no_association_in_the_data_gives_a_small_effect():
    df, _ = simulate_pair(6000, 0.0, seed=8, missing=0.1)
    model = lca.DirectEffectsModel(2, [("y0", "y1")]).fit(df)
    assert abs(model.direct_effects_[("y0", "y1")].loc[1, 1]) < 0.08
    assert model.likelihood_ratio_test()["p_value"] > 0.001


def test_maximum_likelihood_reproduces_the_pairs_table():
    """At an ML fixed point with every answer given, IPF matches the a x b margin of
    the expected table, which is the observed one: the pair's BVR is 0."""
    df, _ = simulate_pair(3000, 0.9, seed=9, missing=0.0, n_cat=(3, 3))
    model = lca.DirectEffectsModel(
        2, [("y0", "y1")], bayes_constant=0.0, tol=1e-14, max_iter=20000
    ).fit(df)
    bvr = model.bivariate_residuals()
    assert bvr.loc["y0", "y1"] < 1e-6
    observed = pd.crosstab(df["y0"], df["y1"]).to_numpy() / len(df)
    implied = (model.pair_probs_[("y0", "y1")] @ model.class_sizes_).to_numpy()
    np.testing.assert_allclose(implied.reshape(3, 3), observed, atol=1e-7)


def test_parameters_of_two_pairs():
    df, _ = simulate_pair(1500, 0.5, seed=10, missing=0.05, n_cat=(3, 4))
    model = lca.DirectEffectsModel(3, [("y0", "y1"), ("y3", "y2")], n_starts=4).fit(df)
    # (K - 1) + K sum (C_j - 1) + (3 - 1)(4 - 1) + (2 - 1)(2 - 1)
    assert model.n_parameters_ == 2 + 3 * (2 + 3 + 1 + 1 + 1 + 1) + 6 + 1
    assert set(model.direct_effects_) == {("y0", "y1"), ("y3", "y2")}
    assert model.direct_effects_[("y3", "y2")].index.name == "y3"
    probs = model.pair_probs_[("y0", "y1")]
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-12)
    # the margins in the profile are those of the joint tables
    margin = probs.groupby(level="y0").sum()
    np.testing.assert_allclose(
        margin.to_numpy(), model.conditional_probs_["y0"].to_numpy(), rtol=1e-12
    )
    # the association is the same in every class
    for pair in model.pair_probs_:
        table = model.pair_probs_[pair].to_numpy()
        c_a = model.direct_effects_[pair].shape[0]
        logs = np.log(table).reshape(c_a, -1, 3)
        centred = (
            logs - logs.mean(axis=0) - logs.mean(axis=1, keepdims=True) + logs.mean(axis=(0, 1))
        )
        np.testing.assert_allclose(centred[..., 0], centred[..., 1], atol=1e-9)
        np.testing.assert_allclose(centred[..., 0], centred[..., 2], atol=1e-9)


def test_same_result_whatever_n_jobs():
    df, _ = simulate_pair(2000, 0.5, seed=11, missing=0.1, n_cat=(3, 2))
    one = lca.DirectEffectsModel(3, [("y0", "y1")], n_starts=6, random_state=4).fit(df)
    two = lca.DirectEffectsModel(3, [("y0", "y1")], n_starts=6, random_state=4, n_jobs=2).fit(df)
    assert one.loglik_ == two.loglik_
    np.testing.assert_array_equal(one._log_cond_c, two._log_cond_c)
    np.testing.assert_array_equal(one.start_objectives_, two.start_objectives_)


def test_sample_draws_the_pair_from_its_joint_table():
    df, _ = simulate_pair(2000, 1.0, seed=12, missing=0.0, n_cat=(3, 2))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=4).fit(df)
    data, classes = model.sample(200_000, random_state=0)
    for k in (1, 2):
        rows = data[classes.to_numpy() == k]
        freq = pd.crosstab(rows["y0"], rows["y1"], normalize=True).to_numpy().ravel()
        np.testing.assert_allclose(freq, model.pair_probs_[("y0", "y1")][k], atol=0.006)
    missing, _ = model.sample(20_000, random_state=1, missing=0.2)
    assert missing.isna().to_numpy().mean() == pytest.approx(0.2, abs=0.01)


def test_outputs_are_indexed_like_the_input_and_labels_kept():
    df, _ = simulate_pair(400, 0.5, seed=13, missing=0.1)
    df["y0"] = df["y0"].map({0: "no", 1: "yes"})
    df.index = [f"r{i}" for i in range(len(df))]
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    assert list(model.predict(df).index) == list(df.index)
    assert list(model.predict_proba(df.iloc[::-1]).index) == list(df.index[::-1])
    assert list(model.direct_effects_[("y0", "y1")].index) == ["no", "yes"]
    assert model.fit_predict(df).index.equals(df.index)


def test_pickle_and_clone():
    from sklearn.base import clone

    df, _ = simulate_pair(400, 0.5, seed=14)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    back = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(back.predict_proba(df), model.predict_proba(df))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    assert "direct_effects=[('y0', 'y1')]" in repr(model)


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "error", "message"),
    [
        ([("y0", "zz")], DataError, "names 'zz', which is not an indicator"),
        ([("y0", "y1"), ("y1", "y2")], ValueError, "'y1' is in two direct effects"),
        ([("y0", "y0")], ValueError, "pairs an indicator with itself"),
        ([], ValueError, "direct_effects is empty"),
        (("y0", "y1"), ValueError, "'y0' is not a pair"),
        ("y0", ValueError, "must be a list of pairs"),
    ],
)
def test_bad_pairs_are_refused(pairs, error, message):
    df, _ = simulate_pair(200, 0.5, seed=15)
    with pytest.raises(error, match=message):
        lca.DirectEffectsModel(2, pairs).fit(df)


def test_ordinal_member_is_refused():
    df, _ = simulate_pair(200, 0.5, seed=16)
    with pytest.raises(ValueError, match="'y1' is ordinal"):
        lca.DirectEffectsModel(2, [("y0", "y1")], ordinal=["y1"]).fit(df)


@pytest.mark.parametrize(
    "method",
    ["indicator_tests"],
)  # fmt: skip
def test_methods_not_there_yet_say_so(method):
    df, _ = simulate_pair(200, 0.5, seed=17)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    with pytest.raises(NotImplementedError, match=f"{method} is not available"):
        getattr(model, method)()


def test_start_from_and_from_parameters_are_refused():
    df, _ = simulate_pair(200, 0.5, seed=18)
    base = lca.LatentClassModel(2).fit(df)
    with pytest.raises(ValueError, match="start_from= is not available"):
        lca.DirectEffectsModel(2, [("y0", "y1")]).fit(df, start_from=base)
    with pytest.raises(NotImplementedError, match="from_parameters"):
        lca.DirectEffectsModel.from_parameters([0.5, 0.5], {})


def test_composite_codes_by_hand():
    layout = _direct_em.make_layout([2, 3, 2], [(0, 1)])
    patterns = np.array([[0, 0, 1], [1, 2, 0], [1, -1, 1], [-1, 2, -1], [-1, -1, 0]], dtype=np.int8)
    got = _direct_em.composite_patterns(patterns, layout)
    # column 0: indicator 2 (in no pair); column 1: the pair, codes a*3+b,
    # then 6 + a for "a only" and 8 + b for "b only"
    expected = np.array([[1, 0], [0, 5], [1, 7], [-1, 10], [0, -1]])
    np.testing.assert_array_equal(got, expected)
    assert list(layout.offsets_c) == [0, 2, 2 + 6 + 2 + 3]
    assert list(itertools.chain(layout.singles)) == [2]


def test_kernel_m_step_equals_the_numpy_reference():
    from lca import _direct_kernels

    rng = np.random.default_rng(21)
    layout = _direct_em.make_layout([3, 4, 2], [(0, 1)])
    k = 3
    lo, c_a, c_b = layout.pair_block(0)
    rows = int(layout.offsets_c[-1])
    counts = rng.gamma(1.0, 4.0, size=(rows, k))
    counts[:, 2] = 0.0  # an empty class keeps its estimates
    log_cond = np.log(rng.dirichlet(np.ones(c_a * c_b), size=k).T).reshape(c_a, c_b, k)
    full = np.empty((rows, k))
    full[: layout.n_single_rows] = np.log(rng.dirichlet(np.ones(2), size=k).T)
    _direct_em._set_pair(full, lo, log_cond)
    prior = rng.gamma(1.0, 0.1, size=c_a * c_b)
    prior_empty = np.zeros(c_a * c_b)
    for pri in (prior, prior_empty):
        out = full.copy()
        _direct_kernels.pair_mstep(counts, full, out, lo, c_a, c_b, pri, 200, _direct_em.IPF_TOL)
        ref = full.copy()
        _direct_em._set_pair(ref, lo, _direct_em.pair_mstep(counts[lo:], log_cond, pri, 200))
        np.testing.assert_allclose(out[lo:], ref[lo:], rtol=1e-12, atol=1e-12)
    # the empty class kept its estimates (no pseudo-counts)
    np.testing.assert_array_equal(out[lo:, 2], full[lo:, 2])


def test_saved_model_round_trips_exactly(tmp_path):
    import json

    df, _ = simulate_pair(800, 0.7, seed=22, missing=0.15, n_cat=(3, 2))
    df["y2"] = df["y2"].map({0: "a", 1: "b"})
    model = lca.DirectEffectsModel(
        3, [("y1", "y0")], n_starts=4, ordinal=["y3"], random_state=5
    ).fit(df)
    path = tmp_path / "de.json"
    model.save(path)
    back = lca.load(path)
    assert type(back) is lca.DirectEffectsModel
    assert back.get_params() == model.get_params()
    exact = {"check_exact": True}
    pd.testing.assert_frame_equal(back.predict_proba(df), model.predict_proba(df), **exact)
    pd.testing.assert_series_equal(back.score_samples(df), model.score_samples(df), **exact)
    pd.testing.assert_series_equal(back.fit_stats(), model.fit_stats(), check_exact=True)
    pd.testing.assert_series_equal(back.likelihood_ratio_test(), model.likelihood_ratio_test())
    for pair, table in model.direct_effects_.items():
        pd.testing.assert_frame_equal(back.direct_effects_[pair], table, check_exact=True)
    # a damaged joint table (its margins no longer the profile's) is refused
    content = json.loads(path.read_text())
    content["pair_probs"][0][0][0][0] += 0.01
    content["pair_probs"][0][0][1][0] -= 0.01
    path.write_text(json.dumps(content))
    with pytest.raises(lca.ModelFileError, match="margins are not the conditional_probs"):
        lca.load(path)
    content["pair_probs"] = []
    path.write_text(json.dumps(content))
    with pytest.raises(lca.ModelFileError, match="0 tables for 1 direct effects"):
        lca.load(path)


def test_estimate_is_unbiased_over_replications():
    """Over 10 data sets of 2,000 respondents from a known direct effect of 0.8,
    the mean estimate is within 3 of its standard errors of the truth (and the
    estimates vary as much as sampling lets them: not a constant)."""
    estimates = []
    for seed in range(10):
        df, _ = simulate_pair(2000, 0.8, seed=200 + seed, missing=0.1)
        model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=4, bayes_constant=0.0)
        estimates.append(model.fit(df).direct_effects_[("y0", "y1")].loc[1, 1])
    estimates = np.array(estimates)
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert 0.01 < estimates.std(ddof=1) < 0.2
    assert abs(estimates.mean() - 0.8) < 3 * se


def test_bootstrap_of_the_fit_draws_and_refits_the_direct_effects_model():
    df, _ = simulate_pair(1500, 0.8, seed=23, missing=0.1)
    base = lca.LatentClassModel(2, n_starts=4).fit(df)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=4).fit(df)
    gof_base = base.bootstrap_gof(19, random_state=0, bootstrap_starts=2)
    gof = model.bootstrap_gof(19, random_state=0, bootstrap_starts=2)
    j, jj = 0, 1  # y0, y1
    # without the effect the pair stands out; with it, the samples (drawn with the
    # pair's joint table, refitted with the effect) show BVRs as small as the data's
    assert gof_base.bvr_p_values.loc["y0", "y1"] == pytest.approx(1 / 20)
    assert gof_base.p_X2 == pytest.approx(1 / 20)
    assert gof.p_X2 > 0.05
    assert gof.bootstrap_bvr[:, j, jj].mean() < 2.0
    assert gof.bvr.loc["y0", "y1"] == model.bivariate_residuals().loc["y0", "y1"]
    # the samples keep the association: the model fitted to one finds it again
    codes, _ = model._draw_codes(1500, np.random.default_rng(1))
    sample = pd.DataFrame(codes, columns=df.columns)
    refit = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=4).fit(sample)
    gamma = model.direct_effects_[("y0", "y1")].loc[1, 1]
    assert refit.direct_effects_[("y0", "y1")].loc[1, 1] == pytest.approx(gamma, abs=0.15)
    again = model.bootstrap_gof(19, random_state=0, bootstrap_starts=2, n_jobs=2)
    np.testing.assert_array_equal(again.bootstrap_X2, gof.bootstrap_X2)


def test_summary_reports_the_direct_effects():
    df, _ = simulate_pair(500, 0.8, seed=24, missing=0.1)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    summary = model.summary()
    text = summary.as_text()
    assert text.startswith("Latent class model with 2 classes and 1 direct effect")
    assert "Direct effect y0 x y1" in text
    test = model.likelihood_ratio_test()
    assert f"{test['lr']:.2f} on 1 df" in text
    pd.testing.assert_frame_equal(
        summary.tables["Direct effect y0 x y1"], model.direct_effects_[("y0", "y1")]
    )


# -- standard errors and Wald tests -------------------------------------------------------


def test_analytic_gradient_matches_finite_differences():
    from lca import _direct_se

    df, _ = simulate_pair(700, 0.6, seed=32, missing=0.2, n_cat=(3, 2))
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(df))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df, weights=w)
    problem = model._fitted_problem()
    theta = _direct_se.pack(model._log_class, model._log_cond_c, model._layout)
    back = _direct_se.unpack(theta, model._layout, 2)
    np.testing.assert_allclose(back[0], model._log_class, atol=1e-12)
    np.testing.assert_allclose(back[1], model._log_cond_c, atol=1e-12)
    # at the maximum the gradient vanishes (relative to the objective's scale)
    assert np.abs(_direct_se.gradient(theta, problem, 2)).max() < 1e-3
    # away from it, the analytic gradient is the objective's numerical derivative
    point = theta + np.random.default_rng(1).normal(scale=0.3, size=theta.shape)

    def objective(t):
        return _direct_em.estep(problem, *_direct_se.unpack(t, model._layout, 2))[0]

    numeric = np.array(
        [
            (objective(point + 1e-6 * e) - objective(point - 1e-6 * e)) / 2e-6
            for e in np.eye(point.size)
        ]
    )
    np.testing.assert_allclose(
        _direct_se.gradient(point, problem, 2), numeric, rtol=1e-5, atol=1e-4
    )


def test_effect_coding_of_the_packed_association():
    from lca import _direct_se

    df, _ = simulate_pair(700, 0.6, seed=33, missing=0.1, n_cat=(3, 4))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    theta = _direct_se.pack(model._log_class, model._log_cond_c, model._layout)
    (sl,) = _direct_se.gamma_slices(model._layout, 2)
    coded = _direct_se.effect_coding(3, 4) @ theta[sl]
    np.testing.assert_allclose(
        coded.reshape(3, 4), model.direct_effects_[("y0", "y1")].to_numpy(), atol=1e-10
    )


def test_standard_errors_match_the_spread_over_replications():
    """Over 30 data sets from the same model, the estimates of gamma spread as
    much as their standard errors say (within the noise of 30 draws)."""
    estimates, errors = [], []
    for seed in range(30):
        df, _ = simulate_pair(1000, 0.5, seed=300 + seed, missing=0.1)
        model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=3).fit(df)
        estimates.append(model.direct_effects_[("y0", "y1")].loc[1, 1])
        errors.append(model.direct_effect_errors()[("y0", "y1")].loc[1, 1])
    assert 0.78 < np.mean(errors) / np.std(estimates, ddof=1) < 1.28


def test_information_is_the_objectives_second_derivative():
    """The Hessian from the analytic gradient against second differences of the
    objective itself; the Wald statistic of a binary pair is (estimate / SE)^2."""
    from lca import _direct_se

    df, _ = simulate_pair(1500, 0.15, seed=301, missing=0.1)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=3).fit(df)
    problem = model._fitted_problem()
    theta = _direct_se.pack(model._log_class, model._log_cond_c, model._layout)

    def objective(t):
        return _direct_em.estep(problem, *_direct_se.unpack(t, model._layout, 2))[0]

    numeric = naive.fd_hessian(objective, theta, h=1e-4)
    hessian = _direct_se.hessian(theta, problem, 2)
    np.testing.assert_allclose(hessian, numeric, atol=1e-3 * np.abs(numeric).max())
    (sl,) = _direct_se.gamma_slices(model._layout, 2)
    se_dummy = np.sqrt(np.linalg.inv(-hessian)[sl, sl][0, 0])
    wald = model.direct_effect_tests().loc[("y0", "y1"), "wald"]
    assert wald == pytest.approx((theta[sl][0] / se_dummy) ** 2, rel=1e-6)
    # effect coding of a binary pair: gamma_11 = gamma_dummy / 4, and so its SE
    se = model.direct_effect_errors()[("y0", "y1")].loc[1, 1]
    assert se == pytest.approx(se_dummy / 4, rel=1e-6)


def test_wald_p_values_are_uniform_without_a_direct_effect():
    p_values = []
    for seed in range(30):
        df, _ = simulate_pair(800, 0.0, seed=400 + seed, missing=0.1, n_cat=(3, 2))
        model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
        test = model.direct_effect_tests()
        assert test.loc[("y0", "y1"), "df"] == 2
        p_values.append(test.loc[("y0", "y1"), "p_value"])
    p_values = np.array(p_values)
    assert 0.35 < p_values.mean() < 0.65
    assert np.sum(p_values <= 0.05) <= 5


def test_standard_errors_need_what_they_need(tmp_path):
    df, _ = simulate_pair(600, 0.5, seed=34, missing=0.0, n_cat=(3, 3))
    ml = lca.DirectEffectsModel(2, [("y0", "y1")], bayes_constant=0.0, n_starts=2)
    ml.fit(df.assign(y0=np.where(df["y1"] == 2, np.minimum(df["y0"], 1), df["y0"])))
    with pytest.raises(ValueError, match="are exactly 0"):
        ml.direct_effect_tests()
    df["y2"] = df["y2"] + 1
    ordinal = lca.DirectEffectsModel(2, [("y0", "y1")], ordinal=["y2"], n_starts=2).fit(df)
    with pytest.raises(NotImplementedError, match="ordinal indicator"):
        ordinal.direct_effect_tests()
    # a model read from its file takes the data it was fitted to
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    model.save(tmp_path / "m.json")
    back = lca.load(tmp_path / "m.json")
    pd.testing.assert_frame_equal(back.direct_effect_tests(data=df), model.direct_effect_tests())


# -- SQUAREM ------------------------------------------------------------------------------


def _random_runs(model, n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        log_class, log_cond = lca._em.random_start(
            rng, model.n_classes_, model._layout.offsets, model._ordinal
        )
        yield _direct_em.Run(log_class, _direct_em.to_composite(log_cond, model._layout))


def test_squarem_reaches_plain_ems_maximum_in_fewer_e_steps():
    df, _ = simulate_pair(1500, 0.7, seed=35, missing=0.15, n_cat=(3, 3))
    df["y4"] = df["y4"] + 1
    model = lca.DirectEffectsModel(3, [("y0", "y1")], n_starts=2, ordinal=["y4"]).fit(df)
    problem = model._fitted_problem()
    plain_steps = fast_steps = 0
    for run in _random_runs(model, 4, seed=2):
        plain = _direct_em.run_em(problem, run, 5000, 1e-12)
        trace = []
        fast = _direct_em.run_em(problem, run, 5000, 1e-12, trace=trace, accelerate=True)
        assert plain.converged and fast.converged
        assert fast.objective >= plain.objective - 1e-8 * abs(plain.objective)
        trace = np.array(trace)
        assert np.all(np.diff(trace) >= 0.0)  # every point kept is at least the last
        plain_steps += plain.n_iter
        fast_steps += fast.n_iter
    assert fast_steps < 0.6 * plain_steps


def test_extrapolated_point_stays_in_the_model():
    layout = _direct_em.make_layout([2, 3, 4], [(1, 2)])
    rng = np.random.default_rng(3)
    points = []
    for _ in range(3):
        log_class, log_cond = lca._em.random_start(rng, 2, layout.offsets)
        eta = rng.normal(size=(3, 4, 1)) + rng.normal(size=(3, 1, 2)) + rng.normal(size=(1, 4, 2))
        joint = eta - np.log(np.exp(eta).sum(axis=(0, 1)))
        points.append((log_class, _direct_em.to_composite(log_cond, layout, [joint])))
    (log_class, log_cond), alpha = _direct_em.squarem_point(layout, *points, step_max=4.0)
    assert -4.0 <= alpha <= -1.0
    assert np.exp(log_class).sum() == pytest.approx(1.0)
    joint = _direct_em.pair_log_joint(log_cond, layout, 0)
    np.testing.assert_allclose(np.exp(joint).sum(axis=(0, 1)), 1.0)
    centred = joint - joint.mean(axis=0) - joint.mean(axis=1, keepdims=True)
    centred += joint.mean(axis=(0, 1))
    np.testing.assert_allclose(centred[..., 0], centred[..., 1], atol=1e-12)
    margins, _ = _direct_em.from_composite(log_cond, layout)
    np.testing.assert_allclose(np.exp(margins[2:5]), np.exp(joint).sum(axis=1), rtol=1e-12)


def test_dask_predictions_equal_pandas():
    dd = pytest.importorskip("dask.dataframe")
    df, _ = simulate_pair(600, 0.7, seed=36, missing=0.2, n_cat=(3, 2))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    ddf = dd.from_pandas(df, npartitions=3)
    pd.testing.assert_frame_equal(model.predict_proba(ddf).compute(), model.predict_proba(df))
    pd.testing.assert_series_equal(model.predict(ddf).compute(), model.predict(df))
    with pytest.raises(TypeError, match="fitted to data in memory"):
        lca.DirectEffectsModel(2, [("y0", "y1")]).fit(ddf)


def test_three_step_on_the_direct_effects_models_posteriors():
    """Class membership depending on a covariate (slope 1.0 on the logit of
    class 2, known), with a direct effect in the data: the bias-adjusted
    three-step on the direct-effects model recovers the slope."""
    rng = np.random.default_rng(37)
    n = 6000
    x = rng.normal(size=n)
    cls = (rng.random(n) < 1.0 / (1.0 + np.exp(-(-0.4 + 1.0 * x)))).astype(int)
    df, _ = simulate_pair(n, 0.8, seed=37, missing=0.05, classes=cls)
    covs = pd.DataFrame({"x": x}, index=df.index)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=4).fit(df)
    # simulate_pair's class 1 (y0 mostly 0) is the one x raises
    high = int(model.conditional_probs_["y0"].loc[0].idxmax())
    effects = model.covariate_effects(covs, reference=3 - high)
    slope = effects.coefficients.loc[(high, "x"), "coef"]
    assert slope == pytest.approx(1.0, abs=0.12)
    # the mean of x in each class, corrected for classification error (BCH)
    means = model.distal_means(covs["x"]).means
    for k, true_class in ((high, 1), (3 - high, 0)):
        got = means.loc[("x", k), "mean"]
        assert got == pytest.approx(x[cls == true_class].mean(), abs=0.06)
    with pytest.raises(NotImplementedError, match="step1_uncertainty"):
        model.covariate_effects(covs, step1_uncertainty=True)


def test_a_file_whose_association_differs_by_class_is_refused(tmp_path):
    import json

    df, _ = simulate_pair(600, 0.6, seed=39, missing=0.0, n_cat=(2, 2))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    path = tmp_path / "m.json"
    model.save(path)
    content = json.loads(path.read_text())
    # class 1's table with more mass on the diagonal, the margins kept
    table = np.array(content["pair_probs"][0])
    table[0, 0, 0] += 0.01
    table[1, 1, 0] += 0.01
    table[0, 1, 0] -= 0.01
    table[1, 0, 0] -= 0.01
    content["pair_probs"][0] = table.tolist()
    path.write_text(json.dumps(content))
    with pytest.raises(lca.ModelFileError, match="not the same in every class"):
        lca.load(path)


def test_an_unused_declared_category_leaves_the_rest_of_the_association():
    df, _ = simulate_pair(1500, 0.6, seed=40, missing=0.05, n_cat=(3, 2))
    categories = {"y0": [0.0, 1.0, 2.0, 9.0]}  # nobody answered 9
    model = lca.DirectEffectsModel(2, [("y0", "y1")], categories=categories, n_starts=2)
    gamma = model.fit(df).direct_effects_[("y0", "y1")]
    assert gamma.loc[9.0].isna().all()
    assert np.isfinite(gamma.drop(index=9.0).to_numpy()).all()
    np.testing.assert_allclose(gamma.drop(index=9.0).sum(axis=0), 0.0, atol=1e-10)
    # the same association as without the declared category
    plain = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    np.testing.assert_allclose(
        gamma.drop(index=9.0).to_numpy(),
        plain.direct_effects_[("y0", "y1")].to_numpy(),
        atol=2e-3,
    )
    with pytest.raises(ValueError, match="declared in categories= that nobody gave"):
        model.direct_effect_tests()


def test_blrt_with_direct_effects():
    """Data from 2 classes with a direct effect: the BLRT (both models with the
    effect, samples drawn with it) rejects 1 against 2 classes and not 2 against 3,
    and compare's column is lca.blrt's test."""
    df, _ = simulate_pair(1000, 0.8, seed=45, missing=0.1)
    options = dict(direct_effects=[("y0", "y1")], n_starts=3, random_state=2)
    res = lca.compare(df, [1, 2, 3], progress=False, blrt=True, n_bootstrap=19, **options)
    assert res.table.loc[2, "blrt_p"] == pytest.approx(1 / 20)
    assert res.table.loc[3, "blrt_p"] > 0.05
    two_three = lca.blrt(df, 3, n_bootstrap=19, **options)
    np.testing.assert_array_equal(res.blrt[3].bootstrap_statistics, two_three.bootstrap_statistics)
    with pytest.raises(ValueError, match="does not take merge_starts=True"):
        lca.compare(df, [2, 3], progress=False, merge_starts=True, **options)
    with pytest.raises(ValueError, match="does not take split_merge="):
        lca.blrt(df, 2, n_bootstrap=9, split_merge=3, **options)
    with pytest.raises(ValueError, match="needs at least 1 random start"):
        lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=0).fit(df)


def test_compare_fits_direct_effects_models(tmp_path):
    df, _ = simulate_pair(800, 0.7, seed=44, missing=0.1, n_cat=(3, 2))
    options = dict(direct_effects=[("y0", "y1")], n_starts=3, random_state=1)
    res = lca.compare(df, [1, 2, 3], progress=False, checkpoint_dir=tmp_path, **options)
    for k in (1, 2, 3):
        alone = lca.DirectEffectsModel(k, **options).fit(df)
        assert isinstance(res.models[k], lca.DirectEffectsModel)
        assert res.table.loc[k, "loglik"] == alone.loglik_
        assert res.table.loc[k, "n_parameters"] == alone.n_parameters_
        bvr = alone.bivariate_residuals().to_numpy()
        assert res.table.loc[k, "max_bvr"] == pytest.approx(np.nanmax(bvr), rel=1e-12)
    text = res.summary().as_text()
    assert text.startswith("Comparison of models by number of classes (with direct effects)")
    assert "Every model has direct effects for y0 x y1" in text
    # a rerun reads the models back from the checkpoint folder, also without the
    # smaller models (which no direct-effects fit starts from)
    again = lca.compare(df, [1, 2, 3], progress=False, checkpoint_dir=tmp_path, **options)
    pd.testing.assert_frame_equal(again.table, res.table)
    assert isinstance(again.models[2], lca.DirectEffectsModel)
    fewer = lca.compare(df, [2, 3], progress=False, checkpoint_dir=tmp_path, **options)
    assert tuple(fewer.reused) == (2, 3)
    # the bootstrap of the fit refits the direct-effects model (read back or not)
    gof = lca.compare(
        df, [1, 2, 3], progress=False, bootstrap_gof=True, n_bootstrap=9,
        checkpoint_dir=tmp_path, **options,
    )  # fmt: skip
    for k in (2, 3):
        direct = res.models[k].bootstrap_gof(9, random_state=1)
        np.testing.assert_array_equal(gof.gof[k].bootstrap_X2, direct.bootstrap_X2)


def test_likelihood_ratio_test_of_each_effect():
    df, _ = simulate_pair(1500, 0.5, seed=10, missing=0.05, n_cat=(3, 4))
    model = lca.DirectEffectsModel(3, [("y0", "y1"), ("y3", "y2")], n_starts=4).fit(df)
    tests = model.effect_lr_tests()
    # each against the model fitted with the other effect only, as a user would fit it
    without = lca.DirectEffectsModel(3, [("y3", "y2")], n_starts=4).fit(df)
    assert tests.loc[("y0", "y1"), "loglik_without"] == pytest.approx(without.loglik_, rel=1e-12)
    assert tests.loc[("y0", "y1"), "lr"] == pytest.approx(
        2 * (model.loglik_ - without.loglik_), rel=1e-9
    )
    assert list(tests["df"]) == [6, 1]
    # with one pair, the test against the model without direct effects
    one = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    assert one.effect_lr_tests()["lr"].iloc[0] == pytest.approx(
        one.likelihood_ratio_test()["lr"], rel=1e-12
    )


def test_singular_information_and_a_loaded_model_without_data(tmp_path):
    # one binary indicator beside a binary pair, 2 classes: 8 parameters for 7 free
    # cells, not identified; refused whatever the seed (maximum likelihood)
    df, _ = simulate_pair(1000, 0.5, seed=42, missing=0.0)
    df = df[["y0", "y1", "y2"]]
    for seed in range(4):
        model = lca.DirectEffectsModel(
            2, [("y0", "y1")], bayes_constant=0.0, random_state=seed, n_starts=2
        )
        with pytest.warns(UserWarning, match="not identified"):
            model.fit(df)
        with pytest.raises(ValueError, match="singular"):
            model.direct_effect_errors()
    full, _ = simulate_pair(500, 0.5, seed=43)
    fitted = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(full)
    fitted.save(tmp_path / "m.json")
    with pytest.raises(lca.NotFittedError, match=r"direct_effect_tests\(data=df"):
        lca.load(tmp_path / "m.json").direct_effect_errors()


# -- standard errors of the profile -------------------------------------------------------


def _profile_errors_by_hand(model, df):
    """The profile's standard errors from a likelihood written out here, in another
    parametrisation (reference category and class last; the pair's table saturated
    in a, b within each class less a class-free association): finite-difference
    Hessian of the log-posterior, delta method by finite differences."""
    from scipy.special import logsumexp

    names = [ind.name for ind in model.indicators_]
    (pa, pb) = next(iter(model.pair_probs_))
    cats = {ind.name: list(ind.categories) for ind in model.indicators_}
    codes = np.column_stack(
        [df[n].map({c: i for i, c in enumerate(cats[n])}).fillna(-1).to_numpy(int) for n in names]
    )
    k = model.n_classes_
    singles = [n for n in names if n not in (pa, pb)]
    ca, cb = len(cats[pa]), len(cats[pb])

    def unpack(t):
        at = 0

        def take(n):
            nonlocal at
            out = t[at : at + n]
            at += n
            return out

        u = np.append(take(k - 1), 0.0)
        log_sizes = u - logsumexp(u)
        single = {}
        for n in singles:
            c = len(cats[n])
            eta = np.vstack([take(k * (c - 1)).reshape(c - 1, k), np.zeros(k)])
            single[n] = eta - logsumexp(eta, axis=0)
        alpha = np.vstack([take(k * (ca - 1)).reshape(ca - 1, k), np.zeros(k)])
        beta = np.vstack([take(k * (cb - 1)).reshape(cb - 1, k), np.zeros(k)])
        gamma = np.zeros((ca, cb))
        gamma[:-1, :-1] = take((ca - 1) * (cb - 1)).reshape(ca - 1, cb - 1)
        eta = alpha[:, None, :] + beta[None, :, :] + gamma[:, :, None]
        return log_sizes, single, eta - logsumexp(eta, axis=(0, 1))

    ja, jb = names.index(pa), names.index(pb)

    def loglik(t):
        log_sizes, single, log_joint = unpack(t)
        joint = np.tile(log_sizes, (codes.shape[0], 1))
        for n in singles:
            y = codes[:, names.index(n)]
            joint[y >= 0] += single[n][y[y >= 0]]
        a, b = codes[:, ja], codes[:, jb]
        both = (a >= 0) & (b >= 0)
        joint[both] += log_joint[a[both], b[both]]
        only_a = (a >= 0) & (b < 0)
        joint[only_a] += logsumexp(log_joint, axis=1)[a[only_a]]
        only_b = (a < 0) & (b >= 0)
        joint[only_b] += logsumexp(log_joint, axis=0)[b[only_b]]
        return float(np.sum(logsumexp(joint, axis=1)))

    def probabilities(t):
        log_sizes, single, log_joint = unpack(t)
        blocks = []
        for n in names:
            if n == pa:
                blocks.append(np.exp(logsumexp(log_joint, axis=1)))
            elif n == pb:
                blocks.append(np.exp(logsumexp(log_joint, axis=0)))
            else:
                blocks.append(np.exp(single[n]))
        cond = np.vstack(blocks)
        sizes = np.exp(log_sizes)
        return np.concatenate([sizes, cond.ravel(), cond @ sizes])

    # the model's estimates in this parametrisation
    sizes = model.class_sizes_.to_numpy()
    theta = list(np.log(sizes[:-1]) - np.log(sizes[-1]))
    for n in singles:
        p = model.conditional_probs_[n].to_numpy()
        theta += list((np.log(p[:-1]) - np.log(p[-1])).ravel())
    log_joint = np.log(model.pair_probs_[(pa, pb)].to_numpy().reshape(ca, cb, k))
    alpha = log_joint[:, -1, :] - log_joint[-1:, -1, :]
    beta = log_joint[-1, :, :] - log_joint[-1:, -1:, :][0]
    gamma = log_joint[:, :, 0] - alpha[:, None, 0] - beta[None, :, 0] - log_joint[-1, -1, 0]
    theta += list(alpha[:-1].ravel()) + list(beta[:-1].ravel()) + list(gamma[:-1, :-1].ravel())
    theta = np.array(theta)
    assert np.allclose(probabilities(theta)[:k], sizes)
    cov = np.linalg.inv(-naive.fd_hessian(loglik, theta, h=1e-4))
    jac = naive.fd_jacobian(probabilities, theta)
    return np.sqrt(np.einsum("ip,pq,iq->i", jac, cov, jac))


def test_profile_standard_errors_match_a_likelihood_written_out():
    df, _ = simulate_pair(800, 0.6, seed=41, missing=0.1, n_cat=(3, 2))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], bayes_constant=0, n_starts=4, tol=1e-12)
    model.fit(df)
    se = model.standard_errors()
    k = model.n_classes_
    expected = _profile_errors_by_hand(model, df)
    np.testing.assert_allclose(se.class_sizes.to_numpy(), expected[:k], rtol=2e-3)
    cells = se.profile.to_numpy()
    n_cat = cells.shape[0]
    np.testing.assert_allclose(cells[:, :k].ravel(), expected[k : k + n_cat * k], rtol=2e-3)
    np.testing.assert_allclose(cells[:, k], expected[k + n_cat * k :], rtol=2e-3)
    assert se.profile.index.equals(model.profile().index)
    assert not se.boundary.to_numpy().any()
    assert set(se.to_frame().columns.get_level_values(1)) == {"estimate", "se"}


def test_profile_standard_errors_of_the_margins_are_the_sample_proportions():
    """At the maximum the model's margin of an indicator is its sample proportion p
    (every latent class model reproduces the one-way tables), whose standard error
    is sqrt(p (1 - p) / N) when the model holds."""
    df, _ = simulate_pair(3000, 0.6, seed=42, missing=0.0, n_cat=(3, 2))
    model = lca.DirectEffectsModel(2, [("y0", "y1")], bayes_constant=0, n_starts=4, tol=1e-12)
    se = model.fit(df).standard_errors()
    for name in ("y0", "y1", "y3"):
        p = df[name].value_counts(normalize=True).sort_index().to_numpy()
        np.testing.assert_allclose(model.profile().loc[name, "Total"].to_numpy(), p, atol=1e-6)
        np.testing.assert_allclose(
            se.profile.loc[name, "Total"].to_numpy(), np.sqrt(p * (1 - p) / len(df)), rtol=0.03
        )


def test_profile_standard_errors_refuse_other_methods():
    df, _ = simulate_pair(300, 0.5, seed=43)
    model = lca.DirectEffectsModel(2, [("y0", "y1")], n_starts=2).fit(df)
    for method in ("opg", "robust", "design"):
        with pytest.raises(NotImplementedError, match="observed information only"):
            model.standard_errors(method)
