"""tn.plot_history: a real PNG of the curves, axes as in the article's figure, matplotlib optional."""

import subprocess
import sys

import numpy as np
import pytest
from helpers.models import article_model

import tinynet as tn
from tinynet.data.datasets import article_iris

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def history():
    data = article_iris()
    model = article_model()
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=32, last_batch="drop")
    return tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.5), loader, 40,
                  progress="none", validation_data=(data.x_test, data.y_test))


def test_png_of_loss_and_accuracy_with_validation(tmp_path, history):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    path = tmp_path / "loss.png"
    figure = tn.plot_history(history, path)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5000
    pixels = imread(path)
    assert pixels.shape[0] >= 300 and pixels[..., :3].std() > 0.05  # drawn on, not blank
    loss_axes, accuracy_axes = figure.axes
    assert loss_axes.get_xlabel() == "epochs"
    assert loss_axes.get_ylabel() == "categorical cross-entropy loss"
    assert accuracy_axes.get_ylabel() == "accuracy"
    train_line, val_line = loss_axes.get_lines()
    np.testing.assert_allclose(train_line.get_ydata(), history.loss)
    np.testing.assert_allclose(val_line.get_ydata(), history["val_loss"])
    assert list(train_line.get_xdata()) == list(range(1, 41))


def test_list_of_losses_and_loss_names(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tn.plot_history([3.0, 2.0, 1.5], tmp_path / "curve.png", loss="hinge", title="run 1")
    (axes,) = figure.axes
    assert axes.get_ylabel() == "hinge loss" and axes.get_xlabel() == "epochs"
    assert figure.texts[0].get_text() == "run 1"
    figure = tn.plot_history({"loss": [1.0, 0.5]}, None, loss=tn.SoftmaxCrossEntropy())
    assert figure.axes[0].get_ylabel() == "categorical cross-entropy loss"
    assert not (tmp_path / "None").exists()


def test_bad_histories_are_refused():
    with pytest.raises(TypeError, match="History, a dict"):
        tn.plot_history(42, None)
    with pytest.raises(ValueError, match="no loss values"):
        tn.plot_history({"loss": []}, None)


def test_without_matplotlib_the_message_says_how_to_install(monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # import now fails as if not installed
    with pytest.raises(ImportError, match=r'pip install "tinynet\[plot\]"'):
        tn.plot_history([1.0, 0.5], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_importing_tinynet_does_not_import_matplotlib():
    code = "import sys, tinynet; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
