"""The Vuong-Lo-Mendell-Rubin test (lca.lmr): its distribution, its weights, its plumbing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import lca
from lca.encoding import encode
from lca.lmr import lmr_test, vuong_weights, weighted_chi2_sf

from . import naive

# -- the tail of a weighted sum of chi-square(1) variables ------------------------------


@pytest.mark.parametrize("df", [1, 2, 5, 17])
@pytest.mark.parametrize("x", [0.5, 3.0, 12.0, 40.0])
def test_nearly_equal_weights_give_the_chi_square(df, x):
    # weights 1 + 1e-9 k go through Imhof's integral, not the shortcut for equal ones
    weights = 1.0 + 1e-9 * np.arange(df)
    expected = stats.chi2.sf(x, df)
    assert weighted_chi2_sf(x, weights) == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("x", [0.2, 1.0, 4.0, 15.0, 40.0])
def test_two_chi_square_2_with_unequal_weights_match_the_closed_form(x):
    # a chi-square(2) is 2 Exp(1): a Z1^2 + a Z2^2 + b Z3^2 + b Z4^2 = 2a E1 + 2b E2,
    # P(> x) = (a exp(-x / 2a) - b exp(-x / 2b)) / (a - b)
    a, b = 2.0, 0.5
    expected = (a * math.exp(-x / (2 * a)) - b * math.exp(-x / (2 * b))) / (a - b)
    assert weighted_chi2_sf(x, [a, a, b, b]) == pytest.approx(expected, rel=1e-7, abs=1e-13)


@pytest.mark.parametrize("x", [0.1, 1.0, 5.0, 20.0])
def test_negative_weights_match_the_closed_form(x):
    # 2a E1 - 2b E2 > x > 0 has probability a / (a + b) exp(-x / 2a)
    a, b = 1.5, 0.4
    expected = a / (a + b) * math.exp(-x / (2 * a))
    assert weighted_chi2_sf(x, [a, a, -b, -b]) == pytest.approx(expected, rel=1e-7, abs=1e-13)


def test_many_mixed_weights_match_a_simulation():
    rng = np.random.default_rng(0)
    weights = np.array([1.6, 1.2, 1.0, 0.9, 0.4, 0.1, 0.05, -0.02, -0.2, -0.6])
    draws = (rng.standard_normal((400_000, weights.size)) ** 2) @ weights
    for x in (0.5, 2.0, 5.0, 10.0):
        share = float(np.mean(draws > x))
        se = math.sqrt(share * (1 - share) / draws.size)
        assert abs(weighted_chi2_sf(x, weights) - share) < 4 * se


def test_degenerate_and_bad_weights():
    assert weighted_chi2_sf(1.0, [0.0, 0.0]) == 0.0
    assert weighted_chi2_sf(-1.0, [0.0]) == 1.0
    with pytest.raises(ValueError, match="finite"):
        weighted_chi2_sf(1.0, [1.0, np.nan])
    with pytest.raises(ValueError, match="finite"):
        weighted_chi2_sf(np.inf, [1.0])


# -- Vuong's weights ---------------------------------------------------------------------


def test_regular_nested_models_have_one_weight_of_one_per_parameter():
    """Two binary items: independence (2 parameters) inside the saturated 2 x 2
    table (3), on counts that are exactly independent. Both are at their maximum
    and the information equality holds exactly, so Vuong's weights are Wilks's:
    p - q = 1 weight of 1, the others 0."""
    p1, p2, n = 0.3, 0.6, 1000.0
    cells = np.array([(0, 0), (0, 1), (1, 0), (1, 1)], dtype=float)
    share = np.array([(1 - p1) * (1 - p2), (1 - p1) * p2, p1 * (1 - p2), p1 * p2])
    counts = n * share
    # saturated: logits of cells 1..3 against cell 0
    scores_sat = np.eye(4)[:, 1:] - share[1:]
    info_sat = n * (np.diag(share[1:]) - np.outer(share[1:], share[1:]))
    # independence: one logit per item
    scores_ind = cells - [p1, p2]
    info_ind = n * np.diag([p1 * (1 - p1), p2 * (1 - p2)])
    lam = vuong_weights(scores_sat, info_sat, scores_ind, info_ind, counts)
    np.testing.assert_allclose(lam, [1.0], atol=1e-10)
    # two free parameters more (the saturated table of three items against independence)
    cells3 = np.array([(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)], float)
    q = np.array([0.3, 0.6, 0.75])
    share3 = np.prod(np.where(cells3 == 1, q, 1 - q), axis=1)
    scores_sat3 = np.eye(8)[:, 1:] - share3[1:]
    info_sat3 = n * (np.diag(share3[1:]) - np.outer(share3[1:], share3[1:]))
    lam3 = vuong_weights(scores_sat3, info_sat3, cells3 - q, n * np.diag(q * (1 - q)), n * share3)
    np.testing.assert_allclose(lam3, np.ones(4), atol=1e-10)


@pytest.fixture(scope="module")
def weighted_pair():
    """2 and 3 classes on 2-class data with missing answers and unequal weights
    (Bayes constants keep every probability inside, where finite differences work)."""
    truth = {
        "q1": [[0.8, 0.2], [0.2, 0.8]],
        "q2": [[0.6, 0.1], [0.3, 0.3], [0.1, 0.6]],
        "q3": [[0.7, 0.25], [0.3, 0.75]],
        "q4": [[0.7, 0.3], [0.3, 0.7]],
        "q5": [[0.5, 0.1], [0.3, 0.2], [0.2, 0.7]],
    }
    df, _ = lca.simulate([0.6, 0.4], truth, n=600, random_state=3, missing=0.1)
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(df))
    fit = dict(n_starts=10, tol=1e-13, max_iter=20000, random_state=0)
    models = [lca.LatentClassModel(k, **fit).fit(df, weights=w) for k in (2, 3)]
    return df, w, models


def _finite_difference_pieces(model, df, w):
    """Row scores and the Hessian of the log-posterior, by finite differences in
    tests/naive.py's parametrisation (reference class and category 0)."""
    codes = encode(df, model.indicators_)
    off = model._offsets
    blocks = [model._cond_probs[off[j] : off[j + 1]] for j in range(len(model.indicators_))]
    n_cats = [b.shape[0] for b in blocks]
    nominal = [False] * len(blocks)
    k = model.n_classes_
    theta = naive.logit_parameters(model._class_probs, blocks, nominal)
    marginals = []
    for j, block in enumerate(blocks):
        ok = codes[:, j] >= 0
        c = np.bincount(codes[ok, j], weights=w[ok], minlength=block.shape[0])
        marginals.append(c / c.sum())

    def objective(t):
        return naive.log_posterior(
            t, codes, w, k, n_cats, nominal, model.class_bayes_constant_,
            model.bayes_constant_, marginals,
        )  # fmt: skip

    hessian = naive.fd_hessian(objective, theta)
    scores = naive.fd_jacobian(lambda t: naive.row_logliks(t, codes, k, n_cats, nominal), theta)
    return scores, hessian


def test_weights_match_vuongs_matrix_by_finite_differences(weighted_pair):
    """Vuong's W as he wrote it (not symmetrised), from finite-difference scores and
    Hessians of the rows in another parametrisation: the same eigenvalues, so the
    same p-value."""
    df, w, (m2, m3) = weighted_pair
    result = lmr_test(m2, m3)
    s_f, h_f = _finite_difference_pieces(m3, df, w)
    s_g, h_g = _finite_difference_pieces(m2, df, w)
    n = w.sum()
    a_f, a_g = h_f / n, h_g / n
    b_f = s_f.T @ (s_f * w[:, None]) / n
    b_g = s_g.T @ (s_g * w[:, None]) / n
    b_fg = s_f.T @ (s_g * w[:, None]) / n
    big_w = np.block(
        [
            [-b_f @ np.linalg.inv(a_f), -b_fg @ np.linalg.inv(a_g)],
            [b_fg.T @ np.linalg.inv(a_f), b_g @ np.linalg.inv(a_g)],
        ]
    )
    eig = np.linalg.eigvals(big_w)
    assert np.max(np.abs(eig.imag)) < 1e-6
    eig = np.sort(eig.real)[::-1]
    eig = eig[np.abs(eig) > 1e-8 * np.max(np.abs(eig))]
    assert result.weights.size == eig.size == m3.n_parameters_ + m2.n_parameters_
    np.testing.assert_allclose(result.weights, eig, atol=2e-5)
    assert result.p_value == pytest.approx(weighted_chi2_sf(result.statistic, eig), rel=1e-3)
    assert result.mean == pytest.approx(eig.sum(), abs=1e-4)
    assert result.sd == pytest.approx(math.sqrt(2 * np.sum(eig**2)), abs=1e-4)


def test_statistic_adjustment_and_fields(weighted_pair):
    _, w, (m2, m3) = weighted_pair
    r = lmr_test(m2, m3)
    assert r.n_classes == 3
    assert r.statistic == pytest.approx(2 * (m3.loglik_ - m2.loglik_))
    assert r.df == m3.n_parameters_ - m2.n_parameters_ == 8
    n = w.sum()
    assert r.n_obs == pytest.approx(n)
    assert r.adjusted_statistic == pytest.approx(r.statistic / (1 + 1 / (8 * math.log(n))))
    assert r.adjusted_p_value == pytest.approx(weighted_chi2_sf(r.adjusted_statistic, r.weights))
    assert r.p_value <= r.adjusted_p_value
    back = lca.LMRResult.from_dict(r.to_dict())
    assert np.array_equal(back.weights, r.weights)
    assert {k: v for k, v in vars(back).items() if k != "weights"} == {
        k: v for k, v in vars(r).items() if k != "weights"
    }
    assert "2 vs 3 classes" in repr(r)


def test_saved_models_with_their_data_give_the_same_test(weighted_pair, tmp_path):
    df, w, (m2, m3) = weighted_pair
    m2.save(tmp_path / "m2.json")
    m3.save(tmp_path / "m3.json")
    l2, l3 = lca.load(tmp_path / "m2.json"), lca.load(tmp_path / "m3.json")
    with pytest.raises(lca.NotFittedError, match="data"):
        lmr_test(l2, l3)
    again = lmr_test(l2, l3, data=df, weights=w)
    first = lmr_test(m2, m3)
    assert again.p_value == pytest.approx(first.p_value, rel=1e-9)
    np.testing.assert_allclose(again.weights, first.weights, rtol=1e-9, atol=1e-12)


def test_integer_weights_equal_repeated_rows():
    truth = {f"q{j}": [[0.85, 0.2], [0.15, 0.8]] for j in range(5)}
    df, _ = lca.simulate([0.5, 0.5], truth, n=300, random_state=1)
    reps = np.random.default_rng(2).integers(1, 4, size=len(df))
    long = df.loc[df.index.repeat(reps)].reset_index(drop=True)
    opts = dict(bayes_constant=0, n_starts=5, tol=1e-12, max_iter=5000, random_state=0)
    short = [lca.LatentClassModel(k, **opts).fit(df, weights=reps.astype(float)) for k in (1, 2)]
    rep = [lca.LatentClassModel(k, **opts).fit(long) for k in (1, 2)]
    a, b = lmr_test(*short), lmr_test(*rep)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-8)
    assert a.p_value == pytest.approx(b.p_value, rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-6, atol=1e-9)


# -- what the test says on simulated data ---------------------------------------------


def test_real_classes_are_found():
    """Three well separated classes (the third answers the first three items as the
    first class, the last three as the second): 2 against 3 and 1 against 2 reject."""
    truth = {
        f"q{j}": [[0.9, 0.1, 0.9], [0.1, 0.9, 0.1]] if j < 3 else [[0.9, 0.1, 0.1], [0.1, 0.9, 0.9]]
        for j in range(6)
    }
    df, _ = lca.simulate([0.4, 0.35, 0.25], truth, n=800, random_state=7)
    opts = dict(bayes_constant=0, n_starts=10, random_state=0)
    m = {k: lca.LatentClassModel(k, **opts).fit(df) for k in (1, 2, 3)}
    assert lmr_test(m[2], m[3]).p_value < 1e-6
    assert lmr_test(m[1], m[2]).adjusted_p_value < 1e-6


# -- plumbing ----------------------------------------------------------------------------


def test_compare_adds_the_columns_of_lmr_test():
    df = lca.datasets.load_gss82()
    res = lca.compare(df, range(1, 4), bayes_constant=0, progress=False, random_state=0, lmr=True)
    assert math.isnan(res.table.loc[1, "lmr_p"])
    for k in (2, 3):
        direct = lmr_test(res.models[k - 1], res.models[k])
        assert res.table.loc[k, "lmr_p"] == direct.p_value
        assert res.table.loc[k, "lmr_adjusted_p"] == direct.adjusted_p_value
        assert res.lmr[k].statistic == direct.statistic
    text = res.summary().as_text()
    assert "VLMR p" in text and "aLMR p" in text and "prefer the BLRT" in text
    # a K whose K-1 is not in the sweep gets no test
    gap = lca.compare(df, [1, 3], bayes_constant=0, progress=False, random_state=0, lmr=True)
    assert gap.table["lmr_p"].isna().all() and not gap.lmr


def test_compare_refuses_lmr_with_direct_effects():
    df = lca.datasets.load_gss82()
    with pytest.raises(ValueError, match="lmr=True takes LatentClassModel"):
        lca.compare(
            df, range(1, 3), progress=False, lmr=True, direct_effects=[("PURPOSE", "ACCURACY")]
        )


def test_refusals_name_the_fix(weighted_pair):
    df, w, (m2, m3) = weighted_pair
    with pytest.raises(ValueError, match="fewer classes first"):
        lmr_test(m3, m2)
    other = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(df[["q1", "q2", "q3"]])
    with pytest.raises(ValueError, match="different indicators"):
        lmr_test(other, m3)
    unweighted = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(df)
    with pytest.raises(ValueError, match="different data"):
        lmr_test(unweighted, m3)
    with pytest.raises(lca.NotFittedError, match="not fitted"):
        lmr_test(lca.LatentClassModel(2), m3)
    de = lca.DirectEffectsModel(3, direct_effects=[("q1", "q3")], n_starts=2, random_state=0)
    de.fit(df, weights=w)
    with pytest.raises(TypeError, match="DirectEffectsModel"):
        lmr_test(m2, de)


def test_a_lower_loglik_with_more_classes_warns():
    truth = {f"q{j}": [[0.85, 0.2], [0.15, 0.8]] for j in range(5)}
    df, _ = lca.simulate([0.5, 0.5], truth, n=400, random_state=4)
    good = lca.LatentClassModel(2, bayes_constant=0, n_starts=5, random_state=0).fit(df)
    # a 3-class fit stopped after 2 iterations from a random start: below the 2-class maximum
    poor = lca.LatentClassModel(
        3, bayes_constant=0, n_starts=1, max_iter=2, random_state=0, pattern_starts=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        poor.fit(df)
    assert poor.loglik_ < good.loglik_
    with warnings.catch_warnings():
        # the stopped fit is not at a maximum, so its information matrix may be singular
        warnings.filterwarnings("ignore", "the information matrix", UserWarning)
        with pytest.warns(UserWarning, match="local maximum"):
            r = lmr_test(good, poor)
    assert r.statistic < 0 and r.p_value > 0.5


def test_cli_compare_prints_the_lmr_columns(tmp_path, capsys):
    from lca.cli import main

    path = tmp_path / "gss.csv"
    lca.datasets.load_gss82().to_csv(path, index=False)
    main(["compare", str(path), "--classes", "1-3", "--lmr", "--quiet", "--out",
          str(tmp_path / "out")])  # fmt: skip
    out = capsys.readouterr().out
    assert "lmr_p" in out and "lmr_adjusted_p" in out
    table = pd.read_csv(tmp_path / "out" / "comparison.csv", index_col=0)
    assert table["lmr_p"].notna().sum() == 2
