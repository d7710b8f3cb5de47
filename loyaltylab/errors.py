"""Errors in what a user gave loyaltylab, as opposed to errors in loyaltylab itself.

:class:`InputError` marks a problem with the user's input: a scenario file, a population
file, a transaction log, a results folder, an argument or option, an output
destination. Its message names the field (or row, or option) and the reason, so the
command line prints it as is and exits with code 2; any other exception is a bug in
loyaltylab and is reported with its traceback (see :mod:`loyaltylab.cli`).

``InputError`` is a ``ValueError``, so code that catches ``ValueError`` keeps working.
This module imports nothing from loyaltylab: every layer (``sim``, ``agents``,
``policies``, ``experiments``) may raise these errors.
"""

from __future__ import annotations

import numbers
import stat
from os import PathLike
from pathlib import Path


class InputError(ValueError):
    """Bad input from the user; the message names the field, row or option and the reason.

    Subclasses holding several problems override :meth:`lines`.
    """

    def lines(self) -> list[str]:
        """The problems, one line each, as the command line prints them."""
        return str(self).splitlines() or [type(self).__name__]


class MissingDependencyError(InputError, ImportError):
    """An option needs an optional extra that is not installed (``pip install
    'loyaltylab[gpu]'``); an ``ImportError`` too, for callers that catch that."""


#: Largest text file (scenario, population, segment rules) read: far above any real one,
#: and a guard against reading a device or a mistaken multi-gigabyte file into memory.
MAX_TEXT_BYTES = 64 * 2**20


def as_path(name: str, value: object) -> Path:
    """``value`` as a :class:`~pathlib.Path`, or an :class:`InputError` naming the
    parameter ``name`` when it is not a path."""
    if not isinstance(value, str | PathLike) or not str(value).strip():
        raise InputError(f"{name}: must be a path, got {value!r}")
    return Path(value)


def input_file(path: str | PathLike[str], max_bytes: int | None = None) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is a regular file (of at most
    ``max_bytes``), else an :class:`InputError` naming it and the reason.

    A folder, a device such as ``/dev/zero`` or a named pipe would otherwise be read
    until memory runs out, or wait for ever.
    """
    path = as_path("path", path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:  # a symlink loop, a folder that cannot be searched
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder, expected a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a device or a pipe)")
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(f"{path}: {info.st_size:,} bytes, more than the {max_bytes:,} a "
                         "file of this kind may have")
    return path


def integer(name: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` as an int, checked for a public function's parameter ``name``.

    A bool or a number with a fraction is refused (``size=True`` would silently mean
    one customer), as is a value outside ``[low, high]``.

    Raises
    ------
    InputError
        Naming ``name``, the rule and the value.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}: must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        rule = f"in [{low:,}, {high:,}]" if high is not None else f">= {low:,}"
        raise InputError(f"{name}: must be {rule}, got {value!r}")
    return int(value)

