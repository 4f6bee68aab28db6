"""Tensor: an array, the gradient that flows into it, and the op node that made it.

>>> import chainrule as cr
>>> x = cr.Tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.numpy()
array([2., 4.], dtype=float32)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.backend.string_dtype import object_text_as_str, string_dtype, text_as_bytes
from chainrule.utils.tensor_shape import TensorShape

TensorLike = Any  # a Tensor, a NumPy array, a Python number or a nested list


def _to_array(data: TensorLike, dtype=None) -> np.ndarray:
    """Turn data into a backend array: Python floats become floatx, Python ints int32 (int64 when a value does not
    fit), as TensorFlow's and Keras's conversions do; arrays keep their dtype unless told."""
    if isinstance(data, Tensor):
        data = data.data
    elif isinstance(data, np.ndarray) and data.dtype.kind == "O":  # text as numpy() gives it (bytes objects)
        data = object_text_as_str(data)
    if dtype is not None:
        return backend.xp.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "USO":  # text stays on the host
        return np.asarray(data)  # (no device holds strings)
    if isinstance(data, (np.ndarray, np.generic)) or type(data).__module__.startswith(("cupy", "array_api_strict")):
        return backend.xp.asarray(data)
    arr = np.asarray(data)
    if arr.dtype.kind == "S" and any(x.endswith(b"\0") for x in np.array(data, dtype=object).ravel().tolist()):
        return np.array(data, dtype=object)  # bytes ending in NUL: NumPy's bytes_ would drop those bytes
    if arr.dtype.kind in "USO":
        return arr
    if arr.dtype.kind == "f":
        arr = arr.astype(backend.floatx(), copy=False)
    elif arr.dtype.kind in "iu":
        fits = arr.size == 0 or (_INT32.min <= arr.min() and arr.max() <= _INT32.max)
        arr = arr.astype(np.int32 if fits else np.int64, copy=False)
    return backend.xp.asarray(arr)


_INT32 = np.iinfo(np.int32)
_BYTES_STRING = string_dtype(np.dtype(np.bytes_))


def _check_can_require_grad(arr: np.ndarray) -> None:
    kind = backend.dtype_kind(arr.dtype)
    if kind not in "fc":
        raise TypeError(f"only floating-point tensors can require gradients, got dtype {arr.dtype}")
    if kind == "c":
        _function.note_complex_gradient()


class Tensor:
    """An n-dimensional array that records how it was made, so gradients can flow back through it.

    ``node`` is the op (a :class:`chainrule.engine.function.Function`) that produced this tensor, or None for a leaf.
    """

    # _keras_mask: the Keras mask a layer attached to its output (unset unless a layer sets it; read with getattr)
    # _from_logits: (Softmax or Sigmoid, its input, axis) on an activation's output, so the losses can compute the
    # cross-entropy from the logits (Keras's `output._keras_logits`); unset on every other tensor
    __slots__ = ("data", "grad", "requires_grad", "node", "name", "_keras_mask", "_from_logits", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data: TensorLike, requires_grad: bool = False, dtype=None, name: str | None = None):
        self.data = _to_array(data, dtype)
        if requires_grad:
            _check_can_require_grad(self.data)
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None
        self.node = None
        self.name = name
        if _function.recorded is not None:  # made from values outside the ops, while a step is traced
            _function.recorded.made_outside(self)

    @classmethod
    def _wrap(cls, data, requires_grad: bool = False) -> "Tensor":
        """Fast constructor for op outputs: no conversion, no checks."""
        t = object.__new__(Tensor)
        t.data = data
        t.requires_grad = requires_grad
        t.grad = None
        t.node = None
        t.name = None
        return t

    # --- array protocol -------------------------------------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        """The sizes, a tuple that is also a ``tf.TensorShape`` (``as_list()``, ``rank``), as TensorFlow's tensors."""
        return TensorShape.of_array(self.data.shape)

    def get_shape(self) -> TensorShape:
        """``tf.Tensor.get_shape``: the same as ``shape``."""
        return TensorShape.of_array(self.data.shape)

    def set_shape(self, shape) -> None:
        """``tf.Tensor.set_shape``: assert that this tensor has ``shape`` (None matches any size; a None shape any
        rank), with TensorFlow's error otherwise; an eager tensor's shape is already fully known, so nothing changes.

        >>> Tensor([[1.0, 2.0]]).set_shape([None, 2])
        """
        if shape is None or getattr(shape, "_known_rank", True) is False:  # TensorShape(None): any rank
            return
        dims = list(shape)
        actual = tuple(self.data.shape)
        if len(dims) != len(actual) or any(d is not None and int(d) != a for d, a in zip(dims, actual)):
            raise ValueError(f"Tensor's shape {actual} is not compatible with supplied shape {dims}.")

    @property
    def dtype(self):
        dtype = self.data.dtype
        if not isinstance(dtype, np.dtype):
            dtype = backend.numpy_dtype(dtype)  # a NumPy dtype on every backend
        if dtype.kind == "O":  # bytes a NumPy bytes_ array cannot hold (a TFRecord, a file's contents): tf.string
            return _BYTES_STRING
        return dtype if dtype.kind not in "US" else string_dtype(dtype)  # text: tf.string, which equals "string"

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        """TensorFlow's name of the device that holds the values: the CPU, or a GPU for a CuPy array.

        >>> Tensor([1.0]).device
        '/job:localhost/replica:0/task:0/device:CPU:0'
        """
        index = getattr(getattr(self.data, "device", None), "id", None)  # (a CuPy array's device is a cuda.Device)
        return f"/job:localhost/replica:0/task:0/device:{'CPU:0' if index is None else f'GPU:{index}'}"

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> "Tensor":
        return _ops.transpose(self)

    @property
    def real(self) -> "Tensor":
        """The real part (the tensor itself when it is real), as NumPy's and PyTorch's ``.real``."""
        return _ops.real(self) if self.data.dtype.kind == "c" else self

    @property
    def imag(self) -> "Tensor":
        """The imaginary part (zeros when the tensor is real), as NumPy's and PyTorch's ``.imag``."""
        return _ops.imag(self)

    @property
    def is_leaf(self) -> bool:
        return self.node is None

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shared memory on the CPU), as TensorFlow gives them: a scalar as a NumPy
        scalar (hashable: a dict key), text as UTF-8 ``bytes`` (an object array of them, or a scalar's bytes).

        >>> Tensor(3).numpy(), Tensor("héllo").numpy().decode("utf-8"), Tensor(["a", "bc"]).numpy()
        (np.int32(3), 'héllo', array([b'a', b'bc'], dtype=object))
        """
        values = text_as_bytes(self._host_values("numpy()"))
        return values[()] if isinstance(values, np.ndarray) and values.ndim == 0 else values

    def _host_values(self, how: str) -> np.ndarray:
        if _function.recorded is not None:
            _function.recorded.read(self, how)
        return _host(self.data)

    # NumPy's view of a text tensor is its str array, so that np.char functions and text-array code work on it
    def __array__(self, dtype=None, copy=None):
        arr = self._host_values("numpy()")
        if dtype is not None:
            return arr.astype(dtype, copy=bool(copy))
        return arr.copy() if copy else arr

    # reading the values into Python: while a step is traced, the tracer notes it (what the Python code does with
    # the value, a replay cannot repeat)
    def item(self) -> float | int | bool:
        if _function.recorded is not None:
            _function.recorded.read(self, "item()")
        return backend.to_host(self.data).item()

    def tolist(self) -> list:
        if _function.recorded is not None:
            _function.recorded.read(self, "tolist()")
        return backend.to_host(self.data).tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __float__(self) -> float:
        if _function.recorded is not None:
            _function.recorded.read(self, "float()")
        # one value of any shape, as TensorFlow's float(tensor) took it (NumPy 2.4 takes only 0-d arrays)
        data = self.data
        return float(backend.array_namespace(data).reshape(data, ()) if data.size == 1 else data)

    def __format__(self, spec: str) -> str:
        """Format like the value for a 0-d tensor (``f"{loss:.4f}"``), like the repr otherwise."""
        if self.data.ndim == 0:
            return format(backend.to_host(self.data).item(), spec)
        return format(repr(self), spec)

    def __int__(self) -> int:
        if _function.recorded is not None:
            _function.recorded.read(self, "int()")
        data = self.data  # one value of any shape, as for float()
        return int(backend.array_namespace(data).reshape(data, ()) if data.size == 1 else data)

    def __bool__(self) -> bool:
        if _function.recorded is not None:
            _function.recorded.read(self, "bool()")
        return bool(self.data)

    def __index__(self) -> int:
        if _function.recorded is not None:
            _function.recorded.read(self, "an index")
        if self.data.dtype == bool and self.data.ndim == 0:  # a bool is an int in Python (operator.index(True) == 1)
            return int(self.data)
        return self.data.__index__()

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(_host(self.data), separator=", ", prefix="tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        dtype = self.dtype
        return f"tensor({body}, dtype={dtype if isinstance(dtype, np.dtype) else dtype.name}{grad})"  # text: string

    # --- autograd -------------------------------------------------------------------------------------------------
    def backward(self, grad: TensorLike | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        from chainrule.engine.autograd import backward

        backward(self, grad, create_graph=create_graph)

    def cpu(self) -> "Tensor":
        """The tensor on the CPU (itself when it is there already), as PyTorch's ``Tensor.cpu``."""
        return self.to("cpu")

    def to(self, device: str) -> "Tensor":
        """The tensor on ``device`` ('cpu', 'cuda', 'cuda:1'; itself when it is there already), as PyTorch's
        ``Tensor.to``; a copy made on another device is cut from the graph.

        >>> x = Tensor([1.0]); x.to("cpu") is x
        True
        """
        moved = backend.move(self.data, device)
        return self if moved is self.data else Tensor._wrap(moved, self.requires_grad)

    def detach(self) -> "Tensor":
        """The same values, cut from the graph (shares memory)."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag:
            _check_can_require_grad(self.data)
        self.requires_grad = flag
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def astype(self, dtype) -> "Tensor":
        return _ops.cast(self, dtype)

    # --- operators ------------------------------------------------------------------------------------------------
    # x += y rebinds x to x + y (TensorFlow's tensors are immutable; the graph stays right), except on a parameter
    # (a leaf that requires grad), which PyTorch updates in place under no_grad: see _update_in_place
    def __iadd__(self, other): return self._update_in_place(other, "add", Tensor.__add__)
    def __isub__(self, other): return self._update_in_place(other, "subtract", Tensor.__sub__)
    def __imul__(self, other): return self._update_in_place(other, "multiply", Tensor.__mul__)
    def __itruediv__(self, other): return self._update_in_place(other, "divide", Tensor.__truediv__)

    def _update_in_place(self, other, ufunc: str, rebind):
        if not (self.requires_grad and self.node is None):
            return rebind(self, other)
        if _function.GradMode.enabled:
            raise RuntimeError(f"a leaf Tensor that requires grad (shape {self.shape}) is being used in an in-place "
                               f"operation: update it inside `with chainrule.no_grad():`, as in PyTorch")
        getattr(backend.xp, ufunc)(self.data, _to_array(other), out=self.data)
        return self

    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __mod__(self, other): return _ops.mod(self, other)
    def __rmod__(self, other): return _ops.mod(other, self)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __getitem__(self, index): return _ops.getitem(self, index)

    # comparisons give boolean tensors and carry no gradient
    def __eq__(self, other): return _no_gradient(backend.xp.equal, self, _operand(other))  # type: ignore[override]
    def __ne__(self, other): return _no_gradient(backend.xp.not_equal, self, _operand(other))  # type: ignore[override]
    def __lt__(self, other): return _no_gradient(backend.xp.less, self, _operand(other))
    def __le__(self, other): return _no_gradient(backend.xp.less_equal, self, _operand(other))
    def __gt__(self, other): return _no_gradient(backend.xp.greater, self, _operand(other))
    def __ge__(self, other): return _no_gradient(backend.xp.greater_equal, self, _operand(other))

    # --- methods PyTorch users expect -----------------------------------------------------------------------------
    def add(self, other): return _ops.add(self, other)
    def sub(self, other): return _ops.sub(self, other)
    def mul(self, other): return _ops.mul(self, other)
    def div(self, other): return _ops.div(self, other)
    def pow(self, other): return _ops.pow(self, other)
    def neg(self): return _ops.neg(self)
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def sqrt(self): return _ops.sqrt(self)
    def abs(self): return _ops.abs(self)
    def maximum(self, other): return _ops.maximum(self, other)
    def minimum(self, other): return _ops.minimum(self, other)
    def clip(self, min=None, max=None): return _ops.clip(self, min, max)
    def relu(self): return _ops.relu(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def tanh(self): return _ops.tanh(self)
    def softmax(self, axis=-1): return _ops.softmax(self, axis)
    def log_softmax(self, axis=-1): return _ops.log_softmax(self, axis)
    # reductions take NumPy's axis/keepdims, PyTorch's dim/keepdim, and NumPy's dtype/out=None (np.mean(t) passes them)
    def sum(self, axis=None, keepdims=False, **kw): return _reduce(_ops.sum, self, axis, keepdims, kw)
    def mean(self, axis=None, keepdims=False, **kw): return _reduce(_ops.mean, self, axis, keepdims, kw)
    def max(self, axis=None, keepdims=False, **kw): return _reduce(_ops.max, self, axis, keepdims, kw)
    def min(self, axis=None, keepdims=False, **kw): return _reduce(_ops.min, self, axis, keepdims, kw)
    def var(self, axis=None, keepdims=False, **kw): return _reduce(_ops.var, self, axis, keepdims, kw)
    def logsumexp(self, axis=None, keepdims=False, **kw): return _reduce(_ops.logsumexp, self, axis, keepdims, kw)

    # PyTorch's shape methods
    def view(self, *shape): return self.reshape(*shape)
    def unsqueeze(self, dim: int): return _ops.expand_dims(self, dim)
    def permute(self, *dims): return self.transpose(*dims)
    def clone(self): return self * 1  # a new array; the gradient passes through

    # no gradient: piecewise constant (floor division) or boolean (logic)
    def __floordiv__(self, other): return _no_gradient(backend.xp.floor_divide, self, other)
    def __rfloordiv__(self, other): return _no_gradient(backend.xp.floor_divide, other, self)
    def __and__(self, other): return _no_gradient(backend.xp.bitwise_and, self, other)
    def __or__(self, other): return _no_gradient(backend.xp.bitwise_or, self, other)
    def __xor__(self, other): return _no_gradient(backend.xp.bitwise_xor, self, other)
    def __invert__(self): return _no_gradient(backend.xp.invert, self)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def matmul(self, other): return _ops.matmul(self, other)
    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
    def transpose(self, *axes):  # x.transpose(1, 0) or x.transpose((1, 0)), as NumPy
        return _ops.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes or None)
    def broadcast_to(self, shape): return _ops.broadcast_to(self, shape)
    def argmax(self, axis=None): return _no_gradient(backend.xp.argmax, self, axis=axis)


class Variable(Tensor):
    """A trainable, mutable tensor, as in TensorFlow: layers keep their weights in Variables.

    >>> v = Variable([1.0, 2.0])
    >>> v.assign_sub([0.5, 0.5]).numpy()
    array([0.5, 1.5], dtype=float32)
    """

    # constraint: a projection ``f(variable) -> value`` the optimizer assigns after each update (Keras 3's
    # ``variable.constraint``, set by ``add_weight(constraint=...)``), or None
    __slots__ = ("trainable", "constraint")

    def __init__(self, initial_value: TensorLike, trainable: bool = True, name: str | None = None, dtype=None,
                 constraint=None):
        data = _to_array(initial_value, dtype)
        requires_grad = trainable and backend.dtype_kind(data.dtype) == "f"
        super().__init__(backend.copy(data), requires_grad=requires_grad, name=name)
        self.trainable = trainable
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable. Received: constraint={constraint!r}")
        self.constraint = constraint
        if _function.recorded is not None:  # a step that makes variables is traced again (as tf.function does)
            _function.recorded.variable_made(self)

    def numpy(self) -> np.ndarray:
        """A copy of the current values (TensorFlow's snapshot: a later update does not change it)."""
        values = super().numpy()
        return values.copy() if isinstance(values, np.ndarray) else values  # (a scalar is a copy already)

    def read_value(self) -> Tensor:
        """The current value as a tensor that a later update does not change; the gradient flows to the variable
        (as ``tf.identity``)."""
        return self * 1

    def _update_in_place(self, other, ufunc: str, rebind):
        raise RuntimeError(f"`variable {_OPERATOR[ufunc]}= value` with Variables is not supported: use "
                           f"variable.{_METHOD[ufunc]}(value) to modify the variable, or "
                           f"`out = variable {_OPERATOR[ufunc]} value` for a new tensor (as in TensorFlow)")

    # while a step is traced, an update is noted as a call that every replay repeats (chainrule/engine/tracer.py)
    def assign(self, value: TensorLike) -> "Variable":
        if _function.tracing() is not None:
            return _function.replayed(Variable.assign)(self, value)
        value, data = self._placed(value), self.data
        if value.shape != data.shape and value.size != data.size:
            raise ValueError(f"cannot assign a value of shape {value.shape} to variable "
                             f"{self.name or ''} of shape {data.shape}")
        self.data[...] = backend.array_namespace(value).reshape(value, data.shape)
        return self

    def assign_add(self, delta: TensorLike) -> "Variable":
        if _function.tracing() is not None:
            return _function.replayed(Variable.assign_add)(self, delta)
        self.data += self._placed(delta)
        return self

    def assign_sub(self, delta: TensorLike) -> "Variable":
        if _function.tracing() is not None:
            return _function.replayed(Variable.assign_sub)(self, delta)
        self.data -= self._placed(delta)
        return self

    def _placed(self, value: TensorLike):
        """``value`` as an array where this variable lives (host or device), in its dtype off NumPy (NumPy's in-place
        operations cast; the standard's do not)."""
        value, data = _to_array(value), self.data
        if type(value) is not type(data):
            value = backend.to_host(value) if type(data) is np.ndarray else backend.to_device(value)
        if type(data) is not np.ndarray and value.dtype != data.dtype:
            value = backend.array_namespace(data).astype(value, data.dtype)
        return value

    def __repr__(self) -> str:
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype}, numpy={_host(self.data).copy()!r}>"


def _operand(value):
    """A comparison's other operand: a tensor or a number as it is (NumPy adapts a number to the array's dtype),
    bytes as the text they encode (a text tensor holds ``str``; TensorFlow compares its strings with ``b''``),
    anything else (a list) as an array."""
    if isinstance(value, (bytes, np.bytes_)) or (isinstance(value, (list, tuple, np.ndarray))
                                                 and np.asarray(value).dtype.kind == "S"):
        return _to_array(np.asarray(value).astype(object))
    return value if isinstance(value, (Tensor, int, float, bool, np.generic)) else _to_array(value)


def _no_gradient(fn, *operands, **settings) -> Tensor:
    """``fn`` (a NumPy function: a comparison, logic, an index) of the operands' arrays, as a Tensor that carries no
    gradient. While a step is traced it is a call that every replay repeats with that replay's values."""
    if _function.tracing() is not None:
        return _function.replayed(_no_gradient)(fn, *operands, **settings)
    return Tensor._wrap(fn(*[_raw(x) for x in operands], **settings))


def _host(data) -> np.ndarray:
    """An array's values as a NumPy array (shared memory on the CPU)."""
    return backend.to_host(data)


def _raw(value):
    """An operand as NumPy takes it: a Tensor's array; a Python number as it is (it adapts to the array's dtype)."""
    return value.data if isinstance(value, Tensor) else value


def _reduce(op, x, axis, keepdims, extra: dict):
    """A reduction method's call: ``dim``/``keepdim`` as PyTorch names them; NumPy's ``dtype``/``out`` only as None."""
    axis = extra.pop("dim", axis)
    keepdims = extra.pop("keepdim", keepdims)
    unsupported = {k: v for k, v in extra.items() if not (k in ("dtype", "out") and v is None)}
    if unsupported:
        raise TypeError(f"Tensor.{op.__name__}: unsupported arguments {sorted(unsupported)}")
    return op(x, axis, keepdims)


_OPERATOR = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}
_METHOD = {"add": "assign_add", "subtract": "assign_sub", "multiply": "assign", "divide": "assign"}


def as_tensor(data: TensorLike, dtype=None) -> Tensor:
    """Return data as a Tensor, without copying when it already is one (or an array of the right dtype)."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return Tensor._wrap(_to_array(data, dtype))


def constant(value: TensorLike, dtype=None, shape=None, name: str | None = None) -> Tensor:
    """TensorFlow's ``tf.constant``: a tensor that carries no gradient unless watched, holding its own copy of the
    values (a later change to the array or Variable it came from does not reach it). In a traced step it is made
    again on each replay (from the Python value it was given, as TensorFlow keeps a constant)."""
    if _function.tracing() is not None:  # (this thread's trace: a tf.data worker's constant is just made)
        return _function.replayed(constant)(value, dtype, shape, name)
    t = Tensor(value, dtype=dtype, name=name)
    if shape is not None:
        t.data = backend.xp.broadcast_to(t.data, shape).copy()
    elif isinstance(value, Tensor) and t.data is value.data or isinstance(value, np.ndarray) and t.data is value:
        t.data = t.data.copy()
    return t


from chainrule import ops as _ops  # noqa: E402  (ops build on Tensor; Tensor's operators call ops)
from chainrule.engine import function as _function  # noqa: E402
