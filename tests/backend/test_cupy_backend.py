"""The CuPy backend on a GPU (marked ``gpu``; skipped without CuPy and a visible GPU): the strict lane's ops forward
and backward equal to the NumPy backend's within float32 tolerance, a Dense model's training, moving tensors."""
from __future__ import annotations

import numpy as np
import pytest

from chainrule import backend
from chainrule.backend.cupy_backend import CUPY, gpu_count

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(gpu_count() == 0, reason="needs CuPy (pip install -e '.[gpu]') and a visible GPU")]

strict_lane = pytest.importorskip("tests.backend.test_strict_backend", reason="the strict lane's op table")


@pytest.fixture
def on_gpu():
    before = backend.current()
    backend.set_backend("cupy")
    yield CUPY
    backend.set_backend(before)


@pytest.mark.parametrize("name", sorted(strict_lane.COVERED))
def test_op_on_gpu_equals_numpy(name, on_gpu):
    got, got_grads = strict_lane._run(name, on_gpu.from_host)
    backend.set_backend("numpy")
    want, want_grads = strict_lane._run(name, lambda x: x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
    for g, w in zip(got_grads, want_grads):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5, err_msg=name)


def test_dense_model_trains_on_gpu_as_on_numpy(on_gpu):
    got_losses, got_weights = strict_lane._train("cupy")
    want_losses, want_weights = strict_lane._train("numpy")
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-4)
    for got, want in zip(got_weights, want_weights):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_tensor_to_cuda_and_back(on_gpu):
    import chainrule as cr

    x = cr.constant([1.0, 2.0]).cpu()
    y = x.to("cuda")
    assert CUPY.owns(y.data) and y.cpu().numpy().tolist() == [1.0, 2.0]
    assert [d.device_type for d in cr.config.list_physical_devices("GPU")] == ["GPU"] * gpu_count()


# --- the fused kernels (CuPy's ElementwiseKernel) against the NumPy formulas they replace ------------------------------
def _pair(rng, shape, low=-1.0, high=1.0):
    host = rng.uniform(low, high, shape).astype(np.float32)
    return host, CUPY.from_host(host)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_equals_its_formula(amsgrad, on_gpu):
    from chainrule.keras.optimizers.adam import adam_numpy

    rng = np.random.default_rng(0)
    (w, dw), (g, dg), (m, dm) = _pair(rng, 1000), _pair(rng, 1000), _pair(rng, 1000)
    (v, dv), (vh, dvh) = _pair(rng, 1000, 0, 1), _pair(rng, 1000, 0, 1)
    constants = (0.01, 0.1, 0.001, 1e-7, 0.999, 0.5)
    adam_numpy(w, g, m, v, vh if amsgrad else None, np.empty_like(w), *constants)
    CUPY.fused("adam")(dw, dg, dm, dv, dvh if amsgrad else None, None, *constants)
    for want, got in ((w, dw), (m, dm), (v, dv)):
        np.testing.assert_allclose(CUPY.to_host(got), want, rtol=1e-6, atol=1e-7)
    before = CUPY.to_host(dw)
    CUPY.fused("adam")(dw, dg, dm, dv, None, None, *constants, only_if_finite=CUPY.from_host(np.array(np.nan)))
    np.testing.assert_array_equal(CUPY.to_host(dw), before)  # a non-finite loss: nothing changes


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_fused_sgd_equals_its_formula(momentum, nesterov, on_gpu):
    from chainrule.keras.optimizers.sgd import sgd_numpy

    rng = np.random.default_rng(1)
    (w, dw), (g, dg), (m, dm) = _pair(rng, 500), _pair(rng, 500), _pair(rng, 500)
    sgd_numpy(w, g, m if momentum else None, np.empty_like(w), 0.1, momentum, nesterov, 0.99, 0.5)
    CUPY.fused("sgd")(dw, dg, dm if momentum else None, None, 0.1, momentum, nesterov, 0.99, 0.5)
    np.testing.assert_allclose(CUPY.to_host(dw), w, rtol=1e-6, atol=1e-7)
    if momentum:
        np.testing.assert_allclose(CUPY.to_host(dm), m, rtol=1e-6, atol=1e-7)


def test_fused_activation_and_pooling_kernels_equal_the_numpy_functions(on_gpu):
    from chainrule.backend.kernels import activation, pooling

    rng = np.random.default_rng(2)
    (y, dy), (b, db), (g, dg) = _pair(rng, (6, 5, 8)), _pair(rng, 8), _pair(rng, (6, 5, 8))
    y[0, 0, 0] = np.nan
    dy = CUPY.from_host(y)
    want = y.copy()
    activation.bias_relu_numpy(want, b)
    CUPY.fused("bias_relu")(dy, db)
    np.testing.assert_array_equal(CUPY.to_host(dy), want)
    np.testing.assert_array_equal(CUPY.to_host(CUPY.fused("relu_grad")(dg, dy)), activation.relu_grad_numpy(g, want))
    z = rng.standard_normal((4, 30, 8)).astype(np.float32)
    z[2, 3, 1] = np.nan
    y_host, arg_host = np.empty((30, 8), np.float32), np.empty((30, 8), np.uint8)
    pooling.tap_max_numpy(z, y_host, arg_host)
    y_dev, arg_dev = CUPY.xp.empty((30, 8), np.float32), CUPY.xp.empty((30, 8), np.uint8)
    CUPY.fused("tap_max")(CUPY.from_host(z), y_dev, arg_dev)
    np.testing.assert_array_equal(CUPY.to_host(y_dev), y_host)
    np.testing.assert_array_equal(CUPY.to_host(arg_dev), arg_host)
    gp = rng.standard_normal((30, 8)).astype(np.float32)
    out_host, out_dev = np.empty((4, 30, 8), np.float32), CUPY.xp.empty((4, 30, 8), np.float32)
    pooling.tap_spread_numpy(gp, arg_host, out_host)
    CUPY.fused("tap_spread")(CUPY.from_host(gp), arg_dev, out_dev)
    np.testing.assert_array_equal(CUPY.to_host(out_dev), out_host)


def test_patch_matrix_on_gpu_equals_numpy(on_gpu):
    from chainrule.ops.conv import im2col

    x = np.random.default_rng(3).standard_normal((2, 11, 10, 3)).astype(np.float32)
    for pads, strides, dilations, pool in [(((1, 1), (1, 1)), (1, 1), (1, 1), (1, 1)),
                                           (((0, 0), (0, 0)), (2, 1), (1, 2), (2, 2))]:
        want = im2col(x, (3, 3), pads, strides, dilations, pool)
        got = im2col(CUPY.from_host(x), (3, 3), pads, strides, dilations, pool)
        np.testing.assert_array_equal(CUPY.to_host(got), want)


# --- training on the GPU -----------------------------------------------------------------------------------------------
def _seed_cnn():
    from chainrule import keras
    from chainrule.cli import zoo

    keras.utils.set_random_seed(0)
    model = zoo.build("cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_training_step_makes_no_host_round_trip(on_gpu):
    """A step launched behind a kernel that keeps the GPU busy for a second returns long before that kernel ends:
    nothing in it waits for the device (no copy to the host, no read of a value)."""
    from chainrule.keras.training.adapters import on_device
    from chainrule.keras.training.trainer import _pack

    cupy = CUPY.xp
    rng = np.random.default_rng(0)
    x, y = rng.random((256, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 256)
    model = _seed_cnn()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    step = model._step_function("train")
    batch = _pack(*on_device((x[:128], y[:128], None)))
    step(batch)
    step(batch)
    spin = cupy.RawKernel(r'''extern "C" __global__ void spin(long long cycles) {
        long long start = clock64(); while (clock64() - start < cycles) {} }''', "spin")
    cupy.cuda.Device().synchronize()
    spin((1,), (1,), (np.int64(3_000_000_000),))  # about 1.5 s at 2 GHz
    import time
    start = time.perf_counter()
    step(batch)
    launched = time.perf_counter() - start
    cupy.cuda.Device().synchronize()
    finished = time.perf_counter() - start
    assert launched < 0.25 * finished, (launched, finished)


@pytest.mark.mnist
def test_seed_cnn_one_epoch_on_gpu_reaches_the_cpu_accuracy(on_gpu):
    from chainrule import keras

    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    x, xt = (x[..., None] / 255.0).astype("float32"), (xt[..., None] / 255.0).astype("float32")
    accuracy = {}
    for name in ("cupy", "numpy"):
        backend.set_backend(name)
        model = _seed_cnn()
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        accuracy[name] = model.evaluate(xt, yt, verbose=0)[1]
    assert accuracy["numpy"] > 0.97
    assert abs(accuracy["cupy"] - accuracy["numpy"]) < 0.005, accuracy


def test_model_saved_on_gpu_loads_on_cpu_and_back(tmp_path, on_gpu):
    from chainrule import keras

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 64)
    model = _seed_cnn()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    model.save(tmp_path / "gpu.keras")
    on_gpu_prediction = model.predict(x, verbose=0)
    backend.set_backend("numpy")
    on_cpu = keras.models.load_model(tmp_path / "gpu.keras")
    assert type(on_cpu.weights[0].data) is np.ndarray
    np.testing.assert_allclose(on_cpu.predict(x, verbose=0), on_gpu_prediction, rtol=1e-4, atol=1e-5)
    on_cpu.fit(x, y, batch_size=32, epochs=1, verbose=0)  # the optimizer state came over too
    on_cpu.save(tmp_path / "cpu.keras")
    backend.set_backend("cupy")
    back = keras.models.load_model(tmp_path / "cpu.keras")
    assert CUPY.owns(back.weights[0].data)
    np.testing.assert_allclose(back.predict(x, verbose=0), on_cpu.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_every_op_oracle_passes_on_the_gpu():
    """tests/oracle (every op's forward and backward against PyTorch and finite differences) with the CuPy backend
    chosen for the whole process."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/oracle", "-x"],
                          env={**os.environ, "CHAINRULE_BACKEND": "cupy"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-5000:]


def test_tf_device_places_the_block(restore_backend):
    import chainrule as tf

    from chainrule.compat.tf.placement import current_device

    backend.set_backend("numpy")
    with tf.device("/GPU:0"):
        on_gpu = tf.ones([2]) * 2
        assert current_device().endswith("device:GPU:0")
    assert CUPY.owns(on_gpu.data) and backend.current() == "numpy"
    backend.set_backend("cupy")
    with tf.device("/CPU:0"):
        on_cpu = tf.ones([2]) * 2
    assert type(on_cpu.data) is np.ndarray and backend.current() == "cupy"


def test_fused_erf_is_the_cpu_erf(on_gpu):
    import math

    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(CUPY.to_host(CUPY.fused("erf")(CUPY.from_host(x))), [math.erf(v) for v in x],
                               rtol=1e-14, atol=1e-15)
