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


def reference(model, data, weights, strata, psu):
    """Finite-difference design-based standard errors (tests/naive.py)."""
    codes = encode(data, model.indicators_)
    w = np.asarray(weights, dtype=float)
    off = model._offsets
    blocks = [model._cond_probs[off[j] : off[j + 1]] for j in range(len(model.indicators_))]
    marginals = []
    for j, block in enumerate(blocks):
        ok = (codes[:, j] >= 0) & (w > 0)
        counts = np.bincount(codes[ok, j], weights=w[ok], minlength=block.shape[0])
        marginals.append(counts / counts.sum())
    return naive.standard_errors(
        codes,
        w,
        model._class_probs,
        blocks,
        list(model._ordinal),
        model.class_bayes_constant_,
        model.bayes_constant_,
        marginals,
        "design",
        strata=np.asarray(strata),
        psu=None if psu is None else np.asarray(psu),
    )


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
    shuffled = df["psu"].sample(frac=1.0, random_state=0)
    with pytest.raises(lca.DataError, match="not aligned with the data's index"):
        model.standard_errors("design", data=df, weights="w", clusters=shuffled)
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
