"""``keras.backend`` (``tf.keras.backend``, ``K``): the default float type and fuzz factor, ``clear_session``, and
the Keras 2 backend functions that programs still call, as Keras 3 keeps them in ``keras.src.legacy.backend``:
math (``K.mean``, ``K.square``, ``K.clip``, ...), shapes (``K.int_shape``, ``K.batch_dot``, ``K.permute_dimensions``),
variables (``K.variable``, ``K.get_value``, ``K.set_value``), losses (``K.binary_crossentropy``, ...) and random
draws. They work on Tensors, arrays and ``keras.Input`` tensors (there, each becomes a layer of the functional model).

>>> from chainrule.keras import backend as K
>>> K.random_normal(shape=(2, 3), seed=1).shape
TensorShape([2, 3])
>>> float(K.mean(K.square(K.constant([1.0, 3.0]))))
5.0
"""
import builtins
import itertools
import math

import numpy as np

from chainrule.backend import floatx, set_floatx
from chainrule.keras.dtype_promotion import result_type  # keras.backend.result_type: Keras's type promotion
from chainrule.engine.tensor import Tensor, Variable
from chainrule.ops import depthwise as _depthwise
from chainrule.ops.random import normal, uniform


class _Deferred:
    """A module imported when first used: keras.backend is imported before keras.ops and keras.graph can be."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        import importlib

        return getattr(importlib.import_module(self._name), attribute)


_ops = _Deferred("chainrule.keras.ops")
_random = _Deferred("chainrule.keras.random")
_graph = _Deferred("chainrule.keras.graph")


def random_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None):
    """Keras 2's ``K.random_normal``: a Tensor of normal draws (the VAE sampling layer's epsilon)."""
    return normal(shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed)


def random_uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None):
    """Keras 2's ``K.random_uniform``."""
    return uniform(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)


def int_shape(x) -> tuple:
    """The static shape as a tuple of ints (None where unknown, for symbolic tensors)."""
    return tuple(x.shape)


def std(x, axis=None, keepdims: bool = False):
    """Keras 2's ``K.std``: the standard deviation (population, as NumPy's default); on a ``keras.Input`` tensor a
    layer of the functional model, as ``keras.ops.std``."""
    from chainrule.keras.ops import numpy as knp

    return knp.std(x, axis=axis, keepdims=keepdims)


_EPSILON = 1e-7


def epsilon() -> float:
    """The fuzz factor Keras uses to keep divisions and logs finite (1e-7 unless :func:`set_epsilon` changed it)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor :func:`epsilon` returns (``keras.config.set_epsilon``)."""
    global _EPSILON
    _EPSILON = float(value)


def backend() -> str:
    """The name of the backend running Keras's layers: 'chainrule' (so that a program branching on it takes no
    TensorFlow- or JAX-only path by mistake)."""
    return "chainrule"


def image_data_format() -> str:
    """The default layout of image tensors, as the layers read it: 'channels_last' (batch, height, width,
    channels)."""
    return "channels_last"


def clear_session() -> None:
    """Forget the layer names handed out so far: the next Dense is 'dense' again (as in a fresh Keras session)."""
    from chainrule.keras.layers import base

    base._name_counts.clear()
    _uids.clear()


def get_value(x):
    """The value of a Variable (or the optimizer's learning rate) as NumPy; anything else as it is."""
    return x.numpy() if hasattr(x, "numpy") else x


def set_value(x, value) -> None:
    """``x.assign(value)``: a Variable, or ``optimizer.learning_rate`` (TF 2's way to change the rate).

    >>> from chainrule.keras import optimizers
    >>> opt = optimizers.SGD(0.1)
    >>> set_value(opt.learning_rate, 0.01)
    >>> float(opt.learning_rate)
    0.01
    """
    x.assign(value if isinstance(x, float) else np.asarray(value, dtype=x.dtype))


# --- Keras 2's backend functions (Keras 3's keras.src.legacy.backend), on keras.ops ---------------------------------

# the functions that are keras.ops's own (same arguments and defaults): K.square is keras.ops.square
_SAME_AS_KERAS_OPS = {"abs": "abs", "square": "square", "exp": "exp", "log": "log", "sign": "sign", "round": "round",
                     "sin": "sin", "cos": "cos", "maximum": "maximum", "minimum": "minimum", "equal": "equal",
                     "not_equal": "not_equal", "greater": "greater", "greater_equal": "greater_equal",
                     "less": "less", "less_equal": "less_equal", "sigmoid": "sigmoid", "tanh": "tanh",
                     "softplus": "softplus", "softsign": "softsign", "transpose": "transpose", "reshape": "reshape",
                     "cast": "cast", "prod": "prod", "max": "max", "min": "min", "squeeze": "squeeze",
                     "stack": "stack", "pow": "power", "elu": "elu", "permute_dimensions": "transpose",
                     "one_hot": "one_hot"}


def __getattr__(name: str):
    if name in _SAME_AS_KERAS_OPS:
        return getattr(_ops, _SAME_AS_KERAS_OPS[name])
    raise AttributeError(f"module 'keras.backend' has no attribute '{name}'")

def _floats(x):
    """``x`` as a tensor, booleans as floatx (Keras's reductions average and sum booleans as floats)."""
    if isinstance(x, _graph.KerasTensor):
        return x if x.dtype != np.bool_ else _ops.cast(x, floatx())
    x = _ops.convert_to_tensor(x)
    return _ops.cast(x, floatx()) if x.dtype == np.bool_ else x


def all(x, axis=None, keepdims: bool = False):
    return _ops.all(_ops.cast(x, "bool"), axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims: bool = False):
    return _ops.any(_ops.cast(x, "bool"), axis=axis, keepdims=keepdims)


def argmax(x, axis: int = -1):
    return _ops.argmax(x, axis=axis)


def argmin(x, axis: int = -1):
    return _ops.argmin(x, axis=axis)


def arange(start, stop=None, step=1, dtype="int32"):
    return _ops.arange(start, stop, step, dtype=dtype)


def sum(x, axis=None, keepdims: bool = False):
    return _ops.sum(_floats(x), axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False):
    return _ops.mean(_floats(x), axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False):
    return _ops.var(_floats(x), axis=axis, keepdims=keepdims)


def cumsum(x, axis: int = 0):
    return _ops.cumsum(x, axis=axis)


def cumprod(x, axis: int = 0):
    return _ops.cumprod(x, axis=axis)


def sqrt(x):
    """The square root, negative values taken as 0 (Keras 2's guard)."""
    return _ops.sqrt(_ops.maximum(x, 0.0))


def clip(x, min_value, max_value):
    """``x`` clipped to ``[min_value, max_value]`` (None: unbounded; a max below the min is raised to it)."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    return _ops.clip(x, -np.inf if min_value is None else min_value, np.inf if max_value is None else max_value)


# --- shapes --------------------------------------------------------------------------------------------------------
def shape(x):
    """``tf.shape``: the sizes as an int32 tensor (a symbolic tensor's as a tuple, None where unknown)."""
    if isinstance(x, _graph.KerasTensor):
        return _ops.shape(x)
    return Tensor._wrap(np.asarray(_ops.shape(x), dtype=np.int32))


def ndim(x) -> int:
    return len(x.shape)


def dtype(x) -> str:
    """The dtype's name ('float32')."""
    return _ops.dtype(x)


def count_params(x) -> int:
    """The number of scalars in ``x`` (a Variable or tensor of known shape)."""
    return int(math.prod(x.shape))


def expand_dims(x, axis: int = -1):
    return _ops.expand_dims(x, axis)


def concatenate(tensors, axis: int = -1):
    return _ops.concatenate(list(tensors), axis=axis)


def flatten(x):
    return _ops.reshape(x, (-1,))


def batch_flatten(x):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""
    return _ops.reshape(x, (-1, int(math.prod(x.shape[1:]))))


def tile(x, n):
    return _ops.tile(x, [n] if isinstance(n, int) else n)


def repeat(x, n: int):
    """(batch, dim) -> (batch, n, dim)."""
    if ndim(x) != 2:
        raise ValueError(f"Expected input `x` to have rank 2. Received: rank(x)={ndim(x)}")
    return _ops.tile(_ops.expand_dims(x, 1), (1, n, 1))


def repeat_elements(x, rep: int, axis: int):
    """Each slice along ``axis`` repeated ``rep`` times (np.repeat)."""
    return _ops.repeat(x, rep, axis=axis)


def reverse(x, axes):
    return _ops.flip(x, axis=tuple([axes] if isinstance(axes, int) else axes))


def gather(reference, indices):
    return _ops.take(reference, indices, axis=0)


def cast_to_floatx(x):
    """A tensor cast to floatx; anything else as a NumPy array of floatx."""
    if isinstance(x, (Tensor, _graph.KerasTensor)):
        return _ops.cast(x, floatx())
    return np.asarray(x, dtype=floatx())


def dot(x, y):
    """NumPy's (and Theano's) ``dot``: the last axis of ``x`` with the second-to-last of ``y`` (the last for a
    vector), ``(2, 3) . (4, 3, 5) -> (2, 4, 5)``."""
    if ndim(x) > 2 or ndim(y) > 2:
        return _ops.tensordot(x, y, axes=([ndim(x) - 1], [builtins.max(ndim(y) - 2, 0)]))
    return _ops.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Keras 2's ``batch_dot``: for each sample, the dot product of ``x`` and ``y`` over ``axes`` (``(a_x, a_y)``,
    one int for both, or by default the last axis of ``x`` with the last (2-D ``y``) or second-to-last of ``y``)."""
    x_shape, y_shape = tuple(x.shape), tuple(y.shape)
    x_ndim, y_ndim = len(x_shape), len(y_shape)
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with tf.shapes {x_shape} "
                         f"and {y_shape}.")
    if x_shape[0] is not None and y_shape[0] is not None and x_shape[0] != y_shape[0]:
        raise ValueError(f"Cannot do batch_dot on inputs with different batch sizes. Received inputs with "
                         f"tf.shapes {x_shape} and {y_shape}.")
    if isinstance(axes, int):
        axes = [axes, axes]
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 1] if y_ndim == 2 else [x_ndim - 1, y_ndim - 2]
    if builtins.any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError(f"Multiple target dimensions are not supported. Expected: None, int, (int, int), "
                         f"Provided: {axes}")
    a0, a1 = axes[0] % x_ndim, axes[1] % y_ndim
    if 0 in (a0, a1):
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
                         "dimension to your inputs using K.expand_dims(x, 0)")
    d1, d2 = x_shape[a0], y_shape[a1]
    if d1 is not None and d2 is not None and d1 != d2:
        raise ValueError(f"Cannot do batch_dot on inputs with tf.shapes {x_shape} and {y_shape} with axes={[a0, a1]}."
                         f" x.shape[{a0}] != y.shape[{a1}] ({d1} != {d2}).")
    # the summed axes to the end of x and to axis 1 of y, then one batched matmul over the flattened others
    x = _ops.moveaxis(x, a0, -1)
    y = _ops.moveaxis(y, a1, 1)
    x_rest, y_rest = tuple(x.shape[1:-1]), tuple(y.shape[2:])
    x3 = _ops.reshape(x, (-1, int(math.prod(x_rest)), d1 if d1 is not None else d2))
    y3 = _ops.reshape(y, (-1, d1 if d1 is not None else d2, int(math.prod(y_rest))))
    out_shape = (-1,) + x_rest + y_rest
    return _ops.reshape(_ops.matmul(x3, y3), out_shape if len(out_shape) > 1 else (-1, 1))  # two matrices: (batch, 1)


# --- variables and constants ---------------------------------------------------------------------------------------
def variable(value, dtype=None, name: str | None = None, constraint=None) -> Variable:
    """A Variable of ``value`` (floatx unless ``dtype``), as ``tf.Variable``."""
    return Variable(np.asarray(value.numpy() if isinstance(value, Tensor) else value, dtype=dtype or floatx()),
                    name=name, constraint=constraint)


def constant(value, dtype=None, shape=None, name: str | None = None) -> Tensor:
    """A tensor of ``value`` (floatx unless ``dtype``), broadcast to ``shape`` when given."""
    array = np.asarray(value, dtype=dtype or floatx())
    return Tensor(array if shape is None else np.broadcast_to(array, tuple(shape)).copy(), name=name)


def zeros(shape, dtype=None, name: str | None = None) -> Variable:
    return variable(np.zeros(tuple(shape), dtype=dtype or floatx()), dtype, name)


def ones(shape, dtype=None, name: str | None = None) -> Variable:
    return variable(np.ones(tuple(shape), dtype=dtype or floatx()), dtype, name)


def eye(size, dtype=None, name: str | None = None) -> Variable:
    rows, cols = (size, size) if isinstance(size, int) else size
    return variable(np.eye(rows, cols, dtype=dtype or floatx()), dtype, name)


def zeros_like(x, dtype=None, name: str | None = None):
    return _ops.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None, name: str | None = None):
    return _ops.ones_like(x, dtype=dtype)


def batch_get_value(tensors) -> list:
    """The values of several Variables (tensors), as NumPy arrays."""
    return [get_value(x) for x in tensors]


def batch_set_value(tuples) -> None:
    """``set_value`` for each ``(variable, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


def eval(x):
    """A tensor's value as NumPy."""
    return get_value(x)


def update(x, new_x):
    return x.assign(new_x)


def update_add(x, increment):
    return x.assign_add(increment)


def update_sub(x, decrement):
    return x.assign_sub(decrement)


def moving_average_update(x, value, momentum):
    """``x -= (x - value) * (1 - momentum)`` in place."""
    value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    return x.assign_sub((x.numpy() - value.astype(x.dtype)) * (1 - momentum))


def stop_gradient(variables):
    """The tensor(s) with the gradient stopped (a list for a list)."""
    if isinstance(variables, (list, tuple)):
        return [_ops.stop_gradient(v) for v in variables]
    return _ops.stop_gradient(variables)


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None, ragged=False):
    """TensorFlow 1's graph-mode placeholder, which Keras 3 removed: refused, with what to write instead."""
    raise RuntimeError("keras.backend.placeholder() makes a TensorFlow 1 graph placeholder, which Keras 3 removed and "
                       "chainrule (which runs eagerly) does not have. Use keras.Input(shape=...) for a model input, "
                       "or pass NumPy arrays or tensors to the function directly.")


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of the functional API (``keras.Input`` and what layers make from it)."""
    return isinstance(x, _graph.KerasTensor)


def is_sparse(tensor) -> bool:
    """chainrule has no sparse tensors."""
    return False


def learning_phase() -> int:
    """1 inside a layer call made with ``training=True`` (as in fit), else 0 (TF 2's eager learning phase)."""
    from chainrule.keras.layers import base

    return 1 if base._context.training else 0


def set_image_data_format(data_format: str) -> None:
    """Only 'channels_last' is available: chainrule's image layers compute channels-last."""
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"The `value` argument must be one of {{'channels_first', 'channels_last'}}. Received: "
                         f"value={data_format}")
    if data_format != "channels_last":
        raise ValueError("set_image_data_format('channels_first') is not supported: chainrule's image layers "
                         "compute channels-last (batch, height, width, channels); transpose the data instead")


# --- activations and losses (elementwise or per sample, as Keras 2's: no reduction over the batch) -----------------
def relu(x, alpha: float = 0.0, max_value=None, threshold: float = 0.0):
    """``x`` above ``threshold`` (else ``alpha * (x - threshold)``), capped at ``max_value``."""
    x = _ops.convert_to_tensor(x) if not isinstance(x, _graph.KerasTensor) else x
    negative = _ops.relu(threshold - x) if alpha != 0.0 else None
    y = x * _ops.cast(_ops.greater(x, threshold), x.dtype) if threshold != 0 else _ops.relu(x)
    if max_value is not None:
        y = _ops.clip(y, 0.0, max_value)
    return y if negative is None else y - negative * alpha


def softmax(x, axis: int = -1):
    if ndim(x) <= 1:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    return _ops.softmax(x, axis=axis)


def hard_sigmoid(x):
    """``clip(0.2 * x + 0.5, 0, 1)``: Keras 2's slope."""
    return _ops.clip(x * 0.2 + 0.5, 0.0, 1.0)


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x²), 1e-12))`` over ``axis`` (all axes when None), as ``tf.linalg.l2_normalize``."""
    squares = _ops.sum(_ops.square(x), axis=axis, keepdims=True)
    return x * _ops.rsqrt(_ops.maximum(squares, 1e-12))


def bias_add(x, bias, data_format=None):
    """``x + bias`` along the channels axis (the last: chainrule computes channels-last)."""
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"Unknown data_format: {data_format}")
    if len(bias.shape) != 1 and len(bias.shape) != ndim(x) - 1:
        raise ValueError(f"Unexpected bias dimensions {len(bias.shape)}. Expected it to be 1 or {ndim(x) - 1} "
                         f"dimensions")
    if data_format == "channels_first":
        shape = (1, bias.shape[-1]) + tuple(bias.shape[:-1]) if len(bias.shape) > 1 else \
            (1, bias.shape[0]) + (1,) * (ndim(x) - 2)
        return x + _ops.reshape(bias, shape)
    return x + bias


def binary_crossentropy(target, output, from_logits: bool = False):
    """Keras 2's elementwise binary cross-entropy (``output`` clipped to ``[eps, 1 - eps]``)."""
    target, output = _ops.convert_to_tensor(target), _ops.convert_to_tensor(output)
    target = _ops.cast(target, output.dtype)
    if from_logits:  # max(x, 0) - x * z + log(1 + exp(-|x|))
        return _ops.relu(output) - output * target + _ops.log1p(_ops.exp(-_ops.abs(output)))
    eps = epsilon()
    output = _ops.clip(output, eps, 1.0 - eps)
    return -(target * _ops.log(output + eps) + (1 - target) * _ops.log(1 - output + eps))


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1):
    """Keras 2's categorical cross-entropy over ``axis`` (the probabilities renormalized, then clipped)."""
    target, output = _ops.convert_to_tensor(target), _ops.convert_to_tensor(output)
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"Shapes {tuple(target.shape)} and {tuple(output.shape)} are incompatible")
    target = _ops.cast(target, output.dtype)
    if from_logits:
        return -_ops.sum(target * _ops.log_softmax(output, axis=axis), axis=axis)
    output = output / _ops.sum(output, axis=axis, keepdims=True)
    output = _ops.clip(output, epsilon(), 1.0 - epsilon())
    return -_ops.sum(target * _ops.log(output), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1, ignore_class=None):
    """Keras 2's sparse categorical cross-entropy: integer ``target`` ids against ``output``'s ``axis``; entries whose
    id is ``ignore_class`` give 0."""
    target, output = _ops.convert_to_tensor(target), _ops.convert_to_tensor(output)
    rank = ndim(output)
    axis %= rank
    if axis != rank - 1:
        output = _ops.transpose(output, list(itertools.chain(range(axis), range(axis + 1, rank), [axis])))
    log_probs = _ops.log_softmax(output, axis=-1) if from_logits else \
        _ops.log(_ops.clip(output, epsilon(), 1.0 - epsilon()))
    ids = _ops.cast(target, "int64")
    if ndim(ids) == rank:  # (batch, ..., 1) labels
        ids = _ops.squeeze(ids, -1)
    keep = None
    if ignore_class is not None:
        keep = _ops.not_equal(ids, ignore_class)
        ids = _ops.where(keep, ids, 0)
    picked = _ops.take_along_axis(log_probs, _ops.expand_dims(ids, -1), axis=-1)
    loss = -_ops.squeeze(picked, -1)
    return loss if keep is None else loss * _ops.cast(keep, loss.dtype)


# --- random draws --------------------------------------------------------------------------------------------------
def random_bernoulli(shape, p: float = 0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0."""
    draws = uniform(shape, dtype=dtype or floatx(), seed=seed)
    return _ops.cast(_ops.less_equal(draws, p), dtype or floatx())


def truncated_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None):
    return _random.truncated_normal(shape, mean=mean, stddev=stddev, dtype=dtype or floatx(), seed=seed)


def random_normal_variable(shape, mean: float, scale: float, dtype=None, name=None, seed=None) -> Variable:
    return variable(normal(shape, mean=mean, stddev=scale, dtype=dtype or floatx(), seed=seed), dtype, name)


def random_uniform_variable(shape, low: float, high: float, dtype=None, name=None, seed=None) -> Variable:
    return variable(uniform(shape, minval=low, maxval=high, dtype=dtype or floatx(), seed=seed), dtype, name)


def dropout(x, level: float, noise_shape=None, seed=None):
    """Inverted dropout: each entry zeroed with probability ``level``, the others scaled by ``1 / (1 - level)``."""
    return _random.dropout(x, level, noise_shape=noise_shape, seed=seed)


def switch(condition, then_expression, else_expression):
    """``then_expression`` where ``condition`` holds, else ``else_expression`` (callables are called; a scalar
    condition picks one whole expression)."""
    then_value = then_expression() if callable(then_expression) else then_expression
    else_value = else_expression() if callable(else_expression) else else_expression
    condition = _ops.cast(condition, "bool")
    if ndim(condition) > ndim(then_value):
        raise ValueError(f"Rank of `condition` should be less than or equal to rank of `then_expression` and "
                         f"`else_expression`. ndim(condition)={ndim(condition)}, "
                         f"ndim(then_expression)={ndim(then_value)}")
    while ndim(condition) < ndim(then_value):  # a condition per sample broadcasts over the other axes
        condition = _ops.expand_dims(condition, -1)
    return _ops.where(condition, then_value, else_value)


def in_top_k(predictions, targets, k: int):
    """Whether each target id is among the ``k`` largest predictions of its row."""
    return _ops.in_top_k(targets, predictions, k)


# --- convolutions, padding, CTC, loops and dtypes ---------------------------------------------------------------
def _channels_last(data_format, what: str) -> None:
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"Unknown data_format: {data_format}")
    if data_format == "channels_first":
        raise ValueError(f"{what}: data_format='channels_first' is not supported: chainrule computes channels-last "
                         f"(batch, ..., channels); transpose the inputs")


def temporal_padding(x, padding=(1, 1)):
    """Zeros before and after the steps of (batch, steps, features)."""
    if len(padding) != 2:
        raise ValueError(f"Expected `padding` to be a tuple of 2 integers. Received: padding={padding}")
    return _ops.pad(x, [[0, 0], list(padding), [0, 0]])


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zeros around the rows and columns of (batch, rows, cols, channels)."""
    if len(padding) != 2 or len(padding[0]) != 2 or len(padding[1]) != 2:
        raise ValueError(f"Expected `padding` to be a tuple of 2 tuples of 2 integers. Received: padding={padding}")
    _channels_last(data_format, "spatial_2d_padding")
    return _ops.pad(x, [[0, 0], list(padding[0]), list(padding[1]), [0, 0]])


def conv1d(x, kernel, strides=1, padding: str = "valid", data_format=None, dilation_rate=1):
    """1-D convolution of (batch, steps, channels) by (width, in, out); 'causal' pads the past only."""
    _channels_last(data_format, "conv1d")
    if padding == "causal":
        x = temporal_padding(x, (dilation_rate * (kernel.shape[0] - 1), 0))
        padding = "valid"
    return _ops.conv(x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding: str = "valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution of (batch, rows, cols, channels) by (h, w, in, out)."""
    _channels_last(data_format, "conv2d")
    return _ops.conv(x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding: str = "valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Depthwise 2-D convolution of (batch, rows, cols, channels) by (h, w, channels, multiplier)."""
    _channels_last(data_format, "depthwise_conv2d")
    return _depthwise.depthwise_conv2d(x, depthwise_kernel, strides, padding, dilation_rate)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding: str = "valid",
                     data_format=None, dilation_rate=(1, 1)):
    """A depthwise convolution, then a 1x1 convolution by ``pointwise_kernel`` (1, 1, channels * multiplier, out)."""
    _channels_last(data_format, "separable_conv2d")
    return _depthwise.separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides, padding, dilation_rate)


def pool2d(x, pool_size, strides=(1, 1), padding: str = "valid", data_format=None, pool_mode: str = "max"):
    """Max ('max') or average ('avg') pooling of (batch, rows, cols, channels); strides (1, 1) by default."""
    _channels_last(data_format, "pool2d")
    if len(pool_size) != 2:
        raise ValueError("`pool_size` must be a tuple of 2 integers.")
    if len(strides) != 2:
        raise ValueError("`strides` must be a tuple of 2 integers.")
    if pool_mode == "max":
        return _ops.max_pool(x, pool_size, strides=strides, padding=padding)
    if pool_mode == "avg":
        return _ops.average_pool(x, pool_size, strides=strides, padding=padding)
    raise ValueError(f"Invalid pooling mode: {pool_mode}")


def resize_images(x, height_factor: int, width_factor: int, data_format, interpolation: str = "nearest"):
    """(batch, rows, cols, channels) enlarged ``height_factor`` x ``width_factor`` times."""
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid `data_format` argument: {data_format}")
    _channels_last(data_format, "resize_images")
    if interpolation == "nearest":  # whole factors: each pixel repeated
        return _ops.repeat(_ops.repeat(x, height_factor, axis=1), width_factor, axis=2)
    size = (x.shape[1] * height_factor, x.shape[2] * width_factor)
    return _ops.image.resize(x, size, interpolation=interpolation)


def batch_normalization(x, mean, var, beta, gamma, axis: int = -1, epsilon: float = 1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``, the statistics broadcast against ``x`` (as
    ``tf.nn.batch_normalization``; ``beta``/``gamma`` may be None)."""
    y = (x - mean) * _ops.rsqrt(_ops.convert_to_tensor(var) + epsilon)
    y = y if gamma is None else y * gamma
    return y if beta is None else y + beta


def binary_focal_crossentropy(target, output, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False):
    """Keras 2's elementwise focal loss: ``(1 - p_t) ** gamma`` times :func:`binary_crossentropy`."""
    target, output = _ops.convert_to_tensor(target), _ops.convert_to_tensor(output)
    target = _ops.cast(target, output.dtype)
    probabilities = _ops.sigmoid(output) if from_logits else output
    p_t = target * probabilities + (1 - target) * (1 - probabilities)
    focal = _ops.power(1.0 - p_t, gamma) * binary_crossentropy(target, output, from_logits=from_logits)
    return focal * (target * alpha + (1 - target) * (1 - alpha)) if apply_class_balancing else focal


def categorical_focal_crossentropy(target, output, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, axis: int = -1):
    """Keras 2's categorical focal loss over ``axis``."""
    target, output = _ops.convert_to_tensor(target), _ops.convert_to_tensor(output)
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"Shapes {tuple(target.shape)} and {tuple(output.shape)} are incompatible")
    if from_logits:
        output = _ops.softmax(output, axis=axis)
    output = output / _ops.sum(output, axis=axis, keepdims=True)
    output = _ops.clip(output, epsilon(), 1.0 - epsilon())
    cross_entropy = -_ops.cast(target, output.dtype) * _ops.log(output)
    return _ops.sum(_ops.power(1.0 - output, gamma) * alpha * cross_entropy, axis=axis)


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Keras 2's CTC loss per sample, (batch, 1): ``y_pred`` (batch, steps, classes) probabilities whose last class
    is the blank, ``y_true`` (batch, max_label_length) labels, the lengths as (batch, 1)."""
    y_pred = _ops.convert_to_tensor(y_pred)
    lengths = [_ops.cast(_ops.reshape(_ops.convert_to_tensor(n), (-1,)), "int32") for n in (label_length, input_length)]
    loss = _ops.ctc_loss(y_true, _ops.log(y_pred + epsilon()), lengths[0], lengths[1],
                         mask_index=y_pred.shape[-1] - 1)
    return _ops.expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy: bool = True, beam_width: int = 100, top_paths: int = 1):
    """Keras 2's CTC decoding (the last class is the blank): ``([labels (batch, steps) padded with -1, ...],
    log_probabilities)``."""
    y_pred = _ops.convert_to_tensor(y_pred)
    decoded, log_prob = _ops.ctc_decode(_ops.log(y_pred + epsilon()),
                                        _ops.cast(_ops.reshape(_ops.convert_to_tensor(input_length), (-1,)), "int32"),
                                        strategy="greedy" if greedy else "beam_search", beam_width=beam_width,
                                        top_paths=top_paths, mask_index=y_pred.shape[-1] - 1)
    return [decoded[i] for i in range(decoded.shape[0])], log_prob


def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` of each slice of ``elems`` along its first axis, stacked."""
    return _ops.map(fn, elems)


def foldl(fn, elems, initializer=None, name=None):
    """``fn(accumulator, element)`` over ``elems``' first axis, left to right (the first element starts it when no
    ``initializer``)."""
    items = [elems[i] for i in range(elems.shape[0])]
    accumulator = items.pop(0) if initializer is None else initializer
    for item in items:
        accumulator = fn(accumulator, item)
    return accumulator


def foldr(fn, elems, initializer=None, name=None):
    """As :func:`foldl`, right to left."""
    return foldl(fn, _ops.flip(elems, axis=0), initializer=initializer)


def gradients(loss, variables):
    """TensorFlow 1's symbolic gradients: refused, with what to write instead."""
    raise RuntimeError("keras.backend.gradients() needs TensorFlow 1's graph mode, which Keras 3 and chainrule do not "
                       "have. Compute gradients with tf.GradientTape: `with tf.GradientTape() as tape: loss = ...` "
                       "then `tape.gradient(loss, variables)`.")


def to_dense(tensor):
    """chainrule's tensors are all dense: the tensor as it is."""
    return tensor


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name ('float32', 'int64', 'string')."""
    from chainrule.keras.mixed_precision.policy import standardize_dtype as standardize

    return standardize(floatx() if dtype is None else dtype)


def is_float_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("int", "uint"))


_uids: dict[str, int] = {}


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... per ``prefix`` (Keras's unique ids for names), from 1 again after :func:`clear_session`."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


__all__ = ["abs", "all", "any", "arange", "argmax", "argmin", "backend", "batch_dot", "batch_flatten",
           "batch_get_value", "batch_set_value", "bias_add", "binary_crossentropy", "cast", "cast_to_floatx",
           "categorical_crossentropy", "clear_session", "clip", "concatenate", "constant", "cos", "count_params",
           "cumprod", "cumsum", "dot", "dropout", "dtype", "elu", "epsilon", "equal", "eval", "exp", "expand_dims",
           "eye", "flatten", "floatx", "gather", "get_value", "greater", "greater_equal", "hard_sigmoid",
           "image_data_format", "in_top_k", "int_shape", "is_keras_tensor", "is_sparse", "l2_normalize",
           "learning_phase", "less", "less_equal", "log", "max", "maximum", "mean", "min", "minimum",
           "moving_average_update", "ndim", "not_equal", "one_hot", "ones", "ones_like", "permute_dimensions",
           "placeholder", "pow", "prod", "result_type", "random_bernoulli", "random_normal", "random_normal_variable",
           "random_uniform", "random_uniform_variable", "relu", "repeat", "repeat_elements", "reshape", "reverse",
           "round", "set_epsilon", "set_floatx", "set_image_data_format", "set_value", "shape", "sigmoid", "sign",
           "sin", "softmax", "softplus", "softsign", "sparse_categorical_crossentropy", "sqrt", "square", "squeeze",
           "stack", "std", "stop_gradient", "sum", "switch", "tanh", "tile", "transpose", "truncated_normal",
           "update", "update_add", "update_sub", "var", "variable", "zeros", "zeros_like",
           "batch_normalization", "binary_focal_crossentropy", "categorical_focal_crossentropy", "conv1d", "conv2d",
           "ctc_batch_cost", "ctc_decode", "depthwise_conv2d", "foldl", "foldr", "get_uid", "gradients", "is_float_dtype", "is_int_dtype",
           "map_fn", "pool2d", "resize_images", "separable_conv2d", "spatial_2d_padding", "standardize_dtype", "temporal_padding",
           "to_dense"]
