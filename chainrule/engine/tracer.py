"""The step tracer: run a Python function once over Tensors while recording what it does, then replay the record on
new inputs without running the Python again. ``fit``, ``evaluate``, ``predict`` and ``tf.function`` all run through
it, as Keras and TensorFlow run a traced ``tf.function``.

A trace is the list of what the function did, in order, with where each input came from (argument k, a Variable
or other tensor read by reference, an earlier entry's output, a Python constant):

- an **op** (``Function.apply`` appends it): a replay runs its ``forward`` on the new arrays, so a random op
  (dropout) draws anew and an in-place op (BatchNormalization's moving averages) updates again;
- a **call** of a function marked :func:`~chainrule.engine.function.replayed` (an optimizer's ``apply``, a metric's
  ``update_state`` and ``result``, ``Variable.assign``, a random tensor): a replay calls it again with the new
  values, since its work is outside the ops;
- a **gradient** (a GradientTape's, ``grad``): a replay runs the same backward walk as eager gradients
  (:func:`chainrule.engine.autograd.walk`) over the recorded nodes, so the gradients are the eager ones bit for bit.

A trace is refused (the function then runs eagerly, and the reason is logged once at INFO on the
``chainrule.engine.tracer`` logger) when a replay could not repeat it: an op input computed outside the ops (a NumPy
array not from the inputs, the variables or earlier entries), a traced value read into Python (``float(loss)``,
``if tensor:``), a layer that declares ``_traceable = False``, ``Tensor.backward()`` (it writes ``.grad``), or a
differentiable gradient. A trace is replayed only once a second trace of the same input signature agrees with it:
a Python value the trace cannot see that changed between the two calls (a counter, a new tensor made outside the
ops) refuses it. A trace during which variables were created (a model built on its first call) is traced again,
as ``tf.function`` does.

>>> import numpy as np, chainrule as cr
>>> w = cr.Variable([1.0, 2.0])
>>> step = TracedFunction(lambda x: (x * w).sum())
>>> [float(step(np.array([1.0, 1.0], "float32"))) for _ in range(3)]  # traced, traced again to check, replayed
[3.0, 3.0, 3.0]
>>> [type(fn).__name__ for fn in step.program(np.ones(2, "float32")).ops]
['Mul', 'Sum']
"""
from __future__ import annotations

import logging
import operator
import threading
from typing import Any, Callable

import numpy as np

from chainrule import backend
from chainrule.engine import function, tape
from chainrule.engine.autograd import Graph, walk
from chainrule.engine.function import GradMode
from chainrule.engine.tensor import Tensor, Variable
from chainrule.utils import tree

log = logging.getLogger(__name__)

_OP, _CALL, _GRADIENT = range(3)  # what a step of a program is


class Refused(Exception):
    """A trace that a replay could not repeat (the message says why)."""


_eagerly = False  # tf.config.run_functions_eagerly: every traced function runs its Python on every call


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Run traced functions (``fit``'s steps, ``tf.function``) eagerly, as ``tf.config.run_functions_eagerly``."""
    global _eagerly
    _eagerly = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether :func:`run_functions_eagerly` is on."""
    return _eagerly


# --- recording ------------------------------------------------------------------------------------------------------
class _Call:
    __slots__ = ("fn", "args", "kwargs", "result")

    def __init__(self, fn, args, kwargs, result):
        self.fn, self.args, self.kwargs, self.result = fn, args, kwargs, result


class _Gradient:
    __slots__ = ("graph", "seeds", "keep", "results")

    def __init__(self, graph, seeds, keep, results):
        self.graph, self.seeds, self.keep, self.results = graph, seeds, keep, results


class Trace(list):
    """What a function did while it was traced (``function.recorded`` points here meanwhile): ops appended by
    ``Function.apply`` as (op, inputs, settings, output), and :class:`_Call` and :class:`_Gradient` entries."""

    def __init__(self, inputs: list):
        super().__init__()
        self.inputs = inputs  # the argument leaves the function was given
        self.refusal: str | None = None
        self.made_variables = False
        self.made: dict[int, Tensor] = {}  # id -> a Tensor made from values (not by an op) while tracing
        self.thread = threading.get_ident()  # what other threads (tf.data workers) do meanwhile is not this step's

    def append(self, entry) -> None:
        if threading.get_ident() == self.thread:
            list.append(self, entry)

    def refuse(self, reason: str) -> None:
        if self.refusal is None and threading.get_ident() == self.thread:
            self.refusal = reason

    def call(self, fn: Callable, args: tuple, kwargs: dict, result) -> None:
        self.append(_Call(fn, args, kwargs, result))

    def gradient(self, graph: Graph, seeds: list, create_graph: bool, keep, results: dict) -> None:
        if create_graph:
            self.refuse("it takes a differentiable gradient (create_graph=True, or a tape inside another tape)")
        elif keep is None:
            self.refuse("Tensor.backward() accumulates into .grad, which a replay cannot repeat (use "
                        "tf.GradientTape or chainrule.grad)")
        else:
            self.append(_Gradient(graph, seeds, keep, results))

    def read(self, t: Tensor, how: str) -> None:
        """A tensor's values were read into Python: what the code does with them, a replay would not redo."""
        if self.refusal is None and threading.get_ident() == self.thread and self._holds(t):
            self.refuse(f"it reads a traced value into Python ({how} of a tensor of shape {t.shape}), so what it "
                        f"does next may depend on the data")

    def _holds(self, t: Tensor) -> bool:
        if isinstance(t, Variable) or any(t is x for x in self.inputs):
            return True
        for entry in self:
            if type(entry) is tuple:
                if entry[3] is t or entry[3] is t.data:
                    return True
            elif type(entry) is _Call:
                if any(t is leaf for leaf in tree.flatten(entry.result)):
                    return True
            elif any(t.data is g for _, g in entry.results.values()):
                return True
        return False

    def variable_made(self, variable: Variable) -> None:
        if threading.get_ident() == self.thread:
            self.made_variables = True

    def made_outside(self, t: Tensor) -> None:
        if threading.get_ident() == self.thread:
            self.made[id(t)] = t


def trace(fn: Callable, leaves: list, structure) -> tuple[Any, "Program | str | None"]:
    """Run ``fn`` on the arguments ``structure`` holds (``leaves`` in :func:`chainrule.utils.tree.flatten`'s order),
    recording it; return its outputs and the :class:`Program` to replay, or why there is none (a string), or None
    when the function made variables (trace it again)."""
    inputs = [_as_input(leaf) for leaf in leaves]
    args, kwargs = tree.pack_sequence_as(structure, inputs)
    recording = Trace(inputs)
    function.recorded = recording
    try:
        outputs = fn(*args, **kwargs)
    finally:
        function.recorded = None
    if recording.made_variables:
        return outputs, None
    if recording.refusal is not None:
        return outputs, recording.refusal
    try:
        return outputs, Program(recording, outputs)
    except Refused as refusal:
        return outputs, str(refusal)


def _as_input(leaf):
    """An argument as the traced function sees it: arrays and tensors as a Tensor of their own (two arguments are
    two inputs, even when they are the same array), Variables and Python values as they are."""
    if isinstance(leaf, Variable):
        return leaf
    if isinstance(leaf, Tensor):
        return Tensor._wrap(leaf.data, leaf.requires_grad)
    if backend.is_array(leaf):
        return Tensor._wrap(backend.to_device(leaf))
    return leaf


def as_inputs(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``args`` and ``kwargs`` with arrays as Tensors, as a traced function (and its eager fallback) receives them."""
    return tree.map_structure(_as_input, (args, kwargs))


# --- the program --------------------------------------------------------------------------------------------------------
class Program:
    """A trace compiled for replay: every value has a slot in one list, filled from the arguments, the tensors read
    by reference, the constants and each step's outputs; :meth:`run` replays it on new arguments."""

    def __init__(self, recording: Trace, outputs):
        self._slots = 0
        self._by_tensor: dict[int, int] = {}  # id(Tensor) -> its array's slot
        self._by_array: dict[int, int] = {}   # id(array) -> slot
        self._by_object: dict[int, int] = {}  # id(a call's result that is not a tensor) -> slot
        self._captured: list[tuple[int, Tensor]] = []  # (slot, tensor read by reference)
        self._constants: dict[int, Any] = {}  # slot -> value
        self._args: list[tuple[int, int]] = []  # (slot, argument leaf index)
        self._keep_alive: list = []  # what the maps above hold the ids of
        self._made_outside = recording.made
        for i, x in enumerate(recording.inputs):
            if isinstance(x, Tensor) and not isinstance(x, Variable):
                slot = self._new_slot()
                self._args.append((slot, i))
                self._by_tensor[id(x)] = self._by_array[id(x.data)] = slot
        self.ops: list = []  # the op objects, in the order they run
        self._steps: list[tuple] = []
        self._descriptions: list[tuple] = []  # what a second trace must repeat, step by step (see same_as)
        for entry in recording:
            kind = type(entry)
            if kind is tuple:
                self._compile_op(*entry)
            elif kind is _Call:
                self._compile_call(entry)
            else:
                self._compile_gradient(entry)
        self._outputs, description = self._builder(outputs, "the function's output")
        self._descriptions.append(("outputs", description))
        template: list = [None] * self._slots
        for slot, value in self._constants.items():
            template[slot] = value
        self._template = template

    def _new_slot(self) -> int:
        self._slots += 1
        return self._slots - 1

    # where an input comes from: (slot, description) where the description names it for same_as
    def _source(self, value, where: str) -> tuple[int, tuple]:
        if isinstance(value, Tensor):
            slot = self._by_tensor.get(id(value))
            if slot is not None:
                return slot, ("slot", slot)
            if not isinstance(value, Variable):
                slot = self._by_array.get(id(value.data))
                if slot is not None:
                    return slot, ("slot", slot)
                if id(value) in self._made_outside:
                    raise Refused(f"{where} (a tensor of shape {value.shape}) was computed outside the ops: it was "
                                  f"made from values by the Python code, not by an op")
            return self._capture(value), ("captured", value)
        if backend.is_array(value):
            slot = self._by_array.get(id(value))
            if slot is None:
                raise Refused(f"{where} (an array of shape {value.shape}) was computed outside the ops: it is "
                              f"not an input, a variable or the output of an earlier op")
            return slot, ("slot", slot)
        slot = self._by_object.get(id(value)) if _trackable(value) else None
        if slot is not None:
            return slot, ("slot", slot)
        slot = self._new_slot()
        self._constants[slot] = value
        return slot, ("constant", value)

    def _capture(self, t: Tensor) -> int:
        """A tensor from outside the trace, read by reference (a Variable, a parameter, a constant made earlier):
        its array at each replay."""
        for slot, captured in self._captured:
            if captured is t:
                return slot
        slot = self._new_slot()
        self._captured.append((slot, t))
        return slot

    def _compile_op(self, fn, inputs, params, result) -> None:
        name = type(fn).__name__
        if _holds_array(params):
            raise Refused(f"op {name} takes an array among its settings")
        slots, described = [], []
        for i, value in enumerate(inputs):
            slot, description = self._source(value, f"input {i} of op {name}")
            slots.append(slot)
            described.append(description)
        out = self._new_slot()
        if isinstance(result, Tensor):
            self._by_tensor[id(result)] = out
            result = result.data
        self._by_array[id(result)] = out
        self._keep_alive.append(result)
        self.ops.append(fn)
        # the inputs as one C call (itemgetter) when there are several; one input is read directly
        getter = operator.itemgetter(*slots) if len(slots) > 1 else _no_inputs if not slots else None
        self._steps.append((_OP, fn, getter, slots[0] if len(slots) == 1 else None, params, out))
        self._descriptions.append((type(fn), tuple(described), params))

    def _compile_call(self, call: _Call) -> None:
        name = getattr(call.fn, "__qualname__", repr(call.fn))
        args, args_description = self._builder(call.args, f"an argument of {name}")
        kwargs, kwargs_description = self._builder(call.kwargs, f"an argument of {name}")
        result = call.result
        leaves = []  # (slot, path, wants the array): the result's parts that later steps may use
        for path, leaf in _paths(result):
            if isinstance(leaf, Tensor) and not isinstance(leaf, Variable):
                if leaf.requires_grad:
                    raise Refused(f"{name} returns a tensor that carries a gradient: its work is outside the ops")
                slot = self._by_tensor[id(leaf)] = self._by_array[id(leaf.data)] = self._new_slot()
                leaves.append((slot, path, True))
            elif _trackable(leaf) and (path or not isinstance(leaf, (list, tuple, dict))):
                slot = self._by_object[id(leaf)] = self._new_slot()
                leaves.append((slot, path, False))
            else:
                continue
            self._keep_alive.append(leaf)
        self._steps.append((_CALL, _invoker(call.fn, args, kwargs), tuple(leaves)))
        self._descriptions.append((call.fn, args_description, kwargs_description))

    def _compile_gradient(self, gradient: _Gradient) -> None:
        seeds, described = [], []
        for t, g in gradient.seeds:
            slot, _ = self._source(t, "a gradient's target")
            if backend.is_array(g) and id(g) not in self._by_array:
                if not (g.shape == t.shape and bool(backend.array_namespace(g).all(g == 1))):
                    raise Refused(f"a gradient's seed (an array of shape {g.shape}) was computed outside the ops")
                seeds.append((t, slot, None))  # ones, made anew like the eager seed
                described.append((slot, "ones"))
            else:
                seed_slot, description = self._source(g, "a gradient's seed")
                seeds.append((t, slot, seed_slot))
                described.append((slot, description))
        nodes = [self._source(t, "a node of a gradient")[1] for t in gradient.graph.nodes]
        results = []
        for key, (t, g) in gradient.results.items():
            slot = self._new_slot()
            self._by_array[id(g)] = slot
            self._keep_alive.append(g)
            results.append((key, slot))
            described.append(self._source(t, "a gradient's source")[1])
        self._steps.append((_GRADIENT, gradient.graph, tuple(seeds), gradient.keep, tuple(results)))
        self._descriptions.append(("gradient", tuple(nodes), tuple(described)))

    def _builder(self, structure, where: str) -> tuple[tuple, tuple]:
        """How a replay rebuilds ``structure`` (a call's arguments, the outputs) from the slots, and its description.
        The recipe is (_FIXED, the object): a part without traced values, passed as it is (the same object on every
        replay); (_SLOT, slot, wrap): a traced value (wrapped as a Tensor when it was one); or (_BUILD, function of
        the slots): a container holding traced values, rebuilt by one call."""
        if isinstance(structure, (list, tuple, dict)):
            keys = list(structure) if isinstance(structure, dict) else list(range(len(structure)))
            parts = [self._builder(structure[k], where) for k in keys]
            description = (type(structure), tuple(keys), tuple(d for _, d in parts))
            if all(recipe[0] is _FIXED for recipe, _ in parts):
                return (_FIXED, structure), description
            return (_BUILD, _container_builder(structure, keys, [recipe for recipe, _ in parts])), description
        if _is_iterator(structure):
            raise Refused(f"{where} is an iterator, which a replay cannot read again")
        if isinstance(structure, Variable):
            return (_FIXED, structure), ("captured", structure)
        slot, description = self._source(structure, where)
        if description[0] != "slot":
            return (_FIXED, structure), description
        return (_SLOT, slot, isinstance(structure, Tensor)), description

    # --- replay ---------------------------------------------------------------------------------------------------
    def run(self, leaves: list):
        """Replay on new argument leaves (in the traced arguments' order and kinds); return the outputs."""
        values = self._template.copy()
        for slot, i in self._args:
            leaf = leaves[i]
            values[slot] = leaf.data if isinstance(leaf, Tensor) else leaf
        for slot, t in self._captured:
            values[slot] = t.data
        for step in self._steps:
            kind = step[0]
            if kind is _OP:
                _, fn, getter, slot, params, out = step
                fn.arrays = arrays = getter(values) if getter is not None else (values[slot],)
                values[out] = fn.out = fn.forward(*arrays, **params)
            elif kind is _CALL:
                _, invoke, parts = step
                result = invoke(values)
                for slot, path, array in parts:
                    part = result
                    for key in path:
                        part = part[key]
                    values[slot] = part.data if array else part
            else:
                _replay_gradient(step, values)
        return _rebuilt(self._outputs, values)

    def same_as(self, other: "Program") -> str | None:
        """None when ``other`` (a later trace of the same signature) did the same; else what differs, in words."""
        mine, theirs = self._descriptions, other._descriptions
        for k, (a, b) in enumerate(zip(mine, theirs)):
            if not _same(a, b):
                return f"step {k} ({_name(a)}) differs between two calls: {_differing(a, b)}"
        if len(mine) != len(theirs):
            return f"one call ran {len(mine) - 1} steps and the next {len(theirs) - 1}"
        return None


_FIXED, _SLOT, _BUILD = range(3)  # how a replay gets a part of a call's arguments or of the outputs (see _builder)


def _rebuilt(recipe: tuple, values: list):
    kind = recipe[0]
    if kind is _FIXED:
        return recipe[1]
    if kind is _SLOT:
        return Tensor._wrap(values[recipe[1]]) if recipe[2] else values[recipe[1]]
    return recipe[1](values)


def _no_inputs(values: list) -> tuple:
    return ()


def _invoker(fn: Callable, args: tuple, kwargs: tuple) -> Callable:
    """A function of the slots that calls ``fn`` with the arguments its recipes rebuild."""
    if kwargs[0] is _FIXED and not kwargs[1]:  # no keyword arguments: the common call
        if args[0] is _FIXED:
            fixed = args[1]
            return lambda values: fn(*fixed)
        build = args[1]
        return lambda values: fn(*build(values))
    return lambda values: fn(*_rebuilt(args, values), **_rebuilt(kwargs, values))


def _container_builder(structure, keys: list, recipes: list) -> Callable:
    """A function of the slots that rebuilds the container ``structure`` from its parts' recipes."""
    if type(structure) is list and all(recipe[0] is _SLOT and not recipe[2] for recipe in recipes):
        slots = [recipe[1] for recipe in recipes]  # arrays only (a list of gradients): one comprehension
        return lambda values: [values[i] for i in slots]
    items = [recipe[1] if recipe[0] is _FIXED else None for recipe in recipes]
    fills = [(i, recipe) for i, recipe in enumerate(recipes) if recipe[0] is not _FIXED]
    kind = type(structure)

    def build(values: list):
        made = items.copy()
        for i, recipe in fills:
            if recipe[0] is _SLOT:
                made[i] = Tensor._wrap(values[recipe[1]]) if recipe[2] else values[recipe[1]]
            else:
                made[i] = recipe[1](values)
        if kind is list:
            return made
        if kind is tuple:
            return tuple(made)
        if isinstance(structure, dict):
            return kind(zip(keys, made)) if kind is dict else kind((k, v) for k, v in zip(keys, made))
        return kind(*made)  # a namedtuple
    return build


def _replay_gradient(step: tuple, values: list) -> None:
    _, graph, seeds, keep, results = step
    ones_like = backend.xp.ones_like
    seeded = [(t, ones_like(values[slot]) if seed is None else values[seed]) for t, slot, seed in seeds]
    found = walk(graph, seeded, False, keep)
    for key, slot in results:
        entry = found.get(key)
        values[slot] = None if entry is None else entry[1]


# --- traced functions -------------------------------------------------------------------------------------------------
class _Candidate:
    """A signature's first program, replayed once a second trace agrees with it."""

    __slots__ = ("program",)

    def __init__(self, program: Program):
        self.program = program


class TracedFunction:
    """A Python function traced once per input signature and replayed afterwards.

    The signature: the arguments' nesting, each array or tensor's shape and dtype, each Variable (by reference) and
    each other Python value (by value when hashable, else by reference), and whether gradients are recorded. The
    first call of a signature traces; the second traces again and, when both agree, keeps the program; later calls
    replay it. A refused signature runs eagerly, with its reason in :attr:`refusals` and logged once (INFO).
    ``on_new_signature(args, kwargs)``, when given, is told of each signature before its first trace.
    """

    def __init__(self, fn: Callable, name: str | None = None, on_new_signature: Callable | None = None):
        self.python_function = fn
        self.name = name or getattr(fn, "__qualname__", repr(fn))
        self.refusals: dict = {}  # signature -> why it runs eagerly
        self._states: dict = {}   # signature -> _Candidate, Program or the refusal
        self._on_new_signature = on_new_signature
        self._announced: set = set()  # the signatures on_new_signature was told of
        self._logged: set[str] = set()

    def __call__(self, *args, **kwargs):
        if _eagerly or function.recorded is not None:  # eagerly, or inside a trace: the outer trace records it all
            return self.python_function(*args, **kwargs)
        if tape._recording:  # a GradientTape outside wants gradients through it: a replay (or a trace, which
            return self.python_function(*args, **kwargs)  # works on copies of the inputs) would cut them
        key, leaves = signature(args, kwargs)
        state = self._states.get(key)
        if type(state) is Program:
            return state.run(leaves)
        return self._trace(key, state, leaves, args, kwargs)

    def _trace(self, key, state, leaves, args, kwargs):
        if type(state) is str:
            args, kwargs = as_inputs(args, kwargs)
            return self.python_function(*args, **kwargs)
        if self._on_new_signature is not None and key not in self._announced:
            self._announced.add(key)
            self._on_new_signature(args, kwargs)
        outputs, program = trace(self.python_function, leaves, (args, kwargs))
        if program is None:  # variables were made: the next call traces again
            return outputs
        if type(program) is str:
            self._refuse(key, program)
        elif state is None:
            self._states[key] = _Candidate(program)
        else:
            difference = state.program.same_as(program)
            if difference is None:
                self._states[key] = program
            else:
                self._refuse(key, f"a Python value it cannot see changed between two calls: {difference}")
        return outputs

    def _refuse(self, key, reason: str) -> None:
        self._states[key] = self.refusals[key] = reason
        if reason not in self._logged:
            self._logged.add(reason)
            log.info("%s runs eagerly: %s", self.name, reason)

    def program(self, *args, **kwargs) -> Program | None:
        """The program replayed for these arguments' signature (None while there is none)."""
        state = self._states.get(signature(args, kwargs)[0])
        return state if type(state) is Program else None

    @property
    def programs(self) -> list[Program]:
        return [state for state in self._states.values() if type(state) is Program]

    def clear(self) -> None:
        """Forget every trace (they hold the arrays of the step that was traced)."""
        self._states.clear()
        self.refusals.clear()
        self._announced.clear()


def signature(args: tuple, kwargs: dict) -> tuple[tuple, tuple | list]:
    """(the signature of a call, its argument leaves in :func:`chainrule.utils.tree.flatten`'s order): see
    :class:`TracedFunction`."""
    if not kwargs:  # the common calls, f(x, y) and fit's step((x, y)), with arrays or tensors
        nested = len(args) == 1 and type(args[0]) is tuple
        leaves = args[0] if nested else args
        for leaf in leaves:
            kind = type(leaf)
            if kind is not Tensor and kind is not np.ndarray:
                break
        else:
            return (nested, GradMode.enabled, *[(leaf.shape, leaf.dtype) for leaf in leaves]), leaves
    leaves = tree.flatten((args, kwargs))
    return (_nesting((args, kwargs)), GradMode.enabled, *[_leaf_key(leaf) for leaf in leaves]), leaves


def _leaf_key(leaf):
    if isinstance(leaf, Variable):
        return _Same(leaf)
    if isinstance(leaf, Tensor) or backend.is_array(leaf):
        return leaf.shape, leaf.dtype
    try:
        hash(leaf)
    except TypeError:
        return _Same(leaf)
    return type(leaf), leaf


def _nesting(structure):
    """A hashable description of how ``structure`` nests (its leaves left out)."""
    if isinstance(structure, (list, tuple)):
        return type(structure), tuple(_nesting(x) for x in structure)
    if isinstance(structure, dict):
        keys = tuple(sorted(structure, key=repr))
        return type(structure), keys, tuple(_nesting(structure[k]) for k in keys)
    return None


class _Same:
    """A key part that matches only the same object (held, so that its id is not reused)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other) -> bool:
        return type(other) is _Same and other.obj is self.obj


# --- helpers ------------------------------------------------------------------------------------------------------------
_SMALL_INTS = range(-5, 257)  # CPython shares these objects: their identity says nothing


def _trackable(value) -> bool:
    """Whether a call's result can be told apart by identity (so a later use of it reads the replay's)."""
    if value is None or isinstance(value, (bool, str, type, Variable)) or callable(value):
        return False
    return not (type(value) is int and value in _SMALL_INTS)


def _paths(structure, path: tuple = ()):
    """(path, part) for ``structure`` itself and everything nested in it."""
    yield path, structure
    if isinstance(structure, (list, tuple)):
        for i, item in enumerate(structure):
            yield from _paths(item, path + (i,))
    elif isinstance(structure, dict):
        for key, item in structure.items():
            yield from _paths(item, path + (key,))


def _is_iterator(value) -> bool:
    return hasattr(value, "__next__") and hasattr(value, "__iter__") and not isinstance(value, (Tensor, np.ndarray))


def _holds_array(value) -> bool:
    if isinstance(value, dict):
        return any(_holds_array(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_array(v) for v in value)
    return backend.is_array(value) or isinstance(value, Tensor)


_VALUES = (int, float, complex, str, bytes, np.generic, np.dtype, slice, type(None), type(Ellipsis), range)


def _same(a, b) -> bool:
    """Whether two descriptions say the same: structures alike, numbers and settings equal, objects identical."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, _VALUES) or hasattr(a, "__self__"):  # bound methods compare by their object and function
        try:
            return bool(a == b) or (a != a and b != b)  # NaN settings are the same
        except (TypeError, ValueError):
            return False
    return False


def _name(description: tuple) -> str:
    head = description[0]
    if head in ("outputs", "gradient"):
        return "the outputs" if head == "outputs" else "a gradient"
    return getattr(head, "__qualname__", getattr(head, "__name__", repr(head)))


def _differing(a, b) -> str:
    """The first part where two descriptions differ, shown."""
    if type(a) is tuple and type(b) is tuple and len(a) == len(b) and not _atomic(a):
        for x, y in zip(a, b):
            if not _same(x, y):
                return _differing(x, y)
    return f"{_shown(a)}, then {_shown(b)}"


def _atomic(description) -> bool:
    return len(description) == 2 and description[0] in ("slot", "captured", "constant")


def _shown(description) -> str:
    """A description as the refusal shows it (short: a tensor by its shape, a constant by its repr)."""
    if type(description) is tuple and _atomic(description):
        kind, what = description
        if kind == "captured":
            return (f"a tensor of shape {getattr(what, 'shape', '?')} that no op made (computed outside the ops, "
                    f"anew on each call?)")
        return f"the value of an earlier step" if kind == "slot" else _short(repr(what))
    return _short(repr(description))


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
