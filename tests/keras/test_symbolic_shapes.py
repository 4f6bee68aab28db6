"""Symbolic calls keep unknown sizes as None (each layer is probed with two different values for every unknown size),
and record every argument of the call: several positional inputs and keyword arguments are replayed when the model
runs and survive get_config/from_config."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.graph import KerasTensor


def test_reshape_of_an_unknown_length_keeps_it_unknown():
    x = keras.Input(shape=(None,))
    y = layers.Reshape((-1, 1))(x)
    assert y.shape == (None, None, 1)
    z = layers.Dense(4)(y)
    assert z.shape == (None, None, 4)
    model = keras.Model(x, z)
    assert model.output_shape == (None, None, 4)
    for length in (3, 11):
        assert model(np.ones((2, length), "float32")).shape == (2, length, 4)


def test_known_sizes_stay_known_through_reshape_and_pooling():
    x = keras.Input(shape=(12,))
    y = layers.Reshape((-1, 2, 1))(x)
    assert y.shape == (None, 6, 2, 1)
    assert layers.GlobalAveragePooling2D()(y).shape == (None, 1)
    assert layers.MaxPooling2D((2, 1))(y).shape == (None, 3, 2, 1)


def _image_model():
    inputs = keras.Input(shape=(None, None, 1))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, layers.Dense(3)(x)), x


def test_images_of_any_size_build_and_run_through_conv_pool_and_dense():
    model, pooled = _image_model()
    assert [layer.output.shape for layer in model.layers[1:4]] == [(None, None, None, 8)] * 3
    assert pooled.shape == (None, 8) and model.output_shape == (None, 3)
    small = model(np.random.default_rng(0).random((2, 10, 12, 1), dtype=np.float32))
    large = model(np.random.default_rng(1).random((3, 31, 17, 1), dtype=np.float32))
    assert small.shape == (2, 3) and large.shape == (3, 3)


def test_a_sequential_with_an_unknown_length_keeps_none_and_summary_shows_it():
    model = keras.Sequential([keras.Input((None, 3)), layers.Dense(5), layers.GlobalAveragePooling1D()])
    assert model.layers[0].output.shape == (None, None, 5) and model.output_shape == (None, 5)
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, None, 5)" in line for line in lines)
    assert model(np.ones((4, 7, 3), "float32")).shape == (4, 5)


def test_summary_of_the_image_model_shows_unknown_sizes():
    model, _ = _image_model()
    lines = []
    model.summary(print_fn=lines.append)
    assert sum("(None, None, None, 8)" in line for line in lines) == 3


def test_an_axis_that_does_not_depend_on_the_batch_is_not_taken_for_it():
    x = keras.Input(shape=(2,))
    first_row = layers.Lambda(lambda t: t[0])(x)  # shape (2,): its first axis is not a batch axis
    assert first_row.shape == (2,)


def test_probing_a_layer_restores_its_moving_statistics():
    norm = layers.BatchNormalization()
    x = keras.Input((4,))
    y = norm(x, training=True)
    assert y.shape == (None, 4)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), np.zeros(4, "float32"))
    np.testing.assert_array_equal(norm.moving_variance.numpy(), np.ones(4, "float32"))


class Attention(layers.Layer):
    """A layer with two positional inputs and a keyword: ``attention(query, value, scale=...)``."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.proj = layers.Dense(units)

    def call(self, query, value, scale=1.0):
        scores = cr.matmul(self.proj(query), cr.transpose(self.proj(value), [0, 2, 1])) * scale
        return cr.matmul(cr.nn.softmax(scores, axis=-1), value)

    def get_config(self):
        return {**super().get_config(), "units": self.proj.units}


def _attention_model():
    query, value = keras.Input((None, 6), name="query"), keras.Input((5, 6), name="value")
    attended = Attention(name="attention")(query, value, scale=0.5)
    return keras.Model([query, value], layers.GlobalAveragePooling1D()(attended)), attended


def test_several_positional_inputs_and_keywords_are_recorded_and_replayed():
    model, attended = _attention_model()
    assert attended.shape == (None, None, 6)
    node = attended.node
    assert len(node.args) == 2 and node.kwargs == {"scale": 0.5} and len(node.flat_inputs) == 2
    rng = np.random.default_rng(0)
    q, v = rng.random((2, 3, 6), dtype=np.float32), rng.random((2, 5, 6), dtype=np.float32)
    layer = model.get_layer("attention")
    expected = layers.GlobalAveragePooling1D()(layer(q, v, scale=0.5)).numpy()
    np.testing.assert_allclose(model([q, v]).numpy(), expected, rtol=1e-6)
    assert not np.allclose(layers.GlobalAveragePooling1D()(layer(q, v)).numpy(), expected)


def test_several_inputs_and_keywords_survive_get_config_and_from_config():
    model, _ = _attention_model()
    config = model.get_config()
    node = next(entry for entry in config["layers"] if entry["name"] == "attention")["inbound_nodes"][0]
    assert [arg["class_name"] for arg in node["args"]] == ["__keras_tensor__"] * 2 and node["kwargs"] == {"scale": 0.5}
    clone = keras.Model.from_config(config, custom_objects={"Attention": Attention})
    clone.set_weights(model.get_weights())
    rng = np.random.default_rng(1)
    q, v = rng.random((1, 4, 6), dtype=np.float32), rng.random((1, 5, 6), dtype=np.float32)
    np.testing.assert_allclose(clone([q, v]).numpy(), model([q, v]).numpy(), rtol=1e-6)


def test_training_given_at_build_time_is_replayed_and_wins():
    keras.utils.set_random_seed(0)
    x = keras.Input((200,))
    y = layers.Dropout(0.5)(x, training=True)  # Monte Carlo dropout: on in inference too
    model = keras.Model(x, y)
    assert y.node.kwargs == {"training": True}
    out = model(np.ones((1, 200), "float32"), training=False).numpy()
    assert (out == 0).any() and (out == 2).any()
    clone = keras.Model.from_config(model.get_config())
    assert (clone(np.ones((1, 200), "float32")).numpy() == 0).any()


def test_a_layer_returning_a_tuple_gives_a_tuple_of_symbolic_tensors():
    class Split(layers.Layer):
        def call(self, inputs):
            return inputs[:, :2], inputs[:, 2:]

    x = keras.Input((5,))
    first, second = Split()(x)
    assert isinstance(first, KerasTensor) and (first.shape, second.shape) == ((None, 2), (None, 3))
    model = keras.Model(x, [first, second])
    a, b = model(np.arange(10, dtype="float32").reshape(2, 5))
    assert a.shape == (2, 2) and b.shape == (2, 3)


def test_a_wrong_input_names_the_layer_and_the_symbolic_shape():
    x = keras.Input((None, 3))
    with pytest.raises(ValueError, match=r"'conv2d_wrong'.*expected ndim=4.*\(None, None, 3\)"):
        layers.Conv2D(2, 3, name="conv2d_wrong")(x)


def test_a_symbolic_loss_added_to_a_functional_model_is_computed_on_every_call():
    inputs = keras.Input((3,))
    hidden = layers.Dense(2, name="hidden")(inputs)
    model = keras.Model(inputs, layers.Dense(1)(hidden))
    model.add_loss(cr.reduce_mean(cr.square(hidden)))  # TF 2's functional add_loss
    x = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    model(x)
    expected = np.mean(model.get_layer("hidden")(x).numpy() ** 2)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="Graph disconnected"):
        model.add_loss(cr.reduce_mean(keras.Input((3,))))
