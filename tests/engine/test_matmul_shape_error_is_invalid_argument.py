"""matmul of misaligned shapes raises tf.errors.InvalidArgumentError, as TensorFlow's eager matmul does (TensorFlow's
modules guide catches it), still a ValueError."""

import pytest

import chainrule as tf


def test_matmul_misaligned():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shapes \(1, 4\) and \(3, 3\) are not aligned"):
        tf.matmul(tf.ones((1, 4)), tf.ones((3, 3)))
    with pytest.raises(ValueError, match="not aligned"):
        tf.ones((2, 3)) @ tf.ones((2, 3))
