"""Design-based standard errors (strata, clusters, sampling weights).

Checked against finite differences with the textbook linearization formula
computed by loops (``tests/naive.py``), against the robust sandwich in the
case where the two must agree, and against the spread of estimates over
simulated complex samples with known truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lca
from lca.encoding import encode

from . import naive


def reference(model, data, weights, strata, psu, population=None):
    """Finite-difference design-based standard errors (tests/naive.py)."""
    return naive.model_standard_errors(
        model, encode(data, model.indicators_), weights, "design", strata=np.asarray(strata),
        psu=None if psu is None else np.asarray(psu), population=population,
    )  # fmt: skip


@pytest.fixture(scope="module")
def complex_sample():
    """Missing answers, unequal weights (some zero, one PSU all zero), an ordinal
    indicator, Bayes constants; 4 strata of 6-9 clusters."""
    truth = {
        "q1": [[0.8, 0.2], [0.2, 0.8]],
        "q2": [[0.6, 0.1], [0.3, 0.3], [0.1, 0.6]],
        "q3": [[0.7, 0.25], [0.3, 0.75]],
        "o4": [[0.5, 0.1], [0.3, 0.2], [0.15, 0.3], [0.05, 0.4]],
    }
    df, _ = lca.simulate([0.6, 0.4], truth, n=360, random_state=11, missing=0.15)
    df["o4"] = df["o4"].cat.as_ordered()
    rng = np.random.default_rng(12)
    df["stratum"] = np.array(["north", "south", "east", "west"])[rng.integers(0, 4, len(df))]
    # cluster labels 1..n_h, reused in every stratum (PSUs nested in strata)
    df["psu"] = rng.integers(1, 7 + np.arange(len(df)) % 3, len(df))
    df["w"] = rng.uniform(0.2, 3.0, len(df))
    df.loc[df.index[:5], "w"] = 0.0
    df.loc[(df["stratum"] == "east") & (df["psu"] == 1), "w"] = 0.0
    model = lca.LatentClassModel(2, ordinal="o4", n_starts=6, tol=1e-14, max_iter=20000,
                                 random_state=0)  # fmt: skip
    model.fit(df[list(truth)], weights=df["w"].to_numpy())
    return model, df, list(truth)


def codes_of(column):
    return pd.factorize(column)[0]


def test_strata_and_clusters_match_the_textbook_formula(complex_sample):
    model, df, items = complex_sample
    se = model.standard_errors("design", data=df, weights="w", strata="stratum", clusters="psu")
    strata = codes_of(df["stratum"])
    psu = codes_of(df["stratum"] + "/" + df["psu"].astype(str))
    ref_sizes, ref_cells = reference(model, df[items], df["w"], strata, psu)
    np.testing.assert_allclose(se.class_sizes.to_numpy(), ref_sizes, rtol=1e-4)
    np.testing.assert_allclose(se.profile.to_numpy(), ref_cells, rtol=1e-4, atol=1e-9)
    assert se.method == "design"
    n_psu = df.groupby("stratum")["psu"].nunique()
    assert se.design_df == int(n_psu.sum()) - 4
    # a PSU whose respondents all have weight 0 still counts: dropping it changes G
    kept = df[df["w"] > 0]
    fewer = model.standard_errors(
        "design", data=kept, weights="w", strata="stratum", clusters="psu"
    )
    assert fewer.design_df == se.design_df - 1
    assert np.nanmax(np.abs(fewer.profile.to_numpy() / se.profile.to_numpy() - 1)) > 1e-4


@pytest.mark.parametrize("with_strata", [False, True])
def test_every_respondent_a_psu_matches_the_textbook_formula(complex_sample, with_strata):
    model, df, items = complex_sample
    strata = df["stratum"] if with_strata else None
    se = model.standard_errors("design", data=df, weights="w", strata=strata)
    codes = codes_of(df["stratum"]) if with_strata else np.zeros(len(df), dtype=int)
    ref_sizes, ref_cells = reference(model, df[items], df["w"], codes, None)
    np.testing.assert_allclose(se.class_sizes.to_numpy(), ref_sizes, rtol=1e-4)
    np.testing.assert_allclose(se.profile.to_numpy(), ref_cells, rtol=1e-4, atol=1e-9)
    # and the same as naming each row its own cluster
    each = model.standard_errors(
        "design", data=df, weights="w", strata=strata, clusters=np.arange(len(df))
    )
    np.testing.assert_allclose(each.profile.to_numpy(), se.profile.to_numpy(), rtol=1e-10)


def test_unique_or_nested_cluster_labels_give_the_same(complex_sample):
    model, df, _ = complex_sample
    nested = model.standard_errors("design", data=df, weights="w", strata="stratum",
                                   clusters="psu")  # fmt: skip
    unique = df["stratum"] + "-" + df["psu"].astype(str)
    flat = model.standard_errors("design", data=df, weights="w", strata="stratum",
                                 clusters=unique.to_numpy())  # fmt: skip
    np.testing.assert_allclose(flat.profile.to_numpy(), nested.profile.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        flat.class_sizes.to_numpy(), nested.class_sizes.to_numpy(), rtol=1e-12
    )


def test_one_stratum_of_single_respondents_is_the_robust_sandwich():
    """Unit weights, no prior: the middle is n / (n - 1) times the robust one's."""
    df = lca.datasets.load_election().iloc[:, :8]
    model = lca.LatentClassModel(3, bayes_constant=0, n_starts=5, random_state=0).fit(df)
    n = len(df)
    robust = model.standard_errors("robust")
    design = model.standard_errors("design", data=df)
    factor = np.sqrt(n / (n - 1))
    np.testing.assert_allclose(design.profile.to_numpy(), factor * robust.profile.to_numpy(),
                               rtol=1e-9)  # fmt: skip
    np.testing.assert_allclose(
        design.class_sizes.to_numpy(), factor * robust.class_sizes.to_numpy(), rtol=1e-9
    )
    tests = model.indicator_tests("design", data=df)
    ref = model.indicator_tests("robust")
    np.testing.assert_allclose(tests["wald"], ref["wald"] * (n - 1) / n, rtol=1e-8)
    assert design.design_df == n - 1


def test_the_scale_of_the_weights_does_not_matter(complex_sample):
    model, df, items = complex_sample
    scaled = lca.LatentClassModel(**model.get_params())
    scaled.set_params(bayes_constant=0, class_bayes_constant=0)
    base = lca.LatentClassModel(**scaled.get_params())
    base.fit(df[items], weights=df["w"].to_numpy())
    scaled.fit(df[items], weights=7.3 * df["w"].to_numpy())
    args = dict(data=df.assign(w7=7.3 * df["w"]), strata="stratum", clusters="psu")
    a = base.standard_errors("design", weights="w", **args)
    b = scaled.standard_errors("design", weights="w7", **args)
    np.testing.assert_allclose(b.profile.to_numpy(), a.profile.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.class_sizes.to_numpy(), a.class_sizes.to_numpy(), rtol=1e-6)


ITEMS = [f"q{j}" for j in range(5)]


def _two_classes(rng, first):
    """Five binary answers, P(1) 0.85 in the first class and 0.15 in the other;
    ``first`` says who is in the first class."""
    p = np.where(first[:, None], 0.85, 0.15)
    return pd.DataFrame((rng.random((first.size, 5)) < p).astype(int), columns=ITEMS)


def _first_class_size(model, ses):
    k = int(np.argmax(model.profile().loc[("q0", 1)].to_numpy()[:2]))
    return model.class_sizes_.iloc[k], [se.class_sizes.iloc[k] for se in ses]


def test_clustered_sample_standard_errors_match_the_spread_of_estimates():
    """60 clusters of 15, in which the first class's share is 0.15 or 0.85: the
    design-based standard error of its size is the spread over 200 samples (the
    model-based one is far too small)."""
    est, hessian, design = [], [], []
    for r in range(200):
        rng = np.random.default_rng(100 + r)
        share = rng.choice([0.15, 0.85], size=60)
        first = (rng.random((60, 15)) < share[:, None]).ravel()
        df = _two_classes(rng, first)
        model = lca.LatentClassModel(2, n_starts=3, bayes_constant=0, random_state=0).fit(df)
        ses = [
            model.standard_errors(),
            model.standard_errors("design", data=df, clusters=np.repeat(np.arange(60), 15)),
        ]
        size, (h, d) = _first_class_size(model, ses)
        est.append(size), hessian.append(h), design.append(d)
    spread = np.std(est, ddof=1)
    assert 0.85 < np.mean(design) / spread < 1.15
    assert np.mean(hessian) / spread < 0.5


def test_stratified_sample_standard_errors_match_the_spread_of_estimates():
    """Two strata of 450 whose first-class shares are 0.9 and 0.1: stratification
    makes the class size more precise than a simple random sample, and only the
    standard error with the strata says so."""
    est, with_strata, without = [], [], []
    strata = np.repeat(["a", "b"], 450)
    for r in range(200):
        rng = np.random.default_rng(500 + r)
        first = rng.random(900) < np.where(strata == "a", 0.9, 0.1)
        df = _two_classes(rng, first)
        model = lca.LatentClassModel(2, n_starts=3, bayes_constant=0, random_state=0).fit(df)
        ses = [
            model.standard_errors("design", data=df, strata=strata),
            model.standard_errors("design", data=df),
        ]
        size, (s, n) = _first_class_size(model, ses)
        est.append(size), with_strata.append(s), without.append(n)
    spread = np.std(est, ddof=1)
    assert 0.85 < np.mean(with_strata) / spread < 1.15
    assert np.mean(without) / spread > 1.3


def test_bad_designs_are_refused_with_the_fix(complex_sample):
    model, df, _ = complex_sample
    with pytest.raises(ValueError, match="use method='design'"):
        model.standard_errors("robust", data=df, weights="w", clusters="psu")
    with pytest.raises(ValueError, match="use method='design'"):
        model.indicator_tests(strata=df["stratum"])
    with pytest.raises(ValueError, match="reads the rows again"):
        model.standard_errors("design", clusters="psu")
    with pytest.raises(lca.DataError, match="'region' names no column"):
        model.standard_errors("design", data=df, weights="w", strata="region")
    with pytest.raises(lca.DataError, match="one value per row"):
        model.standard_errors("design", data=df, weights="w", clusters=[1, 2, 3])
    # a Series of the same respondents in another order is realigned; other labels are not
    shuffled = df["psu"].sample(frac=1.0, random_state=0)
    np.testing.assert_array_equal(
        model.standard_errors("design", data=df, weights="w", clusters=shuffled).profile,
        model.standard_errors("design", data=df, weights="w", clusters="psu").profile,
    )
    relabelled = df["psu"].set_axis(df.index + 1000)
    with pytest.raises(lca.DataError, match="not aligned with the data's index"):
        model.standard_errors("design", data=df, weights="w", clusters=relabelled)
    with pytest.raises(lca.DataError, match="clusters='w' is the weights column"):
        model.standard_errors("design", data=df, weights="w", clusters="w")
    holey = df.assign(psu=df["psu"].where(df.index != df.index[7]))
    missing = rf"cluster \(column 'psu'\) is missing at row {df.index[7]}"
    with pytest.raises(lca.DataError, match=missing):
        model.standard_errors("design", data=holey, weights="w", clusters="psu")
    lonely = df.assign(stratum=df["stratum"].where(df.index != df.index[3], "island"))
    with pytest.raises(lca.DataError, match=r"stratum 'island' has a single respondent.*Merge"):
        model.standard_errors("design", data=lonely, weights="w", strata="stratum")
    one_psu = df.assign(psu=np.where(df["stratum"] == "west", 1, df["psu"]))
    with pytest.raises(lca.DataError, match="stratum 'west' has a single cluster"):
        model.standard_errors("design", data=one_psu, weights="w", strata="stratum",
                              clusters="psu")  # fmt: skip


# -- the three-step methods --------------------------------------------------------------


def test_bch_distal_means_match_the_textbook_formula(complex_sample):
    """BCH class means with strata, clusters, weights (some 0) and missing outcomes: the
    influence of each row, a*_is (y_i - mu_s) / base_s, by hand, through the loops."""
    model, df, items = complex_sample
    rng = np.random.default_rng(13)
    y = rng.normal(size=len(df)) + df["q1"].astype(float).to_numpy()
    y[rng.random(len(df)) < 0.1] = np.nan
    data = df.assign(y=y)
    got = model.distal_means("y", data=data, weights="w", correction="bch", missing="omit",
                             se_method="design", strata="stratum", clusters="psu")  # fmt: skip
    w = df["w"].to_numpy()
    post = model.predict_proba(df[items]).to_numpy()
    assigned = np.eye(2)[post.argmax(axis=1)]
    d = (post * w[:, None]).T @ assigned / (post * w[:, None]).sum(axis=0)[:, None]
    bch = assigned @ np.linalg.inv(d)
    keep = ~np.isnan(y)
    wa = np.where(keep, w, 0.0)[:, None] * bch
    base = wa.sum(axis=0)
    mean = np.nan_to_num(y) @ wa / base
    influence = np.where(keep[:, None], bch * (np.nan_to_num(y)[:, None] - mean) / base, 0.0)
    strata = codes_of(df["stratum"])
    psu = codes_of(df["stratum"] + "/" + df["psu"].astype(str))
    cov = naive.design_middle(influence, w, strata, psu)
    np.testing.assert_allclose(got.means["mean"].to_numpy(), mean, rtol=1e-10)
    np.testing.assert_allclose(got.means["se"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-10)
    assert got.se_method == "design"


@pytest.fixture(scope="module")
def unit_weight_model():
    df = lca.datasets.load_election().iloc[:, :6].dropna()
    model = lca.LatentClassModel(2, bayes_constant=0, n_starts=4, random_state=0).fit(df)
    rng = np.random.default_rng(3)
    first = model.predict(df).to_numpy() == 1
    df = df.assign(
        x=rng.normal(size=len(df)) + first,
        y=rng.normal(size=len(df)) + first,
        c=np.where(rng.random(len(df)) < np.where(first, 0.7, 0.4), "yes", "no"),
    )
    return model, df


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("covariate_effects", {"correction": "ml"}),
        ("covariate_effects", {"correction": "bch"}),
        ("distal_means", {"correction": "bch"}),
        ("distal_means", {"correction": "ml"}),
        ("distal_proportions", {"correction": "ml"}),
        ("distal_proportions", {"correction": "none"}),
    ],
)
def test_three_step_with_one_respondent_per_psu_is_the_robust_sandwich(
    unit_weight_model, method, kwargs
):
    """Unit weights, one stratum, every respondent a PSU: n / (n - 1) times the robust
    variance (the estimating equations sum to 0 at the estimates)."""
    model, df = unit_weight_model
    outcome = {"covariate_effects": "x", "distal_means": "y", "distal_proportions": "c"}[method]
    call = getattr(model, method)
    robust = call(outcome, data=df, se_method="robust", **kwargs)
    design = call(outcome, data=df, se_method="design", **kwargs)
    each = call(outcome, data=df, se_method="design", clusters=np.arange(len(df)), **kwargs)
    table = {"covariate_effects": "coefficients", "distal_means": "means",
             "distal_proportions": "proportions"}[method]  # fmt: skip
    a, b, c = (getattr(r, table)["se"].to_numpy() for r in (robust, design, each))
    n = len(df)
    np.testing.assert_allclose(b, np.sqrt(n / (n - 1)) * a, rtol=1e-6)
    np.testing.assert_allclose(c, b, rtol=1e-10)
    assert design.se_method == "design"


def _clustered_covariate_sample(rng, n_clusters=80, size=12):
    """Clusters share a covariate level and a random effect on class membership, and a
    random effect on a distal outcome."""
    n = n_clusters * size
    x = np.repeat(rng.normal(size=n_clusters), size) + 0.5 * rng.normal(size=n)
    u = np.repeat(rng.normal(size=n_clusters), size)
    first = rng.random(n) < 1 / (1 + np.exp(-(0.8 * x + u)))
    df = _two_classes(rng, first)
    df["x"] = x
    df["y"] = 1.0 * first + np.repeat(rng.normal(size=n_clusters), size) + rng.normal(size=n)
    df["psu"] = np.repeat(np.arange(n_clusters), size)
    return df


def test_three_step_design_standard_errors_match_the_spread_of_estimates():
    """200 samples of 80 clusters: the design-based standard errors of a covariate's
    slope (ML) and of a class's distal mean (BCH) are the spread of the estimates; the
    robust ones, for independent respondents, are well below it."""
    slope, mean = {"est": [], "robust": [], "design": []}, {"est": [], "robust": [], "design": []}
    for r in range(200):
        df = _clustered_covariate_sample(np.random.default_rng(2000 + r))
        model = lca.LatentClassModel(2, n_starts=3, random_state=0).fit(df[ITEMS])
        k = int(np.argmax(model.profile().loc[("q0", 1)].to_numpy()[:2]))
        for name in ("robust", "design"):
            kw = {"clusters": "psu"} if name == "design" else {}
            ce = model.covariate_effects("x", data=df, reference=2 - k, se_method=name, **kw)
            row = ce.coefficients.xs("x", level="term").iloc[0]
            dm = model.distal_means("y", data=df, se_method=name, **kw).means.iloc[k]
            slope[name].append(row["se"]), mean[name].append(dm["se"])
        slope["est"].append(row["coef"]), mean["est"].append(dm["mean"])
    for result, robust_below in ((slope, 0.8), (mean, 0.7)):
        spread = np.std(result["est"], ddof=1)
        assert 0.85 < np.mean(result["design"]) / spread < 1.15
        assert np.mean(result["robust"]) / spread < robust_below


def test_three_step_design_refusals(unit_weight_model):
    model, df = unit_weight_model
    with pytest.raises(ValueError, match="use se_method='design'"):
        model.covariate_effects("x", data=df, clusters=np.arange(len(df)))
    with pytest.raises(ValueError, match="use se_method='design'"):
        model.distal_means("y", data=df, se_method="robust", strata=np.zeros(len(df)))
    with pytest.raises(ValueError, match="need data="):
        model.distal_proportions(df["c"], se_method="design", clusters="psu")
    with pytest.raises(ValueError, match="step1_uncertainty with se_method='design'"):
        model.covariate_effects(
            df[["x"]], se_method="design", clusters=np.arange(len(df)), step1_uncertainty=True
        )


def test_step1_uncertainty_takes_the_design_based_step1_covariance():
    """With step 1's error added, the design-based standard error of a distal mean is at
    least the one without it, and matches the spread over clustered samples."""
    est, plain, with_step1 = [], [], []
    for r in range(60):
        df = _clustered_covariate_sample(np.random.default_rng(4000 + r))
        model = lca.LatentClassModel(2, n_starts=3, random_state=0).fit(df[ITEMS])
        k = int(np.argmax(model.profile().loc[("q0", 1)].to_numpy()[:2]))
        design = dict(data=df, se_method="design", clusters="psu")
        a, b = (
            model.distal_means("y", step1_uncertainty=s, **design).means.iloc[k]
            for s in (False, True)
        )
        assert b["se"] >= a["se"] * (1 - 1e-9)
        est.append(a["mean"]), plain.append(a["se"]), with_step1.append(b["se"])
    spread = np.std(est, ddof=1)
    assert 0.75 < np.mean(with_step1) / spread < 1.25


def test_step1_covariance_is_the_design_based_one(monkeypatch):
    from lca import standard_errors as se

    df = _clustered_covariate_sample(np.random.default_rng(7))
    model = lca.LatentClassModel(2, n_starts=3, random_state=0).fit(df[ITEMS])
    captured = []
    original = lca.LatentClassModel._step1

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        captured.append(out[1])
        return out

    monkeypatch.setattr(lca.LatentClassModel, "_step1", spy)
    model.covariate_effects("x", data=df, se_method="design", clusters="psu",
                            step1_uncertainty=True)  # fmt: skip
    args, unit, rows = model._se_inputs(df, None, "error", "design", None, "psu")
    _, expected, _ = se.parameter_covariance(*args, method="design", unit=unit, rows=rows)
    np.testing.assert_allclose(captured[0], expected, rtol=1e-12)
    _, hessian, _ = se.parameter_covariance(*args, method="hessian", unit=unit)
    assert np.max(np.abs(np.diag(expected) / np.diag(hessian) - 1)) > 0.1


# -- the one-step latent class regression --------------------------------------------------


def test_regression_with_one_respondent_per_psu_is_the_robust_sandwich(unit_weight_model):
    _, df = unit_weight_model
    items = list(df.columns[:6])
    fits = {
        method: lca.LatentClassRegression(
            2, se_method=method, bayes_constant=0, n_starts=2, random_state=0
        ).fit(df[[*items, "x"]], "x")
        for method in ("robust", "design")
    }
    n = len(df)
    factor = np.sqrt(n / (n - 1))
    robust, design = fits["robust"], fits["design"]
    np.testing.assert_allclose(design.coefficients_["coef"], robust.coefficients_["coef"])
    np.testing.assert_allclose(
        design.coefficients_["se"], factor * robust.coefficients_["se"], rtol=1e-6
    )
    np.testing.assert_allclose(
        design.standard_errors().class_sizes, factor * robust.standard_errors().class_sizes,
        rtol=1e-6,
    )  # fmt: skip
    again = lca.LatentClassRegression(**design.get_params()).fit(
        df[[*items, "x"]], "x", clusters=np.arange(n)
    )
    np.testing.assert_allclose(again.coefficients_["se"], design.coefficients_["se"], rtol=1e-10)


def test_regression_design_standard_errors_match_the_spread_of_estimates():
    """100 samples of 80 clusters: the design-based standard error of the slope is the
    spread of the estimates, the robust one well below it; the cluster column named in
    clusters= is not an indicator."""
    est, robust, design = [], [], []
    for r in range(100):
        df = _clustered_covariate_sample(np.random.default_rng(6000 + r))
        fits = [
            lca.LatentClassRegression(2, se_method="robust", n_starts=2).fit(
                df[[*ITEMS, "x"]], "x"
            ),
            lca.LatentClassRegression(2, se_method="design", n_starts=2).fit(
                df[[*ITEMS, "x", "psu"]], "x", clusters="psu"
            ),
        ]
        assert [ind.name for ind in fits[1].indicators_] == ITEMS
        k = int(np.argmax(fits[0].profile().loc[("q0", 1)].to_numpy()[:2]))
        rows = [f.coefficients_.xs("x", level="term").iloc[0] for f in fits]
        est.append(rows[0]["coef"] * (1 if k == 1 else -1))
        robust.append(rows[0]["se"]), design.append(rows[1]["se"])
    spread = np.std(est, ddof=1)
    assert 0.8 < np.mean(design) / spread < 1.2
    assert np.mean(robust) / spread < 0.8


def test_regression_design_round_trips_and_refusals(tmp_path):
    df = _clustered_covariate_sample(np.random.default_rng(8)).drop(columns=["y"])
    df["region"] = np.where(df["psu"] < 40, "a", "b")
    model = lca.LatentClassRegression(2, se_method="design", n_starts=2).fit(
        df, "x", strata="region", clusters="psu", weights=None
    )
    assert "region" not in [ind.name for ind in model.indicators_]
    path = tmp_path / "r.json"
    model.save(path)
    loaded = lca.load(path)
    assert loaded.se_method == "design"
    pd.testing.assert_frame_equal(loaded.coefficients_, model.coefficients_)
    pd.testing.assert_frame_equal(loaded.wald_, model.wald_)
    assert model.design_df_ == 80 - 2 == loaded.standard_errors().design_df
    assert model.wald_.loc["x", "f_df2"] == 78 - 1 + 1
    with pytest.raises(ValueError, match="use se_method='design'"):
        lca.LatentClassRegression(2).fit(df, "x", clusters="psu")
    with pytest.raises(lca.DataError, match="'zone' names no column"):
        lca.LatentClassRegression(2, se_method="design").fit(df, "x", strata="zone")
    with pytest.raises(lca.DataError, match="is also a covariate"):
        lca.LatentClassRegression(2, se_method="design").fit(df, "x", clusters="x")
    res = lca.compare_regressions(df, "x", [2], se_method="design",
                                  strata="region", clusters="psu", n_starts=2)  # fmt: skip
    np.testing.assert_allclose(
        res.models[2].coefficients_["se"], model.coefficients_["se"], rtol=1e-10
    )


# -- the adjusted Wald F -----------------------------------------------------------------


def test_adjusted_f_is_the_t_test_for_one_contrast_and_the_chi_square_in_the_limit():
    from scipy import stats

    from lca.survey_design import adjusted_f

    w = np.array([0.3, 4.0, 11.0])
    f, df2, p = adjusted_f(w, np.ones(3), 25)
    np.testing.assert_allclose(f, w)
    np.testing.assert_array_equal(df2, 25.0)
    np.testing.assert_allclose(p, 2 * stats.t.sf(np.sqrt(w), 25), rtol=1e-12)
    f, _, p = adjusted_f(w, np.full(3, 4.0), 10**9)  # q F -> W, chi-square on q df
    np.testing.assert_allclose(4 * f, w, rtol=1e-8)
    np.testing.assert_allclose(p, stats.chi2.sf(w, 4), rtol=1e-6)
    f, df2, p = adjusted_f([5.0, np.inf, 5.0], [3, 3, 3], 30)
    assert f[0] == pytest.approx(28 * 5.0 / (30 * 3)) and df2[0] == 28
    assert np.isinf(f[1]) and p[1] == 0.0
    f, df2, p = adjusted_f([5.0], [3], 2)  # 3 contrasts, 2 degrees of freedom: none left
    assert np.isnan(f[0]) and np.isnan(df2[0]) and np.isnan(p[0])


def test_design_wald_tables_carry_the_adjusted_f(complex_sample, unit_weight_model):
    model, df, _ = complex_sample
    design = dict(data=df, weights="w", strata="stratum", clusters="psu")
    tests = model.indicator_tests("design", **design)
    d = model.standard_errors("design", **design).design_df
    expected = (d - tests["df"] + 1) * tests["wald"] / (d * tests["df"])
    np.testing.assert_allclose(tests["f"], expected, rtol=1e-12)
    assert (tests["f_p_value"] >= tests["p_value"]).all()
    assert "f" not in model.indicator_tests().columns
    model2, df2 = unit_weight_model
    kw = dict(data=df2, se_method="design", clusters=np.arange(len(df2)) // 10)
    n_psu = len(np.unique(np.arange(len(df2)) // 10))
    for result in (
        model2.covariate_effects("x", **kw),
        model2.distal_means("y", **kw),
        model2.distal_proportions("c", **kw),
    ):
        wald = result.wald
        np.testing.assert_array_equal(wald["f_df2"], n_psu - 1 - wald["df"] + 1)
        np.testing.assert_allclose(
            wald["f"], wald["f_df2"] * wald["statistic"] / ((n_psu - 1) * wald["df"])
        )
    assert "f" not in model2.distal_means("y", data=df2).wald.columns


# -- finite population correction --------------------------------------------------------


def test_finite_population_correction_matches_the_textbook_formula(complex_sample):
    """Each stratum's population of PSUs (``fpc``) multiplies its term by 1 - n_h / N_h."""
    model, df, items = complex_sample
    n_psu = df.groupby("stratum")["psu"].nunique()
    population = {"north": 3 * n_psu["north"], "south": 10, "east": 100, "west": 2 * n_psu["west"]}
    data = df.assign(N=df["stratum"].map(population))
    se = model.standard_errors("design", data=data, weights="w", strata="stratum",
                               clusters="psu", fpc="N")  # fmt: skip
    strata = codes_of(df["stratum"])
    psu = codes_of(df["stratum"] + "/" + df["psu"].astype(str))
    by_code = {int(c): population[name] for c, name in zip(strata, df["stratum"])}
    ref_sizes, ref_cells = reference(model, df[items], df["w"], strata, psu, by_code)
    np.testing.assert_allclose(se.class_sizes.to_numpy(), ref_sizes, rtol=1e-4)
    np.testing.assert_allclose(se.profile.to_numpy(), ref_cells, rtol=1e-4, atol=1e-9)
    # sampling fractions instead of population sizes give the same
    fractions = data["stratum"].map(n_psu) / data["N"]
    again = model.standard_errors("design", data=df, weights="w", strata="stratum",
                                  clusters="psu", fpc=fractions.to_numpy())  # fmt: skip
    np.testing.assert_allclose(again.profile.to_numpy(), se.profile.to_numpy(), rtol=1e-12)


def test_a_census_has_no_sampling_variance_and_half_the_psus_half_of_it(complex_sample):
    model, df, _ = complex_sample
    design = dict(data=df, weights="w", strata="stratum", clusters="psu")
    full = model.standard_errors("design", **design)
    census = model.standard_errors("design", fpc=np.ones(len(df)), **design)
    assert np.nanmax(census.profile.to_numpy()) == 0.0
    assert np.nanmax(model.standard_errors("design", fpc=1, **design).profile.to_numpy()) == 0
    half = model.standard_errors("design", fpc=0.5, **design)  # one fraction for every stratum
    np.testing.assert_allclose(half.profile.to_numpy(), np.sqrt(0.5) * full.profile.to_numpy(),
                               rtol=1e-12)  # fmt: skip


def test_finite_population_correction_in_step_3_and_the_regression(unit_weight_model):
    model, df = unit_weight_model
    psu = np.arange(len(df)) // 10
    kw = dict(data=df, se_method="design", clusters=psu)
    for method, outcome, table in (
        ("covariate_effects", "x", "coefficients"),
        ("distal_means", "y", "means"),
        ("distal_proportions", "c", "proportions"),
    ):
        call = getattr(model, method)
        a = getattr(call(outcome, **kw), table)["se"].to_numpy()
        b = getattr(call(outcome, fpc=np.full(len(df), 0.25), **kw), table)["se"].to_numpy()
        np.testing.assert_allclose(b, np.sqrt(0.75) * a, rtol=1e-10)
    items = list(df.columns[:6])
    fits = [
        lca.LatentClassRegression(2, se_method="design", n_starts=2, random_state=0).fit(
            df[[*items, "x"]], "x", clusters=psu, fpc=f
        )
        for f in (None, np.full(len(df), 0.25))
    ]
    np.testing.assert_allclose(
        fits[1].coefficients_["se"], np.sqrt(0.75) * fits[0].coefficients_["se"], rtol=1e-10
    )


def test_bad_finite_population_corrections_are_refused(complex_sample):
    model, df, _ = complex_sample
    design = dict(data=df, weights="w", strata="stratum", clusters="psu")
    varying = np.where(df.index % 2 == 0, 50.0, 60.0)
    with pytest.raises(lca.DataError, match="takes 2 values in stratum"):
        model.standard_errors("design", fpc=varying, **design)
    with pytest.raises(lca.DataError, match=r"gives stratum '[a-z]+' 3 PSUs in the population but"):
        model.standard_errors("design", fpc=np.full(len(df), 3.0), **design)
    bad = np.full(len(df), 50.0)
    bad[4] = np.nan
    with pytest.raises(lca.DataError, match=f"holds nan at row {df.index[4]}"):
        model.standard_errors("design", fpc=bad, **design)
    with pytest.raises(ValueError, match="use method='design'"):
        model.standard_errors("robust", fpc=np.full(len(df), 50.0))


def test_regression_takes_weights_as_values_with_design_columns_by_name():
    """From the review: a weights array beside a cluster column named in the data."""
    df = _clustered_covariate_sample(np.random.default_rng(9)).drop(columns=["y"])
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(df))
    by_name = lca.LatentClassRegression(2, se_method="design", n_starts=2).fit(
        df, "x", weights=w, clusters="psu"
    )
    by_value = lca.LatentClassRegression(2, se_method="design", n_starts=2).fit(
        df.drop(columns=["psu"]), "x", weights=pd.Series(w, index=df.index),
        clusters=df["psu"].to_numpy(),
    )  # fmt: skip
    pd.testing.assert_frame_equal(by_name.coefficients_, by_value.coefficients_)
    res = lca.compare_regressions(df, "x", [2], weights=w, clusters="psu",
                                  se_method="design", n_starts=2)  # fmt: skip
    pd.testing.assert_frame_equal(res.models[2].coefficients_, by_name.coefficients_)
    with pytest.raises(lca.DataError, match="strata='psu' is the weights column"):
        lca.LatentClassRegression(2, se_method="design").fit(df, "x", weights="psu",
                                                             strata="psu")  # fmt: skip


def test_direct_effects_model_refuses_step1_uncertainty_with_a_design():
    df = _clustered_covariate_sample(np.random.default_rng(10))
    model = lca.DirectEffectsModel(2, [("q0", "q1")], n_starts=2).fit(df[ITEMS])
    with pytest.raises(NotImplementedError, match="step1_uncertainty"):
        model.covariate_effects("x", data=df, se_method="design", clusters="psu",
                                step1_uncertainty=True)  # fmt: skip
    plain = model.covariate_effects("x", data=df, se_method="design", clusters="psu")
    assert np.isfinite(plain.coefficients["se"]).all()
