"""2-D max and average pooling in TensorFlow's NHWC layout, with 'valid' / 'same' padding.

Both ops visit the kh*kw *taps* of the window: tap (i, j) is a strided view of the padded input holding, for every
output position, the pixel at offset (i, j) of its window. The forward pass combines taps (max, or sum then scale);
the backward pass writes the gradient back through the same views, adding where windows overlap. Each backward is
an op of its own whose backward is the forward's cousin, so gradients of gradients work.
Max pooling remembers, per output, the tap index of its window's first maximum (``argmax``, one uint8), found in the
forward pass; its backward ops read that index instead of comparing the input with the output again. Its three
array functions live in chainrule/backend/kernels/pooling.py, each as NumPy code and as a numba kernel that does it
in one pass over memory (chosen by ``kernels.enabled()``; the results are the same). The ops:

    y = max_pool(x)        ->  dx = scatter(g)     (g to the FIRST maximum of each window, row-major, as PyTorch)
    dx = scatter(g)        ->  dg = gather(u)      (u read at those positions: argmax says where)
    y = avg_pool(x)        ->  dx = spread(g)      (g * scale added to every pixel of the window)
    dx = spread(g)         ->  dg = avg_pool(u)

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> max_pool2d(x, 2).numpy()[0, :, :, 0]
array([[ 5.,  7.],
       [13., 15.]])
>>> avg_pool2d(x, 3, strides=2, padding="same").numpy()[0, :, :, 0]
array([[ 5. ,  6.5],
       [11. , 12.5]])
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import pooling
from chainrule.ops.conv import check_float_nhwc, out_size, pad_hw, pair, resolve_padding
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


class _Pool(Function):
    """Remembers the window geometry (and, for max pooling, each window's first-maximum index ``argmax``)."""

    def _setup(self, x_shape, pool, strides, pads, out_hw):
        self.in_shape, self.pool, self.strides, self.pads, self.out_hw = x_shape, pool, strides, pads, out_hw
        self.geometry = dict(pool=pool, strides=strides, pads=pads)

    def _through_argmax(self, fn_class, a):
        """Scatter or gather ``a`` through this node's first-maximum indices."""
        return fn_class.apply(a, argmax=self.argmax, in_shape=self.in_shape, out_hw=self.out_hw, **self.geometry)


def _fast(numpy_fn, numba_fn, dtype):
    """The numba kernel where it runs (kernels.enabled(), float32 / float64), else the NumPy function: same results."""
    return numba_fn if kernels.runs_on(dtype) else numpy_fn


# --- max pooling ------------------------------------------------------------------------------------------------------
def max_pool_with_argmax(x, pool, strides, pads):
    """Arrays in, ``(y, argmax, out_hw)`` out: the pooled values and each window's first-maximum tap index."""
    n, h, w, c = x.shape
    out_hw = (out_size(h, pads[0], pool[0], strides[0]), out_size(w, pads[1], pool[1], strides[1]))
    y, argmax = _fast(pooling.max_pool_numpy, pooling.max_pool_numba, x.dtype)(x, pool, strides, pads, out_hw)
    return y, argmax, out_hw


class MaxPool2D(_Pool):
    # y[n, p, q, c] = max over the window of xpad   ->   dx = scatter(g) to each window's first maximum
    def forward(self, x, pool, strides, pads):
        y, self.argmax, out_hw = max_pool_with_argmax(x, pool, strides, pads)
        self._setup(x.shape, pool, strides, pads, out_hw)
        return y

    def backward(self, g):
        return self._through_argmax(MaxPool2DScatter, g)


class MaxPool2DScatter(_Pool):
    # dx[window's first max] += g[window]   ->   dg = gather(u) at the same positions
    def forward(self, g, argmax, in_shape, out_hw, pool, strides, pads):
        self._setup(in_shape, pool, strides, pads, out_hw)
        self.argmax = argmax
        scatter = _fast(pooling.max_pool_scatter_numpy, pooling.max_pool_scatter_numba, g.dtype)
        return scatter(g, argmax, in_shape, pool, strides, pads)

    def backward(self, u):
        return self._through_argmax(MaxPool2DGather, u)


class MaxPool2DGather(_Pool):
    # y[window] = u[window's first max]   ->   du = scatter(g)
    def forward(self, u, argmax, in_shape, out_hw, pool, strides, pads):
        self._setup(in_shape, pool, strides, pads, out_hw)
        self.argmax = argmax
        gather = _fast(pooling.max_pool_gather_numpy, pooling.max_pool_gather_numba, u.dtype)
        return gather(u, argmax, pool, strides, pads)

    def backward(self, g):
        return self._through_argmax(MaxPool2DScatter, g)


# --- average pooling --------------------------------------------------------------------------------------------------
def _avg_scale(in_hw, pool, strides, pads, out_hw, dtype):
    """1 / (number of real, non-padded pixels in each window): a number, or a (1, OH, OW, 1) array with padding."""
    if pads == ((0, 0), (0, 0)):
        return 1.0 / (pool[0] * pool[1])
    xp = backend.xp
    counts = []
    for size, k, s, (before, _), n_out in zip(in_hw, pool, strides, pads, out_hw):
        start = xp.arange(n_out) * s - before  # window start in input coordinates
        counts.append(xp.astype(xp.minimum(start + k, size) - xp.maximum(start, 0), xp.float64))
    return xp.astype(1.0 / (counts[0][:, None] * counts[1][None, :]), dtype)[None, :, :, None]


class AvgPool2D(_Pool):
    # y = scale * (sum over the window of xpad)   ->   dx = spread(g)
    def forward(self, x, pool, strides, pads, scale):
        n, h, w, c = x.shape
        out_hw = (out_size(h, pads[0], pool[0], strides[0]), out_size(w, pads[1], pool[1], strides[1]))
        self._setup(x.shape, pool, strides, pads, out_hw)
        self.scale = scale
        xpad = pad_hw(x, pads)
        taps = pooling.window_taps(pool, strides, out_hw)
        if len(taps) == 1:
            return xpad[taps[0]] * scale
        y = xpad[taps[0]] + xpad[taps[1]]
        for tap in taps[2:]:
            y += xpad[tap]
        y *= scale
        return y

    def backward(self, g):
        return AvgPool2DSpread.apply(g, in_shape=self.in_shape, out_hw=self.out_hw, scale=self.scale, **self.geometry)


class AvgPool2DSpread(_Pool):
    # dx[every pixel of the window] += g * scale   ->   dg = avg_pool(u)
    def forward(self, g, in_shape, out_hw, pool, strides, pads, scale):
        self._setup(in_shape, pool, strides, pads, out_hw)
        self.scale = scale
        gs = g * scale
        return pooling.add_to_taps(lambda k: gs, gs.dtype, in_shape, pool, strides, pads, out_hw)

    def backward(self, u):
        return AvgPool2D.apply(u, scale=self.scale, **self.geometry)


# --- public functions -------------------------------------------------------------------------------------------------
def _pool_args(opname, x, pool_size, strides, padding):
    x = as_tensor(x)
    check_float_nhwc(x, opname)
    pool = pair(pool_size, "pool_size", opname)
    strides = pool if strides is None else pair(strides, "strides", opname)
    pads = resolve_padding(padding, x.shape[1:3], pool, strides, (1, 1), opname, explicit_ok=False)
    for axis, (size, pad, k) in enumerate(zip(x.shape[1:3], pads, pool)):
        if size + pad[0] + pad[1] < k:
            raise ValueError(f"{opname}: the pool window ({pool[0]}, {pool[1]}) is larger than the "
                             f"{'padded ' if sum(pad) else ''}input along {'height' if axis == 0 else 'width'} "
                             f"(input shape {x.shape}, pool_size {pool_size!r}, padding {padding!r})")
    return x, pool, strides, pads


@op
def max_pool2d(x: TensorLike, pool_size, strides=None, padding="valid") -> Tensor:
    """Max pooling like ``tf.nn.max_pool2d`` on (N, H, W, C); strides default to pool_size.

    'same' pads with -inf (TensorFlow's rule). The gradient of each window goes to its first maximum in row-major
    window order, as in PyTorch, so tied values (saturated pixels, ReLU zeros) do not share it.
    """
    x, pool, strides, pads = _pool_args("max_pool2d", x, pool_size, strides, padding)
    return MaxPool2D.apply(x, pool=pool, strides=strides, pads=pads)


@op
def avg_pool2d(x: TensorLike, pool_size, strides=None, padding="valid") -> Tensor:
    """Average pooling like ``tf.nn.avg_pool2d`` on (N, H, W, C); strides default to pool_size.

    With 'same' padding each window is averaged over its real pixels only (the padding is not counted), as in TF.
    """
    x, pool, strides, pads = _pool_args("avg_pool2d", x, pool_size, strides, padding)
    out_hw = tuple(out_size(size, pad, k, s) for size, pad, k, s in zip(x.shape[1:3], pads, pool, strides))
    scale = _avg_scale(x.shape[1:3], pool, strides, pads, out_hw, x.dtype)
    return AvgPool2D.apply(x, pool=pool, strides=strides, pads=pads, scale=scale)
