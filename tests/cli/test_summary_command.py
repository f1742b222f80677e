"""`tinynet summary` describes any tinynet .npz: a model saved by tn.save (no CLI metadata), an
estimator saved by tn.save, a model saved by `tinynet train --save`; anything else is one error."""

import warnings

import numpy as np
import pytest
from helpers.cli_runs import run_cli, write_labelled_csv

import tinynet as tn


def test_a_model_saved_by_tn_save(tmp_path, capsys):
    model = tn.Sequential(tn.Dense(5, 7, dtype=np.float32), tn.ReLU(), tn.Dense(7, 3, dtype=np.float32))
    tn.save(model, tmp_path / "plain.npz", metadata={"author": "me"})
    status, out, err = run_cli(["summary", tmp_path / "plain.npz"], capsys)
    assert status == 0 and err == ""
    assert "Sequential (tn.save)" in out and "float32" in out and f"tinynet {tn.__version__}" in out
    assert "parameters" in out and "66" in out and '{"author": "me"}' in out
    assert "(B, 7)" in out and "(B, 3)" in out  # the input width read from the first Dense
    assert "task" not in out and "preprocessing" not in out


def test_a_model_whose_input_shape_the_file_does_not_tell(tmp_path, capsys):
    tn.save(tn.Sequential(tn.Conv2D(1, 4, 3), tn.ReLU(), tn.Flatten()), tmp_path / "conv.npz")
    status, out, _ = run_cli(["summary", tmp_path / "conv.npz"], capsys)
    assert status == 0 and "Conv2D" in out and "40" in out
    assert [line.split()[-2] for line in out.splitlines() if line.startswith(("0:", "1:", "2:"))] == ["-"] * 3


def test_an_estimator_saved_by_tn_save(tmp_path, capsys):
    from tinynet.sklearn import TinyNetClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    estimator = TinyNetClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    with warnings.catch_warnings():  # two epochs do not converge, and need not here
        warnings.simplefilter("ignore")
        estimator.fit(x, np.where(x[:, 0] > 0, "up", "down"))
    tn.save(estimator, tmp_path / "est.npz")
    status, out, _ = run_cli(["summary", tmp_path / "est.npz"], capsys)
    assert status == 0 and "TinyNetClassifier (a fitted scikit-learn estimator, tn.save)" in out
    assert "down, up" in out and "hidden_layer_sizes=[4]" in out and "(B, 4)" in out


def test_a_model_saved_by_the_command(tmp_path, capsys):
    write_labelled_csv(tmp_path / "train.csv")
    assert run_cli(["train", "--data", tmp_path / "train.csv", "--target", "label",
                    "--save", tmp_path / "m.npz", "--epochs", "1", "--progress", "none", "--standardize"],
                   capsys)[0] == 0
    status, out, _ = run_cli(["summary", tmp_path / "m.npz"], capsys)
    assert status == 0 and "saved by `tinynet train --save`" in out
    for words in ("classification", "label", "bird, cat, dog", "3: a, b, c", "standardized", "(B, 3)"):
        assert words in out, words


@pytest.mark.parametrize("content, says", [
    (None, "no tinynet header in the file; was it written by tinynet.save?"),
    (b"not a zip", "not a tinynet model file"),
])
def test_other_files_are_one_clear_error(tmp_path, capsys, content, says):
    path = tmp_path / "other.npz"
    if content is None:
        np.savez(path, weights=np.zeros(3))
    else:
        path.write_bytes(content)
    status, out, err = run_cli(["summary", path], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1 and says in err, err


def test_a_graph_of_several_inputs_lists_its_layers(tmp_path, capsys):
    graph = tn.Graph(inputs=["a", "b"], nodes={"da": (tn.Dense(3, 4), "a"), "db": (tn.Dense(5, 4), "b"),
                                               "sum": (tn.Add(), ["da", "db"])}, output="sum")
    tn.save(graph, tmp_path / "graph.npz")
    status, out, _ = run_cli(["summary", tmp_path / "graph.npz"], capsys)
    assert status == 0 and "Graph (tn.save)" in out and "da: Dense" in out and "sum: Add()" in out
