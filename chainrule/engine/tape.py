"""GradientTape with TensorFlow's semantics, on top of the engine's graph.

The engine records every op whose inputs require grad (as PyTorch does); the tape decides what counts. Its window:
only the ops run while it recorded (inside ``with``, outside ``stop_recording``) are differentiated, and a value
computed before the tape, or outside its window, is a constant, as in TensorFlow. Its sources: trainable Variables
(watched automatically) and tensors passed to ``watch``. Calling ``gradient`` while another tape records builds a
differentiable gradient, so nested tapes give second derivatives as in TensorFlow.

>>> import chainrule as tf
>>> x = tf.constant(3.0)
>>> with tf.GradientTape() as outer:
...     outer.watch(x)
...     with tf.GradientTape() as inner:
...         inner.watch(x)
...         y = x * x * x
...     dy = inner.gradient(y, x)
>>> float(outer.gradient(dy, x))
18.0
"""
from __future__ import annotations

import contextlib
import itertools
from typing import Any, Iterator

from chainrule import backend
from chainrule.engine.autograd import _backprop, _check_differentiable, _prepare
from chainrule.engine import function
from chainrule.engine.function import GradMode, next_order, replayed
from chainrule.engine.tensor import Tensor, Variable
from chainrule.utils import tree

_recording: list["GradientTape"] = []


class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape``."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched: list[Tensor] = []  # every tensor given to watch()
        self._accessed: dict[int, Variable] = {}  # the trainable variables its ops read, in the order first read
        self._switched_on: list[Tensor] = []  # those whose requires_grad watch() turned on, turned off at exit
        self._used = False
        self._grad_mode_before = True
        self._windows: list[list] = []  # [first, end) node orders recorded; end None while recording

    def __enter__(self) -> "GradientTape":
        _recording.append(self)
        self._grad_mode_before = GradMode.enabled
        GradMode.enabled = True
        self._windows.append([next_order(), None])
        if self.watch_accessed_variables:
            function.variable_watchers.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _recording.remove(self)
        if self in function.variable_watchers:
            function.variable_watchers.remove(self)
        GradMode.enabled = self._grad_mode_before
        self._close_window()
        for t in self._switched_on:  # a watched constant is a constant again outside the tape, as in TensorFlow
            t.requires_grad = False
        self._switched_on = []

    def watch(self, tensor: Any) -> None:
        """Make ``tensor`` (or a structure of tensors) a source whose gradient can be asked for."""
        for t in tree.flatten(tensor):
            _check_differentiable(t, "a watched tensor")
            self._watched.append(t)
            if not t.requires_grad:
                t.requires_grad = True
                self._switched_on.append(t)

    def watched_variables(self) -> tuple[Tensor, ...]:
        """The tensors given to ``watch`` and the trainable variables the recorded ops read, each once.

        >>> import chainrule as tf
        >>> w, frozen = tf.Variable(1.0, name="w"), tf.Variable(2.0, name="frozen", trainable=False)
        >>> with tf.GradientTape() as tape:
        ...     y = w * frozen
        >>> [v.name for v in tape.watched_variables()]
        ['w']
        """
        seen = {id(t) for t in self._watched}
        return tuple(self._watched) + tuple(v for k, v in self._accessed.items() if k not in seen)

    def saw(self, inputs: tuple) -> None:
        """Note the trainable variables among an op's inputs (called by the engine while this tape records)."""
        for x in inputs:
            if isinstance(x, Variable) and x.requires_grad and id(x) not in self._accessed:
                self._accessed[id(x)] = x

    def reset(self) -> None:
        """Forget what was watched."""
        for t in self._switched_on:
            t.requires_grad = False
        self._watched, self._switched_on, self._accessed = [], [], {}

    @contextlib.contextmanager
    def stop_recording(self):
        """A context in which ops are not recorded."""
        from chainrule.engine.autograd import no_grad

        self._close_window()
        try:
            with no_grad():
                yield
        finally:
            if self in _recording:
                self._windows.append([next_order(), None])

    def _close_window(self) -> None:
        if self._windows and self._windows[-1][1] is None:
            self._windows[-1][1] = next_order()

    def _recorded(self, order: int) -> bool:
        """Whether the node made ``order``-th ran while this tape recorded."""
        for first, end in self._windows:
            if first < order and (end is None or order < end):
                return True
        return False

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients: str = "none"):
        """d(target)/d(sources), shaped like ``sources``; ``None`` (or zeros) for a source the target ignores."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians); create it with persistent=True to call gradient() again")
        self._used = True
        flat = type(sources) in (list, tuple) and all(type(s) is Variable for s in sources)  # trainable_variables
        flat_sources = list(sources) if flat else tree.flatten(sources)
        for i, s in enumerate(flat_sources):
            _check_differentiable(s, f"source {i}")
        targets = [t for t in tree.flatten(target)]
        connected = [t for t in targets if isinstance(t, Tensor) and t.requires_grad]
        found = {}
        if connected:
            if output_gradients is None:  # TensorFlow differentiates the sum of a non-scalar target
                grads = [backend.xp.ones_like(t.data) for t in connected]
            else:
                grads = [g for t, g in zip(targets, tree.flatten(output_gradients)) if t.requires_grad]
            create_graph = bool(_recording)
            outputs, seeds = _prepare(connected, grads, create_graph)
            found = _backprop(outputs, seeds, create_graph, keep={id(s) for s in flat_sources},
                              recorded=self._recorded)
        watched = {id(t) for t in self._watched}
        results = [self._result(s, found.get(id(s)) if self._is_source(s, watched) else None, unconnected_gradients)
                   for s in flat_sources]
        if flat:
            return results if type(sources) is list else tuple(results)
        return tree.pack_sequence_as(sources, results)

    def jacobian(self, target, sources, unconnected_gradients: str = "none", parallel_iterations=None,
                 experimental_use_pfor: bool = True):
        """d(target)/d(sources) element by element: for each source a tensor of shape ``target.shape +
        source.shape`` (one backward pass per element of ``target``); ``None`` (or zeros) for an unconnected one.

        >>> import chainrule as tf
        >>> x = tf.constant([1.0, 2.0])
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.jacobian(y, x).numpy()
        array([[2., 0.],
               [0., 4.]], dtype=float32)
        """
        flat_sources = tree.flatten(sources)
        target = _as_tensor(target)
        rows = self._rows("jacobian", experimental_use_pfor, target, flat_sources, list(_ndindex(target.shape)))
        results = []
        for s, source_rows in zip(flat_sources, rows):
            if source_rows is None:
                results.append(None if unconnected_gradients == "none" else
                               Tensor._wrap(backend.xp.zeros(target.shape + s.shape, dtype=s.dtype)))
            else:
                results.append(_stack(source_rows, 0).reshape(target.shape + s.shape))
        return tree.pack_sequence_as(sources, results)

    def batch_jacobian(self, target, source, unconnected_gradients: str = "none", parallel_iterations=None,
                       experimental_use_pfor: bool = True):
        """Per-example jacobians, shape ``(batch,) + target.shape[1:] + source.shape[1:]``, of a target whose row i
        depends on row i of ``source`` only (one backward pass per element of a target row); zeros when the target
        does not depend on the source.

        >>> import chainrule as tf
        >>> x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.batch_jacobian(y, x).numpy()
        array([[[2., 0.],
                [0., 4.]],
        <BLANKLINE>
               [[6., 0.],
                [0., 8.]]], dtype=float32)
        """
        target = _as_tensor(target)
        if target.ndim < 2 or source.ndim < 2 or target.shape[0] != source.shape[0]:
            raise ValueError(f"Need first dimension of target shape ({target.shape}) and source shape "
                             f"({source.shape}) to match.")
        positions = [(slice(None),) + index for index in _ndindex(target.shape[1:])]  # one element of every row
        (rows,) = self._rows("batch_jacobian", experimental_use_pfor, target, [source], positions)
        shape = target.shape + source.shape[1:]
        if rows is None:
            return Tensor._wrap(backend.xp.zeros(shape, dtype=source.dtype))
        return _stack(rows, 1).reshape(shape)

    def _rows(self, what: str, use_pfor: bool, target: Tensor, flat_sources: list, positions: list) -> list:
        """For each source, the gradients of ``target`` seeded with ones at each of ``positions`` (one backward
        pass each, the whole being one use of the tape), or None for a source no pass reaches."""
        if not use_pfor and not self.persistent:
            raise RuntimeError(f"GradientTape must be created with persistent=True to compute the {what} with eager "
                               f"execution enabled and  with experimental_use_pfor set to False.")
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians); create it with persistent=True to call gradient() again")
        rows: list = [[] for _ in flat_sources]
        for position in positions:
            seed = backend.xp.zeros(target.shape, dtype=target.dtype)
            seed[position] = 1
            self._used = False  # the passes of one jacobian count as one use
            grads = self.gradient(target, flat_sources, output_gradients=seed)
            for k, g in enumerate(grads):
                rows[k].append(g)
        self._used = True
        return [None if all(g is None for g in r) else
                [Tensor._wrap(backend.xp.zeros_like(s.data)) if g is None else g for g in r]
                for s, r in zip(flat_sources, rows)]

    def _is_source(self, s: Tensor, watched: set[int]) -> bool:
        """Whether this tape differentiates with respect to ``s``, by TensorFlow's rule: a tensor given to watch(), a
        trainable Variable (when the tape watches the variables it sees), or a tensor an op made while it recorded;
        a non-trainable Variable or a tensor computed outside the tape is a constant to it. A leaf made with
        ``requires_grad=True`` (PyTorch's way to mark a source) counts as watched."""
        if id(s) in watched:
            return True
        if isinstance(s, Variable):
            return s.trainable and self.watch_accessed_variables
        if s.node is None:
            return s.requires_grad
        return self._recorded(s.node.order)

    @staticmethod
    def _result(source: Tensor, entry, unconnected: str):
        if entry is not None:
            g = entry[1]
            return g if isinstance(g, Tensor) else Tensor._wrap(g)
        if unconnected == "zero":
            return _zeros_like(source)
        return None


@replayed  # made anew on each replay of a traced step
def _zeros_like(source: Tensor) -> Tensor:
    return Tensor._wrap(backend.xp.zeros_like(source.data))


def _as_tensor(target) -> Tensor:
    if not isinstance(target, Tensor):
        raise TypeError(f"the jacobian's target must be a Tensor computed while the tape recorded, got "
                        f"{type(target).__name__}")
    return target


def _ndindex(shape: tuple) -> Iterator[tuple[int, ...]]:
    """Every index of an array of ``shape``, in C order."""
    return itertools.product(*(range(n) for n in shape))


def _stack(rows: list[Tensor], axis: int) -> Tensor:
    """``rows`` stacked along a new ``axis``; differentiably when they are gradients with a graph (a tape inside
    another), as a sum of each row times a one-hot column, built from the Tensor's operators (the engine's one way
    to the ops)."""
    if not any(r.requires_grad for r in rows):
        return Tensor._wrap(backend.xp.stack([r.data for r in rows], axis=axis))
    n, shape = len(rows), rows[0].shape
    kept = shape[:axis] + (1,) + shape[axis:]
    total = None
    for i, row in enumerate(rows):
        one_hot = backend.xp.zeros((n,) + (1,) * (len(shape) - axis), dtype=row.dtype)
        one_hot[i] = 1
        term = row.reshape(kept) * one_hot
        total = term if total is None else total + term
    return total
