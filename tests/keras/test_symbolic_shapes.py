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


# --- built-in layers take their output shape from compute_output_shape; both ways agree -----------------------------
def _node_specs(model):
    """Per layer (in order): its type, each call's output shapes, dtypes and mask shapes, and its weights' shapes."""
    specs = []
    for layer in model.layers:
        nodes = [[(t.shape, t.dtype, None if t._keras_mask is None else t._keras_mask.shape) for t in node.outputs]
                 for node in layer._inbound_nodes]
        specs.append((type(layer).__name__, nodes, [tuple(w.shape) for w in layer.weights]))
    return specs


def _built_both_ways(make, monkeypatch):
    """``make()`` built with the shape rules, then with every layer probed: the two models' per-layer specs."""
    from chainrule.keras import graph

    fast = make()
    with monkeypatch.context() as patch:
        patch.setattr(graph, "USE_SHAPE_RULES", False)
        probed = make()
    return _node_specs(fast), _node_specs(probed), fast, probed


def _count_probes(monkeypatch):
    from chainrule.keras import graph

    probed = []
    original = graph.probe_output_specs

    def counting(layer, args, kwargs):
        probed.append(type(layer).__name__)
        return original(layer, args, kwargs)

    monkeypatch.setattr(graph, "probe_output_specs", counting)
    return probed


_APPLICATIONS = {  # small inputs (and unknown ones where the probe is quick enough for the comparison)
    "ResNet50": dict(include_top=False, input_shape=(32, 32, 3)),
    "ResNet50V2": dict(include_top=False, input_shape=(32, 32, 3)),
    "MobileNet": dict(include_top=False, alpha=0.25, input_shape=(None, None, 3)),
    "MobileNetV2": dict(include_top=False, alpha=0.35, input_shape=(None, None, 3)),
    "VGG16": dict(include_top=True, input_shape=(32, 32, 3), classes=7),
    "DenseNet121": dict(include_top=True, input_shape=(32, 32, 3), classes=5),
    "EfficientNetB0": dict(include_top=True, input_shape=(32, 32, 3), classes=4),
    "Xception": dict(include_top=False, input_shape=(71, 71, 3), pooling="avg"),
    "InceptionV3": dict(include_top=False, input_shape=(75, 75, 3), pooling="max"),
}


@pytest.mark.parametrize("name", sorted(_APPLICATIONS))
def test_applications_get_the_same_shapes_from_the_rules_as_from_the_probe(name, monkeypatch):
    make = lambda: getattr(keras.applications, name)(weights=None, **_APPLICATIONS[name])  # noqa: E731
    fast, probed, model, _ = _built_both_ways(make, monkeypatch)
    assert fast == probed
    assert model.count_params() > 0


def test_resnet50_on_images_of_any_size_probes_no_layer(monkeypatch):
    probed = _count_probes(monkeypatch)
    model = keras.applications.ResNet50(include_top=False, weights=None)
    assert model.output_shape == (None, None, None, 2048)
    assert probed == []
    conv = model.get_layer("conv1_conv")
    assert conv.built and tuple(conv.kernel.shape) == (7, 7, 3, 64) and conv.get_build_config() == {
        "input_shape": [None, None, None, 3]}


def _every_rule_layer_model():
    """A model that calls each layer with a shape rule, on known and unknown sizes, channels first and last."""
    images = keras.Input((None, None, 3), name="images")
    fixed = keras.Input((9, 10, 4), name="fixed")
    steps = keras.Input((None, 6), name="steps")
    volume = keras.Input((6, None, 5, 2), name="volume")
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(images)
    x = layers.Conv2D(4, 3, dilation_rate=2)(x)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x)
    x = layers.SeparableConv2D(5, 3, strides=2)(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, output_padding=1)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ZeroPadding2D(((1, 2), (0, 3)))(x)
    x = layers.Cropping2D(((1, 0), (2, 1)))(x)
    x = layers.UpSampling2D((2, 3))(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.AveragePooling2D()(x)
    x = layers.ReLU(max_value=6.0)(x)
    x = layers.LeakyReLU()(x)
    x = layers.ELU()(x)
    x = layers.Activation("swish")(x)
    x = layers.SpatialDropout2D(0.1)(x)
    x = layers.Concatenate()([x, layers.Conv2D(2, 1)(x)])
    pooled = layers.GlobalMaxPooling2D(keepdims=True)(x)
    x = layers.Multiply()([x, pooled])  # broadcast over the spatial axes
    image_features = layers.GlobalAveragePooling2D()(x)

    f = layers.Conv2D(6, (3, 2), padding="valid")(fixed)
    f = layers.ZeroPadding2D(1, data_format="channels_first")(f)
    f = layers.Cropping2D(((0, 1), (1, 1)), data_format="channels_first")(f)
    f = layers.UpSampling2D(2, data_format="channels_first")(f)
    f = layers.Flatten()(f)
    f = layers.Reshape((-1, 2))(f)
    f = layers.Dense(5)(f)
    f = layers.LayerNormalization()(f)
    f = layers.Softmax()(f)
    f = layers.Flatten()(f)
    f = layers.Dropout(0.2)(f)

    s = layers.Conv1D(4, 3, padding="causal")(steps)
    s = layers.Conv1DTranspose(4, 2, strides=2)(s)
    s = layers.MaxPooling1D()(s)
    s = layers.AveragePooling1D(3, strides=1, padding="same")(s)
    s = layers.ZeroPadding1D(2)(s)
    s = layers.Cropping1D((1, 0))(s)
    s = layers.UpSampling1D(3)(s)
    s = layers.Subtract()([s, layers.Identity()(s)])
    s = layers.Reshape((-1, 2))(s)  # an unknown length stays unknown
    s = layers.Average()([layers.GlobalAveragePooling1D()(s), layers.GlobalMaxPooling1D()(s)])

    v = layers.Conv3D(3, 2, padding="same")(volume)
    v = layers.Conv3DTranspose(2, 2, strides=(1, 2, 1))(v)
    v = layers.MaxPooling3D((2, 1, 2))(v)
    v = layers.AveragePooling3D((1, 1, 1), data_format="channels_first")(v)
    v = layers.ZeroPadding3D(1)(v)
    v = layers.Cropping3D(((1, 1), (0, 0), (1, 0)))(v)
    v = layers.UpSampling3D((1, 2, 1))(v)
    v = layers.Maximum()([layers.GlobalAveragePooling3D()(v), layers.GlobalMaxPooling3D()(v)])

    joined = layers.Concatenate()([image_features, f, s, v])
    out = layers.Add()([layers.Minimum()([layers.Dense(3)(joined), layers.Dense(3)(joined)]), layers.Dense(3)(joined)])
    return keras.Model([images, fixed, steps, volume], out)


def test_every_layer_with_a_shape_rule_agrees_with_the_probe_and_is_not_probed(monkeypatch):
    probed = _count_probes(monkeypatch)
    fast, slow, model, _ = _built_both_ways(_every_rule_layer_model, monkeypatch)
    assert probed.count("InputLayer") == 0 and len(probed) == len(model.layers) - 4  # only the probed build probes
    assert fast == slow
    shapes = [layer.output.shape for layer in model.layers]
    assert model.output_shape == (None, 3)
    assert shapes[4:8] == [(None, None, None, 4), (None, None, None, 4), (None, None, None, 8), (None, None, None, 5)]
    assert shapes[25:31] == [(None, 7, 9, 6), (None, 7, 11, 8), (None, 7, 10, 6), (None, 7, 20, 12), (None, 1680),
                             (None, 840, 2)]  # the padding, cropping and upsampling of channels first
    assert shapes[49:56] == [(None, 6, None, 5, 3), (None, 7, None, 6, 2), (None, 3, None, 3, 2),
                             (None, 3, None, 3, 2), (None, 5, None, 5, 2), (None, 3, None, 4, 2),
                             (None, 3, None, 4, 2)]
    assert shapes[59] == (None, 5 + 4200 + 2 + 2)
    rng = np.random.default_rng(0)
    data = [rng.random(shape, dtype=np.float32) for shape in [(2, 17, 23, 3), (2, 9, 10, 4), (2, 8, 6),
                                                               (2, 6, 7, 5, 2)]]
    assert model(data).shape == (2, 3)


def test_a_sequential_gets_the_same_shapes_both_ways(monkeypatch):
    def make():
        return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                                 layers.MaxPooling2D(), layers.Conv2D(16, 3), layers.BatchNormalization(),
                                 layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])

    fast, slow, model, _ = _built_both_ways(make, monkeypatch)
    assert fast == slow and model.output_shape == (None, 10)
    assert [w.shape for w in model.layers[-1].get_weights()] == [(1936, 10), (10,)]


def test_masks_dtypes_subclasses_and_training_true_still_go_through_the_probe(monkeypatch):
    probed = _count_probes(monkeypatch)
    tokens = keras.Input((None,), dtype="int32")
    embedded = layers.Embedding(10, 4, mask_zero=True)(tokens)
    kept = layers.Dropout(0.1)(embedded)  # a masked input: the probe carries the mask on
    assert kept._keras_mask is not None and kept._keras_mask.shape == (None, None)
    assert probed == ["Embedding", "Dropout"]

    class DoubledConv(layers.Conv2D):
        def call(self, inputs):
            return cr.concat([super().call(inputs)] * 2, axis=-1)

    images = keras.Input((8, 8, 3))
    assert DoubledConv(4, 3)(images).shape == (None, 6, 6, 8)
    assert layers.Dropout(0.5)(images, training=True).shape == (None, 8, 8, 3)
    assert layers.Flatten()(keras.Input((2, 3), dtype="int32")).dtype == np.int32
    assert probed[2:] == ["DoubledConv", "Dropout", "Flatten"]


def test_mixed_precision_outputs_keep_the_compute_dtype(monkeypatch):
    def make():
        x = keras.Input((6, 6, 3))
        y = layers.Conv2D(4, 3, dtype="mixed_float16")(x)
        y = layers.BatchNormalization(dtype="mixed_float16")(y)
        return keras.Model(x, layers.Add(dtype="mixed_float16")([y, y]))

    fast, slow, model, _ = _built_both_ways(make, monkeypatch)
    assert fast == slow and model.outputs[0].dtype == np.float16


@pytest.mark.parametrize("build, message", [
    (lambda: layers.Conv2D(2, 5)(keras.Input((3, 3, 1))), "negative|zero|kernel|size"),
    (lambda: layers.Add()([keras.Input((3,)), keras.Input((4,))]), "incompatible|broadcast|shape"),
    (lambda: layers.Concatenate()([keras.Input((3, 2)), keras.Input((4, 2))]), "Concatenate"),
    (lambda: layers.Reshape((5,))(keras.Input((4,))), "cannot reshape"),
    (lambda: layers.Cropping1D((2, 2))(keras.Input((3, 1))), "cropping"),
    (lambda: layers.MaxPooling2D()(keras.Input((5, 1))), "expected ndim=4"),
])
def test_a_call_the_rule_cannot_take_still_raises_the_layers_error(build, message, monkeypatch):
    from chainrule.keras import graph

    with pytest.raises(ValueError, match=message) as fast:
        build()
    monkeypatch.setattr(graph, "USE_SHAPE_RULES", False)
    with pytest.raises(ValueError, match=message) as slow:
        build()
    assert type(fast.value) is type(slow.value)
