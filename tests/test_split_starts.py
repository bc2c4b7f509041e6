"""Starts from a fitted model: ``fit(start_from=...)``, split starts, ``compare(split_starts=)``."""

import numpy as np
import pandas as pd
import pytest

import lca
from lca import _em, _kernels

from .test_diagnostics import five_class_truth


@pytest.fixture(scope="module")
def gss82():
    return lca.datasets.load_gss82()


@pytest.fixture(scope="module")
def three(gss82):
    return lca.LatentClassModel(3, n_starts=6, bayes_constant=0).fit(gss82)


def _loglik(model, log_class, log_cond):
    return _kernels.estep(
        model._patterns, model._pattern_weights, model._offsets, log_class, log_cond, False
    )[0]


def test_unperturbed_split_leaves_the_likelihood_unchanged(three):
    """Two identical halves of a class are the same mixture: LL equal to rounding."""
    m = three
    rng = np.random.default_rng(0)
    ordinal = np.zeros(len(m._offsets) - 1, dtype=bool)
    starts = _em.split_starts(m._log_class, m._log_cond, m._offsets, ordinal, rng, scale=0.0)
    assert len(starts) == 3
    for c, (log_class, log_cond) in enumerate(starts):
        assert log_class.shape == (4,) and log_cond.shape == (m._log_cond.shape[0], 4)
        np.testing.assert_allclose(np.exp(log_class[[c, 3]]), np.exp(m._log_class[c]) / 2)
        np.testing.assert_allclose(log_cond[:, [c, 3]], m._log_cond[:, [c, c]], atol=1e-14)
        assert _loglik(m, log_class, log_cond) == pytest.approx(m.loglik_, rel=1e-12)


def test_perturbed_split_is_a_valid_start_that_differs_between_halves(three):
    m = three
    rng = np.random.default_rng(1)
    ordinal = np.zeros(len(m._offsets) - 1, dtype=bool)
    for c, (log_class, log_cond) in enumerate(
        _em.split_starts(m._log_class, m._log_cond, m._offsets, ordinal, rng)
    ):
        assert np.exp(log_class).sum() == pytest.approx(1.0, abs=1e-12)
        for j in range(len(m._offsets) - 1):
            block = np.exp(log_cond[m._offsets[j] : m._offsets[j + 1]])
            np.testing.assert_allclose(block.sum(axis=0), 1.0, atol=1e-12)
        others = [k for k in range(3) if k != c]
        np.testing.assert_array_equal(log_cond[:, others], m._log_cond[:, others])
        assert np.abs(log_cond[:, c] - log_cond[:, 3]).max() > 0.1


def test_split_of_an_ordinal_indicator_stays_adjacent_category():
    """log P(c|k) = a_c + b_k c - norm_k: the double difference in (c, k) is c * d_k."""
    offsets = np.array([0, 5, 8])
    ordinal = np.array([True, False])
    rng = np.random.default_rng(2)
    a = rng.normal(size=5)
    b = np.array([-0.5, 0.7])
    eta = a[:, None] + np.arange(5)[:, None] * b[None, :]
    log_cond = np.vstack(
        [eta - np.logaddexp.reduce(eta, axis=0), np.log(rng.dirichlet(np.ones(3), size=2).T)]
    )
    log_class = np.log([0.6, 0.4])
    for _, log_cond_k in _em.split_starts(log_class, log_cond, offsets, ordinal, rng):
        block = log_cond_k[:5]
        diff = (block - block[0]) - (block[:, [0]] - block[0, 0])
        np.testing.assert_allclose(diff, np.arange(5)[:, None] * diff[1], atol=1e-12)
        assert np.abs(diff[1, 1:]).max() > 1e-3  # the classes' effects differ


def test_start_from_the_same_model_ends_where_it_started(gss82, three):
    refit = lca.LatentClassModel(3, n_starts=1, bayes_constant=0, random_state=5).fit(
        gss82, start_from=three
    )
    assert refit.loglik_ >= three.loglik_ - 1e-9 * abs(three.loglik_)
    np.testing.assert_allclose(refit.class_sizes_, three.class_sizes_, atol=1e-5)
    assert refit.n_iter_ < 10  # converged already


def test_start_from_a_smaller_model_adds_one_start_per_class(gss82):
    two = lca.LatentClassModel(2, n_starts=4, bayes_constant=0).fit(gss82)
    opts = {"n_starts": 2, "bayes_constant": 0}
    m = lca.LatentClassModel(3, n_final=4, pattern_starts=0, **opts).fit(gss82, start_from=two)
    assert m.start_objectives_.shape == (4,)  # 2 random + 2 split starts, all finished
    # the random starts are the same draws as without start_from
    plain = lca.LatentClassModel(3, n_final=4, **opts).fit(gss82)
    np.testing.assert_array_equal(m.start_objectives_[:2], plain.start_objectives_)
    # pattern starts: the best 2 of them after screening come after those 4
    both = lca.LatentClassModel(3, n_final=6, pattern_starts=5, **opts).fit(gss82, start_from=two)
    assert both.start_objectives_.shape == (6,)
    np.testing.assert_array_equal(both.start_objectives_[:4], m.start_objectives_)


def test_start_from_with_the_wrong_model_says_what_is_wrong(gss82, three):
    with pytest.raises(ValueError, match=r"start_from has 3 classes.*n_classes=5"):
        lca.LatentClassModel(5).fit(gss82, start_from=three)
    with pytest.raises(TypeError, match="fitted LatentClassModel"):
        lca.LatentClassModel(4).fit(gss82, start_from=lca.LatentClassModel(3))
    with pytest.raises(ValueError, match=r"start_from has 3 classes.*n_classes=1"):
        lca.LatentClassModel(1).fit(gss82, start_from=three)
    renamed = gss82.rename(columns={"PURPOSE": "purpose"})
    with pytest.raises(ValueError, match=r"other indicators.*column 'purpose' here is 'PURPOSE'"):
        lca.LatentClassModel(4).fit(renamed, start_from=three)
    ordinal = lca.LatentClassModel(4, ordinal=["PURPOSE"], categories={
        "PURPOSE": list(gss82["PURPOSE"].cat.categories)
    })  # fmt: skip
    with pytest.raises(ValueError, match="ordinal"):
        ordinal.fit(gss82, start_from=three)


def test_start_from_survives_a_model_file(gss82, three, tmp_path):
    path = tmp_path / "three.json"
    three.save(path)
    loaded = lca.load(path)
    kw = dict(n_starts=2, bayes_constant=0, random_state=3)
    a = lca.LatentClassModel(4, **kw).fit(gss82, start_from=three)
    b = lca.LatentClassModel(4, **kw).fit(gss82, start_from=loaded)
    assert a.loglik_ == b.loglik_
    np.testing.assert_array_equal(a._cond_probs, b._cond_probs)


def test_compare_split_starts_reproducible_whatever_n_jobs(monkeypatch):
    sizes, cond = five_class_truth()
    data, _ = lca.simulate(sizes, cond, 3000, random_state=4)
    seen = []
    original = lca.LatentClassModel._fit_encoded  # what compare calls for every model

    def spy(self, encoded, progress=False, start_from=None):
        seen.append((self.n_classes, None if start_from is None else start_from.n_classes))
        return original(self, encoded, progress, start_from)

    monkeypatch.setattr(lca.LatentClassModel, "_fit_encoded", spy)
    kw = dict(n_starts=4, bayes_constant=0, progress=False)
    split = lca.compare(data, range(2, 7), **kw)
    assert seen == [(2, None), (3, 2), (4, 3), (5, 4), (6, 5)]
    again = lca.compare(data, range(2, 7), n_jobs=2, **kw)
    pd.testing.assert_frame_equal(split.table, again.table)
    seen.clear()
    plain = lca.compare(data, [2, 3, 5], split_starts=False, **kw)
    assert seen == [(2, None), (3, None), (5, None)]
    # the true K: both searches reach the maximum that 40 random starts find
    best5 = lca.LatentClassModel(5, n_starts=40, bayes_constant=0).fit(data).loglik_
    assert split.table.loc[5, "loglik"] == pytest.approx(best5, rel=1e-9)
    assert plain.table.loc[5, "loglik"] == pytest.approx(best5, rel=1e-9)


def test_checkpoint_written_without_split_starts_is_not_reused_with_them(gss82, tmp_path):
    opts = dict(n_starts=3, progress=False, checkpoint_dir=tmp_path)
    first = lca.compare(gss82, range(1, 4), split_starts=False, **opts)
    assert first.reused == ()
    assert lca.compare(gss82, range(1, 4), split_starts=False, **opts).reused == (1, 2, 3)
    with pytest.warns(UserWarning, match="holds a model_1.json that this run cannot reuse"):
        split = lca.compare(gss82, range(1, 4), **opts)
    assert split.reused == () and split.replaced == (1, 2, 3)
    # resuming: model 3 refitted from model 2 read back from its file gives the same fit
    (tmp_path / "model_3.json").unlink()
    resumed = lca.compare(gss82, range(1, 4), **opts)
    assert resumed.reused == (1, 2)
    pd.testing.assert_frame_equal(resumed.table, split.table)


def test_start_from_with_other_categories_names_the_column(gss82, three):
    fewer = gss82[gss82["PURPOSE"] != "Depends"].copy()
    fewer["PURPOSE"] = fewer["PURPOSE"].cat.remove_unused_categories()
    with pytest.raises(ValueError, match="column 'PURPOSE' has categories"):
        lca.LatentClassModel(4).fit(fewer, start_from=three)


# -- merge starts ---------------------------------------------------------------------


def test_merging_two_identical_halves_gives_back_the_model(three):
    """Split a class without perturbation, merge the two halves: the same model."""
    m = three
    ordinal = np.zeros(len(m._offsets) - 1, dtype=bool)
    rng = np.random.default_rng(0)
    for c, split in enumerate(
        _em.split_starts(m._log_class, m._log_cond, m._offsets, ordinal, rng, scale=0.0)
    ):
        merges = _em.merge_starts(*split, m._offsets, ordinal)
        assert len(merges) == 4 * 3 // 2
        pairs = [(a, b) for a in range(4) for b in range(a + 1, 4)]
        log_class, log_cond = merges[pairs.index((c, 3))]
        order = [k for k in range(3) if k != c] + [c]  # the merged class comes last
        np.testing.assert_allclose(log_class, m._log_class[order], atol=1e-12)
        np.testing.assert_allclose(log_cond, m._log_cond[:, order], atol=1e-12)


def test_merged_nominal_class_is_the_mixture_of_the_pair(three):
    m = three
    ordinal = np.zeros(len(m._offsets) - 1, dtype=bool)
    merges = _em.merge_starts(m._log_class, m._log_cond, m._offsets, ordinal)
    log_class, log_cond = merges[0]  # classes 1 and 2 merged, class 3 kept first
    p = np.exp(m._log_class)
    mixture = (p[0] * np.exp(m._log_cond[:, 0]) + p[1] * np.exp(m._log_cond[:, 1])) / (p[0] + p[1])
    np.testing.assert_allclose(np.exp(log_cond[:, 1]), mixture, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_class), [p[2], p[0] + p[1]], rtol=1e-12)
    np.testing.assert_array_equal(log_cond[:, 0], m._log_cond[:, 2])


def test_merged_ordinal_class_stays_adjacent_category():
    offsets = np.array([0, 5])
    ordinal = np.array([True])
    b = np.array([-0.5, 0.3, 0.9])
    eta = np.random.default_rng(3).normal(size=5)[:, None] + np.arange(5)[:, None] * b[None, :]
    log_cond = eta - np.logaddexp.reduce(eta, axis=0)
    for _, merged in _em.merge_starts(np.log([0.5, 0.3, 0.2]), log_cond, offsets, ordinal):
        diff = (merged - merged[0]) - (merged[:, [0]] - merged[0, 0])
        np.testing.assert_allclose(diff, np.arange(5)[:, None] * diff[1], atol=1e-12)
        np.testing.assert_allclose(np.exp(merged).sum(axis=0), 1.0, atol=1e-12)


def test_start_from_a_larger_model_adds_one_start_per_pair(gss82, three):
    m = lca.LatentClassModel(2, n_starts=1, n_final=10, bayes_constant=0).fit(
        gss82, start_from=[three]
    )
    assert m.start_objectives_.shape == (1 + 3,)


def test_merging_two_empty_classes_gives_a_finite_start():
    offsets = np.array([0, 2, 5])
    log_cond = np.log(np.random.default_rng(0).dirichlet(np.ones(2), size=(1, 3)))[0].T
    log_cond = np.vstack([log_cond, np.log(np.full((3, 3), 1 / 3))])
    log_class = np.array([-np.inf, -np.inf, 0.0])
    with np.errstate(all="raise"):
        merges = _em.merge_starts(log_class, log_cond, offsets, np.array([False, True]))
    assert not any(np.isnan(p).any() or np.isnan(c).any() for c, p in merges)
    np.testing.assert_allclose(np.exp(merges[0][1][:, -1])[:2].sum(), 1.0)  # a distribution


def test_compare_merge_starts_follows_its_rule():
    """Down from the top: K refitted from [final K+1, K of the way up] with no random
    starts, kept only if its objective is higher; computed here step by step."""
    sizes, cond = five_class_truth()
    data, _ = lca.simulate(sizes, cond, 1500, random_state=10)
    kw = dict(n_starts=2, bayes_constant=0)
    up = lca.compare(data, range(2, 8), progress=False, **kw)
    final = {7: up.models[7]}
    for k in range(6, 1, -1):
        refit = lca.LatentClassModel(k, **{**kw, "n_starts": 0, "n_final": 2}).fit(
            data, start_from=[final[k + 1], up.models[k]]
        )
        better = refit.loglik_ > up.models[k].loglik_ + 1e-6 * abs(up.models[k].loglik_)
        final[k] = refit if better else up.models[k]
    both = lca.compare(data, range(2, 8), merge_starts=True, progress=False, **kw)
    for k in range(2, 8):
        assert both.table.loc[k, "loglik"] == final[k].loglik_
        assert both.table.loc[k, "loglik"] >= up.table.loc[k, "loglik"]
    # here (these data and seeds) the way down improves the 6-class model
    assert both.table.loc[6, "loglik"] > up.table.loc[6, "loglik"] + 0.01


def test_compare_merge_starts_with_a_checkpoint_equals_without(tmp_path):
    sizes, cond = five_class_truth()
    data, _ = lca.simulate(sizes, cond, 1500, random_state=10)
    kw = dict(n_starts=2, bayes_constant=0, progress=False, merge_starts=True)
    plain = lca.compare(data, range(2, 8), **kw)
    first = lca.compare(data, range(2, 8), checkpoint_dir=tmp_path, **kw)
    pd.testing.assert_frame_equal(first.table, plain.table)
    again = lca.compare(data, range(2, 8), checkpoint_dir=tmp_path, **kw)
    pd.testing.assert_frame_equal(again.table, plain.table)
    # the models of the way up are reused; a K the way down improved is not "reused"
    up = {k: lca.load(tmp_path / f"model_{k}.json") for k in range(2, 8)}  # the way up's
    improved = [k for k in range(2, 8) if again.models[k].loglik_ > up[k].loglik_]
    assert improved == [6]
    assert again.models[6].n_starts == 2  # the refit keeps the sweep's options
    assert set(again.reused) == set(range(2, 8)) - set(improved)


def test_checkpoint_of_a_sweep_with_gaps_is_not_reused_for_split_starts(gss82, tmp_path):
    """Model 4 of compare([2, 4]) had no 3-class model to split: a later
    compare(range(2, 5)) in the same folder must fit it again."""
    kw = dict(n_starts=2, bayes_constant=0, progress=False, checkpoint_dir=tmp_path)
    lca.compare(gss82, [2, 4], **kw)
    with pytest.warns(UserWarning, match="holds a model_4.json that this run cannot reuse"):
        extended = lca.compare(gss82, range(2, 5), **kw)
    assert extended.reused == (2,) and extended.replaced == (4,)  # 3 is new
    alone = lca.compare(gss82, range(2, 5), n_starts=2, bayes_constant=0, progress=False)
    pd.testing.assert_frame_equal(extended.table, alone.table)
