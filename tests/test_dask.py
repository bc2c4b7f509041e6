"""Fitting and assigning on Dask DataFrames, on a local two-worker cluster."""

import numpy as np
import pandas as pd
import pytest

import lca

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=40,
    )  # fmt: skip
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def survey():
    data = lca.datasets.load_election().iloc[:, :12].astype(object)
    data = data.where(data.notna(), None)
    rng = np.random.default_rng(0)
    data["wt"] = rng.uniform(0.5, 2.0, len(data))
    data.index = pd.Index([f"r{i}" for i in range(len(data))], name="id")
    return data


def test_fit_on_dask_equals_pandas(client, survey):
    ddf = dd.from_pandas(survey, npartitions=5)
    opts = dict(n_starts=6, random_state=3)
    on_dask = lca.LatentClassModel(3, **opts).fit(ddf, weights="wt")
    on_pandas = lca.LatentClassModel(3, **opts).fit(survey, weights="wt")
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-9)
    np.testing.assert_allclose(
        on_dask.profile().to_numpy(), on_pandas.profile().to_numpy(), rtol=1e-7, atol=1e-10
    )
    assert on_dask.n_rows_ == len(survey) and on_dask.n_obs_ == pytest.approx(survey["wt"].sum())
    pd.testing.assert_series_equal(on_dask.fit_stats(), on_pandas.fit_stats(), rtol=1e-7)


def test_predict_on_dask_equals_pandas_and_keeps_the_index(client, survey):
    items = survey.drop(columns="wt")
    model = lca.LatentClassModel(3, n_starts=4).fit(items)
    ddf = dd.from_pandas(items, npartitions=4, sort=False)
    post = model.predict_proba(ddf)
    pred = model.predict(ddf)
    assert isinstance(post, dd.DataFrame) and isinstance(pred, dd.Series)
    # dask's from_pandas turns the str index into its Arrow string dtype: same values
    pd.testing.assert_frame_equal(
        post.compute(), model.predict_proba(items), check_index_type=False
    )
    pd.testing.assert_series_equal(pred.compute(), model.predict(items), check_index_type=False)
    assert post.compute().index.tolist() == items.index.tolist()


def test_a_regression_predicts_on_dask_as_on_pandas_with_covariates_by_name(client):
    df = lca.datasets.load_election()
    data = df.loc[df["PARTY"].notna(), [*df.columns[:12], "PARTY"]]
    data.index = pd.Index([f"r{i}" for i in range(len(data))], name="id")
    model = lca.LatentClassRegression(3, n_starts=2, random_state=0).fit(data, "PARTY")
    ddf = dd.from_pandas(data, npartitions=4, sort=False)
    post = model.predict_proba(ddf, "PARTY")
    pred = model.predict(ddf, ["PARTY"])
    assert isinstance(post, dd.DataFrame) and isinstance(pred, dd.Series)
    pd.testing.assert_frame_equal(
        post.compute(), model.predict_proba(data, "PARTY"), check_index_type=False
    )
    pd.testing.assert_series_equal(
        pred.compute(), model.predict(data, "PARTY"), check_index_type=False
    )
    with pytest.raises(TypeError, match="column names of it"):
        model.predict_proba(ddf, data[["PARTY"]])


def test_starts_run_on_the_cluster_with_identical_results(client, survey):
    items = survey.drop(columns="wt")
    on_cluster = lca.LatentClassModel(3, n_starts=6, n_jobs=2, random_state=1).fit(items)
    client_free = lca.LatentClassModel(3, n_starts=6, n_jobs=1, random_state=1).fit(items)
    assert on_cluster.loglik_ == client_free.loglik_
    assert np.array_equal(on_cluster.profile().to_numpy(), client_free.profile().to_numpy())


def test_dask_weights_must_be_a_column(survey):
    ddf = dd.from_pandas(survey, npartitions=2)
    with pytest.raises(ValueError, match="name of its weights column"):
        lca.LatentClassModel(2).fit(ddf, weights=np.ones(len(survey)))
    with pytest.raises(lca.DataError, match="expected a Dask DataFrame"):
        lca.LatentClassModel(2).fit(ddf[survey.columns[0]])


def _error(fn):
    try:
        fn()
    except lca.DataError as exc:
        return str(exc)
    raise AssertionError("no DataError")


@pytest.mark.parametrize(
    "weights",
    [
        {5: -2.0},
        {3: np.nan},
        {7: np.inf},
        "zero",
        "huge",
    ],
    ids=["negative", "nan", "inf", "all-zero", "sum-overflows"],
)
def test_dask_weights_are_refused_as_pandas_refuses_them(survey, weights):
    bad = survey.copy()
    if weights == "zero":
        bad["wt"] = 0.0
    elif weights == "huge":
        bad["wt"] = 1e308
    else:
        for row, value in weights.items():
            bad.loc[bad.index[row], "wt"] = value
    on_pandas = _error(lambda: lca.LatentClassModel(2).fit(bad, weights="wt"))
    ddf = dd.from_pandas(bad, npartitions=1)  # one partition: the same first bad row
    on_dask = _error(lambda: lca.LatentClassModel(2).fit(ddf, weights="wt"))
    assert on_dask == on_pandas


def test_dask_weights_as_text_numbers_fit_as_in_pandas(survey):
    text = survey.assign(wt=survey["wt"].astype(str))
    opts = dict(n_starts=2, random_state=0)
    on_pandas = lca.LatentClassModel(2, **opts).fit(text, weights="wt")
    on_dask = lca.LatentClassModel(2, **opts).fit(dd.from_pandas(text, npartitions=3), weights="wt")
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-12)


def test_dask_column_answered_only_in_zero_weight_rows_is_named(survey):
    bad = survey.assign(extra=pd.Series([None] * len(survey), dtype=object, index=survey.index))
    bad.loc[bad.index[:10], "extra"] = "a"
    bad.loc[bad.index[:10], "wt"] = 0.0
    on_pandas = _error(lambda: lca.LatentClassModel(2).fit(bad, weights="wt"))
    ddf = dd.from_pandas(bad, npartitions=3)
    assert _error(lambda: lca.LatentClassModel(2).fit(ddf, weights="wt")) == on_pandas
    assert "has answers only in rows of weight 0" in on_pandas


def test_dask_unknown_categories_are_sorted_as_pandas_astype_sorts_them():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({c: rng.choice(["b", "a", "c"], 300) for c in "xyz"})
    data.iloc[:100, 0] = "c"  # the first partition holds only "c" in x
    opts = dict(n_starts=2, random_state=0)
    on_pandas = lca.LatentClassModel(2, **opts).fit(data.astype("category"))
    ddf = dd.from_pandas(data, npartitions=3).astype("category")
    assert not ddf["x"].cat.known
    on_dask = lca.LatentClassModel(2, **opts).fit(ddf)
    assert [i.categories for i in on_dask.indicators_] == [("a", "b", "c")] * 3
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-12)


def test_distributed_em_equals_pandas(client, survey):
    ddf = dd.from_pandas(survey, npartitions=5)
    opts = dict(n_starts=6, random_state=3, tol=1e-10, bayes_constant=1.0)
    on_dask = lca.LatentClassModel(3, **opts).fit(ddf, weights="wt", distributed=True)
    on_pandas = lca.LatentClassModel(3, **opts).fit(survey, weights="wt")
    assert on_dask._patterns is None  # the table stayed on the workers
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-9)
    assert on_dask.log_prior_ == pytest.approx(on_pandas.log_prior_, rel=1e-9)
    np.testing.assert_allclose(
        on_dask.profile().to_numpy(), on_pandas.profile().to_numpy(), rtol=1e-6, atol=1e-9
    )
    assert (on_dask.n_rows_, on_dask.n_empty_rows_) == (on_pandas.n_rows_, on_pandas.n_empty_rows_)
    pd.testing.assert_series_equal(on_dask.fit_stats(), on_pandas.fit_stats(), rtol=1e-7)
    for kind in ("modal", "proportional"):
        pd.testing.assert_frame_equal(
            on_dask.classification_table(kind), on_pandas.classification_table(kind), rtol=1e-7
        )
    with pytest.raises(lca.NotFittedError, match="distributed EM"):
        on_dask.bivariate_residuals()
    # the fitted model assigns like any other
    items = survey.drop(columns="wt")
    np.testing.assert_allclose(
        on_dask.predict_proba(items).to_numpy(),
        on_pandas.predict_proba(items).to_numpy(),
        atol=1e-6,
    )


def test_distributed_em_with_ordinal_indicators(client):
    """Ordinal M-steps, distributed.

    Plain EM here: with SQUAREM, sums added in another order (per partition)
    can flip an accept/reject decision of the extrapolation, and on this flat
    ordinal likelihood the two runs then stop 1e-8 apart (both within tol).
    """
    items = lca.datasets.load_election().iloc[:, :6]  # ordered Categoricals, missing answers
    ddf = dd.from_pandas(items, npartitions=3)
    opts = dict(
        n_starts=4, random_state=0, tol=1e-10, ordinal=["MORALG", "KNOWG"], accelerate=False
    )
    on_dask = lca.LatentClassModel(2, **opts).fit(ddf, distributed=True)
    on_pandas = lca.LatentClassModel(2, **opts).fit(items)
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-9)
    np.testing.assert_allclose(
        on_dask.profile().to_numpy(), on_pandas.profile().to_numpy(), rtol=1e-6, atol=1e-9
    )


def test_distributed_needs_dask_data(survey):
    with pytest.raises(ValueError, match="needs a Dask DataFrame"):
        lca.LatentClassModel(2).fit(survey.drop(columns="wt"), distributed=True)
    with pytest.raises(ValueError, match="distributed must be None, True or False"):
        lca.LatentClassModel(2).fit(survey.drop(columns="wt"), distributed="yes")


@pytest.mark.parametrize("mode", [False, True])
def test_start_from_on_dask_equals_pandas(client, survey, mode):
    ddf = dd.from_pandas(survey, npartitions=3)
    opts = dict(n_starts=2, n_final=4, random_state=1)
    two = lca.LatentClassModel(2, n_starts=3).fit(survey, weights="wt")
    on_dask = lca.LatentClassModel(3, **opts).fit(
        ddf, weights="wt", distributed=mode, start_from=two
    )
    on_pandas = lca.LatentClassModel(3, **opts).fit(survey, weights="wt", start_from=two)
    assert on_dask.start_objectives_.shape == (4,)  # 2 random + 2 split starts
    np.testing.assert_allclose(on_dask.start_objectives_, on_pandas.start_objectives_, rtol=1e-9)
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-9)


@pytest.mark.parametrize("mode", [False, True])
def test_compare_on_dask_equals_pandas(client, survey, mode):
    ddf = dd.from_pandas(survey, npartitions=4)
    opts = dict(n_starts=3, random_state=2, progress=False)
    on_dask = lca.compare(ddf, range(1, 4), weights="wt", distributed=mode, **opts)
    on_pandas = lca.compare(survey, range(1, 4), weights="wt", **opts)
    columns = [c for c in on_pandas.table.columns if c != "max_bvr"]
    pd.testing.assert_frame_equal(
        on_dask.table[columns], on_pandas.table[columns], rtol=1e-7, check_exact=False
    )
    if mode:  # distributed models keep no pattern table: no residuals
        assert on_dask.table["max_bvr"].isna().all()
    else:
        np.testing.assert_allclose(on_dask.table["max_bvr"], on_pandas.table["max_bvr"], rtol=1e-7)


def test_compare_on_dask_encodes_once_also_with_merge_starts(client, survey, monkeypatch):
    from lca import _dask

    calls = []
    original = _dask.encode_dask

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_dask, "encode_dask", counting)
    ddf = dd.from_pandas(survey, npartitions=3)
    opts = dict(n_starts=2, random_state=1, progress=False, merge_starts=True)
    on_dask = lca.compare(ddf, range(1, 4), weights="wt", **opts)
    assert len(calls) == 1
    on_pandas = lca.compare(survey, range(1, 4), weights="wt", **opts)
    np.testing.assert_allclose(on_dask.table["loglik"], on_pandas.table["loglik"], rtol=1e-9)


def test_compare_on_dask_refuses_what_needs_rows(client, survey, tmp_path):
    ddf = dd.from_pandas(survey, npartitions=2)
    with pytest.raises(ValueError, match=r"blrt=True needs the data in memory.*bootstrap"):
        lca.compare(ddf, [1, 2], weights="wt", blrt=True, progress=False)
    with pytest.raises(ValueError, match=r"checkpoint_dir needs the data in memory.*fingerpr"):
        lca.compare(ddf, [1, 2], weights="wt", checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"distributed=True needs a Dask DataFrame.*unset"):
        lca.compare(survey, [1, 2], weights="wt", distributed=True, progress=False)
    with pytest.raises(ValueError, match="distributed must be None, True or False"):
        lca.compare(ddf, [1, 2], weights="wt", distributed="yes", progress=False)


def test_distributed_split_merge_equals_pandas(client, survey):
    """The split-and-merge moves run through the same lockstep EM on the cluster."""
    ddf = dd.from_pandas(survey, npartitions=3)
    opts = dict(n_starts=2, split_merge=12, random_state=2, bayes_constant=1.0)
    on_dask = lca.LatentClassModel(4, **opts).fit(ddf, weights="wt", distributed=True)
    on_pandas = lca.LatentClassModel(4, **opts).fit(survey, weights="wt")
    plain = lca.LatentClassModel(4, **{**opts, "split_merge": 0}).fit(survey, weights="wt")
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-9)
    assert on_pandas.loglik_ + on_pandas.log_prior_ >= plain.loglik_ + plain.log_prior_ - 1e-9


def test_dask_warns_of_a_gap_in_an_ordinal_scale_as_pandas_does():
    rng = np.random.default_rng(0)
    cls = rng.integers(0, 2, 300)
    data = pd.DataFrame(
        {f"q{j}": (rng.random(300) < np.where(cls == 0, 0.8, 0.2)).astype(int) for j in range(3)}
    )
    data["a"] = np.where(cls == 0, rng.choice([1, 2], 300), rng.choice([4, 5], 300))
    ddf = dd.from_pandas(data, npartitions=3)
    with pytest.warns(lca.DataWarning, match="ordinal indicator 'a': nobody gave 3"):
        on_dask = lca.LatentClassModel(2, ordinal=["a"], n_starts=2).fit(ddf)
    on_pandas = lca.LatentClassModel(2, ordinal=["a"], n_starts=2)
    with pytest.warns(lca.DataWarning, match="ordinal indicator 'a': nobody gave 3"):
        on_pandas.fit(data)
    assert on_dask.loglik_ == pytest.approx(on_pandas.loglik_, rel=1e-12)
