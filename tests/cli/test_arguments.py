"""The command's arguments: rich help on every subcommand, bad options refused before training."""

import io

import pytest
from rich.console import Console

from tinynet import cli
from tinynet.cli import arguments as cli_args


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"], ["summary"]])
def test_help_on_every_subcommand_is_rich(command, monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(cli_args, "get_console",
                        lambda: Console(file=buffer, force_terminal=True, width=100))
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    text = buffer.getvalue()
    assert "usage:" in text and "\x1b[" in text  # coloured by rich
    if command == ["train"]:
        for option in ("--hidden", "--activation", "--loss", "--optimizer", "--lr", "--batch-size",
                       "--epochs", "--seed", "--test-size", "--val-split", "--standardize", "--plot",
                       "--save", "--progress"):
            assert option in text


@pytest.mark.parametrize("argv, message", [
    (["--hidden", "10", "0"], "--hidden sizes must be >= 1, got 0"),
    (["--save", "{missing}/m.npz"], "--save {missing}/m.npz: the folder '{missing}' does not exist"),
    (["--plot", "{missing}/loss.png"], "--plot {missing}/loss.png: the folder '{missing}' does not exist"),
])
def test_train_refuses_bad_options_before_training(tmp_path, capsys, argv, message):
    from tinynet import cli

    missing = str(tmp_path / "no_such_folder")
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    argv = [a.format(missing=missing) for a in argv]
    status = cli.main(["train", "--epochs", "5", "--progress", "none", *argv])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""  # no training run was wasted
    assert err == f"tinynet: error: {message.format(missing=missing)}\n"
