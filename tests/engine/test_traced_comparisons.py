"""tf.greater / tf.equal / ... and tf.argmax / tf.argmin inside a traced function (tf.function, fit's step): the tracer
knows their results come from the inputs, so a replay recomputes them, and a Python branch on one runs eagerly
instead of replaying the first call's branch (before, `if tf.greater(x, 0)` replayed the traced branch for every x)."""

import numpy as np

import chainrule as tf


def test_python_branch_on_a_comparison_is_not_baked_in():
    @tf.function
    def relu(x):
        if tf.greater(x, 0):
            return x
        else:
            return x * 0

    results = [int(relu(tf.constant(v))) for v in (-1, -1, -1, 4, 7)]
    assert results == [0, 0, 0, 4, 7]
    assert any("bool()" in reason for reason in relu._traced.refusals.values())


def test_comparisons_and_argmax_replay_with_each_calls_values():
    @tf.function
    def hits(x, labels):
        return tf.cast(tf.equal(tf.argmax(x, axis=1), labels), tf.float32) * 1.0

    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.normal(size=(6, 3)).astype("float32")
        labels = rng.integers(0, 3, 6)
        np.testing.assert_array_equal(hits(tf.constant(x), tf.constant(labels)).numpy(),
                                      (x.argmax(axis=1) == labels).astype("float32"))
    assert not hits._traced.refusals  # replayed, not run eagerly

    @tf.function
    def below(x):
        return tf.cast(tf.less(x, 0.5), tf.float32) + tf.cast(tf.argmin(x), tf.float32)

    for values in ([0.1, 0.9], [0.1, 0.9], [0.7, 0.2], [0.9, 0.3]):
        x = np.array(values, "float32")
        np.testing.assert_array_equal(below(tf.constant(x)).numpy(), (x < 0.5) + x.argmin())


def test_eager_results_unchanged():
    assert tf.argmax(tf.constant([[0.1, 0.9], [0.8, 0.2]]), axis=1).numpy().tolist() == [1, 0]
    assert tf.argmax([3, 1, 5]).dtype == tf.int64 and tf.argmin([3, 1, 5], output_type=tf.int32).dtype == tf.int32
    assert tf.equal([1, 2], [1, 3]).numpy().tolist() == [True, False]
    assert tf.logical_and(tf.constant([True, False]), True).numpy().tolist() == [True, False]
