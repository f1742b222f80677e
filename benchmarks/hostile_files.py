"""Time and memory of ``tn.load`` on hostile files, and on a valid 8,000-node graph.

    .venv/bin/python benchmarks/hostile_files.py               # the issue's sizes (a 1.5 GB bomb)
    .venv/bin/python benchmarks/hostile_files.py --bomb-mb 300 --json out.json

Each file is built in a temporary folder, then loaded in one fresh worker
process; "seconds" is wall time (the verdict), "CPU s" the worker's CPU time (what
the load costs when the machine is shared). Before each load the worker resets its peak resident memory
(``/proc/self/clear_refs``), so "extra MB" is that load's own peak above the
memory the process held before it (tinynet and numpy already imported).
Must show: every hostile file refused with ``ValueError`` in under a second and
under 100 MB extra; the 8,000-node graph loaded in under a second.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_SECONDS = 1.0
LIMIT_MB = 100.0
GRAPH_NODES = 8000


# -- writing zip files by hand (so that an entry can lie) ------------------------------------------
def npy_bytes(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """The ``.npy`` preamble numpy writes for ``shape`` and ``dtype``."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    out = bytearray()
    fp = _Sink(out)
    np.lib.format.write_array_header_1_0(fp, header)
    return bytes(out)


class _Sink:
    def __init__(self, out: bytearray) -> None:
        self.out = out

    def write(self, data: bytes) -> None:
        self.out += data


def deflated_zeros(prefix: bytes, n_zeros: int, chunk: int = 2**24) -> tuple[bytes, int]:
    """A raw deflate stream of ``prefix`` then ``n_zeros`` zero bytes, and its CRC-32, built
    from one compressed chunk repeated (a full flush makes each chunk's bytes the same)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    zeros = bytes(chunk)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(n_zeros, chunk)
    tail = compressor.compress(bytes(rest)) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(rest), crc)
    return head + block * count + tail, crc


def write_zip(path: Path, entries: list[dict[str, Any]]) -> None:
    """A zip of ``entries``: ``name``, ``method``, ``payload`` (stored or raw deflate bytes),
    ``crc`` and ``size`` (the uncompressed size its records declare)."""
    with open(path, "wb") as f:
        central = b""
        for e in entries:
            offset = f.tell()
            name = e["name"].encode()
            fields = (20, 0, e["method"], 0, 0x21, e["crc"] & 0xFFFFFFFF, len(e["payload"]), e["size"],
                      len(name), 0)
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name + e["payload"])
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0,
                                   offset) + name
        start = f.tell()
        f.write(central)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                            start, 0))


def stored(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "method": zipfile.ZIP_STORED, "payload": data, "crc": zlib.crc32(data),
            "size": len(data)}


def entries_of(path: Path, edit_header: Any = None) -> list[dict[str, Any]]:
    """The entries of a tinynet file, stored, with the JSON header edited by ``edit_header``."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data = z.read(name)
            if name == "__tinynet__.npy" and edit_header is not None:
                offset = len(data) - int(np.load(path)["__tinynet__"].size)
                header = json.loads(data[offset:])
                edit_header(header)
                text = json.dumps(header).encode()
                data = npy_bytes((len(text),), "|u1") + text
            out.append(stored(name, data))
    return out


# -- the cases -------------------------------------------------------------------------------------
def dense_config(header: dict[str, Any], size: int) -> None:
    layer = header["model"]["config"]["layers"][0]["__layer__"]["config"]
    layer["in_features"] = layer["out_features"] = size


def build_cases(folder: Path, bomb_bytes: int) -> dict[str, tuple[str, str]]:
    """``{case: (path, expected outcome "ValueError" | "loads")}``."""
    import tinynet as tn

    small = folder / "small.npz"
    tn.save(tn.Sequential(tn.Dense(1, 1, rng=0)), small)
    cases: dict[str, tuple[str, str]] = {"valid Dense(1, 1) model (the baseline)": (str(small), "loads")}

    def case(name: str, entries: list[dict[str, Any]], outcome: str = "ValueError") -> None:
        path = folder / f"{len(cases)}.npz"
        write_zip(path, entries)
        cases[name] = (str(path), outcome)

    case("header claims Dense(8000, 8000), arrays of one element",
         entries_of(small, lambda h: dense_config(h, 8000)))

    def lists_big(h: dict[str, Any]) -> None:
        dense_config(h, 8000)
        h["parameters"]["0.weight"]["shape"] = [8000, 8000]
        h["parameters"]["0.bias"]["shape"] = [8000]

    case("header lists (8000, 8000) arrays, the file holds one element", entries_of(small, lists_big))
    payload, crc = deflated_zeros(b"", bomb_bytes)
    bomb = {"name": "bomb.npy", "method": zipfile.ZIP_DEFLATED, "payload": payload, "crc": crc,
            "size": bomb_bytes}
    case(f"unlisted entry: {bomb_bytes / 1e9:.2g} GB of deflated zeros", [*entries_of(small), bomb])
    preamble = npy_bytes((1, 1))
    payload, crc = deflated_zeros(preamble, bomb_bytes)
    honest = {"name": "param/0.weight.npy", "method": zipfile.ZIP_DEFLATED, "payload": payload,
              "crc": crc, "size": len(preamble) + bomb_bytes}
    rest = [e for e in entries_of(small) if e["name"] != "param/0.weight.npy"]
    case("listed entry (1, 1) whose record says its stream holds the bomb", [*rest, honest])
    case("listed entry (1, 1) whose record lies about the bomb it holds",
         [*rest, {**honest, "size": len(preamble) + 8}])
    claim = npy_bytes((10**6, 10**6)) + bytes(8)
    case(".npy preamble claims 10**12 elements, header lists (1, 1)",
         [*rest, stored("param/0.weight.npy", claim)])

    def lists_huge(h: dict[str, Any]) -> None:
        dense_config(h, 10**6)
        h["parameters"]["0.weight"]["shape"] = [10**6, 10**6]
        h["parameters"]["0.bias"]["shape"] = [10**6]

    huge = [e for e in entries_of(small, lists_huge) if e["name"] != "param/0.weight.npy"]
    case(".npy preamble, header and architecture all claim 10**12 elements",
         [*huge, stored("param/0.weight.npy", claim)])
    json_bomb = b"[" + b"{}," * 3_000_000 + b"{}]"  # 9 MB of JSON, 225 MB once parsed
    data = npy_bytes((len(json_bomb),), "|u1") + json_bomb
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    case("header of 3,000,000 empty JSON objects, deflated",
         [*[e for e in entries_of(small) if e["name"] != "__tinynet__.npy"],
          {"name": "__tinynet__.npy", "method": zipfile.ZIP_DEFLATED,
           "payload": packer.compress(data) + packer.flush(), "crc": zlib.crc32(data), "size": len(data)}])
    graph = folder / "graph.npz"
    tn.save(chain_graph(GRAPH_NODES), graph)
    cases[f"valid {GRAPH_NODES:,}-node Graph"] = (str(graph), "loads")
    return cases


def chain_graph(n: int) -> Any:
    """A Graph of ``n`` nodes: a chain of Dense(4, 4) and Tanh, with a skip Add every 10 nodes."""
    import tinynet as tn

    nodes: dict[str, Any] = {}
    previous = "x"
    for i in range(n):
        if i % 10 == 9:
            nodes[f"n{i}"] = (tn.Add(), [previous, f"n{i - 9}"])
        elif i % 2:
            nodes[f"n{i}"] = (tn.Tanh(), previous)
        else:
            nodes[f"n{i}"] = (tn.Dense(4, 4, rng=i), previous)
        previous = f"n{i}"
    return tn.Graph("x", nodes, previous)


# -- measuring, in a worker process ----------------------------------------------------------------
def _status(field: str) -> float:
    """A ``/proc/self/status`` field in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(cases: dict[str, tuple[str, str]]) -> dict[str, dict[str, Any]]:
    import tinynet as tn

    tn.load(next(path for path, outcome in cases.values() if outcome == "loads"))  # warm up imports
    # (the first case that loads is the small baseline: the warm-up costs little)
    results = {}
    for name, (path, _) in cases.items():
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident memory
        before = _status("VmRSS")
        started, cpu = time.perf_counter(), time.process_time()
        try:
            tn.load(path)
            outcome, message = "loads", ""
        except Exception as err:  # noqa: BLE001 - the outcome is what we report
            outcome, message = type(err).__name__, str(err)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        results[name] = {"outcome": outcome, "message": message[:300], "seconds": seconds,
                         "cpu_seconds": cpu, "extra_mb": _status("VmHWM") - before}
    return results


def measure(bomb_mb: int) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        cases = build_cases(Path(folder), bomb_mb * 10**6)
        done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(cases)],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        results: dict[str, dict[str, Any]] = json.loads(done.stdout)
    for name, result in results.items():
        expected = cases[name][1]
        result["expected"] = expected
        result["ok"] = (result["outcome"] == expected and result["seconds"] < LIMIT_SECONDS
                        and (expected == "loads" or result["extra_mb"] < LIMIT_MB))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=1500, help="uncompressed size of the zip bombs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    results = measure(args.bomb_mb)
    width = max(len(name) for name in results)
    print(f"{'case':<{width}}  {'outcome':<10} {'seconds':>8} {'CPU s':>7} {'extra MB':>9}  verdict")
    for name, r in results.items():
        print(f"{name:<{width}}  {r['outcome']:<10} {r['seconds']:>8.3f} {r['cpu_seconds']:>7.3f} "
              f"{r['extra_mb']:>9.1f}  {'ok' if r['ok'] else 'FAILS'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
