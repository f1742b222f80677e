"""fit's progress display: plain epoch lines outside a terminal, a bar inside, nothing for
"none", and no live display left behind when training fails to start."""

import io
import re

import pytest
from helpers.runs import iris_setup
from rich.console import Console

import tinynet as tn
from tinynet.display import console as console_module
from tinynet.display.progress import format_logs, summary_table


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


def train_with_validation(console, epochs=300, patience=5):
    """The article's iris with a validation set, accuracy and early stopping, shown on ``console``."""
    old = console_module._console[:]
    console_module._console[:] = [console]
    try:
        data, model, loader = iris_setup()
        return tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.01), loader,
                      epochs=epochs, progress="bar", metrics=["accuracy"],
                      validation_data=(data.x_test, data.y_test),
                      callbacks=[tn.EarlyStopping(patience=patience)])
    finally:
        console_module._console[:] = old


@pytest.mark.parametrize("width", [80, 60])
def test_a_narrow_console_keeps_the_count_the_time_and_the_eta(width):
    console = Console(width=width, record=True, file=io.StringIO())  # prints the bar's last frame
    history = train_with_validation(console)
    bar = console.export_text().splitlines()[0]
    assert len(bar) <= width, bar
    count = re.search(rf"\b{len(history)}/300\b", bar)
    assert bar.startswith("epoch ") and count is not None, bar
    assert re.search(r"\d:\d\d:\d\d eta (\d:\d\d:\d\d|-:--:--)", bar[count.end():]), bar
    assert "loss " in bar and bar.rstrip().endswith("…")  # the metrics gave way, whole entries first
    wide = Console(width=200, record=True, file=io.StringIO())
    train_with_validation(wide)
    assert "val_accuracy" in wide.export_text().splitlines()[0]  # all of them, given room


def test_after_a_restore_the_final_table_shows_the_restored_epoch():
    console = Console(width=80, record=True, file=io.StringIO())
    history = train_with_validation(console)
    restored = history.restored_epoch
    assert restored is not None and restored < len(history)
    text = console.export_text()
    row = next(line for line in text.splitlines() if f"{restored}*" in line)
    at = history.epochs.index(restored)
    assert f"{history['val_loss'][at]:.6f}" in row and f"{history['loss'][at]:.6f}" in row
    assert f"{history['val_loss'][-1]:.6f}" not in row
    assert f"the restored epoch's figures (the model holds its weights); {len(history)} epochs ran" in \
        " ".join(text.split())


def test_huge_losses_print_compactly():
    history = tn.History()
    history.on_epoch_end(1, {"loss": 1.234e127, "accuracy": 0.25, "val_loss": float("inf")})
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(summary_table(history, 1.0))
    text = console.export_text()
    assert "1.23e+127" in text and "inf" in text and not re.search(r"\d{12}", text), text
    assert format_logs({"loss": 1.234e127, "accuracy": 0.5}) == "loss 1.23e+127  accuracy 0.5000"
    assert format_logs({"loss": 0.5, "val_loss": 3e-9}) == "loss 0.500000  val_loss 3e-09"
