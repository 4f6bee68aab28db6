"""The autograd engine: deep graphs, accumulation, no_grad, detach, integer tensors, operators, grad(), errors."""
import sys

import numpy as np
import pytest
import torch
from helpers import compare_with_torch

import chainrule as cr
from chainrule.engine.autograd import enable_grad, no_grad


def leaf(values, dtype=np.float64):
    return cr.Tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- graph walk -----------------------------------------------------------------------------------------------------
def test_a_chain_of_10000_ops_backpropagates_without_recursion():
    limit = sys.getrecursionlimit()
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001
        y = y - 0.001
    cr.reduce_sum(y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000] * 2, rtol=1e-12)
    (dx,) = cr.grad(cr.reduce_sum(y * y), [x], create_graph=True)  # a differentiable gradient over the same depth
    assert dx.requires_grad
    del y, dx  # freeing the long graph must not crash either
    assert sys.getrecursionlimit() == limit


def test_a_tensor_used_twice_accumulates_its_gradient():
    x = leaf([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)
    z = leaf([4.0])
    (z + z).sum().backward()  # the same tensor as both inputs of one op
    assert z.grad.numpy().tolist() == [2.0]


def test_diamond_graph_matches_torch():
    def f(lib_exp, x):
        a = x * 2.0
        return lib_exp(a) * a + a

    compare_with_torch(lambda x: f(cr.exp, x), lambda x: f(torch.exp, x), np.array([0.5, -1.0, 2.0]))


def test_two_backward_calls_accumulate_into_grad_and_zero_grad_resets():
    x = leaf([1.0, 2.0])
    y = cr.reduce_sum(x * x)
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())
    x.zero_grad()
    assert x.grad is None
    cr.reduce_sum(3.0 * x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_only_leaves_get_grad():
    x = leaf([1.0, 2.0])
    hidden = x * 3.0
    cr.reduce_sum(hidden * hidden).backward()
    assert hidden.grad is None and not hidden.is_leaf and x.is_leaf
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.numpy())


def test_backward_with_an_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -6.0])


# --- recording ------------------------------------------------------------------------------------------------------
def test_no_grad_records_nothing_and_restores_the_mode():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = x * x
        with enable_grad():
            z = x * x
    assert not y.requires_grad and y.node is None
    assert z.requires_grad and z.node is not None
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0
    assert (x * x).requires_grad, "no_grad must restore recording after an exception"


def test_detach_cuts_the_graph_and_shares_memory():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.node is None and np.shares_memory(d.numpy(), x.numpy())
    y = x * x.detach()  # d/dx (x * c) = c
    cr.reduce_sum(y).backward()
    np.testing.assert_allclose(x.grad.numpy(), x.numpy())


def test_requires_grad_on_an_integer_tensor_raises():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype int32"):
        cr.Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="dtype int32"):
        cr.Tensor(np.array([1, 2], np.int32)).requires_grad_()
    assert not cr.Variable([1, 2]).requires_grad


def test_integer_tensors_carry_no_gradient_through_ops():
    i = cr.Tensor([1, 2, 3])
    assert not (i * 2 + i).requires_grad
    x = leaf([1.0, 1.0, 1.0])
    y = x * i
    (dx,) = cr.grad(cr.reduce_sum(y), [x])
    np.testing.assert_array_equal(dx.numpy(), [1.0, 2.0, 3.0])
    assert y.node.needs_input_grad == [True, False]
    as_int = cr.cast(x * 2.0, np.int32)
    assert as_int.dtype == np.int32 and not as_int.requires_grad
    assert not x.argmax().requires_grad


@pytest.mark.parametrize("compare", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons_give_boolean_tensors_without_gradient(compare):
    x = leaf([1.0, 2.0, 3.0])
    for other in (2.0, np.array([2.0, 2.0, 2.0]), cr.constant([2.0, 2.0, 2.0])):
        result = eval(f"x {compare} other")
        assert isinstance(result, cr.Tensor) and result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), eval(f"x.numpy() {compare} np.asarray(other)"))


def test_a_comparison_as_a_where_condition():
    x = leaf([-1.0, 2.0])
    (dx,) = cr.grad(cr.reduce_sum(cr.where(x > 0, x * x, -x)), [x])
    np.testing.assert_array_equal(dx.numpy(), [-1.0, 4.0])


# --- array protocol and operators -----------------------------------------------------------------------------------
def test_array_protocol_and_attributes():
    t = cr.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.ndim == 2 and t.size == 6 and len(t) == 2
    arr = np.asarray(t)
    assert isinstance(arr, np.ndarray) and np.shares_memory(arr, t.numpy())
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.array(t), [[1, 2, 3], [4, 5, 6]])
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]] and [r.shape for r in t] == [(3,), (3,)]
    s = cr.reduce_sum(t)
    assert float(s) == 21.0 and int(s) == 21 and s.item() == 21.0 and s.numpy().shape == ()
    assert "requires_grad=True" in repr(leaf([1.0])) and "dtype=float32" in repr(t)


A = np.array([[1.5, -2.0], [0.5, 3.0]])
# expression on (x, c) where c is the NumPy array A (chainrule) or torch.tensor(A) (torch); both orders
OPERATORS = {
    "c + x": lambda x, c: c + x, "x + c": lambda x, c: x + c,
    "c - x": lambda x, c: c - x, "x - c": lambda x, c: x - c,
    "c * x": lambda x, c: c * x, "x * c": lambda x, c: x * c,
    "c / x": lambda x, c: c / x, "x / c": lambda x, c: x / c,
    "abs(c) ** x": lambda x, c: abs(c) ** x, "abs(x) ** c": lambda x, c: abs(x) ** c,
    "c @ x": lambda x, c: c @ x, "x @ c": lambda x, c: x @ c,
    "-x, +x, abs(x)": lambda x, c: -x + (+x) * abs(x),
    "2 - x / 3": lambda x, c: 2 - x / 3, "2 / x * 3": lambda x, c: 2 / x * 3, "2 ** x": lambda x, c: 2 ** x,
}


@pytest.mark.parametrize("expr", sorted(OPERATORS))
def test_operators_incl_reflected_ndarray_on_the_left_give_tensors_with_gradients(expr):
    fn = OPERATORS[expr]
    x = np.array([[0.7, -1.2], [2.0, 0.4]])
    out = compare_with_torch(lambda t: fn(t, A), lambda t: fn(t, torch.tensor(A)), x)
    assert isinstance(out, cr.Tensor) and out.requires_grad


def test_reflected_ops_with_numpy_scalars_give_tensors():
    x = leaf([1.0, 2.0], np.float32)
    for out in (np.float32(2.0) * x, np.float64(2.0) - x, np.int64(3) + x):
        assert isinstance(out, cr.Tensor) and out.requires_grad and out.dtype == np.float32


def test_indexing_is_differentiable_and_repeated_indices_add_up():
    x = leaf(np.arange(6.0).reshape(2, 3))
    basic, repeated, masked = x[0, ::2], x[[1, 1, 1], [0, 0, 2]], x[x > 3.5]
    (cr.reduce_sum(basic) + 10.0 * cr.reduce_sum(repeated) + 100.0 * cr.reduce_sum(masked)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 1.0], [20.0, 100.0, 110.0]])


# --- chainrule.grad, like torch.autograd.grad -------------------------------------------------------------------------
def test_grad_allow_unused_grad_outputs_and_multiple_outputs():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*allow_unused=True"):
        cr.grad(cr.reduce_sum(x * x), [x, unused])
    dx, du = cr.grad(cr.reduce_sum(x * x), [x, unused], allow_unused=True)
    assert du is None and x.grad is None, "grad() must not write .grad"
    np.testing.assert_array_equal(dx.numpy(), [2.0, 4.0])
    (dx,) = cr.grad(x * x, [x], grad_outputs=cr.Tensor([1.0, -1.0], dtype=np.float64))
    np.testing.assert_array_equal(dx.numpy(), [2.0, -4.0])
    (dx,) = cr.grad([cr.reduce_sum(x), cr.reduce_sum(x * x)], [x])  # the outputs' gradients add up
    np.testing.assert_array_equal(dx.numpy(), [3.0, 5.0])
    (dx,) = cr.grad([x * 2.0, cr.reduce_sum(x)], [x], grad_outputs=[np.array([1.0, 0.0]), None])
    np.testing.assert_array_equal(dx.numpy(), [3.0, 1.0])


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    dh, dx = cr.grad(cr.reduce_sum(h * h), [h, x])
    np.testing.assert_array_equal(dh.numpy(), 2 * h.numpy())
    np.testing.assert_array_equal(dx.numpy(), 18 * x.numpy())


def test_grad_create_graph_gives_a_differentiable_gradient():
    x = leaf([3.0])
    (dx,) = cr.grad(x * x * x, [x], create_graph=True)
    (ddx,) = cr.grad(dx, [x])
    assert dx.numpy().tolist() == [27.0] and ddx.numpy().tolist() == [18.0]


# --- errors name the op and the shapes ------------------------------------------------------------------------------
M23, M43 = cr.constant(np.ones((2, 3))), cr.constant(np.ones((4, 3)))
ERRORS = {
    "matmul": (lambda: cr.matmul(M23, M43), ValueError,
               r"matmul: shapes \(2, 3\) and \(4, 3\) are not aligned.*\(3\).*\(4\)"),
    "matmul operator": (lambda: M23 @ M23, ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\) are not aligned"),
    "matmul vector": (lambda: cr.matmul(M23, np.ones(4)), ValueError, r"matmul: shapes \(2, 3\) and \(4,\)"),
    "matmul batch": (lambda: cr.matmul(np.ones((2, 2, 3)), cr.constant(np.ones((3, 3, 1)))), ValueError,
                     r"matmul: batch dimensions of \(2, 2, 3\) and \(3, 3, 1\) cannot be broadcast"),
    "matmul scalar": (lambda: cr.matmul(M23, 2.0), ValueError, r"matmul: .*at least one dimension.*\(2, 3\) and \(\)"),
    "add": (lambda: M23 + M43, ValueError, r"add: shapes \(2, 3\) and \(4, 3\) cannot be broadcast together"),
    "sub": (lambda: M23 - np.ones(2), ValueError, r"sub: shapes \(2, 3\) and \(2,\) cannot be broadcast"),
    "mul": (lambda: np.ones((3, 2)) * M23, ValueError, r"mul: shapes \(3, 2\) and \(2, 3\) cannot be broadcast"),
    "div": (lambda: M23 / [1.0, 2.0], ValueError, r"div: shapes \(2, 3\) and \(2,\) cannot be broadcast"),
    "pow": (lambda: M23 ** M43, ValueError, r"pow: shapes \(2, 3\) and \(4, 3\)"),
    "maximum": (lambda: cr.maximum(M23, M43), ValueError, r"maximum: shapes \(2, 3\) and \(4, 3\)"),
    "where": (lambda: cr.where(np.ones(4, bool), M23, 0.0), ValueError, r"where: shapes \(4,\) and \(2, 3\)"),
    "reshape": (lambda: M23.reshape(5), ValueError,
                r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 values\) into shape \(5,\)"),
    "transpose": (lambda: cr.transpose(M23, (0, 0)), ValueError, r"transpose: perm \(0, 0\) .*shape \(2, 3\)"),
    "broadcast_to": (lambda: cr.broadcast_to(M23, (1, 3)), ValueError, r"broadcast_to: .*\(2, 3\) to \(1, 3\)"),
    "broadcast_to new axis": (lambda: cr.broadcast_to(M23, (3, 3)), ValueError,
                              r"broadcast_to: .*\(2, 3\) to \(3, 3\)"),
    "concat": (lambda: cr.concat([M23, M43], axis=1), ValueError,
               r"concat: shapes \[\(2, 3\), \(4, 3\)\] differ outside axis 1"),
    "concat rank": (lambda: cr.concat([M23, np.ones(3)]), ValueError, r"concat: shapes \[\(2, 3\), \(3,\)\]"),
    "concat axis": (lambda: cr.concat([M23, M23], axis=2), ValueError, "concat: axis 2 is out of range"),
    "stack": (lambda: cr.stack([M23, M43]), ValueError, r"stack: .*same shape.*\[\(2, 3\), \(4, 3\)\]"),
    "split parts": (lambda: cr.split(M23, 2, axis=1), ValueError, "split: axis 1 of size 3 does not divide into 2"),
    "split sizes": (lambda: cr.split(M23, [1, 1], axis=1), ValueError, r"split: sizes \[1, 1\] do not add up to 3"),
    "pad": (lambda: cr.pad(M23, [[1, 1]]), ValueError, "pad: got 1 .* rank 2"),
    "gather dtype": (lambda: cr.gather(M23, [0.5]), TypeError, "gather: indices must be integers"),
    "gather range": (lambda: cr.gather(M23, [0, 2]), IndexError, "gather: indices out of range for axis 0 of size 2"),
    "gather axis": (lambda: cr.gather(M23, [0], axis=-3), ValueError, "gather: axis -3 is out of range"),
    "getitem": (lambda: M23[2], IndexError, r"getitem: index 2 is invalid for a tensor of shape \(2, 3\)"),
    "backward of a non-scalar": (lambda: (leaf(np.ones((2, 3))) * 2).backward(), RuntimeError,
                                 r"grad can be implicitly created only for scalar outputs.*shape \(2, 3\)"),
    "backward with a wrong-shaped grad": (lambda: (leaf(np.ones((2, 3))) * 2).backward(np.ones(3)), ValueError,
                                          r"grad of shape \(3,\) does not match the output's shape \(2, 3\)"),
    "grad of an integer input": (lambda: cr.grad(cr.reduce_sum(leaf([1.0])), [cr.Tensor([1, 2])]), TypeError,
                                 r"integer tensor \(input 0 has dtype int32\)"),
    "grad of an integer output": (lambda: cr.grad(cr.Tensor([1, 2]), [leaf([1.0])]), TypeError,
                                  r"integer tensor \(output 0 has dtype int32\)"),
    "grad of a constant": (lambda: cr.grad(cr.reduce_sum(M23), [leaf([1.0])]), RuntimeError,
                           r"output 0 \(shape \(\)\) does not require grad"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_input_gets_a_clear_error(case):
    call, error, message = ERRORS[case]
    with pytest.raises(error, match=message):
        call()


def test_format_of_a_scalar_tensor_is_the_value():
    assert f"{cr.constant(0.123456):.3f}" == "0.123"
    assert f"{cr.constant([1.0])}".startswith("tensor(")


def test_version_matches_the_package_metadata():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    assert cr.CHAINRULE_VERSION == project["version"]
    assert cr.__version__ == f"2.21.0+chainrule.{project['version']}"  # tf.__version__: TensorFlow 2's first


def test_tf_function_runs_the_function_eagerly_with_or_without_arguments():
    calls = []

    @cr.function
    def step(x):
        calls.append(1)
        return x * 2

    @cr.function(jit_compile=True, reduce_retracing=True)
    def other(x):
        return x + 1

    assert float(step(cr.constant(3.0))) == 6.0 and float(step(cr.constant(4.0))) == 8.0 and len(calls) == 2
    assert float(other(cr.constant(1.0))) == 2.0
    with pytest.raises(TypeError, match="takes a function"):
        cr.function(3)
