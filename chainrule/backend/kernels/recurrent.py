"""One time step of the fused recurrent ops (chainrule/ops/recurrent.py): the gate math between two GEMMs.

The op does the products with BLAS (the input projection of all steps at once, one recurrent product per step); a
step here turns them into the gates and the new state. Arrays are (batch, units) rows of one step.

Forward runs on NumPy's ufuncs with ``out=``, in place: its tanh is vectorized (SIMD), where numba's scalar
exp/tanh made the step several times slower; sigmoid is computed through tanh, σ(x) = (1 + tanh(x/2)) / 2, which
never overflows. Masked rows are then put back (``masked_step``). Backward has no transcendental left (the
activations are kept), so it is one numba pass per step, with a NumPy twin.

Masks follow Keras: at a masked row (``keep == 0``) the state stays, and the output repeats the previous output
(zeros with ``zero_output``). In backward a masked row passes its state gradient on unchanged, and its output
gradient to the previous output (``carry``), and gets no gate gradient.

    lstm_forward_step      z = xz + hz;  i, f, o = σ(z_i, z_f, z_o), g = tanh(z_c);  c = f c' + i g;  h = o tanh c
    gru_forward_step       z, r = σ(xz + hz + b);  hh = tanh(xz_h + r (hz_h + b_h));  h = z h' + (1 - z) hh
    simple_forward_step    h = tanh(xz + hz)

>>> import numpy as np
>>> acts = np.zeros((1, 4)); c, h, tc = np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1))
>>> lstm_forward_step(acts, np.zeros((1, 4)), np.ones((1, 1)), c, h, tc)
>>> c, acts   # c = f c' + i g = 0.5 * 1 + 0.5 * 0
(array([[0.5]]), array([[0.5, 0.5, 0. , 0.5]]))
"""
from __future__ import annotations

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


def _sigmoid_(v) -> None:
    """σ in place, through the vectorized tanh."""
    v *= 0.5
    backend.xp.tanh(v, out=v)
    v *= 0.5
    v += 0.5


def _mix_(h_out, z, h_prev, hh) -> None:
    """h = z h' + (1 - z) hh, as hh + z (h' - hh), into ``h_out``."""
    xp = backend.xp
    xp.subtract(h_prev, hh, out=h_out)
    h_out *= z
    h_out += hh


def masked_step(rows, new_h, y_out, y_prev, zero_output: bool, pairs) -> None:
    """Keras's masking of one step: ``y_out`` is the new h on kept rows and the previous output (or 0) on the
    masked ``rows``; each (new, previous) state pair in ``pairs`` gets its previous value back on those rows."""
    y_out[...] = new_h
    if len(rows):
        y_out[rows] = 0 if zero_output else y_prev[rows]
        for new, previous in pairs:
            new[rows] = previous[rows]


def _masked_state_grad(keep, gy, carry, dh, zero_output: bool):
    """The gradient reaching a step's new state (dh + gy on kept rows, 0 on masked ones); updates ``carry`` (what a
    masked row's output passes to the previous output) and returns the kept rows as a boolean column."""
    xp = backend.xp
    kept = keep[:, None] > 0
    total = gy + carry
    carry[...] = xp.where(kept, 0, 0 if zero_output else total)
    return kept, xp.where(kept, dh + total, 0)


# --- LSTM ---------------------------------------------------------------------------------------------------------
def lstm_forward_step(acts, hz, c_prev, c_out, h_out, tc_out) -> None:
    """One LSTM step before masking: ``acts`` holds x_t W + b on entry and (i, f, g, o) on exit; writes c, h, tanh c."""
    xp = backend.xp
    n = c_prev.shape[1]
    acts += hz
    _sigmoid_(acts[:, :2 * n])
    xp.tanh(acts[:, 2 * n:3 * n], out=acts[:, 2 * n:3 * n])
    _sigmoid_(acts[:, 3 * n:])
    i, f, g, o = acts[:, :n], acts[:, n:2 * n], acts[:, 2 * n:3 * n], acts[:, 3 * n:]
    xp.multiply(f, c_prev, out=c_out)
    xp.multiply(i, g, out=tc_out)
    c_out += tc_out
    xp.tanh(c_out, out=tc_out)
    xp.multiply(o, tc_out, out=h_out)


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


def lstm_backward_step(gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz, zero_output) -> None:
    """One LSTM step back: adds ``rec`` (the later step's dz Uᵀ) to ``dh``, writes the gate gradients ``dz``; leaves
    in ``dh``/``dc`` what flows to the previous state apart from ``dz Uᵀ``."""
    args = (gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz)
    (_lstm_backward_nb if _fits(*args) else lstm_backward_step_numpy)(*args, bool(zero_output))


# --- GRU (reset_after=True: the reset gate multiplies the recurrent product) ------------------------------------------
def gru_forward_step(acts, hz, rec_bias, h_prev, h_out) -> None:
    """One GRU step (reset_after) before masking: ``acts`` (batch, 4·units) holds x_t W + b_in in its first 3·units
    on entry and (z, r, hh, h U_h + b_h) on exit; ``hz`` is h U (the recurrent bias is added here)."""
    n = h_prev.shape[1]
    hz += rec_bias
    acts[:, :2 * n] += hz[:, :2 * n]
    _sigmoid_(acts[:, :2 * n])
    acts[:, 3 * n:] = hz[:, 2 * n:]
    backend.xp.multiply(acts[:, n:2 * n], hz[:, 2 * n:], out=h_out)
    hh = acts[:, 2 * n:3 * n]
    hh += h_out
    backend.xp.tanh(hh, out=hh)
    _mix_(h_out, acts[:, :n], h_prev, hh)


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


def gru_backward_step(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output) -> None:
    """One GRU step back (reset_after): writes the gradients of the input projection (``dxz``) and of the recurrent
    product (``dhz``)."""
    args = (gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz)
    (_gru_backward_nb if _fits(*args) else gru_backward_step_numpy)(*args, bool(zero_output))


# --- GRU (reset_after=False: the reset gate multiplies the state before its product), NumPy only -------------------
def gru_gates_step(acts, hzr, h_prev, rh_out) -> None:
    """First half of a reset_before GRU step: z, r from x_t W + b and h U_zr; writes r h (the candidate's input)."""
    n = h_prev.shape[1]
    acts[:, :2 * n] += hzr
    _sigmoid_(acts[:, :2 * n])
    backend.xp.multiply(acts[:, n:2 * n], h_prev, out=rh_out)


def gru_candidate_step(acts, hrec, h_prev, h_out) -> None:
    """Second half: hh = tanh(x_t W_h + b_h + (r h) U_h) and the new state (before masking)."""
    n = h_prev.shape[1]
    hh = acts[:, 2 * n:]
    hh += hrec
    backend.xp.tanh(hh, out=hh)
    _mix_(h_out, acts[:, :n], h_prev, hh)


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
def simple_forward_step(acts, hz, h_out) -> None:
    """One SimpleRNN step (tanh) before masking: ``acts`` holds x_t W + b on entry and the new h on exit."""
    acts += hz
    backend.xp.tanh(acts, out=acts)
    h_out[...] = acts


def simple_backward_step_numpy(gy, carry, dh, rec, acts, keep, dz, zero_output):
    dh += rec
    kept, dhn = _masked_state_grad(keep, gy, carry, dh, zero_output)
    dz[...] = dhn * (1 - acts * acts)
    dh *= ~kept


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


def simple_backward_step(gy, carry, dh, rec, acts, keep, dz, zero_output) -> None:
    """One SimpleRNN step back: writes the pre-activation gradient ``dz``."""
    args = (gy, carry, dh, rec, acts, keep, dz)
    (_simple_backward_nb if _fits(*args) else simple_backward_step_numpy)(*args, bool(zero_output))
