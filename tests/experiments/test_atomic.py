"""Atomic writes: whole or nothing, with the modes a plain write would give."""

import multiprocessing
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from loyaltylab.errors import InputError
from loyaltylab.experiments.atomic import (
    POOL_OWNER,
    atomic_folder,
    atomic_path,
    claim_pool_folder,
    remove_stale_pool_folders,
)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_and_folders_get_the_umasks_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_path(tmp_path / "out.csv") as tmp:
            tmp.write_text("a\n")
        with atomic_folder(tmp_path / "results") as folder:
            (folder / "x.txt").write_text("x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "out.csv") == 0o666 & ~umask
    assert _mode(tmp_path / "results") == 0o777 & ~umask


def test_an_empty_folder_keeps_its_mode_and_a_failed_write_leaves_nothing(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    out.chmod(0o750)
    with atomic_folder(out) as folder:
        (folder / "x.txt").write_text("x")
    assert _mode(out) == 0o750 and (out / "x.txt").read_text() == "x"
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "f.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_destination_filled_meanwhile_keeps_both_results(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(InputError, match="filled by something else") as info, \
            atomic_folder(out) as folder:
        (folder / "mine.txt").write_text("mine")
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")   # a second run finished first
    kept = Path(str(info.value).rsplit("they are in ", 1)[1])
    assert (kept / "mine.txt").read_text() == "mine" and kept.parent == tmp_path
    assert (out / "theirs.txt").read_text() == "theirs"
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_folders_left_by_killed_writers_are_removed_and_live_ones_kept(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".results.partial-{dead}-abc123"
    live = tmp_path / f".results.partial-{os.getpid()}-def456"
    checkpoint = tmp_path / ".results.partial"
    for folder in (stale, live, checkpoint):
        folder.mkdir()
    with atomic_folder(tmp_path / "results") as folder:
        (folder / "x.txt").write_text("x")
    assert not stale.exists() and live.exists() and checkpoint.exists()
    assert f"removed {stale}, left by a run killed while writing" in caplog.text


def test_pool_folders_of_killed_runs_are_removed_and_others_kept(tmp_path, monkeypatch,
                                                                 caplog):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # a fresh pool folder for this process, under tmp_path
    monkeypatch.setattr(multiprocessing.current_process(), "_config",
                        {**multiprocessing.current_process()._config, "tempdir": None})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale, live, foreign = (tmp_path / f"pymp-{name}" for name in ("stale", "live", "other"))
    for folder in (stale, live, foreign):
        folder.mkdir()
    (stale / POOL_OWNER).write_text(dead)
    (live / POOL_OWNER).write_text(str(os.getppid()))  # a live process, not this one
    assert remove_stale_pool_folders() == [stale]
    mine = claim_pool_folder()
    assert mine.parent == tmp_path and (mine / POOL_OWNER).read_text() == str(os.getpid())
    assert not stale.exists() and live.exists() and foreign.exists()
    assert f"removed {stale}, left by a run that was killed" in caplog.text
