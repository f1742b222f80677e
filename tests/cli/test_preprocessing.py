"""The CSV preprocessing: columns typed (numbers, dates, categories, unusable), a scikit-learn
ColumnTransformer fitted on training rows, saved as JSON and rebuilt to transform bit for bit alike."""

import json
import math

import numpy as np
import pytest

from tinynet.cli.errors import DataError
from tinynet.cli.preprocessing import ColumnPreprocessing, Preprocessing, column_kinds, parse_columns

NAMES = ["size", "day", "colour", "ok"]


def cells(rows):
    return np.array(rows, dtype=object)


TRAIN = cells([["1.5", "2012-01-01", "red", "true"], ["NA", "2012/01/03", "blue", "false"],
               ["3", "", "red", "TRUE"], ["4.5", "2012-01-02", "", "false"],
               ["2", "2012-01-05", "green", "?"]])


def test_columns_are_typed_and_unusable_ones_said_with_their_reason():
    kinds, unusable = column_kinds(TRAIN, NAMES)
    assert kinds == ["number", "date", "category", "category"] and unusable == {}
    odd = cells([[f"id{i}", "", "k", str(i % 2)] for i in range(30)])
    kinds, unusable = column_kinds(odd, ["id", "blank", "same", "bit"])
    assert kinds[3] == "number"
    assert unusable == {"id": "30 distinct strings in 30 rows: an identifier or free text, not a category",
                        "blank": "every cell is missing", "same": "the same value 'k' in every row"}
    parsed = parse_columns(TRAIN[:2], kinds=["number", "date", "category", "category"], names=NAMES)
    assert parsed[0, :3].tolist() == [1.5, 15340.0, "red"] and math.isnan(parsed[1, 0])
    with pytest.raises(DataError, match=r"column 'size' row 2: 'big' is not a number \(the model was "
                                        r"trained on numbers"):
        parse_columns(cells([["1", "2012-01-01", "red", "true"], ["big", "", "", ""]]),
                      ["number", "date", "category", "category"], NAMES)


def test_the_rebuilt_transformer_gives_bit_identical_output_without_pickle():
    kinds = column_kinds(TRAIN, NAMES)[0]
    prep = ColumnPreprocessing.fitted(TRAIN, NAMES, kinds)
    prep.fit_target(np.array([10.0, 20.0, 30.0, 40.0, 50.0]))
    new = cells([["7", "2013-06-30", "purple", "false"], ["", "", "", ""],
                 ["-1e3", "2011-12-31", "blue", "True"]])
    saved = json.loads(json.dumps(prep.to_json(), allow_nan=False))  # what the model file's header holds
    assert "pickle" not in json.dumps(saved) and saved["width"] == 2 + 3 + 2
    again = Preprocessing.from_json(saved, n_features=4)
    assert isinstance(again, ColumnPreprocessing) and again.kinds == kinds and again.names == NAMES
    for rows in (TRAIN, new):
        expected = prep.apply(rows)
        assert again.apply(rows).tobytes() == expected.tobytes()
    out = prep.apply(new)
    assert out.shape == (3, 7) and np.isfinite(out).all()
    assert out[0, 2:5].tolist() == [0, 0, 0]  # an unknown colour: no column set
    numbers = prep.apply(TRAIN)[:, :2]
    assert np.allclose(numbers.mean(axis=0), 0) and np.allclose(numbers.std(axis=0), 1)  # training statistics
    assert again.scale_target(np.array([30.0])).tobytes() == prep.scale_target(np.array([30.0])).tobytes()
    assert again.describe() == ("columns: 1 number, 1 date, 2 categories; missing cells imputed; numbers and "
                                "dates standardized; categories one-hot encoded; target standardized while "
                                "training (predictions in its units)")


def test_a_damaged_saved_preprocessing_is_one_data_error():
    from sklearn.preprocessing import StandardScaler

    from tinynet.cli.estimator_state import to_json

    kinds = column_kinds(TRAIN, NAMES)[0]
    good = ColumnPreprocessing.fitted(TRAIN, NAMES, kinds).to_json()
    scaler = to_json(StandardScaler().fit(np.ones((3, 1))))
    damaged = [
        ({**good, "kinds": ["number"] * 4}, "do not match its kinds"),
        ({**good, "width": 9}, "gives 7 columns, not the 9"),
        ({**good, "transformer": {"estimator": "os.system", "state": {}}}, "cannot be rebuilt"),
        ({**good, "transformer": {"estimator": "StandardScaler", "state": {"dict": {}}}}, "no fitted state"),
        ({**good, "transformer": good["target"] or scaler}, "not a column transformer"),
        ({**good, "names": NAMES[:3]}, "malformed"),
    ]
    for data, message in damaged:
        with pytest.raises(DataError, match=message):
            Preprocessing.from_json(data, n_features=4)
    with pytest.raises(DataError, match="malformed"):
        Preprocessing.from_json(good, n_features=5)
