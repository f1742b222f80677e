"""tn.save / tn.load: exact round trips, atomic writes, and files from strangers refused."""

import json
import os
import pickle

import numpy as np
import pytest
from helpers.models import article_model

import tinynet as tn
from tinynet.saving.files import load_with_metadata

EXECUTED = []


def _mark_executed():
    EXECUTED.append("pickle ran code")
    return 0


class Boom:
    """Unpickling this object calls _mark_executed: proof that code would run."""

    def __reduce__(self):
        return (_mark_executed, ())


def rich_model():
    """Every container and layer kind tinynet exports, nested."""
    rng = np.random.default_rng(0)
    return tn.Sequential(
        tn.Dense(4, 6, rng=rng), tn.Tanh(), tn.Sequential(tn.Dense(6, 6, rng=rng), tn.ReLU()),
        tn.BatchNorm(6), tn.Dropout(0.2, rng=1),
        tn.Residual(tn.Sequential(tn.Dense(6, 6, rng=rng), tn.Sigmoid())),
        tn.Parallel(tn.Dense(6, 2, rng=rng), tn.Dense(6, 4, rng=rng), join="concat"),
        tn.Graph("x", {"a": (tn.Dense(6, 6, rng=rng), ["x"]), "s": (tn.Add(), ["a", "x"])}, "s"),
        tn.Einsum("Bi,oi->Bo", (6, 6), (6,), rng=rng), tn.Dense(6, 3, rng=rng), tn.Identity())


class Scaler(tn.Layer):
    """A user's layer with a non-parameter buffer (like BatchNorm's running statistics)."""

    def __init__(self, features, factor=2.0):
        self.features, self.factor = features, factor
        self.shift = np.zeros(features)

    def forward(self, x, training=True):
        if training:
            self.shift += x.mean(axis=0)
        return x * self.factor - self.shift

    def backward(self, grad_y, need_input_grad=True):
        return grad_y * self.factor

    def named_buffers(self):
        return [("shift", self.shift)]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "model.npz"


def rewrite(path, edit_header=None, edit_arrays=None):
    """Re-save a tinynet file with an edited header or arrays (as an attacker could)."""
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["__tinynet__"].tobytes())
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    arrays["__tinynet__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_is_bitwise_exact(path, dtype):
    model = article_model(dtype)
    tn.save(model, path, metadata={"note": "article", "classes": ["a", "b", "c"]})
    loaded, metadata = load_with_metadata(path)
    assert metadata == {"note": "article", "classes": ["a", "b", "c"]}
    assert repr(loaded) == repr(model)
    for (name, p), (name2, q) in zip(model.named_parameters(), loaded.named_parameters()):
        assert name == name2 and q.data.dtype == dtype
        assert p.data.tobytes() == q.data.tobytes()
    x = np.random.default_rng(1).random((7, 4)).astype(dtype)
    assert model(x).tobytes() == loaded(x).tobytes()


def test_round_trip_of_nested_containers_and_state(path):
    model = rich_model()
    x = np.random.default_rng(2).random((16, 4))
    for _ in range(3):
        model.forward(x, True)  # moves any running statistics away from their start
    tn.save(model, path)
    loaded = tn.load(path)
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(x), model(x))
    header = json.loads(np.load(path)["__tinynet__"].tobytes())
    assert header["format_version"] == 1 and header["tinynet_version"] == tn.__version__
    assert header["dtype"] == "float64" and header["model"]["class"] == "Sequential"


def test_custom_layer_state_round_trips_with_custom_layers(path):
    cls = Scaler
    model = tn.Sequential(tn.Dense(3, 3, rng=0), cls(3, factor=0.5))
    model.forward(np.ones((4, 3)), True)
    tn.save(model, path)
    with pytest.raises(ValueError, match=f"unknown layer class '{cls.__name__}'.*custom_layers"):
        tn.load(path)
    loaded = tn.load(path, custom_layers={cls.__name__: cls})
    np.testing.assert_array_equal(loaded[1].shift, model[1].shift)
    assert loaded[1].factor == 0.5
    assert np.load(path)["state/1.shift"].tobytes() == model[1].shift.tobytes()


def test_pickled_object_array_is_refused_without_running_it(path):
    tn.save(article_model(), path)
    rewrite(path, edit_arrays=lambda a: a.update({"param/0.weight": np.array([Boom()], dtype=object)}))
    EXECUTED.clear()
    with pytest.raises(ValueError, match="pickled object array"):
        tn.load(path)
    assert EXECUTED == []
    with open(path, "wb") as f:  # a raw pickle, not an npz at all
        pickle.dump(Boom(), f)
    with pytest.raises(ValueError, match="not a tinynet model file"):
        tn.load(path)
    assert EXECUTED == []


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.6, 0.9, 0.999])
def test_truncated_file_raises_value_error(path, fraction):
    tn.save(article_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match="damaged or truncated|not a tinynet"):
        tn.load(path)


def test_unknown_layer_or_config_key_raises_before_building(path):
    tn.save(article_model(), path)

    def unknown_class(h):
        h["model"]["config"]["layers"][1]["__layer__"]["class"] = "os.system"

    rewrite(path, edit_header=unknown_class)
    with pytest.raises(ValueError, match="unknown layer class 'os.system'"):
        tn.load(path)
    tn.save(article_model(), path)
    rewrite(path, edit_header=lambda h: h["model"]["config"]["layers"][0]["__layer__"]["config"]
            .update({"evil": "__import__('os')"}))
    with pytest.raises(ValueError, match="unknown config key 'evil'"):
        tn.load(path)


def test_wrong_shapes_are_refused(path):
    tn.save(article_model(), path)
    rewrite(path, edit_arrays=lambda a: a.update({"param/0.weight": np.zeros((10, 5))}))
    with pytest.raises(ValueError, match="0.weight.*header says"):
        tn.load(path)

    def wider(h):  # header and array agree with each other, but not with the architecture
        h["parameters"]["0.weight"]["shape"] = [10, 5]

    tn.save(article_model(), path)
    rewrite(path, edit_header=wider,
            edit_arrays=lambda a: a.update({"param/0.weight": np.zeros((10, 5))}))
    with pytest.raises(ValueError, match=r"'param/0.weight' must have shape \(10, 4\)"):
        tn.load(path)


def test_newer_format_and_missing_header_are_refused(path):
    tn.save(article_model(), path)
    rewrite(path, edit_header=lambda h: h.update(format_version=99))
    with pytest.raises(ValueError, match="format_version 99 is not supported"):
        tn.load(path)
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="no tinynet header"):
        tn.load(path)


@pytest.mark.parametrize("model, says", [(None, "missing"), ([1, 2], "not a JSON object")])
def test_a_header_without_a_model_description_is_a_clear_error(path, model, says):
    tn.save(article_model(), path)

    def edit(header):
        if model is None:
            del header["model"]
        else:
            header["model"] = model

    rewrite(path, edit_header=edit)
    with pytest.raises(ValueError, match=f"the header has no model description \\('model' is {says}\\)"):
        tn.load(path)


def test_failed_save_leaves_the_previous_file_intact(path, monkeypatch):
    tn.save(article_model(), path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        tn.save(rich_model(), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["model.npz"]  # no temporary file left behind
    with pytest.raises(ValueError, match="not JSON-serializable"):
        tn.save(rich_model(), path, metadata={"f": print})
    assert path.read_bytes() == before


def test_a_shared_layer_is_saved_once_and_loads_shared(path):
    shared = tn.Dense(3, 3, rng=0)
    model = tn.Sequential(shared, tn.ReLU(), shared, tn.Dense(3, 2, rng=1))
    tn.save(model, path)
    with np.load(path) as npz:
        assert sorted(k for k in npz.files if k.startswith("param/")) == [
            "param/0.bias", "param/0.weight", "param/3.bias", "param/3.weight"]
    loaded = tn.load(path)
    assert loaded[0] is loaded[2] and len(loaded.parameters()) == 4
    x = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(loaded(x), model(x))


def test_a_file_whose_shared_reference_is_broken_is_refused(path):
    shared = tn.Dense(3, 3, rng=0)
    tn.save(tn.Sequential(shared, shared), path)
    rewrite(path, edit_header=lambda h: h["model"]["config"]["layers"][1].update({"__same__": 7}))
    with pytest.raises(ValueError, match="refers to shared layer 7"):
        tn.load(path)


def test_save_refuses_what_it_could_not_load(path):

    class Opaque(tn.Identity):
        def get_config(self):
            return {"fn": print}

    with pytest.raises(ValueError, match="cannot be written as JSON"):
        tn.save(tn.Sequential(Opaque()), path)

    class Forgetful(tn.Identity):
        def __init__(self, size):
            self.size = size

        def get_config(self):
            return {}

    with pytest.raises(ValueError, match="lacks the required argument"):
        tn.save(tn.Sequential(Forgetful(3)), path)
    with pytest.raises(TypeError, match="must be a tinynet Layer"):
        tn.save({"weights": 1}, path)
    assert not path.exists()


class Wide(tn.Dense):
    """A user's layer whose get_config forgets out_features (it has a default)."""

    def __init__(self, in_features, out_features=3, rng=None):
        super().__init__(in_features, out_features, rng=rng)

    def get_config(self):
        return {"in_features": self.in_features}


def test_save_compares_the_rebuilt_shapes_before_writing(path):
    with pytest.raises(ValueError, match=r"save: 'param/0.bias' has shape \(5,\).*rebuilt from "
                                         r"get_config\(\) gives shape \(3,\).*leave out a constructor "
                                         r"argument"):
        tn.save(tn.Sequential(Wide(4, 5, rng=0)), path)
    assert not path.exists()
    tn.save(tn.Sequential(Wide(4, 3, rng=0)), path)  # what the config does describe saves and loads
    assert tn.load(path, custom_layers={"Wide": Wide})[0].weight.shape == (3, 4)


@pytest.mark.parametrize("kind", ["model", "estimator"])
def test_round_trips_load_identically(path, kind):
    """Every parameter, buffer, config and estimator field comes back as saved."""
    if kind == "model":
        obj = rich_model()
        obj.forward(np.random.default_rng(0).random((8, 4)), True)
    else:
        pytest.importorskip("sklearn")
        from tinynet.sklearn import TinyNetRegressor

        X = np.random.default_rng(0).standard_normal((30, 3))
        obj = TinyNetRegressor(hidden_layer_sizes=(5,), epochs=3, random_state=0).fit(X, X[:, :2])
    tn.save(obj, path, metadata={"k": [1, "two"]})
    loaded, metadata = load_with_metadata(path)
    assert metadata == {"k": [1, "two"]}
    model, again = (obj, loaded) if kind == "model" else (obj.model_, loaded.model_)
    assert repr(again) == repr(model)
    assert [(n, p.data.tobytes()) for n, p in model.named_parameters()] == \
        [(n, p.data.tobytes()) for n, p in again.named_parameters()]
    assert [(n, b.tobytes()) for n, b in model.named_buffers()] == \
        [(n, b.tobytes()) for n, b in again.named_buffers()]
    if kind == "estimator":
        assert loaded.get_params() == obj.get_params() and loaded.loss_curve_ == obj.loss_curve_
        np.testing.assert_array_equal(loaded.predict(X), obj.predict(X))
