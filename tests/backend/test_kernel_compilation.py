"""When and where the numba kernels compile (chainrule/backend/kernels/__init__.py): nothing at import, in the caller
on first use (CHAINRULE_KERNELS=wait, the default) or in the background while the NumPy twins run, with the same
bits (background), never (off); cached on disk where a folder is writable."""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from chainrule.backend import kernels
from chainrule.backend.kernels import activation, optim, pooling

numba = pytest.importorskip("numba", reason="the numba kernels need numba (pip install chainrule[fast])")
from numba.core import caching  # noqa: E402


def _double(x, out):  # a kernel of the tests' own, compiled fresh by each test that jits it
    for i in range(x.size):
        out[i] = x[i] * 2


def _broken(x):
    return x.no_such_attribute


def _run_python(code: str, tmp_path, mode: str, cache=None) -> str:
    """Run ``code`` in a fresh process (a fresh numba, and its own cache folder unless ``cache`` is given)."""
    env = {**os.environ, "CHAINRULE_KERNELS": mode, "NUMBA_CACHE_DIR": str(cache or tmp_path / f"cache-{mode}")}
    env.pop("CHAINRULE_NUMBA", None)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def mode():
    """Set the kernels' mode inside a test; the previous one comes back after it (compiles left finished)."""
    before = kernels.mode()
    yield kernels.set_mode
    kernels.wait_for_compiles()
    kernels.set_mode(before)


@pytest.fixture
def cache_in(tmp_path, monkeypatch):
    """The tests' own kernels cache under tmp_path (as NUMBA_CACHE_DIR would), not beside this file."""
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    return tmp_path / "numba-cache"


# --- compile only what a run uses -------------------------------------------------------------------------------------
IMPORT_EVERYTHING = """
    import json
    from numba.core import event
    compiles = []

    class Compiles(event.Listener):
        def on_start(self, ev):
            compiles.append(ev.data["dispatcher"].py_func.__qualname__)

        def on_end(self, ev):
            pass

    event.register("numba:compile", Compiles())
    import chainrule, chainrule.keras, chainrule.compat.tf, chainrule.cli.app
    from chainrule.keras import optimizers
    from chainrule.backend import kernels
    print(json.dumps([len(kernels._KERNELS), kernels.compiled_signatures(), compiles]))
"""


@pytest.mark.parametrize("kernel_mode", ["background", "wait"])
def test_importing_chainrule_compiles_no_kernel(tmp_path, kernel_mode):
    made, compiled, compiles = json.loads(_run_python(IMPORT_EVERYTHING, tmp_path, kernel_mode))
    assert made >= 20  # the kernels exist (activation, col2im, optim, pooling, softmax) ...
    assert compiled == {} and compiles == []  # ... and none has machine code yet


TRAIN_TWICE = """
    import hashlib, json
    import numpy as np
    from chainrule.backend import kernels
    from chainrule.keras import layers
    from chainrule.keras.models import Sequential
    from chainrule.keras.utils import set_random_seed

    rng = np.random.default_rng(0)
    x, y = rng.random((192, 12, 12, 1), dtype=np.float32), rng.integers(0, 4, 192)
    set_random_seed(1)
    model = Sequential([layers.Conv2D(8, (3, 3), activation="relu", input_shape=(12, 12, 1)),
                        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(16, activation="relu"),
                        layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    after_build = sorted(kernels.compiled_signatures())
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # background: NumPy twins at first, kernels once ready
    kernels.wait_for_compiles()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # kernels throughout
    weights = b"".join(w.tobytes() for w in model.get_weights()) + model.predict(x, verbose=0).tobytes()
    print(json.dumps([hashlib.sha256(weights).hexdigest(), after_build, sorted(kernels.compiled_signatures())]))
"""


def test_background_compiling_trains_bit_identically_to_compiling_first(tmp_path):
    """The run that starts on the NumPy twins and switches to the kernels as they compile ends with the same bits
    as the run that compiles each kernel before its first call."""
    background, built, used = json.loads(_run_python(TRAIN_TWICE, tmp_path, "background"))
    waited, _, _ = json.loads(_run_python(TRAIN_TWICE, tmp_path, "wait"))
    assert background == waited
    # building the model runs no kernel (symbolic shapes come from the layers' rules); the softmax kernel, which may
    # not switch mid-run, compiled in the caller at its first call in fit
    assert built == []
    assert {"_softmax_kernel", "_adam_kernel", "_bias_relu_nb", "_relu_grad_nb", "_tap_max_4_kernel"} <= set(used)
    # only what the run used: no threaded twin for these small arrays, no window kernel the fused node replaced
    assert not [name for name in used if name.endswith("__parallel") or name == "_max_pool_2x2_kernel"]


def test_a_second_process_loads_the_kernels_from_the_disk_cache(tmp_path):
    code = """
        import numpy as np
        from chainrule.backend.kernels import activation
        g = np.ones((4, 3), np.float32)
        activation.relu_grad(g, g)
        stats = activation._relu_grad_nb.stats
        print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    """
    assert _run_python(code, tmp_path, "wait", cache=tmp_path / "shared") == "0 1"  # compiled and saved
    assert _run_python(code, tmp_path, "wait", cache=tmp_path / "shared") == "1 0"  # loaded


# --- background mode --------------------------------------------------------------------------------------------------
def test_background_calls_run_the_numpy_twin_until_the_kernel_is_ready(mode, cache_in):
    mode("background")
    kernel = kernels.jit(_double)
    twin_calls = []
    call = kernels.falls_back_to(lambda x, out: twin_calls.append(1) or np.multiply(x, 2, out=out))(kernel)
    x = np.arange(6.0)
    for n in range(1, kernels.COMPILE_AFTER_CALLS + 1):
        out = np.empty(6)
        call(x, out)
        np.testing.assert_array_equal(out, 2 * x)
        assert len(twin_calls) == n
        if n < kernels.COMPILE_AFTER_CALLS:  # a probe's call or two compile nothing
            assert kernels.wait_for_compiles(timeout=0) and not kernel.overloads
    assert kernels.wait_for_compiles(timeout=300)
    assert len(kernel.overloads) == 1
    out = np.empty(6)
    call(x, out)
    np.testing.assert_array_equal(out, 2 * x)
    assert len(twin_calls) == kernels.COMPILE_AFTER_CALLS  # the kernel ran this time


def test_a_kernel_that_fails_to_compile_raises_in_the_caller(mode, cache_in):
    mode("background")
    kernel = kernels.jit(_broken)
    for _ in range(kernels.COMPILE_AFTER_CALLS):
        with pytest.raises(kernels.NotReady):
            kernel(np.ones(2))
    assert kernels.wait_for_compiles(timeout=300)
    with pytest.raises(numba.core.errors.TypingError, match="no_such_attribute"):
        kernel(np.ones(2))  # the error, not NumPy forever


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 255, 256, 257, 21632 // 32, 2000])
def test_relu_grad_sum_before_its_kernel_is_ready_adds_in_the_kernels_order(mode, rows, dtype):
    """The twin that runs while the kernel compiles gives the kernel's bits (the plain NumPy one adds in BLAS's
    order); also for -0.0, values whose sum depends on the order, and infinities."""
    mode("wait")
    rng = np.random.default_rng(rows)
    g = (rng.standard_normal((rows, 5)) * 10.0 ** rng.integers(-8, 8, (rows, 5))).astype(dtype)
    g[:, 0] = -0.0
    g[::7, 1] = np.inf
    y = rng.standard_normal((rows, 5)).astype(dtype)
    kernel_gm, kernel_sum = activation.relu_grad_sum(g, y)
    with np.errstate(invalid="ignore"):  # inf * 0: NaN, as in the kernel
        twin_gm, twin_sum = activation.relu_grad_sum_in_blocks(g, y)
    assert twin_gm.tobytes() == kernel_gm.tobytes()
    assert twin_sum.dtype == kernel_sum.dtype and twin_sum.tobytes() == kernel_sum.tobytes()


def test_an_optimizer_runs_its_formula_while_its_kernel_compiles(monkeypatch):
    from chainrule.engine.tensor import Variable
    from chainrule.keras.optimizers import Adam
    from chainrule.keras.optimizers.adam import adam_numpy

    def compiling(*args):
        raise kernels.NotReady("compiling")

    def train(update):
        monkeypatch.setattr(Adam, "_update", update)
        w = Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
        opt = Adam(0.1)
        for step in range(3):
            opt.apply_gradients([(np.full((3, 4), 0.5 + step, np.float32), w)])
        return w.numpy()

    assert train((adam_numpy, compiling)).tobytes() == train((adam_numpy, optim.adam_numba)).tobytes()


# --- the modes --------------------------------------------------------------------------------------------------------
def test_wait_mode_compiles_on_the_first_call_in_the_caller(mode, cache_in):
    mode("wait")
    kernel = kernels.jit(_double)
    out = np.empty(3)
    kernel(np.arange(3.0), out)
    assert len(kernel.overloads) == 1
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])


def test_off_mode_and_set_enabled(mode):
    mode("wait")
    kernels.set_enabled(False)
    assert kernels.mode() == "off" and not kernels.enabled() and not kernels.runs_on(np.dtype(np.float32))
    kernels.set_enabled(True)
    assert kernels.mode() == "wait" and kernels.enabled()
    mode("off")
    assert not kernels.enabled()
    with pytest.raises(ValueError, match="expected one of wait, background, off"):
        kernels.set_mode("later")


@pytest.mark.parametrize("environment, expected", [
    ({}, "wait"), ({"CHAINRULE_KERNELS": "background"}, "background"), ({"CHAINRULE_KERNELS": "off"}, "off"),
    ({"CHAINRULE_NUMBA": "0"}, "off"), ({"CHAINRULE_NUMBA": "0", "CHAINRULE_KERNELS": "wait"}, "off")])
def test_the_mode_comes_from_the_environment(environment, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("CHAINRULE_KERNELS", "CHAINRULE_NUMBA")}
    code = "from chainrule.backend import kernels; print(kernels.mode(), kernels.enabled())"
    done = subprocess.run([sys.executable, "-c", code], env={**env, **environment}, capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.split() == [expected, str(expected != "off")]


def test_an_unknown_mode_in_the_environment_is_an_error():
    env = {**os.environ, "CHAINRULE_KERNELS": "sometimes"}
    done = subprocess.run([sys.executable, "-c", "import chainrule"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert "CHAINRULE_KERNELS='sometimes': expected one of wait, background, off" in done.stderr


def test_the_threaded_twin_compiles_only_for_large_arrays(mode, monkeypatch):
    mode("wait")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    geometry = ((2, 2), (2, 2), ((0, 0), (0, 0)), (3, 3))
    small = pooling.max_pool_numba(x, *geometry)
    monkeypatch.setattr(pooling, "PARALLEL_MIN_ELEMENTS", 10)
    threaded = pooling.max_pool_numba(x, *geometry)
    assert pooling._max_pool_2x2_kernel.parallel.overloads  # compiled now that an array counts as large
    for a, b in zip(small, threaded):
        assert a.tobytes() == b.tobytes()


# --- the disk cache ---------------------------------------------------------------------------------------------------
def _unwritable(self):
    raise PermissionError(13, "Permission denied", self.get_cache_path())


def test_a_read_only_package_folder_caches_in_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")  # no NUMBA_CACHE_DIR
    monkeypatch.setattr(caching.InTreeCacheLocator, "ensure_cache_path", _unwritable)  # as a read-only site-packages
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kernel = kernels.jit(_double)
    assert kernel.stats.cache_path.startswith(str(tmp_path / "numba"))


def test_with_no_writable_cache_folder_kernels_compile_uncached(monkeypatch, mode):
    mode("wait")
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(caching.InTreeCacheLocator, "ensure_cache_path", _unwritable)
    monkeypatch.setattr(caching.UserWideCacheLocator, "ensure_cache_path", _unwritable)
    monkeypatch.setattr(kernels, "_warned_no_cache", False)
    with pytest.warns(RuntimeWarning, match="compile in every process.*NUMBA_CACHE_DIR"):
        kernel = kernels.jit(_double)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kernels.jit(_broken)  # warned once per process
    out = np.empty(2)
    kernel(np.ones(2), out)
    np.testing.assert_array_equal(out, [2.0, 2.0])
