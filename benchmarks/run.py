"""tinynet's benchmark suite (issue 3): tinynet against hand-written numpy loops, the
GEMM-only floor, scikit-learn's MLPClassifier and PyTorch CPU, plus peak memory.

Run from the repository root (see docs/benchmarks.md for why the OPENBLAS_* unset)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py

Options: ``--rounds N`` (default 5), ``--quick`` (3 rounds, shorter epochs), ``--smoke``
(tiny sizes, for the tests), ``--only NAME`` (repeatable: a workload, or one of the probes
``memory``, ``kernel``, ``contention``), ``--no-torch``, ``--no-write``, ``--output PATH``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any

import attention
import cnn
import recurrent
from contenders import NUMPY_CONTENDERS, Runner
from load import ForeignLoad
from page import render
from probes import run_probe, threadpools
from report import BUSY, ORDER, Results, contender_rows, must_show, summary_rows
from rich.console import Console
from rich.table import Table
from torch_worker import TorchWorker, torch_available
from workloads import Array, Workload, make_data, workloads

PROBES = ("memory", "kernel", "contention")
# Layer benchmarks against PyTorch, each a module with NAME, measure(mode, rounds, torch),
# rows(result), verdict(result) and markdown(result) (a section appended to the page).
LAYER_BENCHMARKS = {recurrent.NAME: recurrent, attention.NAME: attention, cnn.NAME: cnn}
WARM_UP_STEPS = 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "docs", "benchmarks.md")
MACHINE_OPENBLAS = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="3 rounds, 15,000-row epochs, 500 iris epochs")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, 2 rounds (for the tests)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per workload (default 5)")
    parser.add_argument("--only", action="append", default=None, metavar="WORKLOAD",
                        help="run only this workload or probe (repeatable)")
    parser.add_argument("--retries", type=int, default=1,
                        help="re-measure a workload up to N times while other processes keep "
                             f"the machine busy (> {BUSY} cores); default 1")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-write", action="store_true", help="do not write the Markdown page")
    parser.add_argument("--output", default=None,
                        help="Markdown page to write (default: docs/benchmarks.md; --smoke writes "
                             "none unless given)")
    args = parser.parse_args(argv)
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.rounds is None:
        args.rounds = {"full": 5, "quick": 3, "smoke": 2}[args.mode]
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    if args.retries < 0:
        parser.error(f"--retries must be >= 0, got {args.retries}")
    names = [w.name for w in workloads(args.mode)] + list(PROBES) + list(LAYER_BENCHMARKS)
    for name in args.only or []:
        if name not in names:
            parser.error(f"--only {name!r}: choose from {', '.join(names)}")
    return args


def command_line(argv: list[str]) -> str:
    """The command as run, with the OPENBLAS_* unset written out when they were absent."""
    python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(ROOT) else "python"
    unset = "" if any(k in os.environ for k in MACHINE_OPENBLAS) else \
        "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
    return unset + shlex.join([python, "benchmarks/run.py", *argv])


def time_workload(work: Workload, mode: str, rounds: int, worker: TorchWorker | None,
                  console: Console) -> dict[str, list[float]]:
    """Warm every contender up, then ``rounds`` rounds, round-robin, order rotating."""
    x, y = make_data(work)
    prepares: dict[str, Callable[[Workload, Array, Array], Runner]] = dict(NUMPY_CONTENDERS)
    if worker is not None:
        def prepare_torch(w: Workload, xa: Array, ya: Array) -> Runner:
            steps = None if w == work else w.steps_per_epoch
            return lambda: worker.time(work, mode, steps)
        prepares["PyTorch"] = prepare_torch
    names = [n for n in ORDER if n in prepares]
    warm = work.truncated(WARM_UP_STEPS)
    for name in names:
        prepares[name](warm, x, y)()
    times: dict[str, list[float]] = {name: [] for name in names}
    rounds *= work.round_factor
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(prepares[name](work, x, y)())
        console.log(f"{work.name}: round {r + 1}/{rounds} done")
    return times


def measure_workload(work: Workload, args: argparse.Namespace, res: Results,
                     worker: TorchWorker | None, meter: ForeignLoad, console: Console) -> None:
    """Time ``work``; while other processes kept the machine busy (more than BUSY cores on
    average), measure it again, up to ``--retries`` times, and keep the quietest attempt."""
    for attempt in range(1, args.retries + 2):
        console.log(f"{work.name}: {work.describe()} (attempt {attempt})")
        meter.start()
        times = time_workload(work, args.mode, args.rounds, worker, console)
        busy = meter.stop()
        best = res.foreign.get(work.name, float("inf"))
        if work.name not in res.times or (busy is not None and best is not None and busy < best):
            res.times[work.name], res.foreign[work.name] = times, busy
        res.attempts[work.name] = attempt
        if busy is None or busy <= BUSY:
            return
        console.log(f"[yellow]other processes used {busy:.2f} cores during {work.name}: its "
                    f"times are inflated[/yellow]")


def quiet_probe(name: str, args: argparse.Namespace, meter: ForeignLoad, console: Console,
                env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a probe; while the machine is busy, run it again (``--retries``), keep the quietest."""
    best: dict[str, Any] | None = None
    for _ in range(args.retries + 1):
        meter.start()
        answer = run_probe(name, args.mode, env)
        answer["others_load"] = busy = meter.stop()
        if best is None or (busy is not None and busy < (best["others_load"] or 0.0)):
            best = answer
        if busy is None or busy <= BUSY:
            break
        console.log(f"[yellow]other processes used {busy:.2f} cores during the {name} probe[/yellow]")
    assert best is not None
    return best


def run_probes(args: argparse.Namespace, res: Results, wanted: set[str], meter: ForeignLoad,
               console: Console) -> None:
    if "memory" in wanted:
        res.probes["memory"] = run_probe("memory", args.mode)  # memory does not depend on load
        console.log("memory probe done")
    if "kernel" in wanted:
        unset = {k: v for k, v in os.environ.items() if k not in MACHINE_OPENBLAS}
        machine_env = {**MACHINE_OPENBLAS, **{k: os.environ[k] for k in MACHINE_OPENBLAS
                                              if k in os.environ}}
        label = " ".join(f"{k}={v}" for k, v in machine_env.items())
        res.probes["kernel"] = {
            f"{label} (the machine's)": quiet_probe("kernel", args, meter, console,
                                                     {**unset, **machine_env}),
            "both unset": quiet_probe("kernel", args, meter, console, unset),
        }
        console.log("OpenBLAS kernel probe done")
    if "contention" in wanted and res.torch_info is not None:
        res.probes["contention"] = quiet_probe("contention", args, meter, console)
        console.log("two-BLAS contention probe done")


def print_results(res: Results, console: Console) -> None:
    def rich_table(title: str, header: list[str], rows: list[list[str]]) -> None:
        t = Table(title=title, title_justify="left")
        for index, column in enumerate(header):
            t.add_column(column, justify="left" if index == 0 else "right")
        for row in rows:
            t.add_row(*row)
        console.print(t)

    for work in res.works:
        if work.name in res.times:
            rich_table(f"{work.name}: {work.describe()}",
                       ["contender", "median s", "min–max s", "µs/step", "÷ tinynet"],
                       contender_rows(res, work))
    rich_table("tinynet's time ÷ each contender's, median over the rounds (below 1: tinynet is faster)",
               ["workload", "÷ floor", "÷ floor+update", "÷ einsum loop", "÷ matmul loop", "÷ PyTorch",
                "÷ sklearn", "others' load (cores)"], summary_rows(res))
    rich_table("Must show (issue 3)", ["item", "measured", "verdict"], must_show(res))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    console = Console()
    started = time.perf_counter()
    res = Results(args.mode, args.rounds, command_line(argv))
    wanted = set(args.only or [w.name for w in workloads(args.mode)] + list(PROBES) + list(LAYER_BENCHMARKS))
    res.works = [w for w in workloads(args.mode) if w.name in wanted]
    worker = None
    meter = ForeignLoad()
    if torch_available() and not args.no_torch:
        worker = TorchWorker()
        res.torch_info = worker.info
        meter.pids.append(worker.process.pid)
    else:
        console.log("PyTorch left out (not installed or --no-torch)")
    try:
        for work in res.works:
            measure_workload(work, args, res, worker, meter, console)
    finally:
        if worker is not None:
            worker.close()
    run_probes(args, res, wanted, meter, console)
    res.threadpools = threadpools()
    res.wall = time.perf_counter() - started
    print_results(res, console)
    sections = []
    for name, bench in LAYER_BENCHMARKS.items():
        if name in wanted:
            result = bench.measure(args.mode, args.rounds, torch=torch_available() and not args.no_torch)
            console.log(f"{name}: {result['workload']}")
            for row in bench.rows(result):
                console.log(f"  {row[0]}: median {row[1]} ms (min–max {row[2]}), ÷ tinynet {row[3]}")
            console.log(f"  {bench.verdict(result)}")
            sections.append(bench.markdown(result))
    output = args.output or (None if args.mode == "smoke" else DEFAULT_OUTPUT)
    if output and not args.no_write:
        with open(output, "w", encoding="utf-8") as f:
            f.write(render(res) + "".join(sections))
        console.log(f"wrote {output} (whole run {res.wall:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
