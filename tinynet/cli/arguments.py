"""The ``tinynet`` command's arguments: the parser, its help text and rich-coloured help."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.text import Text

import tinynet as tn
from tinynet import registry
from tinynet.cli.export_command import add_export_parser
from tinynet.cli.tables import BUILTIN
from tinynet.display.console import get_console
from tinynet.layers.initializers import INITIALIZERS
from tinynet.training.callbacks import PROGRESS_MODES

__all__ = ["build_parser", "DEFAULTS", "resolve_defaults"]

TRAIN_DESCRIPTION = """`tinynet train` with no options is the article's mini-batch run on iris: rows
scaled to unit length, a 33% test split (random_state 42), Dense(4, 10) ->
LeakyReLU -> Dense(10, 3) drawn uniformly from default_rng(42), SGD at lr 0.01,
batches of 32 with the remainder dropped, 1500 epochs. The built-in sets all keep
these settings.

With a CSV file the defaults are those that work on tables: numbers and dates
standardized, string and boolean columns one-hot encoded, missing cells imputed
(median / most frequent), all fitted on the training rows; a regression target
standardized while training (results in its own units); He init, Adam at lr
0.001, shuffled batches with the last one kept, 20% of the training rows for
validation and early stopping (patience 20) that keeps the best epoch. An option
whose help says "default: CSV x; built-in y" takes x for a CSV file and y for a
built-in set; an option you give always wins."""

# option: (its default for a CSV file, its default for a built-in set: the article's)
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "init": ("he_normal", "uniform"),
    "optimizer": ("adam", "sgd"),
    "lr": (0.001, 0.01),
    "last_batch": ("keep", "drop"),
    "shuffle": (True, False),
    "epochs": (1000, 1500),
    "val_split": (0.2, 0.0),
    "patience": (20, None),
    "standardize": (True, False),
}

EVALUATE_DESCRIPTION = """Evaluate a model saved by `tinynet train --save` on labelled data: the loss
and, for classification, accuracy, balanced accuracy, macro F1, per-class
precision/recall/F1 and the confusion matrix; for regression R², MAE and RMSE."""

PREDICT_DESCRIPTION = """Predict with a saved model; prints CSV unless -o. The target column, if the
file has one, is ignored (it may be blank)."""

SUMMARY_DESCRIPTION = """Describe a tinynet file: a model or estimator saved by tn.save, or a model
saved by `tinynet train --save` (then also its features, target, classes and
preprocessing)."""

EXAMPLES = """examples:
  tinynet train                                   the article's mini-batch run on iris
  tinynet train --data wine --standardize --hidden 32 --init he_normal --optimizer adam --lr 0.001
  tinynet train --data flowers.csv --target species --save model.npz --plot loss.png
  tinynet evaluate model.npz --data flowers.csv --json
  tinynet predict model.npz new_flowers.csv --proba --id name -o predictions.csv"""


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults, except the empty ones (None, False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


class RichParser(argparse.ArgumentParser):
    """argparse, with help printed through rich: headings, options and choices in colour."""

    def print_help(self, file: Any = None) -> None:
        text = Text(self.format_help())
        text.highlight_regex(r"(?m)^[a-z ]+:$|^usage:", "bold yellow")
        text.highlight_regex(r"(?<![\w-])--?[a-z][\w-]*", "bold cyan")
        text.highlight_regex(r"\{[\w,.]+\}", "magenta")
        console = get_console() if file is None else Console(file=file)
        console.print(text, highlight=False, soft_wrap=True)


def build_parser() -> argparse.ArgumentParser:
    parser = RichParser(prog="tinynet", description="tinynet: neural networks in Einstein summation.",
                        epilog=EXAMPLES, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"tinynet {tn.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    kw: dict[str, Any] = {"formatter_class": _Formatter}
    train = commands.add_parser("train", help="train a network (default: the article's run on iris)",
                                description=TRAIN_DESCRIPTION, epilog=EXAMPLES, **kw)
    _data_options(train)
    net = train.add_argument_group("network and training")
    net.add_argument("--hidden", type=int, nargs="*", default=[10], metavar="N", help="hidden layer sizes")
    net.add_argument("--activation", default="leaky_relu", help=f"one of {sorted(registry.activations())}")
    net.add_argument("--dropout", type=float, default=0.0, metavar="P",
                     help="dropout probability after each hidden activation")
    net.add_argument("--init", choices=sorted(INITIALIZERS), help=_by_kind("init", "weight initialiser"))
    net.add_argument("--loss", default="auto", help="auto (cross-entropy or mean squared error by task) or "
                     f"one of {sorted(registry.losses())}")
    net.add_argument("--class-weight", default="none", choices=("none", "balanced"),
                     help="balanced: weight each class's loss by rows / (classes * its rows), "
                     "scikit-learn's formula on the training rows")
    net.add_argument("--optimizer", help=_by_kind("optimizer", f"one of {sorted(registry.optimizers())}"))
    net.add_argument("--lr", type=float, help=_by_kind("lr", "learning rate"))
    net.add_argument("--weight-decay", type=float, default=0.0, help="the optimizer's L2 penalty")
    net.add_argument("--batch-size", type=int, default=32, help="rows per batch")
    net.add_argument("--last-batch", choices=("drop", "keep", "fill"), help=_by_kind(
        "last_batch", "what to do with the rows left over after the full batches"))
    net.add_argument("--shuffle", action=argparse.BooleanOptionalAction,
                     help=_by_kind("shuffle", "shuffle the rows every epoch"))
    net.add_argument("--epochs", type=int, help=_by_kind("epochs", "passes over the training data (at most, "
                                                                   "with early stopping)"))
    net.add_argument("--patience", type=int, help=_by_kind(
        "patience", "stop after this many epochs without a better validation loss (the training loss "
        "without --val-split) and keep the best epoch's weights; none: train every epoch"))
    net.add_argument("--seed", type=int, default=42, help="seed for the split, the weights and shuffling")
    net.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    out = train.add_argument_group("output")
    out.add_argument("--progress", default="auto", choices=PROGRESS_MODES, help="training display")
    out.add_argument("--plot", metavar="PATH", help="save the loss curve as a PNG (needs tinynet[plot])")
    out.add_argument("--save", metavar="PATH", help="save the model and its preprocessing (.npz)")
    evaluate = commands.add_parser("evaluate", help="scores of a saved model on labelled data",
                                   description=EVALUATE_DESCRIPTION, **kw)
    evaluate.add_argument("model", help="the saved .npz")
    evaluate.add_argument("--data", required=True, help=f"{' | '.join(BUILTIN)} | path.csv")
    evaluate.add_argument("--target", help="target column of the CSV (default: the one trained on)")
    evaluate.add_argument("--json", action="store_true",
                          help="print one JSON document (schema: docs/ecosystem.md) instead of tables")
    predict = commands.add_parser("predict", help="predict the target column for a CSV",
                                  description=PREDICT_DESCRIPTION, **kw)
    predict.add_argument("model", help="the saved .npz")
    predict.add_argument("input", help="CSV with the feature columns the model was trained on")
    predict.add_argument("-o", "--output", metavar="PATH", help="write the predictions to this CSV")
    predict.add_argument("--proba", action="store_true",
                         help="add one probability column per class, named proba_<class>")
    predict.add_argument("--id", metavar="COLUMN", help="copy this column of the input to the output")
    summary = commands.add_parser("summary", help="describe a tinynet .npz file",
                                  description=SUMMARY_DESCRIPTION, **kw)
    summary.add_argument("model", help="a .npz written by tn.save or `tinynet train --save`")
    add_export_parser(commands, **kw)
    return parser


def _data_options(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--data", default="iris", help=f"{' | '.join(BUILTIN)} | path.csv (any of , ; tab |)")
    data.add_argument("--target", help="target column (required with a CSV); rows with it missing are "
                      "left out")
    data.add_argument("--features", nargs="+", metavar="COLUMN",
                      help="the CSV columns to learn from (default: all but the target and --drop)")
    data.add_argument("--drop", nargs="+", metavar="COLUMN", help="CSV columns not to learn from")
    data.add_argument("--task", default="auto", choices=("auto", "classification", "regression"),
                      help="auto: strings are classes, numbers with fractions regression, whole numbers "
                      "classes if at most 20 distinct values and at most 10%% of the rows (2 always)")
    data.add_argument("--test-size", type=float, default=0.33, help="fraction held out for testing")
    data.add_argument("--val-split", type=float, help=_by_kind(
        "val_split", "fraction of the training rows held out for validation (shown every epoch)"))
    data.add_argument("--normalize", default="auto", choices=("auto", "rows", "none"),
                      help="scale each row to unit length; auto: only for iris, as the article does")
    data.add_argument("--standardize", action=argparse.BooleanOptionalAction, help=_by_kind(
        "standardize", "scale features (and a regression target) to zero mean, unit variance (training "
        "statistics)"))


def _by_kind(option: str, text: str) -> str:
    """``text`` with the option's two defaults (escaped for argparse's ``%`` formatting)."""
    for_csv, builtin = (_shown(v) for v in DEFAULTS[option])
    return f"{text} (default: CSV {for_csv}; built-in {builtin})".replace("%", "%%")


def _shown(value: Any) -> str:
    return {True: "yes", False: "no", None: "none"}.get(value, str(value)) if not isinstance(
        value, (int, float)) or isinstance(value, bool) else f"{value:g}"


def resolve_defaults(args: argparse.Namespace, csv_file: bool) -> argparse.Namespace:
    """Fill the train options left unset with :data:`DEFAULTS` for a CSV file or a built-in set."""
    for option, (for_csv, builtin) in DEFAULTS.items():
        if getattr(args, option) is None:
            setattr(args, option, for_csv if csv_file else builtin)
    return args
