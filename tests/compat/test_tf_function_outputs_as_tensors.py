"""A tf.function's Python and NumPy return values come back as tensors, as TensorFlow's (``return 0`` in a branch of
the intro-to-graphs guide's relu); tf.gather out of range raises tf.errors.InvalidArgumentError, which TensorFlow
programs catch (it is also an IndexError)."""

import numpy as np
import pytest

import chainrule as tf


def test_python_and_numpy_outputs_become_tensors():
    @tf.function
    def relu(x):
        if tf.greater(x, 0):
            return x
        else:
            return 0

    for _ in range(3):  # traced, checked, replayed
        out = relu(tf.constant(-1))
        assert isinstance(out, tf.Tensor) and out.numpy() == 0
    assert relu(tf.constant(4)).numpy() == 4

    @tf.function
    def several(x):
        return {"n": 2.5, "flag": True, "arr": np.arange(3), "none": None, "x": x * 2, "text": "a"}

    out = several(tf.constant(1.0))
    assert isinstance(out["n"], tf.Tensor) and out["n"].numpy() == 2.5
    assert out["flag"].dtype == tf.bool and out["arr"].numpy().tolist() == [0, 1, 2]
    assert out["none"] is None and float(out["x"]) == 2.0 and out["text"].numpy() == b"a"


def test_gather_out_of_range_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range for axis 0 of size 1"):
        tf.gather(tf.constant([0.0]), [1])
    with pytest.raises(IndexError, match=r"indices\[1\] = 5"):
        tf.gather(tf.constant([[1.0, 2.0]]), [0, 5], axis=1)
