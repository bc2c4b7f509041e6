"""scikit-learn's pipelines, clone and check_is_fitted work with LatentClassModel."""

import numpy as np
import pandas as pd
import pytest

import lca

sklearn = pytest.importorskip("sklearn")  # in the test extra; the library does not need it
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402


@pytest.fixture(scope="module")
def gss82():
    return lca.datasets.load_gss82()


def test_a_pipeline_fits_and_predicts_as_the_model_does(gss82):
    options = dict(n_classes=3, n_starts=2, random_state=0)
    pipe = make_pipeline(lca.LatentClassModel(**options)).fit(gss82)
    model = lca.LatentClassModel(**options).fit(gss82)
    pd.testing.assert_frame_equal(pipe.predict_proba(gss82), model.predict_proba(gss82))
    pd.testing.assert_series_equal(pipe.predict(gss82), model.predict(gss82))
    assert pipe.fit_predict(gss82).tolist() == model.predict(gss82).tolist()


def test_clone_and_check_is_fitted(gss82):
    model = lca.LatentClassModel(2, n_starts=3, bayes_constant=0.5)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    model.fit(gss82)
    check_is_fitted(model)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert np.isfinite(copy.fit(gss82).loglik_)
