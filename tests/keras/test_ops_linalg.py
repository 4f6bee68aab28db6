"""keras.ops.linalg (and the same names at keras.ops' top level): values against NumPy and SciPy, gradients
against finite differences and PyTorch, Keras's dtypes and errors, jvp against torch.func.jvp."""
import numpy as np
import pytest
import scipy.linalg as sl
import torch

import chainrule as cr
from chainrule import keras
from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

NAMES = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor", "matrix_power",
         "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]


def _random(shape, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _spd(shape, seed=0, dtype="float64"):
    x = _random(shape, seed)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def test_every_keras_linalg_name_is_in_both_namespaces():
    for name in NAMES:
        assert getattr(ops.linalg, name) is getattr(ops, name), name


def test_decompositions_match_numpy():
    a = _spd((2, 4, 4), dtype="float32")
    np.testing.assert_allclose(ops.linalg.cholesky(a).numpy(), np.linalg.cholesky(a), rtol=1e-5)
    np.testing.assert_allclose(ops.linalg.cholesky(a, upper=True).numpy(), np.linalg.cholesky(a, upper=True),
                               rtol=1e-5)
    w, v = ops.linalg.eigh(a)
    np.testing.assert_allclose(w.numpy(), np.linalg.eigh(a)[0], rtol=1e-5)
    np.testing.assert_allclose((v.numpy() * w.numpy()[..., None, :]) @ np.swapaxes(v.numpy(), -1, -2), a, rtol=1e-4)
    m = _random((5, 3))
    q, r = ops.linalg.qr(m)
    nq, nr = np.linalg.qr(m)
    np.testing.assert_allclose(q.numpy(), nq, atol=1e-12)
    np.testing.assert_allclose(r.numpy(), nr, atol=1e-12)
    u, s, vh = ops.linalg.svd(m)
    assert (u.shape, s.shape, vh.shape) == ((5, 5), (3,), (3, 3))
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(m, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.svd(m, compute_uv=False).numpy(), np.linalg.svd(m, compute_uv=False))
    assert ops.linalg.svd(m, full_matrices=False)[0].shape == (5, 3)
    g = _random((3, 3), 1)
    ew, ev = ops.linalg.eig(g)
    nw, nv = np.linalg.eig(g)
    np.testing.assert_allclose(ew.numpy(), nw)
    np.testing.assert_allclose(ev.numpy(), nv)
    assert not ew.requires_grad


@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 3), (2, 3, 4)], ids=str)
def test_lu_factor_matches_scipy(shape):
    x = _random(shape, 2)
    lu, piv = ops.linalg.lu_factor(x)
    flat = x.reshape((-1,) + shape[-2:])
    ref = [sl.lu_factor(m) for m in flat]
    np.testing.assert_allclose(lu.numpy().reshape(flat.shape), np.stack([r[0] for r in ref]), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(piv.numpy().reshape(len(flat), -1), np.stack([r[1] for r in ref]))
    assert piv.dtype == np.int32


def test_inverses_solves_and_determinants_match_numpy():
    a, b = _random((3, 3)) + 3 * np.eye(3), _random((3, 2), 1)
    np.testing.assert_allclose(ops.linalg.inv(a).numpy(), np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.det(a).numpy(), np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.solve(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.solve(a, b[:, 0]).numpy(), np.linalg.solve(a, b[:, 0]), rtol=1e-12)
    tri = np.tril(a)
    np.testing.assert_allclose(ops.linalg.solve_triangular(a, b, lower=True).numpy(),
                               sl.solve_triangular(tri, b, lower=True), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.solve_triangular(a, b[:, 1]).numpy(),
                               sl.solve_triangular(np.triu(a), b[:, 1]), rtol=1e-12)
    spd = _spd((3, 3), 3)
    lower = np.linalg.cholesky(spd)
    np.testing.assert_allclose(ops.linalg.cholesky_inverse(lower).numpy(), np.linalg.inv(spd), rtol=1e-10)
    np.testing.assert_allclose(ops.linalg.cholesky_inverse(lower.T, upper=True).numpy(), np.linalg.inv(spd),
                               rtol=1e-10)
    tall = _random((6, 3), 4)
    rhs = _random((6, 2), 5)
    np.testing.assert_allclose(ops.linalg.lstsq(tall, rhs).numpy(), np.linalg.lstsq(tall, rhs)[0], rtol=1e-10)
    np.testing.assert_allclose(ops.linalg.lstsq(tall, rhs[:, 0]).numpy(), np.linalg.lstsq(tall, rhs[:, 0])[0],
                               rtol=1e-10)
    deficient = np.outer([1.0, 2.0, 3.0], [1.0, 1.0])
    np.testing.assert_allclose(ops.linalg.lstsq(deficient, rhs[:3]).numpy(), np.linalg.lstsq(deficient, rhs[:3])[0],
                               rtol=1e-10)
    np.testing.assert_allclose(ops.linalg.pinv(tall).numpy(), np.linalg.pinv(tall), rtol=1e-10)
    assert ops.linalg.matrix_rank(deficient).numpy() == 1
    assert ops.linalg.matrix_rank(deficient).dtype == np.int32
    np.testing.assert_array_equal(ops.linalg.matrix_rank(np.stack([np.eye(3), deficient @ np.ones((2, 3))])).numpy(),
                                  [3, 1])
    assert ops.linalg.det(np.eye(2, dtype="int32")).dtype == np.float32  # integers become floatx


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5])
def test_matrix_power_matches_numpy_and_its_gradient(n):
    a = _random((2, 3, 3), 6) + 3 * np.eye(3)
    np.testing.assert_allclose(ops.linalg.matrix_power(a, n).numpy(), np.linalg.matrix_power(a, n), rtol=1e-10)
    if n != 0:
        check_gradients(lambda x: ops.linalg.matrix_power(x, n), a)


def test_matrix_power_keeps_integers():
    m = np.array([[1, 1], [1, 0]], "int32")
    out = ops.linalg.matrix_power(m, 10)
    assert out.dtype == np.int32 and out.numpy()[0, 1] == 55


@pytest.mark.parametrize("ord_", [2, -2, "nuc"])
def test_norm_orders_from_singular_values(ord_):
    x = _random((2, 4, 3), 7)
    np.testing.assert_allclose(ops.linalg.norm(x, ord=ord_, axis=(1, 2)).numpy(),
                               np.linalg.norm(x, ord=ord_, axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(ops.linalg.norm(x, ord=ord_, axis=(2, 0), keepdims=True).numpy(),
                               np.linalg.norm(x, ord=ord_, axis=(2, 0), keepdims=True), rtol=1e-12)
    check_gradients(lambda t: ops.linalg.norm(t, ord=ord_, axis=(1, 2)), x)


@pytest.mark.parametrize("name", ["cholesky_inverse", "lstsq", "solve_triangular", "pinv", "cholesky_upper"])
def test_composed_functions_match_torch_gradients(name):
    ours, theirs, args = {
        "cholesky_inverse": (ops.linalg.cholesky_inverse, torch.cholesky_inverse,
                             [np.tril(_random((3, 3), 8)) + 3 * np.eye(3)]),
        "lstsq": (ops.linalg.lstsq, lambda a, b: torch.linalg.pinv(a) @ b, [_random((5, 3), 9), _random((5, 2), 10)]),
        "solve_triangular": (lambda a, b: ops.linalg.solve_triangular(a, b, lower=True),
                             lambda a, b: torch.linalg.solve_triangular(a, b.unsqueeze(-1), upper=False).squeeze(-1),
                             [_random((3, 3), 11) + 3 * np.eye(3), _random((3,), 12)]),
        "pinv": (ops.linalg.pinv, torch.linalg.pinv, [_random((2, 3, 4), 13)]),
        "cholesky_upper": (lambda a: ops.linalg.cholesky(a, upper=True),
                           lambda a: torch.linalg.cholesky(a, upper=True), [_spd((3, 3), 14)]),
    }[name]
    xs = [cr.Tensor(a, requires_grad=True) for a in args]
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-12)
    w = _random(tuple(out.shape), 15)
    grads = cr.grad(cr.reduce_sum(out * cr.constant(w)), xs)
    tgrads = torch.autograd.grad((ref * torch.tensor(w)).sum(), ts)
    for g, tg in zip(grads, tgrads):
        g, tg = g.numpy(), tg.numpy()
        if name == "cholesky_inverse":  # only the factor's triangle is read here; PyTorch's formula reads it all
            g, tg = np.tril(g), np.tril(tg)
        np.testing.assert_allclose(g, tg, rtol=1e-8, atol=1e-10)


def test_jvp_matches_torch_func_jvp():
    a, b = _random((3, 3), 16), _random((3,), 17)
    ta, tb = _random((3, 3), 18), _random((3,), 19)

    def f(x, y):
        return ops.tanh(ops.matmul(x, y)), ops.sum(x * x)

    (out1, out2), (t1, t2) = ops.linalg.jvp(f, (a, b), (ta, tb))
    ref_out, ref_t = torch.func.jvp(lambda x, y: (torch.tanh(x @ y), (x * x).sum()),
                                    (torch.tensor(a), torch.tensor(b)), (torch.tensor(ta), torch.tensor(tb)))
    np.testing.assert_allclose(out1.numpy(), ref_out[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(t1.numpy(), ref_t[0].numpy(), rtol=1e-10)
    np.testing.assert_allclose(float(t2), float(ref_t[1]), rtol=1e-10)
    primal, tangent, aux = ops.linalg.jvp(lambda x: (ops.sin(x), "aux"), (np.float32(0.1),), (np.float32(0.2),),
                                          has_aux=True)
    assert aux == "aux"
    np.testing.assert_allclose(float(tangent), 0.2 * np.cos(0.1), rtol=1e-6)
    with pytest.raises(ValueError, match="tangent"):
        ops.linalg.jvp(ops.sin, (np.ones(3),), (np.ones(2),))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.linalg.inv(np.ones(3))
    with pytest.raises(ValueError, match="square"):
        ops.linalg.det(np.ones((2, 3)))
    with pytest.raises(ValueError, match="mode"):
        ops.linalg.qr(np.eye(2), mode="r")
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        ops.linalg.cholesky(-np.eye(2))
    with pytest.raises(TypeError, match="integer"):
        ops.linalg.matrix_power(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="rows"):
        ops.linalg.lstsq(np.ones((3, 2)), np.ones((4, 1)))


def test_functions_on_symbolic_inputs_make_layers():
    x = keras.Input((3, 3))
    y = ops.linalg.det(x)
    model = keras.Model(x, y)
    a = _random((2, 3, 3), 20, "float32")
    np.testing.assert_allclose(model(a).numpy(), np.linalg.det(a), rtol=1e-5)
