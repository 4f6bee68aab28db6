"""tf.function (chainrule/compat/tf/function.py): traced once per input signature with TensorFlow's retracing rules,
replayed afterwards with the eager results bit for bit, the optimizer's and the metrics' updates repeated on
every call; tf.config.run_functions_eagerly."""
import numpy as np
import pytest

import chainrule as tf

keras = tf.keras


def test_tensors_retrace_by_shape_and_dtype_python_values_by_value():
    @tf.function
    def f(x, scale):
        return x * scale

    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    f(a, 2.0)
    f(b, 2.0)  # same shape and dtype: no new trace
    assert f.experimental_get_tracing_count() == 1
    f(tf.constant([1.0, 2.0, 3.0]), 2.0)  # a new shape
    assert f.experimental_get_tracing_count() == 2
    f(tf.constant([1.0, 2.0], dtype=tf.float64), 2.0)  # a new dtype
    assert f.experimental_get_tracing_count() == 3
    np.testing.assert_array_equal(f(b, 3.0).numpy(), [9.0, 12.0])  # a new Python value
    assert f.experimental_get_tracing_count() == 4
    np.testing.assert_array_equal(f(a, 2.0).numpy(), [2.0, 4.0])
    assert f.experimental_get_tracing_count() == 4


def test_the_python_body_runs_while_tracing_then_replays(replays):
    body = []

    @tf.function
    def f(x):
        body.append(1)
        return tf.reduce_sum(x * x)

    values = [float(f(np.full(3, float(k), np.float32))) for k in range(6)]
    assert values == [3.0 * k * k for k in range(6)]
    assert len(body) == 2 and len(replays) == 4  # traced, traced again to check, then replayed


def test_input_signature_fixes_the_trace_and_checks_the_arguments():
    @tf.function(input_signature=[tf.TensorSpec(shape=[None, 2], dtype=tf.float32)])
    def f(x):
        return tf.reduce_sum(x, axis=1)

    np.testing.assert_array_equal(f(np.ones((3, 2), np.float32)).numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(f([[1.0, 2.0]]).numpy(), [3.0])  # converted to the spec's dtype
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="Can not cast"):
        f(np.ones((3, 5), np.float32))
    with pytest.raises(TypeError, match="Can not cast"):
        f(np.ones((3, 2), np.int64))
    assert f.input_signature == (tf.TensorSpec(shape=[None, 2], dtype=tf.float32),)


@pytest.mark.parametrize("option", ["reduce_retracing", "experimental_relax_shapes"])
def test_reduce_retracing_generalizes_a_changing_shape(option):
    @tf.function(**{option: True})
    def f(x):
        return x + 1.0

    for n in (2, 3, 4, 7):
        f(np.zeros((n, 5), np.float32))
    assert f.experimental_get_tracing_count() == 2  # (2, 5), then (None, 5)
    f(np.zeros((3, 6), np.float32))
    assert f.experimental_get_tracing_count() == 3


def test_run_functions_eagerly_runs_the_body_on_every_call(replays):
    body = []

    @tf.function
    def f(x):
        body.append(1)
        return x * 2.0

    tf.config.run_functions_eagerly(True)
    try:
        assert tf.config.functions_run_eagerly()
        for _ in range(4):
            f(tf.constant(1.0))
    finally:
        tf.config.run_functions_eagerly(False)
    assert not tf.config.functions_run_eagerly()
    assert len(body) == 4 and not replays


def test_a_method_and_the_python_function():
    class Scaler:
        def __init__(self, factor):
            self.factor = tf.Variable(factor)

        @tf.function
        def scale(self, x):
            return x * self.factor

    a, b = Scaler(2.0), Scaler(3.0)
    for _ in range(3):
        np.testing.assert_array_equal(a.scale(tf.constant([1.0])).numpy(), [2.0])
        np.testing.assert_array_equal(b.scale(tf.constant([1.0])).numpy(), [3.0])
    a.factor.assign(5.0)  # a Variable is read by reference
    np.testing.assert_array_equal(a.scale(tf.constant([1.0])).numpy(), [5.0])
    assert Scaler.scale.python_function(a, tf.constant([2.0])).numpy().tolist() == [10.0]


def test_get_concrete_function_counts_a_trace_and_checks_its_signature():
    @tf.function
    def f(x):
        return x * 2.0

    concrete = f.get_concrete_function(tf.TensorSpec([None], tf.float32))
    assert f.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(concrete(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    assert f.experimental_get_tracing_count() == 1  # the call fits the concrete function's signature
    with pytest.raises(TypeError):
        concrete(tf.constant([[1.0]]))


SEED_003 = """
model = tf.keras.Sequential([
  tf.keras.layers.Dense(10, activation='relu', input_shape=(784,)),
  tf.keras.layers.Dense(10, activation='softmax')
])
loss_fn = tf.keras.losses.CategoricalCrossentropy()
optimizer = tf.keras.optimizers.Adam()

{decorator}
def train_step(images, labels):
  with tf.GradientTape() as tape:
    predictions = model(images)
    loss = loss_fn(labels, predictions)
  gradients = tape.gradient(loss, model.trainable_variables)
  optimizer.apply_gradients(zip(gradients, model.trainable_variables))

for epoch in range(3):
  for images, labels in train_dataset:
    train_step(images, labels)
"""


def _seed_003(decorator: str):
    rng = np.random.default_rng(0)
    x = rng.random((200, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 200)]
    keras.utils.set_random_seed(0)
    namespace = {"tf": tf, "train_dataset": tf.data.Dataset.from_tensor_slices((x, y)).batch(32)}
    exec(SEED_003.format(decorator=decorator), namespace)
    return namespace


def test_seed_003s_loop_under_tf_function_ends_with_the_eager_weights(replays):
    eager = _seed_003("")
    assert not replays
    traced = _seed_003("@tf.function")
    assert len(replays) == 3 * 7 - 2 * 2  # 7 batches an epoch (the last one of 8 rows): two traces per shape
    assert int(traced["optimizer"].iterations) == int(eager["optimizer"].iterations) == 21
    for a, b in zip(eager["model"].get_weights(), traced["model"].get_weights()):
        assert a.tobytes() == b.tobytes()


def _quickstart_for_experts(function):
    """TensorFlow's "quickstart for experts" (its model, steps and metrics) on a few small images."""
    rng = np.random.default_rng(1)
    x_train = rng.random((96, 12, 12, 1)).astype(np.float32)
    y_train = rng.integers(0, 3, 96).astype(np.uint8)
    x_test, y_test = x_train[:40], y_train[:40]
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(32)
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)
    keras.utils.set_random_seed(2)

    class MyModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv1 = keras.layers.Conv2D(8, 3, activation='relu')
            self.flatten = keras.layers.Flatten()
            self.d1 = keras.layers.Dense(16, activation='relu')
            self.d2 = keras.layers.Dense(10)

        def call(self, x):
            return self.d2(self.d1(self.flatten(self.conv1(x))))

    model = MyModel()
    loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam()
    train_loss = keras.metrics.Mean(name='train_loss')
    train_accuracy = keras.metrics.SparseCategoricalAccuracy(name='train_accuracy')
    test_loss = keras.metrics.Mean(name='test_loss')
    test_accuracy = keras.metrics.SparseCategoricalAccuracy(name='test_accuracy')

    @function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            loss = loss_object(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        train_loss(loss)
        train_accuracy(labels, predictions)

    @function
    def test_step(images, labels):
        predictions = model(images, training=False)
        t_loss = loss_object(labels, predictions)
        test_loss(t_loss)
        test_accuracy(labels, predictions)

    history = []
    for epoch in range(4):
        for metric in (train_loss, train_accuracy, test_loss, test_accuracy):
            metric.reset_state()
        for images, labels in train_ds:
            train_step(images, labels)
        for images, labels in test_ds:
            test_step(images, labels)
        history.append([float(m.result()) for m in (train_loss, train_accuracy, test_loss, test_accuracy)])
    return model.get_weights(), history


def test_the_quickstart_for_experts_loop_with_metrics_matches_eager_bit_for_bit(replays):
    eager_weights, eager_history = _quickstart_for_experts(lambda f: f)
    assert not replays
    weights, history = _quickstart_for_experts(tf.function)
    # train_step: 12 calls; the first builds the model (it makes variables: traced again), then two traces.
    # test_step: 4 calls of each of its two shapes (32 and 8 images), two traces each
    assert len(replays) == (12 - 3) + 2 * (4 - 2)
    assert history == eager_history
    for a, b in zip(eager_weights, weights):
        assert a.tobytes() == b.tobytes()


def test_the_function_repeats_metric_and_variable_updates_and_draws_anew():
    step_count = tf.Variable(0, dtype=tf.int64, trainable=False)
    mean = keras.metrics.Mean()

    @tf.function
    def f(x):
        step_count.assign_add(1)
        noise = tf.random.uniform((2,))
        mean.update_state(x + noise)
        return noise

    draws = [f(tf.constant([0.0, 0.0])).numpy() for _ in range(5)]
    assert int(step_count.numpy()) == 5
    assert float(mean.count.numpy()) == 10.0  # two values per call, every call
    assert len({d.tobytes() for d in draws}) == 5


def test_a_function_that_reads_a_value_into_python_runs_eagerly_with_the_right_results(caplog):
    @tf.function
    def clipped(x):
        total = tf.reduce_sum(x)
        return x / total if float(total) > 1.0 else x

    with caplog.at_level("INFO", logger="chainrule.engine.tracer"):
        results = [clipped(tf.constant(v)).numpy() for v in ([0.5, 0.25], [2.0, 2.0], [0.1, 0.1])]
    np.testing.assert_allclose(results[1], [0.5, 0.5])
    np.testing.assert_allclose(results[2], [0.1, 0.1])
    assert any("reads a traced value into Python" in r.getMessage() for r in caplog.records)


def test_tf_print_prints_on_every_call_python_print_while_tracing(capsys):
    @tf.function
    def f(x):
        print("tracing")
        tf.print("value:", x)
        return x + 1.0

    for k in range(4):
        f(tf.constant(float(k)))
    out = capsys.readouterr().out.splitlines()
    assert out.count("tracing") == 2  # the Python body runs for the two traces only
    shown = [f"value: {np.array2string(np.float32(k))}" for k in range(4)]
    assert [line for line in out if line.startswith("value:")] == shown  # tf.print: every call, its own value
