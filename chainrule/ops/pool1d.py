"""1-D max and average pooling over (batch, steps, channels) (``tf.nn.max_pool1d``, ``tf.nn.avg_pool1d``): the 2-D
pooling ops (ops/pool.py) on a height of 1, so they share their kernels and gradients (max: to each window's first
maximum; average: 'same' windows averaged over their real steps only, as TensorFlow).

>>> import numpy as np
>>> x = np.array([[[1.0], [3.0], [2.0], [5.0], [4.0]]])
>>> max_pool1d(x, 2).numpy()[0, :, 0]
array([3., 5.])
>>> avg_pool1d(x, 2, padding="same").numpy()[0, :, 0]
array([2. , 3.5, 4. ])
"""
from __future__ import annotations

from chainrule.engine.function import op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.conv1d import as_int, lift_1d, lower_1d
from chainrule.ops.pool import avg_pool2d, max_pool2d


def _pool1d(pool2d, opname: str, x: TensorLike, pool_size, strides, padding) -> Tensor:
    x = lift_1d(as_tensor(x), opname)
    size = as_int(opname, "pool_size", pool_size)
    step = size if strides is None else as_int(opname, "strides", strides)
    for name, value in (("pool_size", size), ("strides", step)):
        if isinstance(value, bool) or value < 1:
            raise ValueError(f"{opname}: {name} must be a positive int, got {value!r}")
    if str(padding).lower() == "valid" and size > x.shape[2]:
        raise ValueError(f"{opname}: the pool window ({size}) is longer than the input's {x.shape[2]} steps "
                         f"(input shape {(x.shape[0],) + x.shape[2:]}, padding 'valid')")
    return lower_1d(pool2d(x, (1, size), (1, step), padding))


@op
def max_pool1d(x: TensorLike, pool_size, strides=None, padding="valid") -> Tensor:
    """Max pooling like ``tf.nn.max_pool1d`` on (N, L, C): windows of ``pool_size`` steps moved by ``strides``
    (default ``pool_size``); 'same' pads with -inf."""
    return _pool1d(max_pool2d, "max_pool1d", x, pool_size, strides, padding)


@op
def avg_pool1d(x: TensorLike, pool_size, strides=None, padding="valid") -> Tensor:
    """Average pooling like ``tf.nn.avg_pool1d`` on (N, L, C); 'same' windows average their real steps only."""
    return _pool1d(avg_pool2d, "avg_pool1d", x, pool_size, strides, padding)
