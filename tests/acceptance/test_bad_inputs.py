"""The bad-input table (docs/reliability.md): every mistake raises ValueError/TypeError whose
message names the argument or layer and what came, never a numpy-internal message."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from helpers.errors import NUMPY_INTERNALS

import tinynet as tn

X = np.random.default_rng(0).standard_normal((12, 4))
Y = np.arange(12) % 3


def model() -> tn.Sequential:
    return tn.Sequential(tn.Dense(4, 6, rng=0), tn.ReLU(), tn.Dense(6, 3, rng=1))


def fit(**kwargs: object) -> None:
    m = kwargs.pop("model", None) or model()
    params = m.parameters() if hasattr(m, "parameters") else model().parameters()
    args = {"loss": tn.SoftmaxCrossEntropy(), "optimizer": tn.SGD(params, lr=0.1),
            "loader": tn.DataLoader(X, Y, batch_size=4), "epochs": 1, "progress": "none"}
    args.update(kwargs)
    tn.fit(m, args.pop("loss"), args.pop("optimizer"), args.pop("loader"), args.pop("epochs"),
           **args)  # type: ignore[arg-type]


def two_inputs():
    return tn.Graph(inputs=["a", "b"], nodes={"ha": (tn.Dense(4, 2), "a"), "hb": (tn.Dense(3, 2), "b"),
                                              "s": (tn.Add(), ["ha", "hb"])}, output="s")


def garbage_file() -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".npz", delete=False) as file:
        file.write(b"not a zip archive")
    return file.name


def estimator(**params: object) -> object:
    from tinynet.sklearn import TinyNetClassifier

    return TinyNetClassifier(**params)


def with_nan(a: np.ndarray, where: tuple[int, ...] = (2, 1)) -> np.ndarray:
    a = a.astype(float).copy()
    a[where] = np.nan
    return a


def saved_then_edited(edit: Callable[[dict, dict], None], layer: object = None) -> str:
    """A saved model re-written after ``edit(header, entries)``: what a stranger could send."""
    import json
    import tempfile
    import zipfile

    path = tempfile.NamedTemporaryFile(suffix=".npz", delete=False).name
    tn.save(tn.Sequential(layer or tn.Dense(1, 1, rng=0)), path)
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    with np.load(path) as npz:
        header = json.loads(npz["__tinynet__"].tobytes())
    edit(header, entries)
    text = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            if name == "__tinynet__.npy":
                with z.open(name, "w") as f:
                    np.lib.format.write_array(f, text)
            else:
                z.writestr(name, data)
    return path


def npy_claiming(shape: tuple[int, ...]) -> bytes:
    """A .npy preamble claiming ``shape`` (float64) followed by one value."""
    out = bytearray()
    np.lib.format.write_array_header_1_0(type("Sink", (), {"write": lambda self, b: out.extend(b)})(),
                                         {"descr": "<f8", "fortran_order": False, "shape": shape})
    return bytes(out) + bytes(8)


def claim_dense_8000(header: dict, entries: dict) -> None:
    header["model"]["config"]["layers"][0]["__layer__"]["config"].update(in_features=8000, out_features=8000)


class Forgetful(tn.Dense):
    """A user's layer whose get_config leaves out out_features (it has a default)."""

    def __init__(self, in_features: int, out_features: int = 3) -> None:
        super().__init__(in_features, out_features, rng=0)

    def get_config(self) -> dict:
        return {"in_features": self.in_features}


class CommandFailed(Exception):
    """`tinynet ...` exited with a status other than 0; the message is its one line on stderr."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def command(*argv: str) -> None:
    """Run `tinynet ARGV` in this process; raise CommandFailed with its stderr line if it fails."""
    import contextlib
    import io

    from tinynet import cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(list(argv))
    if status:
        raise CommandFailed(status, err.getvalue().strip())


def one_class_csv() -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("a,b,label\n" + "".join(f"{i},{i % 3},same\n" for i in range(12)))
    return f.name


def binary_accuracy_of_three_classes() -> float:
    from tinynet.training.metrics import binary_accuracy

    return binary_accuracy(np.zeros((4, 3)), np.array([0, 1, 2, 1]))


def used_relu_backward(grad: np.ndarray) -> object:
    relu = tn.ReLU()
    relu.forward(np.ones((2, 3)))
    return relu.backward(grad)


def too_big_for_float32() -> np.ndarray:
    x = X.copy()
    x[3, 2] = 1e39
    return x


def text_metric(output: np.ndarray, target: np.ndarray) -> str:
    return "high"


CASES: dict[str, tuple[Callable[[], object], type[Exception], list[str]]] = {
    # layers
    "dense wrong feature count": (lambda: tn.Dense(4, 2).forward(np.ones((8, 5))), ValueError,
                                  ["Dense(in_features=4", "(batch, 4)", "(8, 5)"]),
    "dense 1-D input": (lambda: tn.Dense(4, 2).forward(np.ones(4)), ValueError,
                        ["(4,)", "reshape(1, -1)"]),
    "dense 3-D input, wrong last axis": (lambda: tn.Dense(4, 2).forward(np.ones((2, 3, 5))), ValueError,
                                         ["(batch, ..., 4)", "(2, 3, 5)", "Dense(5, 2)"]),
    "dense string input": (lambda: tn.Dense(2, 2).forward(np.array([["a", "b"]])), TypeError,
                           ["Dense", "dtype <U1"]),
    "dense list input works": (lambda: tn.Dense(2, 2).forward([[1, 2]]).shape, None, []),
    "dense zero features": (lambda: tn.Dense(0, 3), ValueError, ["in_features", ">= 1", "0"]),
    "dense float features": (lambda: tn.Dense(4.5, 3), TypeError, ["in_features", "integer", "4.5"]),
    "dense unknown init": (lambda: tn.Dense(4, 3, init="glorot"), ValueError,
                           ["init", "'he_normal'", "did you mean"]),
    "dense integer dtype": (lambda: tn.Dense(4, 3, dtype=np.int32), TypeError,
                            ["dtype", "float32 or float64", "int32"]),
    "leaky relu negative alpha": (lambda: tn.LeakyReLU(-0.1), ValueError, ["alpha", ">= 0", "-0.1"]),
    "leaky relu nan alpha": (lambda: tn.LeakyReLU(float("nan")), ValueError, ["alpha", "finite"]),
    "sequential non-layer": (lambda: tn.Sequential(tn.Dense(4, 3), "relu"), TypeError,
                             ["layer 1", "str"]),
    "sequential layer class": (lambda: tn.Sequential(tn.Dense(4, 3), tn.ReLU), TypeError,
                               ["class ReLU", "ReLU(...)"]),
    "sequential sizes do not chain": (lambda: tn.Sequential(tn.Dense(4, 8), tn.ReLU(), tn.Dense(6, 2)),
                                      ValueError, ["layer 2", "(batch, 6)", "(None, 8)"]),
    # losses
    "labels too large": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((3, 3)), np.array([0, 1, 3])),
                         ValueError, ["[0, 3)", "3"]),
    "labels negative": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((3, 3)), np.array([0, -1, 2])),
                        ValueError, ["[0, 3)", "-1"]),
    "labels non-integer floats": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((2, 3)),
                                                                           np.array([0.5, 1.0])),
                                  ValueError, ["integers", "non-integer"]),
    "labels strings": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array(["a", "b"])),
                       TypeError, ["integers", "dtype"]),
    "one-hot wrong width": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.eye(2)),
                            ValueError, ["one-hot", "3 columns", "(2, 2)"]),
    "one-hot not one-hot": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((2, 2)),
                                                                     np.array([[1.0, 1.0], [0, 1]])),
                            ValueError, ["not one-hot", "(2, 2)"]),
    "target rows mismatch": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((4, 3)), np.array([0, 1])),
                             ValueError, ["(2,)", "(4, 3)", "rows"]),
    "logits 1-D": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros(3), np.array([0, 1, 2])),
                   ValueError, ["logits", "(3,)"]),
    "class weight negative": (lambda: tn.SoftmaxCrossEntropy(weight=[1.0, -2.0, 1.0]), ValueError,
                              ["weight", "finite and >= 0"]),
    "class weights wrong length": (lambda: fit(loss=tn.SoftmaxCrossEntropy(weight=[1.0, 2.0])), ValueError,
                                   ["weight has 2 entries", "3 classes"]),
    "pos_weight not finite": (lambda: tn.SigmoidBinaryCrossEntropy(pos_weight=np.inf), ValueError,
                              ["pos_weight", "finite"]),
    # data
    "x and y lengths differ": (lambda: tn.DataLoader(np.ones((10, 4)), np.zeros(9)), ValueError,
                               ["same number of rows", "(10, 4)", "(9,)"]),
    "empty data": (lambda: tn.DataLoader(np.ones((0, 4)), np.zeros(0)), ValueError,
                   ["DataLoader x", "empty", "(0, 4)"]),
    "nan in x": (lambda: tn.DataLoader(with_nan(X), Y), ValueError, ["DataLoader x", "NaN", "(2, 1)"]),
    "inf in y": (lambda: tn.DataLoader(X, np.where(Y == 1, np.inf, Y)), ValueError,
                 ["DataLoader y", "NaN or inf"]),
    "non-numeric x": (lambda: tn.DataLoader(np.array([["a", "b"]] * 3), np.zeros(3)), TypeError,
                      ["DataLoader x", "numbers", "<U1"]),
    "ragged x": (lambda: tn.DataLoader([[1, 2], [3]], [0, 1]), TypeError, ["DataLoader x", "array-like"]),
    "1-D x": (lambda: tn.DataLoader(np.ones(5), np.zeros(5)), ValueError,
              ["DataLoader x", "(5,)", "reshape(-1, 1)"]),
    "string labels": (lambda: tn.DataLoader(X, np.array(["a"] * 12)), TypeError,
                      ["DataLoader y", "LabelEncoder"]),
    "batch_size zero": (lambda: tn.DataLoader(X, Y, batch_size=0), ValueError,
                        ["batch_size", ">= 1", "got 0"]),
    "batch_size negative": (lambda: tn.DataLoader(X, Y, batch_size=-3), ValueError, ["batch_size", "-3"]),
    "batch_size float": (lambda: tn.DataLoader(X, Y, batch_size=2.5), TypeError,
                         ["batch_size", "integer", "2.5"]),
    "batch_size bool": (lambda: tn.DataLoader(X, Y, batch_size=True), TypeError, ["batch_size", "True"]),
    "unknown last_batch": (lambda: tn.DataLoader(X, Y, last_batch="pad"), ValueError,
                           ["last_batch", "'keep'", "'pad'"]),
    "drop with no full batch": (lambda: tn.DataLoader(X, Y, batch_size=20, last_batch="drop"),
                                ValueError, ["batch_size=20", "12 rows", "no batch"]),
    "bad rng": (lambda: tn.DataLoader(X, Y, shuffle=True, rng="seed"), TypeError, ["rng", "integer"]),
    "one_hot out of range": (lambda: tn.one_hot(np.array([0, 5]), 3), ValueError, ["[0, 3)", "5"]),
    "one_hot of nothing": (lambda: tn.one_hot(np.array([], dtype=int)), ValueError, ["n_classes"]),
    "einsum of strings": (lambda: tn.einsum("i,i->", ["a"], ["b"]), TypeError, ["operand 0", "numbers"]),
    # optimizers
    "lr negative": (lambda: tn.SGD(model().parameters(), lr=-0.1), ValueError,
                    ["lr must be a finite number > 0, got -0.1"]),
    "lr nan": (lambda: tn.SGD(model().parameters(), lr=float("nan")), ValueError, ["lr", "finite", "nan"]),
    "lr string": (lambda: tn.SGD(model().parameters(), lr="0.1"), ValueError, ["lr", "'0.1'"]),
    "momentum negative": (lambda: tn.SGD(model().parameters(), lr=0.1, momentum=-0.5), ValueError,
                          ["momentum", ">= 0", "-0.5"]),
    "momentum above 1": (lambda: tn.SGD(model().parameters(), lr=0.1, momentum=1.5), ValueError,
                         ["momentum", "<= 1", "1.5"]),
    "nesterov without momentum": (lambda: tn.SGD(model().parameters(), lr=0.1, nesterov=True),
                                  ValueError, ["nesterov", "momentum > 0"]),
    "empty params": (lambda: tn.SGD([], lr=0.1), ValueError, ["params is empty", "model.parameters()"]),
    "params not Parameters": (lambda: tn.SGD([np.ones(3)], lr=0.1), TypeError,
                              ["params[0]", "Parameter", "ndarray"]),
    # training
    "epochs negative": (lambda: fit(epochs=-1), ValueError, ["epochs", ">= 0", "-1"]),
    "epochs float": (lambda: fit(epochs=2.0), TypeError, ["epochs", "integer"]),
    "unknown progress": (lambda: fit(progress="bars"), ValueError, ["progress", "did you mean 'bar'"]),
    "loader is a tuple": (lambda: fit(loader=(X, Y)), TypeError, ["loader", "DataLoader", "tuple"]),
    "model not a layer": (lambda: fit(model=object()), TypeError, ["model", "layer"]),
    "loss not a loss": (lambda: fit(loss="cross_entropy"), TypeError, ["loss", "SoftmaxCrossEntropy"]),
    "optimizer missing": (lambda: fit(optimizer=None), TypeError, ["optimizer", "step()"]),
    "callback not a callback": (lambda: fit(callbacks=[print]), TypeError, ["callbacks[0]", "Callback"]),
    "fit feature mismatch": (lambda: fit(loader=tn.DataLoader(np.ones((8, 5)), np.zeros(8, int))),
                             ValueError, ["(batch, 4)", "(1, 5)"]),
    "fit labels out of range": (lambda: fit(loader=tn.DataLoader(X, Y + 1)), ValueError,
                                ["y labels", "[0, 3)", "3"]),
    "validation rows mismatch": (lambda: fit(validation_data=(X, Y[:5])), ValueError,
                                 ["validation_data", "12 rows", "5"]),
    "validation wrong features": (lambda: fit(validation_data=(X[:, :3], Y)), ValueError,
                                  ["validation_data x", "(4,)", "(3,)"]),
    "validation not a pair": (lambda: fit(validation_data=X), TypeError, ["validation_data", "pair"]),
    "unknown metric": (lambda: fit(metrics=["acc"]), ValueError, ["metrics", "'accuracy'"]),
    "unknown on_interrupt": (lambda: fit(on_interrupt="ignore"), ValueError, ["on_interrupt", "'stop'"]),
    "evaluate length mismatch": (lambda: tn.evaluate(model(), tn.SoftmaxCrossEntropy(), X, Y[:3]),
                                 ValueError, ["same number of rows", "(12, 4)", "(3,)"]),
    "sample_weight wrong length": (lambda: fit(sample_weight=np.ones(5)), ValueError,
                                   ["sample_weight", "(12,)", "(5,)"]),
    "sample_weight negative": (lambda: fit(sample_weight=-np.ones(12)), ValueError,
                               ["sample_weight", ">= 0", "-1"]),
    "f1 on a regression loss": (lambda: tn.evaluate(model(), tn.MeanSquaredError(), X, np.eye(3)[Y],
                                                    metrics=["f1"]), ValueError,
                                ["['f1']", "classification loss", "MeanSquaredError"]),
    "predict_proba regression loss": (lambda: tn.predict_proba(model(), X, loss=tn.MeanSquaredError()),
                                      ValueError, ["predict_proba loss", "classification loss"]),
    "predict batch_size zero": (lambda: tn.predict(model(), X, batch_size=0), ValueError,
                                ["batch_size", ">= 1"]),
    "checkpoint path field unknown": (lambda: fit(callbacks=[tn.ModelCheckpoint("{nope}.npz")]), ValueError,
                                      ["ModelCheckpoint path", "{nope}", "cannot fill"]),
    "plateau factor above 1": (lambda: tn.ReduceLROnPlateau(tn.SGD(model().parameters(), lr=0.1), factor=2),
                               ValueError, ["ReduceLROnPlateau factor", "2"]),
    "csv separator long": (lambda: tn.CSVLogger("log.csv", separator="::"), ValueError,
                           ["CSVLogger separator", "'::'"]),
    # library
    "adam beta of 1": (lambda: tn.Adam(model().parameters(), betas=(1.0, 0.999)), ValueError,
                       ["betas[0]", "< 1", "1.0"]),
    "adam eps zero": (lambda: tn.Adam(model().parameters(), eps=0), ValueError, ["eps", "> 0", "0"]),
    "dropout p of 1": (lambda: tn.Dropout(1.0), ValueError, ["Dropout p", "< 1", "1.0"]),
    "batchnorm wrong features": (lambda: tn.BatchNorm(3).forward(np.ones((4, 5))), ValueError,
                                 ["BatchNorm(features=3)", "(batch, 3)", "(4, 5)"]),
    "binary labels not 0/1": (lambda: tn.SigmoidBinaryCrossEntropy().forward(np.ones(4),
                                                                             np.array([0, 1, 2, 1])),
                              ValueError, ["0 and 1", "[2]"]),
    "mse target shape": (lambda: tn.MeanSquaredError().forward(np.ones((4, 2)), np.ones((4, 3))),
                         ValueError, ["MeanSquaredError", "(B, 2)", "(4, 3)"]),
    "early stopping without validation": (lambda: fit(callbacks=[tn.EarlyStopping()]), ValueError,
                                          ["'val_loss'", "validation_data"]),
    "schedule step_size zero": (lambda: tn.StepLR(tn.SGD(model().parameters(), lr=0.1), step_size=0),
                                ValueError, ["step_size", ">= 1", "0"]),
    "lstm 2-D input": (lambda: tn.LSTM(4, 8).forward(np.ones((8, 4))), ValueError,
                       ["LSTM(input_size=4, hidden_size=8)", "(batch, time, 4)", "(8, 4)", "x[None]"]),
    "gru wrong features per step": (lambda: tn.GRU(4, 8).forward(np.ones((2, 5, 3))), ValueError,
                                    ["GRU(input_size=4, hidden_size=8)", "(batch, time, 4)", "(2, 5, 3)"]),
    "lstm empty sequence": (lambda: tn.LSTM(4, 8).forward(np.ones((2, 0, 4))), ValueError,
                            ["LSTM", "at least one step", "(2, 0, 4)"]),
    "rmsprop alpha above 1": (lambda: tn.RMSprop(model().parameters(), alpha=1.5), ValueError,
                              ["alpha", "<= 1", "1.5"]),
    "adagrad negative lr_decay": (lambda: tn.Adagrad(model().parameters(), lr_decay=-0.1), ValueError,
                                  ["lr_decay", ">= 0", "-0.1"]),
    "clip max_norm zero": (lambda: tn.clip_grad_norm(model().parameters(), 0), ValueError,
                           ["clip_grad_norm max_norm", "> 0", "0"]),
    "fit clipping twice": (lambda: fit(clip_grad_norm=1.0, clip_grad_value=0.5), ValueError,
                           ["clip_grad_norm or clip_grad_value, not both"]),
    "schedule unknown interval": (lambda: tn.StepLR(tn.SGD(model().parameters(), lr=0.1), 2,
                                                    interval="batch"), ValueError,
                                  ["StepLR interval", "'epoch', 'step'", "'batch'"]),
    "sequential schedule milestones": (lambda: (lambda opt: tn.SequentialLR(
        opt, [tn.LinearLR(opt), tn.ExponentialLR(opt, 0.9)], milestones=[]))(
            tn.SGD(model().parameters(), lr=0.1)), ValueError,
        ["SequentialLR milestones", "1 increasing", "[]"]),
    "einsum layer without output": (lambda: tn.Einsum("Bi,oi", (3, 4)), ValueError,
                                    ["'Bi,oi'", "explicit output"]),
    "einsum layer weight shape": (lambda: tn.Einsum("Bi,oi->Bo", (3,)), ValueError,
                                  ["weight term 'oi'", "2 sizes", "(3,)"]),
    "graph unknown input": (lambda: tn.Graph(inputs="x", nodes={"a": (tn.Dense(4, 3), "y")}, output="a"),
                            ValueError, ["node 'a'", "unknown 'y'"]),
    "graph inputs given as one array": (lambda: two_inputs()(np.ones((2, 4))), ValueError,
                                        ["Graph has 2 inputs ['a', 'b']", "tuple of 2 arrays", "ndarray"]),
    "graph input missing from the dict": (lambda: two_inputs()({"a": np.ones((2, 4))}), ValueError,
                                          ["Graph inputs are ['a', 'b']", "lacks ['b']"]),
    "einsum merge of three arrays": (lambda: tn.EinsumMerge("Bi,Bi->B").forward([np.ones((2, 3))] * 3),
                                     ValueError, ["EinsumMerge('Bi,Bi->B')", "exactly two arrays", "3"]),
    "einsum merge wrong rank": (lambda: tn.EinsumMerge("Bqd,Bkd->Bqk").forward(
                                [np.ones((2, 3, 4)), np.ones((2, 4))]), ValueError,
                                ["second input", "3 axes ('Bkd')", "(2, 4)"]),
    "conv2d wrong channel count": (lambda: tn.Conv2D(3, 8, 3).forward(np.ones((2, 1, 8, 8))), ValueError,
                                   ["Conv2D(in_channels=3", "(batch, 3, height, width)", "(2, 1, 8, 8)"]),
    "conv2d kernel larger than the padded input": (
        lambda: tn.Conv2D(1, 4, 5, padding=1).forward(np.ones((2, 1, 2, 2))), ValueError,
        ["Conv2D(in_channels=1", "spans (5, 5)", "padded input (4, 4)", "(2, 1, 2, 2)"]),
    "conv2d given a 2-D array": (lambda: tn.Conv2D(1, 4, 3).forward(np.ones((16, 64))), ValueError,
                                 ["Conv2D(in_channels=1", "(batch, 1, height, width)", "(16, 64)",
                                  "x.reshape(-1, 1, 8, 8)"]),
    "conv2d non-integer stride": (lambda: tn.Conv2D(1, 4, 3, stride=1.5), TypeError,
                                  ["Conv2D stride", "integer", "1.5"]),
    "conv1d same padding with stride 2": (lambda: tn.Conv1D(1, 4, 3, stride=2, padding="same"), ValueError,
                                          ["Conv1D padding='same'", "stride 1", "(2,)"]),
    "max pool padding over half the kernel": (lambda: tn.MaxPool2D(2, padding=2), ValueError,
                                              ["MaxPool2D padding", "at most half", "(2, 2)"]),
    "max pool given a 3-D array": (lambda: tn.MaxPool2D(2).forward(np.ones((4, 8, 8))), ValueError,
                                   ["MaxPool2D(kernel_size=(2, 2))", "(batch, channels, height, width)",
                                    "(4, 8, 8)", "x[None]"]),
    "flatten the batch axis": (lambda: tn.Flatten(start_dim=0), ValueError, ["Flatten", "batch axis"]),
    "reshape to the wrong size": (lambda: tn.Reshape((2, 3)).forward(np.ones((4, 5))), ValueError,
                                  ["Reshape((2, 3))", "(5,)", "5 values"]),
    "backward without forward": (lambda: tn.Dense(2, 2).backward(np.ones((1, 2))), RuntimeError,
                                 ["Dense.backward", "without a forward(x, training=True)"]),
    "cross-entropy labels of the wrong positions": (
        lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((2, 5, 3)), np.zeros((2, 4), dtype=int)),
        ValueError, ["labels (B, 5)", "one-hot (B, 5, 3)", "(2, 4)"]),
    "residual changes shape": (lambda: tn.Residual(tn.Dense(4, 3)).forward(np.ones((2, 4))), ValueError,
                               ["Residual", "(2, 4)", "(2, 3)"]),
    "summary wrong features": (lambda: tn.summary(model(), 5), ValueError, ["summary", "(batch, 4)"]),
    # sequence layers
    "embedding float ids": (lambda: tn.Embedding(10, 4).forward(np.array([[0.5, 1.0]])), TypeError,
                            ["Embedding(10, 4)", "integer token ids", "not whole numbers", "0.5"]),
    "embedding id out of range": (lambda: tn.Embedding(10, 4).forward(np.array([[1, 10]])), ValueError,
                                  ["Embedding(10, 4)", "ids in [0, 10)", "got 10", "(1, 2)"]),
    "embedding negative id": (lambda: tn.Embedding(10, 4).forward(np.array([[-1, 2]])), ValueError,
                              ["Embedding(10, 4)", "[0, 10)", "got -1"]),
    "sequence longer than max_len": (lambda: tn.PositionalEmbedding(10, 8).forward(np.zeros((2, 12, 8))),
                                     ValueError, ["PositionalEmbedding(max_len=10, dim=8)", "at most",
                                                  "max_len=10", "(2, 12, 8)"]),
    "attention embed_dim not divisible by num_heads": (lambda: tn.MultiHeadAttention(10, 3), ValueError,
                                                       ["embed_dim must be divisible by num_heads",
                                                        "embed_dim=10", "num_heads=3"]),
    "attention on (B, E) input": (lambda: tn.MultiHeadAttention(8, 2).forward(np.ones((4, 8))), ValueError,
                                  ["MultiHeadAttention(embed_dim=8, num_heads=2)", "(batch, T, 8)",
                                   "(4, 8)"]),
    "attention padding mask of the wrong shape": (
        lambda: tn.MultiHeadAttention(8, 2).forward([np.ones((2, 5, 8)), np.ones((2, 3, 8)),
                                                     np.zeros((2, 5))]),
        ValueError, ["key_padding_mask", "(batch, Tk) = (2, 3)", "(2, 5)"]),
    "transformer block wrong width": (lambda: tn.TransformerBlock(8, 2, 16).forward(np.ones((2, 5, 6))),
                                      ValueError, ["TransformerBlock(embed_dim=8", "(batch, T, 8)",
                                                   "(2, 5, 6)"]),
    "layer norm wrong features": (lambda: tn.LayerNorm(4).forward(np.ones((2, 3, 5))), ValueError,
                                  ["LayerNorm(4)", "(batch, ..., 4)", "(2, 3, 5)"]),
    # files
    "load a file that is not a model": (lambda: tn.load(garbage_file()), ValueError,
                                        ["not a tinynet model file"]),
    "save into a missing folder": (lambda: tn.save(model(), "/nonexistent/dir/m.npz"), FileNotFoundError,
                                   ["'/nonexistent/dir'", "does not exist"]),
    "save something else": (lambda: tn.save("model", "m.npz"), TypeError, ["save", "Layer", "str"]),
    # estimators
    "estimator hidden size zero": (lambda: estimator(hidden_layer_sizes=(0,)).fit(X, Y), ValueError,
                                   ["hidden_layer_sizes", ">= 1", "0"]),
    "estimator unknown activation": (lambda: estimator(activation="relux").fit(X, Y), ValueError,
                                     ["activation", "did you mean 'relu'"]),
    "estimator NaN in X": (lambda: estimator().fit(with_nan(X), Y), ValueError, ["NaN"]),
    "estimator feature count": (lambda: estimator(epochs=1).fit(X, Y).predict(X[:, :3]), ValueError,
                                ["3 features", "expecting 4"]),
    "estimator class_weight unknown label": (lambda: estimator(class_weight={7: 2.0}).fit(X, Y), ValueError,
                                             ["class_weight", "label 7", "classes [0, 1, 2]"]),
    "estimator sample_weight all zero": (lambda: estimator().fit(X, Y, sample_weight=np.zeros(12)),
                                         ValueError, ["weight", "zero"]),
    # tools
    "gradcheck loss without target": (lambda: tn.gradcheck(tn.SoftmaxCrossEntropy(), np.ones((2, 3))),
                                      ValueError, ["target"]),
    "einsum operand count": (lambda: tn.einsum("ab,bc->ac", np.ones((2, 2))), ValueError,
                             ["'ab,bc->ac'", "2 operand", "1 were given"]),
    # files from strangers, bounded
    "load an entry the header does not list": (
        lambda: tn.load(saved_then_edited(lambda h, e: e.update({"extra.npy": bytes(10**6)}))), ValueError,
        ["entries its header does not list", "['extra']"]),
    "load a header claiming a layer larger than its data": (
        lambda: tn.load(saved_then_edited(claim_dense_8000)), ValueError,
        ["Dense init", "(8000, 8000)", "512,000,000 bytes", "the file lists"]),
    "load a .npy header claiming 10**12 elements": (
        lambda: tn.load(saved_then_edited(lambda h, e: e.update({"param/0.weight.npy":
                                                                  npy_claiming((10**6, 10**6))}))),
        ValueError, ["'param/0.weight'", "(1000000, 1000000)", "8,000,000,000,"]),
    "save a layer whose get_config leaves out an argument": (
        lambda: tn.save(tn.Sequential(Forgetful(4, 5)), garbage_file()), ValueError,
        ["rebuilt from get_config()", "(3,)", "load could not read it back"]),
    "save onto a folder": (lambda: tn.save(model(), "/tmp"), IsADirectoryError,
                           ["'/tmp' is a folder", "name the file"]),
    # checked once, before any step
    "float32 data too large after the cast": (
        lambda: tn.DataLoader(too_big_for_float32(), Y, dtype=np.float32), ValueError,
        ["1e+39", "(3, 2)", "inf in float32"]),
    "fill batch larger than the data": (
        lambda: tn.DataLoader(X, Y, batch_size=10**6, last_batch="fill"), ValueError,
        ["batch_size=1000000", "12 rows", "last_batch='fill'"]),
    "one-output softmax model": (
        lambda: fit(model=tn.Sequential(tn.Dense(4, 1)), loader=tn.DataLoader(X, Y * 0)), ValueError,
        ["1 output per row", "SoftmaxCrossEntropy needs one per class", "SigmoidBinaryCrossEntropy"]),
    "optimizer of another model": (lambda: fit(optimizer=tn.SGD(model().parameters(), lr=0.1)), ValueError,
                                   ["holds none of the model's 4 parameters", "model.parameters()"]),
    "evaluate without a loss": (lambda: tn.evaluate(model(), None, X, Y), TypeError,
                                ["evaluate loss", "SoftmaxCrossEntropy()", "NoneType"]),
    "metric returning text": (lambda: fit(metrics=[text_metric]), TypeError,
                              ["'text_metric' returned str", "a number"]),
    "binary_accuracy of three classes": (binary_accuracy_of_three_classes, ValueError,
                                         ["binary_accuracy", "(4, 3)", "'accuracy'"]),
    "loss of an empty batch": (lambda: tn.SoftmaxCrossEntropy().forward(np.zeros((0, 3)), np.zeros(0, int)),
                               ValueError, ["SoftmaxCrossEntropy", "empty", "(0, 3)"]),
    "labels in a column": (lambda: fit(loader=tn.DataLoader(X, Y.reshape(-1, 1))), ValueError,
                           ["(12, 1)", "one label per row", "y.ravel()"]),
    "relu backward of the wrong shape": (lambda: used_relu_backward(np.ones((2, 4))), ValueError,
                                         ["ReLU.backward", "(2, 3)", "(2, 4)"]),
    "einsum out of the wrong shape": (
        lambda: tn.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)), out=np.ones((2, 2))), ValueError,
        ["einsum 'ij,jk->ik'", "out", "(2, 4)", "(2, 2)"]),
    "layer too large to allocate": (lambda: tn.Dense(10**6, 10**6), ValueError,
                                    ["Dense init", "(1000000, 1000000)", "8,000,000,000,000 bytes"]),
    "one_hot too large to allocate": (lambda: tn.one_hot(np.array([0, 10**12])), ValueError,
                                      ["one_hot", "16,000,000,000,016 bytes"]),
    "estimator boolean given as text": (lambda: estimator(shuffle="False").fit(X, Y), TypeError,
                                        ["shuffle must be True or False", "'False'"]),
    "estimator label None": (lambda: estimator(epochs=1).fit(X, np.array([None, "a", "b"] * 4)), ValueError,
                             ["missing label (None)", "row 0"]),
    # the command
    "command saving into an unwritable folder": (
        lambda: command("train", "--save", "/proc/model.npz"), CommandFailed,
        ["--save /proc/model.npz", "cannot write into the folder '/proc'"]),
    "command plotting onto a folder": (lambda: command("train", "--plot", "/tmp"), CommandFailed,
                                       ["--plot /tmp", "that is a folder"]),
    "command plot with another extension": (lambda: command("train", "--plot", "loss.txt"), CommandFailed,
                                            ["--plot loss.txt", "PNG", "loss.png"]),
    "command one-class target": (
        lambda: command("train", "--data", one_class_csv(), "--target", "label"), CommandFailed,
        ["holds one class ('same')", "--task regression"]),
    "command batch larger than the data": (
        lambda: command("train", "--batch-size", "500"), CommandFailed,
        ["--batch-size 500", "100 training rows", "--last-batch drop", "--last-batch keep"]),
    "command test split leaving nothing": (lambda: command("train", "--test-size", "0.999"), CommandFailed,
                                           ["--test-size 0.999", "leaves none to train on"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str) -> None:
    call, error, words = CASES[name]
    if error is None:
        call()
        return
    with pytest.raises(error) as caught:
        call()
    text = str(caught.value)
    assert not any(internal in text for internal in NUMPY_INTERNALS), text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


def test_the_table_is_big_enough() -> None:
    assert sum(error is not None for _, error, _ in CASES.values()) >= 40


def test_reliability_page_is_up_to_date() -> None:
    """docs/reliability.md is generated from this table: regenerate it after changing a message."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "docs" / "gen_reliability.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
