"""Keras 3's saving hooks in model files: ``save_own_variables``/``load_own_variables``, ``save_assets``/
``load_assets``, a layer's own ``get_build_config``/``build_from_config``, and a model's ``get_compile_config``
holding objects."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.saving.file_format import ModelFileError, read_file, write_file


class Counter(keras.layers.Layer):
    """State that is no Variable: an int count, saved through the hooks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x

    def save_own_variables(self, store):
        store["calls"] = np.array(self.calls)

    def load_own_variables(self, store):
        self.calls = int(store["calls"])


class Notes(keras.layers.Layer):
    def __init__(self, text="", **kwargs):
        super().__init__(**kwargs)
        self.text = text

    def call(self, x):
        return x

    def save_assets(self, folder):
        import os

        os.makedirs(os.path.join(folder, "sub"))
        with open(os.path.join(folder, "sub", "notes.txt"), "w") as f:
            f.write(self.text)

    def load_assets(self, folder):
        import os

        with open(os.path.join(folder, "sub", "notes.txt")) as f:
            self.text = f.read().upper()


CUSTOM = {"Counter": Counter, "Notes": Notes}


def test_own_variables_and_assets_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Counter(), Notes("hello"), keras.layers.Dense(2)])
    model.layers[0].calls = 7
    path = tmp_path / "m.keras"
    model.save(path)
    restored = keras.models.load_model(path, custom_objects=CUSTOM)
    assert restored.layers[0].calls == 7
    assert restored.layers[1].text == "HELLO"
    np.testing.assert_array_equal(restored.layers[2].get_weights()[0], model.layers[2].get_weights()[0])


def test_default_own_variables_are_the_layers_own_weights():
    dense = keras.layers.Dense(2)
    dense.build((None, 3))
    store = {}
    dense.save_own_variables(store)
    assert sorted(store) == ["0", "1"] and store["0"].shape == (3, 2)
    other = keras.layers.Dense(2)
    other.build((None, 3))
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.get_weights()[0], store["0"])
    with pytest.raises(ValueError, match="expected 2 variables, but received 1"):
        other.load_own_variables({"0": store["0"]})


def test_an_asset_name_that_leaves_its_folder_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Notes("x")])
    path = tmp_path / "m.keras"
    model.save(path)
    header, arrays = read_file(path)
    arrays = {("assets/1/../../evil.txt" if name.startswith("assets/") else name): a for name, a in arrays.items()}
    header.pop("tensors", None)
    write_file(path, header, list(arrays.items()))
    with pytest.raises(ModelFileError, match="not a file name inside its layer's folder"):
        keras.models.load_model(path, custom_objects=CUSTOM)


class Scaled(keras.layers.Layer):
    def build(self, input_shape, scale):
        super().build(input_shape)
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        self.scale = scale

    def call(self, x):
        return x * self.w * self.scale

    def get_build_config(self):
        return {**super().get_build_config(), "scale": self.scale}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["scale"])


def test_a_layer_built_by_hand_is_rebuilt_from_its_own_build_config(tmp_path):
    layer = Scaled()
    layer.build((4,), 3.0)
    assert layer.get_build_config() == {"input_shape": [4], "scale": 3.0}
    model = keras.Sequential([layer])
    x = np.ones((2, 4), "float32")
    y = model(x)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras", custom_objects={"Scaled": Scaled})
    assert restored.layers[0].scale == 3.0
    np.testing.assert_allclose(restored(x).numpy(), y.numpy())


def square_loss(y_true, y_pred):
    return (y_true - y_pred) ** 2


class WithCompileConfig(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x)

    def get_compile_config(self):
        return {"loss": self.loss, "optimizer": self.optimizer}

    def compile_from_config(self, config):
        self.compile(optimizer=keras.utils.deserialize_keras_object(config["optimizer"]),
                     loss=keras.utils.deserialize_keras_object(config["loss"], custom_objects={
                         "square_loss": square_loss}))


def test_a_compile_config_of_objects_is_serialized(tmp_path):
    model = WithCompileConfig()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=square_loss)
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras", custom_objects={"WithCompileConfig": WithCompileConfig,
                                                                            "square_loss": square_loss})
    assert restored.loss is square_loss
    assert isinstance(restored.optimizer, keras.optimizers.SGD)
    assert np.isclose(float(restored.optimizer.learning_rate.numpy()), 0.05)
