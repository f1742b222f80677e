"""Fitted scikit-learn transformers to JSON and back: every value type round-trips exactly, and
nothing but the listed transformer classes can be named."""

import json
import math

import numpy as np
import pytest

from tinynet.cli.estimator_state import from_json, to_json


def test_values_round_trip_exactly_through_json():
    values = [None, True, 3, 0.1, math.inf, "s", (1, [2.5]), slice(0, 3, None), {"k": np.float64(1 / 3)},
              np.array([[1.0, math.nan], [1e-300, -0.0]]), np.array(["a", "bc"], dtype=object),
              np.dtype("float32"), np.float64, np.int64(7)]
    back = from_json(json.loads(json.dumps(to_json(values), allow_nan=False)))
    assert back[:6] == values[:6] and back[6] == (1, [2.5]) and back[7] == slice(0, 3, None)
    assert type(back[8]["k"]) is np.float64 and back[8]["k"] == 1 / 3
    assert back[9].tobytes() == values[9].tobytes()
    assert back[10].dtype == object and back[10].tolist() == ["a", "bc"]
    assert back[11] == np.dtype("float32") and back[12] is np.float64 and back[13] == 7


def test_a_fitted_scaler_is_rebuilt_attribute_for_attribute():
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(size=(20, 3)) * 7 + 2
    scaler = StandardScaler().fit(x)
    again = from_json(json.loads(json.dumps(to_json(scaler))))
    assert type(again) is StandardScaler and again.n_samples_seen_ == 20
    assert again.transform(x).tobytes() == scaler.transform(x).tobytes()


def test_only_known_transformers_and_plain_values_are_accepted():
    from sklearn.linear_model import LinearRegression

    with pytest.raises(TypeError, match="cannot store a sklearn.linear_model"):
        to_json(LinearRegression())
    for data in ({"estimator": "Popen"}, {"estimator": "StandardScaler", "state": [1]}, {"what": 1},
                 {"array": "<f8", "shape": [3], "values": [1.0]}):
        with pytest.raises(ValueError):
            from_json(data)
