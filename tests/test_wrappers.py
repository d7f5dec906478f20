"""fastops.wrappers: scikit-learn's face of a fastops model (Keras 3's wrappers, plus
partial_fit): parameters, clone, cross_val_score, Pipeline, partial_fit = fit epoch by
epoch, pickling with the optimizer state, regressors."""
import pickle

import numpy as np
import pytest
from dask_support import mlp, need, separable

import fastops
from fastops import layers

need("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastops.wrappers import SKLearnClassifier, SKLearnRegressor  # noqa: E402


def build(X, y, hidden=16, seed=0):
    return mlp(X.shape[1], y.shape[1], seed=seed, hidden=hidden, loss="categorical_crossentropy")


@pytest.fixture
def task():
    x, y = separable(900, seed=21)
    return x, np.array(["ant", "bee", "cat"])[y]  # string classes, as scikit-learn allows


def test_params_and_clone(task):
    clf = SKLearnClassifier(build, model_kwargs={"hidden": 8}, fit_kwargs={"epochs": 2})
    assert clf.get_params() == {"model": build, "warm_start": False,
                                "model_kwargs": {"hidden": 8}, "fit_kwargs": {"epochs": 2}}
    clf.set_params(model_kwargs={"hidden": 4})
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()
    x, y = task
    copy.fit(x, y)
    assert copy.model_.layers[0].units == 4 and not hasattr(clf, "model_")
    with pytest.raises(NotFittedError):
        clf.predict(x)


def test_classifier_fit_predict_score(task):
    x, y = task
    clf = SKLearnClassifier(build, fit_kwargs={"epochs": 30, "batch_size": 32})
    clf.fit(x, y)
    assert list(clf.classes_) == ["ant", "bee", "cat"] and clf.n_features_in_ == 20
    proba = clf.predict_proba(x)
    assert proba.shape == (900, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    pred = clf.predict(x)
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    assert clf.score(x, y) == np.mean(pred == y) > 0.85
    assert len(clf.history_["loss"]) == 30
    with pytest.raises(ValueError, match="features"):
        clf.predict(x[:, :5])


def test_cross_val_score_and_pipeline(task):
    x, y = task
    clf = SKLearnClassifier(build, fit_kwargs={"epochs": 30, "batch_size": 32})
    scores = cross_val_score(clf, x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.75
    pipe = make_pipeline(StandardScaler(), clone(clf)).fit(x * 100 + 7, y)
    assert pipe.score(x * 100 + 7, y) > 0.85


def test_partial_fit_is_fit_one_epoch_at_a_time(task):
    x, y = task
    full = SKLearnClassifier(build, fit_kwargs={"epochs": 3, "shuffle": False}).fit(x, y)
    steps = SKLearnClassifier(build, fit_kwargs={"shuffle": False})
    for _ in range(3):
        steps.partial_fit(x, y, classes=["ant", "bee", "cat"])
    # the weights and the optimizer's slots carry over from call to call
    for a, b in zip(full.model_.get_weights(), steps.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert steps.history_["loss"] == full.history_["loss"]


def test_partial_fit_classes(task):
    x, y = task
    clf = SKLearnClassifier(build)
    first = y != "cat"
    clf.partial_fit(x[first], y[first], classes=["ant", "bee", "cat"])
    assert list(clf.classes_) == ["ant", "bee", "cat"]
    assert clf.predict_proba(x).shape == (900, 3)
    with pytest.raises(ValueError, match="not one of the classes"):
        clf.partial_fit(x[:5], np.array(["dog"] * 5))
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(build).fit(x[:10], np.array(["ant"] * 10))


def test_pickled_estimator_resumes_identically(task):
    x, y = task
    a = SKLearnClassifier(build, fit_kwargs={"shuffle": False})
    a.partial_fit(x, y, classes=["ant", "bee", "cat"])
    b = pickle.loads(pickle.dumps(a))
    a.partial_fit(x, y)
    b.partial_fit(x, y)
    for u, v in zip(a.model_.get_weights(), b.model_.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_compiled_model_instance_is_cloned_per_fit(task):
    x, y = task
    model = mlp(20, 3, seed=1, loss="categorical_crossentropy")
    before = model.get_weights()
    clf = SKLearnClassifier(model, fit_kwargs={"epochs": 1}).fit(x, y)
    assert clf.model_ is not model
    for u, v in zip(before, model.get_weights()):
        np.testing.assert_array_equal(u, v)  # the template is never trained
    with pytest.raises(RuntimeError, match="compiled"):
        SKLearnClassifier(lambda X, y: fastops.Sequential([layers.Dense(3)])).fit(x, y)


def test_regressor(task):
    x, _ = task
    target = x @ np.linspace(-1, 1, 20).astype(np.float32) + 3

    def linear(X, y):
        model = fastops.Sequential([layers.Input(shape=(X.shape[1],)), layers.Dense(1)],
                                   seed=0)
        model.compile(optimizer=fastops.optimizers.Adam(0.05), loss="mse")
        return model
    reg = SKLearnRegressor(linear, fit_kwargs={"epochs": 30, "batch_size": 32}).fit(x, target)
    pred = reg.predict(x)
    assert pred.shape == (900,)
    assert reg.score(x, target) > 0.99
    two = SKLearnRegressor(linear).fit(x, target[:, None])
    assert two.predict(x).shape == (900, 1)
