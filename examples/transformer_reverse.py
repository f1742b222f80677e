"""A transformer learns to reverse sequences: every output position must find its token at
the mirrored input position, which only attention can do.

Embedding(10, 32) -> PositionalEmbedding(10, 32) -> two TransformerBlock(32, 4, 64) ->
Dense(32, 10) on each position, trained with ``fit`` and Adam on 12,000 random
sequences of 10 symbols (0-9); the target of ``[3, 1, 4, ...]`` is ``[..., 4, 1, 3]``.
Prints the held-out token accuracy (2,000 sequences never trained on) after each
epoch; it reaches 0.99 within 12 epochs. A model whose attention scores get no
gradient stalls near 0.97 (it can only learn the softmax's uniform average), so this
separates working attention from broken.

    python examples/transformer_reverse.py [--quick] [--epochs N] [--seed S]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinynet as tn

SYMBOLS, LENGTH, WIDTH, HEADS, FF = 10, 10, 32, 4, 64


def reversal_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random integer sequences ``(n, LENGTH)`` and their reversals (the labels)."""
    x = rng.integers(0, SYMBOLS, (n, LENGTH))
    return x, x[:, ::-1].copy()


def build_model(seed: int) -> tn.Sequential:
    rng = np.random.default_rng(seed)
    return tn.Sequential(
        tn.Embedding(SYMBOLS, WIDTH, rng=rng),
        tn.PositionalEmbedding(LENGTH, WIDTH, rng=rng),
        tn.TransformerBlock(WIDTH, HEADS, FF, rng=rng),
        tn.TransformerBlock(WIDTH, HEADS, FF, rng=rng),
        tn.Dense(WIDTH, SYMBOLS, rng=rng),          # (B, T, 32) -> (B, T, 10) logits per position
    )


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="640 sequences, 1 epoch (for tests)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_train, n_test, epochs = (640, 500, 1) if args.quick else (12_000, 2_000, args.epochs)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = reversal_data(n_train, rng)
    x_test, y_test = reversal_data(n_test, rng)
    model = build_model(args.seed)
    loss = tn.SoftmaxCrossEntropy()
    loader = tn.DataLoader(x_train, y_train, batch_size=64, shuffle=True, rng=args.seed)
    started = time.perf_counter()
    history = tn.fit(model, loss, tn.Adam(model.parameters(), lr=3e-3), loader, epochs,
                     validation_data=(x_test, y_test), progress="none",
                     callbacks=[EpochPrinter()])
    seconds = time.perf_counter() - started
    accuracy = history.history["val_accuracy"][-1]
    print(f"held-out token accuracy {accuracy:.4f} after {epochs} epochs ({seconds:.0f} s)")
    return float(accuracy)


class EpochPrinter(tn.Callback):
    """One line per epoch: training loss and held-out token accuracy."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        print(f"epoch {epoch:>2}: loss {logs['loss']:.4f}  held-out token accuracy "
              f"{logs['val_accuracy']:.4f}", flush=True)


if __name__ == "__main__":
    main()
