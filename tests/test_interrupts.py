"""Interrupts at any moment: exit 130, no traceback, nothing half-written."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loyaltylab import interrupts
from loyaltylab.experiments.atomic import atomic_folder, atomic_path

ROOT = Path(__file__).resolve().parents[1]


def test_an_interrupt_swallowed_while_writing_stops_the_rename(tmp_path, monkeypatch):
    # Python prints and drops a KeyboardInterrupt raised in a weakref callback; the
    # handler remembers it, and nothing is renamed into place afterwards.
    monkeypatch.setattr(interrupts, "_pending", True)
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "f.csv") as tmp:
        tmp.write_text("complete")
    with pytest.raises(KeyboardInterrupt), atomic_folder(tmp_path / "results") as folder:
        (folder / "x.txt").write_text("complete")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(interrupts, "_pending", False)
    with atomic_path(tmp_path / "f.csv") as tmp:
        tmp.write_text("complete")
    assert (tmp_path / "f.csv").read_text() == "complete"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.05, 0.5])
def test_an_early_signal_is_exit_130_without_a_traceback(tmp_path, signum, delay):
    # (once, a signal in the first two seconds, while pandas and matplotlib were being
    # imported, gave a KeyboardInterrupt traceback or exit 143)
    out = tmp_path / "results"
    process = subprocess.Popen(
        [sys.executable, "-m", "loyaltylab", "run", str(ROOT / "scenarios" / "aa_test.toml"),
         "--size", "2000", "--out", str(out), "--quiet", "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    # Counted from the handlers' installation, the first thing the command does: before
    # it, the interpreter itself is starting (slowly on a loaded machine), and no
    # program can catch a signal then.
    _wait_for_handlers(process.pid)
    time.sleep(delay)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert not out.exists()



NESTED = """
import ctypes, sys
from loyaltylab import interrupts
run = ctypes.pythonapi.PyRun_String
run.restype = ctypes.py_object
run.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.py_object, ctypes.py_object]
try:  # an interrupt inside code an extension module evaluates, as on import
    run(b"raise KeyboardInterrupt", 257, {}, {})
except KeyboardInterrupt:
    if sys.argv[1] == "handled":
        interrupts.handled()
sys.exit(130)
"""


def test_a_handled_interrupt_keeps_its_exit_code(tmp_path):
    (tmp_path / "nested.py").write_text(NESTED)
    code = {mode: subprocess.run([sys.executable, "-m", "nested", mode], cwd=tmp_path,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode
            for mode in ("handled", "not")}
    # without interrupts.handled(), CPython ends the process by SIGINT
    assert code == {"handled": 130, "not": -signal.SIGINT}


def _wait_for_handlers(pid: int) -> None:
    """Wait until process ``pid`` catches SIGTERM (Linux: SigCgt in /proc; elsewhere a
    second's grace)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        time.sleep(1.0)
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        caught = [line for line in status.read_text().splitlines()
                  if line.startswith("SigCgt:")]
        if caught and int(caught[0].split()[1], 16) >> (signal.SIGTERM - 1) & 1:
            return
        time.sleep(0.002)
    raise AssertionError("the command did not install its signal handlers within 30 s")
