"""One-step latent class regression (lca.regression, lca._regression_em)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.special import logsumexp

import lca
from lca import _regression_em
from lca.encoding import DataError
from lca.regression import LatentClassRegression

from . import naive

#: P(answer 1 | class) of 6 binary indicators in 3 classes.
PROFILES = np.array([[0.85] * 6, [0.15] * 6, [0.85] * 3 + [0.15] * 3])
#: True coefficients, rows Intercept, x, g[b], g[c]; class 0's column 0.
TRUE_BETA = np.array([[0.0, 0.3, -0.2], [0.0, 1.0, -0.8], [0.0, 0.5, 0.0], [0.0, 0.0, -0.7]])


def simulate(rng, n, profiles=PROFILES, beta=TRUE_BETA):
    """Answers, covariates x (normal) and g (a, b, c), and the true classes."""
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    z = np.column_stack([np.ones(n), x, g == "b", g == "c"]).astype(float)[:, : beta.shape[0]]
    eta = z @ beta
    pi = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
    cls = (rng.random(n)[:, None] > np.cumsum(pi, axis=1)).sum(axis=1)
    answers = (rng.random((n, profiles.shape[1])) < profiles[cls]).astype(int)
    data = pd.DataFrame(answers, columns=[f"q{j}" for j in range(profiles.shape[1])])
    data["x"] = x
    data["g"] = g
    return data, cls


def brute_loglik(data, items, z, beta, probs):
    """sum_i log sum_k pi_ik prod_j P(y_ij | k), the product over the answers given;
    ``probs[j]`` is (categories 0/1, K)."""
    eta = z @ beta
    like = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
    for j, item in enumerate(items):
        y = data[item].to_numpy()
        answered = ~np.isnan(y)
        like[answered] *= probs[j][y[answered].astype(int)]
    return float(np.sum(np.log(like.sum(axis=1))))


def unpack(params, q, k, n_items):
    """(beta, probs) from free parameters: K - 1 columns of q coefficients (class 0 the
    reference), then per indicator and class the logit of answer 1."""
    nb = q * (k - 1)
    beta = np.zeros((q, k))
    beta[:, 1:] = params[:nb].reshape(k - 1, q).T
    logits = params[nb:].reshape(n_items, k)
    probs = [np.vstack([1 / (1 + np.exp(lg)), 1 / (1 + np.exp(-lg))]) for lg in logits]
    return beta, probs


def packed(model, items, ref=0):
    """The model's estimates as ``unpack``'s parameters, with class ``ref`` (0-based)
    the reference."""
    beta = model.beta_.to_numpy()
    beta = beta - beta[:, [ref]]
    k = beta.shape[1]
    order = [ref] + [s for s in range(k) if s != ref]
    p1 = np.vstack([model.conditional_probs_[item].loc[1].to_numpy() for item in items])
    return np.concatenate(
        [beta[:, order[1:]].T.ravel(), np.log(p1[:, order] / (1 - p1[:, order])).ravel()]
    ), order


def assert_refused(content: dict, tmp_path, changes) -> None:
    """Each ``(change, message)`` made to a copy of a model file's ``content`` makes
    ``lca.load`` refuse it with a ModelFileError matching ``message``."""
    import json

    for change, message in changes:
        broken = json.loads(json.dumps(content))
        change(broken)
        (tmp_path / "bad.json").write_text(json.dumps(broken))
        with pytest.raises(lca.ModelFileError, match=message):
            lca.load(tmp_path / "bad.json")


@pytest.fixture(scope="module")
def small():
    """400 respondents, 4 binary indicators (some answers missing), 2 classes, x."""
    rng = np.random.default_rng(3)
    profiles = np.array([[0.8] * 4, [0.2] * 4])
    data, _ = simulate(rng, 400, profiles=profiles[[0, 1, 1]], beta=TRUE_BETA[:2, :])
    data = data.drop(columns="g")
    data.loc[rng.random(400) < 0.1, "q1"] = np.nan
    items = [f"q{j}" for j in range(4)]
    model = LatentClassRegression(2, bayes_constant=0, tol=1e-13, n_starts=8).fit(data, "x")
    z = np.column_stack([np.ones(400), data["x"].to_numpy()])
    return data, items, z, model


def test_the_estimates_are_the_maximum_of_the_likelihood_written_out(small):
    """The log-likelihood of plain loops at the estimates is loglik_, no optimiser
    (scipy's BFGS from the estimates and from random points) finds a higher one, and
    its gradient (central differences) is 0 there."""
    data, items, z, model = small
    params, _ = packed(model, items)

    def nll(p):
        return -brute_loglik(data, items, z, *unpack(p, 2, 2, 4))

    assert -nll(params) == pytest.approx(model.loglik_, rel=1e-10)
    rng = np.random.default_rng(0)
    for start in [params + 0.05 * rng.normal(size=params.size)] + [
        rng.normal(size=params.size) for _ in range(2)
    ]:
        res = optimize.minimize(nll, start, method="BFGS", options={"gtol": 1e-6})
        assert -res.fun <= model.loglik_ + 1e-7 * abs(model.loglik_)
    h = 1e-5
    grad = [(nll(params + h * e) - nll(params - h * e)) / (2 * h) for e in np.eye(params.size)]
    np.testing.assert_allclose(grad, 0.0, atol=1e-4)


@pytest.fixture(scope="module")
def small_cov(small):
    """Minus the inverse of the log-likelihood's second differences at the estimates of
    ``small``, in ``unpack``'s parameters."""
    data, items, z, model = small
    params, _ = packed(model, items)

    def ll(p):
        return brute_loglik(data, items, z, *unpack(p, 2, 2, 4))

    return params, np.linalg.inv(-naive.fd_hessian(ll, params, h=1e-3))


def test_standard_errors_are_the_inverse_hessian_of_the_likelihood(small, small_cov):
    """The coefficients' covariance is the (beta) block of minus the inverse of the
    log-likelihood's second differences in every parameter (the conditional
    probabilities' parametrisation does not change that block)."""
    _, _, _, model = small
    cov = small_cov[1][:2, :2]
    np.testing.assert_allclose(model.covariance_, cov, rtol=2e-3)
    np.testing.assert_allclose(model.coefficients_["se"], np.sqrt(np.diag(cov)), rtol=1e-3)


def test_profile_standard_errors_are_the_delta_method_on_the_likelihoods_hessian(small, small_cov):
    """Every class size (the respondents' average class probability), conditional
    probability and Total: its gradient in ``unpack``'s parameters (central
    differences) with the covariance of the second differences."""
    _, items, z, model = small
    params, cov = small_cov
    se = model.standard_errors()

    def quantities(p):
        beta, probs = unpack(p, 2, 2, 4)
        eta = z @ beta
        sizes = np.exp(eta - logsumexp(eta, axis=1, keepdims=True)).mean(axis=0)
        cells = [probs[j][1] for j in range(4)]
        totals = [float(sizes @ c) for c in cells]
        return np.concatenate([sizes, np.ravel(cells), totals])

    h = 1e-6
    jac = np.column_stack(
        [(quantities(params + h * e) - quantities(params - h * e)) / (2 * h)
         for e in np.eye(params.size)]
    )  # fmt: skip
    expected = np.sqrt(np.einsum("ip,pq,iq->i", jac, cov, jac))
    got = np.concatenate(
        [se.class_sizes.to_numpy()]
        + [se.profile.loc[(item, 1), [1, 2]].to_numpy() for item in items]
        + [[se.profile.loc[(item, 1), "Total"] for item in items]]
    )
    np.testing.assert_allclose(got, expected, rtol=2e-3)
    assert se.n_free == se.rank == params.size


def test_the_objective_with_bayes_constants_is_maximised_and_never_falls():
    """With Bayes constants the objective is the log-likelihood plus the conditional
    probabilities' Dirichlet log-prior plus (a / W) sum_i w_i sum_k log pi_ik: EM's
    objective at the estimates is that sum, written out, every EM iteration keeps or
    raises it, and no small move of the coefficients raises it."""
    rng = np.random.default_rng(5)
    data, _ = simulate(rng, 600)
    model = LatentClassRegression(3, bayes_constant=1.0, n_starts=8).fit(data, ["x", "g"])
    meas = model.measurement_model_
    items = [f"q{j}" for j in range(6)]
    z = model.design_.matrix(data[["x", "g"]])
    beta = model.beta_.to_numpy()
    probs = [model.conditional_probs_[item].to_numpy() for item in items]
    loglik = brute_loglik(data, items, z, beta, probs)
    assert loglik == pytest.approx(model.loglik_, rel=1e-10)
    log_cond = np.log(np.vstack(probs))
    a = float(meas._class_prior)

    def objective(b):
        eta = z @ b
        log_pi = eta - logsumexp(eta, axis=1, keepdims=True)
        joint = log_pi + sum(np.log(p[data[item].to_numpy()]) for p, item in zip(probs, items))
        return logsumexp(joint, axis=1).sum() + a / len(data) * log_pi.sum()

    prior = float(np.sum(meas._cond_prior[:, None] * log_cond))
    assert objective(beta) + prior == pytest.approx(loglik + model.log_prior_, rel=1e-10)
    for _ in range(20):
        moved = beta + 1e-3 * rng.normal(size=beta.shape)
        assert objective(moved) <= objective(beta)
    # the EM trace from the measurement model's maximum
    trace = []
    zs = z
    start = np.zeros((z.shape[1], 3))
    start[0] = meas._log_class - meas._log_class[0]
    _, _, inverse = lca.encoding.compress(
        lca.encoding.encode(data[items], meas.indicators_), np.ones(len(data))
    )
    patterns = lca.encoding.compress(
        lca.encoding.encode(data[items], meas.indicators_), np.ones(len(data))
    )[0]
    _regression_em.regression_em(
        patterns, inverse, np.ones(len(data)), zs, meas._offsets, meas._ordinal,
        meas._log_cond.copy(), start, [1, 2], a, meas._cond_prior, 200, 1e-14, trace=trace,
    )  # fmt: skip
    assert len(trace) > 5  # every objective evaluated, kept or not
    assert np.all(np.diff(trace) >= -1e-9 * abs(trace[-1]))


def test_known_truth_is_recovered_and_intervals_cover_it():
    """Simulated with known coefficients (N = 3,000): every estimate within 4 standard
    errors of the truth, after matching the classes to the true ones by their
    profiles."""
    rng = np.random.default_rng(11)
    data, _ = simulate(rng, 3000)
    model = LatentClassRegression(3, bayes_constant=0, n_starts=8).fit(data, ["x", "g"])
    # fitted class of each true class: the one whose P(q0 = 1), P(q5 = 1) match
    p = np.column_stack([model.conditional_probs_[q].loc[1] for q in ("q0", "q5")])
    truth = PROFILES[:, [0, 5]]
    match = [int(np.argmin(np.abs(p - t).sum(axis=1))) for t in truth]
    assert sorted(match) == [0, 1, 2]
    ref_true = match.index(0)  # the true class that is fitted class 1 (the reference)
    true = TRUE_BETA - TRUE_BETA[:, [ref_true]]
    for t, fitted in enumerate(match):
        if fitted == 0:
            continue
        row = model.coefficients_.loc[fitted + 1]
        z = (row["coef"].to_numpy() - true[:, t]) / row["se"].to_numpy()
        assert np.all(np.abs(z) < 4), (fitted, z)
    assert model.wald_.loc["x", "p_value"] < 1e-10


def test_standard_errors_match_the_spread_over_simulated_samples():
    """Over 40 samples of 500 (2 classes, one covariate), the mean standard error of
    the slope is within 20% of the estimates' standard deviation, and the 95% intervals
    cover the truth in 34 to 40 of them (the binomial's 99.9% range about 0.95 x 40)."""
    rng = np.random.default_rng(21)
    beta = np.array([[0.0, -0.4], [0.0, 0.9]])
    est, ses, cover = [], [], 0
    for _ in range(40):
        data, _ = simulate(rng, 500, profiles=np.array([[0.8] * 5, [0.2] * 5]), beta=beta)
        data = data.drop(columns="g")
        m = LatentClassRegression(2, bayes_constant=0, n_starts=4).fit(data, "x")
        high = m.conditional_probs_["q0"].loc[1].to_numpy()
        sign = 1.0 if high[0] > high[1] else -1.0  # fitted class 1 is the true class 0
        coef, se = m.coefficients_.loc[(2, "x"), ["coef", "se"]]
        est.append(sign * coef)
        ses.append(se)
        cover += abs(sign * coef - 0.9) < 1.96 * se
    assert np.mean(ses) == pytest.approx(np.std(est, ddof=1), rel=0.2)
    assert 34 <= cover <= 40


def test_integer_weights_are_repeated_rows_and_zero_weights_leave_rows_out():
    rng = np.random.default_rng(8)
    data, _ = simulate(rng, 300)
    counts = rng.integers(0, 3, size=300)
    weighted = LatentClassRegression(3, n_starts=6).fit(data, ["x", "g"], weights=counts)
    repeated = data.loc[np.repeat(data.index, counts)].reset_index(drop=True)
    plain = LatentClassRegression(3, n_starts=6).fit(repeated, ["x", "g"])
    assert weighted.loglik_ == pytest.approx(plain.loglik_, rel=1e-9)
    pd.testing.assert_frame_equal(weighted.coefficients_, plain.coefficients_, rtol=1e-5)
    # every row is assigned, weight 0 or not, indexed like the data
    got = weighted.predict(data, ["x", "g"])
    assert got.index.equals(data.index) and got.notna().all()


def test_posteriors_are_bayes_rule_from_the_covariates_and_the_profiles():
    rng = np.random.default_rng(9)
    data, _ = simulate(rng, 400)
    data.index = pd.Index([f"r{i}" for i in range(400)])
    data.loc["r3", "q2"] = np.nan
    model = LatentClassRegression(3, n_starts=6).fit(data, ["x", "g"])
    post = model.predict_proba(data, ["x", "g"])
    prior = model.prior_proba(data[["x", "g"]]).to_numpy()
    items = [f"q{j}" for j in range(6)]
    like = np.ones((400, 3))
    for item in items:
        table = model.conditional_probs_[item]
        y = data[item]
        answered = y.notna().to_numpy()
        like[answered] *= table.loc[y[answered].astype(int)].to_numpy()
    expected = prior * like / (prior * like).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(post.to_numpy(), expected, rtol=1e-10)
    assert post.index.equals(data.index)
    pd.testing.assert_series_equal(
        model.predict(data, ["x", "g"]),
        pd.Series(expected.argmax(axis=1) + 1, index=data.index, name="class"),
    )


def test_covariates_by_name_as_a_frame_or_shuffled_give_the_same_fit():
    rng = np.random.default_rng(12)
    data, _ = simulate(rng, 300)
    by_name = LatentClassRegression(3, n_starts=6).fit(data, ["x", "g"])
    items = data.drop(columns=["x", "g"])
    shuffled = data[["x", "g"]].sample(frac=1.0, random_state=1)
    by_frame = LatentClassRegression(3, n_starts=6).fit(items, shuffled)
    pd.testing.assert_frame_equal(by_name.coefficients_, by_frame.coefficients_)
    assert list(by_name.indicators_[j].name for j in range(6)) == list(items.columns)


def test_another_reference_class_gives_differences_of_the_coefficients():
    rng = np.random.default_rng(13)
    data, _ = simulate(rng, 500)
    one = LatentClassRegression(3, n_starts=6).fit(data, ["x", "g"])
    two = LatentClassRegression(3, n_starts=6, reference=2).fit(data, ["x", "g"])
    assert two.loglik_ == pytest.approx(one.loglik_, rel=1e-12)
    np.testing.assert_allclose(
        two.beta_.to_numpy(), one.beta_.to_numpy() - one.beta_[[2]].to_numpy(), atol=1e-9
    )
    # the Wald test of a covariate does not depend on the reference
    np.testing.assert_allclose(two.wald_["statistic"], one.wald_["statistic"], rtol=1e-6)


def test_logit_mstep_is_the_weighted_multinomial_logit_maximum():
    """The M-step for the coefficients against scipy's minimiser of the same
    weighted multinomial log-likelihood."""
    rng = np.random.default_rng(14)
    n, q, k = 200, 3, 3
    z = np.column_stack([np.ones(n), rng.normal(size=(n, q - 1))])
    resp = rng.dirichlet(np.ones(k), size=n) + 0.01
    w = rng.uniform(0.5, 2.0, size=n)
    got = _regression_em.logit_mstep(z, w, resp, np.zeros((q, k)), [1, 2])

    def nll(t):
        b = np.column_stack([np.zeros(q), t.reshape(2, q).T])
        return -_regression_em.logit_value(z, w, resp, b)

    res = optimize.minimize(nll, np.zeros(2 * q), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(got[:, 1:].T.ravel(), res.x, atol=1e-6)
    assert np.all(got[:, 0] == 0)


def test_pattern_loglik_and_its_kernel_by_plain_loops():
    rng = np.random.default_rng(15)
    offsets = np.array([0, 2, 5, 7])
    log_cond = np.log(rng.dirichlet(np.ones(2), size=3).T)
    log_cond = np.vstack(
        [log_cond, np.log(rng.dirichlet(np.ones(3), size=3).T), np.log(np.full((2, 3), 0.5))]
    )
    patterns = np.array([[0, 2, 1], [1, -1, 0], [-1, -1, -1]], dtype=np.int16)
    got = _regression_em.pattern_loglik(patterns, offsets, log_cond)
    np.testing.assert_allclose(
        lca._kernels.class_loglik(patterns, offsets, log_cond), got, rtol=0, atol=1e-14
    )
    weights = rng.uniform(size=(3, 3))
    counts = _regression_em.pattern_counts(patterns, offsets, weights)
    np.testing.assert_allclose(
        lca._kernels.class_counts(patterns, offsets, weights, 7), counts, rtol=1e-15
    )
    for r in range(7):
        j = int(np.searchsorted(offsets, r, side="right")) - 1
        rows = patterns[:, j] == r - offsets[j]
        np.testing.assert_allclose(counts[r], weights[rows].sum(axis=0), rtol=1e-15)
    for p in range(3):
        for k in range(3):
            expected = sum(
                log_cond[offsets[j] + patterns[p, j], k] for j in range(3) if patterns[p, j] >= 0
            )
            assert got[p, k] == pytest.approx(expected, abs=1e-14)


def test_a_category_only_rows_of_weight_0_hold_is_refused_and_a_many_level_one_warned():
    rng = np.random.default_rng(19)
    data, _ = simulate(rng, 200)
    weights = np.ones(200)
    weights[[4, 9]] = 0
    data.loc[[4, 9], "g"] = "d"  # held by rows of weight 0 only: predict could not assign them
    with pytest.raises(DataError, match=r"'g' holds 'd' at row 4.*positive weight.*weight 0"):
        LatentClassRegression(2).fit(data, ["x", "g"], weights=weights)
    data.loc[9, "g"] = "a"  # the same rows of weight 0 with known categories are assigned
    data.loc[4, "g"] = "b"
    model = LatentClassRegression(2).fit(data, ["x", "g"], weights=weights)
    assert model.predict(data, ["x", "g"]).notna().all()
    # a numeric covariate's error stays its own, not one about categories
    bad = data.assign(x=data["x"].where(data.index != 9, np.inf))
    with pytest.raises(DataError, match=r"'x' holds inf at row 9; covariates must be finite$"):
        LatentClassRegression(2).fit(bad, ["x", "g"], weights=weights)
    # a category the rows of weight 0 alone hold away from a bool: said so
    flags = data.assign(flag=data.index == 4)
    with pytest.raises(DataError, match=r"one category only \(False\).*rows of weight 0 count"):
        LatentClassRegression(2).fit(flags, ["x", "flag"], weights=weights)
    # an identifier-like covariate (60 categories) is fitted, with a warning
    data["id"] = [f"r{i % 60}" for i in range(200)]
    with pytest.warns(lca.DataWarning, match="'id' has 60 categories.*at most 50"):
        LatentClassRegression(2, n_starts=1, max_iter=50).fit(data, ["x", "id"])


def test_bad_covariates_and_options_get_clear_errors():
    rng = np.random.default_rng(16)
    data, _ = simulate(rng, 200)
    with pytest.raises(DataError, match=r"covariate 'x' is missing in 1 row.*row 7"):
        bad = data.copy()
        bad.loc[7, "x"] = np.nan
        LatentClassRegression(3).fit(bad, ["x", "g"])
    with pytest.raises(DataError, match=r"\['age'\] are not columns"):
        LatentClassRegression(3).fit(data, ["x", "age"])
    with pytest.raises(DataError, match="index is not the data's index"):
        LatentClassRegression(3).fit(
            data.drop(columns=["x", "g"]), data[["x"]].set_index(data.index + 1000)
        )
    with pytest.raises(ValueError, match="n_classes >= 2"):
        LatentClassRegression(1).fit(data, "x")
    with pytest.raises(ValueError, match=r"reference must be a class 1\.\.3"):
        LatentClassRegression(3, reference=4).fit(data, "x")
    with pytest.raises(DataError, match="takes one value only"):
        LatentClassRegression(3).fit(data.assign(c=1.0), ["x", "c"])
    model = LatentClassRegression(2).fit(data, "x")
    with pytest.raises(DataError, match="the covariates lack"):
        model.predict(data.drop(columns="x"), data[["g"]])
    with pytest.raises(lca.NotFittedError):
        LatentClassRegression(2).predict(data, "x")


def test_fit_stats_count_the_coefficients_and_the_likelihood_ratio_test():
    rng = np.random.default_rng(17)
    data, _ = simulate(rng, 800)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LatentClassRegression(3, bayes_constant=0, n_starts=8).fit(data, ["x", "g"])
    fs = model.fit_stats()
    assert model.n_parameters_ == 2 * 4 + 3 * 6
    assert fs["bic"] == pytest.approx(-2 * model.loglik_ + np.log(800) * 26)
    assert np.isnan(fs["L2"]) and np.isnan(fs["df"])
    lr = model.likelihood_ratio_test()
    assert lr["df"] == 6
    assert lr["statistic"] == pytest.approx(2 * (model.loglik_ - model.measurement_model_.loglik_))
    assert lr["statistic"] > 0 and lr["p_value"] < 1e-6
    assert "Latent class regression: 3 classes" in str(model)


def test_the_maximum_is_at_least_stepmixs_one_step_covariate_model():
    """StepMix 3 (``n_steps=1``, ``structural="covariate"``, Newton-Raphson) on the same
    data: lca's log-likelihood is at least StepMix's, and the coefficients (StepMix's
    differences from the class lca takes as reference) are the same."""
    stepmix = pytest.importorskip("stepmix")
    rng = np.random.default_rng(5)
    data, _ = simulate(rng, 1500)
    ours = LatentClassRegression(3, bayes_constant=0, n_starts=8).fit(data, ["x", "g"])
    z = pd.get_dummies(data[["x", "g"]], columns=["g"], drop_first=True).astype(float)
    x = data[[f"q{j}" for j in range(6)]]
    theirs = stepmix.StepMix(
        n_components=3, n_steps=1, measurement="binary", structural="covariate", n_init=5,
        max_iter=2000, abs_tol=1e-10, rel_tol=0, random_state=0, verbose=0, progress_bar=0,
        structural_params={"method": "newton-raphson", "max_iter": 1},
    ).fit(x, z)  # fmt: skip
    their_ll = theirs.score(x, z) * len(x)
    assert ours.loglik_ >= their_ll - 1e-9 * abs(their_ll)
    # classes matched by their probability of answering 1 to q0 and q5
    mine = np.column_stack([ours.conditional_probs_[q].loc[1] for q in ("q0", "q5")])
    probs = theirs.get_parameters()["measurement"]["pis"][:, [0, 5]]
    match = [int(np.argmin(np.abs(probs - p).sum(axis=1))) for p in mine]
    beta = theirs.get_parameters()["structural"]["beta"][match].T  # (terms, our classes)
    np.testing.assert_allclose(ours.beta_.to_numpy(), beta - beta[:, [0]], atol=2e-4)


def test_a_saved_regression_loads_and_predicts_bit_for_bit(tmp_path):
    """Save and load: the same coefficients, tables, fit statistics and posteriors, bit
    for bit, with a Categorical covariate (its category order), a bool one and the
    model without covariates inside; a damaged or newer file is refused."""
    import json

    rng = np.random.default_rng(18)
    data, _ = simulate(rng, 400)
    data["g"] = pd.Categorical(data["g"], categories=["c", "a", "b"])
    data["flag"] = rng.random(400) < 0.4
    model = LatentClassRegression(3, n_starts=6, reference=2).fit(data, ["x", "g", "flag"])
    path = tmp_path / "lcr.json"
    model.save(path)
    back = lca.load(path)
    assert isinstance(back, LatentClassRegression)
    assert back.design_ == model.design_
    pd.testing.assert_frame_equal(back.coefficients_, model.coefficients_, check_exact=True)
    pd.testing.assert_frame_equal(back.wald_, model.wald_, check_exact=True)
    pd.testing.assert_series_equal(back.fit_stats(), model.fit_stats(), check_exact=True)
    pd.testing.assert_frame_equal(back.profile(), model.profile(), check_exact=True)
    covs = ["x", "g", "flag"]
    pd.testing.assert_frame_equal(
        back.predict_proba(data, covs), model.predict_proba(data, covs), check_exact=True
    )
    pd.testing.assert_series_equal(
        back.likelihood_ratio_test(), model.likelihood_ratio_test(), check_exact=True
    )
    assert back.measurement_model_.loglik_ == model.measurement_model_.loglik_
    pd.testing.assert_frame_equal(
        back.standard_errors().to_frame(), model.standard_errors().to_frame(), check_exact=True
    )
    assert str(back) == str(model)
    content = json.loads(path.read_text())
    assert_refused(
        content,
        tmp_path,
        [
            (lambda d: d.update(format_version=2), "newer than this lca reads"),
            (lambda d: d["beta"].pop(), "beta has shape"),
            (lambda d: d["beta"][0].__setitem__(1, 0.5), "reference class's column 0"),
            (lambda d: d["design"].update(levels=[["g", ["a"]]]), "at least 2 labels"),
            (lambda d: d["measurement_model"].update(n_classes=2), "class_sizes has shape"),
        ],
    )


def test_separation_is_held_at_infinity_with_a_warning_and_a_bayes_constant_keeps_it_finite():
    """A covariate category that only one class has: by maximum likelihood its
    coefficient runs off to infinity, is warned of and has a NaN standard error (the
    other coefficients keep theirs); with a Bayes constant it stays finite, unwarned."""
    rng = np.random.default_rng(19)
    n = 600
    cls = rng.choice(2, n, p=[0.55, 0.45])
    data = pd.DataFrame(
        {f"q{j}": (rng.random(n) < np.array([0.85, 0.15])[cls]).astype(int) for j in range(5)}
    )
    g = rng.choice(["a", "b"], n)
    g[(cls == 1) & (rng.random(n) < 0.3)] = "d"  # d: only the class answering 0
    data["g"] = g
    data["x"] = rng.normal(size=n)
    with pytest.warns(UserWarning, match=r"runs off to infinity: class \d g\[d\]"):
        ml = LatentClassRegression(2, bayes_constant=0, n_starts=6).fit(data, ["g", "x"])
    se = ml.coefficients_["se"]
    assert np.isnan(se.xs("g[d]", level="term")).all()
    assert np.isfinite(se.drop("g[d]", level="term")).all()
    assert np.isnan(ml.wald_.loc["g", "statistic"]) and np.isfinite(ml.wald_.loc["x", "statistic"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bayes = LatentClassRegression(2, bayes_constant=1.0, n_starts=6).fit(data, ["g", "x"])
    assert np.isfinite(bayes.coefficients_["se"]).all()
    assert abs(bayes.coefficients_.xs("g[d]", level="term")["coef"].iloc[0]) < 15


def test_random_starts_find_classes_the_covariate_tells_apart():
    """Two classes with much the same answers, told apart by x: the maximum without
    covariates is a poor start, and the search (it plus random starts) reaches the
    best of 10 EM runs of the regression from random points, run to convergence."""
    rng = np.random.default_rng(2)
    n = 800
    x = rng.normal(size=n)
    eta = np.column_stack([np.zeros(n), 3.0 * x, np.full(n, -1.0)])
    pi = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
    cls = (rng.random(n)[:, None] > np.cumsum(pi, axis=1)).sum(axis=1)
    p1 = np.array([[0.7, 0.6, 0.2]] * 3 + [[0.6, 0.75, 0.3]] * 3)
    data = pd.DataFrame({f"q{j}": (rng.random(n) < p1[j, cls]).astype(int) for j in range(6)})
    data["x"] = x
    model = LatentClassRegression(3, bayes_constant=0, n_starts=16).fit(data, "x")
    meas = model.measurement_model_
    patterns, _, inverse = lca.encoding.compress(
        lca.encoding.encode(data.drop(columns="x"), meas.indicators_), np.ones(n)
    )
    zs, _ = lca.three_step.standardised(model.design_.matrix(data[["x"]]), model.design_)
    best = -np.inf
    draw = np.random.default_rng(100)
    for _ in range(10):
        log_cond = np.log(np.vstack([draw.dirichlet([1, 1], size=3).T for _ in range(6)]))
        beta = np.zeros((2, 3))
        beta[:, 1:] = draw.normal(size=(2, 2))
        run = _regression_em.regression_em(
            patterns, inverse, np.ones(n), zs, meas._offsets, meas._ordinal, log_cond, beta,
            [1, 2], 0.0, np.zeros(12), 3000, 1e-11,
        )  # fmt: skip
        best = max(best, run["loglik"])
    assert model.loglik_ >= best - 1e-7 * abs(best)
    assert model.loglik_ > meas.loglik_ + 20  # far above the model without covariates


def test_a_covariate_left_among_the_indicators_or_the_weights_is_refused():
    rng = np.random.default_rng(20)
    data, _ = simulate(rng, 200)
    data["wt"] = 1.0
    with pytest.raises(DataError, match=r"column 'x' of the data is a covariate too"):
        LatentClassRegression(2).fit(data.drop(columns="g"), data[["x"]])
    with pytest.raises(DataError, match=r"'wt' is the weights column"):
        LatentClassRegression(2).fit(data, ["x", "wt"], weights="wt")
    # names: a tuple of names, a NumPy integer name
    model = LatentClassRegression(2, n_starts=4).fit(data.drop(columns="wt"), ("x", "g"))
    assert model.design_.variables == ("x", "g")
    numbered = data[["q0", "q1", "q2", "x"]].set_axis(np.arange(4), axis=1)
    model = LatentClassRegression(2, n_starts=4).fit(numbered, np.int64(3))
    assert model.design_.variables == ("3",)
    # a refit that fails leaves no earlier fit behind
    with pytest.raises(DataError):
        model.fit(numbered, 7)
    assert not hasattr(model, "beta_")


def test_separation_with_three_classes_leaves_the_other_coefficients_their_errors():
    """A category only one of 3 classes has: its coefficients are NaN, the slopes of x
    and the intercepts keep finite standard errors (Newton steps are bounded, so the
    separated coefficient walks off rather than jumping to 1e87)."""
    rng = np.random.default_rng(4)
    n = 600
    cls = rng.choice(3, n, p=[0.4, 0.35, 0.25])
    p1 = np.array([[0.9, 0.1, 0.5], [0.85, 0.15, 0.9], [0.9, 0.2, 0.1], [0.8, 0.1, 0.85]])
    data = pd.DataFrame({f"q{j}": (rng.random(n) < p1[j, cls]).astype(int) for j in range(4)})
    g = rng.choice(["a", "b", "c"], n)
    g[(cls == 0) & (rng.random(n) < 0.3)] = "d"
    data["g"] = g
    data["x"] = rng.normal(size=n)
    with pytest.warns(UserWarning, match="runs off to infinity"):
        model = LatentClassRegression(3, bayes_constant=0, n_starts=8).fit(data, ["g", "x"])
    se = model.coefficients_["se"]
    assert np.isnan(se.xs("g[d]", level="term")).all()
    assert np.isfinite(se.xs("x", level="term")).all()
    assert np.isfinite(se.xs("Intercept", level="term")).all()
    assert np.isfinite(model.wald_.loc["x", "statistic"])
    assert np.abs(model.beta_.to_numpy()).max() < 1e4


def test_the_e_step_kernels_equal_their_numpy_reference():
    """_kernels.log_softmax_rows and regression_estep (via evaluate) against plain NumPy,
    with missing answers, weights and a pattern shared by several rows."""
    rng = np.random.default_rng(22)
    offsets = np.array([0, 2, 5, 7])
    log_cond = np.vstack([np.log(rng.dirichlet(np.ones(c), size=3).T) for c in (2, 3, 2)])
    patterns = np.array([[0, 2, 1], [1, -1, 0], [-1, -1, -1], [1, 0, 1]], dtype=np.int16)
    inverse = rng.integers(0, 4, size=50)
    w = rng.uniform(0.2, 3.0, size=50)
    z = np.column_stack([np.ones(50), rng.normal(size=(50, 2))])
    beta = np.column_stack([np.zeros(3), rng.normal(size=(3, 2))])
    eta = z @ beta
    np.testing.assert_allclose(
        lca._kernels.log_softmax_rows(eta), _regression_em.log_softmax_rows(eta), rtol=1e-14
    )
    _, _, post, row_ll, log_pi, pattern_post = _regression_em.evaluate(
        patterns, inverse, w, z, offsets, log_cond, beta, 0.0, np.zeros(7)
    )
    ref = _regression_em.estep_reference(patterns, inverse, w, z, offsets, log_cond, beta)
    for got, expected in zip((post, row_ll, log_pi, pattern_post), ref):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_a_row_impossible_in_every_class_gets_its_prior_with_a_warning():
    """Perfectly separated answers by maximum likelihood: probabilities of exactly 0, so
    a new row mixing both classes' answers is impossible in each; its posterior is its
    class probabilities given x (not NaN), with a warning, as LatentClassModel does."""
    rng = np.random.default_rng(0)
    cls = rng.integers(0, 2, 300)
    data = pd.DataFrame({f"q{j}": cls.copy() for j in range(4)})
    data["x"] = rng.normal(size=300) + cls
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the separation the data are made of
        model = LatentClassRegression(2, bayes_constant=0, n_starts=2).fit(data, "x")
    new = pd.DataFrame({"q0": [1, 1], "q1": [0, 1], "q2": [1, 1], "q3": [0, 1], "x": [0.0, 0.0]})
    with pytest.warns(UserWarning, match="1 row.* impossible under every class"):
        post = model.predict_proba(new, "x")
    assert np.isfinite(post.to_numpy()).all()
    np.testing.assert_allclose(post.iloc[0], model.prior_proba(new[["x"]]).iloc[0], rtol=1e-12)
    # the kernels' reference agrees there, and with one class
    offsets = np.array([0, 2])
    patterns = np.array([[0], [1]], dtype=np.int16)
    z = np.ones((3, 1))
    for beta, cond in [
        (np.array([[0.0, 0.4]]), np.array([[0.0, -np.inf], [-np.inf, 0.0]])),
        (np.zeros((1, 1)), np.array([[0.0], [-np.inf]])),  # one class: row 2 impossible
    ]:
        inverse = np.array([0, 1, 1])
        with np.errstate(divide="ignore"):
            got = _regression_em.evaluate(
                patterns, inverse, np.ones(3), z, offsets, cond, beta, 0.0, np.zeros(2)
            )
            ref = _regression_em.estep_reference(
                patterns, inverse, np.ones(3), z, offsets, cond, beta
            )
        for a, b in zip(got[2:], ref):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_options_are_checked_as_the_latent_class_models_are():
    rng = np.random.default_rng(23)
    data, _ = simulate(rng, 100)
    for options, message in [
        ({"n_starts": 0}, "n_starts must be an integer >= 1"),
        ({"tol": True}, "tol must be a finite number > 0"),
        ({"bayes_constant": "abc"}, "bayes_constant"),
        ({"max_categories": 1}, "max_categories"),
    ]:
        with pytest.raises(ValueError, match=message):
            LatentClassRegression(2, **options).fit(data, "x")
    model = LatentClassRegression(2, tol=np.float32(1e-8), n_starts=2).fit(data, "x")
    assert model.converged_


def test_a_regression_file_with_mixed_levels_loads_and_damaged_designs_are_refused(tmp_path):
    import json

    rng = np.random.default_rng(24)
    data, _ = simulate(rng, 300)
    data["h"] = pd.Series([1, "1", "a"] * 100, dtype=object)
    model = LatentClassRegression(2, n_starts=2).fit(data, ["x", "h"])
    path = tmp_path / "mixed.json"
    model.save(path)
    back = lca.load(path)
    assert back.design_ == model.design_
    assert back.n_starts_at_best_ == model.n_starts_at_best_
    content = json.loads(path.read_text())
    assert_refused(
        content,
        tmp_path,
        [
            (lambda d: d["design"].update(variables=["h", "x"]), "terms are not those"),
            (lambda d: d["design"]["levels"][0][1].reverse(), "terms are not those"),
            (lambda d: d["design"]["levels"].append(["z", [1, 2]]), "design levels name 'z'"),
            (lambda d: d["covariance"][0].__setitem__(1, 123.0), "not symmetric"),
            (lambda d: d["covariance"][0].__setitem__(0, -1.0), "negative variance"),
        ],
    )


def test_compare_regressions_tabulates_each_models_fit_and_picks_by_bic():
    rng = np.random.default_rng(25)
    data, _ = simulate(rng, 600)
    comparison = lca.compare_regressions(data, ["x", "g"], range(2, 5), n_starts=4)
    assert list(comparison.table.index) == [2, 3, 4]
    for k, model in comparison.models.items():
        assert isinstance(model, LatentClassRegression) and model.n_classes_ == k
        stats = model.fit_stats()
        assert comparison.table.loc[k, "bic"] == stats["bic"]
        assert comparison.table.loc[k, "n_parameters"] == model.n_parameters_
        assert comparison.table.loc[k, "smallest_class"] == model.class_sizes_.min()
    assert comparison.best("bic") == int(comparison.table["bic"].idxmin()) == 3  # 3 true
    assert "Comparison of models" in comparison.summary().as_text()
    with pytest.raises(ValueError, match="distinct"):
        lca.compare_regressions(data, ["x"], [2, 2])


def test_bivariate_residuals_use_each_respondents_class_probabilities():
    """Latent GOLD's BVR with covariates, by a loop over respondents: the expected
    table sums w_i P(k | z_i) P(a | k) P(b | k) over those who answered both."""
    rng = np.random.default_rng(23)
    data, _ = simulate(rng, 400)
    data = data.astype({f"q{j}": float for j in range(6)})
    data.loc[data["x"] > 0.8, "q1"] = np.nan  # missing more often in some classes
    weights = rng.uniform(0.5, 2.0, size=400)
    model = LatentClassRegression(3, n_starts=4, random_state=0)
    model.fit(data, ["x", "g"], weights=weights)
    bvr = model.bivariate_residuals()
    prior = model.prior_proba(data[["x", "g"]]).to_numpy()
    items = [f"q{j}" for j in range(6)]
    expected_bvr = np.full((6, 6), np.nan)
    for j, a in enumerate(items):
        for jj, b in enumerate(items):
            if j == jj:
                continue
            both = data[a].notna() & data[b].notna()
            pa = model.conditional_probs_[a].to_numpy()  # (category, class)
            pb = model.conditional_probs_[b].to_numpy()
            observed = np.zeros((2, 2))
            expected = np.zeros((2, 2))
            for i in np.flatnonzero(both.to_numpy()):
                ya, yb = int(data[a].iloc[i]), int(data[b].iloc[i])
                observed[ya, yb] += weights[i]
                expected += weights[i] * (pa * prior[i]) @ pb.T
            expected_bvr[j, jj] = np.sum((observed - expected) ** 2 / expected)
    np.testing.assert_allclose(bvr.to_numpy(), expected_bvr, rtol=1e-10)
    assert list(bvr.index) == items
    # with every answer given, sum_i w_i P(k | z_i) is the class sizes times N; with
    # answers missing by covariate, the class sizes of those who answered differ
    both = data["q1"].notna().to_numpy()
    pa, pb = (model.conditional_probs_[q].to_numpy() for q in ("q0", "q1"))
    observed = pd.crosstab(data["q0"], data["q1"], values=weights, aggfunc="sum").to_numpy()
    flat = weights[both].sum() * (pa * model.class_sizes_.to_numpy()) @ pb.T
    assert abs(np.sum((observed - flat) ** 2 / flat) - bvr.loc["q0", "q1"]) > 0.1
    table = lca.compare_regressions(
        data, ["x", "g"], [2, 3], weights=weights, n_starts=4, random_state=0
    )
    assert table.table.loc[3, "max_bvr"] == pytest.approx(np.nanmax(expected_bvr), rel=1e-10)


def test_a_loaded_regression_keeps_no_data_for_bivariate_residuals(tmp_path):
    rng = np.random.default_rng(24)
    data, _ = simulate(rng, 200)
    model = LatentClassRegression(2, n_starts=1).fit(data, ["x"])
    model.save(tmp_path / "r.json")
    with pytest.raises(lca.NotFittedError, match="keeps no data"):
        lca.load(tmp_path / "r.json").bivariate_residuals()


def test_covariate_values_match_levels_that_read_as_the_same_text():
    """As an indicator's answers are matched: 2 for the level "2" (a file whose
    column holds only numbers is read as numbers), and 2.0 for 2."""
    rng = np.random.default_rng(25)
    data, _ = simulate(rng, 300)
    data["grade"] = rng.choice(["1", "2", "a"], 300)
    model = LatentClassRegression(2, n_starts=1).fit(data, ["x", "grade"])
    numbers = data[data["grade"] != "a"]
    as_numbers = numbers.assign(grade=numbers["grade"].astype(int))
    pd.testing.assert_frame_equal(
        model.predict_proba(as_numbers, ["x", "grade"]),
        model.predict_proba(numbers, ["x", "grade"]),
    )
    with pytest.raises(DataError, match=r"'grade' holds 3 at row .*\['1', '2', 'a'\]"):
        model.predict_proba(as_numbers.assign(grade=3), ["x", "grade"])
    coded = LatentClassRegression(2, n_starts=1).fit(
        data.assign(g=pd.Categorical(rng.choice([1, 2], 300))), ["x", "g"]
    )
    floats = data.assign(g=rng.choice([1.0, 2.0], 300))
    assert coded.predict(floats, ["x", "g"]).notna().all()


def test_a_bool_and_a_number_match_levels_by_their_own_text_in_any_order():
    """True reads "True" and 1 reads "1" (to pandas they are one value)."""
    from lca.three_step import Design

    design = Design.from_frame(pd.DataFrame({"g": ["True", "yes", "1"]}))
    levels = design.levels["g"]
    for values in ([True, 1], [1, True]):
        z = design.matrix(pd.DataFrame({"g": values}, dtype=object))[:, 1:]
        got = [int(np.argmax(row)) + 1 if row.any() else 0 for row in z]
        assert got == [levels.index("True" if v is True else "1") for v in values]


def test_squarem_reaches_plain_ems_maximum_in_fewer_e_steps_and_keeps_the_best_point():
    rng = np.random.default_rng(26)
    data, _ = simulate(rng, 800)
    model = LatentClassRegression(3, n_starts=1, random_state=0).fit(data, ["x", "g"])
    meas = model.measurement_model_
    items = [f"q{j}" for j in range(6)]
    codes = lca.encoding.encode(data[items], meas.indicators_)
    patterns, _, inverse = lca.encoding.compress(codes, np.ones(len(data)))
    z = model.design_.matrix(data[["x", "g"]])
    zs, _ = lca.three_step.standardised(z, model.design_)
    start = np.zeros((z.shape[1], 3))
    start[0] = meas._log_class - meas._log_class[0]
    runs, traces = {}, {}
    for accelerate in (False, True):
        traces[accelerate] = []
        runs[accelerate] = _regression_em.regression_em(
            patterns, inverse, np.ones(len(data)), zs, meas._offsets, meas._ordinal,
            meas._log_cond.copy(), start.copy(), [1, 2], float(meas._class_prior),
            meas._cond_prior, 5000, 1e-13, trace=traces[accelerate], accelerate=accelerate,
        )  # fmt: skip
    plain, fast = runs[False], runs[True]
    assert plain["converged"] and fast["converged"]
    assert fast["objective"] == pytest.approx(plain["objective"], rel=1e-10)
    np.testing.assert_allclose(fast["beta"], plain["beta"], atol=1e-4)
    assert fast["n_iter"] < plain["n_iter"] / 2
    # every point evaluated, extrapolations kept or not, is at most the estimate's
    assert max(traces[True]) <= fast["objective"] + 1e-12 * abs(fast["objective"])
    with pytest.raises(ValueError, match="accelerate must be True or False"):
        LatentClassRegression(2, accelerate="yes").fit(data, "x")


def em_inputs(data, model, items):
    """The arrays ``regression_em`` takes, for data and a fitted regression."""
    meas = model.measurement_model_
    codes = lca.encoding.encode(data[items], meas.indicators_)
    patterns, _, inverse = lca.encoding.compress(codes, np.ones(len(data)))
    z = model.design_.matrix(data[["x", "g"]])
    zs, _ = lca.three_step.standardised(z, model.design_)
    return meas, patterns, inverse, zs


def test_squarem_from_an_impossible_start_does_not_stop_at_once():
    """A start whose objective is -inf (an answer given but impossible in every class):
    EM's first step repairs it, and the accelerated run goes on to the maximum."""
    rng = np.random.default_rng(27)
    data, _ = simulate(rng, 500)
    items = [f"q{j}" for j in range(6)]
    model = LatentClassRegression(3, n_starts=1, bayes_constant=0).fit(data, ["x", "g"])
    meas, patterns, inverse, zs = em_inputs(data, model, items)
    log_cond = meas._log_cond.copy()
    log_cond[1, :] = -np.inf  # answer 1 of q0 impossible
    log_cond[0, :] = 0.0
    start = np.zeros((zs.shape[1], 3))
    ends = {}
    for accelerate in (False, True):
        with np.errstate(divide="ignore", invalid="ignore"):
            ends[accelerate] = _regression_em.regression_em(
                patterns, inverse, np.ones(len(data)), zs, meas._offsets, meas._ordinal,
                log_cond.copy(), start.copy(), [1, 2], 0.0, np.zeros(len(log_cond)), 5000,
                1e-12, accelerate=accelerate,
            )  # fmt: skip
    assert ends[True]["n_iter"] > 5 and np.isfinite(ends[True]["objective"])
    assert ends[True]["objective"] >= ends[False]["objective"] - 1e-6 * abs(
        ends[False]["objective"]
    )


def test_an_extrapolation_that_shrinks_a_class_to_a_tenth_is_not_kept():
    w = np.ones(4)

    def log_sizes(log_pi):
        return np.log((w @ np.exp(log_pi)) / w.sum())

    first = (-100.0, None, None, None, np.log(np.full((4, 2), 0.5)))
    higher = np.log(np.array([[0.96, 0.04]] * 4))  # class 2 from 0.5 to 0.04
    assert not _regression_em._acceptable(
        (-99.0, None, None, None, higher), first, log_sizes, log_sizes(first[4])
    )
    milder = np.log(np.array([[0.9, 0.1]] * 4))  # to 0.1 of 0.5: kept
    assert _regression_em._acceptable(
        (-99.0, None, None, None, milder), first, log_sizes, log_sizes(first[4])
    )
    assert not _regression_em._acceptable(
        (-101.0, None, None, None, milder), first, log_sizes, log_sizes(first[4])
    )


def test_a_regression_from_before_the_accelerate_option_refits_with_plain_em(tmp_path):
    import json
    import pickle

    rng = np.random.default_rng(28)
    data, _ = simulate(rng, 300)
    model = LatentClassRegression(2, n_starts=1, accelerate=np.True_).fit(data, ["x"])
    model.save(tmp_path / "r.json")  # an np.bool_ option is written as a bool
    content = json.loads((tmp_path / "r.json").read_text())
    assert content["options"]["accelerate"] is True
    del content["options"]["accelerate"]
    (tmp_path / "old.json").write_text(json.dumps(content))
    assert lca.load(tmp_path / "old.json").accelerate is False
    del model.accelerate  # as pickled before the option existed
    assert pickle.loads(pickle.dumps(model)).accelerate is False
