"""Dataset.from_generator(args=...) passes the arguments as TensorFlow does: NumPy values, a scalar as a NumPy
scalar (hashable: TensorFlow's data-performance guide keys a dict with one), text as bytes."""

import numpy as np

import chainrule as tf


def test_scalar_args_are_numpy_scalars():
    seen = []

    def gen(index, name, values):
        seen.append((index, name, values))
        counters = {index: 1}  # a dict key, as the guide's _EPOCHS_COUNTER[instance_idx]
        yield counters[index]

    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.int64),
                                        args=(3, "name", np.array([1.0, 2.0])))
    assert [int(x) for x in ds] == [1]
    index, name, values = seen[0]
    assert isinstance(index, np.generic) and index == 3
    assert name == b"name"
    assert isinstance(values, np.ndarray) and values.tolist() == [1.0, 2.0]
