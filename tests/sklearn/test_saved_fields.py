"""A saved estimator's fields are type-checked on load (one ValueError, never a KeyError,
IndexError or ufunc message later); boolean parameters are booleans; missing labels are named."""

import json
import zipfile

import numpy as np
import pytest

import tinynet as tn
from tinynet.sklearn import TinyNetClassifier, TinyNetRegressor

# The fits here are two epochs long on purpose: their ConvergenceWarning is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = np.random.default_rng(0).standard_normal((24, 3))
LABELS = np.array(["a", "b", "c"])[np.arange(24) % 3]


def _edit(path, edit):
    """Re-save ``path`` after ``edit(header, arrays)`` (as a careless or hostile hand could)."""
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["__tinynet__"].tobytes())
    edit(header, arrays)
    arrays["__tinynet__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with zipfile.ZipFile(path, "w") as z:
        for name, array in arrays.items():
            with z.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, array)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "est.npz"
    tn.save(TinyNetClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(X, LABELS), path)
    return path


@pytest.mark.parametrize("edit", [
    lambda e: e["params"].update(hidden_layer_sizes="10"),
    lambda e: e["params"].update(hidden_layer_sizes=[0]),
    lambda e: e["params"].update(learning_rate="fast"),
    lambda e: e["params"].update(shuffle="False"),
    lambda e: e["params"].update(activation=3),
    lambda e: e["params"].update(random_state=-5),
    lambda e: e["params"].update(unknown=1),
    lambda e: e["attributes"].update(n_features_in_=7),        # the network takes 3
    lambda e: e["attributes"].update(n_features_in_="3"),
    lambda e: e["attributes"].update(loss_curve_="low"),
    lambda e: e["attributes"].update(loss_curve_=[0.5, "x"]),
    lambda e: e["attributes"].update(n_iter_=-1),
    lambda e: e["attributes"].update(best_loss_=[1]),
    lambda e: e["attributes"].update(feature_names_in_=["only one"]),
])
def test_malformed_estimator_fields_are_a_value_error(saved, edit):
    _edit(saved, lambda header, arrays: edit(header["estimator"]))
    with pytest.raises(ValueError, match="load: "):
        tn.load(saved)


@pytest.mark.parametrize("classes", [np.array(["a"]), np.array(["a", "a", "b"]), np.array([["a", "b"]]),
                                     np.array(["a", "b"])])  # two classes for a 3-output network
def test_malformed_classes_are_a_value_error(saved, classes):
    def edit(header, arrays):
        arrays["array/classes_"] = classes
        header["arrays"]["classes_"] = {"shape": list(classes.shape), "dtype": classes.dtype.str}

    _edit(saved, edit)
    with pytest.raises(ValueError, match="load: .*classes"):
        tn.load(saved)


def test_a_regressor_whose_outputs_disagree_is_a_value_error(tmp_path):
    path = tmp_path / "reg.npz"
    tn.save(TinyNetRegressor(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(X, X[:, :2]), path)
    _edit(path, lambda header, arrays: header["estimator"]["attributes"].update(n_outputs_=5))
    with pytest.raises(ValueError, match=r"n_outputs_ \(5\) .* do not fit its network's 2 outputs"):
        tn.load(path)


@pytest.mark.parametrize("flag", ["shuffle", "early_stopping", "warm_start"])
def test_boolean_parameters_must_be_booleans(flag):
    with pytest.raises(TypeError, match=f"TinyNetClassifier {flag} must be True or False, got 'False'"):
        TinyNetClassifier(epochs=1, **{flag: "False"}).fit(X, LABELS)


@pytest.mark.parametrize("y", [np.array(["a", None, "b"] * 8, dtype=object), [None, "a", "b"] * 8])
def test_missing_labels_are_named(y):  # (NaN among numbers: scikit-learn's "Input y contains NaN")
    with pytest.raises(ValueError, match=r"TinyNetClassifier: y holds a missing label \(None\) at row [01];"):
        TinyNetClassifier(epochs=1).fit(X, y)
