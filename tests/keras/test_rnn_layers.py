"""Recurrent layers: SimpleRNN, LSTM, GRU (fused op and cell loop), the cells, RNN over a user's cell, StackedRNNCells;
against PyTorch with mapped weights, masks, initial and final states, stateful layers, config and model files, symbolic
shapes with an unknown time axis, and fit replaying recurrent models bit for bit."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import keras
from chainrule.engine.tracer import Program
from chainrule.keras import layers as L

B, T, D, H = 3, 5, 4, 6


def _x(seed=0, shape=(B, T, D)):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _pair(cls, **kwargs):
    """The same layer twice, weights equal: the fused op's path and the cell loop's (use_cudnn=False)."""
    fused, loop = cls(H, **kwargs), cls(H, use_cudnn=False, **kwargs)
    x = _x()
    fused(x), loop(x)
    rng = np.random.default_rng(1)
    fused.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.4 for w in fused.get_weights()])
    loop.set_weights(fused.get_weights())
    return fused, loop


def _outputs_and_grads(layer, x, mask=None, training=None):
    xt = cr.Tensor(x, requires_grad=True)
    outs = layer(xt, mask=mask, training=training)
    outs = outs if isinstance(outs, list) else [outs]
    loss = sum(((o * o).sum() for o in outs), cr.Tensor(0.0))
    grads = cr.grad(loss, [xt] + layer.trainable_weights)
    return [o.numpy() for o in outs] + [g.numpy() for g in grads]


MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 1]], bool)
CONFIGS = [dict(), dict(return_sequences=True, return_state=True), dict(go_backwards=True, return_sequences=True),
           dict(return_sequences=True, zero_output_for_mask=True)]


@pytest.mark.parametrize("cls, extra", [(L.SimpleRNN, {}), (L.LSTM, {}), (L.GRU, {}),
                                        (L.GRU, dict(reset_after=False)), (L.LSTM, dict(use_bias=False))],
                         ids=["simple", "lstm", "gru", "gru-reset-before", "lstm-no-bias"])
@pytest.mark.parametrize("config", CONFIGS, ids=["last", "sequences-states", "backwards", "zero-output"])
@pytest.mark.parametrize("masked", [False, True])
def test_fused_op_and_cell_loop_give_the_same_numbers(cls, extra, config, masked):
    fused, loop = _pair(cls, **config, **extra)
    mask = cr.Tensor(MASK) if masked else None
    for a, b in zip(_outputs_and_grads(fused, _x(2), mask), _outputs_and_grads(loop, _x(2), mask)):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_fused_path_is_taken_only_where_it_computes_the_configuration(monkeypatch):
    calls = []
    import chainrule.keras.layers.rnn.lstm as lstm_module

    real = lstm_module.lstm
    monkeypatch.setattr(lstm_module, "lstm", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = _x()
    L.LSTM(3)(x)
    assert calls == [1]
    L.LSTM(3, activation="relu")(x)
    L.LSTM(3, unroll=True)(x)
    L.LSTM(3, recurrent_dropout=0.5)(x, training=True)
    L.LSTM(3, use_cudnn=False)(x)
    assert calls == [1]
    L.LSTM(3, recurrent_dropout=0.5)(x, training=False)
    assert calls == [1, 1]
    with pytest.raises(ValueError, match="use_cudnn=True was specified"):
        L.LSTM(3, activation="relu", use_cudnn=True)(x)


def _torch_module(layer):
    """PyTorch's module with ``layer``'s weights (Keras's gate orders mapped: LSTM same, GRU z,r,h -> r,z,n)."""
    kernel, recurrent, *bias = [torch.tensor(w, dtype=torch.float64) for w in layer.get_weights()]
    kind = type(layer).__name__
    module = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}[kind](
        kernel.shape[0], recurrent.shape[0], batch_first=True, dtype=torch.float64)

    def order(w):
        if kind != "GRU":
            return w
        z, r, h = torch.chunk(w, 3, dim=0)
        return torch.cat([r, z, h])
    with torch.no_grad():
        module.weight_ih_l0.copy_(order(kernel.T))
        module.weight_hh_l0.copy_(order(recurrent.T))
        if kind == "GRU":
            module.bias_ih_l0.copy_(order(bias[0][0]))
            module.bias_hh_l0.copy_(order(bias[0][1]))
        else:
            module.bias_ih_l0.copy_(bias[0])
            module.bias_hh_l0.zero_()
    return module


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
@pytest.mark.parametrize("use_cudnn", ["auto", False])
def test_layers_match_torch_with_mapped_weights(cls, use_cudnn):
    layer = cls(H, return_sequences=True, use_cudnn=use_cudnn, dtype="float64")
    x = _x(3).astype("float64")
    ours = layer(x).numpy()
    theirs = _torch_module(layer)(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_keras_defaults_initializers_and_weights():
    layer = L.LSTM(H)
    layer(_x())
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (D, 4 * H) and recurrent.shape == (H, 4 * H) and bias.shape == (4 * H,)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(H), atol=1e-5)  # orthogonal (rows orthonormal)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(H), np.ones(H), np.zeros(2 * H)])  # unit_forget_bias
    assert [w.name for w in layer.weights] == ["lstm_cell/kernel", "lstm_cell/recurrent_kernel", "lstm_cell/bias"]
    gru = L.GRU(H)
    gru(_x())
    assert [w.shape for w in gru.get_weights()] == [(D, 3 * H), (H, 3 * H), (2, 3 * H)]
    assert L.GRU(H, reset_after=False).cell._bias_shape() == (3 * H,)
    assert (layer.units, layer.dropout, layer.return_sequences) == (H, 0.0, False)


def test_initial_state_and_return_state():
    layer = L.LSTM(H, return_state=True, return_sequences=True)
    x = _x()
    h0, c0 = _x(4, (B, H)), _x(5, (B, H))
    out, h, c = layer(x, initial_state=[h0, c0])
    loop = L.LSTM(H, return_state=True, return_sequences=True, use_cudnn=False)
    loop(x)
    loop.set_weights(layer.get_weights())
    out2, h2, c2 = loop(x, initial_state=[h0, c0])
    np.testing.assert_allclose(out.numpy(), out2.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), c2.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out.numpy()[:, -1], h.numpy())
    assert not np.allclose(out.numpy(), layer(x)[0].numpy())  # the initial state matters


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
def test_padded_batch_through_a_mask_layer_equals_the_unpadded_sequences(cls):
    """Masking(0) in front: each padded sequence's output and the weights' gradients equal the unpadded ones'."""
    lengths = [5, 2, 4]
    x = _x(6)
    for b, n in enumerate(lengths):
        x[b, n:] = 0.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, D)), L.Masking(0.0), cls(H)])
    padded = model(x).numpy()
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(padded[b], model(x[b:b + 1, :n]).numpy()[0], rtol=1e-5, atol=1e-6)
    weights = model.trainable_weights
    padded_grads = cr.grad((model(x) ** 2).sum(), weights)
    alone = [cr.grad((model(x[b:b + 1, :n]) ** 2).sum(), weights) for b, n in enumerate(lengths)]
    for k, g in enumerate(padded_grads):
        np.testing.assert_allclose(g.numpy(), sum(a[k].numpy() for a in alone), rtol=1e-4, atol=1e-5)


class MinimalRNNCell(L.Layer):
    """Keras's example cell (keras.layers.RNN's docstring)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = keras.ops.matmul(inputs, self.kernel)
        output = h + keras.ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_rnn_runs_a_users_cell_and_stacked_cells():
    x = _x()
    layer = L.RNN(MinimalRNNCell(H), return_sequences=True)
    out = layer(x).numpy()
    k, u = [w.numpy() for w in layer.weights]
    h = np.zeros((B, H), "float32")
    for t in range(T):
        h = x[:, t] @ k + h @ u
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)
    stacked = L.RNN([MinimalRNNCell(4), MinimalRNNCell(H)], return_state=True)
    last, s1, s2 = stacked(x)
    assert tuple(last.shape) == (B, H) and tuple(s1.shape) == (B, 4)
    np.testing.assert_array_equal(last.numpy(), s2.numpy())
    # LSTM cells stacked: the same numbers as two LSTM layers with those weights
    cells = L.RNN([L.LSTMCell(4), L.LSTMCell(H)])
    cells(x)
    first, second = L.LSTM(4, return_sequences=True), L.LSTM(H)
    second(first(x))
    first.set_weights(cells.get_weights()[:3])
    second.set_weights(cells.get_weights()[3:])
    np.testing.assert_allclose(cells(x).numpy(), second(first(x)).numpy(), rtol=1e-5, atol=1e-6)


class NestedCell(L.Layer):
    """The guide 'Working with RNNs' cell with nested inputs and states (a vector and a matrix)."""

    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        super().__init__(**kwargs)
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [(unit_1,), (unit_2, unit_3)]
        self.output_size = [(unit_1,), (unit_2, unit_3)]

    def build(self, input_shapes):
        i1, i2, i3 = input_shapes[0][1], input_shapes[1][1], input_shapes[1][2]
        self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), initializer="uniform", name="kernel_1")
        self.kernel_2_3 = self.add_weight(shape=(i2, i3, self.unit_2, self.unit_3), initializer="uniform",
                                          name="kernel_2_3")

    def call(self, inputs, states):
        input_1, input_2 = inputs
        s1, s2 = states
        output_1 = keras.ops.matmul(input_1, self.kernel_1)
        output_2_3 = keras.ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        state_1 = s1 + output_1
        state_2_3 = s2 + output_2_3
        return (output_1, output_2_3), [state_1, state_2_3]


def test_a_cell_with_nested_inputs_and_states():
    rnn = L.RNN(NestedCell(2, 3, 4))
    x1, x2 = _x(7, (B, T, 5)), _x(8, (B, T, 3, 4))
    out_1, out_2 = rnn((x1, x2))
    assert tuple(out_1.shape) == (B, 2) and tuple(out_2.shape) == (B, 3, 4)
    inp_1, inp_2 = keras.Input((None, 5)), keras.Input((None, 3, 4))
    model = keras.Model([inp_1, inp_2], L.RNN(NestedCell(2, 3, 4))((inp_1, inp_2)))
    assert [tuple(o.shape) for o in model.outputs] == [(None, 2), (None, 3, 4)]


def test_symbolic_shapes_keep_the_unknown_time_axis():
    inputs = keras.Input((None, D))
    seq, h, c = L.LSTM(H, return_sequences=True, return_state=True)(inputs)
    assert tuple(seq.shape) == (None, None, H) and tuple(h.shape) == (None, H)
    out = L.GRU(3)(L.SimpleRNN(H, return_sequences=True)(inputs))
    assert tuple(out.shape) == (None, 3)
    assert L.LSTM(H, return_sequences=True).compute_output_shape((None, None, D)) == (None, None, H)
    model = keras.Model(inputs, out)
    assert tuple(model(_x()).shape) == (B, 3)


def test_stateful_layers_carry_their_state_until_reset():
    layer = L.SimpleRNN(H, stateful=True)
    x = _x()
    first = layer(x).numpy()
    second = layer(x).numpy()
    assert not np.allclose(first, second)
    layer.reset_states()
    np.testing.assert_array_equal(layer(x).numpy(), first)
    with pytest.raises(ValueError, match="batch size"):
        layer(x[:2])
    assert layer.weights == layer.cell.weights  # the states are no weights (Keras)


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
def test_config_round_trip_and_model_file(cls, tmp_path):
    layer = cls(H, return_sequences=True, go_backwards=True, dropout=0.1, recurrent_dropout=0.2, seed=3,
                kernel_regularizer="l2")
    config = layer.get_config()
    assert config["units"] == H and config["go_backwards"] and config["recurrent_dropout"] == 0.2
    assert "cell" not in config
    again = cls.from_config(config)
    assert again.get_config() == config
    model = keras.Sequential([keras.Input((T, D)), cls(H, return_sequences=True), L.LSTM(3)])
    x = _x()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_generic_rnn_config_round_trip_with_a_registered_cell():
    layer = L.RNN(L.GRUCell(4, reset_after=False), return_state=True, unroll=True)
    again = L.RNN.from_config(layer.get_config())
    assert isinstance(again.cell, L.GRUCell) and not again.cell.reset_after and again.unroll
    stacked = L.RNN(L.StackedRNNCells([L.SimpleRNNCell(3), L.LSTMCell(2)]))
    again = L.RNN.from_config(stacked.get_config())
    assert [type(c) for c in again.cell.cells] == [L.SimpleRNNCell, L.LSTMCell]


def test_dropout_in_training_only_and_the_same_in_both_paths():
    fused, loop = _pair(L.LSTM, dropout=0.5, seed=1)
    x = _x()
    np.testing.assert_allclose(fused(x).numpy(), loop(x).numpy(), rtol=1e-5, atol=1e-6)  # inference: no dropout
    fused.cell.seed_generator.state.assign(np.array([9, 0], np.uint32))
    loop.cell.seed_generator.state.assign(np.array([9, 0], np.uint32))
    a, b = fused(x, training=True).numpy(), loop(x, training=True).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(a, fused(x).numpy())


def _train(build, x, y, run_eagerly):
    keras.utils.set_random_seed(7)
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    return model, history.history


@pytest.mark.parametrize("build", [
    lambda: keras.Sequential([keras.Input((T, D)), L.LSTM(8), L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([keras.Input((T, D)), L.GRU(8, return_sequences=True, dropout=0.2),
                              L.SimpleRNN(4), L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([keras.Input((T, D)), L.Masking(0.0), L.LSTM(6, recurrent_dropout=0.2),
                              L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([keras.Input((T, D)), L.Masking(0.0), L.Bidirectional(L.GRU(5)),
                              L.Dense(3, activation="softmax")]),
], ids=["lstm", "gru-dropout-simple", "masked-cell-loop", "masked-fused-bidirectional"])
def test_fit_replays_recurrent_models_bit_for_bit_as_eagerly(build):
    x = _x(9, (40, T, D))
    x[::3, 3:] = 0.0  # padding the mask layer hides
    y = np.random.default_rng(0).integers(0, 3, 40)
    eager, eager_history = _train(build, x, y, True)
    replays = []
    run = Program.run
    Program.run = lambda self, *args: replays.append(1) or run(self, *args)
    try:
        replayed, replayed_history = _train(build, x, y, False)
    finally:
        Program.run = run
    assert replays
    assert replayed_history == eager_history
    for a, b in zip(eager.get_weights(), replayed.get_weights()):
        assert a.tobytes() == b.tobytes()


def test_bad_input_names_the_layer():
    with pytest.raises(ValueError, match="ndim=3"):
        L.LSTM(3)(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        L.GRU(0)
    with pytest.raises(ValueError, match="expects 2 initial state"):
        L.LSTM(3)(_x(), initial_state=[np.zeros((B, 3), "float32")])
    with pytest.raises(ValueError, match="state_size"):
        L.RNN(L.Dense(3))
