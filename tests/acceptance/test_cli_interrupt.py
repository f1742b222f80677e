"""Ctrl-C during `tinynet train --save`: exit status 130 and a loadable model of a whole epoch."""

import os
import signal
import subprocess
import sys
import threading

import numpy as np

import tinynet as tn


def test_sigint_saves_the_last_completed_epoch(tmp_path):
    path = tmp_path / "model.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinynet.cli", "train", "--epochs", "1000000", "--progress", "epoch",
         "--save", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(120, proc.kill)  # a hung child fails the test instead of hanging it
    watchdog.start()
    try:
        assert proc.stdout is not None
        epochs_seen = 0
        for line in proc.stdout:  # wait until epochs are completing, whatever the machine's speed
            if line.startswith("epoch") and "/1000000" in line:
                epochs_seen += 1
                if epochs_seen == 3:
                    break
        assert epochs_seen == 3, f"training did not get under way: {proc.stderr.read()}"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: keeping the model of epoch" in out
    model = tn.load(path)
    assert all(np.isfinite(p.data).all() for p in model.parameters())
    assert model.forward(np.ones((2, 4)), training=False).shape == (2, 3)
