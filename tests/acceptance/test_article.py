"""The article's three runs (full batch, mini-batch, stochastic), reproduced by a tinynet
configuration number for number, against an independent numpy transcription."""

import numpy as np
import pytest
from helpers.article_reference import train_article
from helpers.models import article_model

import tinynet as tn
from tinynet.data.datasets import article_iris

RUNS = {"full batch": (None, 100), "mini-batch": (32, 1500), "stochastic": (1, 30)}


@pytest.fixture(scope="module")
def data():
    return article_iris()


@pytest.mark.parametrize("labels", ["one-hot", "integer"])
@pytest.mark.parametrize("run", list(RUNS))
def test_reproduces_the_article_cost_curve(data, run, labels):
    batch_size, epochs = RUNS[run]
    onehot = tn.one_hot(data.y_train, 3)
    expected, weights = train_article(data.x_train, onehot, batch_size, epochs)
    model = article_model()
    y = onehot if labels == "one-hot" else data.y_train
    loader = tn.DataLoader(data.x_train, y, batch_size=batch_size, shuffle=False, last_batch="drop")
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader,
                     epochs=epochs, progress="none")
    summed = np.array(history.loss) * len(loader)
    np.testing.assert_allclose(summed, expected, rtol=1e-8, atol=0)
    params = [p.data for p in model.parameters()]
    for got, want in zip(params, weights):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
    assert len(history.batch_loss) == epochs * len(loader)


def test_mini_batch_figures_from_the_article(data):
    model = article_model()
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=32, last_batch="drop")
    assert len(loader) == 3
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader,
                     epochs=1500, progress="none")
    assert history.loss[0] * 3 == pytest.approx(3.7296, abs=5e-5)
    assert history.loss[-1] * 3 == pytest.approx(1.1172, abs=5e-5)
    result = tn.evaluate(model, tn.SoftmaxCrossEntropy(), data.x_test, data.y_test)
    assert result["accuracy"] == 1.0
    assert history.accuracy[-1] > 0.9


def test_article_weights_are_the_rng_draws_in_order():
    model = article_model()
    rng = np.random.default_rng(42)
    for param, shape in zip(model.parameters(), [(10, 4), (10,), (3, 10), (3,)]):
        np.testing.assert_array_equal(param.data, rng.random(shape))
