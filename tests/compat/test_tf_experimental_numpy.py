"""tf.experimental.numpy (``import tensorflow.experimental.numpy as tnp`` -> ``import chainrule.experimental.numpy as
tnp``): NumPy's functions on tensors, differentiable, with tnp's extra names."""

import numpy as np
import pytest

import chainrule as tf
import chainrule.experimental.numpy as tnp


def test_the_import_paths_name_one_module():
    import chainrule.experimental

    assert tf.experimental.numpy is tnp and chainrule.experimental.numpy is tnp


def test_functions_match_numpy_and_differentiate():
    w = tf.Variable([[1.0, -2.0], [0.5, 3.0]])
    x = tnp.asarray([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        y = tnp.mean(tnp.square(tnp.maximum(tnp.matmul(x, w), 0.0)), axis=0)
        loss = tnp.sum(y)
    np.testing.assert_allclose(y.numpy(), np.mean(np.square(np.maximum(x.numpy() @ w.numpy(), 0)), axis=0))
    # d/dw of (relu(x @ w))^2 summed: only the unit that is positive (x @ w = [2, 4]) carries gradient
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), [[4.0, 8.0], [8.0, 16.0]])


def test_tnp_names():
    assert isinstance(tnp.asarray([1, 2]), tnp.ndarray) and tnp.asarray([1, 2]).dtype == tnp.int32
    assert tnp.asarray([1, 2], dtype=tnp.float64).dtype == tnp.float64
    t = tf.constant([1.0])
    assert tnp.asarray(t) is t
    assert tnp.pi == np.pi and tnp.newaxis is None and np.isnan(tnp.nan)
    tnp.experimental_enable_numpy_behavior(prefer_float32=True)
    with pytest.raises(ValueError, match="dtype_conversion_mode"):
        tnp.experimental_enable_numpy_behavior(dtype_conversion_mode="loose")
