"""Atomic writes: whole or nothing, with the modes a plain write would give."""

import os
import stat

import pytest

from loyaltylab.experiments.atomic import atomic_folder, atomic_path


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
