"""The functional API's graph: symbolic tensors, the nodes that layers leave behind, and the graph a model runs.

Calling a layer on a :class:`KerasTensor` (made by :func:`Input`) does not compute anything real: the layer is built
for the symbolic shape, its output shape comes from its own ``compute_output_shape`` when it is a built-in layer whose
rule is exact (:func:`shape_rule_spec`), else from running it on small batches of zeros (:func:`probe_output_specs`),
and a :class:`Node` records "this layer, called with these arguments, made those tensors". ``Model(inputs,
outputs)`` walks the nodes back from ``outputs`` into a :class:`Graph`: a replay plan of steps (:class:`Step`) in
dependency order, rewritten once by :func:`chainrule.keras.layers.fusion.rewrite`; calling the model runs the plan on
real tensors.

>>> from chainrule.keras.layers import Dense, Reshape
>>> x = Input(shape=(None,))
>>> y = Dense(3)(Reshape((-1, 1))(x))
>>> y.shape
(None, None, 3)
>>> graph = Graph([x], [y])
>>> [type(layer).__name__ for layer in graph.layers]
['InputLayer', 'Reshape', 'Dense']
"""
from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.backend.string_dtype import tensor_dtype
from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.base import _context as _call_context
from chainrule.keras.layers.core import Input
from chainrule.utils import tree

_tensor_ids = itertools.count()

# The sizes an unknown axis takes in the two probe runs of a symbolic call, (batch axis, any other axis): Keras's
# numpy backend uses 83 and 89, large enough for a stack of convolutions and poolings on an unknown image size.
PROBE_SIZES = ((2, 83), (3, 89))

# Whether a symbolic call may take a built-in layer's output shape from its compute_output_shape (shape_rule_spec);
# False probes every layer, as the tests do to check that both ways agree.
USE_SHAPE_RULES = True


class KerasTensor:
    """A placeholder with a shape (batch axis first, often None) and a dtype, and the layer call that made it.

    ``_keras_history`` is ``(layer, node_index, tensor_index)``: the tensor is output ``tensor_index`` of the
    ``node_index``-th call of ``layer`` (as Keras names it). ``_keras_mask`` is the symbolic mask the tensor carries
    (a boolean KerasTensor) when the layer that made it computes one, else None.
    """

    def __init__(self, shape, dtype=None, name: str | None = None, layer=None, node_index: int = 0,
                 tensor_index: int = 0):
        self.shape = tuple(None if n is None else int(n) for n in shape)
        self.dtype = tensor_dtype(backend.as_dtype(dtype))  # text: tf.string, as a text tensor's dtype
        self.name = name or f"keras_tensor_{next(_tensor_ids)}"
        self._keras_mask: KerasTensor | None = None
        self._keras_history = None if layer is None else (layer, node_index, tensor_index)
        if layer is not None and _is_input_layer(layer) and not getattr(layer, "_inbound_nodes", None):
            Node(layer, (), {}, [self])  # the input layer's own node: no inputs, this tensor out

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
    """One call of a layer in a graph: its positional and keyword arguments as given (symbolic tensors anywhere in
    them), and the symbolic outputs it made."""

    def __init__(self, layer, args: tuple, kwargs: dict, outputs: list[KerasTensor]):
        self.layer = layer
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.flat_inputs = [t for t in tree.flatten((self.args, self.kwargs)) if isinstance(t, KerasTensor)]
        self.outputs = outputs
        if not hasattr(layer, "_inbound_nodes"):
            layer._inbound_nodes = []
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(outputs):
            t._keras_history = (layer, self.index, i)

    @property
    def inputs(self):
        """The first positional argument: the tensor (or list of tensors) the layer was called on."""
        return self.args[0] if self.args else []

    @property
    def parents(self) -> list["Node"]:
        return [t.node for t in self.flat_inputs]


def _is_input_layer(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


# --- calling a layer on symbolic tensors ---------------------------------------------------------------------------
def call_symbolic(layer, *args, **kwargs):
    """Layer.__call__ on KerasTensors: build the layer for the symbolic shapes, take its output's shape from its own
    ``compute_output_shape`` where that rule is trusted (:func:`shape_rule_spec`), else learn its outputs' shapes,
    dtypes and masks by probing it on zeros (:func:`probe_output_specs`), record a Node with every argument, and return
    KerasTensors in the structure the layer returns. A layer with ``compute_output_spec`` (text layers, whose
    output length depends on the text) gives its output KerasTensors itself instead of being probed."""
    if not args:
        raise TypeError(f"Layer '{layer.name}' was called without a positional input")
    for t in tree.flatten(args[0]):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Layer '{layer.name}' was called on a mix of symbolic tensors and values "
                            f"({type(t).__name__}); in a functional model every input must come from keras.Input or "
                            f"another layer")
    if hasattr(layer, "compute_output_spec"):  # a layer whose output shape depends on its data says it (Keras 3)
        declared = layer.compute_output_spec(*args, **kwargs)
        outputs = tree.flatten(declared)
        Node(layer, args, kwargs, outputs)
        return declared
    build_symbolic(layer, args, kwargs)
    spec = shape_rule_spec(layer, args, kwargs) if USE_SHAPE_RULES else None
    if spec is not None:  # one output, no mask
        output = KerasTensor(*spec)
        Node(layer, args, kwargs, [output])
        return output
    structure, specs, masks = probe_output_specs(layer, args, kwargs)
    outputs = [KerasTensor(shape, dtype) for shape, dtype in specs]
    for t, mask in zip(outputs, masks):
        t._keras_mask = mask
    Node(layer, args, kwargs, outputs)
    return tree.pack_sequence_as(structure, outputs)


def probe_output_specs(layer, args: tuple, kwargs: dict) -> tuple[Any, list, list]:
    """What ``layer(*args, **kwargs)`` returns for symbolic arguments: the structure of its outputs, the (shape,
    dtype) of each, and each one's symbolic mask (or None).

    The layer is built for the symbolic shapes (None kept, so no weight's shape comes from a made-up size), then runs
    on zeros (a mask of ones goes with each input that carries a mask), twice when a size is unknown: each unknown
    size takes a different value in each run (PROBE_SIZES), and an output axis whose size differs between the runs
    is None, as Keras's numpy backend infers shapes. The layer's variables are restored afterwards.

    >>> from chainrule.keras.layers import Reshape
    >>> structure, specs, masks = probe_output_specs(Reshape((-1, 2)), (Input(shape=(None, 4)),), {})
    >>> specs, masks
    ([((None, None, 2), dtype('float32'))], [None])
    """
    from chainrule.engine.autograd import no_grad

    flat = [t for t in tree.flatten((args, kwargs)) if isinstance(t, KerasTensor)]
    build_symbolic(layer, args, kwargs)
    unknown = any(n is None for t in flat for n in t.shape)
    # a call may update state (moving averages, sums)
    saved = [(w, backend.copy(w.data)) for w in layer.weights]
    runs = []
    probing, made_up = _call_context.probing, _call_context.made_up_sizes
    try:
        with no_grad():
            for sizes in PROBE_SIZES[:2 if unknown else 1]:
                _call_context.probing, _call_context.made_up_sizes = sizes, unknown
                zeros = tree.map_structure(lambda v: _zeros(v, sizes), (args, kwargs))
                try:
                    out = layer(*zeros[0], **zeros[1])
                except ValueError as e:
                    raise _with_symbolic_shapes(e, flat) from None
                runs.append(out)
    finally:
        _call_context.probing, _call_context.made_up_sizes = probing, made_up
        for w, data in saved:
            w.data[...] = data
    leaves = [tree.flatten(out) for out in runs]
    for leaf in leaves[0]:
        if not isinstance(leaf, Tensor):
            raise TypeError(f"Layer '{layer.name}' returned {type(leaf).__name__} in a functional model; a layer's "
                            f"outputs must be tensors")
    shapes = _unknown_where_different(layer, [[leaf.shape for leaf in run] for run in leaves])
    specs = [(shape, np.dtype(leaf.dtype)) for shape, leaf in zip(shapes, leaves[0])]
    masks = [[getattr(leaf, "_keras_mask", None) for leaf in run] for run in leaves]
    mask_shapes = _unknown_where_different(layer, [[None if m is None else tuple(m.shape) for m in run]
                                                   for run in masks])
    symbolic_masks = [None if shape is None else KerasTensor(shape, bool) for shape in mask_shapes]
    return tree.map_structure(lambda _: None, runs[0]), specs, symbolic_masks


def build_symbolic(layer, args: tuple, kwargs: dict) -> None:
    """Build ``layer`` (when it is not built) for the symbolic shapes of a call's arguments, None kept, so that no
    weight's shape comes from a made-up size."""
    if not layer.built:
        if layer.input_spec is not None and isinstance(args[0], KerasTensor):  # a rank fixed in __init__: first
            layer.input_spec.check(layer.name, args[0].shape)
        layer._build_on_call(args[0], args[1:], kwargs)


@functools.cache
def _shape_rule_layers() -> frozenset:
    """The built-in layer classes whose ``compute_output_shape`` gives exactly the shape their ``call`` returns and
    whose symbolic call has no other effect to reproduce (no mask made, no state, one output of the input's dtype).
    Exact classes only: a subclass may override ``call``."""
    from chainrule.keras.layers import (activations, conv, conv1d, conv3d, conv_transpose, core, depthwise, identity,
                                        layer_normalization, merge, norm, pool, regularization, reshaping)

    return frozenset({
        conv.Conv2D, conv1d.Conv1D, conv3d.Conv3D, conv_transpose.Conv1DTranspose, conv_transpose.Conv2DTranspose,
        conv_transpose.Conv3DTranspose, depthwise.DepthwiseConv2D, depthwise.SeparableConv2D,
        pool.MaxPooling1D, pool.MaxPooling2D, pool.MaxPooling3D, pool.AveragePooling1D, pool.AveragePooling2D,
        pool.AveragePooling3D, pool.GlobalAveragePooling1D, pool.GlobalAveragePooling2D, pool.GlobalAveragePooling3D,
        pool.GlobalMaxPooling1D, pool.GlobalMaxPooling2D, pool.GlobalMaxPooling3D,
        core.Dense, core.Activation, core.Dropout, core.Flatten, core.Reshape, identity.Identity,
        activations.ReLU, activations.LeakyReLU, activations.ELU, activations.Softmax,
        norm.BatchNormalization, layer_normalization.LayerNormalization,
        regularization.SpatialDropout1D, regularization.SpatialDropout2D,
        merge.Add, merge.Subtract, merge.Multiply, merge.Average, merge.Maximum, merge.Minimum, merge.Concatenate,
        reshaping.ZeroPadding1D, reshaping.ZeroPadding2D, reshaping.ZeroPadding3D, reshaping.Cropping1D,
        reshaping.Cropping2D, reshaping.Cropping3D, reshaping.UpSampling1D, reshaping.UpSampling2D,
        reshaping.UpSampling3D,
    })


def shape_rule_spec(layer, args: tuple, kwargs: dict) -> tuple | None:
    """The (shape, dtype) of a built layer's one output from its own ``compute_output_shape``, where that rule is
    trusted: a layer of :func:`_shape_rule_layers` called as ``layer(x)`` or ``layer([x, y, ...])`` (``training``
    at most, and not True) on unmasked inputs of its input dtype. None otherwise, or when the rule raises or gives a
    size below 1: the probe then finds the shape, or the layer's own error, as before.

    >>> from chainrule.keras.layers import Conv2D
    >>> x = Input(shape=(None, None, 3))
    >>> layer = Conv2D(8, 3, strides=2)
    >>> build_symbolic(layer, (x,), {})
    >>> shape_rule_spec(layer, (x,), {})
    ((None, None, None, 8), dtype('float32'))
    """
    if type(layer) not in _shape_rule_layers() or len(args) != 1 or any(
            key != "training" or not (value is None or value is False) for key, value in kwargs.items()):
        return None
    inputs = args[0]
    flat = [inputs] if isinstance(inputs, KerasTensor) else list(inputs) if isinstance(inputs, (list, tuple)) else []
    dtype = layer._input_dtype
    if (not flat or dtype.kind != "f" or isinstance(layer, _merge_types()) == isinstance(inputs, KerasTensor)
            or any(not isinstance(t, KerasTensor) or t.dtype != dtype or t._keras_mask is not None for t in flat)):
        return None
    try:
        if layer.input_spec is not None and isinstance(inputs, KerasTensor):
            layer.input_spec.check(layer.name, inputs.shape)
        shape = layer.compute_output_shape(inputs.shape if isinstance(inputs, KerasTensor) else
                                           [t.shape for t in flat])
    except (ValueError, TypeError, IndexError):
        return None
    if not isinstance(shape, tuple) or any(n is not None and not (isinstance(n, (int, np.integer)) and n >= 1)
                                           for n in shape):
        return None
    return tuple(None if n is None else int(n) for n in shape), np.dtype(dtype)


@functools.cache
def _merge_types() -> tuple:
    """The layers called on a list of tensors."""
    from chainrule.keras.layers import merge

    return merge._Merge, merge.Concatenate


def _unknown_where_different(layer, runs: list[list]) -> list:
    """Each output's shape from the first run, with the axes whose size differs in the second run set to None."""
    if len(runs) == 1:
        return [None if s is None else tuple(s) for s in runs[0]]
    shapes = []
    for a, b in zip(*runs):
        if a is None or b is None or len(a) != len(b):
            if a is not None and b is not None:
                raise ValueError(f"Layer '{layer.name}': the rank of an output depends on the unknown input sizes "
                                 f"({a} then {b}), so a symbolic call cannot tell its shape")
            shapes.append(None)
            continue
        shapes.append(tuple(m if m == n else None for m, n in zip(a, b)))
    return shapes


def _zeros(value, sizes: tuple[int, int]):
    """Zeros for a KerasTensor (ones for a boolean one: a mask that keeps everything), unknown sizes from ``sizes``
    (batch axis, other axes), with a mask of ones when the KerasTensor carries a mask; other values as they are."""
    if not isinstance(value, KerasTensor):
        return value
    shape = tuple(sizes[axis > 0] if n is None else n for axis, n in enumerate(value.shape))
    xp = np if np.dtype(value.dtype).kind in "OUS" else backend.xp  # text stays on the host: no device holds strings
    t = Tensor._wrap(xp.ones(shape, dtype=xp.bool) if value.dtype == np.bool_ else xp.zeros(shape, dtype=value.dtype))
    if value._keras_mask is not None:
        t._keras_mask = _zeros(value._keras_mask, sizes)
    return t


def _with_symbolic_shapes(error: ValueError, flat: list) -> ValueError:
    """The layer's own error about its input, with the symbolic shapes it was called on."""
    if not (str(error).startswith("Input 0 of layer") or "incompatible" in str(error)):
        return error
    shapes = [t.shape for t in flat]
    return ValueError(f"{error} (the symbolic input shape{'s' if len(shapes) > 1 else ''}: "
                      f"{shapes[0] if len(shapes) == 1 else shapes})")


# --- KerasTensor arithmetic ----------------------------------------------------------------------------------------
def _elementwise(kind: str, a, b):
    # the keras.ops function as an op layer (Keras 3's KerasTensor operators call ops too), so the model saves
    from chainrule.keras.ops import numpy as knp
    from chainrule.keras.ops.symbolic import OpLayer, template

    name = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide"}[kind]
    found: list[KerasTensor] = []
    args = template((a, b), found)
    layer = OpLayer(getattr(knp, name).__chainrule_op__, f"keras.ops.{name}", args, name=_unique(kind))
    return layer(found[0] if len(found) == 1 else found)


def _unique(base: str) -> str:
    from chainrule.keras.layers.base import unique_name

    return unique_name(base)


# --- the graph a model runs ----------------------------------------------------------------------------------------
class _Slot:
    """Where a symbolic tensor's value sits in the list a graph run fills."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


class Step:
    """One layer call of a graph's plan: read its arguments from the value slots, call, store its outputs.
    ``single`` is the slot of the one input when the call is the plain ``layer(x)``, else None. Masks need no slots:
    they travel on the tensors (``_keras_mask``), as in Keras."""

    __slots__ = ("layer", "node", "args", "kwargs", "single", "reads", "outs")

    def __init__(self, node: Node, slot_of):
        self.layer, self.node = node.layer, node
        slot = lambda v: _Slot(slot_of(v)) if isinstance(v, KerasTensor) else v  # noqa: E731
        self.args, self.kwargs = tree.map_structure(slot, node.args), tree.map_structure(slot, node.kwargs)
        self.reads = [slot_of(t) for t in node.flat_inputs]
        self.outs = [slot_of(t) for t in node.outputs]
        plain = len(node.args) == 1 and isinstance(node.args[0], KerasTensor) and not node.kwargs
        self.single = self.reads[0] if plain else None

    def run(self, values: list, training: bool) -> None:
        """Call the layer on the values of its input slots and fill its output slots."""
        if self.single is not None:
            y = self.layer(values[self.single], training=training)
        else:
            fill = lambda v: values[v.index] if isinstance(v, _Slot) else v  # noqa: E731
            kwargs = {"training": training, **tree.map_structure(fill, self.kwargs)}  # a training= given wins
            y = self.layer(*tree.map_structure(fill, self.args), **kwargs)
        if isinstance(y, (list, tuple, dict)):
            for s, t in zip(self.outs, tree.flatten(y)):
                values[s] = t
        else:
            values[self.outs[0]] = y


class Graph:
    """The nodes between ``inputs`` and ``outputs`` in dependency order, compiled into a replay plan.

    Each symbolic tensor gets a slot number; running the graph fills the input slots with real tensors and runs each
    step of the plan (a layer call, or a fused pair of them: layers/fusion.py) on the slots of its inputs.
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
        from chainrule.keras.layers import fusion

        slot: dict[int, int] = {}

        def slot_of(t: KerasTensor) -> int:
            return slot.setdefault(id(t), len(slot))

        self.input_slots = [slot_of(t) for t in self.inputs]
        steps = [Step(node, slot_of) for node in self.nodes if not _is_input_layer(node.layer)]
        self.output_slots = [slot_of(t) for t in self.outputs]
        self.num_slots = len(slot)
        self.plan = fusion.rewrite(steps, keep=set(self.output_slots))

    def run(self, inputs: list, training: bool = False) -> list:
        """Replay the graph on real tensors (one per model input); return one tensor per model output."""
        values: list[Any] = [None] * self.num_slots
        for s, x in zip(self.input_slots, inputs):
            values[s] = x
        for step in self.plan:
            step.run(values, training)
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


__all__ = ["Graph", "Input", "KerasTensor", "Node", "Step", "build_symbolic", "call_symbolic", "probe_output_specs",
           "shape_rule_spec"]
