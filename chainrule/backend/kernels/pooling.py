"""Max pooling on NHWC arrays: each NumPy function next to the numba kernel of the same signature that replaces it.

The forward pass returns the pooled values and, for every output, its window's *argmax*: the row-major index
k = i * kw + j of the window's FIRST maximum (PyTorch's tie rule), counted in the padded window. That one small
integer array is all the backward passes need:

    y, argmax = max_pool(x)     y[n, p, q, c] = xpad[n, p*sh + i, q*sw + j, c]   where i, j = divmod(argmax, kw)
    dx = max_pool_scatter(g)    dx[pixel] = sum of g * (argmax == k) over the windows holding the pixel as tap k
    y = max_pool_gather(u)      y[window] = upad at the window's first maximum (0 where that is padding)

Both find argmax the same way: a running maximum over the taps, where a tap strictly greater than the maximum so far
takes over. So a window holding NaN gives NaN, and its argmax stays where it was when the first NaN came. Padding is
-inf and never takes over: a window whose pixels are all -inf keeps argmax 0, and drops its gradient if that is padding.
Scatter multiplies, g * (argmax == k), like the masks it replaced: an infinite g leaves NaN on the other pixels of
its window. The two paths do the same arithmetic in the same order and agree bit for bit, except where np.maximum
leaves a choice (the sign of a zero maximum, a NaN's payload); tests/oracle/test_pool_kernels.py holds them to it.
The kernels run on the NumPy backend; the NumPy functions also serve CuPy.
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import jit, prange
from chainrule.backend.kernels.activation import device_kernel
from chainrule.backend.windows import pad_hw, window_slice


# Below this many elements (of the input or its gradient) a kernel runs on the calling thread alone: with another
# process busy a parallel loop waits for its slower thread, so only large arrays go parallel (docs/performance.md).
PARALLEL_MIN_ELEMENTS = 1 << 20


def _launch(kernel, elements, *args):
    """Run a kernel on the calling thread, or its threaded twin on a large array (compiled only if a run has one)."""
    if elements >= PARALLEL_MIN_ELEMENTS and hasattr(kernel, "parallel"):
        return kernel.parallel(*args)
    return kernel(*args)


def argmax_dtype(taps: int):
    """uint8 holds the tap index of windows up to 16x16; larger windows (global pooling) need more."""
    return np.uint8 if taps <= 256 else np.int32


def window_taps(pool, strides, out_hw):
    """The index of every window tap (i, j), in row-major window order."""
    return [window_slice(out_hw, (i, j), strides) for i in range(pool[0]) for j in range(pool[1])]


def overlapping(pool, strides) -> bool:
    """Whether a pixel can lie in more than one window (then gradients add up)."""
    return strides[0] < pool[0] or strides[1] < pool[1]


def add_to_taps(values_per_tap, dtype, in_shape, pool, strides, pads, out_hw):
    """An input-shaped array: the sum over taps k of values_per_tap(k) written through tap k's view of the padding.

    Without overlap each pixel is written once (no sum, no zero-fill where the windows tile the padded input).
    """
    n, h, w, c = in_shape
    (top, bottom), (left, right) = pads
    padded_hw = (h + top + bottom, w + left + right)
    accumulate = overlapping(pool, strides)
    tiled = tuple(pool) == tuple(strides) and all(o * s == size for o, s, size in zip(out_hw, strides, padded_hw))
    xpad = (backend.xp.empty if tiled else backend.xp.zeros)((n, *padded_hw, c), dtype=dtype)
    for k, tap in enumerate(window_taps(pool, strides, out_hw)):
        if accumulate:
            xpad[tap] += values_per_tap(k)
        else:
            xpad[tap] = values_per_tap(k)
    return xpad[:, top:top + h, left:left + w, :]


# --- forward: y and argmax --------------------------------------------------------------------------------------------
def max_pool_numpy(x, pool, strides, pads, out_hw):
    """(y, argmax): a running maximum over the taps; a tap strictly greater than the maximum so far moves argmax."""
    xp = backend.xp
    xpad = pad_hw(x, pads, -math.inf)
    taps = [xpad[tap] for tap in window_taps(pool, strides, out_hw)]
    y = xp.empty(taps[0].shape, dtype=x.dtype)
    argmax = xp.empty(y.shape, dtype=argmax_dtype(len(taps)))
    _running_max(taps, y, argmax)
    return y, argmax


def _running_max(taps, y, argmax) -> None:
    """y, argmax (in place) = the maximum over the taps and the index of the first tap that holds it."""
    owner = backend.extras_for(y)
    if not owner.takes_out:  # the same steps with new arrays, written at the end (the array API has no out=)
        xp = owner.xp
        best, index = taps[0], xp.zeros(y.shape, dtype=argmax.dtype)
        for k, tap in enumerate(taps[1:], start=1):
            index = xp.where(tap > best, xp.asarray(k, dtype=argmax.dtype), index)
            best = xp.maximum(best, tap)
        y[...], argmax[...] = best, index
        return
    xp = owner.xp
    y[...] = taps[0]
    argmax[...] = 0
    later = xp.empty(y.shape, dtype=bool)
    step = xp.empty_like(argmax)
    for k, tap in enumerate(taps[1:], start=1):
        xp.greater(tap, y, out=later)
        xp.maximum(y, tap, out=y)
        # argmax = k where later: k exceeds every earlier index, so a maximum does it without a (slow) masked copy
        xp.multiply(later, argmax.dtype.type(k), out=step)
        xp.maximum(argmax, step, out=argmax)


@jit(parallel=True)
def _max_pool_kernel(x, kh, kw, sh, sw, top, left, y, argmax):
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for row in prange(n * oh):  # one output row each: no two threads write the same output
        b, p = row // oh, row % oh
        for q in range(ow):
            for ch in range(c):
                y[b, p, q, ch] = -np.inf
                argmax[b, p, q, ch] = 0
            for i in range(kh):
                r = p * sh + i - top
                if r < 0 or r >= h:
                    continue  # a padding row: -inf changes nothing after tap 0
                for j in range(kw):
                    s = q * sw + j - left
                    if s < 0 or s >= w:
                        continue
                    k = i * kw + j
                    for ch in range(c):  # the NumPy steps, element by element (written so that they vectorize)
                        v, m = x[b, r, s, ch], y[b, p, q, ch]
                        argmax[b, p, q, ch] = max(argmax[b, p, q, ch], (v > m) * k)
                        y[b, p, q, ch] = np.maximum(m, v)


@jit(parallel=True)
def _max_pool_2x2_kernel(x, sh, sw, y, argmax):
    # the 2x2 window without padding (nearly every CNN's pool): its 4 taps in registers, faster than the loop above
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for row in prange(n * oh):
        b, p = row // oh, row % oh
        r = p * sh
        for q in range(ow):
            s = q * sw
            for ch in range(c):
                x1, x2, x3 = x[b, r, s + 1, ch], x[b, r + 1, s, ch], x[b, r + 1, s + 1, ch]
                m = x[b, r, s, ch]
                k = (x1 > m) * 1
                m = np.maximum(m, x1)
                k = max(k, (x2 > m) * 2)
                m = np.maximum(m, x2)
                k = max(k, (x3 > m) * 3)
                y[b, p, q, ch] = np.maximum(m, x3)
                argmax[b, p, q, ch] = k


@kernels.falls_back_to(max_pool_numpy)
def max_pool_numba(x, pool, strides, pads, out_hw):
    """max_pool_numpy in one pass over x (threaded over output rows for a large x)."""
    x = np.ascontiguousarray(x)
    y = np.empty((x.shape[0], *out_hw, x.shape[3]), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=argmax_dtype(pool[0] * pool[1]))
    if tuple(pool) == (2, 2) and pads == ((0, 0), (0, 0)):
        _launch(_max_pool_2x2_kernel, x.size, x, strides[0], strides[1], y, argmax)
    else:
        _launch(_max_pool_kernel, x.size, x, pool[0], pool[1], strides[0], strides[1], pads[0][0], pads[1][0], y,
                argmax)
    return y, argmax


# --- backward: scatter g to the first maxima --------------------------------------------------------------------------
def max_pool_scatter_numpy(g, argmax, in_shape, pool, strides, pads):
    """dx: g written (added, where windows overlap) to each window's first maximum, zeros elsewhere."""
    owner = backend.extras_for(g)
    return add_to_taps(lambda k: owner.as_numeric(argmax == k, g.dtype) * g, g.dtype, in_shape, pool, strides, pads,
                       g.shape[1:3])


@jit(parallel=True)
def _scatter_tiles_kernel(g, argmax, kh, kw, sh, sw, top, left, dx):
    # windows that do not overlap: each pixel of dx is written once, g * (argmax == k) or 0 (in no window)
    n, h, w, c = dx.shape
    oh, ow = g.shape[1], g.shape[2]
    for row in prange(n * h):  # one input row each
        b, r = row // h, row % h
        p, i = divmod(r + top, sh)
        if i >= kh or p >= oh:  # between windows (stride > pool) or below the last one
            for s in range(w):
                for ch in range(c):
                    dx[b, r, s, ch] = 0
            continue
        for q in range(ow):
            for j in range(sw):  # the window's columns, then the gap to the next window
                s = q * sw + j - left
                if s < 0 or s >= w:
                    continue
                if j >= kw:
                    for ch in range(c):
                        dx[b, r, s, ch] = 0
                else:
                    k = i * kw + j
                    for ch in range(c):
                        dx[b, r, s, ch] = g[b, p, q, ch] * (argmax[b, p, q, ch] == k)
        for s in range(max(ow * sw - left, 0), w):  # right of the last window
            for ch in range(c):
                dx[b, r, s, ch] = 0


@jit(parallel=True)
def _scatter_overlapping_kernel(g, argmax, kh, kw, sh, sw, top, left, dx):
    # dx[pixel] = 0 + the windows holding it, in the NumPy version's order (tap k ascending): the same sum, bit for bit
    n, h, w, c = dx.shape
    oh, ow = g.shape[1], g.shape[2]
    for row in prange(n * h):  # one input row each: every pixel is summed by one thread, no races
        b, r = row // h, row % h
        for s in range(w):
            for ch in range(c):
                dx[b, r, s, ch] = 0
            for i in range((r + top) % sh, kh, sh):  # the taps i that put some window's row i on r
                p = (r + top - i) // sh
                if p < 0 or p >= oh:
                    continue
                for j in range((s + left) % sw, kw, sw):
                    q = (s + left - j) // sw
                    if q < 0 or q >= ow:
                        continue
                    k = i * kw + j
                    for ch in range(c):
                        dx[b, r, s, ch] += g[b, p, q, ch] * (argmax[b, p, q, ch] == k)


@kernels.falls_back_to(max_pool_scatter_numpy)
def max_pool_scatter_numba(g, argmax, in_shape, pool, strides, pads):
    """max_pool_scatter_numpy in one pass over dx (threaded over input rows for a large dx)."""
    dx = np.empty(in_shape, dtype=g.dtype)
    kernel = _scatter_overlapping_kernel if overlapping(pool, strides) else _scatter_tiles_kernel
    _launch(kernel, dx.size, np.ascontiguousarray(g), np.ascontiguousarray(argmax), pool[0], pool[1], strides[0],
            strides[1], pads[0][0], pads[1][0], dx)
    return dx


# --- second order: gather u at the first maxima -----------------------------------------------------------------------
def max_pool_gather_numpy(u, argmax, pool, strides, pads):
    """y[window] = u at the window's first maximum (0 in the padding)."""
    upad = pad_hw(u, pads)
    xp = backend.array_namespace(u)
    taps = xp.stack([upad[tap] for tap in window_taps(pool, strides, argmax.shape[1:3])])
    return xp.take_along_axis(taps, xp.astype(argmax[None, ...], np.int64), axis=0)[0, ...]


@jit(parallel=True)
def _max_pool_gather_kernel(u, argmax, kw, sh, sw, top, left, y):
    n, h, w, c = u.shape
    oh, ow = y.shape[1], y.shape[2]
    for row in prange(n * oh):
        b, p = row // oh, row % oh
        for q in range(ow):
            for ch in range(c):
                i, j = divmod(argmax[b, p, q, ch], kw)
                r, s = p * sh + i - top, q * sw + j - left
                y[b, p, q, ch] = u[b, r, s, ch] if 0 <= r < h and 0 <= s < w else 0


@kernels.falls_back_to(max_pool_gather_numpy)
def max_pool_gather_numba(u, argmax, pool, strides, pads):
    """max_pool_gather_numpy without the stacked copy of u's taps."""
    y = np.empty((u.shape[0], *argmax.shape[1:3], u.shape[3]), dtype=u.dtype)
    _launch(_max_pool_gather_kernel, u.size, np.ascontiguousarray(u), np.ascontiguousarray(argmax), pool[1],
            strides[0], strides[1], pads[0][0], pads[1][0], y)
    return y


# --- window-major pooling: the conv + pool node's layout ------------------------------------------------------------
# There the conv output comes as blocks z (T, m, C): block t holds, for each of m windows, its pixel at tap t (taps in
# row-major window order), so pooling compares whole blocks and its gradient fills whole blocks: no strided access.
#
#     y, argmax = tap_max(z)        y[r, c] = max_t z[t, r, c],  argmax = the first t that holds it (as max_pool)
#     gz = tap_spread(g, argmax)    gz[t, r, c] = g[r, c] * (argmax[r, c] == t)           (as max_pool_scatter)
#
# The kernels run on the calling thread, like the bias + relu kernels between the same BLAS products (activation.py).
def tap_max_numpy(z, y, argmax) -> None:
    """In place: y, argmax (m, C) = the maximum over z's blocks (T, m, C) and its first block index."""
    _running_max([z[t, ...] for t in range(z.shape[0])], y, argmax)


@jit
def _tap_max_kernel(z, y, argmax):
    taps, m = z.shape
    for e in range(m):
        y[e] = z[0, e]
        argmax[e] = 0
    for k in range(1, taps):  # the NumPy steps, one block at a time
        for e in range(m):
            v, best = z[k, e], y[e]
            argmax[e] = max(argmax[e], (v > best) * k)
            y[e] = np.maximum(best, v)


@jit
def _tap_max_4_kernel(z, y, argmax):
    # the 2x2 window: its 4 taps in registers, one pass (faster than the block-by-block loop above)
    for e in range(y.size):
        best, x1, x2, x3 = z[0, e], z[1, e], z[2, e], z[3, e]
        k = (x1 > best) * 1
        best = np.maximum(best, x1)
        k = max(k, (x2 > best) * 2)
        best = np.maximum(best, x2)
        k = max(k, (x3 > best) * 3)
        y[e] = np.maximum(best, x3)
        argmax[e] = k


def tap_spread_numpy(g, argmax, out) -> None:
    """In place: out[t] = g * (argmax == t) for every block t of out (T, m, C)."""
    owner = backend.extras_for(g)
    for t in range(out.shape[0]):
        if owner.takes_out:
            owner.xp.multiply(argmax == t, g, out=out[t])
        else:
            out[t, ...] = owner.as_numeric(argmax == t, g.dtype) * g


@jit
def _tap_spread_kernel(g, argmax, out):
    taps, m = out.shape
    for t in range(taps):
        for e in range(m):
            out[t, e] = g[e] * (argmax[e] == t)


@jit
def _tap_spread_4_kernel(g, argmax, out):
    # the 2x2 window: g and argmax read once for the 4 blocks (faster than block by block)
    for e in range(g.size):
        v, k = g[e], argmax[e]
        out[0, e] = v * (k == 0)
        out[1, e] = v * (k == 1)
        out[2, e] = v * (k == 2)
        out[3, e] = v * (k == 3)


def _flat_blocks(blocks, *per_window):
    """Views (T, m) of the blocks and (m,) of the per-window arrays: reshaped here, as a kernel that reshapes takes
    longer to compile (docs/performance.md, "Kernel compilation")."""
    m = per_window[0].size
    return (blocks.reshape(blocks.shape[0], m), *(a.reshape(m) for a in per_window))


def _kernels_take(*arrays) -> bool:
    """Whether the numba kernels run on these arrays: numba on, float32 / float64 data, all C-contiguous."""
    return kernels.runs_on(arrays[0].dtype) and all(a.flags.c_contiguous for a in arrays)


@kernels.falls_back_to(tap_max_numpy)
def tap_max(z, y, argmax) -> None:
    """:func:`tap_max_numpy`, in one pass with numba where it runs."""
    if not _kernels_take(z, y, argmax):
        fused = device_kernel("tap_max", z)
        return tap_max_numpy(z, y, argmax) if fused is None else fused(z, y, argmax)
    z, y, argmax = _flat_blocks(z, y, argmax)
    (_tap_max_4_kernel if z.shape[0] == 4 else _tap_max_kernel)(z, y, argmax)


@kernels.falls_back_to(tap_spread_numpy)
def tap_spread(g, argmax, out) -> None:
    """:func:`tap_spread_numpy`, in one pass with numba where it runs."""
    if not _kernels_take(g, argmax, out):
        fused = device_kernel("tap_spread", g)
        return tap_spread_numpy(g, argmax, out) if fused is None else fused(g, argmax, out)
    out, g, argmax = _flat_blocks(out, g, argmax)
    (_tap_spread_4_kernel if out.shape[0] == 4 else _tap_spread_kernel)(g, argmax, out)
