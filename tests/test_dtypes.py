"""No silent float64: float32 stays float32 through every op, forward and backward (first and second order),
also when the other operand is a Python number, a NumPy float64 scalar or array, or a list."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.ops import OPS
from chainrule.ops.linalg import linear

ENGINE_MODULES = {f"chainrule.ops.{m}" for m in ("math", "reduce", "shape", "linalg", "activation")}

# one call per registered op, on x of shape (2, 3) with values in [0.5, 2]
ONE_CALL = {
    "add": lambda x: x + x[0], "sub": lambda x: x - x[:, :1], "mul": lambda x: x * x, "div": lambda x: x / x[1],
    "pow": lambda x: x ** x, "mod": lambda x: x % (x[1] * 0.3) + 2.5 % x, "maximum": lambda x: cr.maximum(x, x[:, ::-1]), "minimum": lambda x: cr.minimum(x, 1.2),
    "neg": ops.neg, "exp": cr.exp, "log": cr.log, "sqrt": cr.sqrt, "abs": cr.abs, "erf": cr.erf,
    "where": lambda x: cr.where(x > 1.0, x * x, -x), "clip": lambda x: cr.clip(x, 0.7, 1.5),
    "sum": lambda x: cr.reduce_sum(x * x, 1), "mean": lambda x: cr.reduce_mean(x * x),
    "max": lambda x: cr.reduce_max(x * x, 0), "min": lambda x: cr.reduce_min(x * x, 1, keepdims=True),
    "logsumexp": lambda x: cr.reduce_logsumexp(x, 1), "var": lambda x: cr.reduce_variance(x, 0),
    "relu": ops.relu, "sigmoid": cr.sigmoid, "tanh": cr.tanh, "softplus": ops.softplus,
    "leaky_relu": lambda x: ops.leaky_relu(x - 1.0), "elu": lambda x: ops.elu(x - 1.0), "gelu": ops.gelu,
    "softmax": cr.softmax, "log_softmax": ops.log_softmax,
    "matmul": lambda x: x @ cr.transpose(x), "linear": lambda x: linear(x, cr.transpose(x * x), x[0, :2]),
    "getitem": lambda x: x[[0, 0], 1:] * x[1, :2],
    "reshape": lambda x: cr.reshape(x * x, (3, 2)), "transpose": lambda x: cr.transpose(x * x),
    "broadcast_to": lambda x: cr.broadcast_to(x[:1] * x[:1], (4, 3)), "concat": lambda x: cr.concat([x, x * x], 1),
    "stack": lambda x: cr.stack([x, x * x], -1), "split": lambda x: cr.split(x * x, 3, axis=1)[2],
    "pad": lambda x: cr.pad(x * x, [[1, 1], [0, 2]], 1.0), "gather": lambda x: cr.gather(x * x, [1, 1, 0], axis=1),
    "log1p": ops.log1p, "expm1": ops.expm1, "sin": ops.sin, "cos": ops.cos, "tan": lambda x: ops.tan(x * 0.5),
    "arcsin": lambda x: ops.arcsin(x * 0.4), "arccos": lambda x: ops.arccos(x * 0.4), "arctan": ops.arctan,
    "sinh": ops.sinh, "cosh": ops.cosh, "arcsinh": ops.arcsinh, "arccosh": lambda x: ops.arccosh(x + 1.0),
    "arctanh": lambda x: ops.arctanh(x * 0.4), "arctan2": lambda x: ops.arctan2(x, x[::-1] - 1.0),
}


def sample(dtype, shape=(2, 3)):
    return cr.Tensor(np.random.default_rng(0).uniform(0.5, 2.0, shape).astype(dtype), requires_grad=True)


def assert_dtype_kept(fn, x, dtype):
    """Forward, backward and a differentiable (second-order) backward all stay in ``dtype``."""
    y = fn(x)
    assert y.dtype == dtype, f"forward gives {y.dtype}"
    ones = np.ones(y.shape, dtype)
    (g,) = cr.grad(y, [x], grad_outputs=ones)
    assert g.dtype == dtype, f"backward gives {g.dtype}"
    (g,) = cr.grad(y, [x], grad_outputs=ones, create_graph=True)
    assert g.dtype == dtype, f"backward with create_graph gives {g.dtype}"
    if g.requires_grad:
        (gg,) = cr.grad(cr.reduce_sum(g * g), [x], allow_unused=True)
        assert gg is None or gg.dtype == dtype, f"second-order backward gives {gg.dtype}"


def test_the_table_has_every_engine_op():
    engine_ops = {name for name, fn in OPS.items() if fn.__module__ in ENGINE_MODULES}
    assert engine_ops <= set(ONE_CALL), f"ops missing from ONE_CALL: {sorted(engine_ops - set(ONE_CALL))}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(ONE_CALL))
def test_every_op_keeps_the_float_dtype(name, dtype):
    assert_dtype_kept(ONE_CALL[name], sample(dtype), dtype)


OTHER_OPERANDS = {
    "python float": 0.75, "python int": 2, "np.float64": np.float64(0.75), "np.float32": np.float32(0.75),
    "np.int64": np.int64(2), "0-d float64 array": np.array(0.75), "list": [0.75, 1.5, 1.25],
    "float64 array": np.full((2, 3), 0.75), "int64 array": np.array([1, 2, 3]),
}
BINARY_FORMS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "**": lambda a, b: a ** b, "maximum": cr.maximum, "minimum": cr.minimum,
    "where": lambda a, b: cr.where(np.array([True, False, True]), a, b),
}


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("other", sorted(OTHER_OPERANDS))
@pytest.mark.parametrize("form", sorted(BINARY_FORMS))
def test_a_constant_operand_does_not_promote_float32(form, other, side):
    fn, c = BINARY_FORMS[form], OTHER_OPERANDS[other]
    assert_dtype_kept((lambda x: fn(x, c)) if side == "left" else (lambda x: fn(c, x)), sample(np.float32),
                      np.float32)


SETTINGS = {
    "matmul float64 array": lambda x: x @ np.ones((3, 2)), "matmul list": lambda x: [[1.0, 2.0]] @ x,
    "clip np.float64 bounds": lambda x: cr.clip(x, np.float64(0.7), np.float64(1.5)),
    "clip float64 array bound": lambda x: cr.clip(x, np.full(3, 0.7), None),
    "leaky_relu np.float64 alpha": lambda x: ops.leaky_relu(x - 1.0, np.float64(0.1)),
    "elu np.float64 alpha": lambda x: ops.elu(x - 1.0, np.float64(0.5)),
    "pad np.float64 value": lambda x: cr.pad(x, [[1, 0], [0, 1]], np.float64(0.5)),
    "mean": lambda x: cr.reduce_mean(x, 0), "gelu tanh": lambda x: ops.gelu(x, approximate=True),
    "python pow": lambda x: 2.0 ** x, "np.float64 pow": lambda x: np.float64(2.0) ** x,
}


@pytest.mark.parametrize("case", sorted(SETTINGS))
def test_settings_and_constants_do_not_promote_float32(case):
    assert_dtype_kept(SETTINGS[case], sample(np.float32), np.float32)


def test_cast_round_trip_gives_the_gradient_in_the_input_dtype():
    x = sample(np.float32)
    y = cr.cast(x, cr.float64)
    assert y.dtype == np.float64
    (g,) = cr.grad(cr.reduce_sum(y * y), [x])
    assert g.dtype == np.float32
    assert cr.cast(x, np.float32) is x


def test_a_float64_seed_gradient_is_cast_to_the_output_dtype():
    x = sample(np.float32)
    (x * 2.0).backward(np.ones((2, 3)))
    assert x.grad.dtype == np.float32
    (g,) = cr.grad(x * 2.0, [x], grad_outputs=cr.Tensor(np.ones((2, 3))))
    assert g.dtype == np.float32
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    assert tape.gradient(y, x, output_gradients=np.ones((2, 3))).dtype == np.float32


def test_new_tensors_default_to_float32_and_arrays_keep_their_dtype():
    assert cr.Tensor([1.0, 2.0]).dtype == np.float32 and cr.constant(1.5).dtype == np.float32
    assert cr.Variable(1.0).dtype == np.float32 and cr.Variable([[1.0]]).dtype == np.float32
    assert cr.Tensor(np.ones(2)).dtype == np.float64 and cr.Tensor([1, 2]).dtype == np.int32  # Python ints: int32, as TensorFlow
    assert cr.Tensor(np.ones(2), dtype=np.float32).dtype == np.float32
    cr.backend.set_floatx("float64")
    try:
        assert cr.Tensor([1.0]).dtype == np.float64
    finally:
        cr.backend.set_floatx("float32")


def test_integer_tensor_with_a_python_float_gives_floatx_like_pytorch():
    ints = cr.constant([1, 2])
    assert (ints * 0.5).dtype == np.float32 and (0.5 + ints).dtype == np.float32
    assert (ints * 2).dtype == np.int32


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
@pytest.mark.parametrize("int_dtype", ["int64", "int32", "bool"])
def test_a_float32_tensor_with_an_integer_tensor_stays_float32_like_pytorch(op, int_dtype):
    w = cr.Variable([1.0, 2.0])
    k = cr.Tensor(np.array([1, 2], dtype=int_dtype))
    fn = {"add": cr.add, "sub": cr.subtract, "mul": cr.multiply, "div": cr.divide, "maximum": cr.maximum}[op]
    with cr.GradientTape() as tape:
        y = fn(w, k)
        z = fn(k, w)
        total = cr.reduce_sum(y) + cr.reduce_sum(z)
    assert y.dtype == z.dtype == np.float32
    assert tape.gradient(total, w).dtype == np.float32
