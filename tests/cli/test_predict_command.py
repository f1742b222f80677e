"""`tinynet predict`: the target column ignored (blank is fine), --proba columns that are
probabilities agreeing with the predicted class, --id carried through, and a quiet exit when
the reader of standard output leaves early (`tinynet predict ... | head -1`)."""

import csv
import io
import subprocess
import sys

import numpy as np
import pytest
from helpers.cli_runs import run_cli, write_labelled_csv

from tinynet import cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    write_labelled_csv(folder / "train.csv")
    assert cli.main(["train", "--data", str(folder / "train.csv"), "--target", "label", "--save",
                     str(folder / "m.npz"), "--epochs", "30", "--progress", "none", "--standardize",
                     "--optimizer", "adam"]) == 0
    return folder


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def with_column(source, target, name, values):
    """``source`` with a column ``name`` of ``values`` put first."""
    lines = source.read_text().splitlines()
    body = [f"{v},{line}" for v, line in zip(values, lines[1:])]
    target.write_text("\n".join([f"{name},{lines[0]}", *body]) + "\n")


def test_the_target_column_is_ignored_and_may_be_blank(trained, capsys):
    truth = write_labelled_csv(trained / "new.csv", n=40, seed=5)
    _, out, _ = run_cli(["predict", trained / "m.npz", trained / "new.csv"], capsys)
    lines = (trained / "new.csv").read_text().splitlines()
    features = [line.rsplit(",", 1)[0] for line in lines[1:]]
    (trained / "blank.csv").write_text("\n".join([lines[0]] + [f"{row}," for row in features]))
    (trained / "wrong.csv").write_text("\n".join([lines[0]] + [f"{row},??" for row in features]))
    for name in ("blank.csv", "wrong.csv"):
        status, again, err = run_cli(["predict", trained / "m.npz", trained / name], capsys)
        assert status == 0 and again == out, (name, err)
    predicted = [row[0] for row in rows_of(out)[1:]]
    assert rows_of(out)[0] == ["label"] and np.mean(np.array(predicted) == truth) > 0.9


def test_proba_writes_one_probability_column_per_class(trained, capsys):
    write_labelled_csv(trained / "new.csv", n=40, seed=6, with_labels=False)
    status, out, _ = run_cli(["predict", trained / "m.npz", trained / "new.csv", "--proba"], capsys)
    rows = rows_of(out)
    assert status == 0 and rows[0] == ["label", "proba_bird", "proba_cat", "proba_dog"] and len(rows) == 41
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert [row[0] for row in rows[1:]] == [["bird", "cat", "dog"][k] for k in probabilities.argmax(axis=1)]


def test_binary_proba_and_an_id_column_through_a_file(trained, tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    lines = ["a,b,spam"] + [f"{a:.4f},{b:.4f},{'yes' if a > b else 'no'}" for a, b in x]
    (tmp_path / "mail.csv").write_text("\n".join(lines) + "\n")
    assert run_cli(["train", "--data", tmp_path / "mail.csv", "--target", "spam", "--loss",
                    "sigmoid_binary_cross_entropy", "--save", tmp_path / "b.npz", "--epochs", "20",
                    "--progress", "none", "--optimizer", "adam"], capsys)[0] == 0
    with_column(tmp_path / "mail.csv", tmp_path / "new.csv", "message", [f"m{i}" for i in range(120)])
    status, out, _ = run_cli(["predict", tmp_path / "b.npz", tmp_path / "new.csv", "--proba",
                              "--id", "message", "-o", tmp_path / "p.csv"], capsys)
    rows = rows_of((tmp_path / "p.csv").read_text())
    assert status == 0 and "wrote 120 predictions" in out
    assert rows[0] == ["message", "spam", "proba_no", "proba_yes"]
    assert [row[0] for row in rows[1:]] == [f"m{i}" for i in range(120)]
    yes = np.array([float(row[3]) for row in rows[1:]])
    np.testing.assert_allclose(yes + np.array([float(row[2]) for row in rows[1:]]), 1.0)
    assert [row[1] for row in rows[1:]] == ["yes" if p > 0.5 else "no" for p in yes]


@pytest.mark.parametrize("argv, says", [
    (["--id", "nope"], "--id nope: "),
    (["--id", "label"], "--id label: the output already has a column 'label'"),
])
def test_id_errors_are_one_line(trained, capsys, argv, says):
    write_labelled_csv(trained / "new.csv", n=10, seed=7)
    status, _, err = run_cli(["predict", trained / "m.npz", trained / "new.csv", *argv], capsys)
    assert status == 2 and err.count("\n") == 1 and says in err, err


def test_proba_of_a_regression_model_is_refused(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("a,y\n" + "\n".join(f"{i / 10},{i / 5 + 0.01}" for i in range(30)) + "\n")
    assert run_cli(["train", "--data", tmp_path / "r.csv", "--target", "y", "--task", "regression",
                    "--save", tmp_path / "r.npz", "--epochs", "1", "--batch-size", "8",
                    "--progress", "none"], capsys)[0] == 0
    status, _, err = run_cli(["predict", tmp_path / "r.npz", tmp_path / "r.csv", "--proba"], capsys)
    assert status == 2 and "probabilities are for classification models" in err


def test_a_reader_that_leaves_early_ends_the_command_quietly(trained):
    write_labelled_csv(trained / "many.csv", n=3000, seed=8, with_labels=False)  # 200 KB > a pipe's 64 KiB
    process = subprocess.Popen([sys.executable, "-m", "tinynet.cli", "predict", str(trained / "m.npz"),
                                str(trained / "many.csv"), "--proba"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()  # `| head -1`
    process.stdout.close()
    status = process.wait(timeout=60)
    err = process.stderr.read().decode()
    process.stderr.close()
    assert first.startswith(b"label,proba_bird")
    assert status in (0, 141) and err == "", (status, err)


def test_missing_feature_cells_are_imputed_as_in_training(trained, capsys):
    write_labelled_csv(trained / "new.csv", n=12, seed=9, with_labels=False)
    lines = (trained / "new.csv").read_text().splitlines()
    holes = [lines[0]] + [",".join("" if j == i % 3 else cell for j, cell in enumerate(line.split(",")))
                          for i, line in enumerate(lines[1:])]  # one cell missing in every row
    (trained / "holes.csv").write_text("\n".join(holes) + "\n")
    status, out, err = run_cli(["predict", trained / "m.npz", trained / "holes.csv", "--proba"], capsys)
    rows = rows_of(out)
    assert (status, err) == (0, "") and len(rows) == 13
    assert all(row[0] in ("bird", "cat", "dog") for row in rows[1:])
    assert np.isfinite(np.array([[float(v) for v in row[1:]] for row in rows[1:]])).all()
