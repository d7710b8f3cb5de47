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
