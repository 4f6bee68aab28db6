"""Patch extraction (im2col) and its adjoint (col2im) on padded NHWC arrays: each NumPy function beside the numba
kernel that replaces it. The convolution ops (chainrule/ops/conv.py) multiply the patches by the kernel with BLAS.

    cols = im2col(xpad)     cols[n, p, q, i, j, c] = xpad[n, p*sh + i*dh, q*sw + j*dw, c]
    col2im(gcols) -> dxpad  dxpad[n, r, s, c] = Σ over the taps (i, j) ascending, and the positions (p, q) with
                            p*sh + i*dh = r and q*sw + j*dw = s, of gcols[n, p, q, i, j, c]

NumPy copies a strided view (im2col) or adds one tap at a time into a zeroed array (col2im), on one core. The kernels
do the same per output row on both cores: im2col copies, and col2im writes each pixel of dxpad once, summing its taps
in the NumPy version's order, so both pairs agree bit for bit (tests/oracle/test_conv_kernels.py).

>>> import numpy as np
>>> x = np.arange(9.0).reshape(1, 3, 3, 1)
>>> im2col_numpy(x, (2, 2), (1, 1), (1, 1))[0, 0, 0, :, :, 0]
array([[0., 1.],
       [3., 4.]])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.kernels import enabled, jit, prange

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def fits(a) -> bool:
    """Whether the numba kernels take this array: numba on (NumPy backend) and float32 or float64."""
    return enabled() and a.dtype in _FLOATS


def out_hw(padded_hw, k_hw, strides, dilations) -> tuple[int, int]:
    """The number of window positions along height and width of the padded input."""
    return tuple((size - (k - 1) * d - 1) // s + 1 for size, k, s, d in zip(padded_hw, k_hw, strides, dilations))


def window_slice(out_hw, offset, strides, dilations=(1, 1)):
    """The index that picks, for every output position, the input pixel at ``offset`` = (i, j) inside its window."""
    (oh, ow), (i, j), (sh, sw), (dh, dw) = out_hw, offset, strides, dilations
    return (slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw), slice(None))


# --- NumPy versions ---------------------------------------------------------------------------------------------------
def im2col_numpy(xpad, k_hw, strides, dilations):
    """(N, OH, OW, kh, kw, C) patches: a copy of a strided view (tap by tap for one channel: ~3x faster there)."""
    n, hp, wp, c = xpad.shape
    (kh, kw), (sh, sw), (dh, dw) = k_hw, strides, dilations
    oh, ow = out_hw((hp, wp), k_hw, strides, dilations)
    if c == 1:
        cols = backend.xp.empty((n, oh, ow, kh, kw, c), dtype=xpad.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, :, i, j, :] = xpad[window_slice((oh, ow), (i, j), strides, dilations)]
        return cols
    s_n, s_h, s_w, s_c = xpad.strides
    view = backend.xp.lib.stride_tricks.as_strided(
        xpad, (n, oh, ow, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    return view.copy()


def col2im_numpy(gcols, strides, dilations, dxpad):
    """Into ``dxpad`` (N, Hp, Wp, C): each tap's slice of ``gcols`` added back through that tap's window view."""
    _, oh, ow, kh, kw, _ = gcols.shape
    dxpad[...] = 0
    for i in range(kh):
        for j in range(kw):
            dxpad[window_slice((oh, ow), (i, j), strides, dilations)] += gcols[:, :, :, i, j, :]


# --- numba versions ---------------------------------------------------------------------------------------------------
@jit(parallel=True)
def _im2col_kernel(xpad, sh, sw, dh, dw, cols):
    n, oh, ow, kh, kw, c = cols.shape
    for row in prange(n * oh):
        b, p = row // oh, row % oh
        for q in range(ow):
            for i in range(kh):
                for j in range(kw):
                    for ch in range(c):
                        cols[b, p, q, i, j, ch] = xpad[b, p * sh + i * dh, q * sw + j * dw, ch]


@jit(parallel=True)
def _col2im_kernel(gcols, sh, sw, dh, dw, dxpad):
    n, oh, ow, kh, kw, c = gcols.shape
    hp, wp = dxpad.shape[1], dxpad.shape[2]
    for row in prange(n * hp):
        b, r = row // hp, row % hp
        for s in range(wp):
            for ch in range(c):
                dxpad[b, r, s, ch] = 0
            for i in range(kh):  # the taps in the NumPy version's order, so the sums agree bit for bit
                if (r - i * dh) % sh != 0:
                    continue
                p = (r - i * dh) // sh
                if p < 0 or p >= oh:
                    continue
                for j in range(kw):
                    if (s - j * dw) % sw != 0:
                        continue
                    q = (s - j * dw) // sw
                    if q < 0 or q >= ow:
                        continue
                    for ch in range(c):
                        dxpad[b, r, s, ch] += gcols[b, p, q, i, j, ch]


# --- dispatch ---------------------------------------------------------------------------------------------------------
def im2col(xpad, k_hw, strides, dilations):
    """(N, OH, OW, kh, kw, C) patches of the padded input."""
    if not fits(xpad):
        return im2col_numpy(xpad, k_hw, strides, dilations)
    oh, ow = out_hw(xpad.shape[1:3], k_hw, strides, dilations)
    cols = np.empty((xpad.shape[0], oh, ow, *k_hw, xpad.shape[3]), dtype=xpad.dtype)
    _im2col_kernel(np.ascontiguousarray(xpad), *strides, *dilations, cols)
    return cols


def col2im(gcols, strides, dilations, dxpad) -> None:
    """Into ``dxpad`` (N, Hp, Wp, C), overwritten: the patches' gradient summed back onto the padded input."""
    if fits(gcols) and dxpad.flags.c_contiguous:
        _col2im_kernel(np.ascontiguousarray(gcols), *strides, *dilations, dxpad)
    else:
        col2im_numpy(gcols, strides, dilations, dxpad)
