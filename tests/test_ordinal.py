"""Ordinal indicators (Latent GOLD's ordinal scale type)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import log_softmax

import lca
from lca.encoding import encode

from . import naive


def ordinal_block(a, b):
    """P(c|k) of the adjacent-category logit with scores 0..C-1, shape (C, K)."""
    scores = np.arange(len(a))[:, None]
    return np.exp(log_softmax(np.asarray(a)[:, None] + scores * np.asarray(b)[None, :], axis=0))


def _ordinal_truth():
    sizes = [0.45, 0.35, 0.2]
    b = np.array([-1.2, 0.0, 1.3])
    cond = {f"o{j}": ordinal_block(np.zeros(5), b * (0.8 + 0.2 * j)) for j in range(4)}
    rng = np.random.default_rng(3)
    cond.update({f"n{j}": rng.dirichlet(np.full(3, 0.5), size=3).T for j in range(3)})
    return sizes, cond


def _ordered(data):
    """Make the o* columns ordered Categoricals (their labels 1..5 are numeric anyway)."""
    return data.assign(**{c: data[c].cat.as_ordered() for c in data if c.startswith("o")})


def test_parameter_count_and_likelihood_against_independent_computation():
    sizes, cond = _ordinal_truth()
    data, _ = lca.simulate(sizes, cond, 1500, random_state=1, missing=0.05)
    ordinal = ["o0", "o1", "o2", "o3"]
    m = lca.LatentClassModel(3, ordinal=ordinal, n_starts=6).fit(_ordered(data))
    # (K-1) + ordinal: 4 x ((5-1) + (K-1)) + nominal: 3 x K (3-1)
    assert m.n_parameters_ == 2 + 4 * (4 + 2) + 3 * 3 * 2
    codes = encode(data, m.indicators_).astype(np.int64)
    blocks = [m.conditional_probs_[ind.name].to_numpy() for ind in m.indicators_]
    _, ll = naive.posteriors(codes, np.log(m.class_sizes_.to_numpy()), blocks)
    assert m.loglik_ == pytest.approx(ll.sum(), rel=1e-12)
    # fitted ordinal blocks lie in the model: log-odds against category 0 are a_c + b_k c
    for name in ordinal:
        logp = np.log(m.conditional_probs_[name].to_numpy())
        rel = (logp - logp[0]) - (logp[:, :1] - logp[0, 0])
        for k in range(3):
            np.testing.assert_allclose(rel[:, k], rel[1, k] * np.arange(5), atol=1e-7)


def test_recovery_of_a_simulated_ordinal_model():
    sizes, cond = _ordinal_truth()
    data, truth = lca.simulate(sizes, cond, 4000, random_state=2)
    m = lca.LatentClassModel(3, ordinal=["o0", "o1", "o2", "o3"], n_starts=8).fit(data)
    table = pd.crosstab(truth, m.predict(data))
    # classes are numbered by size, as are the true ones here
    assert np.abs(m.class_sizes_.to_numpy() - np.array(sizes)).max() < 0.03
    assert np.trace(table.to_numpy()) / table.to_numpy().sum() > 0.85
    for name in ("o0", "o3"):
        np.testing.assert_allclose(m.conditional_probs_[name].to_numpy(), cond[name], atol=0.05)


def test_bic_prefers_the_true_scale_type():
    sizes, cond = _ordinal_truth()
    ordinal = ["o0", "o1", "o2", "o3"]
    ordinal_data, _ = lca.simulate(sizes, cond, 3000, random_state=4)
    as_ordinal = lca.LatentClassModel(3, ordinal=ordinal, n_starts=6).fit(ordinal_data)
    as_nominal = lca.LatentClassModel(3, n_starts=6).fit(ordinal_data)
    assert as_ordinal.fit_stats()["bic"] < as_nominal.fit_stats()["bic"]
    # non-monotone class profiles: the ordinal model cannot follow them
    rng = np.random.default_rng(5)
    bumpy = {name: rng.dirichlet(np.full(5, 0.3), size=3).T for name in ordinal}
    nominal_data, _ = lca.simulate(sizes, bumpy, 3000, random_state=6)
    as_ordinal = lca.LatentClassModel(3, ordinal=ordinal, n_starts=6).fit(nominal_data)
    as_nominal = lca.LatentClassModel(3, n_starts=6).fit(nominal_data)
    assert as_nominal.fit_stats()["bic"] < as_ordinal.fit_stats()["bic"]


@pytest.mark.filterwarnings("ignore::lca.ConvergenceWarning")  # only parameters are counted
def test_separation_type_models_add_23_parameters_per_class():
    # the published separation-type indicators: categories per indicator
    n_cats = {
        "previous_relationship": 4,
        "current_relationship": 4,
        "break_up": 5,
        "time_since_separation": 5,
        "nrp_child_contact": 5,
        "financial_discussion": 5,
        "ex_partner_contact": 4,
        "decisions": 2,
        "relationship_length": 7,
    }
    rng = np.random.default_rng(0)
    cond = {name: rng.dirichlet(np.ones(c), size=2).T for name, c in n_cats.items()}
    data, _ = lca.simulate([0.5, 0.5], cond, 800, random_state=0)
    ordinal = ["time_since_separation", "relationship_length", "current_relationship"]
    counts = [
        lca.LatentClassModel(k, ordinal=ordinal, n_starts=1, max_iter=20, burn_in=5)
        .fit(data)
        .n_parameters_
        for k in (4, 5, 6)
    ]
    assert np.diff(counts).tolist() == [23, 23]
    # all nominal: 33 per class, as the published table says it would be
    nominal = lca.LatentClassModel(5, n_starts=1, max_iter=20, burn_in=5).fit(data)
    assert nominal.n_parameters_ == 4 + 5 * 32
    # the published criteria imply about 101.6, 124.6 and 148 parameters
    assert counts == [101, 124, 147]
    assert counts[1] == nominal.n_parameters_ - 5 * 13 + (13 + 3 * 4)


def test_ordinal_needs_an_order():
    data = pd.DataFrame({"q": ["low", "high", "mid"] * 20, "r": ["a", "b", "b"] * 20})
    with pytest.raises(
        lca.DataError, match=r"ordinal indicator 'q' has labels that are not.*ordered"
    ):
        lca.LatentClassModel(2, ordinal=["q"]).fit(data)
    with pytest.raises(lca.DataError, match=r"ordinal= names \['zz'\]"):
        lca.LatentClassModel(2, ordinal=["zz"]).fit(data)
    m = lca.LatentClassModel(1, ordinal=["q"], categories={"q": ["low", "mid", "high"]})
    assert m.fit(data).indicators_[0].categories == ("low", "mid", "high")


def test_an_unordered_numeric_categorical_is_scored_in_numeric_order():
    """The category order of an unordered Categorical means nothing: numbers are scored
    sorted, as a plain numeric column is, so both fit the same ordinal model (scoring
    3, 1, 2 as 0, 1, 2 gave a likelihood about 80 lower on the reviewer's data)."""
    rng = np.random.default_rng(4)
    cls = rng.integers(0, 2, 400)
    data = pd.DataFrame(
        {f"q{j}": (rng.random(400) < 0.2 + 0.6 * cls).astype(int) for j in range(4)}
    )
    data["o"] = np.where(cls == 1, rng.choice([1, 2, 3], 400, p=[0.1, 0.3, 0.6]),
                         rng.choice([1, 2, 3], 400, p=[0.6, 0.3, 0.1]))  # fmt: skip
    shuffled = data.assign(o=pd.Categorical(data["o"], categories=[3, 1, 2]))
    plain = lca.LatentClassModel(2, ordinal="o", random_state=0).fit(data)
    cat = lca.LatentClassModel(2, ordinal="o", random_state=0).fit(shuffled)
    assert cat.indicators_[-1].categories == (1, 2, 3)
    assert cat.loglik_ == pytest.approx(plain.loglik_, rel=1e-12)
    # an ordered Categorical keeps its own order (here a reversed scale: the same fit)
    rev = data.assign(o=pd.Categorical(data["o"], categories=[3, 2, 1], ordered=True))
    rev_fit = lca.LatentClassModel(2, ordinal="o", random_state=0).fit(rev)
    assert rev_fit.indicators_[-1].categories == (3, 2, 1)
    assert rev_fit.loglik_ == pytest.approx(plain.loglik_, rel=1e-9)


def _gapped(rng, n, n_binary):
    """Two classes, ``n_binary`` 0/1 items and ``a`` in 1, 2 (class 0) or 4, 5 (class 1):
    nobody gives 3. Returns the data and the classes."""
    cls = rng.integers(0, 2, n)
    data = pd.DataFrame(
        {
            f"q{j}": (rng.random(n) < np.where(cls == 0, 0.8, 0.2)).astype(int)
            for j in range(n_binary)
        }
    )
    data["a"] = np.where(cls == 0, rng.choice([1, 2], n), rng.choice([4, 5], n))
    return data, cls


def test_a_category_nobody_gave_inside_an_ordinal_scale_is_warned_about():
    """Nobody answers 3 of 1..5: the scores are equidistant over 1, 2, 4, 5 (a model other
    than 1..5 with 3 kept, whose likelihood differs), and a warning says so and how to keep
    3's place, for integer codes, an ordered Categorical and text labels; not for a
    nominal indicator, nor with the categories given, nor without a gap."""
    rng = np.random.default_rng(0)
    n = 800
    data, cls = _gapped(rng, n, 4)
    expected = (
        r"ordinal indicator 'a': nobody gave 3, between its answered categories 1, 2, 4, 5"
        r".*categories=\{'a': \[1, 2, 3, 4, 5\]\}"
    )
    with pytest.warns(UserWarning, match=expected):
        gapped = lca.LatentClassModel(2, ordinal=["a"]).fit(data)
    kept = lca.LatentClassModel(2, ordinal=["a"], categories={"a": [1, 2, 3, 4, 5]}).fit(data)
    assert kept.indicators_[-1].categories == (1, 2, 3, 4, 5)
    assert abs(kept.loglik_ - gapped.loglik_) > 0.01  # two different models
    declared = data.assign(a=pd.Categorical(data["a"], categories=[1, 2, 3, 4, 5], ordered=True))
    with pytest.warns(UserWarning, match=r"give categories=\{'a': list\(df\['a'\]\.cat"):
        lca.LatentClassModel(2, ordinal=["a"]).fit(declared)
    labels = np.array(["never", "rarely", "often", "always"])
    text = data.assign(
        a=pd.Categorical(
            labels[np.where(cls == 0, rng.choice([0, 2], n), 3)], categories=labels, ordered=True
        )
    )
    with pytest.warns(
        UserWarning, match=r"nobody gave 'rarely', between its answered categories 'never', 'often'"
    ):
        lca.LatentClassModel(2, ordinal=["a"]).fit(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lca.LatentClassModel(2).fit(data)  # nominal: nothing is scored
        lca.LatentClassModel(2, ordinal=["a"], categories={"a": [1, 2, 3, 4, 5]}).fit(data)
        lca.LatentClassModel(2, ordinal=["a"]).fit(data.assign(a=data["a"].clip(upper=3)))
        # two answered categories: any two scores are the same model
        lca.LatentClassModel(2, ordinal=["a"]).fit(data.assign(a=np.where(cls == 0, 1, 3)))
        # more gaps than categories (1, 2, 4, 5 and 99): a code apart, not a gapped scale
        codes = data["a"].where(rng.random(n) > 0.05, 99)
        lca.LatentClassModel(2, ordinal=["a"]).fit(data.assign(a=codes))


def test_the_gap_warning_comes_once_per_data_not_per_model_or_bootstrap_sample():
    """compare fits 2 models and BLRT 2 x 4 more, all to data whose ordinal scale skips 3:
    one warning (the samples drawn from the model say nothing about the data)."""
    data, _ = _gapped(np.random.default_rng(1), 300, 3)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        lca.compare(data, range(1, 3), ordinal=["a"], blrt=True, n_bootstrap=4, n_jobs=2,
                    n_starts=2, progress=False)  # fmt: skip
    gaps = [r for r in record if "nobody gave" in str(r.message)]
    assert len(gaps) == 1 and gaps[0].category is lca.DataWarning
    assert gaps[0].filename == __file__


def test_from_parameters_holds_ordinal_indicators_to_the_ordinal_form():
    """Probabilities given for an ordinal indicator must be the ordinal model's: exact
    ones are kept (to rounding), ones rounded to 3 decimals (zeros included) are
    replaced by the closest of that form (within 0.005, and then of the form exactly),
    others are refused, naming the indicator (they were taken as given, with the
    ordinal count)."""
    exact = ordinal_block([0.0, 0.4, -0.3, 0.2], [-1.0, 0.5, 1.5])
    nominal = [[0.6, 0.3, 0.2], [0.4, 0.7, 0.8]]

    def model(block):
        return lca.LatentClassModel.from_parameters(
            [0.5, 0.3, 0.2], {"o": block, "n": nominal}, ordinal=["o"]
        )

    got = model(exact).conditional_probs_["o"].to_numpy()
    np.testing.assert_allclose(got, exact, rtol=1e-12)
    rounded = np.round(exact, 3)
    rounded[0] += 1 - rounded.sum(axis=0)
    got = model(rounded).conditional_probs_["o"].to_numpy()
    assert np.max(np.abs(got - rounded)) < 0.005
    ratio = np.diff(np.log(got), axis=0)
    interaction = ratio - ratio.mean(axis=1, keepdims=True) - ratio.mean(axis=0) + ratio.mean()
    np.testing.assert_allclose(interaction, 0.0, atol=1e-12)
    # the reviewer's: log-ratio differences between the classes of 2.35 and 1.39
    with pytest.raises(ValueError, match=r"conditional_probs\['q2'\] are not those of an ordinal"):
        lca.LatentClassModel.from_parameters(
            [0.6, 0.4], {"q2": [[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]]}, ordinal=["q2"]
        )
    # the reviewer's: an exact ordinal table rounded to 3 decimals, with a cell of 0.001,
    # which a least-squares fit of the log-ratios moved by 0.005
    near = np.array([[0.916, 0.328, 0.053], [0.078, 0.265, 0.109],
                     [0.005, 0.156, 0.164], [0.001, 0.251, 0.674]])  # fmt: skip
    assert np.max(np.abs(model(near).conditional_probs_["o"].to_numpy() - near)) < 0.001
    # a published 0.000 is a rounding: the model's value there is small and positive
    steep = ordinal_block([0.0, 0.0, 0.0], [-4.0, 0.0, 4.0])
    published = np.round(steep, 3)
    published[1] += 1 - published.sum(axis=0)
    assert (published == 0).any()
    got = model(published).conditional_probs_["o"].to_numpy()
    assert (got > 0).all() and np.max(np.abs(got - published)) < 0.005
    with pytest.raises(ValueError, match=r"'o'\] are not those of an ordinal.*leave 'o' out"):
        model(np.array([[0.5, 0.2, 0.1], [0.5, 0.3, 0.3], [0.0, 0.5, 0.6]]))
    # two categories are always of the ordinal form
    binary = model(np.array([[0.9, 0.5, 0.1], [0.1, 0.5, 0.9]]))
    assert binary.conditional_probs_["o"].to_numpy()[0].tolist() == [0.9, 0.5, 0.1]


def test_ordinal_model_round_trips(tmp_path):
    sizes, cond = _ordinal_truth()
    data, _ = lca.simulate(sizes, cond, 600, random_state=8)
    m = lca.LatentClassModel(3, ordinal=["o0", "o1"], n_starts=3).fit(data)
    m.save(tmp_path / "m.json")
    loaded = lca.load(tmp_path / "m.json")
    assert loaded.n_parameters_ == m.n_parameters_
    assert loaded._ordinal.tolist() == m._ordinal.tolist()
    assert loaded.get_params()["ordinal"] == ["o0", "o1"]
    pd.testing.assert_frame_equal(loaded.predict_proba(data), m.predict_proba(data))


@pytest.mark.parametrize(
    "spec",
    [1, np.int64(1), [np.int64(1)], pd.Index([1]), np.array([1])],
    ids=["int", "numpy-int", "list-of-numpy-int", "Index", "array"],
)
def test_ordinal_takes_one_name_or_any_list_of_names(tmp_path, spec):
    """Integer column names: one name (numpy's too), or any iterable of names."""
    sizes, cond = _ordinal_truth()
    data, _ = lca.simulate(sizes, cond, 300, random_state=2)
    data = data.set_axis(range(data.shape[1]), axis=1)  # o0 is column 0, o1 is 1
    m = lca.LatentClassModel(2, ordinal=spec, n_starts=2, random_state=0).fit(data)
    assert m._ordinal.tolist() == [False, True] + [False] * (data.shape[1] - 2)
    # 5 categories: 4 nominal parameters per class, (C - 1) + (K - 1) = 5 when ordinal
    nominal = lca.LatentClassModel(2, n_starts=2, random_state=0).fit(data)
    assert m.n_parameters_ == nominal.n_parameters_ - 2 * 4 + (4 + 1)
    m.save(tmp_path / "m.json")  # numpy names are written as plain ints
    loaded = lca.load(tmp_path / "m.json")
    assert loaded.get_params()["ordinal"] == [1]
    pd.testing.assert_frame_equal(loaded.predict_proba(data), m.predict_proba(data))


@pytest.mark.parametrize("spec", [True, 1.5, b"q"])
def test_ordinal_refuses_what_is_not_a_name(spec):
    data = pd.DataFrame({"q": [1, 2, 3] * 20, "r": ["a", "b", "b"] * 20})
    with pytest.raises(lca.DataError, match=r"ordinal= takes a column name or a list"):
        lca.LatentClassModel(2, ordinal=spec).fit(data)


def test_binary_ordinal_indicators_reach_the_nominal_maximum():
    # with two categories the ordinal model is the nominal one: from the same random state
    # both fits must reach the same maximum (an ordinal M-step stuck at a saturated class
    # used to stop this fit at -1360.9, reported as converged)
    rng = np.random.default_rng(1)
    z = rng.choice(3, 400, p=rng.dirichlet(np.ones(3) * 3))
    x = np.empty((400, 5), int)
    for j in range(5):
        theta = rng.dirichlet(np.ones(2), size=3)
        for k in range(3):
            x[z == k, j] = rng.choice(2, (z == k).sum(), p=theta[k])
    data = pd.DataFrame(x, columns=[f"v{j}" for j in range(5)])
    opts = dict(n_starts=1, random_state=4)
    as_ordinal = lca.LatentClassModel(2, ordinal=list(data.columns), **opts).fit(data)
    as_nominal = lca.LatentClassModel(2, **opts).fit(data)
    objective = as_ordinal.loglik_ + as_ordinal.log_prior_
    assert objective == pytest.approx(as_nominal.loglik_ + as_nominal.log_prior_, abs=1e-4)
