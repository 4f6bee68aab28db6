"""The steps of the fused recurrent ops (chainrule/ops/recurrent.py): the gate math between two GEMMs.

Per step (``*_step``): the op does the products with BLAS (the input projection of all steps at once, one recurrent
product per step); a step here adds the biases, turns the products into the gates and the new state. Arrays are
(batch, units) rows of one step; each function takes any contiguous part of the batch's rows (the op runs parts in
threads). Whole loops (``lstm_*_steps``, ``gru_*_steps``, float32 where ``whole_loops`` says so): one kernel call
runs every step of a part of the rows, each step's products by NumPy's BLAS from inside the kernel
(``backend/kernels/blas.py``) and the same gate math (the row helpers both paths inline), so no Python runs and the
GIL is not taken between steps.

Forward, float32: one numba pass per step, with tanh as a rational function (``_tanh32``) that vectorizes, and
σ(x) = (1 + tanh(x/2)) / 2, which never overflows. Float64, or without numba: NumPy's ufuncs in place (their tanh is
exact, which the float64 gradient checks need). Masked rows are then put back (``masked_step``). Backward has no
transcendental left (the activations are kept), so it is one numba pass per step for both dtypes, with a NumPy twin.
Every numba kernel here releases the GIL.

Masks follow Keras: at a masked row (``keep == 0``) the state stays, and the output repeats the previous output
(zeros with ``zero_output``). In backward a masked row passes its state gradient on unchanged, and its output
gradient to the previous output (``carry``), and gets no gate gradient.

    lstm_forward_step      z = xz + hz + b;  i, f, o = σ(z_i, z_f, z_o), g = tanh(z_c);  c = f c' + i g;  h = o tanh c
    gru_forward_step       z, r = σ(xz + b + hz + b');  hh = tanh(xz_h + b_h + r (hz_h + b'_h));  h = z h' + (1 - z) hh
    simple_forward_step    h = tanh(xz + hz + b)

>>> import numpy as np
>>> acts = np.zeros((1, 4)); c, h, tc = np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1))
>>> lstm_forward_step(acts, np.zeros((1, 4)), np.zeros(4), np.ones((1, 1)), c, h, tc)
>>> c, acts   # c = f c' + i g = 0.5 * 1 + 0.5 * 0
(array([[0.5]]), array([[0.5, 0.5, 0. , 0.5]]))
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import blas, falls_back_to, jit, numba, runs_on


def _fits(*arrays) -> bool:
    """Whether the numba versions take these arrays: NumPy backend, numba on, one float dtype, rows contiguous."""
    first = arrays[0]
    if not runs_on(first.dtype):
        return False
    for a in arrays:
        if a.dtype != first.dtype or a.strides[-1] != a.itemsize:
            return False
    return True


def _fits32(*arrays) -> bool:
    """Whether the float32 forward kernels take these arrays (float64 keeps NumPy's tanh: its gradient checks need the
    exact function, where the float32 kernels use a rational approximation within float32 rounding)."""
    return arrays[0].dtype == np.float32 and _fits(*arrays)


def _inline(f):
    """A scalar helper that numba inlines into the kernels calling it (so their loops vectorize); plain Python without
    numba."""
    return f if numba is None else numba.njit(inline="always")(f)


# tanh on float32 as Eigen's and XLA's rational function p(x)/q(x) of x clamped to ±7.905 (where float32's tanh is
# ±1): within 3.3e-7 of tanh, and only multiplies, adds and one divide, so numba's loops over it vectorize (AVX), where
# libm's scalar tanhf keeps them scalar and several times slower than NumPy's SIMD ufunc.
_F32 = np.float32
_CLAMP = _F32(7.90531110763549805)
_P13, _P11, _P9, _P7 = _F32(-2.76076847742355e-16), _F32(2.00018790482477e-13), _F32(-8.60467152213735e-11), \
    _F32(5.12229709037114e-08)
_P5, _P3, _P1 = _F32(1.48572235717979e-05), _F32(6.37261928875436e-04), _F32(4.89352455891786e-03)
_Q6, _Q4, _Q2, _Q0 = _F32(1.19825839466702e-06), _F32(1.18534705686654e-04), _F32(2.26843463243900e-03), \
    _F32(4.89352518554385e-03)
_HALF = _F32(0.5)


@_inline
def _tanh32(x):
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = ((((((_P13 * x2 + _P11) * x2 + _P9) * x2 + _P7) * x2 + _P5) * x2 + _P3) * x2 + _P1) * x
    return p / (((_Q6 * x2 + _Q4) * x2 + _Q2) * x2 + _Q0)


@_inline
def _sigmoid32(x):
    """σ(x) = (1 + tanh(x/2)) / 2."""
    return _HALF + _HALF * _tanh32(_HALF * x)


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


@_inline
def _masked_outputs(t, hs, out, keep, zero_output, lo, hi):
    """Step t's outputs into ``out`` (batch, time + ..., units), with masked_step's rule for a masked row: its state
    stays, its output repeats the previous one (or is 0)."""
    for b in range(lo, hi):
        if keep[t, b] > 0:
            out[b, t] = hs[t + 1, b]
        else:
            hs[t + 1, b] = hs[t, b]
            if zero_output or t == 0:
                out[b, t] = 0.0
            else:
                out[b, t] = out[b, t - 1]


@_inline
def _step_outputs(t, hs, out, keep, zero_output, sequences, lo, hi):
    """Step t's outputs into ``out`` as ``_masked_outputs`` does, or, without ``sequences`` (the op packs no
    outputs), only a masked row's state kept."""
    if sequences:
        _masked_outputs(t, hs, out, keep, zero_output, lo, hi)
        return
    for b in range(lo, hi):
        if keep[t, b] <= 0:
            hs[t + 1, b] = hs[t, b]


def _masked_state_grad(keep, gy, carry, dh, zero_output: bool):
    """The gradient reaching a step's new state (dh + gy on kept rows, 0 on masked ones); updates ``carry`` (what a
    masked row's output passes to the previous output) and returns the kept rows as a boolean column."""
    xp = backend.xp
    kept = keep[:, None] > 0
    total = gy + carry
    carry[...] = xp.where(kept, 0, 0 if zero_output else total)
    return kept, xp.where(kept, dh + total, 0)


# --- LSTM ---------------------------------------------------------------------------------------------------------
def lstm_forward_step_numpy(acts, hz, bias, c_prev, c_out, h_out, tc_out) -> None:
    xp = backend.xp
    n = c_prev.shape[1]
    acts += hz
    acts += bias
    _sigmoid_(acts[:, :2 * n])
    xp.tanh(acts[:, 2 * n:3 * n], out=acts[:, 2 * n:3 * n])
    _sigmoid_(acts[:, 3 * n:])
    i, f, g, o = acts[:, :n], acts[:, n:2 * n], acts[:, 2 * n:3 * n], acts[:, 3 * n:]
    xp.multiply(f, c_prev, out=c_out)
    xp.multiply(i, g, out=tc_out)
    c_out += tc_out
    xp.tanh(c_out, out=tc_out)
    xp.multiply(o, tc_out, out=h_out)


@_inline
def _lstm_cell_row(a, c_prev, c_out, h_out, tc_out):
    """One row's gates from its pre-activations ``a`` (i, f, g, o; overwritten by the gates), and its new state."""
    # each loop runs from 0 over a row's contiguous slices: numba vectorizes those, not loops with offset indices
    n = c_prev.shape[0]
    i_f, g, o = a[:2 * n], a[2 * n:3 * n], a[3 * n:]
    for j in range(2 * n):
        i_f[j] = _sigmoid32(i_f[j])
    for j in range(n):
        g[j] = _tanh32(g[j])
    for j in range(n):
        o[j] = _sigmoid32(o[j])
    i, f = i_f[:n], i_f[n:]
    for j in range(n):
        c = f[j] * c_prev[j] + i[j] * g[j]
        c_out[j] = c
        t = _tanh32(c)
        tc_out[j] = t
        h_out[j] = o[j] * t


@_inline
def _lstm_forward_rows(acts, hz, bias, c_prev, c_out, h_out, tc_out):
    for b in range(acts.shape[0]):
        a, z = acts[b], hz[b]
        for j in range(a.shape[0]):
            a[j] = a[j] + z[j] + bias[j]
        _lstm_cell_row(a, c_prev[b], c_out[b], h_out[b], tc_out[b])


@jit(bit_exact=False, error_model="numpy", nogil=True)
def _lstm_forward_nb(acts, hz, bias, c_prev, c_out, h_out, tc_out):
    _lstm_forward_rows(acts, hz, bias, c_prev, c_out, h_out, tc_out)


@jit(bit_exact=False, error_model="numpy", nogil=True)
def _lstm_forward_steps_nb(gemm_address, x, acts, weights, hs, cs, tcs, operands, out, keep, zero_output, folded,
                           go_backwards, sequences, lo, hi):
    steps, n, features = acts.shape[0], hs.shape[2], x.shape[2]
    for b in range(lo, hi):
        operands[0, b, features:features + n] = hs[0, b]
    for t in range(steps):
        for b in range(lo, hi):  # [x_t, ·, 1]: the step's input, in the order the steps run
            row = operands[t, b]
            row[:features] = x[b, steps - 1 - t if go_backwards else t]
            row[features + n] = 1.0
        if folded:  # z_t = [x_t, h_{t-1}, 1] [W; U; b]: projection, recurrent product and bias in one product
            blas.gemm(gemm_address, operands[t, lo:hi], weights, acts[t, lo:hi], 0.0)
        else:  # z_t = (x_t W + b, there already) + h_{t-1} U
            blas.gemm(gemm_address, hs[t, lo:hi], weights, acts[t, lo:hi], 1.0)
        for b in range(lo, hi):
            _lstm_cell_row(acts[t, b], cs[t, b], cs[t + 1, b], hs[t + 1, b], tcs[t, b])
            if keep[t, b] <= 0:  # a masked step keeps its cell state too
                cs[t + 1, b] = cs[t, b]
        _step_outputs(t, hs, out, keep, zero_output, sequences, lo, hi)
        if t + 1 < steps:
            for b in range(lo, hi):
                operands[t + 1, b, features:features + n] = hs[t + 1, b]
    last = out.shape[1] - 2
    for b in range(lo, hi):  # the final states after the outputs
        out[b, last] = hs[steps, b]
        out[b, last + 1] = cs[steps, b]


@jit(nogil=True)
def _transpose_nb(a, out):
    rows, columns = a.shape
    for i0 in range(0, rows, 16):  # 16 x 16 tiles: each tile's reads and writes stay in a few cache lines
        for j0 in range(0, columns, 16):
            for i in range(i0, min(i0 + 16, rows)):
                for j in range(j0, min(j0 + 16, columns)):
                    out[j, i] = a[i, j]


def transposed_numpy(a):
    return backend.xp.ascontiguousarray(a.T)


@falls_back_to(transposed_numpy)
def transposed(a):
    """A C-contiguous copy of the matrix ``a``ᵀ (the backward's Uᵀ): in 16 x 16 tiles where the kernels take ``a``
    (faster than NumPy's strided copy), else the namespace's copy."""
    if not (_fits(a) and a.flags.c_contiguous):
        return transposed_numpy(a)
    out = np.empty(a.shape[::-1], a.dtype)
    _transpose_nb(a, out)
    return out


def whole_loops(*arrays) -> bool:
    """Whether the whole-loop kernels (``lstm_*_steps``, ``gru_*_steps``) take these arrays: float32 kernels on,
    every array C-contiguous, and BLAS's sgemm found (``blas.sgemm_address``); else the op steps in Python with the
    per-step kernels."""
    return blas.sgemm_address() is not None and _fits32(*arrays) and all(a.flags.c_contiguous for a in arrays)


def lstm_forward_steps(x, acts, weights, hs, cs, tcs, operands, out, keep, zero_output: bool, folded: bool,
                       go_backwards: bool, sequences: bool, lo: int, hi: int) -> None:
    """Rows lo:hi of every step of an LSTM in one kernel call. Each step's [x_t, h_{t-1}, 1] goes into ``operands``
    ((time, batch, features + units + 1)), x_t from ``x`` ((batch, time, features), read from the end with
    ``go_backwards``) and h_0 from ``hs[0]``; the pre-activations by BLAS from inside the kernel (``blas.gemm``) into
    ``acts``: with ``folded``, ``operands`` times ``weights`` ([W; U; b]); else ``acts`` holds x_t W + b already and
    gets h_{t-1} ``weights`` (U) added. Then what ``lstm_forward_step`` and ``masked_step`` do (``keep``: (time,
    batch), 0 at a masked step), each new state also put in ``operands``, the outputs in ``out`` ((batch, time + 2,
    units); (batch, 2, units) without ``sequences``, which leaves them out) and the final h and c after them."""
    _lstm_forward_steps_nb(blas.sgemm_address(), x, acts, weights, hs, cs, tcs, operands, out, keep,
                           bool(zero_output), bool(folded), bool(go_backwards), bool(sequences), lo, hi)


def lstm_forward_step(acts, hz, bias, c_prev, c_out, h_out, tc_out) -> None:
    """One LSTM step before masking: ``acts`` holds x_t W on entry and (i, f, g, o) on exit; writes c, h, tanh c."""
    args = (acts, hz, bias, c_prev, c_out, h_out, tc_out)
    (_lstm_forward_nb if _fits32(*args) else lstm_forward_step_numpy)(*args)


@_inline
def _pass_masked_row(gy_b, carry_b, dh_b, rec_b, zero_output):
    """A masked row in backward: its state gradient passes on (plus the later step's product), its output gradient
    goes to the previous output (``carry``), or nowhere with ``zero_output``."""
    for j in range(dh_b.shape[0]):
        total = gy_b[j] + carry_b[j]
        carry_b[j] = 0.0 if zero_output else total
        dh_b[j] += rec_b[j]


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


@_inline
def _lstm_backward_row(gy_b, carry_b, dh_b, dc_b, rec_b, a, t, cp, keep_b, d, zero_output):
    """One row of a step back (all 1-D rows): the gate gradients into ``d``, what flows on into dh, dc, carry."""
    # loops from 0 over rows' slices, the mask decided per row: numba vectorizes these (see _lstm_cell_row)
    n = cp.shape[0]
    i, f, g, o = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
    di, df, dg, do = d[:n], d[n:2 * n], d[2 * n:3 * n], d[3 * n:]
    if keep_b > 0:
        for j in range(n):
            dhn = dh_b[j] + rec_b[j] + gy_b[j] + carry_b[j]
            dcn = dc_b[j] + dhn * o[j] * (1 - t[j] * t[j])
            di[j] = dcn * g[j] * i[j] * (1 - i[j])
            df[j] = dcn * cp[j] * f[j] * (1 - f[j])
            dg[j] = dcn * i[j] * (1 - g[j] * g[j])
            do[j] = dhn * t[j] * o[j] * (1 - o[j])
            dc_b[j] = dcn * f[j]
            dh_b[j] = 0.0
            carry_b[j] = 0.0
    else:
        _pass_masked_row(gy_b, carry_b, dh_b, rec_b, zero_output)
        d[:] = 0.0


@jit(bit_exact=False, nogil=True)
def _lstm_backward_nb(gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz, zero_output):
    for b in range(acts.shape[0]):
        _lstm_backward_row(gy[b], carry[b], dh[b], dc[b], rec[b], acts[b], tc[b], c_prev[b], keep[b], dz[b],
                           zero_output)


@jit(bit_exact=False, nogil=True)
def _lstm_backward_steps_nb(gemm_address, g, carry, dh, dc, rec, acts, tcs, cs, keep, dz, u_t, zero_output,
                            first_product, sequences, operands, weight_grad, lo, hi):
    steps = acts.shape[0]
    no_output = np.zeros(dh.shape[1], dh.dtype)  # the outputs' gradient without ``sequences``
    for t in range(steps - 1, -1, -1):
        dz_t = dz[t % dz.shape[0], lo:hi]  # (one step's rows reused when ``dz`` keeps one step)
        for b in range(lo, hi):
            _lstm_backward_row(g[b, t] if sequences else no_output, carry[b], dh[b], dc[b], rec[b], acts[t, b],
                               tcs[t, b], cs[t, b], keep[t, b], dz_t[b - lo], zero_output)
        if t or first_product:
            blas.gemm(gemm_address, dz_t, u_t, rec[lo:hi], 0.0)
        # [dW; dU; db] += [x_t, h_{t-1}, 1]ᵀ dz_t over these rows, while dz_t is in cache (= at the first step back)
        blas.gemm_transposed_a(gemm_address, operands[t, lo:hi], dz_t, weight_grad, 0.0 if t == steps - 1 else 1.0)


def lstm_backward_steps(g, carry, dh, dc, rec, acts, tcs, cs, keep, dz, u_t, zero_output: bool,
                        first_product: bool, sequences: bool, operands, weight_grad, lo: int, hi: int) -> None:
    """Rows lo:hi of every step back in one kernel call, reading the outputs' gradients from ``g`` ((batch, time +
    ..., units), as the op packs its outputs; only the final states' without ``sequences``): ``lstm_backward_step``
    for each step from the last, into ``dz`` (every
    step's (time, batch, 4·units), or (1, batch, 4·units): one step's, reused), then ``rec = dz_t Uᵀ`` by BLAS from
    inside the kernel (for step 0 only with ``first_product``), and the rows' share of the weight gradients into
    ``weight_grad`` ([dW; dU; db], written over): Σ_t operands_tᵀ dz_t."""
    _lstm_backward_steps_nb(blas.sgemm_address(), g, carry, dh, dc, rec, acts, tcs, cs, keep, dz, u_t,
                            bool(zero_output), bool(first_product), bool(sequences), operands, weight_grad, lo, hi)


def lstm_backward_step(gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz, zero_output) -> None:
    """One LSTM step back: adds ``rec`` (the later step's dz Uᵀ) to ``dh``, writes the gate gradients ``dz``; leaves
    in ``dh``/``dc`` what flows to the previous state apart from ``dz Uᵀ``."""
    args = (gy, carry, dh, dc, rec, acts, tc, c_prev, keep, dz)
    (_lstm_backward_nb if _fits(*args) else lstm_backward_step_numpy)(*args, bool(zero_output))


# --- GRU (reset_after=True: the reset gate multiplies the recurrent product) ------------------------------------------
def gru_forward_step_numpy(acts, hz, in_bias, rec_bias, h_prev, h_out) -> None:
    n = h_prev.shape[1]
    acts[:, :3 * n] += in_bias
    hz += rec_bias
    acts[:, :2 * n] += hz[:, :2 * n]
    _sigmoid_(acts[:, :2 * n])
    acts[:, 3 * n:] = hz[:, 2 * n:]
    backend.xp.multiply(acts[:, n:2 * n], hz[:, 2 * n:], out=h_out)
    hh = acts[:, 2 * n:3 * n]
    hh += h_out
    backend.xp.tanh(hh, out=hh)
    _mix_(h_out, acts[:, :n], h_prev, hh)


@_inline
def _gru_forward_rows(acts, hz, in_bias, rec_bias, h_prev, h_out):
    n = h_prev.shape[1]
    bi_zr, bi_h, br_zr, br_h = in_bias[:2 * n], in_bias[2 * n:], rec_bias[:2 * n], rec_bias[2 * n:]
    for b in range(acts.shape[0]):
        a, z = acts[b], hz[b]
        zr, hh, hrec = a[:2 * n], a[2 * n:3 * n], a[3 * n:]
        z_zr, z_h = z[:2 * n], z[2 * n:]
        for j in range(2 * n):
            zr[j] = _sigmoid32(zr[j] + bi_zr[j] + z_zr[j] + br_zr[j])
        for j in range(n):
            hrec[j] = z_h[j] + br_h[j]
        update, reset = zr[:n], zr[n:]
        hp, ho = h_prev[b], h_out[b]
        for j in range(n):
            v = _tanh32(hh[j] + bi_h[j] + reset[j] * hrec[j])
            hh[j] = v
            ho[j] = v + update[j] * (hp[j] - v)


@jit(bit_exact=False, error_model="numpy", nogil=True)
def _gru_forward_nb(acts, hz, in_bias, rec_bias, h_prev, h_out):
    _gru_forward_rows(acts, hz, in_bias, rec_bias, h_prev, h_out)


@jit(bit_exact=False, error_model="numpy", nogil=True)
def _gru_forward_steps_nb(gemm_address, acts, u, in_bias, rec_bias, hs, out, keep, zero_output, sequences, lo, hi):
    hz = np.empty((hi - lo, u.shape[1]), acts.dtype)
    for t in range(acts.shape[0]):
        blas.gemm(gemm_address, hs[t, lo:hi], u, hz, 0.0)
        _gru_forward_rows(acts[t, lo:hi], hz, in_bias, rec_bias, hs[t, lo:hi], hs[t + 1, lo:hi])
        _step_outputs(t, hs, out, keep, zero_output, sequences, lo, hi)


def gru_forward_steps(acts, u, in_bias, rec_bias, hs, out, keep, zero_output: bool, sequences: bool, lo: int,
                      hi: int) -> None:
    """Rows lo:hi of every step of a reset_after GRU in one kernel call, the recurrent products by BLAS from inside
    it (``blas.gemm``): what ``gru_forward_step`` and ``masked_step`` do per step (``keep``: (time, batch), 0 at a
    masked step), the outputs written into ``out`` ((batch, time + ..., units); none without ``sequences``)."""
    _gru_forward_steps_nb(blas.sgemm_address(), acts, u, in_bias, rec_bias, hs, out, keep, bool(zero_output),
                          bool(sequences), lo, hi)


def gru_forward_step(acts, hz, in_bias, rec_bias, h_prev, h_out) -> None:
    """One GRU step (reset_after) before masking: ``acts`` (batch, 4·units) holds x_t W in its first 3·units on entry
    and (z, r, hh, h U_h + b_h) on exit; ``hz`` is h U; the input and recurrent biases are added here."""
    args = (acts, hz, in_bias, rec_bias, h_prev, h_out)
    (_gru_forward_nb if _fits32(*args) else gru_forward_step_numpy)(*args)


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


@_inline
def _gru_backward_rows(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output):
    # loops from 0 over rows' slices, the mask decided per row (see _lstm_backward_row)
    n = h_prev.shape[1]
    for b in range(acts.shape[0]):
        a, dx, dr = acts[b], dxz[b], dhz[b]
        z, r, hh, hrec = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
        dx_z, dx_r, dx_h, dr_z, dr_r, dr_h = dx[:n], dx[n:2 * n], dx[2 * n:], dr[:n], dr[n:2 * n], dr[2 * n:]
        gy_b, carry_b, dh_b, rec_b = gy[b], carry[b], dh[b], rec[b]
        if keep[b] > 0:
            hp = h_prev[b]
            for j in range(n):
                dh_b[j] += rec_b[j] + gy_b[j] + carry_b[j]   # dh_b holds the new state's whole gradient now
            for j in range(n):
                dx_h[j] = dh_b[j] * (1 - z[j]) * (1 - hh[j] * hh[j])
            for j in range(n):
                dx_z[j] = dh_b[j] * (hp[j] - hh[j]) * z[j] * (1 - z[j])
            for j in range(n):
                dx_r[j] = dx_h[j] * hrec[j] * r[j] * (1 - r[j])
            for j in range(n):
                dr_h[j] = dx_h[j] * r[j]
            for j in range(n):
                dh_b[j] *= z[j]
            dr_z[:] = dx_z
            dr_r[:] = dx_r
            carry_b[:] = 0.0
        else:
            _pass_masked_row(gy_b, carry_b, dh_b, rec_b, zero_output)
            dx[:] = 0.0
            dr[:] = 0.0


@jit(bit_exact=False, nogil=True)
def _gru_backward_nb(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output):
    _gru_backward_rows(gy, carry, dh, rec, acts, h_prev, keep, dxz, dhz, zero_output)


@jit(bit_exact=False, nogil=True)
def _gru_backward_steps_nb(gemm_address, g, carry, dh, rec, acts, hs, keep, dxz, dhz, u_t, zero_output,
                           first_product, sequences, lo, hi):
    gy = np.zeros((hi - lo, dh.shape[1]), acts.dtype)  # (stays zeros without ``sequences``)
    for t in range(acts.shape[0] - 1, -1, -1):
        if sequences:
            for b in range(lo, hi):
                gy[b - lo] = g[b, t]
        _gru_backward_rows(gy, carry[lo:hi], dh[lo:hi], rec[lo:hi], acts[t, lo:hi], hs[t, lo:hi], keep[t, lo:hi],
                           dxz[t, lo:hi], dhz[t, lo:hi], zero_output)
        if t or first_product:
            blas.gemm(gemm_address, dhz[t, lo:hi], u_t, rec[lo:hi], 0.0)


def gru_backward_steps(g, carry, dh, rec, acts, hs, keep, dxz, dhz, u_t, zero_output: bool, first_product: bool,
                       sequences: bool, lo: int, hi: int) -> None:
    """Rows lo:hi of every step of a reset_after GRU back in one kernel call, reading the outputs' gradients from
    ``g`` ((batch, time + ..., units); only the final state's without ``sequences``): ``gru_backward_step`` for each
    step from the last, then ``rec = dhz_t Uᵀ`` by BLAS from inside the kernel (for step 0 only with
    ``first_product``)."""
    _gru_backward_steps_nb(blas.sgemm_address(), g, carry, dh, rec, acts, hs, keep, dxz, dhz, u_t, bool(zero_output),
                           bool(first_product), bool(sequences), lo, hi)


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
def simple_forward_step_numpy(acts, hz, bias, h_out) -> None:
    acts += hz
    acts += bias
    backend.xp.tanh(acts, out=acts)
    h_out[...] = acts


@jit(bit_exact=False, error_model="numpy", nogil=True)
def _simple_forward_nb(acts, hz, bias, h_out):
    for b in range(acts.shape[0]):
        a, z, h = acts[b], hz[b], h_out[b]
        for j in range(a.shape[0]):
            v = _tanh32(a[j] + z[j] + bias[j])
            a[j] = v
            h[j] = v


def simple_forward_step(acts, hz, bias, h_out) -> None:
    """One SimpleRNN step (tanh) before masking: ``acts`` holds x_t W on entry and the new h on exit."""
    args = (acts, hz, bias, h_out)
    (_simple_forward_nb if _fits32(*args) else simple_forward_step_numpy)(*args)


def simple_backward_step_numpy(gy, carry, dh, rec, acts, keep, dz, zero_output):
    dh += rec
    kept, dhn = _masked_state_grad(keep, gy, carry, dh, zero_output)
    dz[...] = dhn * (1 - acts * acts)
    dh *= ~kept


@jit(bit_exact=False, nogil=True)
def _simple_backward_nb(gy, carry, dh, rec, acts, keep, dz, zero_output):
    for b in range(acts.shape[0]):
        gy_b, carry_b, dh_b, rec_b, h, d = gy[b], carry[b], dh[b], rec[b], acts[b], dz[b]
        if keep[b] > 0:
            for j in range(h.shape[0]):
                d[j] = (dh_b[j] + rec_b[j] + gy_b[j] + carry_b[j]) * (1 - h[j] * h[j])
            dh_b[:] = 0.0
            carry_b[:] = 0.0
        else:
            _pass_masked_row(gy_b, carry_b, dh_b, rec_b, zero_output)
            d[:] = 0.0


def simple_backward_step(gy, carry, dh, rec, acts, keep, dz, zero_output) -> None:
    """One SimpleRNN step back: writes the pre-activation gradient ``dz``."""
    args = (gy, carry, dh, rec, acts, keep, dz)
    (_simple_backward_nb if _fits(*args) else simple_backward_step_numpy)(*args, bool(zero_output))
