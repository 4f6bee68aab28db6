"""Second-order gradients (create_graph=True) against torch.autograd.grad, Hessian-vector products and a
gradient penalty. (conv2d and softmax cross-entropy second order live with their own ops' tests.)"""
import numpy as np
import pytest
import torch
from helpers import TOLERANCES

import chainrule as cr

TOL = TOLERANCES[np.float64]


def _assert_close(ours, theirs, what):
    for i, (mine, ref) in enumerate(zip(ours, theirs)):
        assert (mine is None) == (ref is None), f"{what} {i}: one side is None"
        if mine is not None:
            np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), **TOL, err_msg=f"{what} {i} differs")


def assert_second_order_matches_torch(cr_fn, torch_fn, *arrays, seed=0):
    """Differentiate <grad f(x)·v, w> once more, in chainrule and in torch, and compare both levels."""
    rng = np.random.default_rng(seed)
    ours = [cr.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = cr_fn(*ours), torch_fn(*theirs)
    v = rng.standard_normal(out.shape)
    grads = cr.grad(out, ours, grad_outputs=cr.Tensor(v), create_graph=True)
    ref_grads = torch.autograd.grad(ref, theirs, torch.tensor(v), create_graph=True)
    _assert_close(grads, ref_grads, "first-order gradient")
    assert all(g.requires_grad for g in grads), "create_graph=True must give differentiable gradients"
    weights = [rng.standard_normal(a.shape) for a in arrays]
    s = sum(cr.reduce_sum(g * w) for g, w in zip(grads, weights))
    ref_s = sum((g * torch.tensor(w)).sum() for g, w in zip(ref_grads, weights))
    second = cr.grad(s, ours, allow_unused=True)
    ref_second = torch.autograd.grad(ref_s, theirs, allow_unused=True)
    _assert_close(second, ref_second, "second-order gradient")


def _square(t):
    return t * t


R = np.random.default_rng(42)
POS = R.uniform(0.5, 2.0, (3, 4))
A, B, C = R.standard_normal((3, 4)), R.standard_normal((4, 2)), R.standard_normal((4,))
# id -> (chainrule fn, torch fn, inputs)
SECOND_ORDER = {
    "tanh": (cr.tanh, torch.tanh, [A]),
    "mul": (cr.multiply, torch.mul, [A, A[::-1].copy()]),
    "mul broadcast": (cr.multiply, torch.mul, [A, C]),
    "div": (cr.divide, torch.div, [A, POS]),
    "pow": (cr.pow, torch.pow, [POS, A]),
    "matmul": (cr.matmul, torch.matmul, [A, B]),
    "matmul vector": (cr.matmul, torch.matmul, [C, B]),
    "softmax": (cr.softmax, lambda t: torch.softmax(t, -1), [A]),
    "softmax axis 0": (lambda t: cr.softmax(t, 0), lambda t: torch.softmax(t, 0), [A]),
    "log_softmax": (cr.ops.log_softmax, lambda t: torch.log_softmax(t, -1), [A]),
    "exp": (cr.exp, torch.exp, [A]),
    "log": (cr.log, torch.log, [POS]),
    "sqrt": (cr.sqrt, torch.sqrt, [POS]),
    "sigmoid": (cr.sigmoid, torch.sigmoid, [A]),
    "softplus": (cr.ops.softplus, torch.nn.functional.softplus, [A]),
    "elu": (cr.ops.elu, torch.nn.functional.elu, [A]),
    "gelu": (cr.ops.gelu, torch.nn.functional.gelu, [A]),
    "erf": (cr.erf, torch.erf, [A]),
    "sum": (lambda t: _square(cr.reduce_sum(t, 1)), lambda t: _square(t.sum(1)), [A]),
    "mean": (lambda t: _square(cr.reduce_mean(t, 0, keepdims=True)), lambda t: _square(t.mean(0, keepdim=True)), [A]),
    "var": (lambda t: cr.reduce_variance(t, 1), lambda t: t.var(1, correction=0), [A]),
    "logsumexp": (lambda t: cr.reduce_logsumexp(t, 0), lambda t: t.logsumexp(0), [A]),
    "max": (lambda t: _square(cr.reduce_max(t, 1)), lambda t: _square(t.amax(1)), [A]),
    "getitem": (lambda t: t[[0, 2, 2]] * t[1:2], lambda t: t[[0, 2, 2]] * t[1:2], [A]),
    "getitem mask": (lambda t: _square(t[A > 0]), lambda t: _square(t[torch.tensor(A > 0)]), [A]),
    "reshape transpose": (lambda t: _square(cr.transpose(cr.reshape(t, (4, 3)))),
                          lambda t: _square(t.reshape(4, 3).T), [A]),
    "concat broadcast_to": (lambda a, c: _square(cr.concat([a, cr.broadcast_to(c, (2, 4))], 0)),
                            lambda a, c: _square(torch.cat([a, c.expand(2, 4)], 0)), [A, C]),
    "where clip": (lambda t: cr.where(A > 0, _square(t), cr.clip(t, -0.5, 0.5) * t),
                   lambda t: torch.where(torch.tensor(A > 0), _square(t), torch.clamp(t, -0.5, 0.5) * t), [A]),
    "maximum": (lambda a, b: _square(cr.maximum(a, b)), lambda a, b: _square(torch.maximum(a, b)), [A, A[::-1] + 0.1]),
}


@pytest.mark.parametrize("case", sorted(SECOND_ORDER))
def test_second_order_matches_torch(case):
    cr_fn, torch_fn, arrays = SECOND_ORDER[case]
    assert_second_order_matches_torch(cr_fn, torch_fn, *arrays)


def test_third_order_of_a_cube():
    x = cr.Tensor([2.0, -1.0], dtype=np.float64, requires_grad=True)
    (d1,) = cr.grad(cr.reduce_sum(x * x * x), [x], create_graph=True)
    (d2,) = cr.grad(cr.reduce_sum(d1), [x], create_graph=True)
    (d3,) = cr.grad(cr.reduce_sum(d2), [x])
    np.testing.assert_allclose([d1.numpy(), d2.numpy(), d3.numpy()], [[12.0, 3.0], [12.0, -6.0], [6.0, 6.0]])


def test_gradient_without_create_graph_is_a_constant():
    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    (dx,) = cr.grad(cr.reduce_sum(cr.tanh(x)), [x])
    assert not dx.requires_grad and dx.is_leaf


# a small model: loss(W, b) = mean(logsumexp(tanh(X W + b), axis=1)) + 0.1 |W|²
X = R.standard_normal((5, 3))


def _loss(W, b, lib):
    if lib is cr:
        return cr.reduce_mean(cr.reduce_logsumexp(cr.tanh(cr.matmul(X, W) + b), 1)) + 0.1 * cr.reduce_sum(W * W)
    return torch.logsumexp(torch.tanh(torch.tensor(X) @ W + b), 1).mean() + 0.1 * (W * W).sum()


def _hvp(W, b, vW, vb):
    params = [cr.Tensor(W, requires_grad=True), cr.Tensor(b, requires_grad=True)]
    gW, gb = cr.grad(_loss(*params, cr), params, create_graph=True)
    return cr.grad(cr.reduce_sum(gW * vW) + cr.reduce_sum(gb * vb), params)


def test_hessian_vector_product_matches_torch_hessian_and_finite_differences():
    W, b = R.standard_normal((3, 4)), R.standard_normal(4)
    vW, vb = R.standard_normal((3, 4)), R.standard_normal(4)
    hW, hb = (h.numpy() for h in _hvp(W, b, vW, vb))
    ours = np.concatenate([hW.ravel(), hb])

    def flat_loss(theta):
        return _loss(theta[:12].reshape(3, 4), theta[12:], torch)
    theta = torch.tensor(np.concatenate([W.ravel(), b]))
    hessian = torch.autograd.functional.hessian(flat_loss, theta).numpy()
    v = np.concatenate([vW.ravel(), vb])
    np.testing.assert_allclose(ours, hessian @ v, **TOL)

    def gradient(theta):
        params = [cr.Tensor(theta[:12].reshape(3, 4), requires_grad=True), cr.Tensor(theta[12:], requires_grad=True)]
        return np.concatenate([g.numpy().ravel() for g in cr.grad(_loss(*params, cr), params)])
    theta, eps = theta.numpy(), 1e-6
    numeric = (gradient(theta + eps * v) - gradient(theta - eps * v)) / (2 * eps)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-8)


def _critic(x, W1, w2, lib):
    hidden = cr.tanh(cr.matmul(x, W1)) if lib is cr else torch.tanh(x @ W1)
    return cr.matmul(hidden, w2) if lib is cr else hidden @ w2


def test_gradient_penalty_matches_torch():
    """WGAN-GP: penalty = mean((|d critic / d x| - 1)²), differentiated with respect to the critic's weights."""
    x, W1, w2 = R.standard_normal((4, 3)), R.standard_normal((3, 5)), R.standard_normal(5)
    ours = [cr.Tensor(a, requires_grad=True) for a in (x, W1, w2)]
    (dx,) = cr.grad(_critic(*ours, cr), [ours[0]], grad_outputs=np.ones(4), create_graph=True)
    norm = cr.sqrt(cr.reduce_sum(dx * dx, axis=1))
    penalty = cr.reduce_mean((norm - 1.0) ** 2)
    grads = cr.grad(penalty, ours[1:])

    theirs = [torch.tensor(a, requires_grad=True) for a in (x, W1, w2)]
    (tdx,) = torch.autograd.grad(_critic(*theirs, torch), [theirs[0]], torch.ones(4, dtype=torch.float64),
                                 create_graph=True)
    ref_penalty = ((tdx.norm(dim=1) - 1) ** 2).mean()
    np.testing.assert_allclose(penalty.numpy(), ref_penalty.detach().numpy(), **TOL)
    _assert_close(grads, torch.autograd.grad(ref_penalty, theirs[1:]), "penalty gradient")


def test_gradient_through_a_differentiable_seed():
    """grad_outputs that require grad stay in the graph (the double-backward trick for forward-mode products)."""
    x = cr.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    u = cr.Tensor(np.zeros(3), requires_grad=True)
    (vjp,) = cr.grad(cr.tanh(x), [x], grad_outputs=u, create_graph=True)
    (jvp,) = cr.grad(cr.reduce_sum(vjp * np.array([1.0, -1.0, 0.5])), [u])
    np.testing.assert_allclose(jvp.numpy(), (1 - np.tanh([1.0, 2.0, 3.0]) ** 2) * [1.0, -1.0, 0.5], **TOL)
