"""Standard errors against finite differences and a simulation with known truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import lca
from lca.encoding import encode
from lca.standard_errors import BOUNDARY, BOUNDARY_COUNT

from . import naive


def reference(model, data, weights=None, method="hessian"):
    """Finite-difference standard errors at ``model``'s estimates (tests/naive.py)."""
    return naive.model_standard_errors(model, encode(data, model.indicators_), weights, method)


@pytest.fixture(scope="module")
def gss82_model():
    df = lca.datasets.load_gss82()
    model = lca.LatentClassModel(3, n_starts=10, tol=1e-14, max_iter=20000, random_state=0)
    return model.fit(df), df


@pytest.fixture(scope="module")
def mixed_model():
    """Missing answers, unequal weights, an ordinal indicator, a != b."""
    truth = {
        "q1": [[0.8, 0.2], [0.2, 0.8]],
        "q2": [[0.6, 0.1], [0.3, 0.3], [0.1, 0.6]],
        "q3": [[0.7, 0.25], [0.3, 0.75]],
        "o4": [[0.5, 0.1], [0.3, 0.2], [0.15, 0.3], [0.05, 0.4]],
    }
    df, _ = lca.simulate([0.6, 0.4], truth, n=400, random_state=3, missing=0.15)
    df["o4"] = df["o4"].cat.as_ordered()
    weights = np.random.default_rng(4).uniform(0.3, 2.5, size=len(df))
    model = lca.LatentClassModel(
        2,
        ordinal="o4",
        class_bayes_constant=0.5,
        n_starts=8,
        tol=1e-14,
        max_iter=20000,
        random_state=0,
    )
    return model.fit(df, weights=weights), df, weights


@pytest.mark.parametrize("method", ["hessian", "opg", "robust"])
def test_gss82_matches_finite_differences(gss82_model, method):
    model, df = gss82_model
    se = model.standard_errors(method)
    ref_sizes, ref_cells = reference(model, df, method=method)
    np.testing.assert_allclose(se.class_sizes.to_numpy(), ref_sizes, rtol=1e-4)
    np.testing.assert_allclose(se.profile.to_numpy(), ref_cells, rtol=1e-4, atol=1e-9)
    assert se.n_free == se.rank == model.n_parameters_
    assert not se.boundary.to_numpy().any()


@pytest.mark.parametrize("method", ["hessian", "opg", "robust"])
def test_missing_weights_ordinal_match_finite_differences(mixed_model, method):
    model, df, weights = mixed_model
    assert model._ordinal.any() and df.isna().any().any()
    se = model.standard_errors(method)
    ref_sizes, ref_cells = reference(model, df, weights, method=method)
    np.testing.assert_allclose(se.class_sizes.to_numpy(), ref_sizes, rtol=1e-4)
    np.testing.assert_allclose(se.profile.to_numpy(), ref_cells, rtol=1e-4, atol=1e-9)
    assert se.n_free == model.n_parameters_


def test_methods_differ_and_output_is_labelled(gss82_model):
    model, _ = gss82_model
    hessian = model.standard_errors()
    opg = model.standard_errors("opg")
    assert hessian.method == "hessian"
    pd.testing.assert_index_equal(hessian.profile.index, model.profile().index)
    pd.testing.assert_index_equal(hessian.profile.columns, model.profile().columns)
    pd.testing.assert_index_equal(hessian.class_sizes.index, model.class_sizes_.index)
    # two estimates of the same information: close for most cells, not equal
    ratio = opg.profile.to_numpy() / hessian.profile.to_numpy()
    assert np.median(np.abs(ratio - 1)) < 0.2 and np.all(np.abs(ratio - 1) > 1e-6)


def test_data_argument_and_saved_model_give_the_same(mixed_model, tmp_path):
    model, df, weights = mixed_model
    stored = model.standard_errors()
    again = model.standard_errors(data=df, weights=weights)
    np.testing.assert_allclose(again.profile.to_numpy(), stored.profile.to_numpy(), rtol=1e-10)
    path = tmp_path / "m.json"
    model.save(path)
    loaded = lca.load(path)
    with pytest.raises(lca.NotFittedError, match="pattern table"):
        loaded.standard_errors()
    from_file = loaded.standard_errors(data=df, weights=weights)
    np.testing.assert_allclose(from_file.profile.to_numpy(), stored.profile.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        from_file.class_sizes.to_numpy(), stored.class_sizes.to_numpy(), rtol=1e-10
    )


def test_standard_errors_follow_renumbered_classes(gss82_model):
    model, df = gss82_model
    before = model.standard_errors()
    other = lca.LatentClassModel(3, n_starts=10, tol=1e-14, max_iter=20000, random_state=0).fit(df)
    other._reorder_classes([2, 0, 1])
    after = other.standard_errors()
    np.testing.assert_allclose(
        after.profile[[1, 2, 3]].to_numpy(), before.profile[[3, 1, 2]].to_numpy(), rtol=1e-8
    )
    np.testing.assert_allclose(after.profile["Total"], before.profile["Total"], rtol=1e-8)


def test_boundary_estimates_are_nan_and_the_rest_finite():
    df = lca.datasets.load_carcinoma()
    model = lca.LatentClassModel(3, bayes_constant=0, n_starts=10, random_state=0).fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        se = model.standard_errors()
    # on the boundary: an expected count in the class under BOUNDARY_COUNT respondents
    # (recomputed here row by row), and the one left of a binary indicator with it
    post = model.predict_proba(df).to_numpy()
    expected = np.zeros(model._cond_probs.shape, dtype=bool)
    n_fixed = 0
    for j, ind in enumerate(model.indicators_):
        lo, hi = model._offsets[j], model._offsets[j + 1]
        counts = np.array(
            [post[(df[ind.name] == c).to_numpy()].sum(axis=0) for c in ind.categories]
        )
        fixed = counts < BOUNDARY_COUNT
        n_fixed += int(fixed.sum())  # each fixed probability loses its logit
        expected[lo:hi] = fixed | (fixed.sum(axis=0) == hi - lo - 1)
    at_boundary = se.boundary.to_numpy()
    np.testing.assert_array_equal(at_boundary, expected)
    assert at_boundary.any()
    cells = se.profile.drop(columns="Total").to_numpy()
    assert np.isnan(cells[at_boundary]).all()
    assert np.isfinite(cells[~at_boundary]).all() and (cells[~at_boundary] > 0).all()
    assert np.isfinite(se.profile["Total"]).all()
    assert se.n_free == se.rank == model.n_parameters_ - n_fixed


def test_boundary_does_not_depend_on_where_em_stopped():
    """gss82, 3 classes, maximum likelihood: P(Fair/Poor | class 1) heads for 0
    and is 8e-9 at tol=1e-12, 4e-11 at tol=1e-14; either way it is fixed, and
    the other standard errors agree."""
    df = lca.datasets.load_gss82()
    fits = [
        lca.LatentClassModel(3, bayes_constant=0, tol=tol, max_iter=100000, random_state=0).fit(df)
        for tol in (1e-10, 1e-12, 1e-14)
    ]
    tiny = [m.profile().loc[("UNDERSTA", "Fair/Poor"), 1] for m in fits]
    assert tiny[0] > tiny[1] > tiny[2] > 0 and tiny[0] > BOUNDARY
    errors = [m.standard_errors() for m in fits]
    for se in errors:
        assert se.boundary.loc[("UNDERSTA", "Fair/Poor"), 1]
        pd.testing.assert_frame_equal(se.boundary, errors[-1].boundary)
    for se in errors[:-1]:
        np.testing.assert_allclose(
            se.profile.to_numpy(), errors[-1].profile.to_numpy(), rtol=1e-3, atol=1e-6
        )


def test_boundary_standard_errors_are_the_limit_of_interior_ones():
    """Fixing the boundary probabilities is what a vanishing Bayes constant tends
    to: with b = 1e-7 every estimate is inside (none fixed), and the standard
    errors of the others agree with the fixed-boundary ones to 1e-7 (4e-8 here,
    8e-6 with b = 1e-4)."""
    df = lca.datasets.load_carcinoma()
    model = lca.LatentClassModel(2, bayes_constant=0, n_starts=10, random_state=0).fit(df)
    se = model.standard_errors()
    free = ~se.boundary.to_numpy()
    assert not free.all()
    near = lca.LatentClassModel(
        2, bayes_constant=1e-7, n_starts=10, tol=1e-14, max_iter=50000, random_state=0
    ).fit(df)
    ref = near.standard_errors()
    assert not ref.boundary.to_numpy().any() and ref.rank == ref.n_free == near.n_parameters_
    np.testing.assert_allclose(
        se.profile.drop(columns="Total").to_numpy()[free],
        ref.profile.drop(columns="Total").to_numpy()[free],
        rtol=1e-6,
    )


def test_not_identified_model_warns():
    df, _ = lca.simulate(
        [0.5, 0.5], {f"x{i}": [[0.8, 0.3], [0.2, 0.7]] for i in range(3)}, n=300, random_state=1
    )
    with pytest.warns(UserWarning, match="not identified"):  # fit's own warning
        model = lca.LatentClassModel(
            3, bayes_constant=0, n_starts=4, random_state=0, tol=1e-10
        ).fit(df)
    with pytest.warns(UserWarning, match=r"has rank \d+ of 11: the model is not identified"):
        se = model.standard_errors()
    assert se.rank < se.n_free


def test_bad_method_and_stray_weights():
    df = lca.datasets.load_carcinoma()
    model = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(df)
    with pytest.raises(ValueError, match="'hessian', 'opg', 'robust', 'design', not 'sandwich'"):
        model.standard_errors("sandwich")
    with pytest.raises(ValueError, match="weights go with data="):
        model.standard_errors(weights=np.ones(len(df)))


def test_simulation_standard_errors_match_the_spread_of_estimates():
    """Known truth: over repeated samples, the mean standard error of each
    parameter is close to the standard deviation of its estimates, and 95%
    intervals cover the truth about 95% of the time."""
    truth_sizes = [0.65, 0.35]
    truth = {
        "a": [[0.85, 0.25], [0.15, 0.75]],
        "b": [[0.8, 0.3], [0.2, 0.7]],
        "c": [[0.6, 0.1], [0.3, 0.3], [0.1, 0.6]],
        "d": [[0.9, 0.35], [0.1, 0.65]],
    }
    true_cells = np.vstack([np.array(v) for v in truth.values()])
    rng = np.random.default_rng(12)
    estimates, errors = [], []
    for rep in range(200):
        df, _ = lca.simulate(truth_sizes, truth, n=800, random_state=rng)
        model = lca.LatentClassModel(2, n_starts=3, random_state=rep).fit(df)
        se = model.standard_errors()
        estimates.append(np.concatenate([model._class_probs, model._cond_probs.ravel()]))
        errors.append(
            np.concatenate(
                [se.class_sizes.to_numpy(), se.profile.drop(columns="Total").to_numpy().ravel()]
            )
        )
    estimates, errors = np.array(estimates), np.array(errors)
    sd = estimates.std(axis=0, ddof=1)
    ratio = errors.mean(axis=0) / sd
    assert np.all(np.abs(ratio - 1) < 0.2), ratio
    truth_vec = np.concatenate([truth_sizes, true_cells.ravel()])
    covered = np.abs(estimates - truth_vec) <= 1.96 * errors
    assert 0.91 <= covered.mean() <= 0.98, covered.mean()


def test_to_frame_puts_estimates_beside_standard_errors(gss82_model):
    model, _ = gss82_model
    se = model.standard_errors()
    table = se.to_frame()
    assert table.index[0] == ("class size", "")
    assert table.columns.tolist() == [
        (c, part) for c in [1, 2, 3, "Total"] for part in ("estimate", "se")
    ]
    np.testing.assert_array_equal(table.iloc[0, 0:6:2], model.class_sizes_)
    np.testing.assert_array_equal(table.iloc[0, 1:6:2], se.class_sizes)
    assert np.isnan(table.iloc[0, 6:]).all()
    body = table.iloc[1:]
    pd.testing.assert_index_equal(body.index, model.profile().index)
    np.testing.assert_array_equal(body.xs("estimate", axis=1, level=1), model.profile())
    np.testing.assert_array_equal(body.xs("se", axis=1, level=1), se.profile)


def test_data_path_takes_what_fit_takes():
    """A weight column by name, and a zero-weight row with an answer the model
    does not have (fit reads it as missing; it adds nothing to any sum)."""
    df = lca.datasets.load_gss82().astype(object)
    df["wt"] = np.random.default_rng(0).uniform(0.5, 1.5, len(df))
    df.loc[0, "PURPOSE"] = "Never heard of it"
    df.loc[0, "wt"] = 0.0
    model = lca.LatentClassModel(2, n_starts=4, random_state=0).fit(df, weights="wt")
    stored = model.standard_errors()
    by_name = model.standard_errors(data=df, weights="wt")
    np.testing.assert_allclose(by_name.profile.to_numpy(), stored.profile.to_numpy(), rtol=1e-10)
    # a row that counts, with an answer the model does not have: refused, or missing
    df.loc[1, "PURPOSE"] = "Never heard of it"
    with pytest.raises(lca.DataError, match="Never heard of it"):
        model.standard_errors(data=df, weights="wt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the weights no longer match: tested below
        model.standard_errors(data=df, weights="wt", unknown="missing")


def test_data_with_other_weights_warns_and_points_at_the_caller(gss82_model):
    model, df = gss82_model
    with pytest.warns(UserWarning, match=r"weights sum to 601\.0 but the model was fitted") as rec:
        model.standard_errors(data=df, weights=np.full(len(df), 0.5))
    assert rec[0].filename == __file__


def test_rank_warning_points_at_the_caller():
    df, _ = lca.simulate(
        [0.5, 0.5], {f"x{i}": [[0.8, 0.3], [0.2, 0.7]] for i in range(3)}, n=300, random_state=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lca.LatentClassModel(3, bayes_constant=0, n_starts=4, random_state=0).fit(df)
    with pytest.warns(UserWarning, match="has rank") as rec:
        model.standard_errors()
    assert rec[0].filename == __file__


def test_boundary_does_not_depend_on_the_scale_of_the_weights():
    df = lca.datasets.load_gss82()
    fits = [
        lca.LatentClassModel(3, bayes_constant=0, n_starts=10, random_state=0).fit(
            df, weights=np.full(len(df), scale)
        )
        for scale in (1.0, 1.0 / len(df), 1000.0)
    ]
    errors = [m.standard_errors() for m in fits]
    for m, se in zip(fits[1:], errors[1:]):
        np.testing.assert_allclose(m._cond_probs, fits[0]._cond_probs, atol=1e-6)
        pd.testing.assert_frame_equal(se.boundary, errors[0].boundary)


def test_ordinal_indicator_on_the_boundary_is_fixed_as_a_nominal_one():
    """Binary A declared ordinal is the same model as nominal A: with P(A=No | 1)
    estimated at 0 both give NaN for class 1 and the same other standard errors,
    without a rank warning."""
    df = lca.datasets.load_carcinoma()
    nominal = lca.LatentClassModel(2, bayes_constant=0, n_starts=10, random_state=0).fit(df)
    ordinal = lca.LatentClassModel(
        2, bayes_constant=0, ordinal="A", n_starts=10, random_state=0
    ).fit(df)
    np.testing.assert_allclose(ordinal._cond_probs, nominal._cond_probs, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        se_n, se_o = nominal.standard_errors(), ordinal.standard_errors()
    assert se_o.boundary.loc["A"].to_numpy().any()
    pd.testing.assert_frame_equal(se_o.boundary, se_n.boundary)
    np.testing.assert_allclose(se_o.profile.to_numpy(), se_n.profile.to_numpy(), rtol=1e-5)
    assert se_o.n_free == se_n.n_free


def test_ordinal_boundary_is_a_class_at_an_end_or_a_category_never_given():
    """One ordinal indicator with 4 categories, three classes, crisp posteriors:
    class 3 gives only the top category (an infinite effect), category 2 is
    given by nobody (an infinite intercept), and class 1's rare bottom answers
    (a twentieth of a respondent) are not a boundary, nor class 2's absent
    ones: their probabilities there come from finite effects."""
    from lca.standard_errors import layout, on_boundary

    patterns = np.array([[0], [1], [3], [3]], dtype=np.int16)
    post = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.4, 0.6, 0.0], [0, 0, 1.0]])
    weights = np.array([0.05, 40.0, 60.0, 30.0])
    cond = np.array([[1e-5, 0.1, 1e-12], [0.4, 0.3, 1e-9], [1e-12, 1e-12, 1e-9], [0.6, 0.6, 1.0]])
    cond = cond / cond.sum(axis=0)
    offsets = np.array([0, 4])
    fixed = on_boundary(patterns, weights, post, cond, offsets, [True], np.zeros(4))
    expected = np.zeros((4, 3), dtype=bool)
    expected[:, 2] = True  # class 3: the top only
    expected[2, :] = True  # category 2: nobody
    np.testing.assert_array_equal(fixed, expected)
    lay = layout(np.array([0.5, 0.3, 0.2]), cond, offsets, [True], fixed)
    np.testing.assert_array_equal(lay.boundary, expected)
    # class logits 2, intercepts of categories 1 and 3 (0 is the reference), b of class 2
    assert lay.n_free == 2 + 2 + 1
    _, design = lay.blocks[0][2]
    assert not design.any()  # class 3's answers say nothing about the free parameters
    # with a Bayes constant nothing is fixed
    assert not on_boundary(patterns, weights, post, cond, offsets, [True], np.full(4, 0.1)).any()


def test_dask_data_is_refused_with_a_fix():
    dd = pytest.importorskip("dask.dataframe")
    df = lca.datasets.load_gss82()
    model = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(df)
    with pytest.raises(TypeError, match=r"in memory.*compute\(\)"):
        model.standard_errors(data=dd.from_pandas(df, npartitions=2))


def test_boundary_does_not_depend_on_rows_of_zero_weight():
    """Rows of zero weight leave the fit entirely; padding the data with them
    changes neither the estimates nor which of them are on the boundary."""
    df = lca.datasets.load_gss82()
    padded = pd.concat([df] * 20, ignore_index=True)
    w = np.zeros(len(padded))
    w[: len(df)] = 1.0
    opts = dict(bayes_constant=0, class_bayes_constant=0, n_starts=6, tol=1e-9, random_state=0)
    plain = lca.LatentClassModel(3, **opts).fit(df)
    pad = lca.LatentClassModel(3, **opts).fit(padded, weights=w)
    np.testing.assert_allclose(pad._cond_probs, plain._cond_probs, atol=1e-12)
    se_plain = plain.standard_errors()
    assert se_plain.boundary.to_numpy().any()
    for se in (pad.standard_errors(), pad.standard_errors(data=padded, weights=w)):
        pd.testing.assert_frame_equal(se.boundary, se_plain.boundary)
        np.testing.assert_allclose(se.profile, se_plain.profile, rtol=1e-9)


@pytest.mark.parametrize("n_classes", [1, 2])
def test_ordinal_indicator_with_one_answer_given_is_as_a_nominal_one(n_classes):
    df = lca.datasets.load_gss82()
    df["o"] = 1  # categories 0 and 2 declared, never given
    fits = [
        lca.LatentClassModel(
            n_classes, categories={"o": [0, 1, 2]}, n_starts=4, random_state=0, **extra
        ).fit(df)
        for extra in ({}, {"ordinal": "o"})
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nominal, ordinal = (m.standard_errors() for m in fits)
    assert ordinal.boundary.loc["o"].to_numpy().all()
    pd.testing.assert_frame_equal(ordinal.boundary, nominal.boundary)
    assert ordinal.n_free == ordinal.rank == nominal.n_free
    np.testing.assert_allclose(
        ordinal.profile.drop(index="o").to_numpy(),
        nominal.profile.drop(index="o").to_numpy(),
        rtol=1e-4,  # two fits, stopped by tol at slightly different points
    )
