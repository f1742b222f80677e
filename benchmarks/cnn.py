"""A LeNet-5-style CNN (issue 13) against PyTorch CPU and a plain numpy im2col loop: one epoch of
28x28x1 float32 images (synthetic: the arithmetic does not depend on the values), batch 64,
SGD(lr=0.01), cross-entropy on integer labels; and the peak memory of tinynet's epoch.

    conv 1->6 5x5 pad 2, ReLU, max pool 2 -> conv 6->16 5x5, ReLU, max pool 2
    -> Flatten 400 -> Dense 120, ReLU -> Dense 84, ReLU -> Dense 10

Must show: tinynet's median at most 1.5x PyTorch's; the epoch's peak memory at most the
data + 3x the parameters + 100 MB.

    .venv/bin/python benchmarks/cnn.py [--rounds 5] [--quick | --smoke] [--no-torch] [--cpu-time]
    .venv/bin/python benchmarks/run.py --only lenet --no-write

PyTorch runs in ``torch_worker.py``'s process (same threads: numpy's OpenBLAS and torch
both use every core); rounds alternate the contenders, order rotating, so all see the same
load. The memory is measured in a fresh process (tracemalloc).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

NAME = "lenet"
LIMIT = 1.5  # tinynet's median / PyTorch's, at most
MEMORY_SLACK = 100e6  # bytes over the data + 3x the parameters
ROWS = {"full": 9_600, "quick": 3_200, "smoke": 128}
BATCH, CLASSES, LR = 64, 10, 0.01
WARM_UP_STEPS = 2
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
CONTENDERS = ("tinynet", "numpy im2col loop", "PyTorch")
Array = Any
Runner = Callable[[], float]


def make_data(mode: str) -> tuple[Array, Array]:
    """``(x, y)``: ``(rows, 1, 28, 28)`` float32 uniform in [0, 1) and int64 labels, from seed 0."""
    rng = np.random.default_rng(0)
    rows = ROWS[mode]
    x = rng.random((rows, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, CLASSES, rows, dtype=np.int64)
    return x, y


def describe(mode: str) -> str:
    rows = ROWS[mode]
    return f"LeNet-5, float32 28x28x1, batch {BATCH}, 1 epoch of {rows:,} images = {-(-rows // BATCH)} steps"


def tinynet_lenet(seed: int = 0) -> Any:
    import tinynet as tn

    rng = np.random.default_rng(seed)
    f32 = np.float32
    return tn.Sequential(
        tn.Conv2D(1, 6, 5, padding=2, rng=rng, dtype=f32), tn.ReLU(), tn.MaxPool2D(2),
        tn.Conv2D(6, 16, 5, rng=rng, dtype=f32), tn.ReLU(), tn.MaxPool2D(2),
        tn.Flatten(), tn.Dense(400, 120, rng=rng, dtype=f32), tn.ReLU(),
        tn.Dense(120, 84, rng=rng, dtype=f32), tn.ReLU(), tn.Dense(84, CLASSES, rng=rng, dtype=f32))


def prepare_tinynet(x: Array, y: Array, clock: Callable[[], float] = time.perf_counter) -> Runner:
    """tinynet through its public API (``fit``, ``metrics=[]``: the loss per batch, no accuracy)."""
    import tinynet as tn

    model = tinynet_lenet()
    loader = tn.DataLoader(x, y, batch_size=BATCH, dtype=np.float32)
    loss = tn.SoftmaxCrossEntropy()
    optimizer = tn.SGD(model.parameters(), lr=LR)

    def run() -> float:
        start = clock()
        tn.fit(model, loss, optimizer, loader, 1, progress="none", metrics=[])
        return clock() - start

    return run


def _conv(x: Array, w: Array, b: Array, pad: int) -> tuple[Array, Array]:
    """im2col convolution: ``(y, cols)``, ``cols`` the ``(B h w, c k k)`` matrix (one copy)."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[-1]
    win = sliding_window_view(x, (k, k), axis=(2, 3))                   # (B, c, h, w, k, k), a view
    batch, _, h, wd = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(batch * h * wd, -1)  # im2col
    y = cols @ w.reshape(w.shape[0], -1).T + b
    return y.reshape(batch, h, wd, -1).transpose(0, 3, 1, 2), cols


def _conv_backward(g: Array, cols: Array, w: Array, x_shape: tuple[int, ...], pad: int) -> tuple[Array, ...]:
    """``(dx, dw, db)``: the weight gradient from the saved columns, dx by col2im."""
    out = w.shape[0]
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, out)
    dw = (g2.T @ cols).reshape(w.shape)
    db = g2.sum(axis=0)
    batch, _, h, wd = g.shape
    k = w.shape[-1]
    dcols = (g2 @ w.reshape(out, -1)).reshape(batch, h, wd, -1, k, k)
    dx = np.zeros((x_shape[0], x_shape[1], x_shape[2] + 2 * pad, x_shape[3] + 2 * pad), dtype=g.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + h, j:j + wd] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return (dx[:, :, pad:dx.shape[2] - pad, pad:dx.shape[3] - pad] if pad else dx), dw, db


def _pool(x: Array) -> tuple[Array, Array]:
    """2x2 max pool: ``(y, which)``, ``which`` the argmax within each window."""
    b, c, h, w = x.shape
    win = x.reshape(b, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(b, c, h // 2, w // 2, 4)
    which = win.argmax(axis=-1)
    return np.take_along_axis(win, which[..., None], axis=-1)[..., 0], which


def _pool_backward(g: Array, which: Array) -> Array:
    b, c, h, w = g.shape
    spread = (which[..., None] == np.arange(4)) * g[..., None]
    return spread.reshape(b, c, h, w, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(b, c, 2 * h, 2 * w)


def prepare_numpy(x: Array, y: Array, clock: Callable[[], float] = time.perf_counter) -> Runner:
    """The plain loop a numpy user writes (CS231n's im2col): windows, one reshape copy, one
    matmul per convolution; hand-written backward, col2im by k x k strided adds; plain SGD."""
    rng = np.random.default_rng(0)

    def he(shape: tuple[int, ...], fan_in: int) -> Array:
        return (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32)

    params = [he((6, 1, 5, 5), 25), np.zeros(6, np.float32), he((16, 6, 5, 5), 150), np.zeros(16, np.float32),
              he((120, 400), 400), np.zeros(120, np.float32), he((84, 120), 120), np.zeros(84, np.float32),
              he((10, 84), 84), np.zeros(10, np.float32)]
    lr = np.float32(LR)
    batches = [(x[a:a + BATCH], y[a:a + BATCH]) for a in range(0, len(x), BATCH)]

    def step(xb: Array, yb: Array) -> float:
        w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
        z1, cols1 = _conv(xb, w1, b1, 2)
        a1 = np.maximum(z1, 0)
        p1, which1 = _pool(a1)
        z2, cols2 = _conv(p1, w2, b2, 0)
        a2 = np.maximum(z2, 0)
        p2, which2 = _pool(a2)
        f = p2.reshape(len(xb), -1)
        h3 = np.maximum(f @ w3.T + b3, 0)
        h4 = np.maximum(h3 @ w4.T + b4, 0)
        logits = h4 @ w5.T + b5
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(yb))
        loss = -float(log_p[rows, yb].mean())
        d = np.exp(log_p)
        d[rows, yb] -= 1
        d /= np.float32(len(yb))
        grads = [None] * 10
        grads[8], grads[9] = d.T @ h4, d.sum(axis=0)
        d = (d @ w5) * (h4 > 0)
        grads[6], grads[7] = d.T @ h3, d.sum(axis=0)
        d = (d @ w4) * (h3 > 0)
        grads[4], grads[5] = d.T @ f, d.sum(axis=0)
        d = (d @ w3).reshape(p2.shape)
        d = _pool_backward(d, which2) * (z2 > 0)
        d, grads[2], grads[3] = _conv_backward(d, cols2, w2, p1.shape, 0)
        d = _pool_backward(d, which1) * (z1 > 0)
        _, grads[0], grads[1] = _conv_backward(d, cols1, w1, xb.shape, 2)
        for p, g in zip(params, grads):
            p -= lr * g
        return loss

    def run() -> float:
        start = clock()
        for xb, yb in batches:
            step(xb, yb)
        return clock() - start

    return run


def time_torch(request: dict[str, Any]) -> float:
    """One epoch of the same LeNet in ``torch.nn`` (called inside the PyTorch worker process);
    ``request["clock"] == "cpu"``: one thread, its CPU time."""
    import torch
    from torch import nn

    clock = CLOCKS[request.get("clock", "wall")]
    if request.get("clock") == "cpu":
        torch.set_num_threads(1)

    x, y = make_data(request["mode"])
    if request.get("steps"):
        x, y = x[:request["steps"] * BATCH], y[:request["steps"] * BATCH]
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, CLASSES))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    batches = [(xt[a:a + BATCH], yt[a:a + BATCH]) for a in range(0, len(x), BATCH)]
    start = clock()
    total = 0.0
    for xb, yb in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return clock() - start


def probe_memory(mode: str) -> dict[str, float]:
    """Peak bytes (tracemalloc) from before the data is made to the end of one ``fit`` epoch."""
    import tracemalloc

    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS's threads and buffers before the baseline
    tracemalloc.start()
    x, y = make_data(mode)
    run = prepare_tinynet(x, y)
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    params = sum(p.data.nbytes for p in tinynet_lenet().parameters())
    return {"data": float(x.nbytes + y.nbytes), "params": float(params), "peak": float(peak)}


def memory_in_fresh_process(mode: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-probe", mode],
                          capture_output=True, text=True, check=True)
    answer: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def measure(mode: str = "full", rounds: int = 5, torch: bool = True,
            log: Callable[[str], None] = print, clock: str = "wall") -> dict[str, Any]:
    """Warm every contender up on a few steps, then ``rounds`` interleaved rounds (order rotating),
    then the memory probe. PyTorch (``torch``) runs in a ``torch_worker.TorchWorker``.

    ``clock="cpu"``: every contender on one thread (BLAS included), timed by that thread's CPU
    time, which other processes on a busy machine do not inflate (cache sharing aside)."""
    from threadpoolctl import threadpool_limits
    from torch_worker import TorchWorker, torch_available

    worker = TorchWorker() if torch and torch_available() else None
    try:
        with threadpool_limits(limits=1 if clock == "cpu" else None, user_api="blas"):
            times = _interleaved(mode, rounds, worker, log, clock)
    finally:
        if worker is not None:
            worker.close()
    return {"mode": mode, "rounds": rounds, "workload": describe(mode), "times": times, "clock": clock,
            "memory": memory_in_fresh_process(mode)}


def _interleaved(mode: str, rounds: int, worker: Any, log: Callable[[str], None],
                 clock: str) -> dict[str, list[float]]:
    x, y = make_data(mode)
    prepares: dict[str, Callable[[Array, Array], Runner]] = {
        "tinynet": lambda xs, ys: prepare_tinynet(xs, ys, CLOCKS[clock]),
        "numpy im2col loop": lambda xs, ys: prepare_numpy(xs, ys, CLOCKS[clock])}
    if worker is not None:
        prepares["PyTorch"] = lambda xs, ys: (lambda: worker.ask(
            {"module": "cnn", "mode": mode, "steps": -(-len(xs) // BATCH), "clock": clock}))
    names = [n for n in CONTENDERS if n in prepares]
    warm = x[:WARM_UP_STEPS * BATCH], y[:WARM_UP_STEPS * BATCH]
    for name in names:
        prepares[name](*warm)()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(prepares[name](x, y)())
        log(f"{NAME}: round {r + 1}/{rounds} done")
    return times


def ratio(result: dict[str, Any], other: str = "PyTorch") -> float | None:
    times = result["times"]
    if other not in times or "tinynet" not in times:
        return None
    return statistics.median(times["tinynet"]) / statistics.median(times[other])


def rows(result: dict[str, Any]) -> list[list[str]]:
    """Per contender: median ms per step, min–max ms per step, its median ÷ tinynet's."""
    steps = -(-ROWS[result["mode"]] // BATCH)
    tiny = statistics.median(result["times"]["tinynet"])
    out = []
    for name, ts in result["times"].items():
        med, low, high = (t / steps * 1e3 for t in (statistics.median(ts), min(ts), max(ts)))
        out.append([name, f"{med:.1f}", f"{low:.1f}–{high:.1f}",
                    "1 (reference)" if name == "tinynet" else f"{statistics.median(ts) / tiny:.2f}x"])
    return out


def verdicts(result: dict[str, Any]) -> list[list[str]]:
    r = ratio(result)
    mem = result["memory"]
    bound = mem["data"] + 3 * mem["params"] + MEMORY_SLACK
    return [
        [f"tinynet ÷ PyTorch <= {LIMIT}", "n/a" if r is None else f"{r:.2f}x",
         "n/a (PyTorch left out)" if r is None else ("met" if r <= LIMIT else "NOT met")],
        ["peak memory <= data + 3x parameters + 100 MB",
         f"{mem['peak'] / 1e6:.1f} MB (bound {bound / 1e6:.1f} MB: data {mem['data'] / 1e6:.1f} MB, "
         f"parameters {mem['params'] / 1e6:.2f} MB)", "met" if mem["peak"] <= bound else "NOT met"],
    ]


def verdict(result: dict[str, Any]) -> str:
    """One line: each Must-show item, measured, and whether it is met."""
    return "; ".join(f"{item}: {measured}, {met}" for item, measured, met in verdicts(result))


def markdown(result: dict[str, Any]) -> str:
    def table(header: list[str], body: list[list[str]]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])

    return "\n\n".join([
        f"## {NAME}: a LeNet-5 CNN (issue 13)",
        f"{describe(result['mode'])}, {result['rounds']} interleaved rounds"
        + ("; CPU time of one thread, each contender single-threaded" if result.get("clock") == "cpu" else "")
        + "; `÷ tinynet`: this "
        "contender's median ÷ tinynet's. The numpy loop is the plain im2col loop a user would "
        "write (windows, one reshape copy, one matmul per convolution, col2im by k x k adds).",
        table(["contender", "median ms/step", "min–max ms/step", "÷ tinynet"], rows(result)),
        table(["Must show (issue 13)", "measured", "verdict"], verdicts(result)),
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help=f"{ROWS['quick']:,} images, 3 rounds")
    size.add_argument("--smoke", action="store_true", help=f"{ROWS['smoke']} images, 1 round")
    size.add_argument("--memory-probe", metavar="MODE", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--cpu-time", action="store_true",
                        help="one thread each, timed by its CPU time (for a busy machine)")
    args = parser.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(probe_memory(args.memory_probe)))
        return 0
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    rounds = args.rounds or {"full": 5, "quick": 3, "smoke": 1}[mode]
    result = measure(mode, rounds, torch=not args.no_torch, clock="cpu" if args.cpu_time else "wall")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
