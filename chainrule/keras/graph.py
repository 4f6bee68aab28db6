"""The functional API's graph: symbolic tensors, the nodes that layers leave behind, and the graph a model runs.

Calling a layer on a :class:`KerasTensor` (made by :func:`Input`) does not compute anything real: the layer is built,
run once on a small batch of zeros to learn its output shape, and a :class:`Node` records "this layer, called on
these tensors, made those". ``Model(inputs, outputs)`` walks the nodes back from ``outputs`` and keeps them in an
order where each node comes after the nodes it depends on (:class:`Graph`); calling the model replays them on real
tensors.

>>> from chainrule.keras.layers import Dense
>>> x = Input(shape=(4,))
>>> y = Dense(3)(x)
>>> y.shape
(None, 3)
>>> graph = Graph([x], [y])
>>> [type(layer).__name__ for layer in graph.layers]
['InputLayer', 'Dense']
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.keras.layers import fusion
from chainrule.keras.layers.core import Input

_tensor_ids = itertools.count()


class KerasTensor:
    """A placeholder with a shape (batch axis first, often None) and a dtype, and the layer call that made it.

    ``_keras_history`` is ``(layer, node_index, tensor_index)``: the tensor is output ``tensor_index`` of the
    ``node_index``-th call of ``layer`` (as Keras names it).
    """

    def __init__(self, shape, dtype=None, name: str | None = None, layer=None, node_index: int = 0,
                 tensor_index: int = 0):
        self.shape = tuple(None if n is None else int(n) for n in shape)
        self.dtype = np.dtype(dtype or backend.floatx())
        self.name = name or f"keras_tensor_{next(_tensor_ids)}"
        self._keras_history = None if layer is None else (layer, node_index, tensor_index)
        if layer is not None and _is_input_layer(layer) and not getattr(layer, "_inbound_nodes", None):
            Node(layer, [], {}, [self])  # the input layer's own node: no inputs, this tensor out

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self) -> "Node | None":
        if self._keras_history is None:
            return None
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic: it has a shape but no values. Build a Model(inputs, outputs) and call "
                        f"the model on data instead of converting the symbolic tensor")

    def __len__(self) -> int:
        raise TypeError(f"{self!r} is symbolic and has no length (its batch size is {self.shape[0]})")

    # arithmetic on symbolic tensors becomes a layer, so `x + y` works in a functional model as in Keras
    def __add__(self, other): return _elementwise("add", self, other)
    def __radd__(self, other): return _elementwise("add", other, self)
    def __sub__(self, other): return _elementwise("sub", self, other)
    def __rsub__(self, other): return _elementwise("sub", other, self)
    def __mul__(self, other): return _elementwise("mul", self, other)
    def __rmul__(self, other): return _elementwise("mul", other, self)
    def __truediv__(self, other): return _elementwise("div", self, other)
    def __neg__(self): return _elementwise("mul", self, -1.0)


class Node:
    """One call of a layer in a graph: the symbolic inputs it took (a tensor or a list of them), the keyword
    arguments, and the symbolic outputs it made."""

    def __init__(self, layer, inputs, kwargs: dict, outputs: list[KerasTensor]):
        self.layer = layer
        self.inputs = inputs
        self.flat_inputs = _flatten(inputs)
        self.kwargs = kwargs
        self.outputs = outputs
        if not hasattr(layer, "_inbound_nodes"):
            layer._inbound_nodes = []
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(outputs):
            t._keras_history = (layer, self.index, i)

    @property
    def parents(self) -> list["Node"]:
        return [t.node for t in self.flat_inputs]


def _is_input_layer(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


# --- calling a layer on symbolic tensors ---------------------------------------------------------------------------
def call_symbolic(layer, inputs, **kwargs):
    """Layer.__call__ on KerasTensors: build the layer, learn its output shape(s) by running it on zeros, record a
    Node, and return KerasTensors shaped like the outputs (a single tensor, or a list when the layer returns many)."""
    from chainrule.engine.autograd import no_grad

    flat = _flatten(inputs)
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Layer '{layer.name}' was called on a mix of symbolic tensors and values "
                            f"({type(t).__name__}); in a functional model every input must come from keras.Input or "
                            f"another layer")
    sample = _map(lambda t: np.zeros(_concrete(t.shape), dtype=t.dtype), inputs)
    with no_grad():
        try:
            out = layer(sample, **kwargs)
        except ValueError as e:
            if str(e).startswith("Input 0 of layer") or "incompatible" in str(e):
                shapes = [t.shape for t in flat]
                raise ValueError(f"{e} (the symbolic input shape{'s' if len(shapes) > 1 else ''}: "
                                 f"{shapes[0] if len(shapes) == 1 else shapes})") from None
            raise
    batch_unknown = all(t.shape[:1] == (None,) for t in flat) and bool(flat)
    out_flat = _flatten(out)
    outputs = [KerasTensor(((None,) if batch_unknown and o.ndim else o.shape[:1]) + tuple(o.shape[1:]), o.dtype)
               for o in out_flat]
    Node(layer, inputs, kwargs, outputs)
    if isinstance(out, (list, tuple)):
        return type(out)(outputs) if isinstance(out, list) else tuple(outputs)
    return outputs[0]


def _concrete(shape) -> tuple[int, ...]:
    """A real shape for a symbolic one: an unknown batch becomes 2, other unknown sizes 1."""
    return tuple((2 if i == 0 else 1) if n is None else n for i, n in enumerate(shape))


def _flatten(structure) -> list:
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in _flatten(structure[key])]
    return [structure]


def _map(fn, structure):
    if isinstance(structure, (list, tuple)):
        mapped = [_map(fn, item) for item in structure]
        return mapped if isinstance(structure, list) else tuple(mapped)
    if isinstance(structure, dict):
        return {key: _map(fn, value) for key, value in structure.items()}
    return fn(structure)


# --- KerasTensor arithmetic ----------------------------------------------------------------------------------------
def _elementwise(kind: str, a, b):
    from chainrule.keras.layers.core import Lambda
    from chainrule import ops

    fn = {"add": ops.add, "sub": ops.sub, "mul": ops.mul, "div": ops.div}[kind]
    if isinstance(a, KerasTensor) and isinstance(b, KerasTensor):
        layer = Lambda(lambda xs: fn(xs[0], xs[1]), name=_unique(kind))
        return layer([a, b])
    if isinstance(a, KerasTensor):
        return Lambda(lambda x: fn(x, b), name=_unique(kind))(a)
    return Lambda(lambda x: fn(a, x), name=_unique(kind))(b)


def _unique(base: str) -> str:
    from chainrule.keras.layers.base import unique_name

    return unique_name(base)


# --- the graph a functional model runs -----------------------------------------------------------------------------
class Graph:
    """The nodes between ``inputs`` and ``outputs`` in dependency order, compiled into a replay plan.

    Each symbolic tensor gets a slot number; running the graph fills the input slots with real tensors and calls
    each layer on the slots of its inputs, storing its outputs in their slots.
    """

    def __init__(self, inputs: list[KerasTensor], outputs: list[KerasTensor]):
        for role, tensors in (("inputs", inputs), ("outputs", outputs)):
            for t in tensors:
                if not isinstance(t, KerasTensor):
                    raise TypeError(f"Model {role} must be KerasTensors (from keras.Input and layer calls), got "
                                    f"{type(t).__name__}")
        self.inputs, self.outputs = list(inputs), list(outputs)
        for t in self.inputs:
            if t.node is None or not _is_input_layer(t.node.layer):
                raise ValueError(f"Model inputs must come from keras.Input(); {t!r} was made by layer "
                                 f"'{t.node.layer.name if t.node else '?'}'")
        self.nodes = self._sorted_nodes()
        self._node_set = set(self.nodes)
        self.layers = list(dict.fromkeys(node.layer for node in self.nodes))  # first use order, no repeats
        self._compile_plan()

    def _sorted_nodes(self) -> list[Node]:
        """Nodes reachable back from the outputs, each after its parents (iterative depth-first search)."""
        input_ids = {id(t) for t in self.inputs}
        order: list[Node] = []
        seen: set[int] = set()
        stack: list[tuple[Node, bool]] = [(t.node, False) for t in reversed(self.outputs)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for t in reversed(node.flat_inputs):
                if id(t) in input_ids:
                    if id(t.node) not in seen:
                        stack.append((t.node, False))
                    continue
                if t.node is None or _is_input_layer(t.node.layer):
                    raise ValueError(f"Graph disconnected: the output depends on {t!r}, which is not among the "
                                     f"model's inputs {[i.name for i in self.inputs]}")
                stack.append((t.node, False))
        # the declared inputs first, in their order, as Keras lists them
        input_nodes = [t.node for t in self.inputs]
        rest = [n for n in order if n not in input_nodes]
        return list(dict.fromkeys(input_nodes)) + rest

    def _compile_plan(self) -> None:
        slot: dict[int, int] = {}

        def slot_of(t: KerasTensor) -> int:
            return slot.setdefault(id(t), len(slot))

        self.input_slots = [slot_of(t) for t in self.inputs]
        plan = []
        for node in self.nodes:
            if _is_input_layer(node.layer):
                continue
            args = _map(slot_of, node.inputs)
            outs = [slot_of(t) for t in node.outputs]
            plan.append((node.layer, args, node.kwargs, outs, isinstance(node.inputs, (list, tuple))))
        self.output_slots = [slot_of(t) for t in self.outputs]
        self.num_slots = len(slot)
        self.plan = self._pair_fusable(plan)

    def _pair_fusable(self, plan: list) -> list:
        """Each plan step with a sixth field: None, or (layer, output slot) of the one step that alone reads this
        step's output and fuses with it (layers/fusion.py); that step then runs with this one, not on its own."""
        readers: dict[int, list[int]] = {}
        for k, (_, args, _, _, is_list) in enumerate(plan):
            for s in (_flatten(args) if is_list else [args]):
                readers.setdefault(s, []).append(k)
        paired, steps = set(), []
        for k, (layer, args, kwargs, outs, is_list) in enumerate(plan):
            if k in paired:
                continue
            follow = None
            users = readers.get(outs[0], []) if len(outs) == 1 and not is_list and not kwargs else []
            if len(users) == 1 and outs[0] not in self.output_slots:
                f_layer, f_args, f_kwargs, f_outs, f_is_list = plan[users[0]]
                if not f_is_list and not f_kwargs and len(f_outs) == 1 and fusion.layers_fuse(layer, f_layer):
                    follow = (f_layer, f_outs[0])
                    paired.add(users[0])
            steps.append((layer, args, kwargs, outs, is_list, follow))
        return steps

    def run(self, inputs: list, training: bool = False) -> list:
        """Replay the graph on real tensors (one per model input); return one tensor per model output."""
        values: list[Any] = [None] * self.num_slots
        for s, x in zip(self.input_slots, inputs):
            values[s] = x
        for layer, args, kwargs, outs, is_list, follow in self.plan:
            x = _map(values.__getitem__, args) if is_list else values[args]
            if follow is not None and fusion.fuses_with_next(layer, follow[0], x):
                values[follow[1]] = fusion.run_conv_max_pool(layer, follow[0], x)
                continue
            y = layer(x, training=training, **kwargs)
            if len(outs) == 1 and not isinstance(y, (list, tuple)):
                values[outs[0]] = y
            else:
                for s, t in zip(outs, _flatten(y)):
                    values[s] = t
            if follow is not None:
                values[follow[1]] = follow[0](values[outs[0]], training=training)
        return [values[s] for s in self.output_slots]

    # --- how the model is wired, for summary and get_config --------------------------------------------------------
    def node_index_in_model(self, node: Node) -> int:
        """The position of ``node`` among its layer's nodes that belong to this graph."""
        own = [n for n in node.layer._inbound_nodes if n in self._node_set]
        return own.index(node)

    def is_chain(self) -> bool:
        """True when the graph is a plain stack: one input, one output, every layer called once on one tensor."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        inner = [n for n in self.nodes if not _is_input_layer(n.layer)]
        if len({id(n.layer) for n in inner}) != len(inner):
            return False
        consumed: set[int] = set()
        for node in inner:
            if len(node.flat_inputs) != 1 or id(node.flat_inputs[0]) in consumed:
                return False
            consumed.add(id(node.flat_inputs[0]))
        return True


__all__ = ["Graph", "Input", "KerasTensor", "Node", "call_symbolic"]
