"""Bias-adjusted three-step regression of class membership on covariates."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp

import lca
from lca import three_step

from . import naive

#: Truth of the simulations: class 1 is the reference; rows Intercept, x, g[b], g[c].
TRUE_BETA = np.array(
    [
        [0.0, 0.3, -0.2],
        [0.0, 1.0, -0.8],
        [0.0, 0.5, 0.0],
        [0.0, 0.0, -0.7],
    ]
)
PROFILES = np.array(
    [
        [0.85, 0.85, 0.85, 0.85, 0.85, 0.85],
        [0.15, 0.15, 0.15, 0.15, 0.15, 0.15],
        [0.85, 0.85, 0.85, 0.15, 0.15, 0.15],
    ]
)


def simulate(rng, n, profiles=PROFILES, beta=TRUE_BETA):
    x = rng.normal(size=n)
    g = rng.choice(np.array(["a", "b", "c"]), size=n)
    z = np.column_stack([np.ones(n), x, g == "b", g == "c"]).astype(float)
    eta = z @ beta
    pi = np.exp(eta - eta.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    cls = (rng.random(n)[:, None] > pi.cumsum(axis=1)).sum(axis=1)
    y = (rng.random((n, profiles.shape[1])) < profiles[cls]).astype(int)
    data = pd.DataFrame(y, columns=[f"q{j}" for j in range(profiles.shape[1])])
    return data, pd.DataFrame({"x": x, "g": g}), cls


def matched_fit(data, truth, k=3, seed=0):
    """A fitted model and, for each true class, the fitted class that holds it."""
    model = lca.LatentClassModel(k, n_starts=4, random_state=seed).fit(data)
    table = pd.crosstab(truth, model.predict(data)).reindex(
        index=range(k), columns=range(1, k + 1), fill_value=0
    )
    rows, cols = linear_sum_assignment(-table.to_numpy())
    return model, {int(r): int(c) + 1 for r, c in zip(rows, cols)}


def in_truth_order(result, match):
    """The (term, class) coefficients, columns in the order of the true classes."""
    beta = result.beta()
    return beta[[match[s] for s in range(len(match))]].to_numpy()


@pytest.fixture(scope="module")
def sample():
    data, cov, cls = simulate(np.random.default_rng(0), 1500)
    model, match = matched_fit(data, cls)
    return data, cov, model, match


# -- the likelihood and its derivatives ---------------------------------------------------


def random_step3(rng, n=40, k=3, p=3):
    z = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    post = rng.dirichlet(np.ones(k) * 0.7, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    return z, post, w


@pytest.mark.parametrize("assignment", ["modal", "proportional"])
@pytest.mark.parametrize("correction", ["ml", "bch", "none"])
def test_derivatives_match_finite_differences(assignment, correction):
    rng = np.random.default_rng(1)
    z, post, w = random_step3(rng)
    share = three_step.assignment_shares(post, assignment)
    d = three_step.classification_errors(post, share, w)
    assert np.allclose(d, naive.classification_errors(post, share, w), atol=1e-14)
    bch = log_d = None
    if correction == "ml":
        log_d = np.log(d)
    else:
        bch = share @ np.linalg.inv(d) if correction == "bch" else share
    free = [0, 2]  # class 2 is the reference
    theta = rng.normal(scale=0.5, size=len(free) * z.shape[1])

    def f(th):
        beta = three_step._theta_to_beta(th, z.shape[1], 3, free)
        return naive.step3_loglik(beta, z, share, d, w, bch)

    # modal ML also takes the assigned column of each row in place of the 0/1 shares
    given = (
        [share, np.argmax(share, axis=1)]
        if (correction, assignment) == ("ml", "modal")
        else [share]
    )
    for a in given:
        ll, grad, hess = three_step._derivatives(theta, z, a, log_d, w, bch, free)
        assert ll == pytest.approx(f(theta), rel=1e-12)
        fd_grad = naive.fd_jacobian(lambda t: np.array([f(t)]), theta)[0]
        assert np.allclose(grad, fd_grad, atol=1e-6)
        assert np.allclose(hess, naive.fd_hessian(f, theta, h=1e-4), atol=1e-5)
        scores = three_step._scores(theta, z, a, log_d, w, bch, free)
        assert np.allclose(scores.T @ w, grad, atol=1e-12)
        ll0, none, _ = three_step._derivatives(theta, z, a, log_d, w, bch, free, order=0)
        assert ll0 == ll and none is None


def test_hessian_sum_over_rows_is_the_same_in_blocks(monkeypatch):
    rng = np.random.default_rng(3)
    z, h, w = rng.normal(size=(50, 4)), rng.normal(size=(50, 2, 2)), rng.uniform(size=50)
    direct = np.einsum("i,iab,ic,id->acbd", w, h, z, z)  # (class, term, class, term)
    assert np.allclose(three_step._weighted_gram(z, h, w), direct, rtol=1e-12, atol=0)
    monkeypatch.setattr(three_step, "GRAM_BLOCK", 3 * 16)  # blocks of 3 rows, the last of 2
    assert np.allclose(three_step._weighted_gram(z, h, w), direct, rtol=1e-12, atol=0)


def test_ml_maximum_and_standard_errors_match_a_generic_optimiser(sample):
    data, cov, model, _ = sample
    sub = slice(0, 500)
    res = model.covariate_effects(cov.iloc[sub], data=data.iloc[sub])
    post = model.predict_proba(data.iloc[sub]).to_numpy()
    share = three_step.assignment_shares(post, "modal")
    w = np.ones(len(post))
    d = naive.classification_errors(post, share, w)
    z = three_step.Design.from_frame(cov.iloc[sub]).matrix(cov.iloc[sub])

    def f(th):
        return naive.step3_loglik(three_step._theta_to_beta(th, 4, 3, [1, 2]), z, share, d, w)

    best = optimize.minimize(lambda t: -f(t), np.zeros(8), method="BFGS", options={"gtol": 1e-7})
    ours = res.coefficients["coef"].to_numpy()
    assert np.allclose(ours, best.x, atol=2e-4)
    assert -best.fun <= res.loglik + 1e-9
    assert res.loglik == pytest.approx(f(ours), rel=1e-12)
    cov_fd = np.linalg.inv(-naive.fd_hessian(f, ours))
    assert np.allclose(res.coefficients["se"], np.sqrt(np.diag(cov_fd)), rtol=1e-4)


@pytest.mark.parametrize("assignment", ["modal", "proportional"])
def test_robust_standard_errors_are_the_sandwich_of_finite_differences(sample, assignment):
    data, cov, model, _ = sample
    sub = slice(0, 300)
    w = np.random.default_rng(11).uniform(0.5, 2.0, 300)
    res = model.covariate_effects(
        cov.iloc[sub], data=data.iloc[sub], weights=w, assignment=assignment, se_method="robust"
    )
    post = model.predict_proba(data.iloc[sub]).to_numpy()
    share = three_step.assignment_shares(post, assignment)
    d = naive.classification_errors(post, share, w)
    z = three_step.Design.from_frame(cov.iloc[sub]).matrix(cov.iloc[sub])
    one = np.ones(1)

    def rows(th):  # each respondent's own log-likelihood, unweighted
        beta = three_step._theta_to_beta(th, 4, 3, [1, 2])
        return np.array(
            [naive.step3_loglik(beta, z[i : i + 1], share[i : i + 1], d, one) for i in range(300)]
        )

    theta = res.coefficients["coef"].to_numpy()
    scores = naive.fd_jacobian(rows, theta)  # (n, parameters)
    hess = naive.fd_hessian(lambda t: float(w @ rows(t)), theta)
    bread = np.linalg.inv(-hess)
    sandwich = bread @ (scores.T @ (w[:, None] * scores)) @ bread
    assert np.allclose(res.coefficients["se"], np.sqrt(np.diag(sandwich)), rtol=1e-4)
    if assignment == "proportional":  # the soft assignments' likelihood is no likelihood
        default = model.covariate_effects(
            cov.iloc[sub], data=data.iloc[sub], weights=w, assignment=assignment
        )
        assert default.se_method == "robust"


def test_a_covariate_far_from_zero_is_centred_not_lost():
    """A year near 2020: the same slope and standard error as years since 2016."""
    rng = np.random.default_rng(12)
    year = rng.integers(2016, 2023, 2000).astype(float)
    post = np.eye(2)[(rng.random(2000) < 0.3 + 0.05 * (year - 2016)).astype(int)] * 0.9 + 0.05
    classes = pd.RangeIndex(1, 3)
    w = np.ones(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far = three_step.covariate_effects(post, pd.DataFrame({"year": year}), w, classes)
    near = three_step.covariate_effects(post, pd.DataFrame({"year": year - 2016}), w, classes)
    a, b = far.coefficients, near.coefficients
    assert a.loc[(2, "year"), "coef"] == pytest.approx(b.loc[(2, "year"), "coef"], rel=1e-7)
    assert a.loc[(2, "year"), "se"] == pytest.approx(b.loc[(2, "year"), "se"], rel=1e-6)
    # the intercepts differ by 2016 slopes
    shift = a.loc[(2, "Intercept"), "coef"] - b.loc[(2, "Intercept"), "coef"]
    assert shift == pytest.approx(-2016 * b.loc[(2, "year"), "coef"], rel=1e-6)
    pd.testing.assert_frame_equal(far.wald.loc[["year"]], near.wald.loc[["year"]], rtol=1e-6)


def test_perfect_classification_is_the_plain_multinomial_logit():
    """With posteriors of 0 and 1, D is the identity and the three methods coincide."""
    rng = np.random.default_rng(2)
    n = 300
    cov = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["u", "v"], size=n)})
    z = three_step.Design.from_frame(cov).matrix(cov)
    eta = z @ np.array([[0.0, 0.5, -0.3], [0.0, 1.2, -0.6], [0.0, -0.4, 0.8]])
    pi = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    cls = (rng.random(n)[:, None] > pi.cumsum(axis=1)).sum(axis=1)
    post = np.eye(3)[cls]
    w = np.ones(n)
    classes = pd.RangeIndex(1, 4)
    fits = {
        c: three_step.covariate_effects(post, cov, w, classes, correction=c)
        for c in ("ml", "bch", "none")
    }
    assert np.allclose(fits["ml"].classification_errors, np.eye(3))

    def f(th):  # the multinomial logit of the classes, by a generic optimiser
        beta = three_step._theta_to_beta(th, 3, 3, [1, 2])
        return naive.step3_loglik(beta, z, post, np.eye(3), w, bch=post)

    best = optimize.minimize(lambda t: -f(t), np.zeros(6), method="BFGS", options={"gtol": 1e-8})
    for fit in fits.values():
        assert np.allclose(fit.coefficients["coef"], best.x, atol=1e-4)
        assert fit.converged
    assert np.allclose(fits["ml"].coefficients["se"], fits["none"].coefficients["se"], rtol=1e-8)


# -- simulations with known truth ---------------------------------------------------------


def test_corrections_recover_the_truth_and_the_naive_regression_is_attenuated():
    """40 samples of 1500 from a model with known coefficients (entropy R2 about 0.75)."""
    rng = np.random.default_rng(3)
    est = {c: [] for c in ("ml", "bch", "none")}
    ses = {c: [] for c in ("ml", "bch")}
    for rep in range(40):
        data, cov, cls = simulate(rng, 1500)
        model, match = matched_fit(data, cls, seed=rep)
        for corr in est:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                res = model.covariate_effects(cov, correction=corr, reference=match[0])
            est[corr].append(in_truth_order(res, match))
            if corr in ses:
                se = res.coefficients["se"].unstack(0)
                ses[corr].append(se[[match[1], match[2]]].loc[res.design.terms].to_numpy())
    truth = TRUE_BETA[:, 1:]
    slopes = np.s_[1, :]  # the coefficients of x
    for corr in ("ml", "bch"):
        values = np.array(est[corr])[:, :, 1:]  # (rep, term, class 2..3)
        bias = values.mean(axis=0) - truth
        # within 3 standard errors of the mean of 40 estimates (plus a finite-sample allowance)
        assert np.all(np.abs(bias) < 3 * values.std(axis=0) / np.sqrt(40) + 0.03), (corr, bias)
        ratio = np.array(ses[corr]).mean(axis=0) / values.std(axis=0, ddof=1)
        # 40 samples: each ratio is within about 0.11 of its expectation (1, or a little less,
        # since step 1's estimation error is left out); their mean within about 0.04
        assert np.all((ratio > 0.7) & (ratio < 1.4)), (corr, ratio)
        assert 0.85 < ratio.mean() < 1.2, (corr, ratio)
    naive_slopes = np.array(est["none"])[:, :, 1:].mean(axis=0)[slopes]
    ml_slopes = np.array(est["ml"])[:, :, 1:].mean(axis=0)[slopes]
    # classification error pulls the naive slopes towards 0 (by 11% and 43% here)
    assert np.all(np.abs(naive_slopes) < 0.95 * np.abs(truth[slopes]))
    assert np.all(np.abs(ml_slopes - truth[slopes]) < 0.5 * np.abs(naive_slopes - truth[slopes]))


def test_proportional_assignment_recovers_the_truth():
    rng = np.random.default_rng(4)
    values = []
    for rep in range(15):
        data, cov, cls = simulate(rng, 1500)
        model, match = matched_fit(data, cls, seed=rep)
        res = model.covariate_effects(cov, assignment="proportional", reference=match[0])
        values.append(in_truth_order(res, match)[:, 1:])
    values = np.array(values)
    bias = values.mean(axis=0) - TRUE_BETA[:, 1:]
    assert np.all(np.abs(bias) < 3 * values.std(axis=0) / np.sqrt(15) + 0.03), bias


@pytest.mark.parametrize("correction", ["ML", "BCH"])
def test_same_estimates_as_stepmix_from_its_posteriors(correction):
    """StepMix 3 (a peer, in the test extras) run to tight convergence; our step 3 from its
    own step-1 posteriors. Its ML stops on the change in log-likelihood, about 1e-6 short."""
    stepmix = pytest.importorskip("stepmix")
    data, cov, _ = simulate(np.random.default_rng(7), 2000)
    z = three_step.Design.from_frame(cov).matrix(cov)[:, 1:]
    sm = stepmix.StepMix(
        n_components=3, n_steps=3, measurement="bernoulli", structural="covariate",
        correction=correction, assignment="modal", n_init=3, max_iter=5000, abs_tol=1e-12,
        random_state=0, progress_bar=0,
        structural_params={"method": "newton-raphson", "max_iter": 200, "tol": 1e-10},
    )  # fmt: skip
    sm.fit(data.to_numpy(), z)
    beta = sm.get_parameters()["structural"]["beta"]  # (K, 1 + p), every class free
    theirs = (beta - beta[0])[1:].ravel()  # against StepMix's first class
    post = sm.predict_proba_class(data.to_numpy())
    ours = three_step.covariate_effects(
        post, cov, np.ones(len(cov)), pd.RangeIndex(1, 4), correction=correction.lower()
    )
    assert ours.converged
    tol = 2e-5 if correction == "ML" else 1e-8
    assert np.allclose(ours.coefficients["coef"].to_numpy(), theirs, atol=tol, rtol=0)


# -- weights, references, alignment ------------------------------------------------------


@pytest.mark.parametrize("correction", ["ml", "bch"])
def test_integer_weights_are_repeated_rows_and_zero_weights_are_left_out(sample, correction):
    data, cov, model, _ = sample
    rng = np.random.default_rng(5)
    w = rng.integers(0, 4, size=len(data))
    rep = np.repeat(np.arange(len(data)), w)
    kw = {"correction": correction, "se_method": "robust"}
    weighted = model.covariate_effects(cov, data=data, weights=w, **kw)
    repeated = model.covariate_effects(
        cov.iloc[rep].reset_index(drop=True), data=data.iloc[rep].reset_index(drop=True), **kw
    )
    pd.testing.assert_frame_equal(weighted.coefficients, repeated.coefficients, rtol=1e-7)
    assert weighted.n_obs == repeated.n_obs == w.sum()
    pos = w > 0
    dropped = model.covariate_effects(cov[pos], data=data[pos], weights=w[pos], **kw)
    pd.testing.assert_frame_equal(weighted.coefficients, dropped.coefficients, rtol=1e-9)


def test_weights_by_column_name_and_as_series(sample):
    data, cov, model, _ = sample
    w = pd.Series(np.linspace(0.5, 1.5, len(data)), index=data.index)
    by_series = model.covariate_effects(cov, weights=w)
    by_name = model.covariate_effects(["x", "g"], data=data.assign(x=cov.x, g=cov.g, wt=w),
                                      weights="wt")  # fmt: skip
    pd.testing.assert_frame_equal(by_series.coefficients, by_name.coefficients, rtol=1e-9)


def test_reference_class_changes_the_contrasts_not_the_model(sample):
    _data, cov, model, _ = sample
    one = model.covariate_effects(cov, reference=1)
    two = model.covariate_effects(cov, reference=2)
    b1, b2 = one.beta(), two.beta()
    assert np.allclose(b2.to_numpy(), (b1.to_numpy().T - b1[2].to_numpy()).T, atol=1e-6)
    pd.testing.assert_frame_equal(one.wald, two.wald, rtol=1e-6)
    pd.testing.assert_frame_equal(one.predict_proba(cov), two.predict_proba(cov), rtol=1e-6)
    assert one.loglik == pytest.approx(two.loglik, rel=1e-12)


def test_predict_proba_is_the_softmax_of_the_coefficients(sample):
    _data, cov, model, _ = sample
    res = model.covariate_effects(cov)
    new = pd.DataFrame({"g": ["c", "a"], "x": [0.5, -1.0]}, index=["r1", "r2"])
    beta = res.beta()
    eta = np.array(
        [
            beta.loc["Intercept"] + 0.5 * beta.loc["x"] + beta.loc["g[c]"],
            beta.loc["Intercept"] - 1.0 * beta.loc["x"],
        ]
    )
    expected = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    prob = res.predict_proba(new)
    assert list(prob.index) == ["r1", "r2"] and list(prob.columns) == [1, 2, 3]
    assert np.allclose(prob.to_numpy(), expected, atol=1e-15)
    with pytest.raises(lca.DataError, match=r"'g' holds 'd' at row 'r2'.*\['a', 'b', 'c'\]"):
        res.predict_proba(new.assign(g=["a", "d"]))
    with pytest.raises(lca.DataError, match=r"lack \['x'\]"):
        res.predict_proba(new[["g"]])


def test_shuffled_covariates_are_aligned_and_data_path_equals_fitted_rows(sample):
    data, cov, model, _ = sample
    fitted = model.covariate_effects(cov)
    shuffled = cov.sample(frac=1.0, random_state=0)
    again = model.covariate_effects(shuffled)
    pd.testing.assert_frame_equal(fitted.coefficients, again.coefficients)
    given = model.covariate_effects(cov, data=data)
    pd.testing.assert_frame_equal(fitted.coefficients, given.coefficients, rtol=1e-10)


def test_loaded_model_needs_data_and_gives_the_same(sample, tmp_path):
    data, cov, model, _ = sample
    model.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    with pytest.raises(lca.NotFittedError, match="data=df"):
        loaded.covariate_effects(cov)
    pd.testing.assert_frame_equal(
        loaded.covariate_effects(cov, data=data).coefficients,
        model.covariate_effects(cov).coefficients,
        rtol=1e-9,
    )


def test_text_report_and_categorical_order(sample):
    _data, cov, model, _ = sample
    cat = cov.assign(g=pd.Categorical(cov.g, categories=["z", "c", "a", "b"]))
    res = model.covariate_effects(cat)
    # the first category present ("c") is the reference; "z", absent, gets no column
    assert res.design.terms == ["Intercept", "x", "g[a]", "g[b]"]
    text = str(res)
    assert "correction=ml" in text and "Wald tests" in text and "g[a]" in text
    assert res.wald.loc["g", "df"] == 4 and res.wald.loc["x", "df"] == 2


# -- bad input ----------------------------------------------------------------------------


def test_bad_covariates_get_errors_that_name_the_column(sample):
    data, cov, model, _ = sample
    missing = cov.copy()
    missing.loc[[7, 9], "x"] = np.nan
    with pytest.raises(lca.DataError, match=r"'x' is missing in 2 row\(s\), the first at row 7"):
        model.covariate_effects(missing)
    with pytest.raises(lca.DataError, match=r"'k' takes one value only \(3\.0\)"):
        model.covariate_effects(cov.assign(k=3.0))
    with pytest.raises(lca.DataError, match=r"'k' has one category only \('same'\)"):
        model.covariate_effects(cov.assign(k="same"))
    with pytest.raises(lca.DataError, match=r"term 'x2' is a linear combination"):
        model.covariate_effects(cov.assign(x2=2 * cov.x))
    with pytest.raises(lca.DataError, match=r"'x' holds inf"):
        model.covariate_effects(cov.assign(x=cov.x.replace(cov.x.iloc[3], np.inf)))
    with pytest.raises(lca.DataError, match="index is not the data's index"):
        model.covariate_effects(cov.set_axis(cov.index + 1))
    with pytest.raises(lca.DataError, match="have 10 rows but the data have 1500"):
        model.covariate_effects(cov.iloc[:10])
    with pytest.raises(ValueError, match="need data="):
        model.covariate_effects(["x"])
    with pytest.raises(lca.DataError, match=r"\['nope'\] name no column"):
        model.covariate_effects(["nope"], data=data)
    with pytest.raises(ValueError, match="correction must be one of"):
        model.covariate_effects(cov, correction="BCH3")
    with pytest.raises(ValueError, match="reference must be one of the classes"):
        model.covariate_effects(cov, reference=4)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        model.covariate_effects(cov.to_numpy())


def test_separated_covariate_warns():
    """A covariate category with nobody in class 1: its coefficient runs off to infinity."""
    rng = np.random.default_rng(6)
    data, cov, cls = simulate(rng, 1200, profiles=np.where(PROFILES > 0.5, 0.97, 0.03))
    model, match = matched_fit(data, cls)
    flag = np.where(cls == 0, "no", rng.choice(["no", "yes"], size=len(cls)))
    with pytest.warns(UserWarning, match=r"class \d flag\[yes\] not identified") as record:
        res = model.covariate_effects(cov.assign(flag=flag), correction="none", reference=match[0])
    assert len(record) == 1 and record[0].filename == __file__
    se = res.coefficients["se"]
    # class 1 (true class 0) has nobody with flag "yes": only that contrast is lost
    assert se.isna().sum() == 2 and se.isna()[(slice(None), "flag[yes]")].all()
    assert np.isnan(res.wald.loc["flag", "statistic"]) and res.wald["statistic"].notna().sum() == 3


# -- distal outcomes: crosstab(kind="bch" | "ml") ------------------------------------------

#: P(outcome | true class), rows the outcome's categories "x", "y", "z".
DISTAL = np.array([[0.7, 0.2, 0.1], [0.2, 0.6, 0.3], [0.1, 0.2, 0.6]])


def with_distal(rng, n):
    data, _, cls = simulate(rng, n)
    cum = DISTAL.T.cumsum(axis=1)[cls]
    outcome = np.array(["x", "y", "z"])[(rng.random(n)[:, None] > cum).sum(axis=1)]
    return data, pd.Series(outcome, name="outcome"), cls


def test_corrected_crosstabs_recover_the_distribution_within_classes():
    rng = np.random.default_rng(8)
    tables = {k: [] for k in ("modal", "bch", "ml")}
    for rep in range(30):
        data, outcome, cls = with_distal(rng, 1500)
        model, match = matched_fit(data, cls, seed=rep)
        for kind in tables:
            tab = model.crosstab(outcome, kind=kind)
            tables[kind].append(tab.loc[["x", "y", "z"], [match[s] for s in range(3)]] / 100)
    truth = DISTAL
    spread = {k: np.array(v) for k, v in tables.items()}
    for kind in ("bch", "ml"):
        bias = spread[kind].mean(axis=0) - truth
        assert np.all(np.abs(bias) < 3 * spread[kind].std(axis=0) / np.sqrt(30) + 0.005), bias
    # modal assignment pulls the largest probability of each class down (by 0.12 in all)
    shrink = np.diag(truth) - np.diag(spread["modal"].mean(axis=0))
    assert np.all(shrink > 0) and shrink.sum() > 0.08, shrink
    for kind in ("bch", "ml"):
        error = np.abs(np.diag(spread[kind].mean(axis=0)) - np.diag(truth))
        assert error.sum() < shrink.sum() / 3, (kind, error)


def test_ml_crosstab_is_the_maximum_of_its_likelihood(sample):
    data, _, model, _ = sample
    rng = np.random.default_rng(9)
    outcome = pd.Series(rng.choice(["x", "y", "z"], size=len(data), p=[0.5, 0.3, 0.2]))
    outcome[(model.predict(data).to_numpy() == 2) & (rng.random(len(data)) < 0.5)] = "y"
    w = rng.uniform(0.5, 1.5, size=len(data))
    tab = model.crosstab(outcome, weights=w, kind="ml")
    post = model.predict_proba(data).to_numpy()
    share = three_step.assignment_shares(post, "modal")
    d = naive.classification_errors(post, share, w)
    code = pd.Index(["x", "y", "z"]).get_indexer(outcome)
    assigned = share.argmax(axis=1)

    def loglik(theta):  # softmax parameters of P(class) and of P(outcome | class)
        g = np.append(theta[:2], 0.0)
        p = np.exp(g) / np.exp(g).sum()
        h = np.vstack([theta[2:].reshape(2, 3), np.zeros(3)])
        q = np.exp(h) / np.exp(h).sum(axis=0)
        return float(np.sum(w * np.log((p * d[:, assigned].T * q[code]).sum(axis=1))))

    best = optimize.minimize(lambda t: -loglik(t), np.zeros(8), method="BFGS")
    h = np.vstack([best.x[2:].reshape(2, 3), np.zeros(3)])
    expected = np.exp(h) / np.exp(h).sum(axis=0)
    assert np.allclose(tab.loc[["x", "y", "z"], [1, 2, 3]].to_numpy() / 100, expected, atol=1e-5)
    g = np.append(best.x[:2], 0.0)
    sizes = tab.loc["Weighted base", [1, 2, 3]].to_numpy() / w.sum()
    assert np.allclose(sizes, np.exp(g) / np.exp(g).sum(), atol=1e-5)


def test_bch_crosstab_is_the_inverse_weighted_table(sample):
    data, cov, model, _ = sample
    tab = model.crosstab(cov["g"], kind="bch")
    post = model.predict_proba(data).to_numpy()
    share = three_step.assignment_shares(post, "modal")
    ones = np.ones(len(post))
    star = share @ np.linalg.inv(naive.classification_errors(post, share, ones))
    onehot = pd.get_dummies(cov["g"]).to_numpy(dtype=float)
    expected = 100 * (onehot.T @ star) / star.sum(axis=0)
    assert np.allclose(tab.loc[["a", "b", "c"], [1, 2, 3]].to_numpy(), expected, atol=1e-10)
    # the Total column and the weighted bases keep their meaning
    assert np.allclose(tab.loc["Weighted base", [1, 2, 3]].sum(), len(data))
    modal = model.crosstab(cov["g"])
    pd.testing.assert_series_equal(tab["Total"], modal["Total"], check_exact=False)


def test_perfect_classification_leaves_crosstabs_uncorrected():
    rng = np.random.default_rng(10)
    data, outcome, cls = with_distal(rng, 600)
    data = pd.DataFrame(np.repeat(cls[:, None], 3, axis=1), columns=["a", "b", "c"])
    model = lca.LatentClassModel(3, n_starts=2, random_state=0, bayes_constant=0).fit(data)
    modal = model.crosstab(outcome)
    for kind in ("bch", "ml", "proportional"):
        pd.testing.assert_frame_equal(model.crosstab(outcome, kind=kind), modal, atol=1e-8)


def test_separation_in_a_class_that_is_not_the_reference():
    """Nobody in class 2 has g == "b": that one coefficient is lost, with a warning."""
    rng = np.random.default_rng(0)
    n = 300
    cls = rng.integers(0, 3, n)
    g = np.where(cls == 1, "a", rng.choice(["a", "b"], n))
    post = np.eye(3)[cls] * 0.9 + 0.1 / 3
    cov = pd.DataFrame({"g": g, "x": rng.normal(size=n)})
    classes = pd.RangeIndex(1, 4)
    for corr in ("ml", "none"):
        for se in ("hessian", "robust"):
            with pytest.warns(UserWarning, match=r"class 2 g\[b\] not identified") as record:
                res = three_step.covariate_effects(
                    post, cov, np.ones(n), classes, correction=corr, se_method=se
                )
            # the assigned classes are separated too: the cause is in the data, not in the
            # correction
            assert "a covariate value that nobody in some class has" in str(record[0].message)
            se_values = res.coefficients["se"]
            assert se_values.isna().sum() == 1 and np.isnan(se_values[(2, "g[b]")])
            assert res.coefficients.loc[(2, "g[b]"), "coef"] < -15
    with pytest.raises(lca.DataError, match=r"no maximum.*BCH weights below 0"):
        three_step.covariate_effects(post, cov, np.ones(n), classes, correction="bch")


def test_a_class_nobody_is_assigned_to():
    rng = np.random.default_rng(13)
    post = rng.dirichlet([3, 3, 1], 400)
    post = post[post.argmax(axis=1) != 2][:150]
    cov = pd.DataFrame({"x": rng.normal(size=150)})
    classes = pd.RangeIndex(1, 4)
    with pytest.raises(lca.DataError, match="class 3 is nobody's most probable class"):
        three_step.covariate_effects(post, cov, np.ones(150), classes, correction="bch")
    with pytest.raises(lca.DataError, match="class 3 is nobody's most probable class"):
        three_step.covariate_effects(post, cov, np.ones(150), classes, correction="ml")
    # uncorrected: class 3's coefficients run off to infinity together (its intercept to
    # -infinity); the slope of a class of nobody is not identified either
    with pytest.warns(UserWarning, match="class 3 Intercept, class 3 x not identified"):
        res = three_step.covariate_effects(post, cov, np.ones(150), classes, correction="none")
    assert res.coefficients.loc[3, "se"].isna().all()
    assert res.coefficients.loc[2, "se"].notna().all()
    # proportional assignment still has every class
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = three_step.covariate_effects(
            post, cov, np.ones(150), classes, correction="bch", assignment="proportional"
        )
    assert res.coefficients["se"].notna().all()


def test_dates_infinities_and_categories_only_in_rows_left_out(sample):
    _, cov, model, _ = sample
    with pytest.raises(lca.DataError, match="'d' holds dates or durations"):
        model.covariate_effects(cov.assign(d=pd.date_range("2000", periods=len(cov))))
    res = model.covariate_effects(cov)
    with pytest.raises(lca.DataError, match="'x' holds inf at row 1"):
        res.predict_proba(pd.DataFrame({"x": [0.0, np.inf], "g": ["a", "b"]}))
    w = np.ones(len(cov))
    w[:3] = 0
    odd = cov.assign(g=cov.g.where(w > 0, "only-left-out"))
    left_out = model.covariate_effects(odd, weights=w)
    assert left_out.design.terms == ["Intercept", "x", "g[b]", "g[c]"]
    pd.testing.assert_frame_equal(
        left_out.coefficients, model.covariate_effects(cov, weights=w).coefficients
    )


def test_dask_data_is_refused_with_the_fix(sample):
    dd = pytest.importorskip("dask.dataframe")
    data, cov, model, _ = sample
    with pytest.raises(TypeError, match=r"covariate effects need the data in memory.*compute"):
        model.covariate_effects(cov, data=dd.from_pandas(data, npartitions=2))


def test_a_heavy_tailed_covariate_keeps_its_standard_errors():
    """Pareto incomes: the extreme values squeeze the bulk, and nothing is lost."""
    rng = np.random.default_rng(14)
    n = 5000
    x = rng.pareto(1.0, n)
    eta = np.column_stack([np.zeros(n), 0.5 - 0.3 * x, -1.0 + 0.4 * x])
    pi = np.exp(eta - eta.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    cls = (rng.random(n)[:, None] > pi.cumsum(axis=1)).sum(axis=1)
    post = np.eye(3)[cls] * 0.85 + 0.05
    cov = pd.DataFrame({"x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = three_step.covariate_effects(post, cov, np.ones(n), pd.RangeIndex(1, 4))
    share = three_step.assignment_shares(post, "modal")
    d = naive.classification_errors(post, share, np.ones(n))
    z = np.column_stack([np.ones(n), x])

    def f(th):
        return naive.step3_loglik(three_step._theta_to_beta(th, 2, 3, [1, 2]), z, share, d, 1.0)

    theta = res.coefficients["coef"].to_numpy()
    se = np.sqrt(np.diag(np.linalg.inv(-naive.fd_hessian(f, theta, h=1e-5))))
    assert np.allclose(res.coefficients["se"], se, rtol=1e-3)


def test_a_separated_slope_of_a_count_leaves_the_intercept_identified():
    """x is 0 for most respondents and never above 0 in class 2."""
    rng = np.random.default_rng(15)
    n = 1500
    cls = rng.integers(0, 3, n)
    x = np.where((cls != 1) & (rng.random(n) < 0.3), rng.integers(1, 5, n), 0).astype(float)
    post = np.eye(3)[cls] * 0.9 + 0.1 / 3
    with pytest.warns(UserWarning, match=r"class 2 x not identified") as record:
        res = three_step.covariate_effects(
            post, pd.DataFrame({"x": x}), np.ones(n), pd.RangeIndex(1, 4)
        )
    assert len(record) == 1
    se = res.coefficients["se"]
    assert se.isna().sum() == 1 and np.isnan(se[(2, "x")])
    # with class 2's slope held at its limit (-60 is as good as -infinity), the rest is a
    # regular maximum: the same estimates and standard errors by a generic optimiser
    share = three_step.assignment_shares(post, "modal")
    d = naive.classification_errors(post, share, np.ones(n))
    z = np.column_stack([np.ones(n), x])

    def f(rest):
        theta = np.insert(rest, 1, -60.0)
        return naive.step3_loglik(three_step._theta_to_beta(theta, 2, 3, [1, 2]), z, share, d, 1.0)

    best = optimize.minimize(lambda r: -f(r), np.zeros(3), method="BFGS", options={"gtol": 1e-9})
    ours = res.coefficients.drop(index=[(2, "x")])
    assert np.allclose(ours["coef"], best.x, atol=1e-4)
    inv = np.linalg.inv(-naive.fd_hessian(f, best.x))
    assert np.allclose(ours["se"], np.sqrt(np.diag(inv)), rtol=1e-3)


def test_ml_crosstab_refuses_a_class_nobody_is_assigned_to_and_ignores_unused_categories(sample):
    _, cov, model, _ = sample
    variable = pd.Series(pd.Categorical(cov["g"], categories=["a", "b", "c", "never"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tab = model.crosstab(variable, kind="ml")
    assert (tab.loc["never", [1, 2, 3]] == 0).all()
    post = np.eye(3)[np.r_[np.zeros(50, int), np.ones(50, int)]] * 0.8 + 0.2 / 3
    onehot = np.eye(2)[np.arange(100) % 2]
    with pytest.raises(lca.DataError, match="class 3 is nobody's most probable class"):
        three_step.ml_distal_shares(post, onehot, np.ones(100))


def threshold_sample(seed, n=1000, items=8, strength=0.9):
    """Class 1 exactly when x < 0 (perfect separation), classes 2 and 3 at random above;
    posteriors from 8 binary items under the true model, short of 0 and 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    cls = np.where(x < 0, 0, rng.integers(1, 3, n))
    prof = rng.uniform(1 - strength, strength, size=(3, items))
    y = rng.random((n, items)) < prof[cls]
    ll = y @ np.log(prof.T) + (~y) @ np.log(1 - prof.T) + np.log(np.bincount(cls) / n)
    return x, np.exp(ll - logsumexp(ll, axis=1, keepdims=True))


def limit_model(x, post, n_cuts=40):
    """The ML step-3 supremum at infinity, by enumeration: class 1 exactly below a cut c
    (each midpoint of the sorted x next to 0 in turn), a logit of class 3 against 2 above
    it, maximised by BFGS. Returns (loglik, cut, coefficients, their covariance)."""
    share = three_step.assignment_shares(post, "modal")
    d = naive.classification_errors(post, share, np.ones(len(x)))
    t = share.argmax(axis=1)
    xs = np.sort(x)
    mids = (xs[1:] + xs[:-1]) / 2
    best = (-np.inf,)
    for cut in mids[np.argsort(np.abs(mids))[:n_cuts]]:
        below = x < cut
        z = np.column_stack([np.ones((~below).sum()), x[~below]])

        def f(g, below=below, z=z):
            p3 = 1.0 / (1.0 + np.exp(-(z @ g)))
            tt = t[~below]
            return np.sum(np.log(d[0, t[below]])) + np.sum(
                np.log((1 - p3) * d[1, tt] + p3 * d[2, tt])
            )

        r = optimize.minimize(lambda g, f=f: -f(g), np.zeros(2), method="BFGS")
        if -r.fun > best[0]:
            best = (-r.fun, cut, r.x, np.linalg.inv(-naive.fd_hessian(f, r.x)))
    return best


def test_perfect_separation_behind_a_finite_local_maximum_is_found():
    """The ML likelihood is not concave: from the usual start it stops at a finite local
    maximum (slope 129 per IQR, -727.38); its supremum is at infinity (-726.43, a sharp
    boundary), which the second start reaches. Class 1's coefficients (reference 2) are
    then not identified, and class 3's are those of the limit model, found by enumeration."""
    x, post = threshold_sample(7)
    loglik, cut, coef, cov = limit_model(x, post)
    with pytest.warns(UserWarning, match=r"class 1 Intercept, class 1 x not identified") as record:
        res = three_step.covariate_effects(
            post, pd.DataFrame({"x": x}), np.ones(len(x)), pd.RangeIndex(1, 4), reference=2
        )
    # the assigned classes overlap (modal assignment errs): the boundary is the correction's
    message = str(record[0].message)
    assert "the uncorrected regression has a finite maximum" in message
    d = naive.classification_errors(
        post, three_step.assignment_shares(post, "modal"), np.ones(len(x))
    )
    s = int(np.argmin(np.diag(d)))
    assert f"P(assigned to {s + 1} | in class {s + 1}) = {d[s, s]:.2f}" in message
    assert res.loglik == pytest.approx(loglik, abs=1e-4)
    c1 = res.coefficients.loc[1, "coef"]
    assert -c1["Intercept"] / c1["x"] == pytest.approx(cut, abs=0.01)  # the same boundary
    assert res.coefficients.loc[1, "se"].isna().all()
    c3 = res.coefficients.loc[3]
    assert np.allclose(c3["coef"], coef, atol=1e-4)
    assert np.allclose(c3["se"], np.sqrt(np.diag(cov)), rtol=1e-3)


def test_a_near_separated_finite_maximum_is_warned_of():
    """A finite maximum with a slope of 177 log-odds per IQR: an estimate with a standard
    error, warned of as near-perfect separation (the enumerated supremum is higher)."""
    x, post = threshold_sample(0)
    with pytest.warns(UserWarning, match=r"near-perfect separation in step 3: class 1 x "):
        res = three_step.covariate_effects(
            post, pd.DataFrame({"x": x}), np.ones(len(x)), pd.RangeIndex(1, 4), reference=2
        )
    assert res.coefficients["se"].notna().all()
    assert abs(res.coefficients.loc[(1, "x"), "coef"]) * 1.35 > three_step.EXTREME_LOGIT
    assert limit_model(x, post)[0] > res.loglik  # why it is not to be trusted


def weak_sample(seed, n=400, items=6):
    """3 classes, a normal and a 3-category covariate with random true effects; posteriors
    from 6 binary items with random profiles under the true model (some classes alike),
    and random case weights. Returns the covariates, their design matrix, the posteriors
    and the weights."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.5, 0.3, 0.2])
    z = np.column_stack([np.ones(n), x, g == "b", g == "c"]).astype(float)
    beta = np.zeros((4, 3))
    for s in (1, 2):
        beta[:, s] = rng.normal(0, 0.5), 2.5 * rng.normal(), 0.8 * rng.normal(), 0.8 * rng.normal()
    eta = z @ beta
    pi = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
    cls = (pi.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    prof = 1.0 / (1.0 + np.exp(-rng.normal(0, 1.2, size=(3, items))))
    y = (rng.random((n, items)) < prof[cls]).astype(float)
    ll = np.log(np.bincount(cls) / n) + y @ np.log(prof.T) + (1 - y) @ np.log(1 - prof.T)
    post = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
    return pd.DataFrame({"x": x, "g": g}), z, post, rng.uniform(0.3, 2.0, n)


def test_the_ml_correction_also_starts_from_the_bch_estimates():
    """Class 3 is poorly measured (4 of 400 assigned to it, P(assigned to 3 | in 3) = 0.04):
    the ML likelihood has several maxima, and from the intercepts without covariates (the
    posterior class sizes) a generic optimiser climbs to a lower one (-285.61), as step 3
    did before it also started from the BCH estimates. The result is the highest finite
    maximum BFGS finds from 20 random starts on the naive likelihood (-284.20); a few of
    those starts run off towards points at infinity, one of them higher (-283.98)."""
    cov, z, post, w = weak_sample(3001)
    share = three_step.assignment_shares(post, "modal")
    d = naive.classification_errors(post, share, w)

    def minus(th):
        return -naive.step3_loglik(three_step._theta_to_beta(th, 4, 3, [1, 2]), z, share, d, w)

    rng = np.random.default_rng(0)
    found = [optimize.minimize(minus, rng.normal(0, 2, 8), method="BFGS") for _ in range(20)]
    best = min((r for r in found if r.success and np.abs(r.x).max() < 50), key=lambda r: r.fun)
    sizes = (w[:, None] * post).sum(axis=0)
    start = np.zeros((2, 4))
    start[:, 0] = np.log(sizes[1:] / sizes[0])
    lower = optimize.minimize(minus, start.ravel(), method="BFGS")
    with pytest.warns(UserWarning, match=r"class 3 holds 16\.3% .* only 1\.2%"):
        res = three_step.covariate_effects(post, cov, w, pd.RangeIndex(1, 4))
    assert res.loglik == pytest.approx(-best.fun, abs=1e-4)
    assert res.loglik > -lower.fun + 1.0
    assert np.allclose(res.coefficients["coef"], best.x, atol=1e-3)
    assert res.coefficients["se"].notna().all()


def test_nearly_collinear_covariates_are_not_blamed_on_the_correction():
    """x2 = x1 + 1e-5 noise: the uncorrected regression is not identified either, so the
    warning names collinearity, not poorly measured classes."""
    rng = np.random.default_rng(2)
    n = 500
    x = rng.normal(size=n)
    cov = pd.DataFrame({"x1": x, "x2": x + 1e-5 * rng.normal(size=n)})
    logit = rng.normal(0, 1, (n, 3))
    logit[np.arange(n), rng.integers(0, 3, n)] += 3
    post = np.exp(logit - logsumexp(logit, axis=1, keepdims=True))
    with pytest.warns(UserWarning, match="nearly collinear covariates"):
        res = three_step.covariate_effects(post, cov, np.ones(n), pd.RangeIndex(1, 4))
    assert res.coefficients["se"].isna().all()


def test_a_bch_likelihood_that_runs_off_is_an_error():
    """BCH weights below 0: the weighted log-likelihood has no maximum (BFGS on it, in log
    space, climbs above 1e5, and doubling its point doubles it), and 500 Newton steps
    stop short of the overflow that would say so: an error, not a result."""
    cov, z, post, w = weak_sample(7)
    share = three_step.assignment_shares(post, "modal")
    bch = share @ np.linalg.inv(naive.classification_errors(post, share, w))

    def loglik(th):
        eta = z @ three_step._theta_to_beta(th, 4, 3, [1, 2])
        return float(np.sum(w * np.sum(bch * (eta - logsumexp(eta, axis=1, keepdims=True)), 1)))

    far = optimize.minimize(lambda th: -loglik(th), np.zeros(8), method="BFGS").x
    assert loglik(far) > 1e5 and loglik(2 * far) > 1.9 * loglik(far)
    with pytest.raises(lca.DataError, match="no maximum"):
        three_step.covariate_effects(post, cov, w, pd.RangeIndex(1, 4), correction="bch")


def test_a_bool_is_not_a_number_among_categories():
    """True == 1 and False == 0 to pandas' index: here they are different categories."""
    fit = pd.DataFrame(
        {"g": pd.Categorical([1, 2, 3, 1, 2]), "b": [True, False, True, True, False]}
    )
    design = three_step.Design.from_frame(fit)
    z = design.matrix(pd.DataFrame({"g": [1, 3], "b": [False, True]}))
    assert np.array_equal(z, [[1, 0, 0, 0], [1, 0, 1, 1]])
    with pytest.raises(lca.DataError, match=r"'g' holds True at row 0.*\(\[1, 2, 3\]\)"):
        design.matrix(pd.DataFrame({"g": [True, 3], "b": [False, True]}))
    with pytest.raises(lca.DataError, match=r"'g' holds True at row 'y'"):
        mixed = pd.Series([1, True], index=["x", "y"], dtype=object)
        design.matrix(pd.DataFrame({"g": mixed, "b": [False, True]}))
    with pytest.raises(lca.DataError, match=r"'b' holds 0 at row 0.*\(\[False, True\]\)"):
        design.matrix(pd.DataFrame({"g": [1, 3], "b": [0, 1]}))


# -- step-1 uncertainty ------------------------------------------------------------------


def ordinal_sample():
    rng = np.random.default_rng(5)
    cls = rng.random(600) < 0.4
    shift = np.where(cls, 1.2, -0.6)[:, None] + rng.normal(size=(600, 4))
    codes = np.digitize(shift, [-1.0, 0.0, 1.0])
    data = pd.DataFrame(codes, columns=[f"o{j}" for j in range(4)])
    data["o0"] = pd.Categorical(data["o0"], categories=range(4), ordered=True)
    model = lca.LatentClassModel(2, ordinal=["o0"], n_starts=3, random_state=0).fit(data)
    assert model._ordinal.any()
    return data, model


@pytest.mark.parametrize("kind", ["nominal", "with an ordinal indicator"])
def test_perturbed_parameters_are_the_parametrisation_of_the_step1_covariance(sample, kind):
    """The delta method through ``perturbed`` gives the model's own standard errors."""
    from lca import standard_errors as se

    data, _, model, _ = sample
    if kind != "nominal":
        data, model = ordinal_sample()
    post_at, cov1 = model._step1(model._patterns, model._fit_inverse)
    args, unit, _ = model._se_inputs(None, None, "error")
    lay, again, _ = se.parameter_covariance(*args, method="hessian", unit=unit)
    np.testing.assert_array_equal(again, cov1)
    h = 1e-6
    columns = []
    for q in range(cov1.shape[0]):
        e = np.zeros(cov1.shape[0])
        e[q] = h
        up, down = (
            se.perturbed(model._log_class, model._log_cond, model._offsets, lay, s * e)
            for s in (1.0, -1.0)
        )
        columns.append(
            np.concatenate(
                [np.exp(up[0]) - np.exp(down[0]), (np.exp(up[1]) - np.exp(down[1])).ravel()]
            )
            / (2 * h)
        )
    jac = np.column_stack(columns)
    var = np.einsum("ip,pq,iq->i", jac, cov1, jac)
    k = model.n_classes_
    ses = model.standard_errors()
    np.testing.assert_allclose(np.sqrt(var[:k]), ses.class_sizes.to_numpy(), rtol=1e-5)
    cells = ses.profile.drop(columns="Total").to_numpy().ravel()
    np.testing.assert_allclose(np.sqrt(var[k:]), cells, rtol=1e-5)
    # at delta = 0: the model's posteriors
    np.testing.assert_allclose(
        post_at(np.zeros(cov1.shape[0])), model.predict_proba(data).to_numpy(), atol=1e-13
    )


@pytest.mark.parametrize(
    "correction, assignment",
    [("ml", "modal"), ("ml", "proportional"), ("bch", "modal"), ("bch", "proportional"),
     ("none", "proportional")],
)  # fmt: skip
def test_step1_uncertainty_is_the_delta_method_of_refitted_step3(sample, correction, assignment):
    """cov3 + J cov1 J', J by refitting step 3 at moved step-1 parameters (not by its gradient)."""
    data, cov, model, _ = sample
    post_at, cov1 = model._step1(model._patterns, model._fit_inverse)
    n_free = cov1.shape[0]
    w = np.ones(len(data))
    options = dict(correction=correction, assignment=assignment)

    def coefficients(post):
        res = three_step.covariate_effects(post, cov, w, model.classes_, **options)
        return res.coefficients["coef"].to_numpy(), res.covariance

    base = post_at(np.zeros(n_free))
    _, cov3 = coefficients(base)
    h = 1e-4
    columns = []
    for q in range(n_free):
        e = np.zeros(n_free)
        e[q] = h
        up, down = post_at(e), post_at(-e)
        # the modal assignments stay where they are, so a refit holds them fixed too
        assert (up.argmax(axis=1) == base.argmax(axis=1)).all()
        assert (down.argmax(axis=1) == base.argmax(axis=1)).all()
        columns.append((coefficients(up)[0] - coefficients(down)[0]) / (2 * h))
    jac = np.column_stack(columns)
    expected = cov3 + jac @ cov1 @ jac.T
    got = model.covariate_effects(cov, step1_uncertainty=True, **options)
    np.testing.assert_allclose(got.covariance, expected, rtol=2e-4, atol=1e-9)
    plain = model.covariate_effects(cov, **options)
    np.testing.assert_allclose(plain.covariance, cov3, rtol=1e-10)
    assert (got.coefficients["se"] >= plain.coefficients["se"] - 1e-12).all()
    pd.testing.assert_frame_equal(got.coefficients[["coef"]], plain.coefficients[["coef"]])


def test_step1_uncertainty_of_modal_uncorrected_regression_is_none(sample):
    _, cov, model, _ = sample
    a = model.covariate_effects(cov, correction="none")
    b = model.covariate_effects(cov, correction="none", step1_uncertainty=True)
    np.testing.assert_allclose(b.covariance, a.covariance, rtol=1e-12)


def test_step1_uncertainty_of_a_loaded_model_comes_from_the_data_given(sample, tmp_path):
    data, cov, model, _ = sample
    model.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    a = model.covariate_effects(cov, step1_uncertainty=True)
    b = loaded.covariate_effects(cov, data=data, step1_uncertainty=True)
    np.testing.assert_allclose(b.covariance, a.covariance, rtol=1e-7)
    # a fitted model keeps its own step 1 when the rows are others
    c = model.covariate_effects(cov.iloc[:700], data=data.iloc[:700], step1_uncertainty=True)
    with pytest.warns(UserWarning, match="fitted to N = 1500") as caught:
        d = loaded.covariate_effects(cov.iloc[:700], data=data.iloc[:700], step1_uncertainty=True)
    assert caught[0].filename == __file__  # the warning points at the call
    assert not np.allclose(c.covariance, d.covariance)  # d's step 1 from 700 rows


def test_step1_uncertainty_gives_standard_errors_of_the_sampling_spread():
    """Monte Carlo with known truth: weakly separated classes, where step 1's error matters.

    Over 120 samples the step-3 intercept spreads with SD about 0.19; the standard
    errors that treat step 1 as known say about 0.12, those with its uncertainty 0.2.
    """
    n, reps = 800, 120
    probs = np.array([[0.8, 0.75, 0.7, 0.8, 0.7], [0.3, 0.3, 0.35, 0.25, 0.3]])
    coefs, plain, step1 = [], [], []
    for r in range(reps):
        rng = np.random.default_rng(100 + r)
        x = rng.normal(size=n)
        cls = (rng.random(n) < 1.0 / (1.0 + np.exp(0.7 - x))).astype(int)
        y = (rng.random((n, 5)) < probs[cls]).astype(int)
        model = lca.LatentClassModel(2, n_starts=3, random_state=r).fit(
            pd.DataFrame(y, columns=[f"q{j}" for j in range(5)])
        )
        # class 1 is the true class 0 (the larger, with the high probabilities)
        swap = model.profile().loc[("q0", 1)].iloc[0] < model.profile().loc[("q0", 1)].iloc[1]
        covariates = pd.DataFrame({"x": x})
        a = model.covariate_effects(covariates)
        b = model.covariate_effects(covariates, step1_uncertainty=True)
        coefs.append(
            -a.coefficients["coef"].to_numpy() if swap else a.coefficients["coef"].to_numpy()
        )
        plain.append(a.coefficients["se"].to_numpy())
        step1.append(b.coefficients["se"].to_numpy())
    coefs = np.array(coefs)
    np.testing.assert_allclose(coefs.mean(axis=0), [-0.7, 1.0], atol=0.06)
    spread = coefs.std(axis=0, ddof=1)
    ratio_plain = np.median(plain, axis=0) / spread
    ratio_step1 = np.median(step1, axis=0) / spread
    assert ratio_plain[0] < 0.75  # step 1 taken as known: far too small
    assert 0.85 < ratio_step1[0] < 1.25
    assert 0.85 < ratio_step1[1] < 1.25  # the slope, little affected either way


def test_step1_uncertainty_with_unknown_missing_and_a_model_built_from_parameters(sample):
    data, cov, model, _ = sample
    # a fitted model given data= and unknown="missing": step 1 is still its own fit
    a = model.covariate_effects(cov, step1_uncertainty=True)
    b = model.covariate_effects(cov, data=data, unknown="missing", step1_uncertainty=True)
    np.testing.assert_allclose(b.covariance, a.covariance, rtol=1e-9)
    built = lca.LatentClassModel.from_parameters(
        model.class_sizes_.to_numpy(),
        {ind.name: pd.DataFrame(model._cond_probs[model._offsets[j] : model._offsets[j + 1]],
                                index=list(ind.categories))
         for j, ind in enumerate(model.indicators_)},
    )  # fmt: skip
    with pytest.raises(ValueError, match="built from parameters"):
        built.covariate_effects(cov, data=data, step1_uncertainty=True)


def test_a_class_seldom_anyones_modal_class_is_warned_of_once_per_call():
    """Sizes by the posteriors (weighted means) and by modal assignment, computed by hand:
    class 2 holds 0.33 of the weight but is the modal class of 1 row in 20. Once per call
    for the corrections; not for the uncorrected regression or proportional assignment
    (20 rows identify little here: other warnings and errors may come too)."""
    post = np.array([[0.6, 0.3, 0.1]] * 8 + [[0.1, 0.3, 0.6]] * 8 + [[0.45, 0.4, 0.15]] * 4)
    post[-1] = [0.1, 0.6, 0.3]
    w = np.ones(20)
    size2, assigned2 = post[:, 1].mean(), 1 / 20
    assert assigned2 < three_step.RARELY_ASSIGNED * size2
    text = f"class 2 holds {size2:.1%} of the respondents by their posteriors but is the "
    text += f"most probable class of only {assigned2:.1%}"
    cov = pd.DataFrame({"x": np.linspace(-1, 1, 20)})
    runs = [("ml", "modal", 1), ("bch", "modal", 1), ("none", "modal", 0),
            ("bch", "proportional", 0)]  # fmt: skip
    for correction, assignment, expected in runs:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                three_step.covariate_effects(
                    post, cov, w, pd.RangeIndex(1, 4), correction=correction,
                    assignment=assignment,
                )  # fmt: skip
            except lca.DataError:
                pass
        rare = [str(x.message) for x in seen if "most probable class of only" in str(x.message)]
        assert len(rare) == expected, (correction, assignment, rare)
        assert all(m.startswith(text) for m in rare)
