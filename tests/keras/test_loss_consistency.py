"""A softmax or sigmoid output's cross-entropy is one formula everywhere: the output remembers its logits (Keras's
``output._keras_logits``), so train_on_batch (eager, recorded and replayed steps), fit, test_on_batch, evaluate,
compute_loss and a loss called under no_grad or outside a tape all give the exact loss of the logits, also on
saturated outputs where clipped probabilities would give 16.1 instead of 60."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers, losses

N, FEATURES, CLASSES = 6, 5, 3


def _log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _softplus(z):
    return np.logaddexp(0.0, z)


def saturated(units, seed=0):
    """Inputs, a kernel and a bias whose logits reach +-100, and the logits in float64."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    kernel = (rng.normal(size=(FEATURES, units)) * 40).astype("float32")
    bias = rng.normal(size=units).astype("float32")
    return x, kernel, bias, x.astype(np.float64) @ kernel + bias


CASES = {
    # loss, activation, units, labels from the logits (mostly not the likely class), exact loss of the logits
    "categorical": ("categorical_crossentropy", "softmax", CLASSES,
                    lambda z: np.eye(CLASSES, dtype="float32")[np.arange(N) % CLASSES],
                    lambda z, y: -(y * _log_softmax(z)).sum(-1).mean()),
    "sparse_categorical": ("sparse_categorical_crossentropy", "softmax", CLASSES,
                           lambda z: np.arange(N) % CLASSES,
                           lambda z, y: -_log_softmax(z)[np.arange(N), y].mean()),
    "binary": ("binary_crossentropy", "sigmoid", 2,
               lambda z: ((z < 0) ^ (np.arange(2 * N).reshape(N, 2) % 3 == 0)).astype("float32"),
               lambda z, y: (y * _softplus(-z) + (1 - y) * _softplus(z)).mean()),
}


def compiled(case, seed=0):
    loss, activation, units, labels, exact = CASES[case]
    x, kernel, bias, logits = saturated(units, seed)
    model = keras.Sequential([layers.Dense(units, activation=activation, input_shape=(FEATURES,))])
    model.compile(keras.optimizers.SGD(0.0), loss)  # a zero rate: every call sees the same weights
    model.set_weights([kernel, bias])
    y = labels(logits)
    return model, x, y, float(exact(logits, y))


@pytest.mark.parametrize("case", sorted(CASES))
def test_training_and_evaluation_give_the_exact_loss_of_the_logits(case):
    model, x, y, exact = compiled(case)
    assert exact > 20  # saturated: clipping the probabilities at 1e-7 would cap each wrong sample's loss at 16.1
    trained = [model.train_on_batch(x, y) for _ in range(3)]  # eager, then recorded, then replayed
    assert trained == pytest.approx([exact] * 3, rel=1e-5)
    assert model.test_on_batch(x, y) == pytest.approx(exact, rel=1e-5)
    assert model.evaluate(x, y, batch_size=N, verbose=0) == pytest.approx(exact, rel=1e-5)
    history = model.fit(x, y, batch_size=N, epochs=2, verbose=0).history
    assert history["loss"] == pytest.approx([exact] * 2, rel=1e-5)
    with tf.GradientTape():
        recorded = model.compute_loss(x, y, model(x, training=True))
    with tf.no_grad():
        unrecorded = model.compute_loss(x, y, model(x, training=False))
    assert float(recorded) == pytest.approx(exact, rel=1e-5) and float(unrecorded) == float(recorded)


@pytest.mark.parametrize("make_output", [
    lambda z: tf.nn.softmax(z), lambda z: layers.Activation("softmax")(z), lambda z: layers.Softmax()(z),
    lambda z: keras.activations.softmax(z), lambda z: z.softmax()])
def test_every_way_to_a_softmax_output_keeps_its_logits(make_output):
    _, _, _, logits = saturated(CLASSES)
    z = tf.constant(logits.astype("float32"))
    labels = np.arange(N) % CLASSES
    exact = -_log_softmax(logits)[np.arange(N), labels].mean()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.no_grad():
        assert float(loss_fn(labels, make_output(z))) == pytest.approx(exact, rel=1e-5)
    variable = tf.Variable(logits.astype("float32"))
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, make_output(variable))
    assert float(loss) == pytest.approx(exact, rel=1e-5)
    grad = tape.gradient(loss, variable).numpy()
    probs = np.exp(_log_softmax(logits))
    np.testing.assert_allclose(grad, (probs - np.eye(CLASSES)[labels]) / N, atol=1e-6)


def test_a_softmax_along_another_axis_counts_only_for_a_loss_along_that_axis():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, CLASSES, 4)) * 30
    labels = np.eye(CLASSES)[rng.integers(0, CLASSES, (2, 4))].transpose(0, 2, 1)  # one-hot along axis 1
    probs = tf.nn.softmax(tf.constant(logits.astype("float32")), axis=1)
    exact = -(labels * _log_softmax(logits, axis=1)).sum(axis=1)
    np.testing.assert_allclose(losses.categorical_crossentropy(labels, probs, axis=1).numpy(), exact, rtol=1e-5,
                               atol=1e-6)
    # along the last axis the output is no softmax: its probabilities are renormalized and clipped, as Keras does
    p = np.clip(probs.numpy() / probs.numpy().sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    clipped = -(labels * np.log(p)).sum(-1)
    np.testing.assert_allclose(losses.categorical_crossentropy(labels, probs).numpy(), clipped, rtol=1e-5)


def test_from_logits_on_a_softmax_output_warns_and_uses_the_logits_as_keras():
    _, _, _, logits = saturated(CLASSES)
    labels = np.arange(N) % CLASSES
    probs = tf.nn.softmax(tf.constant(logits.astype("float32")))
    with pytest.warns(UserWarning, match="produced by a Softmax activation"):
        value = losses.sparse_categorical_crossentropy(labels, probs, from_logits=True)
    np.testing.assert_allclose(value.numpy(), -_log_softmax(logits)[np.arange(N), labels], rtol=1e-5, atol=1e-6)


def test_a_sigmoid_output_reshaped_to_its_labels_keeps_its_logits():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(N, 4, 1)) * 50  # one unit per time step, labels (N, 4)
    labels = (rng.random((N, 4)) > 0.5).astype("float32")
    probs = tf.sigmoid(tf.constant(logits.astype("float32")))
    exact = (labels * _softplus(-logits[..., 0]) + (1 - labels) * _softplus(logits[..., 0])).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(labels, probs).numpy(), exact, rtol=1e-5, atol=1e-6)


def test_a_softmax_output_of_a_binary_loss_is_no_sigmoid():
    logits = np.array([[40.0, -40.0], [-40.0, 40.0]])
    probs = tf.nn.softmax(tf.constant(logits.astype("float32")))
    labels = np.array([[1.0, 0.0], [1.0, 0.0]], "float32")
    p = np.clip(probs.numpy(), 1e-7, 1 - 1e-7)  # the softmax's logits are not the sigmoid's: probabilities, clipped
    clipped = -(labels * np.log(p) + (1 - labels) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(labels, probs).numpy(), clipped, rtol=1e-5)
