"""A small convolutional network on scikit-learn's 8x8 digits (1,797 images, 10 classes).

The images are reshaped to (B, 1, 8, 8): two 3x3 convolutions with batch
normalization and ReLU, a 2x2 max pool, then Flatten and a Dense layer for the
10 logits, trained with Adam on 70% of the images; 30% are held out
(stratified) and only used for the final accuracy.

    python examples/cnn_digits.py [--epochs 15] [--seed 0] [--progress auto] [--quick]

``--quick`` trains 3 epochs (the documentation tests run it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import tinynet as tn


def load(seed: int) -> tuple[np.ndarray, ...]:
    """Train and held-out images ``(B, 1, 8, 8)`` scaled to [0, 1], and their labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    images = (x / 16.0).reshape(-1, 1, 8, 8)
    x_train, x_test, y_train, y_test = train_test_split(images, y, test_size=0.3, stratify=y,
                                                        random_state=seed)
    return x_train, x_test, y_train, y_test


def cnn(rng: np.random.Generator, dtype: type = np.float32) -> tn.Sequential:
    """conv 1->16 and 16->32 (3x3, "same"), each with BatchNorm and ReLU; 2x2 max pool;
    Dense 32*4*4 -> 10. The convolutions before BatchNorm need no bias (BatchNorm's replaces it)."""
    return tn.Sequential(
        tn.Conv2D(1, 16, 3, padding="same", bias=False, rng=rng, dtype=dtype), tn.BatchNorm(16, dtype=dtype),
        tn.ReLU(),
        tn.Conv2D(16, 32, 3, padding="same", bias=False, rng=rng, dtype=dtype), tn.BatchNorm(32, dtype=dtype),
        tn.ReLU(),
        tn.MaxPool2D(2),                                               # (B, 32, 4, 4)
        tn.Flatten(), tn.Dropout(0.25, rng=rng),
        tn.Dense(32 * 4 * 4, 10, rng=rng, dtype=dtype),
    )


def train(epochs: int = 15, seed: int = 0, progress: str = "auto") -> dict[str, float]:
    """Train from ``seed``; return the held-out accuracy and the training time in seconds."""
    x_train, x_test, y_train, y_test = load(seed)
    rng = np.random.default_rng(seed)
    model = cnn(rng)
    loss = tn.SoftmaxCrossEntropy()
    optimizer = tn.Adam(model.parameters(), lr=1e-2)
    loader = tn.DataLoader(x_train, y_train, batch_size=32, shuffle=True, rng=rng, dtype=np.float32,
                           last_batch="drop")
    schedule = tn.CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    # One BLAS thread: these matrices are small, and on a busy machine OpenBLAS's spinning
    # threads make a step several times slower instead of faster.
    with threadpool_limits(limits=1, user_api="blas"):
        tn.fit(model, loss, optimizer, loader, epochs, callbacks=[schedule], progress=progress)
    seconds = time.perf_counter() - start
    test = tn.evaluate(model, loss, x_test.astype(np.float32), y_test)
    print(f"held-out loss {test['loss']:.4f}  accuracy {test['accuracy']:.4f}  "
          f"({len(y_test)} images, {epochs} epochs in {seconds:.1f} s)")
    return {"accuracy": test["accuracy"], "loss": test["loss"], "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="training epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the weights")
    parser.add_argument("--progress", default="auto", choices=["auto", "bar", "epoch", "none"])
    parser.add_argument("--quick", action="store_true", help="3 epochs (for the tests)")
    args = parser.parse_args(argv)
    model = cnn(np.random.default_rng(args.seed))
    model.summary((1, 8, 8))
    train(3 if args.quick else args.epochs, args.seed, args.progress)


if __name__ == "__main__":
    main()
