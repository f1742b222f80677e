"""tn.predict / tn.predict_proba: batched, inference mode, the loss's activation, any inputs."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.engine.stable_functions import sigmoid, softmax

X = np.random.default_rng(0).standard_normal((50, 4))


def classifier() -> tn.Sequential:
    return tn.Sequential(tn.Dense(4, 8, rng=0), tn.ReLU(), tn.Dropout(0.5, rng=1), tn.Dense(8, 3, rng=2))


def test_labels_and_probabilities_of_a_softmax_model_are_batched_and_in_inference_mode():
    model = classifier()
    logits = model.forward(X, False)
    loss = tn.SoftmaxCrossEntropy()
    for batch_size in (7, 4096):  # the batches put together give the one-pass answer
        np.testing.assert_allclose(tn.predict_proba(model, X, batch_size=batch_size), softmax(logits),
                                   rtol=1e-12)
        np.testing.assert_array_equal(tn.predict(model, X, loss=loss, batch_size=batch_size),
                                      logits.argmax(axis=1))
    np.testing.assert_allclose(tn.predict(model, X), logits, rtol=1e-12)  # no loss: the raw outputs


def test_binary_and_float32_and_several_inputs():
    binary = tn.Sequential(tn.Dense(4, 1, rng=0, dtype=np.float32))
    z = binary.forward(X.astype(np.float32), False)
    proba = tn.predict_proba(binary, X, batch_size=16)
    assert proba.dtype == np.float32 and proba.shape == (50, 1)
    np.testing.assert_allclose(proba, sigmoid(z), rtol=1e-6)
    np.testing.assert_array_equal(tn.predict(binary, X, loss=tn.SigmoidBinaryCrossEntropy()), z > 0)
    nodes = {"ha": (tn.Dense(4, 3, rng=0), "a"), "hb": (tn.Dense(2, 3, rng=1), "b"),
             "s": (tn.Add(), ["ha", "hb"])}
    graph = tn.Graph(inputs=["a", "b"], nodes=nodes, output="s")
    both = {"a": X, "b": X[:, :2]}
    np.testing.assert_allclose(tn.predict_proba(graph, both, batch_size=9),
                               softmax(graph.forward(both, False)), rtol=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: tn.predict_proba(classifier(), X, loss=tn.MeanSquaredError()), ValueError,
     "classification loss"),
    (lambda: tn.predict(classifier(), X, loss="cross_entropy"), TypeError, "tinynet loss"),
    (lambda: tn.predict(classifier(), X, batch_size=0), ValueError, "batch_size"),
    (lambda: tn.predict(classifier(), X[:, :3]), ValueError, "4"),
    (lambda: tn.predict(classifier(), 3.0), ValueError, "predict x must be an array of rows"),
])
def test_bad_calls_name_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()
