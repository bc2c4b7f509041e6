"""Summary objects: returned, never printed; text and HTML hold the numbers."""

import json

import numpy as np
import pandas as pd
import pytest

import lca
from lca.results import Summary, fixed, fmt_number, model_summary


@pytest.fixture(scope="module")
def model():
    return lca.LatentClassModel(3, n_starts=6, bayes_constant=0).fit(lca.datasets.load_gss82())


def test_model_summary_text_holds_the_numbers(model, capsys):
    summary = model.summary()
    assert capsys.readouterr().out == ""  # nothing printed
    text = summary.as_text()
    assert str(summary) == text == repr(summary)
    stats = model.fit_stats()
    assert f"{stats['loglik']:.3f}" in text  # -2754.545, poLCA's value
    assert "-2754.545" in text
    assert f"{stats['bic']:.3f}" in text
    assert f"{stats['entropy_r2']:.4f}" in text
    for size in model.class_sizes_:
        assert f"{100 * size:.1f}" in text
    for value in model.avepp():
        assert f"{value:.3f}" in text
    prof = model.profile()
    assert f"{100 * prof.loc[('PURPOSE', 'Good'), 1]:.1f}" in text
    assert "Waste of time and money" in text


def test_model_summary_tables(model):
    summary = model_summary(model)
    assert list(summary.tables) == [
        "Model",
        "Fit statistics",
        "Classes",
        "Classification table (modal)",
        "Profile (%)",
    ]
    profile = summary.to_frame()  # the main table: Table B.9 layout
    assert profile.index[0] == ("Class size", "")
    np.testing.assert_allclose(profile.iloc[0, :3], 100 * model.class_sizes_.to_numpy())
    np.testing.assert_allclose(profile.iloc[1:].to_numpy(), 100 * model.profile().to_numpy())
    assert list(profile.columns) == [1, 2, 3, "Total"]
    fit = summary.to_frame("Fit statistics")["value"]
    pd.testing.assert_series_equal(fit, model.fit_stats(), check_names=False)
    table = summary.to_frame("Classification table (modal)")
    assert table.loc["Total", "Total"] == pytest.approx(model.n_obs_)
    classes = summary.to_frame("Classes")
    np.testing.assert_allclose(classes["AvePP"], model.avepp())
    assert classes["assigned (%)"].sum() == pytest.approx(100.0)
    with pytest.raises(KeyError, match="no table 'nope'"):
        summary.to_frame("nope")
    copy = summary.to_frame()
    copy.iloc[0, 0] = -1.0
    assert summary.to_frame().iloc[0, 0] != -1.0


def test_model_summary_html(model):
    html = model.summary().as_html()
    assert html == model.summary()._repr_html_()
    assert html.count("<table") == 5
    assert "-2754.545" in html
    assert "Waste of time and money" in html
    assert "<h4>Profile (%)</h4>" in html


def test_summary_of_a_loaded_model_equals_the_original(model, tmp_path):
    model.save(tmp_path / "m.json")
    assert lca.load(tmp_path / "m.json").summary().as_text() == model.summary().as_text()


def test_html_escapes_labels():
    s = Summary("<b>title</b>", {"t": pd.DataFrame({"<x>": [1.5]}, index=["<y>"])})
    html = s.as_html()
    assert "<b>" not in html and "&lt;x&gt;" in html and "&lt;y&gt;" in html


def test_formatters():
    assert fmt_number(12) == "12"
    assert fmt_number(12.0) == "12"
    assert fmt_number(-2754.5454) == "-2754.545"
    assert fmt_number(0.123456) == "0.1235"
    assert fmt_number(float("nan")) == ""
    assert fmt_number(np.float32("nan")) == "" and fmt_number(pd.NA) == ""
    assert fmt_number(np.float32(0.5)) == "0.5000"
    assert fmt_number(float("inf")) == "inf"
    assert fmt_number(True) == "yes"
    assert fmt_number("3 of 4") == "3 of 4"
    assert fixed(1)(12.345) == "12.3"
    assert fixed(1)(None) == ""


def test_summary_reports_the_bayes_constants_the_fit_used(tmp_path):
    data = lca.datasets.load_gss82()
    m = lca.LatentClassModel(3, n_starts=2, bayes_constant=1.0, class_bayes_constant=0.0)
    m.fit(data)
    assert (m.bayes_constant_, m.class_bayes_constant_) == (1.0, 0.0)
    m.set_params(bayes_constant=5.0)  # changes the next fit, not this one
    info = m.summary().to_frame("Model")["value"]
    assert info["Bayes constant"] == 1.0 and info["class Bayes constant"] == 0.0
    m.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    assert (loaded.bayes_constant_, loaded.class_bayes_constant_) == (1.0, 0.0)
    assert loaded.summary().as_text() == m.summary().as_text()
    # a file written before the constants were recorded: they come from its options
    content = json.loads((tmp_path / "m.json").read_text())
    for key in ("bayes_constant", "class_bayes_constant"):
        del content["fitted"][key]
    (tmp_path / "old.json").write_text(json.dumps(content))
    old = lca.load(tmp_path / "old.json")
    assert (old.bayes_constant_, old.class_bayes_constant_) == (5.0, 0.0)  # saved options
    one = lca.LatentClassModel(1).fit(data)
    assert one.summary().title == "Latent class model with 1 class"
    assert "class Bayes constant" not in one.summary().to_frame("Model").index


def test_summary_names_what_is_missing():
    table = pd.DataFrame({"x": [1.0]})
    with pytest.raises(ValueError, match="at least one table"):
        Summary("t", {})
    with pytest.raises(KeyError, match=r"no table 'b'; the tables are \['a'\]"):
        Summary("t", {"a": table}).formatted("b")
    with pytest.raises(KeyError, match="no table 'b'"):
        Summary("t", {"a": table}, main="b")


def test_a_model_pickled_before_the_constants_were_recorded_still_reports():
    import pickle

    m = lca.LatentClassModel(2, n_starts=2, bayes_constant=0.5).fit(lca.datasets.load_gss82())
    del m.bayes_constant_, m.class_bayes_constant_  # as a pickle of that time holds it
    old = pickle.loads(pickle.dumps(m))
    assert (old.bayes_constant_, old.class_bayes_constant_) == (0.5, 0.5)  # from its options
    assert old.summary().to_frame("Model")["value"]["Bayes constant"] == 0.5


def test_a_best_that_did_not_replicate_is_noted():
    data = lca.datasets.load_gss82()
    res = lca.compare(data, range(1, 4), n_starts=4, progress=False)
    model = res.models[3]
    model.n_starts_at_best_ = 2
    assert "did not replicate" not in str(model.summary())
    model.n_starts_at_best_ = 1  # as a fit whose best was found once
    note = f"reached by 1 of {len(model.start_objectives_)} finished starts: it did not replicate"
    assert note in str(model.summary())
    res.table["n_starts_at_best"] = [4, 1, 1]
    assert "not replicated (reached by one finished start only) at 2, 3 classes" in str(
        res.summary()
    )
    res.table["n_starts_at_best"] = [4, 3, 2]
    assert "not replicated" not in str(res.summary())
    single = lca.compare(data, range(2, 4), n_starts=1, n_final=1, split_starts=False,
                         pattern_starts=0, progress=False)  # fmt: skip
    assert len(single.models[2].start_objectives_) == 1  # nothing to replicate with
    assert "not replicated" not in str(single.summary())
