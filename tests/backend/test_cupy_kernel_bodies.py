"""The CUDA code of the CuPy backend's fused kernels (chainrule/backend/cupy_backend.py ``KERNELS``), checked on the
CPU: each kernel's operation is compiled as C++ inside the loop CuPy's ElementwiseKernel puts it in (one iteration per
element ``i``, non-raw inputs read at ``i``, outputs written through references, raw arrays indexed flat), and run on
the same inputs as the NumPy formula it replaces. The GPU tests (test_cupy_backend.py) run the real kernels; this
file proves their bodies wherever a C++ compiler is (skipped without one)."""
from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from chainrule.backend.cupy_backend import KERNELS
from chainrule.backend.kernels import activation, pooling
from chainrule.keras.optimizers.adam import adam_numpy
from chainrule.keras.optimizers.sgd import sgd_numpy

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs a C++ compiler (g++)")

TYPES = {"T": ("float", ctypes.c_float, np.float32), "U": ("unsigned char", None, np.uint8),
         "O": ("float", None, np.float32), "int64": ("long long", ctypes.c_longlong, np.int64)}
# the inputs each kernel is called with as scalars (the rest of its non-raw inputs are arrays, read element by element)
SCALARS = {"adam": {"alpha", "c1", "c2", "eps", "keep", "gscale"}, "sgd": {"lr", "momentum", "keep", "gscale"},
           "bias_relu": {"f"}, "tap_max": {"m", "taps"}, "tap_spread": {"m"}, "relu_grad": set()}
SCALARS.update(adam_amsgrad=SCALARS["adam"], sgd_momentum=SCALARS["sgd"], sgd_nesterov=SCALARS["sgd"])


def _params(spec: str) -> list[tuple[bool, str, str]]:
    """(raw, type, name) of each comma-separated parameter of an ElementwiseKernel."""
    found = []
    for part in spec.split(","):
        words = part.split()
        found.append((words[0] == "raw", words[-2], words[-1]))
    return found


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """Every kernel body compiled into one shared library: ``kernels[name](n, *args)`` runs it over n elements."""
    lines = ["#include <cmath>", "#include <cstddef>", "using std::isfinite; using std::sqrt;",
             "typedef float T; typedef unsigned char U; typedef float O;"]
    signatures = {}
    for name, (inputs, outputs, body) in KERNELS.items():
        args, reads, kinds = [], [], []
        for raw, kind, param in _params(inputs):
            c_type = TYPES[kind][0]
            if raw:
                args.append(f"{c_type}* {param}")
                kinds.append("pointer")
            elif param in SCALARS[name]:
                args.append(f"{c_type} {param}")
                kinds.append(kind)
            else:
                args.append(f"const {c_type}* {param}_at")
                reads.append(f"const {c_type} {param} = {param}_at[i];")
                kinds.append("pointer")
        for _, kind, param in _params(outputs):
            c_type = TYPES[kind][0]
            args.append(f"{c_type}* {param}_at")
            reads.append(f"{c_type}& {param} = {param}_at[i];")
            kinds.append("pointer")
        lines.append(f'extern "C" void {name}(long long n, {", ".join(args)}) {{')
        lines.append("  for (std::ptrdiff_t i = 0; i < n; ++i) {")
        lines += ["    " + r for r in reads] + ["    " + body, "  }", "}"]
        signatures[name] = kinds
    folder = tmp_path_factory.mktemp("kernels")
    (folder / "kernels.cpp").write_text("\n".join(lines))
    subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(folder / "kernels.so"), str(folder / "kernels.cpp")],
                   check=True, capture_output=True)
    library = ctypes.CDLL(str(folder / "kernels.so"))

    def runner(name):
        def run(n, *values):
            converted = []
            for kind, value in zip(signatures[name], values):
                if kind == "pointer":
                    assert value.flags.c_contiguous
                    converted.append(ctypes.c_void_p(value.ctypes.data))
                else:
                    converted.append(TYPES[kind][1](value))
            getattr(library, name)(ctypes.c_longlong(n), *converted)
        return run
    return {name: runner(name) for name in KERNELS}


def _arrays(rng, n, *ranges):
    return [rng.uniform(low, high, n).astype(np.float32) for low, high in ranges]


@pytest.mark.parametrize("amsgrad, finite", [(False, True), (True, True), (False, False)])
def test_adam_kernel_is_the_formula(kernels, amsgrad, finite):
    rng = np.random.default_rng(0)
    w, g, m, v, vh = _arrays(rng, 300, (-1, 1), (-1, 1), (-1, 1), (0, 1), (0, 1))
    constants = (0.01, 0.1, 0.001, 1e-7, 0.999, 0.5)
    want = [a.copy() for a in (w, m, v, vh)]
    if finite:
        adam_numpy(want[0], g, want[1], want[2], want[3] if amsgrad else None, np.empty_like(w), *constants)
    loss = np.array([1.5 if finite else np.inf], np.float32)
    kernels["adam_amsgrad" if amsgrad else "adam"](w.size, g, *constants, loss, w, m, v, *([vh] if amsgrad else []))
    for got, expected in zip((w, m, v, vh), want):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_kernel_is_the_formula(kernels, momentum, nesterov):
    rng = np.random.default_rng(1)
    w, g, m = _arrays(rng, 300, (-1, 1), (-1, 1), (-1, 1))
    want_w, want_m = w.copy(), m.copy()
    sgd_numpy(want_w, g, want_m if momentum else None, np.empty_like(w), 0.1, momentum, nesterov, 0.99, 0.5)
    name = "sgd" if not momentum else "sgd_nesterov" if nesterov else "sgd_momentum"
    kernels[name](w.size, g, 0.1, momentum, 0.99, 0.5, np.ones(1, np.float32), w, *([m] if momentum else []))
    np.testing.assert_allclose(w, want_w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m, want_m, rtol=1e-6, atol=1e-7)


def test_activation_kernels_are_the_numpy_functions(kernels):
    rng = np.random.default_rng(2)
    y = rng.standard_normal((6, 8)).astype(np.float32)
    y[0, 0], y[1, 1] = np.nan, -0.25
    b = rng.standard_normal(8).astype(np.float32)
    want = y.copy()
    activation.bias_relu_numpy(want, b)
    kernels["bias_relu"](y.size, b, 8, y)
    np.testing.assert_array_equal(y, want)
    g = rng.standard_normal((6, 8)).astype(np.float32)
    g[2, 2] = np.inf
    gm = np.empty_like(g)
    kernels["relu_grad"](g.size, g, y, gm)
    np.testing.assert_array_equal(gm, activation.relu_grad_numpy(g, y))


def test_pooling_kernels_are_the_numpy_functions(kernels):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((4, 30, 8)).astype(np.float32)
    z[2, 3, 1] = np.nan
    z[1, 5, 2] = z[3, 5, 2] = 9.0  # a tie: the first tap keeps it
    want_y, want_arg = np.empty((30, 8), np.float32), np.empty((30, 8), np.uint8)
    pooling.tap_max_numpy(z, want_y, want_arg)
    y, arg = np.empty((30, 8), np.float32), np.empty((30, 8), np.uint8)
    kernels["tap_max"](y.size, z, y.size, 4, y, arg)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(arg, want_arg)
    g = rng.standard_normal((30, 8)).astype(np.float32)
    g[4, 4] = np.nan
    want_out, out = np.empty((4, 30, 8), np.float32), np.empty((4, 30, 8), np.float32)
    pooling.tap_spread_numpy(g, want_arg, want_out)
    kernels["tap_spread"](out.size, g, arg, g.size, out)
    np.testing.assert_array_equal(out, want_out)
