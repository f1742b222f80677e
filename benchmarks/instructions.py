"""Instructions per training step of the iris run, counted by valgrind's callgrind: the one
measure of per-step overhead that this machine's noise does not move.

Each contender (``tinynet``, ``einsum``, ``matmul``; see contenders.py) runs under callgrind
twice, for ``--short`` and ``--long`` epochs of the article's iris run; the difference of the
two counts divided by the difference of the steps is the cost of one step, start-up excluded.
Instructions are not time (a cache miss costs many), so read this beside ``run.py``'s ratios.

    python benchmarks/instructions.py                 # all three, about 6 minutes
    python benchmarks/instructions.py tinynet --long 400

Needs ``valgrind`` on the PATH. ``OPENBLAS_NUM_THREADS=1`` and ``PYTHONHASHSEED=0`` keep the
counts the same from run to run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
CONTENDERS = ("tinynet", "einsum", "matmul")


def _train(contender: str, epochs: int) -> None:
    """The body run under callgrind: one warm-up run (plans, caches), then the counted one."""
    sys.path.insert(0, HERE)
    from contenders import prepare_einsum_loop, prepare_matmul_loop, prepare_tinynet
    from workloads import get_workload, make_data

    work = replace(get_workload("iris", "full"), epochs=epochs)
    x, y = make_data(work)
    prepare = {"tinynet": prepare_tinynet, "einsum": prepare_einsum_loop,
               "matmul": prepare_matmul_loop}[contender]
    prepare(replace(work, epochs=1), x, y)()
    prepare(work, x, y)()


def count(contender: str, epochs: int) -> int:
    """Instructions callgrind collected for a whole run of ``epochs`` epochs."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", sys.executable,
             os.path.abspath(__file__), "--inner", contender, str(epochs)],
            capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contenders", nargs="*", help=f"any of {', '.join(CONTENDERS)} (default: all)")
    parser.add_argument("--short", type=int, default=100, help="epochs of the first run (default 100)")
    parser.add_argument("--long", type=int, default=400, help="epochs of the second run (default 400)")
    parser.add_argument("--inner", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        _train(args.inner[0], int(args.inner[1]))
        return
    unknown = [c for c in args.contenders if c not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender {unknown[0]!r}; choose from {', '.join(CONTENDERS)}")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not on the PATH")
    if not 0 < args.short < args.long:
        parser.error(f"need 0 < --short < --long, got {args.short} and {args.long}")
    steps = 3 * (args.long - args.short)  # the iris run: 3 batches per epoch
    per_step = {}
    for contender in args.contenders or CONTENDERS:
        per_step[contender] = (count(contender, args.long) - count(contender, args.short)) / steps
        print(f"{contender}: {per_step[contender]:,.0f} instructions per step", flush=True)
    if "tinynet" in per_step:
        for other in (c for c in per_step if c != "tinynet"):
            print(f"tinynet ÷ {other}: {per_step['tinynet'] / per_step[other]:.3f}")


if __name__ == "__main__":
    main()
