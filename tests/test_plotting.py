"""Plots render (Agg backend); matplotlib is optional and its absence is explained."""

import itertools
import sys

import numpy as np
import pandas as pd
import pytest

import lca

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lca import plotting  # noqa: E402


@pytest.fixture(scope="module")
def model():
    data = lca.datasets.load_election().iloc[:, :12]
    return lca.LatentClassModel(4, n_starts=3).fit(data)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_profile_bars_one_panel_per_indicator(model, tmp_path):
    fig = model.plot_profile()
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 12
    assert visible[0].get_title() == "MORALG"
    bars = [p for p in visible[0].patches]
    assert len(bars) == 4 * 4  # 4 categories x 4 classes
    heights = sorted(b.get_height() for b in bars)
    expected = sorted(100 * model.conditional_probs_["MORALG"].to_numpy().ravel())
    np.testing.assert_allclose(heights, expected)
    fig.savefig(tmp_path / "bars.png")
    assert (tmp_path / "bars.png").stat().st_size > 10_000


def test_profile_heatmap(model, tmp_path):
    fig = plotting.plot_profile(model, kind="heatmap", percent=False, title="t")
    image = fig.axes[0].get_images()[0]
    np.testing.assert_allclose(image.get_array(), model._cond_probs)
    assert fig._suptitle.get_text() == "t"
    fig.savefig(tmp_path / "heat.png")


def test_profile_of_a_loaded_model(model, tmp_path):
    model.save(tmp_path / "m.json")
    fig = lca.load(tmp_path / "m.json").plot_profile(ncols=4)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 12


def test_bad_kind(model):
    with pytest.raises(ValueError, match="kind must be 'bars' or 'heatmap'"):
        model.plot_profile(kind="pie")
    for ncols in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="ncols must be an integer >= 1 or None"):
            model.plot_profile(ncols=ncols)


def test_classes_beyond_20_get_distinct_colours():
    sizes = np.full(25, 1 / 25)
    probs = np.random.default_rng(0).dirichlet(np.ones(3), size=25).T
    m = lca.LatentClassModel.from_parameters(sizes, {"q": probs})
    bars = m.plot_profile().axes[0].patches
    assert len(bars) == 3 * 25
    assert len({tuple(b.get_facecolor()) for b in bars}) == 25


def test_criteria_plot_marks_the_lowest_bic():
    res = lca.compare(lca.datasets.load_gss82(), range(1, 5), n_starts=4, bayes_constant=0,
                      progress=False, blrt=True, n_bootstrap=3)  # fmt: skip
    fig = plotting.plot_criteria(res, criteria=["bic"])
    lines = fig.axes[0].get_lines()
    assert lines[0].get_label() == "BIC"
    star = lines[1]
    assert star.get_xdata()[0] == res.best("bic")
    assert "BLRT p" in [ln.get_label() for ln in fig.axes[1].get_lines()]
    assert len(res.plot(shares=None).axes) == 1
    with pytest.raises(ValueError, match="no column"):
        res.plot(criteria=["nope"])
    # one name works as a list of one; the log-likelihood's star is at its highest
    fig = res.plot(criteria="loglik", shares="entropy_r2")
    star = fig.axes[0].get_lines()[1]
    assert star.get_xdata()[0] == res.best("loglik") == 4
    assert "highest for" in fig.axes[0].get_ylabel()
    assert [ln.get_label() for ln in fig.axes[1].get_lines()] == ["entropy R\u00b2"]


def test_without_matplotlib_the_error_names_the_extra(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install lca\[plot\]"):
        model.plot_profile()


def _extent(fig, artist):
    return artist.get_window_extent(fig.canvas.get_renderer())


def test_long_names_and_labels_stay_inside_their_panels():
    rng = np.random.default_rng(0)
    question = "How satisfied were you with the service you received from the agency overall?"
    answers = ["Very satisfied indeed", "Neither satisfied nor dissatisfied", "Very dissatisfied"]
    data = pd.DataFrame(
        {
            question: rng.choice(answers, 400),
            "Did the other parent pay maintenance regularly in the last year": rng.choice(
                ["Yes, always on time", "No, never paid"], 400
            ),
            "q3": rng.choice(["a", "b"], 400),
        }
    )
    model = lca.LatentClassModel(2, random_state=0).fit(data)
    fig = model.plot_profile(ncols=3)
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    titles = [_extent(fig, ax.title) for ax in panels]
    for left, right in itertools.pairwise(titles):
        assert left.x1 <= right.x0  # titles do not run into each other
    ticks = [_extent(fig, t) for ax in panels for t in ax.get_xticklabels()]
    for left, right in itertools.pairwise(ticks):
        if left.x0 < right.x0:  # neighbours on the same panel or the next
            assert left.x1 <= right.x0 or left.y1 <= right.y0 or right.y1 <= left.y0
    # what the plot shortens, the table keeps whole
    assert panels[0].title.get_text().replace("\n", " ") == question
    assert question in model.profile().index.get_level_values(0)


def test_wrap_cuts_with_an_ellipsis():
    assert plotting._wrap("short", 10, 2) == "short"
    assert plotting._wrap("a b c d e f g h i j k l", 10, 2) == "a b c d e\nf g h i j\u2026"
    assert plotting._wrap("x" * 50, 10, 2) == "x" * 9 + "\u2026"
    assert plotting._wrap("", 10, 1) == ""


def test_title_legend_and_panels_do_not_overlap_and_presets_name_the_classes():
    preset = lca.presets.get("service-use")  # 14 indicators: a tall figure
    data, _ = preset.simulate(1000, random_state=0)
    model = preset.fit(data, n_starts=2, random_state=0)
    fig = model.plot_profile()
    fig.canvas.draw()
    legend = fig.legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[3].startswith("4. Brief, less personalised contact (")
    title, box = _extent(fig, fig._suptitle), _extent(fig, legend)
    panels = [_extent(fig, ax.title) for ax in fig.axes if ax.get_visible()]
    assert title.y0 >= box.y1 - 1  # the title above the legend
    assert box.y0 >= max(p.y1 for p in panels) - 1  # the legend above the panels
    assert box.x1 - box.x0 <= fig.bbox.width  # and inside the figure


def test_thirty_categories_get_labels_that_do_not_overprint():
    rng = np.random.default_rng(0)
    regions = [f"R\u00e9gion n\u00b0{i} \u2013 une \u00e9tiquette longue" for i in range(30)]
    data = pd.DataFrame(
        {
            "region": rng.choice(regions, 900),
            "q2": rng.choice(["oui", "non"], 900),
            "q3": rng.choice(["a", "b", "c"], 900),
        }
    )
    model = lca.LatentClassModel(2, random_state=0, n_starts=2).fit(data)
    fig = model.plot_profile()
    fig.canvas.draw()
    ticks = [_extent(fig, t) for t in fig.axes[0].get_xticklabels()]
    for left, right in itertools.pairwise(ticks):
        assert left.x1 <= right.x0 + 0.5
    assert all(t.y0 >= 0 for t in ticks)  # inside the figure


def test_labels_cut_to_the_same_text_stay_distinct():
    """Two answers that differ only after the cut ("...on housing", "...on health") must
    not read the same under their bars or on their heatmap rows."""
    rng = np.random.default_rng(0)
    answers = np.array(
        [
            "I agree with the government's policy on housing",
            "I agree with the government's policy on health",
            "I disagree",
        ]
    )
    data = pd.DataFrame({f"q{j}": answers[rng.integers(0, 3, 200)] for j in range(4)})
    model = lca.LatentClassModel(2, n_starts=2).fit(data)
    fig = model.plot_profile()
    for ax in fig.axes:
        if ax.get_visible() and ax.get_xticklabels():
            ticks = [t.get_text() for t in ax.get_xticklabels()]
            assert len(set(ticks)) == 3, ticks
            assert any("housing" in t for t in ticks) and any("health" in t for t in ticks)
    plt.close(fig)
    fig = model.plot_profile(kind="heatmap")
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(set(rows)) == len(rows) == 12
    plt.close(fig)
    assert plotting._wrap_all(["a" * 30 + "x", "a" * 31 + "x"], 10, 1) == [
        "aaaa\u2026aaax [1]",
        "aaaa\u2026aaax [2]",
    ]
    # a label made from the ends that equals another text's: numbered too, in order
    # (the groups were once visited in set order, which changes with the hash seed)
    assert plotting._wrap_all(
        ["abcdefghijkl_END1", "abcdefghijkl_END2", "abcd\u2026END1"], 10, 1
    ) == [
        "abcd\u2026END1 [1]",
        "abcd\u2026END2",
        "abcd\u2026END1 [2]",
    ]


def test_a_multiple_group_model_plots_one_profile_per_group():
    df = lca.datasets.load_election()
    data = df.loc[df["GENDER"].notna(), [*df.columns[:4], "GENDER"]]
    m = lca.MultiGroupModel(2, free=["MORALG"], n_starts=2).fit(data, "GENDER")
    figures = m.plot_profile()
    assert [f.texts[0].get_text() for f in figures] == [
        "GENDER = 1: profile of the 2-class model",
        "GENDER = 2: profile of the 2-class model",
    ]
    for g, fig in zip(m.groups_, figures):  # the MORALG panel's bars: that group's own
        heights = sorted(round(p.get_height(), 6) for p in fig.axes[0].patches)
        expected = sorted(
            round(100 * v, 6) for v in m.conditional_probs_["MORALG"][g].to_numpy().ravel()
        )
        assert heights == expected
    heat = m.plot_profile("heatmap", title="same")
    assert len(heat) == 2 and heat[1].texts[0].get_text() == "same"
