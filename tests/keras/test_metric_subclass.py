"""Metrics written Keras's way: state in variables made by add_variable/add_weight, updated with assign/assign_add
and TensorFlow ops, reset to zeros by default; in a custom loop, in compile(metrics=[...]) and in fit/evaluate's logs.
The built-in metrics expose their state as variables too (Mean: total and count), and merge_state adds states."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


# TensorFlow's tutorial metric ("Custom metrics" in the Keras guide for TF 2), with only the import changed
class BinaryTruePositives(tf.keras.metrics.Metric):

    def __init__(self, name='binary_true_positives', **kwargs):
        super(BinaryTruePositives, self).__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name='tp', initializer='zeros')

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.bool)
        y_pred = tf.cast(y_pred, tf.bool)

        values = tf.logical_and(tf.equal(y_true, True), tf.equal(y_pred, True))
        values = tf.cast(values, self.dtype)
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, self.dtype)
            sample_weight = tf.broadcast_to(sample_weight, values.shape)
            values = tf.multiply(values, sample_weight)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives


# Keras's guide "Training & evaluation with the built-in methods", written with TensorFlow ops and add_variable
class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.reshape(tf.argmax(y_pred, axis=1), (-1, 1))
        values = tf.cast(y_true, "int32") == tf.cast(y_pred, "int32")
        values = tf.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, "float32")
            values = tf.multiply(values, sample_weight)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


def data(n=64, features=8, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, (x[:, :classes] * 2).argmax(axis=1).reshape(-1, 1)


def classifier(lr=0.0, metrics=None, features=8, classes=4):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(features,)),
                              layers.Dense(classes, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=metrics)
    return model


def test_the_tutorial_metric_updates_weights_resets_and_reports():
    m = BinaryTruePositives()
    assert m.name == "binary_true_positives" and m.dtype == "float32"
    assert [v.name for v in m.variables] == ["binary_true_positives/tp"] and not m.variables[0].trainable
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert float(m.result()) == 2.0
    m.update_state(np.array([1, 1]), tf.constant([1.0, 1.0]), sample_weight=[0.5, 0.25])  # arrays and Tensors
    assert float(m.result()) == 2.75
    assert float(m([1], [1])) == 3.75  # __call__ updates, then gives the result
    m.reset_state()  # the default: every variable back to zeros
    assert float(m.result()) == 0.0
    m.update_state([1], [1])
    m.reset_states()  # TF 2's name
    assert float(m.result()) == 0.0


def test_a_subclass_metric_in_compile_is_reset_each_epoch_and_logged_by_fit_and_evaluate():
    x, y = data()
    model = classifier(metrics=[CategoricalTruePositives()])  # lr 0: the predictions stay the same
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    hits = float((model.predict(x, verbose=0).argmax(axis=1) == y[:, 0]).sum())
    assert 0 < hits < len(x)
    assert history["categorical_true_positives"] == [hits, hits]  # not 2 * hits: reset between epochs
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert logs["categorical_true_positives"] == hits
    weights = np.linspace(0.0, 1.0, len(x)).astype("float32").reshape(-1, 1)  # shaped like the metric's values
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy",
                  weighted_metrics=[CategoricalTruePositives()])
    logs = model.evaluate(x, y, sample_weight=weights, batch_size=16, verbose=0, return_dict=True)
    right = model.predict(x, verbose=0).argmax(axis=1) == y[:, 0]
    assert logs["categorical_true_positives"] == pytest.approx(float(weights[right, 0].sum()), rel=1e-6)


def test_a_subclass_metric_in_a_custom_training_loop():
    x, y = data()
    model = classifier(lr=0.05)
    optimizer = keras.optimizers.SGD(0.05)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    train_acc = CategoricalTruePositives()
    loss_mean = keras.metrics.Mean(name="loss")
    for epoch in range(2):
        expected = 0.0
        for start in range(0, len(x), 16):
            xb, yb = x[start:start + 16], y[start:start + 16]
            with tf.GradientTape() as tape:
                probs = model(xb, training=True)
                loss = loss_fn(yb, probs)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            train_acc.update_state(yb, probs)
            loss_mean.update_state(loss)
            expected += float((probs.numpy().argmax(axis=1) == yb[:, 0]).sum())
        assert float(train_acc.result()) == expected
        assert float(loss_mean.count) == 4
        train_acc.reset_state()
        loss_mean.reset_state()
        assert float(train_acc.result()) == 0.0 and float(loss_mean.result()) == 0.0


def test_the_default_reset_zeroes_variables_of_any_shape_and_initializer():
    class Histogram(keras.metrics.Metric):
        def __init__(self, bins=3, **kwargs):
            super().__init__(**kwargs)
            self.bins = bins
            self.counts = self.add_variable(shape=(bins,), initializer="ones", name="counts")
            self.seen = self.add_weight("seen", shape=(), initializer="zeros", dtype="int64")

        def update_state(self, values):
            self.counts.assign_add(np.bincount(np.asarray(values), minlength=self.bins).astype("float32"))
            self.seen.assign_add(len(values))

        def result(self):
            return self.counts

    m = Histogram()
    assert m.name == "histogram" and [v.shape for v in m.variables] == [(3,), ()]
    assert m.seen.dtype == np.int64
    np.testing.assert_array_equal(m([0, 2, 2]).numpy(), [2.0, 1.0, 3.0])  # started from the initializer's ones
    m.reset_state()  # Keras 3 assigns zeros of each variable's shape
    np.testing.assert_array_equal(m.result().numpy(), [0.0, 0.0, 0.0])
    assert int(m.seen.numpy()) == 0


def test_state_made_before_super_init_names_the_mistake():
    class Forgetful(keras.metrics.Metric):
        def __init__(self):
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    with pytest.raises(RuntimeError, match="super"):
        Forgetful()
    with pytest.raises(ValueError, match="aggregation"):
        keras.metrics.Mean().add_variable((), "zeros", aggregation="max")


def test_variables_of_metrics_held_by_a_metric_are_listed():
    class MeanAndSum(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.mean, self.sum = keras.metrics.Mean(), keras.metrics.Sum()

        def update_state(self, values):
            self.mean.update_state(values)
            self.sum.update_state(values)

        def result(self):
            return {"mean": self.mean.result(), "sum": self.sum.result()}

    m = MeanAndSum()
    assert [v.name for v in m.variables] == ["mean/total", "mean/count", "sum/total"]
    m.update_state([1.0, 2.0, 6.0])
    m.reset_state()
    assert float(m.mean.count) == 0.0 and float(m.sum.result()) == 0.0


def test_a_metric_whose_result_is_a_dict_logs_each_entry():
    class MinMax(keras.metrics.Metric):
        def __init__(self, name="min_max", **kwargs):
            super().__init__(name=name, **kwargs)
            self.low = self.add_variable((), initializer=keras.initializers.Constant(np.inf), name="low")
            self.high = self.add_variable((), initializer=keras.initializers.Constant(-np.inf), name="high")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.low.assign(tf.minimum(self.low, tf.reduce_min(y_pred)))
            self.high.assign(tf.maximum(self.high, tf.reduce_max(y_pred)))

        def result(self):
            return {"lowest": self.low, "highest": self.high}

        def reset_state(self):
            self.low.assign(np.inf)
            self.high.assign(-np.inf)

    x, y = data()
    model = classifier(metrics=[MinMax()])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)
    assert logs["lowest"] == pytest.approx(float(probs.min())) and logs["highest"] == pytest.approx(float(probs.max()))


def test_a_metric_function_gets_tensors_as_in_keras():
    def mean_top_probability(y_true, y_pred):
        return tf.reduce_max(y_pred, axis=-1).numpy()  # .numpy(): a Tensor, as Keras passes

    x, y = data()
    model = classifier(metrics=[mean_top_probability])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["mean_top_probability"] == pytest.approx(float(model.predict(x, verbose=0).max(axis=1).mean()),
                                                         rel=1e-6)


def test_config_round_trip_of_a_subclass():
    m = CategoricalTruePositives(name="ctp", dtype="float64")
    config = m.get_config()
    assert config == {"name": "ctp", "dtype": "float64"}
    again = CategoricalTruePositives.from_config(config)
    assert again.name == "ctp" and again.dtype == "float64" and again.true_positives.dtype == np.float64
    assert keras.metrics.get(CategoricalTruePositives).name == "categorical_true_positives"


def test_builtin_metrics_keep_their_state_in_variables_as_keras_names_them():
    names = {cls: [v.name.split("/")[-1] for v in cls().variables] for cls in (
        keras.metrics.Mean, keras.metrics.Sum, keras.metrics.Accuracy, keras.metrics.Precision,
        keras.metrics.Recall, keras.metrics.AUC, keras.metrics.RootMeanSquaredError)}
    assert names[keras.metrics.Mean] == ["total", "count"]
    assert names[keras.metrics.Sum] == ["total"]
    assert names[keras.metrics.Accuracy] == ["total", "count"]
    assert names[keras.metrics.Precision] == ["true_positives", "false_positives"]
    assert names[keras.metrics.Recall] == ["true_positives", "false_negatives"]
    assert names[keras.metrics.AUC] == ["true_positives", "false_positives", "true_negatives", "false_negatives"]
    assert names[keras.metrics.RootMeanSquaredError] == ["total", "count"]
    m = keras.metrics.Mean()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert float(m.total) == 4.0 and float(m.count) == 2.0
    f1 = keras.metrics.F1Score()
    assert f1.variables == []  # built on the first batch, when the number of classes is known
    f1.update_state(np.eye(3), np.eye(3) * 0.9)
    assert [v.shape for v in f1.variables] == [(3,)] * 4


def test_sum_adds_everything_in_a_sample_as_keras():
    m = keras.metrics.Sum()
    m.update_state([[1.0, 3.0], [5.0, 7.0]])
    assert float(m.result()) == 16.0
    m.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[1.0, 0.0])
    assert float(m.result()) == 20.0


@pytest.mark.parametrize("make", [keras.metrics.Mean, keras.metrics.SparseCategoricalAccuracy,
                                  lambda: keras.metrics.AUC(num_thresholds=7), keras.metrics.Precision,
                                  CategoricalTruePositives])
def test_merge_state_equals_one_metric_over_all_batches(make):
    rng = np.random.default_rng(3)
    batches = [(rng.integers(0, 2, (8, 1)), rng.random((8, 1)).astype("float32")) for _ in range(4)]
    if make is keras.metrics.SparseCategoricalAccuracy or make is CategoricalTruePositives:
        batches = [(t, np.concatenate([1 - p, p], axis=1)) for t, p in batches]
    whole, parts = make(), [make(), make()]
    for i, (t, p) in enumerate(batches):
        args = (p[:, -1],) if type(whole) is keras.metrics.Mean else (t, p)
        whole.update_state(*args)
        parts[i % 2].update_state(*args)
    parts[0].merge_state(parts[1:])
    assert float(parts[0].result()) == pytest.approx(float(whole.result()), rel=1e-6)
    with pytest.raises(ValueError, match="not compatible"):
        keras.metrics.Mean().merge_state([keras.metrics.Sum()])


def test_the_loss_tracker_is_a_mean_metric_weighted_by_batch_size():
    x, y = data(n=40)
    model = classifier(lr=0.0, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0).history  # batches of 16, 16 and 8
    tracker = model.metrics[0]
    assert isinstance(tracker, keras.metrics.Mean) and tracker.name == "loss"
    assert float(tracker.count) == 40.0
    assert history["loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)
