"""The ``tinynet`` command: ``train``, ``evaluate``, ``predict`` and ``summary``.

`tinynet train` with no options is the article's mini-batch run on iris: rows
scaled to unit length, a 33% test split (random_state 42), Dense(4, 10) ->
LeakyReLU -> Dense(10, 3) drawn uniformly from default_rng(42), SGD at lr 0.01,
batches of 32 with the remainder dropped, 1500 epochs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import tinynet as tn
from tinynet.cli.arguments import build_parser
from tinynet.display.console import BROKEN_PIPE, silence_stdout

__all__ = ["main", "build_parser", "COMMANDS"]

# Each command's module and function, imported when that command runs (not for --help).
COMMANDS = {
    "train": ("tinynet.cli.train_command", "train"),
    "evaluate": ("tinynet.cli.evaluate_command", "evaluate"),
    "predict": ("tinynet.cli.predict_command", "predict"),
    "summary": ("tinynet.cli.summary_command", "summary"),
    "export": ("tinynet.cli.export_command", "export"),
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)  # (--help prints here)
        module, name = COMMANDS[args.command]
        command = getattr(importlib.import_module(module), name)
        status = command(args)
        sys.stdout.flush()  # a reader that left early shows here, not as an error at exit
        return status
    except BrokenPipeError:  # the reader of standard output left (`tinynet predict ... | head`)
        silence_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt:  # outside fit (loading, saving): nothing half done is kept
        from tinynet.cli.train_command import INTERRUPTED

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

