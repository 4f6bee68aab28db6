"""The strict backend's lane for the recurrent ops: lstm, gru (reset_after both ways) and simple_rnn, forward and every
gradient, on array-api-strict's second device equal to the NumPy backend's (its numba kernels), with and without a
mask, the outputs of every step or the last one only (``return_sequences`` both ways), backwards and with zeros for
masked outputs; and short Keras models (two LSTMs; a GRU and a SimpleRNN) trained there equal to NumPy. What runs
here is what a GPU runs: off NumPy the ops take only the array API (chainrule/ops/recurrent_namespace.py)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

import chainrule as cr  # noqa: E402
from chainrule import backend  # noqa: E402
from chainrule.ops import recurrent_namespace  # noqa: E402
from chainrule.ops.recurrent import gru, lstm, simple_rnn  # noqa: E402
from test_strict_backend import COVERED, _normal, _run  # noqa: E402

B, T, D, H = 3, 5, 4, 3
# padded ends, a gap, a masked first step and a row that is all real
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 1]], bool)
OPS = {"lstm": (lstm, 4, 2), "gru": (gru, 3, 1), "simple_rnn": (simple_rnn, 1, 1)}


def _small(shape, rng):
    return _normal(shape, rng) * np.float32(0.5)


def _case(kind: str, masked: bool, return_sequences: bool, last_only: bool = False, **settings):
    """A case for test_strict_backend's ``_run``: (function of Tensors, input specs), every input differentiable;
    ``last_only``: the op itself without the outputs of every step (lstm's ``return_sequences=False``)."""
    fn, gates, states = OPS[kind]
    reset_after = settings.get("reset_after", True)
    bias = (2, gates * H) if kind == "gru" and reset_after else (gates * H,)
    shapes = [(B, T, D), *[(B, H)] * states, (D, gates * H), (H, gates * H), bias]

    def run(x, *rest):
        mask = backend.to_device(MASK) if masked else None  # on the device of the backend the case runs on
        if last_only:
            return fn(x, *rest[:states], *rest[states:], mask=mask, return_sequences=False, **settings)[0]
        outs = fn(x, *rest[:states], *rest[states:], mask=mask, **settings)
        if not return_sequences:  # what the layer returns: the final h, or the last output where zeros replace it
            return outs[0][:, -1] if masked and settings.get("zero_output_for_mask") else outs[1]
        return cr.concat([cr.reshape(outs[0], (B, -1)), *outs[1:]], axis=1)
    return run, [(_small, shape, True) for shape in shapes]


CASES = {
    f"{kind}{'_masked' if masked else ''}{'_sequences' if sequences else '_last'}": _case(kind, masked, sequences)
    for kind in OPS for masked in (False, True) for sequences in (True, False)
}
CASES.update({
    "gru_reset_before_sequences": _case("gru", False, True, reset_after=False),
    "gru_reset_before_masked_last": _case("gru", True, False, reset_after=False),
    "lstm_masked_backwards_sequences": _case("lstm", True, True, go_backwards=True),
    "lstm_masked_zero_outputs_last": _case("lstm", True, False, zero_output_for_mask=True),
    "gru_masked_zero_outputs_sequences": _case("gru", True, True, zero_output_for_mask=True),
    "simple_rnn_backwards_last": _case("simple_rnn", False, False, go_backwards=True),
    "lstm_last_only": _case("lstm", False, False, last_only=True),
    "lstm_masked_backwards_last_only": _case("lstm", True, False, last_only=True, go_backwards=True),
})


@pytest.mark.parametrize("name", sorted(CASES))
def test_recurrent_op_on_strict_equals_numpy(name, strict, monkeypatch):
    monkeypatch.setitem(COVERED, name, CASES[name])
    got, got_grads = _run(name, strict.from_host)
    backend.set_backend("numpy")
    want, want_grads = _run(name, lambda x: x)
    # (the NumPy backend's float32 kernels use a rational tanh within float32 rounding of the exact one)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6, err_msg=f"{name}: forward")
    assert len(got_grads) == len(want_grads)
    for i, (g, w) in enumerate(zip(got_grads, want_grads)):
        assert g is not None and w is not None, f"{name}: gradient of input {i}"
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=2e-6, err_msg=f"{name}: gradient of input {i}")


def test_the_namespace_path_keeps_the_arrays_on_the_device(strict):
    x = cr.Variable(strict.from_host(np.ones((B, T, D), np.float32)))
    out, h, c = lstm(x, None, None, strict.from_host(np.full((D, 4 * H), 0.1, np.float32)),
                     strict.from_host(np.zeros((H, 4 * H), np.float32)), mask=strict.from_host(MASK))
    assert all(strict.owns(t.data) for t in (out, h, c))
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(lstm(x, None, None, strict.from_host(np.full((D, 4 * H), 0.1, np.float32)),
                                  strict.from_host(np.zeros((H, 4 * H), np.float32)))[1])
    assert strict.owns(tape.gradient(loss, x).data)


STACKS = {"lstm": lambda layers: [layers.LSTM(6, return_sequences=True), layers.LSTM(4)],
          "gru_simple_rnn": lambda layers: [layers.GRU(6, return_sequences=True),
                                            layers.SimpleRNN(4, go_backwards=True)]}


def _fit(backend_name: str, stack: str) -> tuple[list[float], list[np.ndarray]]:
    """Two epochs of a small recurrent classifier (the RNN guide's shape, shrunk) on a fixed problem: losses,
    weights."""
    from chainrule import keras

    backend.set_backend(backend_name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 7, 5)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int32)
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((7, 5)), *STACKS[stack](keras.layers), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return history.history["loss"], [w.numpy() for w in model.weights]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_keras_recurrent_model_trains_on_strict_as_on_numpy(stack, strict, monkeypatch):
    runs = []
    forward = recurrent_namespace.Sequence.forward
    monkeypatch.setattr(recurrent_namespace.Sequence, "forward", lambda *args: runs.append(1) or forward(*args))
    got_losses, got_weights = _fit("strict", stack)
    assert runs, "the layers took the fused op's namespace path"
    want_losses, want_weights = _fit("numpy", stack)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-5)
    assert want_losses[-1] < want_losses[0]
    for got, want in zip(got_weights, want_weights):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
