"""Comparing numbers of classes: the table, BLRT and BVR columns, checkpoints, reports."""

import json
import math

import numpy as np
import pandas as pd
import pytest

import lca
from lca import selection
from lca.diagnostics import blrt

from .test_diagnostics import five_class_truth


@pytest.fixture(scope="module")
def gss82():
    return lca.datasets.load_gss82()


@pytest.fixture(scope="module")
def gss82_comparison(gss82):
    return lca.compare(gss82, range(1, 5), n_starts=6, bayes_constant=0, progress=False)


def test_lowest_bic_at_five_on_simulated_five_class_data():
    sizes, cond = five_class_truth()
    data, _ = lca.simulate(sizes, cond, 5000, random_state=11)
    res = lca.compare(data, range(2, 9), n_starts=8, progress=False)
    assert res.best("bic") == 5
    assert res.table.index.tolist() == list(range(2, 9))
    # local dependence disappears once the five classes are there
    assert res.table.loc[4, "max_bvr"] > 10
    assert res.table.loc[5, "max_bvr"] < 3.84


def test_table_values_equal_the_models_fit_stats(gss82, gss82_comparison):
    res = gss82_comparison
    stats_names = list(lca.LatentClassModel(2).fit(gss82).fit_stats().index)
    assert list(res.table.columns) == [*stats_names, *selection.EXTRA_COLUMNS]
    for k in range(1, 5):
        own = res.models[k].fit_stats()
        # compare's split starts: model k starts from model k-1 too
        alone = lca.LatentClassModel(k, n_starts=6, bayes_constant=0).fit(
            gss82, start_from=res.models.get(k - 1)
        )
        for name, value in alone.fit_stats().items():
            assert res.table.loc[k, name] == pytest.approx(own[name], rel=0, abs=0, nan_ok=True)
            assert res.table.loc[k, name] == pytest.approx(value, rel=1e-12, nan_ok=True)
        assert res.table.loc[k, "smallest_class"] == alone.class_sizes_.min()
        assert res.table.loc[k, "n_starts_at_best"] == alone.n_starts_at_best_
        bvr = alone.bivariate_residuals().to_numpy()
        assert res.table.loc[k, "max_bvr"] == pytest.approx(np.nanmax(bvr), rel=1e-12)
    assert res.table.dtypes["n_parameters"] == np.int64
    assert pd.api.types.is_bool_dtype(res.table["converged"])


def test_best_and_its_errors(gss82_comparison):
    assert gss82_comparison.best("bic") == 3
    assert gss82_comparison.best("loglik") == 4
    with pytest.raises(ValueError, match="unknown criterion 'max_bvr'"):
        gss82_comparison.best("max_bvr")


def test_bad_arguments_fail_before_fitting(gss82):
    with pytest.raises(ValueError, match="n_classes is empty"):
        lca.compare(gss82, [])
    with pytest.raises(ValueError, match=">= 1"):
        lca.compare(gss82, [0, 1])
    for k in (2.5, "3", True):
        with pytest.raises(ValueError, match=r"n_classes must be integers >= 1, got"):
            lca.compare(gss82, [1, k])
    with pytest.raises(ValueError, match="n_starts"):
        lca.compare(gss82, [2], n_starts=0)
    with pytest.raises(ValueError, match="n_bootstrap"):
        lca.compare(gss82, [2], blrt=True, n_bootstrap=0)
    with pytest.raises(ValueError, match=r"list or range of numbers of classes.*got 3"):
        lca.compare(gss82, 3)
    with pytest.raises(ValueError, match=r"list or range of numbers of classes.*got '2-4'"):
        lca.compare(gss82, "2-4")  # the command line's notation, not a list


def test_a_k_above_the_number_of_patterns_fails_before_any_fit(monkeypatch):
    data = pd.DataFrame({"a": [0, 1, 0, 1, 0, 1] * 5, "b": [0, 0, 1, 1, 0, 1] * 5})
    assert len(data.drop_duplicates()) == 4

    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted")

    monkeypatch.setattr(lca.LatentClassModel, "_fit_encoded", no_fit)
    with pytest.raises(lca.DataError, match="n_classes=5 exceeds the 4 distinct answer patterns"):
        lca.compare(data, range(1, 6), progress=False)


def test_best_by_a_criterion_nan_for_every_model():
    data = pd.DataFrame(np.random.default_rng(0).integers(1, 3, (100, 3))).astype(float)
    data.iloc[::2, 0] = np.nan  # nobody answers all three: L2 and X2 are NaN
    data.iloc[1::2, 1] = np.nan
    comparison = lca.compare(data, [1, 2], n_starts=2, random_state=0, progress=False)
    with pytest.raises(ValueError, match=r"L2 is NaN for every model \(L2 and X2 need respondents"):
        comparison.best("L2")
    assert comparison.best("bic") in (1, 2)


def test_blrt_column_equals_the_standalone_test(gss82):
    opts = dict(n_starts=4, bayes_constant=0, random_state=3)
    res = lca.compare(gss82, [1, 2, 4], blrt=True, n_bootstrap=5, progress=False, **opts)
    assert math.isnan(res.table.loc[1, "blrt_p"])
    assert sorted(res.blrt) == [2, 4]
    # 4 is tested against a 3-class model fitted for the test; 3 is not in the sweep, so
    # the data's 4-class model had no split starts and neither do its bootstrap fits
    for k, split in ((2, True), (4, False)):
        alone = blrt(gss82, k, n_bootstrap=5, split_starts=split, **opts)
        assert res.table.loc[k, "blrt_p"] == alone.p_value
        np.testing.assert_array_equal(res.blrt[k].bootstrap_statistics, alone.bootstrap_statistics)
    assert 3 not in res.models


def test_weights_column_name(gss82):
    w = np.random.default_rng(0).uniform(0.5, 1.5, len(gss82))
    a = lca.compare(gss82, [2], weights=w, n_starts=2, progress=False)
    b = lca.compare(gss82.assign(wt=w), [2], weights="wt", n_starts=2, progress=False)
    pd.testing.assert_frame_equal(a.table, b.table)


# -- checkpoints -------------------------------------------------------------------------


def _run(data, folder, **kw):
    opts = dict(n_starts=3, progress=False, checkpoint_dir=folder)
    return lca.compare(data, range(1, 4), **{**opts, **kw})


def test_checkpoint_reuses_finished_models(gss82, tmp_path):
    first = _run(gss82, tmp_path)
    assert first.reused == ()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"model_{k}.{ext}" for k in (1, 2, 3) for ext in ("json", "row.json")]
    again = _run(gss82, tmp_path, n_jobs=2)  # n_jobs does not change a fit
    assert again.reused == (1, 2, 3)
    pd.testing.assert_frame_equal(again.table, first.table)
    with pytest.raises(lca.NotFittedError):  # loaded from its file
        again.models[2].bivariate_residuals()
    assert (
        again.models[2].predict(gss82.head()).tolist()
        == first.models[2].predict(gss82.head()).tolist()
    )


def _replacing(data, folder, **kw):
    """``_run``, which must warn that it replaces every model of the folder."""
    with pytest.warns(UserWarning, match=r"holds a model_1.json that this run cannot reuse"):
        res = _run(data, folder, **kw)
    assert res.reused == () and res.replaced == (1, 2, 3)
    return res


def test_checkpoint_refits_when_options_or_data_change(gss82, tmp_path):
    assert _run(gss82, tmp_path).replaced == ()  # an empty folder
    _replacing(gss82, tmp_path, n_starts=4)
    again = _run(gss82, tmp_path, n_starts=4)
    assert again.reused == (1, 2, 3) and again.replaced == ()
    changed = gss82.copy()
    other = next(c for c in gss82["PURPOSE"].cat.categories if c != gss82.loc[0, "PURPOSE"])
    changed.loc[0, "PURPOSE"] = other
    _replacing(changed, tmp_path, n_starts=4)
    w = np.ones(len(gss82))
    w[0] = 2.0
    _replacing(gss82, tmp_path, n_starts=4, weights=w)


def test_checkpoint_ignores_damaged_and_mismatched_files(gss82, tmp_path):
    _run(gss82, tmp_path)
    (tmp_path / "model_1.row.json").write_text('{"format": "lca.compare.checkpoint", "trunc')
    (tmp_path / "model_2.json").write_text("not a model")
    row3 = json.loads((tmp_path / "model_3.row.json").read_text())
    row3["row"]["loglik"] += 1.0  # the model file no longer matches its row
    (tmp_path / "model_3.row.json").write_text(json.dumps(row3))
    (tmp_path / "model_3.json.tmp999").write_text("left by a killed run")
    _replacing(gss82, tmp_path)
    assert not (tmp_path / "model_3.json.tmp999").exists()
    assert _run(gss82, tmp_path).reused == (1, 2, 3)


def test_interrupted_run_loses_only_the_model_in_progress(gss82, tmp_path, monkeypatch):
    original = lca.LatentClassModel._fit_encoded  # what compare calls for every model

    def fit_until_three(self, *args, **kwargs):
        if self.n_classes == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(lca.LatentClassModel, "_fit_encoded", fit_until_three)
    with pytest.raises(KeyboardInterrupt):
        _run(gss82, tmp_path)
    monkeypatch.setattr(lca.LatentClassModel, "_fit_encoded", original)
    res = _run(gss82, tmp_path)
    assert res.reused == (1, 2)
    pd.testing.assert_frame_equal(res.table, _run(gss82, tmp_path / "fresh").table)


def test_compare_encodes_the_data_once_and_equals_separate_fits(gss82, monkeypatch):
    calls = []
    original = lca.LatentClassModel._encode

    def counting(self, *args, **kwargs):
        calls.append(self.n_classes)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(lca.LatentClassModel, "_encode", counting)
    res = lca.compare(gss82, range(1, 5), n_starts=3, progress=False, split_starts=False)
    assert calls == [1]
    assert res.models[1]._patterns is res.models[4]._patterns  # one shared table
    outside = pd.Series(np.arange(len(gss82)) % 3, index=gss82.index)
    for k in range(1, 5):
        alone = lca.LatentClassModel(k, n_starts=3).fit(gss82)
        assert res.models[k].loglik_ == alone.loglik_
        assert res.models[k].predict(gss82).equals(alone.predict(gss82))
        # crosstab reads the fitted rows' posteriors through the shared inverse
        pd.testing.assert_frame_equal(res.models[k].crosstab(outside), alone.crosstab(outside))


def test_checkpoint_reused_when_a_zero_weight_row_holds_a_category(gss82, tmp_path):
    """Categories are learned from rows with positive weight; a saved model is checked
    against those, not against every row's labels."""
    data = gss82.copy()
    data["PURPOSE"] = data["PURPOSE"].cat.add_categories(["Other"])
    data.loc[0, "PURPOSE"] = "Other"
    w = np.ones(len(data))
    w[0] = 0.0
    kw = dict(n_starts=2, progress=False, checkpoint_dir=tmp_path)
    first = lca.compare(data, range(1, 3), weights=w, **kw)
    again = lca.compare(data, range(1, 3), weights=w, **kw)
    assert again.reused == (1, 2)
    pd.testing.assert_frame_equal(again.table, first.table)


def test_checkpoint_keeps_bootstrap_tests(gss82, tmp_path, monkeypatch):
    first = _run(gss82, tmp_path, blrt=True, n_bootstrap=4)

    def no_bootstrap(*args, **kwargs):
        raise AssertionError("the saved test should have been reused")

    with monkeypatch.context() as patch:
        patch.setattr(selection, "bootstrap_lr", no_bootstrap)
        again = _run(gss82, tmp_path, blrt=True, n_bootstrap=4)
    pd.testing.assert_frame_equal(again.table, first.table)
    for k in (2, 3):
        np.testing.assert_array_equal(
            again.blrt[k].bootstrap_statistics, first.blrt[k].bootstrap_statistics
        )
    # other bootstrap settings: tested again, models still reused
    more = _run(gss82, tmp_path, blrt=True, n_bootstrap=5)
    assert more.reused == (1, 2, 3) and more.blrt[2].n_bootstrap == 5


# -- reports and plots -------------------------------------------------------------------


def test_comparison_summary(gss82_comparison):
    summary = gss82_comparison.summary()
    text = summary.as_text()
    table = gss82_comparison.table
    for k in range(1, 5):
        assert f"{table.loc[k, 'bic']:.2f}" in text
        assert f"{table.loc[k, 'entropy_r2']:.3f}" in text
        assert f"{table.loc[k, 'max_bvr']:.2f}" in text
    assert "BIC(LL)" in text and "Lowest value" in text
    frame = summary.to_frame()
    assert frame.index.tolist() == [1, 2, 3, 4]
    assert frame["BIC(LL)"].tolist() == table["bic"].tolist()
    assert summary.to_frame("Lowest value").loc["bic", "n_classes"] == 3
    html = summary.as_html()
    assert html == summary._repr_html_() and "<table" in html
    assert f"{table.loc[3, 'aic3']:.2f}" in html
    sizes = summary.to_frame("Class sizes (%)")
    np.testing.assert_allclose(sizes.sum(axis=1), 100.0)


def test_comparison_plot(gss82_comparison):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig = gss82_comparison.plot()
    assert len(fig.axes) == 2
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "BIC" in labels
    plt.close(fig)
