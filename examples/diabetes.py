"""A regressor on scikit-learn's diabetes data (442 rows, 10 features).

Features and target are standardized with statistics of the training rows;
the network is trained with MeanSquaredError and Adam, with 20% of the training
rows held out as validation data and EarlyStopping on the validation loss.
Prints the test MSE, RMSE, MAE and R^2 in the target's own units (disease
progression after one year), next to scikit-learn's LinearRegression on the
same split as a baseline.

    python examples/diabetes.py [--epochs 300] [--seed 0] [--progress auto]
"""

from __future__ import annotations

import argparse

import numpy as np

import tinynet as tn


def load(seed: int) -> tuple[np.ndarray, ...]:
    """Standardized train/validation/test splits; targets are (N, 1) columns."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_train, y_train, test_size=0.2,
                                                      random_state=seed)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train), scaler.transform(x_val), scaler.transform(x_test),
            y_train.reshape(-1, 1), y_val.reshape(-1, 1), y_test.reshape(-1, 1))


def regression_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    error = predicted.ravel() - target.ravel()
    mse = float(np.mean(error**2))
    r2 = 1 - mse / float(np.var(target))
    return {"mse": mse, "rmse": mse**0.5, "mae": float(np.mean(np.abs(error))), "r2": r2}


def train(epochs: int = 300, seed: int = 0, progress: str = "auto") -> dict[str, float]:
    """Train with validation data and early stopping; return the test metrics (target units)."""
    x_train, x_val, x_test, y_train, y_val, y_test = load(seed)
    mean, std = y_train.mean(), y_train.std()
    rng = np.random.default_rng(seed)
    model = tn.Sequential(tn.Dense(10, 32, rng=rng), tn.ReLU(), tn.Dense(32, 1, rng=rng))
    stopper = tn.EarlyStopping(monitor="val_loss", patience=20)
    loader = tn.DataLoader(x_train, (y_train - mean) / std, batch_size=32, shuffle=True, rng=rng)
    tn.fit(model, tn.MeanSquaredError(), tn.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3),
           loader, epochs, metrics=["mae"], validation_data=(x_val, (y_val - mean) / std),
           callbacks=[stopper], progress=progress)
    test = regression_metrics(model(x_test) * std + mean, y_test)

    from sklearn.linear_model import LinearRegression

    baseline = regression_metrics(LinearRegression().fit(x_train, y_train).predict(x_test), y_test)
    print(f"best epoch {stopper.best_epoch}  val_loss {stopper.best:.4f} (standardized units)")
    for name, metrics in (("tinynet", test), ("LinearRegression", baseline)):
        print(f"{name:<16} test MSE {metrics['mse']:.1f}  RMSE {metrics['rmse']:.2f}  "
              f"MAE {metrics['mae']:.2f}  R^2 {metrics['r2']:.3f}  ({len(y_test)} rows)")
    return test


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=300, help="at most this many epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the weights")
    parser.add_argument("--progress", default="auto", choices=["auto", "bar", "epoch", "none"])
    args = parser.parse_args(argv)
    train(args.epochs, args.seed, args.progress)


if __name__ == "__main__":
    main()
