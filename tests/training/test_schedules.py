"""Learning-rate schedules as fit callbacks: PyTorch's closed forms, stepping by hand, errors."""

import math

import numpy as np
import pytest
from helpers.runs import EpochSpy, small_problem

import tinynet as tn

FORMULAS = {  # PyTorch's documented closed forms, lr after e completed epochs
    "step": (lambda opt: tn.StepLR(opt, step_size=3, gamma=0.5), lambda e: 0.1 * 0.5 ** (e // 3)),
    "exponential": (lambda opt: tn.ExponentialLR(opt, gamma=0.9), lambda e: 0.1 * 0.9**e),
    "cosine": (lambda opt: tn.CosineAnnealingLR(opt, T_max=5, eta_min=0.01),
               lambda e: 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * e / 5)) / 2),
}


@pytest.mark.parametrize("name", list(FORMULAS))
def test_schedule_follows_pytorch_formula_per_epoch_in_fit(name):
    make, formula = FORMULAS[name]
    x, y, model = small_problem()
    opt = tn.SGD(model.parameters(), lr=0.1)
    scheduler, spy = make(opt), EpochSpy()
    tn.fit(model, tn.SoftmaxCrossEntropy(), opt, tn.DataLoader(x, y, batch_size=40), epochs=8,
           callbacks=[scheduler, spy], progress="none")
    np.testing.assert_allclose(spy.lrs, [formula(e) for e in range(8)], rtol=1e-12)
    assert scheduler.lrs == spy.lrs and scheduler.last_epoch == 8
    assert scheduler.get_last_lr() == pytest.approx(formula(8), rel=1e-12)
    # a second fit continues the schedule, as PyTorch's scheduler keeps its last_epoch
    tn.fit(model, tn.SoftmaxCrossEntropy(), opt, tn.DataLoader(x, y, batch_size=40), epochs=4,
           callbacks=[scheduler, spy], progress="none")
    np.testing.assert_allclose(spy.lrs, [formula(e) for e in range(8, 12)], rtol=1e-12)


def test_schedule_step_by_hand_and_errors():
    opt = tn.Adam([tn.Parameter(np.zeros(2))], lr=0.2)
    scheduler = tn.CosineAnnealingLR(opt, T_max=4)
    values = []
    for _ in range(8):
        scheduler.step()
        values.append(opt.lr)
    np.testing.assert_allclose(values, [0.2 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 9)],
                               atol=1e-15)
    assert values[3] == pytest.approx(0.0) and values[7] == pytest.approx(0.2)  # rises again past T_max
    with pytest.raises(ValueError, match="StepLR step_size must be an integer >= 1, got 0"):
        tn.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="ExponentialLR gamma must be a finite number > 0"):
        tn.ExponentialLR(opt, gamma=-1)
    with pytest.raises(TypeError, match="needs a tinynet optimizer"):
        tn.StepLR(object(), step_size=1)
    x, y, model = small_problem()
    with pytest.raises(ValueError, match="different optimizer"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1),
               tn.DataLoader(x, y), epochs=1, callbacks=[scheduler], progress="none")
