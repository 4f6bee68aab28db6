"""Sequential: building (eager, lazy, add/pop), layers and weights, config round trips, calling, clear errors."""
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers


def mlp(**kwargs):
    return keras.Sequential([layers.Dense(10, activation="relu", input_shape=(784,)),
                             layers.Dense(10, activation="softmax")], **kwargs)


def test_builds_from_first_layer_input_shape():
    model = mlp()
    assert model.built
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    assert [w.shape for w in model.get_weights()] == [(784, 10), (10,), (10, 10), (10,)]
    assert model.count_params() == 784 * 10 + 10 + 110


def test_builds_lazily_from_the_first_data():
    model = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built and model.weights == []
    out = model(np.ones((3, 5), "float32"))
    assert out.shape == (3, 2) and model.built
    assert model.input_shape == (None, 5)
    assert len(model.trainable_variables) == 4


def test_input_then_add_and_pop():
    model = keras.Sequential()
    model.add(keras.Input(shape=(6,)))
    model.add(layers.Dense(5))
    model.add(layers.Dense(3))
    assert model.output_shape == (None, 3)
    popped = model.pop()
    assert popped.name == model.layers[-1].name or isinstance(popped, layers.Dense)
    assert model.output_shape == (None, 5)
    assert len(model.layers) == 1


def test_add_rejects_non_layers_and_duplicate_names():
    model = keras.Sequential()
    with pytest.raises(ValueError, match="keras.Layer"):
        model.add("dense")
    model.add(layers.Dense(2, name="same"))
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="same"))


def test_layers_get_layer_and_weights():
    model = mlp()
    first, second = model.layers
    assert model.get_layer(first.name) is first
    assert model.get_layer(index=1) is second
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")
    assert len(model.weights) == 4 and len(model.trainable_variables) == 4
    weights = model.get_weights()
    new = [w + 1.0 for w in weights]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)


def test_trainable_false_freezes_weights():
    model = mlp()
    model.layers[0].trainable = False
    assert len(model.trainable_variables) == 2
    assert len(model.non_trainable_weights) == 2


def test_call_returns_tensor_and_training_flag_reaches_dropout():
    cr.backend.set_seed(0)
    model = keras.Sequential([layers.Dropout(0.5, input_shape=(100,))])
    x = np.ones((2, 100), "float32")
    np.testing.assert_array_equal(model(x, training=False).numpy(), x)
    dropped = model(x, training=True).numpy()
    assert (dropped == 0).any() and set(np.unique(dropped)) <= {0.0, 2.0}


def test_uint8_and_float64_inputs_become_float32():
    model = mlp()
    assert model(np.zeros((2, 784), np.uint8)).dtype == np.float32
    assert model(np.zeros((2, 784), np.float64)).dtype == np.float32


def test_config_round_trip_is_json_and_rebuilds_same_architecture():
    model = mlp(name="m")
    config = json.loads(json.dumps(model.get_config()))
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert [entry["class_name"] for entry in config["layers"][1:]] == ["Dense", "Dense"]
    clone = keras.Sequential.from_config(config)
    assert clone.name == "m" and clone.output_shape == (None, 10)
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((4, 784)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    wrapped = keras.models.model_from_config({"class_name": "Sequential", "config": config})
    assert isinstance(wrapped, keras.Sequential)


def test_wrong_input_shape_names_the_model_and_the_shapes():
    model = mlp()
    with pytest.raises(ValueError, match=r"sequential.*784.*\(2, 100\)|784.*100"):
        model(np.ones((2, 100), "float32"))
    with pytest.raises(ValueError, match="ndim"):
        model(np.ones((2, 28, 28), "float32"))


def test_target_shape_incompatible_with_output_names_both_shapes():
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    x = np.zeros((8, 784), "float32")
    with pytest.raises(ValueError, match=r"\(8, 5\).*\(8, 10\)"):
        model.fit(x, np.zeros((8, 5), "float32"), verbose=0)


def test_predict_evaluate_shapes_and_return_types():
    model = mlp()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.random((70, 784)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 10, 70), 10)
    pred = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (70, 10) and pred.dtype == np.float32
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(as_dict) == {"loss", "accuracy"}
    assert as_dict["loss"] == pytest.approx(result[0])
    model.compile("adam", "categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_on_batch_methods():
    model = mlp()
    model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(2).random((16, 784)).astype("float32")
    y = keras.utils.to_categorical(np.arange(16) % 10, 10)
    before = model.get_weights()
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    after = model.get_weights()
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    for a, b in zip(after, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.predict_on_batch(x).shape == (16, 10)


def test_on_batch_methods_report_the_batch_alone():
    # Keras 3 resets the metrics in train_on_batch and test_on_batch: nothing carries over from earlier calls
    model = mlp()
    model.compile(keras.optimizers.SGD(0.0), "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(3)
    x, y = rng.random((32, 784)).astype("float32"), keras.utils.to_categorical(rng.integers(0, 10, 32), 10)
    first = model.evaluate(x[:16], y[:16], verbose=0, return_dict=True)
    second = model.evaluate(x[16:], y[16:], verbose=0, return_dict=True)
    model.evaluate(x, y, verbose=0)
    assert model.test_on_batch(x[16:], y[16:], return_dict=True) == pytest.approx(second)
    model.train_on_batch(x[:16], y[:16])
    assert model.train_on_batch(x[16:], y[16:], return_dict=True) == pytest.approx(second)  # lr 0: same weights
    assert model.test_on_batch(x[:16], y[:16], return_dict=True) == pytest.approx(first)


def test_fit_before_compile_is_a_clear_error():
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(np.zeros((2, 784)), np.zeros((2, 10)), verbose=0)


def test_models_nest_as_layers():
    inner = keras.Sequential([layers.Dense(4, input_shape=(3,))], name="inner")
    outer = keras.Sequential([inner, layers.Dense(2)])
    assert outer.output_shape == (None, 2)
    assert len(outer.weights) == 4
    config = outer.get_config()
    assert config["layers"][1]["class_name"] == "Sequential"
    clone = keras.Sequential.from_config(config)
    assert clone.count_params() == outer.count_params()


def test_a_missing_or_extra_trailing_axis_of_one_is_fixed_as_keras_does():
    cnn = keras.Sequential([layers.Conv2D(2, 3, input_shape=(8, 8, 1)), layers.Flatten()])
    assert cnn(np.zeros((2, 8, 8), "float32")).shape == (2, 72)
    flat = keras.Sequential([layers.Flatten(input_shape=(8, 8)), layers.Dense(3)])
    assert flat(np.zeros((2, 8, 8, 1), "float32")).shape == (2, 3)
    with pytest.raises(ValueError, match="ndim"):
        flat(np.zeros((2, 8, 8, 2), "float32"))


def test_to_json_and_model_from_json():
    model = mlp()
    clone = keras.models.model_from_json(model.to_json())
    assert isinstance(clone, keras.Sequential) and clone.count_params() == model.count_params()


def test_save_and_load_model_through_chainrule_io(tmp_path):
    model = mlp()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((8, 784)).astype("float32")
    model.fit(x, keras.utils.to_categorical(np.arange(8), 10), verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "m.weights.bin")
    fresh = mlp()
    fresh.load_weights(tmp_path / "m.weights.bin")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
