"""keras.activations celu, glu, hard_shrink, hard_tanh, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax,
squareplus, tanh_shrink, threshold: values and gradients against PyTorch (its functions, or the formula in torch
ops where it has none), sparsemax's gradient by finite differences, names through get/serialize and a saved model."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras
from chainrule.engine.gradcheck import check_gradients

X = np.random.default_rng(0).normal(scale=1.5, size=(4, 6))


def torch_sparsemax(z, dim=-1):
    z_sorted, _ = torch.sort(z, dim=dim, descending=True)
    shape = [1] * z.ndim
    shape[dim] = z.shape[dim]
    ks = torch.arange(1, z.shape[dim] + 1, dtype=z.dtype).reshape(shape)
    cumulative = z_sorted.cumsum(dim)
    k = (1 + ks * z_sorted > cumulative).sum(dim=dim, keepdim=True)
    tau = (cumulative.gather(dim, k - 1) - 1) / k
    return torch.clamp(z - tau, min=0)


CASES = {
    # (torch's F.celu takes alpha in single precision: its float64 gradients are off by ~1e-8)
    "celu": (lambda x: keras.activations.celu(x, alpha=0.7),
             lambda t: torch.clamp(t, min=0) + 0.7 * torch.expm1(torch.clamp(t, max=0) / 0.7)),
    "glu": (keras.activations.glu, F.glu),
    "hard_shrink": (lambda x: keras.activations.hard_shrink(x, 0.8), lambda t: F.hardshrink(t, 0.8)),
    "hard_tanh": (keras.activations.hard_tanh, F.hardtanh),
    "soft_shrink": (lambda x: keras.activations.soft_shrink(x, 0.3), lambda t: F.softshrink(t, 0.3)),
    "sparse_plus": (keras.activations.sparse_plus,
                    lambda t: torch.where(t <= -1, 0.0, torch.where(t < 1, (t + 1) ** 2 / 4, t))),
    "sparse_sigmoid": (keras.activations.sparse_sigmoid, lambda t: torch.clamp((t + 1) / 2, 0, 1)),
    "sparsemax": (keras.activations.sparsemax, torch_sparsemax),
    "sparsemax_axis0": (lambda x: keras.activations.sparsemax(x, axis=0), lambda t: torch_sparsemax(t, 0)),
    "squareplus": (lambda x: keras.activations.squareplus(x, 2.0), lambda t: (t + torch.sqrt(t * t + 2.0)) / 2),
    "tanh_shrink": (keras.activations.tanh_shrink, F.tanhshrink),
    "threshold": (lambda x: keras.activations.threshold(x, 0.5, -2.0), lambda t: F.threshold(t, 0.5, -2.0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    ours, theirs = CASES[name]
    x = cr.Variable(X)
    cotangent = np.random.default_rng(1).normal(size=ours(X).shape)
    with cr.GradientTape() as tape:
        y = ours(x)
        loss = cr.reduce_sum(y * cotangent)
    gx = tape.gradient(loss, x)
    t = torch.tensor(X, requires_grad=True)
    ty = theirs(t)
    (ty * torch.tensor(cotangent)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_sparsemax_gradient_by_finite_differences_and_simplex():
    check_gradients(lambda x: keras.ops.sparsemax(x), X + np.arange(6) * 0.01)
    check_gradients(lambda x: keras.ops.nn.sparsemax(x, axis=0), X)
    y = keras.ops.sparsemax(X).numpy()
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    assert (y >= 0).all() and (y == 0).any()


@pytest.mark.parametrize("name", ["celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus",
                                  "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink"])
def test_names_round_trip_through_a_saved_model(name, tmp_path):
    fn = keras.activations.get(name)
    assert keras.activations.serialize(fn) == name
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation=name)])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_symbolic_inputs_and_errors():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.activations.sparsemax(inputs))
    np.testing.assert_allclose(model(X.astype("float32")).numpy().sum(axis=-1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="divisible by 2"):
        keras.activations.glu(np.ones((2, 3)))
