"""Interrupts at any moment: exit 130, no traceback, nothing half-written."""

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
    time.sleep(delay)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert not out.exists()
