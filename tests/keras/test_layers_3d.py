"""The 3-D layers (Conv3D, Conv3DTranspose, MaxPooling3D, AveragePooling3D, GlobalMax/AveragePooling3D,
UpSampling3D, ZeroPadding3D, Cropping3D) and keras.ops on volumes: values against PyTorch and NumPy, channels first,
configs, Keras's error messages, and a small version of keras-io's 3-D image classification CNN that trains with fit
and survives a save / load round trip."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers, ops


def _volumes(shape, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _ncdhw(x):
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def _ndhwc(x):
    return np.moveaxis(np.asarray(x), 1, -1)


def _torch_conv3d(x, kernel, bias, stride=1, padding=0, dilation=1, groups=1):
    y = F.conv3d(torch.tensor(_ncdhw(x)), torch.tensor(np.ascontiguousarray(kernel.transpose(4, 3, 0, 1, 2))),
                 torch.tensor(bias), stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _ndhwc(y.numpy())


# --- Conv3D -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, torch_kwargs", [
    (dict(kernel_size=3), {}),
    (dict(kernel_size=(3, 1, 3), padding="same"), dict(padding=(1, 0, 1))),
    (dict(kernel_size=2, strides=(2, 1, 2)), dict(stride=(2, 1, 2))),
    (dict(kernel_size=3, dilation_rate=2, padding="same"), dict(padding=2, dilation=2)),
    (dict(kernel_size=3, groups=2), dict(groups=2)),
])
def test_conv3d_matches_torch(kwargs, torch_kwargs):
    x = _volumes((2, 6, 7, 6, 4))
    layer = layers.Conv3D(6, dtype="float64", bias_initializer="random_normal", **kwargs)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == layer.kernel_size + (4 // layer.groups, 6)
    np.testing.assert_allclose(y, _torch_conv3d(x, kernel, bias, **torch_kwargs), rtol=1e-10, atol=1e-10)
    assert y.shape == layer.compute_output_shape(x.shape)


def test_conv3d_channels_first_activation_and_no_bias():
    x = _volumes((2, 3, 5, 6, 4), seed=1)  # (batch, channels, depth, height, width)
    layer = layers.Conv3D(2, 3, padding="same", data_format="channels_first", activation="relu", use_bias=False,
                          dtype="float64")
    y = layer(x).numpy()
    assert y.shape == (2, 2, 5, 6, 4) == layer.compute_output_shape((2, 3, 5, 6, 4)) and len(layer.weights) == 1
    (kernel,) = layer.get_weights()
    expected = np.maximum(_ncdhw(_torch_conv3d(_ndhwc(x), kernel, np.zeros(2), padding=1)), 0)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv3d_relu_layer_gradients_match_torch(groups):
    """With one group the layer runs Conv2D's fused conv + bias + relu node; with two, conv3d then the bias and
    relu ops: the gradients of input, kernel and bias are torch's either way."""
    x = _volumes((2, 4, 5, 4, 4), seed=14)
    layer = layers.Conv3D(4, (2, 3, 2), padding="same", groups=groups, activation="relu", dtype="float64",
                          bias_initializer="random_normal")
    xs = cr.Tensor(x, requires_grad=True)
    y = layer(xs)
    weights = _volumes(y.shape, seed=15)
    grads = cr.grad((y * cr.Tensor(weights)).sum(), [xs, layer.kernel, layer.bias])
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    kt = torch.tensor(np.ascontiguousarray(layer.kernel.numpy().transpose(4, 3, 0, 1, 2)), requires_grad=True)
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    yt = torch.relu(F.conv3d(F.pad(xt, (0, 1, 1, 1, 0, 1)), kt, bt, groups=groups))  # TF's 'same' pads
    np.testing.assert_allclose(y.numpy(), _ndhwc(yt.detach().numpy()), rtol=1e-10, atol=1e-12)
    expected = torch.autograd.grad((yt * torch.tensor(_ncdhw(weights))).sum(), [xt, kt, bt])
    np.testing.assert_allclose(grads[0].numpy(), _ndhwc(expected[0].numpy()), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grads[1].numpy(), expected[1].numpy().transpose(2, 3, 4, 1, 0), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(grads[2].numpy(), expected[2].numpy(), rtol=1e-10, atol=1e-10)


def test_conv3d_config_round_trip_and_regularizer():
    layer = layers.Conv3D(4, (3, 2, 1), strides=(1, 2, 1), padding="same", groups=2, activation="relu",
                          kernel_regularizer="l2", kernel_initializer="he_normal", name="c3")
    config = layer.get_config()
    assert {k: config[k] for k in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                                   "groups", "use_bias")} == dict(
        filters=4, kernel_size=(3, 2, 1), strides=(1, 2, 1), padding="same", data_format="channels_last",
        dilation_rate=(1, 1, 1), groups=2, use_bias=True)
    clone = layers.Conv3D.from_config(config)
    assert clone.get_config() == config
    clone(np.ones((1, 4, 4, 4, 2), "float32"))
    assert len(clone.losses) == 1  # the l2 penalty on the kernel
    assert layers.Convolution3D is layers.Conv3D


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv3D(0, 3), "filters must be a positive integer"),
    (lambda: layers.Conv3D(5, 3, groups=2), "The number of filters must be evenly divisible by the number of groups"),
    (lambda: layers.Conv3D(4, 3, groups=0), "The number of groups must be a positive integer"),
    (lambda: layers.Conv3D(4, (3, 3)), "kernel_size must be a positive int or 3 of them"),
    (lambda: layers.Conv3D(4, 3, strides=2, dilation_rate=2), "`strides > 1` not supported in conjunction with"),
    (lambda: layers.Conv3D(4, 3, padding="causal"), "padding must be 'valid' or 'same'"),
    (lambda: layers.Conv3D(4, 3, data_format="channels_middle"), "data_format must be"),
])
def test_conv3d_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_conv3d_build_errors():
    with pytest.raises(ValueError, match="number of input channels must be evenly divisible by the number of groups"):
        layers.Conv3D(4, 3, groups=2)(np.ones((1, 4, 4, 4, 3), "float32"))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.Conv3D(4, 3)(np.ones((1, 2, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="expected ndim=5|ndim"):
        layers.Conv3D(4, 3)(np.ones((1, 4, 4, 1), "float32"))


# --- Conv3DTranspose ----------------------------------------------------------------------------------------------
def test_conv3d_transpose_matches_torch_and_keras_sizes():
    x = _volumes((2, 3, 4, 3, 5), seed=2)
    layer = layers.Conv3DTranspose(3, 3, strides=(2, 1, 2), padding="valid", output_padding=(1, 0, 0),
                                   dtype="float64", bias_initializer="random_normal")
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 3, 5)
    expected = F.conv_transpose3d(torch.tensor(_ncdhw(x)), torch.tensor(np.ascontiguousarray(
        kernel.transpose(4, 3, 0, 1, 2))), torch.tensor(bias), stride=(2, 1, 2), output_padding=(1, 0, 0))
    np.testing.assert_allclose(y, _ndhwc(expected.numpy()), rtol=1e-10, atol=1e-10)
    assert y.shape == (2, 8, 6, 7, 3) == layer.compute_output_shape(x.shape)


def test_conv3d_transpose_same_channels_first_and_config():
    layer = layers.Conv3DTranspose(4, 4, strides=2, padding="same", data_format="channels_first", activation="tanh")
    y = layer(np.ones((2, 3, 2, 3, 4), "float32"))
    assert y.shape == (2, 4, 4, 6, 8) == layer.compute_output_shape((2, 3, 2, 3, 4))
    config = layer.get_config()
    assert config["output_padding"] is None and config["data_format"] == "channels_first"
    assert layers.Conv3DTranspose.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="`output_padding` must be strictly less than `strides`"):
        layers.Conv3DTranspose(2, 3, strides=2, output_padding=2)
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose


# --- pooling ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "valid"), ((3, 2, 3), (2, 1, 2), "valid"),
                                                         (3, 1, "valid"), (2, 2, "same")])
def test_pooling3d_matches_torch(pool_size, strides, padding):
    x = _volumes((2, 6, 6, 6, 3), seed=3)
    torch_pad = 0 if padding == "valid" else (0, 0, 0)  # 6 with window 2 and stride 2 needs no 'same' padding
    for keras_layer, torch_fn in ((layers.MaxPooling3D, F.max_pool3d), (layers.AveragePooling3D, F.avg_pool3d)):
        layer = keras_layer(pool_size, strides, padding, dtype="float64")
        y = layer(x).numpy()
        expected = torch_fn(torch.tensor(_ncdhw(x)), pool_size, strides or pool_size, torch_pad)
        np.testing.assert_allclose(y, _ndhwc(expected.numpy()), rtol=1e-12)
        assert y.shape == layer.compute_output_shape(x.shape)


def test_pooling3d_same_channels_first_config_and_aliases():
    x = _volumes((1, 2, 5, 4, 3), seed=4)  # channels first
    y = layers.AveragePooling3D(2, padding="same", data_format="channels_first")(x).numpy()
    assert y.shape == (1, 2, 3, 2, 2)
    # the last depth window holds one real slice: its mean is over the real voxels only (TensorFlow's rule)
    np.testing.assert_allclose(y[0, 1, 2, 0, 0], x[0, 1, 4, 0:2, 0:2].mean(), rtol=1e-6)
    layer = layers.MaxPooling3D((1, 2, 2), padding="same", data_format="channels_first")
    assert layer.compute_output_shape((None, 2, 5, 4, 3)) == (None, 2, 5, 2, 2)
    assert layer.get_config()["pool_size"] == (1, 2, 2) and layer.get_config()["strides"] == (1, 2, 2)
    assert layers.MaxPooling3D.from_config(layer.get_config()).get_config() == layer.get_config()
    assert (layers.MaxPool3D, layers.AvgPool3D) == (layers.MaxPooling3D, layers.AveragePooling3D)
    with pytest.raises(ValueError, match="pool_size must be a positive int or 3 of them"):
        layers.MaxPooling3D((2, 2))


def test_global_pooling3d():
    x = _volumes((2, 3, 4, 5, 6), seed=5)
    np.testing.assert_allclose(layers.GlobalAveragePooling3D()(x).numpy(), x.mean(axis=(1, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalMaxPooling3D(keepdims=True)(x).numpy(),
                               x.max(axis=(1, 2, 3), keepdims=True), rtol=1e-6)
    first = layers.GlobalMaxPooling3D(data_format="channels_first")
    np.testing.assert_allclose(first(x).numpy(), x.max(axis=(2, 3, 4)), rtol=1e-6)
    assert first.compute_output_shape((None, 3, 4, 5, 6)) == (None, 3)
    assert (layers.GlobalAvgPool3D, layers.GlobalMaxPool3D) == (layers.GlobalAveragePooling3D,
                                                                layers.GlobalMaxPooling3D)


# --- reshaping ----------------------------------------------------------------------------------------------------
def test_upsampling3d_repeats_each_axis():
    x = _volumes((1, 2, 3, 2, 2), seed=6)
    layer = layers.UpSampling3D((2, 1, 3))
    y = layer(x).numpy()
    np.testing.assert_array_equal(y, x.repeat(2, axis=1).repeat(3, axis=3).astype("float32"))
    assert y.shape == layer.compute_output_shape(x.shape)
    assert layer.get_config()["size"] == (2, 1, 3) and "interpolation" not in layer.get_config()
    first = layers.UpSampling3D(2, data_format="channels_first")
    np.testing.assert_array_equal(first(x).numpy(), x.repeat(2, 2).repeat(2, 3).repeat(2, 4).astype("float32"))
    assert first.compute_output_shape((None, 2, 3, None, 2)) == (None, 2, 6, None, 4)


def test_zero_padding3d_and_cropping3d():
    x = _volumes((1, 3, 4, 5, 2), seed=7).astype("float32")
    padded = layers.ZeroPadding3D(((1, 0), (0, 2), 1))(x).numpy()
    assert padded.shape == (1, 4, 6, 7, 2)
    np.testing.assert_array_equal(padded, np.pad(x, ((0, 0), (1, 0), (0, 2), (1, 1), (0, 0))))
    assert layers.ZeroPadding3D().get_config()["padding"] == ((1, 1), (1, 1), (1, 1))
    cropped = layers.Cropping3D(((1, 0), 1, (2, 1)))(x).numpy()
    np.testing.assert_array_equal(cropped, x[:, 1:, 1:3, 2:4])
    first = layers.Cropping3D(1, data_format="channels_first")
    np.testing.assert_array_equal(first(np.moveaxis(x, -1, 1)).numpy(), np.moveaxis(x, -1, 1)[:, :, 1:2, 1:3, 1:4])
    assert layers.Cropping3D.from_config(first.get_config()).get_config() == first.get_config()
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial dimension"):
        layers.Cropping3D(2)(x)
    with pytest.raises(ValueError, match="tuple of 3 ints"):
        layers.ZeroPadding3D((1, 2))


# --- keras.ops ----------------------------------------------------------------------------------------------------
def test_keras_ops_on_volumes():
    x, kernel = _volumes((2, 5, 4, 6, 3), seed=8), _volumes((3, 3, 3, 3, 2), seed=9)
    y = ops.conv(x, kernel, strides=(2, 1, 1), padding="same")  # symmetric 'same' pads: torch's padding=1
    np.testing.assert_allclose(y.numpy(), _torch_conv3d(x, kernel, np.zeros(2), stride=(2, 1, 1), padding=1),
                               rtol=1e-10, atol=1e-10)
    y_first = ops.conv(_ncdhw(x), kernel, strides=(2, 1, 1), padding="same", data_format="channels_first")
    np.testing.assert_allclose(_ndhwc(y_first.numpy()), y.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ops.max_pool(x, 2).numpy(),
                               _ndhwc(F.max_pool3d(torch.tensor(_ncdhw(x)), 2).numpy()), rtol=1e-12)
    np.testing.assert_allclose(ops.average_pool(_ncdhw(x), (1, 2, 3), data_format="channels_first").numpy(),
                               F.avg_pool3d(torch.tensor(_ncdhw(x)), (1, 2, 3)).numpy(), rtol=1e-12)
    up = ops.conv_transpose(x, _volumes((2, 2, 2, 4, 3), seed=10), strides=2)
    assert up.shape == (2, 10, 8, 12, 4)
    with pytest.raises(ValueError, match="`kernel` must have rank 5"):
        ops.conv(x, kernel[0])


def test_keras_ops_conv_transpose_1d_2d_match_the_layers():
    x = _volumes((2, 5, 3), seed=11)
    layer = layers.Conv1DTranspose(4, 3, strides=2, output_padding=1, use_bias=False, dtype="float64")
    np.testing.assert_allclose(ops.conv_transpose(x, layer(x) is not None and layer.kernel, strides=2,
                                                  output_padding=1).numpy(), layer(x).numpy(), rtol=1e-12)
    images = _volumes((2, 4, 4, 3), seed=12)
    layer2d = layers.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    expected = layer2d(images).numpy()
    np.testing.assert_allclose(ops.conv_transpose(images, layer2d.kernel, 2, "same").numpy(), expected, rtol=1e-12)


# --- a small 3-D CNN --------------------------------------------------------------------------------------------
def _scans(n, seed):
    """Synthetic 'CT volumes': noise, and for label 1 a bright cube somewhere inside."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.3, (n, 12, 12, 8, 1)).astype("float32")
    y = rng.integers(0, 2, n).astype("float32")
    for i in np.flatnonzero(y):
        d, h, w = rng.integers(0, 7, 3)
        x[i, d:d + 5, h:h + 5, w % 4:w % 4 + 4] += 1.0
    return x, y


def _three_d_cnn():
    """keras-io's 3-D image classification model ("3dcnn"), with fewer filters and units for small volumes."""
    inputs = keras.Input((12, 12, 8, 1))
    x = layers.Conv3D(filters=8, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPool3D(pool_size=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv3D(filters=8, kernel_size=(3, 3, 1), padding="same", activation="relu")(x)
    x = layers.MaxPool3D(pool_size=(2, 2, 1))(x)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling3D()(x)
    x = layers.Dense(units=16, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(units=1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="3dcnn")


def test_three_d_cnn_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _scans(64, seed=0)
    model = _three_d_cnn()
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.01), metrics=["acc"])
    history = model.fit(x, y, batch_size=16, epochs=6, verbose=0, shuffle=True)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    path = tmp_path / "3d_image_classification.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in restored.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(restored.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0), rtol=1e-6,
                               atol=1e-7)


def test_volume_autoencoder_with_transpose_upsampling_padding_cropping_round_trips(tmp_path):
    inputs = keras.Input((6, 6, 6, 2))
    x = layers.ZeroPadding3D(1)(inputs)
    x = layers.Conv3D(4, 3, strides=2, padding="same", activation="relu", data_format="channels_last")(x)
    x = layers.AveragePooling3D(2, padding="same")(x)
    x = layers.UpSampling3D(2)(x)
    x = layers.Conv3DTranspose(2, 3, strides=2, padding="same")(x)
    outputs = layers.Cropping3D(1)(x)
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 6, 6, 6, 2)
    model.compile(optimizer="adam", loss="mse")
    volumes = _volumes((8, 6, 6, 6, 2), seed=13, dtype="float32")
    model.fit(volumes, volumes, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "ae.keras")
    restored = keras.models.load_model(tmp_path / "ae.keras")
    np.testing.assert_allclose(restored.predict(volumes, verbose=0), model.predict(volumes, verbose=0), rtol=1e-6,
                               atol=1e-7)
