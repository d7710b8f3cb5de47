"""The resource guard: what a run will need, checked against what the machine has.

Before a large run starts, one unit of its work (a replication, or one point of a block)
is run at two small population sizes, traced with :mod:`tracemalloc` (numpy reports its
arrays to it) and timed. Memory and time per unit are linear in the number of customers
to within a few percent (at 1,000,000 customers the fit from 4,000 and 16,000 is 1.5%
below the traced peak), so the two probes give the peak memory and the duration of a
full-size unit. The run is refused, before anything is computed, when the workers
would need more memory than the machine has available; workers chosen automatically
are reduced to what fits instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from loyaltylab.errors import InputError

#: Population sizes of the two probes (customers).
PROBE_SIZES = (4_000, 16_000)

#: Resident memory of a worker process before its first unit: Python, numpy, pandas,
#: scipy and loyaltylab imported (260 MB measured on Linux, rounded up).
WORKER_BYTES = 300 * 2**20

#: Bytes per customer per arm that no unit has come near (1,100-1,200 measured per
#: replication of two arms): below this bound on everything, a run fits without probing.
SAFE_BYTES_PER_CUSTOMER_ARM = 2_000

#: Share of the available memory a run may plan to use: the rest absorbs what the probe's
#: linear fit misses and what other processes take meanwhile.
USABLE_SHARE = 0.8

#: Margin on the probes' fit.
MARGIN = 1.1

#: Customer-weeks beyond which a run is long enough (minutes) to be worth probing.
LONG_RUN_CUSTOMER_WEEKS = 10**10


@dataclass(frozen=True)
class Estimate:
    """What the units of a run need.

    Attributes
    ----------
    units : int
        Units of work to compute.
    unit_bytes : int
        Peak memory of one unit, beyond a worker's own (bytes).
    result_bytes : int
        Memory of all the units' results gathered in this process (bytes).
    unit_seconds : float
        Duration of one unit on one core (seconds); ``nan`` when the figures are the
        safe upper bound rather than the probes'.
    """

    units: int
    unit_bytes: int
    result_bytes: int
    unit_seconds: float

    @property
    def probed(self) -> bool:
        """Whether the figures come from the probes."""
        return not math.isnan(self.unit_seconds)

    def needed(self, workers: int) -> int:
        """Bytes the run needs with ``workers`` local worker processes (1: in this
        process)."""
        if workers <= 1:
            return self.unit_bytes + self.result_bytes
        return workers * (WORKER_BYTES + self.unit_bytes) + self.result_bytes

    def fitting(self, available: int) -> int:
        """The most workers that fit in ``available`` bytes (0: not even this process)."""
        usable = available * USABLE_SHARE
        if self.needed(1) > usable:
            return 0
        per_worker = WORKER_BYTES + self.unit_bytes
        return max(1, int((usable - self.result_bytes) // per_worker))

    def text(self, workers: int) -> str:
        """One line: memory per worker, and the time the run should take."""
        per = _size(self.unit_bytes + (WORKER_BYTES if workers > 1 else 0))
        where = f"{workers} workers" if workers > 1 else "1 process"
        line = f"about {per} per worker"
        if self.probed:
            waves = math.ceil(self.units / workers)
            line += f", about {_duration(waves * self.unit_seconds)} on {where}"
        return line


def available_cores() -> int:
    """CPU cores this process may run on: its CPU affinity where the system has one
    (Linux), else every core (macOS, Windows)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        with contextlib.suppress(OSError):
            return max(1, len(affinity(0)))
    return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes this process may still use: the system's available memory, or the room
    left under its control group's limit where that is lower; None where unknown."""
    found = []
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            cap, used = Path(limit).read_text().strip(), Path(usage).read_text().strip()
        except OSError:
            continue
        if cap.isdigit() and used.isdigit() and int(cap) < 2**60:  # "max": no limit
            found.append(max(0, int(cap) - int(used)))
        break
    if not found:
        try:
            import psutil  # a dependency of the dask extra; not of loyaltylab
        except ImportError:
            return None
        found.append(int(psutil.virtual_memory().available))
    return min(found)


def estimate(probe: Callable[[int], object], *, units: int, size: int, arms: int,
             weeks: int, points: int = 1) -> Estimate:
    """Estimate the memory and time of a run's ``units`` of work.

    Parameters
    ----------
    probe : callable
        ``probe(n)`` runs one point of a unit with ``n`` customers and returns its
        outcome.
    units : int
        Units of work (replications, or blocks of ``points`` points).
    size, arms, weeks : int
        Customers, arms and simulated weeks (burn-in included) of each point.
    points : int
        Points per unit, run one after the other.

    The probes (a few seconds) run only for a population larger than the probes whose
    safe bound (:data:`SAFE_BYTES_PER_CUSTOMER_ARM`) could fill the memory of every core
    busy, or for a run of over :data:`LONG_RUN_CUSTOMER_WEEKS`; else the bound stands,
    without a duration.
    """
    bound = SAFE_BYTES_PER_CUSTOMER_ARM * arms * size
    available = available_memory()
    risky = available is None or available_cores() * (WORKER_BYTES + bound) > (
        available * USABLE_SHARE)
    long = units * points * size * arms * weeks > LONG_RUN_CUSTOMER_WEEKS
    if size <= PROBE_SIZES[-1] or not (risky or long):
        return Estimate(units, bound, 0, math.nan)
    peaks: list[float] = []
    outcome: object = None
    for n in PROBE_SIZES:
        tracemalloc.start()
        try:
            outcome = probe(n)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # Timed apart: tracing slows the probes' Python code several times over.
    seconds: list[float] = []
    for n in PROBE_SIZES:
        clock = time.perf_counter()
        probe(n)
        seconds.append(time.perf_counter() - clock)
    return Estimate(units, int(MARGIN * _extrapolate(peaks, size) * points),
                    _result_bytes(outcome) * units,
                    _extrapolate(seconds, size) * points)


def _extrapolate(values: list[float], size: int) -> float:
    """The line through the probes' values, at ``size`` customers (never below the
    larger probe's)."""
    slope = (values[1] - values[0]) / (PROBE_SIZES[1] - PROBE_SIZES[0])
    return max(values[1], values[1] + slope * (size - PROBE_SIZES[1]))


def _result_bytes(outcome: object) -> int:
    """Memory of what a unit sends back, without its per-customer table (kept for the
    first replication only, and counted in its peak)."""
    tables = [getattr(outcome, name, None) for name in ("values", "weekly", "trials")]
    return int(sum(t.memory_usage(deep=True).sum() for t in tables
                   if isinstance(t, pd.DataFrame)))


def plan_workers(found: Estimate, workers: int | None) -> int:
    """Workers for a local run: ``workers`` if they fit, else an error naming how many
    would; None chooses as many as the cores and the memory allow.

    Raises
    ------
    InputError
        When the given workers, or a single process, would need more memory than is
        available.
    """
    wanted = available_cores() if workers is None else workers
    wanted = max(1, min(wanted, found.units))  # no idle processes to start
    available = available_memory()
    if available is None:
        return wanted
    fit = found.fitting(available)
    if fit == 0:
        raise InputError(
            f"size: a unit of work needs about {_size(found.needed(1))} of memory and "
            f"{_size(available)} is available; use a smaller size, or a machine (or a "
            "Dask cluster) with more memory")
    if wanted <= fit:
        return wanted
    if workers is None:
        return fit
    raise InputError(
        f"workers: {workers} workers need about {_size(found.needed(workers))} of memory "
        f"({_size(WORKER_BYTES + found.unit_bytes)} each) and {_size(available)} is "
        f"available; use {fit} {'worker' if fit == 1 else 'workers or fewer'}")


def _size(n: float) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1024:.0f} kB"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
