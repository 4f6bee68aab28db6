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
from typing import Any

from chainrule import backend
from chainrule.engine.autograd import _backprop, _check_differentiable, _prepare
from chainrule.engine.function import GradMode, next_order
from chainrule.engine.tensor import Tensor
from chainrule.utils import tree

_recording: list["GradientTape"] = []


class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape``."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched: list[Tensor] = []  # every tensor given to watch()
        self._switched_on: list[Tensor] = []  # those whose requires_grad watch() turned on, turned off at exit
        self._used = False
        self._grad_mode_before = True
        self._windows: list[list] = []  # [first, end) node orders recorded; end None while recording

    def __enter__(self) -> "GradientTape":
        _recording.append(self)
        self._grad_mode_before = GradMode.enabled
        GradMode.enabled = True
        self._windows.append([next_order(), None])
        return self

    def __exit__(self, *exc) -> None:
        _recording.remove(self)
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
        return tuple(self._watched)

    def reset(self) -> None:
        """Forget what was watched."""
        for t in self._switched_on:
            t.requires_grad = False
        self._watched, self._switched_on = [], []

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
        return any(first < order and (end is None or order < end) for first, end in self._windows)

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients: str = "none"):
        """d(target)/d(sources), shaped like ``sources``; ``None`` (or zeros) for a source the target ignores."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians); create it with persistent=True to call gradient() again")
        self._used = True
        flat_sources = tree.flatten(sources)
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
        if not self.watch_accessed_variables:  # only what was watched explicitly is a source
            watched = {id(t) for t in self._watched}
            found = {key: entry for key, entry in found.items() if key in watched}
        results = [self._result(s, found.get(id(s)), unconnected_gradients) for s in flat_sources]
        return tree.pack_sequence_as(sources, results)

    @staticmethod
    def _result(source: Tensor, entry, unconnected: str):
        if entry is not None:
            g = entry[1]
            return g if isinstance(g, Tensor) else Tensor._wrap(g)
        if unconnected == "zero":
            return Tensor._wrap(backend.xp.zeros_like(source.data))
        return None
