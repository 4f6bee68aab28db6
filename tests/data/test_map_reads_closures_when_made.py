"""Dataset.map/filter/flat_map/interleave read the Python values their function takes from enclosing scopes when
they are called, as tf.data's trace does (TensorFlow's "Load text" tutorial labels files with
`lambda ex: labeler(ex, i)` in a loop); objects such as Variables stay shared."""

import numpy as np

import chainrule as tf


def test_a_lambda_made_in_a_loop_keeps_its_loop_variable():
    parts = []
    for i in range(3):
        parts.append(tf.data.Dataset.from_tensor_slices(np.zeros(2)).map(lambda x: x + i))
    merged = parts[0].concatenate(parts[1]).concatenate(parts[2])
    assert [float(x) for x in merged] == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    kept = [tf.data.Dataset.range(6).filter(lambda x: x % 3 == k) for k in range(3)]
    assert [[int(x) for x in ds] for ds in kept] == [[0, 3], [1, 4], [2, 5]]
    flat = [tf.data.Dataset.range(2).flat_map(lambda x: tf.data.Dataset.from_tensors(x * n)) for n in (1, 10)]
    assert [[int(x) for x in ds] for ds in flat] == [[0, 1], [0, 10]]


def test_variables_and_lists_stay_shared():
    scale = tf.Variable(1.0)
    seen = []
    ds = tf.data.Dataset.from_tensor_slices(np.ones(2, "float32")).map(lambda x: seen.append(1) or x * scale)
    scale.assign(3.0)
    assert [float(x) for x in ds] == [3.0, 3.0] and len(seen) >= 2
