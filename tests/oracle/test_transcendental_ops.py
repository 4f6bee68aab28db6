"""Transcendental ops (chainrule/ops/transcendental.py) against finite differences and PyTorch, first and second
order; inputs stay inside each function's smooth domain."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from test_second_order import assert_second_order_matches_torch

import chainrule as cr
from chainrule import ops
from chainrule.engine.gradcheck import check_gradients


def unit(rng, shape):  # inside (-1, 1): arcsin, arccos, arctanh
    return rng.uniform(-0.9, 0.9, shape)


def above_one(rng, shape):  # arccosh
    return rng.uniform(1.2, 3.0, shape)


def normal(rng, shape):
    return rng.standard_normal(shape)


def near_zero(rng, shape):  # log1p and expm1 where they differ from log(1 + x) and exp(x) - 1
    return rng.uniform(-0.5, 0.5, shape) * 10.0 ** rng.integers(-6, 0, shape)


def tan_domain(rng, shape):  # away from ±π/2
    return rng.uniform(-1.2, 1.2, shape)


UNARY = {
    "log1p": (ops.log1p, torch.log1p, near_zero), "expm1": (ops.expm1, torch.expm1, near_zero),
    "sin": (ops.sin, torch.sin, normal), "cos": (ops.cos, torch.cos, normal), "tan": (ops.tan, torch.tan, tan_domain),
    "arcsin": (ops.arcsin, torch.asin, unit), "arccos": (ops.arccos, torch.acos, unit),
    "arctan": (ops.arctan, torch.atan, normal), "sinh": (ops.sinh, torch.sinh, normal),
    "cosh": (ops.cosh, torch.cosh, normal), "arcsinh": (ops.arcsinh, torch.asinh, normal),
    "arccosh": (ops.arccosh, torch.acosh, above_one), "arctanh": (ops.arctanh, torch.atanh, unit),
}
SHAPES = [(), (5,), (2, 3)]


def sample(name, shape, seed=0):
    return UNARY[name][2](np.random.default_rng(seed), shape)


@covers(*UNARY, kind="fd")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_finite_differences(name, shape):
    check_gradients(UNARY[name][0], sample(name, shape))


@covers(*UNARY, kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, shape, dtype):
    cr_fn, torch_fn, _ = UNARY[name]
    compare_with_torch(cr_fn, torch_fn, sample(name, shape), dtype=dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_order_matches_torch(name):
    cr_fn, torch_fn, _ = UNARY[name]
    assert_second_order_matches_torch(cr_fn, torch_fn, sample(name, (4,), seed=1))


ARCTAN2_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2,))]


@covers("arctan2", kind="fd")
@covers("arctan2", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", ARCTAN2_SHAPES, ids=str)
def test_arctan2_matches_torch_and_finite_differences(shapes, dtype):
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal(s) for s in shapes)
    compare_with_torch(ops.arctan2, torch.atan2, a, b, dtype=dtype)
    if dtype == np.float64:
        check_gradients(ops.arctan2, a, b)
        assert_second_order_matches_torch(ops.arctan2, torch.atan2, a, b)


def test_log1p_and_expm1_are_exact_where_the_naive_formulas_lose_digits():
    tiny = np.array([1e-12, -3e-10], "float64")
    np.testing.assert_allclose(ops.log1p(tiny).numpy(), tiny, rtol=1e-9)
    np.testing.assert_allclose(ops.expm1(tiny).numpy(), tiny, rtol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_stays_float32_through_first_and_second_order(name):
    x = cr.Tensor(sample(name, (3,)).astype(np.float32), requires_grad=True)
    (g,) = cr.grad(ops.sum(UNARY[name][0](x)), [x], create_graph=True)
    (gg,) = cr.grad(ops.sum(g), [x])
    assert (g.dtype, gg.dtype) == (np.float32, np.float32)
