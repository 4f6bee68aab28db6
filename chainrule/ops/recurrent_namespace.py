"""The fused recurrent ops (chainrule/ops/recurrent.py) on any backend's arrays other than NumPy's (CuPy's, the strict
backend's): each step on the array namespace with the standard's functions only, Keras's masking as the NumPy path
has it, and backward through time from what the forward kept. The NumPy backend keeps its numba kernels and threads;
this is what a GPU runs (a few products and elementwise passes per step).

A cell is a class of three static functions, its math in comment lines above them:
``step(xp, x_t, states, weights) -> (new states, saved)``,
``step_back(xp, grads, x_t, states, saved, weights) -> (gradients of the states before the step, pieces)`` and
``weight_grads(X, H, pieces, with_bias) -> (dW, dU, db)`` over all steps at once (X, H and each piece with the steps'
rows one under the other). :class:`Sequence` runs a cell over a sequence and back.

>>> import numpy as np
>>> seq = Sequence(SimpleRNN, (np.ones((1, 1)), np.zeros((1, 1)), None), go_backwards=False, zero_output=False)
>>> seq.forward(np, np.zeros((1, 2, 1)), (np.zeros((1, 1)),), None).shape   # (batch, time + states, units)
(1, 3, 1)
"""
from __future__ import annotations


def _sigmoid(xp, v):
    """σ(v) = (1 + tanh(v/2)) / 2: never overflows (as the NumPy path computes it)."""
    return 0.5 + 0.5 * xp.tanh(0.5 * v)


def _affine(x, kernel, bias=None):
    y = x @ kernel
    return y if bias is None else y + bias


def _t(xp, a):
    return xp.matrix_transpose(a)


class LSTM:
    # z = x W + h U + b;  i, f, o = σ(z_i, z_f, z_o), g = tanh(z_c);  c' = f c + i g;  h' = o tanh c'
    # -> dc_t = dc' + dh' o (1 - tanh² c');  dz = (dc_t g i(1-i), dc_t c f(1-f), dc_t i (1-g²), dh' tanh c' o(1-o));
    #    dh = dz Uᵀ, dc = dc_t f;  dW = Σ xᵀ dz, dU = Σ hᵀ dz, db = Σ dz
    @staticmethod
    def step(xp, x_t, states, weights):
        kernel, recurrent_kernel, bias = weights
        h, c = states
        n = h.shape[1]
        z = _affine(x_t, kernel, bias) + h @ recurrent_kernel
        gates = _sigmoid(xp, z)  # over all four blocks: fewer passes (kernel launches on a GPU) than three slices
        i, f, o = gates[:, :n], gates[:, n:2 * n], gates[:, 3 * n:]
        g = xp.tanh(z[:, 2 * n:3 * n])
        c_new = f * c + i * g
        tc = xp.tanh(c_new)
        return (o * tc, c_new), (i, f, g, o, tc)

    @staticmethod
    def step_back(xp, grads, x_t, states, saved, weights):
        dh, dc = grads
        i, f, g, o, tc = saved
        dc = dc + dh * o * (1 - tc * tc)
        dz = xp.concat([dc * g * i * (1 - i), dc * states[1] * f * (1 - f), dc * i * (1 - g * g),
                        dh * tc * o * (1 - o)], axis=1)
        return (dz @ _t(xp, weights[1]), dc * f), (dz,)

    @staticmethod
    def weight_grads(xp, x, h, pieces, with_bias: bool):
        (dz,) = pieces
        return _t(xp, x) @ dz, _t(xp, h) @ dz, xp.sum(dz, axis=0) if with_bias else None


class GRU:
    # reset_after: z, r = σ(x W_zr + b_zr + h U_zr + b'_zr);  hh = tanh(x W_h + b_h + r (h U_h + b'_h));
    #              h' = hh + z (h - hh)
    # -> dz = dh' (h - hh) z(1-z);  da = dh' (1-z)(1-hh²);  dr = da (h U_h + b'_h) r(1-r);
    #    dxz = (dz, dr, da), dhz = (dz, dr, da r);  dh = dh' z + dhz Uᵀ;  dW = Σ xᵀ dxz, dU = Σ hᵀ dhz
    @staticmethod
    def step(xp, x_t, states, weights):
        kernel, recurrent_kernel, bias = weights
        (h,) = states
        n = h.shape[1]
        xz = _affine(x_t, kernel, None if bias is None else bias[0, :])
        hz = _affine(h, recurrent_kernel, None if bias is None else bias[1, :])
        zr = _sigmoid(xp, xz[:, :2 * n] + hz[:, :2 * n])
        z, r, h_rec = zr[:, :n], zr[:, n:], hz[:, 2 * n:]
        hh = xp.tanh(xz[:, 2 * n:] + r * h_rec)
        return (hh + z * (h - hh),), (z, r, hh, h_rec)

    @staticmethod
    def step_back(xp, grads, x_t, states, saved, weights):
        (dh,) = grads
        z, r, hh, h_rec = saved
        da = dh * (1 - z) * (1 - hh * hh)
        dz = dh * (states[0] - hh) * z * (1 - z)
        dr = da * h_rec * r * (1 - r)
        dhz = xp.concat([dz, dr, da * r], axis=1)
        return (dh * z + dhz @ _t(xp, weights[1]),), (xp.concat([dz, dr, da], axis=1), dhz)

    @staticmethod
    def weight_grads(xp, x, h, pieces, with_bias: bool):
        dxz, dhz = pieces
        db = xp.stack([xp.sum(dxz, axis=0), xp.sum(dhz, axis=0)]) if with_bias else None
        return _t(xp, x) @ dxz, _t(xp, h) @ dhz, db


class GRUResetBefore:
    # z, r = σ(x W_zr + b_zr + h U_zr);  hh = tanh(x W_h + b_h + (r h) U_h);  h' = hh + z (h - hh)
    # -> dz = dh' (h - hh) z(1-z);  da = dh' (1-z)(1-hh²);  d(rh) = da U_hᵀ;  dr = d(rh) h r(1-r);
    #    dh = dh' z + d(rh) r + (dz, dr) U_zrᵀ;  dW = Σ xᵀ (dz, dr, da), dU = (Σ hᵀ (dz, dr), Σ (r h)ᵀ da)
    @staticmethod
    def step(xp, x_t, states, weights):
        kernel, recurrent_kernel, bias = weights
        (h,) = states
        n = h.shape[1]
        xz = _affine(x_t, kernel, bias)
        zr = _sigmoid(xp, xz[:, :2 * n] + h @ recurrent_kernel[:, :2 * n])
        z, r = zr[:, :n], zr[:, n:]
        rh = r * h
        hh = xp.tanh(xz[:, 2 * n:] + rh @ recurrent_kernel[:, 2 * n:])
        return (hh + z * (h - hh),), (z, r, hh, rh)

    @staticmethod
    def step_back(xp, grads, x_t, states, saved, weights):
        (dh,) = grads
        z, r, hh, rh = saved
        h, n = states[0], z.shape[1]
        recurrent_kernel = weights[1]
        da = dh * (1 - z) * (1 - hh * hh)
        drh = da @ _t(xp, recurrent_kernel[:, 2 * n:])
        dzr = xp.concat([dh * (h - hh) * z * (1 - z), drh * h * r * (1 - r)], axis=1)
        return (dh * z + drh * r + dzr @ _t(xp, recurrent_kernel[:, :2 * n]),), (xp.concat([dzr, da], axis=1), rh)

    @staticmethod
    def weight_grads(xp, x, h, pieces, with_bias: bool):
        dz, rh = pieces
        n = rh.shape[1]
        du = xp.concat([_t(xp, h) @ dz[:, :2 * n], _t(xp, rh) @ dz[:, 2 * n:]], axis=1)
        return _t(xp, x) @ dz, du, xp.sum(dz, axis=0) if with_bias else None


class SimpleRNN:
    # h' = tanh(x W + h U + b)  ->  dz = dh' (1 - h'²);  dh = dz Uᵀ;  dW = Σ xᵀ dz, dU = Σ hᵀ dz, db = Σ dz
    @staticmethod
    def step(xp, x_t, states, weights):
        kernel, recurrent_kernel, bias = weights
        h = xp.tanh(_affine(x_t, kernel, bias) + states[0] @ recurrent_kernel)
        return (h,), (h,)

    @staticmethod
    def step_back(xp, grads, x_t, states, saved, weights):
        dz = grads[0] * (1 - saved[0] * saved[0])
        return (dz @ _t(xp, weights[1]),), (dz,)

    weight_grads = staticmethod(LSTM.weight_grads)


class Sequence:
    """A cell over one sequence on the namespace of its arrays: :meth:`forward` keeps each step's input, states and
    saved values; :meth:`backward` runs back through them. Masks as Keras (and the NumPy path): at a masked step the
    states stay and the output repeats the previous one (zeros before the first step, or always with
    ``zero_output``); back, a masked row passes its state gradients on and its output's gradient to the output
    before it. Without ``sequences`` only the final states come out (the op's ``return_sequences=False``)."""

    def __init__(self, cell, weights: tuple, go_backwards: bool, zero_output: bool, sequences: bool = True):
        self.cell, self.weights, self.go_backwards, self.zero_output = cell, weights, go_backwards, zero_output
        self.sequences = sequences

    def forward(self, xp, x, states: tuple, mask):
        """(batch, time + len(states), units): the outputs in the order the steps ran (none without
        ``sequences``), then the final states."""
        steps = x.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        self.inputs = [x[:, t, :] for t in order]
        self.kept = [None] * steps if mask is None else [xp.expand_dims(mask[:, t], axis=1) for t in order]
        self.before, self.saved, outputs = [], [], []
        output = xp.zeros_like(states[0])
        for x_t, kept in zip(self.inputs, self.kept):
            new, saved = self.cell.step(xp, x_t, states, self.weights)
            self.before.append(states)
            self.saved.append(saved)
            if kept is None:
                output = new[0]
            else:
                output = xp.where(kept, new[0], xp.zeros_like(output) if self.zero_output else output)
                new = tuple(xp.where(kept, a, b) for a, b in zip(new, states))
            states = new
            outputs.append(output)
        return xp.stack((outputs if self.sequences else []) + list(states), axis=1)

    def backward(self, xp, g, need_x: bool, need_weights: tuple):
        """From ``g``, the packed output's gradient: (the initial states' gradients, dx or None, (dW, dU, db) with
        None where ``need_weights`` says so)."""
        steps, count = len(self.inputs), len(self.before[0])
        grads = [g[:, g.shape[1] - count + k, :] for k in range(count)]
        carry = None  # the output gradient a masked step passes to the output before it
        pieces = [None] * steps
        for t in range(steps - 1, -1, -1):
            total = carry
            if self.sequences:
                total = g[:, t, :] if carry is None else g[:, t, :] + carry
            kept = self.kept[t]
            into = list(grads) if total is None else [grads[0] + total, *grads[1:]]
            if kept is not None:
                zero = xp.zeros_like(grads[0])
                carry = None if total is None else xp.where(kept, zero, zero if self.zero_output else total)
                into = [xp.where(kept, d, zero) for d in into]
            previous, pieces[t] = self.cell.step_back(xp, into, self.inputs[t], self.before[t], self.saved[t],
                                                      self.weights)
            grads = list(previous) if kept is None else [xp.where(kept, p, d) for p, d in zip(previous, grads)]
        rows = [xp.concat([p[k] for p in pieces], axis=0) for k in range(len(pieces[0]))]
        dx = None
        if need_x:  # (time · batch, features) back to (batch, time, features), in the input's order
            batch = g.shape[0]
            dx = xp.permute_dims(xp.reshape(rows[0] @ _t(xp, self.weights[0]), (steps, batch, -1)), (1, 0, 2))
            dx = xp.flip(dx, axis=1) if self.go_backwards else dx
        weights = (None, None, None)
        if any(need_weights):
            x, h = xp.concat(self.inputs, axis=0), xp.concat([b[0] for b in self.before], axis=0)
            weights = self.cell.weight_grads(xp, x, h, rows, self.weights[2] is not None)
        return grads, dx, tuple(w if need else None for w, need in zip(weights, need_weights))
