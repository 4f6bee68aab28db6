"""Keras guide "Customizing Saving and Serialization", run on chainrule.

Source: https://keras.io/guides/customizing_saving_and_serialization/ (keras-team/keras-io,
guides/customizing_saving_and_serialization.py, "Last modified: 2023/03/15").

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import keras` ->
  `from chainrule import keras`;
- the model files are written in the test's temporary folder;
- the classes and functions registered with `register_keras_serializable` are registered once, at import;
- the first section's targets are (8, 1) instead of (8,) (see the test: Keras 3 refuses (8,) targets there);
- lines marked `# test:` check what the program produces.
"""

import os

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the .keras files in a temporary folder


@keras.utils.register_keras_serializable(package="my_custom_package")
class LayerWithCustomVariables(keras.layers.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.stored_variables = tf.Variable(np.random.random((10,)), name="special_arr", dtype=tf.float32)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        # Stores the value of the `tf.Variable` upon saving
        store["variables"] = self.stored_variables.numpy()

    def load_own_variables(self, store):
        # Assigns the value of the `tf.Variable` upon loading
        self.stored_variables.assign(store["variables"])
        # Load the remaining weights
        for i, v in enumerate(self.weights):
            v.assign(store[f"{i}"])
        # Note: You must specify how all variables (including layer weights)
        # are loaded in `load_own_variables.`

    def call(self, inputs):
        return super().call(inputs) * self.stored_variables


def test_save_own_variables_and_load_own_variables():
    model = keras.Sequential([
        LayerWithCustomVariables(1)
    ])

    ref_input = np.random.random((8, 10))
    ref_output = np.random.random((8,))
    model.compile(optimizer="adam", loss="mean_squared_error")
    # test: the layer's outputs are (8, 1) * (10,) = (8, 10). tf.keras (the guide's Keras 2.12) made the (8,) targets
    # (8, 1) and broadcast them; Keras 3 keeps them (8,) and refuses to subtract them from (8, 10) outputs, and so
    # does chainrule, with a clear message; (8, 1) targets run on both
    with pytest.raises(ValueError, match="incompatible shapes"):
        model.fit(ref_input, ref_output)
    ref_output = ref_output[:, None]
    model.fit(ref_input, ref_output)

    model.save("custom_vars_model.keras")
    restored_model = keras.models.load_model("custom_vars_model.keras")

    np.testing.assert_allclose(
        model.layers[0].stored_variables.numpy(),
        restored_model.layers[0].stored_variables.numpy()
    )
    # test: load_own_variables got what save_own_variables stored: the kernel and bias ("0", "1") and "variables"
    store = {}
    restored_model.layers[0].save_own_variables(store)
    assert set(store) >= {"0", "1", "variables"}
    # test: the restored layer has the trained kernel and bias too, so it computes what the model computes
    np.testing.assert_allclose(restored_model.predict(ref_input), model.predict(ref_input), rtol=1e-6)


@keras.saving.register_keras_serializable(package="my_custom_package")
class LayerWithCustomAssets(keras.layers.Dense):
    def __init__(self, vocab=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vocab = vocab

    def save_assets(self, inner_path):
        # Writes the vocab (sentence) to text file at save time.
        with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
            f.write(self.vocab)

    def load_assets(self, inner_path):
        # Reads the vocab (sentence) from text file at load time.
        with open(os.path.join(inner_path, "vocabulary.txt"), "r") as f:
            text = f.read()
        self.vocab = text.replace("<unk>", "little")


def test_save_assets_and_load_assets():
    model = keras.Sequential([
        LayerWithCustomAssets(vocab='Mary had a <unk> lamb.', units=5)
    ])

    x = np.random.random((10, 10))
    y = model(x)

    model.save("custom_assets_model.keras")
    restored_model = keras.models.load_model("custom_assets_model.keras")

    np.testing.assert_string_equal(
        restored_model.layers[0].vocab, "Mary had a little lamb."
    )


@keras.saving.register_keras_serializable(package="my_custom_package")
class LayerWithCustomBuild(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        return dict(units=self.units, **super().get_config())

    def build(self, input_shape, layer_init):
        # Note the customization in overriding `build()` adds an extra argument.
        # Therefore, we will need to manually call build with `layer_init` argument
        # before the first execution of `call()`.
        super().build(input_shape)
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=layer_init,
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,),
            initializer=layer_init,
            trainable=True,
        )
        self.layer_init = layer_init

    def get_build_config(self):
        build_config = super().get_build_config()  # only gives `input_shape`
        build_config.update(
            {"layer_init": self.layer_init}  # Stores our initializer for `build()`
        )
        return build_config

    def build_from_config(self, config):
        # Calls `build()` with the parameters at loading time
        self.build(config["input_shape"], config["layer_init"])


def test_get_build_config_and_build_from_config():
    custom_layer = LayerWithCustomBuild(units=16)
    custom_layer.build(input_shape=(8,), layer_init="random_normal")

    model = keras.Sequential(
        [
            custom_layer,
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )

    x = np.random.random((16, 8))
    y = model(x)

    model.save("custom_build_model.keras")
    restored_model = keras.models.load_model("custom_build_model.keras")

    np.testing.assert_equal(restored_model.layers[0].layer_init, "random_normal")
    np.testing.assert_equal(restored_model.built, True)
    # test: and the restored model computes what the saved one does
    np.testing.assert_allclose(restored_model(x).numpy(), y.numpy(), rtol=1e-6)


@keras.saving.register_keras_serializable(package="my_custom_package")
def small_square_sum_loss(y_true, y_pred):
    loss = tf.math.squared_difference(y_pred, y_true)
    loss = loss / 10.0
    loss = tf.reduce_sum(loss, axis=1)
    return loss


@keras.saving.register_keras_serializable(package="my_custom_package")
def mean_pred(y_true, y_pred):
    return tf.reduce_mean(y_pred)


@keras.saving.register_keras_serializable(package="my_custom_package")
class ModelWithCustomCompile(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(8, activation="relu")
        self.dense2 = keras.layers.Dense(4, activation="softmax")

    def call(self, inputs):
        x = self.dense1(inputs)
        return self.dense2(x)

    def compile(self, optimizer, loss_fn, metrics):
        super().compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
        self.model_optimizer = optimizer
        self.loss_fn = loss_fn
        self.loss_metrics = metrics

    def get_compile_config(self):
        # These parameters will be serialized at saving time.
        return {
            "model_optimizer": self.model_optimizer,
            "loss_fn": self.loss_fn,
            "metric": self.loss_metrics,
        }

    def compile_from_config(self, config):
        # Deserializes the compile parameters (important, since many are custom)
        optimizer = keras.utils.deserialize_keras_object(config["model_optimizer"])
        loss_fn = keras.utils.deserialize_keras_object(config["loss_fn"])
        metrics = keras.utils.deserialize_keras_object(config["metric"])

        # Calls compile with the deserialized parameters
        self.compile(optimizer=optimizer, loss_fn=loss_fn, metrics=metrics)


def test_get_compile_config_and_compile_from_config():
    model = ModelWithCustomCompile()
    model.compile(
        optimizer="SGD", loss_fn=small_square_sum_loss, metrics=["accuracy", mean_pred]
    )

    x = np.random.random((4, 8))
    y = np.random.random((4,))

    history = model.fit(x, y)

    model.save("custom_compile_model.keras")
    restored_model = keras.models.load_model("custom_compile_model.keras")

    np.testing.assert_equal(model.model_optimizer, restored_model.model_optimizer)
    np.testing.assert_equal(model.loss_fn, restored_model.loss_fn)
    np.testing.assert_equal(model.loss_metrics, restored_model.loss_metrics)

    # test: the logs of the custom loss and metrics; the restored model is compiled with them and computes the
    # same outputs
    assert set(history.history) == {"loss", "accuracy", "mean_pred"}
    assert restored_model.compiled and restored_model.loss_fn is small_square_sum_loss
    np.testing.assert_allclose(restored_model.predict(x), model.predict(x), rtol=1e-6)
    restored_model.fit(x, y, verbose=0)
