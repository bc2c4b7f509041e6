"""The numba kernels against the plain NumPy reference in ``naive.py``."""

import inspect
import itertools
import sys

import numpy as np
import pytest

from lca import _kernels
from lca.encoding import compress

from . import naive

CASES = [
    # (n, categories per indicator, classes, missing share)
    (40, [2, 3], 2, 0.0),
    (300, [2, 4, 3, 5], 3, 0.2),
    (5000, [3, 3, 2, 4, 2, 5], 4, 0.3),  # ten E-step chunks of 512, the last one partial
    (10_000, [2, 3, 4], 6, 0.1),  # sixteen chunks of 625
]


@pytest.mark.parametrize("n", [1, 511, 512, 5000, 8191, 8192, 10_000, 32_768, 32_769, 10**6])
def test_chunks_cover_the_patterns_in_even_shares(n):
    size = _kernels.chunk_size(n)
    n_chunks = -(-n // size)
    assert _kernels.MIN_CHUNK <= size <= _kernels.CHUNK
    assert (n_chunks - 1) * size < n <= n_chunks * size
    if n >= _kernels.MIN_CHUNK * _kernels.MIN_CHUNKS:
        # enough chunks for threads to share evenly: 16 up to 32,768 patterns, more beyond
        assert n_chunks >= _kernels.MIN_CHUNKS


@pytest.mark.parametrize(("n", "n_cats", "k", "missing"), CASES)
@pytest.mark.parametrize("parallel", [False, True])
def test_estep_equals_reference(n, n_cats, k, missing, parallel):
    rng = np.random.default_rng(n)
    codes, weights, sizes, blocks = naive.random_problem(rng, n, n_cats, k, missing)
    log_cond, offsets = flat(blocks)
    patterns = codes.astype(np.int16)
    ll, counts, class_counts = _kernels.estep(
        patterns, weights, offsets, np.log(sizes), log_cond, parallel
    )
    ref_ll, ref_counts, ref_class = naive.estep(codes, weights, np.log(sizes), blocks)
    assert ll == pytest.approx(ref_ll, rel=1e-12)
    np.testing.assert_allclose(counts, np.vstack(ref_counts), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(class_counts, ref_class, rtol=1e-12)


def flat(blocks):
    cond, offsets = naive.flat(blocks)
    return np.log(cond), offsets


def test_estep_on_patterns_equals_estep_on_rows():
    rng = np.random.default_rng(3)
    codes, weights, sizes, blocks = naive.random_problem(rng, 3000, [2, 2, 3], 3, 0.25)
    log_cond, offsets = flat(blocks)
    patterns, pw, _ = compress(codes.astype(np.int8), weights)
    a = _kernels.estep(patterns, pw, offsets, np.log(sizes), log_cond, False)
    b = _kernels.estep(codes.astype(np.int16), weights, offsets, np.log(sizes), log_cond, False)
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10)


def test_parallel_estep_is_bit_identical_to_serial():
    rng = np.random.default_rng(11)
    codes, weights, sizes, blocks = naive.random_problem(rng, 20_000, [3, 4, 2, 5, 3], 5, 0.1)
    log_cond, offsets = flat(blocks)
    patterns = codes.astype(np.int16)
    s = _kernels.estep(patterns, weights, offsets, np.log(sizes), log_cond, False)
    p = _kernels.estep(patterns, weights, offsets, np.log(sizes), log_cond, True)
    assert s[0] == p[0]
    assert np.array_equal(s[1], p[1])
    assert np.array_equal(s[2], p[2])


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (1.0, 1.0), (2.0, 0.5)])
def test_mstep_equals_reference(a, b):
    rng = np.random.default_rng(5)
    codes, weights, sizes, blocks = naive.random_problem(rng, 200, [2, 3, 4], 3, 0.2)
    log_cond, offsets = flat(blocks)
    _, counts, class_counts = _kernels.estep(
        codes.astype(np.int16), weights, offsets, np.log(sizes), log_cond, False
    )
    marginals = []
    for j, c in enumerate([2, 3, 4]):
        answered = codes[:, j] >= 0
        f = np.bincount(codes[answered, j], weights=weights[answered], minlength=c)
        marginals.append(f / f.sum())
    cond_prior = (b / 3) * np.concatenate(marginals)
    nominal = np.zeros(3, dtype=np.bool_)
    new_class, new_cond = _kernels.mstep(
        counts, class_counts, offsets, a / 3, cond_prior, log_cond, nominal
    )
    ref_counts = [counts[offsets[j] : offsets[j + 1]] for j in range(3)]
    ref_sizes, ref_blocks = naive.mstep(ref_counts, class_counts, a, b, marginals)
    np.testing.assert_allclose(np.exp(new_class), ref_sizes, rtol=1e-12)
    np.testing.assert_allclose(np.exp(new_cond), np.vstack(ref_blocks), rtol=1e-12)


def test_log_prior_equals_formula():
    rng = np.random.default_rng(2)
    sizes = rng.dirichlet(np.ones(3))
    blocks = [rng.dirichlet(np.ones(c), size=3).T for c in (2, 4)]
    log_cond, _ = flat(blocks)
    cond_prior = rng.uniform(0, 1, size=6)
    expected = 0.5 * np.sum(np.log(sizes)) + np.sum(cond_prior[:, None] * log_cond)
    got = _kernels.log_prior(np.log(sizes), log_cond, 0.5, cond_prior)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("parallel", [False, True])
def test_posteriors_equal_reference(parallel):
    rng = np.random.default_rng(9)
    codes, _, sizes, blocks = naive.random_problem(rng, 5000, [3, 2, 4], 4, 0.3)
    log_cond, offsets = flat(blocks)
    post, ll = _kernels.posteriors(
        codes.astype(np.int16), offsets, np.log(sizes), log_cond, parallel
    )
    ref_post, ref_ll = naive.posteriors(codes, np.log(sizes), blocks)
    np.testing.assert_allclose(post, ref_post, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ll, ref_ll, rtol=1e-12, atol=1e-14)


def test_posteriors_of_impossible_pattern_are_class_sizes():
    sizes = np.array([0.7, 0.3])
    blocks = [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])]
    cond, offsets = naive.flat(blocks)
    with np.errstate(divide="ignore"):
        log_cond = np.log(cond)
    patterns = np.array([[0, 0], [0, 1]], dtype=np.int16)
    post, ll = _kernels.posteriors(patterns, offsets, np.log(sizes), log_cond, False)
    assert ll[0] == -np.inf
    np.testing.assert_allclose(post[0], sizes)
    np.testing.assert_allclose(post[1], [1.0, 0.0])
    assert ll[1] == pytest.approx(np.log(0.7))


def _trajectory(accelerate, steps, a=1.0):
    rng = np.random.default_rng(21)
    codes, weights, _, _ = naive.random_problem(rng, 600, [3, 2, 4, 3, 2], 3, 0.15)
    n_cats = [3, 2, 4, 3, 2]
    offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
    start_rng = np.random.default_rng(0)
    log_class = np.log(np.full(3, 1 / 3))
    log_cond = np.log(np.vstack([start_rng.dirichlet(np.ones(c), size=3).T for c in n_cats]))
    cond_prior = np.full(offsets[-1], a / 3 / 3)
    out = []
    for m in steps:
        patterns = codes.astype(np.int16)
        res = _kernels.run_em(
            patterns, _kernels.pattern_rows(patterns, offsets), weights, offsets,
            log_class, log_cond,
            a / 3, cond_prior, np.zeros(5, dtype=np.bool_), m, 1e-14, accelerate,
        )  # fmt: skip
        out.append(res)
    return out


@pytest.mark.parametrize("accelerate", [False, True])
@pytest.mark.parametrize("a", [0.0, 1.0])
def test_em_never_lowers_the_objective(accelerate, a):
    runs = _trajectory(accelerate, range(1, 60), a)
    objectives = np.array([r[2] for r in runs])
    assert np.all(np.diff(objectives) >= -1e-9 * np.abs(objectives[:-1]))
    assert objectives[-1] > objectives[0]


def test_squarem_reaches_the_plain_em_optimum_in_fewer_iterations():
    plain = _trajectory(False, [20000])[0]
    fast = _trajectory(True, [20000])[0]
    assert plain[5] and fast[5]  # both converged
    assert fast[2] == pytest.approx(plain[2], rel=1e-8)
    np.testing.assert_allclose(np.exp(fast[1]), np.exp(plain[1]), atol=1e-4)
    assert fast[4] * 2 < plain[4]


def _ordinal_reference(m):
    """Maximise sum_kc m_kc log P(c|k) over the adjacent-category logit with scipy."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    n_cat, k = m.shape
    scores = np.arange(n_cat)[:, None]

    def unpack(theta):
        a = np.r_[0.0, theta[: n_cat - 1]]
        b = np.r_[0.0, theta[n_cat - 1 :]]
        return log_softmax(a[:, None] + scores * b[None, :], axis=0)

    res = minimize(
        lambda t: -np.sum(m * unpack(t)), np.zeros(n_cat + k - 2), method="BFGS",
        options={"gtol": 1e-10, "maxiter": 10_000},
    )  # fmt: skip
    return unpack(res.x)


@pytest.mark.parametrize(("n_cat", "k"), [(2, 3), (4, 2), (5, 4), (7, 5)])
def test_ordinal_mstep_equals_a_generic_optimiser(n_cat, k):
    rng = np.random.default_rng(n_cat * 10 + k)
    m = rng.gamma(2.0, 20.0, size=(n_cat, k))
    start = np.log(rng.dirichlet(np.ones(n_cat), size=k).T)
    got = _kernels.ordinal_mstep(m, start)
    ref = _ordinal_reference(m)
    np.testing.assert_allclose(np.exp(got), np.exp(ref), atol=1e-6)
    # the result is in the model: log P(c|k) - log P(0|k) - (same for class 0) = b_k * c
    diff = (got - got[0]) - (got[:, :1] - got[0, 0])
    for kk in range(k):
        np.testing.assert_allclose(diff[:, kk], diff[1, kk] * np.arange(n_cat), atol=1e-9)
    # and at least as good as the optimiser
    assert np.sum(m * got) >= np.sum(m * ref) - 1e-8


def test_ordinal_mstep_recovers_from_a_saturated_start():
    # two categories: the model is saturated, its maximum is m over its column sums.
    # The start has one class at P = 1 - 1e-14, where the Hessian is nearly singular and an
    # undamped Newton step is of order 1e14 (the M-step used to return its input there)
    m = np.array([[1.0, 1.0], [4.0, 3.0]])
    start = np.array([[-0.0038410964148249565, -0.0012163763083146764],
                      [-5.5639173618995175, -6.712487205743108]])  # fmt: skip
    got = _kernels.ordinal_mstep(m, start)
    np.testing.assert_allclose(np.exp(got), m / m.sum(axis=0), atol=1e-9)


@pytest.mark.parametrize("empty_class", [False, True])
def test_ordinal_mstep_from_extreme_starts_equals_a_generic_optimiser(empty_class):
    rng = np.random.default_rng(3)
    m = rng.gamma(2.0, 20.0, size=(5, 3))
    if empty_class:
        m[:, 2] = 0.0  # a flat direction: class 3 has no counts
    start = np.log(np.array([[1 - 4e-14, 1e-14, 1e-14, 1e-14, 1e-14]] * 3).T)
    got = _kernels.ordinal_mstep(m, start)
    ref = _ordinal_reference(m)
    assert np.sum(m * got) >= np.sum(m * ref) - 1e-8
    np.testing.assert_allclose(np.exp(got[:, :2]), np.exp(ref[:, :2]), atol=1e-6)


def test_squarem_norms_are_fisher_weighted_squared_differences():
    rng = np.random.default_rng(8)
    k, n_cat = 4, 7
    cs = [np.log(rng.dirichlet(np.ones(k))) for _ in range(3)]
    ps = [np.log(rng.dirichlet(np.ones(n_cat), size=k).T) for _ in range(3)]
    ps[1][2, 1] = -900.0  # floored at LOG_FLOOR
    fl = [np.maximum(x, _kernels.LOG_FLOOR) for x in (*cs, *ps)]
    c0, c1, c2, p0, p1, p2 = fl
    # weights: P_k for log P_k, P_k P(c|k) for log P(c|k), both at x1
    w = np.concatenate([np.exp(c1), (np.exp(p1) * np.exp(c1)[None, :]).ravel()])
    r = np.concatenate([c1 - c0, (p1 - p0).ravel()])
    v = np.concatenate([c2 - 2 * c1 + c0, (p2 - 2 * p1 + p0).ravel()])
    got = _kernels._squarem_norms(*cs, *ps)
    np.testing.assert_allclose(got, [np.sum(w * r * r), np.sum(w * v * v)], rtol=1e-13)
    step = _kernels._squarem_step(*cs, *ps, 1e9)
    assert step == pytest.approx(min(-1.0, -np.sqrt(got[0] / got[1])), rel=1e-15)
    assert _kernels._squarem_step(*cs, *ps, 1.0) == -1.0
    # equal points: no step
    assert _kernels._squarem_step(cs[0], cs[0], cs[0], ps[0], ps[0], ps[0], 4.0) == 0.0


@pytest.mark.parametrize("accelerate", [False, True])
@pytest.mark.parametrize("ordinal", [False, True])
def test_em_steps_generator_is_run_em_bit_for_bit(accelerate, ordinal, monkeypatch):
    """Distributed EM drives lca._em.em_steps; fed local E-steps it must be run_em exactly."""
    from lca import _em

    rng = np.random.default_rng(4)
    n_cats = np.array([3, 4, 2, 5])
    offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
    rows = np.column_stack([rng.integers(-1, c, 600) for c in n_cats]).astype(np.int16)
    patterns, weights, _ = compress(rows, rng.uniform(0.5, 2.0, 600))
    flags = np.array([ordinal, False, False, ordinal])
    cond_prior = np.full(int(offsets[-1]), 0.1)
    starts = [_em.random_start(rng, 3, offsets, flags) for _ in range(3)]
    # run_em first: compiled with the spy below in place (a cold numba cache),
    # it would see a Python function where it calls _squarem_point
    answer_rows = _kernels.pattern_rows(patterns, offsets)
    wants = []
    for start in starts:
        wants.append(_kernels.run_em(patterns, answer_rows, weights, offsets, *start, 0.3,
                                     cond_prior, flags, 300, 1e-9, accelerate))  # fmt: skip

    # record SQUAREM's extrapolations in em_steps, to see its step-back branch covered
    points = []
    extrapolate = _kernels._squarem_point

    def spy(c0, c1, c2, p0, p1, p2, alpha, offsets):
        points.append((c0.copy(), alpha))
        return extrapolate(c0, c1, c2, p0, p1, p2, alpha, offsets)

    monkeypatch.setattr(_kernels, "_squarem_point", spy)

    def evaluate(points):
        return [_kernels.estep(patterns, weights, offsets, c, p, False) for c, p in points]

    runs = [_em.em_steps(s, offsets, 0.3, cond_prior, flags, 300, 1e-9, accelerate) for s in starts]
    side_by_side = _em.lockstep(runs, evaluate)
    for start, got, want in zip(starts, side_by_side, wants):
        assert got[2:] == want[2:]  # objective, loglik, n_iter, converged
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        # and EM with a threaded E-step (n_jobs > 1 on many patterns) too
        data = (patterns, _kernels.pattern_rows(patterns, offsets), weights, offsets, 0.3,
                cond_prior, flags)  # fmt: skip
        threaded = _em.run_threaded(data, start, 300, 1e-9, accelerate)
        assert threaded[2:] == want[2:]
        assert np.array_equal(threaded[0], want[0]) and np.array_equal(threaded[1], want[1])
    # a rejected extrapolation retried halfway (same x0, another step length) was among them
    step_backs = sum(
        np.array_equal(a[0], b[0]) and a[1] != b[1] for a, b in itertools.pairwise(points)
    )
    assert (step_backs > 0) == accelerate


@pytest.mark.parametrize("parallel", [False, True])
def test_estep_with_vanishing_probabilities_equals_reference(parallel):
    """Products of probabilities underflow here: those patterns are redone in log space.

    Half the categories have probability ~1e-120 in every class, so a pattern
    with three such answers has a joint probability ~1e-360 under every class
    (a double's smallest is 5e-324); others underflow in some classes only.
    """
    rng = np.random.default_rng(7)
    n_cats, k = [2, 2, 2, 3, 2], 6  # 6 classes: one lane group partly padding
    codes = np.column_stack([rng.integers(-1, c, 3000) for c in n_cats])
    weights = rng.uniform(0.5, 2.0, len(codes))
    sizes = rng.dirichlet(np.ones(k))
    blocks = []
    for c in n_cats:
        block = rng.dirichlet(np.ones(c), size=k).T
        block[1] = 10.0 ** rng.uniform(-125, -115, size=k)  # category 1 all but impossible
        blocks.append(block / block.sum(axis=0))
    log_cond, offsets = flat(blocks)
    ll, counts, class_counts = _kernels.estep(
        codes.astype(np.int16), weights, offsets, np.log(sizes), log_cond, parallel
    )
    ref_ll, ref_counts, ref_class = naive.estep(codes, weights, np.log(sizes), blocks)
    assert np.isfinite(ll) and ll < -1e4  # several respondents at ~ -800 each
    assert ll == pytest.approx(ref_ll, rel=1e-12)
    np.testing.assert_allclose(counts, np.vstack(ref_counts), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(class_counts, ref_class, rtol=1e-10)


def test_estep_of_an_impossible_pattern_is_minus_infinity():
    with np.errstate(divide="ignore"):
        log_cond, offsets = flat(
            [np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([[0.5, 0.2], [0.5, 0.8]])]
        )
    patterns = np.array([[0, 1], [1, 0]], dtype=np.int16)  # category 1 of item 0 cannot happen
    ll, counts, class_counts = _kernels.estep(
        patterns, np.ones(2), offsets, np.log([0.5, 0.5]), log_cond, False
    )
    assert ll == -np.inf
    post = [0.5 * 0.5 / 0.65, 0.5 * 0.8 / 0.65]  # of the possible pattern only
    np.testing.assert_allclose(class_counts, post)
    np.testing.assert_allclose(counts, [post, [0, 0], [0, 0], post])


@pytest.mark.parametrize("ordinal", [False, True])
def test_em_steps_equals_run_em_when_the_budget_ends_a_run(ordinal):
    """Every budget from 2 to 40 E-steps: em_steps, run_threaded and run_em end alike.

    Short budgets end runs in every branch of the SQUAREM loop, among them a
    rejected extrapolation with no E-step left (the run ends at the EM point
    one step on); the test checks, by tracing em_steps, that this branch ran.
    """
    from lca import _em

    rng = np.random.default_rng(11)
    n_cats = np.array([3, 4, 2, 5])
    offsets = np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)
    codes = np.column_stack([rng.integers(-1, c, 400) for c in n_cats]).astype(np.int16)
    patterns, weights, _ = compress(codes, rng.uniform(0.5, 2.0, 400))
    rows = _kernels.pattern_rows(patterns, offsets)
    flags = np.array([ordinal, False, False, ordinal])
    cond_prior = np.full(int(offsets[-1]), 0.1)
    starts = [_em.random_start(rng, 3, offsets, flags) for _ in range(6)]
    data = (patterns, rows, weights, offsets, 0.3, cond_prior, flags)

    source, first = inspect.getsourcelines(_em.em_steps)
    (guard,) = [first + i for i, line in enumerate(source) if "if n_iter >= max_iter:" in line]
    hits = []

    def tracer(frame, event, arg):
        if frame.f_code is _em.em_steps.__code__:
            if event == "line" and frame.f_lineno == guard + 1:
                hits.append(1)
            return tracer
        return None

    def evaluate(points):
        return [_kernels.estep(patterns, weights, offsets, c, p, False) for c, p in points]

    for max_iter in range(2, 41):
        runs = [_em.em_steps(s, offsets, 0.3, cond_prior, flags, max_iter, 1e-13, True)
                for s in starts]  # fmt: skip
        sys.settrace(tracer)
        try:
            side_by_side = _em.lockstep(runs, evaluate)
        finally:
            sys.settrace(None)
        for start, got in zip(starts, side_by_side):
            want = _kernels.run_em(patterns, rows, weights, offsets, *start, 0.3, cond_prior,
                                   flags, max_iter, 1e-13, True)  # fmt: skip
            assert want[4] <= max_iter
            assert got[2:] == want[2:]
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
            threaded = _em.run_threaded(data, start, max_iter, 1e-13, True)
            assert threaded[2:] == want[2:]
            assert np.array_equal(threaded[0], want[0]) and np.array_equal(threaded[1], want[1])
    assert hits, "no run ended on a rejected extrapolation with no E-step left"
