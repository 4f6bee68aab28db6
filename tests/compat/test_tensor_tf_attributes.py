"""Attributes TensorFlow's tensors and specs have that TensorFlow's tutorials read: Tensor.device, float() of a
one-element tensor, TensorSpec.shape as a TensorShape."""

import numpy as np
import pytest

import chainrule as tf


def test_device_names_the_cpu():
    x = tf.random.uniform([3, 3])
    assert x.device == "/job:localhost/replica:0/task:0/device:CPU:0" and x.device.endswith("CPU:0")
    with tf.device("CPU:0"):
        assert tf.ones([2]).device.endswith("CPU:0")


def test_float_of_a_one_element_tensor():
    assert float(tf.constant([0.25])) == 0.25 and "%.1f" % (100 * tf.constant([[0.5]])) == "50.0"
    with pytest.raises(TypeError):
        float(tf.constant([1.0, 2.0]))


def test_tensor_spec_shape_is_a_tensor_shape():
    spec = tf.TensorSpec(shape=(None, 28, 28), dtype=tf.uint8)
    assert spec.shape.as_list() == [None, 28, 28] and spec.shape.rank == 3 and spec.shape == (None, 28, 28)
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 2), "float32")).batch(2)
    assert ds.element_spec.shape.as_list() == [None, 2]
    assert repr(tf.TensorSpec((2,), tf.float32)) == "TensorSpec(shape=(2,), dtype=tf.float32, name=None)"
