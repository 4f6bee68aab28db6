"""SimpleRNN, LSTM and GRU over a whole sequence, each one node: Keras's recurrent layers without a graph node per step.

Forward: one GEMM projects the inputs of every step (x W), then each step does one recurrent GEMM (h U, BLAS, into
a buffer made once) and the gate math with the biases in one pass (chainrule/backend/kernels/recurrent.py). Backward
runs through time inside the node: per step the gate math back and one GEMM (dz Uᵀ); the weight gradients are then
GEMMs over all steps (dW, dU and db as one, [X H 1]ᵀ dZ, where they share dZ). From batch 128 up
(``backend.threads``) the steps run on halves of the batch in two threads. In float32, LSTM and GRU (reset_after) run
each half's whole loop in one kernel call that calls BLAS itself (``kernels.whole_loops``): the LSTM then folds the
input projection into each step's product when it has few input features, and adds its weight gradients up step by
step in the backward loop.

Weights as Keras keeps them: kernel (features, k·units), recurrent_kernel (units, k·units), gates side by side in
Keras's order (LSTM i, f, c, o; GRU z, r, h). GRU's bias is (2, 3·units) with ``reset_after=True`` (input and
recurrent biases; this GRU equals PyTorch's) and (3·units,) with ``reset_after=False``.

Masks follow Keras (``keras.src.backend.tensorflow.rnn``): at a masked step the state stays, and the output repeats
the previous step's (zeros before the first step, or always zeros with ``zero_output_for_mask``). ``go_backwards``
reads the sequence from its end and returns the outputs in that (reversed) order, as Keras does.

On any other backend's arrays (CuPy's, the strict backend's) the nodes run the steps on the array namespace with the
standard's functions only (chainrule/ops/recurrent_namespace.py), the same math and masks; the numba kernels and the
threads are the NumPy backend's.

Each op returns (outputs (batch, time, units), final h[, final c]). Inside, the node's one output packs them as
(batch, time + states, units), sliced apart by the function.

>>> import numpy as np
>>> x = np.ones((2, 3, 4), "float32")
>>> out, h, c = lstm(x, None, None, np.full((4, 8), 0.1, "float32"), np.zeros((2, 8), "float32"))
>>> tuple(out.shape), tuple(h.shape), bool((out.numpy()[:, -1] == h.numpy()).all())
((2, 3, 2), (2, 2), True)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import recurrent as kernels
from chainrule.backend.kernels.activation import column_sum
from chainrule.backend.threads import added_in_order, parallel_region, run_on_rows
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops import recurrent_namespace


# --- layout shared by the three ops ---------------------------------------------------------------------------------
def _time_major(x, go_backwards: bool):
    """(batch, time, features) as a contiguous (time, batch, features) copy in the order the steps run."""
    return backend.xp.ascontiguousarray((x[:, ::-1] if go_backwards else x).transpose(1, 0, 2))


def _batch_major(a, go_backwards: bool):
    """The inverse of ``_time_major`` (a view)."""
    a = a.transpose(1, 0, 2)
    return a[:, ::-1] if go_backwards else a


def _keep(mask, batch: int, steps: int, dtype, go_backwards: bool):
    """The mask as 0/1 per (step, row) in the order the steps run; all ones without a mask."""
    xp = backend.xp
    if mask is None:
        return xp.ones((steps, batch), dtype=dtype)
    return xp.ascontiguousarray((mask[:, ::-1] if go_backwards else mask).T.astype(dtype))


def _pack(ys, finals, out=None):
    """(batch, time + len(finals), units): the outputs (time-major ``ys``), then the final states; into ``out``
    where given, whose outputs are already there when ``ys`` is None."""
    steps = out.shape[1] - len(finals) if ys is None else ys.shape[0]
    if out is None:
        out = backend.xp.empty((ys.shape[1], steps + len(finals), ys.shape[2]), dtype=ys.dtype)
    if ys is not None:
        out[:, :steps] = ys.transpose(1, 0, 2)
    for k, state in enumerate(finals):
        out[:, steps + k] = state
    return out


def _unpack(g, steps: int, count: int, finals_only: bool = False):
    """The packed gradient as the outputs' (time-major, contiguous; zeros where the node kept no outputs, None with
    ``finals_only``) and copies of the final states'."""
    xp = backend.xp
    kept = g.shape[1] - count  # the steps whose outputs the node packed: all or none
    finals = [g[:, kept + k].copy() for k in range(count)]
    if finals_only:
        return None, finals
    if not kept:
        return xp.zeros((steps,) + finals[0].shape, dtype=g.dtype), finals
    return xp.ascontiguousarray(g[:, :steps].transpose(1, 0, 2)), finals


def _set_initial(target, state) -> None:
    """The initial state into ``target`` (a step's (batch, units) slice): zeros where none is given."""
    target[...] = 0 if state is None else state


def _summed_product(a, b):
    """Σ_t a_tᵀ b_t over the steps and rows of (time, batch, ·) arrays, as GEMMs over blocks of the rows side by side
    in threads (``run_on_rows``), their results then added in order: the op keeps BLAS's own threads idle, since
    their spinning after a threaded product slows the step loops' threads. (Blocks of the rows, the products' long
    inner dimension, run faster than blocks of the columns.)"""
    steps, batch, width = b.shape
    a2, b2 = a.reshape(steps * batch, -1).T, b.reshape(steps * batch, width)
    blocks = {}

    def block(lo: int, hi: int) -> None:
        blocks[lo] = backend.xp.matmul(a2[:, lo:hi], b2[lo:hi])

    run_on_rows(block, steps * batch)
    return added_in_order(blocks)


def _vector(bias, width: int, dtype):
    """The bias, or zeros when there is none (the step kernels always add one)."""
    return backend.xp.zeros(width, dtype=dtype) if bias is None else bias


class _Recurrence(Function):
    """What the three nodes share: the input projection, the weight gradients over all steps, the input's, and the
    steps' loop run on parts of the batch's rows side by side (``backend.threads``; a row's steps never read
    another row). The whole-sequence products are split the same way (row blocks, or column blocks of the weight
    gradients), so the op never wakes BLAS's own threads."""

    CELL = None  # the cell of the namespace path (recurrent_namespace.py)

    def forward(self, x, *arrays, **settings):
        if type(x) is not np.ndarray:  # another backend's arrays (CuPy's, strict's): the steps on their namespace
            return self._forward_on_namespace(x, *arrays, **settings)
        with parallel_region(x.shape[0]):  # one region for all the node's products in parts (backend/threads.py)
            return self._forward(x, *arrays, **settings)

    def backward(self, g):
        if type(g) is not np.ndarray:
            return self._backward_on_namespace(g)
        with parallel_region(g.shape[0]):
            return self._backward(g)

    def _forward_on_namespace(self, x, *arrays, go_backwards, zero_output_for_mask, reset_after=True, sequences=True):
        count = self.WEIGHTS - 1  # the initial states come before the weights
        (kernel, recurrent_kernel, bias, mask), xp = arrays[count:], backend.array_namespace(x)
        cell = self.CELL if reset_after else recurrent_namespace.GRUResetBefore
        self.sequence = recurrent_namespace.Sequence(cell, (kernel, recurrent_kernel, bias), go_backwards,
                                                     zero_output_for_mask, sequences)
        zeros = (x.shape[0], recurrent_kernel.shape[0])
        states = tuple(xp.zeros(zeros, dtype=x.dtype) if s is None else s for s in arrays[:count])
        return self.sequence.forward(xp, x, states, mask)

    def _backward_on_namespace(self, g):
        self._check_first_order()
        need, first = self.needs_input_grad, self.WEIGHTS
        states, dx, weights = self.sequence.backward(backend.array_namespace(g), g, need[0],
                                                     tuple(need[first:first + 3]))
        return (dx, *(d if need[1 + k] else None for k, d in enumerate(states)), *weights, None)

    def _project(self, x, kernel, go_backwards: bool, bias=None, out=None):
        """x W (+ b) for every step, time-major (time, batch, k·units), or written into ``out`` (time · batch,
        k·units), which may be a column block of a wider array; keeps the inputs for dW."""
        self.x_tm = x_tm = _time_major(x, go_backwards)
        steps, batch, features = x_tm.shape
        flat = x_tm.reshape(steps * batch, features)
        xz = backend.xp.empty((steps * batch, kernel.shape[1]), dtype=x.dtype) if out is None else out

        def rows_of(lo: int, hi: int) -> None:
            backend.xp.matmul(flat[lo:hi], kernel, out=xz[lo:hi])
            if bias is not None:
                xz[lo:hi] += bias

        run_on_rows(rows_of, steps * batch)
        return xz.reshape(steps, batch, -1)

    def _start(self, x, recurrent_kernel, bias, mask, settings: tuple):
        """Keep the settings (go_backwards, zero_output_for_mask, ...) and the mask; return the states' array
        (time + 1, batch, units) and the outputs' (time, batch, units): the states themselves without a mask."""
        xp = backend.xp
        batch, steps, _ = x.shape
        self.settings = settings
        self.has_bias = bias is not None
        self.keep = keep = _keep(mask, batch, steps, x.dtype, settings[0])
        self.hs = hs = xp.empty((steps + 1, batch, recurrent_kernel.shape[0]), dtype=x.dtype)
        self.masked_rows = None if mask is None else [xp.flatnonzero(k == 0) for k in keep]
        self.no_output = xp.zeros(hs.shape[1:], dtype=x.dtype)
        return hs, hs[1:] if mask is None else xp.empty(hs[1:].shape, dtype=x.dtype)

    def _mask_step(self, t: int, ys, rows: slice, *pairs) -> None:
        """Keras's masking of step t on ``rows`` (nothing without a mask): masked rows keep their states (each
        (new, previous) pair of full arrays in ``pairs``) and repeat the output."""
        if self.masked_rows is not None:
            masked = self.masked_rows[t]
            masked = masked[(masked >= rows.start) & (masked < rows.stop)] - rows.start
            hs = self.hs
            kernels.masked_step(masked, hs[t + 1, rows], ys[t, rows], (ys[t - 1] if t else self.no_output)[rows],
                                self.settings[1], tuple((new[rows], old[rows]) for new, old in ((hs[t + 1], hs[t]),)
                                                        + pairs))

    def _check_first_order(self):
        if self.graph_out is not None:
            raise NotImplementedError(f"{type(self).__name__}: the fused recurrent op has no second derivative; "
                                      f"call the RNN layer with unroll=True to differentiate twice")

    def _input_grad(self, dxz, kernel, go_backwards: bool):
        """dx from the gradient of the input projection, time-major (time, batch, k·units); None if not needed."""
        if not self.needs_input_grad[0]:
            return None
        steps, batch, width = dxz.shape
        flat, kernel_t = dxz.reshape(steps * batch, width), kernel.T
        dx = backend.xp.empty((steps * batch, kernel.shape[0]), dtype=dxz.dtype)
        run_on_rows(lambda lo, hi: backend.xp.matmul(flat[lo:hi], kernel_t, out=dx[lo:hi]), steps * batch)
        return backend.xp.ascontiguousarray(_batch_major(dx.reshape(steps, batch, -1), go_backwards))

    def _bias_grad(self, dz):
        return column_sum(dz.reshape(-1, dz.shape[-1])) if self.has_bias and self.needs_input_grad[self.WEIGHTS + 2] \
            else None

    def _start_operands(self, x, hs, fill: bool = True):
        """[x_t, h_{t-1}, 1] for every step, (time, batch, features + units + 1): the weight gradients' one product
        takes it whole (dW, dU and db at once). x (as ``self.x_tm``), the ones and h_0 go in here, unless ``fill``
        is False (the whole-loop kernels put them in step by step); the step loops put in each later state as they
        make it (``_keep_state``)."""
        steps, batch = hs.shape[0] - 1, hs.shape[1]
        self.features = features = x.shape[2]
        self.operands = operands = backend.xp.empty((steps, batch, features + hs.shape[2] + 1), dtype=hs.dtype)
        if fill:
            operands[:, :, :features] = self.x_tm
            operands[0, :, features:-1] = hs[0]
            operands[:, :, -1] = 1

    def _keep_state(self, t: int, rows: slice) -> None:
        """Step t's new state (its rows ``rows``, masking done) as step t + 1's h_{t-1} in ``operands``."""
        operands = self.operands
        if t + 1 < operands.shape[0]:
            operands[t + 1, rows, self.features:-1] = self.hs[t + 1, rows]

    def _weight_grads(self, dz, together=None):
        """(dW, dU, db) when the input and recurrent products share one gradient ``dz`` (LSTM, SimpleRNN): all three
        from one GEMM, [x_t, h_{t-1}, 1]ᵀ dz summed over the steps, which runs faster than three (dW's has only
        ``features`` rows, db's one); or from ``together``, that sum already made."""
        xp = backend.xp
        steps = dz.shape[0]
        need_w, need_u = self.needs_input_grad[self.WEIGHTS], self.needs_input_grad[self.WEIGHTS + 1]
        if together is not None or (need_w and need_u):
            features = self.features
            together = _summed_product(self.operands, dz) if together is None else together
            db = xp.ascontiguousarray(together[-1]) if self.has_bias and self.needs_input_grad[self.WEIGHTS + 2] \
                else None
            return (xp.ascontiguousarray(together[:features]) if need_w else None,
                    xp.ascontiguousarray(together[features:-1]) if need_u else None, db)
        return (_summed_product(self.x_tm, dz) if need_w else None,
                _summed_product(self.hs[:steps], dz) if need_u else None, self._bias_grad(dz))

    def _initial_grad(self, dh, rec):
        """The initial state's gradient: what the loop left in ``dh`` plus step 0's ``dz Uᵀ`` (None if not needed)."""
        if not self.needs_input_grad[1]:
            return None
        dh += rec
        return dh

    def _backward_products(self):
        """Whether step 0's product dz Uᵀ is needed (it only reaches the initial state), and Uᵀ made contiguous
        (BLAS runs the per-step product faster on it than on the transposed view)."""
        return self.needs_input_grad[1], kernels.transposed(self.arrays[self.WEIGHTS + 1])


class LSTMSequence(_Recurrence):
    # z_t = x_t W + h_{t-1} U + b;  i, f, o = σ(z_i, z_f, z_o), g = tanh(z_c);  c_t = f c_{t-1} + i g;  h_t = o tanh c_t
    # -> per step back: dc = dc_t + dh_t o (1 - tanh² c_t);  dz = (dc g i(1-i), dc c_{t-1} f(1-f), dc i (1-g²),
    #    dh_t tanh c_t o(1-o));  dh_{t-1} = dz Uᵀ, dc_{t-1} = dc f;  then dW = Σ x_tᵀ dz, dU = Σ h_{t-1}ᵀ dz, db = Σ dz
    WEIGHTS = 3  # the kernel's position among the inputs (x, h0, c0, kernel, recurrent_kernel, bias, mask)
    CELL = recurrent_namespace.LSTM

    def _forward(self, x, h0, c0, kernel, recurrent_kernel, bias, mask, go_backwards, zero_output_for_mask,
                 sequences=True):
        xp = backend.xp
        batch, steps, _ = x.shape
        units = recurrent_kernel.shape[0]
        hs, ys = self._start(x, recurrent_kernel, bias, mask, (go_backwards, zero_output_for_mask, sequences))
        b = _vector(bias, 4 * units, x.dtype)
        self.cs = cs = xp.empty((steps + 1, batch, units), dtype=x.dtype)
        self.tcs = tcs = xp.empty((steps, batch, units), dtype=x.dtype)
        _set_initial(hs[0], h0)
        _set_initial(cs[0], c0)
        packed = xp.empty((batch, (steps if sequences else 0) + 2, units), dtype=x.dtype)  # (see _keeps_outputs)
        whole = kernels.whole_loops(x, b, recurrent_kernel, hs, cs, tcs, packed, self.keep)
        if not whole:
            self.x_tm = _time_major(x, go_backwards)
        self._start_operands(x, hs, fill=not whole)
        # With few input features the whole-loop kernel projects each step itself, in the step's one product
        # ([x_t, h_{t-1}, 1] [W; U; b]); else all steps' x W + b first, as one product (the per-step loop's way).
        folded = whole and 2 * x.shape[2] <= units
        if folded:
            weights = xp.concatenate([kernel, recurrent_kernel, b[None]])
            self.acts = acts = xp.empty((steps, batch, 4 * units), dtype=x.dtype)
        else:
            weights = recurrent_kernel
            self.acts = acts = self._project(x, kernel, go_backwards, bias=b if whole else None)

        def steps_of(lo: int, hi: int) -> None:
            if whole:  # the loop below in one kernel, the outputs and final states written into ``packed``
                kernels.lstm_forward_steps(x, acts, weights, hs, cs, tcs, self.operands, packed, self.keep,
                                           zero_output_for_mask, folded, go_backwards, sequences, lo, hi)
                return
            r = slice(lo, hi)
            hz = xp.empty((hi - lo, 4 * units), dtype=x.dtype)
            for t in range(steps):
                xp.matmul(hs[t, r], recurrent_kernel, out=hz)
                kernels.lstm_forward_step(acts[t, r], hz, b, cs[t, r], cs[t + 1, r], hs[t + 1, r], tcs[t, r])
                self._mask_step(t, ys, r, (cs[t + 1], cs[t]))
                self._keep_state(t, r)

        run_on_rows(steps_of, batch)
        return packed if whole else _pack(ys if sequences else ys[:0], (hs[steps], cs[steps]), packed)

    def _backward(self, g):
        self._check_first_order()
        xp = backend.xp
        go_backwards, zero_output, sequences = self.settings
        steps, batch, _ = self.acts.shape
        first_product, u_t = self._backward_products()
        whole = kernels.whole_loops(g, self.acts, self.tcs, self.cs, self.keep, u_t, self.operands)
        gy, (dh, dc) = _unpack(g, steps, 2, finals_only=whole)
        # every step's gate gradients, or, where only the weights need them (the whole loop adds up the weight
        # gradients step by step), one step's rows reused: they stay in cache instead of going out to memory
        kept_steps = steps if not whole or self.needs_input_grad[0] else 1
        dz = xp.empty((kept_steps,) + self.acts.shape[1:], dtype=g.dtype)
        rec, carry = xp.zeros_like(dh), xp.zeros_like(dh)
        weight_grads = {}  # each part's [dW; dU; db] when the whole-loop kernel adds them up as it goes

        def steps_of(lo: int, hi: int) -> None:
            if whole:  # the loop below in one kernel, reading the outputs' gradients from ``g`` as it goes
                weight_grads[lo] = xp.empty((self.operands.shape[2], dz.shape[2]), dtype=dz.dtype)
                kernels.lstm_backward_steps(g, carry, dh, dc, rec, self.acts, self.tcs, self.cs, self.keep, dz, u_t,
                                            zero_output, first_product, sequences, self.operands, weight_grads[lo],
                                            lo, hi)
                return
            r = slice(lo, hi)
            for t in range(steps - 1, -1, -1):
                kernels.lstm_backward_step(gy[t, r], carry[r], dh[r], dc[r], rec[r], self.acts[t, r], self.tcs[t, r],
                                           self.cs[t, r], self.keep[t, r], dz[t, r], zero_output)
                if t or first_product:
                    xp.matmul(dz[t, r], u_t, out=rec[r])

        run_on_rows(steps_of, batch)
        dw, du, db = self._weight_grads(dz, added_in_order(weight_grads) if whole else None)
        return (self._input_grad(dz, self.arrays[3], go_backwards), self._initial_grad(dh, rec),
                dc if self.needs_input_grad[2] else None, dw, du, db, None)


class GRUSequence(_Recurrence):
    # reset_after:  z, r = σ(x W_zr + b_zr + h U_zr + b'_zr);  hh = tanh(x W_h + b_h + r (h U_h + b'_h));
    #               h_t = z h_{t-1} + (1 - z) hh
    # reset_before: hh = tanh(x W_h + b_h + (r h_{t-1}) U_h) (one bias, two recurrent GEMMs per step)
    # -> per step back: dz = dh_t (h_{t-1} - hh) z(1-z);  da = dh_t (1-z)(1-hh²);  the reset gate's gradient through
    #    whichever product it scales;  dh_{t-1} = dh_t z + (recurrent products)ᵀ;  weights summed over the steps
    WEIGHTS = 2  # inputs: (x, h0, kernel, recurrent_kernel, bias, mask)
    CELL = recurrent_namespace.GRU  # (GRUResetBefore with reset_after=False)

    def _forward(self, x, h0, kernel, recurrent_kernel, bias, mask, go_backwards, zero_output_for_mask, reset_after,
                 sequences=True):
        xp = backend.xp
        batch, steps, _ = x.shape
        units = recurrent_kernel.shape[0]
        hs, ys = self._start(x, recurrent_kernel, bias, mask,
                             (go_backwards, zero_output_for_mask, reset_after, sequences))
        _set_initial(hs[0], h0)
        if reset_after:
            # (z, r, hh, h U_h + b'_h) per step: the last is the reset gate's partner in backward
            self.acts = acts = xp.empty((steps, batch, 4 * units), dtype=x.dtype)
            self._project(x, kernel, go_backwards, out=acts.reshape(steps * batch, -1)[:, :3 * units])
            in_bias, rec_bias = bias if self.has_bias else (xp.zeros(3 * units, dtype=x.dtype),) * 2
            packed = xp.empty((batch, (steps if sequences else 0) + 1, units), dtype=x.dtype)
            whole = kernels.whole_loops(acts, recurrent_kernel, in_bias, rec_bias, hs, packed, self.keep)

            def steps_of(lo: int, hi: int) -> None:
                if whole:  # the loop below in one kernel, the outputs written into ``packed`` as it goes
                    kernels.gru_forward_steps(acts, recurrent_kernel, in_bias, rec_bias, hs, packed, self.keep,
                                              zero_output_for_mask, sequences, lo, hi)
                    return
                r = slice(lo, hi)
                hz = xp.empty((hi - lo, 3 * units), dtype=x.dtype)
                for t in range(steps):
                    xp.matmul(hs[t, r], recurrent_kernel, out=hz)
                    kernels.gru_forward_step(acts[t, r], hz, in_bias, rec_bias, hs[t, r], hs[t + 1, r])
                    self._mask_step(t, ys, r)
        else:
            whole = False
            self.acts = acts = self._project(x, kernel, go_backwards, bias)
            self.rh = rh = xp.empty((steps, batch, units), dtype=x.dtype)
            u_zr, u_h = recurrent_kernel[:, :2 * units], recurrent_kernel[:, 2 * units:]

            def steps_of(lo: int, hi: int) -> None:
                r = slice(lo, hi)
                hzr = xp.empty((hi - lo, 2 * units), dtype=x.dtype)
                hrec = xp.empty((hi - lo, units), dtype=x.dtype)
                for t in range(steps):
                    xp.matmul(hs[t, r], u_zr, out=hzr)
                    kernels.gru_gates_step(acts[t, r], hzr, hs[t, r], rh[t, r])
                    xp.matmul(rh[t, r], u_h, out=hrec)
                    kernels.gru_candidate_step(acts[t, r], hrec, hs[t, r], hs[t + 1, r])
                    self._mask_step(t, ys, r)

        run_on_rows(steps_of, batch)
        return _pack(None if whole else ys if sequences else ys[:0], (hs[steps],), packed if whole else None)

    def _backward(self, g):
        self._check_first_order()
        xp = backend.xp
        recurrent_kernel = self.arrays[3]
        go_backwards, zero_output, reset_after, sequences = self.settings
        steps, batch, _ = self.acts.shape
        units = recurrent_kernel.shape[0]
        first_product, u_t = self._backward_products()
        dxz = xp.empty((steps, batch, 3 * units), dtype=g.dtype)
        dhz = xp.empty_like(dxz) if reset_after else None
        whole = reset_after and kernels.whole_loops(g, self.acts, self.hs, self.keep, u_t, dxz, dhz)
        gy, (dh,) = _unpack(g, steps, 1, finals_only=whole)
        rec, carry = xp.zeros_like(dh), xp.zeros_like(dh)
        need_u = self.needs_input_grad[3]
        if reset_after:

            def steps_of(lo: int, hi: int) -> None:
                if whole:  # the loop below in one kernel, reading the outputs' gradients from ``g`` as it goes
                    kernels.gru_backward_steps(g, carry, dh, rec, self.acts, self.hs, self.keep, dxz, dhz, u_t,
                                               zero_output, first_product, sequences, lo, hi)
                    return
                r = slice(lo, hi)
                for t in range(steps - 1, -1, -1):
                    kernels.gru_backward_step(gy[t, r], carry[r], dh[r], rec[r], self.acts[t, r], self.hs[t, r],
                                              self.keep[t, r], dxz[t, r], dhz[t, r], zero_output)
                    if t or first_product:
                        xp.matmul(dhz[t, r], u_t, out=rec[r])
        else:
            u_zr_t, u_h_t = u_t[:2 * units], u_t[2 * units:]

            def steps_of(lo: int, hi: int) -> None:
                r = slice(lo, hi)
                drh = xp.empty((hi - lo, units), dtype=dh.dtype)
                for t in range(steps - 1, -1, -1):
                    kept, dhn = kernels.gru_candidate_backward_step(gy[t, r], carry[r], dh[r], rec[r],
                                                                    self.acts[t, r], self.hs[t, r], self.keep[t, r],
                                                                    dxz[t, r], zero_output)
                    xp.matmul(dxz[t, r, 2 * units:], u_h_t, out=drh)
                    kernels.gru_reset_backward_step(drh, dhn, kept, self.acts[t, r], self.hs[t, r], dh[r], dxz[t, r])
                    if t or first_product:
                        xp.matmul(dxz[t, r, :2 * units], u_zr_t, out=rec[r])

        run_on_rows(steps_of, batch)
        dw = _summed_product(self.x_tm, dxz) if self.needs_input_grad[2] else None
        du = db = None
        if reset_after:
            du = _summed_product(self.hs[:steps], dhz) if need_u else None
            db = self._bias_grad(dxz)
            if db is not None:
                db = xp.stack([db, column_sum(dhz.reshape(-1, 3 * units))])
        else:
            if need_u:
                du = xp.concatenate([_summed_product(self.hs[:steps], dxz[:, :, :2 * units]),
                                     _summed_product(self.rh, dxz[:, :, 2 * units:])], axis=1)
            db = self._bias_grad(dxz)
        return (self._input_grad(dxz, self.arrays[2], go_backwards), self._initial_grad(dh, rec), dw, du, db, None)


class SimpleRNNSequence(_Recurrence):
    # h_t = tanh(x_t W + h_{t-1} U + b)  ->  dz = dh_t (1 - h_t²); dh_{t-1} = dz Uᵀ; dW = Σ x_tᵀ dz, dU = Σ h_{t-1}ᵀ dz
    WEIGHTS = 2  # inputs: (x, h0, kernel, recurrent_kernel, bias, mask)
    CELL = recurrent_namespace.SimpleRNN

    def _forward(self, x, h0, kernel, recurrent_kernel, bias, mask, go_backwards, zero_output_for_mask,
                 sequences=True):
        xp = backend.xp
        batch, steps, _ = x.shape
        units = recurrent_kernel.shape[0]
        hs, ys = self._start(x, recurrent_kernel, bias, mask, (go_backwards, zero_output_for_mask, sequences))
        self.acts = acts = self._project(x, kernel, go_backwards)
        b = _vector(bias, units, x.dtype)
        _set_initial(hs[0], h0)
        self._start_operands(x, hs)

        def steps_of(lo: int, hi: int) -> None:
            r = slice(lo, hi)
            hz = xp.empty((hi - lo, units), dtype=x.dtype)
            for t in range(steps):
                xp.matmul(hs[t, r], recurrent_kernel, out=hz)
                kernels.simple_forward_step(acts[t, r], hz, b, hs[t + 1, r])
                self._mask_step(t, ys, r)
                self._keep_state(t, r)

        run_on_rows(steps_of, batch)
        return _pack(ys if sequences else ys[:0], (hs[steps],))

    def _backward(self, g):
        self._check_first_order()
        xp = backend.xp
        go_backwards, zero_output, _ = self.settings
        steps, batch, _ = self.acts.shape
        gy, (dh,) = _unpack(g, steps, 1)
        dz = xp.empty_like(self.acts)
        rec, carry = xp.zeros_like(dh), xp.zeros_like(dh)
        first_product, u_t = self._backward_products()

        def steps_of(lo: int, hi: int) -> None:
            r = slice(lo, hi)
            for t in range(steps - 1, -1, -1):
                kernels.simple_backward_step(gy[t, r], carry[r], dh[r], rec[r], self.acts[t, r], self.keep[t, r],
                                             dz[t, r], zero_output)
                if t or first_product:
                    xp.matmul(dz[t, r], u_t, out=rec[r])

        run_on_rows(steps_of, batch)
        dw, du, db = self._weight_grads(dz)
        return (self._input_grad(dz, self.arrays[2], go_backwards), self._initial_grad(dh, rec), dw, du, db, None)


# --- the public ops -----------------------------------------------------------------------------------------------
def _checked(name: str, x, states: dict, kernel, recurrent_kernel, bias, mask, gates: int, bias_shape):
    """The arguments as Tensors (None kept), with errors naming the op and the argument for wrong shapes or dtypes."""
    x = as_tensor(x)
    if x.ndim != 3 or x.dtype.kind != "f":
        raise ValueError(f"{name}: inputs must be a float tensor of shape (batch, time, features), got shape "
                         f"{x.shape} and dtype {x.dtype}")
    batch, steps, features = x.shape
    if steps == 0:
        raise ValueError(f"{name}: inputs have no time steps (shape {x.shape})")
    kernel, recurrent_kernel = as_tensor(kernel, dtype=x.dtype), as_tensor(recurrent_kernel, dtype=x.dtype)
    if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[1] != gates * recurrent_kernel.shape[0]:
        raise ValueError(f"{name}: recurrent_kernel must have shape (units, {gates} * units), got "
                         f"{recurrent_kernel.shape}")
    units = recurrent_kernel.shape[0]
    if kernel.shape != (features, gates * units):
        raise ValueError(f"{name}: kernel must have shape ({features}, {gates * units}) for inputs with {features} "
                         f"features and {units} units, got {kernel.shape}")
    if bias is not None:
        bias = as_tensor(bias, dtype=x.dtype)
        if bias.shape != bias_shape(units):
            raise ValueError(f"{name}: bias must have shape {bias_shape(units)}, got {bias.shape}")
    checked = {}
    for key, state in states.items():
        if state is not None:
            state = as_tensor(state, dtype=x.dtype)
            if state.shape != (batch, units):
                raise ValueError(f"{name}: {key} must have shape ({batch}, {units}), got {state.shape}")
        checked[key] = state
    for role, t in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{name}: {role} has dtype {t.dtype} but inputs have {x.dtype}")
    if mask is not None:
        mask = as_tensor(mask)
        if mask.shape != (batch, steps):
            raise ValueError(f"{name}: mask must have shape (batch, time) = ({batch}, {steps}), got {mask.shape}")
        if mask.dtype != bool:
            mask = Tensor._wrap(mask.data != 0)
    return x, checked, kernel, recurrent_kernel, bias, mask


def _keeps_outputs(return_sequences: bool, mask, zero_output_for_mask: bool) -> bool:
    """Whether the node packs every step's output: where they are returned, or where the last one, asked for alone,
    may differ from the final h (zeros for a masked last step); else it packs only the final states."""
    return bool(return_sequences) or (mask is not None and bool(zero_output_for_mask))


def _results(packed: Tensor, steps: int, count: int, return_sequences: bool) -> tuple[Tensor, ...]:
    """(outputs, *final states) from the node's output: every step's outputs, or without ``return_sequences`` the
    last one alone (the final h where the node packed no outputs)."""
    if packed.shape[1] == count:
        finals = tuple(packed[:, k] for k in range(count))
        return (finals[0],) + finals
    finals = tuple(packed[:, steps + k] for k in range(count))
    return (packed[:, :steps] if return_sequences else packed[:, steps - 1],) + finals


@op
def lstm(inputs: TensorLike, initial_h: TensorLike | None, initial_c: TensorLike | None, kernel: TensorLike,
         recurrent_kernel: TensorLike, bias: TensorLike | None = None, mask: TensorLike | None = None,
         go_backwards: bool = False, zero_output_for_mask: bool = False,
         return_sequences: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """An LSTM (tanh, sigmoid gates) over ``inputs`` (batch, time, features): (outputs, final h, final c).

    kernel (features, 4·units), recurrent_kernel (units, 4·units), bias (4·units,), gates i, f, c, o (Keras's
    LSTMCell); initial states (batch, units) or None for zeros; mask (batch, time), True where a step is real.
    ``return_sequences=False``: the first result is the last step's output (batch, units), and the node neither
    writes nor differentiates the outputs of the other steps (unless zeros may replace the last one: a mask with
    ``zero_output_for_mask``); the same for gru and simple_rnn.
    """
    x, states, kernel, recurrent_kernel, bias, mask = _checked(
        "lstm", inputs, {"initial_h": initial_h, "initial_c": initial_c}, kernel, recurrent_kernel, bias, mask, 4,
        lambda n: (4 * n,))
    packed = LSTMSequence.apply(x, states["initial_h"], states["initial_c"], kernel, recurrent_kernel, bias, mask,
                                go_backwards=bool(go_backwards), zero_output_for_mask=bool(zero_output_for_mask),
                                sequences=_keeps_outputs(return_sequences, mask, zero_output_for_mask))
    return _results(packed, x.shape[1], 2, return_sequences)


@op
def gru(inputs: TensorLike, initial_h: TensorLike | None, kernel: TensorLike, recurrent_kernel: TensorLike,
        bias: TensorLike | None = None, mask: TensorLike | None = None, go_backwards: bool = False,
        zero_output_for_mask: bool = False, reset_after: bool = True,
        return_sequences: bool = True) -> tuple[Tensor, Tensor]:
    """A GRU (tanh, sigmoid gates) over ``inputs`` (batch, time, features): (outputs, final h).

    kernel (features, 3·units), recurrent_kernel (units, 3·units), gates z, r, h (Keras's GRUCell); bias (2, 3·units)
    with ``reset_after`` (input and recurrent biases, PyTorch's GRU), else (3·units,). ``return_sequences`` as lstm's.
    """
    reset_after = bool(reset_after)
    x, states, kernel, recurrent_kernel, bias, mask = _checked(
        "gru", inputs, {"initial_h": initial_h}, kernel, recurrent_kernel, bias, mask, 3,
        (lambda n: (2, 3 * n)) if reset_after else (lambda n: (3 * n,)))
    packed = GRUSequence.apply(x, states["initial_h"], kernel, recurrent_kernel, bias, mask,
                               go_backwards=bool(go_backwards), zero_output_for_mask=bool(zero_output_for_mask),
                               reset_after=reset_after,
                               sequences=_keeps_outputs(return_sequences, mask, zero_output_for_mask))
    return _results(packed, x.shape[1], 1, return_sequences)


@op
def simple_rnn(inputs: TensorLike, initial_h: TensorLike | None, kernel: TensorLike, recurrent_kernel: TensorLike,
               bias: TensorLike | None = None, mask: TensorLike | None = None, go_backwards: bool = False,
               zero_output_for_mask: bool = False, return_sequences: bool = True) -> tuple[Tensor, Tensor]:
    """A tanh SimpleRNN over ``inputs`` (batch, time, features): (outputs, final h); h_t = tanh(x_t W + h U + b).
    ``return_sequences`` as lstm's."""
    x, states, kernel, recurrent_kernel, bias, mask = _checked(
        "simple_rnn", inputs, {"initial_h": initial_h}, kernel, recurrent_kernel, bias, mask, 1, lambda n: (n,))
    packed = SimpleRNNSequence.apply(x, states["initial_h"], kernel, recurrent_kernel, bias, mask,
                                     go_backwards=bool(go_backwards), zero_output_for_mask=bool(zero_output_for_mask),
                                     sequences=_keeps_outputs(return_sequences, mask, zero_output_for_mask))
    return _results(packed, x.shape[1], 1, return_sequences)
