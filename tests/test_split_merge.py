"""Split-and-merge refinement after the starts: ``LatentClassModel(split_merge=...)``."""

import itertools

import numpy as np
import pytest

import lca
from lca import _em, _kernels

from .test_diagnostics import five_class_truth


@pytest.fixture(scope="module")
def five():
    sizes, cond = five_class_truth()
    df, _ = lca.simulate(sizes, cond, 1500, random_state=3)
    return df


@pytest.fixture(scope="module")
def global_max(five):
    """The maximum likelihood found by 200 random starts, 50 of which agree on it."""
    model = lca.LatentClassModel(5, n_starts=200, bayes_constant=0).fit(five)
    assert model.n_starts_at_best_ >= 20
    return model.loglik_


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_moves_enumerate_every_pair_and_split_once(n_classes):
    """K(K-1)/2 merged pairs x (K-1) classes left to split, each exactly once."""
    rng = np.random.default_rng(0)
    moves = _em.split_merge_moves(n_classes, rng)
    expected = set(itertools.product(range(n_classes * (n_classes - 1) // 2), range(n_classes - 1)))
    assert len(moves) == len(expected) and set(moves) == expected


@pytest.mark.parametrize("seed", [5, 7, 9, 10])
def test_one_bad_start_is_repaired_to_the_global_maximum(five, global_max, seed):
    """These single starts stop 550-640 log-likelihood units below the maximum (two true
    classes fused, another one split); 40 moves reach the maximum 200 starts agree on."""
    one = lca.LatentClassModel(5, n_starts=1, bayes_constant=0, random_state=seed).fit(five)
    assert one.loglik_ < global_max - 500
    fixed = lca.LatentClassModel(
        5, n_starts=1, split_merge=40, bayes_constant=0, random_state=seed
    ).fit(five)
    assert fixed.loglik_ == pytest.approx(global_max, rel=1e-9)
    assert fixed.n_starts_at_best_ == 0  # found by a move, not by the start
    assert "best from a split-merge move" in str(fixed.summary())
    assert fixed.start_objectives_.shape == one.start_objectives_.shape


def test_refined_solution_is_an_em_fixed_point(five):
    """The refined parameters are a converged maximum: one more EM step barely moves them."""
    m = lca.LatentClassModel(
        5, n_starts=1, split_merge=40, bayes_constant=0, random_state=5, tol=1e-12
    ).fit(five)
    assert m.converged_
    ordinal = np.zeros(len(m._offsets) - 1, dtype=bool)
    rows = _kernels.pattern_rows(m._patterns, m._offsets)
    out = _kernels.run_em(
        m._patterns, rows, m._pattern_weights, m._offsets, m._log_class, m._log_cond,
        0.0, np.zeros(m._log_cond.shape[0]), ordinal, 2, 0.0, False,
    )  # fmt: skip
    assert out[3] == pytest.approx(m.loglik_, rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_split_merge_never_lowers_the_objective(five, seed):
    base = lca.LatentClassModel(4, n_starts=3, random_state=seed).fit(five)
    refined = lca.LatentClassModel(4, n_starts=3, split_merge=20, random_state=seed).fit(five)
    objective = base.loglik_ + base.log_prior_
    assert refined.loglik_ + refined.log_prior_ >= objective - 1e-9 * abs(objective)
    np.testing.assert_array_equal(refined.start_objectives_, base.start_objectives_)


def test_split_merge_with_ordinal_indicators_keeps_them_ordinal(five):
    data = five.copy()
    m = lca.LatentClassModel(
        4, n_starts=2, split_merge=20, ordinal=["q2", "q3"], random_state=1
    ).fit(data)
    base = lca.LatentClassModel(4, n_starts=2, ordinal=["q2", "q3"], random_state=1).fit(data)
    assert m.loglik_ + m.log_prior_ >= base.loglik_ + base.log_prior_ - 1e-6
    # adjacent-category model: log P(c|k) - log P(c-1|k) differs between classes by
    # a class effect times 1, the same for every c
    logp = np.log(m.conditional_probs_["q2"].to_numpy())
    effects = np.diff(logp, axis=0) - np.diff(logp, axis=0)[:, :1]
    np.testing.assert_allclose(effects, np.broadcast_to(effects[:1], effects.shape), atol=1e-8)


def test_split_merge_same_bits_whatever_n_jobs(five):
    fits = [
        lca.LatentClassModel(5, n_starts=2, split_merge=30, random_state=7, n_jobs=n).fit(five)
        for n in (1, 2)
    ]
    np.testing.assert_array_equal(fits[0]._log_cond, fits[1]._log_cond)
    assert fits[0].loglik_ == fits[1].loglik_


def test_split_merge_is_saved_with_the_model(five, tmp_path):
    m = lca.LatentClassModel(3, n_starts=2, split_merge=5).fit(five)
    m.save(tmp_path / "m.json")
    assert lca.load(tmp_path / "m.json").split_merge == 5


def test_negative_split_merge_is_refused(five):
    with pytest.raises(ValueError, match="split_merge"):
        lca.LatentClassModel(3, split_merge=-1).fit(five)
