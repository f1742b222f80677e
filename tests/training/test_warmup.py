"""Per-batch schedules with linear warmup: LinearLR and SequentialLR(LinearLR, CosineAnnealingLR)
against torch.optim.lr_scheduler step by step, driven by hand and by fit every batch."""

import numpy as np
import pytest
from helpers.runs import small_problem

import tinynet as tn


def torch_rates(build, steps: int, lr: float = 0.1) -> list[float]:
    """The learning rate torch's optimizer uses at each of ``steps`` steps (a scheduler step after each)."""
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = build(torch.optim.lr_scheduler, optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def tinynet_rates(build, steps: int, lr: float = 0.1) -> list[float]:
    optimizer = tn.SGD([tn.Parameter(np.zeros(1))], lr=lr)
    scheduler = build(tn, optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.lr)
        optimizer.step()
        scheduler.step()
    return rates


SCHEDULES = {
    "linear-warmup": lambda lib, opt: lib.LinearLR(opt, start_factor=0.1, total_iters=8),
    "linear-defaults": lambda lib, opt: lib.LinearLR(opt),
    "linear-decay": lambda lib, opt: lib.LinearLR(opt, start_factor=1.0, end_factor=0.2, total_iters=10),
    "warmup-then-cosine": lambda lib, opt: lib.SequentialLR(
        opt, [lib.LinearLR(opt, start_factor=0.01, total_iters=5), lib.CosineAnnealingLR(opt, T_max=20)],
        milestones=[5]),
    "warmup-cosine-floor": lambda lib, opt: lib.SequentialLR(
        opt, [lib.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=4),
              lib.CosineAnnealingLR(opt, T_max=12, eta_min=0.005)], milestones=[6]),
    "three-phases": lambda lib, opt: lib.SequentialLR(
        opt, [lib.LinearLR(opt, start_factor=0.5, total_iters=3), lib.ExponentialLR(opt, gamma=0.9),
              lib.StepLR(opt, step_size=4, gamma=0.5)], milestones=[3, 9]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch_step_by_step(name):
    ours, theirs = tinynet_rates(SCHEDULES[name], 30), torch_rates(SCHEDULES[name], 30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_warmup_rises_linearly_then_the_cosine_falls():
    rates = tinynet_rates(SCHEDULES["warmup-then-cosine"], 26)
    np.testing.assert_allclose(rates[:6], [0.1 * (0.01 + 0.99 * k / 5) for k in range(5)] + [0.1], rtol=1e-12)
    assert all(a > b for a, b in zip(rates[5:25], rates[6:26]))  # the cosine half
    assert rates[25] == pytest.approx(0.0, abs=1e-15)


def test_fit_steps_a_per_batch_schedule_after_every_batch():
    x, y, model = small_problem()
    loader = tn.DataLoader(x, y, batch_size=20)  # 6 batches an epoch
    optimizer = tn.SGD(model.parameters(), lr=0.1)
    schedule = SCHEDULES["warmup-then-cosine"](tn, optimizer)
    schedule.interval = "step"

    class BatchRates(tn.Callback):
        def __init__(self) -> None:
            self.rates: list[float] = []

        def on_batch_end(self, batch: int, loss: float, size: int) -> None:
            self.rates.append(optimizer.lr)  # before the schedule (listed after it) moves on

    spy = BatchRates()
    tn.fit(model, tn.SoftmaxCrossEntropy(), optimizer, loader, 3, callbacks=[spy, schedule], progress="none")
    assert schedule.last_epoch == 18 and len(schedule.lrs) == 3
    tn.fit(model, tn.SoftmaxCrossEntropy(), optimizer, loader, 1, callbacks=[spy, schedule], progress="none")
    np.testing.assert_allclose(spy.rates, torch_rates(SCHEDULES["warmup-then-cosine"], 24), rtol=1e-12)


def test_per_batch_schedule_built_with_interval_and_shown_in_repr():
    optimizer = tn.SGD([tn.Parameter(np.zeros(1))], lr=0.1)
    warmup = tn.LinearLR(optimizer, start_factor=0.1, total_iters=4, interval="step")
    assert warmup.interval == "step" and optimizer.lr == pytest.approx(0.01)
    assert repr(warmup) == ("LinearLR(start_factor=0.1, end_factor=1.0, total_iters=4, interval='step', "
                            "last_epoch=0)")
    both = tn.SequentialLR(optimizer, [warmup, tn.CosineAnnealingLR(optimizer, T_max=10)], [4],
                           interval="step")
    assert "milestones=[4], interval='step'" in repr(both)
    assert "interval" not in repr(tn.StepLR(optimizer, step_size=2))


@pytest.mark.parametrize("build, error, message", [
    (lambda opt: tn.LinearLR(opt, start_factor=0), ValueError,
     "LinearLR start_factor must be a finite number > 0"),
    (lambda opt: tn.LinearLR(opt, total_iters=0), ValueError, "LinearLR total_iters must be an integer >= 1"),
    (lambda opt: tn.StepLR(opt, step_size=2, interval="batch"), ValueError, "StepLR interval"),
    (lambda opt: tn.SequentialLR(opt, [tn.LinearLR(opt), tn.ExponentialLR(opt, 0.9)], milestones=[]),
     ValueError, "milestones must be 1 increasing step counts"),
    (lambda opt: tn.SequentialLR(opt, [tn.LinearLR(opt), tn.ExponentialLR(opt, 0.9), tn.LinearLR(opt)],
                                 milestones=[5, 3]), ValueError, "got [5, 3]"),
    (lambda opt: tn.SequentialLR(opt, [tn.LinearLR(tn.SGD([tn.Parameter(np.zeros(1))], lr=0.1))], []),
     ValueError, "built for the optimizer passed to SequentialLR"),
    (lambda opt: tn.SequentialLR(opt, [], []), TypeError, "non-empty list of tinynet schedules"),
])
def test_bad_schedule_arguments(build, error, message):
    optimizer = tn.SGD([tn.Parameter(np.zeros(1))], lr=0.1)
    with pytest.raises(error) as caught:
        build(optimizer)
    assert message in str(caught.value)
