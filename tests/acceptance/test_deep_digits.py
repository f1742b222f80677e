"""A deep net (64-128-128-128-10) with Adam, Dropout and BatchNorm
reaches >= 95% test accuracy on scikit-learn's digits from a fixed seed. (How fast is measured
in benchmarks/, not asserted here: a shared machine's timings are not a test.)"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import tinynet as tn


def deep_net(rng: np.random.Generator, dtype=np.float64) -> tn.Sequential:
    """Three hidden blocks Dense -> BatchNorm -> ReLU -> Dropout, then the 10 logits.
    The Dense layers before BatchNorm have no bias: BatchNorm's own bias replaces it."""
    layers = []
    for n_in, n_out in [(64, 128), (128, 128), (128, 128)]:
        layers += [tn.Dense(n_in, n_out, bias=False, rng=rng, dtype=dtype),
                   tn.BatchNorm(n_out, dtype=dtype), tn.ReLU(), tn.Dropout(0.2, rng=rng)]
    return tn.Sequential(*layers, tn.Dense(128, 10, rng=rng, dtype=dtype))


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return train_test_split(x / 16.0, y, test_size=0.25, stratify=y, random_state=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_deep_net_reaches_95_percent_on_digits(digits, dtype):
    x_train, x_test, y_train, y_test = digits
    rng = np.random.default_rng(0)
    model = deep_net(rng, dtype)
    loader = tn.DataLoader(x_train, y_train, batch_size=64, shuffle=True, rng=rng, dtype=dtype)
    loss = tn.SoftmaxCrossEntropy()
    optimizer = tn.Adam(model.parameters(), lr=3e-3)
    # One BLAS thread: these matrices are small, and on a busy 2-core machine OpenBLAS's
    # spinning threads make the run 10x slower instead of faster.
    with threadpool_limits(limits=1, user_api="blas"):
        history = tn.fit(model, loss, optimizer, loader, epochs=15, progress="none")
    accuracy = tn.evaluate(model, loss, x_test.astype(dtype), y_test)["accuracy"]
    assert accuracy >= 0.95, f"test accuracy {accuracy:.4f}"
    assert history.loss[-1] < history.loss[0] / 5
    assert all(p.data.dtype == dtype for p in model.parameters())
    assert all(a.dtype == dtype for state in optimizer.state for a in state.values())
    assert model.forward(x_test[:4].astype(dtype), training=False).dtype == dtype
    # inference is deterministic (no dropout, running statistics), training is not
    np.testing.assert_array_equal(model(x_test[:8].astype(dtype)), model(x_test[:8].astype(dtype)))


def test_deep_net_summary():
    from tinynet.display.layer_table import summary_text

    report = summary_text(deep_net(np.random.default_rng(0)), 64)
    # 64*128 + 2*128*128 weights, 3 x (128 gamma + 128 beta), 128*10 + 10 head
    assert "Trainable params: 43,018" in report
    assert "Non-trainable params: 768" in report  # 3 x (running_mean + running_var)
