"""keras.saving.serialize_keras_object / deserialize_keras_object and keras.layers.serialize / deserialize."""
import json

import numpy as np
import pytest

from chainrule import keras


def test_plain_values_lists_tuples_dicts_and_arrays_round_trip():
    value = {"a": [1, 2.5, "x", None], "b": (3, 4), "c": np.arange(3, dtype="int32"), "d": np.float32(0.5)}
    config = keras.saving.serialize_keras_object(value)
    json.dumps(config)  # JSON-able
    assert config["c"] == {"class_name": "__numpy__", "config": {"value": [0, 1, 2], "dtype": "int32"}}
    back = keras.saving.deserialize_keras_object(config)
    assert back["a"] == [1, 2.5, "x", None] and back["d"] == 0.5
    np.testing.assert_array_equal(back["c"], [0, 1, 2])
    assert back["c"].dtype == np.int32


def test_builtin_objects_name_their_public_module():
    for obj, module in [(keras.regularizers.L2(0.1), "keras.regularizers"),
                        (keras.initializers.GlorotUniform(seed=1), "keras.initializers"),
                        (keras.optimizers.Adam(0.01), "keras.optimizers"),
                        (keras.layers.Dense(4), "keras.layers")]:
        config = keras.saving.serialize_keras_object(obj)
        assert config["module"] == module and config["class_name"] == type(obj).__name__
        assert config["registered_name"] is None
        back = keras.saving.deserialize_keras_object(json.loads(json.dumps(config)))
        assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_a_built_layer_comes_back_built_with_its_shapes():
    layer = keras.layers.Dense(3)
    layer(np.ones((2, 5), "float32"))
    config = keras.layers.serialize(layer)
    assert config["build_config"] == {"input_shape": [None, 5]}
    back = keras.layers.deserialize(config)
    assert back.built and back.kernel.shape == (5, 3)


def test_registered_classes_and_custom_objects_are_found():
    @keras.saving.register_keras_serializable(package="TestPkg")
    class Scaled(keras.layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    config = keras.layers.serialize(Scaled(2.0))
    assert config["registered_name"] == "TestPkg>Scaled" and config["class_name"] == "Scaled"
    assert keras.layers.deserialize(config).factor == 2.0

    class Unregistered(keras.layers.Layer):
        pass

    config = keras.layers.serialize(Unregistered())
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'.*register_keras_serializable"):
        keras.layers.deserialize(config)
    assert isinstance(keras.layers.deserialize(config, custom_objects={"Unregistered": Unregistered}),
                      Unregistered)


def test_functions_and_lambdas():
    config = keras.saving.serialize_keras_object(keras.activations.relu)
    assert config["class_name"] == "function" and config["config"] == "relu"
    assert keras.saving.deserialize_keras_object(config) is keras.activations.relu
    with pytest.raises(TypeError, match="lambda"):
        keras.saving.serialize_keras_object(lambda x: x)
    with pytest.raises(ValueError, match="lambda"):
        keras.saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"value": "..."}})


def test_layers_deserialize_refuses_what_is_not_a_layer():
    config = keras.saving.serialize_keras_object(keras.regularizers.L1(0.1))
    with pytest.raises(ValueError, match="'L1' is not a layer"):
        keras.layers.deserialize(config)
    with pytest.raises(ValueError, match="a layer config is a dict"):
        keras.layers.deserialize("Dense")
