"""The layers around the recurrent ones: Embedding, Masking, TimeDistributed, Bidirectional (Keras 3's arguments,
defaults, errors, masks, configs and model files)."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers

IDS = np.array([[3, 1, 0, 0], [5, 9, 2, 0]])


# --- Embedding --------------------------------------------------------------------------------------------------------
def test_embedding_defaults_follow_keras():
    layer = layers.Embedding(10, 4)
    out = layer(IDS)
    assert out.shape == (2, 4, 4) and out.dtype == np.float32
    table = layer.embeddings.numpy()
    assert table.shape == (10, 4) and np.abs(table).max() <= 0.05  # 'uniform': RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(out.numpy(), table[IDS])
    assert getattr(out, "_keras_mask", None) is None and not layer.supports_masking
    assert [w.name.split("/")[-1] for w in layer.weights] == ["embeddings"]


def test_embedding_mask_zero_masks_the_padding_ids():
    layer = layers.Embedding(10, 4, mask_zero=True)
    out = layer(IDS)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), IDS != 0)
    np.testing.assert_array_equal(layer.compute_mask(IDS).numpy(), IDS != 0)
    assert layer.supports_masking


def test_embedding_gradient_adds_up_repeated_ids_and_matches_torch():
    layer = layers.Embedding(10, 3)
    layer.build()
    ids = np.array([[1, 1, 4], [4, 0, 1]])
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(layer(ids) ** 2)
    grad = tape.gradient(loss, layer.embeddings).numpy()
    weight = torch.tensor(layer.embeddings.numpy(), requires_grad=True)
    (torch.nn.functional.embedding(torch.tensor(ids), weight) ** 2).sum().backward()
    np.testing.assert_allclose(grad, weight.grad.numpy(), rtol=1e-6)


def test_embedding_float_ids_are_cast_to_integers():
    layer = layers.Embedding(10, 2)
    np.testing.assert_array_equal(layer(IDS.astype("float32")).numpy(), layer(IDS).numpy())


@pytest.mark.parametrize("ids", [np.array([[1, 10]]), np.array([[-1, 2]])])
def test_embedding_out_of_range_ids_raise_naming_the_layer(ids):
    layer = layers.Embedding(10, 2, name="words")
    with pytest.raises(IndexError, match=r"Embedding layer 'words' \(input_dim=10\): indices\[0,[01]\] = -?1?0? is "
                                         r"not in \[0, 10\)"):
        layer(ids)


def test_embedding_out_of_range_id_in_a_compiled_fit_raises_too():
    model = keras.Sequential([keras.Input((4,), dtype="int32"), layers.Embedding(10, 2, name="words"),
                              layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(IDS, np.zeros((2, 1)), epochs=2, verbose=0)  # traced, then replayed
    with pytest.raises(IndexError, match="Embedding layer 'words'"):
        model.fit(IDS + 1, np.zeros((2, 1)), epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_dim=0, output_dim=2), "`input_dim` must be a positive integer. Received: input_dim=0"),
    (dict(input_dim=3, output_dim=2.5), "`output_dim` must be a positive integer. Received: output_dim=2.5"),
    (dict(input_dim=True, output_dim=2), "`input_dim` must be a positive integer"),
])
def test_embedding_dimensions_are_checked_as_keras_does(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        layers.Embedding(**kwargs)


def test_embedding_input_length_is_accepted_with_keras3s_warning():
    with pytest.warns(UserWarning, match="Argument `input_length` is deprecated. Just remove it."):
        layer = layers.Embedding(10, 2, input_length=4)
    assert "input_length" not in layer.get_config()


def test_embedding_initial_weights_and_regularizer():
    table = np.arange(12, dtype="float32").reshape(6, 2)
    layer = layers.Embedding(6, 2, weights=[table], embeddings_regularizer=keras.regularizers.L2(0.5))
    np.testing.assert_array_equal(layer(np.array([[5, 0]])).numpy(), table[[[5, 0]]])
    np.testing.assert_allclose(float(sum(layer.losses)), 0.5 * (table ** 2).sum())


def test_embedding_constraint_of_unknown_name_is_refused():
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: 'nope'"):
        layers.Embedding(4, 2, embeddings_constraint="nope")


def test_embedding_config_round_trip():
    layer = layers.Embedding(7, 3, mask_zero=True, embeddings_initializer="glorot_uniform", name="emb")
    config = layer.get_config()
    assert config["input_dim"] == 7 and config["output_dim"] == 3 and config["mask_zero"] is True
    clone = layers.Embedding.from_config(config)
    assert clone.get_config() == config


def test_embedding_model_file_round_trip_keeps_the_table_and_the_mask(tmp_path):
    model = keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(12, 3, mask_zero=True),
                              layers.Bidirectional(layers.LSTM(2))])
    path = tmp_path / "embedding.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].mask_zero and loaded.layers[0].input_dim == 12
    np.testing.assert_array_equal(loaded.layers[0].embeddings.numpy(), model.layers[0].embeddings.numpy())
    np.testing.assert_allclose(loaded.predict(IDS, verbose=0), model.predict(IDS, verbose=0), rtol=1e-6)


def test_embedding_output_shape_keeps_none():
    layer = layers.Embedding(7, 3)
    assert layer.compute_output_shape((None, None)) == (None, None, 3)
    out = layer(keras.Input((None,), dtype="int32"))
    assert tuple(out.shape) == (None, None, 3)


# --- Masking ----------------------------------------------------------------------------------------------------------
def _padded():
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0
    x[1, 1] = -1.0
    return x


def test_masking_masks_and_zeroes_the_steps_equal_to_the_mask_value():
    x = _padded()
    out = layers.Masking(mask_value=-1.0)(x)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), [[True] * 4, [True, False, True, True]])
    expected = x.copy()
    expected[1, 1] = 0.0
    np.testing.assert_array_equal(out.numpy(), expected)
    default = layers.Masking()(x)
    np.testing.assert_array_equal(np.asarray(default._keras_mask), [[True, True, False, False], [True] * 4])


def test_masking_passes_gradients_only_through_kept_steps():
    x = cr.Variable(_padded())
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(layers.Masking(mask_value=-1.0)(x) * 2.0)
    grad = tape.gradient(loss, x).numpy()
    assert (grad[1, 1] == 0).all() and (grad[0] == 2).all()


def test_masking_mask_reaches_the_next_layer_in_a_functional_model_and_config_round_trips():
    seen = []

    class Probe(layers.Layer):
        def call(self, inputs, mask=None):
            seen.append(None if mask is None else np.asarray(mask))
            return inputs

    inputs = keras.Input((None, 3))
    outputs = Probe()(layers.Masking(0.0)(inputs))
    keras.Model(inputs, outputs)(_padded())
    np.testing.assert_array_equal(seen[-1], [[True, True, False, False], [True] * 4])
    layer = layers.Masking(mask_value=2.5)
    assert layers.Masking.from_config(layer.get_config()).mask_value == 2.5


# --- TimeDistributed --------------------------------------------------------------------------------------------------
def test_time_distributed_dense_equals_dense_on_every_step_with_gradients():
    x = cr.Variable(np.random.default_rng(1).standard_normal((2, 5, 4)).astype("float32"))
    dense = layers.Dense(3)
    wrapped = layers.TimeDistributed(dense)
    with cr.GradientTape(persistent=True) as tape:
        out = wrapped(x)
        loss = cr.reduce_sum(out ** 2)
    assert out.shape == (2, 5, 3)
    per_step = np.stack([dense(x.numpy()[:, t]).numpy() for t in range(5)], axis=1)
    np.testing.assert_allclose(out.numpy(), per_step, rtol=1e-6)
    grad_kernel = tape.gradient(loss, dense.kernel).numpy()
    xs = x.numpy().reshape(10, 4)
    np.testing.assert_allclose(grad_kernel, xs.T @ (2 * out.numpy().reshape(10, 3)), rtol=1e-5)
    assert wrapped.trainable_weights == dense.trainable_weights


def test_time_distributed_conv2d_keeps_the_time_axis_symbolically():
    inputs = keras.Input(shape=(10, 16, 16, 3), batch_size=4)
    outputs = layers.TimeDistributed(layers.Conv2D(8, (3, 3)))(inputs)
    assert tuple(outputs.shape) == (4, 10, 14, 14, 8)
    assert layers.TimeDistributed(layers.Dense(2)).compute_output_shape((None, None, 7)) == (None, None, 2)


def test_time_distributed_needs_three_axes_and_a_layer():
    with pytest.raises(ValueError, match="`TimeDistributed` Layer should be passed an `input_shape` with at least 3"):
        layers.TimeDistributed(layers.Dense(2))(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="Please initialize `TimeDistributed` layer with a `keras.layers.Layer`"):
        layers.TimeDistributed("dense")


def test_time_distributed_passes_the_mask_on_and_into_a_layer_that_takes_one():
    seen = []

    class StepProbe(layers.Layer):
        def call(self, inputs, mask=None):
            seen.append(None if mask is None else np.asarray(mask))
            return inputs * 2.0

    ids = IDS
    embedded = layers.Embedding(10, 3, mask_zero=True)(ids)
    out = layers.TimeDistributed(StepProbe())(embedded)
    np.testing.assert_array_equal(seen[-1], (ids != 0).reshape(-1))
    np.testing.assert_array_equal(np.asarray(out._keras_mask), ids != 0)
    with pytest.raises(ValueError, match="The `mask` passed to the `TimeDistributed` layer has a shape"):
        layers.TimeDistributed(StepProbe())(embedded.numpy(), mask=np.ones((2, 3), bool))


def test_time_distributed_embedding_gives_the_inner_mask_per_step():
    ids = np.array([[[1, 0], [2, 2]], [[0, 0], [3, 0]]])  # (batch, steps, words)
    out = layers.TimeDistributed(layers.Embedding(5, 2, mask_zero=True))(ids)
    assert out.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), ids != 0)


def test_time_distributed_config_and_model_file_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((5, 4)), layers.TimeDistributed(layers.Dense(3, activation="relu")),
                              layers.TimeDistributed(layers.Dropout(0.5))])
    config = model.layers[0].get_config()
    assert config["layer"]["class_name"] == "Dense" and config["layer"]["config"]["units"] == 3
    clone = layers.TimeDistributed.from_config(config)
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 3
    x = np.random.default_rng(2).standard_normal((3, 5, 4)).astype("float32")
    path = tmp_path / "td.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_time_distributed_training_flag_reaches_the_wrapped_dropout():
    layer = layers.TimeDistributed(layers.Dropout(0.5, seed=1))
    x = np.ones((2, 6, 8), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert (layer(x, training=True).numpy() == 0).any()


# --- a model of them, in fit (traced and replayed) --------------------------------------------------------------------
def assert_fit_replays_like_eager(build, x, y, optimizer: str, loss: str, batch_size: int) -> None:
    """Two models from ``build`` (which seeds), one fit traced and replayed, one eagerly: the loss falls and both
    end with the same losses and weights, bit for bit."""
    traced, eager = build(), build()
    traced.compile(optimizer, loss)
    eager.compile(optimizer, loss, run_eagerly=True)
    h1 = traced.fit(x, y, epochs=3, batch_size=batch_size, verbose=0, shuffle=False).history["loss"]
    h2 = eager.fit(x, y, epochs=3, batch_size=batch_size, verbose=0, shuffle=False).history["loss"]
    assert h1[-1] < h1[0]
    np.testing.assert_array_equal(h1, h2)
    for a, b in zip(traced.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_embedding_masking_time_distributed_model_trains_and_replays_like_eager():
    def build():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,), dtype="int32"), layers.Embedding(10, 3, mask_zero=True),
                                  layers.TimeDistributed(layers.Dense(2)), layers.GlobalAveragePooling1D(),
                                  layers.Dense(1)])
        return model

    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 10, (16, 4)), rng.standard_normal((16, 1)).astype("float32")
    assert_fit_replays_like_eager(build, x, y, "sgd", "mse", batch_size=8)


def test_no_mask_warning_from_layers_that_pass_masks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.TimeDistributed(layers.Dense(2))(layers.Embedding(10, 3, mask_zero=True)(IDS))


# --- Bidirectional ----------------------------------------------------------------------------------------------------
def _torch_bidirectional_lstm(bi, x):
    """PyTorch's bidirectional LSTM with the two Keras LSTMs' weights (gate order i, f, c, o in both), run on ``x``
    (a float64 torch tensor)."""
    lstm = torch.nn.LSTM(x.shape[-1], bi.forward_layer.cell.units, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for suffix, layer in (("", bi.forward_layer), ("_reverse", bi.backward_layer)):
            kernel, recurrent, bias = (w.numpy().astype("float64") for w in layer.cell.weights)
            getattr(lstm, f"weight_ih_l0{suffix}").copy_(torch.tensor(kernel.T))
            getattr(lstm, f"weight_hh_l0{suffix}").copy_(torch.tensor(recurrent.T))
            getattr(lstm, f"bias_ih_l0{suffix}").copy_(torch.tensor(bias))
            getattr(lstm, f"bias_hh_l0{suffix}").zero_()
    return lstm(x)


def _sequences(shape=(3, 6, 4), seed=7):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def test_bidirectional_lstm_equals_torchs_bidirectional_lstm_with_the_same_weights():
    x = _sequences()
    bi = layers.Bidirectional(layers.LSTM(5, return_sequences=True, return_state=True))
    out, h_f, c_f, h_b, c_b = bi(x)
    ref, (h, c) = _torch_bidirectional_lstm(bi, torch.tensor(x, dtype=torch.float64))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    for mine, theirs in ((h_f, h[0]), (h_b, h[1]), (c_f, c[0]), (c_b, c[1])):
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert bi.forward_layer.name.startswith("forward_") and bi.backward_layer.name.startswith("backward_")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards


def test_bidirectional_last_outputs_and_input_gradient_match_torch():
    x = _sequences()
    bi = layers.Bidirectional(layers.LSTM(4))
    xv = cr.Variable(x)
    with cr.GradientTape() as tape:
        out = bi(xv)
        loss = cr.reduce_sum(out ** 2)
    grad = tape.gradient(loss, xv)
    xs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    full, _ = _torch_bidirectional_lstm(bi, xs)
    last = torch.cat([full[:, -1, :4], full[:, 0, 4:]], dim=-1)  # the forward's last step, the backward's first
    (last ** 2).sum().backward()
    np.testing.assert_allclose(out.numpy(), last.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), xs.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mul", "ave", None])
def test_bidirectional_merge_modes(mode):
    x = _sequences()
    concat = layers.Bidirectional(layers.LSTM(3, return_sequences=True))
    both = concat(x).numpy()
    forward, backward = both[..., :3], both[..., 3:]
    other = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=mode)
    other.build((None, 6, 4))
    other.set_weights(concat.get_weights())
    out = other(x)
    if mode is None:
        np.testing.assert_allclose(out[0].numpy(), forward, rtol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), backward, rtol=1e-6)
    else:
        expected = {"sum": forward + backward, "mul": forward * backward, "ave": (forward + backward) / 2}[mode]
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-7)
        assert other.compute_output_shape((None, 6, 4)) == (None, 6, 3)


def test_bidirectional_splits_initial_state_first_half_forwards():
    x = _sequences()
    h0 = [np.random.default_rng(k).standard_normal((3, 4)).astype("float32") for k in range(4)]
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    out = bi(x, initial_state=h0).numpy()
    forward = bi.forward_layer(x, initial_state=h0[:2]).numpy()
    backward = bi.backward_layer(x, initial_state=h0[2:]).numpy()[:, ::-1]
    np.testing.assert_allclose(out, np.concatenate([forward, backward], -1), rtol=1e-6)


def test_bidirectional_with_a_mask_gives_each_sequence_what_it_gives_unpadded():
    ids = np.array([[4, 2, 7, 0, 0], [3, 3, 1, 5, 9]])
    embedding = layers.Embedding(10, 4, mask_zero=True)
    bi = layers.Bidirectional(layers.LSTM(3, return_sequences=True))
    out = bi(embedding(ids))
    assert np.asarray(out._keras_mask).tolist() == (ids != 0).tolist()
    alone = bi(embedding(ids[:1, :3])).numpy()
    np.testing.assert_allclose(out.numpy()[0, :3], alone[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out.numpy()[0, 3:], 0.0)  # masked steps of a merged sequence are 0, as Keras
    last = layers.Bidirectional(layers.GRU(3))
    np.testing.assert_allclose(last(embedding(ids)).numpy()[0], last(embedding(ids[:1, :3])).numpy()[0],
                               rtol=1e-5, atol=1e-6)


def test_bidirectional_backward_layer_and_argument_errors():
    backward = layers.LSTM(3, activation="relu", go_backwards=True, return_sequences=True, name="back")
    bi = layers.Bidirectional(layers.LSTM(3, return_sequences=True), backward_layer=backward)
    assert bi.backward_layer is backward and bi(_sequences()).shape == (3, 6, 6)
    with pytest.raises(ValueError, match="Forward layer and backward layer should have different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3))
    with pytest.raises(ValueError, match='expected to have the same value for attribute "return_sequences"'):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="Invalid merge mode. Received: max"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="Please initialize `Bidirectional` layer with a `keras.layers.Layer`"):
        layers.Bidirectional("lstm")


def test_bidirectional_in_a_functional_model_with_states_config_and_model_file(tmp_path):
    inputs = keras.Input((None, 4))
    outputs = layers.Bidirectional(layers.GRU(3, return_state=True), merge_mode="sum")(inputs)
    assert [tuple(t.shape) for t in outputs] == [(None, 3), (None, 3), (None, 3)]
    model = keras.Model(inputs, outputs[0])
    bi = model.layers[1]
    config = bi.get_config()
    assert config["merge_mode"] == "sum" and config["layer"]["class_name"] == "GRU"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = layers.Bidirectional.from_config(config)
    assert clone.forward_layer.name == bi.forward_layer.name and clone.backward_layer.go_backwards
    x = _sequences()
    path = tmp_path / "bi.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_text_classifier_with_bidirectional_lstm_trains_and_replays_like_eager():
    def build():
        keras.utils.set_random_seed(11)
        return keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(50, 8, mask_zero=True),
                                 layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
                                 layers.Bidirectional(layers.LSTM(4)), layers.Dense(1, activation="sigmoid")])

    rng = np.random.default_rng(12)
    x = rng.integers(1, 50, (32, 7))
    x[::2, 5:] = 0
    y = (x[:, 0] > 25).astype("float32")
    assert_fit_replays_like_eager(build, x, y, "adam", "binary_crossentropy", batch_size=16)


def test_bidirectional_stateful_carries_and_resets_both_directions_states():
    x = _sequences()
    bi = layers.Bidirectional(layers.LSTM(3, stateful=True))
    assert bi.states is None
    first = bi(x).numpy()
    assert len(bi.states) == 4 and bi.states[0].shape == (3, 3)
    assert not np.allclose(bi(x).numpy(), first)
    bi.reset_states()
    np.testing.assert_allclose(bi(x).numpy(), first, rtol=1e-6)
    with pytest.raises(AttributeError, match="Layer must be stateful."):
        layers.Bidirectional(layers.LSTM(3)).reset_state()


@pytest.mark.parametrize("front", ["embedding", "masking"])
def test_a_padded_batch_gives_the_unpadded_sequences_gradients(front):
    """Padding masked by Embedding(mask_zero=True) or Masking changes neither the outputs nor any weight's gradient:
    the padded batch's loss gradient equals the sum of each real sequence's alone."""
    keras.utils.set_random_seed(21)
    if front == "embedding":
        sequences = [np.array([[4, 2, 7]]), np.array([[3, 3, 1, 5, 9]])]
        padded = np.array([[4, 2, 7, 0, 0], [3, 3, 1, 5, 9]])
        first = [keras.Input((None,), dtype="int32"), layers.Embedding(10, 4, mask_zero=True)]
    else:
        rng = np.random.default_rng(22)
        sequences = [rng.standard_normal((1, 3, 4)).astype("float32") + 2,
                     rng.standard_normal((1, 5, 4)).astype("float32") + 2]
        padded = np.zeros((2, 5, 4), "float32")
        padded[0, :3], padded[1] = sequences[0][0], sequences[1][0]
        first = [keras.Input((None, 4)), layers.Masking()]
    model = keras.Sequential([*first, layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
                              layers.TimeDistributed(layers.Dense(2)), layers.Bidirectional(layers.GRU(2))])
    model(padded)

    def loss_and_grads(x):
        with cr.GradientTape() as tape:
            out = model(x)
            loss = cr.reduce_sum(out * out)
        return out.numpy(), [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]

    out, grads = loss_and_grads(padded)
    alone = [loss_and_grads(x) for x in sequences]
    np.testing.assert_allclose(out, np.concatenate([a[0] for a in alone]), rtol=1e-5, atol=1e-6)
    for mine, *theirs in zip(grads, *(a[1] for a in alone)):
        np.testing.assert_allclose(mine, sum(theirs), rtol=1e-4, atol=1e-6)
