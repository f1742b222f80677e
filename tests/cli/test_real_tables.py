"""`tinynet train` with its default flags on real tables nobody here wrote (vega_datasets' cars and
seattle-weather, shipped offline): string, date and boolean columns, missing cells and missing
targets work; cars' MPG regression is at least as good as LinearRegression on the same split and
preprocessing; --class-weight balanced lifts seattle-weather's balanced accuracy; a run that does
not beat the majority class says so."""

import csv
import json
import re

import numpy as np
import pytest
from helpers.cli_runs import run_cli

vega = pytest.importorskip("vega_datasets")

SEED = 42  # the command's default --seed: its test split, then its validation split


@pytest.fixture(scope="module")
def cars(tmp_path_factory):
    """cars.json as a CSV, as a user would export it: missing cells blank, the Year date as text."""
    rows = json.loads(open(vega.local_data.cars.filepath).read())
    path = tmp_path_factory.mktemp("cars") / "cars.csv"
    columns = list(rows[0])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(["" if row[c] is None else row[c] for c in columns] for row in rows)
    return path


def _split(x, y):
    """The command's split: a 33% test split, then 20% of the rest for validation."""
    from sklearn.model_selection import train_test_split

    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.33, shuffle=True, random_state=SEED)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.2, shuffle=True,
                                                      random_state=SEED)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def test_cars_mpg_with_default_flags_beats_linear_regression(cars, tmp_path, capsys):
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    from tinynet.cli.saved_model import load_saved_model
    from tinynet.cli.tables import read_csv

    model = tmp_path / "cars.npz"
    status, out, err = run_cli(["train", "--data", cars, "--target", "Miles_per_Gallon", "--progress", "none",
                                "--save", model], capsys)
    said = " ".join(out.split())
    assert (status, err) == (0, ""), err
    assert "task: regression of 'Miles_per_Gallon': it holds numbers with fractions" in said
    assert "left out 8 rows whose target 'Miles_per_Gallon' is missing" in said
    assert "left out 1 column(s) that cannot be features: 'Name' (304 distinct strings in 398 rows" in said
    assert "warning" not in said
    saved = load_saved_model(str(model))
    assert saved.features == ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration",
                              "Year", "Origin"]
    assert saved.prep.kinds == ["number"] * 5 + ["date", "category"]
    # the same rows and the same fitted preprocessing, for LinearRegression on every non-test row
    table = read_csv(str(cars), "Miles_per_Gallon", features=saved.features)
    assert sum(cell == "" for cell in table.x[:, 2]) == 6  # Horsepower's missing cells, imputed
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = _split(table.x, table.y)
    linear = LinearRegression().fit(saved.prep.apply(np.vstack([x_train, x_val])), np.r_[y_train, y_val])
    r2_linear = r2_score(y_test, linear.predict(saved.prep.apply(x_test)))
    predicted = saved.outputs(saved.inputs(x_test))[:, 0]  # in miles per gallon: no scaling left to undo
    r2_net = r2_score(y_test, predicted)
    assert r2_net >= r2_linear > 0.75, (r2_net, r2_linear)
    test_row = re.search(r"│ test +│ +132 │ +[\d.]+ │ +([\d.]+) │ +([\d.]+) │ +([\d.]+) │", out)
    assert test_row and float(test_row[1]) == pytest.approx(r2_net, abs=5e-5)  # R², MAE, RMSE in MPG
    assert float(test_row[3]) == pytest.approx(np.sqrt(np.mean((predicted - y_test) ** 2)), abs=5e-5)
    assert re.search(r"│ mean baseline +│ +132 │ +│ +-0\.0", out)  # R² of the training mean: about 0
    # predict: a blank target column and missing cells are fine; predictions are in MPG
    rows = list(csv.reader(open(cars)))
    header, blank = rows[0], [row[:] for row in rows[1:6]]
    for row in blank:
        row[header.index("Miles_per_Gallon")] = ""
    blank[0][header.index("Horsepower")] = ""
    blank[1][header.index("Origin")] = "Mars"  # a category never seen: all zeros, no error
    with open(tmp_path / "new.csv", "w", newline="") as f:
        csv.writer(f).writerows([header, *blank])
    status, out, err = run_cli(["predict", model, tmp_path / "new.csv"], capsys)
    values = [float(v) for v in out.splitlines()[1:]]
    assert status == 0 and len(values) == 5 and all(8 < v < 40 for v in values), (out, err)


def test_seattle_weather_class_weight_balanced_lifts_balanced_accuracy(tmp_path, capsys):
    from sklearn.metrics import balanced_accuracy_score

    from tinynet.cli.saved_model import load_saved_model
    from tinynet.cli.tables import read_csv

    weather = vega.local_data.seattle_weather.filepath
    scores = {}
    for weights in ("none", "balanced"):
        model = tmp_path / f"{weights}.npz"
        status, out, err = run_cli(["train", "--data", weather, "--target", "weather", "--progress", "none",
                                    "--class-weight", weights, "--save", model], capsys)
        assert (status, err) == (0, ""), err
        assert "task: classification of 'weather': it holds strings, 5 classes" in " ".join(out.split())
        saved = load_saved_model(str(model))
        assert saved.prep.kinds == ["date", "number", "number", "number", "number"]  # 2012/01/01 is a date
        table = read_csv(weather, "weather", features=saved.features, labels=saved.labels)
        x_test, y_test = _split(table.x, table.y)[2]
        predicted = saved.outputs(saved.inputs(x_test)).argmax(axis=1)
        scores[weights] = balanced_accuracy_score(y_test, predicted)
        shown = re.search(r"│ test +│ +483 │ +[\d.]+ │ +[\d.]+ │ +([\d.]+) │", out)
        assert shown and float(shown[1]) == pytest.approx(scores[weights], abs=5e-5)
    assert scores["balanced"] >= scores["none"] + 0.1, scores


def test_a_default_run_that_cannot_beat_the_majority_class_says_so(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = np.where(rng.random(300) < 0.85, "no", "yes")  # imbalanced, and the features are noise
    with open(tmp_path / "noise.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "c", "label"])
        writer.writerows([*(f"{v:.4f}" for v in rng.normal(size=3)), label] for label in labels)
    status, out, err = run_cli(["train", "--data", tmp_path / "noise.csv", "--target", "label", "--progress",
                                "none"], capsys)
    said = " ".join(out.split())
    accuracy = float(re.search(r"│ test +│ +99 │ +[\d.]+ │ +([\d.]+) │", out)[1])
    majority = float(re.search(r"│ majority baseline +│ +99 │ +│ +([\d.]+) │", out)[1])
    assert status == 0 and err == ""
    assert accuracy > majority or "warning: the test accuracy" in said  # never silent below the baseline
    assert (f"warning: the test accuracy {accuracy:.4f} is no better than the majority class's "
            f"{majority:.4f}: the classes are imbalanced (") in said
    assert "try --class-weight balanced)" in said


def test_the_issue_s_unscaled_run_stops_with_advice_that_fits(tmp_path, capsys):
    """The article's settings on unscaled inputs drove the loss to 1e127 in silence; now the run
    stops, prints the loss compactly and names the cause."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 2, 300)
    x = (rng.normal(size=(300, 2)) + 2 * codes[:, None]) * 1e4
    with open(tmp_path / "big.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "label"])
        writer.writerows([f"{a:.2f}", f"{b:.2f}", "xy"[c]] for (a, b), c in zip(x, codes))
    article = ["--no-standardize", "--optimizer", "sgd", "--init", "uniform", "--lr", "0.01", "--no-shuffle",
               "--last-batch", "drop", "--epochs", "30"]
    data = ["--data", tmp_path / "big.csv", "--target", "label", "--progress", "none"]
    status, _, err = run_cli(["train", *data, *article], capsys)
    assert status == 1 and err.count("\n") == 1
    assert re.search(r"training diverged: the loss \w+ [^;]*\de\+\d\d", err), err  # 7.82e+17, not 18 digits
    assert err.rstrip().endswith("the inputs are not standardized: add --standardize"), err
    status, _, err = run_cli(["train", *data, "--optimizer", "sgd", "--lr", "50", "--epochs", "30"], capsys)
    assert status == 1 and "the inputs are standardized, so the learning rate is too large: try --lr 5" in err
