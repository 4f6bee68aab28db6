"""Tensor.set_shape as TensorFlow's on an eager tensor: a compatible shape (None for any size, TensorShape(None)
for any rank) is accepted and changes nothing; an incompatible one raises TensorFlow's ValueError. TensorFlow's
time-series tutorial calls it on the windows it splits inside Dataset.map."""

import pytest

import chainrule as tf


def test_compatible_shapes_are_accepted():
    t = tf.ones((2, 3))
    t.set_shape([None, 3])
    t.set_shape(tf.TensorShape([2, None]))
    t.set_shape(tf.TensorShape(None))
    t.set_shape((2, 3))
    assert t.shape == (2, 3)


@pytest.mark.parametrize("shape", [[2, 4], [None], [2, 3, 1]])
def test_incompatible_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=r"Tensor's shape \(2, 3\) is not compatible with supplied shape"):
        tf.ones((2, 3)).set_shape(shape)


def test_inside_dataset_map():
    ds = tf.data.Dataset.from_tensor_slices(tf.ones((4, 7, 5))).batch(2)

    def split_window(features):
        inputs = features[:, slice(0, 6), :]
        inputs.set_shape([None, 6, None])
        return inputs

    assert [x.shape for x in ds.map(split_window)] == [(2, 6, 5), (2, 6, 5)]
