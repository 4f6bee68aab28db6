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


def test_embedding_constraint_other_than_none_is_refused():
    with pytest.raises(NotImplementedError, match="embeddings_constraint"):
        layers.Embedding(4, 2, embeddings_constraint="non_neg")


def test_embedding_config_round_trip():
    layer = layers.Embedding(7, 3, mask_zero=True, embeddings_initializer="glorot_uniform", name="emb")
    config = layer.get_config()
    assert config["input_dim"] == 7 and config["output_dim"] == 3 and config["mask_zero"] is True
    clone = layers.Embedding.from_config(config)
    assert clone.get_config() == config


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
def test_embedding_masking_time_distributed_model_trains_and_replays_like_eager():
    def build():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,), dtype="int32"), layers.Embedding(10, 3, mask_zero=True),
                                  layers.TimeDistributed(layers.Dense(2)), layers.GlobalAveragePooling1D(),
                                  layers.Dense(1)])
        return model

    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 10, (16, 4)), rng.standard_normal((16, 1)).astype("float32")
    traced, eager = build(), build()
    traced.compile("sgd", "mse")
    eager.compile("sgd", "mse", run_eagerly=True)
    h1 = traced.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False).history["loss"]
    h2 = eager.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False).history["loss"]
    assert h1[-1] < h1[0]
    np.testing.assert_array_equal(h1, h2)
    for a, b in zip(traced.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_no_mask_warning_from_layers_that_pass_masks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.TimeDistributed(layers.Dense(2))(layers.Embedding(10, 3, mask_zero=True)(IDS))
