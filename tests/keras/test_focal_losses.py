"""keras.losses.BinaryFocalCrossentropy and CategoricalFocalCrossentropy (chainrule/keras/losses.py): Keras's
documented examples, the formulas written in PyTorch (values and gradients, from probabilities and from logits,
with alpha, gamma, class balancing and label smoothing), a sigmoid output's logits used for a finite loss, the
config round trip, names in compile, and Keras's warning for one class."""
import numpy as np
import pytest
import torch

import chainrule as tf
from chainrule import keras

LOGITS_TRUE = np.array([[0, 1], [0, 0]])
LOGITS = np.array([[-18.6, 0.51], [2.94, -12.8]], "float32")


@pytest.mark.parametrize("kwargs, sample_weight, expected", [
    ({"gamma": 3}, None, 0.647),
    ({"gamma": 3, "apply_class_balancing": True}, None, 0.482),
    ({"gamma": 3}, [0.8, 0.2], 0.133),
    ({"gamma": 3, "apply_class_balancing": True}, [0.8, 0.2], 0.097),
    ({"gamma": 4, "reduction": "sum"}, None, 1.222),
    ({"gamma": 4, "reduction": "sum", "apply_class_balancing": True}, None, 0.914),
    ({"gamma": 5, "reduction": None}, None, [0.0017, 1.1561]),
    ({"gamma": 5, "reduction": None, "apply_class_balancing": True}, None, [0.0004, 0.8670]),
])
def test_binary_focal_keras_documented_examples(kwargs, sample_weight, expected):
    loss = keras.losses.BinaryFocalCrossentropy(from_logits=True, **kwargs)
    np.testing.assert_allclose(loss(LOGITS_TRUE, LOGITS, sample_weight=sample_weight).numpy(), expected, atol=6e-4)


def test_binary_focal_keras_first_example():
    y_true, y_pred = np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8], "float32")
    assert float(keras.losses.BinaryFocalCrossentropy(gamma=2, from_logits=True)(y_true, y_pred)) == \
        pytest.approx(0.691, abs=6e-4)
    balanced = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2, from_logits=True)
    assert float(balanced(y_true, y_pred)) == pytest.approx(0.51, abs=6e-3)


@pytest.mark.parametrize("kwargs, sample_weight, expected", [
    ({}, None, 0.23315276),
    ({}, [0.3, 0.7], 0.1632),
    ({"reduction": "sum"}, None, 0.46631),
    ({"reduction": None}, None, [3.2058331e-05, 4.6627346e-01]),
])
def test_categorical_focal_keras_documented_examples(kwargs, sample_weight, expected):
    y_true = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], "float32")
    cce = keras.losses.CategoricalFocalCrossentropy(**kwargs)
    np.testing.assert_allclose(cce(y_true, y_pred, sample_weight=sample_weight).numpy(), expected, rtol=2e-4)


# --- the formulas in PyTorch ----------------------------------------------------------------------------------------
def torch_binary_focal(t, y, alpha, gamma, from_logits, smoothing, balancing):
    t = t * (1 - smoothing) + 0.5 * smoothing
    p = torch.sigmoid(y) if from_logits else y
    bce = torch.nn.functional.binary_cross_entropy_with_logits(y, t, reduction="none") if from_logits else \
        -(t * torch.log(p.clamp(1e-7, 1 - 1e-7)) + (1 - t) * torch.log(1 - p.clamp(1e-7, 1 - 1e-7)))
    p_t = t * p + (1 - t) * (1 - p)
    focal = (1 - p_t) ** gamma * bce
    if balancing:
        focal = (t * alpha + (1 - t) * (1 - alpha)) * focal
    return focal.mean(-1).mean()


def torch_categorical_focal(t, y, alpha, gamma, from_logits, smoothing):
    t = t * (1 - smoothing) + smoothing / y.shape[-1]
    p = torch.softmax(y, -1) if from_logits else y
    p = (p / p.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return ((1 - p) ** gamma * alpha * -t * torch.log(p)).sum(-1).mean()


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("alpha, gamma, smoothing, balancing", [(0.25, 2.0, 0.0, False), (0.6, 1.5, 0.1, True),
                                                                 (0.25, 0.0, 0.0, True)])
def test_binary_focal_matches_torch(from_logits, alpha, gamma, smoothing, balancing):
    t = RNG.integers(0, 2, (6, 3)).astype(np.float64)
    y = RNG.standard_normal((6, 3)) * 2 if from_logits else RNG.uniform(0.05, 0.95, (6, 3))
    loss = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=balancing, alpha=alpha, gamma=gamma,
                                                from_logits=from_logits, label_smoothing=smoothing)
    x = tf.Variable(y)
    with tf.GradientTape() as tape:
        ours = loss(t, x)
    yt = torch.tensor(y, requires_grad=True)
    theirs = torch_binary_focal(torch.tensor(t), yt, alpha, gamma, from_logits, smoothing, balancing)
    theirs.backward()
    np.testing.assert_allclose(float(ours), theirs.item(), rtol=1e-10)
    np.testing.assert_allclose(tape.gradient(ours, x).numpy(), yt.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("alpha, gamma, smoothing", [(0.25, 2.0, 0.0), (1.0, 3.0, 0.2)])
def test_categorical_focal_matches_torch(from_logits, alpha, gamma, smoothing):
    t = np.eye(4)[RNG.integers(0, 4, 5)]
    y = RNG.standard_normal((5, 4)) if from_logits else RNG.dirichlet(np.ones(4), 5)
    loss = keras.losses.CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=from_logits,
                                                     label_smoothing=smoothing)
    x = tf.Variable(y)
    with tf.GradientTape() as tape:
        ours = loss(t, x)
    yt = torch.tensor(y, requires_grad=True)
    theirs = torch_categorical_focal(torch.tensor(t), yt, alpha, gamma, from_logits, smoothing)
    theirs.backward()
    np.testing.assert_allclose(float(ours), theirs.item(), rtol=1e-10)
    np.testing.assert_allclose(tape.gradient(ours, x).numpy(), yt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_a_saturated_sigmoid_output_gives_a_finite_loss_from_its_logits():
    logits = tf.Variable([[40.0, -40.0]])
    with tf.GradientTape() as tape:
        value = keras.losses.BinaryFocalCrossentropy(gamma=1.0)([[0.0, 1.0]], tf.sigmoid(logits))
    assert float(value) == pytest.approx(40.0, rel=1e-4)  # (1 - p_t) = 1: the whole cross-entropy, log(1 + e^40)
    assert np.isfinite(tape.gradient(value, logits).numpy()).all()


def test_config_names_and_use_in_compile():
    loss = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=3.0,
                                                label_smoothing=0.1)
    config = loss.get_config()
    assert config["alpha"] == 0.4 and config["gamma"] == 3.0 and config["name"] == "binary_focal_crossentropy"
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is keras.losses.BinaryFocalCrossentropy and again.get_config() == config
    assert isinstance(keras.losses.get("binary_focal_crossentropy"), keras.losses.BinaryFocalCrossentropy)
    assert isinstance(keras.losses.get("CategoricalFocalCrossentropy"), keras.losses.CategoricalFocalCrossentropy)
    x = RNG.standard_normal((32, 4)).astype("float32")
    y = np.eye(3)[RNG.integers(0, 3, 32)].astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_focal_crossentropy")
    assert np.isfinite(model.fit(x, y, epochs=2, verbose=0).history["loss"]).all()
    with pytest.warns(SyntaxWarning, match="expected y_pred.shape to be \\(batch_size, num_classes\\)"):
        keras.losses.categorical_focal_crossentropy([[1.0]], [[0.7]])
    with pytest.raises(ValueError, match="look like integer class ids"):
        keras.losses.categorical_focal_crossentropy(np.array([1, 2]), np.ones((2, 3), "float32") / 3)
