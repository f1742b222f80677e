"""The command never loses a finished run: outputs checked before training, the model saved before
the plot, `predict -o` written atomically, inputs never overwritten, errors in the user's terms."""

import json
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from helpers.cli_runs import run_cli, write_labelled_csv

import tinynet as tn
from tinynet.cli import predict_command

QUICK = ["--epochs", "2", "--progress", "none"]


def test_an_unwritable_save_fails_before_training_in_under_two_seconds():
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tinynet.cli", "train", "--save", "/proc/model.npz"],
                          capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    assert done.returncode == 2 and done.stdout == ""  # no epoch ran, no table printed
    assert done.stderr.startswith("tinynet: error: --save /proc/model.npz: cannot write into the folder "
                                  "'/proc'") and done.stderr.count("\n") == 1, done.stderr
    assert seconds < 2, seconds


@pytest.mark.parametrize("flag, value, says", [
    ("--save", "{tmp}", "that is a folder; name a file in it"),
    ("--plot", "{tmp}", "that is a folder; name a file in it"),  # not {tmp}.png beside it
    ("--plot", "{tmp}/loss.txt", "the loss curve is written as a PNG; name the file {tmp}/loss.png"),
    ("--save", "{tmp}/data.csv", "that is the --data file; writing there would destroy it"),
    ("--plot", "{tmp}/data", "that is the --data file"),  # --plot data writes data.png... not data.csv
    ("--save", "{tmp}/missing/m.npz", "the folder '{tmp}/missing' does not exist"),
])
def test_outputs_are_checked_before_training(tmp_path, capsys, monkeypatch, flag, value, says):
    pytest.importorskip("matplotlib")
    write_labelled_csv(tmp_path / "data.csv")
    (tmp_path / "data.png").write_bytes(b"keep")
    if value == "{tmp}/data":
        (tmp_path / "data.png").unlink()
        (tmp_path / "data.png").symlink_to(tmp_path / "data.csv")
    monkeypatch.setattr(tn, "fit", lambda *a, **k: pytest.fail("training started"))
    status, out, err = run_cli(["train", "--data", tmp_path / "data.csv", "--target", "label",
                                flag, value.format(tmp=tmp_path), *QUICK], capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert f"{flag} {value.format(tmp=tmp_path)}: " in err and says.format(tmp=tmp_path) in err, err
    assert (tmp_path / "data.csv").read_text().startswith("a,b,c,label")


def test_a_failing_plot_does_not_cost_the_saved_model(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tn, "plot_history", broken)
    status, _, err = run_cli(["train", *QUICK, "--save", tmp_path / "m.npz", "--plot", tmp_path / "c"],
                             capsys)
    assert status == 2 and "No space left on device" in err
    assert tn.load(tmp_path / "m.npz")[0].in_features == 4


def test_plot_without_an_extension_writes_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    status, out, _ = run_cli(["train", *QUICK, "--plot", tmp_path / "curve"], capsys)
    assert status == 0 and (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert f"saved the loss curve to {tmp_path / 'curve.png'}" in out.replace("\n", "")


@pytest.fixture
def trained(tmp_path, capsys):
    write_labelled_csv(tmp_path / "train.csv")
    assert run_cli(["train", "--data", tmp_path / "train.csv", "--target", "label", "--save",
                    tmp_path / "m.npz", *QUICK], capsys)[0] == 0
    write_labelled_csv(tmp_path / "new.csv", n=20, seed=1, with_labels=False)
    return tmp_path


def test_predict_output_is_atomic(trained, capsys, monkeypatch):
    out = trained / "p.csv"
    out.write_text("previous predictions\n")

    def full_disk(rows):
        raise OSError(28, "No space left on device")

    real_writer = predict_command.csv.writer
    monkeypatch.setattr(predict_command.csv, "writer", lambda file: type("W", (), {"writerows": staticmethod(
        full_disk if file is not sys.stdout else real_writer(file).writerows)})())
    status, _, err = run_cli(["predict", trained / "m.npz", trained / "new.csv", "-o", out], capsys)
    assert status == 2 and f"{out}: No space left on device" in err
    assert out.read_text() == "previous predictions\n"
    assert sorted(p.name for p in trained.iterdir()) == ["m.npz", "new.csv", "p.csv", "train.csv"]


@pytest.mark.parametrize("target, says", [("new.csv", "that is the input file"),
                                          ("m.npz", "that is the model file")])
def test_predict_never_overwrites_its_inputs(trained, capsys, target, says):
    before = (trained / target).read_bytes()
    status, _, err = run_cli(["predict", trained / "m.npz", trained / "new.csv", "-o", trained / target],
                             capsys)
    assert status == 2 and f"-o {trained / target}: {says}" in err
    assert (trained / target).read_bytes() == before


def test_one_class_targets_are_refused_with_a_hint(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},same\n" for i in range(12)))
    status, _, err = run_cli(["train", "--data", tmp_path / "one.csv", "--target", "label", *QUICK], capsys)
    assert status == 2 and "holds one class ('same'); classification needs at least 2" in err


@pytest.mark.parametrize("argv, says", [
    (["--batch-size", "200", "--last-batch", "drop"],
     "--batch-size 200 is larger than the 100 training rows, and --last-batch drop would leave no batch"),
    (["--batch-size", "200", "--last-batch", "fill"], "--last-batch fill would repeat rows"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--test-size", "0.999"], "--test-size 0.999 holds out 150 of the 150 rows"),
    (["--hidden", "100000", "100000"], "--hidden 100000 100000: Dense init: an array of shape "
                                       "(100000, 100000) (float64) needs 80,000,000,000 bytes"),
])
def test_errors_are_said_in_the_commands_flags(capsys, argv, says):
    if argv[0] == "--hidden":
        from tinynet.engine import sizes

        if sizes.memory_limit() > 80_000_000_000:
            pytest.skip("this machine could hold the layer")
    status, _, err = run_cli(["train", *argv, *QUICK], capsys)
    assert status == 2 and err.count("\n") == 1 and says in err, err
    assert "last_batch=" not in err and "test_size=" not in err and "train_size" not in err


def test_a_semicolon_separated_file_is_read_with_its_delimiter(tmp_path, capsys):
    rows = [f"{i % 3};{i * 0.5:.1f};{'xy'[i % 2]}" for i in range(30)]
    (tmp_path / "semi.csv").write_text("a;b;label\n" + "\n".join(rows) + "\n")
    status, out, err = run_cli(["train", "--data", tmp_path / "semi.csv", "--target", "label", *QUICK],
                               capsys)
    assert (status, err) == (0, "") and "task: classification of 'label'" in out


def _edit_metadata(path, edit):
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["__tinynet__"].tobytes())
    edit(header["metadata"]["tinynet_cli"])
    arrays["__tinynet__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with zipfile.ZipFile(path, "w") as z:
        for name, array in arrays.items():
            with z.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, array)


@pytest.mark.parametrize("edit", [
    lambda m: m.update(labels=["cat"]),                  # fewer classes than outputs: IndexError
    lambda m: m.update(labels="bird,cat,dog"),
    lambda m: m.update(features=["a", "b"]),             # the model takes 3
    lambda m: m.update(features=[1, 2, 3]),
    lambda m: m.update(task="clustering"),
    lambda m: m.update(loss="losse"),                     # "losse must be one of"
    lambda m: m.update(loss=["SoftmaxCrossEntropy"]),
    lambda m: m.update(target=7),
    lambda m: m.pop("task"),                              # KeyError
    lambda m: m["preprocessing"].update(mean=[0.0], scale=[1.0]),
    lambda m: m["preprocessing"].update(normalize_rows="no"),
    lambda m: m["preprocessing"].update(mean=[0.0, "x", 1.0], scale=[1.0, 1.0, 1.0]),
    lambda m: m["preprocessing"].update(mean=[0.0, 0.0, 0.0], scale=[1.0, 0.0, 1.0]),
])
@pytest.mark.parametrize("command", ["predict", "evaluate", "summary"])
def test_malformed_metadata_is_a_one_line_error_for_every_command(trained, capsys, edit, command):
    _edit_metadata(trained / "m.npz", edit)
    argv = {"predict": ["predict", trained / "m.npz", trained / "new.csv"],
            "evaluate": ["evaluate", trained / "m.npz", "--data", trained / "train.csv"],
            "summary": ["summary", trained / "m.npz"]}[command]
    status, _, err = run_cli(argv, capsys)
    assert status == 2 and err.count("\n") == 1 and str(trained / "m.npz") in err, err
