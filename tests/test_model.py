"""The estimator: likelihood, published values, statistics, recovery, invariants."""

import math
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

import lca
from lca import _em
from lca.encoding import encode

from . import naive

GSS82_ML = {2: -2783.268, 3: -2754.545, 4: -2746.621}


@pytest.fixture(scope="module")
def gss82():
    return lca.datasets.load_gss82()


# -- likelihood and parameter count ------------------------------------------------


def test_loglik_of_a_tiny_case_by_hand():
    model = lca.LatentClassModel.from_parameters(
        [0.6, 0.4],
        {
            "y1": pd.DataFrame([[0.9, 0.2], [0.1, 0.8]], index=["a", "b"]),
            "y2": pd.DataFrame([[0.7, 0.1], [0.3, 0.9]], index=["a", "b"]),
        },
    )
    data = pd.DataFrame(
        {"y1": ["a", "a", "b", None], "y2": ["a", "b", None, None]}, index=[10, 11, 12, 13]
    )
    # P(a,a) = .6*.9*.7 + .4*.2*.1 = .386; P(a,b) = .6*.9*.3 + .4*.2*.9 = .234;
    # P(b,-) = .6*.1 + .4*.8 = .38; P(-,-) = 1
    expected = np.log([0.386, 0.234, 0.38, 1.0])
    got = model.score_samples(data)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-14, atol=1e-15)
    assert got.index.tolist() == [10, 11, 12, 13]
    post = model.predict_proba(data)
    assert post.loc[10, 1] == pytest.approx(0.6 * 0.9 * 0.7 / 0.386)
    assert post.loc[13].tolist() == pytest.approx([0.6, 0.4])


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_n_parameters(gss82, k):
    m = lca.LatentClassModel(k, n_starts=2, bayes_constant=0).fit(gss82)
    # categories 3, 2, 2, 3: (K - 1) + K * (2 + 1 + 1 + 2)
    assert m.n_parameters_ == (k - 1) + k * 6
    assert m.fit_stats()["n_parameters"] == m.n_parameters_


@pytest.mark.parametrize("k", [2, 3, 4])
def test_gss82_maximum_likelihood_matches_polca(gss82, k):
    m = lca.LatentClassModel(k, n_starts=20, bayes_constant=0).fit(gss82)
    assert m.loglik_ == pytest.approx(GSS82_ML[k], abs=1e-3)
    assert m.log_prior_ == 0.0
    assert m.converged_
    assert m.n_starts_at_best_ >= 2


def test_one_class_model_is_the_independence_model(gss82):
    m = lca.LatentClassModel(1, bayes_constant=0).fit(gss82)
    expected = 0.0
    for col in gss82:
        shares = gss82[col].value_counts(normalize=True)
        expected += float((gss82[col].value_counts() * np.log(shares)).sum())
    assert m.loglik_ == pytest.approx(expected, rel=1e-12)
    stats = m.fit_stats()
    assert stats["entropy_r2"] == 1.0 and stats["classification_error"] == 0.0


# -- fit statistics against an independent computation ----------------------------


def _independent_stats(model, data, weights, a, b):
    codes = encode(data, model.indicators_).astype(np.int64)
    k = model.n_classes_
    sizes = model.class_sizes_.to_numpy()
    blocks = [model.conditional_probs_[ind.name].to_numpy() for ind in model.indicators_]
    post, ll_rows = naive.posteriors(codes, np.log(sizes), blocks)
    w = weights
    n = w.sum()
    ll = float(np.sum(w * ll_rows))
    # log-prior with observed marginals of the answered
    log_prior = a / k * np.sum(np.log(sizes))
    for j, block in enumerate(blocks):
        ok = codes[:, j] >= 0
        f = np.bincount(codes[ok, j], weights=w[ok], minlength=block.shape[0])
        f = f / f.sum()
        log_prior += (b / k) * np.sum(f[:, None] * np.log(block))
    npar = (k - 1) + k * sum(bl.shape[0] - 1 for bl in blocks)
    en = -np.sum(w[:, None] * post * np.log(post))
    err = np.sum(w * (1 - post.max(axis=1))) / n
    assign = post.argmax(axis=1)
    avepp = [
        np.sum(w[assign == c] * post[assign == c, c]) / np.sum(w[assign == c]) for c in range(k)
    ]
    l2, x2, df = naive.full_table_fit(codes, w, np.log(sizes), blocks, npar)
    out = {
        "loglik": ll,
        "log_prior": log_prior,
        "n_obs": n,
        "n_parameters": npar,
        "df": df,
        "L2": l2,
        "X2": x2,
        "aic": -2 * ll + 2 * npar,
        "aic3": -2 * ll + 3 * npar,
        "bic": -2 * ll + math.log(n) * npar,
        "caic": -2 * ll + (math.log(n) + 1) * npar,
        "sabic": -2 * ll + math.log((n + 2) / 24) * npar,
        "entropy": en,
        "entropy_r2": 1 - en / (n * -np.sum(sizes * np.log(sizes))),
        "relative_entropy": 1 - en / (n * math.log(k)),
        "classification_error": err,
        "lambda": 1 - err / (1 - sizes.max()),
        "standard_r2": 1 - np.sum(w * (1 - (post**2).sum(axis=1))) / (n * (1 - np.sum(sizes**2))),
        "cl": ll - en,
        "clc": -2 * ll + 2 * en,
        "awe": -2 * (ll - en) + 2 * npar * (1.5 + math.log(n)),
        "icl_bic": -2 * ll + math.log(n) * npar + 2 * en,
        "min_avepp": min(avepp),
    }
    modal = np.zeros((k, k))
    prop = (post * w[:, None]).T @ post
    for c in range(k):
        modal[:, c] = (post[assign == c] * w[assign == c, None]).sum(axis=0)
    return out, modal, prop, np.array(avepp)


@pytest.mark.parametrize(
    ("a", "b", "missing", "weighted"), [(0.0, 0.0, False, False), (1.0, 1.0, True, True)]
)
def test_every_fit_statistic_against_independent_computation(gss82, a, b, missing, weighted):
    rng = np.random.default_rng(4)
    data = gss82.copy()
    if missing:
        for col in data:
            data.loc[rng.random(len(data)) < 0.1, col] = np.nan
    weights = rng.uniform(0.5, 2.0, len(data)) if weighted else np.ones(len(data))
    m = lca.LatentClassModel(3, bayes_constant=b, class_bayes_constant=a, n_starts=8)
    m.fit(data, weights=weights if weighted else None)
    expected, modal, prop, avepp = _independent_stats(m, data, weights, a, b)
    stats = m.fit_stats()
    assert list(stats.index) == list(expected)
    for name, value in expected.items():
        assert stats[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
    np.testing.assert_allclose(m.classification_table("modal").to_numpy(), modal, rtol=1e-10)
    np.testing.assert_allclose(m.classification_table("proportional").to_numpy(), prop, rtol=1e-10)
    np.testing.assert_allclose(m.avepp().to_numpy(), avepp, rtol=1e-10)


def test_entropy_statistics_on_gss82_match_reference(gss82):
    stats = lca.LatentClassModel(3, bayes_constant=0, n_starts=10).fit(gss82).fit_stats()
    assert stats["entropy_r2"] == pytest.approx(0.60, abs=0.01)
    assert stats["relative_entropy"] == pytest.approx(0.67, abs=0.01)


def test_df_when_the_cross_table_has_more_cells_than_a_float_can_count():
    """1030 binary indicators: 2**1030 cells, past float's range; df = N - npar."""
    codes = np.random.default_rng(0).integers(0, 2, (60, 1030))
    df = pd.DataFrame(codes, columns=[f"q{j}" for j in range(1030)])
    model = lca.LatentClassModel(2, n_starts=2, burn_in=5, max_iter=30, random_state=0).fit(df)
    npar = (2 - 1) + 2 * 1030
    assert model.n_parameters_ == npar
    assert model.fit_stats()["df"] == 60 - npar
    assert np.isfinite(model.fit_stats()["L2"])


def test_profile_and_class_sizes(gss82):
    m = lca.LatentClassModel(3, n_starts=4).fit(gss82)
    sizes = m.class_sizes_.to_numpy()
    assert np.all(np.diff(sizes) <= 0)  # numbered by decreasing size
    prof = m.profile()
    assert list(prof.columns) == [1, 2, 3, "Total"]
    assert prof.index.names == ["indicator", "category"]
    assert prof.loc[("PURPOSE", "Good"), 2] == m.conditional_probs_["PURPOSE"].loc["Good", 2]
    np.testing.assert_allclose(prof.groupby(level=0, sort=False).sum().to_numpy(), 1.0)
    # the model-implied total equals the observed marginal at the ML optimum
    ml = lca.LatentClassModel(3, bayes_constant=0, n_starts=4).fit(gss82).profile()
    observed = gss82["COOPERAT"].value_counts(normalize=True)
    for cat, share in observed.items():
        assert ml.loc[("COOPERAT", cat), "Total"] == pytest.approx(share, rel=1e-6)


def test_profile_keeps_bool_labels_apart_from_0_and_1_of_other_indicators():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "a": rng.choice([True, False], 300),
            "b": rng.choice([1, 2, 3], 300),
            "c": rng.integers(0, 2, 300),
        }
    )
    m = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(data)
    prof = m.profile()
    assert prof.index.tolist() == [
        ("a", "False"), ("a", "True"), ("b", "1"), ("b", "2"), ("b", "3"), ("c", "0"), ("c", "1")
    ]  # fmt: skip
    for ind in m.indicators_:
        block = prof.loc[ind.name, m.classes_].to_numpy()
        np.testing.assert_array_equal(block, m.conditional_probs_[ind.name].to_numpy())
    assert "True" in m.summary().as_text()
    # without a bool, labels stay as they are
    one = lca.LatentClassModel(1).fit(data[["b", "c"]])
    assert one.profile().index.tolist()[0] == ("b", 1)


# -- recovery of a known model ------------------------------------------------------


def _five_class_truth():
    rng = np.random.default_rng(2024)
    sizes = np.array([0.32, 0.24, 0.18, 0.14, 0.12])
    n_cats = [4, 4, 5, 5, 3, 3, 4, 2, 6]
    cond = {f"q{j}": rng.dirichlet(np.full(c, 0.4), size=5).T for j, c in enumerate(n_cats)}
    return sizes, cond


def test_recovery_of_a_simulated_five_class_model():
    sizes, cond = _five_class_truth()
    data, truth = lca.simulate(sizes, cond, 3000, random_state=7)
    m = lca.LatentClassModel(5, n_starts=16, random_state=1).fit(data)
    pred = m.predict(data)
    # match fitted to true classes by their overlap
    table = pd.crosstab(truth, pred).reindex(index=range(1, 6), columns=range(1, 6), fill_value=0)
    rows, cols = linear_sum_assignment(-table.to_numpy())
    fitted_sizes = m.class_sizes_.to_numpy()[cols]
    assert np.max(np.abs(fitted_sizes - sizes[rows])) < 0.02
    oracle = lca.LatentClassModel.from_parameters(sizes, cond).predict(data)
    ari = naive.adjusted_rand_index(truth, pred)
    ari_oracle = naive.adjusted_rand_index(truth, oracle)
    assert ari >= 0.95 * ari_oracle
    assert ari_oracle > 0.6  # the classes are distinct enough for the test to mean something


# -- weights and invariances ---------------------------------------------------------


def test_integer_weights_equal_repeated_rows(gss82):
    rng = np.random.default_rng(8)
    freq = rng.integers(0, 4, len(gss82))
    freq[0] = 1
    repeated = gss82.loc[gss82.index.repeat(freq)].reset_index(drop=True)
    opts = dict(n_starts=6, bayes_constant=1.0, random_state=3)
    mw = lca.LatentClassModel(3, **opts).fit(gss82, weights=freq)
    mr = lca.LatentClassModel(3, **opts).fit(repeated)
    assert mw.loglik_ == pytest.approx(mr.loglik_, rel=1e-12)
    np.testing.assert_allclose(mw.profile().to_numpy(), mr.profile().to_numpy(), atol=1e-10)
    pd.testing.assert_series_equal(mw.fit_stats(), mr.fit_stats(), rtol=1e-9)


def test_weights_may_be_a_column(gss82):
    w = np.random.default_rng(0).uniform(0.5, 1.5, len(gss82))
    a = lca.LatentClassModel(2, n_starts=3).fit(gss82, weights=w)
    b = lca.LatentClassModel(2, n_starts=3).fit(gss82.assign(wt=w), weights="wt")
    assert a.loglik_ == b.loglik_
    assert b.n_obs_ == pytest.approx(w.sum())


def test_weights_series_in_another_order_is_aligned_by_label(gss82):
    """A weights Series over the same respondents in another order is matched by label."""
    w = pd.Series(np.random.default_rng(0).uniform(0.5, 1.5, len(gss82)), index=gss82.index)
    shuffled = w.sample(frac=1.0, random_state=2)
    assert not shuffled.index.equals(gss82.index)
    a = lca.LatentClassModel(2, n_starts=3).fit(gss82, weights=w)
    b = lca.LatentClassModel(2, n_starts=3).fit(gss82, weights=shuffled)
    assert a.loglik_ == b.loglik_
    variable = gss82.iloc[:, 0]
    pd.testing.assert_frame_equal(
        a.crosstab(variable, weights=w, data=gss82),
        a.crosstab(variable, weights=shuffled, data=gss82),
    )
    # the same length but other labels is still refused, True and False among them
    with pytest.raises(lca.DataError, match="not aligned"):
        a.crosstab(variable, weights=w.set_axis(w.index + 10_000), data=gss82)
    two = gss82.head(2).reset_index(drop=True)
    with pytest.raises(lca.DataError, match="not aligned"):
        a.crosstab(two.iloc[:, 0], weights=pd.Series([1.0, 2.0], index=[True, False]), data=two)


def test_shuffling_rows_changes_nothing(gss82):
    shuffled = gss82.sample(frac=1.0, random_state=5)
    a = lca.LatentClassModel(3, n_starts=6).fit(gss82)
    b = lca.LatentClassModel(3, n_starts=6).fit(shuffled)
    assert a.loglik_ == b.loglik_
    assert np.array_equal(a.profile().to_numpy(), b.profile().to_numpy())
    pd.testing.assert_frame_equal(a.predict_proba(shuffled), b.predict_proba(shuffled))


def test_same_random_state_is_bit_identical_whatever_n_jobs(gss82):
    fits = [
        lca.LatentClassModel(3, n_starts=8, random_state=42, n_jobs=n).fit(gss82)
        for n in (1, 2, -1)
    ]
    for other in fits[1:]:
        assert other.loglik_ == fits[0].loglik_
        assert np.array_equal(other.profile().to_numpy(), fits[0].profile().to_numpy())
        assert np.array_equal(other.start_objectives_, fits[0].start_objectives_)


def test_parallel_estep_path_is_bit_identical_to_serial():
    rng = np.random.default_rng(0)
    cond = {f"q{j}": rng.dirichlet(np.ones(3), size=3).T for j in range(12)}
    data, _ = lca.simulate([0.5, 0.3, 0.2], cond, 30_000, random_state=1)
    opts = dict(n_starts=2, max_iter=30, burn_in=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        serial = lca.LatentClassModel(3, n_jobs=1, **opts).fit(data)
        parallel = lca.LatentClassModel(3, n_jobs=2, **opts).fit(data)
    assert serial.loglik_ == parallel.loglik_
    assert np.array_equal(serial.profile().to_numpy(), parallel.profile().to_numpy())


def test_accelerated_and_plain_em_reach_the_same_optimum(gss82):
    fast = lca.LatentClassModel(3, n_starts=10, bayes_constant=0).fit(gss82)
    plain = lca.LatentClassModel(3, n_starts=10, bayes_constant=0, accelerate=False).fit(gss82)
    assert fast.loglik_ == pytest.approx(plain.loglik_, rel=1e-8)
    np.testing.assert_allclose(fast.profile().to_numpy(), plain.profile().to_numpy(), atol=1e-3)


# -- missing answers and empty rows --------------------------------------------------


def test_rows_with_no_answer_are_kept_and_get_class_sizes():
    data = lca.datasets.load_gss82().sample(300, random_state=0)
    data.index = [f"r{i}" for i in range(300)]
    data.iloc[[3, 50], :] = np.nan
    m = lca.LatentClassModel(2, n_starts=4).fit(data)
    assert m.n_rows_ == 300 and m.n_obs_ == 300.0 and m.n_empty_rows_ == 2
    post = m.predict_proba(data)
    assert post.shape == (300, 2) and list(post.index) == list(data.index)
    np.testing.assert_allclose(post.loc["r3"].to_numpy(), m.class_sizes_.to_numpy(), rtol=1e-12)


def test_missing_answers_use_the_answered_indicators(gss82):
    data = gss82.copy()
    data.loc[data.index[:100], "PURPOSE"] = np.nan
    m = lca.LatentClassModel(2, n_starts=4).fit(data)
    codes = encode(data, m.indicators_)
    blocks = [m.conditional_probs_[c].to_numpy() for c in data.columns]
    _, ll = naive.posteriors(codes.astype(np.int64), np.log(m.class_sizes_.to_numpy()), blocks)
    assert m.loglik_ == pytest.approx(ll.sum(), rel=1e-12)


# -- prediction ----------------------------------------------------------------------


def test_predict_keeps_index_order_free_columns_and_extra_columns(gss82):
    m = lca.LatentClassModel(3, n_starts=4).fit(gss82)
    new = gss82.iloc[::-1][["COOPERAT", "UNDERSTA", "ACCURACY", "PURPOSE"]].copy()
    new["id"] = np.arange(len(new))
    new.index = new.index.map(lambda i: f"id{i}")
    post = m.predict_proba(new)
    assert list(post.index) == list(new.index)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    pred = m.predict(new)
    assert pred.name == "class" and list(pred.index) == list(new.index)
    assert np.array_equal(pred.to_numpy(), post.to_numpy().argmax(axis=1) + 1)
    base = m.predict_proba(gss82)
    np.testing.assert_array_equal(post.to_numpy()[::-1], base.to_numpy())


def test_fit_predict_equals_fit_then_predict(gss82):
    a = lca.LatentClassModel(3, n_starts=4).fit_predict(gss82)
    b = lca.LatentClassModel(3, n_starts=4).fit(gss82).predict(gss82)
    pd.testing.assert_series_equal(a, b)


def test_predict_errors(gss82):
    m = lca.LatentClassModel(2, n_starts=2).fit(gss82)
    with pytest.raises(lca.DataError, match=r"\['COOPERAT'\] missing"):
        m.predict(gss82.drop(columns="COOPERAT"))
    bad = gss82.astype(object).copy()
    bad.iloc[5, 0] = "Excellent"
    with pytest.raises(lca.DataError, match="column 'PURPOSE' holds 'Excellent'"):
        m.predict_proba(bad)
    with pytest.warns(UserWarning, match=r"read as missing: 1 in 'PURPOSE' \('Excellent'\)"):
        post = m.predict_proba(bad, unknown="missing")
    assert np.isfinite(post.to_numpy()).all()


def test_not_fitted_model_refuses(gss82):
    m = lca.LatentClassModel(2)
    for call in (m.fit_stats, m.profile, lambda: m.predict(gss82), lambda: m.save("x.json")):
        with pytest.raises(lca.NotFittedError, match="not fitted"):
            call()


# -- option and weight checks --------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"n_classes": 0}, "n_classes must be an integer >= 1"),
        ({"n_classes": 2.5}, "n_classes must be an integer"),
        ({"n_starts": 0}, "n_starts=0 leaves no starting values: give start_from="),
        ({"n_starts": -1}, "n_starts must be an integer >= 0"),
        ({"tol": 0.0}, "tol must be a finite number > 0"),
        ({"tol": -1e-3}, "tol must be"),
        ({"bayes_constant": -1.0}, "bayes_constant must be a finite number >= 0"),
        ({"max_iter": 0}, "max_iter must be"),
        ({"random_state": "x"}, "random_state must be"),
    ],
)
def test_bad_options_are_refused(gss82, options, pattern):
    with pytest.raises(ValueError, match=pattern):
        lca.LatentClassModel(**options).fit(gss82)


def test_more_classes_than_patterns_is_refused():
    data = pd.DataFrame({"a": [1, 2, 1, 2], "b": [1, 1, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(
            lca.DataError, match="n_classes=3 exceeds the 2 distinct answer patterns"
        ):
            lca.LatentClassModel(3).fit(data)


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        (np.ones(5), "one value per row"),
        (pd.Series(np.ones(1202), index=np.arange(1202) + 1), "not aligned"),
        (np.r_[-1.0, np.ones(1201)], "negative value -1.0 at row 0"),
        (np.r_[np.nan, np.ones(1201)], "nan at row 0"),
        (np.r_[np.inf, np.ones(1201)], "inf at row 0"),
        (np.zeros(1202), "every weight is zero"),
    ],
)
def test_bad_weights_are_refused(gss82, weights, pattern):
    with pytest.raises(lca.DataError, match=pattern):
        lca.LatentClassModel(2).fit(gss82, weights=weights)


def test_convergence_warning_only_when_best_start_did_not_converge(gss82):
    with pytest.warns(lca.ConvergenceWarning, match="raise max_iter") as record:
        m = lca.LatentClassModel(4, n_starts=2, max_iter=3, burn_in=2).fit(gss82)
    assert not m.converged_
    # reported at the caller's line, so that warning filters by module work
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lca.LatentClassModel(2, n_starts=2).fit(gss82).converged_


def test_sample_round_trip(gss82):
    m = lca.LatentClassModel(3, n_starts=4).fit(gss82)
    data, classes = m.sample(20_000, random_state=0)
    assert list(data.columns) == list(gss82.columns)
    assert classes.value_counts(normalize=True).sort_index().to_numpy() == pytest.approx(
        m.class_sizes_.to_numpy(), abs=0.015
    )
    shares = data["PURPOSE"][classes == 1].value_counts(normalize=True)
    for cat, p in m.conditional_probs_["PURPOSE"][1].items():
        assert shares.get(cat, 0.0) == pytest.approx(p, abs=0.02)


@pytest.mark.parametrize("n", [-1, 2.5, "10", True, None])
def test_sample_and_simulate_check_n(n):
    m = lca.LatentClassModel.from_parameters([0.5, 0.5], {"q": [[0.9, 0.2], [0.1, 0.8]]})
    with pytest.raises(ValueError, match=r"n \(the number of respondents\) must be an integer"):
        m.sample(n)
    with pytest.raises(ValueError, match=r"n \(the number of respondents\) must be an integer"):
        lca.simulate([0.5, 0.5], {"q": [[0.9, 0.2], [0.1, 0.8]]}, n)
    data, classes = m.sample(np.int64(3), random_state=0)
    assert data.shape == (3, 1) and classes.shape == (3,)
    assert m.sample(0)[0].shape == (0, 1)


def test_repr_and_params():
    m = lca.LatentClassModel(4, n_starts=3)
    assert repr(m) == "LatentClassModel(n_classes=4, n_starts=3)"
    assert m.get_params()["n_starts"] == 3
    assert m.set_params(tol=1e-6).tol == 1e-6
    with pytest.raises(ValueError, match="unknown parameter"):
        m.set_params(bogus=1)


def test_a_one_thread_fit_does_not_import_joblib():
    """joblib (0.06-0.2 s to import, part of a first fit's time) loads only when
    ``n_jobs`` asks for more than one worker."""
    code = (
        "import sys, lca\n"
        "probs = {'a': [[0.8, 0.2], [0.2, 0.8]], 'b': [[0.7, 0.3], [0.3, 0.7]]}\n"
        "df, _ = lca.simulate([0.5, 0.5], probs, 100, random_state=0)\n"
        "m = lca.LatentClassModel(n_classes=2, n_starts=2, random_state=0).fit(df)\n"
        "m.predict_proba(df)\n"
        "print('joblib' in sys.modules)\n"
        "lca.LatentClassModel(n_classes=2, n_starts=2, n_jobs=2, random_state=0).fit(df)\n"
        "print('joblib' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert proc.stdout.split() == ["False", "True"]


def test_threaded_starts_keep_order_and_an_error_cancels_the_starts_not_begun():
    """The starts' thread pool (lca._em._map): results in item order whatever the
    finishing order, and a failing start stops the queue instead of running it out."""

    def slow_square(x, pause):
        time.sleep(pause)
        return x * x

    items = [(x, 0.02 * (x % 3)) for x in range(12)]  # later items often finish first
    assert _em._map(slow_square, items, 2, threaded=True) == [x * x for x in range(12)]

    started = []
    lock = threading.Lock()

    def fail_first(x):
        with lock:
            started.append(x)
        if x == 0:
            raise ValueError("start 0 failed")
        time.sleep(0.05)

    with pytest.raises(ValueError, match="start 0 failed"):
        _em._map(fail_first, [(x,) for x in range(40)], 2, threaded=True)
    assert len(started) < 40  # 40 x 50 ms on two threads would take a second
