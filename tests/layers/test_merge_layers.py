import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import layers
from chainrule.keras.graph import Input
from layer_checks import check_config_round_trip, rand

A, B, C = rand(2, 3, seed=1), rand(2, 3, seed=2), rand(2, 3, seed=3)


@pytest.mark.parametrize("cls,fn", [
    (layers.Add, lambda xs: sum(xs)), (layers.Multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (layers.Average, lambda xs: sum(xs) / 3), (layers.Maximum, lambda xs: np.maximum.reduce(xs)),
    (layers.Minimum, lambda xs: np.minimum.reduce(xs)),
])
def test_elementwise_merges(cls, fn):
    layer = cls()
    xs = [cr.Tensor(x, requires_grad=True) for x in (A, B, C)]
    y = layer(xs)
    np.testing.assert_allclose(y.numpy(), fn([A, B, C]), rtol=1e-6)
    assert layer.compute_output_shape([(None, 3)] * 3) == (None, 3)
    grads = cr.grad(cr.reduce_sum(y), xs)
    assert all(g.shape == (2, 3) for g in grads) and any(np.any(g.numpy() != 0) for g in grads)
    check_config_round_trip(cls(), [A, B, C])


def test_subtract_and_broadcasting():
    np.testing.assert_allclose(layers.Subtract()([A, B]).numpy(), A - B)
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([A, B, C])
    y = layers.Add()([rand(2, 4, 3), rand(2, 1, 3)])
    assert y.shape == (2, 4, 3)
    assert layers.Add().compute_output_shape([(None, 4, 3), (None, 1, 3)]) == (None, 4, 3)


def test_add_gradients_match_the_sum():
    a, b = cr.Tensor(A, requires_grad=True), cr.Tensor(B, requires_grad=True)
    da, db = cr.grad(cr.reduce_sum(layers.Add()([a, b]) * C), [a, b])
    np.testing.assert_allclose(da.numpy(), C)
    np.testing.assert_allclose(db.numpy(), C)


def test_incompatible_shapes_name_both():
    with pytest.raises(ValueError) as e:
        layers.Add(name="adder")([rand(2, 3), rand(2, 4)])
    assert "'adder'" in str(e.value) and "(3,)" in str(e.value) and "(4,)" in str(e.value)
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(rand(2, 3))


def test_concatenate():
    x, y = rand(2, 3, 4), rand(2, 3, 5)
    layer = layers.Concatenate()
    np.testing.assert_array_equal(layer([x, y]).numpy(), np.concatenate([x, y], axis=-1))
    assert layer.compute_output_shape([(None, 3, 4), (None, 3, 5)]) == (None, 3, 9)
    assert layers.Concatenate(axis=1)([x, x]).shape == (2, 6, 4)
    layer = layers.Concatenate(axis=1, name="cat")
    assert layer.get_config()["axis"] == 1
    check_config_round_trip(layer, [x, x])
    with pytest.raises(ValueError) as e:
        layers.Concatenate(axis=1, name="cat_bad")([x, y])
    assert "'cat_bad'" in str(e.value) and "(None, 3, 4)" in str(e.value) and "(None, 3, 5)" in str(e.value)
    xt, yt = cr.Tensor(x, requires_grad=True), cr.Tensor(y, requires_grad=True)
    dx, dy = cr.grad(cr.reduce_sum(layers.concatenate([xt, yt]) * 3.0), [xt, yt])
    np.testing.assert_array_equal(dx.numpy(), np.full(x.shape, 3.0, np.float32))
    assert dy.shape == y.shape


def test_merge_on_symbolic_tensors():
    a, b = Input(shape=(3,)), Input(shape=(5,))
    assert layers.concatenate([a, b]).shape == (None, 8)
    assert layers.add([a, a]).shape == (None, 3)
