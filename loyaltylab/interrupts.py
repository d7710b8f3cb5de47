"""Ctrl-C and SIGTERM honoured at any moment of a command: exit 130, nothing half-written.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread is, including
inside a weakref callback or a ``__del__`` (matplotlib's cleanup, a pool's finaliser),
where the exception is printed and swallowed: the command would then go on and finish.
The handlers here also remember the signal, and :func:`check` raises it again before
anything is renamed into place (:mod:`loyaltylab.experiments.atomic`), so a swallowed
interrupt still stops the command before it writes. This module imports nothing heavy:
the command line installs the handlers before it imports pandas and matplotlib.
"""

from __future__ import annotations

import signal
from types import FrameType

_pending = False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    global _pending
    _pending = True
    raise KeyboardInterrupt


def install() -> None:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt (and remember it)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def pending() -> bool:
    """Whether an interrupt arrived since :func:`install` (even one that was swallowed)."""
    return _pending


def check() -> None:
    """Raise KeyboardInterrupt if an interrupt arrived, swallowed or not."""
    if _pending:
        raise KeyboardInterrupt


def handled() -> None:
    """Say that the interrupt was handled, so that the command's exit code stands.

    CPython marks a KeyboardInterrupt that leaves code evaluated by ``PyRun_String`` (as
    some extension modules do while being imported) as unhandled, even once the command
    has handled it, and then ends the process by SIGINT instead of with the command's
    exit code (3 times in 24 for a SIGTERM in the first 1.5 s of ``run``). Evaluating
    nothing the same way clears the mark.
    """
    import ctypes

    ctypes.pythonapi.PyRun_SimpleString(b"")
