"""bessel_i0, bessel_i1, cbrt, erfinv, lgamma, digamma, gammainc, betainc and zeta (with polygamma built on it) (chainrule/ops/special.py) against finite differences and
PyTorch's torch.special (and SciPy for gammainc's values); second derivatives; errors."""
import numpy as np
import pytest
import scipy.special
import torch
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.special import (bessel_i0, bessel_i1, betainc, cbrt, digamma, erfinv, gammainc, lgamma, polygamma,
                                   zeta)

POINTS = np.array([-12.0, -3.5, -1.0, -0.2, 0.0, 0.3, 1.0, 2.5, 7.0, 25.0])
UNIT = np.array([-0.999, -0.9, -0.5, -0.1, 0.0, 0.05, 0.4, 0.8, 0.99])
CASES = {
    "bessel_i0": (bessel_i0, torch.special.i0, POINTS),
    "bessel_i1": (bessel_i1, torch.special.i1, POINTS),
    "cbrt": (cbrt, lambda t: t.sign() * t.abs().pow(1.0 / 3.0), np.array([-27.0, -2.0, -0.1, 0.3, 1.0, 8.0, 50.0])),
    "erfinv": (erfinv, torch.special.erfinv, UNIT),
    "lgamma": (lgamma, torch.lgamma, np.array([-2.5, -0.3, 0.2, 1.0, 2.0, 3.7, 9.5])),
    "digamma": (digamma, torch.digamma, np.array([-2.5, -0.3, 0.2, 1.0, 2.0, 3.7, 9.5])),
}


@covers(*CASES, kind="fd")
@pytest.mark.parametrize("name", sorted(CASES))
def test_unary_special_ops_match_finite_differences(name):
    fn, _, points = CASES[name]
    check_gradients(fn, points[np.abs(points) < 10], rtol=1e-5, atol=1e-6)  # (large values: a step's rounding)


@covers(*CASES, kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(CASES))
def test_unary_special_ops_match_torch(name, dtype):
    fn, torch_fn, points = CASES[name]
    compare_with_torch(fn, torch_fn, points, dtype=dtype, rtol=1e-9 if dtype == np.float64 else 1e-5)


def test_cube_roots_of_cubes_are_exact():
    np.testing.assert_array_equal(cbrt(np.array([-8.0, 27.0, 1e9], "float32")).numpy(), [-2.0, 3.0, 1000.0])


def test_erfinv_at_the_ends_and_beyond():
    out = erfinv(np.array([-1.0, 1.0, 1.5, -2.0])).numpy()
    np.testing.assert_array_equal(out[:2], [-np.inf, np.inf])
    assert np.isnan(out[2:]).all()


@covers("gammainc", kind="fd")
def test_gammainc_matches_finite_differences_in_x():
    a = np.array([0.5, 1.0, 2.0, 5.0, 12.0])
    x = np.array([0.3, 2.0, 1.5, 7.0, 10.0])
    check_gradients(lambda x_: gammainc(cr.constant(a), x_), x)


@covers("gammainc", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_gammainc_matches_torch_and_scipy(dtype):
    a = np.array([[0.5], [1.0], [3.0], [10.0], [60.0]])
    x = np.array([0.1, 0.9, 2.5, 8.0, 30.0, 75.0])
    ours = compare_with_torch(lambda x_: gammainc(cr.constant(a.astype(dtype)), x_),
                              lambda x_: torch.special.gammainc(torch.tensor(a.astype(dtype)), x_), x, dtype=dtype,
                              rtol=1e-10 if dtype == np.float64 else 1e-5, atol=1e-12 if dtype == np.float64 else 1e-6)
    np.testing.assert_allclose(ours.numpy(), scipy.special.gammainc(a, x), rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-7 if dtype == np.float32 else 1e-14)


def test_gammainc_edges_and_the_shape_has_no_gradient():
    out = gammainc(np.array([1.0, 1.0, 0.0, 2.0]), np.array([0.0, np.inf, 1.0, -1.0])).numpy()
    np.testing.assert_array_equal(out[:2], [0.0, 1.0])
    assert np.isnan(out[2:]).all()
    a = cr.Tensor(np.array([2.0]), requires_grad=True)
    with pytest.raises(NotImplementedError, match="first argument"):
        cr.grad(cr.reduce_sum(gammainc(a, np.array([1.0]))), [a])


@pytest.mark.parametrize("name", ["bessel_i0", "bessel_i1", "cbrt", "erfinv", "lgamma", "digamma"])
def test_second_derivatives_match_torch(name):
    fn, torch_fn, points = CASES[name]
    points = points[points != 0] if name == "cbrt" else points
    x = cr.Tensor(points, requires_grad=True)
    (g,) = cr.grad(cr.reduce_sum(fn(x)), [x], create_graph=True)
    (gg,) = cr.grad(cr.reduce_sum(g), [x])
    t = torch.tensor(points, requires_grad=True)
    (tg,) = torch.autograd.grad(torch_fn(t).sum(), t, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), t)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-8, atol=1e-10)


@covers("zeta", kind="fd")
def test_zeta_matches_finite_differences_in_q():
    s = np.array([1.5, 2.0, 3.0, 6.0])
    check_gradients(lambda q: zeta(cr.constant(s), q), np.array([0.4, 1.0, 2.5, 9.0]))


@covers("zeta", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_zeta_and_polygamma_match_torch(dtype):
    """PyTorch's zeta has no gradient: its values are compared, and its gradient through polygamma's, whose
    derivative in x is zeta's in q."""
    s = np.array([[1.5], [2.0], [4.0], [11.0]])
    q = np.array([0.2, 1.0, 3.3, 25.0])
    compare_with_torch(lambda q_: zeta(cr.constant(s.astype(dtype)), q_),
                       lambda q_: torch.special.zeta(torch.tensor(s.astype(dtype)), q_), q, dtype=dtype,
                       rtol=1e-12 if dtype == np.float64 else 1e-5, check_backward=False)
    x = np.array([-2.5, -0.3, 0.2, 1.0, 3.7, 12.0])
    for n in (1, 2, 3):
        compare_with_torch(lambda x_: polygamma(n, x_), lambda x_: torch.special.polygamma(n, x_), x, dtype=dtype,
                           rtol=1e-9 if dtype == np.float64 else 1e-4)


def test_zeta_domain_and_polygamma_orders():
    out = zeta(np.array([1.0, 0.5, 2.0]), np.array([1.0, 1.0, -1.0])).numpy()
    assert out[0] == np.inf and np.isnan(out[1:]).all()
    np.testing.assert_allclose(float(zeta(np.float64(2.0), np.float64(1.0))), np.pi ** 2 / 6, rtol=1e-15)
    np.testing.assert_allclose(polygamma(np.array([0.0, 1.0]), np.array([1.0, 1.0])).numpy(),
                               [-np.euler_gamma, np.pi ** 2 / 6], rtol=1e-13)
    with pytest.raises(ValueError, match="order n"):
        polygamma(-1, 1.0)
    s = cr.Tensor(np.array([2.0]), requires_grad=True)
    with pytest.raises(NotImplementedError, match="exponent"):
        cr.grad(cr.reduce_sum(zeta(s, np.array([1.0]))), [s])


@covers("betainc", kind="fd")
def test_betainc_matches_finite_differences_in_x():
    a, b = np.array([0.7, 2.0, 5.0, 30.0]), np.array([1.5, 0.6, 4.0, 12.0])
    check_gradients(lambda x: betainc(cr.constant(a), cr.constant(b), x), np.array([0.2, 0.5, 0.45, 0.8]))


@covers("betainc", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_betainc_matches_torch_where_torch_has_it_in_closed_form(dtype):
    """PyTorch has no betainc: compared (values and gradients) on I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b,
    and with SciPy's values everywhere."""
    x = np.array([0.05, 0.3, 0.5, 0.77, 0.95])
    tol = dict(rtol=1e-12 if dtype == np.float64 else 1e-5, atol=1e-14 if dtype == np.float64 else 1e-6)
    for p in (0.4, 3.0):
        ones, power = np.ones_like(x).astype(dtype), np.full_like(x, p).astype(dtype)
        compare_with_torch(lambda x_: betainc(cr.constant(power), cr.constant(ones), x_), lambda x_: x_ ** p, x,
                           dtype=dtype, **tol)
        compare_with_torch(lambda x_: betainc(cr.constant(ones), cr.constant(power), x_),
                           lambda x_: 1 - (1 - x_) ** p, x, dtype=dtype, **tol)
    a, b = np.array([[0.3], [2.5], [40.0]]), np.array([[0.8], [7.0], [15.0]])
    np.testing.assert_allclose(betainc(a, b, x).numpy(), scipy.special.betainc(a, b, x), rtol=1e-12, atol=1e-15)


def test_betainc_domain_and_no_gradient_for_the_shapes():
    out = betainc(np.array([1.0, 1.0, -1.0, 2.0]), np.array([2.0, 2.0, 1.0, 2.0]),
                  np.array([0.0, 1.0, 0.5, 1.5])).numpy()
    np.testing.assert_array_equal(out[:2], [0.0, 1.0])
    assert np.isnan(out[2:]).all()
    a = cr.Tensor(np.array([2.0]), requires_grad=True)
    with pytest.raises(NotImplementedError, match="a and b"):
        cr.grad(cr.reduce_sum(betainc(a, np.array([2.0]), np.array([0.5]))), [a])
