"""The contenders. Each ``prepare_*(work, x, y)`` builds a fresh model (untimed)
and returns ``run() -> seconds``, which trains it once through the workload and
times only the training: ``tn.fit``, the hand-written loop, or ``MLPClassifier.fit``
(scikit-learn initialises its weights and validates ``x`` inside ``fit``, so that
is in its time). PyTorch's contender lives in ``torch_worker.py`` (another process).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from workloads import Array, Workload, batch_bounds, one_hot

Runner = Callable[[], float]
ALPHA = 0.01  # the leaky ReLU slope of every workload


def init_params(work: Workload, dtype: Any) -> list[tuple[Array, Array]]:
    """``[(W, b), ...]`` with W ``(out, in)``: the article's uniform init for ``init="uniform"``
    (one ``default_rng(42)``: W then b per layer), else He-normal weights and zero biases."""
    rng = np.random.default_rng(42)
    params = []
    for n_in, n_out in zip(work.sizes, work.sizes[1:]):
        if work.init == "uniform":
            w, b = rng.random((n_out, n_in)), rng.random(n_out)
        else:
            w, b = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in), np.zeros(n_out)
        params.append((w.astype(dtype), b.astype(dtype)))
    return params


def prepare_tinynet(work: Workload, x: Array, y: Array, fused: bool | None = None) -> Runner:
    """tinynet through its public API; ``metrics=[]`` so that, like every other
    contender, it computes the loss per batch but no accuracy. ``fused`` is SGD's: None
    (the default, what users get) takes the one-pass BLAS update when it is usable."""
    import tinynet as tn

    dtype = np.dtype(work.dtype)
    rng = np.random.default_rng(42)
    layers: list[Any] = []
    for index, (n_in, n_out) in enumerate(zip(work.sizes, work.sizes[1:])):
        if index:
            layers.append(tn.LeakyReLU(ALPHA))
        layers.append(tn.Dense(n_in, n_out, init=work.init, rng=rng, dtype=dtype))
    model = tn.Sequential(*layers)
    loader = tn.DataLoader(x[:work.rows], y[:work.rows], batch_size=work.batch,
                           last_batch=work.last_batch, dtype=dtype)
    loss = tn.SoftmaxCrossEntropy()
    optimizer = tn.SGD(model.parameters(), lr=work.lr, fused=fused)

    def run() -> float:
        start = time.perf_counter()
        tn.fit(model, loss, optimizer, loader, work.epochs, progress="none", metrics=[])
        return time.perf_counter() - start

    return run


def _prepare_loop(work: Workload, x: Array, y: Array, use_einsum: bool) -> Runner:
    """The article's training loop (ARTICLE.md), generalised to any number of dense
    layers: one-hot targets, ``np.where`` leaky ReLU, softmax, summed epoch cost,
    plain SGD after every batch. ``use_einsum`` picks the article's plain
    ``np.einsum`` specs or the same products hand-written with ``@``. The batches are
    sliced once, before the first epoch, and no metric is computed: the lean loop."""
    dtype = np.dtype(work.dtype)
    one, alpha = dtype.type(1), dtype.type(ALPHA)
    params = init_params(work, dtype)
    target = one_hot(y, work.sizes[-1], dtype)
    batches = [(x[a:b], target[a:b]) for a, b in batch_bounds(work)]
    last = len(params) - 1

    def step(xb: Array, tb: Array) -> float:
        size = xb.shape[0]
        inputs, pre = [xb], []
        for index, (w, b) in enumerate(params):
            z = (np.einsum("hi,Bi->Bh", w, inputs[-1]) if use_einsum else inputs[-1] @ w.T) + b
            pre.append(z)
            if index < last:
                inputs.append(np.where(z > 0, z, alpha * z))
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        log_p = np.log(p)
        cost = -(np.einsum("Bi,Bi", tb, log_p) if use_einsum else np.sum(tb * log_p)) / size
        d = p - tb
        for index in range(last, -1, -1):
            w, b = params[index]
            h = inputs[index]
            dw = (np.einsum("Bi,Bj->ij", d, h) if use_einsum else d.T @ h) / size
            db = d.sum(axis=0) / size
            if index:
                dh = np.einsum("Bi,ij->Bj", d, w) if use_einsum else d @ w
                d = dh * np.where(pre[index - 1] > 0, one, alpha)
            w -= work.lr * dw
            b -= work.lr * db
        return float(cost)

    def run() -> float:
        start = time.perf_counter()
        for _ in range(work.epochs):
            epoch_cost = 0.0
            for xb, tb in batches:
                epoch_cost += step(xb, tb)
        return time.perf_counter() - start

    return run


def prepare_einsum_loop(work: Workload, x: Array, y: Array) -> Runner:
    return _prepare_loop(work, x, y, use_einsum=True)


def prepare_matmul_loop(work: Workload, x: Array, y: Array) -> Runner:
    return _prepare_loop(work, x, y, use_einsum=False)


def prepare_floor(work: Workload, x: Array, y: Array, update: bool = False) -> Runner:
    """Only the matrix products a step needs, into preallocated arrays with
    ``np.matmul(..., out=)``: per layer ``x @ W.T`` and ``dW = d.T @ h``, and
    ``dX = d @ W`` for all but the first layer (3 + 3 + 2 = 8 for three layers).
    No bias, activation, softmax or update: the BLAS time no framework can beat.

    With ``update``, each step also applies ``W -= lr * dW``: the weights then change
    every step, as in any training, and the BLAS threads must fetch them afresh."""
    dtype = np.dtype(work.dtype)
    weights = [w for w, _ in init_params(work, dtype)]
    grads = [np.empty_like(w) for w in weights]
    bounds = batch_bounds(work)
    buffers: dict[int, tuple[list[Array], list[Array]]] = {}
    for size in {b - a for a, b in bounds}:
        outs = [np.empty((size, w.shape[0]), dtype) for w in weights]
        dxs = [np.empty((size, w.shape[1]), dtype) for w in weights]
        buffers[size] = (outs, dxs)
    batches = [(x[a:b], buffers[b - a]) for a, b in bounds]

    def run() -> float:
        start = time.perf_counter()
        for _ in range(work.epochs):
            for xb, (outs, dxs) in batches:
                h = xb
                for w, out in zip(weights, outs):
                    np.matmul(h, w.T, out=out)
                    h = out
                for index in range(len(weights) - 1, -1, -1):
                    d = outs[index]  # stands in for the output gradient: same shape
                    np.matmul(d.T, xb if index == 0 else outs[index - 1], out=grads[index])
                    if index:
                        np.matmul(d, weights[index], out=dxs[index])
                if update:
                    for w, g in zip(weights, grads):
                        w -= lr * g
        return time.perf_counter() - start

    lr = work.lr * 1e-6  # tiny: the values stay put, only the memory traffic counts
    return run


def prepare_floor_update(work: Workload, x: Array, y: Array) -> Runner:
    return prepare_floor(work, x, y, update=True)


def prepare_sklearn(work: Workload, x: Array, y: Array) -> Runner:
    """``MLPClassifier`` on the same net, batches and epochs. It has no leaky ReLU:
    ``activation="relu"`` is the closest. It keeps a smaller last batch, so it gets
    exactly the rows the other contenders use (``rows_used``)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=work.sizes[1:-1], activation="relu", solver="sgd", alpha=0.0,
        batch_size=work.batch, learning_rate="constant", learning_rate_init=work.lr,
        momentum=0.0, nesterovs_momentum=False, max_iter=work.epochs, tol=0.0,
        n_iter_no_change=work.epochs + 1, shuffle=False, early_stopping=False, random_state=0,
    )
    xs, ys = x[:work.rows_used], y[:work.rows_used]

    def run() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            clf.fit(xs, ys)
            elapsed = time.perf_counter() - start
        if clf.n_iter_ != work.epochs:
            raise RuntimeError(f"MLPClassifier stopped after {clf.n_iter_} of {work.epochs} epochs")
        return elapsed

    return run


def prepare_tinynet_numpy_update(work: Workload, x: Array, y: Array) -> Runner:
    """tinynet with ``SGD(..., fused=False)``: numpy's two-pass reference update."""
    return prepare_tinynet(work, x, y, fused=False)


NUMPY_CONTENDERS: dict[str, Callable[[Workload, Array, Array], Runner]] = {
    "tinynet": prepare_tinynet,
    "tinynet (fused=False)": prepare_tinynet_numpy_update,
    "numpy einsum loop": prepare_einsum_loop,
    "numpy matmul loop": prepare_matmul_loop,
    "GEMM floor": prepare_floor,
    "GEMM floor + update": prepare_floor_update,
    "scikit-learn": prepare_sklearn,
}
