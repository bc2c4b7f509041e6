"""Invariants of the model, checked by hypothesis on small random problems (issue 7).

- EM never lowers the objective (log-posterior with Bayes constants, the
  log-likelihood without): step by step, and for the SQUAREM-accelerated run as
  the iteration budget grows.
- The EM engine is equivariant: permuting indicators, categories or classes of
  the data and of the start permutes the result and nothing else.
- Shuffling rows changes nothing (bit for bit); reordering columns or renaming
  categories leaves the maximum and the estimates unchanged when the maximum is
  found (starting values are drawn in column and category order, so with the
  same ``random_state`` a different local maximum can be reached on data with
  several; see ``test_column_order_changes_the_starts_not_the_maximum``).
- Multiplying the weights by c leaves the estimates unchanged with
  ``bayes_constant=0``; with Bayes constants it equals dividing the constants
  by c (the prior keeps its weight while N grows), which is checked exactly.
- ``predict_proba`` rows are finite, sum to 1 and keep the input index.
- Degenerate but valid data give finite results.

Budgets are small (``max_examples`` 25 to 40, no deadline); set
``LCA_PROPERTY_EXAMPLES`` to a larger number for a long run, e.g.
``LCA_PROPERTY_EXAMPLES=2000 python -m pytest tests/test_properties.py``.
"""

import functools
import inspect
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

import lca
from lca import _em, _kernels
from lca.encoding import compress

# These tests feed degenerate data on purpose (tiny tables where the model is not
# identified, classes that empty, answers made impossible by maximum likelihood);
# the warnings that say so are expected here. Tests that check a warning is
# raised use pytest.warns, which still sees it.
pytestmark = [
    pytest.mark.filterwarnings("ignore:the model has .* free parameters:UserWarning"),
    pytest.mark.filterwarnings("ignore:class .* is empty:UserWarning"),
    pytest.mark.filterwarnings("ignore:.* row\\(s\\) have answers that are impossible:UserWarning"),
]


_SCALE = int(os.environ.get("LCA_PROPERTY_EXAMPLES", "0"))


def budget(n: int):
    """Hypothesis settings with ``n`` examples (or LCA_PROPERTY_EXAMPLES)."""
    return settings(
        max_examples=_SCALE or n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- calling the kernels whatever their exact signature -----------------------------------


def _call(kernel, **arguments):
    """Call a numba kernel by parameter name (new parameters get neutral values)."""
    names = list(inspect.signature(getattr(kernel, "py_func", kernel)).parameters)
    if "ordinal" in names and "ordinal" not in arguments:
        n_ind = len(arguments["offsets"]) - 1
        arguments["ordinal"] = np.zeros(n_ind, dtype=np.bool_)
    return kernel(*[arguments[n] for n in names])


HAS_ORDINAL = "ordinal" in inspect.signature(_kernels.mstep).parameters


# -- random problems --------------------------------------------------------------------


@st.composite
def coded_problems(
    draw, max_rows=40, max_indicators=4, max_categories=4, min_categories=2, zero_weights=True
):
    """Codes (n, J) with -1 for missing, categories per indicator, weights."""
    n_ind = draw(st.integers(1, max_indicators))
    n_cats = draw(
        st.lists(st.integers(min_categories, max_categories), min_size=n_ind, max_size=n_ind)
    )
    n = draw(st.integers(1, max_rows))
    missing = draw(st.sampled_from([0.0, 0.0, 0.25]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    codes = np.column_stack([rng.integers(0, c, n) for c in n_cats]).astype(np.int8)
    if missing:
        codes[rng.random(codes.shape) < missing] = -1
    kind = draw(st.sampled_from(["ones", "integers", "dyadic", "real"]))
    if kind == "ones":
        weights = np.ones(n)
    elif kind == "integers":
        weights = rng.integers(0 if zero_weights else 1, 4, n).astype(float)
    elif kind == "dyadic":
        weights = rng.integers(1, 17, n) / 4.0
    else:
        weights = rng.uniform(0.05, 3.0, n)
    if not (weights > 0).any():
        weights[0] = 1.0
    return codes, np.array(n_cats, dtype=np.int64), weights


def _offsets(n_cats):
    return np.concatenate([[0], np.cumsum(n_cats)]).astype(np.int64)


def _priors(patterns, pattern_weights, offsets, k, a, b):
    """Bayes-constant pseudo-counts exactly as LatentClassModel builds them."""
    marg = np.zeros(int(offsets[-1]))
    for j in range(len(offsets) - 1):
        col = patterns[:, j]
        ok = col >= 0
        np.add.at(marg, offsets[j] + col[ok].astype(np.int64), pattern_weights[ok])
        block = marg[offsets[j] : offsets[j + 1]]
        total = block.sum()
        n_j = offsets[j + 1] - offsets[j]
        marg[offsets[j] : offsets[j + 1]] = block / total if total > 0 else 1.0 / n_j
    return a / k, (b / k) * marg


def _objective(patterns, weights, offsets, log_class, log_cond, class_prior, cond_prior):
    ll, _, _ = _kernels.estep(patterns, weights, offsets, log_class, log_cond, False)
    return ll + _kernels.log_prior(log_class, log_cond, class_prior, cond_prior), ll


def _start(rng, k, offsets, ordinal=None):
    if ordinal is not None and "ordinal" in inspect.signature(_em.random_start).parameters:
        return _em.random_start(rng, k, offsets, ordinal)
    return _em.random_start(rng, k, offsets)


def _tol(x):
    return 1e-9 * (1.0 + abs(x))


# -- EM never lowers the objective --------------------------------------------------------


@budget(40)
@given(
    problem=coded_problems(),
    k=st.integers(1, 4),
    a=st.sampled_from([0.0, 1.0, 0.3]),
    b=st.sampled_from([0.0, 1.0, 2.5]),
    seed=st.integers(0, 2**16),
    use_ordinal=st.booleans(),
)
def test_one_em_step_never_lowers_the_objective(problem, k, a, b, seed, use_ordinal):
    codes, n_cats, weights = problem
    patterns, pw, _ = compress(codes, weights)
    offsets = _offsets(n_cats)
    class_prior, cond_prior = _priors(patterns, pw, offsets, k, a, b)
    ordinal = np.zeros(len(n_cats), dtype=np.bool_)
    if HAS_ORDINAL and use_ordinal:
        ordinal = np.random.default_rng(seed).random(len(n_cats)) < 0.5
    log_class, log_cond = _start(np.random.default_rng(seed), k, offsets, ordinal)
    previous = -np.inf
    for _ in range(25):
        ll, counts, class_counts = _kernels.estep(patterns, pw, offsets, log_class, log_cond, False)
        objective = ll + _kernels.log_prior(log_class, log_cond, class_prior, cond_prior)
        assert np.isfinite(objective)
        assert objective >= previous - _tol(previous), (previous, objective)
        previous = objective
        log_class, log_cond = _call(
            _kernels.mstep,
            counts=counts,
            class_counts=class_counts,
            offsets=offsets,
            class_prior=class_prior,
            cond_prior=cond_prior,
            prev_log_cond=log_cond,
            ordinal=ordinal,
        )
        assert np.all(np.isfinite(log_class[np.exp(log_class) > 0]))
        np.testing.assert_allclose(np.exp(log_class).sum(), 1.0, rtol=1e-12)
        for j in range(len(n_cats)):
            block = np.exp(log_cond[offsets[j] : offsets[j + 1]])
            np.testing.assert_allclose(block.sum(axis=0), 1.0, rtol=1e-9)


def _run_em(patterns, pw, offsets, start, class_prior, cond_prior, max_iter, tol, accelerate,
            ordinal=None):  # fmt: skip
    arguments = dict(
        patterns=patterns,
        rows=_kernels.pattern_rows(patterns, offsets),
        weights=pw,
        offsets=offsets,
        log_class=start[0].copy(),
        log_cond=start[1].copy(),
        class_prior=class_prior,
        cond_prior=cond_prior,
        max_iter=max_iter,
        tol=tol,
        accelerate=accelerate,
    )
    if ordinal is not None:
        arguments["ordinal"] = ordinal
    return _call(_kernels.run_em, **arguments)


@budget(30)
@given(
    problem=coded_problems(),
    k=st.integers(1, 3),
    bayes=st.sampled_from([(0.0, 0.0), (1.0, 1.0), (0.5, 2.0)]),
    seed=st.integers(0, 2**16),
    accelerate=st.booleans(),
    use_ordinal=st.booleans(),
)
def test_em_runs_never_lower_the_objective_as_the_budget_grows(
    problem, k, bayes, seed, accelerate, use_ordinal
):
    codes, n_cats, weights = problem
    ordinal = None
    if HAS_ORDINAL and use_ordinal:
        ordinal = np.random.default_rng(seed + 1).random(len(n_cats)) < 0.5
    _check_budget_monotone(codes, n_cats, weights, k, bayes, seed, accelerate, ordinal)


def test_squarem_retry_on_the_last_e_step_does_not_end_below_a_shorter_run():
    # Found by the test above: with 9 E-steps a rejected extrapolation at the 9th
    # fell back to the plain EM point two steps on (a 10th E-step, over the
    # budget), while with 10 the 10th E-step went to the halfway retry, which
    # was accepted and ended 0.047 lower. A run now ends at the EM point one
    # step on when no E-step is left: 9 E-steps give the 8-step answer.
    rows = ["110", "001", "101", "101", "000", "010", "110", "111", "101", "001",
            "110", "000", "011", "100", "010", "111", "010", "110", "000"]  # fmt: skip
    codes = np.array([[int(c) for c in r] for r in rows], dtype=np.int8)
    ordinal = np.ones(3, dtype=np.bool_)
    _check_budget_monotone(codes, np.array([2, 2, 2]), np.ones(19), 2, (0.0, 0.0), 263, True,
                           ordinal)  # fmt: skip


def _check_budget_monotone(codes, n_cats, weights, k, bayes, seed, accelerate, ordinal):
    """EM from one start with 1, 2, ..., 30 E-steps: objectives never decrease."""
    patterns, pw, _ = compress(codes, weights)
    offsets = _offsets(n_cats)
    class_prior, cond_prior = _priors(patterns, pw, offsets, k, *bayes)
    start = _start(np.random.default_rng(seed), k, offsets, ordinal)
    start_objective, _ = _objective(patterns, pw, offsets, *start, class_prior, cond_prior)
    previous = start_objective
    for max_iter in range(1, 31):
        log_class, log_cond, objective, loglik, n_iter, _ = _run_em(
            patterns, pw, offsets, start, class_prior, cond_prior, max_iter, 1e-13, accelerate,
            ordinal,
        )  # fmt: skip
        assert n_iter <= max_iter
        assert objective >= previous - _tol(previous), (max_iter, previous, objective)
        previous = objective
        # what run_em reports is the objective of the parameters it returns
        again, ll_again = _objective(patterns, pw, offsets, log_class, log_cond, class_prior,
                                     cond_prior)  # fmt: skip
        assert again == pytest.approx(objective, rel=1e-10, abs=1e-10)
        assert ll_again == pytest.approx(loglik, rel=1e-10, abs=1e-10)


# -- equivariance of the engine -----------------------------------------------------------


@budget(30)
@given(
    problem=coded_problems(min_categories=2),
    k=st.integers(1, 3),
    bayes=st.sampled_from([(0.0, 0.0), (1.0, 1.0)]),
    seed=st.integers(0, 2**16),
    accelerate=st.booleans(),
)
def test_em_is_equivariant_under_permuted_indicators_categories_and_classes(
    problem, k, bayes, seed, accelerate
):
    codes, n_cats, weights = problem
    rng = np.random.default_rng(seed)
    n_ind = len(n_cats)
    col_perm = rng.permutation(n_ind)
    cat_perms = [rng.permutation(c) for c in n_cats]  # old code -> new code
    class_perm = rng.permutation(k)

    new_codes = np.empty_like(codes)
    for new_j, old_j in enumerate(col_perm):
        col = codes[:, old_j].astype(np.int64)
        new_codes[:, new_j] = np.where(col >= 0, cat_perms[old_j][np.maximum(col, 0)], -1)
    new_cats = n_cats[col_perm]

    offsets, new_offsets = _offsets(n_cats), _offsets(new_cats)
    log_class, log_cond = _start(rng, k, offsets)
    # the same start in the new layout: rows of log_cond moved, classes permuted
    new_cond = np.empty_like(log_cond)
    for new_j, old_j in enumerate(col_perm):
        for old_c in range(n_cats[old_j]):
            new_c = cat_perms[old_j][old_c]
            new_cond[new_offsets[new_j] + new_c] = log_cond[offsets[old_j] + old_c, class_perm]
    new_class = log_class[class_perm]

    # plain EM for exactly 40 steps (tol=-inf never stops it): the same path up to
    # rounding. SQUAREM run to convergence: its accept/reject decisions and its stopping
    # step can flip on rounding, which on a flat ridge (a model that is not identified)
    # moves the end point along the ridge, so only the objective is compared
    max_iter, tol = (300, 1e-10) if accelerate else (40, -np.inf)
    results = []
    for c, o, start in [
        (codes, offsets, (log_class, log_cond)),
        (new_codes, new_offsets, (new_class, new_cond)),
    ]:
        patterns, pw, _ = compress(c, weights)
        class_prior, cond_prior = _priors(patterns, pw, o, k, *bayes)
        results.append(
            _run_em(patterns, pw, o, start, class_prior, cond_prior, max_iter, tol, accelerate)
        )
    (c0, p0, obj0, ll0, *_), (c1, p1, obj1, ll1, *_) = results
    if accelerate:
        assert obj1 == pytest.approx(obj0, rel=1e-6)
        return
    assert obj1 == pytest.approx(obj0, rel=1e-10, abs=1e-10)
    assert ll1 == pytest.approx(ll0, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(np.exp(c1), np.exp(c0)[class_perm], atol=1e-8)
    for new_j, old_j in enumerate(col_perm):
        for old_c in range(n_cats[old_j]):
            new_c = cat_perms[old_j][old_c]
            np.testing.assert_allclose(
                np.exp(p1[new_offsets[new_j] + new_c]),
                np.exp(p0[offsets[old_j] + old_c, class_perm]),
                atol=1e-8,
            )


# -- the model: rows, columns, categories, weights ------------------------------------------


def _frame(codes, names=None):
    names = names or [f"q{j}" for j in range(codes.shape[1])]
    data = pd.DataFrame(codes.astype(float), columns=names)
    return data.mask(data < 0)


def _fittable(codes, weights, k):
    """Every column has an answer and there are at least k distinct answer patterns
    (the pattern of rows with no answer not counted)."""
    patterns, pw, _ = compress(codes, weights)
    answered = (patterns >= 0).any(axis=1)
    return bool((codes >= 0).any(axis=0).all()) and k <= int(np.count_nonzero((pw > 0) & answered))


@budget(30)
@given(
    # zero weights: see test_robustness.py::test_a_zero_weight_row_with_an_impossible_answer
    problem=coded_problems(zero_weights=False),
    k=st.integers(1, 3),
    b=st.sampled_from([0.0, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_shuffling_rows_changes_nothing(problem, k, b, seed):
    codes, _, weights = problem
    weights = np.maximum(np.round(weights * 4) / 4, 0.25)  # dyadic: sums exact in any order
    assume(_fittable(codes, weights, k))
    data = _frame(codes)
    data.index = [f"r{i}" for i in range(len(data))]
    w = pd.Series(weights, index=data.index)
    perm = np.random.default_rng(seed).permutation(len(data))
    shuffled = data.iloc[perm]
    options = dict(n_starts=4, bayes_constant=b, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one-category columns, zero probabilities
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        a = lca.LatentClassModel(k, **options).fit(data, weights=w)
        s = lca.LatentClassModel(k, **options).fit(shuffled, weights=w.iloc[perm])
        assert s.loglik_ == a.loglik_
        np.testing.assert_array_equal(s.profile().to_numpy(), a.profile().to_numpy())
        pd.testing.assert_series_equal(s.fit_stats(), a.fit_stats())
        post_a, post_s = a.predict_proba(data), s.predict_proba(shuffled)
    assert post_s.index.equals(shuffled.index)
    pd.testing.assert_frame_equal(post_s, post_a.iloc[perm])


@st.composite
def separated_problems(draw):
    """Two well separated classes: the maximum is unique and found from any start."""
    n_ind = draw(st.integers(3, 5))
    n_cats = draw(st.lists(st.integers(2, 4), min_size=n_ind, max_size=n_ind))
    size = draw(st.floats(0.3, 0.7))
    n = draw(st.integers(200, 400))
    seed = draw(st.integers(0, 2**16))
    cond = {}
    for j, c in enumerate(n_cats):
        block = np.full((c, 2), 0.2 / (c - 1))
        block[0, 0] = block[-1, 1] = 0.8
        cond[f"q{j}"] = block
    data, _ = lca.simulate([size, 1 - size], cond, n, random_state=seed)
    data = data.apply(lambda col: col.astype(int))  # plain int labels 1..C
    return data, seed


def _match_classes(a, b):
    """Column order of b's classes that best matches a's (by the profiles)."""
    pa, pb = a.profile().drop(columns="Total"), b.profile().drop(columns="Total")
    cost = np.array([[np.abs(pa[i] - pb[j]).sum() for j in pb.columns] for i in pa.columns])
    _, cols = linear_sum_assignment(cost)
    return [pb.columns[c] for c in cols]


FIT = dict(n_starts=8, tol=1e-12, max_iter=20_000)
#: Estimates of two fits reaching the same maximum agree to this: the objective is
#: flat near the maximum (more so with Bayes constants, where the log-likelihood and
#: the log-prior trade off along a ridge), so the parameters are determined less
#: precisely than the objective.
ATOL = 2e-4


def _assert_same_maximum(a, b, scale=1.0):
    objective_a = scale * (a.loglik_ + a.log_prior_)
    assert b.loglik_ + b.log_prior_ == pytest.approx(objective_a, rel=1e-9)
    assert b.loglik_ == pytest.approx(scale * a.loglik_, rel=1e-6)


def _fitted_objective(m):
    return m.loglik_ + m.log_prior_


def _fit_two(frame, b, seed, start_from=None):
    model = lca.LatentClassModel(2, bayes_constant=b, random_state=seed, **FIT)
    return model.fit(frame, start_from=start_from)


def _at_the_better_maximum(a, r, refit_a, refit_r):
    """Fits ``a`` and ``r`` of one problem in two encodings, both at its better maximum.

    Two searches from different starting values (the encoding changes them)
    can stop at different local maxima even of a well separated problem (a
    rare answer's probability at 0 in one, near 0 in the other). The worse
    one is then refitted with the better one's estimates, re-expressed in its
    encoding, as a start (``refit_a(r)`` or ``refit_r(a)``): that start must
    be a maximum of the same objective, and estimates are compared there.
    """
    assert a.converged_ and r.converged_  # two maxima, not a search cut short
    if _fitted_objective(r) < _fitted_objective(a) - 1e-9 * abs(_fitted_objective(a)):
        event("two local maxima: refitted from the better one")
        r = refit_r(a)
    elif _fitted_objective(a) < _fitted_objective(r) - 1e-9 * abs(_fitted_objective(r)):
        event("two local maxima: refitted from the better one")
        a = refit_a(r)
    return a, r


@budget(25)
@given(problem=separated_problems(), b=st.sampled_from([0.0, 1.0]), seed=st.integers(0, 2**8))
def test_reordering_columns_leaves_the_maximum_and_estimates_unchanged(problem, b, seed):
    data, _ = problem
    order = list(np.random.default_rng(seed).permutation(data.columns))

    fit = functools.partial(_fit_two, b=b, seed=seed)

    def reordered(m, columns):
        probs = {name: m.conditional_probs_[name] for name in columns}
        return lca.LatentClassModel.from_parameters(m.class_sizes_.to_numpy(), probs)

    a, r = _at_the_better_maximum(
        fit(data),
        fit(data[order]),
        refit_a=lambda r: fit(data, start_from=reordered(r, data.columns)),
        refit_r=lambda a: fit(data[order], start_from=reordered(a, order)),
    )
    _assert_same_maximum(a, r)
    assert [i.name for i in r.indicators_] == order
    cols = _match_classes(a, r)
    for name in data.columns:
        np.testing.assert_allclose(
            r.conditional_probs_[name][cols].to_numpy(),
            a.conditional_probs_[name].to_numpy(),
            atol=ATOL,
        )
    np.testing.assert_allclose(
        r.predict_proba(data)[cols].to_numpy(), a.predict_proba(data).to_numpy(), atol=ATOL
    )


@budget(25)
@given(problem=separated_problems(), b=st.sampled_from([0.0, 1.0]), seed=st.integers(0, 2**8))
def test_renaming_categories_leaves_the_maximum_and_estimates_unchanged(problem, b, seed):
    data, _ = problem
    rng = np.random.default_rng(seed)
    # new labels whose sorted order is a random permutation of the old one
    renames = {}
    for name in data.columns:
        labels = sorted(data[name].unique())
        ranks = rng.permutation(len(labels))
        renames[name] = {old: f"{chr(97 + r)}-{name}" for old, r in zip(labels, ranks)}
    renamed = data.apply(lambda col: col.map(renames[col.name]))
    back = {name: {new: old for old, new in labels.items()} for name, labels in renames.items()}

    fit = functools.partial(_fit_two, b=b, seed=seed)

    def relabelled(m, labels):
        probs = {}
        for name in data.columns:
            block = m.conditional_probs_[name].rename(index=labels[name])
            probs[name] = block.sort_index()  # the order a fit gives the new labels
        return lca.LatentClassModel.from_parameters(m.class_sizes_.to_numpy(), probs)

    a, r = _at_the_better_maximum(
        fit(data),
        fit(renamed),
        refit_a=lambda r: fit(data, start_from=relabelled(r, back)),
        refit_r=lambda a: fit(renamed, start_from=relabelled(a, renames)),
    )
    _assert_same_maximum(a, r)
    cols = _match_classes_by_posterior(a, r, data, renamed)
    for name in data.columns:
        expected = a.conditional_probs_[name].rename(index=renames[name])
        got = r.conditional_probs_[name].loc[expected.index, cols]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=ATOL)


def _match_classes_by_posterior(a, b, data_a, data_b):
    pa, pb = a.predict_proba(data_a).to_numpy(), b.predict_proba(data_b).to_numpy()
    cost = np.array([[np.abs(pa[:, i] - pb[:, j]).sum() for j in range(2)] for i in range(2)])
    _, cols = linear_sum_assignment(cost)
    return [b.classes_[c] for c in cols]


def test_column_order_changes_the_starts_not_the_maximum():
    """Documented behaviour: starting values follow the column order.

    With the same ``random_state`` a reordered frame gets other starting
    values, so on data with several local maxima the best start can land on
    another one. Reported as ``n_starts_at_best_``; more starts fix it. The
    maximum found with enough starts does not depend on the order.
    """
    rng = np.random.default_rng(12)
    n = int(rng.integers(20, 120))
    data = pd.DataFrame({f"q{j}": rng.integers(0, rng.integers(2, 4), n) for j in range(3)})
    best = []
    for cols in (list(data.columns), list(data.columns[::-1])):
        m = lca.LatentClassModel(3, bayes_constant=0.0, n_starts=64, random_state=0)
        best.append(m.fit(data[cols]).loglik_)
    assert best[0] == pytest.approx(best[1], rel=1e-7)


@budget(25)
@given(
    problem=separated_problems(),
    power=st.integers(-3, 6),
    seed=st.integers(0, 2**8),
)
def test_scaling_weights_by_a_power_of_two_changes_nothing_without_priors(problem, power, seed):
    data, _ = problem
    w = np.random.default_rng(seed).uniform(0.5, 2.0, len(data))
    c = 2.0**power
    options = dict(n_starts=4, bayes_constant=0.0, random_state=seed)
    a = lca.LatentClassModel(2, **options).fit(data, weights=w)
    s = lca.LatentClassModel(2, **options).fit(data, weights=c * w)
    # the EM path is the same bit for bit: every sum is scaled exactly by c
    np.testing.assert_array_equal(s.profile().to_numpy(), a.profile().to_numpy())
    assert s.loglik_ == c * a.loglik_
    assert s.n_obs_ == c * a.n_obs_
    pd.testing.assert_frame_equal(s.predict_proba(data), a.predict_proba(data))


@budget(25)
@given(problem=separated_problems(), c=st.floats(0.05, 50.0), seed=st.integers(0, 2**8))
def test_scaling_weights_leaves_estimates_unchanged_without_priors(problem, c, seed):
    data, _ = problem
    w = np.random.default_rng(seed).uniform(0.5, 2.0, len(data))
    options = dict(bayes_constant=0.0, random_state=seed, **FIT)
    a = lca.LatentClassModel(2, **options).fit(data, weights=w)
    s = lca.LatentClassModel(2, **options).fit(data, weights=c * w)
    np.testing.assert_allclose(s.profile().to_numpy(), a.profile().to_numpy(), atol=ATOL)
    _assert_same_maximum(a, s, scale=c)
    assert s.fit_stats()["n_obs"] == pytest.approx(c * a.n_obs_, rel=1e-12)


@budget(25)
@given(
    problem=separated_problems(),
    power=st.integers(-2, 5),
    bayes=st.sampled_from([(1.0, 1.0), (0.5, 2.0)]),
    seed=st.integers(0, 2**8),
)
def test_scaling_weights_with_priors_equals_dividing_the_bayes_constants(
    problem, power, bayes, seed
):
    """With Bayes constants, weights x c is the same fit as constants / c.

    The prior adds fixed pseudo-counts, so multiplying N shrinks its weight:
    estimates move towards maximum likelihood as c grows. This is what
    happens, exactly: the objective is c (loglik + log_prior(a / c, b / c)).
    """
    data, _ = problem
    a, b = bayes
    w = np.random.default_rng(seed).uniform(0.5, 2.0, len(data))
    c = 2.0**power
    options = dict(n_starts=4, random_state=seed)
    scaled = lca.LatentClassModel(2, bayes_constant=b, class_bayes_constant=a, **options)
    scaled.fit(data, weights=c * w)
    divided = lca.LatentClassModel(2, bayes_constant=b / c, class_bayes_constant=a / c, **options)
    divided.fit(data, weights=w)
    np.testing.assert_allclose(
        scaled.profile().to_numpy(), divided.profile().to_numpy(), rtol=1e-9, atol=1e-12
    )
    assert scaled.loglik_ == pytest.approx(c * divided.loglik_, rel=1e-9)
    assert scaled.log_prior_ == pytest.approx(c * divided.log_prior_, rel=1e-9, abs=1e-9)


# -- prediction --------------------------------------------------------------------------


indexes = st.sampled_from(["range", "strings", "duplicates", "negative", "multi"])


def _index(kind, n, rng):
    if kind == "range":
        return pd.RangeIndex(n)
    if kind == "strings":
        return pd.Index([f"id{i}" for i in rng.permutation(n)])
    if kind == "duplicates":
        return pd.Index(rng.integers(0, 3, n))
    if kind == "negative":
        return pd.Index(-rng.permutation(n) * 7)
    return pd.MultiIndex.from_arrays([rng.integers(0, 2, n), np.arange(n)])


@budget(40)
@given(
    # zero weights: see test_robustness.py::test_a_zero_weight_row_with_an_impossible_answer
    problem=coded_problems(zero_weights=False),
    new=coded_problems(max_rows=15),
    k=st.integers(1, 3),
    b=st.sampled_from([0.0, 1.0]),
    index=indexes,
    seed=st.integers(0, 2**16),
)
def test_predict_proba_rows_are_finite_sum_to_one_and_keep_the_index(
    problem, new, k, b, index, seed
):
    codes, _, weights = problem
    assume(_fittable(codes, weights, k))
    rng = np.random.default_rng(seed)
    data = _frame(codes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        m = lca.LatentClassModel(k, n_starts=3, bayes_constant=b, random_state=seed)
        m.fit(data, weights=weights)
        # new respondents: any codes, as long as the categories were seen at fit
        new_codes = new[0][:, : codes.shape[1]]
        new_codes = np.pad(new_codes, ((0, 0), (0, codes.shape[1] - new_codes.shape[1])),
                           constant_values=-1)  # fmt: skip
        new_frame = _frame(new_codes)
        new_frame.index = _index(index, len(new_frame), rng)
        post = m.predict_proba(new_frame, unknown="missing")
        pred = m.predict(new_frame, unknown="missing")
        scores = m.score_samples(new_frame, unknown="missing")
    assert post.index.equals(new_frame.index)
    assert pred.index.equals(new_frame.index) and scores.index.equals(new_frame.index)
    values = post.to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all() and (values <= 1).all()
    np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(pred.to_numpy(), values.argmax(axis=1) + 1)
    if b > 0 and (weights > 0).all():
        # with Bayes constants every category seen in fitting keeps a positive probability
        # (a category seen only in rows of weight 0 gets a prior of 0: it can stay at 0)
        assert np.isfinite(scores.to_numpy()).all()


# -- degenerate but valid data --------------------------------------------------------------


@budget(40)
@given(
    # zero weights: see test_robustness.py::test_a_zero_weight_row_with_an_impossible_answer
    problem=coded_problems(
        max_rows=6, max_indicators=3, max_categories=3, min_categories=1, zero_weights=False
    ),
    k=st.integers(1, 4),
    b=st.sampled_from([0.0, 1.0]),
    accelerate=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_degenerate_data_give_finite_results(problem, k, b, accelerate, seed):
    codes, _, weights = problem
    data = _frame(codes)
    assume(_fittable(codes, weights, k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", lca.ConvergenceWarning)
        m = lca.LatentClassModel(
            k, n_starts=3, bayes_constant=b, accelerate=accelerate, random_state=seed
        ).fit(data, weights=weights)
        post = m.predict_proba(data)
        stats = m.fit_stats()
    assert np.isfinite(m.loglik_) and np.isfinite(m.log_prior_)
    sizes = m.class_sizes_.to_numpy()
    assert np.isfinite(sizes).all() and sizes.sum() == pytest.approx(1.0)
    for block in m.conditional_probs_.values():
        assert np.isfinite(block.to_numpy()).all()
        np.testing.assert_allclose(block.sum(axis=0), 1.0)
    assert np.isfinite(post.to_numpy()).all()
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)
    # L2 and X2 are NaN exactly when nobody answered every indicator (nothing to test)
    no_complete_row = not (codes >= 0).all(axis=1)[weights > 0].any()
    expected_nan = {"L2", "X2"} if no_complete_row else set()
    assert set(stats.index[stats.isna()]) == expected_nan, dict(stats[stats.isna()])
    assert m.n_rows_ == len(data)
