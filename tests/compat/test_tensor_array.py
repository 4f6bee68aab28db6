"""tf.TensorArray as TensorFlow 2's eager TensorArray: writes and reads by index, stack/gather/concat, the
clear-after-read rule, its errors, gradients through it, and tf.function tracing and replaying it."""
import numpy as np
import pytest

import chainrule as tf


def test_write_read_stack_and_size():
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, clear_after_read=False)
    ta = ta.write(0, 10).write(1, 20)
    ta = ta.write(2, 30)
    assert float(ta.read(1)) == 20.0 and float(ta.read(1)) == 20.0
    np.testing.assert_array_equal(ta.stack().numpy(), np.array([10, 20, 30], "float32"))
    assert ta.stack().dtype == np.float32 and int(ta.size()) == 3 and ta.size().dtype == np.int32
    assert ta.dtype == tf.float32 and ta.dynamic_size and ta.element_shape == tf.TensorShape([])
    ta.close()
    assert int(ta.size()) == 0


def test_unwritten_elements_are_zeros_of_the_element_shape():
    ta = tf.TensorArray(tf.int32, size=3, element_shape=[2])
    ta = ta.write(1, [4, 5])
    np.testing.assert_array_equal(ta.stack().numpy(), [[0, 0], [4, 5], [0, 0]])
    assert tf.TensorArray(tf.float32, size=0, element_shape=[3]).stack().shape == (0, 3)
    with pytest.raises(ValueError, match="not fully defined"):
        tf.TensorArray(tf.float32, size=2).read(0)


def test_eager_reads_clear_unless_told_not_to():
    ta = tf.TensorArray(tf.float32, size=2)
    ta = ta.write(0, 1.0)
    assert float(ta.read(0)) == 1.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not read index 0 twice"):
        ta.read(0)


def test_errors():
    with pytest.raises(ValueError, match="Size must be declared"):
        tf.TensorArray(tf.float32)
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[2])
    with pytest.raises(tf.errors.OutOfRangeError, match="not resizeable and size is: 2"):
        ta.write(2, [1.0, 2.0])
    with pytest.raises(tf.errors.OutOfRangeError, match="negative indices"):
        ta.write(-1, [1.0, 2.0])
    with pytest.raises(tf.errors.OutOfRangeError, match="Tried to read from index 5 but array size is: 2"):
        ta.read(5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="dtype is float32 but Op is trying to write dtype int64"):
        ta.write(0, tf.constant([1, 2], dtype=tf.int64))
    with pytest.raises(ValueError, match="Incompatible shape for value"):
        ta.write(0, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Cannot unstack 3 tensors into a TensorArray of static size 2"):
        ta.unstack(np.zeros((3, 2), "float32"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar shape at index 0"):
        tf.TensorArray(tf.float32, size=1).write(0, 1.0).concat()


def test_shape_is_inferred_from_writes():
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[None, 3])
    ta.write(0, np.zeros((2, 3), "float32"))
    assert ta.element_shape == tf.TensorShape([2, 3])
    with pytest.raises(ValueError, match="Incompatible shape"):
        ta.write(1, np.zeros((4, 3), "float32"))
    loose = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    loose.write(0, [1.0]).write(1, [1.0, 2.0])
    np.testing.assert_array_equal(loose.concat().numpy(), [1.0, 1.0, 2.0])


def test_unstack_scatter_gather_split_concat():
    value = np.arange(12, dtype="float32").reshape(4, 3)
    ta = tf.TensorArray(tf.float32, size=4, clear_after_read=False).unstack(value)
    np.testing.assert_array_equal(ta.read(2).numpy(), value[2])
    np.testing.assert_array_equal(ta.gather([3, 0]).numpy(), value[[3, 0]])
    scattered = tf.TensorArray(tf.float32, size=4, element_shape=[3]).scatter([2, 0], value[:2])
    np.testing.assert_array_equal(scattered.stack().numpy(), [value[1], np.zeros(3), value[0], np.zeros(3)])
    pieces = tf.TensorArray(tf.float32, size=2, clear_after_read=False).split(value, [1, 3])
    assert pieces.read(1).shape == (3, 3)
    np.testing.assert_array_equal(pieces.concat().numpy(), value)
    with pytest.raises(tf.errors.InvalidArgumentError, match="sum of lengths is 3"):
        tf.TensorArray(tf.float32, size=2).split(value, [1, 2])


def test_text_elements():
    ta = tf.TensorArray(tf.string, size=2).write(0, "ab").write(1, "c")
    assert ta.stack().numpy().tolist() == [b"ab", b"c"] and ta.stack().dtype == tf.string


def test_gradients_flow_through_stack_read_gather_and_concat():
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False)
        for i in range(3):
            ta = ta.write(i, x[i] * x[i])
        y = tf.reduce_sum(ta.stack()) + ta.read(0) + tf.reduce_sum(ta.gather([2]) * 10.0)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [4.0, 4.0, 66.0])
    with tf.GradientTape() as tape:
        ta = tf.TensorArray(tf.float32, size=2).unstack(tf.reshape(x[:2], (2, 1)) * 3.0)
        z = tf.reduce_sum(ta.concat() ** 2)
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [18.0, 36.0, 0.0])


def test_tf_function_traces_and_replays_it():
    @tf.function
    def fibonacci(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        ta = ta.unstack([0., 1.])
        for i in range(2, n):
            ta = ta.write(i, ta.read(i - 1) + ta.read(i - 2))  # reads twice: the graph TensorArray does not clear
        return ta.stack()

    np.testing.assert_array_equal(fibonacci(7).numpy(), [0, 1, 1, 2, 3, 5, 8])

    w = tf.Variable([[0.5], [-1.0]])
    optimizer = tf.keras.optimizers.SGD(0.1)

    def step(xs):
        with tf.GradientTape() as tape:
            outputs = tf.TensorArray(tf.float32, size=xs.shape[0])
            for t in range(xs.shape[0]):
                outputs = outputs.write(t, tf.matmul(xs[t], w))
            loss = tf.reduce_mean(outputs.stack() ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        return loss

    traced = tf.function(step)
    batches = [np.random.default_rng(i).normal(size=(3, 4, 2)).astype("float32") for i in range(4)]
    losses = [float(traced(x)) for x in batches]
    assert traced.experimental_get_tracing_count() == 1
    traced_w = w.numpy().copy()
    w.assign([[0.5], [-1.0]])
    assert losses == [float(step(x)) for x in batches]  # replayed calls equal the eager ones
    np.testing.assert_array_equal(w.numpy(), traced_w)


def test_executing_eagerly_is_false_inside_a_tf_function():
    seen = []

    @tf.function
    def f(x):
        seen.append(tf.executing_eagerly())
        return x + 1

    f(tf.constant(1.0))
    assert tf.executing_eagerly() and seen and not any(seen)
    tf.config.run_functions_eagerly(True)
    try:
        f(tf.constant(2.0))
        assert seen[-1] is True
    finally:
        tf.config.run_functions_eagerly(False)
