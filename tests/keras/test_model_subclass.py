"""Model subclasses with their own constructor signatures: only Keras's functional arguments ((inputs, outputs), or
inputs=/outputs= keywords) make a functional model; any other arguments go to the subclass's own __init__."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.models import Functional


class Block(keras.Model):
    """A subclass with two positional arguments, which Keras's rule must not read as (inputs, outputs)."""

    def __init__(self, filters, sizes, **kwargs):
        super().__init__(**kwargs)
        self.stack = [layers.Dense(filters * size, activation="relu") for size in sizes]
        self.head = layers.Dense(2)

    def call(self, inputs):
        x = inputs
        for layer in self.stack:
            x = layer(x)
        return self.head(x)


def test_two_positional_arguments_construct_the_subclass():
    block = Block(4, [1, 2, 3])
    assert type(block) is Block and not isinstance(block, Functional)
    assert block(np.ones((5, 3), "float32")).shape == (5, 2)
    assert [w.shape for w in block.weights[:2]] == [(3, 4), (4,)]
    assert len(block.trainable_weights) == 8


def test_name_trainable_and_dtype_reach_the_layer_through_super():
    block = Block(2, [1], name="my_block", trainable=False, dtype="float64")
    assert block(np.ones((1, 3))).shape == (1, 2)
    assert block.name == "my_block" and not block.trainable and block.dtype == "float64"
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 4


class VariationalAutoEncoder(keras.Model):
    """The constructor of the Keras subclassing guide's VAE (three positional arguments and a name keyword), with
    its encoder and decoder inlined (tests/programs/test_guide_subclassing.py runs the guide's own)."""

    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encode = layers.Dense(intermediate_dim, activation="relu")
        self.z_mean, self.z_log_var = layers.Dense(latent_dim), layers.Dense(latent_dim)
        self.decode = [layers.Dense(intermediate_dim, activation="relu"),
                       layers.Dense(original_dim, activation="sigmoid")]

    def call(self, inputs):
        h = self.encode(inputs)
        z_mean, z_log_var = self.z_mean(h), self.z_log_var(h)
        z = z_mean + tf.exp(0.5 * z_log_var) * tf.random.normal(shape=(tf.shape(z_mean)[0], tf.shape(z_mean)[1]))
        self.kl = -0.5 * tf.reduce_mean(z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1)
        return self.decode[1](self.decode[0](z))


@pytest.mark.parametrize("args", [(784, 64, 32), (784, 64), (784,)])
def test_the_guides_variational_autoencoder_constructs_with_one_two_or_three_arguments(args):
    vae = VariationalAutoEncoder(*args)
    assert type(vae) is VariationalAutoEncoder and vae.name == "autoencoder"
    assert vae(np.zeros((3, 784), "float32")).shape == (3, 784)
    assert len(vae.trainable_weights) == 10


def test_the_variational_autoencoder_trains_in_a_tape_loop():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    vae = VariationalAutoEncoder(784, 16, 4, name="vae")
    optimizer = keras.optimizers.Adam(1e-2)
    losses = []
    for _ in range(6):
        with tf.GradientTape() as tape:
            reconstructed = vae(x)
            loss = keras.losses.MeanSquaredError()(x, reconstructed) + vae.kl
        grads = tape.gradient(loss, vae.trainable_weights)
        optimizer.apply_gradients(zip(grads, vae.trainable_weights))
        losses.append(float(loss))
    assert losses[-1] < losses[0]


class VAE(keras.Model):
    """A subclass taking two models: ``VAE(encoder, decoder)`` (Keras's VAE example)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, inputs):
        return self.decoder(self.encoder(inputs))


def _encoder_decoder():
    x = keras.Input((6,))
    encoder = keras.Model(x, layers.Dense(3, activation="tanh")(x), name="enc")
    decoder = keras.Sequential([keras.Input((3,)), layers.Dense(8, activation="relu"), layers.Dense(6)], name="dec")
    return encoder, decoder


def test_a_subclass_of_two_models_is_not_functional_and_nests_them():
    encoder, decoder = _encoder_decoder()
    vae = VAE(encoder, decoder, name="vae")
    assert type(vae) is VAE and vae.layers == [encoder, decoder]
    assert vae(np.ones((2, 6), "float32")).shape == (2, 6)
    assert len(vae.weights) == len(encoder.weights) + len(decoder.weights) == 6


def test_nested_subclass_trains_with_fit_and_round_trips_through_save_weights(tmp_path):
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).normal(size=(48, 6)).astype("float32")
    vae = VAE(*_encoder_decoder())
    vae.compile(optimizer="adam", loss="mse")
    history = vae.fit(x, x, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    vae.save_weights(tmp_path / "vae.weights.bin")

    fresh = VAE(*_encoder_decoder())
    fresh(x[:1])
    assert not np.allclose(fresh.predict(x, verbose=0), vae.predict(x, verbose=0))
    fresh.load_weights(tmp_path / "vae.weights.bin")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), vae.predict(x, verbose=0))


class CustomStep(keras.Model):
    """Keras's guide to customizing fit: a subclass overriding train_step, built as CustomStep(inputs, outputs)."""

    def train_step(self, data):
        self.steps_taken = getattr(self, "steps_taken", 0) + 1
        return super().train_step(data)


@pytest.mark.parametrize("by_keyword", [False, True])
def test_inputs_and_outputs_still_make_a_functional_subclass(by_keyword):
    x = keras.Input((4,))
    y = layers.Dense(1)(x)
    model = CustomStep(inputs=x, outputs=y) if by_keyword else CustomStep(x, y)
    assert isinstance(model, CustomStep) and isinstance(model, Functional)
    assert type(model).__name__ == "CustomStep" and model.output_shape == (None, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), batch_size=4, verbose=0)
    assert model.steps_taken >= 1


class Wrapped(keras.Model):
    """A subclass whose own __init__ hands inputs and outputs to Model.__init__ by keyword (Keras injects
    Functional for it too)."""

    def __init__(self, units, **kwargs):
        x = keras.Input((3,))
        super().__init__(inputs=x, outputs=layers.Dense(units)(x), **kwargs)
        self.units = units


def test_a_subclass_passing_inputs_and_outputs_to_super_is_functional():
    model = Wrapped(5, name="wrapped")
    assert isinstance(model, Wrapped) and isinstance(model, Functional)
    assert model.name == "wrapped" and model.units == 5 and model.output_shape == (None, 5)
    assert model(np.ones((2, 3), "float32")).shape == (2, 5)


def test_a_functional_subclass_revives_from_its_config_as_itself():
    x = keras.Input((4,))
    model = CustomStep(x, layers.Dense(2, name="out")(x), name="custom")
    config = keras.models.serialize_layer(model)
    assert config["class_name"] == "CustomStep"
    clone = keras.models.model_from_config(config, custom_objects={"CustomStep": CustomStep})
    assert isinstance(clone, CustomStep) and isinstance(clone, Functional)
    assert clone.name == "custom" and clone.output_shape == (None, 2)


def test_model_with_one_positional_argument_is_refused():
    with pytest.raises(TypeError, match="keyword arguments only"):
        keras.Model(keras.Input((3,)))

    class PassesPositional(keras.Model):
        def __init__(self, units):
            super().__init__(units)

    with pytest.raises(TypeError, match="PassesPositional.*keyword arguments only"):
        PassesPositional(3)
