"""Function: the base class of every differentiable op, and the engine's state (grad mode, node order, recorder).

An op is a small class with ``forward`` (arrays in, array out) and ``backward`` (output gradient in, one gradient per
positional input out). Positional arguments of ``apply`` are the inputs (Tensors or constants); keyword arguments are
settings (axes, shapes, strides), which ``forward`` keeps on ``self`` for ``backward``. Backward formulas are written with operators and other ops' ``apply``, so the same formula runs on plain
arrays (the fast path) and on Tensors (``create_graph=True``: the gradient is itself differentiable).

>>> import numpy as np
>>> class Square(Function):
...     # y = x²   ->   dx = g * 2x
...     def forward(self, x):
...         return x * x
...     def backward(self, g):
...         (x,) = self.args
...         return g * 2 * x
>>> Square.apply(Tensor([3.0], requires_grad=True)).numpy()
array([9.], dtype=float32)
"""
from __future__ import annotations

import functools
import itertools
import threading
from typing import Callable

from chainrule.backend import dtype_kind
from chainrule.engine.tensor import Tensor

_creation_order = itertools.count()  # a node made later never feeds one made earlier: backward runs in reverse


def next_order() -> int:
    """A number above every node's made so far and below every later one's (a GradientTape marks its window)."""
    return next(_creation_order)


OPS: dict[str, Callable] = {}  # every public differentiable op, by name; the meta-test holds each to its checks

# While a step is traced (chainrule/engine/tracer.py), the Trace: every op appends (op, inputs, settings, output) as
# it runs, and the calls marked ``replayed``, the gradients and the values read in Python are noted beside them.
# A Trace belongs to the thread that traces; what other threads (tf.data's workers) run meanwhile is not noted.
recorded = None


# The GradientTapes recording with watch_accessed_variables: each is told the inputs of every op that makes a node,
# so that watched_variables() lists the trainable variables read (TensorFlow's tape watches them on access).
variable_watchers: list = []


def tracing():
    """The Trace recording on this thread, or None."""
    trace = recorded
    return trace if trace is not None and trace.thread == threading.get_ident() else None


def op(fn: Callable) -> Callable:
    """Register a public op function (its name is what tests and the meta-test refer to)."""
    OPS[fn.__name__] = fn
    return fn


def replayed(fn: Callable) -> Callable:
    """Mark a Python function whose work a traced step repeats on every replay, with that replay's values: an
    update outside the ops (an optimizer's apply, a metric's update_state, Variable.assign) or a fresh draw (a
    random tensor). While a step is traced, the call runs with the recording paused (what it does inside is its
    own) and is noted with its arguments and result.

    >>> @replayed
    ... def total(values):
    ...     return sum(values)
    >>> total([1, 2])
    3
    """
    @functools.wraps(fn)
    def call(*args, **kwargs):
        global recorded
        trace = tracing()
        if trace is None:
            return fn(*args, **kwargs)
        recorded = None
        try:
            result = fn(*args, **kwargs)
        finally:
            recorded = trace
        trace.call(fn, args, kwargs, result)
        return result
    call.replays = fn  # what a replay calls
    return call


def named(fn: Callable, name: str, doc: str) -> Callable:
    """Give a function made by a factory its public name and docstring."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


# whether any tensor that carries a gradient has been complex: until then no op checks its inputs' dtypes
complex_graphs = False


def note_complex_gradient() -> None:
    """Note that a complex tensor carries a gradient (from now on every op checks for complex inputs)."""
    global complex_graphs
    complex_graphs = True


def _checked_for_complex(fn: "Function", inputs, needs, complex_out: bool) -> "Function":
    """The node for ``fn`` in a graph that may hold complex tensors: ``fn`` itself (its real inputs noted) when its
    backward handles them, a node that refuses to differentiate when it does not, ``fn`` when nothing is complex."""
    complex_in = [needed and dtype_kind(x.data.dtype) == "c" for x, needed in zip(inputs, needs)]
    if not complex_out and True not in complex_in:
        return fn
    note_complex_gradient()
    if not fn.complex_grad:
        return _ComplexGradientRefused(type(fn).__name__)
    real = tuple(i for i, (needed, c) in enumerate(zip(needs, complex_in)) if needed and not c)
    if real:  # a real input beside complex ones: its gradient may come back complex
        fn.real_inputs = real
    return fn


class _ComplexGradientRefused:
    """Stands in the graph for a node whose op has no gradient for complex tensors: asked for one, it says so."""

    graph_out = None
    real_inputs = None

    def __init__(self, op_name: str):
        self.op_name = op_name

    def backward(self, g):
        raise NotImplementedError(f"the gradient of {self.op_name} is not implemented for complex tensors: a "
                                  f"complex tensor reaches it in the graph that a gradient is asked of (ops with "
                                  f"complex gradients: fft, ifft, rfft, irfft, complex, real, imag, conj, angle, abs, "
                                  f"cast, +, -, *, /, reshape, transpose, indexing, concat, sum)")


class _GradMode(threading.local):
    """Whether ops record the graph; switched off by ``no_grad()``. Per thread, as in PyTorch: a tf.data worker
    thread's ``no_grad`` (or comparison op) does not switch it off for the thread that trains."""

    enabled = True


GradMode = _GradMode()


# Keras's autocast: ``hook(op class, inputs) -> inputs``, installed by chainrule.keras.mixed_precision once a mixed
# policy is used (it casts float Variables to a mixed-precision layer's compute dtype); None costs nothing
autocast_hook = None
# tf.debugging.set_log_device_placement: ``observer(op class)`` told of each op as it runs; None costs nothing
op_observer = None


class Function:
    """One node of the graph: remembers its inputs and computes their gradients from its output's."""

    graph_out: Tensor | None = None  # set by the engine while it differentiates this node with create_graph
    # whether backward is right for complex tensors: it takes and gives the gradient g = dL/dRe + i dL/dIm of a
    # real loss L (the conjugate Wirtinger derivative times 2, PyTorch's and TensorFlow's convention); an op without
    # it refuses, when asked for a gradient, to differentiate a graph with complex tensors (never a silent zero)
    complex_grad = False
    # the positions of real inputs of a node whose backward may give them complex gradients: the walk keeps the
    # real part of those (what a real input's change does to a real loss), as PyTorch does; None for most nodes
    real_inputs: tuple[int, ...] | None = None

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op. With no Tensor among ``inputs`` it returns a plain array and records nothing."""
        if autocast_hook is not None:
            inputs = autocast_hook(cls, inputs)
        if op_observer is not None:
            op_observer(cls)
        fn = cls()
        is_tensor = [isinstance(x, Tensor) for x in inputs]
        fn.arrays = arrays = [x.data if t else x for x, t in zip(inputs, is_tensor)]
        out = fn.forward(*arrays, **params)
        if True not in is_tensor:
            if recorded is not None:
                recorded.append((fn, inputs, params, out))
            return out
        result = Tensor._wrap(out)
        if recorded is not None:
            recorded.append((fn, inputs, params, result))
        if GradMode.enabled:
            needs = [t and x.requires_grad for x, t in zip(inputs, is_tensor)]
            if True in needs and (kind := dtype_kind(out.dtype)) in "fc":
                if kind == "c" or complex_graphs:  # (a real-only program never gets here)
                    fn = _checked_for_complex(fn, inputs, needs, kind == "c")
                fn.inputs = inputs
                fn.needs_input_grad = needs
                fn.out = out
                fn.order = next(_creation_order)
                result.requires_grad = True
                result.node = fn
                if variable_watchers:
                    for watcher in variable_watchers:
                        watcher.saw(inputs)
        return result

    @property
    def args(self):
        """The inputs as backward should see them: arrays, or Tensors when building a differentiable gradient."""
        return self.arrays if self.graph_out is None else self.inputs

    @property
    def output(self):
        """The output as backward should see it (array, or the output Tensor under create_graph)."""
        return self.out if self.graph_out is None else self.graph_out

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, g):
        raise NotImplementedError(f"{type(self).__name__} must define backward")
