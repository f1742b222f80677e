"""The `tinynet` command: the article's run by default, CSV train -> save -> predict end to end,
evaluate/summary, one-line errors with exit status 2, evaluate's checks on a built-in set."""

import csv
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from helpers.cli_runs import run_cli, write_labelled_csv
from helpers.models import article_model

import tinynet as tn
from tinynet import cli
from tinynet.data.datasets import article_iris


def test_defaults_reproduce_the_article_mini_batch_run(tmp_path, capsys):
    status, out, _ = run_cli(["train", "--progress", "none", "--save", tmp_path / "m.npz"], capsys)
    assert status == 0
    assert "summed over its 3 batches as in the article: 1.1172" in out
    assert re.search(r"│ test +│ +50 │ 0\.3323 │ +1\.0000 │", out)
    assert re.search(r"│ majority baseline +│ +50 │ +│ +0\.3000 │", out)  # always the training rows' mode
    assert "task:" not in out and "warning" not in out
    data = article_iris()
    model = article_model()
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=32, last_batch="drop")
    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader, 1500,
           progress="none")
    saved = tn.load(tmp_path / "m.npz")
    for mine, theirs in zip(saved.parameters(), model.parameters()):
        assert mine.data.tobytes() == theirs.data.tobytes()  # the same run, bit for bit


def train_args(tmp_path, *extra):
    return ["train", "--data", tmp_path / "train.csv", "--target", "label", "--save", tmp_path / "m.npz",
            "--standardize", "--init", "he_normal", "--optimizer", "adam", "--lr", "0.01",
            "--epochs", "40", "--val-split", "0.2", "--progress", "none", *extra]


def test_csv_train_save_plot_then_predict_end_to_end(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    write_labelled_csv(tmp_path / "train.csv")
    status, out, err = run_cli(train_args(tmp_path, "--plot", tmp_path / "loss.png"), capsys)
    assert (status, err) == (0, "")
    assert "validation" in out and "saved the model" in out
    png = (tmp_path / "loss.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert imread(tmp_path / "loss.png")[..., :3].std() > 0.05  # a drawn curve, not a blank canvas
    truth = write_labelled_csv(tmp_path / "new.csv", n=50, seed=1, with_labels=False, order=(2, 0, 1))
    # the real command, in its own process: exit status, CSV on stdout, no traceback
    done = subprocess.run([sys.executable, "-m", "tinynet.cli", "predict", str(tmp_path / "m.npz"),
                           str(tmp_path / "new.csv")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "label" and set(lines[1:]) <= {"cat", "dog", "bird"}
    # the columns come in another order (c, a, b) and are matched by name
    assert np.mean(np.array(lines[1:]) == truth) > 0.9


def test_train_predict_evaluate_summary_without_plot(tmp_path, capsys):
    write_labelled_csv(tmp_path / "train.csv")
    assert run_cli(train_args(tmp_path), capsys)[0] == 0
    labels = write_labelled_csv(tmp_path / "new.csv", n=60, seed=3)  # has the label column too: ignored
    status, out, _ = run_cli(["predict", tmp_path / "m.npz", tmp_path / "new.csv", "-o", tmp_path / "p.csv"],
                         capsys)
    assert status == 0 and "wrote 60 predictions" in out
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["label"] and len(rows) == 61
    assert np.mean(np.array([r[0] for r in rows[1:]]) == labels) > 0.9
    status, out, _ = run_cli(["evaluate", tmp_path / "m.npz", "--data", tmp_path / "new.csv"], capsys)
    assert status == 0 and "accuracy" in out and "per class" in out and "confusion matrix" in out
    status, out, _ = run_cli(["summary", tmp_path / "m.npz"], capsys)
    assert status == 0 and "bird, cat, dog" in out and "standardized" in out and "Dense" in out


def test_other_errors_are_one_line_too(tmp_path, capsys):
    cases = [(["train", "--data", "irs"], "did you mean 'iris'?"),
             (["train", "--optimizer", "adamm", "--epochs", "1"], "did you mean 'adam'?"),
             (["train", "--data", tmp_path / "x.csv"], "--target COLUMN is required"),
             (["predict", tmp_path / "missing.npz", tmp_path / "x.csv"], "No such file"),
             (["train", "--test-size", "1.5"], "--test-size must be a fraction"),
             (["train", "--data", "iris", "--target", "X"], "the built-in data set 'iris' has its own")]
    for argv, message in cases:
        status, _, err = run_cli(argv, capsys)
        assert status == 2 and err.count("\n") == 1 and message in err, (argv, err)
    tn.save(tn.Sequential(tn.Dense(2, 2)), tmp_path / "plain.npz")
    status, _, err = run_cli(["predict", tmp_path / "plain.npz", tmp_path / "x.csv"], capsys)
    assert status == 2 and "was not saved by `tinynet train --save`" in err


def test_regression_csv_and_builtin_binary_and_evaluate(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    with open(tmp_path / "house.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["rooms", "age", "price"])
        writer.writerows([f"{a:.5f}", f"{b:.5f}", f"{3 * a - b + 0.5:.5f}"] for a, b in x)
    status, out, _ = run_cli(["train", "--data", tmp_path / "house.csv", "--target", "price", "--init",
                          "he_normal", "--optimizer", "adam", "--lr", "0.01", "--epochs", "150",
                          "--progress", "none",
                          "--save", tmp_path / "r.npz"], capsys)
    assert status == 0 and "r2" in out
    status, out, _ = run_cli(["predict", tmp_path / "r.npz", tmp_path / "house.csv"], capsys)
    predicted = np.array([float(v) for v in out.splitlines()[1:]])
    assert status == 0 and out.startswith("price")
    assert np.corrcoef(predicted, 3 * x[:, 0] - x[:, 1])[0, 1] > 0.95
    status, out, _ = run_cli(["train", "--data", "breast_cancer", "--standardize", "--init", "he_normal",
                          "--loss", "sigmoid_binary_cross_entropy", "--optimizer", "adam", "--lr", "0.001",
                          "--epochs", "5", "--progress", "none", "--save", tmp_path / "b.npz"], capsys)
    assert status == 0
    assert tn.load(tmp_path / "b.npz")[-1].out_features == 1  # one logit: the sigmoid is in the loss
    status, out, _ = run_cli(["evaluate", tmp_path / "b.npz", "--data", "breast_cancer", "--json"], capsys)
    assert status == 0 and json.loads(out)["metrics"]["accuracy"] > 0.85


def test_evaluate_on_a_builtin_set_checks_features_classes_and_task(tmp_path, capsys):
    from sklearn.datasets import load_iris


    iris = load_iris()
    for name, header, labels in [("other", ["w", "x", "y", "z"], iris.target_names),
                                 ("codes", iris.feature_names, np.array(["0", "1", "2"]))]:
        rows = [",".join([*header, "kind"])]
        rows += [",".join([*(f"{v:.2f}" for v in x), labels[t]]) for x, t in zip(iris.data, iris.target)]
        (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n")
        assert cli.main(["train", "--data", str(tmp_path / f"{name}.csv"), "--target", "kind",
                         "--epochs", "2", "--progress", "none", "--save", str(tmp_path / f"{name}.npz")]) == 0
    capsys.readouterr()
    cases = [("other", "iris", "trained on the features ['w', 'x', 'y', 'z'], but iris has"),
             ("codes", "iris", "the model knows the classes ['0', '1', '2'], but iris has"),
             ("codes", "diabetes", "diabetes is a regression data set, not classification")]
    for model, data, message in cases:
        status = cli.main(["evaluate", str(tmp_path / f"{model}.npz"), "--data", data])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and message in err, (model, data, err)
    status = cli.main(["train", "--data", "iris", "--task", "regression", "--epochs", "1"])
    assert status == 2 and "iris is a classification data set" in capsys.readouterr().err


def test_defaults_are_resolved_by_data_kind_and_given_flags_win(capsys):
    from tinynet.cli.arguments import DEFAULTS, build_parser, resolve_defaults

    parser = build_parser()
    table = resolve_defaults(parser.parse_args(["train", "--data", "t.csv", "--lr", "0.05", "--no-shuffle"]),
                             True)
    article = resolve_defaults(parser.parse_args(["train", "--data", "wine", "--patience", "3"]), False)
    assert (table.lr, table.shuffle, table.optimizer, table.init, table.patience) == (0.05, False, "adam",
                                                                                        "he_normal", 20)
    assert (article.optimizer, article.init, article.lr, article.last_batch, article.epochs, article.patience,
            article.standardize, article.val_split) == ("sgd", "uniform", 0.01, "drop", 1500, 3, False, 0.0)
    assert set(DEFAULTS) <= set(vars(table))
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "(default: CSV he_normal; built-in uniform)" in said
    assert "(default: CSV adam; built-in sgd)" in said and "(default: CSV 20; built-in none)" in said
    assert "an option you give always wins" in said


def test_patience_dropout_weight_decay_and_class_weight_flags(tmp_path, capsys):
    write_labelled_csv(tmp_path / "train.csv", n=120)
    status, out, err = run_cli(["train", "--data", tmp_path / "train.csv", "--target", "label",
                                "--progress", "none", "--lr", "0.05", "--patience", "2", "--dropout", "0.3",
                                "--weight-decay", "1e-3", "--class-weight", "balanced", "--hidden", "8", "8",
                                "--save", tmp_path / "m.npz"], capsys)
    assert (status, err) == (0, "")
    assert re.search(r"EarlyStopping: stopped after epoch \d+: val_loss did not improve for 2 epochs; "
                     r"restored", " ".join(out.split()))
    model = tn.load(tmp_path / "m.npz")
    assert [type(layer).__name__ for layer in model].count("Dropout") == 2 and model[2].p == 0.3
    cases = [(["--dropout", "1"], "--dropout must be a probability in [0, 1), got 1.0"),
             (["--weight-decay", "-1"], "--weight-decay must be a finite number >= 0, got -1.0"),
             (["--patience", "-1"], "--patience must be >= 0, got -1"),
             (["--features", "a"], "--features a names CSV columns; the built-in data set 'iris'"),
             (["--data", "diabetes", "--class-weight", "balanced"], "--class-weight balanced is for classif")]
    for argv, message in cases:
        status, _, err = run_cli(["train", "--epochs", "1", "--progress", "none", *argv], capsys)
        assert status == 2 and message in err, err
