"""The ``tinynet`` command: ``train``, ``evaluate``, ``predict`` and ``summary``.

`tinynet train` with no options is the article's mini-batch run on iris: rows
scaled to unit length, a 33% test split (random_state 42), Dense(4, 10) ->
LeakyReLU -> Dense(10, 3) drawn uniformly from default_rng(42), SGD at lr 0.01,
batches of 32 with the remainder dropped, 1500 epochs.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.table import Table as RichTable

import tinynet as tn
from tinynet import registry
from tinynet.cli.arguments import build_parser
from tinynet.cli.evaluate_command import evaluate
from tinynet.cli.export_command import export
from tinynet.cli.outputs import check_output, plot_file, quiet_stdout
from tinynet.cli.predict_command import predict
from tinynet.cli.summary_command import summary
from tinynet.cli.tables import BUILTIN, DataError, Preprocessing, Table, is_csv_path, load_table
from tinynet.display.console import get_console
from tinynet.layers.mlp import build_mlp

__all__ = ["main", "build_parser"]


INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C (128 + SIGINT)
BROKEN_PIPE = 141  # the shell's status for a writer whose reader left (128 + SIGPIPE)


def train(args: argparse.Namespace) -> int:
    _check_train_args(args)
    table = load_table(args.data, args.target, task=args.task)
    if table.task == "classification" and len(table.labels or []) < 2:
        raise DataError(f"the target {table.target!r} of {args.data} holds one class "
                        f"({(table.labels or ['?'])[0]!r}); classification needs at least 2 (or is it "
                        f"a number to predict? then use --task regression)")
    prep = Preprocessing(normalize_rows=args.normalize == "rows" or (args.normalize == "auto"
                                                                      and args.data == "iris"))
    parts = _split(table, args.test_size, args.val_split, args.seed)
    prep.fit(parts["train"][0], args.standardize)
    parts = {name: (prep.apply(x).astype(args.dtype), y) for name, (x, y) in parts.items()}
    loss = _loss(args.loss, table)
    rng = np.random.default_rng(args.seed)
    model = _network(table, loss, args, rng)
    optimizer = registry.lookup("optimizers", args.optimizer, "--optimizer")(model.parameters(), lr=args.lr)
    x_train, y_train = parts["train"]
    _check_batches(args, len(x_train))
    loader = tn.DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=args.shuffle,
                           last_batch=args.last_batch, rng=rng)
    # Ctrl-C: fit stops between batches; the weights go back to the last completed epoch.
    history = tn.fit(model, loss, optimizer, loader, args.epochs, progress=args.progress,
                     validation_data=parts.get("validation"), callbacks=[tn.RestoreOnInterrupt()])
    console = get_console()
    if history.interrupted:
        console.print(f"interrupted: keeping the model of epoch {len(history)}", highlight=False)
    results = _results_table({name: _metrics(model, loss, x, y) for name, (x, y) in parts.items()},
                             title=f"{args.data}: {len(history)} epochs")
    console.print(results)
    if history.loss:
        console.print(f"last epoch's training loss {history.loss[-1]:.4f} (the mean over its batches; "
                      f"summed over its {len(loader)} batches as in the article: "
                      f"{history.loss[-1] * len(loader):.4f})", highlight=False)
    if args.save:  # first: a plot that fails must not cost the model
        meta = {"features": table.features, "target": table.target, "task": table.task,
                "labels": table.labels, "loss": type(loss).__name__, "preprocessing": prep.to_json()}
        tn.save(model, args.save, metadata={"tinynet_cli": meta})
        console.print(f"saved the model to {args.save}")
    if args.plot:
        png = plot_file(args.plot)
        tn.plot_history(history, png, loss=loss, title=f"tinynet on {args.data}")
        console.print(f"saved the loss curve to {png}")
    return INTERRUPTED if history.interrupted else 0


def _check_train_args(args: argparse.Namespace) -> None:
    """What can be checked before any work, so that a typo does not cost a training run."""
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise ImportError('--plot needs matplotlib: pip install "tinynet[plot]"')
    if is_csv_path(args.data) and not args.target:
        raise DataError("--target COLUMN is required with a CSV file")
    if args.data in BUILTIN and args.target:
        raise DataError(f"--target {args.target!r} names a CSV column; the built-in data set "
                        f"{args.data!r} has its own target (leave --target out)")
    bad = [size for size in args.hidden if size < 1]
    if bad:
        raise ValueError(f"--hidden sizes must be >= 1, got {bad[0]}")
    for name, value in (("--batch-size", args.batch_size), ("--epochs", args.epochs)):
        if value < (0 if name == "--epochs" else 1):
            raise ValueError(f"{name} must be >= {0 if name == '--epochs' else 1}, got {value}")
    data = ("--data", args.data if is_csv_path(args.data) else None)
    if args.save:
        check_output("--save", args.save, [data])
    if args.plot:
        check_output("--plot", args.plot, [data, ("--save", args.save)], written=plot_file(args.plot))


def _check_batches(args: argparse.Namespace, rows: int) -> None:
    """The loader's batch rules, said in the command's flags."""
    if args.batch_size > rows and args.last_batch in ("drop", "fill"):
        outcome = "leave no batch" if args.last_batch == "drop" else "repeat rows to fill a batch"
        raise DataError(f"--batch-size {args.batch_size} is larger than the {rows} training rows, and "
                        f"--last-batch {args.last_batch} would {outcome}; use --batch-size {rows} or "
                        f"less, or --last-batch keep")


def _split(table: Table, test_size: float, val_split: float, seed: int) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    for name, value in (("--test-size", test_size), ("--val-split", val_split)):
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be a fraction in [0, 1), got {value}")
    parts: dict[str, Any] = {"train": (table.x, table.y)}
    for (name, size), flag in zip((("test", test_size), ("validation", val_split)),
                                  ("--test-size", "--val-split")):
        if size > 0:
            rows = len(parts["train"][0])
            held = math.ceil(size * rows)
            if held >= rows:
                raise DataError(f"{flag} {size} holds out {held} of the {rows} rows left for training, "
                                f"which leaves none to train on; use a smaller {flag} or more data")
            x_a, x_b, y_a, y_b = train_test_split(*parts["train"], test_size=size, shuffle=True,
                                                  random_state=seed)
            parts["train"], parts[name] = (x_a, y_a), (x_b, y_b)
    return {name: parts[name] for name in ("train", "validation", "test") if name in parts}


def _loss(name: str, table: Table) -> Any:
    if name == "auto":
        name = "softmax_cross_entropy" if table.task == "classification" else "mean_squared_error"
    loss = registry.lookup("losses", name, "--loss")()
    if (loss.task == "regression") != (table.task == "regression"):
        raise ValueError(f"--loss {name} is for {loss.task} but the target {table.target!r} is "
                         f"{table.task} (set --task or --loss)")
    if loss.task == "binary" and len(table.labels or []) != 2:
        raise ValueError(f"--loss {name} needs 2 classes, the target has {len(table.labels or [])}")
    return loss


def _network(table: Table, loss: Any, args: argparse.Namespace, rng: np.random.Generator) -> tn.Sequential:
    n_out = len(table.labels or []) if loss.task == "multiclass" else 1
    activation = registry.lookup("activations", args.activation, "--activation")
    try:
        return build_mlp(table.x.shape[1], args.hidden, n_out, activation, args.init, rng, args.dtype)
    except ValueError as err:  # e.g. layers too large to allocate
        sizes = " ".join(str(n) for n in args.hidden)
        raise ValueError(f"--hidden {sizes}: {err}") from None


def _metrics(model: Any, loss: Any, x: Any, y: Any) -> dict[str, float]:
    result = {"rows": float(len(x)), **tn.evaluate(model, loss, x, y)}
    if loss.task == "regression":
        residual = model(x).reshape(len(y), -1) - y.reshape(len(y), -1)
        spread = y.reshape(len(y), -1) - y.reshape(len(y), -1).mean(axis=0)
        result["r2"] = float(1 - (residual ** 2).sum() / max((spread ** 2).sum(), 1e-300))
    return result


def _results_table(results: dict[str, dict[str, float]], title: str) -> RichTable:
    table = RichTable(title=title, header_style="bold")
    keys = list(next(iter(results.values())))
    for key in ["split", *keys]:
        table.add_column(key, justify="left" if key == "split" else "right")
    for name, values in results.items():
        table.add_row(name, *[f"{int(values[k])}" if k == "rows" else f"{values[k]:.4f}" for k in keys])
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = {"train": train, "evaluate": evaluate, "predict": predict, "summary": summary,
               "export": export}[args.command]
    try:
        return command(args)
    except BrokenPipeError:  # the reader of standard output left (`tinynet predict ... | head`)
        quiet_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt:  # outside fit (loading, saving): nothing half done is kept
        print("tinynet: interrupted", file=sys.stderr)
        return INTERRUPTED
    except tn.TrainingDiverged as err:
        print(f"tinynet: {err}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError, ImportError) as err:
        message = str(err) if not isinstance(err, OSError) or not err.filename else \
            f"{err.filename}: {err.strerror}"
        print(f"tinynet: error: {message}", file=sys.stderr)
        return 2

