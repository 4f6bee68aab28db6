"""The strict backend's lane for the seeds' vision ops: convolution (forward and both gradients, padding, strides,
dilations), the Conv2D + relu + max-pool node, max pooling (its scatter and gather), dropout; and the seed CNN and
seed 001's deep CNN trained on array-api-strict's second device equal to the NumPy backend. What runs here is what a
GPU runs: the ops off NumPy take only the array API and the backend's extras."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

import chainrule as cr  # noqa: E402
from chainrule import backend, keras  # noqa: E402
from chainrule.ops.conv_pool import conv2d_relu_max_pool2d  # noqa: E402

# name: (function of Tensors, input shapes); every input is float32 and gets a gradient
CASES = {
    "conv2d_valid": (lambda x, w: cr.nn.conv2d(x, w, 1, "VALID"), [(2, 7, 6, 3), (3, 3, 3, 4)]),
    "conv2d_same_strided": (lambda x, w: cr.nn.conv2d(x, w, 2, "SAME"), [(2, 7, 6, 3), (3, 2, 3, 4)]),
    "conv2d_dilated": (lambda x, w: cr.nn.conv2d(x, w, 1, "VALID", dilations=2), [(1, 8, 8, 2), (2, 3, 2, 3)]),
    "conv2d_relu_max_pool2d": (lambda x, w, b: conv2d_relu_max_pool2d(x, w, b, padding="same"),
                               [(2, 8, 6, 1), (3, 3, 1, 4), (4,)]),
    "max_pool2d": (lambda x: cr.nn.max_pool2d(x, 2, 2, "VALID"), [(2, 6, 5, 3)]),
    "max_pool2d_overlapping_same": (lambda x: cr.nn.max_pool2d(x, 3, 2, "SAME"), [(2, 7, 6, 2)]),
}


def _run(fn, shapes, on_device, second_order: bool = False):
    """Forward, gradients (and, with ``second_order``, the gradient of the gradients' sum of squares) on the host."""
    rng = np.random.default_rng(0)
    inputs = [cr.Variable(on_device(rng.standard_normal(shape).astype(np.float32))) for shape in shapes]
    with cr.GradientTape(persistent=True) as outer:
        with cr.GradientTape() as tape:
            out = fn(*inputs)
            weights = cr.constant(on_device(rng.standard_normal(tuple(out.shape)).astype(np.float32)))
            total = cr.reduce_sum(out * weights)
        grads = tape.gradient(total, inputs)
        curvature = sum(cr.reduce_sum(g * g) for g in grads)
    results = [out.numpy(), *(g.numpy() for g in grads)]
    if second_order:
        results += [None if g is None else g.numpy() for g in outer.gradient(curvature, inputs)]
    return results


@pytest.mark.parametrize("name", sorted(CASES))
def test_vision_op_on_strict_equals_numpy(name, restore_backend):
    fn, shapes = CASES[name]
    backend.set_backend("strict")
    got = _run(fn, shapes, backend.get_backend().from_host, second_order=name.startswith("conv2d"))
    backend.set_backend("numpy")
    want = _run(fn, shapes, lambda a: a, second_order=name.startswith("conv2d"))
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"{name}: result {i}"
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5, err_msg=f"{name}: result {i}")


def test_dropout_on_strict_draws_there_and_scales(restore_backend):
    backend.set_backend("strict")
    cr.random.set_seed(0)
    x = cr.Variable(backend.get_backend().from_host(np.ones((200, 50), np.float32)))
    with cr.GradientTape() as tape:
        y = cr.nn.dropout(x, 0.25)
        total = cr.reduce_sum(y)
    kept = y.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), y.numpy())  # the same mask


@pytest.mark.parametrize("network", ["cnn", "deep-cnn"])
def test_seed_cnns_train_on_strict_as_on_numpy(network, restore_backend):
    from chainrule.cli import zoo

    rng = np.random.default_rng(0)
    x, y = rng.random((32, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 32)
    runs = {}
    for name in ("strict", "numpy"):
        backend.set_backend(name)
        keras.utils.set_random_seed(0)
        model = zoo.build(network)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        runs[name] = history.history, model.get_weights()
    np.testing.assert_allclose(runs["strict"][0]["loss"], runs["numpy"][0]["loss"], rtol=1e-5)
    assert runs["strict"][0]["accuracy"] == runs["numpy"][0]["accuracy"]
    for got, want in zip(runs["strict"][1], runs["numpy"][1]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
