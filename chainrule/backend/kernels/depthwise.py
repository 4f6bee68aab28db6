"""Depthwise convolution on NHWC arrays (kernel (kh, kw, C, M), output channel c*M + m): each NumPy function next to
the numba kernel of the same signature that replaces it.

    y[n, p, q, c*M + m] = Σ over taps (i, j) of xpad[n, p*sh + i*dh, q*sw + j*dw, c] * w[i, j, c, m]
    dx[n, r, s, c]      = Σ over the taps (i, j) and outputs (p, q) that read pixel (r, s)
                          of Σ_m g[n, p, q, c*M + m] * w[i, j, c, m]
    dw[i, j, c, m]      = Σ over images and outputs of xpad[tap (i, j) of (p, q), c] * g[n, p, q, c*M + m]

NumPy makes one pass over the output per kernel tap (a chunk of images at a time, so the passes stay in the shared
cache); the kernels visit each output (or input) pixel once and gather its taps. The forward and input-gradient
kernels do NumPy's arithmetic in NumPy's order, so the two agree bit for bit but for the sign of a zero
(tests/oracle/test_depthwise_ops.py); the filter gradient's kernel sums over the images in float64 (NumPy's
``einsum`` in the data's dtype), so it is ``bit_exact=False``: compiled in the calling thread, never swapped in
mid-run. On other backends' arrays (CuPy's, the array API's) the ``*_namespace`` functions do the same sums tap by
tap in new arrays.

>>> import numpy as np
>>> x = np.arange(9.0).reshape(1, 3, 3, 1)
>>> depthwise_numpy(x, np.ones((2, 2, 1, 1)), ((0, 0), (0, 0)), (1, 1), (1, 1))[0, :, :, 0]
array([[ 8., 12.],
       [20., 24.]])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import col2im, jit
from chainrule.backend.windows import pad_hw, window_slice

# NumPy's passes run over this many bytes of output (or of tap products) at a time: they stay in the shared cache
CHUNK_BYTES = 4 * 2**20


def out_hw(in_hw, k_hw, pads, strides, dilations) -> tuple[int, int]:
    """The output's (height, width): window positions along each padded axis."""
    return tuple((n + a + b - (k - 1) * d - 1) // s + 1  # type: ignore[return-value]
                 for n, (a, b), k, s, d in zip(in_hw, pads, k_hw, strides, dilations))


def _in_chunks(fn, arrays, out_shape, dtype, per_image_bytes: int):
    """``fn(*arrays)`` a chunk of images at a time (about ``CHUNK_BYTES`` of work each), into one output."""
    n = out_shape[0]
    step = max(1, CHUNK_BYTES // per_image_bytes)
    if step >= n:
        return fn(*arrays)
    out = backend.xp.empty(out_shape, dtype=dtype)
    for lo in range(0, n, step):
        images = slice(lo, min(lo + step, n))
        out[images] = fn(*(a[images] for a in arrays))
    return out


# --- any backend's arrays (the array API and the backend's pad): the path off NumPy ---------------------------------
def _tap_views(x, k_hw, pads, strides, dilations):
    """Each kernel tap's (N, OH, OW, C) view of the padded ``x`` with a trailing axis for the multiplier, in row-major
    tap order."""
    xp = backend.array_namespace(x)
    hw = out_hw(x.shape[1:3], k_hw, pads, strides, dilations)
    xpad = pad_hw(x, pads)
    return [xp.expand_dims(xpad[window_slice(hw, divmod(t, k_hw[1]), strides, dilations)], axis=-1)
            for t in range(k_hw[0] * k_hw[1])]


def depthwise_namespace(x, w, pads, strides, dilations):
    """y, as :func:`depthwise_numpy` sums it (tap by tap), in new arrays."""
    xp = backend.array_namespace(x, w)
    kh, kw, c, m = w.shape
    y = None
    for t, view in enumerate(_tap_views(x, (kh, kw), pads, strides, dilations)):
        term = view * w[t // kw, t % kw, ...]
        y = term if y is None else y + term
    return xp.reshape(y, y.shape[:3] + (c * m,))


def backprop_input_namespace(g, w, in_shape, pads, strides, dilations):
    """dx: each tap's Σ_m g * w[tap], added into the pixels the tap read (col2im's sum)."""
    xp = backend.array_namespace(g, w)
    kh, kw, c, m = w.shape
    g5 = xp.reshape(g, g.shape[:3] + (c, m))
    products = [xp.sum(g5 * w[t // kw, t % kw, ...], axis=-1) for t in range(kh * kw)]
    return col2im.sum_taps_numpy(products, kw, tuple(in_shape), pads, strides, dilations)


def backprop_filter_namespace(x, g, k_shape, pads, strides, dilations):
    """dw: for each tap, its view of the padded input times g, summed over images and outputs."""
    xp = backend.array_namespace(x, g)
    kh, kw, c, m = k_shape
    g5 = xp.reshape(g, g.shape[:3] + (c, m))
    taps = [xp.sum(view * g5, axis=(0, 1, 2)) for view in _tap_views(x, (kh, kw), pads, strides, dilations)]
    return xp.reshape(xp.stack(taps), tuple(k_shape))


# --- forward ----------------------------------------------------------------------------------------------------------
def depthwise_numpy(x, w, pads, strides, dilations):
    """y: tap (0, 0)'s products, then each further tap's added, in row-major tap order."""
    kh, kw, c, m = w.shape
    hw = out_hw(x.shape[1:3], (kh, kw), pads, strides, dilations)
    weights = w[..., 0] if m == 1 else w  # one output per channel: NumPy's inner loop runs over C

    def chunk(xc):
        xpad = pad_hw(xc, pads)
        y = tap = None
        for i in range(kh):
            for j in range(kw):
                view = xpad[window_slice(hw, (i, j), strides, dilations)]
                view = view if m == 1 else view[..., None]
                if y is None:
                    y = view * weights[i, j]
                    tap = backend.xp.empty_like(y)
                else:
                    y += backend.xp.multiply(view, weights[i, j], out=tap)
        return y.reshape(y.shape[:3] + (c * m,))

    return _in_chunks(chunk, (x,), (x.shape[0],) + hw + (c * m,), x.dtype, 2 * hw[0] * hw[1] * c * m * x.itemsize)


@jit
def _depthwise_kernel(x, w, sh, sw, dh, dw, top, left, y):
    # w is (kh, kw, C*M), y's channel c*M + m reads x's channel c; the loops over channels run on 1-D rows
    n, h, wd, c = x.shape
    kh, kw, cm = w.shape
    m = cm // c
    oh, ow = y.shape[1], y.shape[2]
    for b in range(n):
        for p in range(oh):
            for q in range(ow):
                out = y[b, p, q]
                for t in range(kh * kw):  # NumPy's order: tap 0 sets, the others add (padding adds zeros)
                    i, j = t // kw, t % kw
                    r, s = p * sh + i * dh - top, q * sw + j * dw - left
                    if r < 0 or r >= h or s < 0 or s >= wd:
                        if t == 0:
                            out[:] = 0
                        continue
                    pixel, taps = x[b, r, s], w[i, j]
                    if m == 1:  # the common case: plain loops over the channels, which vectorize
                        if t == 0:
                            for ch in range(c):
                                out[ch] = pixel[ch] * taps[ch]
                        else:
                            for ch in range(c):
                                out[ch] += pixel[ch] * taps[ch]
                    elif t == 0:
                        for ch in range(cm):
                            out[ch] = pixel[ch // m] * taps[ch]
                    else:
                        for ch in range(cm):
                            out[ch] += pixel[ch // m] * taps[ch]


@kernels.falls_back_to(depthwise_numpy)
def depthwise_numba(x, w, pads, strides, dilations):
    """:func:`depthwise_numpy` in one pass over the output."""
    kh, kw, c, m = w.shape
    y = np.empty((x.shape[0],) + out_hw(x.shape[1:3], (kh, kw), pads, strides, dilations) + (c * m,), dtype=x.dtype)
    _depthwise_kernel(np.ascontiguousarray(x), np.ascontiguousarray(w).reshape(kh, kw, c * m), strides[0],
                      strides[1], dilations[0], dilations[1], pads[0][0], pads[1][0], y)
    return y


# --- input gradient ---------------------------------------------------------------------------------------------------
def _tap_product(g5, w_tap, out=None):
    """Σ_m g[..., c, m] * w_tap[c, m], summed in order of m: what one kernel tap sends back to the input."""
    xp = backend.xp
    prod = xp.multiply(g5[..., 0], w_tap[:, 0], out=out)
    for k in range(1, g5.shape[-1]):
        prod += g5[..., k] * w_tap[:, k]
    return prod


def backprop_input_numpy(g, w, in_shape, pads, strides, dilations):
    """dx: each tap's product with g, added into the pixels the tap read (col2im's order: tap by tap)."""
    kh, kw, c, m = w.shape

    def chunk(gc):
        g5 = gc.reshape(gc.shape[:3] + (c, m))
        products = (_tap_product(g5, w[divmod(t, kw)]) for t in range(kh * kw))
        return col2im.sum_taps_numpy(products, kw, (gc.shape[0],) + tuple(in_shape[1:]), pads, strides, dilations)

    per_image = kh * kw * g.shape[1] * g.shape[2] * c * g.itemsize
    return _in_chunks(chunk, (g,), tuple(in_shape), g.dtype, per_image)


@jit
def _backprop_input_kernel(g, w, sh, sw, dh, dw, top, left, dx):
    n, h, wd, c = dx.shape
    kh, kw, _, m = w.shape
    oh, ow = g.shape[1], g.shape[2]
    for b in range(n):
        for r in range(h):
            for s in range(wd):
                out = dx[b, r, s]
                out[:] = 0
                for i in range(kh):  # the taps in NumPy's order: the same sum, bit for bit
                    p, rest = divmod(r + top - i * dh, sh)
                    if rest != 0 or p < 0 or p >= oh:
                        continue
                    for j in range(kw):
                        q, rest = divmod(s + left - j * dw, sw)
                        if rest != 0 or q < 0 or q >= ow:
                            continue
                        grad, taps = g[b, p, q], w[i, j]
                        if m == 1:
                            for ch in range(c):
                                out[ch] += grad[ch] * taps[ch, 0]
                        else:
                            for ch in range(c):
                                prod = grad[ch * m] * taps[ch, 0]
                                for k in range(1, m):
                                    prod += grad[ch * m + k] * taps[ch, k]
                                out[ch] += prod


@kernels.falls_back_to(backprop_input_numpy)
def backprop_input_numba(g, w, in_shape, pads, strides, dilations):
    """:func:`backprop_input_numpy` in one pass over dx."""
    dx = np.empty(in_shape, dtype=g.dtype)
    _backprop_input_kernel(np.ascontiguousarray(g), np.ascontiguousarray(w), strides[0], strides[1], dilations[0],
                           dilations[1], pads[0][0], pads[1][0], dx)
    return dx


# --- filter gradient --------------------------------------------------------------------------------------------------
def backprop_filter_numpy(x, g, k_shape, pads, strides, dilations):
    """dw: for each tap, the products of its view of the padded input with g, summed over images and outputs."""
    kh, kw, c, m = k_shape
    xpad = pad_hw(x, pads)
    g5 = g.reshape(g.shape[:3] + (c, m))
    dw = backend.xp.empty(k_shape, dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            dw[i, j] = backend.xp.einsum("npqc,npqcm->cm", xpad[window_slice(g.shape[1:3], (i, j), strides,
                                                                            dilations)], g5)
    return dw


@jit(bit_exact=False)  # sums in float64, unlike NumPy: compiled in the calling thread, never swapped mid-run
def _backprop_filter_kernel(x, g, sh, sw, dh, dw, top, left, total):
    # total is (kh, kw, C*M) in float64; channel c*M + m of g pairs with channel c of x
    n, h, wd, c = x.shape
    kh, kw, cm = total.shape
    m = cm // c
    oh, ow = g.shape[1], g.shape[2]
    for b in range(n):
        for p in range(oh):
            for q in range(ow):
                grad = g[b, p, q]
                for i in range(kh):
                    r = p * sh + i * dh - top
                    if r < 0 or r >= h:
                        continue
                    for j in range(kw):
                        s = q * sw + j * dw - left
                        if s < 0 or s >= wd:
                            continue
                        pixel, acc = x[b, r, s], total[i, j]
                        if m == 1:
                            for ch in range(c):
                                acc[ch] += np.float64(pixel[ch]) * np.float64(grad[ch])
                        else:
                            for ch in range(cm):
                                acc[ch] += np.float64(pixel[ch // m]) * np.float64(grad[ch])


def backprop_filter_numba(x, g, k_shape, pads, strides, dilations):
    """:func:`backprop_filter_numpy` in one pass over g, summed in float64."""
    kh, kw, c, m = k_shape
    total = np.zeros((kh, kw, c * m), dtype=np.float64)
    _backprop_filter_kernel(np.ascontiguousarray(x), np.ascontiguousarray(g), strides[0], strides[1], dilations[0],
                            dilations[1], pads[0][0], pads[1][0], total)
    return total.reshape(k_shape).astype(g.dtype)
