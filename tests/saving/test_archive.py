"""tn.load in bounded time and memory: the header first, unlisted entries never decompressed,
sizes checked before reading, the model built only within what the file holds, limits."""

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers.memory import peak_allocation
from helpers.models import article_model

import tinynet as tn
from tinynet.saving import header as header_limits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "model.npz"


def rewrite(path, edit_header=None, edit_arrays=None, compression=zipfile.ZIP_STORED):
    """Re-save a tinynet file with an edited header or arrays (as an attacker could)."""
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["__tinynet__"].tobytes())
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    arrays["__tinynet__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, array in arrays.items():
            with z.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def test_an_unlisted_entry_is_refused_without_being_decompressed(path, monkeypatch):
    tn.save(article_model(), path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("payload.npy", bytes(10**6))
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(getattr(name, "filename", name))
                        or real_open(self, name, *a, **k))
    with pytest.raises(ValueError, match=r"entries its header does not list: \['payload'\]"):
        tn.load(path)
    assert opened == ["__tinynet__.npy"]


def test_a_listed_entry_larger_than_its_shape_is_refused_before_its_data_is_read(path, monkeypatch):
    tn.save(article_model(), path)
    rewrite(path, edit_arrays=lambda a: a.update({"param/0.weight": np.zeros((10, 4, 1000))}),
            compression=zipfile.ZIP_DEFLATED)

    def header_matches(h):  # the header agrees with the array's preamble, not with its size
        h["parameters"]["0.weight"] = {"shape": [10, 4], "dtype": "<f8"}

    rewrite(path, edit_header=header_matches)
    with pytest.raises(ValueError, match=r"'param/0.weight' has shape \(10, 4, 1000\).*header says "
                                         r"shape \[10, 4\]"):
        tn.load(path)


def test_an_architecture_larger_than_its_data_fails_before_allocating(path):
    tn.save(tn.Sequential(tn.Dense(1, 1, rng=0)), path)

    def huge(h):
        h["model"]["config"]["layers"][0]["__layer__"]["config"].update(in_features=8000,
                                                                        out_features=8000)

    rewrite(path, edit_header=huge)
    errors = []

    def run():
        try:
            tn.load(path)
        except ValueError as err:
            errors.append(str(err))

    assert peak_allocation(run) < 5 * 2**20  # 512 MB before the budget
    assert "Dense init: an array of shape (8000, 8000) needs 512,000,000 bytes" in errors[0]
    assert "more than the 16 bytes of parameters and state the file lists" in errors[0]


def test_an_npy_preamble_claiming_10_to_the_12_elements_is_a_value_error(path):
    tn.save(tn.Sequential(tn.Dense(1, 1, rng=0)), path)
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    claim = bytearray()
    np.lib.format.write_array_header_1_0(type("Sink", (), {"write": lambda self, b: claim.extend(b)})(),
                                         {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    entries["param/0.weight.npy"] = bytes(claim) + bytes(8)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match=r"claims \d+ bytes, but its shape \(1000000, 1000000\).*need "
                                         r"8,000,000,000,\d+"):
        tn.load(path)


@pytest.mark.parametrize("offset, value, says", [
    (8, 0x1, "'__tinynet__' is encrypted or compressed with method"),  # the flag bits
    (10, 99, "compressed with method 99"),  # the compression method
])
def test_encrypted_or_unknown_compression_is_a_value_error(path, offset, value, says):
    tn.save(article_model(), path)
    data = bytearray(path.read_bytes())
    record = data.rfind(b"PK\x01\x02")  # the central record of the last entry, the header
    old = int.from_bytes(data[record + offset:record + offset + 2], "little")
    data[record + offset:record + offset + 2] = (old | value).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=says):
        tn.load(path)


def test_a_plain_member_instead_of_an_npy_array_is_a_value_error(path):
    tn.save(article_model(), path)
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    entries["__tinynet__.npy"] = b'{"format": "tinynet"}'
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match="not a readable .npy array"):
        tn.load(path)


def test_the_limits_on_layers_and_arrays_are_clear_errors(path, monkeypatch):
    tn.save(article_model(), path)
    monkeypatch.setattr(header_limits, "MAX_LAYERS", 2)
    with pytest.raises(ValueError, match="describes 4 layers; tinynet loads at most 2"):
        tn.load(path)
    monkeypatch.setattr(header_limits, "MAX_LAYERS", 100)
    monkeypatch.setattr(header_limits, "MAX_ARRAYS", 3)
    with pytest.raises(ValueError, match="lists more than 3 arrays"):
        tn.load(path)


def test_a_json_bomb_header_is_refused_before_parsing(path):
    tn.save(article_model(), path)
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist() if name != "__tinynet__.npy"}
    bomb = np.frombuffer(b"[" + b"{}," * 3_000_000 + b"{}]", dtype=np.uint8)  # 225 MB once parsed
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        with z.open("__tinynet__.npy", "w") as f:
            np.lib.format.write_array(f, bomb)
    errors = []

    def run():
        try:
            tn.load(path)
        except ValueError as err:
            errors.append(str(err))

    assert peak_allocation(run) < 30 * 2**20  # the 9 MB of text, never the parse
    assert "holds up to 3,000,002 JSON objects and lists" in errors[0]


def test_a_header_listing_more_bytes_than_the_machine_has_is_refused_before_reading(path):
    tn.save(article_model(), path)
    rewrite(path, edit_header=lambda h: h["parameters"]["0.weight"].update(shape=[10**7, 10**7]))
    with pytest.raises(ValueError, match=r"the header lists arrays of 800,000,000,000,\d+ bytes in all, "
                                         r"more than this machine's"):
        tn.load(path)


@pytest.mark.parametrize("shape, dtype", [([-1, 4], "<f8"), (["10", 4], "<f8"), ([10, 4], "|O"),
                                          ([10, 4], "<i8"), ([10, 4], "[('a', '<f8')]")])
def test_listed_shapes_and_dtypes_must_be_plain(path, shape, dtype):
    tn.save(article_model(), path)
    rewrite(path, edit_header=lambda h: h["parameters"].update({"0.weight": {"shape": shape,
                                                                             "dtype": dtype}}))
    with pytest.raises(ValueError, match="0.weight.* has the shape|has dtype"):
        tn.load(path)


def test_an_estimator_file_cannot_make_load_import_another_module(path):
    pytest.importorskip("sklearn")
    from tinynet.sklearn import TinyNetClassifier

    X = np.random.default_rng(0).standard_normal((20, 3))
    est = TinyNetClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, np.arange(20) % 2)
    tn.save(est, path)
    rewrite(path, edit_header=lambda h: h["estimator"].update({"class": "Nope",
                                                               "module": "tinynet.cli.__main__"}))
    before = set(sys.modules)
    with pytest.raises(ValueError, match="unknown estimator class 'Nope'"):
        tn.load(path)
    assert "tinynet.cli.__main__" not in set(sys.modules) - before


def test_the_hostile_files_stay_under_a_second_and_100_mb_in_a_fresh_process(tmp_path):
    """benchmarks/hostile_files.py (smaller bombs than the issue's 1.5 GB, to stay fast)."""
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "hostile_files.py"), "--bomb-mb",
                           "150", "--json", str(out)], capture_output=True, text=True, timeout=300)
    results = json.loads(out.read_text())
    for name, result in results.items():  # CPU time: the wall clock of a shared CI machine wanders
        if result["expected"] == "loads":
            assert result["outcome"] == "loads", (name, result)
            assert result["cpu_seconds"] < 3, (name, result)  # about 1 s on this 2-core machine
            continue
        assert result["outcome"] == "ValueError", (name, result)
        assert result["cpu_seconds"] < 1 and result["extra_mb"] < 100, (name, result)
    assert len(results) >= 8 and done.returncode in (0, 1), done.stderr


def test_the_graph_sort_is_linear_in_the_nodes():
    nodes = {}
    previous = "x"
    for i in range(20000):  # a chain: the quadratic sort took minutes here
        nodes[f"n{i}"] = (tn.Identity(), previous)
        previous = f"n{i}"
    started = time.process_time()
    graph = tn.Graph("x", nodes, previous)
    assert time.process_time() - started < 3
    assert graph._order == list(nodes)
