"""Losses: ``forward(logits, target) -> float`` (the mean over the batch and
every position) and ``backward() -> dL/dlogits``, each fused with its output
activation for a stable, cheap gradient.
"""

from tinynet.losses.base import Loss
from tinynet.losses.binary_cross_entropy import SigmoidBinaryCrossEntropy
from tinynet.losses.cross_entropy import SoftmaxCrossEntropy
from tinynet.losses.squared_error import MeanSquaredError

__all__ = ["Loss", "SoftmaxCrossEntropy", "SigmoidBinaryCrossEntropy", "MeanSquaredError"]
