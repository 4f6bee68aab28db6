"""Elementwise math ops (chainrule/ops/math.py) against finite differences and PyTorch.

Random data keeps away from the points where a derivative is undefined (|x| at 0, max/min ties, clip bounds);
the rules chainrule follows at those points are tested on their own, against PyTorch, at the end.
"""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients

HYPOTHESIS = settings(max_examples=25, deadline=None)
DTYPES = [np.float64, np.float32]


# samplers: (rng, shape) -> float64 array in the op's smooth domain
def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)


def integers(rng, shape):  # maximum(integers, half_integers) never ties
    return rng.integers(-4, 5, shape).astype(np.float64)


def half_integers(rng, shape):
    return integers(rng, shape) + 0.5


def mod_dividends(rng, shape):  # with mod_divisors: a / b stays 0.19-0.85 from every integer (floor jumps there)
    return 2.0 * rng.integers(-1, 2, shape) + rng.uniform(0.4, 1.6, shape)


def mod_divisors(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(1.95, 2.05, shape)


def off_clip_bounds(rng, shape):  # clip(x, -0.5, 0.5): every value at least 0.05 from a bound
    return rng.choice([-1.5, -0.9, -0.2, 0.1, 0.3, 0.9, 1.4], shape) + rng.uniform(-0.05, 0.05, shape)


# name -> (chainrule fn, torch fn, one sampler per input)
ELEMENTWISE = {
    "neg": (cr.negative, torch.neg, [normal]),
    "exp": (cr.exp, torch.exp, [normal]),
    "log": (cr.log, torch.log, [positive]),
    "sqrt": (cr.sqrt, torch.sqrt, [positive]),
    "abs": (cr.abs, torch.abs, [away_from_zero]),
    "erf": (cr.erf, torch.erf, [normal]),
    "clip": (lambda x: cr.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), [off_clip_bounds]),
    "add": (cr.add, torch.add, [normal, normal]),
    "sub": (cr.subtract, torch.sub, [normal, normal]),
    "mul": (cr.multiply, torch.mul, [normal, normal]),
    "div": (cr.divide, torch.div, [normal, away_from_zero]),
    "pow": (cr.pow, torch.pow, [positive, normal]),
    "mod": (cr.math.floormod, torch.remainder, [mod_dividends, mod_divisors]),
    "maximum": (cr.maximum, torch.maximum, [integers, half_integers]),
    "minimum": (cr.minimum, torch.minimum, [integers, half_integers]),
}
BINARY = sorted(name for name, (_, _, samplers) in ELEMENTWISE.items() if len(samplers) == 2)
SHAPES = [(), (5,), (2, 3), (2, 1, 3)]
BROADCAST_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1)), ((4,), ())]
# (name, input shapes): unary ops over SHAPES, binary ops over broadcasting pairs
CASES = [(name, pair if name in BINARY else (pair[0],)) for name in sorted(ELEMENTWISE)
         for pair in (BROADCAST_PAIRS if name in BINARY else [(shape,) for shape in SHAPES])]


def inputs(name, shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [sample(rng, shape) for sample, shape in zip(ELEMENTWISE[name][2], shapes)]


@covers(*ELEMENTWISE, kind="fd")
@pytest.mark.parametrize("name, shapes", CASES, ids=str)
def test_elementwise_matches_finite_differences(name, shapes):
    check_gradients(ELEMENTWISE[name][0], *inputs(name, shapes))


@covers(*ELEMENTWISE, kind="torch")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name, shapes", CASES, ids=str)
def test_elementwise_matches_torch(name, shapes, dtype):
    cr_fn, torch_fn, _ = ELEMENTWISE[name]
    compare_with_torch(cr_fn, torch_fn, *inputs(name, shapes), dtype=dtype)


@given(name=st.sampled_from(sorted(ELEMENTWISE)), data=st.data(), seed=st.integers(0, 2**16))
@HYPOTHESIS
def test_elementwise_hypothesis_broadcasting(name, data, seed):
    cr_fn, torch_fn, samplers = ELEMENTWISE[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=len(samplers), min_dims=0, max_dims=3, max_side=3))
    arrays = inputs(name, shapes.input_shapes, seed)
    out = compare_with_torch(cr_fn, torch_fn, *arrays)
    assert out.shape == shapes.result_shape
    check_gradients(cr_fn, *arrays)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("tensor_side", ["left", "right"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_with_a_python_number_matches_torch(name, tensor_side, dtype):
    """``x op 0.25`` and ``0.25 op x``: the constant gets no gradient and does not change the dtype."""
    cr_fn, torch_fn, _ = ELEMENTWISE[name]
    a, b = inputs(name, [(2, 3), (2, 3)])
    if tensor_side == "left":
        compare_with_torch(lambda x: cr_fn(x, 0.25), lambda x: torch_fn(x, torch.tensor(0.25, dtype=x.dtype)), a,
                           dtype=dtype)
    else:
        compare_with_torch(lambda x: cr_fn(0.25, x), lambda x: torch_fn(torch.tensor(0.25, dtype=x.dtype), x), b,
                           dtype=dtype)


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5])
def test_pow_with_a_constant_exponent_matches_torch(exponent):
    base = positive if exponent == 0.5 else away_from_zero  # integer powers of negative bases are fine
    x = base(np.random.default_rng(1), (3, 4))
    compare_with_torch(lambda t: t ** exponent, lambda t: t ** exponent, x)
    check_gradients(lambda t: t ** exponent, x)


# where(condition, x, y): the condition broadcasts with both branches and carries no gradient
WHERE_SHAPES = [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), (2, 1)), ((2, 1), (3,), ()), ((1, 3), (2, 1), (2, 3))]


@covers("where", kind="fd")
@covers("where", kind="torch")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where_matches_torch_and_finite_differences(shapes, dtype):
    rng = np.random.default_rng(0)
    cond = rng.random(shapes[0]) > 0.5
    x, y = rng.standard_normal(shapes[1]), rng.standard_normal(shapes[2])
    compare_with_torch(lambda a, b: cr.where(cond, a, b), lambda a, b: torch.where(torch.tensor(cond), a, b), x, y,
                       dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda a, b: cr.where(cond, a, b), x, y)


def test_where_with_a_tensor_condition_and_a_constant_branch():
    x = np.random.default_rng(0).standard_normal((3, 4))
    compare_with_torch(lambda t: cr.where(t > 0, t, 0.0), lambda t: torch.where(t > 0, t, 0.0), x)


@pytest.mark.parametrize("bounds", [(None, 0.5), (-0.5, None), (-0.5, 0.5)], ids=str)
def test_clip_with_one_or_two_bounds_matches_torch(bounds):
    x = off_clip_bounds(np.random.default_rng(0), (4, 5))
    compare_with_torch(lambda t: cr.clip(t, *bounds), lambda t: torch.clamp(t, *bounds), x)


def test_clip_without_bounds_is_an_error():
    with pytest.raises(ValueError, match="clip: give at least one of min and max"):
        cr.clip(cr.constant([1.0]))


# Where the derivative is undefined, chainrule follows PyTorch: name -> (chainrule fn, torch fn, inputs with ties)
TIES = {
    "maximum splits a tie in half": (cr.maximum, torch.maximum, [1.0, 2.0, -3.0, 0.0], [1.0, 1.0, -3.0, 0.0]),
    "minimum splits a tie in half": (cr.minimum, torch.minimum, [1.0, 2.0, -3.0, 0.0], [1.0, 1.0, -3.0, 0.0]),
    "maximum with a broadcast tie": (cr.maximum, torch.maximum, [[1.0, 2.0], [2.0, 2.0]], [2.0]),
    "abs has slope 0 at 0": (cr.abs, torch.abs, [-1.0, 0.0, 2.0]),
    "pow at base 0 gives the exponent no gradient": (cr.pow, torch.pow, [0.0, 1.0, 2.0, 0.0], [2.0, 1.5, 0.5, 1.5]),
    "clip passes the gradient at its bounds": (lambda x: cr.clip(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0),
                                               [-2.0, -1.0, 0.0, 1.0, 2.0]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("rule", sorted(TIES))
def test_tie_rules_match_torch(rule, dtype):
    cr_fn, torch_fn, *arrays = TIES[rule]
    compare_with_torch(cr_fn, torch_fn, *[np.array(a) for a in arrays], dtype=dtype)


def test_maximum_tie_gives_each_input_half():
    a, b = cr.Tensor([3.0], requires_grad=True), cr.Tensor([3.0], requires_grad=True)
    da, db = cr.grad(cr.maximum(a, b), [a, b])
    assert da.numpy().tolist() == [0.5] and db.numpy().tolist() == [0.5]
