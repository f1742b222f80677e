"""`tinynet export MODEL.npz MODEL.onnx`: a model saved by `tinynet train --save`, by
``tn.save`` or a saved estimator's network, run in onnxruntime; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.cli_runs import run_cli, write_labelled_csv

import tinynet as tn
from tinynet.saving.files import load_with_metadata

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def session(path):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def test_a_model_saved_by_train_runs_in_onnxruntime_as_in_tinynet(tmp_path, capsys):
    csv_path, model_path, onnx_path = tmp_path / "pets.csv", tmp_path / "m.npz", tmp_path / "m.onnx"
    write_labelled_csv(csv_path, n=90)
    status, _, err = run_cli(["train", "--data", csv_path, "--target", "label", "--epochs", "3", "--dtype",
                              "float32", "--progress", "none", "--save", model_path], capsys)
    assert status == 0, err
    status, out, err = run_cli(["export", model_path, onnx_path], capsys)
    assert status == 0, err
    assert "wrote" in out and "float32" in out and "preprocessed" in out
    model, metadata = load_with_metadata(model_path)
    width = model.layers[0].in_features
    x = np.random.default_rng(0).standard_normal((37, width)).astype(np.float32)
    run = session(onnx_path)
    (got,) = run.run(None, {"input": x})
    np.testing.assert_allclose(got, model(x), atol=1e-5)
    saved = run.get_modelmeta().custom_metadata_map
    assert json.loads(saved["tinynet_cli"])["labels"] == metadata["tinynet_cli"]["labels"]


def test_a_cnn_saved_by_tn_save_needs_and_takes_input_shape(tmp_path, capsys):
    model = tn.Sequential(tn.Conv2D(1, 2, 3, rng=0, dtype=np.float32), tn.ReLU(), tn.Flatten(),
                          tn.Dense(2 * 4 * 4, 3, rng=1, dtype=np.float32))
    model_path, onnx_path = tmp_path / "cnn.npz", tmp_path / "cnn.onnx"
    tn.save(model, model_path)
    status, _, err = run_cli(["export", model_path, onnx_path], capsys)
    assert status == 2 and "--input-shape" in err and "Conv2D" in err
    assert not onnx_path.exists()
    status, _, err = run_cli(["export", model_path, onnx_path, "--input-shape", "1,6,6", "--opset", "18"],
                             capsys)
    assert status == 0, err
    x = np.random.default_rng(0).random((5, 1, 6, 6), dtype=np.float32)
    (got,) = session(onnx_path).run(None, {"input": x})
    np.testing.assert_allclose(got, model(x), atol=1e-5)


def test_a_float64_model_exports_as_float32_on_request(tmp_path, capsys):
    model = tn.Sequential(tn.Dense(3, 2, rng=0), tn.Softmax())
    model_path, onnx_path = tmp_path / "m.npz", tmp_path / "m.onnx"
    tn.save(model, model_path)
    status, out, err = run_cli(["export", model_path, onnx_path, "--dtype", "float32"], capsys)
    assert status == 0 and "float32" in out, err
    x = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    (got,) = session(onnx_path).run(None, {"input": x})
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, model(x.astype(np.float64)), atol=1e-6)


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    model_path = tmp_path / "m.npz"
    tn.save(tn.Sequential(tn.Dense(3, 2, rng=0)), model_path)
    status, _, err = run_cli(["export", model_path, tmp_path], capsys)
    assert status == 2 and "that is a folder" in err and "model.onnx" in err
    status, _, err = run_cli(["export", model_path, model_path], capsys)
    assert status == 2 and "model file" in err
    status, _, err = run_cli(["export", model_path, tmp_path / "m.onnx", "--opset", "9"], capsys)
    assert status == 2 and "opset must be in [17," in err
    status, _, err = run_cli(["export", tmp_path / "missing.npz", tmp_path / "m.onnx"], capsys)
    assert status == 2 and "missing.npz" in err
    with pytest.raises(SystemExit):
        run_cli(["export", model_path, tmp_path / "m.onnx", "--input-shape", "3,x"], capsys)
    assert "expected sizes separated by commas" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
