"""A loss given as a plain function sees labels and predictions of the same rank when they differ by a trailing
axis of 1, as Keras's LossFunctionWrapper does (keras-io's siamese contrastive example: (n,) labels, (n, 1)
sigmoid outputs, a ``reduce_mean`` loss that would otherwise average an (n, n) matrix)."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


def contrastive_loss(y_true, y_pred, margin=1.0):
    square_pred = tf.math.square(y_pred)
    margin_square = tf.math.square(tf.math.maximum(margin - y_pred, 0))
    return tf.math.reduce_mean((1 - y_true) * square_pred + y_true * margin_square)


def _expected(labels, predictions):
    p = predictions.reshape(-1).astype("float64")
    return np.mean((1 - labels) * p ** 2 + labels * np.maximum(1 - p, 0) ** 2)


def test_wrapper_brings_rank_one_labels_to_the_outputs_rank():
    labels = np.array([1.0, 0.0, 1.0, 0.0], "float32")
    predictions = np.array([[0.9], [0.2], [0.4], [0.7]], "float32")
    loss = keras.losses.LossFunctionWrapper(contrastive_loss)
    np.testing.assert_allclose(float(loss(labels, predictions)), _expected(labels, predictions), rtol=1e-6)
    seen = []
    keras.losses.LossFunctionWrapper(lambda t, p: seen.append((tuple(t.shape), tuple(p.shape))) or p)(
        labels, predictions)
    assert seen == [((4, 1), (4, 1))]


def test_labels_with_a_trailing_one_meet_rank_one_predictions():
    seen = []
    loss = keras.losses.LossFunctionWrapper(lambda t, p: seen.append((tuple(t.shape), tuple(p.shape))) or t - p)
    loss(np.zeros((3, 5, 1), "float32"), np.ones((3, 5), "float32"))
    assert seen == [((3, 5), (3, 5))]


def test_other_label_shapes_reach_the_function_unchanged():
    seen = []
    loss = keras.losses.LossFunctionWrapper(lambda t, p: seen.append(t) or keras.ops.mean(p, axis=-1))
    labels = np.zeros((2, 4), "int32")  # CTC-like padded labels against (batch, time, classes) outputs
    loss(labels, np.ones((2, 6, 3), "float32"))
    assert seen[0] is labels


def test_fit_and_evaluate_with_a_plain_function_loss_use_matching_ranks():
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(loss=contrastive_loss, optimizer="rmsprop")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = (np.arange(16) % 2).astype("float32")
    loss = model.evaluate(x, y, batch_size=16, verbose=0)
    assert loss == pytest.approx(_expected(y, model.predict(x, verbose=0)), rel=1e-5)
