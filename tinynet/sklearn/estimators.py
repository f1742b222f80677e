"""scikit-learn estimators backed by a tinynet network: ``TinyNetClassifier``, ``TinyNetRegressor``.

They follow scikit-learn's conventions (parameters checked at ``fit``,
trailing-underscore fitted attributes, ``validate_data``) and pass its
``check_estimator``; they work in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``, pickle, and save with ``tinynet.save`` (no pickle).

The network: ``Dense`` layers of ``hidden_layer_sizes`` units, each followed by
``activation``; a last ``Dense`` to one output per class (softmax
cross-entropy) or per target (mean squared error). Training is
:func:`tinynet.fit` with ``optimizer`` (default Adam, ``learning_rate=1e-3``),
mini-batches of ``batch_size`` shuffled rows, and scikit-learn MLP's stopping
rule: stop once the training loss (or, with ``early_stopping``, the loss on a
held-out ``validation_fraction``, whose best weights are then restored) has not
improved by ``tol`` for ``n_iter_no_change`` epochs, or after ``epochs`` epochs.
``alpha`` is an L2 penalty on the weights scaled as in scikit-learn's MLP
(``alpha / n * W`` added to the gradient of a batch of ``n`` rows).

With ``warm_start``, ``fit`` continues from the current weights but, as in
scikit-learn's MLP, with a new optimizer built from the current ``optimizer`` and
``learning_rate``; ``partial_fit`` keeps the optimizer and its state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from tinynet.engine.stable_functions import log_softmax, softmax
from tinynet.engine.types import Array
from tinynet.saving.files import register_estimator
from tinynet.sklearn._estimator import TinyNetEstimator, conversion_error, is_conversion_error

__all__ = ["TinyNetClassifier", "TinyNetRegressor", "ESTIMATORS"]



class TinyNetClassifier(ClassifierMixin, TinyNetEstimator):
    """A multi-layer perceptron classifier trained with tinynet (softmax cross-entropy).

    Labels may be of any type scikit-learn accepts (strings, ints, ...);
    ``predict`` returns them, ``predict_proba`` gives ``(n_samples, n_classes)``
    probabilities in the order of ``classes_``. ``partial_fit(X, y, classes=...)``
    runs one epoch (``classes`` is required on the first call).

    Fitted attributes: ``model_`` (the tinynet ``Sequential``), ``classes_``,
    ``n_features_in_``, ``feature_names_in_`` (for DataFrames), ``loss_curve_`` (the
    training loss per epoch, over all calls), ``n_iter_``, ``t_`` (samples seen),
    ``best_loss_``, ``history_`` (the last call's :class:`tinynet.History`, for
    :func:`tinynet.plot_history`), and with ``early_stopping``
    ``validation_loss_curve_`` / ``best_validation_loss_``.

    ``class_weight``: ``None``, ``"balanced"`` (class ``c`` weighs
    ``n_samples / (n_classes * n_c)``) or ``{label: weight}`` (unlisted classes 1); it
    multiplies ``fit``'s ``sample_weight``, as in scikit-learn's linear models.
    """

    _loss_name = "softmax_cross_entropy"

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
        class_weight: Any = None,
    ) -> None:
        super().__init__(hidden_layer_sizes, activation, optimizer=optimizer, learning_rate=learning_rate,
                         batch_size=batch_size, epochs=epochs, alpha=alpha, tol=tol,
                         n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, shuffle=shuffle, warm_start=warm_start,
                         random_state=random_state, progress=progress)
        self.class_weight = class_weight

    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> TinyNetClassifier:
        """One epoch over ``(X, y)``; the first call needs ``classes`` (all labels that will occur)."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("TinyNetClassifier.partial_fit: pass classes=... (every label) on the "
                             "first call")
        self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)
        return self

    def _class_weighted(self, y: Any, sample_weight: Array | None, incremental: bool) -> Array | None:
        """``class_weight`` as per-sample weights (multiplying ``sample_weight``), as scikit-learn's
        linear models do: ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes * n_c)``
        (counted in this ``y``), a dict ``{label: weight}`` as given (unlisted classes 1)."""
        chosen = self.class_weight
        if chosen is None:
            return sample_weight
        if isinstance(chosen, str) and chosen == "balanced":
            if incremental:
                raise ValueError("TinyNetClassifier: class_weight='balanced' needs all of y at once and "
                                 "partial_fit sees one part; pass a dict, e.g. from sklearn.utils."
                                 "class_weight.compute_class_weight('balanced', classes=..., y=...)")
            present, counts = np.unique(np.searchsorted(self.classes_, y), return_counts=True)
            by_class = np.ones(len(self.classes_))
            by_class[present] = len(y) / (len(present) * counts)
        elif isinstance(chosen, dict):
            by_class = _class_weight_table(chosen, self.classes_)
        else:
            raise ValueError(f"TinyNetClassifier class_weight must be None, 'balanced' or a dict "
                             f"{{label: weight}}, got {chosen!r}")
        weights = by_class[np.searchsorted(self.classes_, y)]
        return weights if sample_weight is None else weights * sample_weight

    def _check_y(self, y: Any) -> Any:
        flat = np.asarray(y, dtype=object).reshape(-1)
        missing = [i for i, v in enumerate(flat) if v is None or (isinstance(v, float) and v != v)]
        if missing:
            raise ValueError(f"TinyNetClassifier: y holds a missing label ({flat[missing[0]]!r}) at row "
                             f"{missing[0]}; drop those rows or give them a label")
        check_classification_targets(y)
        return y

    def _prepare_targets(self, y: Any, first_call: bool, classes: Any,
                         sample_weight: Array | None) -> tuple[Array, int]:
        if first_call:
            self.classes_ = unique_labels(y) if classes is None else unique_labels(classes)
            if len(self.classes_) < 2:
                raise ValueError(f"TinyNetClassifier needs samples of at least 2 classes in y, got "
                                 f"one class ({self.classes_[0]!r})")
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"TinyNetClassifier: classes={list(classes)} differ from the classes of "
                             f"the first fit {self.classes_.tolist()}")
        codes = np.searchsorted(self.classes_, y)
        codes = np.clip(codes, 0, len(self.classes_) - 1)
        unseen = self.classes_[codes] != y
        if unseen.any():
            label = np.asarray(y)[unseen][0]
            raise ValueError(f"TinyNetClassifier: y holds the label {label.item()!r} that is not among "
                             f"the classes {self.classes_.tolist()} of the first fit")
        return codes.astype(np.intp), len(self.classes_)

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, shape ``(n_samples, n_classes)`` (rows sum to 1)."""
        return softmax(self._forward(X))

    def predict_log_proba(self, X: Any) -> Array:
        """Log of :meth:`predict_proba`, computed stably."""
        return log_softmax(self._forward(X))

    def predict(self, X: Any) -> Array:
        """The most probable class of each row, as one of ``classes_``."""
        winners = self._forward(X).argmax(axis=1)
        return self.classes_[winners]

    def _export_own(self) -> tuple[dict[str, Any], dict[str, Array]]:
        return {}, {"classes_": self.classes_}  # numbers or strings (unique_labels never gives objects)

    def _import_own(self, attributes: dict[str, Any], arrays: dict[str, Array]) -> None:
        classes = arrays.get("classes_")
        if classes is None or classes.ndim != 1 or len(classes) < 2 \
                or len(np.unique(classes)) != len(classes):
            raise ValueError("load: the TinyNetClassifier file needs a classes_ array of at least 2 "
                             "distinct labels")
        self.classes_ = classes
        n_out = getattr(self.model_.layers[-1], "out_features", len(self.classes_))
        if n_out != len(self.classes_):
            raise ValueError(f"load: {len(self.classes_)} classes but the network has {n_out} outputs")


class TinyNetRegressor(RegressorMixin, TinyNetEstimator):
    """A multi-layer perceptron regressor trained with tinynet (mean squared error).

    ``y`` may be ``(n_samples,)`` or ``(n_samples, n_targets)``; ``predict`` returns
    the same shape. ``partial_fit(X, y)`` runs one epoch. Fitted attributes as
    :class:`TinyNetClassifier` (without ``classes_``), plus ``n_outputs_``.

    The network learns the standardized target, ``(y - y_mean_) / y_scale_`` (each
    column's (weighted) mean and standard deviation, from the first fit), so a target in
    any units trains as well as a pre-scaled one; ``predict`` maps back to ``y``'s
    units. ``loss_curve_`` is the squared error in standardized units.
    """

    _loss_name = "mean_squared_error"

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> TinyNetRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights."""
        self._fit(X, y, incremental=True, sample_weight=sample_weight)
        return self

    def _more_tags_multi_output(self) -> bool:
        return True

    def _prepare_targets(self, y: Any, first_call: bool, classes: Any,
                         sample_weight: Array | None) -> tuple[Array, int]:
        try:
            y = np.asarray(y, dtype=np.float64)
        except ValueError as err:
            if not is_conversion_error(err):
                raise
            raise conversion_error("TinyNetRegressor", "y", err) from None
        target = y.reshape(-1, 1) if y.ndim == 1 else y
        if first_call:
            self.n_outputs_ = target.shape[1]
            self._y_ndim = y.ndim
            # The network learns the standardized target (weighted as the loss is), whatever its units.
            self.y_mean_ = np.average(target, axis=0, weights=sample_weight)
            spread = np.sqrt(np.average((target - self.y_mean_) ** 2, axis=0, weights=sample_weight))
            self.y_scale_ = np.where(spread > 0, spread, 1.0)
        elif target.shape[1] != self.n_outputs_:
            raise ValueError(f"TinyNetRegressor: y has {target.shape[1]} target columns but the network "
                             f"was fitted with {self.n_outputs_}")
        return (target - self.y_mean_) / self.y_scale_, target.shape[1]

    def predict(self, X: Any) -> Array:
        """Predicted targets in ``y``'s units, shape ``(n_samples,)`` or ``(n_samples, n_targets)``
        as ``y`` was."""
        out = self._forward(X) * self.y_scale_ + self.y_mean_
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    _own_attributes = ("n_outputs_", "y_ndim")

    def _export_own(self) -> tuple[dict[str, Any], dict[str, Array]]:
        return ({"n_outputs_": int(self.n_outputs_), "y_ndim": int(self._y_ndim)},
                {"y_mean_": self.y_mean_, "y_scale_": self.y_scale_})

    def _import_own(self, attributes: dict[str, Any], arrays: dict[str, Array]) -> None:
        n_outputs, y_ndim = attributes.get("n_outputs_"), attributes.get("y_ndim", 1)
        n_out = getattr(self.model_.layers[-1], "out_features", None)
        if not isinstance(n_outputs, int) or isinstance(n_outputs, bool) or n_outputs != n_out \
                or y_ndim not in (1, 2) or isinstance(y_ndim, bool) or (y_ndim == 1 and n_outputs != 1):
            raise ValueError(f"load: the TinyNetRegressor file's n_outputs_ ({n_outputs!r}) and y_ndim "
                             f"({y_ndim!r}) do not fit its network's {n_out} outputs")
        mean, scale = (arrays.get(name, np.zeros(0)) for name in ("y_mean_", "y_scale_"))
        if any(a.shape != (n_outputs,) or a.dtype.kind != "f" or not np.isfinite(a).all()
               for a in (mean, scale)) or not (scale > 0).all():
            raise ValueError(f"load: the TinyNetRegressor file needs y_mean_ and y_scale_ arrays of "
                             f"{n_outputs} finite numbers (y_scale_ > 0), the target's standardization")
        self.n_outputs_, self._y_ndim = n_outputs, y_ndim
        self.y_mean_, self.y_scale_ = mean, scale


def _class_weight_table(chosen: dict[Any, Any], classes: Array) -> Array:
    """A ``{label: weight}`` dict as one weight per class of ``classes`` (unlisted ones 1)."""
    by_class = np.ones(len(classes))
    for label, weight in chosen.items():
        at = np.flatnonzero(classes == label)
        if at.size == 0:
            raise ValueError(f"TinyNetClassifier class_weight names the label {label!r}, which is not "
                             f"among the classes {classes.tolist()}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) \
                or not np.isfinite(weight) or weight < 0:
            raise ValueError(f"TinyNetClassifier class_weight[{label!r}] must be a finite number >= 0, "
                             f"got {weight!r}")
        by_class[at[0]] = float(weight)
    return by_class


ESTIMATORS: dict[str, type[TinyNetEstimator]] = {
    "TinyNetClassifier": TinyNetClassifier, "TinyNetRegressor": TinyNetRegressor}
for _cls in ESTIMATORS.values():
    register_estimator(_cls)  # tn.save / tn.load handle them without importing this face
