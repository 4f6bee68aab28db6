"""keras.saving's registry (register_keras_serializable, custom_object_scope, get_custom_objects; also in
keras.utils) and keras.models.clone_model: models holding your own layers, losses, metrics and activations load
without custom_objects= once registered, as in Keras 3's guide 'Save, serialize, and export models'; clones have
new weights and the same behaviour once given the same weights."""
import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.saving import object_registration

X = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
Y = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")


@pytest.fixture(autouse=True)
def clean_registry():
    before = dict(object_registration.GLOBAL_CUSTOM_OBJECTS), dict(object_registration.GLOBAL_CUSTOM_NAMES)
    yield
    object_registration.GLOBAL_CUSTOM_OBJECTS.clear()
    object_registration.GLOBAL_CUSTOM_OBJECTS.update(before[0])
    object_registration.GLOBAL_CUSTOM_NAMES.clear()
    object_registration.GLOBAL_CUSTOM_NAMES.update(before[1])


class Scale(keras.layers.Layer):
    """A custom layer: a learned scale per feature."""

    def __init__(self, init=2.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init))

    def call(self, x):
        return x * self.scale

    def get_config(self):
        return {**super().get_config(), "init": self.init}


def _sequential():
    return keras.Sequential([keras.Input((4,)), Scale(3.0, name="scale"), keras.layers.Dense(2)])


def test_a_registered_layer_round_trips_through_a_model_file_without_custom_objects(tmp_path):
    keras.saving.register_keras_serializable(package="my_package")(Scale)
    model = _sequential()
    config = model.get_config()["layers"][1]
    assert config["class_name"] == "Scale" and config["registered_name"] == "my_package>Scale"
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored.layers[0]) is Scale and restored.layers[0].init == 3.0
    np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))


def test_an_unregistered_layer_needs_a_scope_or_custom_objects(tmp_path):
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(2)(Scale(name="scale")(x)))
    path = tmp_path / "functional.keras"
    model.save(path)
    with pytest.raises(keras.saving.ModelFileError, match="Unknown layer: 'Scale'.*custom_object_scope"):
        keras.models.load_model(path)
    for scope in (keras.saving.custom_object_scope, keras.utils.custom_object_scope, keras.utils.CustomObjectScope):
        with scope({"Scale": Scale}):
            restored = keras.models.load_model(path)
        np.testing.assert_array_equal(restored(X).numpy(), model(X).numpy())
    assert type(keras.models.load_model(path, custom_objects={"Scale": Scale}).layers[1]) is Scale


def test_registered_losses_metrics_and_activations_come_back_compiled(tmp_path):
    @keras.saving.register_keras_serializable(package="demo")
    def scaled_tanh(x):
        return keras.activations.tanh(x) * 2.0

    @keras.saving.register_keras_serializable(package="demo", name="half_mse")
    def half_mse(y_true, y_pred):
        return keras.losses.mean_squared_error(y_true, y_pred) / 2.0

    @keras.saving.register_keras_serializable(package="demo")
    class MeanTotal(keras.metrics.Mean):
        def update_state(self, y_true, y_pred, sample_weight=None):
            return super().update_state(keras.ops.sum(y_pred, axis=-1), sample_weight)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation=scaled_tanh)])
    assert model.layers[0].get_config()["activation"] == "demo>scaled_tanh"
    model.compile(optimizer="adam", loss=half_mse, metrics=[MeanTotal(name="total")])
    model.fit(X, Y, epochs=1, verbose=0)
    path = tmp_path / "compiled.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert restored.layers[0].activation is scaled_tanh
    assert restored.evaluate(X, Y, verbose=0, return_dict=True) == model.evaluate(X, Y, verbose=0, return_dict=True)
    assert keras.losses.get("demo>half_mse").fn is half_mse
    assert keras.losses.get("demo>half_mse")(Y, Y * 0).numpy() == pytest.approx(np.mean(Y ** 2) / 2, rel=1e-6)


def test_a_registered_subclassed_model_loads_without_custom_objects(tmp_path):
    @keras.saving.register_keras_serializable()
    class TwoLayers(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = keras.layers.Dense(units, activation="relu")
            self.out = keras.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = TwoLayers(5)
    model(X)
    path = tmp_path / "subclassed.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is TwoLayers and restored.units == 5
    np.testing.assert_allclose(restored(X).numpy(), model(X).numpy(), rtol=1e-6)


def test_registry_functions_behave_as_keras():
    registered = keras.saving.register_keras_serializable("pkg", name="Renamed")(Scale)
    assert registered is Scale
    assert keras.saving.get_registered_name(Scale) == "pkg>Renamed"
    assert keras.saving.get_registered_object("pkg>Renamed") is Scale
    assert keras.utils.get_custom_objects() is keras.saving.get_custom_objects()
    assert keras.saving.get_custom_objects()["pkg>Renamed"] is Scale
    assert keras.saving.get_registered_name(keras.layers.Dense) == "Dense"
    assert keras.saving.get_registered_object("Unknown") is None
    assert keras.saving.get_registered_object("x", custom_objects={"x": 1}) == 1
    with pytest.raises(ValueError, match="Cannot register a class that does not have a get_config"):
        keras.saving.register_keras_serializable()(type("NoConfig", (), {}))
    with keras.saving.custom_object_scope({"outer": 1}):
        with keras.saving.custom_object_scope({"inner": 2}):  # Keras's scopes replace each other
            assert keras.saving.get_registered_object("inner") == 2
            assert keras.saving.get_registered_object("outer") is None
        assert keras.saving.get_registered_object("outer") == 1
    assert keras.saving.get_registered_object("outer") is None


def test_get_custom_objects_registers_by_plain_name_too():
    keras.saving.get_custom_objects()["Scale"] = Scale
    config = keras.models.serialize_layer(Scale())
    assert "registered_name" not in config and isinstance(keras.models.deserialize_layer(config), Scale)


# --- clone_model ----------------------------------------------------------------------------------------------------
def _same_predictions_with_same_weights(model, clone):
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))


def test_clone_sequential_has_new_layers_new_weights_and_is_compiled_alike():
    model = keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2)], name="seq")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=[keras.metrics.MeanAbsoluteError()])
    clone = keras.models.clone_model(model)
    assert clone.name == "seq" and [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert not any(np.array_equal(a, b) for a, b in zip(clone.get_weights()[::2], model.get_weights()[::2]))
    assert clone.compiled and clone.optimizer is not model.optimizer and clone.optimizer.learning_rate == 0.01
    assert clone._compiled_metrics.spec[0] is not model._compiled_metrics.spec[0]
    clone.fit(X, Y, epochs=1, verbose=0)
    _same_predictions_with_same_weights(model, clone)


def test_clone_sequential_declared_with_input_shape():
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2)])
    clone = keras.models.clone_model(model)
    assert clone.output_shape == (None, 2) and len(clone.get_weights()) == 4
    _same_predictions_with_same_weights(model, clone)


def test_clone_functional_keeps_the_graph_and_shared_layers():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = keras.layers.Dense(3, name="shared")
    merged = keras.layers.Concatenate()([shared(a), shared(b)])
    model = keras.Model({"a": a, "b": b}, {"out": keras.layers.Dense(2)(merged)}, name="fn")
    clone = keras.models.clone_model(model)
    assert clone.name == "fn" and len(clone.get_weights()) == len(model.get_weights()) == 4
    assert sum(isinstance(layer, keras.layers.Dense) and layer.name == "shared" for layer in clone.layers) == 1
    clone.set_weights(model.get_weights())
    inputs = {"a": X, "b": X[::-1].copy()}
    np.testing.assert_array_equal(clone(inputs)["out"].numpy(), model(inputs)["out"].numpy())


def test_clone_function_call_function_input_tensors_and_recursion():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu")], name="inner")
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(2)(inner(x)))

    def call_function(layer, *args, **kwargs):  # Keras's example: a Dropout after each Dense
        out = layer(*args, **kwargs)
        return keras.layers.Dropout(0.5)(out) if isinstance(layer, keras.layers.Dense) else out

    same_layers = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call_function)
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in same_layers.layers) == 1
    assert same_layers.layers[-2] is model.layers[-1]  # the same Dense, now followed by a Dropout
    wider = keras.models.clone_model(model, recursive=True, clone_function=lambda layer: layer.__class__.from_config(
        {**layer.get_config(), "units": 6}) if isinstance(layer, keras.layers.Dense) and layer.units == 4 else
        layer.__class__.from_config(layer.get_config()))
    assert wider.layers[1].layers[0].units == 6 and wider.layers[1] is not inner
    new_input = keras.Input((4,), name="new")
    on_new = keras.models.clone_model(model, input_tensors=new_input)
    assert on_new.inputs[0] is new_input
    with pytest.raises(ValueError, match="`call_function` argument is not supported with Sequential"):
        keras.models.clone_model(inner, call_function=call_function)
    with pytest.raises(ValueError, match="Unexpected keyword argument"):
        keras.models.clone_model(model, bogus=1)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.models.clone_model(model, input_tensors=[np.ones((1, 4))])


def test_clone_a_subclassed_model_from_its_config():
    class Small(keras.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = keras.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = Small(3)
    model(X)
    clone = keras.models.clone_model(model)
    assert type(clone) is Small and clone.units == 3 and clone is not model
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional models"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)
