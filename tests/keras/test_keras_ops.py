"""keras.ops (chainrule/keras/ops/): values against NumPy and PyTorch, gradients of the differentiable functions
against PyTorch, Keras 3's dtype rules and error messages, ops on symbolic tensors in functional models, and ops in
traced training steps (fit replays a custom layer built from ops)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch

import chainrule as tf
from chainrule import keras
from chainrule.engine.tracer import TracedFunction
from chainrule.keras import layers, ops

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype("float32")
Y = RNG.standard_normal((3, 4)).astype("float32")
P = RNG.uniform(0.5, 2.0, (3, 4)).astype("float32")  # positive
C = RNG.standard_normal((2, 3, 4)).astype("float32")
I = np.array([[1, 2], [3, 0]])

# name -> (keras.ops call, NumPy's answer); values compared to 1e-5, dtypes exactly unless the case says otherwise
VALUES = {
    "add": (lambda: ops.add(X, Y), lambda: X + Y),
    "subtract": (lambda: ops.subtract(X, 2), lambda: X - 2),
    "multiply": (lambda: ops.multiply(3, X), lambda: 3 * X),
    "divide": (lambda: ops.divide(X, P), lambda: X / P),
    "true_divide": (lambda: ops.true_divide(X, 4), lambda: X / np.float32(4)),
    "negative": (lambda: ops.negative(X), lambda: -X),
    "abs": (lambda: ops.abs(X), lambda: np.abs(X)),
    "absolute": (lambda: ops.absolute(X), lambda: np.absolute(X)),
    "square": (lambda: ops.square(X), lambda: np.square(X)),
    "sqrt": (lambda: ops.sqrt(P), lambda: np.sqrt(P)),
    "exp": (lambda: ops.exp(X), lambda: np.exp(X)),
    "expm1": (lambda: ops.expm1(X), lambda: np.expm1(X)),
    "log": (lambda: ops.log(P), lambda: np.log(P)),
    "log1p": (lambda: ops.log1p(P), lambda: np.log1p(P)),
    "log2": (lambda: ops.log2(P), lambda: np.log2(P)),
    "log10": (lambda: ops.log10(P), lambda: np.log10(P)),
    "power": (lambda: ops.power(P, Y), lambda: np.power(P, Y)),
    "maximum": (lambda: ops.maximum(X, Y), lambda: np.maximum(X, Y)),
    "minimum": (lambda: ops.minimum(X, 0.0), lambda: np.minimum(X, np.float32(0))),
    "clip": (lambda: ops.clip(X, -0.5, 0.5), lambda: np.clip(X, -0.5, 0.5)),
    "mod": (lambda: ops.mod(X, 0.7), lambda: np.mod(X, np.float32(0.7))),
    "floor_divide": (lambda: ops.floor_divide(X, 0.7), lambda: np.floor_divide(X, np.float32(0.7))),
    "reciprocal": (lambda: ops.reciprocal(P), lambda: np.reciprocal(P)),
    "sin": (lambda: ops.sin(X), lambda: np.sin(X)),
    "cos": (lambda: ops.cos(X), lambda: np.cos(X)),
    "tan": (lambda: ops.tan(X), lambda: np.tan(X)),
    "arcsin": (lambda: ops.arcsin(X / 3), lambda: np.arcsin(X / 3)),
    "arctan2": (lambda: ops.arctan2(X, Y), lambda: np.arctan2(X, Y)),
    "sinh": (lambda: ops.sinh(X), lambda: np.sinh(X)),
    "tanh": (lambda: ops.tanh(X), lambda: np.tanh(X)),
    "hypot": (lambda: ops.hypot(X, Y), lambda: np.hypot(X, Y)),
    "logaddexp": (lambda: ops.logaddexp(X * 100, Y * 100), lambda: np.logaddexp(X * 100, Y * 100)),
    "erf": (lambda: ops.erf(X), lambda: np.vectorize(__import__("math").erf)(X).astype("float32")),
    "sign": (lambda: ops.sign(X), lambda: np.sign(X)),
    "round": (lambda: ops.round(X, 1), lambda: np.round(X, 1)),
    "floor": (lambda: ops.floor(X), lambda: np.floor(X)),
    "ceil": (lambda: ops.ceil(X), lambda: np.ceil(X)),
    "trunc": (lambda: ops.trunc(X), lambda: np.trunc(X)),
    "nan_to_num": (lambda: ops.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.0], "float32"), posinf=9.0),
                   lambda: np.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.0], "float32"), posinf=9.0)),
    "isnan": (lambda: ops.isnan(np.array([np.nan, 1.0])), lambda: np.array([True, False])),
    "isinf": (lambda: ops.isinf(np.array([np.inf, 1.0])), lambda: np.array([True, False])),
    "isfinite": (lambda: ops.isfinite(np.array([np.inf, 1.0])), lambda: np.array([False, True])),
    "equal": (lambda: ops.equal(X, X[0]), lambda: X == X[0]),
    "not_equal": (lambda: ops.not_equal(X, X[0]), lambda: X != X[0]),
    "greater": (lambda: ops.greater(X, Y), lambda: X > Y),
    "greater_equal": (lambda: ops.greater_equal(X, 0), lambda: X >= 0),
    "less": (lambda: ops.less(X, Y), lambda: X < Y),
    "less_equal": (lambda: ops.less_equal(X, 0), lambda: X <= 0),
    "logical_and": (lambda: ops.logical_and(X > 0, Y > 0), lambda: (X > 0) & (Y > 0)),
    "logical_or": (lambda: ops.logical_or(X > 0, Y > 0), lambda: (X > 0) | (Y > 0)),
    "logical_not": (lambda: ops.logical_not(X > 0), lambda: ~(X > 0)),
    "logical_xor": (lambda: ops.logical_xor(X > 0, Y > 0), lambda: (X > 0) ^ (Y > 0)),
    "isclose": (lambda: ops.isclose(X, X + 1e-7), lambda: np.isclose(X, X + 1e-7)),
    "where": (lambda: ops.where(X > 0, X, 0.0), lambda: np.where(X > 0, X, np.float32(0))),
    "matmul": (lambda: ops.matmul(X, Y.T), lambda: X @ Y.T),
    "matmul batched": (lambda: ops.matmul(C, Y.T), lambda: C @ Y.T),
    "dot": (lambda: ops.dot(X, Y.T), lambda: np.dot(X, Y.T)),
    "dot n-d": (lambda: ops.dot(C, np.ones((5, 4, 2), "float32")), lambda: np.dot(C, np.ones((5, 4, 2), "float32"))),
    "tensordot": (lambda: ops.tensordot(C, Y, axes=([1, 2], [0, 1])), lambda: np.tensordot(C, Y, ([1, 2], [0, 1]))),
    "tensordot int": (lambda: ops.tensordot(C, Y.T, axes=1), lambda: np.tensordot(C, Y.T, 1)),
    "einsum": (lambda: ops.einsum("bij,kj->bik", C, Y), lambda: np.einsum("bij,kj->bik", C, Y)),
    "outer": (lambda: ops.outer(X[0], Y), lambda: np.outer(X[0], Y)),
    "inner": (lambda: ops.inner(X, Y), lambda: np.inner(X, Y)),
    "vdot": (lambda: ops.vdot(X, Y), lambda: np.vdot(X, Y)),
    "mean": (lambda: ops.mean(C, axis=(0, 2)), lambda: C.mean((0, 2))),
    "sum": (lambda: ops.sum(X, axis=1, keepdims=True), lambda: X.sum(1, keepdims=True)),
    "max": (lambda: ops.max(X, axis=0), lambda: X.max(0)),
    "max initial": (lambda: ops.max(X, axis=1, initial=0.5), lambda: np.max(X, axis=1, initial=0.5)),
    "min": (lambda: ops.min(X), lambda: X.min()),
    "prod": (lambda: ops.prod(X, axis=1), lambda: X.prod(1)),
    "prod all, keepdims": (lambda: ops.prod(C, axis=(0, 2), keepdims=True), lambda: C.prod((0, 2), keepdims=True)),
    "std": (lambda: ops.std(X, axis=0), lambda: X.std(0)),
    "var": (lambda: ops.var(X), lambda: X.var()),
    "median": (lambda: ops.median(X, axis=1), lambda: np.median(X, axis=1)),
    "average": (lambda: ops.average(X, axis=1, weights=np.arange(4.0, dtype="float32")),
                lambda: np.average(X, axis=1, weights=np.arange(4.0, dtype="float32"))),
    "ptp": (lambda: ops.ptp(X, 0), lambda: np.ptp(X, 0)),
    "logsumexp": (lambda: ops.logsumexp(X, axis=1), lambda: np.log(np.exp(X).sum(1))),
    "cumsum": (lambda: ops.cumsum(X, axis=1), lambda: np.cumsum(X, 1)),
    "cumprod": (lambda: ops.cumprod(X), lambda: np.cumprod(X)),
    "any": (lambda: ops.any(X > 1, axis=1), lambda: (X > 1).any(1)),
    "all": (lambda: ops.all(X > -3), lambda: np.array((X > -3).all())),
    "reshape": (lambda: ops.reshape(X, (2, -1)), lambda: X.reshape(2, -1)),
    "ravel": (lambda: ops.ravel(C), lambda: C.ravel()),
    "transpose": (lambda: ops.transpose(C, (2, 0, 1)), lambda: C.transpose(2, 0, 1)),
    "swapaxes": (lambda: ops.swapaxes(C, 0, 2), lambda: np.swapaxes(C, 0, 2)),
    "moveaxis": (lambda: ops.moveaxis(C, [0, 1], [2, 0]), lambda: np.moveaxis(C, [0, 1], [2, 0])),
    "expand_dims": (lambda: ops.expand_dims(X, (0, 3)), lambda: np.expand_dims(X, (0, 3))),
    "squeeze": (lambda: ops.squeeze(X[None, :, None], axis=(0, 2)), lambda: X),
    "concatenate": (lambda: ops.concatenate([X, Y], axis=1), lambda: np.concatenate([X, Y], 1)),
    "concatenate flat": (lambda: ops.concatenate([X, C], axis=None), lambda: np.concatenate([X, C], axis=None)),
    "append": (lambda: ops.append(X, Y, axis=0), lambda: np.append(X, Y, axis=0)),
    "stack": (lambda: ops.stack([X, Y], axis=-1), lambda: np.stack([X, Y], -1)),
    "hstack": (lambda: ops.hstack([X, Y]), lambda: np.hstack([X, Y])),
    "vstack": (lambda: ops.vstack([X[0], Y]), lambda: np.vstack([X[0], Y])),
    "split sections": (lambda: ops.split(X, 2, axis=1)[1], lambda: np.split(X, 2, axis=1)[1]),
    "split indices": (lambda: ops.split(X, [1, 3], axis=1)[1], lambda: np.split(X, [1, 3], axis=1)[1]),
    "array_split": (lambda: ops.array_split(X, 3, axis=1)[0], lambda: np.array_split(X, 3, axis=1)[0]),
    "tile": (lambda: ops.tile(X, (2, 1, 3)), lambda: np.tile(X, (2, 1, 3))),
    "repeat": (lambda: ops.repeat(X, 2, axis=1), lambda: np.repeat(X, 2, axis=1)),
    "repeat counts": (lambda: ops.repeat(X, [1, 0, 3], axis=0), lambda: np.repeat(X, [1, 0, 3], axis=0)),
    "repeat flat": (lambda: ops.repeat(X, 2), lambda: np.repeat(X, 2)),
    "broadcast_to": (lambda: ops.broadcast_to(X[0], (2, 4)), lambda: np.broadcast_to(X[0], (2, 4))),
    "flip": (lambda: ops.flip(X, axis=1), lambda: np.flip(X, 1)),
    "flip all": (lambda: ops.flip(C), lambda: np.flip(C)),
    "fliplr": (lambda: ops.fliplr(X), lambda: np.fliplr(X)),
    "flipud": (lambda: ops.flipud(X), lambda: np.flipud(X)),
    "roll": (lambda: ops.roll(X, 1, axis=1), lambda: np.roll(X, 1, 1)),
    "roll flat": (lambda: ops.roll(X, -5), lambda: np.roll(X, -5)),
    "roll two axes": (lambda: ops.roll(X, (1, 2), (0, 1)), lambda: np.roll(X, (1, 2), (0, 1))),
    "pad": (lambda: ops.pad(X, ((1, 0), (2, 1)), constant_values=3.0),
            lambda: np.pad(X, ((1, 0), (2, 1)), constant_values=3.0)),
    "pad reflect": (lambda: ops.pad(X, 2, mode="reflect"), lambda: np.pad(X, 2, mode="reflect")),
    "pad symmetric": (lambda: ops.pad(X, ((1, 2), (3, 1)), mode="symmetric"),
                      lambda: np.pad(X, ((1, 2), (3, 1)), mode="symmetric")),
    "pad edge": (lambda: ops.pad(X, 1, mode="edge"), lambda: np.pad(X, 1, mode="edge")),
    "pad wrap": (lambda: ops.pad(X, (1, 2), mode="wrap"), lambda: np.pad(X, (1, 2), mode="wrap")),
    "diag of a vector": (lambda: ops.diag(X[0], 1), lambda: np.diag(X[0], 1)),
    "diag of a matrix": (lambda: ops.diag(X, -1), lambda: np.diag(X, -1)),
    "diagonal": (lambda: ops.diagonal(C, 1, 1, 2), lambda: np.diagonal(C, 1, 1, 2)),
    "trace": (lambda: ops.trace(X), lambda: np.trace(X)),
    "tril": (lambda: ops.tril(C, -1), lambda: np.tril(C, -1)),
    "triu": (lambda: ops.triu(X, 1), lambda: np.triu(X, 1)),
    "take": (lambda: ops.take(X, I, axis=1), lambda: np.take(X, I, axis=1)),
    "take flat": (lambda: ops.take(X, [0, 11]), lambda: np.take(X, [0, 11])),
    "take_along_axis": (lambda: ops.take_along_axis(X, np.argsort(X, 1), 1), lambda: np.sort(X, 1)),
    "sort": (lambda: ops.sort(X, axis=0), lambda: np.sort(X, 0)),
    "sort flat": (lambda: ops.sort(X, axis=None), lambda: np.sort(X, axis=None)),
    "get_item": (lambda: ops.get_item(X, (slice(1, None), 2)), lambda: X[1:, 2]),
    "select": (lambda: ops.select([X > 0.5, X < 0], [X, -X], 7.0), lambda: np.select([X > 0.5, X < 0], [X, -X], 7.0)),
    "meshgrid xy": (lambda: ops.meshgrid(np.arange(3), np.arange(2), np.arange(4))[1],
                    lambda: np.meshgrid(np.arange(3), np.arange(2), np.arange(4))[1]),
    "meshgrid ij": (lambda: ops.meshgrid(np.arange(3), np.arange(2), indexing="ij")[0],
                    lambda: np.meshgrid(np.arange(3), np.arange(2), indexing="ij")[0]),
    "zeros": (lambda: ops.zeros((2, 3)), lambda: np.zeros((2, 3), "float32")),
    "ones": (lambda: ops.ones(3, dtype="int32"), lambda: np.ones(3, "int32")),
    "zeros_like": (lambda: ops.zeros_like(X), lambda: np.zeros_like(X)),
    "ones_like": (lambda: ops.ones_like(X, dtype="float64"), lambda: np.ones_like(X, "float64")),
    "full": (lambda: ops.full((2,), 3), lambda: np.full((2,), 3, "float32")),
    "full_like": (lambda: ops.full_like(X, 2), lambda: np.full_like(X, 2)),
    "eye": (lambda: ops.eye(3, 4, k=1), lambda: np.eye(3, 4, 1, dtype="float32")),
    "identity": (lambda: ops.identity(3), lambda: np.identity(3, "float32")),
    "tri": (lambda: ops.tri(3, 4, -1), lambda: np.tri(3, 4, -1, dtype="float32")),
    "arange": (lambda: ops.arange(5), lambda: np.arange(5, dtype="int32")),
    "arange float": (lambda: ops.arange(0, 1, 0.25), lambda: np.arange(0, 1, 0.25, dtype="float32")),
    "linspace": (lambda: ops.linspace(0, 1, 5), lambda: np.linspace(0, 1, 5, dtype="float32")),
    "linspace without the end": (lambda: ops.linspace(2.0, 3.0, 4, endpoint=False),
                                 lambda: np.linspace(2.0, 3.0, 4, endpoint=False, dtype="float32")),
    "norm": (lambda: ops.norm(X), lambda: np.linalg.norm(X)),
    "norm vectors": (lambda: ops.norm(X, ord=3, axis=1), lambda: np.linalg.norm(X, 3, axis=1)),
    "norm inf": (lambda: ops.norm(X, ord=np.inf, axis=0), lambda: np.linalg.norm(X, np.inf, axis=0)),
    "norm zero": (lambda: ops.norm(np.array([0.0, 2.0, -1.0], "float32"), ord=0), lambda: np.float32(2.0)),
    "norm matrix 1": (lambda: ops.norm(X, ord=1), lambda: np.linalg.norm(X, 1)),
    "norm matrix -inf": (lambda: ops.norm(C, ord=-np.inf, axis=(1, 2)), lambda: np.linalg.norm(C, -np.inf, (1, 2))),
    "norm fro keepdims": (lambda: ops.norm(C, ord="fro", axis=(0, 2), keepdims=True),
                          lambda: np.linalg.norm(C, "fro", (0, 2), keepdims=True)),
}

# Keras's dtypes where NumPy's differ (index results are int32; integer means and divisions floatx)
INT32 = {"argmax": (lambda: ops.argmax(X), lambda: np.argmax(X)),
         "argmax axis keepdims": (lambda: ops.argmax(C, axis=1, keepdims=True), lambda: C.argmax(1, keepdims=True)),
         "argmin": (lambda: ops.argmin(X, axis=0), lambda: X.argmin(0)),
         "argsort": (lambda: ops.argsort(X, axis=1), lambda: np.argsort(X, 1, kind="stable")),
         "argsort flat": (lambda: ops.argsort(X, axis=None), lambda: np.argsort(X, None, kind="stable")),
         "count_nonzero": (lambda: ops.count_nonzero(X > 0, axis=0), lambda: np.count_nonzero(X > 0, axis=0)),
         "nonzero": (lambda: ops.nonzero(X > 0)[1], lambda: np.nonzero(X > 0)[1]),
         "sum of booleans": (lambda: ops.sum(X > 0), lambda: np.sum(X > 0)),
         "where alone": (lambda: ops.where(X > 0)[0], lambda: np.where(X > 0)[0])}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_values_match_numpy(case):
    ours, theirs = VALUES[case]
    out, expected = ours(), np.asarray(theirs())
    assert isinstance(out, tf.Tensor)
    assert out.dtype == expected.dtype, f"dtype {out.dtype}, NumPy's {expected.dtype}"
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(INT32))
def test_index_results_match_numpy_as_int32(case):
    ours, theirs = INT32[case]
    out = ours()
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out.numpy(), theirs())


def test_keras_dtype_rules():
    ints = np.array([1, 2, 3], "int32")
    assert ops.divide(ints, ints).dtype == np.float32  # a true division of integers is floatx
    assert ops.mean(ints).dtype == ops.sqrt(ints).dtype == ops.sin(ints).dtype == np.float32
    assert ops.sum(np.array([1, 2], "int8")).dtype == np.int32
    assert ops.sum(ints).dtype == ops.prod(ints).dtype == ops.cumsum(ints).dtype == np.int32
    assert ops.square(np.array([True, False])).dtype == np.int32
    assert ops.add(ints, 1.5).dtype == np.float32  # an integer tensor and a Python float: floatx
    assert ops.add(X, np.float64(2.0)).dtype == np.float32
    assert ops.arange(3.0).dtype == ops.linspace(0, 1, 3).dtype == ops.full((2,), 1).dtype == np.float32
    assert ops.arange(3).dtype == np.int32 and ops.arange(3, dtype="int64").dtype == np.int64
    assert ops.where(X > 0, 1, 0).dtype == np.int32 and ops.where(X > 0, 1.0, 0).dtype == np.float32
    assert ops.concatenate([ints, np.array([0.5])]).dtype == np.float64  # joined tensors take the common dtype
    assert ops.linspace(0, 1, 5, retstep=True)[1] == 0.25


# name -> (keras.ops function of the float inputs, the same in PyTorch, input samplers); gradients checked too
def _t(x):
    return torch.as_tensor(x)


GRADIENTS = {
    "prod": (lambda x: ops.prod(x, axis=1), lambda x: torch.prod(x, 1), [X]),
    "prod with a zero": (lambda x: ops.prod(x, axis=0), lambda x: torch.prod(x, 0), [np.where(X > 1.0, 0.0, X)]),
    "std": (lambda x: ops.std(x, axis=1), lambda x: torch.std(x, 1, unbiased=False), [X]),
    "median": (lambda x: ops.median(x, axis=1), lambda x: torch.quantile(x, 0.5, dim=1), [X]),
    "sort": (lambda x: ops.sort(x, axis=0), lambda x: torch.sort(x, dim=0, stable=True).values, [X]),
    "top_k values": (lambda x: ops.top_k(x, 2)[0], lambda x: torch.topk(x, 2).values, [X]),
    "tile": (lambda x: ops.tile(x, (2, 1, 3)), lambda x: x.repeat(2, 1, 3), [X]),
    "repeat": (lambda x: ops.repeat(x, 3, axis=0), lambda x: torch.repeat_interleave(x, 3, 0), [X]),
    "repeat counts": (lambda x: ops.repeat(x, [2, 0, 1, 3], axis=1),
                      lambda x: torch.repeat_interleave(x, torch.tensor([2, 0, 1, 3]), 1), [X]),
    "flip": (lambda x: ops.flip(x, 1), lambda x: torch.flip(x, (1,)), [X]),
    "roll": (lambda x: ops.roll(x, (1, -3), (0, 1)), lambda x: torch.roll(x, (1, -3), (0, 1)), [X]),
    "pad reflect": (lambda x: ops.pad(x, ((1, 2), (2, 1)), mode="reflect"),
                    lambda x: F.pad(x[None], (2, 1, 1, 2), mode="reflect")[0], [X]),
    "pad edge": (lambda x: ops.pad(x, 2, mode="edge"), lambda x: F.pad(x[None], (2, 2, 2, 2), mode="replicate")[0],
                 [X]),
    "tril": (lambda x: ops.tril(x, 1), lambda x: torch.tril(x, 1), [C]),
    "triu": (lambda x: ops.triu(x), lambda x: torch.triu(x), [C]),
    "diagonal": (lambda x: ops.diagonal(x, -1, 1, 2), lambda x: torch.diagonal(x, -1, 1, 2), [C]),
    "diag of a vector": (lambda x: ops.diag(x, -1), lambda x: torch.diag(x, -1), [X[0]]),
    "trace": (lambda x: ops.trace(x), lambda x: torch.trace(x), [X]),
    "tensordot": (lambda a, b: ops.tensordot(a, b, ([1, 2], [0, 1])), lambda a, b: torch.tensordot(a, b, ([1, 2], [0, 1])),
                  [C, Y]),
    "dot n-d": (lambda a, b: ops.dot(a, b), lambda a, b: torch.tensordot(a, b, ([2], [1])), [C, np.ones((5, 4, 2))]),
    "outer": (lambda a, b: ops.outer(a, b), lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)), [X[0], Y[1]]),
    "inner": (lambda a, b: ops.inner(a, b), lambda a, b: torch.inner(a, b), [X, Y]),
    "logaddexp": (lambda a, b: ops.logaddexp(a, b), torch.logaddexp, [X, np.where(X > 0.5, X, Y)]),
    "hypot": (lambda a, b: ops.hypot(a, b), torch.hypot, [X, Y]),
    "divide_no_nan": (lambda a, b: ops.divide_no_nan(a, b), lambda a, b: torch.where(b == 0, 0.0, a / torch.where(
        b == 0, 1.0, b)), [X, np.where(Y > 0.5, 0.0, Y)]),
    "nan_to_num": (lambda x: ops.nan_to_num(x * 1e39 * 1e39), lambda x: torch.nan_to_num(x * 1e39 * 1e39), [X]),
    "norm": (lambda x: ops.norm(x, axis=1), lambda x: torch.linalg.vector_norm(x, dim=1), [X]),
    "norm p": (lambda x: ops.norm(x, ord=3, axis=0), lambda x: torch.linalg.vector_norm(x, 3, dim=0), [X]),
    "norm matrix 1": (lambda x: ops.norm(x, ord=1), lambda x: torch.linalg.matrix_norm(x, 1), [X]),
    "average": (lambda x, w: ops.average(x, axis=1, weights=w), lambda x, w: (x * w).sum(1) / w.sum(), [X, P[0]]),
    "cdist": (lambda a, b: ops.cdist(a, b), torch.cdist, [X, Y[:2]]),
    "segment_sum": (lambda x: ops.segment_sum(x, np.array([1, 0, 1]), 3),
                    lambda x: torch.zeros(3, 4, dtype=x.dtype).index_add(0, torch.tensor([1, 0, 1]), x), [X]),
    "slice": (lambda x: ops.slice(x, (1, 1), (2, 2)), lambda x: x[1:3, 1:3], [X]),
    "unstack": (lambda x: ops.unstack(x, axis=1)[2], lambda x: torch.unbind(x, 1)[2], [X]),
    "einsum": (lambda a, b: ops.einsum("bij,kj->bik", a, b), lambda a, b: torch.einsum("bij,kj->bik", a, b), [C, Y]),
}


@pytest.mark.parametrize("case", sorted(GRADIENTS))
def test_gradients_match_torch(case):
    ours, theirs, inputs = GRADIENTS[case]
    compare_with_torch(ours, theirs, *[np.asarray(a, np.float64) for a in inputs])


Z = RNG.standard_normal((4, 5))
ACTIVATIONS = {
    "relu": (ops.relu, F.relu), "relu6": (ops.relu6, F.relu6), "sigmoid": (ops.sigmoid, torch.sigmoid),
    "softplus": (ops.softplus, F.softplus), "softsign": (ops.softsign, F.softsign), "silu": (ops.silu, F.silu),
    "swish": (ops.swish, F.silu), "gelu": (ops.gelu, lambda t: F.gelu(t, approximate="tanh")),
    "gelu exact": (lambda x: ops.gelu(x, approximate=False), F.gelu), "elu": (ops.elu, F.elu),
    "selu": (ops.selu, F.selu), "leaky_relu": (ops.leaky_relu, lambda t: F.leaky_relu(t, 0.2)),
    "hard_sigmoid": (ops.hard_sigmoid, lambda t: torch.clamp(t / 6 + 0.5, 0, 1)),
    "hard_silu": (ops.hard_silu, F.hardswish), "log_sigmoid": (ops.log_sigmoid, F.logsigmoid),
    "celu": (lambda x: ops.celu(x, 0.5), lambda t: F.celu(t, 0.5)), "hard_tanh": (ops.hard_tanh, F.hardtanh),
    "tanh_shrink": (ops.tanh_shrink, F.tanhshrink), "soft_shrink": (ops.soft_shrink, F.softshrink),
    "hard_shrink": (ops.hard_shrink, F.hardshrink), "softmax": (ops.softmax, lambda t: F.softmax(t, -1)),
    "softmax axis 0": (lambda x: ops.softmax(x, axis=0), lambda t: F.softmax(t, 0)),
    "softmax two axes": (lambda x: ops.softmax(x, axis=(0, 1)), lambda t: F.softmax(t.reshape(-1), 0).reshape(t.shape)),
    "log_softmax": (ops.log_softmax, lambda t: F.log_softmax(t, -1)),
    "glu": (ops.glu, lambda t: F.glu(t[:, :4], -1)),
    "squareplus": (ops.squareplus, lambda t: (t + torch.sqrt(t * t + 4)) / 2),
    "sparse_plus": (ops.sparse_plus, lambda t: torch.where(t <= -1, 0.0, torch.where(t < 1, (t + 1) ** 2 / 4, t))),
    "sparse_sigmoid": (ops.sparse_sigmoid, lambda t: torch.clamp((t + 1) / 2, 0, 1)),
    "threshold": (lambda x: ops.threshold(x, 0.1, -2.0), lambda t: F.threshold(t, 0.1, -2.0)),
    "normalize": (ops.normalize, lambda t: F.normalize(t, dim=-1, eps=1e-7)),
    "normalize order 1": (lambda x: ops.normalize(x, axis=0, order=1), lambda t: F.normalize(t, p=1, dim=0)),
    "layer_normalization": (ops.layer_normalization, lambda t: F.layer_norm(t, (5,), eps=1e-7)),
    "rms_normalization": (lambda x: ops.rms_normalization(x, scale=np.arange(5.0)),
                          lambda t: F.rms_norm(t, (5,), torch.arange(5.0, dtype=t.dtype), eps=1e-7)),
}


@pytest.mark.parametrize("case", sorted(ACTIVATIONS))
def test_nn_functions_match_torch_values_and_gradients(case):
    ours, theirs = ACTIVATIONS[case]
    x = Z[:, :4] if case == "glu" else Z
    compare_with_torch(ours, theirs, x)
    compare_with_torch(ours, theirs, x, dtype=np.float32)


def test_conv_and_pooling_match_torch():
    x = RNG.standard_normal((2, 6, 5, 3))
    k = RNG.standard_normal((3, 2, 3, 4))
    nchw, oihw = (0, 3, 1, 2), (3, 2, 0, 1)
    compare_with_torch(lambda a, b: ops.conv(a, b, strides=(2, 1), padding="same"),
                       lambda a, b: F.conv2d(F.pad(a.permute(nchw), (0, 1, 0, 1)), b.permute(oihw), stride=(2, 1))
                       .permute(0, 2, 3, 1), x, k)
    compare_with_torch(lambda a, b: ops.conv(a, b, dilation_rate=2, data_format="channels_first"),
                       lambda a, b: F.conv2d(a, b.permute(oihw), dilation=2), np.transpose(x, nchw)[..., :5, :], k)
    x1, k1 = RNG.standard_normal((2, 7, 3)), RNG.standard_normal((3, 3, 2))
    compare_with_torch(lambda a, b: ops.conv(a, b, strides=2),
                       lambda a, b: F.conv1d(a.transpose(1, 2), b.permute(2, 1, 0), stride=2).transpose(1, 2), x1, k1)
    compare_with_torch(lambda a: ops.max_pool(a, 2), lambda a: F.max_pool2d(a.permute(nchw), 2).permute(0, 2, 3, 1), x)
    compare_with_torch(lambda a: ops.average_pool(a, (3, 2), strides=1),
                       lambda a: F.avg_pool2d(a.permute(nchw), (3, 2), 1).permute(0, 2, 3, 1), x)
    compare_with_torch(lambda a: ops.max_pool(a, 3, 2), lambda a: F.max_pool1d(a.transpose(1, 2), 3, 2).transpose(1, 2),
                       x1)


def test_crossentropies_match_torch():
    logits = RNG.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    compare_with_torch(lambda z: ops.categorical_crossentropy(one_hot, z, from_logits=True),
                       lambda z: F.cross_entropy(z, torch.tensor(labels), reduction="none"), logits)
    compare_with_torch(lambda p: ops.categorical_crossentropy(one_hot, p),
                       lambda p: -(torch.tensor(one_hot) * torch.log(p / p.sum(-1, keepdim=True))).sum(-1), probs)
    compare_with_torch(lambda z: ops.sparse_categorical_crossentropy(labels, z, from_logits=True),
                       lambda z: F.cross_entropy(z, torch.tensor(labels), reduction="none"), logits)
    compare_with_torch(lambda z: ops.sparse_categorical_crossentropy(labels[:, None], ops.softmax(z)),
                       lambda z: F.cross_entropy(z, torch.tensor(labels), reduction="none"), logits)
    targets = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    compare_with_torch(lambda z: ops.binary_crossentropy(targets, z, from_logits=True),
                       lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(targets), reduction="none"), logits)
    compare_with_torch(lambda z: ops.binary_crossentropy(targets, ops.sigmoid(z)),
                       lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(targets), reduction="none"), logits)
    compare_with_torch(lambda p: ops.binary_crossentropy(targets, p),
                       lambda p: F.binary_cross_entropy(p, torch.tensor(targets), reduction="none"),
                       np.clip(probs, 0.01, 0.99))


def test_normalization_and_attention_match_torch():
    x = RNG.standard_normal((6, 3))
    mean, var = x.mean(0), x.var(0)
    compare_with_torch(lambda a, o, s: ops.batch_normalization(a, mean, var + 0.5, axis=-1, offset=o, scale=s),
                       lambda a, o, s: F.batch_norm(a, torch.tensor(mean), torch.tensor(var + 0.5), s, o, eps=1e-3),
                       x, np.arange(3.0), np.ones(3) * 2)
    ours = ops.moments(x, axes=[0])
    np.testing.assert_allclose(ours[0].numpy(), mean)
    np.testing.assert_allclose(ours[1].numpy(), var)
    assert ops.moments(x, axes=[0, 1], keepdims=True)[1].shape == (1, 1)
    q, k, v = RNG.standard_normal((2, 3, 2, 4)), RNG.standard_normal((2, 5, 2, 4)), RNG.standard_normal((2, 5, 2, 4))

    def torch_attention(q, k, v, **kw):
        return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), **kw
                                              ).transpose(1, 2)
    compare_with_torch(lambda a, b, c: ops.dot_product_attention(a, b, c), torch_attention, q, k, v)
    compare_with_torch(lambda a, b, c: ops.dot_product_attention(a, b, c, is_causal=True),
                       lambda a, b, c: torch_attention(a, b, c, is_causal=True), q[:, :, :, :], k[:, :3], v[:, :3])
    mask = RNG.uniform(size=(2, 1, 3, 5)) > 0.3
    mask[..., 0] = True
    compare_with_torch(lambda a, b, c: ops.dot_product_attention(a, b, c, mask=mask, scale=0.5),
                       lambda a, b, c: torch_attention(a, b, c, attn_mask=torch.tensor(mask), scale=0.5), q, k, v)


def test_encodings_and_top_k():
    np.testing.assert_array_equal(ops.one_hot(np.array([0, 3, -1, 4]), 4).numpy(), np.eye(4, dtype="float32")[
        [0, 3, 0, 0]] * np.array([[1], [1], [0], [0]], "float32"))  # out-of-range ids give zeros, as Keras
    assert ops.one_hot(np.array([[0, 1]]), 3, axis=0).shape == (3, 1, 2)
    assert ops.one_hot(np.array([1]), 2, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.multi_hot(np.array([[0, 2], [1, 1]]), 4).numpy(), [[1, 0, 1, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(ops.multi_hot(np.array([0, 2]), num_tokens=3).numpy(), [1, 0, 1])
    values, indices = ops.top_k(np.array([[1.0, 3.0, 3.0, 2.0]]), 3)
    np.testing.assert_array_equal(values.numpy(), [[3.0, 3.0, 2.0]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 2, 3]])  # ties: the lower index first
    np.testing.assert_array_equal(ops.in_top_k(np.array([2, 0, 3]), np.array(
        [[1.0, 3.0, 3.0, 2.0], [0.0, 1.0, 2.0, 3.0], [5.0, 1.0, 1.0, 4.0]]), 2).numpy(), [True, False, True])
    np.testing.assert_array_equal(ops.segment_max(np.array([1.0, 5.0, 2.0]), np.array([0, 0, 2]), 3).numpy(),
                                  [5.0, -np.inf, 2.0])


def test_core_functions():
    x = tf.constant([1.0, 2.0, 3.0])
    assert ops.is_tensor(x) and not ops.is_tensor(np.ones(2))
    assert ops.shape(np.ones((2, 3))) == (2, 3) and ops.dtype(x) == "float32" and ops.ndim(x) == 1 and ops.size(x) == 3
    assert isinstance(ops.convert_to_numpy(x), np.ndarray)
    assert ops.convert_to_tensor([1, 2], dtype="float64").dtype == np.float64
    assert ops.cast(x, "int32").dtype == np.int32
    np.testing.assert_array_equal(ops.saturate_cast(np.array([-5.0, 300.0]), "uint8").numpy(), [0, 255])
    assert ops.cond(ops.greater(ops.sum(x), 5), lambda: "big", lambda: "small") == "big"
    assert ops.switch(7, [lambda v: v, lambda v: -v], 3) == -3
    assert float(ops.fori_loop(0, 4, lambda i, v: v + i, 0.0)) == 6.0
    assert ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0)) == (5, 10)
    assert ops.while_loop(lambda v: v < 100, lambda v: v * 2, 1, maximum_iterations=3) == 8
    carry, ys = ops.scan(lambda c, v: (c + v, c * v), 0.0, x)
    assert float(carry) == 6.0 and ys.numpy().tolist() == [0.0, 2.0, 9.0]
    np.testing.assert_array_equal(ops.map(lambda v: v * 2, x).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(ops.vectorized_map(lambda row: ops.sum(row), np.ones((3, 2))).numpy(), [2, 2, 2])
    np.testing.assert_array_equal(ops.vectorized_map(lambda ab: ab[0] * ab[1], [x, x]).numpy(), [1.0, 4.0, 9.0])
    assert [t.numpy().tolist() for t in ops.unstack(np.eye(2))] == [[1.0, 0.0], [0.0, 1.0]]
    np.testing.assert_array_equal(ops.scatter([[0], [2], [0]], [1.0, 2.0, 3.0], (3,)).numpy(), [4.0, 0.0, 2.0])
    np.testing.assert_array_equal(ops.scatter_update(np.zeros(3), [[1]], [5.0]).numpy(), [0.0, 5.0, 0.0])
    np.testing.assert_array_equal(ops.scatter_update(np.ones(3), [[1], [1]], [5.0, 1.0], reduction="add").numpy(),
                                  [1.0, 7.0, 1.0])


def test_stop_gradient_and_custom_gradient():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = ops.sum(x * ops.stop_gradient(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 2.0])

    @ops.custom_gradient
    def log1pexp(v):
        e = ops.exp(v)

        def grad(*args, upstream=None):  # Keras's documented form
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        return ops.log(1 + e), grad

    big = tf.Variable([50.0, 0.0])
    with tf.GradientTape() as tape:
        out = ops.sum(log1pexp(big))
    np.testing.assert_allclose(tape.gradient(out, big).numpy(), [1.0, 0.5])


ERRORS = [
    (lambda: ops.add("a", X), TypeError, "Argument `x1` must"),
    (lambda: ops.squeeze(X, axis=0), ValueError, "Cannot squeeze axis 0"),
    (lambda: ops.expand_dims(X, 1.5), ValueError, "The `axis` argument to `expand_dims` should be an integer"),
    (lambda: ops.concatenate([X, C], axis=0), ValueError, "Every value in `xs` must have the same shape except"),
    (lambda: ops.concatenate(X), TypeError, "Argument `xs` must be a list or tuple"),
    (lambda: ops.stack([X, X[0]]), ValueError, "Every value in `x` must have the same shape"),
    (lambda: ops.split(X, 3, axis=1), ValueError, "must be divisible by `indices_or_sections`"),
    (lambda: ops.repeat(X, [1, 2], axis=0), ValueError, "Size of `repeats` and dimensions of `axis 0 of x`"),
    (lambda: ops.pad(X, ((1, 1),) * 3), ValueError, "`pad_width` must have the same length as `x.shape`"),
    (lambda: ops.pad(X, 1, mode="edge", constant_values=1), ValueError, "`constant_values` can only be provided"),
    (lambda: ops.tensordot(X, Y, axes=([0], [1])), ValueError, "Shape mismatch on `x1\\[axes\\[0\\]\\]`"),
    (lambda: ops.where(X > 0, X), ValueError, "`x1` and `x2` either both should be `None`"),
    (lambda: ops.moveaxis(C, [0, 1], [0]), ValueError, "`source` and `destination` arguments must have the same"),
    (lambda: ops.diagonal(X[0]), ValueError, "`diagonal` requires an array of at least two dimensions"),
    (lambda: ops.fliplr(X[0]), ValueError, "`fliplr` requires input with 2 or more dimensions"),
    (lambda: ops.sum(X, axis=2), ValueError, "sum: axis 2 is out of range"),
    (lambda: ops.sum(X, axis=1.0), TypeError, "Argument `axis` must be an integer"),
    (lambda: ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4))), ValueError,
     "Arguments `target` and `output` must have the same shape"),
    (lambda: ops.sparse_categorical_crossentropy(np.ones((3,)), np.ones((2, 4))), ValueError,
     "must have the same shape up until the last dimension"),
    (lambda: ops.one_hot(np.array([0.5]), 3), TypeError, "one_hot: `x` must hold integer class ids"),
    (lambda: ops.multi_hot(np.array([0])), ValueError, "Argument `num_classes` must be specified"),
    (lambda: ops.normalize(X, order=0), ValueError, "Argument `order` must be an int >= 1"),
    (lambda: ops.glu(X[:, :3]), ValueError, "axis size must be divisible by 2"),
    (lambda: ops.conv(C, np.ones((3, 3, 4, 2), "float32")), ValueError, "`kernel` must have rank 3"),
    (lambda: ops.conv(X, np.ones((3, 4, 2), "float32")), ValueError, "`inputs` must be 3-D"),
    (lambda: ops.max_pool(C, 2, padding="full"), ValueError, "The `padding` argument must be one of"),
    (lambda: ops.conv(C, np.ones((3, 4, 2), "float32"), data_format="NHWC"), ValueError, "`data_format` argument"),
    (lambda: ops.slice(X, (0, 0), (2,)), ValueError, "Length of `start_indices` must match length of `shape`"),
    (lambda: ops.top_k(X, 5), ValueError, "top_k: `k` must be an integer in \\[0, 4\\]"),
    (lambda: ops.norm(X, ord="max"), ValueError, "Invalid `ord` argument for matrix norm"),  # ("nuc" now works)
    (lambda: ops.einsum("ij,jk", X), ValueError, "Number of operands"),
    (lambda: ops.scatter_update(X, [[0]], np.ones((1, 4)), reduction="max"), ValueError, "Unsupported reduction"),
    (lambda: ops.dot_product_attention(X, X, X), ValueError, "only supports 4D inputs"),
    (lambda: ops.convert_to_tensor([1], sparse=True), ValueError, "`sparse=True` is not supported"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_softmax_over_an_axis_of_size_one_warns_as_keras():
    with pytest.warns(UserWarning, match="This axis has size 1"):
        ops.softmax(np.ones((3, 1), "float32"))


def test_ops_on_symbolic_tensors_build_a_functional_model():
    keras.backend.clear_session()  # layer names count from zero again
    inputs = keras.Input((4,))
    h = layers.Dense(8)(inputs)
    h = ops.relu(h) + ops.sin(h)
    joined = ops.concatenate([h, ops.square(inputs)], axis=-1)
    outputs = layers.Dense(1)(ops.expand_dims(joined, 1))
    assert joined.shape == (None, 12) and outputs.shape == (None, 1, 1)
    model = keras.Model(inputs, outputs)
    assert [layer.name for layer in model.layers][2:6] == ["relu", "sin", "add", "square"]
    x = RNG.standard_normal((5, 4)).astype("float32")
    dense1, dense2 = model.layers[1], model.layers[-1]
    hidden = x @ dense1.kernel.numpy() + dense1.bias.numpy()
    expected = np.concatenate([np.maximum(hidden, 0) + np.sin(hidden), x * x], -1) @ dense2.kernel.numpy() + \
        dense2.bias.numpy()
    np.testing.assert_allclose(model(x).numpy(), expected[:, None, :], rtol=1e-5, atol=1e-5)
    assert ops.shape(inputs) == (None, 4) and ops.dtype(inputs) == "float32"


def test_traced_steps_replay_ops_with_each_replays_values():
    w = tf.Variable(RNG.standard_normal((4, 3)).astype("float32"))

    def step(x, labels):
        logits = ops.matmul(x, w)
        picked = ops.take_along_axis(logits, ops.expand_dims(ops.argmax(logits, axis=1), 1), axis=1)
        mask = ops.cast(ops.greater(logits, ops.mean(logits)), "float32")
        encoded = ops.one_hot(labels, 3)
        return (ops.sum(ops.sort(logits, axis=1) * mask) + ops.sum(picked) + ops.sum(encoded * ops.cumsum(logits, 1))
                + ops.sum(ops.where(ops.less(logits, 0), ops.einsum("ij,ij->i", logits, logits)[:, None], 0.0)))

    traced = TracedFunction(step)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        x, labels = rng.standard_normal((6, 4)).astype("float32"), rng.integers(0, 3, 6)
        np.testing.assert_allclose(float(traced(x, labels)), float(step(tf.constant(x), tf.constant(labels))),
                                   rtol=1e-6)
    assert traced.refusals == {} and len(traced.programs) == 1  # replayed, not run eagerly


class OpsBlock(layers.Layer):
    """A Keras 3 style layer: its weights from build, its call from keras.ops and keras.random only."""

    def __init__(self, units, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rate = units, rate
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.calls = 0

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, x, training=None):
        self.calls += 1
        y = ops.matmul(x, self.w) + self.b
        y = ops.where(ops.greater(y, 0.0), y, 0.1 * y)
        y = ops.cumsum(y, axis=-1) / ops.arange(1, self.units + 1, dtype="float32")
        if training:
            y = keras.random.dropout(y, self.rate, seed=self.seed_generator)
        return ops.tanh(y) * ops.norm(x, axis=-1, keepdims=True)


def test_a_custom_layer_built_from_ops_trains_with_fit_and_is_replayed():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 6)).astype("float32")
    y = (x[:, :1] * 2 - x[:, 1:2]).astype("float32")
    block = OpsBlock(16)
    model = keras.Sequential([keras.Input((6,)), block, layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    calls = block.calls
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0] and model.evaluate(x, y, verbose=0) < 0.5 * before
    assert block.calls - calls <= 4  # 96 training steps: traced, traced again to check, then replayed
    state = block.seed_generator.state.numpy()
    assert state[1] == 96  # the dropout draws advanced the seed generator once per step, replays included


def test_namespaces():
    assert tf.keras.ops is ops and tf.keras.random is keras.random
    assert ops.nn.relu is ops.relu and ops.numpy.matmul is ops.matmul and ops.linalg.norm is ops.norm
    assert ops.math.top_k is ops.top_k and ops.core.scan is ops.scan
    missing = [name for name in ("add", "einsum", "conv", "one_hot", "logsumexp", "vectorized_map", "norm",
                                 "scatter_update", "fori_loop", "while_loop", "cond", "in_top_k", "slice_update")
               if not hasattr(ops, name)]
    assert not missing
