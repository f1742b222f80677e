"""docs/benchmarks.md, generated from one run's `Results` (never edited by hand)."""

from __future__ import annotations

from typing import Any

from report import (
    MB,
    RECOMMENDED,
    SUMMARY_COLUMNS,
    Results,
    contender_rows,
    fmt_load,
    machine,
    must_show,
    summary_rows,
)

METHOD = """\
- **One process, interleaved.** Each workload's data is made once. Every contender first runs a
  short untimed warm-up (a few steps). Then, in each round, every contender builds a fresh model
  (untimed) and trains it once through the whole workload (timed); the order of the contenders
  rotates from round to round. The tables give the median over the rounds and the min–max.
  Every ratio is the median over the rounds of the two contenders' times *in the same round*:
  they ran back to back, so a drift of the machine's speed between rounds moves both and cancels.
  The iris run is timed in five times the rounds, each a fifth as long (300 of its 1,500
  epochs, about 40 ms): this machine's speed changes within a second, and by a third, so
  each pair must be close in time, and a median over 25 rounds moves little with it.
  (Shorter rounds would charge tinynet's `fit` its fixed cost, about 0.2 ms of checks and
  first-step planning, more often than the article's run does.)
- **A shared machine.** For each workload the run measures how many cores *other* processes
  used meanwhile (/proc/stat minus the benchmark's own processes). When that exceeds 0.2 cores,
  the workload is measured again (`--retries`, default once) and the quieter attempt is kept.
  This virtual machine also has noise that no process inside it shows: between runs, with no
  other process busy, the same code's absolute times (the floor's too) have differed by up to
  about 1.5x. Compare ratios within one run (contenders interleaved), not times across runs.
- **What is timed.** Only the training call: `tn.fit(...)`, the hand-written loop, or
  `MLPClassifier.fit` (which initialises its weights and validates `x` inside `fit`, so that is in
  its time). Data generation, `tn.DataLoader(...)` and model construction are not timed.
- **Same work for everyone.** The same rows in the same batches, in order, no shuffling. Every
  contender computes the loss of each batch; none computes accuracy (tinynet runs with
  `metrics=[]`, `progress="none"`).
- **tinynet**: public API only: `tn.DataLoader(x, y, batch_size, last_batch, dtype)`,
  `tn.Sequential` of `tn.Dense(dtype=...)` / `tn.LeakyReLU(0.01)`, `tn.SoftmaxCrossEntropy`,
  `tn.SGD`, `tn.fit`. Integer labels. **tinynet (fused=False)**: the same with
  `tn.SGD(..., fused=False)`, numpy's two-pass reference update instead of the default one-pass
  BLAS update: its `÷ tinynet` is what the fused update buys.
- **numpy einsum loop**: the article's training loop (ARTICLE.md) generalised to any number of
  layers: plain `np.einsum` specs, `np.where` leaky ReLU, softmax, one-hot cross-entropy,
  SGD after every batch. **numpy matmul loop**: the same loop with every `np.einsum` written as `@`.
  Both loops cut their batches once, before the first epoch, and compute the loss but no metric
  (tinynet runs with `metrics=[]` to match).
- **GEMM floor**: only the matrix products a step needs (forward `x @ W.T` per layer, `dW` per
  layer, `dX` for all but the first layer: 8 for 784-256-256-10), into preallocated arrays with
  `np.matmul(..., out=)`. No bias, activation, softmax or update. **GEMM floor + update**: the
  same plus numpy's `W -= lr * dW` for every weight each step. The plain floor never writes its
  weights, so both cores keep them cached; every real training step writes them, and the next
  GEMM's threads must fetch them again. numpy's update is two passes on one core over a gradient
  that BLAS threads on both cores just wrote; tinynet's optimizers make the same update one
  `axpy` pass through numpy's own OpenBLAS, split over its threads when that pays
  (`tinynet/engine/blas.py`).
- **scikit-learn**: `MLPClassifier(solver="sgd", momentum=0, nesterovs_momentum=False, alpha=0,
  learning_rate_init=lr, batch_size, max_iter=epochs, tol=0, n_iter_no_change=epochs+1,
  shuffle=False, early_stopping=False)`. It has no leaky ReLU, so it runs **`activation="relu"`**.
  It keeps a smaller last batch, so it is given exactly the rows the others use
  (the iris run's 96 rows). The run checks that it did all epochs.
- **PyTorch** (CPU, when installed): the same net (`nn.Linear` / `nn.LeakyReLU(0.01)`),
  `nn.CrossEntropyLoss` on integer labels, `torch.optim.SGD`, zero-copy slices of the same arrays,
  `loss.item()` each step, `torch.set_num_threads(cores)`. It runs in a worker process of its own
  that rebuilds the same data from the same seed: two BLAS libraries in one process (numpy's
  OpenBLAS, torch's MKL and OpenMP pool) can spin on the same cores, and importing torch
  would change what the numpy contenders measure. The parent is idle while the worker trains.
  The section "Two BLAS libraries in one process" measures what sharing a process does.
- **Data**: the article's iris run uses the real data (`tinynet.data.datasets.article_iris`, 100
  training rows, batch 32, last batch dropped = 3 steps per epoch, the article's uniform init
  from `default_rng(42)`). The MLP workloads use **synthetic data**: uniform [0, 1) features and
  uniform random integer labels (the arithmetic of a step does not depend on the values),
  He-normal init, lr 0.01, a smaller last batch kept (469 steps per epoch at batch 128).
"""

DESIGN = """\
Numbers behind choices in the code, measured once when each choice was made (784-256-256-10
MLP, float32, during development) and **not re-measured by this run**: the
code keeps only the reason, and these are the figures.

- **BLAS threads for the fused update** (`tinynet.engine.blas.TunedAxpy`): at batch 128, where
  BLAS threads on both cores just wrote the gradient, 779 µs per training step with the update
  on BLAS threads and 882 µs on one thread; at batch 1, where the weight gradient is an outer
  product numpy wrote on one core, 285 µs with threads and 167 µs without. Hence a per-parameter
  tuner that times both on its first six updates and keeps the faster.
- **BLAS threshold** (`BLAS_MIN_SIZE` = 32,768 elements): a foreign call through ctypes costs
  about 2 µs, more than numpy's second pass over a smaller array.
- **The update's share**: before the fused update, numpy's `w -= lr * g` cost more than a quarter
  of the matrix products' time in an MLP step, and tinynet ran at 1.46x the GEMM floor; with it,
  1.32x.
- **`row_max`** (`tinynet.engine.stable_functions`): numpy reduces a short last axis row by row:
  6 µs for 128 x 10 logits, 43 µs for 1024 x 10; the maximum over the first axis of a
  transposed copy takes 1.7 µs and 4.6 µs, copy included.
- **A sum over the batch axis** (`"Bo->o"` in `tinynet.engine.contraction`): a matrix-vector
  product with a cached ones vector runs 2-3x faster than `sum(axis=0)`.
"""

MEMORY = """\
Measured in a fresh process running one float32 epoch of the mlp-f32 workload through
`tn.fit` (batch 128). **tracemalloc** is started before the data is made, so its peak is the
whole working set of the run: the data set itself, the model, the optimizer and every temporary
of the training loop (numpy reports each array buffer to tracemalloc). It does not see memory
that BLAS allocates for itself; the **resident high-water mark delta** (`VmHWM` after the epoch
minus before the data, with BLAS already started) does, but it also counts memory the allocator
keeps after `free`. The verdict uses tracemalloc; 1 MB = 10^6 bytes.
"""


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _kernel_rows(kernel: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, probe in kernel.items():
        arch = ", ".join(str(p.get("architecture")) for p in probe["threadpools"]
                         if p["internal_api"] == "openblas") or "?"
        ms = probe["ms_per_step"]
        rows.append([label, arch, *[f"{ms[k]:.3f}" for k in ("GEMM floor", "numpy matmul loop",
                                                              "tinynet")],
                     fmt_load(probe.get("others_load"))])
    return rows


def _contention(probe: dict[str, Any], res: Results) -> str:
    names = list(probe["after_ms"])
    rows = [[n, f"{probe['before_ms'][n]:.3f}" if n in probe["before_ms"] else "—",
             f"{probe['after_ms'][n]:.3f}"] for n in names]
    worker = res.median("mlp-f32", "PyTorch")
    steps = next((w.steps for w in res.works if w.name == "mlp-f32"), None)
    if worker is not None and steps:
        rows.append(["PyTorch (its own worker process: the mlp-f32 table)", "—",
                     f"{1e3 * worker / steps:.3f}"])
    pools = ", ".join(f"{p['internal_api']} (threads={p['num_threads']})" for p in probe["threadpools"])
    return (f"One fresh process times {probe['steps']} float32 MLP steps (batch 128) of the numpy "
            "contenders, then imports torch and times them again, interleaved with torch "
            f"training in the same process. threadpoolctl then sees: {pools} (torch's MKL is "
            f"linked statically and not listed). Other processes used "
            f"{fmt_load(probe.get('others_load'))} cores meanwhile.\n\n"
            + table(["contender", "ms/step before torch", "ms/step with torch in the process"],
                    rows))


def render(res: Results) -> str:
    parts = [
        "# Benchmarks",
        "Generated by `benchmarks/run.py`; do not edit by hand. Regenerate with (from the "
        "repository root, PyTorch installed in the dev venv):",
        f"```bash\n{RECOMMENDED}\n```",
        f"This file was produced by `{res.command}` (mode {res.mode}, {res.rounds} rounds, "
        f"whole run {res.wall:.0f} s). The recommended command unsets the machine's "
        "`OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` for itself only; see \"OpenBLAS kernel\" "
        "below for why.",
        "## Summary: tinynet's time ÷ each contender's (median over the rounds)",
        "Below 1: tinynet is faster. Each row is one workload; details below. The last column "
        "is how many of the machine's cores *other* processes used on average while the "
        "workload ran (from /proc/stat minus the benchmark's own processes): well above 0 "
        "means a busy machine and inflated, noisier times.",
        table(["workload", *[f"÷ {c}" for c in SUMMARY_COLUMNS], "others' load (cores)"],
              summary_rows(res)),
        "## Must show (issue 3)",
        table(["item", "measured", "verdict"], must_show(res)),
        "## Times per workload",
        "`÷ tinynet`: this contender's time ÷ tinynet's in the same round, the median over the "
        "rounds (above 1: tinynet is faster).",
    ]
    for work in res.works:
        if work.name in res.times:
            attempts = res.attempts.get(work.name, 1)
            kept = "" if attempts == 1 else f" (the quietest of {attempts} attempts)"
            parts.append(f"### {work.name}: {work.title}\n\n{work.describe()}; other processes "
                         f"used {fmt_load(res.foreign.get(work.name))} cores meanwhile{kept}.\n\n"
                         + table(["contender", "median s", "min–max s", "µs/step", "÷ tinynet"],
                                 contender_rows(res, work)))
    mem = res.probes.get("memory")
    if mem:
        bound = mem["data"] + 3 * mem["params"] + 50 * MB
        parts += ["## Peak memory (float32 MLP epoch)", MEMORY, table(["quantity", "MB"], [
            ["data set (x float32 + y int64)", f"{mem['data'] / MB:.1f}"],
            ["parameters (float32)", f"{mem['params'] / MB:.2f}"],
            ["bound: data + 3x parameters + 50 MB", f"{bound / MB:.1f}"],
            ["peak, tracemalloc (whole run, data included): the verdict",
             f"{mem['peak_tracemalloc'] / MB:.1f}"],
            ["peak while making the data, loader and model", f"{mem['peak_setup'] / MB:.1f}"],
            ["peak during `fit` (data included)", f"{mem['peak_fit'] / MB:.1f}"],
            ["resident high-water mark delta (cross-check)",
             "n/a" if mem["rss_delta"] is None else f"{mem['rss_delta'] / MB:.1f}"],
        ])]
    kernel = res.probes.get("kernel")
    if kernel:
        parts += ["## OpenBLAS kernel: with and without the machine's OPENBLAS_* variables",
                  "This machine sets `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` (older OpenBLAS "
                  "builds need them on this CPU). They force an older kernel on the current "
                  "numpy. Each row is a fresh process timing float32 MLP steps (batch 128) under "
                  "that environment; the kernel is what threadpoolctl reports there. The main "
                  "tables were measured under the environment listed under Machine.",
                  table(["environment", "OpenBLAS kernel", "floor ms/step", "matmul loop ms/step",
                         "tinynet ms/step", "others' load (cores)"], _kernel_rows(kernel))]
    if res.probes.get("contention"):
        parts += ["## Two BLAS libraries in one process", _contention(res.probes["contention"], res)]
    parts += ["## Machine", table(["", ""], [[k, v] for k, v in machine(res)]),
              "## Method", METHOD, "## Measurements behind the design", DESIGN]
    return "\n\n".join(parts) + "\n"
