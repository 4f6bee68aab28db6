"""Layer: the Keras contract — sublayers and Variables tracked through attributes, lazy ``build`` from the first
input's shape, ``call`` with ``training`` and ``mask`` filled in, losses, masks, output shapes, config.

>>> import numpy as np
>>> from chainrule.keras.layers import Dense
>>> layer = Dense(3)
>>> layer(np.ones((2, 4), "float32")).shape
TensorShape([2, 3])
>>> [w.shape for w in layer.get_weights()]
[(4, 3), (3,)]

A layer made of layers owns their weights (Keras 3's ``Layer.__setattr__`` tracking):

>>> class Block(Layer):
...     def __init__(self):
...         super().__init__()
...         self.inner = [Dense(4), Dense(2)]
...     def call(self, inputs):
...         return self.inner[1](self.inner[0](inputs))
>>> block = Block()
>>> block(np.ones((2, 3), "float32")).shape, len(block.weights), block.count_params()
(TensorShape([2, 2]), 4, 26)
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import warnings
import weakref
from collections import defaultdict
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.engine import function as _engine_function
from chainrule.data.map_context import in_dataset_function
from chainrule.engine.tensor import Tensor, Variable, as_tensor
from chainrule.keras.layers.tracking import Tracker, deferred_restores, may_hold_tracked, restore_deferred
from chainrule.keras.mixed_precision import autocast as _autocast
from chainrule.keras.mixed_precision import policy as _policy
from chainrule.keras.saving.weight_budget import charge_weight
from chainrule.utils import tree
from chainrule.utils.naming import to_snake_case

_name_counts: defaultdict[str, int] = defaultdict(int)


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... as Keras names layers."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


class InputSpec:
    """What a built layer accepts: the rank and the sizes of some axes (batch excluded)."""

    def __init__(self, ndim: int | None = None, min_ndim: int | None = None, axes: dict[int, int] | None = None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, axes or {}

    def check(self, layer_name: str, shape: tuple) -> None:
        """Raise Keras's error when ``shape`` does not fit; an unknown size (None) fits any expected size."""
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected ndim="
                             f"{self.ndim}, found ndim={len(shape)}. Full shape received: {shape}")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            raise ValueError(f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected "
                             f"min_ndim={self.min_ndim}, found ndim={len(shape)}. Full shape received: {shape}")
        for axis, size in ({} if in_dataset_function() else self.axes).items():  # (see data/map_context.py)
            if shape[axis] is not None and shape[axis] != size:
                raise ValueError(f"Input 0 of layer '{layer_name}' is incompatible with the layer: expected axis "
                                 f"{axis} of input shape to have value {size}, but received input with shape {shape}")


# --- the call context: what an outer layer's call hands to the layers it calls ---------------------------------------
class _CallContext(threading.local):
    entry = None  # the layer whose __call__ is outermost (it clears the losses of the previous call)
    training = None  # the ``training`` value of the innermost call that had one
    probing = None  # (batch, axis) sizes while a symbolic call's shape probe runs on made-up values (graph.py)
    made_up_sizes = False  # whether that probe's inputs have made-up sizes (an unknown axis of a KerasTensor)


_context = _CallContext()
_holding_losses: weakref.WeakSet = weakref.WeakSet()  # the layers whose ``_losses`` are not empty
_holding_metrics: weakref.WeakSet = weakref.WeakSet()  # the layers that have called ``add_metric``


@contextlib.contextmanager
def outside_layer_calls():
    """Run a block as if no layer were being called (shape probes and symbolic calls: an outer ``training=True``
    must not reach them, nor their losses clear the outer call's)."""
    saved = _context.entry, _context.training
    _context.entry = _context.training = None
    try:
        yield
    finally:
        _context.entry, _context.training = saved


class _CallSignature:
    """What ``Layer.__call__`` needs to know about a class's ``call`` and ``build``, worked out once per class."""

    def __init__(self, cls: type):
        params = _parameters(cls, "call")
        self.positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.first = self.positional[0] if self.positional else None
        self.keywords = {p.name for p in params if p.kind != p.VAR_POSITIONAL}
        self.any_keyword = any(p.kind == p.VAR_KEYWORD for p in params)
        self.takes_training = "training" in self.keywords
        # ``call(self, inputs, training)`` with no default: tf.keras 2 passes it (None when nothing sets it)
        self.requires_training = any(p.name == "training" and p.default is p.empty and p.kind != p.VAR_KEYWORD
                                     for p in params)
        self.takes_mask = "mask" in self.keywords
        self.mask_keywords = {name: f"{name}_mask" for name in self.positional if f"{name}_mask" in self.keywords}
        # whether the class converts its inputs its own way (a model fixes their rank), on the short path too
        self.own_convert = cls._convert is not Layer._convert
        build = [p for p in _parameters(cls, "build") if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = [p for p in build if p.default is p.empty]
        # build(input_shape) gets the first input's shape(s); build(query_shape, value_shape) one per call argument
        self.build_shapes = [p.name for p in build] if len(required) > 1 else None
        # build(query_shape, value_shape, key_shape=None): a shape with a default is left out when its argument is
        self.optional_build_shapes = {p.name for p in build if p.default is not p.empty}


def _parameters(cls: type, method: str) -> list:
    params = list(inspect.signature(getattr(cls, method)).parameters.values())
    return params if isinstance(inspect.getattr_static(cls, method), staticmethod) else params[1:]


@functools.cache
def _signature(cls: type) -> _CallSignature:
    return _CallSignature(cls)


class Layer:
    """Base class of every layer: subclasses define ``build(input_shape)`` and ``call(inputs, ...)``.

    Layers and Variables assigned to attributes (alone or in lists, tuples and dicts) are tracked, in the order
    assigned: their weights, losses and ``trainable`` setting are this layer's (:mod:`.tracking`).
    """

    _initialized = False  # set by Layer.__init__; a subclass that forgets super().__init__() gets Keras's error
    # "my call does all its work in ops", so a step calling it can be traced and replayed (chainrule/engine/tracer.py);
    # a layer that works outside the ops (NumPy, Python state) sets it False and its steps run eagerly
    _traceable = True
    # attributes where the framework keeps what it knows about a layer, never parts of it
    _untracked_attributes = frozenset({"_tracker", "_layers", "_trainable_variables", "_non_trainable_variables",
                                       "_losses", "_callable_losses", "_regularized", "_inbound_nodes", "_output"})

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: str | None = None,
                 input_shape: tuple | None = None, batch_input_shape: tuple | None = None,
                 input_dim: int | None = None, activity_regularizer=None, autocast: bool = True, **kwargs: Any):
        self._initialize_tracker()
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {sorted(kwargs)}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. Received: "
                             f"name={name!r} (of type {type(name).__name__})")
        self._initialized = True
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._set_dtype_policy(_policy.get(dtype))
        self.autocast = bool(autocast)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.input_shape_arg = None if input_shape is None else tuple(input_shape)
        self.built = False
        self.input_spec: InputSpec | None = None
        self._build_shapes = None
        from chainrule.keras import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)

    # --- tracking -------------------------------------------------------------------------------------------------
    def _initialize_tracker(self) -> None:
        """The stores of tracked state, made before any attribute is set (also when a subclass sets attributes
        before calling ``super().__init__()``)."""
        if "_tracker" in self.__dict__:
            return
        setattr_ = object.__setattr__
        layers: list[Layer] = []
        trainable: list[Variable] = []
        non_trainable: list[Variable] = []
        setattr_(self, "_layers", layers)
        setattr_(self, "_trainable_variables", trainable)
        setattr_(self, "_non_trainable_variables", non_trainable)
        setattr_(self, "_losses", [])  # add_loss tensors of the latest call
        setattr_(self, "_callable_losses", [])  # add_loss callables (TF 2): evaluated whenever ``losses`` is read
        setattr_(self, "_regularized", [])  # (variable, regularizer) for add_weight(regularizer=...)
        setattr_(self, "_tracker", Tracker({
            "layers": (lambda x: isinstance(x, Layer) and x is not self, layers),
            "trainable_variables": (lambda x: isinstance(x, Variable) and x.trainable, trainable),
            "non_trainable_variables": (lambda x: isinstance(x, Variable) and not x.trainable, non_trainable),
        }))

    def __setattr__(self, name: str, value: Any) -> None:
        tracker = self.__dict__.get("_tracker")
        if tracker is None:
            self._initialize_tracker()
            tracker = self.__dict__["_tracker"]
        if name not in self._untracked_attributes:
            old = self.__dict__.get(name)
            if old is not None and (isinstance(old, (Layer, Variable)) or may_hold_tracked(old)):
                tracker.release(old)
            if isinstance(value, (Layer, Variable)) or may_hold_tracked(value):
                value = tracker.track(value)
        object.__setattr__(self, name, value)
        if deferred_restores:  # a checkpoint restored before this attribute was set (restore-on-create)
            restore_deferred(self, name, value)

    def __delattr__(self, name: str) -> None:
        value = self.__dict__.get(name)
        if name not in self._untracked_attributes and value is not None and "_tracker" in self.__dict__:
            self._tracker.release(value)
        object.__delattr__(self, name)

    def _sublayers(self) -> list["Layer"]:
        """The layers this one holds directly (models override it: a graph's layers, a stack's)."""
        return list(self._layers)

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list["Layer"]:
        """This layer and those inside it, depth first in tracking order, each once."""
        found = [self] if include_self else []
        seen = {id(self)}
        stack = list(reversed(self._sublayers()))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            found.append(layer)
            if recursive:
                stack.extend(reversed(layer._sublayers()))
        return found

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze or unfreeze, as Keras: the layer's trainable weights and its sublayers' stop or start getting
        gradients; weights created non-trainable (BatchNormalization's moving statistics) stay so."""
        value = bool(value)
        self._trainable = value
        for var in self._trainable_variables:
            var.trainable = value
            var.requires_grad = value and var.dtype.kind == "f"
        for layer in self._sublayers():
            layer.trainable = value

    # --- dtypes (Keras 3's dtype policy) ----------------------------------------------------------------------------
    @property
    def dtype_policy(self) -> _policy.DTypePolicy:
        """The layer's :class:`~chainrule.keras.mixed_precision.DTypePolicy` (from ``dtype=``, else the global one)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        self._set_dtype_policy(_policy.get(value))

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (Keras 3: an alias of ``variable_dtype``)."""
        return self._dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value) -> None:
        self._set_dtype_policy(_policy.get(value))

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer creates its weights in."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in: its float inputs are cast to it, and so are its float weights as its
        ops read them when it differs from ``variable_dtype`` (mixed precision)."""
        return self._dtype_policy.compute_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype the layer casts its float inputs to (its compute dtype)."""
        return self.compute_dtype

    def _set_dtype_policy(self, policy: _policy.DTypePolicy) -> None:
        setattr_ = object.__setattr__  # (derived settings, never tracked)
        setattr_(self, "_dtype_policy", policy)
        setattr_(self, "_input_dtype", backend.as_dtype(self.input_dtype))
        compute = backend.as_dtype(policy.compute_dtype)
        setattr_(self, "_compute_np_dtype", compute)
        setattr_(self, "_mixed_policy", compute.kind == "f" and policy.compute_dtype != policy.variable_dtype)
        if self._mixed_policy:
            _autocast.install()

    # --- building -------------------------------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""
        if self._build_shapes is None and isinstance(input_shape, (tuple, list)):  # a build called directly (a
            self._build_shapes = tuple(input_shape)  # ``super().build`` in a build of its own): what to save
        self.built = True

    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None, aggregation: str | None = "none",
                   overwrite_with_gradient: bool = False, name: str | None = None) -> Variable:
        """Create a Variable owned by this layer, as Keras 3's ``Layer.add_weight``.

        ``shape`` defaults to ``()``; ``initializer`` to 'glorot_uniform' for a float dtype and 'zeros' otherwise;
        ``dtype`` to the layer's. Positionally it takes ``(shape, initializer, dtype)`` as Keras 3, or TensorFlow 2's
        ``(name, shape, dtype, initializer, regularizer, trainable)`` when the first argument is a name.
        """
        self._check_initialized("add_weight")
        given = {"shape": shape, "initializer": initializer, "dtype": dtype, "regularizer": regularizer,
                 "name": name}
        if args:
            order = (("name", "shape", "dtype", "initializer", "regularizer", "trainable") if isinstance(args[0], str)
                     else ("shape", "initializer", "dtype"))
            if len(args) > len(order):
                raise TypeError(f"Layer '{self.name}': add_weight() takes at most {len(order)} positional arguments "
                                f"({', '.join(order)}), got {len(args)}")
            for key, value in zip(order, args):
                if key == "trainable":
                    trainable = value
                elif given[key] is not None:
                    raise TypeError(f"Layer '{self.name}': add_weight() got `{key}` both positionally and as a "
                                    f"keyword argument")
                else:
                    given[key] = value
        name = given["name"]
        label = f"weight {name!r}" if name else "a weight"
        shape = _weight_shape(given["shape"], f"Layer '{self.name}': add_weight() for {label}")
        dtype = backend.as_dtype(given["dtype"] or self.variable_dtype).name
        initializer = given["initializer"]
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        if aggregation not in (None, "none", "mean", "sum", "only_first_replica"):
            raise ValueError(f"Layer '{self.name}': invalid value for argument `aggregation`: expected one of "
                             f"'none', 'mean', 'sum', 'only_first_replica'. Received: aggregation={aggregation!r}")
        charge_weight(self.name, name, shape)  # a model file being loaded may not ask for more than it holds
        if overwrite_with_gradient:
            raise NotImplementedError(f"Layer '{self.name}': add_weight(overwrite_with_gradient=True) (float8 "
                                      f"training) is not supported")
        from chainrule.keras import initializers
        from chainrule.keras import constraints, regularizers

        value = initializers.get(initializer)(shape, dtype=dtype)
        from chainrule.keras.scopes import current_path

        scope = current_path()  # keras.name_scope: the open scopes' path before the layer's name
        var = Variable(value, trainable=bool(trainable), dtype=dtype, constraint=constraints.get(constraint),
                       name=f"{scope + '/' if scope else ''}{self.name}/{name or 'weight'}")
        # the layer's own reference: the variable stays tracked whatever happens to the attributes holding it
        self._tracker.track(var)
        if not self.trainable:
            var.trainable = var.requires_grad = False
        if not autocast:  # read in its own dtype even inside a mixed-precision call
            _autocast.keep_dtype(var)
        reg = regularizers.get(given["regularizer"])
        if reg is not None:
            self._regularized.append((var, reg))
        return var

    def add_variable(self, shape, initializer, dtype=None, trainable: bool = True, autocast: bool = True,
                     regularizer=None, constraint=None, name: str | None = None) -> Variable:
        """Keras 3's alias of :meth:`add_weight` (``shape`` and ``initializer`` required)."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                               autocast=autocast, regularizer=regularizer, constraint=constraint, name=name)

    def _maybe_build(self, shape) -> None:
        if not self.built:
            self.build(_batch_free(shape))
            self.built = True

    def _build_on_call(self, inputs, rest: tuple, kwargs: dict) -> None:
        """Build from the call's inputs: ``build(input_shape)`` gets the first input's shape(s), a
        ``build(a_shape, b_shape)`` the shapes of call's arguments ``a`` and ``b`` (Keras's ``_maybe_build``)."""
        names = _signature(type(self)).build_shapes
        if names is None:
            if self.input_spec is not None and isinstance(inputs, Tensor):  # a spec set in __init__: check first
                self.input_spec.check(self.name, inputs.shape)
            shape = _shape_of(inputs)
            self._build_shapes = _batch_free(shape)
            self._maybe_build(shape)
            return
        call = _signature(type(self))
        arguments = dict(zip(call.positional, (inputs,) + tuple(rest)), **kwargs)
        shapes = {}
        for key in names:
            argument = key[:-len("_shape")] if key.endswith("_shape") else None
            if key in call.optional_build_shapes and arguments.get(argument) is None:
                continue
            if argument not in arguments:
                raise ValueError(f"For a `build()` method with more than one argument, all arguments should have a "
                                 f"`_shape` suffix and match an argument from `call()`. E.g. `build(self, foo_shape, "
                                 f"bar_shape)`. For layer '{type(self).__name__}', received `build()` argument "
                                 f"`{key}`, which does not match an argument of this call")
            shapes[key] = _batch_free(_shape_of(arguments[argument]))
        self._build_shapes = shapes
        self.build(**shapes)
        self.built = True

    def get_build_config(self) -> dict | None:
        """The input shape(s) the layer was built for (Keras 3), so that ``build_from_config`` can rebuild it."""
        shapes = self._build_shapes
        if shapes is None:
            return None
        if isinstance(shapes, dict) and _signature(type(self)).build_shapes is not None:  # build(a_shape, b_shape)
            return {"shapes_dict": {key: _listed(value) for key, value in shapes.items()}}
        return {"input_shape": _listed(shapes)}  # (a dict here is one input's structure: {"images": ..., ...})

    def build_from_config(self, config: dict | None) -> None:
        """Build the layer as ``get_build_config`` recorded (before loading weights into it), as Keras 3: a model
        built by calling it builds the layers inside it too."""
        if not config or self.built:
            return
        if "input_shape" in config:
            self._build_shapes = _shape_from_config(config["input_shape"])
            self.build(self._build_shapes)
        else:
            self._build_shapes = {key: _shape_from_config(value) for key, value in config["shapes_dict"].items()}
            self.build(**self._build_shapes)
        self.built = True

    # --- calling --------------------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """Run ``call`` on the inputs: the first positional argument is the main input (built from, masked, checked
        against ``input_spec``); further arguments go to ``call`` as given. ``training`` and ``mask`` reach ``call``
        only when its signature takes them: ``training`` from this call, else from the outer layer's call, else
        ``call``'s default; ``mask`` from the input's mask when not given."""
        signature = _signature(type(self))
        if (len(args) == 1 and type(args[0]) is Tensor and self._initialized and self.built
                and (not kwargs or len(kwargs) == 1 and "training" in kwargs) and args[0].dtype == self._input_dtype
                and getattr(args[0], "_keras_mask", None) is None):
            # the usual call (``layer(x)``, ``layer(x, training=True)`` on a built layer): no argument to resolve,
            # nothing to cast, build, mask or trace symbolically
            return self._call_in_context(args[0], (), kwargs, signature, prepared=True)
        self._check_initialized("__call__")
        if args:
            inputs, rest = args[0], args[1:]
        elif signature.first is not None and signature.first in kwargs:
            inputs, rest = kwargs.pop(signature.first), ()
        else:
            raise TypeError(f"Layer '{self.name}' ({type(self).__name__}) was called without an input: call() is "
                            f"missing its first argument" + (f" '{signature.first}'" if signature.first else ""))
        if kwargs and not signature.any_keyword:
            unknown = [key for key in kwargs if key not in signature.keywords and key != "training"]
            if unknown:
                raise TypeError(f"Layer '{self.name}' ({type(self).__name__}): call() got an unexpected keyword "
                                f"argument '{unknown[0]}'")
        if (holds_symbolic(inputs) or rest and holds_symbolic(rest)
                or kwargs and holds_symbolic(tuple(kwargs.values()))):
            from chainrule.keras.graph import call_symbolic

            with outside_layer_calls():
                try:
                    return call_symbolic(self, inputs, *rest, **kwargs)
                finally:
                    self._clear_losses()  # what the shape probe added is no real call's loss
        return self._call_in_context(inputs, rest, kwargs, signature, prepared=False)

    def _call_in_context(self, inputs, rest: tuple, kwargs: dict, signature: "_CallSignature", prepared: bool):
        """``call`` with the call context set (the outermost call clears the losses; ``training`` flows inward);
        ``prepared``: ``inputs`` is a Tensor of the layer's dtype without a mask and the layer is built."""
        context = _context
        top = context.entry is None
        outer_training = context.training
        if top:
            context.entry = self
            self._clear_losses()  # Keras 3: ``losses`` holds the latest call's
        try:
            if rest:
                rest = tuple(self._convert_argument(value) for value in rest)
            if not prepared:
                inputs = self._checked_input(inputs, rest, kwargs)
            else:
                if signature.own_convert:
                    inputs = self._convert(inputs)
                if self.input_spec is not None and isinstance(inputs, Tensor):
                    self.input_spec.check(self.name, inputs.shape)
            training = kwargs.pop("training", None)
            if training is None:
                training = outer_training
            if training is not None:
                training = training_flag(training)
            if training is not None:
                if signature.takes_training:
                    kwargs["training"] = training
            elif signature.requires_training:  # (Keras refuses a non-tensor given positionally)
                kwargs["training"] = None
            context.training = training
            if prepared:  # no mask on the input, none given: none to fill in
                previous_mask = None
            elif signature.takes_mask or signature.mask_keywords:
                previous_mask = self._fill_masks(signature, inputs, rest, kwargs)
            else:
                previous_mask = mask_of(inputs)
            if not self._traceable and _engine_function.recorded is not None:
                _engine_function.recorded.refuse(f"layer '{self.name}' ({type(self).__name__}) declares "
                                                 f"_traceable = False: its call works outside the ops")
            previous = _autocast.enter(self) if _engine_function.autocast_hook is not None else _autocast.UNCHANGED
            if previous is _autocast.UNCHANGED:
                outputs = self.call(inputs, *rest, **kwargs)
            else:  # Keras 3's autocast scope: the ops read the float weights in the compute dtype
                try:
                    outputs = self.call(inputs, *rest, **kwargs)
                finally:
                    _autocast.leave(previous)
            if self.activity_regularizer is not None:
                self._add_activity_losses(outputs)
            if previous_mask is not None or type(self).compute_mask is not Layer.compute_mask:
                self._set_output_masks(inputs, outputs, previous_mask)
        finally:
            context.training = outer_training
            if top:
                context.entry = None
        return outputs

    def _check_initialized(self, what: str) -> None:
        if not self._initialized:
            raise RuntimeError(f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` as the "
                               f"first statement in the `__init__()` method. Go add it! (needed by {what})")

    def _checked_input(self, inputs, rest: tuple = (), kwargs: dict | None = None):
        """``inputs`` as Tensors of this layer's dtype, the layer built for them and its input spec checked."""
        inputs = self._convert(inputs)
        if not self.built:
            self._build_on_call(inputs, rest, kwargs or {})
        if self.input_spec is not None and isinstance(inputs, Tensor):
            self.input_spec.check(self.name, inputs.shape)
        return inputs

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call` method implemented.")

    def _convert(self, inputs):
        if type(inputs) is Tensor and inputs.dtype == self._input_dtype:  # the usual call: nothing to convert
            return inputs
        if isinstance(inputs, (list, tuple)):
            return type(inputs)(self._convert(x) for x in inputs)
        if isinstance(inputs, dict):
            return {key: self._convert(value) for key, value in inputs.items()}
        t = as_tensor(inputs)
        if t.dtype.kind == "f" and t.dtype != self._input_dtype and self.autocast:
            from chainrule.ops import cast

            mask = getattr(t, "_keras_mask", None)
            t = cast(t, self._input_dtype)
            if mask is not None:
                t._keras_mask = mask
        return t

    def _convert_argument(self, value):
        """A further positional argument of a call: tensors (or arrays) only, as Keras requires; others go by
        keyword."""
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return type(value)(self._convert_argument(x) for x in value)
        if isinstance(value, (Tensor, np.ndarray)):
            return self._convert(value)
        raise ValueError(f"Layer '{self.name}': only input tensors may be passed as positional arguments. The "
                         f"following argument value should be passed as a keyword argument: {value!r} (of type "
                         f"{type(value).__name__})")

    @classmethod
    def _call_takes_training(cls) -> bool:
        return _signature(cls).takes_training

    # --- losses ---------------------------------------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a loss (a scalar Tensor, or several) computed in ``call``; it is in ``layer.losses`` and
        ``model.losses`` until the next call of the outermost layer, and ``fit`` adds it to the loss. A
        zero-argument callable (TensorFlow 2) stays and is evaluated each time ``losses`` is read."""
        for value in tree.flatten(loss):
            if isinstance(value, Tensor):
                self._losses.append(value)
                _holding_losses.add(self)
            elif _is_symbolic(value):
                raise ValueError(f"Layer '{self.name}': add_loss() got a symbolic tensor ({value!r}). Keras 3 has no "
                                 f"symbolic losses in the functional API: compute the loss inside a layer's call() and "
                                 f"add it there with self.add_loss(...)")
            elif callable(value):
                self._callable_losses.append(value)
            else:
                raise ValueError(f"Layer '{self.name}': `add_loss()` can only be called from inside `build()` or "
                                 f"`call()`, on a tensor input (or with a zero-argument callable). Received invalid "
                                 f"value: {value!r} (of type {type(value).__name__})")

    def add_metric(self, value, name: str | None = None, aggregation: str | None = "mean") -> None:
        """TensorFlow 2's ``add_metric``: the mean of ``value`` over each epoch, reported in ``fit``'s and
        ``evaluate``'s logs as ``name`` (Keras 3 removed it; TF 2 tutorials call it from ``call``); the result of a
        metric's call (``self.add_metric(self.accuracy_fn(y, y_pred))``) reports that metric under its own name."""
        if aggregation not in ("mean", None):
            raise ValueError(f'We currently support only `mean` sample-wise metric aggregation. You provided '
                             f'aggregation=`{aggregation}`')
        from chainrule.keras.metrics.metric import metric_of_result

        metric = metric_of_result(value)
        if metric is not None:  # TF 2: a metric's own result (its call updated it) is reported as that metric
            self.__dict__.setdefault("_added_metrics", {}).setdefault(metric.name, metric)
            _holding_metrics.add(self)
            return
        if not name:
            raise ValueError(f"Layer '{self.name}': please provide a name for your metric like "
                             f"`self.add_metric(tf.reduce_sum(inputs), name='mean_activation')`")
        if _is_symbolic(value):
            raise ValueError(f"Layer '{self.name}': add_metric() got a symbolic tensor; call it inside call(), or "
                             f"on a functional model (model.add_metric(tensor, name=...))")
        trackers = self.__dict__.setdefault("_added_metrics", {})
        if name not in trackers:
            from chainrule.keras.metrics import Mean

            trackers[name] = Mean(name=name)
            _holding_metrics.add(self)
        trackers[name].update_state(value)

    def _add_activity_losses(self, outputs) -> None:
        """Keras 3: the activity penalty of each output, per sample (divided by the batch size)."""
        for out in tree.flatten(outputs):
            if isinstance(out, Tensor):
                loss = self.activity_regularizer(out)
                self.add_loss(loss / out.shape[0] if out.ndim and out.shape[0] else loss)

    def _clear_losses(self) -> None:
        if not _holding_losses:  # the common case, no layer holds a loss: no walk over the layers
            return
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses.clear()
                _holding_losses.discard(layer)

    @property
    def losses(self) -> list[Tensor]:
        """The losses of the latest call (``add_loss``, activity penalties) of this layer and the layers inside it,
        then the callables given to ``add_loss``, then the penalties of the trainable weights with a regularizer,
        in ``trainable_weights`` order (recomputed, so they are differentiable), as Keras orders them."""
        layers = self._flatten_layers()
        found = [loss for layer in layers for loss in layer._losses]
        found += [as_tensor(fn()) for layer in layers for fn in layer._callable_losses]
        regularizers = {id(var): reg for layer in layers for var, reg in layer._regularized}
        if regularizers:
            found += [regularizers[id(var)](var) for var in self.trainable_weights if id(var) in regularizers]
        return found

    # --- masks ----------------------------------------------------------------------------------------------------
    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes a mask on (``compute_mask``); by default, whether the class defines its own
        ``compute_mask`` (Keras 3)."""
        value = getattr(self, "_supports_masking", None)  # set on the layer, or on its class
        return type(self).compute_mask is not Layer.compute_mask if value is None else value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: the input's mask when the layer supports masking, else None."""
        return mask if self.supports_masking else None

    def _fill_masks(self, signature: _CallSignature, inputs, rest: tuple, kwargs: dict):
        """Give ``call`` the inputs' masks it takes and was not given (``mask=`` for the only tensor argument,
        ``<argument>_mask=`` for several); return the mask ``compute_mask`` gets."""
        if signature.takes_mask and kwargs.get("mask") is None and not rest:
            mask = mask_of(inputs)
            if mask is not None:
                kwargs["mask"] = mask
        elif signature.mask_keywords and rest:
            for name, value in zip(signature.positional, (inputs,) + rest):
                keyword = signature.mask_keywords.get(name)
                if keyword is not None and kwargs.get(keyword) is None:
                    mask = mask_of(value)
                    if mask is not None:
                        kwargs[keyword] = mask
        given = kwargs.get("mask")
        return given if given is not None else mask_of(inputs)

    def _set_output_masks(self, inputs, outputs, previous_mask) -> None:
        if not self.supports_masking:
            if previous_mask is not None:
                warnings.warn(f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a mask "
                              f"attached to it. However, this layer does not support masking and will therefore "
                              f"destroy the mask information. Downstream layers will not see the mask.", stacklevel=4)
            return
        flat = [t for t in tree.flatten(outputs) if isinstance(t, Tensor)]
        if all(getattr(t, "_keras_mask", None) is not None for t in flat):
            return  # the layer set its outputs' masks itself
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for tensor, mask in zip(flat, tree.flatten(masks)):
            if mask is not None and getattr(tensor, "_keras_mask", None) is None:
                tensor._keras_mask = mask

    # --- shapes ---------------------------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The output shape for inputs of ``input_shape`` (None for unknown sizes), found by running the layer on
        zeros (:func:`output_shape_by_probing`); layers with a formula override it."""
        return output_shape_by_probing(self, input_shape)

    # --- the symbolic graph ---------------------------------------------------------------------------------------
    @property
    def input(self):
        """The symbolic input of this layer's first call on symbolic tensors (Keras's ``layer.input``)."""
        return self._first_node("input").inputs

    @property
    def output(self):
        """The symbolic output of this layer's first call on symbolic tensors, e.g. for a feature extractor:
        ``keras.Model(model.inputs, model.layers[0].output)``."""
        outputs = self._first_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def _first_node(self, what: str):
        nodes = getattr(self, "_inbound_nodes", None)
        if not nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic input, so it has no {what}. "
                                 f"Call it in a model with a known input (keras.Input(shape) or input_shape=) first")
        return nodes[0]

    # --- weights --------------------------------------------------------------------------------------------------
    @property
    def weights(self) -> list[Variable]:
        """The layer's own Variables (trainable, then non-trainable), then its sublayers', depth first; a Variable
        held twice (a shared layer or weight) once."""
        seen: set[int] = set()
        found = []
        for layer in self._flatten_layers():
            for var in layer._trainable_variables + layer._non_trainable_variables:
                if id(var) not in seen:
                    seen.add(id(var))
                    found.append(var)
        return found

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    def save_own_variables(self, store: dict) -> None:
        """Keras 3's saving hook: put the layer's own Variables (not its sublayers') into ``store`` as "0", "1", ...
        A layer that overrides it (and ``load_own_variables``) saves whatever state it likes in a model file."""
        for i, var in enumerate(self._trainable_variables + self._non_trainable_variables):
            store[f"{i}"] = var.numpy()

    def load_own_variables(self, store: dict) -> None:
        """Keras 3's loading hook: assign what :meth:`save_own_variables` stored to the layer's own Variables."""
        own = self._trainable_variables + self._non_trainable_variables
        if len(store) != len(own):
            raise ValueError(f"Layer '{self.name}' expected {len(own)} variables, but received {len(store)} "
                             f"variables during loading. Expected: {[v.name for v in own]}")
        for i, var in enumerate(own):
            var.assign(store[f"{i}"])

    @property
    def trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [w for w in self.weights if not w.trainable] if self.trainable else self.weights

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights, in ``weights`` order (e.g. Dense: kernel, bias)."""
        return [w.numpy() for w in self.weights]  # weights are Variables: numpy() is a copy already

    def set_weights(self, weights: list) -> None:
        """Load weights given in ``get_weights`` order; shapes must match exactly."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weights, but set_weights received "
                             f"{len(weights)}")
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(f"Layer '{self.name}' weight '{var.name}' has shape {var.shape}, but the value "
                                 f"given has shape {value.shape}")
            var.assign(value.astype(var.dtype, copy=False))

    def count_params(self) -> int:
        """The number of scalars in the weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                             f"You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(w.size for w in self.weights))

    # --- config ---------------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_policy.name}
        if self.activity_regularizer is not None:
            from chainrule.keras import regularizers

            config["activity_regularizer"] = serialize_object(regularizers, self.activity_regularizer)
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def serialize_object(module, obj):
    """An initializer or regularizer as JSON-able config for ``get_config``: ``module.serialize(obj)`` for the
    library's objects, None for None, and the function's name for a plain function."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return module.serialize(obj)
    return getattr(obj, "__name__", repr(obj))


def added_metrics(layer) -> list:
    """The ``add_metric`` trackers of ``layer`` and the layers inside it (none to walk in the common case)."""
    if not _holding_metrics:
        return []
    return [tracker for inner in layer._flatten_layers() for tracker in inner.__dict__.get("_added_metrics", {}).values()]


def training_flag(value) -> bool | None:
    """A call's ``training`` argument as a bool; None for a value that is not one flag, such as the array Keras's
    masking guide passes as a model call's second argument (Keras 3 carries it along without reading it).

    >>> training_flag(1), training_flag(np.bool_(False)), training_flag(np.zeros((2, 3)))
    (True, False, None)
    """
    if value is None or isinstance(value, (bool, int, np.bool_, np.integer)):
        return None if value is None else bool(value)
    data = getattr(value, "data", value)
    return bool(data) if isinstance(data, np.ndarray) and data.size == 1 else None


def mask_of(inputs):
    """The Keras mask carried by ``inputs`` (``tensor._keras_mask``): one mask, a list of them for a list of inputs,
    or None when none has one."""
    if isinstance(inputs, (list, tuple)):
        masks = [mask_of(x) for x in inputs]
        return None if all(m is None for m in masks) else type(inputs)(masks)
    return getattr(inputs, "_keras_mask", None)


# --- output shapes by running the layer ------------------------------------------------------------------------------
def output_shape_by_probing(layer: Layer, input_shape, *args, **kwargs):
    """The output shape(s) of ``layer`` for inputs of ``input_shape`` (a shape with None for unknown sizes, a
    list/tuple/dict of shapes, or symbolic tensors), None kept for every output size that depends on an unknown input
    size: a tuple, or the outputs' structure of tuples. Symbolic tensors among ``args``/``kwargs`` are probed too.

    The layer runs on zeros twice, each unknown size taking a different value in each run (the functional graph's
    probe, :func:`chainrule.keras.graph.probe_output_specs`); the layer is built first from the shapes with None
    kept, so that no weight's shape comes from a probe's made-up size.

    >>> from chainrule.keras.layers import Dense, Reshape
    >>> output_shape_by_probing(Reshape((-1, 1)), (None, None)), output_shape_by_probing(Dense(3), (None, 4))
    ((None, None, 1), (None, 3))
    """
    from chainrule.keras import graph

    inputs = _as_symbolic(input_shape, layer.dtype)
    if not layer.built and _signature(type(layer)).build_shapes is None:
        shapes = _shape_of(inputs)
        if layer.input_spec is not None and isinstance(inputs, graph.KerasTensor):
            layer.input_spec.check(layer.name, shapes)
        layer._maybe_build(shapes)
    with outside_layer_calls():
        try:
            structure, specs, _ = graph.probe_output_specs(layer, (inputs,) + args, kwargs)
        finally:
            layer._clear_losses()  # the probes' losses are no real call's
    return tree.pack_sequence_as(structure, [shape for shape, _ in specs])


def _as_symbolic(inputs, dtype):
    """Shapes (or tensors) as the symbolic tensors the graph's probe takes."""
    keras_tensor = _symbolic_type()
    if isinstance(inputs, keras_tensor):
        return inputs
    if isinstance(inputs, (Tensor, np.ndarray)):
        return keras_tensor(inputs.shape, inputs.dtype)
    if _is_shape(inputs):
        return keras_tensor(tuple(inputs), dtype)
    if isinstance(inputs, (list, tuple)):
        return type(inputs)(_as_symbolic(x, dtype) for x in inputs)
    if isinstance(inputs, dict):
        return {key: _as_symbolic(value, dtype) for key, value in inputs.items()}
    raise TypeError(f"expected a shape (a tuple of ints and None), a list or dict of shapes, or symbolic tensors; "
                    f"got {inputs!r}")


def _is_shape(x) -> bool:
    return isinstance(x, (tuple, list)) and all(n is None or isinstance(n, (int, np.integer)) for n in x)


@functools.cache
def _symbolic_type() -> type:
    from chainrule.keras.graph import KerasTensor

    return KerasTensor


def _is_symbolic(x) -> bool:
    return isinstance(x, _symbolic_type())


# the types of a call's usual arguments (a Tensor, ``training=True``), answered without an isinstance walk
_NEVER_SYMBOLIC = frozenset({Tensor, type(None), bool, int, float, str})


def holds_symbolic(value) -> bool:
    """Whether ``value`` is, or (in lists, tuples and dicts) holds, a symbolic tensor; cheap for a Tensor."""
    if type(value) in _NEVER_SYMBOLIC:
        return False
    if isinstance(value, (list, tuple)):
        return any(holds_symbolic(item) for item in value)
    if isinstance(value, dict):
        return any(holds_symbolic(item) for item in value.values())
    return _is_symbolic(value)


def _weight_shape(shape, where: str) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints (an int n is ``(n,)``, None is ``()``); anything else is an error."""
    if shape is None:
        return ()
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{where}: cannot convert shape={shape!r} to a shape; pass a tuple of ints") from None
    if any(n is None for n in dims):
        raise ValueError(f"{where}: shape={dims} has an unknown size (None); a weight needs every size known")
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in dims):
        raise ValueError(f"{where}: shape={dims!r} must hold non-negative ints")
    return tuple(int(n) for n in dims)


def _shape_of(inputs):
    """The shape of a tensor, or the list (dict) of shapes of several, as ``build`` takes them."""
    if isinstance(inputs, (list, tuple)):
        return [_shape_of(x) for x in inputs]
    if isinstance(inputs, dict):
        return {key: _shape_of(value) for key, value in inputs.items()}
    return tuple(inputs.shape)


def _batch_free(shape):
    """The shape(s) with the batch axis replaced by None, as ``build`` receives them."""
    if _is_shape_list(shape):
        return [_batch_free(s) for s in shape]
    if isinstance(shape, dict):
        return {key: _batch_free(value) for key, value in shape.items()}
    return (None,) + tuple(shape[1:]) if len(shape) else ()


def _listed(shape):
    """A shape (or structure of shapes) as JSON lists."""
    if isinstance(shape, dict):
        return {key: _listed(value) for key, value in shape.items()}
    if _is_shape_list(shape):
        return [_listed(s) for s in shape]
    return list(shape)


def _shape_from_config(shape):
    if isinstance(shape, dict):
        return {key: _shape_from_config(value) for key, value in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [tuple(s) for s in shape]
    return tuple(shape)


def _is_shape_list(shape) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))
