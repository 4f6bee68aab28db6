"""CTC through the Keras and TensorFlow names: keras.losses.CTC / ctc (Keras 3: y_true padded with the blank 0),
keras.ops.ctc_loss / ctc_decode, tf.nn.ctc_loss (time-major logits, blank_index), and a model trained with it."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

RNG = np.random.default_rng(0)
Y_TRUE = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [4, 1, 3, 2]])
LOGITS = RNG.standard_normal((3, 10, 5)).astype("float32")


def _torch_loss(logits, labels, label_length, logit_length, blank=0):
    log_probs = F.log_softmax(torch.tensor(logits, dtype=torch.float64), -1).transpose(0, 1)
    return F.ctc_loss(log_probs, torch.tensor(labels), torch.tensor(logit_length), torch.tensor(label_length),
                      blank=blank, reduction="none").numpy()


def test_keras_ctc_counts_the_non_blank_labels_and_every_step():
    expected = _torch_loss(LOGITS, Y_TRUE, [3, 1, 4], [10, 10, 10])
    np.testing.assert_allclose(keras.losses.ctc(Y_TRUE, LOGITS).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(float(keras.losses.CTC()(Y_TRUE, LOGITS)), expected.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(keras.losses.CTC(reduction="sum")(Y_TRUE, LOGITS)), expected.sum(), rtol=1e-5)
    weights = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(float(keras.losses.CTC()(Y_TRUE, LOGITS, sample_weight=weights)),
                               (expected * weights).mean(), rtol=1e-5)


def test_keras_ctc_takes_float_labels_as_fit_may_give_them():
    np.testing.assert_allclose(keras.losses.ctc(Y_TRUE.astype("float32"), LOGITS).numpy(),
                               keras.losses.ctc(Y_TRUE, LOGITS).numpy())


def test_keras_ctc_of_softmax_outputs_uses_their_log_probabilities():
    probs = tf.nn.softmax(tf.constant(LOGITS), axis=-1)
    np.testing.assert_allclose(keras.losses.ctc(Y_TRUE, probs).numpy(), keras.losses.ctc(Y_TRUE, LOGITS).numpy(),
                               rtol=1e-6)


def test_keras_ctc_shape_errors_are_keras_messages():
    with pytest.raises(ValueError, match=r"Targets `y_true` are expected to be a tensor of shape `\(batch_size, "
                                         r"max_length\)` in integer format. Received: y_true.shape=\(3,\)"):
        keras.losses.ctc(np.array([1, 2, 3]), LOGITS)
    with pytest.raises(ValueError, match=r"Logits `y_pred` are expected to be a tensor of shape"):
        keras.losses.ctc(Y_TRUE, LOGITS[:, 0])


def test_ctc_loss_class_config_and_lookup_round_trip():
    loss = keras.losses.CTC(reduction="sum", name="my_ctc")
    config = loss.get_config()
    assert config == {"name": "my_ctc", "reduction": "sum", "dtype": None}
    again = keras.losses.CTC.from_config(config)
    assert again.name == "my_ctc" and again.reduction == "sum"
    assert isinstance(keras.losses.get("CTC"), keras.losses.CTC)
    assert isinstance(keras.losses.get("ctc"), keras.losses.CTC)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, keras.losses.CTC) and restored.reduction == "sum"


def test_keras_ops_ctc_loss_takes_lengths_and_a_mask_index():
    labels = np.array([[1, 2, 0], [3, 3, 0]])
    got = keras.ops.ctc_loss(labels, LOGITS[:2], np.array([2, 2]), np.array([10, 7]), mask_index=4)
    np.testing.assert_allclose(got.numpy(), _torch_loss(LOGITS[:2], labels, [2, 2], [10, 7], blank=4), rtol=1e-5)


def test_tf_nn_ctc_loss_is_time_major_by_default_with_blank_0():
    labels = np.array([[1, 2, 2], [3, 0, 0]])
    time_major = np.ascontiguousarray(LOGITS[:2].transpose(1, 0, 2))
    expected = _torch_loss(LOGITS[:2], labels, [3, 1], [10, 8])
    np.testing.assert_allclose(tf.nn.ctc_loss(labels, time_major, [3, 1], [10, 8]).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(tf.nn.ctc_loss(labels, LOGITS[:2], [3, 1], [10, 8], logits_time_major=False).numpy(),
                               expected, rtol=1e-5)
    blank_last = tf.nn.ctc_loss(labels - 1 + (labels == 0), LOGITS[:2], [3, 1], [10, 8], logits_time_major=False,
                                blank_index=-1)
    np.testing.assert_allclose(blank_last.numpy(), _torch_loss(LOGITS[:2], labels - 1 + (labels == 0), [3, 1],
                                                                [10, 8], blank=4), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="sparse labels"):
        tf.nn.ctc_loss(labels, time_major, None, [10, 8])


def test_tf_nn_ctc_loss_gradient_through_a_tape():
    logits = tf.Variable(LOGITS[:2].transpose(1, 0, 2).copy())
    labels = np.array([[1, 2, 2], [3, 0, 0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.ctc_loss(labels, logits, [3, 1], [10, 8]))
    x = torch.tensor(LOGITS[:2], dtype=torch.float64, requires_grad=True)
    F.ctc_loss(F.log_softmax(x, -1).transpose(0, 1), torch.tensor(labels), torch.tensor([10, 8]),
               torch.tensor([3, 1]), reduction="none").mean().backward()
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), x.grad.numpy().transpose(1, 0, 2), atol=1e-6)


def test_keras_ops_ctc_decode_greedy_and_beam_search_shapes():
    decoded, scores = keras.ops.ctc_decode(LOGITS, np.array([10, 6, 3]))
    assert decoded.shape == (1, 3, 10) and scores.shape == (3, 1)
    assert (decoded.numpy()[0, 2, 3:] == -1).all()
    paths, log_probs = keras.ops.ctc_decode(LOGITS, np.array([10, 6, 3]), strategy="beam_search", beam_width=8,
                                            top_paths=2)
    assert paths.shape == (2, 3, 10) and log_probs.shape == (3, 2)
    assert (log_probs.numpy()[:, 0] >= log_probs.numpy()[:, 1]).all()


def test_a_model_learns_to_transcribe_with_the_ctc_loss_in_fit():
    """Each of 12 steps shows one of 4 symbols (or noise for the blank); the labels are the shown symbols."""
    rng = np.random.default_rng(5)
    steps, classes = 12, 5
    shown = rng.integers(0, classes, (64, steps))
    shown[:, ::3] = 0  # blanks between the symbols, so repeats can be told apart
    x = np.eye(classes, dtype="float32")[shown] + 0.1 * rng.standard_normal((64, steps, classes)).astype("float32")
    labels = [[c for i, c in enumerate(row) if c != 0 and (i == 0 or c != row[i - 1])] for row in shown]
    y = np.zeros((64, steps), dtype="int32")
    for i, row in enumerate(labels):
        y[i, :len(row)] = row
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((steps, classes)), layers.TimeDistributed(layers.Dense(16, "relu")),
                              layers.Dense(classes, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), loss=keras.losses.CTC())
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]
    decoded, _ = keras.ops.ctc_decode(model.predict(x, verbose=0), np.full(64, steps))
    hits = [list(row[row >= 0]) == label for row, label in zip(decoded.numpy()[0], labels)]
    assert np.mean(hits) > 0.9
