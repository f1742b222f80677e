"""precision, recall, f1 and roc_auc over an epoch agree with scikit-learn's functions,
however the rows are split into batches."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

import tinynet as tn
from tinynet.engine.stable_functions import softmax
from tinynet.training.epoch_metrics import F1, Precision, Recall, RocAuc

RNG = np.random.default_rng(0)
MULTI = RNG.standard_normal((97, 4)), RNG.integers(0, 4, 97)
BINARY = RNG.standard_normal(97), RNG.integers(0, 2, 97)


def over_batches(metric, output, target, size=10):
    metric.reset()
    for start in range(0, len(target), size):
        metric(output[start:start + size], target[start:start + size])
    return metric.result()


@pytest.mark.parametrize("metric, reference", [(Precision, precision_score), (Recall, recall_score),
                                               (F1, f1_score)])
def test_confusion_metrics_match_scikit_learn(metric, reference):
    logits, labels = MULTI
    predicted = logits.argmax(axis=1)
    macro = reference(labels, predicted, average="macro")
    assert over_batches(metric(), logits, labels) == pytest.approx(macro)
    z, t = BINARY
    assert over_batches(metric(), z, t) == pytest.approx(reference(t, (z > 0).astype(int)))  # binary: class 1
    two = np.c_[-z, z]  # two softmax outputs: the same binary figures
    assert over_batches(metric(), two, np.eye(2)[t]) == pytest.approx(reference(t, (z > 0).astype(int)))


def test_roc_auc_matches_scikit_learn_with_ties():
    logits, labels = MULTI
    expected = roc_auc_score(labels, softmax(logits), multi_class="ovr")
    assert over_batches(RocAuc(), logits, labels) == pytest.approx(expected, rel=1e-12)
    z, t = BINARY
    tied = np.round(z, 1)  # ties count half
    assert over_batches(RocAuc(), tied, t) == pytest.approx(roc_auc_score(t, tied), rel=1e-12)
    assert np.isnan(over_batches(RocAuc(), z, np.ones(97)))  # one class only: undefined


def test_epoch_metrics_in_fit_and_evaluate():
    x, y = MULTI[0], (MULTI[0][:, 0] > 0).astype(int) + (MULTI[0][:, 1] > 0)
    model = tn.Sequential(tn.Dense(4, 8, rng=0), tn.Tanh(), tn.Dense(8, 3, rng=1))
    loss = tn.SoftmaxCrossEntropy()
    history = tn.fit(model, loss, tn.Adam(model.parameters(), lr=0.02), tn.DataLoader(x, y, batch_size=16), 5,
                     metrics=["accuracy", "f1", "roc_auc"], validation_data=(x, y), progress="none")
    scores = tn.evaluate(model, loss, x, y, metrics=["f1", "precision", "recall", "roc_auc"], batch_size=13)
    predicted = model.forward(x, False).argmax(axis=1)
    assert scores["f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert scores["recall"] == pytest.approx(recall_score(y, predicted, average="macro"))
    expected_auc = roc_auc_score(y, softmax(model.forward(x, False)), multi_class="ovr")
    assert scores["roc_auc"] == pytest.approx(expected_auc)
    assert history["val_f1"][-1] == pytest.approx(scores["f1"]) and len(history["roc_auc"]) == 5
    with pytest.raises(ValueError, match="need a classification loss"):
        tn.evaluate(model, tn.MeanSquaredError(), x, np.eye(3)[y], metrics=["f1"])
