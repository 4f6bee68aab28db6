"""keras.losses Dice, Tversky and Circle (Keras's documented values, a NumPy transcription of Keras's Circle
formula with its -inf masks, gradients by finite differences and against PyTorch autograd, Keras's masked average,
configs, training) and the loss functions keras.metrics exports."""
import numpy as np
import pytest
import torch
from scipy.special import logsumexp as np_logsumexp

import chainrule as cr
from chainrule import keras
from chainrule.engine.gradcheck import check_gradients

Y_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]], "float32")
Y_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]], "float32")


def test_dice_and_tversky_give_kerass_documented_values():
    per_image = keras.losses.Dice(axis=(1, 2, 3), reduction=None)(Y_TRUE, Y_PRED).numpy()
    np.testing.assert_allclose(per_image, [0.5, 0.75757575], rtol=1e-6)
    np.testing.assert_allclose(float(keras.losses.Dice()(Y_TRUE, Y_PRED)), 0.6164384, rtol=1e-6)
    np.testing.assert_allclose(keras.losses.tversky(Y_TRUE, Y_PRED, axis=(1, 2, 3)).numpy(), per_image, rtol=1e-6)
    fp_heavy = keras.losses.Tversky(alpha=0.9, beta=0.1, axis=(1, 2, 3), reduction=None)(Y_TRUE, Y_PRED).numpy()
    tp = (Y_TRUE * Y_PRED).sum(axis=(1, 2, 3))
    fp = ((1 - Y_TRUE) * Y_PRED).sum(axis=(1, 2, 3))
    fn = (Y_TRUE * (1 - Y_PRED)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(fp_heavy, 1 - tp / (tp + 0.9 * fp + 0.1 * fn + 1e-7), rtol=1e-6)


def test_dice_gradient_matches_torch():
    rng = np.random.default_rng(0)
    y_true, y_pred = (rng.uniform(size=(3, 5)) > 0.5).astype(float), rng.uniform(size=(3, 5))
    p = cr.Variable(y_pred)
    with cr.GradientTape() as tape:
        loss = keras.losses.Tversky(alpha=0.3, beta=0.7, axis=1)(y_true, p)
    got = tape.gradient(loss, p).numpy()
    tp_ = torch.tensor(y_pred, requires_grad=True)
    t = torch.tensor(y_true)
    inter = (t * tp_).sum(1)
    value = 1 - inter / (inter + 0.3 * ((1 - t) * tp_).sum(1) + 0.7 * (t * (1 - tp_)).sum(1) + 1e-7)
    value.mean().backward()
    np.testing.assert_allclose(float(loss), value.mean().item(), rtol=1e-12)
    np.testing.assert_allclose(got, tp_.grad.numpy(), rtol=1e-10)


def keras_circle(labels, emb, ref_labels=None, ref=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    """Keras's circle(), line by line in NumPy."""
    ref = emb if ref is None else ref
    ref_labels = labels if ref_labels is None else ref_labels
    d = np.maximum(1 - emb @ ref.T, 0.0)
    pos = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    neg = ~pos
    if remove_diagonal:
        pos &= ~np.eye(*pos.shape, dtype=bool)
    pos_w = np.maximum((margin + d) * pos, 0.0)
    neg_w = np.maximum((1 + margin - d) * neg, 0.0)
    with np.errstate(divide="ignore"):
        p = np_logsumexp(np.where(pos, -gamma * pos_w * (margin - d), -np.inf), axis=1)
        n = np_logsumexp(np.where(neg, gamma * neg_w * (1 - margin - d), -np.inf), axis=1)
    return np.logaddexp(0.0, p + n)


def embeddings(n, dim=4, seed=0):
    e = np.random.default_rng(seed).normal(size=(n, dim))
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_circle_matches_kerass_formula_and_masks_lonely_queries():
    labels, emb = np.array([0, 0, 1, 1, 2, 0, 3]), embeddings(7)
    want = keras_circle(labels, emb, gamma=10.0, margin=0.25)
    got = keras.losses.circle(labels, emb, gamma=10.0, margin=0.25).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert want[4] == 0 and want[6] == 0  # labels 2 and 3 have no positive pair
    reduced = float(keras.losses.Circle(gamma=10.0, margin=0.25)(labels, emb))
    np.testing.assert_allclose(reduced, want[want > 0].mean(), rtol=1e-6)
    ref_labels, ref = np.array([1, 0, 2]), embeddings(3, seed=1)
    np.testing.assert_allclose(keras.losses.circle(labels, emb, ref_labels, ref, remove_diagonal=False).numpy(),
                               keras_circle(labels, emb, ref_labels, ref, remove_diagonal=False), rtol=1e-10)


def test_circle_gradient_by_finite_differences_and_no_nan_for_lonely_queries():
    labels = np.array([0, 0, 1, 1, 2])
    check_gradients(lambda e: keras.losses.circle(labels, e, gamma=4.0), embeddings(5), atol=1e-5)
    e = cr.Variable(embeddings(5))
    with cr.GradientTape() as tape:
        loss = keras.losses.Circle(gamma=4.0)(labels, e)
    grad = tape.gradient(loss, e).numpy()
    assert np.isfinite(grad).all() and np.abs(grad[:4]).sum() > 0


def test_configs_round_trip_and_names():
    for loss in (keras.losses.Dice(axis=(1, 2)), keras.losses.Tversky(0.2, 0.8), keras.losses.Circle(gamma=32.0)):
        config = keras.losses.serialize(loss)
        again = keras.losses.deserialize(config)
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert isinstance(keras.losses.get("dice"), keras.losses.Dice)
    assert keras.losses.Circle().get_config()["remove_diagonal"] is True


def test_circle_trains_embeddings():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 96)
    x = (np.eye(3)[labels] * 2 + rng.normal(scale=0.5, size=(96, 3))).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8),
                              keras.layers.UnitNormalization()])
    model.compile(keras.optimizers.Adam(0.01), keras.losses.Circle(gamma=16.0))
    losses = model.fit(x, labels, batch_size=32, epochs=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", ["binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
                                  "categorical_focal_crossentropy", "huber", "sparse_categorical_crossentropy"])
def test_metrics_export_the_loss_functions(name):
    assert getattr(keras.metrics, name) is getattr(keras.losses, name)


def test_circle_refuses_labels_that_are_not_one_per_embedding():
    with pytest.raises(ValueError, match=r"circle: expected integer labels of shape \(batch,\)"):
        keras.losses.Circle()(np.zeros((4, 3)), embeddings(4))


# --- CategoricalGeneralizedCrossEntropy, PearsonCorrelation, ConcordanceCorrelation -----------------------------------
def test_generalized_cross_entropy_against_torch():
    probs = np.random.default_rng(2).dirichlet(np.ones(4), size=5)
    labels = np.array([0, 3, 1, 1, 2])
    p = cr.Variable(probs)
    with cr.GradientTape() as tape:
        loss = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.7)(labels, p)
    grad = tape.gradient(loss, p).numpy()
    tp = torch.tensor(probs, requires_grad=True)
    want = ((1 - tp[torch.arange(5), torch.tensor(labels)] ** 0.7) / 0.7).mean()
    want.backward()
    np.testing.assert_allclose(float(loss), want.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, tp.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(keras.losses.categorical_generalized_cross_entropy(labels[:, None], probs, 0.7).numpy(),
                               (1 - probs[np.arange(5), labels] ** 0.7) / 0.7, rtol=1e-12)
    loss = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3)
    assert keras.losses.deserialize(keras.losses.serialize(loss)).get_config() == loss.get_config()
    with pytest.raises(ValueError, match=r"interval \(0, 1\)"):
        keras.losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_correlation_metrics_as_keras_documents_them():
    y_true = [[0, 1, 0.5], [1, 1, 0.2]]
    y_pred = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    pcc = keras.metrics.PearsonCorrelation(axis=-1)
    pcc.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(pcc.result()), 0.9966996338993913, rtol=1e-6)
    ccc = keras.metrics.ConcordanceCorrelation(axis=-1)
    ccc.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(ccc.result()), 0.9816320385426076, rtol=1e-5)
    for name in ("pearson_correlation", "concordance_correlation"):
        metric = keras.metrics.get(name)
        assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 30)), rng.normal(size=(4, 30))
    np.testing.assert_allclose(keras.metrics.pearson_correlation(a, b),
                               [np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)], rtol=1e-10)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
    model.compile("sgd", "mse", metrics=[keras.metrics.PearsonCorrelation(), "concordance_correlation"])
    logs = model.evaluate(rng.normal(size=(8, 3)), rng.normal(size=(8, 3)), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "pearson_correlation", "concordance_correlation"}
