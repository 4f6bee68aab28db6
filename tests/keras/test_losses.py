"""Losses: per-sample values and gradients against torch / NumPy, the stable fused paths, label checks, reductions."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.keras import losses
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(0)
N, C = 6, 4


def _probs(shape, rng=RNG):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(-1, keepdims=True)


def _compare(our_fn, torch_fn, y_true, y_pred, rtol=1e-9, atol=1e-12):
    """Per-sample values and the gradient with respect to y_pred, in float64."""
    pred = cr.Variable(np.array(y_pred, np.float64))
    out = our_fn(y_true, pred)
    tpred = torch.tensor(np.array(y_pred, np.float64), requires_grad=True)
    ref = torch_fn(torch.tensor(np.asarray(y_true)), tpred)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    weights = RNG.standard_normal(out.shape)
    (g,) = cr.grad(out, [pred], grad_outputs=cr.Tensor(weights))
    (tg,) = torch.autograd.grad(ref, [tpred], grad_outputs=torch.tensor(weights))
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=max(rtol, 1e-7), atol=max(atol, 1e-10))
    assert out.dtype == np.float64 and g.dtype == np.float64


Y_REG, P_REG = RNG.standard_normal((N, 3)), RNG.standard_normal((N, 3))
Y_BIN = (RNG.random((N, 3)) > 0.5).astype(np.float64)
P_BIN = RNG.uniform(0.05, 0.95, (N, 3))
Y_ONEHOT = np.eye(C)[RNG.integers(0, C, N)]
Y_SOFT = _probs((N, C))
Y_IDS = RNG.integers(0, C, N)
LOGITS = RNG.standard_normal((N, C)) * 3

TORCH_CASES = {
    "mse": (losses.mean_squared_error, lambda t, p: F.mse_loss(p, t, reduction="none").mean(-1), Y_REG, P_REG),
    "mae": (losses.mean_absolute_error, lambda t, p: F.l1_loss(p, t, reduction="none").mean(-1), Y_REG, P_REG),
    "huber": (losses.huber, lambda t, p: F.huber_loss(p, t, reduction="none").mean(-1), Y_REG, P_REG),
    "huber_delta": (lambda t, p: losses.huber(t, p, delta=0.3),
                    lambda t, p: F.huber_loss(p, t, reduction="none", delta=0.3).mean(-1), Y_REG, P_REG),
    "bce": (losses.binary_crossentropy, lambda t, p: F.binary_cross_entropy(p, t, reduction="none").mean(-1),
            Y_BIN, P_BIN),
    "bce_logits": (lambda t, p: losses.binary_crossentropy(t, p, from_logits=True),
                   lambda t, p: F.binary_cross_entropy_with_logits(p, t, reduction="none").mean(-1), Y_BIN, P_REG),
    "cce_logits_soft": (lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True),
                        lambda t, p: F.cross_entropy(p, t, reduction="none"), Y_SOFT, LOGITS),
    "cce_probs": (losses.categorical_crossentropy, lambda t, p: -(t * torch.log(p / p.sum(-1, keepdim=True))).sum(-1),
                  Y_ONEHOT, _probs((N, C)) * 2.0),
    "scce_logits": (lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True),
                    lambda t, p: F.cross_entropy(p, t, reduction="none"), Y_IDS, LOGITS),
    "scce_probs": (losses.sparse_categorical_crossentropy,
                   lambda t, p: F.nll_loss(torch.log(p / p.sum(-1, keepdim=True)), t, reduction="none"),
                   Y_IDS, _probs((N, C))),
    "poisson": (losses.poisson, lambda t, p: F.poisson_nll_loss(p, t, log_input=False, eps=1e-7,
                                                                reduction="none").mean(-1),
                np.abs(Y_REG), np.abs(P_REG) + 0.1),
    "cosine": (losses.cosine_similarity, lambda t, p: -F.cosine_similarity(p, t, dim=-1, eps=1e-12), Y_REG, P_REG),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_per_sample_losses_match_torch(case):
    ours, theirs, y_true, y_pred = TORCH_CASES[case]
    _compare(ours, theirs, y_true, y_pred)


NUMPY_CASES = {  # Keras's formulas written out in NumPy
    "mape": (losses.mean_absolute_percentage_error,
             lambda t, p: 100 * np.mean(np.abs((t - p) / np.maximum(np.abs(t), 1e-7)), -1), Y_REG, P_REG),
    "msle": (losses.mean_squared_logarithmic_error,
             lambda t, p: np.mean((np.log(np.maximum(p, 1e-7) + 1) - np.log(np.maximum(t, 1e-7) + 1)) ** 2, -1),
             np.abs(Y_REG), np.abs(P_REG)),
    "log_cosh": (losses.log_cosh, lambda t, p: np.mean(np.log(np.cosh(p - t)), -1), Y_REG, P_REG),
    "kld": (losses.kl_divergence, lambda t, p: np.sum(t * np.log(t / p), -1), Y_SOFT, _probs((N, C))),
    "hinge": (losses.hinge, lambda t, p: np.mean(np.maximum(1 - (2 * t - 1) * p, 0), -1), Y_BIN, P_REG),
    "squared_hinge": (losses.squared_hinge, lambda t, p: np.mean(np.maximum(1 - (2 * t - 1) * p, 0) ** 2, -1),
                      Y_BIN, P_REG),
}


@pytest.mark.parametrize("case", sorted(NUMPY_CASES))
def test_per_sample_losses_match_numpy_and_finite_differences(case):
    ours, reference, y_true, y_pred = NUMPY_CASES[case]
    np.testing.assert_allclose(ours(y_true, y_pred).numpy(), reference(y_true, y_pred), rtol=1e-9)
    check_gradients(lambda p: ours(y_true, p), y_pred)


# --- the stable fused paths -------------------------------------------------------------------------------------------
def test_softmax_output_uses_the_logits_categorical():
    logits_np = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [3.0, 1.0, 2.0]])
    labels = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    logits = cr.Variable(logits_np)
    loss = losses.CategoricalCrossentropy()(labels, cr.softmax(logits))
    tl = torch.tensor(logits_np, requires_grad=True)
    ref = F.cross_entropy(tl, torch.tensor(labels))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(ref.item(), rel=1e-12)
    (g,) = cr.grad(loss, [logits])
    (tg,) = torch.autograd.grad(ref, [tl])
    assert np.isfinite(g.numpy()).all()
    np.testing.assert_allclose(g.numpy(), tg.numpy(), atol=1e-12)


def test_softmax_output_uses_the_logits_sparse():
    logits_np = np.array([[1e4, 0.0, -1e4], [-1e4, 0.0, 1e4]], np.float32)
    logits = cr.Variable(logits_np)
    loss = losses.SparseCategoricalCrossentropy()(np.array([1, 0], np.uint8), cr.softmax(logits))
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx((1e4 + 2e4) / 2, rel=1e-6)  # not log(1e-7) = 16.1: the true loss
    (g,) = cr.grad(loss, [logits])
    expected = np.array([[1.0, -1.0, 0.0], [-1.0, 0.0, 1.0]]) / 2
    np.testing.assert_allclose(g.numpy(), expected, atol=1e-6)


def test_sigmoid_output_uses_the_logits_binary():
    logits_np = np.array([[1e4], [-1e4], [0.5]])
    labels = np.array([[0.0], [0.0], [1.0]])
    logits = cr.Variable(logits_np)
    loss = losses.BinaryCrossentropy()(labels, cr.sigmoid(logits))
    tl = torch.tensor(logits_np, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(tl, torch.tensor(labels))
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    (g,) = cr.grad(loss, [logits])
    np.testing.assert_allclose(g.numpy(), torch.autograd.grad(ref, [tl])[0].numpy(), atol=1e-12)


def test_softmax_along_another_axis_is_not_fused_wrongly():
    logits = cr.Variable(RNG.standard_normal((3, 4)))
    labels = np.eye(4)[[0, 1, 2]]
    fused_wrong_axis = losses.categorical_crossentropy(labels, cr.softmax(logits, axis=0))
    p = cr.softmax(logits, axis=0).numpy()
    expected = -(labels * np.log(np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7))).sum(-1)
    np.testing.assert_allclose(fused_wrong_axis.numpy(), expected, rtol=1e-9)


def test_plain_probabilities_are_clipped_like_keras():
    p = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    loss = losses.CategoricalCrossentropy()(np.array([[1.0, 0.0], [1.0, 0.0]]), p)
    assert loss.item() == pytest.approx(-np.log(1e-7) / 2, rel=1e-5)
    bce = losses.binary_crossentropy(np.array([[1.0], [0.0]]), np.array([[0.0], [0.0]], np.float32))
    np.testing.assert_allclose(bce.numpy(), [-np.log(1e-7), -np.log(1 - 1e-7)], rtol=1e-5, atol=3e-8)
    scce = losses.sparse_categorical_crossentropy(np.array([0]), np.array([[0.0, 1.0]]))
    assert scce.numpy()[0] == pytest.approx(-np.log(1e-7), rel=1e-9)


# --- labels -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [np.array([0, 3, 1]), np.array([[0], [3], [1]]), np.array([0.0, 3.0, 1.0]),
                                    np.array([[0, 3, 1, 2], [1, 1, 2, 3], [0, 0, 0, 2]])])
def test_integer_labels_to_categorical_crossentropy_name_the_fix(labels):
    with pytest.raises(ValueError) as info:
        losses.CategoricalCrossentropy()(labels, _probs((3, 4)))
    message = str(info.value)
    assert "to_categorical(y, num_classes=4)" in message and "SparseCategoricalCrossentropy" in message
    assert "(3, 4)" in message


def test_integer_one_hot_is_fine_and_labels_are_cast_without_promotion():
    p = cr.Variable(_probs((3, 4)).astype(np.float32))
    onehot_u8 = np.eye(4, dtype=np.uint8)[[0, 3, 1]]
    a = losses.CategoricalCrossentropy()(onehot_u8, p)
    b = losses.CategoricalCrossentropy()(onehot_u8.astype(np.float64), p)
    assert a.dtype == b.dtype == np.float32 and a.item() == b.item()
    (g,) = cr.grad(b, [p])
    assert g.dtype == np.float32
    s = losses.SparseCategoricalCrossentropy()(np.array([0, 3, 1], np.uint8), p)
    assert s.dtype == np.float32 and s.item() == pytest.approx(a.item(), rel=1e-6)
    m = losses.MeanSquaredError()(np.array([1, 2, 3], np.uint8), cr.Variable(np.zeros(3, np.float32)))
    assert m.dtype == np.float32


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        losses.BinaryCrossentropy()(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\(5,\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros(5, int), _probs((4, 3)))
    with pytest.raises(ValueError, match="one-hot"):
        losses.SparseCategoricalCrossentropy()(np.eye(3)[[0, 1]], _probs((2, 3)))


def test_labels_of_rank_one_against_a_single_output_are_per_sample():
    y = np.array([1.0, 0.0, 1.0, 1.0])
    p = np.array([[0.9], [0.2], [0.6], [0.4]])
    per_sample = losses.mean_squared_error(y, p)
    np.testing.assert_allclose(per_sample.numpy(), (y - p[:, 0]) ** 2)  # (4,), not a (4, 4) broadcast
    bce = losses.BinaryCrossentropy()(y, p)
    assert bce.item() == pytest.approx(np.mean(-(y * np.log(p[:, 0]) + (1 - y) * np.log(1 - p[:, 0]))))


def test_label_smoothing():
    p = _probs((N, C))
    smoothed = Y_ONEHOT * 0.8 + 0.2 / C
    ours = losses.CategoricalCrossentropy(label_smoothing=0.2, reduction="none")(Y_ONEHOT, p)
    np.testing.assert_allclose(ours.numpy(), -(smoothed * np.log(p)).sum(-1), rtol=1e-6)
    ours = losses.BinaryCrossentropy(label_smoothing=0.2, reduction="none")(Y_BIN, P_BIN)
    t = Y_BIN * 0.8 + 0.1
    np.testing.assert_allclose(ours.numpy(), -(t * np.log(P_BIN) + (1 - t) * np.log(1 - P_BIN)).mean(-1), rtol=1e-9)


# --- reductions and weights -------------------------------------------------------------------------------------------
def test_reductions_and_sample_weight():
    per_sample = ((P_REG - Y_REG) ** 2).mean(-1)
    w = RNG.random(N)
    assert losses.MeanSquaredError()(Y_REG, P_REG).item() == pytest.approx(per_sample.mean())
    assert losses.MeanSquaredError(reduction="sum")(Y_REG, P_REG).item() == pytest.approx(per_sample.sum())
    np.testing.assert_allclose(losses.MeanSquaredError(reduction=None)(Y_REG, P_REG).numpy(), per_sample)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(Y_REG, P_REG, w).numpy(), per_sample * w)
    assert losses.MeanSquaredError()(Y_REG, P_REG, w).item() == pytest.approx((per_sample * w).sum() / N)
    assert losses.MeanSquaredError()(Y_REG, P_REG, w[:, None]).item() == pytest.approx((per_sample * w).sum() / N)
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(Y_REG, P_REG, w).item() == \
        pytest.approx((per_sample * w).sum() / w.sum())
    assert losses.MeanSquaredError()(Y_REG, P_REG, 2.0).item() == pytest.approx(2 * per_sample.mean())
    with pytest.raises(ValueError, match="sample_weight"):
        losses.MeanSquaredError()(Y_REG, P_REG, np.ones(N + 1))
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_sample_weight_gradient():
    pred = cr.Variable(P_REG)
    w = RNG.random(N)
    (g,) = cr.grad(losses.MeanSquaredError()(Y_REG, pred, w), [pred])
    np.testing.assert_allclose(g.numpy(), 2 * (P_REG - Y_REG) / 3 * w[:, None] / N, rtol=1e-9)


def test_ignore_class():
    p = _probs((5, 3))
    y = np.array([0, 2, -1, 1, -1])
    ours = losses.SparseCategoricalCrossentropy(ignore_class=-1)(y, p).item()
    keep = y != -1
    expected = -np.log(p[keep, y[keep]]).sum() / (keep.sum() + 1e-7)
    assert ours == pytest.approx(expected, rel=1e-6)


# --- objects, names, configs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("huber", losses.Huber), ("binary_crossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy), ("kld", losses.KLDivergence)])
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_get_configs_and_custom_functions():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, name="cce")
    config = loss.get_config()
    assert config["from_logits"] is True and config["label_smoothing"] == 0.1 and config["name"] == "cce"
    again = losses.get(losses.serialize(loss))
    assert type(again) is losses.CategoricalCrossentropy and again.get_config() == config
    assert losses.Huber(2.0).get_config()["delta"] == 2.0 and losses.Huber().name == "huber_loss"
    assert type(losses.get(losses.mean_absolute_error)) is losses.MeanAbsoluteError
    assert losses.get(loss) is loss and losses.get(None) is None

    def my_loss(y_true, y_pred):
        return cr.reduce_mean(cr.abs(y_pred - y_true) * 3.0, axis=-1)
    wrapped = losses.get(my_loss)
    assert wrapped.name == "my_loss"
    assert wrapped(np.zeros((2, 2)), np.ones((2, 2))).item() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="Could not interpret loss"):
        losses.get("mean_squared_errr")
    with pytest.raises(TypeError):
        losses.BinaryCrossentropy(form_logits=True)


def test_loss_subclass():
    class Scaled(losses.Loss):
        def call(self, y_true, y_pred):
            return cr.reduce_sum((y_pred - y_true) * (y_pred - y_true), axis=-1) * 0.5

    loss = Scaled(reduction="sum")
    assert loss.name == "scaled"
    assert loss(np.zeros((3, 2), np.uint8), np.ones((3, 2), np.float32)).item() == pytest.approx(3.0)


@pytest.mark.parametrize("name", sorted(losses.ALL_LOSSES))
def test_float32_predictions_give_float32_losses_and_gradients(name):
    cls = losses.ALL_LOSSES[name]
    if cls in (losses.SparseCategoricalCrossentropy, losses.Circle,  # (Circle: labels of embeddings)
               losses.CategoricalGeneralizedCrossEntropy):
        y_true = Y_IDS
    elif cls is losses.CategoricalCrossentropy:
        y_true = Y_ONEHOT  # float64 labels
    else:
        y_true = Y_BIN[:, :1].repeat(C, axis=1)
    shape = (N, C)
    if cls is losses.CTC:  # label sequences padded with the blank 0, outputs over 4 time steps
        y_true, shape = np.arange(2 * N).reshape(N, 2) % (C - 1) + 1, (N, 4, C)
    pred = cr.Variable(_probs(shape).astype(np.float32))
    for loss in (cls(), cls(reduction="sum")):
        value = loss(y_true, pred, sample_weight=np.linspace(0.5, 1.5, N))  # float64 weights
        (g,) = cr.grad(value, [pred])
        assert value.dtype == np.float32 and g.dtype == np.float32 and np.isfinite(g.numpy()).all()
