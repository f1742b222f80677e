"""How busy other processes kept the machine while a workload ran.

Timings on a shared 2-core machine are only as good as its quiet: this meter
reads the machine's busy CPU time from /proc/stat and subtracts what the
benchmark's own processes (this one, its finished children, the PyTorch worker)
used, giving the average number of cores *other* processes took. Linux only;
elsewhere it reports None.
"""

from __future__ import annotations

import os
import time


def _busy_seconds() -> float:
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int | str) -> float:
    """utime + stime + waited-for children's, of one process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class ForeignLoad:
    """``start()``, then ``stop() -> cores`` used by other processes on average."""

    def __init__(self) -> None:
        self.pids: list[int] = []  # extra processes of ours (the PyTorch worker)
        self._start: tuple[float, float, float] | None = None

    def _sample(self) -> tuple[float, float, float]:
        ours = _process_seconds("self")
        for pid in self.pids:
            try:
                ours += _process_seconds(pid)
            except OSError:  # ended: once waited for, its time is in our children's
                pass
        return time.perf_counter(), _busy_seconds(), ours

    def start(self) -> None:
        try:
            self._start = self._sample()
        except (OSError, ValueError):
            self._start = None

    def stop(self) -> float | None:
        if self._start is None:
            return None
        try:
            wall, busy, ours = self._sample()
        except (OSError, ValueError):
            return None
        elapsed = wall - self._start[0]
        if elapsed <= 0:
            return None
        return max(0.0, ((busy - self._start[1]) - (ours - self._start[2])) / elapsed)
