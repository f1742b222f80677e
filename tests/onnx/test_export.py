"""``tinynet.onnx.export``: models exported from a 2-row example batch pass ``onnx.checker``
and give tinynet's inference outputs in onnxruntime on larger batches; clear errors for a
layer without a converter and for bad arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinynet as tn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import tinynet.onnx  # noqa: E402
from tinynet.onnx.operators.core import onnx_equation  # noqa: E402

F32, F64 = np.float32, np.float64


def run_onnx(path: Path, *arrays: np.ndarray) -> list[np.ndarray]:
    """The exported model at ``path`` run in onnxruntime on ``arrays`` (its inputs in order)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {spec.name: a for spec, a in zip(session.get_inputs(), arrays)})


def exported_matches(model: Any, example: Any, batch: Any, path: Path, tol: float, **kw: Any) -> float:
    """Export ``model`` from ``example``, run ``batch`` in onnxruntime and return the largest
    difference from tinynet's ``model(batch)`` (asserted below ``tol``)."""
    tinynet.onnx.export(model, path, example, **kw)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    arrays = batch if isinstance(batch, tuple) else (batch,)
    got = run_onnx(path, *arrays)
    want = model(batch)
    want = want if isinstance(want, tuple) else (want,)
    assert [g.shape for g in got] == [w.shape for w in want]
    error = max(float(np.max(np.abs(g - w))) for g, w in zip(got, want))
    assert error <= tol, error
    return error


def blobs(rows: int, features: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, features))
    y = rng.integers(0, classes, rows)
    return (centres[y] + rng.normal(0, 1, (rows, features))).astype(F32), y


def test_a_trained_mlp_with_batch_norm_dropout_leaky_relu_and_softmax_runs_in_onnxruntime(tmp_path):
    x, y = blobs(240, 6, 3, seed=0)
    body = tn.Sequential(tn.Dense(6, 16, rng=1, dtype=F32), tn.BatchNorm(16, dtype=F32), tn.LeakyReLU(0.05),
                         tn.Dropout(0.2, rng=2), tn.Dense(16, 3, rng=3, dtype=F32))
    loader = tn.DataLoader(x, y, batch_size=32, shuffle=True, rng=4)
    history = tn.fit(body, tn.SoftmaxCrossEntropy(), tn.Adam(body.parameters(), lr=0.01), loader, epochs=5,
                     progress="none")
    assert history.loss[-1] < history.loss[0]
    model = tn.Sequential(*body.layers, tn.Softmax())
    path = tmp_path / "mlp.onnx"
    exported_matches(model, x[:2], x[:37], path, tol=1e-5)
    (one_row,) = run_onnx(path, x[:1])
    np.testing.assert_allclose(one_row, model(x[:1]), atol=1e-5)
    graph = onnx.load(str(path)).graph
    assert [n.op_type for n in graph.node] == ["Gemm", "BatchNormalization", "LeakyRelu", "Identity", "Gemm",
                                               "Softmax", "Identity"]
    batch_dim = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param == "batch"  # dynamic: the 2-row example fixed nothing
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_a_trained_cnn_runs_in_onnxruntime(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[:300, None] / 16).astype(F32)
    y = digits.target[:300]
    model = tn.Sequential(tn.Conv2D(1, 4, 3, padding=1, rng=0, dtype=F32), tn.BatchNorm(4, dtype=F32),
                          tn.ReLU(), tn.MaxPool2D(2), tn.Flatten(), tn.Dense(64, 10, rng=1, dtype=F32))
    loader = tn.DataLoader(x, y, batch_size=50, shuffle=True, rng=2)
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.01), loader, epochs=3,
                     progress="none")
    assert history.loss[-1] < history.loss[0]
    exported_matches(model, x[:2], x[:37], tmp_path / "cnn.onnx", tol=1e-5)


def moved_bn(features: int, dtype: Any = F64) -> tn.BatchNorm:
    """A BatchNorm with running statistics away from their 0/1 start (as after training)."""
    layer = tn.BatchNorm(features, dtype=dtype)
    rng = np.random.default_rng(5)
    layer.running_mean[:] = rng.normal(size=features)
    layer.running_var[:] = rng.uniform(0.5, 2, size=features)
    layer.weight.data[:] = rng.normal(size=features)
    return layer


# (name, layer factory, input shape, dtype). float64 where onnxruntime has float64 kernels;
# its Conv, AveragePool, GlobalAveragePool, Erf (exact GELU), LSTM and GRU are float32 only.
FAMILIES = [
    ("dense_2d", lambda: tn.Dense(3, 5, rng=0), (3,), F64),
    ("dense_nd_no_bias", lambda: tn.Dense(3, 5, bias=False, rng=0), (4, 3), F64),
    ("einsum", lambda: tn.Einsum("Bhi,hoi->Bho", (2, 5, 3), bias_shape=(2, 5), rng=0), (2, 3), F64),
    ("leaky_relu_steep", lambda: tn.LeakyReLU(3.0), (5,), F64),
    ("relu", tn.ReLU, (5,), F64),
    ("sigmoid", tn.Sigmoid, (5,), F64),
    ("tanh", tn.Tanh, (5,), F64),
    ("identity", tn.Identity, (5,), F64),
    ("softmax_3d", tn.Softmax, (4, 5), F64),
    ("gelu_exact", tn.GELU, (5,), F32),
    ("gelu_tanh", lambda: tn.GELU("tanh"), (5,), F64),
    ("batch_norm_images", lambda: moved_bn(3), (3, 4, 4), F64),
    ("flatten_middle", lambda: tn.Flatten(1, 2), (2, 3, 4), F64),
    ("reshape", lambda: tn.Reshape((4, -1)), (2, 3, 4), F64),
    ("conv1d", lambda: tn.Conv1D(2, 3, 3, stride=2, dilation=2, padding=2, rng=0, dtype=F32), (2, 11), F32),
    ("conv2d_same", lambda: tn.Conv2D(2, 3, (3, 2), padding="same", rng=0, dtype=F32), (2, 6, 7), F32),
    ("conv2d_strided", lambda: tn.Conv2D(2, 3, 3, stride=2, padding=1, bias=False, rng=0, dtype=F32),
     (2, 7, 7), F32),
    ("max_pool1d", lambda: tn.MaxPool1D(3, stride=2, padding=1), (2, 7), F64),
    ("max_pool2d_padded", lambda: tn.MaxPool2D(3, stride=2, padding=1), (2, 7, 7), F64),
    ("avg_pool1d_padded", lambda: tn.AvgPool1D(3, stride=1, padding=1), (2, 7), F32),
    ("avg_pool2d_padded", lambda: tn.AvgPool2D(3, stride=2, padding=1), (2, 7, 7), F32),
    ("global_avg_pool", tn.GlobalAvgPool2D, (3, 5, 5), F32),
    ("layer_norm", lambda: tn.LayerNorm(4), (5, 4), F64),
    ("rms_norm", lambda: tn.RMSNorm(4), (5, 4), F64),
    ("positional_embedding", lambda: tn.PositionalEmbedding(10, 4, rng=0), (5, 4), F64),
    ("sinusoidal", lambda: tn.SinusoidalPositionalEncoding(4), (5, 4), F64),
    ("attention", lambda: tn.MultiHeadAttention(8, 2, rng=0), (5, 8), F64),
    ("attention_causal", lambda: tn.MultiHeadAttention(8, 2, causal=True, rng=0), (5, 8), F64),
    ("transformer_pre_norm", lambda: tn.TransformerBlock(8, 2, 16, rng=0, dtype=F32), (5, 8), F32),
    ("transformer_post_norm", lambda: tn.TransformerBlock(8, 2, 16, causal=True, norm_first=False, rng=0,
                                                         dtype=F32), (5, 8), F32),
    ("lstm", lambda: tn.LSTM(3, 4, rng=0, dtype=F32), (5, 3), F32),
    ("lstm_last", lambda: tn.LSTM(3, 4, return_sequences=False, rng=0, dtype=F32), (5, 3), F32),
    ("gru", lambda: tn.GRU(3, 4, rng=0, dtype=F32), (5, 3), F32),
    ("gru_last_no_bias", lambda: tn.GRU(3, 4, bias=False, return_sequences=False, rng=0, dtype=F32), (5, 3),
     F32),
    ("residual", lambda: tn.Residual(tn.Sequential(tn.Dense(4, 4, rng=0), tn.Tanh())), (4,), F64),
    ("parallel_concat", lambda: tn.Parallel(tn.Dense(4, 2, rng=0), tn.Dense(4, 3, rng=1)), (4,), F64),
    ("parallel_sum", lambda: tn.Parallel(tn.Dense(4, 2, rng=0), tn.Dense(4, 2, rng=1), join="sum"), (4,),
     F64),
]


@pytest.mark.parametrize("name, make, shape, dtype", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_each_converter_gives_tinynets_inference_forward(tmp_path, name, make, shape, dtype):
    layer = make()
    x = np.random.default_rng(7).standard_normal((23, *shape)).astype(dtype)
    tol = 1e-5 if dtype == F32 else 1e-10
    exported_matches(layer, x[:2], x, tmp_path / f"{name}.onnx", tol, dtype=dtype)


def test_a_graph_with_several_inputs_outputs_and_merge_nodes(tmp_path):
    graph = tn.Graph(inputs=["q", "k"], nodes={
        "qh": (tn.Dense(4, 8, rng=0), "q"),
        "kh": (tn.Dense(4, 8, rng=1), "k"),
        "scores": (tn.EinsumMerge("Bqd,Bkd->Bqk"), ["qh", "kh"]),
        "sum": (tn.Add(), ["qh", "kh"]),
        "joined": (tn.Concat(), ["qh", "sum"]),
        "cross": (tn.MultiHeadAttention(8, 2, rng=2), ["qh", "kh"]),
    }, output=["scores", "joined", "cross"])
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((9, 3, 4)), rng.standard_normal((9, 3, 4))
    path = tmp_path / "graph.onnx"
    exported_matches(graph, {"q": q[:2], "k": k[:2]}, (q, k), path, tol=1e-10)
    proto = onnx.load(str(path)).graph
    assert [i.name for i in proto.input] == ["q", "k"]
    assert [o.name for o in proto.output] == ["scores", "joined", "cross"]
    assert "Einsum" in {n.op_type for n in proto.node}


def test_an_embedding_model_takes_int64_token_ids(tmp_path):
    model = tn.Sequential(tn.Embedding(10, 4, rng=0), tn.LayerNorm(4), tn.Dense(4, 2, rng=1))
    ids = np.random.default_rng(0).integers(0, 10, (11, 5))
    path = tmp_path / "embedding.onnx"
    exported_matches(model, ids[:2], ids.astype(np.int64), path, tol=1e-10)
    assert onnx.load(str(path)).graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_the_graph_takes_the_models_dtype_unless_told(tmp_path):
    model = tn.Sequential(tn.Dense(3, 2, rng=0), tn.Softmax())
    x = np.random.default_rng(0).standard_normal((6, 3))
    tinynet.onnx.export(model, tmp_path / "f64.onnx", x[:2])
    assert onnx.load(str(tmp_path / "f64.onnx")).graph.input[0].type.tensor_type.elem_type == \
        onnx.TensorProto.DOUBLE
    exported_matches(model, x[:2], x.astype(F32), tmp_path / "f32.onnx", tol=1e-6, dtype=np.float32)
    mixed = tn.Sequential(tn.Dense(3, 2, dtype=F32), tn.Dense(2, 2))
    with pytest.raises(ValueError, match="mix dtypes"):
        tinynet.onnx.export(mixed, tmp_path / "mixed.onnx", x[:2])


@pytest.mark.parametrize("opset", [18, 20, 23])
def test_newer_opsets_export_and_run(tmp_path, opset):
    model = tn.Sequential(tn.Dense(4, 4, rng=0), tn.RMSNorm(4), tn.GELU(), tn.GELU("tanh"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(F32)
    exported_matches(model, x[:2], x, tmp_path / "new.onnx", tol=1e-5, opset=opset, dtype=F32)
    assert onnx.load(str(tmp_path / "new.onnx")).opset_import[0].version == opset


def test_onnx_equations_use_lower_case_letters():
    assert onnx_equation("Bi,oi->Bo") == "ab,cb->ac"
    assert onnx_equation("...i,oi->...o") == "...a,ba->...b"
    assert onnx_equation("Bqhd, Bkhd -> Bhqk") == "abcd,aecd->acbe"


class Scale(tn.Layer):
    """A user's layer: ``y = factor x``."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        return x * self.factor

    def backward(self, grad_y: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_y * self.factor


def test_a_layer_without_a_converter_is_named_by_its_place_and_one_can_be_registered(tmp_path):
    model = tn.Sequential(tn.Dense(3, 4, rng=0), tn.Residual(tn.Sequential(tn.ReLU(), Scale(2.0))))
    x = np.random.default_rng(0).standard_normal((5, 3))
    path = tmp_path / "model.onnx"
    unconverted = r"layer '1\.block\.1' \(Scale\).*Layers that can be exported: .*Conv2D"
    with pytest.raises(TypeError, match=unconverted):
        tinynet.onnx.export(model, path, x[:2])
    assert not path.exists()

    @tinynet.onnx.register_converter(Scale)
    def convert_scale(layer, graph, x, path):
        return graph.node("Mul", [x.name, graph.scalar(path, "factor", layer.factor)], path)

    try:
        exported_matches(model, x[:2], x, path, tol=1e-12)
        assert "Scale" in tinynet.onnx.exportable_layers()
    finally:
        from tinynet.onnx.converters import CONVERTERS

        del CONVERTERS[Scale]


def test_bad_arguments_are_refused_before_anything_is_written(tmp_path):
    model = tn.Sequential(tn.Dense(3, 2, rng=0))
    x = np.zeros((2, 3))
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match=r"example_input of shape \(2, 4\) does not fit the model"):
        tinynet.onnx.export(model, path, np.zeros((2, 4)))
    with pytest.raises(TypeError, match="example_input must be an array of floats, got dtype int64"):
        tinynet.onnx.export(model, path, np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="example_input must be an array of floats, got dtype <U1"):
        tinynet.onnx.export(model, path, np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match="at least one row"):
        tinynet.onnx.export(model, path, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="is a directory"):
        tinynet.onnx.export(model, tmp_path, x)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tinynet.onnx.export(model, tmp_path / "missing" / "model.onnx", x)
    with pytest.raises(ValueError, match=r"opset must be in \[17, "):
        tinynet.onnx.export(model, path, x, opset=11)
    with pytest.raises(TypeError, match="opset must be an int"):
        tinynet.onnx.export(model, path, x, opset="17")
    with pytest.raises(TypeError, match="export model"):
        tinynet.onnx.export("model", path, x)
    two_inputs = tn.Graph(inputs=["a", "b"], nodes={"s": (tn.Add(), ["a", "b"])}, output="s")
    with pytest.raises(TypeError, match=r"the Graph has 2 inputs \['a', 'b'\]"):
        tinynet.onnx.export(two_inputs, path, x)
    with pytest.raises(ValueError, match=r"lacks \['b'\]"):
        tinynet.onnx.export(two_inputs, path, {"a": x})
    assert path.read_bytes() == b"old"


def test_a_key_padding_mask_is_refused_with_the_reason(tmp_path):
    graph = tn.Graph(inputs=["x", "mask"], output="att",
                     nodes={"att": (tn.MultiHeadAttention(4, 2, rng=0), ["x", "x", "mask"])})
    x, mask = np.zeros((2, 3, 4)), np.zeros((2, 3))
    with pytest.raises(ValueError, match="layer 'att' .*key_padding_mask input is not exported"):
        tinynet.onnx.export(graph, tmp_path / "m.onnx", (x, mask))


def test_import_tinynet_onnx_loads_no_onnx_and_export_names_the_extra_when_onnx_is_missing():
    code = ("import sys, tinynet, tinynet.onnx, numpy as np\n"
            "assert 'onnx' not in sys.modules, 'onnx imported too early'\n"
            "sys.modules['onnx'] = None  # as if it were not installed\n"
            "try:\n"
            "    tinynet.onnx.export(tinynet.Dense(2, 2), 'x.onnx', np.zeros((2, 2)))\n"
            "except ImportError as err:\n"
            "    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    assert "pip install 'tinynet[onnx]'" in out.stdout
