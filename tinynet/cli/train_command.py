"""`tinynet train`: read the data, split it, fit the preprocessing on the training rows,
train the network, report beside a baseline, save.

`tinynet train` with no options is the article's mini-batch run on iris (every built-in
set keeps the article's settings); a CSV file gets the defaults that work on tables
(:data:`tinynet.cli.arguments.DEFAULTS`).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import math
from typing import Any

import numpy as np

import tinynet as tn
from tinynet import registry
from tinynet.cli.arguments import resolve_defaults
from tinynet.cli.errors import DataError
from tinynet.cli.outputs import check_output, plot_file
from tinynet.cli.preprocessing import ColumnPreprocessing, Preprocessing, column_kinds
from tinynet.cli.splits import held_out_rows
from tinynet.cli.tables import BUILTIN, Table, is_csv_path, load_table
from tinynet.cli.train_results import Outcome, baseline_metrics, failure_warning, results_table, split_metrics
from tinynet.display.console import get_console
from tinynet.display.numbers import format_loss, format_metric
from tinynet.layers.mlp import build_mlp

__all__ = ["train"]

INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C (128 + SIGINT)


def train(args: argparse.Namespace) -> int:
    csv_file = is_csv_path(args.data)
    resolve_defaults(args, csv_file)
    _check_train_args(args, csv_file)
    console = get_console()
    table, kinds = _read(args, csv_file, console)
    parts = _split(table, args.test_size, args.val_split, args.seed)
    prep, parts, fitted = _preprocess(args, table, kinds, parts)
    loss = _loss(args.loss, table, args.class_weight, parts["train"][1])
    rng = np.random.default_rng(args.seed)
    model = _network(prep.width or table.x.shape[1], table, loss, args, rng)
    scaled_target = isinstance(prep, ColumnPreprocessing) and prep.target is not None
    history, stopper = _fit(args, model, loss, fitted, rng, _divergence_advice(args, table, scaled_target))
    if history.interrupted:
        console.print(f"interrupted: keeping the model of epoch {len(history)}", highlight=False)
    if stopper is not None and stopper.message:
        console.print(stopper.message, highlight=False)
    if isinstance(prep, ColumnPreprocessing) and prep.target is not None:
        _fold_target_scale(model, prep.target)
    _report(args, table, model, loss, parts, history, stopper, console)
    if history.loss and not csv_file:
        rows = len(parts["train"][0])
        batches = rows // args.batch_size if args.last_batch == "drop" else math.ceil(rows / args.batch_size)
        console.print(f"last epoch's training loss {format_metric(history.loss[-1])} (the mean over its "
                      f"batches; summed over its {batches} batches as in the article: "
                      f"{format_metric(history.loss[-1] * batches)})", highlight=False)
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


def _read(args: argparse.Namespace, csv_file: bool, console: Any) -> tuple[Table, list[str]]:
    """The table, and for a CSV file its usable columns' kinds (the task and what was left out said)."""
    if not csv_file:
        table = load_table(args.data, None, task=args.task)
    else:
        table = load_table(args.data, args.target, task=args.task, features=args.features, drop=args.drop)
    if table.task == "classification" and len(table.labels or []) < 2:
        raise DataError(f"the target {table.target!r} of {args.data} holds one class "
                        f"({(table.labels or ['?'])[0]!r}); classification needs at least 2 (or is it "
                        f"a number to predict? then use --task regression)")
    return _usable_columns(table, args, console) if csv_file else (table, [])


def _preprocess(args: argparse.Namespace, table: Table, kinds: list[str],
                parts: dict[str, Any]) -> tuple[Preprocessing, dict[str, Any], dict[str, Any]]:
    """The preprocessing fitted on the training rows; the splits as the network takes them
    with targets in the file's units, and with targets in training units (a CSV regression
    target standardized)."""
    prep: Preprocessing
    if kinds:
        prep = ColumnPreprocessing.fitted(parts["train"][0], table.features, kinds,
                                          standardize=args.standardize,
                                          normalize_rows=args.normalize == "rows")
    else:
        prep = Preprocessing(normalize_rows=args.normalize == "rows" or (args.normalize == "auto"
                                                                          and args.data == "iris"))
        prep.fit(parts["train"][0], args.standardize)
    parts = {name: (prep.apply(x).astype(args.dtype), y) for name, (x, y) in parts.items()}
    if not (isinstance(prep, ColumnPreprocessing) and table.task == "regression" and args.standardize):
        return prep, parts, parts
    prep.fit_target(parts["train"][1])
    return prep, parts, {name: (x, prep.scale_target(y).astype(args.dtype)) for name, (x, y) in parts.items()}


def _fit(args: argparse.Namespace, model: tn.Sequential, loss: Any, parts: dict[str, Any],
         rng: np.random.Generator, advice: str) -> tuple[tn.History, tn.EarlyStopping | None]:
    """Train; a loss that turns NaN or explodes (``fit`` tells) is a ``TrainingDiverged`` that
    says what to change in this command's flags."""
    optimizer = _optimizer(args, model)
    x_train, y_train = parts["train"]
    _check_batches(args, len(x_train))
    loader = tn.DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=args.shuffle,
                           last_batch=args.last_batch, rng=rng)
    callbacks: list[tn.Callback] = [tn.RestoreOnInterrupt()]
    stopper = None
    if args.patience is not None:
        monitor = "val_loss" if "validation" in parts else "loss"
        stopper = tn.EarlyStopping(monitor, patience=args.patience, restore_best=True, verbose=False)
        callbacks.append(stopper)
    try:  # Ctrl-C: fit stops between batches; the weights go back to the last completed epoch
        history = tn.fit(model, loss, optimizer, loader, args.epochs, progress=args.progress,
                         validation_data=parts.get("validation"), callbacks=callbacks)
    except tn.TrainingDiverged as err:  # NaN, or finite but exploding: the advice this run's scaling gives
        err.args = (f"training diverged: the loss became {format_loss(err.value)} at epoch {err.epoch}, "
                    f"batch {err.batch}; {advice}",)
        raise
    return history, stopper


def _report(args: argparse.Namespace, table: Table, model: Any, loss: Any, parts: dict[str, Any],
            history: tn.History, stopper: tn.EarlyStopping | None, console: Any) -> None:
    """The metrics of each split beside the baseline's, and a warning if the model is no better."""
    results = {name: split_metrics(model, loss, x, y, table.labels) for name, (x, y) in parts.items()}
    compared = list(results)[-1]
    name, baseline = baseline_metrics(parts["train"][1], parts[compared][1], table.task, table.labels)
    what = "most frequent class" if table.task == "classification" else "mean target"
    title = f"{args.data}: {len(history)} epochs"
    if history.restored_epoch is not None and history.restored_epoch != len(history):
        title += f", the weights of epoch {history.restored_epoch} (restored)"  # the figures are its
    console.print(results_table({**results, name: baseline}, title=title,
                                caption=f"{name}: predicts the training rows' {what} for every row; "
                                        f"scored on {compared}"))
    if history.interrupted:
        return
    key = "accuracy" if table.task == "classification" else "r2"
    counts = np.bincount(parts["train"][1]) if table.task == "classification" else None
    warning = failure_warning(Outcome(
        table.task, compared, results[compared][key], baseline[key], list(history.loss),
        stopper is not None and stopper.stopped_epoch is not None, _inputs_scaled(args),
        args.class_weight == "balanced", None if counts is None else float(counts.max() / counts.sum()),
        args.lr))
    if warning:
        console.print(warning, style="bold yellow", highlight=False)


def _inputs_scaled(args: argparse.Namespace) -> bool:
    """Whether the inputs were scaled (standardized, or rows to unit length)."""
    return bool(args.standardize or args.normalize == "rows"
                or (args.normalize == "auto" and args.data == "iris"))


def _check_train_args(args: argparse.Namespace, csv_file: bool) -> None:
    """What can be checked before any work, so that a typo does not cost a training run."""
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise ImportError('--plot needs matplotlib: pip install "tinynet[plot]"')
    if csv_file and not args.target:
        raise DataError("--target COLUMN is required with a CSV file")
    if args.data in BUILTIN:
        for flag, value in (("--target", args.target), ("--features", args.features), ("--drop", args.drop)):
            if value:
                raise DataError(f"{flag} {' '.join(value) if isinstance(value, list) else repr(value)} names "
                                f"CSV columns; the built-in data set {args.data!r} has its own features and "
                                f"target (leave {flag} out)")
    bad = [size for size in args.hidden if size < 1]
    if bad:
        raise ValueError(f"--hidden sizes must be >= 1, got {bad[0]}")
    for name, value, least in (("--batch-size", args.batch_size, 1), ("--epochs", args.epochs, 0),
                               ("--patience", args.patience, 0)):
        if value is not None and value < least:
            raise ValueError(f"{name} must be >= {least}, got {value}")
    for name, value in (("--lr", args.lr), ("--weight-decay", args.weight_decay)):
        if not math.isfinite(value) or value < 0 or (name == "--lr" and value == 0):
            raise ValueError(f"{name} must be a finite number {'> 0' if name == '--lr' else '>= 0'}, "
                             f"got {value}")
    if not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout must be a probability in [0, 1), got {args.dropout}")
    data = ("--data", args.data if csv_file else None)
    if args.save:
        check_output("--save", args.save, [data])
    if args.plot:
        check_output("--plot", args.plot, [data, ("--save", args.save)], written=plot_file(args.plot))


def _usable_columns(table: Table, args: argparse.Namespace, console: Any) -> tuple[Table, list[str]]:
    """Say the task and the rows left out; type the columns and leave out those that cannot
    be features, all named in one line (an error if ``--features`` asked for them)."""
    why = table.reason or f"set by --task {table.task}"
    console.print(f"task: {table.task} of {table.target!r}: {why}", highlight=False)
    if table.dropped:
        console.print(f"left out {table.dropped} rows whose target {table.target!r} is missing",
                      highlight=False)
    kinds, unusable = column_kinds(table.x, table.features)
    if unusable:
        said = "; ".join(f"{name!r} ({reason})" for name, reason in unusable.items())
        if args.features:
            raise DataError(f"{args.data}: these --features cannot be features: {said}")
        console.print(f"left out {len(unusable)} column(s) that cannot be features: {said} "
                      f"(--drop them to silence this)", highlight=False)
        keep = [j for j, name in enumerate(table.features) if name not in unusable]
        if not keep:
            raise DataError(f"{args.data}: no usable feature columns: {said}")
        table.x, table.features = table.x[:, keep], [table.features[j] for j in keep]
        kinds = [kinds[j] for j in keep]
    return table, kinds


def _check_batches(args: argparse.Namespace, rows: int) -> None:
    """The loader's batch rules, said in the command's flags."""
    if args.batch_size > rows and args.last_batch in ("drop", "fill"):
        outcome = "leave no batch" if args.last_batch == "drop" else "repeat rows to fill a batch"
        raise DataError(f"--batch-size {args.batch_size} is larger than the {rows} training rows, and "
                        f"--last-batch {args.last_batch} would {outcome}; use --batch-size {rows} or "
                        f"less, or --last-batch keep")


def _split(table: Table, test_size: float, val_split: float, seed: int) -> dict[str, Any]:
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
            kept, out = held_out_rows(rows, size, seed)  # train_test_split's rows, in its order
            x, y = parts["train"]
            parts["train"], parts[name] = (x[kept], y[kept]), (x[out], y[out])
    return {name: parts[name] for name in ("train", "validation", "test") if name in parts}


def _loss(name: str, table: Table, class_weight: str, y_train: Any) -> Any:
    """The loss (``auto``: by task), weighted per class with ``--class-weight balanced``."""
    if name == "auto":
        name = "softmax_cross_entropy" if table.task == "classification" else "mean_squared_error"
    cls: Any = registry.lookup("losses", name, "--loss")
    if (cls.task == "regression") != (table.task == "regression"):
        raise ValueError(f"--loss {name} is for {cls.task} but the target {table.target!r} is "
                         f"{table.task} (set --task or --loss)")
    if cls.task == "binary" and len(table.labels or []) != 2:
        raise ValueError(f"--loss {name} needs 2 classes, the target has {len(table.labels or [])}")
    if class_weight == "none":
        return cls()
    if table.task == "regression":
        raise ValueError("--class-weight balanced is for classification; the target is a number")
    weights = _balanced_weights(y_train, len(table.labels or []))
    if cls.task == "binary":  # the loss of the positive rows, relative to the negative ones
        return cls(pos_weight=weights[1] / weights[0])
    return cls(weight=weights)


def _balanced_weights(codes: Any, n_classes: int) -> Any:
    """scikit-learn's ``compute_class_weight("balanced")`` on the training rows: rows /
    (classes * rows of the class); a class absent from them gets 1."""
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(codes)
    weights = np.ones(n_classes)
    weights[present] = compute_class_weight("balanced", classes=present, y=codes)
    return weights


def _network(width: int, table: Table, loss: Any, args: argparse.Namespace,
             rng: np.random.Generator) -> tn.Sequential:
    n_out = len(table.labels or []) if loss.task == "multiclass" else 1
    activation = registry.lookup("activations", args.activation, "--activation")
    try:
        return build_mlp(width, args.hidden, n_out, activation, args.init, rng, args.dtype,
                         dropout=args.dropout)
    except ValueError as err:  # e.g. layers too large to allocate
        sizes = " ".join(str(n) for n in args.hidden)
        raise ValueError(f"--hidden {sizes}: {err}") from None


def _optimizer(args: argparse.Namespace, model: tn.Sequential) -> Any:
    cls = registry.lookup("optimizers", args.optimizer, "--optimizer")
    options: dict[str, float] = {"lr": args.lr}
    if args.weight_decay:
        if "weight_decay" not in inspect.signature(cls).parameters:
            raise ValueError(f"--weight-decay: the optimizer {args.optimizer!r} has no weight decay")
        options["weight_decay"] = args.weight_decay
    return cls(model.parameters(), **options)


def _divergence_advice(args: argparse.Namespace, table: Table, scaled_target: bool) -> str:
    """What to change when training diverges, from what this run did and did not scale."""
    if not args.standardize:
        return "the inputs are not standardized: add --standardize"
    if table.task == "regression" and not scaled_target:
        spread = float(np.std(table.y)) if table.y is not None else math.nan
        return (f"the target (standard deviation {spread:.3g}) is not standardized: try a smaller --lr "
                f"than {args.lr:g}")
    return f"the inputs are standardized, so the learning rate is too large: try --lr {args.lr / 10:g}"


def _fold_target_scale(model: tn.Sequential, scaler: Any) -> None:
    """Make the network predict in the target's own units: ``y = z * scale + mean`` folded
    into the last ``Dense`` layer's weight and bias."""
    last: Any = model[len(model) - 1]
    scale, mean = float(scaler.scale_[0]), float(scaler.mean_[0])
    last.weight.data *= scale
    last.bias.data *= scale
    last.bias.data += mean
