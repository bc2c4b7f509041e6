"""Pattern starts: a new class seeded at the answer patterns a (K-1)-class model fits worst."""

import numpy as np
import pandas as pd
import pytest

import lca
from lca import _em

from . import naive


def _pattern_table(rng, n, n_cats, missing):
    codes = np.stack([rng.integers(0, c, size=n) for c in n_cats], axis=1)
    codes[rng.random(codes.shape) < missing] = -1
    table, inverse = np.unique(codes, axis=0, return_inverse=True)
    weights = np.bincount(inverse.ravel(), weights=rng.uniform(0.5, 2.0, size=n))
    return table.astype(np.int16), weights


def test_pattern_starts_seed_the_worst_fitted_patterns_as_hand_computed():
    rng = np.random.default_rng(3)
    n_cats = [2, 3, 4, 3]
    patterns, weights = _pattern_table(rng, 400, n_cats, missing=0.15)
    sizes = np.array([0.7, 0.3])
    blocks = [rng.dirichlet(np.ones(c), size=2).T for c in n_cats]
    log_cond, offsets = naive.flat([np.log(b) for b in blocks])
    ordinal = np.array([False, False, True, False])  # indicator 2: its column is copied

    starts = _em.pattern_starts(np.log(sizes), log_cond, offsets, ordinal, patterns, weights, 6)

    # independent: Pearson residuals of the pattern counts under the 2-class model
    post, ll = naive.posteriors(patterns, np.log(sizes), blocks)
    expected = weights.sum() * np.exp(ll)
    resid = (weights - expected) / np.sqrt(expected)
    seeds = [i for i in np.argsort(-resid, kind="stable") if resid[i] > 0][:6]
    assert len(starts) == 6
    for (log_class, cond), i in zip(starts, seeds):
        np.testing.assert_allclose(np.exp(log_class), [0.7 * 0.99, 0.3 * 0.99, 0.01])
        np.testing.assert_array_equal(cond[:, :2], log_cond)
        home = int(np.argmax(post[i]))
        for j, c_j in enumerate(n_cats):
            col = np.exp(cond[offsets[j] : offsets[j + 1], 2])
            code = patterns[i, j]
            if code < 0 or ordinal[j]:
                np.testing.assert_allclose(col, blocks[j][:, home], rtol=1e-12)
            else:
                want = np.full(c_j, 0.3 / (c_j - 1))
                want[code] = 0.7
                np.testing.assert_allclose(col, want, rtol=1e-12)


def test_pattern_starts_only_seed_patterns_seen_more_often_than_expected():
    """Observed 4, 1, 2, 3 against expected 3, 2, 3, 2 under independence."""
    patterns = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int16)
    weights = np.array([4.0, 1.0, 2.0, 3.0])
    offsets = np.array([0, 2, 4])
    # one class: the two answers independent, with the table's margins
    p = np.array([[0.5, 0.5], [0.6, 0.4]])
    log_cond = np.log(np.concatenate([p[0], p[1]]))[:, None]
    ordinal = np.zeros(2, dtype=bool)
    starts = _em.pattern_starts(np.zeros(1), log_cond, offsets, ordinal, patterns, weights, 10)
    # observed 4, 1, 2, 3 against expected 3, 2, 3, 2: patterns 0 and 3 are under-predicted
    # with residuals 1/sqrt(3) and 1/sqrt(2), so pattern 3 comes first
    assert len(starts) == 2
    np.testing.assert_allclose(np.exp(starts[0][1][:, 1]), [0.3, 0.7, 0.3, 0.7])
    np.testing.assert_allclose(np.exp(starts[1][1][:, 1]), [0.7, 0.3, 0.7, 0.3])


@pytest.fixture(scope="module")
def small_class_data():
    """Two large classes and one of 1.5% with an answer pattern of its own."""
    n_items = 8
    big_a = np.full(n_items, 0.8)
    big_b = np.full(n_items, 0.2)
    small = np.array([0.95, 0.05] * (n_items // 2))  # yes, no, yes, no, ...
    probs = {f"q{j}": [[1 - big_a[j], 1 - big_b[j], 1 - small[j]], [big_a[j], big_b[j], small[j]]]
             for j in range(n_items)}  # fmt: skip
    df, truth = lca.simulate([0.6, 0.385, 0.015], probs, 6000, random_state=11)
    return df, truth, small


def test_pattern_starts_recover_a_small_class_of_known_profile(small_class_data):
    df, truth, small = small_class_data
    opts = {"bayes_constant": 0.0, "tol": 1e-9, "random_state": 0}
    two = lca.LatentClassModel(2, n_starts=10, **opts).fit(df)
    three = lca.LatentClassModel(3, n_starts=0, pattern_starts=20, **opts).fit(df, start_from=two)
    sizes = three.class_sizes_.to_numpy()
    assert sizes.min() == pytest.approx(0.015, abs=0.006)
    k_small = int(np.argmin(sizes))
    label = three.class_sizes_.index[k_small]
    p_yes = np.array([three.conditional_probs_[f"q{j}"].loc[2, label] for j in range(8)])
    np.testing.assert_allclose(p_yes, small, atol=0.15)
    # most respondents of the true small class (class 3) are assigned to it
    hit = (three.predict(df).to_numpy() == label) & (truth.to_numpy() == 3)
    assert hit.sum() >= 0.6 * (truth.to_numpy() == 3).sum()


@pytest.mark.parametrize("max_iter", [3, 10, 11, 40])
def test_screened_starts_keep_to_the_e_step_budget(small_class_data, max_iter):
    df, _, _ = small_class_data
    two = lca.LatentClassModel(2, n_starts=2, bayes_constant=0.0).fit(df)
    seen = []
    real = _em._run

    def spy(data, start, iters, *args):
        out = real(data, start, iters, *args)
        seen.append((iters, int(out[4])))
        return out

    m = lca.LatentClassModel(3, n_starts=2, max_iter=max_iter, pattern_starts=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_em, "_run", spy)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lca.ConvergenceWarning)
            m.fit(df, start_from=two)
    assert all(used <= iters for iters, used in seen)
    assert 1 <= m.n_iter_ <= max_iter
    # 2 random starts, 2 halving starts, 2 kept of the 5 pattern starts
    if max_iter > 10:  # the 5 screened for 10 iterations first, then the 6 burn in
        assert [it for it, _ in seen[:5]] == [10] * 5
        assert [it for it, _ in seen[5:9]] == [min(50, max_iter)] * 4
        # the two kept continue within what is left of their budget
        left = max_iter - min(used for _, used in seen[:5])
        assert all(1 <= it <= min(50, left) for it, _ in seen[9:11])
    else:  # no budget to screen with: 6 starts of max_iter iterations, nothing after
        assert [it for it, _ in seen] == [max_iter] * 6


def test_pattern_starts_must_be_a_count():
    with pytest.raises(ValueError, match="pattern_starts"):
        lca.LatentClassModel(2, pattern_starts=-1).fit(pd.DataFrame({"a": [0, 1] * 5}))
