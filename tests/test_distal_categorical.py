"""Class proportions of categorical distal outcomes (lca.distal_categorical,
model.distal_proportions)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

import lca
from lca import distal, distal_categorical, three_step
from lca.encoding import DataError

PROFILES = np.array([[0.85] * 6, [0.15] * 6, [0.85] * 3 + [0.15] * 3])
SIZES = np.array([0.4, 0.35, 0.25])
# P(outcome category | class): rows the classes, columns "a", "b", "c"
TRUE_Q = np.array([[0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.1, 0.7, 0.2]])
CLASSES = pd.RangeIndex(1, 4)


def simulate(rng, n, profiles=PROFILES):
    cls = rng.choice(3, size=n, p=SIZES)
    answers = (rng.random((n, profiles.shape[1])) < profiles[cls]).astype(int)
    data = pd.DataFrame(answers, columns=[f"q{j}" for j in range(profiles.shape[1])])
    u = rng.random(n)[:, None] > np.cumsum(TRUE_Q[cls], axis=1)
    data["y"] = np.array(["a", "b", "c"])[u.sum(axis=1)]
    return data, cls


def matched_fit(data, truth, seed=0):
    """A fitted model and the fitted class (0-based) of each true class."""
    model = lca.LatentClassModel(3, n_starts=4, random_state=seed).fit(data.filter(like="q"))
    table = pd.crosstab(truth, model.predict(data.filter(like="q")))
    table = table.reindex(index=range(3), columns=range(1, 4), fill_value=0).to_numpy()
    rows, cols = linear_sum_assignment(-table)
    return model, [int(cols[list(rows).index(s)]) for s in range(3)]


@pytest.fixture(scope="module")
def sample():
    data, cls = simulate(np.random.default_rng(0), 1200)
    model, _ = matched_fit(data, cls)
    return data, model


def fitted_posteriors(sample, n=None):
    """The sample's posteriors (step 1 fitted to it), outcome and random weights."""
    data, model = sample
    post = model.predict_proba(data.filter(like="q")).to_numpy()[:n]
    y = data["y"].to_numpy()[:n]
    return post, y, np.random.default_rng(9).uniform(0.5, 2.0, len(y))


# -- hand-computed cases -----------------------------------------------------------------------


def test_known_classes_give_group_proportions_and_binomial_standard_errors():
    """Posteriors of 0 and 1: every correction is the within-group proportion, its
    covariance the multinomial (diag(q) - q q') / n_s, the classes independent; with two
    categories the Wald test is the sum over classes of the squared differences from the
    precision-weighted common proportion over their variances."""
    rng = np.random.default_rng(1)
    cls = np.repeat([0, 1, 2], [60, 90, 50])
    y = np.where(rng.random(200) < np.array([0.3, 0.6, 0.45])[cls], "yes", "no")
    post = np.eye(3)[cls]
    q = np.array([np.mean(y[cls == s] == "yes") for s in range(3)])
    n = np.array([60, 90, 50])
    var = q * (1 - q) / n
    pooled = np.sum(q / var) / np.sum(1 / var)
    stat = np.sum((q - pooled) ** 2 / var)
    for correction in ("ml", "bch", "none"):
        res = distal_categorical.distal_proportions(
            post, pd.DataFrame({"y": y}), np.ones(200), CLASSES, correction=correction
        )
        got = res.proportions.loc[("y", "yes")]
        np.testing.assert_allclose(got["proportion"], q, rtol=1e-8)
        np.testing.assert_allclose(got["se"] ** 2, var, rtol=1e-6)
        np.testing.assert_allclose(res.proportions.loc[("y", "no"), "proportion"], 1 - q, rtol=1e-8)
        cov = res.covariance["y"]  # order: (no, 1..3), (yes, 1..3)
        np.testing.assert_allclose(cov[0, 3], -var[0], rtol=1e-6)  # q_no = 1 - q_yes
        np.testing.assert_allclose(cov[0, 1], 0.0, atol=1e-12)  # classes independent
        assert res.wald.loc["y", "df"] == 2
        assert res.wald.loc["y", "statistic"] == pytest.approx(stat, rel=1e-6)
        assert res.wald.loc["y", "p_value"] == pytest.approx(chi2.sf(stat, 2), rel=1e-6)


def test_limits_are_normal_on_the_logit_scale_and_stay_inside_0_1():
    """Known classes, a rare category (2 of 60): the limits are expit(logit q -/+ 1.96 se /
    (q (1 - q))) with the binomial se, inside 0-1 where q -/+ 1.96 se is not."""
    cls = np.repeat([0, 1, 2], [60, 90, 50])
    y = np.array(["no"] * 200, dtype=object)
    y[[0, 1]] = "yes"
    y[60:105] = "yes"
    y[150:170] = "yes"
    q = np.array([2 / 60, 45 / 90, 20 / 50])
    se = np.sqrt(q * (1 - q) / np.array([60, 90, 50]))
    z = 1.959963984540054
    half = z * se / (q * (1 - q))
    logit = np.log(q / (1 - q))
    expected_lower = 1 / (1 + np.exp(-(logit - half)))
    expected_upper = 1 / (1 + np.exp(-(logit + half)))
    assert q[0] - z * se[0] < 0 < expected_lower[0]  # the symmetric limit would leave 0-1
    for correction in ("ml", "bch", "none"):
        res = distal_categorical.distal_proportions(
            np.eye(3)[cls], pd.DataFrame({"y": y}), np.ones(200), CLASSES, correction=correction
        )
        got = res.proportions.loc[("y", "yes")]
        np.testing.assert_allclose(got["ci_lower"], expected_lower, rtol=1e-6)
        np.testing.assert_allclose(got["ci_upper"], expected_upper, rtol=1e-6)
    # no logit outside 0-1 (BCH can go there) or at a bound: the symmetric limits
    lower, upper = distal_categorical.proportion_limits(
        np.array([-0.01, 0.0, 1.0, 0.3]), np.array([0.02, 0.0, np.nan, np.nan])
    )
    np.testing.assert_allclose(lower, [-0.01 - z * 0.02, 0.0, np.nan, np.nan])
    np.testing.assert_allclose(upper, [-0.01 + z * 0.02, 0.0, np.nan, np.nan])


def test_bch_proportions_equal_bch_means_of_each_categorys_indicator(sample):
    """A category's BCH proportion is the BCH mean of its 0/1 indicator (lca.distal, a
    separate implementation), standard errors included, with weights."""
    post, y, w = fitted_posteriors(sample)
    for assignment in ("modal", "proportional"):
        for correction in ("bch", "none"):
            res = distal_categorical.distal_proportions(
                post, pd.DataFrame({"y": y}), w, CLASSES, correction=correction,
                assignment=assignment,
            )  # fmt: skip
            for cat in ("a", "b", "c"):
                means = distal.distal_means(
                    post, pd.DataFrame({cat: (y == cat).astype(float)}), w, CLASSES,
                    correction=correction, assignment=assignment,
                )  # fmt: skip
                got = res.proportions.loc[("y", cat)]
                np.testing.assert_allclose(got["proportion"], means.means["mean"], rtol=1e-10)
                np.testing.assert_allclose(got["se"], means.means["se"], rtol=1e-10)


def test_ml_is_bch_where_bch_is_inside_and_both_are_stepmixs(sample):
    """With D invertible the ML model of the (assigned, outcome) table is saturated:
    P(t, c) = sum_s D[s, t] P(s) q[c, s] matches the observed table exactly at
    P(s) q[c, s] = (D'^-1 table / N)[s, c], which is the BCH estimate; so where BCH's
    proportions are all inside 0-1, ML equals BCH, and its Hessian standard errors equal
    BCH's sandwich (both are the multinomial variance of the table carried through D^-1).
    StepMix 3 (in the test extras), from its own step 1, gives the same proportions."""
    data, model = sample
    ml = model.distal_proportions(data["y"])
    bch = model.distal_proportions(data["y"], correction="bch")
    assert bch.proportions["proportion"].between(0.05, 0.95).all()
    # to rounding error: EM alone (it stops at a relative change of the log-likelihood of
    # 1e-12) is 2e-5 away; the Newton steps after it close the gap
    np.testing.assert_allclose(ml.proportions, bch.proportions, rtol=1e-9)
    np.testing.assert_allclose(ml.wald["statistic"], bch.wald["statistic"], rtol=1e-9)
    stepmix = pytest.importorskip("stepmix")
    answers = data.filter(like="q").to_numpy()
    codes = pd.Categorical(data["y"]).codes.reshape(-1, 1)
    for correction in ("BCH", "ML"):
        sm = stepmix.StepMix(
            n_components=3, n_steps=3, measurement="bernoulli", structural="categorical",
            correction=correction, assignment="modal", n_init=3, max_iter=5000, abs_tol=1e-12,
            rel_tol=0, random_state=0, progress_bar=0,
        )  # fmt: skip
        sm.fit(answers, codes)
        theirs = sm.get_parameters()["structural"]["pis"]  # (class, category)
        post = sm.predict_proba_class(answers)
        ours = distal_categorical.distal_proportions(
            post, data[["y"]], np.ones(len(data)), CLASSES, correction=correction.lower()
        )
        np.testing.assert_allclose(ours.table().to_numpy().T, theirs, rtol=2e-5)


def _table_loglik(x, full, free, d, table):
    p, q = distal_categorical.params_at(x, full, free, d.shape[0])
    f = np.einsum("s,st,cs->tc", p, d, q)
    return float(np.sum(table * np.log(f)))


def _ml_inputs(post, y, w, assignment):
    share = three_step.assignment_shares(post, assignment)
    d = three_step.classification_errors(post, share, w)
    onehot = (y[:, None] == np.array(["a", "b", "c"])).astype(float)
    return share, d, onehot, share.T @ (w[:, None] * onehot)


def test_ml_is_a_maximum_and_its_hessian_is_the_likelihoods(sample):
    """At the ML estimates the table's score is 0 and no nearby point is higher; the
    analytic Hessian equals second differences of the log-likelihood, and the scores
    first differences, over the free logits (each set's largest value the reference)."""
    rng = np.random.default_rng(3)
    post, y, w = fitted_posteriors(sample)
    share, d, onehot, table = _ml_inputs(post, y, w, "modal")
    q, _, _, (inv, jac, p, free) = distal_categorical.ml_proportions(
        post, share, d, onehot, w, "modal", "hessian"
    )
    full, free2 = distal_categorical.free_logits(p, q)
    np.testing.assert_array_equal(free, free2)
    assert free.size == 2 + 3 * 2  # K - 1 sizes, (C - 1) K proportions: none on the boundary
    x = full[free]
    # EM alone leaves a score of about 1e-4 here; its Newton steps take it to rounding error
    assert np.max(np.abs(distal_categorical.table_score(p, q, d, table, free))) < 1e-10 * len(y)
    assert q.min() > 0.05  # an interior maximum
    em_only = three_step.ml_distal_shares(post, onehot, w, d=d, polish=False)
    p_em = w @ em_only / w.sum()
    q_em = (onehot.T @ (w[:, None] * em_only)) / (w @ em_only)
    em_score = distal_categorical.table_score(p_em, q_em, d, table, free)
    assert np.max(np.abs(em_score)) > 1e3 * np.max(np.abs(
        distal_categorical.table_score(p, q, d, table, free)
    ))  # fmt: skip
    assert distal_categorical.table_loglik(p, q, d, table) >= distal_categorical.table_loglik(
        p_em, q_em, d, table
    )

    def ll(t):
        return _table_loglik(t, full, free, d, table)

    best = ll(x)
    for _ in range(20):
        assert ll(x + 1e-3 * rng.standard_normal(x.size)) < best
    h = 1e-4
    eye = np.eye(x.size)
    second = np.array([
        [
            (ll(x + h * a + h * b) - ll(x + h * a - h * b)
             - ll(x - h * a + h * b) + ll(x - h * a - h * b)) / (4 * h * h)
            for b in eye
        ]
        for a in eye
    ])  # fmt: skip
    hess = distal_categorical.cell_hessian(p, q, d, table)[np.ix_(free, free)]
    np.testing.assert_allclose(hess, second, rtol=1e-4, atol=1e-4 * np.max(np.abs(hess)))
    np.testing.assert_allclose(-np.linalg.inv(hess), inv, rtol=1e-10)
    # scores away from the maximum, against first differences
    moved = x + 0.3 * rng.standard_normal(x.size)
    pm, qm = distal_categorical.params_at(moved, full, free, 3)
    first = [(ll(moved + h * e) - ll(moved - h * e)) / (2 * h) for e in eye]
    score = distal_categorical.table_score(pm, qm, d, table, free)
    np.testing.assert_allclose(score, first, rtol=1e-6)
    # the delta method's Jacobian against differences of the proportions
    at = distal_categorical.params_at
    num = np.column_stack(
        [(at(x + h * e, full, free, 3)[1] - at(x - h * e, full, free, 3)[1]).ravel() for e in eye]
    ) / (2 * h)
    np.testing.assert_allclose(jac, num, rtol=1e-6, atol=1e-9)


def test_ml_robust_meat_is_each_rows_score(sample):
    """Proportional assignment: the sandwich's per-row scores are the first differences of
    each row's pseudo-log-likelihood sum_t a_it log f(t, c_i)."""
    post, y, w = fitted_posteriors(sample, n=300)
    share, d, onehot, _ = _ml_inputs(post, y, w, "proportional")
    q, cov, _, (inv, jac, p, free) = distal_categorical.ml_proportions(
        post, share, d, onehot, w, "proportional", "robust"
    )
    full, _ = distal_categorical.free_logits(p, q)

    def row_ll(x, i):
        pp, qq = distal_categorical.params_at(x, full, free, 3)
        f = np.einsum("s,st,cs->tc", pp, d, qq)
        return float(post[i] @ np.log(f[:, np.argmax(onehot[i])]))

    h = 1e-5
    x = full[free]
    eye = np.eye(x.size)
    rows = np.array(
        [[row_ll(x + h * e, i) - row_ll(x - h * e, i) for e in eye] for i in range(len(y))]
    ) / (2 * h)
    meat = rows.T @ (w[:, None] * rows)
    np.testing.assert_allclose(cov, jac @ inv @ meat @ inv @ jac.T, rtol=1e-5)


def test_an_ml_proportion_at_zero_is_held_there_and_the_others_keep_their_errors():
    """Known classes (D = I) and a category class 1 does not have: its ML proportion is
    0, held there without a standard error; the other proportions keep the multinomial
    variances of their classes, and the Wald test its (K-1)(C-1) df."""
    rng = np.random.default_rng(8)
    cls = np.repeat([0, 1, 2], [60, 90, 50])
    y = np.array(["a", "b", "c"])[rng.choice(3, size=200)]
    y[(cls == 0) & (y == "c")] = "a"
    post = np.eye(3)[cls]
    with pytest.warns(UserWarning, match=r"1 ML proportion\(s\).*'c' in class 1"):
        res = distal_categorical.distal_proportions(
            post, pd.DataFrame({"y": y}), np.ones(200), CLASSES
        )
    got = res.table().loc["y"]
    for s, n in enumerate([60, 90, 50]):
        q = np.array([np.mean(y[cls == s] == c) for c in "abc"])
        np.testing.assert_allclose(got[s + 1], q, rtol=1e-10)
        se = res.proportions.loc["y"].xs(s + 1, level="class")["se"].to_numpy()
        expected = np.sqrt(q * (1 - q) / n)
        if s == 0:
            assert np.isnan(se[2]) and q[2] == 0 and got.loc["c", 1] == 0.0  # exactly
            np.testing.assert_allclose(se[:2], expected[:2], rtol=1e-9)
        else:
            np.testing.assert_allclose(se, expected, rtol=1e-9)
    assert res.wald.loc["y", "df"] == 4 and np.isfinite(res.wald.loc["y", "statistic"])


def test_ml_equals_the_ml_crosstab_and_corrections_recover_the_truth(sample):
    """The ML proportions are crosstab(kind='ml')'s; over samples, ML and BCH estimates
    centre on the true proportions and their standard errors match their spread, where
    the uncorrected proportions are pulled towards the overall distribution."""
    data, model = sample
    res = model.distal_proportions(data["y"])
    table = model.crosstab(data["y"], kind="ml")
    np.testing.assert_allclose(
        res.table().loc["y"].to_numpy(), table.loc[["a", "b", "c"], [1, 2, 3]] / 100, rtol=1e-10
    )
    rng = np.random.default_rng(5)
    est = {c: [] for c in ("ml", "bch", "none")}
    ses = {c: [] for c in ("ml", "bch", "none")}
    for rep in range(30):
        data, cls = simulate(rng, 800)
        model, order = matched_fit(data, cls, seed=rep)
        for c in est:
            with warnings.catch_warnings():  # an ML proportion at 0 in a rare sample: NaN SEs
                warnings.simplefilter("ignore", UserWarning)
                r = model.distal_proportions(data["y"], correction=c)
            est[c].append(r.table().loc["y"].to_numpy()[:, order].T)
            ses[c].append(r.proportions["se"].unstack("class").loc["y"].to_numpy()[:, order].T)
    for c in est:
        values = np.array(est[c])  # (rep, class, category)
        bias = values.mean(axis=0) - TRUE_Q
        spread = values.std(axis=0, ddof=1)
        if c == "none":
            assert np.max(np.abs(bias)) > 0.03, bias
            continue
        # 30 samples: the mean is within 4 standard errors of the mean (0.02-0.04 here)
        assert np.all(np.abs(bias) < 4 * spread / np.sqrt(30) + 1e-3), (c, bias)
        se = np.array(ses[c])
        assert np.sum(np.isnan(se).any(axis=(1, 2))) <= 2  # at 0 in at most 2 samples of 30
        ratio = np.nanmean(se, axis=0) / spread
        assert 0.75 < ratio.mean() < 1.3, (c, ratio)


def test_step1_covariance_equals_cov3_plus_refitted_jacobian(sample):
    """The step-1 term of ML and BCH against J from recomputing the proportions with step 1
    moved coordinate by coordinate (ML refitted by EM on the table to 1e-15)."""
    data, model = sample
    post_at, cov1 = model._step1_from(
        True, None, None, "error", (model._patterns, model._fit_inverse)
    )
    y = data["y"].to_numpy()
    onehot = (y[:, None] == np.array(["a", "b", "c"])).astype(float)
    w = np.ones(len(y))
    share = three_step.assignment_shares(post_at(np.zeros(cov1.shape[0])), "modal")
    for correction in ("ml", "bch"):

        def props(p, correction=correction):
            d = three_step.classification_errors(p, share, w)
            if correction == "bch":
                a = share @ np.linalg.inv(d)
            else:
                a = three_step.ml_distal_shares(p, onehot, w, tol=1e-15, d=d)
            return ((onehot.T @ a) / a.sum(axis=0)).ravel()

        h = 1e-4 if correction == "ml" else 1e-6
        steps = h * np.eye(cov1.shape[0])
        jac = np.column_stack([props(post_at(e)) - props(post_at(-e)) for e in steps]) / (2 * h)
        plain = model.distal_proportions(data["y"], correction=correction)
        full = model.distal_proportions(data["y"], correction=correction, step1_uncertainty=True)
        expected = plain.covariance["y"] + jac @ cov1 @ jac.T
        rtol = 5e-3 if correction == "ml" else 1e-6
        scale = np.max(np.diag(expected))
        np.testing.assert_allclose(full.covariance["y"], expected, rtol=rtol, atol=rtol * scale)


# -- the method, its inputs and its errors -----------------------------------------------------


def test_outcomes_by_name_aligned_by_index_and_missing_left_out(sample):
    data, model = sample
    shuffled = data["y"].sample(frac=1.0, random_state=0)
    a = model.distal_proportions(shuffled, correction="bch")
    b = model.distal_proportions(data[["y"]], correction="bch")
    pd.testing.assert_frame_equal(a.proportions, b.proportions)
    both = data[["q0", "q1", "q2", "q3", "q4", "q5"]].assign(
        y=data["y"], z=data["q0"].map({0: "n", 1: "y"})
    )
    c = model.distal_proportions(["y", "z"], data=both, correction="bch")
    assert list(c.wald.index) == ["y", "z"] and c.wald.loc["z", "df"] == 2
    pd.testing.assert_frame_equal(c.proportions.loc[["y"]], b.proportions)
    with_missing = data["y"].where(np.arange(len(data)) % 10 != 0)
    with pytest.raises(DataError, match=r"'y' is missing in 120 row\(s\), the first at row 0"):
        model.distal_proportions(with_missing)
    left = model.distal_proportions(with_missing, missing="omit", correction="bch")
    assert left.n_missing["y"] == 120 and left.n_obs["y"] == 1080
    # the classification errors stay those of every row
    pd.testing.assert_frame_equal(left.classification_errors, b.classification_errors)
    kept = data["y"].iloc[np.arange(len(data)) % 10 != 0]
    bch = three_step.bch_shares(
        model.predict_proba(data.filter(like="q")).to_numpy(), np.ones(1200)
    )
    keep = np.arange(1200) % 10 != 0
    expected = (kept.to_numpy()[:, None] == "a").T.astype(float) @ bch[keep] / bch[keep].sum(axis=0)
    np.testing.assert_allclose(left.table().loc[("y", "a")], expected.ravel(), rtol=1e-10)
    text = str(left)
    assert "120 missing left out" in text and "Wald tests of equal distributions" in text


def test_a_categorical_keeps_its_order_and_unused_categories_are_left_out(sample):
    data, model = sample
    cat = pd.Categorical(data["y"], categories=["c", "unused", "a", "b"], ordered=True)
    res = model.distal_proportions(pd.Series(cat, index=data.index, name="y"), correction="bch")
    assert list(res.table().loc["y"].index) == ["c", "a", "b"]


def test_whole_float_codes_are_labelled_as_integers(sample):
    """Codes 1, 2, 3 read as floats (a blank makes the column float) are labelled 1, 2,
    3 as indicators are, in distal_proportions and crosstab, with the same estimates."""
    data, model = sample
    codes = data["y"].map({"a": 1, "b": 2, "c": 3})
    floats = codes.astype(float).mask(data.index == data.index[5])
    as_int = model.distal_proportions(
        codes.astype("Int64").mask(data.index == data.index[5]), missing="omit"
    )
    as_float = model.distal_proportions(floats, missing="omit")
    labels = list(as_float.table().loc["y"].index)
    assert labels == [1, 2, 3] and all(type(v) is int for v in labels)
    pd.testing.assert_frame_equal(as_float.proportions, as_int.proportions)
    assert model.crosstab(floats).index[:3].tolist() == [1, 2, 3]


def test_bad_outcomes_and_options_get_clear_errors(sample):
    data, model = sample
    with pytest.raises(DataError, match="'y' has 1 category with positive weight"):
        model.distal_proportions(pd.Series("a", index=data.index, name="y"))
    with pytest.raises(ValueError, match="correction must be one of"):
        model.distal_proportions(data["y"], correction="bhc")
    with pytest.raises(ValueError, match="sandwich"):
        model.distal_proportions(data["y"], correction="bch", se_method="hessian")
    with pytest.raises(DataError, match="but the data have 1200"):
        model.distal_proportions(data["y"].iloc[:10])
    with pytest.raises(DataError, match=r"weights='w' is a name.*weights=df\['w'\]"):
        model.crosstab(data["y"], weights="w")
    age = pd.Series(np.arange(1200) % 80 + 18, index=data.index, name="age")
    with pytest.raises(DataError, match=r"'age' has 80 distinct numbers.*distal_means"):
        model.distal_proportions(age)
    # what counts is the values there, and numbers only: a Categorical of 60 declared
    # categories of which 3 are used, and 60 text categories, are tables as before
    declared = pd.Categorical(data["y"], categories=[*"abc", *(f"x{i}" for i in range(57))])
    res = model.distal_proportions(pd.Series(declared, index=data.index, name="y"))
    assert list(res.table().loc["y"].index) == ["a", "b", "c"]
    many = pd.Series([f"c{i % 60}" for i in range(1200)], index=data.index, name="many")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero cells among 60 categories
        assert model.distal_proportions(many, correction="bch").wald.loc["many", "df"] == 118


def test_a_proportion_at_zero_is_exactly_zero_in_the_ml_crosstab_too():
    """Three well-separated classes, category "c" absent from one of them: the ML
    proportion there is on the boundary, reported as exactly 0 by distal_proportions
    and crosstab(kind="ml") alike (EM leaves 1e-9 to 1e-300), the rest equal."""
    rng = np.random.default_rng(1)
    cls = rng.integers(0, 3, 600)
    prof = np.array([[0.95] * 8, [0.05] * 8, [0.95] * 4 + [0.05] * 4])
    answers = (rng.random((600, 8)) < prof[cls]).astype(int)
    data = pd.DataFrame(answers, columns=[f"q{j}" for j in range(8)])
    y = pd.Series(np.array(list("abc"))[rng.integers(0, 3, 600)], name="y")
    y[(cls == 0) & (y == "c")] = "a"
    model = lca.LatentClassModel(3, random_state=0).fit(data)
    with pytest.warns(UserWarning, match="held at 0"):
        res = model.distal_proportions(y)
    tab = model.crosstab(y, kind="ml").loc[["a", "b", "c"], [1, 2, 3]]
    zero = res.table().loc["y"].to_numpy() == 0.0
    assert zero.sum() == 1 and (tab.to_numpy() == 0.0).sum() == 1
    np.testing.assert_allclose(tab.to_numpy() / 100, res.table().loc["y"].to_numpy(), rtol=1e-9)


def test_wald_test_with_proportions_held_at_zero():
    """Known classes. Classes 1 and 2 all answer "a": their contrasts are 0 with no
    variance, and the test is the generalised Wald test of class 3 against them, 2 df,
    computed by hand from class 3's multinomial covariance. If class 2 all answer "b"
    instead, classes 1 and 2 differ for certain: the test is NaN, with a warning."""
    rng = np.random.default_rng(10)
    cls = np.repeat([0, 1, 2], [40, 50, 80])
    y = np.where(cls < 2, "a", np.array(["a", "b", "c"])[rng.choice(3, size=170)])
    post = np.eye(3)[cls]
    q3 = np.array([np.mean(y[cls == 2] == c) for c in "abc"])
    cov3 = (np.diag(q3) - np.outer(q3, q3)) / 80
    diff = q3[:2] - np.array([1.0, 0.0])
    stat = float(diff @ np.linalg.solve(cov3[:2, :2], diff))
    with pytest.warns(UserWarning, match="held at 0"):
        res = distal_categorical.distal_proportions(
            post, pd.DataFrame({"y": y}), np.ones(170), CLASSES
        )
    assert res.wald.loc["y", "df"] == 2
    assert res.wald.loc["y", "statistic"] == pytest.approx(stat, rel=1e-5)
    assert res.wald.loc["y", "p_value"] == pytest.approx(chi2.sf(stat, 2), rel=1e-4)
    y[cls == 1] = "b"
    with pytest.warns(UserWarning) as record:
        res = distal_categorical.distal_proportions(
            post, pd.DataFrame({"y": y}), np.ones(170), CLASSES
        )
    messages = [str(r.message) for r in record]
    assert any("held at 0" in m for m in messages)
    assert any("differ for certain" in m for m in messages)
    assert np.isnan(res.wald.loc["y", "statistic"])
