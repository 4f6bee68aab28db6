"""Reverse-mode differentiation: walk the graph from the output back to the leaves, once, in topological order.

>>> import chainrule as cr
>>> x = cr.Tensor(3.0, requires_grad=True)
>>> (dx,) = cr.grad(x * x * x, [x])
>>> float(dx)
27.0
"""
from __future__ import annotations

import contextlib
from typing import Callable, Sequence

import numpy as np

from chainrule import backend
from chainrule.engine import function
from chainrule.engine.function import GradMode
from chainrule.engine.tensor import Tensor, TensorLike, _to_array

# called at the start of every backward walk that returns gradients (not ``create_graph``, not ``backward()``) with
# (graph, ids of the tensors whose gradients are asked for); it returns None, or a function that the walk calls with
# (leaves, results) whenever those leaves' gradients are complete (chainrule/distributed/overlap.py starts the
# gradient exchange from there)
_final_gradient_hook: Callable | None = None


def set_final_gradient_hook(hook: Callable | None) -> Callable | None:
    """Install ``hook`` (None removes it) for the backward walks from now on; return the one it replaces.

    >>> import chainrule as cr
    >>> x = cr.Variable([2.0])
    >>> done = []
    >>> previous = set_final_gradient_hook(lambda graph, keep: lambda leaves, results: done.extend(
    ...     results[id(leaf)][1].tolist() for leaf in leaves))
    >>> _ = cr.grad((x * x).sum(), [x]); done
    [[4.0]]
    >>> set_final_gradient_hook(previous) is not None
    True
    """
    global _final_gradient_hook
    previous, _final_gradient_hook = _final_gradient_hook, hook
    return previous


@contextlib.contextmanager
def no_grad():
    """Run ops without recording the graph (inference, optimizer updates)."""
    previous = GradMode.enabled
    GradMode.enabled = False
    try:
        yield
    finally:
        GradMode.enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Record the graph again inside a ``no_grad`` block."""
    previous = GradMode.enabled
    GradMode.enabled = True
    try:
        yield
    finally:
        GradMode.enabled = previous


def _initial_grad(output: Tensor, grad: TensorLike | None, create_graph: bool = False):
    """The seed gradient, in the output's dtype (as PyTorch casts it); a Tensor seed stays in the graph when
    ``create_graph`` (so the result can be differentiated with respect to the seed too)."""
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got an output of shape "
                               f"{output.shape}: pass grad= (a tensor of that shape)")
        return backend.xp.ones_like(output.data)
    if not isinstance(grad, Tensor):
        grad = Tensor._wrap(_to_array(grad, output.dtype))
    if grad.shape != output.shape:
        raise ValueError(f"grad of shape {grad.shape} does not match the output's shape {output.shape}")
    if grad.dtype != output.dtype:
        grad = grad.astype(output.dtype)
    return grad if create_graph else grad.data


def _backprop(outputs: Sequence[Tensor], grads: Sequence, create_graph: bool, keep: set[int] | None,
              recorded: Callable[[int], bool] | None = None):
    """Propagate ``grads`` from ``outputs``; return {id(t): (t, gradient)} for leaves and the tensors in ``keep``.

    ``recorded(order)``, when given, says which nodes count (a GradientTape's: those made while it recorded); the
    others' outputs are constants, as leaves. While a step is traced, the walk is noted so that each replay of the
    step runs it again (chainrule/engine/tracer.py).
    """
    graph = Graph(outputs, recorded)
    seeds = list(zip(outputs, grads))
    trace = function.tracing()
    if trace is None:
        return walk(graph, seeds, create_graph, keep)
    function.recorded = None  # the ops of the backward formulas are the walk's, not the traced function's
    try:
        results = walk(graph, seeds, create_graph, keep)
    finally:
        function.recorded = trace
    trace.gradient(graph, seeds, create_graph, keep, results)
    return results


class Graph:
    """The part of the graph a gradient from ``outputs`` flows through: ``nodes``, the tensors made by its nodes,
    newest first (a node's consumers were all made after it, so in this order its gradient is complete when it comes
    up); ``routes``, for each node, where each input's gradient goes (the position of the input's node, the input
    itself when it is a leaf, None when it needs none); ``inner``, {id(tensor): position}."""

    __slots__ = ("nodes", "routes", "inner", "_completions")

    def __init__(self, outputs: Sequence[Tensor], recorded: Callable[[int], bool] | None = None):
        found: dict[int, Tensor] = {}
        stack = [t for t in outputs if t.node is not None]
        while stack:  # a loop, not recursion, so graphs of any depth work
            t = stack.pop()
            key = id(t)
            if key in found:
                continue
            fn = t.node
            if recorded is not None and not recorded(fn.order):
                continue
            found[key] = t
            for x, needed in zip(fn.inputs, fn.needs_input_grad):
                if needed and x.node is not None:
                    stack.append(x)
        self.nodes = nodes = sorted(found.values(), key=_newest_first)
        self.inner = inner = {id(t): k for k, t in enumerate(nodes)}
        routes = []
        for t in nodes:
            fn = t.node
            routes.append(tuple([inner.get(id(x), x) if needed else None
                                 for x, needed in zip(fn.inputs, fn.needs_input_grad)]))
        self.routes = routes
        self._completions = None

    def completions(self) -> list[tuple]:
        """For each node, the leaves whose gradient is complete once that node has delivered its own (the leaves
        it is the last, in walk order, to send a gradient to); made on first use."""
        if self._completions is None:
            last: dict[int, tuple[int, Tensor]] = {}
            for k, route in enumerate(self.routes):
                for target in route:
                    if target is not None and type(target) is not int:
                        last[id(target)] = (k, target)
            done: list[list] = [[] for _ in self.routes]
            for k, leaf in last.values():
                done[k].append(leaf)
            self._completions = [tuple(leaves) for leaves in done]
        return self._completions


def _newest_first(t: Tensor) -> int:
    return -t.node.order


def walk(graph: Graph, seeds, create_graph: bool, keep: set[int] | None) -> dict:
    """The backward walk, the one both eager gradients and replayed steps run: ``seeds`` (tensor, gradient) flow
    through ``graph`` to the leaves; return {id(t): (t, gradient)} for every leaf reached and for the tensors of the
    graph's nodes whose id is in ``keep``. Gradients meeting at a tensor are summed in arrival order."""
    results: dict[int, tuple] = {}
    nodes, routes, inner = graph.nodes, graph.routes, graph.inner
    count = len(nodes)
    pending: list = [None] * count  # the gradient each node has received so far
    kept = keep is not None and not keep.isdisjoint(inner)  # whether a node's own gradient is asked for
    hook = _final_gradient_hook
    on_final = None if hook is None or create_graph or keep is None else hook(graph, keep)
    finals = None if on_final is None else graph.completions()
    # deliver the seeds, then walk the nodes in order, each delivering its inputs' gradients
    route, grads = [inner.get(id(t), t) for t, _ in seeds], [g for _, g in seeds]
    k = 0
    grad_mode = GradMode.enabled
    GradMode.enabled = create_graph
    try:
        while True:
            for target, g in zip(route, grads):
                if g is None or target is None:
                    continue
                if type(target) is int:  # a node still to walk: its gradient adds up until its turn
                    previous = pending[target]
                    pending[target] = g if previous is None else previous + g
                else:  # a leaf
                    key = id(target)
                    previous = results.get(key)
                    results[key] = (target, g if previous is None else previous[1] + g)
            if finals is not None and k and finals[k - 1]:  # the leaves the node just walked completes
                on_final(finals[k - 1], results)
            while k < count and pending[k] is None:  # nodes no gradient reached
                if finals is not None and finals[k]:
                    on_final(finals[k], results)
                k += 1
            if k == count:
                return results
            g, t, route = pending[k], nodes[k], routes[k]
            pending[k] = None
            k += 1
            if kept and id(t) in keep:
                results[id(t)] = (t, g)
            fn = t.node
            if create_graph:
                fn.graph_out = t
                try:
                    grads = fn.backward(g)
                finally:
                    fn.graph_out = None
            else:
                grads = fn.backward(g)
            if type(grads) is not tuple:
                grads = (grads,)
            if fn.real_inputs is not None:  # a real input of a complex node: the real part of its gradient
                grads = _real_parts(grads, fn.real_inputs)
    finally:
        GradMode.enabled = grad_mode


def _real_parts(grads: tuple, positions: tuple[int, ...]) -> tuple:
    """``grads`` with the complex gradients at ``positions`` replaced by their real parts."""
    grads = list(grads)
    for i in positions:
        g = grads[i]
        if g is not None and backend.dtype_kind(g.dtype) == "c":  # (a device array's real part: its namespace's)
            grads[i] = g.real if isinstance(g, (Tensor, np.ndarray)) else backend.array_namespace(g).real(g)
    return tuple(grads)


def _as_grad_tensor(g) -> Tensor:
    return g if isinstance(g, Tensor) else Tensor._wrap(g)


def _check_differentiable(t: Tensor, role: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{role} must be a Tensor, got {type(t).__name__}")
    if backend.dtype_kind(t.dtype) not in "fc":
        raise TypeError(f"cannot take a gradient with respect to an integer tensor ({role} has dtype {t.dtype}); "
                        f"cast it to float32 first")


def _prepare(outputs, grad_outputs, create_graph):
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor,)) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, o in enumerate(outputs):
        _check_differentiable(o, f"output {i}")
        if not o.requires_grad:
            raise RuntimeError(f"output {i} (shape {o.shape}) does not require grad and has no graph: no input it "
                               f"depends on has requires_grad=True")
    grads = [_initial_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    if create_graph:
        grads = [_as_grad_tensor(g) for g in grads]
    return outputs, grads


def backward(output: Tensor, grad: TensorLike | None = None, create_graph: bool = False) -> None:
    """Accumulate the gradient of ``output`` into ``.grad`` of every leaf that requires grad."""
    outputs, grads = _prepare(output, [grad] if grad is not None else None, create_graph)
    for leaf, g in _backprop(outputs, grads, create_graph, keep=None).values():
        g = _as_grad_tensor(g)
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(sum of outputs)/d(inputs), as in ``torch.autograd.grad``; nothing is written into ``.grad``.

    With ``create_graph=True`` the returned gradients are differentiable (Hessian-vector products, penalties).
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, x in enumerate(inputs):
        _check_differentiable(x, f"input {i}")
    outputs, grads = _prepare(outputs, grad_outputs, create_graph)
    found = _backprop(outputs, grads, create_graph, keep={id(x) for x in inputs})
    result = []
    for i, x in enumerate(inputs):
        g = found.get(id(x), (x, None))[1]
        if g is None and not allow_unused:
            raise RuntimeError(f"input {i} (shape {x.shape}) was not used to compute the outputs; "
                               f"pass allow_unused=True to get None for it")
        result.append(None if g is None else _as_grad_tensor(g))
    return tuple(result)
