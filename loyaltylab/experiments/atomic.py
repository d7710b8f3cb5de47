"""Atomic file writes: a temporary file beside the target, renamed into place; and the
temporary folders of runs killed with SIGKILL, removed by the next run."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loyaltylab import interrupts
from loyaltylab.errors import InputError


def _umask() -> int:
    """The process's file-mode creation mask (reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to ``path`` if the block succeeds.

    Readers see the old file or the complete new one, never a half-written file; on
    an error (or Ctrl-C) the temporary file is removed and ``path`` is untouched. The
    file gets the mode a plain ``open`` would give it (the umask decides), not the
    private 0600 of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        interrupts.check()  # an interrupt swallowed while writing stops the rename
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """A temporary folder beside ``path`` (``.NAME.partial-*``), renamed to ``path`` if
    the block succeeds; ``path`` must not exist or be an empty folder.

    Readers see no folder or the complete one; on an error (or Ctrl-C) the temporary
    folder is removed. A run killed with SIGKILL may leave it, never ``path``. The folder
    keeps the mode of the empty folder it replaces, else gets the umask's.

    Raises
    ------
    InputError
        If ``path`` was filled meanwhile (another run with the same destination); the
        results are then moved to a fresh ``NAME-*`` folder beside it, named in the
        message.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.is_dir() else 0o777 & ~_umask()
    remove_stale(path)
    # The writer's process id is in the name, so a later run can tell a folder being
    # written now from one a killed run left behind.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-{os.getpid()}-",
                                dir=path.parent))
    os.chmod(tmp, mode)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        interrupts.check()
    except KeyboardInterrupt:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if path.exists():
            path.rmdir()
        os.replace(tmp, path)
    except OSError:
        # Something else (a second run with the same --out) filled the folder while this
        # one ran: keep this run's results under a fresh name rather than lose them.
        kept = Path(tempfile.mkdtemp(prefix=f"{path.name}-", dir=path.parent))
        os.replace(tmp, kept)
        os.chmod(kept, mode)
        raise InputError(f"{path}: filled by something else while this run wrote its "
                         f"results; nothing is lost: they are in {kept}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(path: Path) -> list[Path]:
    """Remove the temporary folders (``.NAME.partial-PID-*``) that runs killed while
    writing ``path`` left beside it (their process is gone); return them, each reported
    as a warning on the ``loyaltylab`` logger. Folders of a live writer are left alone,
    and so is ``.NAME.partial``, a checkpoint for ``--resume``."""
    removed = []
    for folder in Path(path).parent.glob(f".{Path(path).name}.partial-*-*"):
        pid = folder.name.rsplit(".partial-", 1)[1].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            logging.getLogger("loyaltylab").warning(
                "loyaltylab: removed %s, left by a run killed while writing %s", folder, path)
    return removed


#: File in a worker pool's temporary folder (``pymp-*``, where multiprocessing keeps its
#: sockets) naming the loyaltylab process that made it.
POOL_OWNER = "loyaltylab.pid"


def remove_stale_pool_folders() -> list[Path]:
    """Remove the multiprocessing temporary folders (``pymp-*``, where a worker pool keeps
    its sockets) that loyaltylab runs killed with SIGKILL left: Python removes its own at
    exit, which a killed process never reaches. Return them, each reported as a warning
    on the ``loyaltylab`` logger.

    Only folders marked by :func:`claim_pool_folder` are considered, and only those of
    processes that are gone: other programs' folders and live runs' are left alone.
    """
    removed = []
    for folder in Path(tempfile.gettempdir()).glob("pymp-*"):
        try:
            pid = int((folder / POOL_OWNER).read_text())
        except (OSError, ValueError):  # not loyaltylab's, or being marked
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            logging.getLogger("loyaltylab").warning(
                "loyaltylab: removed %s, left by a run that was killed", folder)
    return removed


def claim_pool_folder() -> Path:
    """Mark this process's multiprocessing temporary folder with its process id (for
    :func:`remove_stale_pool_folders`); return it."""
    mine = Path(multiprocessing.util.get_temp_dir())
    (mine / POOL_OWNER).write_text(str(os.getpid()))
    return mine


def check_writable(path: Path, name: str = "out", folder: bool = False) -> None:
    """Raise :class:`~loyaltylab.errors.InputError` if ``path`` cannot be written.

    The nearest existing folder above ``path`` must be writable (the folders in between
    are created on writing); a file's ``path`` must not be a folder. ``name`` is the
    argument or option named in the message. Checked before a long computation, so that
    a bad destination fails at once; the write itself may still fail (a full disk).
    """
    path = Path(path)
    try:
        if not folder and path.is_dir():
            raise InputError(f"{name}: {path} is a folder, expected a file name")
        parent = path.absolute().parent
        while not parent.exists():
            parent = parent.parent
        usable = parent.is_dir()
    except OSError as exc:  # a folder on the way that cannot be searched
        raise InputError(f"{name}: cannot create {path}: {exc.strerror}") from None
    if not usable:
        raise InputError(f"{name}: cannot create {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{name}: cannot create {path}: {parent} is not writable")
