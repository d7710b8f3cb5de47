import importlib.util

import numpy as np
import pytest

from loyaltylab.sim.backend import device_name, get_namespace, to_numpy


def test_numpy_is_the_default_namespace_and_computes_on_the_cpu():
    assert get_namespace() is np
    assert device_name(np) == "cpu"
    array = np.arange(3)
    assert to_numpy(array) is array


def test_an_unknown_backend_is_named():
    with pytest.raises(ValueError, match="backend: unknown backend 'jax'"):
        get_namespace("jax")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_the_gpu_backend_without_cupy_is_a_clear_error():
    with pytest.raises(ImportError, match=r"loyaltylab\[gpu\]"):
        get_namespace("cupy")
