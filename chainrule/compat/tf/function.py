"""``tf.function``: a Python function traced once per input signature and replayed afterwards, with TensorFlow's
rules for when to trace again.

The first call with a new signature runs the Python function while the engine's tracer records it
(chainrule/engine/tracer.py); once a second call of that signature has traced the same steps, later calls replay
the record: the ops on the new arrays, the gradients by the engine's one backward walk, and the work outside the
ops that TensorFlow would run as graph ops (``optimizer.apply_gradients``, a metric's ``update_state``,
``Variable.assign``, ``tf.random``) called again. The weights come out bit for bit as eagerly.

TensorFlow's rules: a Tensor or array argument counts by shape and dtype (``input_signature=`` with ``TensorSpec``
and None sizes fixes them; ``reduce_retracing=True`` relaxes a shape that changes to None after its second value),
a Python number or other object by value (a new value traces again), a Variable by reference, and the Variables the
function reads are captured by reference. ``experimental_get_tracing_count()`` counts those traces.

Differences from TensorFlow, where chainrule's tracing is Python running eagerly: the Python body (and so its
``print``) runs on the first two calls of each concrete shape (the second checks that the trace repeats), not once
per trace; a function whose trace cannot be replayed (it reads a traced value into Python, computes with NumPy, or
a Python value it uses changes between calls) runs eagerly, with the reason logged once at INFO on the
``chainrule.engine.tracer`` logger, where TensorFlow would raise or freeze the value.
``tf.config.run_functions_eagerly(True)`` runs every call eagerly, as in TensorFlow.

>>> import chainrule as tf
>>> @function
... def double(x):
...     return x * 2
>>> double(tf.constant(3.0)).numpy()
np.float32(6.0)
>>> _ = double(tf.constant([1.0, 2.0])); double.experimental_get_tracing_count()
2
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import types
import weakref
from typing import Any, Callable, Iterator

import numpy as np

from chainrule import backend
from chainrule.data.spec import TensorSpec  # tf.TensorSpec: tf.data's element_spec and from_generator use it too
from chainrule.data.spec import shapes_fit as _shapes_fit
from chainrule.engine.tensor import Tensor, Variable, as_tensor
from chainrule.engine import tape as tape_module
from chainrule.engine.tracer import TracedFunction
from chainrule.utils import tree
from chainrule.utils.errors import InvalidArgumentError


class _Calls(threading.local):
    depth = 0  # tf.function calls under way on this thread


_calls = _Calls()


def inside_function() -> bool:
    """Whether a ``tf.function`` is being called on this thread (what TensorFlow runs as a graph: a TensorArray
    there keeps graph semantics, whether chainrule traces, replays or runs the call eagerly)."""
    return _calls.depth > 0


def executing_eagerly() -> bool:
    """``tf.executing_eagerly()``: False inside a ``tf.function`` (TensorFlow runs it as a graph), unless
    ``tf.config.run_functions_eagerly(True)``; True elsewhere."""
    from chainrule.engine.tracer import functions_run_eagerly

    return not inside_function() or functions_run_eagerly()


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """``tf.init_scope()``: run the block eagerly, once, where it is traced: its ops are left out of the
    ``tf.function``'s recorded program (not run again on replays) and out of every GradientTape, as TensorFlow lifts
    them out of the function-building graph and pauses the tape. Outside a ``tf.function`` it only pauses tapes.

    >>> import chainrule as tf
    >>> v = tf.Variable(0)
    >>> @tf.function
    ... def f():
    ...     with tf.init_scope():
    ...         v.assign_add(1)
    ...     return v + 0
    >>> [int(f()) for _ in range(4)]  # traced twice (chainrule's two traces), then replayed
    [1, 2, 2, 2]
    """
    from chainrule.engine import function as engine_function

    trace = engine_function.recorded
    engine_function.recorded = None
    try:
        with contextlib.ExitStack() as stack:
            for recording in list(tape_module._recording):
                stack.enter_context(recording.stop_recording())
            yield
    finally:
        engine_function.recorded = trace


class Function:
    """What ``tf.function`` returns: call it like the function; see the module's docstring for how it traces."""

    def __init__(self, python_function: Callable, input_signature=None, reduce_retracing: bool = False,
                 name: str | None = None):
        functools.update_wrapper(self, python_function)
        self._python_function = python_function
        self._input_signature = None if input_signature is None else _signature_specs(input_signature)
        self._reduce_retracing = bool(reduce_retracing)
        self._name = name or getattr(python_function, "__name__", "function")
        self._traced = TracedFunction(python_function, name=f"tf.function {self._name}",
                                      on_new_signature=self._count_trace)
        self._traces: list[tuple] = []  # the signatures TensorFlow would have traced (sizes relaxed to None)
        self._bound: dict[int, tuple] = {}  # id(instance) -> (its weak reference, its Function)

    @property
    def python_function(self) -> Callable:
        """The Python function that was decorated."""
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    def __call__(self, *args, **kwargs):
        if self._input_signature is not None:
            args, kwargs = self._conform(args, kwargs), {}
        _calls.depth += 1
        try:
            return _as_tensors(self._traced(*args, **kwargs))
        finally:
            _calls.depth -= 1

    def __get__(self, instance, owner=None):
        """A method: each instance gets its own traced function of the bound method (TensorFlow's too)."""
        if instance is None:
            return self
        key = id(instance)
        entry = self._bound.get(key)
        if entry is None or entry[0]() is not instance:
            bound = Function(types.MethodType(self._python_function, instance), self._input_signature,
                             self._reduce_retracing, self._name)
            try:
                holder = weakref.ref(instance, lambda _, key=key: self._bound.pop(key, None))
            except TypeError:  # an instance that cannot be weakly referenced is held
                holder = lambda instance=instance: instance  # noqa: E731
            entry = self._bound[key] = (holder, bound)
        return entry[1]

    def experimental_get_tracing_count(self) -> int:
        """How many times TensorFlow would have traced the function so far (one per signature it saw)."""
        return len(self._traces)

    def get_concrete_function(self, *args, **kwargs) -> "ConcreteFunction":
        """The function for one signature: arguments as values or ``TensorSpec`` (the ``input_signature`` when
        none are given). It counts as a trace, as in TensorFlow; chainrule records the program on its first call
        (running the Python then), since it records by running."""
        if not args and not kwargs and self._input_signature is not None:
            args = self._input_signature
        args, kwargs = self._canonical(args, kwargs)
        signature = self._count_trace(args, kwargs)
        return ConcreteFunction(self, signature, args)

    def _canonical(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments as TensorFlow's trace keys them: a parameter given by keyword moves to its position."""
        try:
            bound = inspect.signature(self._python_function).bind_partial(*args, **kwargs)
        except (TypeError, ValueError):
            return args, kwargs
        return bound.args, dict(bound.kwargs)

    # --- TensorFlow's tracing rules -----------------------------------------------------------------------------------
    def _count_trace(self, args: tuple, kwargs: dict) -> tuple:
        """The trace TensorFlow would use for these arguments, counted when it is new (a relaxed one under
        ``reduce_retracing``)."""
        if self._input_signature is not None:
            signature = (_nesting(self._input_signature, {}), tuple(tree.flatten(self._input_signature)))
        else:
            signature = _trace_type(args, kwargs)
        for k, traced in enumerate(self._traces):
            if _fits(traced, signature):
                return traced
        if self._reduce_retracing:
            for k, traced in enumerate(self._traces):
                relaxed = _relaxed(traced, signature)
                if relaxed is not None:
                    self._traces.append(relaxed)
                    return relaxed
        self._traces.append(signature)
        return signature

    def _conform(self, args: tuple, kwargs: dict) -> tuple:
        """The arguments bound to the ``input_signature``: each tensor argument checked against its spec (arrays and
        numbers made Tensors of the spec's dtype), as TensorFlow binds them; a mismatch raises TypeError."""
        try:
            bound = inspect.signature(self._python_function).bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"Binding inputs to tf.function `{self._name}` failed: {error}") from None
        values = list(bound.args)
        specs = self._input_signature
        if len(values) != len(specs) or bound.kwargs:
            raise TypeError(f"Binding inputs to tf.function `{self._name}` failed: the input_signature has "
                            f"{len(specs)} arguments, the call gave {len(values) + len(bound.kwargs)}")
        return tuple(_conformed(self._name, spec, value) for spec, value in zip(specs, values))


def _as_tensors(result):
    """The outputs as TensorFlow gives a tf.function's: Python and NumPy numbers, bools, arrays and text become
    tensors (``return 0`` from a branch gives a tensor), other values (None, objects) stay as they are."""
    def convert(leaf):
        if isinstance(leaf, (bool, int, float, complex, str, bytes, np.generic, np.ndarray)):
            return as_tensor(leaf)
        return leaf
    return tree.map_structure(convert, result)


class _InputDtypeError(InvalidArgumentError, TypeError):
    """A concrete function called with a tensor of another dtype: TensorFlow's InvalidArgumentError, and a
    TypeError as chainrule's other binding errors are."""


class ConcreteFunction:
    """One traced signature of a :class:`Function` (``get_concrete_function``): calls must fit it."""

    def __init__(self, function: Function, signature: tuple, args: tuple = ()):
        self._function = function
        self._signature = signature
        self._args = args
        # the Python values it was traced with are part of it, as in TensorFlow: a call leaves them out
        self._fixed = {i: value for i, value in enumerate(args) if value is not None and not any(
            isinstance(leaf, (TensorSpec, Tensor, np.ndarray)) for leaf in tree.flatten(value))}

    @property
    def structured_input_signature(self):
        return self._signature

    @property
    def function_type(self) -> inspect.Signature:
        """The Python function's signature with each traced parameter annotated by its trace type (a TensorSpec
        for a tensor, the value itself for a Python value), as TensorFlow's FunctionType (an inspect.Signature)."""
        python = inspect.signature(self._function.python_function)
        params = list(python.parameters.values())
        annotated = [param.replace(annotation=tree.map_structure(_spec_of, self._args[i]))
                     if i < len(self._args) else param for i, param in enumerate(params)]
        return python.replace(parameters=annotated, return_annotation=inspect.Signature.empty)

    def __repr__(self) -> str:
        return f"ConcreteFunction {self._function._name}{self.function_type}"

    def __call__(self, *args, **kwargs):
        if self._fixed:  # the call's arguments fill the other parameters, in order, as TensorFlow binds them
            names = list(inspect.signature(self._function.python_function).parameters)
            free = [name for i, name in enumerate(names) if i not in self._fixed]
            fixed = {names[i]: value for i, value in self._fixed.items() if i < len(names)}
            for name in kwargs:
                if name in fixed:
                    raise TypeError(f"Binding inputs to tf.function `{self._function._name}` failed: argument "
                                    f"'{name}' was fixed to {fixed[name]!r} when the concrete function was made; "
                                    f"call the tf.function itself to change it")
            if len(args) > len(free):
                raise TypeError(f"Binding inputs to tf.function `{self._function._name}` failed: the concrete "
                                f"function takes {len(free)} arguments ({', '.join(free)}), got {len(args)}")
            kwargs = {**dict(zip(free, args)), **kwargs, **fixed}
            args = ()
        args, kwargs = self._function._canonical(args, kwargs)
        called = _trace_type(args, kwargs)
        if self._signature[0] == called[0]:  # a tensor of another dtype: the traced graph's input check, as TF's
            for i, (traced, given) in enumerate(zip(self._signature[1], called[1])):
                if isinstance(traced, TensorSpec) and isinstance(given, TensorSpec) and traced.dtype != given.dtype:
                    raise _InputDtypeError(None, None, f"cannot compute {self._function._name} as input #{i}"
                                           f"(zero-based) was expected to be a {traced.dtype.name} tensor but is a "
                                           f"{given.dtype.name} tensor: the arguments do not fit the concrete "
                                           f"function's signature {self._signature}")
        if not _fits(self._signature, called):
            raise TypeError(f"Binding inputs to tf.function `{self._function._name}` failed: the arguments do not "
                            f"fit the concrete function's signature {self._signature}")
        return self._function(*args, **kwargs)


def _signature_specs(input_signature) -> tuple:
    if not isinstance(input_signature, (list, tuple)):
        raise TypeError(f"input_signature must be a list or tuple of TensorSpec, got {type(input_signature).__name__}")
    for spec in tree.flatten(input_signature):
        if not isinstance(spec, TensorSpec):
            raise TypeError(f"input_signature must hold only TensorSpec objects, got {spec!r}")
    return tuple(input_signature)


def _conformed(name: str, spec, value):
    """``value`` bound to ``spec`` (a TensorSpec, or a list, tuple or dict of them): tensors checked, the rest made
    Tensors of the spec's dtype."""
    if isinstance(spec, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(spec):
            raise TypeError(f"Binding inputs to tf.function `{name}` failed: expected {len(spec)} items for {spec}, "
                            f"got {value!r}")
        return type(value)(_conformed(name, s, v) for s, v in zip(spec, value))
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise TypeError(f"Binding inputs to tf.function `{name}` failed: expected the keys {sorted(spec)}, "
                            f"got {value!r}")
        return {key: _conformed(name, spec[key], value[key]) for key in value}
    if isinstance(value, Variable):
        given = TensorSpec.from_tensor(value)
    else:
        if not isinstance(value, Tensor):
            value = Tensor._wrap(backend.xp.asarray(value, dtype=spec.dtype)) if not \
                isinstance(value, backend.xp.ndarray) else Tensor._wrap(value)
        given = TensorSpec.from_tensor(value)
    if not spec.is_compatible_with(given):
        raise TypeError(f"Binding inputs to tf.function `{name}` failed: Can not cast {given} to {spec}")
    return value


def _trace_type(args: tuple, kwargs: dict) -> tuple:
    """TensorFlow's trace type of a call: the nesting, then per leaf a TensorSpec (tensors, arrays), the Variable
    itself, or the Python value (by identity when it cannot be hashed)."""
    leaves = tree.flatten((args, kwargs))
    return _nesting(args, kwargs), tuple(_leaf_type(leaf) for leaf in leaves)


def _leaf_type(leaf):
    if isinstance(leaf, TensorSpec):
        return leaf
    if hasattr(type(leaf), "__tf_tracing_type__"):  # the object says what its traces key on (tf.types.experimental)
        from chainrule.compat.tf.types.experimental import TracingContext

        return ("trace type", leaf.__tf_tracing_type__(TracingContext()))
    if isinstance(leaf, Variable):
        return ("variable", id(leaf))
    if isinstance(leaf, Tensor) or backend.is_array(leaf):  # (any backend's array)
        return TensorSpec.from_tensor(leaf)
    try:
        hash(leaf)
    except TypeError:
        return ("object", id(leaf))
    return ("value", type(leaf), leaf)


def _spec_of(leaf):
    """A traced argument as its annotation: tensors as their TensorSpec, specs and Python values as they are."""
    if isinstance(leaf, (Tensor, Variable)) or backend.is_array(leaf):
        return TensorSpec.from_tensor(leaf)
    return leaf


def _nesting(args, kwargs) -> Any:
    return tree.map_structure(lambda _: None, (args, kwargs))


def _fits(traced: tuple, signature: tuple) -> bool:
    """Whether a call of ``signature`` can use the trace ``traced`` (same nesting and values, shapes that fit)."""
    if traced[0] != signature[0] or len(traced[1]) != len(signature[1]):
        return False
    for a, b in zip(traced[1], signature[1]):
        if isinstance(a, TensorSpec) and isinstance(b, TensorSpec):
            if a.dtype != b.dtype or not _shapes_fit(a.shape, b.shape):
                return False
        elif a != b:
            return False
    return True


def _relaxed(traced: tuple, signature: tuple) -> tuple | None:
    """``traced`` with the sizes that differ from ``signature``'s made None, when only sizes differ; else None."""
    if traced[0] != signature[0] or len(traced[1]) != len(signature[1]):
        return None
    leaves = []
    for a, b in zip(traced[1], signature[1]):
        if isinstance(a, TensorSpec) and isinstance(b, TensorSpec):
            if a.dtype != b.dtype or a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
                return None
            leaves.append(TensorSpec([x if x == y else None for x, y in zip(a.shape, b.shape)], a.dtype, a.name))
        elif a != b:
            return None
        else:
            leaves.append(a)
    return traced[0], tuple(leaves)


def function(func=None, input_signature=None, autograph: bool = True, jit_compile=None,
             reduce_retracing: bool = False, experimental_relax_shapes=None, name: str | None = None,
             **options):
    """``tf.function``: as ``@tf.function`` and as ``@tf.function(input_signature=..., reduce_retracing=True)``.
    ``experimental_relax_shapes`` is the older name of ``reduce_retracing``; ``autograph`` and ``jit_compile`` are
    accepted and change nothing (Python control flow runs as Python while tracing)."""
    if experimental_relax_shapes is not None:
        reduce_retracing = reduce_retracing or bool(experimental_relax_shapes)
    if func is None:
        return functools.partial(function, input_signature=input_signature, autograph=autograph,
                                 jit_compile=jit_compile, reduce_retracing=reduce_retracing, name=name, **options)
    if not callable(func):
        raise TypeError(f"tf.function takes a function, got {type(func).__name__}")
    return Function(func, input_signature=input_signature, reduce_retracing=reduce_retracing, name=name)
