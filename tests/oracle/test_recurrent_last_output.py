"""The recurrent ops with ``return_sequences=False`` (lstm, gru both ways, simple_rnn) keep no per-step outputs: their
results and every gradient equal the full op's last output and final states, on each path (the float32 whole-loop
kernels, the float64 per-step kernels, NumPy without numba, another backend's namespace), masks, go_backwards and zero
outputs for masked steps included; and the Keras layers without ``return_sequences`` take them and return what they
returned before."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, keras
from chainrule.backend import kernels
from chainrule.ops.recurrent import gru, lstm, simple_rnn

B, T, D, H = 5, 6, 3, 4
MASK = np.array([[1, 1, 1, 1, 0, 0], [1] * 6, [0, 1, 1, 0, 1, 1], [1, 1, 0, 0, 0, 0], [1, 0, 1, 1, 1, 0]], bool)
# kind: (op, gates, states, bias shape, settings)
OPS = {"lstm": (lstm, 4, 2, (4 * H,), {}), "gru": (gru, 3, 1, (2, 3 * H), {}),
       "gru_reset_before": (gru, 3, 1, (3 * H,), {"reset_after": False}), "simple_rnn": (simple_rnn, 1, 1, (H,), {})}


def _results(kind, dtype, last_only: bool, masked: bool, **settings):
    """(last output, *final states) and the gradients of x, the initial states, W, U, b for one weighted sum of the
    results."""
    fn, gates, states, bias, extra = OPS[kind]
    rng = np.random.default_rng(3)
    shapes = [(B, T, D), *[(B, H)] * states, (D, gates * H), (H, gates * H), bias]
    variables = [cr.Variable(backend.to_device((rng.standard_normal(s) * 0.6).astype(dtype))) for s in shapes]
    weights = [cr.constant(backend.to_device(rng.standard_normal((B, H)).astype(dtype))) for _ in range(1 + states)]
    mask = backend.to_device(MASK) if masked else None
    with cr.GradientTape() as tape:
        outputs, h, *rest = fn(*variables, mask=mask, return_sequences=not last_only, **settings, **extra)
        results = (outputs if last_only else outputs[:, -1], h, *rest)
        loss = sum(cr.reduce_sum(r * w) for r, w in zip(results, weights))
    if last_only and not (masked and settings.get("zero_output_for_mask")):
        assert tuple(h.node.inputs[0].shape) == (B, states, H)  # the node's output holds the final states only
    return [r.numpy() for r in results] + [g.numpy() for g in tape.gradient(loss, variables)]


SETTINGS = [dict(masked=False), dict(masked=True), dict(masked=True, go_backwards=True),
            dict(masked=False, go_backwards=True), dict(masked=True, zero_output_for_mask=True)]


@pytest.mark.parametrize("kind", sorted(OPS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("numba_on", [True, False])
@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: "-".join(k for k, v in s.items() if v) or "plain")
def test_the_last_output_alone_equals_the_full_op(kind, dtype, numba_on, settings):
    previous = kernels.enabled()
    kernels.set_enabled(numba_on and previous)
    try:
        alone, full = _results(kind, dtype, True, **settings), _results(kind, dtype, False, **settings)
    finally:
        kernels.set_enabled(previous)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for i, (a, f) in enumerate(zip(alone, full)):
        np.testing.assert_allclose(a, f, rtol=tolerance, atol=tolerance, err_msg=f"result {i}")


@pytest.mark.parametrize("kind", sorted(OPS))
def test_zero_outputs_for_a_masked_last_step_are_kept_without_sequences(kind):
    # row 0's last step is masked: with zero_output_for_mask its last output is zeros, not its final h
    last, h = _results(kind, "float32", True, True, zero_output_for_mask=True)[:2]
    assert not last[0].any() and h[0].any()
    np.testing.assert_array_equal(last[1], h[1])


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("masked,zero_output", [(False, False), (True, False), (True, True)])
def test_the_layer_without_return_sequences_returns_the_last_output(layer, masked, zero_output):
    x = backend.to_device(np.random.default_rng(5).standard_normal((B, T, D)).astype(np.float32))
    mask = backend.to_device(MASK) if masked else None
    last = getattr(keras.layers, layer)(H, zero_output_for_mask=zero_output)
    every = getattr(keras.layers, layer)(H, zero_output_for_mask=zero_output, return_sequences=True)
    got = last(x, mask=mask)
    every(x, mask=mask)
    every.set_weights(last.get_weights())
    np.testing.assert_allclose(got.numpy(), every(x, mask=mask).numpy()[:, -1], rtol=1e-6, atol=1e-7)
