"""A binary classifier on scikit-learn's breast cancer data (569 rows, 30 features).

One logit per sample, trained with SigmoidBinaryCrossEntropy (the sigmoid lives
in the loss) and Adam; 20% of the training rows are held out as validation
data, and EarlyStopping restores the weights of the epoch with the lowest
validation loss. Prints the test loss and accuracy, and the probabilities of
the first test rows through a Sigmoid.

    python examples/breast_cancer.py [--epochs 200] [--seed 0] [--progress auto]
"""

from __future__ import annotations

import argparse

import numpy as np

import tinynet as tn


def load(seed: int) -> tuple[np.ndarray, ...]:
    """Standardized train/validation/test splits (scaler fitted on the training rows)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y,
                                                        random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_train, y_train, test_size=0.2,
                                                      stratify=y_train, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train), scaler.transform(x_val), scaler.transform(x_test),
            y_train, y_val, y_test)


def train(epochs: int = 200, seed: int = 0, progress: str = "auto") -> dict[str, float]:
    """Train with validation data and early stopping; return the test metrics."""
    x_train, x_val, x_test, y_train, y_val, y_test = load(seed)
    rng = np.random.default_rng(seed)
    model = tn.Sequential(tn.Dense(30, 16, rng=rng), tn.ReLU(), tn.Dropout(0.2, rng=rng),
                          tn.Dense(16, 1, rng=rng))
    loss = tn.SigmoidBinaryCrossEntropy()
    stopper = tn.EarlyStopping(monitor="val_loss", patience=10)
    loader = tn.DataLoader(x_train, y_train, batch_size=32, shuffle=True, rng=rng)
    tn.fit(model, loss, tn.Adam(model.parameters(), lr=0.01), loader, epochs,
           validation_data=(x_val, y_val), callbacks=[stopper], progress=progress)
    test = tn.evaluate(model, loss, x_test, y_test)
    probabilities = tn.Sigmoid()(model(x_test[:5])).ravel()
    print(f"best epoch {stopper.best_epoch}  val_loss {stopper.best:.4f}")
    print(f"test loss {test['loss']:.4f}  test accuracy {test['accuracy']:.4f}  "
          f"({len(y_test)} rows)")
    print("first test rows: p(benign) =", np.round(probabilities, 3), " labels =", y_test[:5])
    return {"loss": test["loss"], "accuracy": test["accuracy"], "best_epoch": stopper.best_epoch or 0}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=200, help="at most this many epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the weights")
    parser.add_argument("--progress", default="auto", choices=["auto", "bar", "epoch", "none"])
    args = parser.parse_args(argv)
    train(args.epochs, args.seed, args.progress)


if __name__ == "__main__":
    main()
