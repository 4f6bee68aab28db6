"""The fused recurrent ops (lstm, gru, simple_rnn) against finite differences, PyTorch's nn.LSTM / nn.GRU / nn.RNN with
Keras's weights mapped onto them, and themselves on padded batches (masks); the numba and NumPy step kernels agree."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.backend import kernels
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops import concat, reshape
from chainrule.ops.recurrent import gru, lstm, simple_rnn

B, T, D, H = 3, 4, 5, 3
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}
STATES = {"lstm": 2, "gru": 1, "simple_rnn": 1}


def _bias_shape(kind, reset_after=True):
    return (2, 3 * H) if kind == "gru" and reset_after else (GATES[kind] * H,)


def _data(kind, seed=0, reset_after=True, batch=B, steps=T):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, D))
    states = [rng.standard_normal((batch, H)) * 0.5 for _ in range(STATES[kind])]
    kernel = rng.standard_normal((D, GATES[kind] * H)) * 0.5
    recurrent = rng.standard_normal((H, GATES[kind] * H)) * 0.5
    bias = rng.standard_normal(_bias_shape(kind, reset_after)) * 0.5
    return [x, *states, kernel, recurrent, bias]


def _ours(kind, mask=None, **settings):
    """The op as one tensor: outputs flattened, then the final states."""
    fn = {"lstm": lstm, "gru": gru, "simple_rnn": simple_rnn}[kind]

    def run(x, *rest):
        n = STATES[kind]
        outs = fn(x, *rest[:n], *rest[n:], mask=mask, **settings)
        return concat([reshape(outs[0], (x.shape[0], -1)), *outs[1:]], axis=1)
    return run


def _gru_gates_to_torch(w, axis):
    """Keras's GRU gate order (z, r, h) as PyTorch's (r, z, n) along ``axis``."""
    z, r, h = torch.chunk(w, 3, dim=axis)
    return torch.cat([r, z, h], dim=axis)


def _torch(kind, go_backwards=False, reset_after=True):
    def run(x, *rest):
        n = STATES[kind]
        states, (kernel, recurrent, bias) = rest[:n], rest[n:]
        x_in = torch.flip(x, [1]) if go_backwards else x
        if kind == "gru" and not reset_after:
            return _torch_gru_reset_before(x_in, states[0], kernel, recurrent, bias)
        module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "simple_rnn": torch.nn.RNN}[kind](
            D, H, batch_first=True, dtype=x.dtype)
        if kind == "gru":
            params = {"weight_ih_l0": _gru_gates_to_torch(kernel.T, 0),
                      "weight_hh_l0": _gru_gates_to_torch(recurrent.T, 0),
                      "bias_ih_l0": _gru_gates_to_torch(bias[0], 0), "bias_hh_l0": _gru_gates_to_torch(bias[1], 0)}
        else:  # LSTM: Keras's i, f, c, o is PyTorch's i, f, g, o
            params = {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent.T, "bias_ih_l0": bias,
                      "bias_hh_l0": torch.zeros_like(bias)}
        initial = tuple(s[None] for s in states) if kind == "lstm" else states[0][None]
        out, final = torch.func.functional_call(module, params, (x_in, initial))
        finals = [f[0] for f in final] if kind == "lstm" else [final[0]]
        return torch.cat([out.reshape(x.shape[0], -1), *finals], dim=1)
    return run


def _torch_gru_reset_before(x, h, kernel, recurrent, bias):
    """Keras's GRU with reset_after=False, step by step in PyTorch (nn.GRU has no such variant)."""
    outs = []
    xz = x @ kernel + bias
    for t in range(x.shape[1]):
        z = torch.sigmoid(xz[:, t, :H] + h @ recurrent[:, :H])
        r = torch.sigmoid(xz[:, t, H:2 * H] + h @ recurrent[:, H:2 * H])
        hh = torch.tanh(xz[:, t, 2 * H:] + (r * h) @ recurrent[:, 2 * H:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return torch.cat([torch.stack(outs, 1).reshape(x.shape[0], -1), h], dim=1)


SETTINGS = [dict(), dict(go_backwards=True)]
MASK = np.array([[True, True, True, True], [True, True, False, False], [False, True, False, True]])


@covers("lstm", "gru", "simple_rnn", kind="fd")
@pytest.mark.parametrize("numba_on", [False, True])
@pytest.mark.parametrize("kind, reset_after", [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)])
@pytest.mark.parametrize("settings", [dict(), dict(go_backwards=True), dict(mask=MASK),
                                      dict(mask=MASK, zero_output_for_mask=True, go_backwards=True)],
                         ids=["plain", "backwards", "mask", "mask-zero-backwards"])
def test_gradients_match_finite_differences(kind, reset_after, settings, numba_on):
    extra = dict(reset_after=reset_after) if kind == "gru" else {}
    previous = kernels.enabled()
    kernels.set_enabled(numba_on)
    try:
        assert check_gradients(_ours(kind, **settings, **extra), *_data(kind, reset_after=reset_after))
    finally:
        kernels.set_enabled(previous)


@covers("lstm", "gru", "simple_rnn", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, reset_after", [("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True)])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_torch(kind, reset_after, go_backwards, dtype):
    extra = dict(reset_after=reset_after) if kind == "gru" else {}
    compare_with_torch(_ours(kind, go_backwards=go_backwards, **extra), _torch(kind, go_backwards, reset_after),
                       *_data(kind, seed=1, reset_after=reset_after), dtype=dtype)


def test_without_bias_and_initial_state_matches_torch_with_zeros():
    x, _, _, kernel, recurrent, _ = _data("lstm", seed=2)
    zeros = np.zeros((B, H))
    compare_with_torch(lambda x, w, u: _ours("lstm")(x, None, None, w, u, None),
                       lambda x, w, u: _torch("lstm")(x, torch.tensor(zeros), torch.tensor(zeros), w, u,
                                                      torch.zeros(4 * H, dtype=x.dtype)),
                       x, kernel, recurrent)


@pytest.mark.parametrize("numba_on", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_padded_batch_equals_each_sequence_alone(kind, go_backwards, numba_on):
    """Sequences of lengths 5, 2, 4 padded to 6 steps with a mask: the real steps' outputs, the final states, the
    inputs' gradients (zero on padding) and the weights' gradients (summed) are those of the sequences run alone."""
    lengths, steps = [5, 2, 4], 6
    data = _data(kind, seed=3, batch=3, steps=steps)
    x, states, weights = data[0], data[1:1 + STATES[kind]], data[1 + STATES[kind]:]
    mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]
    x = np.where(mask[:, :, None], x, 99.0)  # padding values must not matter
    fn = {"lstm": lstm, "gru": gru, "simple_rnn": simple_rnn}[kind]
    previous = kernels.enabled()
    kernels.set_enabled(numba_on)
    try:
        w_out = np.random.default_rng(0).standard_normal((steps, H))
        real = mask[:, ::-1] if go_backwards else mask  # the real steps' outputs (reversed with go_backwards)

        def run(x, states, mask, w_out):
            tensors = [cr.Tensor(a, requires_grad=True) for a in [x, *states, *weights]]
            outs = fn(tensors[0], *tensors[1:1 + len(states)], *tensors[1 + len(states):], mask=mask,
                      go_backwards=go_backwards)
            loss = (outs[0] * cr.Tensor(w_out)).sum() + sum((s * s).sum() for s in outs[1:])
            return outs, cr.grad(loss, tensors)

        padded_outs, padded_grads = run(x, states, mask, w_out[None] * real[:, :, None])
        weight_grads = [0] * len(weights)
        for b, n in enumerate(lengths):
            place = slice(steps - n, steps) if go_backwards else slice(0, n)
            alone_outs, alone_grads = run(x[b:b + 1, :n], [s[b:b + 1] for s in states], None, w_out[None, place])
            # with go_backwards the padded sequence first steps through its padding (state kept, zeros out)
            np.testing.assert_allclose(padded_outs[0].numpy()[b, place], alone_outs[0].numpy()[0], rtol=1e-10,
                                       atol=1e-12)
            for ours, alone in zip(padded_outs[1:], alone_outs[1:]):
                np.testing.assert_allclose(ours.numpy()[b], alone.numpy()[0], rtol=1e-10, atol=1e-12)
            dx = padded_grads[0].numpy()[b]
            np.testing.assert_allclose(dx[:n], alone_grads[0].numpy()[0], rtol=1e-9, atol=1e-12)
            assert not dx[n:].any(), "padding got a gradient"
            for k in range(len(states)):
                np.testing.assert_allclose(padded_grads[1 + k].numpy()[b], alone_grads[1 + k].numpy()[0],
                                           rtol=1e-9, atol=1e-12)
            for k in range(len(weights)):
                weight_grads[k] = weight_grads[k] + alone_grads[1 + len(states) + k].numpy()
        for ours, summed in zip(padded_grads[1 + len(states):], weight_grads):
            np.testing.assert_allclose(ours.numpy(), summed, rtol=1e-9, atol=1e-12)
    finally:
        kernels.set_enabled(previous)


def test_masked_steps_repeat_the_previous_output_or_zeros():
    x, h, c, kernel, recurrent, bias = _data("lstm", seed=4)
    mask = np.array([[False, True, False, True]] * B)
    out = lstm(x, h, c, kernel, recurrent, bias, mask=mask)[0].numpy()
    assert not out[:, 0].any()  # before any real step: zeros, not the initial state (Keras)
    np.testing.assert_array_equal(out[:, 2], out[:, 1])
    zeros = lstm(x, h, c, kernel, recurrent, bias, mask=mask, zero_output_for_mask=True)[0].numpy()
    assert not zeros[:, 2].any() and not zeros[:, 0].any()
    np.testing.assert_array_equal(zeros[:, 3], out[:, 3])


@pytest.mark.numpy_only("compares the numba step kernels with their NumPy twins")
@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
def test_numba_kernels_equal_numpy_float32(kind):
    data = [a.astype(np.float32) for a in _data(kind, seed=5)]
    results = []
    previous = kernels.enabled()
    for flag in (False, True):
        kernels.set_enabled(flag)
        try:
            tensors = [cr.Tensor(a, requires_grad=True) for a in data]
            y = _ours(kind, mask=MASK)(*tensors)
            results.append([y.numpy()] + [g.numpy() for g in cr.grad((y * y).sum(), tensors)])
        finally:
            kernels.set_enabled(previous)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_arguments_name_the_op_and_argument():
    x, h, c, kernel, recurrent, bias = _data("lstm")
    with pytest.raises(ValueError, match="lstm: kernel must have shape"):
        lstm(x, h, c, kernel[:, :-1], recurrent, bias)
    with pytest.raises(ValueError, match="lstm: initial_c must have shape"):
        lstm(x, h, c[:1], kernel, recurrent, bias)
    with pytest.raises(ValueError, match=r"gru: bias must have shape \(2, 9\)"):
        gru(x, h, *_data("gru")[2:4], np.zeros(9))
    with pytest.raises(ValueError, match="mask must have shape"):
        simple_rnn(x, h, *_data("simple_rnn")[2:], mask=np.ones((B, T + 1), bool))
    with pytest.raises(ValueError, match="inputs must be a float tensor"):
        lstm(x[0], h, c, kernel, recurrent, bias)


def test_second_derivative_is_refused_with_a_clear_error():
    data = [cr.Tensor(a, requires_grad=True) for a in _data("simple_rnn")]
    y = _ours("simple_rnn")(*data)
    with pytest.raises(NotImplementedError, match="no second derivative"):
        cr.grad(y.sum(), data[0], create_graph=True)
