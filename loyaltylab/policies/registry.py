"""Policies by name: ``make("points", earn_per_currency=2)`` for scenario files.

Built-in policies register themselves with :func:`register`. Third-party packages
register theirs through the entry-point group ``loyaltylab.policies``::

    [project.entry-points."loyaltylab.policies"]
    cashback = "my_package.cashback:CashbackPolicy"
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

from loyaltylab.sim import Policy

ENTRY_POINT_GROUP = "loyaltylab.policies"

_REGISTRY: dict[str, type[Policy]] = {}
_entry_points_loaded = False

P = TypeVar("P", bound=type[Policy])


def register(name: str) -> Callable[[P], P]:
    """Class decorator: make a policy available under ``name``."""

    def decorate(cls: P) -> P:
        if not (isinstance(cls, type) and issubclass(cls, Policy)):
            raise TypeError(f"{name}: only subclasses of loyaltylab.sim.Policy can be registered")
        existing = _REGISTRY.get(name)
        same = existing is not None and (existing.__module__, existing.__qualname__) == (
            cls.__module__, cls.__qualname__)  # the same class, imported a second time
        if existing is not None and not same:
            raise ValueError(f"policy name {name!r} is taken by {existing.__qualname__}")
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _REGISTRY:
            register(entry.name)(entry.load())


def registered() -> list[str]:
    """Names of every available policy, built-in and from plugins."""
    _load_entry_points()
    return sorted(_REGISTRY)


def policy_class(name: str) -> type[Policy]:
    """The class registered under ``name``; a typo gets a "did you mean" hint."""
    _load_entry_points()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown policy {name!r}{hint} Registered: {', '.join(sorted(_REGISTRY))}"
        ) from None


def make(name: str, **params: Any) -> Policy:
    """Build the policy registered under ``name`` with ``params``.

    Examples
    --------
    >>> make("points", value_per_point=0.01).value_per_point
    0.01
    """
    return policy_class(name)(**params)
