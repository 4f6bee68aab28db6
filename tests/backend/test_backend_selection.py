"""Choosing the backend (set_backend, CHAINRULE_BACKEND, CHAINRULE_DEVICE), the namespace of arrays, the extras each
backend provides, and moving tensors between devices."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend
from chainrule.backend.extras import EXTRAS
from chainrule.backend.numpy_backend import NUMPY
from chainrule.backend.strict_backend import STRICT

pytest.importorskip("array_api_strict")


def test_set_backend_switches_xp_and_current(restore_backend):
    backend.set_backend("strict")
    assert backend.current() == "strict" and backend.xp.__name__ == "array_api_strict"
    assert backend.get_backend() is STRICT
    backend.set_backend("numpy")
    assert backend.current() == "numpy" and backend.xp is np


def test_unknown_backend_is_refused_and_nothing_changes(restore_backend):
    with pytest.raises(ValueError, match="backend must be one of 'numpy', 'strict', 'cupy', got 'tpu'"):
        backend.set_backend("tpu")
    assert backend.current() == "numpy"


def test_cupy_backend_without_cupy_says_how_to_install(restore_backend):
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed")
    except ImportError:
        pass
    with pytest.raises(ImportError, match=r"pip install -e '\.\[gpu\]'"):
        backend.set_backend("cupy")
    assert backend.current() == "numpy"


@pytest.mark.parametrize("env, expected", [({"CHAINRULE_BACKEND": "strict"}, "strict"),
                                           ({"CHAINRULE_DEVICE": "cpu"}, "numpy"), ({}, "numpy")])
def test_environment_chooses_the_backend_at_import(env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("CHAINRULE_BACKEND", "CHAINRULE_DEVICE")}
    out = subprocess.run([sys.executable, "-c", "import chainrule.backend as b; print(b.current())"],
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_bad_device_in_the_environment_is_named():
    clean = {k: v for k, v in os.environ.items() if k not in ("CHAINRULE_BACKEND", "CHAINRULE_DEVICE")}
    out = subprocess.run([sys.executable, "-c", "import chainrule.backend"], env={**clean, "CHAINRULE_DEVICE": "tpu"},
                         capture_output=True, text=True)
    assert out.returncode != 0 and "CHAINRULE_DEVICE must be 'cpu' or 'gpu', got 'tpu'" in out.stderr


def test_array_namespace_follows_the_arrays_not_the_global(restore_backend):
    strict_array = STRICT.from_host(np.ones(2, np.float32))
    assert backend.array_namespace(np.ones(2)).sum is not None and backend.extras_for(np.ones(2)) is NUMPY
    assert backend.extras_for(np.ones(2), strict_array) is STRICT  # the non-NumPy array decides
    assert backend.extras_for(1.0, None) is NUMPY  # no arrays: the current backend
    backend.set_backend("strict")
    assert backend.extras_for(1.0) is STRICT and backend.extras_for(np.ones(2)) is NUMPY


@pytest.mark.parametrize("owner", [NUMPY, STRICT], ids=lambda b: b.name)
def test_every_backend_provides_every_extra(owner):
    for name in EXTRAS:
        assert callable(getattr(owner, name)), name
    xp, host = owner.xp, owner.to_host
    x = owner.from_host(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(host(owner.sliding_window_view(x, (2,), (1,))),
                                  np.lib.stride_tricks.sliding_window_view(np.arange(12.0).reshape(3, 4), 2, axis=1))
    got = owner.scatter_add(owner.from_host(np.zeros((3, 2))), owner.from_host(np.array([2, 0, 2])),
                            owner.from_host(np.ones((3, 2))))
    np.testing.assert_array_equal(host(got), [[1, 1], [0, 0], [2, 2]])
    put = owner.put_along_axis(owner.from_host(np.zeros((2, 3))), owner.from_host(np.array([[1], [2]])), 5.0, -1)
    np.testing.assert_array_equal(host(put), [[0, 5, 0], [0, 0, 5]])
    padded = owner.pad(owner.from_host(np.ones((1, 2))), ((1, 0), (0, 1)), 0.5)
    np.testing.assert_array_equal(host(padded), [[0.5, 0.5, 0.5], [1, 1, 0.5]])
    a, b = owner.from_host(np.ones((2, 3))), owner.from_host(np.ones((3, 4)))
    np.testing.assert_array_equal(host(owner.matmul_into(a, b, xp.empty((2, 4), dtype=a.dtype))), np.full((2, 4), 3.0))
    assert owner.random_generator(0).normal(size=3).shape == (3,)
    np.testing.assert_array_equal(host(owner.as_numeric(owner.from_host(np.array([True, False])), np.float32) * 2.0),
                                  [2.0, 0.0])


def test_tensor_moves_to_the_cpu_and_refuses_a_missing_gpu(restore_backend):
    x = cr.constant([1.0, 2.0])
    assert x.cpu() is x and x.to("cpu") is x
    backend.set_backend("strict")
    y = cr.constant([1.0, 2.0])
    assert isinstance(y.cpu().data, np.ndarray) and y.cpu().numpy().tolist() == [1.0, 2.0]
    if backend.CUPY.device_count() == 0:
        with pytest.raises(RuntimeError, match="no GPU is visible"):
            x.to("cuda")
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda'"):
        x.to("tpu")


def test_tf_config_lists_the_cpu_and_only_visible_gpus():
    gpus = cr.config.list_physical_devices("GPU")
    assert len(gpus) == backend.CUPY.device_count()
    assert cr.config.list_physical_devices("CPU")[0].name == "/physical_device:CPU:0"
