"""The Layer protocol (v2) and the base class every built-in layer derives from.

The contract:

* ``forward(x, training=True) -> y`` computes the output. With ``training=True``
  it keeps what ``backward`` needs **per call** (:meth:`Layer.save_for_backward`):
  a layer used k times in one forward holds k entries, and backward consumes
  them last in, first out. Inference (``training=False``) keeps nothing.
* ``backward(grad_y, need_input_grad=True) -> grad_x | None`` takes the values
  of the matching forward call, **adds** each parameter's gradient into
  ``.grad`` (:meth:`Parameter.accumulate`; ``zero_grad()`` clears) and returns
  the input's gradient, or ``None`` when ``need_input_grad`` is False (nobody
  needs the gradient of the data).
* Any leading shape: ``(B, ..., in) -> (B, ..., out)``; each layer's docstring
  has a ``Shape:`` line saying which axes it acts on.
* ``parameters() -> list[Parameter]`` lists each parameter once, however many
  places use it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.parameter import Parameter
from tinynet.layers.saved_values import CURRENT, EntriesByPass
from tinynet.layers.state import IncompatibleKeys, load_state_dict_into, state_dict_of

__all__ = ["Layer", "LayerLike", "Array", "check_layer", "output_shape_of", "own_buffers_of",
           "named_buffers_of"]


# Layers know no display code: tinynet.display.layer_table installs the printer here.
SUMMARY_PRINTER: list[Callable[[Any, Any], None]] = []


@runtime_checkable
class LayerLike(Protocol):
    """What the training loop and containers need of a layer."""

    def forward(self, x: Array, training: bool = True) -> Array: ...

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None: ...

    def parameters(self) -> list[Parameter]: ...


def check_layer(layer: Any, where: str) -> None:
    """Raise ``TypeError`` unless ``layer`` keeps the Layer protocol, ``need_input_grad`` included.

    Containers and ``fit`` call this once, when they are built or start, so every
    backward afterwards can pass ``need_input_grad`` without probing the layer again.
    """
    if isinstance(layer, type):
        raise TypeError(f"{where}: got the class {layer.__name__}, not an instance; "
                        f"write {layer.__name__}(...)")
    if not isinstance(layer, Layer) and not isinstance(layer, LayerLike):  # (the protocol check is slow)
        raise TypeError(f"{where} must be a layer (with forward, backward and parameters), "
                        f"got {type(layer).__name__}: {layer!r}")
    if not _takes_need_input_grad(layer.backward):
        raise TypeError(f"{where}: {type(layer).__name__}.backward must accept need_input_grad; "
                        f"write def backward(self, grad_y, need_input_grad=True) and return None "
                        f"when it is False (the gradient of the input is not needed)")


def _takes_need_input_grad(backward: Any) -> bool:
    """Whether ``backward`` accepts ``need_input_grad``; a class's method is looked up once
    (a graph of thousands of nodes has a few classes)."""
    function = getattr(backward, "__func__", None)
    if function is not None:
        return _function_takes_flag(function)
    try:
        return "need_input_grad" in inspect.signature(backward).parameters
    except (TypeError, ValueError):  # a builtin or C callable: trust it
        return True


@functools.lru_cache(maxsize=1024)
def _function_takes_flag(function: Any) -> bool:
    try:
        return "need_input_grad" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True


class Layer:
    """Base class: subclasses implement ``forward`` and ``backward``.

    Shape: ``(B, ...) -> (B, ...)`` as the subclass says (its docstring has the line).

    It provides ``__call__`` (= ``forward``), ``parameters`` and
    ``named_parameters`` from :meth:`named_children` and :meth:`own_parameters`,
    ``zero_grad``, ``output_shape`` (identity unless overridden) and a
    PyTorch-style ``repr`` built from :meth:`extra_repr`.
    """

    _saved: list[tuple[Any, ...]]  # one entry per training forward call not yet answered
    _saved_by: Any  # the pass (outermost container) those entries came from

    integer_input = False
    """Whether the layer takes integer inputs as they are (token ids); ``fit`` casts
    other integer data to the model's float dtype once."""

    ignored_state_keys: tuple[str, ...] = ()
    """Keys that the state dict of this layer's PyTorch counterpart carries and this layer
    has no use for; ``load_state_dict`` accepts and skips them (BatchNorm: ``num_batches_tracked``)."""

    def forward(self, x: Array, training: bool = True) -> Array:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training=True)")

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_y)")

    def __call__(self, x: Array, training: bool = False) -> Array:
        """Inference call: ``layer(x)`` is ``layer.forward(x, training=False)``."""
        return self.forward(x, training=training)

    def save_for_backward(self, *values: Any) -> None:
        """Keep ``values`` for the backward of this forward call (one entry per call)."""
        try:
            saved = self._saved
        except AttributeError:  # the first call: subclasses need not call Layer.__init__
            saved = self._saved = []
        if not saved:
            self._saved_by = CURRENT.root
        elif CURRENT.root is not self._saved_by and type(saved) is list:  # a second model's pass
            saved = self._saved = EntriesByPass(saved, self._saved_by)
        saved.append(values)

    def saved_for_backward(self) -> tuple[Any, ...]:
        """The values the latest unanswered forward call kept (last in, first out)."""
        try:
            return self._saved.pop()
        except (AttributeError, IndexError):
            raise RuntimeError(f"{type(self).__name__}.backward called without a forward(x, training=True) "
                               f"whose values it could use") from None

    def clear_saved(self) -> None:
        """Drop the values kept by forward calls that no backward will consume,
        in this layer and every layer below it."""
        for _, layer in self.named_layers():
            if isinstance(layer, Layer):
                saved = layer.__dict__.get("_saved")
                if isinstance(saved, EntriesByPass):  # shared with another model: keep its entries
                    saved.drop_pass(self)
                else:
                    layer.__dict__.pop("_saved", None)

    def own_parameters(self) -> list[tuple[str, Parameter]]:
        """This layer's own parameters with their short names (not its children's)."""
        return [(name, value) for name, value in vars(self).items() if isinstance(value, Parameter)]

    def named_children(self) -> list[tuple[str, LayerLike]]:
        """Child layers with their names; containers override this."""
        return []

    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, LayerLike]]:
        """This layer and every layer below it, each once, with its dotted prefix.

        ``("", model)``, ``("0.", model[0])``, ``("1.0.", model[1][0])``, ...; a
        layer used at several places is listed at the first.
        """
        return self._walk_layers(prefix, set())

    def _walk_layers(self, prefix: str, seen: set[int]) -> Iterator[tuple[str, LayerLike]]:
        seen.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            if id(child) in seen:
                continue
            if isinstance(child, Layer):
                yield from child._walk_layers(f"{prefix}{name}.", seen)
            else:  # a protocol-only layer has no children we could know of
                seen.add(id(child))
                yield f"{prefix}{name}.", child

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter once, with a dotted name such as ``"0.weight"`` (a shared
        parameter under the name of its first place)."""
        seen: set[int] = set()
        for path, layer in self.named_layers(prefix):
            if isinstance(layer, Layer):
                pairs = [(path + name, param) for name, param in layer.own_parameters()]
            else:  # a protocol-only layer: name its parameters by their own names
                pairs = [(f"{path}{param.name or index}", param)
                         for index, param in enumerate(layer.parameters())]
            for name, param in pairs:
                if id(param) not in seen:
                    seen.add(id(param))
                    yield name, param

    def own_buffers(self) -> list[tuple[str, Array]]:
        """This layer's own non-trained state arrays, by short name (none by default).

        BatchNorm's running statistics are buffers. Layers update them *in place*;
        ``tn.save``/``tn.load``, ``EarlyStopping`` and ``summary`` find them through
        :meth:`named_buffers`.
        """
        return []

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Array]]:
        """Every buffer of this layer and its children, by dotted name (``"1.running_mean"``)."""
        return named_buffers_of(self, prefix)

    def state_dict(self) -> dict[str, Array]:
        """A copy of every parameter and buffer by dotted name, PyTorch's keys and layouts.

        ``{"0.weight": (out, in), "0.bias": (out,), "1.weight": ..., "1.running_mean": ...}``:
        parameters first (``named_parameters()``), then buffers (``named_buffers()``); a
        layer used at several places appears once, under its first name. The arrays are
        copies in the model's dtype. Convert them for PyTorch with
        ``{k: torch.from_numpy(v) for k, v in model.state_dict().items()}``.
        """
        return state_dict_of(self)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into this model's parameters and buffers, by name.

        The values may be numpy arrays, PyTorch tensors or anything ``np.asarray`` reads.
        Everything is checked before anything is written (keys, shapes, numbers, finite
        values once cast to the model's dtype), so a state dict that does not fit raises
        one :class:`~tinynet.layers.state.StateDictError` (a ``KeyError`` and a
        ``ValueError``) listing every problem and leaves the model as it was. Values are
        copied into the existing arrays, so an optimizer keeps its parameters.
        ``strict=False`` skips missing and unexpected keys and returns them, as
        PyTorch's ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        return load_state_dict_into(self, state_dict, strict)

    def parameters(self) -> list[Parameter]:
        """Every trainable parameter of this layer and its children."""
        return [param for _, param in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for param in self.parameters():
            param.zero_grad()

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """The output shape for an input shape (``None`` for the batch axis).

        Elementwise layers keep the shape; layers that change it override this
        and raise ``ValueError`` for an input they cannot take.
        """
        return input_shape

    @property
    def dtype(self) -> np.dtype[Any] | None:
        """The dtype of the first parameter, or ``None`` for a layer without any."""
        params = self.parameters()
        return params[0].data.dtype if params else None

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (for ``tinynet.save``).

        By default each ``__init__`` argument is read back from the attribute of
        the same name (``rng`` is skipped: weights are saved, not re-drawn).
        Layers that store an argument differently override this.
        """
        config: dict[str, Any] = {}
        for name in inspect.signature(type(self).__init__).parameters:
            if name in ("self", "rng") or not hasattr(self, name):
                continue
            value = getattr(self, name)
            config[name] = value.name if isinstance(value, np.dtype) else value
        return config

    def summary(self, input_features: int | tuple[int, ...]) -> None:
        """Print the layers, output shapes and parameter counts for inputs of
        ``input_features`` features (see :func:`tinynet.summary`)."""
        if not SUMMARY_PRINTER:
            raise RuntimeError("Layer.summary needs tinynet's display: import tinynet")
        SUMMARY_PRINTER[0](self, input_features)

    def extra_repr(self) -> str:
        """The arguments shown inside ``repr``, e.g. ``in_features=4, out_features=10``."""
        return ""

    def __repr__(self) -> str:
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def own_buffers_of(layer: Any) -> list[tuple[str, Array]]:
    """The buffers of ``layer`` itself, not its children's: ``layer.own_buffers()``.

    A layer that defines ``named_buffers()`` itself (a protocol-only layer, or a
    layer written before ``own_buffers`` existed) lists its own arrays with it.
    """
    if isinstance(layer, Layer) and type(layer).named_buffers is Layer.named_buffers:
        return list(layer.own_buffers())
    named = getattr(layer, "named_buffers", None)
    return list(named()) if callable(named) else []


def named_buffers_of(layer: Any, prefix: str = "") -> Iterator[tuple[str, Array]]:
    """Every buffer of ``layer`` and the layers below it, by dotted name; any layer
    (one that only keeps the protocol has no children we could know of)."""
    layers = layer.named_layers(prefix) if isinstance(layer, Layer) else [(prefix, layer)]
    for path, sub in layers:
        for name, array in own_buffers_of(sub):
            yield path + name, array


def output_shape_of(layer: Any, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """``layer.output_shape(input_shape)`` as a tuple; the input shape itself for a
    layer without ``output_shape`` (a protocol-only layer is taken to keep the shape)."""
    method = getattr(layer, "output_shape", None)
    return tuple(method(input_shape)) if callable(method) else tuple(input_shape)
