"""Shape and indexing ops (chainrule/ops/shape.py) against finite differences and PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.ops import getitem
from chainrule.engine.gradcheck import check_gradients

MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])

# indexing a (3, 4) tensor: id -> (chainrule index, the same selection in torch, which lacks negative steps)
INDICES = {
    "slice": ((slice(1, 3),), lambda t: t[1:3]),
    "int": (1, lambda t: t[1]),
    "scalar element": ((2, -1), lambda t: t[2, -1]),
    "negative step": ((-1, slice(None, None, -1)), lambda t: t[-1].flip(0)),
    "strided": ((slice(None), slice(0, None, 2)), lambda t: t[:, 0::2]),
    "ellipsis": ((Ellipsis, 1), lambda t: t[..., 1]),
    "newaxis": ((None, slice(None), 0), lambda t: t[None, :, 0]),
    "int array with repeats": (np.array([0, 2, 0, 0]), lambda t: t[torch.tensor([0, 2, 0, 0])]),
    "list on axis 1": ((slice(None), [3, 3, 1]), lambda t: t[:, [3, 3, 1]]),
    "two int arrays": (([0, 1, 1, 2], [3, 3, 0, 0]), lambda t: t[[0, 1, 1, 2], [3, 3, 0, 0]]),
    "2-d int array": (np.array([[0, 1], [1, 1]]), lambda t: t[torch.tensor([[0, 1], [1, 1]])]),
    "boolean mask": (MASK, lambda t: t[torch.tensor(MASK)]),
    "boolean row mask": (np.array([True, False, True]), lambda t: t[torch.tensor([True, False, True])]),
    "tensor index": (cr.constant([2, 2, 1]), lambda t: t[torch.tensor([2, 2, 1])]),
}


@covers("getitem", kind="fd")
@covers("getitem", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(INDICES))
def test_getitem_matches_torch_and_finite_differences(case, dtype):
    index, torch_fn = INDICES[case]
    x = np.random.default_rng(0).standard_normal((3, 4))
    compare_with_torch(lambda t: t[index], torch_fn, x, dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda t: getitem(t, index), x)


def _pad_torch(paddings, value=0.0):
    flat = [p for pair in reversed(paddings) for p in pair]  # F.pad takes (last axis before, after, ...)
    return lambda t: F.pad(t, flat, value=value)


def _weighted_parts(parts, axis):
    """Join split's parts again, each scaled differently, so that every part's gradient is checked."""
    return [p * (i + 1.0) for i, p in enumerate(parts)], axis


def _split_cr(sizes, axis):
    return lambda t: cr.concat(*_weighted_parts(cr.split(t, sizes, axis), axis))


def _split_torch(sizes, axis):
    def f(t):
        chunks = [t.shape[axis] // sizes] * sizes if isinstance(sizes, int) else sizes
        return torch.cat(*_weighted_parts(torch.split(t, chunks, axis), axis))
    return f


# (op name, id, chainrule fn, torch fn, input shapes)
SHAPE_CASES = [
    ("reshape", "(2,3,2)->(3,-1)", lambda t: cr.reshape(t, (3, -1)), lambda t: t.reshape(3, -1), [(2, 3, 2)]),
    ("reshape", "(1,1)->()", lambda t: cr.reshape(t, ()), lambda t: t.reshape(()), [(1, 1)]),
    ("reshape", "method", lambda t: t.reshape(4, 3), lambda t: t.reshape(4, 3), [(2, 6)]),
    ("transpose", "reverse", cr.transpose, lambda t: t.permute(2, 1, 0), [(2, 3, 4)]),
    ("transpose", "perm", lambda t: cr.transpose(t, (1, 0, 2)), lambda t: t.permute(1, 0, 2), [(2, 3, 4)]),
    ("transpose", "negative perm", lambda t: cr.transpose(t, (0, -1, -2)), lambda t: t.permute(0, 2, 1), [(2, 3, 4)]),
    ("transpose", ".T", lambda t: t.T, lambda t: t.T, [(2, 3)]),
    ("broadcast_to", "(3,1)->(2,3,4)", lambda t: cr.broadcast_to(t, (2, 3, 4)), lambda t: t.expand(2, 3, 4), [(3, 1)]),
    ("broadcast_to", "()->(2,2)", lambda t: cr.broadcast_to(t, (2, 2)), lambda t: t.expand(2, 2), [()]),
    ("concat", "axis 0", lambda *t: cr.concat(t, 0), lambda *t: torch.cat(t, 0), [(1, 3), (2, 3), (3, 3)]),
    ("concat", "axis -1", lambda *t: cr.concat(t, -1), lambda *t: torch.cat(t, -1), [(2, 2, 1), (2, 2, 3)]),
    ("concat", "one tensor", lambda t: cr.concat([t], 0), lambda t: torch.cat([t], 0), [(2, 3)]),
    ("stack", "axis 0", lambda *t: cr.stack(t, 0), lambda *t: torch.stack(t, 0), [(2, 3), (2, 3)]),
    ("stack", "axis -1", lambda *t: cr.stack(t, -1), lambda *t: torch.stack(t, -1), [(3,), (3,), (3,)]),
    ("split", "3 parts axis 1", _split_cr(3, 1), _split_torch(3, 1), [(2, 6)]),
    ("split", "sizes axis 0", _split_cr([1, 3, 1], 0), _split_torch([1, 3, 1], 0), [(5, 2)]),
    ("split", "sizes axis -1", _split_cr([2, 1], -1), _split_torch([2, 1], -1), [(2, 2, 3)]),
    ("pad", "2-d", lambda t: cr.pad(t, [[1, 0], [2, 1]]), _pad_torch([[1, 0], [2, 1]]), [(2, 3)]),
    ("pad", "3-d with a value", lambda t: cr.pad(t, [[0, 1], [1, 1], [0, 0]], 0.5),
     _pad_torch([[0, 1], [1, 1], [0, 0]], 0.5), [(2, 2, 3)]),
    ("gather", "axis 0 with repeats", lambda t: cr.gather(t, [2, 0, 2]),
     lambda t: t[torch.tensor([2, 0, 2])], [(3, 4)]),
    ("gather", "axis 1, 2-d indices", lambda t: cr.gather(t, [[0, 3], [3, 3]], axis=1),
     lambda t: t[:, torch.tensor([[0, 3], [3, 3]])], [(2, 4)]),
    ("gather", "axis -1", lambda t: cr.gather(t, cr.constant([1, 0]), axis=-1),
     lambda t: t[..., torch.tensor([1, 0])], [(2, 3, 2)]),
]
SHAPE_OPS = sorted({case[0] for case in SHAPE_CASES})
SHAPE_IDS = [f"{case[0]}-{case[1]}" for case in SHAPE_CASES]


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@covers(*SHAPE_OPS, kind="fd")
@pytest.mark.parametrize("name, case_id, cr_fn, torch_fn, shapes", SHAPE_CASES, ids=SHAPE_IDS)
def test_shape_op_matches_finite_differences(name, case_id, cr_fn, torch_fn, shapes):
    check_gradients(cr_fn, *_inputs(shapes))


@covers(*SHAPE_OPS, kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name, case_id, cr_fn, torch_fn, shapes", SHAPE_CASES, ids=SHAPE_IDS)
def test_shape_op_matches_torch(name, case_id, cr_fn, torch_fn, shapes, dtype):
    compare_with_torch(cr_fn, torch_fn, *_inputs(shapes), dtype=dtype)


def test_split_returns_a_list_of_views_of_the_right_shapes():
    parts = cr.split(cr.constant(np.arange(12.0).reshape(2, 6)), [1, 2, 3], axis=1)
    assert [p.shape for p in parts] == [(2, 1), (2, 2), (2, 3)]
    np.testing.assert_array_equal(parts[2].numpy(), [[3, 4, 5], [9, 10, 11]])


def test_expand_dims_and_squeeze_round_trip_with_gradient():
    x = cr.Tensor(np.ones((2, 3)), requires_grad=True)
    y = cr.expand_dims(x, -1)
    assert y.shape == (2, 3, 1) and cr.expand_dims(x, 0).shape == (1, 2, 3)
    z = cr.squeeze(y * 2.0)
    assert z.shape == (2, 3) and cr.squeeze(cr.constant(np.ones((1, 3, 1))), 0).shape == (3, 1)
    (dx,) = cr.grad(z, [x], grad_outputs=np.ones((2, 3)))
    np.testing.assert_array_equal(dx.numpy(), np.full((2, 3), 2.0))
