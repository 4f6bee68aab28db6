"""col2im for the convolution's input gradient: the NumPy sum beside the numba kernel that replaces it.

The input gradient of a conv is one product per kernel tap, ``taps[i*kw + j] = g @ w[i, j]ᵀ`` (N, OH, OW, C), each
added into the input pixels that tap read:

    dx[n, r, s] = Σ over taps (i, j) and outputs (p, q) with p*sh + i*dh = r + top and q*sw + j*dw = s + left
                  of taps[i*kw + j, n, p, q]

NumPy adds the taps one after another through strided views of the padded input (9 read-modify-write passes over dx
for a 3x3 kernel); the kernel visits each pixel of dx once and gathers its taps in the same order (i, then j), so
the two agree bit for bit (tests/oracle/test_col2im_kernel.py). The kernel needs every tap's product at once (kh*kw
times the input's size), so ops/conv.py runs it a chunk of images at a time (``COL2IM_CHUNK_BYTES`` of products).

>>> import numpy as np
>>> taps = np.ones((4, 1, 2, 2, 1))  # a 2x2 kernel over a 3x3 input: 2x2 outputs
>>> sum_taps_numpy(taps, 2, (1, 3, 3, 1), ((0, 0), (0, 0)), (1, 1), (1, 1))[0, :, :, 0]
array([[1., 2., 1.],
       [2., 4., 2.],
       [1., 2., 1.]])
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import jit
from chainrule.backend.windows import window_slice


def sum_taps_numpy(taps, kw: int, in_shape, pads, strides, dilations):
    """dx from the tap products, taken in order from ``taps`` (an array (kh*kw, N, OH, OW, C) or an iterable), on
    any backend's arrays."""
    (top, bottom), (left, right) = pads
    n, h, w, c = in_shape
    if backend.is_array(taps):  # (the array API iterates no array: one tap at a time by index)
        taps = [taps[t, ...] for t in range(taps.shape[0])]
    dxp = None
    for t, tap in enumerate(taps):
        if dxp is None:
            dxp = backend.array_namespace(tap).zeros((n, h + top + bottom, w + left + right, c), dtype=tap.dtype)
        dxp[window_slice(tap.shape[1:3], divmod(t, kw), strides, dilations)] += tap
    return dxp[:, top:top + h, left:left + w, :]


@jit
def _sum_taps_kernel(taps, kw, top, left, sh, sw, dh, dw, dx):
    n, h, w, c = dx.shape
    oh, ow = taps.shape[2], taps.shape[3]
    kh = taps.shape[0] // kw
    for b in range(n):
        for r in range(h):
            for s in range(w):
                for ch in range(c):
                    dx[b, r, s, ch] = 0
                for i in range(kh):  # the taps in NumPy's order: the same sum, bit for bit
                    p, rest = divmod(r + top - i * dh, sh)
                    if rest != 0 or p < 0 or p >= oh:
                        continue
                    for j in range(kw):
                        q, rest = divmod(s + left - j * dw, sw)
                        if rest != 0 or q < 0 or q >= ow:
                            continue
                        t = i * kw + j
                        for ch in range(c):
                            dx[b, r, s, ch] += taps[t, b, p, q, ch]


@kernels.falls_back_to(sum_taps_numpy)
def sum_taps_numba(taps, kw: int, in_shape, pads, strides, dilations):
    """:func:`sum_taps_numpy` in one pass over dx (``taps`` a C-contiguous float32/float64 array)."""
    dx = backend.xp.empty(in_shape, dtype=taps.dtype)
    _sum_taps_kernel(taps, kw, pads[0][0], pads[1][0], strides[0], strides[1], dilations[0], dilations[1], dx)
    return dx
