"""scikit-learn estimators around fastops models (Keras 3's keras.wrappers).

`SKLearnClassifier` and `SKLearnRegressor` take a model-building function (or a compiled
Sequential, cloned for each fit) and give it scikit-learn's face: fit / predict /
predict_proba / score, get_params / set_params, `sklearn.base.clone`, and `partial_fit`,
which trains one epoch on the data it is given and keeps the weights and the optimizer's
state from call to call.  So `cross_val_score`, `Pipeline` and dask-ml's `Incremental`
(which calls partial_fit block by block of a dask array, on a cluster if one is active)
train fastops models.  Needs scikit-learn (`pip install fastops[dask]`).

Differences from Keras 3's wrappers: `partial_fit` is a fastops addition (one epoch per
call; `classes` as scikit-learn's SGDClassifier takes it); `history_` is the History's dict
of per-epoch logs; fit and partial_fit default to `verbose=0` (a worker has no terminal);
inputs that fastops streams (np.memmap, dask arrays) are passed to the model unconverted.
"""
import copy
import sys
import uuid

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
except ImportError:  # scikit-learn is optional: the classes say so when constructed
    BaseEstimator = ClassifierMixin = RegressorMixin = object
    _SKLEARN = False
else:
    _SKLEARN = True

from ._dask_threads import in_task_threads
from ._sources import is_stream

__all__ = ["SKLearnClassifier", "SKLearnRegressor"]


def _validate(est, X, y=None, reset=True):
    """scikit-learn's input checks, without converting streamed inputs (dask, memmap)."""
    if is_stream(X):
        if reset:
            est.n_features_in_ = X.shape[1]
        elif X.shape[1] != est.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is "
                             f"expecting {est.n_features_in_} features as input.")
        return X, y
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn < 1.6
        def validate_data(e, *args, **kw):
            return e._validate_data(*args, **kw)
    if y is None:
        return validate_data(est, X, reset=reset), None
    return validate_data(est, X, y, reset=reset, multi_output=True, y_numeric=False)


class SKLBase(BaseEstimator):
    """Common part of the wrappers (Keras 3's SKLBase).

    Args:
        model: a compiled fastops Sequential (cloned and recompiled before each fit unless
            warm_start), or a callable `model(X=..., y=..., **model_kwargs)` returning a
            compiled model; y is given as the model sees it (one-hot for classifiers).
        warm_start: reuse the weights of the previous fit instead of a new model.
        model_kwargs: keyword arguments for `model` when it is a callable.
        fit_kwargs: keyword arguments for `model.fit` (those given to fit take precedence).

    Attributes:
        model_: the fitted model.  history_: per-epoch logs of the last fit.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        if not _SKLEARN:
            raise ImportError(f"{type(self).__name__} needs scikit-learn: "
                              f"pip install scikit-learn (or fastops[dask])")
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs
        _register_dask_token()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __dask_tokenize__(self):
        # Dask names tasks by their inputs' tokens: two states of one estimator must differ,
        # or a cluster returns the result of an earlier partial_fit for a later one
        return (type(self).__name__, getattr(self, "_state_token", None),
                repr(sorted(self.get_params(deep=False).items(), key=lambda kv: kv[0])))

    def _changed(self):
        self._state_token = uuid.uuid4().hex
        _register_dask_token()

    def __sklearn_clone__(self):
        model = self.model if callable(self.model) and not _is_model(self.model) \
            else _fresh_model(self.model)
        return type(self)(model=model, warm_start=self.warm_start,
                          model_kwargs=copy.deepcopy(self.model_kwargs),
                          fit_kwargs=copy.deepcopy(self.fit_kwargs))

    def _get_model(self, X, y):
        if _is_model(self.model):
            return _fresh_model(self.model)
        if not callable(self.model):
            raise TypeError(f"model must be a compiled fastops Sequential or a callable "
                            f"returning one, got {type(self.model).__name__}")
        built = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not _is_model(built):
            raise TypeError(f"the model function returned {type(built).__name__}, not a "
                            f"fastops model")
        return built

    def _fit_args(self, kwargs):
        args = {"verbose": 0}
        args.update(self.fit_kwargs or {})
        args.update(kwargs)
        return args

    def fit(self, X, y, **kwargs):
        """Train a new model (or the previous one with warm_start) on X, y.

        Args:
            X: array of shape (n_samples, n_features) (np.memmap and dask arrays stream).
            y: targets of shape (n_samples,) or (n_samples, n_outputs).
            **kwargs: keyword arguments for `model.fit`.

        Returns:
            self
        """
        X, y = _validate(self, X, y)
        y = self._process_target(y, reset=True)
        model = self.model_ if self.warm_start and hasattr(self, "model_") \
            else self._get_model(X, y)
        _check_compiled(model)
        with in_task_threads():
            history = model.fit(X, y, **self._fit_args(kwargs))
        self.model_ = model
        self.history_ = dict(history.history)
        self._changed()
        return self

    def partial_fit(self, X, y, **kwargs):
        """Train one epoch on X, y, keeping the weights and optimizer state of earlier calls.

        The first call builds the model (classifiers: pass `classes=` the full list of
        classes then, as scikit-learn's incremental estimators take it, unless y holds them
        all).  dask-ml's Incremental calls this once per block of a dask array.

        Returns:
            self
        """
        first = not hasattr(self, "model_")
        classes = kwargs.pop("classes", None)
        X, y = _validate(self, X, y, reset=first)
        y = self._process_target(y, reset=first, classes=classes)
        if first:
            self.model_ = self._get_model(X, y)
            _check_compiled(self.model_)
            self.history_ = {}
        args = self._fit_args(kwargs)
        args["epochs"] = 1
        args.pop("initial_epoch", None)
        with in_task_threads():
            history = self.model_.fit(X, y, **args)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)
        self._changed()
        return self

    def _outputs(self, X):
        from sklearn.utils.validation import check_is_fitted
        check_is_fitted(self)
        X, _ = _validate(self, X, reset=False)
        with in_task_threads():
            return self.model_.predict(X, verbose=0)

    def _process_target(self, y, reset=False, classes=None):
        y = y if is_stream(y) else np.asarray(y)
        if reset:
            self.y_ndim_ = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def predict(self, X):
        """The model's predictions, as targets were given (a 1-D y gives 1-D predictions)."""
        out = self._outputs(X)
        return out[:, 0] if self.y_ndim_ == 1 and out.ndim == 2 and out.shape[1] == 1 else out


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a fastops model (Keras 3's SKLearnClassifier).

    Targets are one-hot encoded over `classes_` before they reach the model, so the model
    has one output unit per class and a categorical loss; predict returns the class of the
    largest output, predict_proba the outputs.  See SKLBase for the arguments.

    Example:
        >>> def build(X, y, hidden=64):
        ...     model = fastops.Sequential([fastops.Input(shape=(X.shape[1],)),
        ...                                 Dense(hidden, activation='relu'),
        ...                                 Dense(y.shape[1], activation='softmax')])
        ...     model.compile(optimizer='rmsprop', loss='categorical_crossentropy')
        ...     return model
        >>> clf = SKLearnClassifier(build, model_kwargs={'hidden': 32},
        ...                         fit_kwargs={'epochs': 5, 'batch_size': 128})
        >>> sklearn.model_selection.cross_val_score(clf, x, labels, cv=3)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _process_target(self, y, reset=False, classes=None):
        y = np.asarray(y.compute() if is_stream(y) and hasattr(y, "compute") else y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{type(self).__name__}: y must hold one class label per sample "
                             f"(shape (n_samples,)), got shape {y.shape}")
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError("Classifier can't train when only one class is present.")
        index = np.searchsorted(self.classes_, y)
        index[index == len(self.classes_)] = 0
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise ValueError(f"y holds {y[unknown][0]!r}, which is not one of the classes "
                             f"{self.classes_.tolist()} (pass classes= to the first "
                             f"partial_fit)")
        onehot = np.zeros((len(y), len(self.classes_)), np.float32)
        onehot[np.arange(len(y)), index] = 1
        return onehot

    def predict_proba(self, X):
        """The model's outputs, shape (n_samples, n_classes)."""
        return self._outputs(X)

    def predict(self, X):
        """The class of the largest output for each sample."""
        outputs = self._outputs(X)
        return self.classes_[np.argmax(outputs, axis=1)]


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a fastops model (Keras 3's SKLearnRegressor).

    Targets go to the model as given (a 1-D y as one column) and predictions come back in
    y's shape; score is R^2.  See SKLBase for the arguments.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


def _register_dask_token():
    """Dask tokenizes scikit-learn estimators by their parameters alone, so two states of
    one wrapper would get the same task names; a more specific rule for the wrappers uses
    their state (registered once dask is in use; the wrappers never import it)."""
    tokenize = sys.modules.get("dask.base")
    if tokenize is not None:
        tokenize.normalize_token.register(SKLBase)(_state_of)


def _state_of(estimator):
    return estimator.__dask_tokenize__()


def _is_model(obj):
    return hasattr(obj, "fit") and hasattr(obj, "get_config") and hasattr(obj, "compile")


def _fresh_model(model):
    """An untrained copy of a compiled model, compiled the same way (a fresh optimizer)."""
    from .models import clone_model
    fresh = clone_model(model)
    config = model.compile_config
    if config is not None:
        fresh.compile(**{k: copy.deepcopy(v) for k, v in config.items()})
    return fresh


def _check_compiled(model):
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise RuntimeError("Given model needs to be compiled, and have a loss and an "
                           "optimizer.")
