"""Initializers hand back tensors, as Keras's (keras-io's reproducibility recipe calls
``float(initializer(seed=42)(shape=(1, 1)))``; Keras code calls ``.numpy()`` on them), a subclass's NumPy result
included; layers still build their weights from them."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import initializers


@pytest.mark.parametrize("cls", [initializers.RandomNormal, initializers.RandomUniform, initializers.TruncatedNormal,
                                 initializers.VarianceScaling, initializers.GlorotNormal, initializers.HeUniform,
                                 initializers.LecunNormal, initializers.Orthogonal])
def test_built_in_initializers_return_tensors_that_float_and_numpy_take(cls):
    value = cls(seed=42)(shape=(1, 1))
    assert isinstance(value, tf.Tensor)
    assert float(value) == float(cls(seed=42)(shape=(1, 1)))  # a seed: the same value every call
    assert value.numpy().shape == (1, 1) and value.dtype == tf.float32


def test_constant_zeros_ones_and_dtypes():
    value = initializers.Constant(3.5)((1, 2))
    assert value.numpy().tolist() == [[3.5, 3.5]] and value.dtype == tf.float32
    assert initializers.Zeros()((2,), dtype="int32").numpy().tolist() == [0, 0]
    assert initializers.Ones()((2,), dtype="float64").dtype == tf.float64


def test_a_subclass_returning_numpy_gives_a_tensor_and_builds_weights():
    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 0.5, dtype=dtype or "float32")

    value = Halves()((2, 3))
    assert isinstance(value, tf.Tensor) and value.numpy().tolist() == [[0.5] * 3] * 2
    layer = keras.layers.Dense(3, kernel_initializer=Halves())
    layer.build((None, 2))
    np.testing.assert_array_equal(layer.kernel.numpy(), np.full((2, 3), 0.5, "float32"))


def test_initializer_values_feed_ops_and_numpy():
    value = initializers.GlorotUniform(seed=0)((4, 5))
    np.testing.assert_allclose(np.asarray(value * 2.0), 2.0 * value.numpy())
    assert tf.Variable(value).shape == (4, 5)
