"""The functional API: Input, layers called on KerasTensors, Model(inputs, outputs), several inputs and outputs,
residual connections, shared layers, config round trips, and the errors of a badly wired graph."""
import json

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.graph import KerasTensor
from chainrule.keras import layers


def residual_model(features=10, classes=3):
    inputs = keras.Input(shape=(features,), name="features")
    h = layers.Dense(16, activation="relu")(inputs)
    skip = h
    h = layers.Dense(16, activation="relu")(h)
    h = layers.Add()([h, skip])
    outputs = layers.Dense(classes, activation="softmax")(h)
    return keras.Model(inputs, outputs, name="residual")


def test_input_is_symbolic_with_batch_none():
    x = keras.Input(shape=(28, 28, 1))
    assert isinstance(x, KerasTensor) and x.shape == (None, 28, 28, 1) and x.dtype == np.float32
    y = layers.Conv2D(4, 3)(x)
    assert y.shape == (None, 26, 26, 4)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(y)
    fixed = keras.Input(shape=(3,), batch_size=5)
    assert layers.Dense(2)(fixed).shape == (5, 2)


def test_model_of_inputs_and_outputs_is_functional_and_runs():
    model = residual_model()
    assert type(model).__name__ == "Functional" and isinstance(model, keras.Model)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense", "Add", "Dense"]
    assert model.input_shape == (None, 10) and model.output_shape == (None, 3)
    out = model(np.ones((4, 10), "float32"))
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-5)
    assert model.get_layer("features").name == "features"


def test_residual_model_trains():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 10)).astype("float32")
    y = (x[:, :3] * [1.0, 2.0, 3.0]).argmax(axis=1)
    model = residual_model()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.85


def test_residual_gradient_flows_through_both_paths():
    model = residual_model()
    first = model.layers[1]
    before = first.get_weights()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.train_on_batch(np.ones((8, 10), "float32"), np.zeros(8, np.int64))
    assert not np.array_equal(before[0], first.get_weights()[0])


def test_several_inputs_and_outputs_by_list_and_dict():
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(2,), name="b")
    merged = layers.Concatenate()([layers.Dense(3, name="da")(a), b])
    out1 = layers.Dense(1, name="value")(merged)
    out2 = layers.Dense(2, activation="softmax", name="kind")(merged)
    model = keras.Model(inputs=[a, b], outputs=[out1, out2])
    xa, xb = np.ones((5, 4), "float32"), np.ones((5, 2), "float32")
    v, k = model([xa, xb])
    assert v.shape == (5, 1) and k.shape == (5, 2)
    by_name = model({"a": xa, "b": xb})
    np.testing.assert_allclose(by_name[0].numpy(), v.numpy())
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5],
                  metrics=[["mae"], ["accuracy"]])
    history = model.fit([xa, xb], [np.zeros((5, 1)), np.zeros(5, np.int64)], epochs=2, verbose=0)
    assert list(history.history) == ["loss", "value_loss", "kind_loss", "value_mae", "kind_accuracy"]  # Keras's order
    preds = model.predict([xa, xb], verbose=0)
    assert [p.shape for p in preds] == [(5, 1), (5, 2)]
    with pytest.raises(ValueError, match="expects 2 input"):
        model(xa)


def test_dict_outputs_and_losses():
    x = keras.Input(shape=(3,), name="x")
    model = keras.Model(x, {"y": layers.Dense(1, name="dense_y")(x), "z": layers.Dense(1, name="dense_z")(x)})
    model.compile("sgd", loss={"y": "mse", "z": "mae"})
    out = model.predict(np.ones((4, 3)), verbose=0)
    assert set(out) == {"y", "z"} and out["y"].shape == (4, 1)
    loss, y_loss, z_loss = model.evaluate(np.ones((4, 3)), {"y": np.zeros((4, 1)), "z": np.zeros((4, 1))}, verbose=0)
    assert loss == pytest.approx(y_loss + z_loss)
    assert model.metrics_names == ["loss", "y_loss", "z_loss"]


def test_each_outputs_loss_is_logged_unweighted_beside_the_total():
    keras.utils.set_random_seed(0)
    x = keras.Input(shape=(6,))
    hidden = layers.Dense(8, activation="relu")(x)
    model = keras.Model(x, [layers.Dense(3, activation="softmax", name="cls")(hidden),
                            layers.Dense(1, name="reg")(hidden)])
    model.compile(keras.optimizers.SGD(0.05), loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                  metrics=[["accuracy"], ["mae"]])
    rng = np.random.default_rng(0)
    data = rng.random((48, 6)).astype("float32"), [rng.integers(0, 3, 48), rng.random((48, 1)).astype("float32")]
    history = model.fit(*data, batch_size=12, epochs=2, verbose=0).history
    assert list(history) == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    for total, cls, reg in zip(history["loss"], history["cls_loss"], history["reg_loss"]):
        assert total == pytest.approx(cls + 0.5 * reg, rel=1e-6)
    logs = model.evaluate(*data, verbose=0, return_dict=True)
    cls_pred, reg_pred = model.predict(data[0], verbose=0)
    assert logs["reg_loss"] == pytest.approx(float(((reg_pred - data[1][1]) ** 2).mean()), rel=1e-5)
    assert model.evaluate(*data, verbose=0) == pytest.approx(list(logs.values()))


def test_shared_layer_is_called_twice_and_counted_once():
    shared = layers.Dense(4, name="shared")
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    out = layers.Add()([shared(a), shared(b)])
    model = keras.Model([a, b], out)
    assert model.count_params() == 16
    assert len(model.weights) == 2
    config = json.loads(json.dumps(model.get_config()))
    shared_entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert len(shared_entry["inbound_nodes"]) == 2
    clone = keras.Model.from_config(config)
    assert type(clone).__name__ == "Functional"
    clone.set_weights(model.get_weights())
    xs = [np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")]
    np.testing.assert_allclose(clone.predict(xs, verbose=0), model.predict(xs, verbose=0), rtol=1e-6)


def test_config_round_trip_keeps_the_graph():
    model = residual_model()
    config = json.loads(json.dumps(model.get_config()))
    assert config["input_layers"] == ["features", 0, 0]
    add = next(e for e in config["layers"] if e["class_name"] == "Add")
    histories = [t["config"]["keras_history"] for t in add["inbound_nodes"][0]["args"][0]]
    assert [h[0] for h in histories] == [model.layers[2].name, model.layers[1].name]
    clone = keras.models.model_from_config({"class_name": "Functional", "config": config})
    assert [type(layer).__name__ for layer in clone.layers] == ["InputLayer", "Dense", "Dense", "Add", "Dense"]
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(6, 10)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_nested_models_as_layers():
    inner_in = keras.Input(shape=(4,))
    inner = keras.Model(inner_in, layers.Dense(3)(inner_in), name="inner")
    x = keras.Input(shape=(4,))
    outer = keras.Model(x, layers.Dense(1)(inner(x)))
    assert outer.count_params() == 15 + 4
    assert outer(np.ones((2, 4), "float32")).shape == (2, 1)
    seq = keras.Sequential([inner, layers.Dense(2)])
    assert seq.output_shape == (None, 2)


def test_disconnected_graph_is_an_error_and_intermediate_inputs_become_new_inputs():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="disconnected"):
        keras.Model(a, out)
    first, head = layers.Dense(2), layers.Dense(1)
    h = first(a)
    model = keras.Model(h, head(h))  # Keras 3 (clone_graph_nodes): h's place is taken by a new keras.Input
    assert model.inputs[0] is not h and model.inputs[0].shape == (None, 2)
    assert model.layers[0].name == f"{h.name}CLONE" and first not in model.layers and head in model.layers
    x = np.ones((4, 2), "float32")
    np.testing.assert_allclose(model(x).numpy(), head(x).numpy())
    whole = keras.Model(a, head(h))  # the original graph is unchanged
    assert first in whole.layers and whole(np.ones((4, 3), "float32")).shape == (4, 1)


def test_wrong_symbolic_shape_is_the_layers_error():
    x = keras.Input(shape=(5,))
    dense = layers.Dense(2)
    dense(x)
    with pytest.raises(ValueError, match=dense.name):
        dense(keras.Input(shape=(6,)))


def test_keras_tensor_arithmetic_makes_layers():
    x = keras.Input(shape=(2,))
    model = keras.Model(x, x * 2.0 + 1.0)
    np.testing.assert_allclose(model(np.ones((1, 2), "float32")).numpy(), [[3.0, 3.0]])


def test_subclassed_model_tracks_layers_and_trains():
    class TwoLayer(keras.Model):
        def __init__(self, hidden=8, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(hidden, activation="relu")
            self.blocks = [layers.Dense(hidden, activation="relu")]
            self.out = layers.Dense(2)

        def call(self, inputs, training=False):
            return self.out(self.blocks[0](self.hidden(inputs)))

    model = TwoLayer(name="two")
    assert model.name == "two" and not model.built
    assert model(np.ones((3, 5), "float32")).shape == (3, 2)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense", "Dense"]
    assert len(model.trainable_variables) == 6
    model.compile(keras.optimizers.Adam(0.05), keras.losses.MeanSquaredError())
    x = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")
    y = np.stack([x.sum(1), x[:, 0]], axis=1)
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    lines = []
    model.summary(print_fn=lines.append)
    assert any("dense" in line and "(Dense)" in line for line in lines)


def test_subclassed_model_build_creates_weights():
    class One(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, inputs):
            return self.dense(inputs)

    model = One()
    model.build((None, 4))
    assert model.count_params() == 15


def test_layer_input_and_output_build_feature_extractors_from_a_sequential_model():
    """Keras's ``keras.Model(model.inputs, model.layers[i].output)``: every layer's symbolic output, reusable."""
    x = np.random.default_rng(0).random((2, 12, 12, 1), dtype=np.float32)
    model = keras.Sequential([keras.layers.Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(3)])
    conv_maps = keras.Model(inputs=model.inputs, outputs=model.layers[0].output)
    np.testing.assert_array_equal(conv_maps(x).numpy(), model.layers[0](x).numpy())
    assert model.layers[1].input.shape == (None, 10, 10, 4)
    every = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    outs = every(x)
    assert [o.shape for o in outs] == [(2, 10, 10, 4), (2, 5, 5, 4), (2, 100), (2, 3)]
    np.testing.assert_allclose(outs[-1].numpy(), model(x).numpy(), rtol=1e-6)


def test_a_layer_never_called_symbolically_has_no_output():
    with pytest.raises(AttributeError, match="never been called on a symbolic input"):
        keras.layers.Dense(3).output
