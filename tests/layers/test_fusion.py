"""Sequential runs Conv2D(relu) + MaxPooling2D as one Conv2DReluMaxPool node, with the same results as the layers run
one by one (to float32 rounding: the node's products have other shapes, and BLAS sums in a shape-dependent order),
and leaves every other pair alone."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras.layers import Conv2D, MaxPooling2D
from chainrule.ops.conv_pool import Conv2DReluMaxPool


def _node_types(y):
    """The op classes in the graph behind ``y``."""
    seen, stack, types = set(), [y.node], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        types.append(type(node))
        stack.extend(getattr(t, "node", None) for t in node.inputs if isinstance(t, cr.Tensor))
    return types


def _seed_cnn(**conv_kwargs):
    conv_kwargs = {"activation": "relu", **conv_kwargs}
    return keras.Sequential([keras.Input((12, 12, 1)), Conv2D(8, 3, **conv_kwargs), MaxPooling2D(),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


def _images(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 12, 12, 1), dtype=np.float32)


def _layer_by_layer(model, x):
    y = cr.Tensor(x)
    for layer in model.layers:
        y = layer(y)
    return y


def test_the_seed_block_is_one_node_with_the_same_values_and_gradients():
    cr.keras.utils.set_random_seed(0)
    model = _seed_cnn()
    x = _images()
    fused, plain = model(x, training=True), _layer_by_layer(model, x)
    assert Conv2DReluMaxPool in _node_types(fused) and Conv2DReluMaxPool not in _node_types(plain)
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-6, atol=1e-8)
    grads = [cr.grad(cr.reduce_sum(y * y), model.trainable_variables) for y in (fused, plain)]
    for g_fused, g_plain in zip(*grads):
        np.testing.assert_allclose(g_fused.numpy(), g_plain.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", ["tanh", "linear", "activity_regularizer", "pool_strides", "pool_same",
                                  "conv_subclass"])
def test_other_pairs_run_layer_by_layer(case):
    conv_kwargs = {"tanh": dict(activation="tanh"), "linear": dict(activation=None),
                   "activity_regularizer": dict(activity_regularizer="l2")}.get(case, {})
    pool = {"pool_strides": MaxPooling2D(2, strides=1), "pool_same": MaxPooling2D(padding="same")}.get(
        case, MaxPooling2D())

    class MyConv(Conv2D):
        pass

    conv = (MyConv if case == "conv_subclass" else Conv2D)(8, 3, **{"activation": "relu", **conv_kwargs})
    model = keras.Sequential([keras.Input((12, 12, 1)), conv, pool])
    y = model(_images())
    assert Conv2DReluMaxPool not in _node_types(y)
    np.testing.assert_array_equal(y.numpy(), _layer_by_layer(model, _images()).numpy())


def test_a_model_without_input_shape_builds_both_layers_on_its_first_call():
    model = keras.Sequential([Conv2D(4, 3, activation="relu"), MaxPooling2D(), keras.layers.Flatten()])
    y = model(_images(2))
    assert y.shape == (2, 5 * 5 * 4) and all(layer.built for layer in model.layers)
    assert Conv2DReluMaxPool in _node_types(y)


def test_a_pool_larger_than_the_conv_output_keeps_the_pool_layers_error():
    model = keras.Sequential([Conv2D(4, 3, activation="relu"), MaxPooling2D(4)])
    with pytest.raises(ValueError, match="max_pool2d: the pool window"):
        model(np.zeros((1, 5, 5, 1), "float32"))


def test_a_wrong_input_still_names_the_conv_layer():
    from chainrule.keras.layers.fusion import run_conv_max_pool

    conv = Conv2D(4, 3, activation="relu", name="first_conv")
    conv(_images(1))
    with pytest.raises(ValueError, match=r"layer 'first_conv'.*received input with shape \(1, 12, 12, 3\)"):
        run_conv_max_pool(conv, MaxPooling2D(), np.zeros((1, 12, 12, 3), "float32"))


def test_training_the_fused_model_matches_training_it_unfused(monkeypatch):
    """Five Adam steps with the fusion and five with it switched off give the same weights (float32 rounding)."""
    from chainrule.keras.layers import fusion

    def train(fuse):
        if not fuse:
            monkeypatch.setattr(fusion, "fuses_with_next", lambda *args: False)
        cr.keras.utils.set_random_seed(1)
        model = _seed_cnn()
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        x, y = _images(40, seed=2), np.eye(10, dtype="float32")[np.arange(40) % 10]
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        return model.get_weights()

    for fused, plain in zip(train(True), train(False)):
        np.testing.assert_allclose(fused, plain, rtol=1e-4, atol=1e-5)


def _functional(share_conv_output=False, conv_output_is_output=False):
    inputs = keras.Input((12, 12, 1))
    h = Conv2D(8, 3, activation="relu")(inputs)
    p = MaxPooling2D()(h)
    x = keras.layers.Flatten()(p)
    if share_conv_output:  # the conv output also feeds a second branch
        x = keras.layers.Concatenate()([x, keras.layers.Flatten()(h)])
    y = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, [y, h] if conv_output_is_output else y)


def test_a_functional_model_fuses_a_conv_whose_only_reader_is_the_pool():
    cr.keras.utils.set_random_seed(3)
    model = _functional()
    x = _images()
    fused = model(x)
    assert Conv2DReluMaxPool in _node_types(fused)
    plain = cr.Tensor(x)
    for layer in model.layers[1:]:
        plain = layer(plain)
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", ["shared", "output"])
def test_a_functional_conv_output_read_elsewhere_is_not_fused(case):
    model = _functional(share_conv_output=case == "shared", conv_output_is_output=case == "output")
    out = model(_images())
    y = out[0] if case == "output" else out
    assert Conv2DReluMaxPool not in _node_types(y)
    if case == "output":
        assert out[1].shape == (4, 10, 10, 8)


def test_a_functional_model_trains_with_the_fused_block():
    cr.keras.utils.set_random_seed(4)
    model = _functional()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = _images(64, seed=5), np.eye(10, dtype="float32")[np.arange(64) % 10]
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
