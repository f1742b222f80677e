"""One shuffled epoch over a float32 memmap larger than the memory budget, and its peak RSS.

    .venv/bin/python benchmarks/memmap_epoch.py               # the issue's 1.2 GB file
    .venv/bin/python benchmarks/memmap_epoch.py --mb 8         # a few MB: a smoke run

A temporary folder gets ``x.npy`` (float32, ``(N, 64)``, written chunk by chunk,
never whole in memory) and ``y.npy`` (int64 labels of 10 classes that a small MLP
can learn: the arg-max of a fixed random projection of the row). A fresh worker
process opens both with ``np.load(..., mmap_mode="r")``, builds a float32
64-128-10 MLP and trains it with ``tn.fit`` for one shuffled epoch (Adam,
batch 512, one BLAS thread). It reports the loss on a held-out in-memory sample before and after,
and the mean batch loss of the epoch's first and last 5 % of batches. The parent
reads the worker's peak resident set from ``getrusage(RUSAGE_CHILDREN).ru_maxrss``
(file pages the worker mapped count too, which is why the loader releases them).

Must show (issue 17): the loss falls, and peak RSS <= 500 MB for the 1.2 GB file.
Not a CI test (it writes 1.2 GB); ``tests/acceptance/test_benchmarks_smoke.py``
runs it with ``--mb 8``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

FEATURES, CLASSES, HIDDEN = 64, 10, 128
CHUNK_ROWS = 2**16  # rows written per step: 16 MB of float32
LIMIT_MB = 500.0


def write_data(folder: Path, rows: int, seed: int = 0) -> tuple[Path, Path]:
    """``x.npy`` (float32 ``(rows, 64)``) and ``y.npy`` (int64 labels), written chunk by chunk
    with plain file writes: this process never maps the file, so its memory stays small (a
    child started from a process with a large peak would inherit that peak in ``ru_maxrss``)."""
    rng = np.random.default_rng(seed)
    projection = rng.standard_normal((FEATURES, CLASSES))
    x_path, y_path = folder / "x.npy", folder / "y.npy"
    with open(x_path, "wb") as x_file, open(y_path, "wb") as y_file:
        for file, dtype, shape in ((x_file, "<f4", (rows, FEATURES)), (y_file, "<i8", (rows,))):
            np.lib.format.write_array_header_1_0(file, {"descr": dtype, "fortran_order": False,
                                                        "shape": shape})
        for start in range(0, rows, CHUNK_ROWS):
            chunk = rng.standard_normal((min(CHUNK_ROWS, rows - start), FEATURES)).astype(np.float32)
            x_file.write(chunk.tobytes())
            y_file.write(np.argmax(chunk @ projection, axis=1).astype(np.int64).tobytes())
    return x_path, y_path


def held_out(rows: int = 4096, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A sample from the same distribution, kept in memory, to measure the loss on."""
    rng = np.random.default_rng(seed)
    projection = rng.standard_normal((FEATURES, CLASSES))  # the same draw as write_data's
    x = np.random.default_rng(seed + 1).standard_normal((rows, FEATURES)).astype(np.float32)
    return x, np.argmax(x @ projection, axis=1)


def worker(folder: Path, batch_size: int) -> dict[str, Any]:
    """Train for one shuffled epoch over the mapped files (runs in the child process)."""
    sys.path.insert(0, str(ROOT))
    import tinynet as tn

    x = np.load(folder / "x.npy", mmap_mode="r")
    y = np.load(folder / "y.npy", mmap_mode="r")
    rng = np.random.default_rng(0)
    model = tn.Sequential([tn.Dense(FEATURES, HIDDEN, rng=rng, dtype=np.float32), tn.ReLU(),
                           tn.Dense(HIDDEN, CLASSES, rng=rng, dtype=np.float32)])
    loss = tn.SoftmaxCrossEntropy()
    x_val, y_val = held_out()
    before = tn.evaluate(model, loss, x_val, y_val)

    class BatchLosses(tn.Callback):
        def __init__(self) -> None:
            self.values: list[float] = []

        def on_batch_end(self, batch: int, loss: float, size: int) -> None:
            self.values.append(loss)

    losses = BatchLosses()
    started = time.perf_counter()
    loader = tn.DataLoader(x, y, batch_size=batch_size, shuffle=True, rng=1)
    checked = time.perf_counter()
    tn.fit(model, loss, tn.Adam(model.parameters(), lr=1e-3), loader, 1, progress="none",
           callbacks=[losses])
    done = time.perf_counter()
    after = tn.evaluate(model, loss, x_val, y_val)
    edge = max(1, len(losses.values) // 20)
    return {"rows": int(x.shape[0]), "file_mb": (x.nbytes + y.nbytes) / 2**20, "batches": len(losses.values),
            "check_seconds": checked - started, "epoch_seconds": done - checked,
            "val_loss_before": before["loss"], "val_loss_after": after["loss"],
            "val_accuracy_after": after["accuracy"],
            "first_batches_loss": float(np.mean(losses.values[:edge])),
            "last_batches_loss": float(np.mean(losses.values[-edge:])),
            "vm_hwm_mb": _status_mb("VmHWM"), "cpu_seconds": _cpu_seconds()}


def _status_mb(field: str) -> float | None:
    """A field of ``/proc/self/status`` in MB (Linux), a cross-check of ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=1200.0, help="size of x.npy in MB (default 1200)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--limit-mb", type=float, default=LIMIT_MB,
                        help="peak RSS allowed (default 500; checked only for files of 1 GB or more)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # internal: the child's side
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.batch_size)))
        return 0

    rows = max(args.batch_size, int(args.mb * 2**20 / (FEATURES * 4)))
    with tempfile.TemporaryDirectory(prefix="tinynet-memmap-") as tmp:
        started = time.perf_counter()
        write_data(Path(tmp), rows)
        written = time.perf_counter() - started
        # One BLAS thread: a 64-128-10 MLP gains nothing from more, and the run stays steady
        # on a machine shared with other work.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        command = [sys.executable, __file__, "--worker", tmp, "--batch-size", str(args.batch_size)]
        child = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return child.returncode
        result = json.loads(child.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KB on Linux
    result.update(write_seconds=written, peak_rss_mb=peak_mb)
    falls = result["val_loss_after"] < result["val_loss_before"] and (
        result["last_batches_loss"] < result["first_batches_loss"])
    measured = result["file_mb"] >= 1000
    within = peak_mb <= args.limit_mb
    print(f"memmap epoch: x.npy {rows:,} x {FEATURES} float32 + y.npy int64 = {result['file_mb']:,.0f} MB on "
          f"disk (written in {written:.1f} s)")
    print(f"  one shuffled epoch, {result['batches']:,} batches of {args.batch_size}: checks "
          f"{result['check_seconds']:.2f} s, epoch {result['epoch_seconds']:.1f} s")
    print(f"  held-out loss {result['val_loss_before']:.4f} -> {result['val_loss_after']:.4f} "
          f"(accuracy {result['val_accuracy_after']:.3f}); batch loss, first 5 % "
          f"{result['first_batches_loss']:.4f} -> last 5 % {result['last_batches_loss']:.4f}")
    print(f"  CPU time of the training process {result['cpu_seconds']:.1f} s (user + system: the "
          f"system part is mostly the reads of the shuffled rows, one preadv each)")
    hwm = "" if result["vm_hwm_mb"] is None else f", its own VmHWM {result['vm_hwm_mb']:,.0f} MB"
    print(f"  peak RSS of the training process: {peak_mb:,.0f} MB{hwm} "
          f"(limit {args.limit_mb:,.0f} MB{'' if measured else ', not checked below 1 GB'})")
    print(f"Must show 3: loss falls: {'yes' if falls else 'NO'}; peak RSS <= {args.limit_mb:,.0f} MB: "
          f"{('yes' if within else 'NO') if measured else 'n/a (small file)'}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if falls and (within or not measured) else 1


if __name__ == "__main__":
    sys.exit(main())
