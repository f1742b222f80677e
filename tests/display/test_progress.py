"""fit's progress display: plain epoch lines outside a terminal, a bar inside, nothing for
"none", and no live display left behind when training fails to start."""

import io

import pytest
from helpers.runs import iris_setup
from rich.console import Console

import tinynet as tn
from tinynet.display import console as console_module


def run_with_console(mode, epochs=120, terminal=False):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120)
    old = console_module._console[:]
    console_module._console[:] = [console]
    try:
        _, model, loader = iris_setup()
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.05), loader,
               epochs=epochs, progress=mode)
    finally:
        console_module._console[:] = old
    return buffer.getvalue()


def test_plain_lines_outside_a_terminal():
    out = run_with_console("auto")
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert "\r" not in out and "\x1b" not in out
    assert 40 <= len(lines) <= 62  # every k epochs for a long run, first and last included
    assert lines[0].startswith("epoch   1/120  loss ") and "accuracy" in lines[0]
    assert lines[-1].startswith("epoch 120/120")
    assert "training finished" in out
    every = run_with_console("epoch", epochs=7)
    assert len([line for line in every.splitlines() if line.startswith("epoch ")]) == 7


def test_bar_in_a_terminal_and_none_prints_nothing():
    out = run_with_console("bar", epochs=20, terminal=True)
    assert "epoch" in out and "20/20" in out and "training finished" in out
    assert "loss" in out
    assert run_with_console("none") == ""


def test_display_is_closed_when_a_callback_fails_to_start():
    buffer = io.StringIO()
    old = console_module._console[:]
    console_module._console[:] = [Console(file=buffer, force_terminal=True, width=100)]
    try:
        _, model, loader = iris_setup()
        with pytest.raises(ValueError, match="validation_data"):
            tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader,
                   epochs=3, progress="bar", callbacks=[tn.EarlyStopping()])
        assert not console_module._console[0]._live_stack  # no live display left running
        assert "\x1b[?25l" not in buffer.getvalue()  # the cursor was never hidden
    finally:
        console_module._console[:] = old
