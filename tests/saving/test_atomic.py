"""Atomic writes: the old file or the whole new one; temporary files removed; symlinks followed;
errors naming the user's path."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers.models import article_model

import tinynet as tn
from tinynet.saving.atomic import atomic_file


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(OSError, match="disk full"), atomic_file(target, "w") as file:
        file.write("new, half written")
        raise OSError(28, "disk full")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_saving_onto_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "v1.npz"
    tn.save(article_model(), real)
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    model = tn.Sequential(tn.Dense(4, 2, rng=3))
    tn.save(model, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert tn.load(real)[0].weight.shape == (2, 4)
    assert sorted(os.listdir(tmp_path / "models")) == ["v1.npz"]


def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "model.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a process that is gone
    stale = tmp_path / f".model.npz.{dead}.abc123.tmp"
    stale.write_bytes(b"PK\x03\x04 half a model")
    live = tmp_path / f".model.npz.{os.getppid()}.def456.tmp"  # a writer still running: left alone
    live.write_bytes(b"PK\x03\x04 being written")
    other = tmp_path / f".other.npz.{dead}.abc123.tmp"  # another target's: not ours to judge
    other.write_bytes(b"")
    tn.save(article_model(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, other.name, "model.npz"])


def test_save_errors_name_the_users_path_not_the_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"

    def crash(file, **arrays):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError) as caught:
        tn.save(article_model(), path)
    assert caught.value.filename == str(path) and ".tmp" not in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_save_onto_a_folder_or_into_an_unwritable_one_is_a_clear_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder; name the file to write"):
        tn.save(article_model(), tmp_path)
    with pytest.raises(OSError) as caught:
        tn.save(article_model(), "/proc/model.npz")  # a folder nobody, not even root, can write
    assert caught.value.filename == "/proc/model.npz"
