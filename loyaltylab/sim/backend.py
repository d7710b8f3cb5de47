"""Array namespaces: the engine's array code runs on numpy (default) or CuPy.

The engine never calls ``np.`` in its hot path; it calls the namespace held by the
model (``model.xp``), so the same code runs on a GPU when CuPy is installed.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from loyaltylab.errors import InputError, MissingDependencyError

BACKENDS = ("numpy", "cupy")


def get_namespace(backend: str = "numpy") -> ModuleType:
    """Return the array namespace for ``backend``.

    Parameters
    ----------
    backend : {"numpy", "cupy"}
        Name of the array library.

    Raises
    ------
    InputError
        If ``backend`` is not a known name (a ``ValueError``).
    MissingDependencyError
        If the library is not installed (CuPy is the optional extra ``gpu``); an
        ``ImportError``.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend: unknown backend {backend!r}; expected one of {BACKENDS}")
    if backend == "numpy":
        return np
    try:
        return importlib.import_module("cupy")
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise MissingDependencyError(
            "backend='cupy' needs CuPy and a GPU: pip install 'loyaltylab[gpu]'"
        ) from exc


def device_name(xp: ModuleType) -> str:
    """What the namespace computes on: the GPU's name for CuPy, else ``"cpu"``."""
    if xp is np:
        return "cpu"
    name = xp.cuda.runtime.getDeviceProperties(xp.cuda.Device().id)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def to_numpy(array: Any) -> np.ndarray:
    """Copy an array of any backend into host memory as a numpy array."""
    if isinstance(array, np.ndarray):
        return array
    getter = getattr(array, "get", None)
    return np.asarray(getter() if getter is not None else array)
