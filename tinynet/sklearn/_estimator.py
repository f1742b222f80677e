"""The training logic shared by :class:`tinynet.sklearn.estimators.TinyNetClassifier` and
``TinyNetRegressor``: parameter checks, building the network, the fit loop
(through :func:`tinynet.fit`, with scikit-learn MLP's stopping rule and L2 penalty
from :mod:`tinynet.sklearn._training_rules`) and the save/load hooks.
"""

from __future__ import annotations

import numbers
import re
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from tinynet import registry
from tinynet.data.loader import DataLoader
from tinynet.engine.checks import check_choice, check_int, check_number
from tinynet.engine.types import Array
from tinynet.layers import Sequential
from tinynet.layers.mlp import build_mlp
from tinynet.sklearn._training_rules import L2Step, PlateauStop
from tinynet.training.callbacks import PROGRESS_MODES
from tinynet.training.loop import fit

FITTED = ("n_features_in_", "loss_curve_", "n_iter_", "t_", "best_loss_", "validation_loss_curve_",
          "best_validation_loss_")
NO_Y = "no_validation"  # validate_data's marker for "X only"


class TinyNetEstimator(BaseEstimator):
    """Base class: scikit-learn parameters and the shared fit loop (see the subclasses)."""

    _loss_name = ""  # the tinynet loss, by registry name

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "leaky_relu",
        *,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        batch_size: int = 32,
        epochs: int = 200,
        alpha: float = 1e-4,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        shuffle: bool = True,
        warm_start: bool = False,
        random_state: Any = None,
        progress: str = "none",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.progress = progress

    # -- hooks for the subclasses -------------------------------------------------------------
    def _prepare_targets(self, y: Any, first_call: bool, classes: Any,
                         sample_weight: Array | None) -> tuple[Array, int]:
        """Encode validated ``y`` for the loss; return it and the number of network outputs."""
        raise NotImplementedError

    def _class_weighted(self, y: Any, sample_weight: Array | None, incremental: bool) -> Array | None:
        """The sample weights with the class weights multiplied in (classifier only)."""
        return sample_weight

    def _check_y(self, y: Any) -> Any:
        return y

    # -- parameters --------------------------------------------------------------------------
    def _checked_params(self) -> dict[str, Any]:
        """Validate the constructor parameters (at fit, as scikit-learn requires)."""
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
        if not isinstance(sizes, (list, tuple, np.ndarray)):
            raise TypeError(f"{name} hidden_layer_sizes must be a tuple of ints such as (100,), got "
                            f"{self.hidden_layer_sizes!r}")
        return {
            "sizes": [check_int(s, f"{name} hidden_layer_sizes entry", minimum=1) for s in sizes],
            "activation": registry.lookup("activations", self.activation, f"{name} activation"),
            "optimizer": registry.lookup("optimizers", self.optimizer, f"{name} optimizer"),
            "lr": check_number(self.learning_rate, f"{name} learning_rate", low=0, low_open=True),
            "batch_size": check_int(self.batch_size, f"{name} batch_size", minimum=1),
            "epochs": check_int(self.epochs, f"{name} epochs", minimum=1),
            "alpha": check_number(self.alpha, f"{name} alpha", low=0),
            "tol": check_number(self.tol, f"{name} tol", low=0),
            "patience": check_int(self.n_iter_no_change, f"{name} n_iter_no_change", minimum=1),
            "validation_fraction": check_number(self.validation_fraction, f"{name} validation_fraction",
                                                low=0, high=1, low_open=True, high_open=True),
            "progress": check_choice(self.progress, f"{name} progress", PROGRESS_MODES),
            **{flag: _check_bool(getattr(self, flag), f"{name} {flag}")
               for flag in ("early_stopping", "shuffle", "warm_start")},
        }

    def _generator(self) -> np.random.Generator:
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            return seed
        if isinstance(seed, np.random.RandomState):
            return np.random.default_rng(seed.randint(np.iinfo(np.int32).max))
        if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
            return np.random.default_rng(None if seed is None else int(seed))
        raise ValueError(f"{type(self).__name__} random_state must be None, an int, a "
                         f"numpy RandomState or Generator, got {seed!r}")

    def _build(self, n_in: int, n_out: int, p: dict[str, Any], rng: np.random.Generator) -> Sequential:
        saturating = p["activation"].__name__ in ("Sigmoid", "Tanh", "Identity")
        init = "glorot_uniform" if saturating else "he_normal"
        return build_mlp(n_in, p["sizes"], n_out, p["activation"], init, rng)

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TinyNetEstimator:
        """Train on ``(X, y)`` for up to ``epochs`` epochs (from scratch unless ``warm_start``).

        ``sample_weight`` ``(n_samples,)``, non-negative: each batch's loss is the weighted
        mean ``sum w_n l_n / sum w_n`` and the L2 penalty is divided by ``sum w_n``, as in
        scikit-learn's ``MLPClassifier.fit(sample_weight=)``: a weight of 0 drops a sample, an
        integer weight k counts it k times (exactly so when the data fits one batch). A
        ``ConvergenceWarning`` says when ``epochs`` ran out while the loss still fell."""
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None,
             sample_weight: Any = None) -> TinyNetEstimator:
        p = self._checked_params()
        first_call = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = self._validate(X, y, reset=first_call, dtype=np.float64,
                              multi_output=self._more_tags_multi_output(), y_numeric=False)
        y = self._check_y(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        target, n_out = self._prepare_targets(y, first_call, classes, sample_weight)
        sample_weight = self._class_weighted(y, sample_weight, incremental)
        if first_call:
            self._rng = self._generator()
            self.model_ = self._build(X.shape[1], n_out, p, self._rng)
            self.loss_curve_: list[float] = []
            self.n_iter_, self.t_, self.best_loss_ = 0, 0, np.inf
        if not incremental or not hasattr(self, "optimizer_"):
            # As scikit-learn's MLP: every fit (warm or not) starts a new optimizer, so new
            # optimizer/learning_rate values apply; partial_fit keeps its state.
            self.optimizer_ = p["optimizer"](self.model_.parameters(), lr=p["lr"])
        if not hasattr(self, "_rng"):
            self._rng = self._generator()
        validation = None
        stop_early = self.early_stopping and not incremental
        if stop_early:
            X, target, sample_weight, validation = self._split(X, target, sample_weight,
                                                               p["validation_fraction"])
        batch_size = min(p["batch_size"], X.shape[0])
        loader = DataLoader(X, target, batch_size=batch_size, shuffle=bool(self.shuffle),
                            last_batch="keep", rng=self._rng)
        loss = self._loss()
        step = self.optimizer_
        if p["alpha"]:
            weights = [param for name, param in self.model_.named_parameters() if name.endswith("weight")]
            if sample_weight is not None:  # scikit-learn divides the penalty by the batch's weights
                step = L2Step(self.optimizer_, weights, p["alpha"], lambda: loss.weight_total)
            else:
                full, rest = divmod(X.shape[0], batch_size)
                sizes = [batch_size] * full + ([rest] if rest else [])  # last_batch="keep"
                step = L2Step.cycling(self.optimizer_, weights, p["alpha"], sizes)
        stopper = PlateauStop("val_loss" if stop_early else "loss", p["tol"], p["patience"],
                              restore=stop_early)
        callbacks = [] if incremental else [stopper]
        self.history_ = fit(self.model_, loss, step, loader, 1 if incremental else p["epochs"],
                            progress=p["progress"], callbacks=callbacks, validation_data=validation,
                            metrics=[], sample_weight=sample_weight)
        if not incremental and not stopper.stopped and not self.history_.interrupted:
            warnings.warn(f"{type(self).__name__}: the epoch budget (epochs={p['epochs']}) ran out while "
                          f"the loss was still falling by more than tol={p['tol']:g}; training has not "
                          f"converged: raise epochs (or learning_rate)", ConvergenceWarning, stacklevel=3)
        self.loss_curve_.extend(self.history_.loss)
        self.n_iter_ += len(self.history_)
        self.t_ += len(self.history_) * loader.samples_per_epoch()
        self.best_loss_ = min([self.best_loss_, *self.history_.loss])
        if stop_early:  # (a warm start may switch early stopping on after a first fit without it)
            earlier = getattr(self, "validation_loss_curve_", []) if not first_call else []
            self.validation_loss_curve_ = [*earlier, *self.history_["val_loss"]]
            self.best_validation_loss_ = min(self.validation_loss_curve_)
        return self

    def _split(self, X: Array, target: Array, sample_weight: Array | None,
               fraction: float) -> tuple[Array, Array, Array | None, tuple[Array, Array]]:
        """Hold out ``fraction`` of the rows (stratified for classes) as validation data; the
        training rows keep their weights (the validation loss is unweighted)."""
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        stratify = target if self._loss_name == "softmax_cross_entropy" else None
        rows = np.arange(X.shape[0])
        try:
            train, val = train_test_split(rows, test_size=fraction, random_state=seed, stratify=stratify)
        except ValueError:  # too few samples of some class to stratify, or too few rows at all
            if X.shape[0] < 2:
                raise ValueError(f"{type(self).__name__}: early_stopping needs at least 2 samples to "
                                 f"hold out validation_fraction={fraction}, got {X.shape[0]}") from None
            train, val = train_test_split(rows, test_size=fraction, random_state=seed)
        weights = None if sample_weight is None else sample_weight[train]
        if weights is not None and not weights.any():
            raise ValueError(f"{type(self).__name__}: the sample weights of the training rows left after "
                             f"holding out validation_fraction={fraction} are all zero")
        return X[train], target[train], weights, (X[val], target[val])

    def _validate(self, X: Any, y: Any = NO_Y, **kwargs: Any) -> Any:
        """scikit-learn's ``validate_data``, with numpy's conversion errors (text in a
        number column, rows of different lengths) said in the estimator's words."""
        try:
            return validate_data(self, X, y, **kwargs)
        except ValueError as err:
            if not is_conversion_error(err):
                raise  # scikit-learn's own message (NaN, shape, complex, ...): already plain
            has_y = not (isinstance(y, str) and y == NO_Y)
            what = "y" if has_y and _converts(X) else "X"
            raise conversion_error(type(self).__name__, what, err) from None

    def _loss(self) -> Any:
        return registry.lookup("losses", self._loss_name)()

    def _more_tags_multi_output(self) -> bool:
        return False

    def _forward(self, X: Any) -> Array:
        check_is_fitted(self, "model_")
        X = self._validate(X, reset=False, dtype=np.float64)
        return self.model_.forward(X, False)

    # -- tinynet.save / tinynet.load ------------------------------------------------------------
    def _tinynet_export(self) -> dict[str, Any]:
        check_is_fitted(self, "model_")
        params = self.get_params()
        params["hidden_layer_sizes"] = [int(s) for s in np.atleast_1d(params["hidden_layer_sizes"])]
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None  # a RandomState/Generator object is not saved
        if isinstance(params.get("class_weight"), dict):  # JSON keys are strings: keep labels as labels
            params["class_weight"] = [[_plain(label), float(weight)]
                                      for label, weight in params["class_weight"].items()]
        attributes = {key: _plain(getattr(self, key)) for key in FITTED if hasattr(self, key)}
        if hasattr(self, "feature_names_in_"):
            attributes["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        own_attributes, arrays = self._export_own()
        return {"model": self.model_, "params": params, "attributes": {**attributes, **own_attributes},
                "arrays": arrays}

    @classmethod
    def _tinynet_import(cls, model: Sequential, params: dict[str, Any], attributes: dict[str, Any],
                        arrays: dict[str, Array]) -> TinyNetEstimator:
        """The estimator saved with ``params``, fitted ``attributes`` and ``arrays``, every
        field type-checked against the ``model`` (``ValueError`` for anything else)."""
        where = f"load: the saved {cls.__name__}"
        params = dict(params)
        sizes = params.get("hidden_layer_sizes", ())
        if not isinstance(sizes, list):
            raise ValueError(f"{where} hidden_layer_sizes must be a list of integers, got {sizes!r}")
        params["hidden_layer_sizes"] = tuple(sizes)
        if isinstance(params.get("class_weight"), list):
            pairs = params["class_weight"]
            if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int, float))
                       and isinstance(p[1], (int, float)) for p in pairs):
                raise ValueError(f"{where} class_weight must be a list of [label, weight] pairs, "
                                 f"got {str(pairs)[:60]}")
            params["class_weight"] = {label: weight for label, weight in pairs}
        try:
            estimator = cls(**params)
            estimator._checked_params()
            if params.get("random_state") is not None:
                check_int(params["random_state"], "random_state", minimum=0)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where} parameters do not fit: {err}") from None
        if not isinstance(model, Sequential) or not model.layers \
                or not isinstance(getattr(model.layers[0], "in_features", None), int):
            raise ValueError(f"{where} network must be a Sequential starting with a Dense layer")
        own = {key: value for key, value in attributes.items() if key in cls._own_attributes}
        for key, value in attributes.items():
            if key in FITTED:
                setattr(estimator, key, _checked_attribute(key, value, where))
            elif key == "feature_names_in_":
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise ValueError(f"{where} feature_names_in_ must be a list of names")
                estimator.feature_names_in_ = np.asarray(value, dtype=object)
            elif key not in own:
                raise ValueError(f"load: unknown {cls.__name__} attribute {key!r} in the file")
        first: Any = model.layers[0]
        n_in: int = first.in_features
        if getattr(estimator, "n_features_in_", n_in) != n_in \
                or len(getattr(estimator, "feature_names_in_", [None] * n_in)) != n_in:
            raise ValueError(f"{where} has {estimator.n_features_in_} features (and "
                             f"{len(getattr(estimator, 'feature_names_in_', []))} names), but its "
                             f"network takes {n_in}")
        estimator.model_ = model
        estimator._import_own(own, arrays)
        return estimator

    # The subclass's own fitted state: JSON attributes named in _own_attributes, and arrays.
    _own_attributes: tuple[str, ...] = ()

    def _export_own(self) -> tuple[dict[str, Any], dict[str, Array]]:
        return {}, {}

    def _import_own(self, attributes: dict[str, Any], arrays: dict[str, Array]) -> None:
        """Set the subclass's fitted state from what :meth:`_export_own` saved."""


def _check_bool(value: Any, name: str) -> bool:
    """``True`` or ``False`` (numpy's too); the string ``'False'`` is not false here."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# The fitted attributes a file may hold: what each must be.
_COUNTS = ("n_features_in_", "n_iter_", "t_")
_CURVES = ("loss_curve_", "validation_loss_curve_")


def _checked_attribute(key: str, value: Any, where: str) -> Any:
    """A saved fitted attribute, checked: counts are integers >= 0, losses numbers (``None``
    for a non-finite one), curves lists of them."""
    def number(v: Any) -> bool:
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))

    ok = (isinstance(value, int) and not isinstance(value, bool) and value >= 0 if key in _COUNTS
          else isinstance(value, list) and all(number(v) for v in value) if key in _CURVES
          else number(value))
    if not ok:
        raise ValueError(f"{where} attribute {key} is malformed: {str(value)[:60]}")
    if key in _CURVES:
        return [np.nan if v is None else float(v) for v in value]
    return value if key in _COUNTS else (np.nan if value is None else float(value))


def is_conversion_error(err: ValueError) -> bool:
    """Whether ``err`` is numpy's failure to make a float array (text, ragged rows)."""
    text = str(err)
    return text.startswith("could not convert") or "setting an array element with a sequence" in text


def conversion_error(estimator: str, what: str, err: ValueError) -> ValueError:
    """numpy's conversion error ``err`` for argument ``what``, said plainly."""
    text = str(err)
    if text.startswith("could not convert"):
        value = re.search(r"'(.*)'", text)
        such_as = f" such as {value.group(1)!r}" if value else ""
        return ValueError(f"{estimator}: {what} must hold numbers only; it holds text{such_as}")
    return ValueError(f"{estimator}: {what} must be a table of numbers whose rows all have the same length")


def _converts(X: Any) -> bool:
    """Whether ``X`` converts to a float array (so a conversion error came from ``y``)."""
    try:
        np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _plain(value: Any) -> Any:
    """A JSON-able copy of a fitted attribute (numpy scalars and lists of them)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
