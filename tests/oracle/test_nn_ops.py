"""dropout, batch normalization and the fused losses: finite differences, PyTorch, stability, second order, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.ops.nn import (batch_norm_infer, batch_norm_train, dropout, mean_squared_error,
                              sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits,
                              sparse_softmax_cross_entropy_with_logits)
from chainrule.engine.gradcheck import check_gradients


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def soft_labels(*shape, seed=1):
    """Non-negative labels whose rows do not sum to 1 (the exact gradient must not assume they do)."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape)


def check_second_order(cr_fn, torch_fn, *arrays, seed=0, rtol=1e-9, atol=1e-11):
    """Differentiate <first-order gradients, v> again (create_graph) in both frameworks and compare."""
    ours = [cr.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = cr_fn(*ours), torch_fn(*theirs)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    first = cr.grad(out, ours, grad_outputs=cr.Tensor(g), create_graph=True, allow_unused=True)
    ref_first = torch.autograd.grad(ref, theirs, grad_outputs=torch.tensor(g), create_graph=True, allow_unused=True)
    vs = [np.random.default_rng(seed + 1 + i).standard_normal(a.shape) for i, a in enumerate(arrays)]
    ours_total = sum(((d * cr.Tensor(v)).sum() for d, v in zip(first, vs) if d is not None), cr.Tensor(0.0))
    ref_total = sum((d * torch.tensor(v)).sum() for d, v in zip(ref_first, vs) if d is not None)
    second = cr.grad(ours_total, ours, allow_unused=True)
    ref_second = torch.autograd.grad(ref_total, theirs, allow_unused=True)
    for i, (mine, want) in enumerate(zip(second, ref_second)):
        mine = np.zeros(arrays[i].shape) if mine is None else mine.numpy()
        want = np.zeros(arrays[i].shape) if want is None else want.detach().numpy()
        np.testing.assert_allclose(mine, want, rtol=rtol, atol=atol, err_msg=f"second derivative, input {i}")


# --- dropout ----------------------------------------------------------------------------------------------------------
def first_dropout(x, rate, seed, noise_shape=None):
    """Dropout with the first mask of this op seed's sequence: the same mask on every call (the checks below call
    the function many times; an op seed alone gives a new mask per call, as in TensorFlow)."""
    cr.backend.set_seed(0)  # restarts the op seeds' sequences
    return dropout(x, rate, noise_shape=noise_shape, seed=seed)


def mask_of(shape, rate, seed, noise_shape=None):
    """The kept-and-scaled first mask dropout draws with this seed (read back by dropping a tensor of ones)."""
    return first_dropout(np.ones(shape), rate, seed, noise_shape).numpy()


@covers("dropout", kind="fd")
@pytest.mark.parametrize("shape,noise_shape", [((4, 5), None), ((3, 4, 2), (3, 1, 2)), ((6,), None)])
def test_dropout_finite_differences(shape, noise_shape):
    check_gradients(lambda x: first_dropout(x, 0.4, 7, noise_shape), rand(*shape))


@covers("dropout", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_matches_torch_with_the_same_mask(dtype):
    rate, seed = 0.3, 11
    keep = mask_of((8, 6), rate, seed) != 0
    compare_with_torch(lambda x: first_dropout(x, rate, seed),
                       lambda x: x * torch.tensor(keep, dtype=x.dtype) / (1 - rate), rand(8, 6), dtype=dtype)


def test_dropout_drops_the_rate_and_keeps_the_mean():
    cr.backend.set_seed(0)
    y = dropout(np.ones((200, 500), np.float32), 0.25).numpy()
    assert y.dtype == np.float32
    assert abs((y == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02


def test_dropout_noise_shape_shares_the_mask():
    mask = mask_of((5, 4, 3), 0.5, seed=2, noise_shape=(5, 1, None))
    assert (mask == mask[:, :1, :]).all()
    assert 0 < (mask == 0).mean() < 1


def test_dropout_is_reproducible_from_the_global_seed():
    cr.backend.set_seed(123)
    a = dropout(np.ones(100), 0.5).numpy()
    cr.backend.set_seed(123)
    b = dropout(np.ones(100), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


def test_an_op_seed_gives_a_new_mask_per_call_and_the_same_sequence_per_run():
    cr.backend.set_seed(5)
    first = [dropout(np.ones(64), 0.5, seed=3).numpy() for _ in range(2)]
    assert (first[0] != first[1]).any()  # TensorFlow: the same op seed draws A1, then A2
    cr.backend.set_seed(5)
    again = [dropout(np.ones(64), 0.5, seed=3).numpy() for _ in range(2)]
    np.testing.assert_array_equal(first, again)


def test_dropout_off_returns_its_input():
    x = cr.Tensor(rand(3, 4), requires_grad=True)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x


def test_dropout_errors():
    for rate in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\)"):
            dropout(rand(3), rate)
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(2, 3\).*\(4, 3\)"):
        dropout(rand(4, 3), 0.5, noise_shape=(2, 3))
    with pytest.raises(TypeError, match="dropout: x must be a floating-point"):
        dropout(np.arange(4), 0.5)


# --- batch normalization ----------------------------------------------------------------------------------------------
def torch_bn_train(x, gamma, beta, axis=-1, eps=1e-3):
    """F.batch_norm(training=True) on x moved to torch's channels-second layout, and moved back."""
    axis %= x.ndim
    perm = [0, axis] + [i for i in range(1, x.ndim) if i != axis] if axis != 0 else list(range(x.ndim))
    back = list(np.argsort(perm))
    y = F.batch_norm(x.permute(*perm), None, None, gamma, beta, training=True, eps=eps)
    return y.permute(*back)


@covers("batch_norm_train", kind="fd")
@pytest.mark.parametrize("shape,axis", [((6, 3), -1), ((2, 3, 4, 3), -1), ((3, 4, 2, 2), 1)])
def test_batch_norm_train_finite_differences(shape, axis):
    c = shape[axis]
    check_gradients(lambda x, g, b: batch_norm_train(x, g, b, axis=axis)[0],
                    rand(*shape), 1 + 0.3 * rand(c, seed=1), rand(c, seed=2))


@covers("batch_norm_train", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", [((8, 3), -1), ((4, 5, 5, 3), -1), ((4, 3, 5, 5), 1)])
def test_batch_norm_train_matches_torch(shape, axis, dtype):
    c = shape[axis]
    x, gamma, beta = 2 + 3 * rand(*shape), 1 + 0.3 * rand(c, seed=1), rand(c, seed=2)
    compare_with_torch(lambda x, g, b: batch_norm_train(x, g, b, axis=axis)[0],
                       lambda x, g, b: torch_bn_train(x, g, b, axis=axis), x, gamma, beta, dtype=dtype)
    y, mean, var = batch_norm_train(x.astype(dtype), gamma.astype(dtype), beta.astype(dtype), axis=axis)
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    tol = dict(rtol=1e-10) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    assert mean.dtype == var.dtype == dtype and mean.shape == var.shape == (c,)
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=axes), **tol)
    np.testing.assert_allclose(var.numpy(), x.var(axis=axes), **tol)  # biased, as Keras uses for moving_variance
    assert not mean.requires_grad and not var.requires_grad


def test_batch_norm_train_without_scale_and_shift():
    x = rand(10, 4)
    y = batch_norm_train(x, epsilon=1e-5)[0]
    ref = F.batch_norm(torch.tensor(x), None, None, training=True, eps=1e-5)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x: batch_norm_train(x)[0], rand(5, 3))


def test_batch_norm_train_second_order_matches_torch():
    x, gamma, beta = rand(6, 3), 1 + 0.3 * rand(3, seed=1), rand(3, seed=2)
    check_second_order(lambda x, g, b: batch_norm_train(x, g, b)[0], lambda x, g, b: torch_bn_train(x, g, b),
                       x, gamma, beta)
    x4 = rand(2, 3, 2, 4)
    check_second_order(lambda x, g, b: batch_norm_train(x, g, b, axis=1)[0],
                       lambda x, g, b: torch_bn_train(x, g, b, axis=1), x4, gamma, beta)


def torch_bn_infer(x, gamma, beta, mean, var, eps=1e-3):
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


@covers("batch_norm_infer", kind="fd")
@pytest.mark.parametrize("shape,axis", [((5, 3), -1), ((2, 3, 2, 4), 1)])
def test_batch_norm_infer_finite_differences(shape, axis):
    c = shape[axis]
    check_gradients(lambda x, g, b, m, v: batch_norm_infer(x, g, b, m, v, axis=axis),
                    rand(*shape), rand(c, seed=1), rand(c, seed=2), rand(c, seed=3), 0.5 + soft_labels(c))


@covers("batch_norm_infer", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_infer_matches_torch(dtype):
    x, gamma, beta, mean, var = rand(4, 5, 5, 3), rand(3, seed=1), rand(3, seed=2), rand(3, seed=3), soft_labels(3)
    compare_with_torch(batch_norm_infer, torch_bn_infer, x, gamma, beta, mean, var, dtype=dtype)
    # and torch's own inference-mode kernel, channels-second
    ref = F.batch_norm(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(mean), torch.tensor(var),
                       torch.tensor(gamma), torch.tensor(beta), training=False, eps=1e-3).permute(0, 2, 3, 1)
    np.testing.assert_allclose(batch_norm_infer(x, gamma, beta, mean, var).numpy(), ref.numpy(), rtol=1e-10)
    no_affine = batch_norm_infer(x, None, None, mean, var, epsilon=1e-5).numpy()
    np.testing.assert_allclose(no_affine, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"batch_norm_train: gamma must have shape \(3,\).*\(4, 3\).*\(4,\)"):
        batch_norm_train(rand(4, 3), np.ones(4))
    with pytest.raises(ValueError, match="batch_norm_infer: axis 2 is out of range"):
        batch_norm_infer(rand(4, 3), None, None, np.zeros(3), np.ones(3), axis=2)
    with pytest.raises(TypeError, match="batch_norm_train: gamma has dtype float64 but x has float32"):
        batch_norm_train(rand(4, 3).astype(np.float32), cr.Tensor(np.ones(3)))


# --- softmax cross-entropy --------------------------------------------------------------------------------------------
def torch_softmax_xent(labels, logits, axis=-1):
    return -(labels * F.log_softmax(logits, dim=axis)).sum(dim=axis)


@covers("softmax_cross_entropy_with_logits", kind="fd")
@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((2, 3, 4), -1), ((2, 3, 4), 1), ((5,), 0)])
def test_softmax_xent_finite_differences(shape, axis):
    check_gradients(lambda z, x: softmax_cross_entropy_with_logits(z, x, axis=axis), soft_labels(*shape), rand(*shape))


@covers("softmax_cross_entropy_with_logits", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", [((6, 5), -1), ((2, 3, 4), 1)])
def test_softmax_xent_matches_torch(shape, axis, dtype):
    compare_with_torch(lambda z, x: softmax_cross_entropy_with_logits(z, x, axis=axis),
                       lambda z, x: torch_softmax_xent(z, x, axis), soft_labels(*shape), 3 * rand(*shape), dtype=dtype)


def test_softmax_xent_matches_torch_cross_entropy_with_probabilities():
    labels = np.random.default_rng(3).dirichlet(np.ones(7), size=5)
    compare_with_torch(softmax_cross_entropy_with_logits, lambda z, x: F.cross_entropy(x, z, reduction="none"),
                       labels, rand(5, 7))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_xent_is_stable_at_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, -1e4]])
    labels = np.array([[1.0, 0, 0], [0.2, 0.3, 0.5], [0, 0, 1], [0.5, 0.5, 0]])
    out = compare_with_torch(softmax_cross_entropy_with_logits, torch_softmax_xent, labels, logits, dtype=dtype)
    assert np.isfinite(out.numpy()).all()
    logits_t = cr.Tensor(logits.astype(dtype), requires_grad=True)
    (g,) = cr.grad(softmax_cross_entropy_with_logits(labels, logits_t).sum(), [logits_t])
    assert np.isfinite(g.numpy()).all() and g.dtype == dtype


def test_softmax_xent_second_order_matches_torch():
    check_second_order(softmax_cross_entropy_with_logits, torch_softmax_xent, soft_labels(4, 5), rand(4, 5))
    check_second_order(lambda z, x: softmax_cross_entropy_with_logits(z, x, axis=0),
                       lambda z, x: torch_softmax_xent(z, x, 0), soft_labels(3, 2), rand(3, 2))


def test_softmax_xent_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"softmax_cross_entropy_with_logits: .*labels \(4, 3\) and logits \(4, 5\)"):
        softmax_cross_entropy_with_logits(np.zeros((4, 3)), rand(4, 5))
    with pytest.raises(TypeError, match="softmax_cross_entropy_with_logits: logits must be a floating-point"):
        softmax_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 3), np.int64))


def test_softmax_xent_casts_labels_to_the_logits_dtype():
    out = softmax_cross_entropy_with_logits(np.eye(3, dtype=np.int64), rand(3, 3).astype(np.float32))
    assert out.dtype == np.float32


# --- sparse softmax cross-entropy -------------------------------------------------------------------------------------
def torch_sparse_xent(logits, labels):
    classes = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, classes), labels.reshape(-1), reduction="none").reshape(labels.shape)


@covers("sparse_softmax_cross_entropy_with_logits", kind="fd")
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (6,)])
def test_sparse_xent_finite_differences(shape):
    labels = np.random.default_rng(5).integers(0, shape[-1], shape[:-1])
    check_gradients(lambda x, z: sparse_softmax_cross_entropy_with_logits(z, x), rand(*shape), labels)


@covers("sparse_softmax_cross_entropy_with_logits", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(8, 10), (2, 3, 4)])
def test_sparse_xent_matches_torch(shape, dtype):
    labels = np.random.default_rng(5).integers(0, shape[-1], shape[:-1])
    compare_with_torch(lambda x, z: sparse_softmax_cross_entropy_with_logits(z, x), torch_sparse_xent,
                       3 * rand(*shape), labels, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_xent_is_stable_at_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]])
    out = compare_with_torch(lambda x, z: sparse_softmax_cross_entropy_with_logits(z, x), torch_sparse_xent,
                             logits, np.array([1, 2, 0]), dtype=dtype)
    np.testing.assert_allclose(out.numpy(), [2e4, 0.0, np.log(2)], rtol=1e-6)


def test_sparse_xent_second_order_matches_torch():
    labels = np.array([0, 3, 1, 3])
    check_second_order(lambda x: sparse_softmax_cross_entropy_with_logits(labels, x),
                       lambda x: torch_sparse_xent(x, torch.tensor(labels)), rand(4, 4))


def test_sparse_xent_errors():
    name = "sparse_softmax_cross_entropy_with_logits"
    with pytest.raises(TypeError, match=f"{name}: labels must be integer class indices, got dtype float"):
        sparse_softmax_cross_entropy_with_logits(np.array([0.0, 1.0]), rand(2, 3))
    with pytest.raises(ValueError, match=rf"{name}: labels must be in \[0, 3\).*from 0 to 3"):
        sparse_softmax_cross_entropy_with_logits(np.array([0, 3]), rand(2, 3))
    with pytest.raises(ValueError, match=rf"{name}: labels must be in \[0, 3\).*from -1 to 1"):
        sparse_softmax_cross_entropy_with_logits(np.array([-1, 1]), rand(2, 3))
    with pytest.raises(ValueError, match=rf"{name}: .*labels \(2, 1\) and logits \(2, 3\)"):
        sparse_softmax_cross_entropy_with_logits(np.array([[0], [1]]), rand(2, 3))


# --- sigmoid cross-entropy --------------------------------------------------------------------------------------------
def torch_sigmoid_xent(labels, logits):
    return F.binary_cross_entropy_with_logits(logits, labels, reduction="none")


@covers("sigmoid_cross_entropy_with_logits", kind="fd")
@pytest.mark.parametrize("shape", [(4, 5), (7,), (2, 3, 2)])
def test_sigmoid_xent_finite_differences(shape):
    check_gradients(sigmoid_cross_entropy_with_logits, soft_labels(*shape), 3 * rand(*shape))


@covers("sigmoid_cross_entropy_with_logits", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_xent_matches_torch(dtype):
    compare_with_torch(sigmoid_cross_entropy_with_logits, torch_sigmoid_xent, soft_labels(6, 4), 4 * rand(6, 4),
                       dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_xent_is_stable_at_huge_logits(dtype):
    logits = np.array([1e4, -1e4, 1e4, -1e4, 0.0])
    labels = np.array([1.0, 0.0, 0.0, 1.0, 0.3])
    out = compare_with_torch(sigmoid_cross_entropy_with_logits, torch_sigmoid_xent, labels, logits, dtype=dtype)
    np.testing.assert_allclose(out.numpy(), [0.0, 0.0, 1e4, 1e4, np.log(2)], rtol=1e-6)


def test_sigmoid_xent_second_order_matches_torch():
    check_second_order(sigmoid_cross_entropy_with_logits, torch_sigmoid_xent, soft_labels(3, 4), 2 * rand(3, 4))


def test_sigmoid_xent_shape_mismatch():
    with pytest.raises(ValueError, match=r"sigmoid_cross_entropy_with_logits: .*labels \(3,\) and logits \(3, 1\)"):
        sigmoid_cross_entropy_with_logits(np.zeros(3), rand(3, 1))


# --- mean squared error -----------------------------------------------------------------------------------------------
def torch_mse(y_true, y_pred):
    return ((y_pred - y_true) ** 2).mean(dim=-1)


@covers("mean_squared_error", kind="fd")
@pytest.mark.parametrize("true_shape,pred_shape", [((4, 3), (4, 3)), ((3,), (4, 3)), ((4, 1), (4, 3)),
                                                   ((2, 1, 3), (4, 3)), ((5,), (5,))])
def test_mse_finite_differences(true_shape, pred_shape):
    check_gradients(mean_squared_error, rand(*true_shape, seed=1), rand(*pred_shape))


@covers("mean_squared_error", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mse_matches_torch(dtype):
    compare_with_torch(mean_squared_error, lambda t, p: F.mse_loss(p, t, reduction="none").mean(-1),
                       rand(5, 4, seed=1), rand(5, 4), dtype=dtype)
    compare_with_torch(mean_squared_error, torch_mse, rand(2, 1, 4, seed=1), rand(3, 4), dtype=dtype)


def test_mse_second_order_matches_torch():
    check_second_order(mean_squared_error, torch_mse, rand(4, 1, seed=1), rand(4, 3))


def test_mse_casts_y_true_and_checks_shapes():
    out = mean_squared_error(np.array([[1, 0]]), rand(1, 2).astype(np.float32))
    assert out.dtype == np.float32 and out.shape == (1,)
    with pytest.raises(ValueError, match=r"mean_squared_error: y_true \(3, 2\) and y_pred \(3, 4\)"):
        mean_squared_error(rand(3, 2), rand(3, 4))
