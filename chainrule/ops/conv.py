"""2-D convolution in TensorFlow's layout: NHWC input, HWIO kernel, 'valid' / 'same' padding.

The forward pass is im2col: a strided *view* of the padded input holds every kernel-sized window, one reshape copies
it into a (N*OH*OW, kh*kw*C) matrix of patches, and one matrix product with the (kh*kw*C, F) kernel does the rest.
Its two gradients are ops of their own, so that gradients of gradients work:

    y  = conv(x, w)                 ->  dx = backprop_input(g, w),   dw = backprop_filter(x, g)
    dx = backprop_input(g, w)       ->  dg = conv(u, w),             dw = backprop_filter(u, g)
    dw = backprop_filter(x, g)      ->  dx = backprop_input(g, v),   dg = conv(x, v)

(u, v: the gradients flowing into dx and dw). Each pair is adjoint: <conv(x, w), g> = <x, backprop_input(g, w)>
= <w, backprop_filter(x, g)>.

``Conv2DBiasAct`` is the Conv2D layer's node: conv, + bias and relu, the last two in one pass over the output.

Why im2col even for the first layer of a grey-image network (kh*kw*C = 9): BLAS runs even these thin products near
peak, where numba's loops over a runtime number of filters do not; the direct and fused numba kernels tried instead
were slower (docs/performance.md, "Convolution"). ``backprop_input`` keeps one product per tap and sums them in one
numba pass over dx (kernels/col2im.py), a chunk of images at a time.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> w = np.ones((2, 2, 1, 1))
>>> conv2d(x, w).numpy()[0, :, :, 0]
array([[10., 14., 18.],
       [26., 30., 34.],
       [42., 46., 50.]])
>>> conv2d(x, w, strides=2, padding="same").shape
TensorShape([1, 2, 2, 1])
"""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from chainrule import backend
from chainrule.backend.windows import Pads, pad_hw, window_slice
from chainrule.backend import kernels
from chainrule.backend.kernels import activation as act_kernels
from chainrule.backend.kernels import col2im
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor


# Forward keeps its patch matrix for the filter gradient when it is at most this big; larger ones are rebuilt in
# backward (one strided copy) rather than held in memory for the whole forward pass of a deep net.
KEEP_PATCHES_MAX_BYTES = 128 * 2**20
# The input gradient holds the kernel taps' products of this many bytes at a time (a chunk of images): they are summed
# while still in the shared cache (figures in docs/performance.md, "Convolution").
COL2IM_CHUNK_BYTES = 4 * 2**20


# --- argument handling, shared with pool.py ---------------------------------------------------------------------------
def pair(value, name: str, opname: str) -> tuple[int, int]:
    """An int, a pair of ints as (height, width), or TensorFlow's NHWC form [1, height, width, 1]; each >= 1."""
    return per_axis(value, 2, name, opname)  # type: ignore[return-value]


def per_axis(value, rank: int, name: str, opname: str) -> tuple[int, ...]:
    """An int, ``rank`` ints (one per spatial axis), or TensorFlow's form [1, *sizes, 1]; each >= 1.

    >>> per_axis(2, 3, "strides", "conv3d"), per_axis([1, 2, 3, 1], 2, "strides", "conv2d")
    ((2, 2, 2), (2, 3))
    """
    values = (value,) * rank if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) == rank + 2 and values[0] == values[-1] == 1:
        values = values[1:-1]
    if len(values) != rank or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                                      for v in values):
        sizes = ", ".join("dhw"[3 - rank:])
        forms = f"{'a pair of positive ints' if rank == 2 else f'{rank} positive ints'} or [1, {sizes}, 1]"
        raise ValueError(f"{opname}: {name} must be a positive int, {forms}, got {value!r}")
    return tuple(int(v) for v in values)


def same_pads(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: out = ceil(size / stride), the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, in_hw, k_hw, strides, dilations, opname: str, explicit_ok: bool = True) -> Pads:
    """'valid', 'same' (either case), or explicit ((top, bottom), (left, right)) / (pad_h, pad_w) / int."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "same":
            return tuple(same_pads(*args) for args in zip(in_hw, k_hw, strides, dilations))  # type: ignore
        raise ValueError(f"{opname}: padding must be 'valid' or 'same'"
                         f"{' or explicit pads' if explicit_ok else ''}, got {padding!r}")
    if not explicit_ok:
        raise ValueError(f"{opname}: padding must be 'valid' or 'same', got {padding!r}")
    try:
        if isinstance(padding, int):
            pads = ((padding, padding), (padding, padding))
        elif len(padding) == 2 and all(isinstance(p, int) for p in padding):
            pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        elif len(padding) == 4:  # tf.nn.conv2d's explicit form [[0, 0], [top, bottom], [left, right], [0, 0]]
            if tuple(padding[0]) != (0, 0) or tuple(padding[3]) != (0, 0):
                raise ValueError
            pads = (tuple(padding[1]), tuple(padding[2]))
        else:
            pads = (tuple(padding[0]), tuple(padding[1]))
        ok = all(len(p) == 2 and all(isinstance(v, int) and v >= 0 for v in p) for p in pads)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{opname}: padding must be 'valid', 'same', an int, (pad_h, pad_w) or "
                         f"((top, bottom), (left, right)) of non-negative ints, got {padding!r}")
    return pads  # type: ignore[return-value]


def out_size(size: int, pad: tuple[int, int], k: int, stride: int, dilation: int = 1) -> int:
    """Number of window positions along one axis of the padded input."""
    return (size + pad[0] + pad[1] - (k - 1) * dilation - 1) // stride + 1


# --- the three ops --------------------------------------------------------------------------------------------------
def im2col(x, k_hw, pads: Pads, strides, dilations, pool=(1, 1)):
    """im2col: a matrix whose rows are the (padded) input windows, in the kernel's HWI order.

    The rows go (a, b, n, P, Q): conv output pixel (P*ph + a, Q*pw + b) of image n, for a pool of (ph, pw) windows
    that tile the conv output (rows and columns past the last whole window are left out). With the default pool
    (1, 1) that is the plain (N*OH*OW, kh*kw*C) matrix; with a pool, block (a, b) of the product holds every
    window's pixel at tap (a, b), so pooling compares whole blocks (the window-major layout of conv_pool.py).
    """
    if type(x) is not np.ndarray:
        return _im2col_windows(pad_hw(x, pads), k_hw, strides, dilations, pool)
    xp = pad_hw(x, pads)
    n, hp, wp, c = xp.shape
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = k_hw, strides, dilations, pool
    oh, ow = (hp - (kh - 1) * dh - 1) // sh + 1, (wp - (kw - 1) * dw - 1) // sw + 1
    s_n, s_h, s_w, s_c = xp.strides
    view = backend.xp.lib.stride_tricks.as_strided(  # [a, b, n, P, Q, i, j, c]
        xp, (ph, pw, n, oh // ph, ow // pw, kh, kw, c),
        (s_h * sh, s_w * sw, s_n, s_h * sh * ph, s_w * sw * pw, s_h * dh, s_w * dw, s_c))
    if c == 1:  # one channel (a first layer): each tap's pixels copied into one row of the transposed matrix
        # (whole image rows at a time: contiguous copies, much faster than one 6-D strided copy or tap columns)
        cols_t = backend.xp.empty((kh, kw, ph, pw) + view.shape[2:5], dtype=xp.dtype)
        first = {}  # pixel offset -> the block that already holds it: taps (i, a) with equal a*sh + i*dh read alike
        for i, j, a, b in itertools.product(range(kh), range(kw), range(ph), range(pw)):
            offset = (a * sh + i * dh, b * sw + j * dw)
            cols_t[i, j, a, b] = cols_t[first[offset]] if offset in first else view[a, b, ..., i, j, 0]
            first.setdefault(offset, (i, j, a, b))
        return cols_t.reshape(kh * kw, -1).T
    return view.reshape(-1, kh * kw * c)


def _im2col_windows(x, k_hw, strides, dilations, pool):
    """:func:`im2col` of an already padded ``x`` on any backend, from its sliding windows (a view on CuPy): one copy
    into the patch matrix, whatever the channels (on a GPU one kernel beats NumPy's cache-sized copies)."""
    owner = backend.extras_for(x)
    xp = owner.namespace
    n, hp, wp, c = x.shape
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = k_hw, strides, dilations, pool
    oh, ow = (hp - (kh - 1) * dh - 1) // sh + 1, (wp - (kw - 1) * dw - 1) // sw + 1
    p, q = oh // ph, ow // pw
    windows = owner.sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), (1, 2))  # [n, H, W, c, KH, KW]
    windows = windows[:, :(p * ph - 1) * sh + 1:sh, :(q * pw - 1) * sw + 1:sw, :, ::dh, ::dw]  # [n, oh', ow', c, kh, kw]
    windows = xp.reshape(windows, (n, p, ph, q, pw, c, kh, kw))
    return xp.reshape(xp.permute_dims(windows, (2, 4, 0, 1, 3, 6, 7, 5)), (-1, kh * kw * c))  # [a, b, n, P, Q, i, j, c]


def conv_forward(x, w, pads, strides, dilations):
    """conv(x, w), and the patch matrix to keep for the filter gradient (None when it is too big to keep)."""
    kh, kw, _, f = w.shape
    xp = backend.array_namespace(x)
    cols = im2col(x, (kh, kw), pads, strides, dilations)
    y = cols @ xp.reshape(w, (-1, f))
    n, h, wd, _ = x.shape
    y = xp.reshape(y, (n, out_size(h, pads[0], kh, strides[0], dilations[0]),
                       out_size(wd, pads[1], kw, strides[1], dilations[1]), f))
    return y, (cols if _nbytes(cols) <= KEEP_PATCHES_MAX_BYTES else None)


def _nbytes(a) -> int:
    return a.size * backend.numpy_dtype(a.dtype).itemsize


class Conv2D(Function):
    # y[n, p, q, f] = sum_{i, j, c} xpad[n, p*sh + i*dh, q*sw + j*dw, c] * w[i, j, c, f]
    # ->  dx = backprop_input(g, w),  dw = backprop_filter(x, g)
    def forward(self, x, w, pads, strides, dilations):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        y, self.cols = conv_forward(x, w, pads, strides, dilations)
        return y

    def backward(self, g):
        return input_and_filter_grads(self, g, *self.needs_input_grad)


def input_and_filter_grads(node: Function, g, need_x: bool, need_w: bool):
    """(dx, dw) of a conv node (inputs x, w, ...) given ``g``, the gradient at its conv output. Uses the patches the
    node kept (``node.cols``) and drops them: a second backward through the node rebuilds them."""
    x, w = node.args[0], node.args[1]
    cols, node.cols = node.cols, None
    dw = (Conv2DBackpropFilter.apply(x, g, k_shape=node.arrays[1].shape, cols=cols, **node.geometry)
          if need_w else None)
    dx = Conv2DBackpropInput.apply(g, w, in_shape=node.arrays[0].shape, **node.geometry) if need_x else None
    return dx, dw


class Conv2DBackpropInput(Function):
    # dx = sum over kernel taps (i, j) of  (g @ w[i, j]^T)  added into the input pixels that tap touched
    # ->  dg = conv(u, w),  dw = backprop_filter(u, g)
    def forward(self, g, w, in_shape, pads, strides, dilations):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        return backprop_input(g, w, in_shape, pads, strides, dilations)

    def backward(self, u):
        g, w = self.args
        dg = Conv2D.apply(u, w, **self.geometry) if self.needs_input_grad[0] else None
        dw = (Conv2DBackpropFilter.apply(u, g, k_shape=self.arrays[1].shape, cols=None, **self.geometry)
              if self.needs_input_grad[1] else None)
        return dg, dw


def backprop_input(g, w, in_shape, pads: Pads, strides, dilations):
    """The input gradient of conv(x, w) for the conv output's gradient ``g`` (x of shape ``in_shape``): one product
    g @ w[i, j]ᵀ per kernel tap, summed into the pixels each tap read (kernels/col2im.py), a few images at a time."""
    n, oh, ow, _ = g.shape
    kh, kw, c, _ = w.shape
    step = max(1, COL2IM_CHUNK_BYTES // (kh * kw * oh * ow * c * backend.numpy_dtype(g.dtype).itemsize))
    if step >= n or type(g) is not np.ndarray:  # (the chunks keep a CPU's cache warm: not a device's concern)
        return _backprop_input_chunk(g, w, in_shape, pads, strides, dilations)
    dx = backend.xp.empty(in_shape, dtype=g.dtype)
    for lo in range(0, n, step):
        images = slice(lo, min(lo + step, n))
        dx[images] = _backprop_input_chunk(g[images], w, (images.stop - lo, *in_shape[1:]), pads, strides, dilations)
    return dx


def _backprop_input_chunk(g, w, in_shape, pads: Pads, strides, dilations):
    n, oh, ow, f = g.shape
    kh, kw, c, _ = w.shape
    owner = backend.extras_for(g)
    if not owner.takes_out:  # one product per tap, each a new array (the array API has no out=)
        xp = owner.xp
        g2 = xp.reshape(g, (-1, f))
        products = (xp.reshape(g2 @ xp.matrix_transpose(w[t // kw, t % kw, ...]), (n, oh, ow, c))
                    for t in range(kh * kw))
        return col2im.sum_taps_numpy(products, kw, in_shape, pads, strides, dilations)
    g2 = g.reshape(-1, f)
    if kernels.runs_on(g.dtype):  # every tap's product, then one pass over dx
        taps = backend.xp.empty((kh * kw, g2.shape[0], c), dtype=g.dtype)
        for t in range(kh * kw):
            backend.xp.matmul(g2, w[divmod(t, kw)].T, out=taps[t])
        return col2im.sum_taps_numba(taps.reshape(kh * kw, n, oh, ow, c), kw, in_shape, pads, strides, dilations)
    tap = backend.xp.empty((g2.shape[0], c), dtype=g.dtype)  # NumPy: one tap at a time, each added through a view
    products = (backend.xp.matmul(g2, w[divmod(t, kw)].T, out=tap).reshape(n, oh, ow, c) for t in range(kh * kw))
    return col2im.sum_taps_numpy(products, kw, in_shape, pads, strides, dilations)


def _filter_grad(x, g, k_shape, pads, strides, dilations, cols=None):
    """patches^T @ g, with the patches forward kept or rebuilt."""
    if cols is None:
        cols = im2col(x, k_shape[:2], pads, strides, dilations)
    xp = backend.array_namespace(cols)
    return xp.reshape(xp.matrix_transpose(cols) @ xp.reshape(g, (-1, g.shape[-1])), k_shape)


class Conv2DBackpropFilter(Function):
    # dw[i, j, c, f] = sum_{n, p, q} xpad[n, p*sh + i*dh, q*sw + j*dw, c] * g[n, p, q, f]  =  patches^T @ g
    # ->  dx = backprop_input(g, v),  dg = conv(x, v)
    def forward(self, x, g, k_shape, pads, strides, dilations, cols=None):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        return _filter_grad(x, g, k_shape, pads, strides, dilations, cols)

    def backward(self, v):
        x, g = self.args
        dx = (Conv2DBackpropInput.apply(g, v, in_shape=self.arrays[0].shape, **self.geometry)
              if self.needs_input_grad[0] else None)
        dg = Conv2D.apply(x, v, **self.geometry) if self.needs_input_grad[1] else None
        return dx, dg


class Conv2DBiasAct(Function):
    # y = act(conv(x, w) + b), act relu or the identity, b optional (None)
    # ->  gm = g * (y > 0) (relu) or g;  dx = backprop_input(gm, w),  dw = backprop_filter(x, gm),  db = Σ_{n,p,q} gm
    # The Conv2D layer's node. Forward adds the bias and applies the relu in place on the conv's fresh output (one
    # pass with numba), and keeps only that output: y > 0 is relu's mask. Backward masks g once (with numba in the
    # same pass as the bias gradient). Relu's derivative is a constant mask (its own derivative is zero), so under
    # create_graph the gradient is g * mask through the differentiable backprop ops.
    def forward(self, x, w, b, pads, strides, dilations, relu=False):
        self.geometry = dict(pads=pads, strides=strides, dilations=dilations)
        self.relu = relu
        y, self.cols = conv_forward(x, w, pads, strides, dilations)
        if relu:
            act_kernels.bias_relu_(y, b)
        elif b is not None:
            y += b
        return y

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        gm, db = masked_grad_and_sum(self, g, self.relu, need_b)
        return (*input_and_filter_grads(self, gm, need_x, need_w), db)


def masked_grad_and_sum(node: Function, g, relu: bool, need_sum: bool):
    """``(gm, Σ gm over all but the channel axis)`` with ``gm = g * (out > 0)`` (relu) or g; the sum None unless
    asked. On arrays, with numba, mask and sum take one pass; under create_graph they are differentiable ops."""
    if node.graph_out is not None:
        gm = g * (node.out > 0) if relu else g
        return gm, (gm.sum(axis=tuple(range(gm.ndim - 1))) if need_sum else None)
    if relu:
        return act_kernels.relu_grad_sum(g, node.out) if need_sum else (act_kernels.relu_grad(g, node.out), None)
    return g, (act_kernels.column_sum(g) if need_sum else None)


# --- public function --------------------------------------------------------------------------------------------------
def check_float_nhwc(x: Tensor, opname: str, role: str = "input") -> None:
    """Raise unless ``x`` is a rank-4 floating-point NHWC tensor."""
    if x.ndim != 4:
        raise ValueError(f"{opname}: {role} must be 4-D (batch, height, width, channels), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{opname}: {role} must be floating point, got dtype {x.dtype}; cast it first")


@op
def conv2d(x: TensorLike, kernel: TensorLike, strides=1, padding="valid", dilations=1) -> Tensor:
    """2-D convolution like ``tf.nn.conv2d``: x is (N, H, W, C), kernel is (kh, kw, C, F); no bias.

    strides, dilations: an int or (height, width). padding: 'valid', 'same' (TensorFlow's rule: output size
    ceil(in / stride), the odd padding pixel at the bottom / right), or explicit ((top, bottom), (left, right)).
    """
    x, kernel, geometry = conv_args("conv2d", x, kernel, strides, padding, dilations)
    return Conv2D.apply(x, kernel, **geometry)


def conv_args(opname: str, x: TensorLike, kernel: TensorLike, strides, padding, dilations):
    """Check a convolution's input and kernel; return them as Tensors with the geometry (pads, strides, dilations)."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    check_float_nhwc(x, opname)
    if kernel.ndim != 4:
        raise ValueError(f"{opname}: kernel must be 4-D (height, width, in_channels, out_channels), got shape "
                         f"{kernel.shape} (input shape {x.shape})")
    if kernel.dtype != x.dtype:
        raise TypeError(f"{opname}: input dtype {x.dtype} and kernel dtype {kernel.dtype} differ; cast one of them "
                        f"(input shape {x.shape}, kernel shape {kernel.shape})")
    strides, dilations = pair(strides, "strides", opname), pair(dilations, "dilations", opname)
    kh, kw, c_in, _ = kernel.shape
    if x.shape[3] != c_in:
        raise ValueError(f"{opname}: input has {x.shape[3]} channels but the kernel expects {c_in} "
                         f"(input shape {x.shape}, kernel shape {kernel.shape})")
    pads = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilations, opname)
    for axis, (size, pad, k, d) in enumerate(zip(x.shape[1:3], pads, (kh, kw), dilations)):
        if size + pad[0] + pad[1] < (k - 1) * d + 1:
            raise ValueError(f"{opname}: the kernel ({'dilated ' if d > 1 else ''}extent {(k - 1) * d + 1}) is "
                             f"larger than the padded input along {'height' if axis == 0 else 'width'} "
                             f"({size + pad[0] + pad[1]}) (input shape {x.shape}, kernel shape {kernel.shape}, "
                             f"padding {padding!r})")
    return x, kernel, dict(pads=pads, strides=strides, dilations=dilations)
