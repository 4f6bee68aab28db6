"""One time step of the fused recurrent ops (chainrule/ops/recurrent.py): the gate math between two GEMMs, forward and
backward, as numba kernels beside their NumPy versions.

The op does the products (the input projection of all steps at once, one recurrent product per step) with BLAS; a
step kernel reads the two products and the previous state and writes the gate activations, the new state and the
step's output in one pass. Arrays are (batch, units) rows of one step; ``keep`` is the step's mask as 0/1 per row.

Masked rows (``keep == 0``) follow Keras: the state stays, and the output repeats the previous output (zeros with
``zero_output``). In backward a masked row passes its state gradient on unchanged, and its output gradient to the
previous output (``carry``), and gets no gate gradient.

    lstm_forward_step      z = xz + hz;  i, f, o = σ(z_i, z_f, z_o), g = tanh(z_c);  c = f c' + i g;  h = o tanh c
    gru_forward_step       z, r = σ(xz + hz + b);  hh = tanh(xz_h + r (hz_h + b_h));  h = z h' + (1 - z) hh
    simple_forward_step    h = tanh(xz + hz)

The numba versions sum in the same order but use their own exp/tanh, so they equal the NumPy ones to rounding
(``bit_exact=False``).

>>> import numpy as np
>>> acts = np.zeros((1, 4)); h = np.zeros((1, 1)); c = np.zeros((1, 1)); y = np.zeros((1, 1)); tc = np.zeros((1, 1))
>>> lstm_forward_step(acts, np.zeros((1, 4)), np.ones((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.ones(1),
...                   c, h, y, tc, False)
>>> c, acts   # c = f c' + i g = 0.5 * 1 + 0.5 * 0
(array([[0.5]]), array([[0.5, 0.5, 0. , 0.5]]))
"""
from __future__ import annotations

import math

from chainrule import backend
from chainrule.backend.kernels import jit, runs_on


def _fits(*arrays) -> bool:
    """Whether the numba versions take these arrays: NumPy backend, numba on, one float dtype, rows contiguous."""
    first = arrays[0]
    if not runs_on(first.dtype):
        return False
    for a in arrays:
        if a.dtype != first.dtype or a.strides[-1] != a.itemsize:
            return False
    return True


def _sigmoid(x):
    """σ(x) through tanh, which never overflows (1 / (1 + e^-x) overflows e^-x for x below about -88 in float32)."""
    xp = backend.xp
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


def _masked_outputs(keep, new_h, h_prev, y_prev, h_out, y_out, zero_output: bool) -> None:
    """Keras's masking of a step: kept rows take the new state and output it, masked rows keep both."""
    xp = backend.xp
    kept = keep[:, None] > 0
    h_out[...] = xp.where(kept, new_h, h_prev)
    y_out[...] = xp.where(kept, new_h, 0 if zero_output else y_prev)


def _masked_state_grad(keep, gy, carry, dh, zero_output: bool):
    """The gradient reaching a step's new state (dh + gy on kept rows, 0 on masked ones); updates ``carry`` (what a
    masked row's output passes to the previous output) and returns the kept rows as a boolean column."""
    xp = backend.xp
    kept = keep[:, None] > 0
    total = gy + carry
    carry[...] = xp.where(kept, 0, 0 if zero_output else total)
    return kept, xp.where(kept, dh + total, 0)


# --- LSTM ---------------------------------------------------------------------------------------------------------
def lstm_forward_step_numpy(acts, hz, c_prev, h_prev, y_prev, keep, c_out, h_out, y_out, tc_out, zero_output):
    xp = backend.xp
    n = c_prev.shape[1]
    acts += hz
    acts[:, :2 * n] = _sigmoid(acts[:, :2 * n])
    acts[:, 2 * n:3 * n] = xp.tanh(acts[:, 2 * n:3 * n])
    acts[:, 3 * n:] = _sigmoid(acts[:, 3 * n:])
    i, f, g, o = acts[:, :n], acts[:, n:2 * n], acts[:, 2 * n:3 * n], acts[:, 3 * n:]
    c = f * c_prev + i * g
    tc_out[...] = xp.tanh(c)
    kept = keep[:, None] > 0
    c_out[...] = xp.where(kept, c, c_prev)
    _masked_outputs(keep, o * tc_out, h_prev, y_prev, h_out, y_out, zero_output)


def lstm_backward_step_numpy(gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz, zero_output):
    n = c_prev.shape[1]
    dh += rec
    kept, dhn = _masked_state_grad(keep, gy, carry, dh, zero_output)
    i, f, g, o = acts[:, :n], acts[:, n:2 * n], acts[:, 2 * n:3 * n], acts[:, 3 * n:]
    dcn = (dc + dhn * o * (1 - tc * tc)) * kept
    dz[:, :n] = dcn * g * i * (1 - i)
    dz[:, n:2 * n] = dcn * c_prev * f * (1 - f)
    dz[:, 2 * n:3 * n] = dcn * i * (1 - g * g)
    dz[:, 3 * n:] = dhn * tc * o * (1 - o)
    dc[...] = backend.xp.where(kept, dcn * f, dc)
    dh *= ~kept


@jit(bit_exact=False)
def _lstm_forward_nb(acts, hz, c_prev, h_prev, y_prev, keep, c_out, h_out, y_out, tc_out, zero_output):
    n = c_prev.shape[1]
    for b in range(acts.shape[0]):
        kept = keep[b] > 0
        for j in range(n):
            i = 1.0 / (1.0 + math.exp(-(acts[b, j] + hz[b, j])))
            f = 1.0 / (1.0 + math.exp(-(acts[b, n + j] + hz[b, n + j])))
            g = math.tanh(acts[b, 2 * n + j] + hz[b, 2 * n + j])
            o = 1.0 / (1.0 + math.exp(-(acts[b, 3 * n + j] + hz[b, 3 * n + j])))
            acts[b, j], acts[b, n + j], acts[b, 2 * n + j], acts[b, 3 * n + j] = i, f, g, o
            c = f * c_prev[b, j] + i * g
            tc = math.tanh(c)
            tc_out[b, j] = tc
            if kept:
                c_out[b, j] = c
                h_out[b, j] = y_out[b, j] = o * tc
            else:
                c_out[b, j] = c_prev[b, j]
                h_out[b, j] = h_prev[b, j]
                y_out[b, j] = 0.0 if zero_output else y_prev[b, j]


@jit(bit_exact=False)
def _lstm_backward_nb(gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz, zero_output):
    n = c_prev.shape[1]
    for b in range(acts.shape[0]):
        kept = keep[b] > 0
        for j in range(n):
            total = gy[b, j] + carry[b, j]
            if not kept:
                carry[b, j] = 0.0 if zero_output else total
                dh[b, j] += rec[b, j]
                dz[b, j] = dz[b, n + j] = dz[b, 2 * n + j] = dz[b, 3 * n + j] = 0.0
                continue
            carry[b, j] = 0.0
            dhn = dh[b, j] + rec[b, j] + total
            i, f, g, o = acts[b, j], acts[b, n + j], acts[b, 2 * n + j], acts[b, 3 * n + j]
            t = tc[b, j]
            dcn = dc[b, j] + dhn * o * (1 - t * t)
            dz[b, j] = dcn * g * i * (1 - i)
            dz[b, n + j] = dcn * c_prev[b, j] * f * (1 - f)
            dz[b, 2 * n + j] = dcn * i * (1 - g * g)
            dz[b, 3 * n + j] = dhn * t * o * (1 - o)
            dc[b, j] = dcn * f
            dh[b, j] = 0.0


def lstm_forward_step(acts, hz, c_prev, h_prev, y_prev, keep, c_out, h_out, y_out, tc_out, zero_output) -> None:
    """One LSTM step: ``acts`` holds x_t W + b on entry and (i, f, g, o) on exit; writes c, h, the output, tanh c."""
    args = (acts, hz, c_prev, h_prev, y_prev, keep, c_out, h_out, y_out, tc_out)
    (_lstm_forward_nb if _fits(*args) else lstm_forward_step_numpy)(*args, bool(zero_output))


def lstm_backward_step(gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz, zero_output) -> None:
    """One LSTM step back: adds ``rec`` (the later step's dz Uᵀ) to ``dh``, writes the gate gradients ``dz``; leaves
    in ``dh``/``dc`` what flows to the previous state apart from ``dz Uᵀ``."""
    args = (gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz)
    (_lstm_backward_nb if _fits(*args) else lstm_backward_step_numpy)(*args, bool(zero_output))


# --- GRU (reset_after=True: the reset gate multiplies the recurrent product) ------------------------------------------
def gru_forward_step_numpy(acts, hz, rec_bias, h_prev, y_prev, keep, h_out, y_out, zero_output):
    xp = backend.xp
    n = h_prev.shape[1]
    hz += rec_bias
    acts[:, :2 * n] = _sigmoid(acts[:, :2 * n] + hz[:, :2 * n])
    acts[:, 3 * n:] = hz[:, 2 * n:]
    acts[:, 2 * n:3 * n] = xp.tanh(acts[:, 2 * n:3 * n] + acts[:, n:2 * n] * hz[:, 2 * n:])
    z, hh = acts[:, :n], acts[:, 2 * n:3 * n]
    _masked_outputs(keep, z * h_prev + (1 - z) * hh, h_prev, y_prev, h_out, y_out, zero_output)


def gru_backward_step_numpy(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output):
    n = h_prev.shape[1]
    dh += rec
    kept, dhn = _masked_state_grad(keep, gy, carry, dh, zero_output)
    z, r, hh, hrec = acts[:, :n], acts[:, n:2 * n], acts[:, 2 * n:3 * n], acts[:, 3 * n:]
    da = dhn * (1 - z) * (1 - hh * hh)
    dxz[:, :n] = dhz[:, :n] = dhn * (h_prev - hh) * z * (1 - z)
    dxz[:, n:2 * n] = dhz[:, n:2 * n] = da * hrec * r * (1 - r)
    dxz[:, 2 * n:] = da
    dhz[:, 2 * n:] = da * r
    dh[...] = backend.xp.where(kept, dhn * z, dh)


@jit(bit_exact=False)
def _gru_forward_nb(acts, hz, rec_bias, h_prev, y_prev, keep, h_out, y_out, zero_output):
    n = h_prev.shape[1]
    for b in range(acts.shape[0]):
        kept = keep[b] > 0
        for j in range(n):
            z = 1.0 / (1.0 + math.exp(-(acts[b, j] + hz[b, j] + rec_bias[j])))
            r = 1.0 / (1.0 + math.exp(-(acts[b, n + j] + hz[b, n + j] + rec_bias[n + j])))
            hrec = hz[b, 2 * n + j] + rec_bias[2 * n + j]
            hh = math.tanh(acts[b, 2 * n + j] + r * hrec)
            acts[b, j], acts[b, n + j], acts[b, 2 * n + j], acts[b, 3 * n + j] = z, r, hh, hrec
            if kept:
                h_out[b, j] = y_out[b, j] = z * h_prev[b, j] + (1 - z) * hh
            else:
                h_out[b, j] = h_prev[b, j]
                y_out[b, j] = 0.0 if zero_output else y_prev[b, j]


@jit(bit_exact=False)
def _gru_backward_nb(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output):
    n = h_prev.shape[1]
    for b in range(acts.shape[0]):
        kept = keep[b] > 0
        for j in range(n):
            total = gy[b, j] + carry[b, j]
            if not kept:
                carry[b, j] = 0.0 if zero_output else total
                dh[b, j] += rec[b, j]
                dxz[b, j] = dxz[b, n + j] = dxz[b, 2 * n + j] = 0.0
                dhz[b, j] = dhz[b, n + j] = dhz[b, 2 * n + j] = 0.0
                continue
            carry[b, j] = 0.0
            dhn = dh[b, j] + rec[b, j] + total
            z, r, hh, hrec = acts[b, j], acts[b, n + j], acts[b, 2 * n + j], acts[b, 3 * n + j]
            da = dhn * (1 - z) * (1 - hh * hh)
            dzz = dhn * (h_prev[b, j] - hh) * z * (1 - z)
            dr = da * hrec * r * (1 - r)
            dxz[b, j] = dhz[b, j] = dzz
            dxz[b, n + j] = dhz[b, n + j] = dr
            dxz[b, 2 * n + j] = da
            dhz[b, 2 * n + j] = da * r
            dh[b, j] = dhn * z


def gru_forward_step(acts, hz, rec_bias, h_prev, y_prev, keep, h_out, y_out, zero_output) -> None:
    """One GRU step (reset_after): ``acts`` holds x_t W + b_in on entry and (z, r, hh, h U_h + b_h) on exit; ``hz``
    is h U (the recurrent bias is added here)."""
    args = (acts, hz, rec_bias, h_prev, y_prev, keep, h_out, y_out)
    (_gru_forward_nb if _fits(*args) else gru_forward_step_numpy)(*args, bool(zero_output))


def gru_backward_step(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output) -> None:
    """One GRU step back (reset_after): writes the gradients of the input projection (``dxz``) and of the recurrent
    product (``dhz``)."""
    args = (gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz)
    (_gru_backward_nb if _fits(*args) else gru_backward_step_numpy)(*args, bool(zero_output))


# --- GRU (reset_after=False: the reset gate multiplies the state before its product), NumPy only -------------------
def gru_gates_step(acts, hzr, h_prev, rh_out) -> None:
    """First half of a reset_before GRU step: z, r from x_t W + b and h U_zr; writes r h (the candidate's input)."""
    n = h_prev.shape[1]
    acts[:, :2 * n] = _sigmoid(acts[:, :2 * n] + hzr)
    rh_out[...] = acts[:, n:2 * n] * h_prev


def gru_candidate_step(acts, hrec, h_prev, y_prev, keep, h_out, y_out, zero_output) -> None:
    """Second half: hh = tanh(x_t W_h + b_h + (r h) U_h) and the new state."""
    n = h_prev.shape[1]
    acts[:, 2 * n:] = backend.xp.tanh(acts[:, 2 * n:] + hrec)
    z, hh = acts[:, :n], acts[:, 2 * n:]
    _masked_outputs(keep, z * h_prev + (1 - z) * hh, h_prev, y_prev, h_out, y_out, zero_output)


def gru_candidate_backward_step(gy, carry, dh, rec, acts, h_prev, keep, dz, zero_output):
    """Back through the new state and the candidate: writes dz (z and candidate parts); returns the kept rows and the
    state gradient reaching the new state."""
    n = h_prev.shape[1]
    dh += rec
    kept, dhn = _masked_state_grad(keep, gy, carry, dh, zero_output)
    z, hh = acts[:, :n], acts[:, 2 * n:]
    dz[:, :n] = dhn * (h_prev - hh) * z * (1 - z)
    dz[:, 2 * n:] = dhn * (1 - z) * (1 - hh * hh)
    return kept, dhn


def gru_reset_backward_step(drh, dhn, kept, acts, h_prev, dh, dz) -> None:
    """Back through r h: the reset gate's gradient into dz, and what reaches h' directly (z and r h) into dh."""
    n = h_prev.shape[1]
    r, z = acts[:, n:2 * n], acts[:, :n]
    dz[:, n:2 * n] = drh * h_prev * r * (1 - r)
    dh[...] = backend.xp.where(kept, dhn * z + drh * r, dh)


# --- SimpleRNN ----------------------------------------------------------------------------------------------------
def simple_forward_step_numpy(acts, hz, h_prev, y_prev, keep, h_out, y_out, zero_output):
    acts += hz
    acts[...] = backend.xp.tanh(acts)
    _masked_outputs(keep, acts, h_prev, y_prev, h_out, y_out, zero_output)


def simple_backward_step_numpy(gy, carry, dh, rec, acts, keep, dz, zero_output):
    dh += rec
    kept, dhn = _masked_state_grad(keep, gy, carry, dh, zero_output)
    dz[...] = dhn * (1 - acts * acts)
    dh *= ~kept


@jit(bit_exact=False)
def _simple_forward_nb(acts, hz, h_prev, y_prev, keep, h_out, y_out, zero_output):
    for b in range(acts.shape[0]):
        kept = keep[b] > 0
        for j in range(acts.shape[1]):
            h = math.tanh(acts[b, j] + hz[b, j])
            acts[b, j] = h
            if kept:
                h_out[b, j] = y_out[b, j] = h
            else:
                h_out[b, j] = h_prev[b, j]
                y_out[b, j] = 0.0 if zero_output else y_prev[b, j]


@jit(bit_exact=False)
def _simple_backward_nb(gy, carry, dh, rec, acts, keep, dz, zero_output):
    for b in range(acts.shape[0]):
        kept = keep[b] > 0
        for j in range(acts.shape[1]):
            total = gy[b, j] + carry[b, j]
            if not kept:
                carry[b, j] = 0.0 if zero_output else total
                dh[b, j] += rec[b, j]
                dz[b, j] = 0.0
                continue
            carry[b, j] = 0.0
            h = acts[b, j]
            dz[b, j] = (dh[b, j] + rec[b, j] + total) * (1 - h * h)
            dh[b, j] = 0.0


def simple_forward_step(acts, hz, h_prev, y_prev, keep, h_out, y_out, zero_output) -> None:
    """One SimpleRNN step (tanh): ``acts`` holds x_t W + b on entry and the new h (before masking) on exit."""
    args = (acts, hz, h_prev, y_prev, keep, h_out, y_out)
    (_simple_forward_nb if _fits(*args) else simple_forward_step_numpy)(*args, bool(zero_output))


def simple_backward_step(gy, carry, dh, rec, acts, keep, dz, zero_output) -> None:
    """One SimpleRNN step back: writes the pre-activation gradient ``dz``."""
    args = (gy, carry, dh, rec, acts, keep, dz)
    (_simple_backward_nb if _fits(*args) else simple_backward_step_numpy)(*args, bool(zero_output))
