"""Review fixes in the tools around the layers: gradcheck leaves the model as it was, the
estimators' optimizer and L2 step, the command's CSV detection and evaluate checks, one MLP builder."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.layers.state import state_arrays as model_state


def batchnorm_model() -> tn.Sequential:
    return tn.Sequential(tn.Dense(3, 4, bias=False, rng=1), tn.BatchNorm(4), tn.Tanh(), tn.Dense(4, 2, rng=2))


def test_gradcheck_leaves_parameters_buffers_and_grads_as_they_were():
    model = batchnorm_model()
    x = np.random.default_rng(7).standard_normal((6, 3))
    model.forward(x, True)
    model.backward(np.ones((6, 2)))  # grads the user may still want to look at
    state = [a.copy() for a in model_state(model)]
    grads = [(p.grad, p.grad.copy()) for p in model.parameters()]
    assert tn.gradcheck(model, x) < 1e-7
    for now, before in zip(model_state(model), state):
        np.testing.assert_array_equal(now, before)  # running statistics included
    for p, (grad, before) in zip(model.parameters(), grads):
        assert p.grad is grad
        np.testing.assert_array_equal(p.grad, before)


def test_gradcheck_restores_the_model_when_the_check_raises():
    class Fails(tn.Layer):
        """Moves a buffer on every forward, raises on the eighth (while a weight is moved)."""

        def __init__(self) -> None:
            self.count = np.zeros(1)
            self.calls = 0

        def named_buffers(self):
            return [("count", self.count)]

        def forward(self, x, training=True):
            self.calls += 1
            self.count += 1
            if self.calls == 8:
                raise RuntimeError("boom")
            return x

        def backward(self, grad_y, need_input_grad=True):
            return grad_y

    model = tn.Sequential(tn.Dense(2, 2, rng=0), Fails())
    weight = model[0].weight.data.copy()
    with pytest.raises(RuntimeError, match="boom"):
        tn.gradcheck(model, np.ones((1, 2)))  # 2 + 4 forwards before the weights
    assert model[1].count[0] == 0
    np.testing.assert_array_equal(model[0].weight.data, weight)


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def test_warm_start_fit_builds_a_new_optimizer_partial_fit_keeps_it(iris):
    from tinynet.sklearn import TinyNetClassifier

    x, y = iris
    clf = TinyNetClassifier((8,), epochs=3, tol=0, warm_start=True, random_state=0).fit(x, y)
    first, weights = clf.optimizer_, clf.model_[0].weight.data.copy()
    clf.set_params(optimizer="sgd", learning_rate=0.5).fit(x, y)
    assert isinstance(clf.optimizer_, tn.SGD) and clf.optimizer_.lr == 0.5
    assert clf.optimizer_ is not first and clf.n_iter_ == 6  # new optimizer, same (warm) network
    assert not np.array_equal(clf.model_[0].weight.data, weights)
    kept = clf.optimizer_
    clf.partial_fit(x, y)
    assert clf.optimizer_ is kept and clf.n_iter_ == 7


def test_l2_step_adds_alpha_over_each_batch_size_in_place():
    from tinynet.sklearn._training_rules import L2Step

    w = tn.Parameter(np.full((2, 2), 2.0, dtype=np.float32), "weight")
    grad = w.grad
    seen = []

    class Record:
        lr = 0.1

        def step(self):
            seen.append(w.grad.copy())

    step = L2Step(Record(), [w], 1.0, [4, 4, 2])
    for _ in range(4):
        w.grad[...] = 1
        step.step()
    assert w.grad is grad and w.grad.dtype == np.float32
    # alpha / n * W per batch of n rows: 2/4, 2/4, 2/2, then the next epoch's first batch
    assert [float(g[0, 0]) for g in seen] == [1.5, 1.5, 2.0, 1.5]


def test_estimator_gives_the_l2_step_the_real_batch_sizes(iris, monkeypatch):
    from tinynet.sklearn import TinyNetClassifier
    from tinynet.sklearn import _estimator as _estimator_base

    made = []

    class Spy(_estimator_base.L2Step):
        def __init__(self, inner, weights, alpha, batch_sizes):
            made.append((alpha, list(batch_sizes), len(weights)))
            super().__init__(inner, weights, alpha, batch_sizes)

    monkeypatch.setattr(_estimator_base, "L2Step", Spy)
    x, y = iris
    TinyNetClassifier((8,), alpha=0.3, batch_size=64, epochs=1, random_state=0).fit(x, y)
    assert made == [(0.3, [64, 64, 22], 2)]  # 150 rows; the weights of both Dense layers


def write_numeric_csv(path, n=80):
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{a:.4f},{b:.4f},{int(a > b)}" for a, b in rng.normal(size=(n, 2))]
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("name", ["T.CSV", "t.Csv", "t.csv"])
def test_csv_paths_in_any_case_need_target_then_train(tmp_path, capsys, name):
    from tinynet import cli
    from tinynet.cli.tables import is_csv_path

    path = tmp_path / name
    write_numeric_csv(path)
    assert is_csv_path(str(path)) and not is_csv_path("iris")
    status = cli.main(["train", "--data", str(path), "--epochs", "1", "--progress", "none"])
    err = capsys.readouterr().err
    assert status == 2 and err == "tinynet: error: --target COLUMN is required with a CSV file\n"
    status = cli.main(["train", "--data", str(path), "--target", "label", "--epochs", "2",
                       "--progress", "none"])
    assert status == 0 and capsys.readouterr().err == ""


def test_read_csv_without_a_target_column_name_says_so(tmp_path):
    from tinynet.cli.tables import DataError, read_csv

    write_numeric_csv(tmp_path / "d.csv")
    with pytest.raises(DataError, match="name its target column"):
        read_csv(str(tmp_path / "d.csv"), None)
    assert read_csv(str(tmp_path / "d.csv"), "label", need_target=False).y is not None


def test_evaluate_on_a_builtin_set_checks_features_classes_and_task(tmp_path, capsys):
    from sklearn.datasets import load_iris

    from tinynet import cli

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


def test_build_mlp_is_the_network_of_the_command_and_the_estimators(iris):
    from tinynet.layers.mlp import build_mlp
    from tinynet.sklearn import TinyNetRegressor

    model = build_mlp(4, [8, 6], 3, tn.Tanh, "glorot_uniform", 5, dtype=np.float32)
    assert [type(layer).__name__ for layer in model] == ["Dense", "Tanh", "Dense", "Tanh", "Dense"]
    assert [(d.in_features, d.out_features) for d in model[::2]] == [(4, 8), (8, 6), (6, 3)]
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    single = build_mlp(4, [], 2, tn.ReLU, "he_normal", 0)
    assert len(single) == 1 and single[0].out_features == 2
    # one generator for all layers: the same seed gives the same network, layer after layer
    again = build_mlp(4, [8, 6], 3, tn.Tanh, "glorot_uniform", 5, dtype=np.float32)
    assert all((a.data == b.data).all() for a, b in zip(model.parameters(), again.parameters()))
    x, _ = iris
    reg = TinyNetRegressor((8, 6), activation="tanh", epochs=1, random_state=5)
    reg.fit(x, x[:, 0])
    expected = build_mlp(4, [8, 6], 1, tn.Tanh, "glorot_uniform", np.random.default_rng(5))
    assert repr(reg.model_) == repr(expected)


def test_regressor_save_load_keeps_its_own_attributes_plainly(tmp_path, iris):
    from tinynet.sklearn import TinyNetRegressor

    x, _ = iris
    reg = TinyNetRegressor((4,), epochs=2, random_state=0).fit(x, x[:, :1])  # y of shape (n, 1)
    exported = reg._tinynet_export()
    assert exported["attributes"]["n_outputs_"] == 1 and exported["attributes"]["y_ndim"] == 2
    assert "y_ndim" not in vars(reg) and "n_outputs_" not in reg._export_own()[1]
    tn.save(reg, tmp_path / "reg.npz")
    loaded = tn.load(tmp_path / "reg.npz")
    assert loaded.predict(x).shape == (150, 1) and loaded.n_outputs_ == 1
    assert "y_ndim" not in vars(loaded)
    np.testing.assert_array_equal(loaded.predict(x), reg.predict(x))


@pytest.mark.parametrize("argv, message", [
    (["--hidden", "10", "0"], "--hidden sizes must be >= 1, got 0"),
    (["--save", "{missing}/m.npz"], "--save {missing}/m.npz: the folder '{missing}' does not exist"),
    (["--plot", "{missing}/loss.png"], "--plot {missing}/loss.png: the folder '{missing}' does not exist"),
])
def test_train_refuses_bad_options_before_training(tmp_path, capsys, argv, message):
    from tinynet import cli

    missing = str(tmp_path / "no_such_folder")
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    argv = [a.format(missing=missing) for a in argv]
    status = cli.main(["train", "--epochs", "5", "--progress", "none", *argv])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""  # no training run was wasted
    assert err == f"tinynet: error: {message.format(missing=missing)}\n"


def test_unreadable_csv_files_are_one_line_data_errors(tmp_path, capsys):
    from tinynet import cli

    (tmp_path / "latin1.csv").write_bytes("a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    (tmp_path / "huge.csv").write_text("a,b,label\n" + "1" * 200_000 + ",2,x\n")
    for name, message in [("latin1.csv", "not UTF-8 text (it has the byte 0xe9)"),
                          ("huge.csv", "not a readable CSV file (field larger than field limit")]:
        status = cli.main(["train", "--data", str(tmp_path / name), "--target", "label"])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and message in err, err


def test_estimators_say_numpy_conversion_errors_in_their_own_words(iris):
    from tinynet.sklearn import TinyNetClassifier, TinyNetRegressor

    x, y = iris
    clf = TinyNetClassifier((4,), epochs=1, random_state=0).fit(x, y)
    ragged = "must be a table of numbers whose rows all have the same length"
    cases = [(lambda: clf.predict([["a", 1, 2, 3]]),
              "TinyNetClassifier: X must hold numbers only; it holds text such as 'a'"),
             (lambda: clf.predict_proba([[1, 2, 3, 4], [1]]), f"TinyNetClassifier: X {ragged}"),
             (lambda: TinyNetClassifier().fit([["a", 1]] * 4, [0, 1] * 2), "X must hold numbers only"),
             (lambda: TinyNetRegressor().fit(x, ["cheap"] * 150),
              "TinyNetRegressor: y must hold numbers only; it holds text such as 'cheap'"),
             (lambda: TinyNetRegressor().fit(x, [[1, 2]] * 149 + [[1]]), f"TinyNetRegressor: y {ragged}")]
    for call, message in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert message in str(info.value)
        assert "inhomogeneous" not in str(info.value) and "convert string" not in str(info.value)
