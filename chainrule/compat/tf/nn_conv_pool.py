"""``tf.nn``'s rank-generic convolution and pooling: ``conv1d``, ``convolution`` and ``pool`` (1, 2 or 3 spatial axes
chosen by the input's rank, channels-last or channels-first) and ``max_pool_with_argmax``, dispatched to chainrule's
differentiable conv and pool ops (channels-first inputs are transposed around them).

>>> import numpy as np
>>> import chainrule as tf
>>> x = tf.constant(np.arange(6.0, dtype="float32").reshape(1, 6, 1))
>>> tf.nn.conv1d(x, np.ones((2, 1, 1), "float32"), stride=2, padding="VALID").numpy()[0, :, 0]
array([1., 5., 9.], dtype=float32)
>>> tf.nn.pool(x, [3], "MAX", strides=[3]).numpy()[0, :, 0]
array([2., 5.], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.backend.kernels.pooling import max_pool_numpy
from chainrule import ops
from chainrule.compat.tf.space_batch import batch_to_space, space_to_batch
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops import conv as _conv
from chainrule.ops.conv import out_size, per_axis, resolve_padding
from chainrule.ops.conv1d import conv1d as _conv1d
from chainrule.ops.conv3d import avg_pool3d, conv3d, max_pool3d
from chainrule.ops.pool import avg_pool2d, max_pool2d
from chainrule.ops.pool1d import avg_pool1d, max_pool1d
from chainrule.ops.shape import transpose

_LAYOUTS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_CONVS = {1: _conv1d, 2: _conv.conv2d, 3: conv3d}
_POOLS = {("MAX", 1): max_pool1d, ("AVG", 1): avg_pool1d, ("MAX", 2): max_pool2d, ("AVG", 2): avg_pool2d,
          ("MAX", 3): max_pool3d, ("AVG", 3): avg_pool3d}


def _channels_first(data_format: str | None, rank: int, fn: str) -> bool:
    """Whether ``data_format`` puts channels first, checked against the layouts of ``rank`` spatial axes."""
    last, first = _LAYOUTS[rank]
    if data_format is None or data_format == last:
        return False
    if data_format == first:
        return True
    raise ValueError(f"tf.nn.{fn}: `data_format` must be {last!r} or {first!r} for {rank + 2}-D input. Received: "
                     f"data_format={data_format!r}")


def _to_last(x: Tensor, first: bool) -> Tensor:
    return transpose(x, (0, *range(2, x.ndim), 1)) if first else x


def _to_first(y: Tensor, first: bool) -> Tensor:
    return transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1))) if first else y


def _spatial_rank(input: Tensor, fn: str) -> int:  # noqa: A002
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"tf.nn.{fn}: input must be 3-D, 4-D or 5-D (batch, 1 to 3 spatial axes, channels), got "
                         f"shape {list(input.shape)}")
    return input.ndim - 2


def conv1d(input: TensorLike, filters: TensorLike, stride, padding, data_format: str = "NWC",  # noqa: A002
           dilations=None, name=None) -> Tensor:
    """``tf.nn.conv1d``: input (batch, width, in) ('NWC') or (batch, in, width) ('NCW'), filters
    (width, in, out); ``stride`` and ``dilations`` an int or a list of 1 or 3 ints; padding 'SAME' or 'VALID'."""
    x = as_tensor(input)
    if x.ndim != 3:
        raise ValueError(f"tf.nn.conv1d: input must be 3-D, got shape {list(x.shape)}")
    return convolution(x, filters, stride, padding, data_format, dilations, _fn="conv1d")


def convolution(input: TensorLike, filters: TensorLike, strides=None, padding: str = "VALID",  # noqa: A002
                data_format: str | None = None, dilations=None, name=None, _fn: str = "convolution") -> Tensor:
    """``tf.nn.convolution``: an N-D convolution (N = 1, 2 or 3 from the input's rank), filters
    (*spatial, in, out); ``strides`` and ``dilations`` an int or N ints (default 1); channels-first layouts
    ('NCW', 'NCHW', 'NCDHW') as well as channels-last.

    >>> import numpy as np
    >>> import chainrule as tf
    >>> tf.nn.convolution(np.ones((1, 4, 4, 1), "float32"), np.ones((3, 3, 1, 2), "float32")).shape
    TensorShape([1, 2, 2, 2])
    """
    x, w = as_tensor(input), as_tensor(filters)
    rank = _spatial_rank(x, _fn)
    if w.ndim != rank + 2:
        raise ValueError(f"tf.nn.{_fn}: filters must be {rank + 2}-D (*spatial, in_channels, out_channels) for a "
                         f"{x.ndim}-D input, got shape {list(w.shape)}")
    first = _channels_first(data_format, rank, _fn)
    strides = per_axis(1 if strides is None else strides, rank, "strides", f"tf.nn.{_fn}")
    dilations = per_axis(1 if dilations is None else dilations, rank, "dilations", f"tf.nn.{_fn}")
    if rank == 1:
        strides, dilations = strides[0], dilations[0]
    return _to_first(_CONVS[rank](_to_last(x, first), w, strides, padding, dilations), first)


def pool(input: TensorLike, window_shape, pooling_type: str, strides=None, padding: str = "VALID",  # noqa: A002
         data_format: str | None = None, dilations=None, name=None) -> Tensor:
    """``tf.nn.pool``: N-D 'MAX' or 'AVG' pooling over ``window_shape`` (N ints), ``strides`` defaulting to 1 (not to
    the window, unlike max_pool2d); 'SAME' averages count only real elements, as TensorFlow; ``dilations`` > 1
    (with strides 1) pool every rate-th element."""
    x = as_tensor(input)
    rank = _spatial_rank(x, "pool")
    window = per_axis(window_shape, rank, "window_shape", "tf.nn.pool")
    if len(tuple(np.ravel(window_shape))) != rank:
        raise ValueError(f"tf.nn.pool: window_shape must have {rank} entries for a {x.ndim}-D input, got "
                         f"{window_shape!r}")
    kind = str(pooling_type).upper()
    if kind not in ("MAX", "AVG"):
        raise ValueError(f"tf.nn.pool: pooling_type must be 'AVG' or 'MAX', got {pooling_type!r}")
    strides = per_axis(1 if strides is None else strides, rank, "strides", "tf.nn.pool")
    rates = per_axis(1 if dilations is None else dilations, rank, "dilations", "tf.nn.pool")
    first = _channels_first(data_format, rank, "pool")
    x = _to_last(x, first)
    if any(r != 1 for r in rates):
        if any(s != 1 for s in strides):
            raise ValueError("tf.nn.pool: strides > 1 not supported in conjunction with dilation_rate > 1")
        return _to_first(_dilated_pool(x, window, kind, padding, rates), first)
    size, step = (window[0], strides[0]) if rank == 1 else (window, strides)
    return _to_first(_POOLS[kind, rank](x, size, step, padding), first)


def _dilated_pool(x: Tensor, window, kind: str, padding: str, rates) -> Tensor:
    """TensorFlow's dilated pooling: 'SAME' zero-pads by (window - 1) * rate (the zeros take part, as in TF's
    space-to-batch route), then every rate-th element pools in its own batch entry, and the entries interleave back."""
    if str(padding).upper() == "SAME":
        extra = [(k - 1) * r for k, r in zip(window, rates)]
        x = ops.pad(x, [(0, 0), *[(e // 2, e - e // 2) for e in extra], (0, 0)])
    elif str(padding).upper() != "VALID":
        raise ValueError(f"tf.nn.pool: padding must be 'VALID' or 'SAME', got {padding!r}")
    tails = [(-n) % r for n, r in zip(x.shape[1:-1], rates)]  # pad each axis to a multiple of its rate
    blocks = space_to_batch(x, rates, [(0, t) for t in tails])
    size = window[0] if len(window) == 1 else window
    pooled = _POOLS[kind, len(window)](blocks, size, 1, "valid")
    return batch_to_space(pooled, rates, [(0, t) for t in tails])


def _sizes(value, rank: int, first: bool, name: str, fn: str) -> tuple[int, ...]:
    """ksize / strides as TensorFlow takes them: an int, 1 or N ints, or N + 2 with 1 at batch and channels."""
    values = [value] if np.ndim(value) == 0 else list(np.ravel(value))
    if len(values) == rank + 2 and first:
        values = [values[0], *values[2:], values[1]]  # 'NC...' puts the channels' 1 second
    if len(values) == 1:
        values = values * rank
    return per_axis([int(v) for v in values], rank, name, f"tf.nn.{fn}")


def _generic_pool(kind: str, input: TensorLike, ksize, strides, padding, data_format, fn: str,  # noqa: A002
                  rank: int | None = None) -> Tensor:
    x = as_tensor(input)
    found = _spatial_rank(x, fn)
    if rank is not None and found != rank:
        raise ValueError(f"tf.nn.{fn}: input must be {rank + 2}-D, got shape {list(x.shape)}")
    first = _channels_first(data_format, found, fn)
    window = _sizes(ksize, found, first, "ksize", fn)
    step = window if strides is None else _sizes(strides, found, first, "strides", fn)
    size, step = (window[0], step[0]) if found == 1 else (window, step)
    return _to_first(_POOLS[kind, found](_to_last(x, first), size, step, padding), first)


def max_pool(input: TensorLike, ksize, strides=None, padding: str = "VALID", data_format: str | None = None,  # noqa
             name=None) -> Tensor:
    """``tf.nn.max_pool``: N-D max pooling (N = 1, 2 or 3 from the input's rank); ``ksize`` and ``strides`` an int,
    1 or N ints, or N + 2 ints; strides default to ksize."""
    return _generic_pool("MAX", input, ksize, strides, padding, data_format, "max_pool")


def avg_pool(input: TensorLike, ksize, strides=None, padding: str = "VALID", data_format: str | None = None,  # noqa
             name=None) -> Tensor:
    """``tf.nn.avg_pool``: N-D average pooling, as :func:`max_pool` ('SAME' averages real elements only)."""
    return _generic_pool("AVG", input, ksize, strides, padding, data_format, "avg_pool")


def max_pool1d(input: TensorLike, ksize, strides, padding: str, data_format: str = "NWC",  # noqa: A002
               name=None) -> Tensor:
    """``tf.nn.max_pool1d`` on (batch, width, channels) ('NWC') or (batch, channels, width) ('NCW')."""
    return _generic_pool("MAX", input, ksize, strides, padding, data_format, "max_pool1d", rank=1)


def avg_pool1d(input: TensorLike, ksize, strides, padding: str, data_format: str = "NWC",  # noqa: A002
               name=None) -> Tensor:
    """``tf.nn.avg_pool1d``, as :func:`max_pool1d`."""
    return _generic_pool("AVG", input, ksize, strides, padding, data_format, "avg_pool1d", rank=1)


def max_pool_with_argmax(input: TensorLike, ksize, strides, padding: str, data_format: str = "NHWC",  # noqa: A002
                         output_dtype=np.int64, include_batch_in_index: bool = False,
                         name=None) -> tuple[Tensor, Tensor]:
    """``tf.nn.max_pool_with_argmax``: (output, argmax) of 2-D max pooling on NHWC input; argmax is each window's
    first maximum as the flat index ``(y * width + x) * channels + c`` (with ``include_batch_in_index``,
    ``((b * height + y) * width + x) * channels + c``). The output is differentiable; the indices are not.

    >>> import numpy as np
    >>> import chainrule as tf
    >>> out, argmax = tf.nn.max_pool_with_argmax(np.array([[[[1.], [3.]], [[4.], [2.]]]], "float32"), 2, 2, "VALID")
    >>> float(out.numpy().squeeze()), int(argmax.numpy().squeeze())
    (4.0, 2)
    """
    if data_format != "NHWC":
        raise ValueError(f"tf.nn.max_pool_with_argmax: data_format must be 'NHWC', got {data_format!r}")
    dtype = np.dtype(getattr(output_dtype, "as_numpy_dtype", output_dtype))
    if dtype not in (np.int32, np.int64):
        raise TypeError(f"tf.nn.max_pool_with_argmax: output_dtype must be int32 or int64, got {output_dtype!r}")
    x = as_tensor(input)
    output = max_pool2d(x, ksize, strides, padding)  # validates the arguments and carries the gradient
    n, height, width, channels = x.shape
    pool_hw = per_axis(ksize, 2, "ksize", "tf.nn.max_pool_with_argmax")
    strides_hw = per_axis(strides, 2, "strides", "tf.nn.max_pool_with_argmax")
    pads = resolve_padding(padding, (height, width), pool_hw, strides_hw, (1, 1), "tf.nn.max_pool_with_argmax",
                           explicit_ok=False)
    out_hw = tuple(out_size(s, p, k, st) for s, p, k, st in zip((height, width), pads, pool_hw, strides_hw))
    _, taps = max_pool_numpy(np.asarray(x.numpy()), pool_hw, strides_hw, pads, out_hw)
    # a window's tap index (row-major within the window) back to the pixel it sits on
    rows = np.arange(out_hw[0])[:, None, None] * strides_hw[0] - pads[0][0] + taps // pool_hw[1]
    cols = np.arange(out_hw[1])[:, None] * strides_hw[1] - pads[1][0] + taps % pool_hw[1]
    index = (rows.astype(np.int64) * width + cols) * channels + np.arange(channels)
    if include_batch_in_index:
        index = index + np.arange(n)[:, None, None, None] * (height * width * channels)
    return output, as_tensor(index.astype(dtype))


__all__ = ["avg_pool", "avg_pool1d", "conv1d", "convolution", "max_pool", "max_pool1d", "max_pool_with_argmax",
           "pool"]
