"""backend/kernels/blas.py: NumPy's BLAS called from inside numba kernels; and the LSTM's and GRU's whole-loop kernels
built on it give the numbers of the per-step path to float32 rounding (outputs and every gradient, with and without a mask,
both directions, masked outputs repeated or zero)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import kernels
from chainrule.backend.kernels import blas
from chainrule.backend.kernels import recurrent as step_kernels
from chainrule.ops.recurrent import gru, lstm

needs_blas = pytest.mark.skipif(not kernels.enabled() or blas.sgemm_address() is None,
                                reason="no numba, or NumPy's BLAS has no ILP64 CBLAS sgemm here")

if kernels.numba is not None:
    @kernels.numba.njit
    def _gemm(address, a, b, c, beta):
        blas.gemm(address, a, b, c, beta)


@needs_blas
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_gemm_from_a_kernel_equals_numpy_with_row_strides(beta):
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((7, 20)).astype(np.float32)
    a = wide[:, 3:12]  # rows of 9 values 20 apart
    b = rng.standard_normal((9, 5)).astype(np.float32)
    c_wide = rng.standard_normal((7, 8)).astype(np.float32)
    c = c_wide[:, 1:6]
    expected = a @ b + beta * c
    untouched = c_wide[:, [0, 6, 7]].copy()
    _gemm(blas.sgemm_address(), a, b, c, beta)
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(c_wide[:, [0, 6, 7]], untouched)  # the columns beside the view stay


def _lstm_numbers(masked: bool, go_backwards: bool, zero_output: bool = False, features: int = 5):
    rng = np.random.default_rng(3)
    batch, steps, units = 6, 7, 4
    arrays = [rng.standard_normal((batch, steps, features)), rng.standard_normal((features, 4 * units)) * 0.5,
              rng.standard_normal((units, 4 * units)) * 0.5, rng.standard_normal(4 * units) * 0.5]
    x, w, u, b = (cr.Variable(a.astype(np.float32)) for a in arrays)
    mask = (np.arange(steps)[None, :] < rng.integers(1, steps + 1, batch)[:, None]) if masked else None
    with cr.GradientTape() as tape:
        outs = lstm(x, None, None, w, u, b, mask=mask, go_backwards=go_backwards, zero_output_for_mask=zero_output)
        loss = sum(cr.reduce_sum(o * o) for o in outs)
    return [o.numpy() for o in outs] + [g.numpy() for g in tape.gradient(loss, [x, w, u, b])]


@needs_blas
@pytest.mark.parametrize("masked,go_backwards,zero_output", [(False, False, False), (False, True, False),
                                                            (True, False, False), (True, True, False),
                                                            (True, False, True)])
@pytest.mark.parametrize("features", [2, 5])  # 2: the step's one product takes the input projection in
def test_the_lstm_whole_loop_kernels_give_the_per_step_numbers(masked, go_backwards, zero_output, features,
                                                               monkeypatch):
    taken = []
    for name in ("lstm_forward_steps", "lstm_backward_steps"):
        original = getattr(step_kernels, name)
        monkeypatch.setattr(step_kernels, name,
                            lambda *args, _original=original, _name=name: taken.append(_name) or _original(*args))
    whole_loop = _lstm_numbers(masked, go_backwards, zero_output, features)
    assert {"lstm_forward_steps", "lstm_backward_steps"} <= set(taken)
    monkeypatch.setattr(step_kernels, "whole_loops", lambda *arrays: False)
    for ours, per_step in zip(whole_loop, _lstm_numbers(masked, go_backwards, zero_output, features)):
        # (the whole loop sums x W + h U + b in one product per step, the per-step path in three: float32 rounding)
        np.testing.assert_allclose(ours, per_step, rtol=1e-5, atol=1e-5)


def _gru_numbers(masked: bool, go_backwards: bool, zero_output: bool):
    rng = np.random.default_rng(4)
    batch, steps, features, units = 6, 7, 5, 4
    arrays = [rng.standard_normal((batch, steps, features)), rng.standard_normal((features, 3 * units)) * 0.5,
              rng.standard_normal((units, 3 * units)) * 0.5, rng.standard_normal((2, 3 * units)) * 0.5]
    x, w, u, b = (cr.Variable(a.astype(np.float32)) for a in arrays)
    mask = (np.arange(steps)[None, :] < rng.integers(1, steps + 1, batch)[:, None]) if masked else None
    with cr.GradientTape() as tape:
        outs = gru(x, None, w, u, b, mask=mask, go_backwards=go_backwards, zero_output_for_mask=zero_output)
        loss = sum(cr.reduce_sum(o * o) for o in outs)
    return [o.numpy() for o in outs] + [g.numpy() for g in tape.gradient(loss, [x, w, u, b])]


@needs_blas
@pytest.mark.parametrize("masked,go_backwards,zero_output", [(False, False, False), (True, True, False),
                                                            (True, False, True)])
def test_the_gru_whole_loop_kernels_give_the_per_step_numbers(masked, go_backwards, zero_output, monkeypatch):
    taken = []
    for name in ("gru_forward_steps", "gru_backward_steps"):
        original = getattr(step_kernels, name)
        monkeypatch.setattr(step_kernels, name,
                            lambda *args, _original=original, _name=name: taken.append(_name) or _original(*args))
    whole_loop = _gru_numbers(masked, go_backwards, zero_output)
    assert {"gru_forward_steps", "gru_backward_steps"} <= set(taken)
    monkeypatch.setattr(step_kernels, "whole_loops", lambda *arrays: False)
    for ours, per_step in zip(whole_loop, _gru_numbers(masked, go_backwards, zero_output)):
        np.testing.assert_allclose(ours, per_step, rtol=1e-6, atol=1e-6)


def test_the_loops_run_only_where_they_can(monkeypatch):
    a = np.zeros((2, 3, 4), np.float32)
    assert step_kernels.whole_loops(a, a.astype(np.float64)) is False  # float32 only
    assert step_kernels.whole_loops(a, a[:, ::2]) is False  # C-contiguous only
    monkeypatch.setattr(blas, "sgemm_address", lambda: None)
    assert step_kernels.whole_loops(a, a) is False  # no BLAS to call
