"""keras.applications: Keras 3's architectures (parameter counts, layer names and order, output shapes), their
argument checks, preprocess_input/decode_predictions, and Keras's legacy HDF5 weight files (written here with h5py
in Keras's layout, loaded by layer order, by name, and through weights="imagenet" from get_file's cache). Nothing
here uses the network; the big models are only built (the 224x224 ones are marked slow)."""
import hashlib
import json
import sys
import urllib.request
import warnings

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import applications, layers
from chainrule.keras.applications import building, efficientnet, imagenet_utils, mobilenet_v2, resnet
from chainrule.keras.saving.legacy_h5 import keras_layer_order, legacy_weights

# Keras's published sizes (model.summary() of keras.applications): parameters, number of weight variables
KERAS_COUNTS = {
    "ResNet50": (25_636_712, 320), "ResNet101": (44_707_176, 626), "ResNet152": (60_419_944, 932),
    "ResNet50V2": (25_613_800, 272), "ResNet101V2": (44_675_560, 544), "ResNet152V2": (60_380_648, 816),
    "MobileNetV2": (3_538_984, 262), "MobileNet": (4_253_864, 137), "Xception": (22_910_480, 236), "EfficientNetB0": (5_330_571, 314),
    "EfficientNetB1": (7_856_239, 442), "VGG16": (138_357_544, 32), "VGG19": (143_667_240, 38),
    "InceptionV3": (23_851_784, 378), "DenseNet121": (8_062_504, 606), "DenseNet169": (14_307_880, 846), "DenseNet201": (20_242_984, 1006),
}


@pytest.fixture(autouse=True)
def fresh_names_and_no_network(monkeypatch):
    """Keras's automatic names ('input_layer', 'rescaling', ...) count from a fresh session in each test, and
    get_file may open file:// URLs only: a test that would download fails instead."""
    keras.backend.clear_session()
    urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        if not str(getattr(url, "full_url", url)).startswith("file:"):
            raise AssertionError(f"a test tried to download {url}")
        return urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


def _counts(model):
    return model.count_params(), len(model.weights)


# --- architectures ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def resnet50():
    # global average pooling: the parameters do not depend on the image size
    return applications.ResNet50(weights=None, input_shape=(32, 32, 3))


@pytest.mark.parametrize("name, kwargs", [
    ("MobileNetV2", {"input_shape": (32, 32, 3)}),
    ("MobileNet", {"input_shape": (32, 32, 3)}),
    ("EfficientNetB0", {"input_shape": (32, 32, 3)}),
    ("EfficientNetB1", {"input_shape": (32, 32, 3)}),
    ("DenseNet121", {"input_shape": (32, 32, 3)}),
])
def test_parameter_counts_are_keras(name, kwargs):
    model = getattr(applications, name)(weights=None, **kwargs)
    assert _counts(model) == KERAS_COUNTS[name]
    assert model.output_shape == (None, 1000)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ResNet101", "ResNet152", "ResNet101V2", "ResNet152V2", "DenseNet169",
                                  "DenseNet201", "InceptionV3", "VGG16", "VGG19"])
def test_parameter_counts_of_the_big_models(name):
    # the smallest input each takes (VGG's Flatten needs 224x224)
    kwargs = {} if name.startswith("VGG") else {"input_shape": (75, 75, 3) if name == "InceptionV3" else (32, 32, 3)}
    model = getattr(applications, name)(weights=None, **kwargs)
    assert _counts(model) == KERAS_COUNTS[name]


def test_vgg_without_top_and_pooling():
    vgg16 = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert vgg16.count_params() == 14_714_688 and vgg16.output_shape == (None, 1, 1, 512)
    vgg19 = applications.VGG19(weights=None, include_top=False, input_shape=(64, 48, 3), pooling="max")
    assert vgg19.count_params() == 20_024_384 and vgg19.output_shape == (None, 512)
    assert [layer.name for layer in vgg19.layers[1:4]] == ["block1_conv1", "block1_conv2", "block1_pool"]
    assert vgg19.name == "vgg19" and vgg19.layers[-2].name == "block5_pool"


def test_resnet50_count_and_layers_in_keras_order(resnet50):
    """The order of Keras 3's model.layers (by depth; the files' layer_names follow it), from its summary."""
    assert _counts(resnet50) == KERAS_COUNTS["ResNet50"] and resnet50.output_shape == (None, 1000)
    assert len(resnet50.layers) == 177 and resnet50.name == "resnet50"
    names = [layer.name for layer in keras_layer_order(resnet50)]
    assert names[1:20] == [
        "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
        "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu", "conv2_block1_2_conv",
        "conv2_block1_2_bn", "conv2_block1_2_relu", "conv2_block1_0_conv", "conv2_block1_3_conv",
        "conv2_block1_0_bn", "conv2_block1_3_bn", "conv2_block1_add", "conv2_block1_out", "conv2_block2_1_conv"]
    assert names[-3:] == ["conv5_block3_out", "avg_pool", "predictions"]


def test_resnet50v2_count_and_layers_in_keras_order():
    model = applications.ResNet50V2(weights=None, input_shape=(32, 32, 3))
    assert _counts(model) == KERAS_COUNTS["ResNet50V2"] and model.name == "resnet50v2"
    names = [layer.name for layer in keras_layer_order(model)]
    start = names.index("conv2_block1_2_relu")
    assert names[start:start + 5] == ["conv2_block1_2_relu", "conv2_block1_0_conv", "conv2_block1_3_conv",
                                      "conv2_block1_out", "conv2_block2_preact_bn"]  # Keras's summary
    assert names[-4:] == ["post_bn", "post_relu", "avg_pool", "predictions"]
    assert applications.resnet_v2.preprocess_input(np.array([255.0])) == 1.0  # "tf" mode


def test_mobilenet_v2_names_and_shapes():
    base = applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    assert len(base.layers) == 154  # TF's transfer-learning tutorial prints this number
    assert base.name == "mobilenetv2_1.00_96" and base.output_shape == (None, 3, 3, 1280)
    names = [layer.name for layer in base.layers]
    for name in ("Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "expanded_conv_project_BN",
                 "block_1_expand", "block_1_pad", "block_2_add", "block_16_project_BN", "Conv_1", "out_relu"):
        assert name in names
    slim = applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=7)
    assert slim.name == "mobilenetv2_0.35_32" and slim.output_shape == (None, 7)
    assert slim.get_layer("Conv1").filters == 16 and slim.get_layer("Conv_1").filters == 1280


def test_efficientnet_and_xception_names():
    model = applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="max")
    names = [layer.name for layer in model.layers]
    assert names[1:5] == ["rescaling", "normalization", "stem_conv_pad", "stem_conv"]
    for name in ("block1a_se_excite", "block2a_dwconv_pad", "block2b_drop", "block2b_add", "top_activation",
                 "max_pool"):
        assert name in names
    assert model.output_shape == (None, 1280)
    xception = applications.Xception(weights=None, input_shape=(71, 71, 3))  # the smallest input it takes
    assert _counts(xception) == KERAS_COUNTS["Xception"] and xception.output_shape == (None, 1000)
    assert xception.get_layer("block14_sepconv2_act").output.shape == (None, 3, 3, 2048)
    assert xception.get_layer("block14_sepconv2").pointwise_kernel.shape == (1, 1, 1536, 2048)


@pytest.mark.parametrize("pooling, shape", [(None, (None, 1, 1, 1280)), ("avg", (None, 1280)),
                                            ("max", (None, 1280))])
def test_without_top_pools(pooling, shape):
    model = applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3),
                                     pooling=pooling)
    assert model.output_shape == shape
    assert model.layers[-1].name == {None: "out_relu", "avg": "global_average_pooling2d",
                                     "max": "global_max_pooling2d"}[pooling]


def test_input_tensor_keeps_its_source_inputs():
    image = keras.Input(shape=(32, 32, 3))
    scaled = layers.Rescaling(1 / 127.5, offset=-1)(image)
    model = applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_tensor=scaled,
                                     pooling="avg")
    assert model.inputs == [image] and model.output_shape == (None, 1280)
    assert model.name == "mobilenetv2_0.35_None"  # Keras's too: without input_shape the rows are not known
    out = model(np.zeros((2, 32, 32, 3), "float32"))
    assert out.shape == (2, 1280)


# --- argument checks (Keras's messages) -----------------------------------------------------------------------
def test_keras_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="`classes` should be 1000.  Received classes=10"):
        applications.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="The `weights` argument should be either `None`"):
        applications.VGG16(weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        applications.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="Input size must be at least 71x71"):
        applications.Xception(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="`input_shape` must be a tuple of three integers"):
        applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32))
    with pytest.raises(ValueError, match="If `include_top` is True, you should specify a static `input_shape`"):
        applications.ResNet50(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="pooling"):
        applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="mean")
    with pytest.raises(ValueError, match="Argument `input_tensor` must be a KerasTensor"):
        applications.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))


def test_imagenet_argument_errors_come_before_any_download():
    pytest.importorskip("h5py")
    with pytest.raises(ValueError, match=r"`input_shape` should be \(224, 224, 3\)"):
        applications.ResNet50(weights="imagenet", input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="The input must have 3 channels"):
        applications.ResNet50(weights="imagenet", include_top=False, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match="alpha must be one of `0.35`, `0.50`"):
        applications.MobileNetV2(weights="imagenet", alpha=0.6)
    with pytest.raises(ValueError, match="alpha can be one of`0.25`, `0.50`, `0.75` or `1.0` only"):
        applications.MobileNet(weights="imagenet", alpha=0.35)
    with pytest.raises(ValueError, match="depth multiplier must be 1"):
        applications.MobileNet(weights="imagenet", depth_multiplier=2)
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        applications.MobileNetV2(weights="imagenet", alpha=0.35, input_shape=(96, 96, 3),
                                 classifier_activation="sigmoid")


def test_channel_warning_without_imagenet_weights():
    with pytest.warns(UserWarning, match="expects 1 or 3 input channels"):
        model = applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 4))
    assert model.input_shape == (None, 32, 32, 4)


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[applications\]'"):
        applications.ResNet50(weights="imagenet")
    model = applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3))
    hdf5 = tmp_path / "weights.h5"
    hdf5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))  # an HDF5 file's signature
    with pytest.raises(ImportError, match="requires the h5py package"):
        model.load_weights(hdf5)


# --- preprocess_input and decode_predictions ------------------------------------------------------------------
def test_preprocess_input_modes():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (2, 4, 5, 3))
    caffe = imagenet_utils.preprocess_input(images.copy(), mode="caffe")
    np.testing.assert_allclose(caffe, images[..., ::-1] - [103.939, 116.779, 123.68])
    np.testing.assert_allclose(imagenet_utils.preprocess_input(images.copy(), mode="tf"), images / 127.5 - 1)
    torch_mode = imagenet_utils.preprocess_input(images.copy(), mode="torch")
    np.testing.assert_allclose(torch_mode, (images / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225])
    first = np.moveaxis(images, -1, 1).copy()
    np.testing.assert_allclose(imagenet_utils.preprocess_input(first, data_format="channels_first"),
                               np.moveaxis(caffe, -1, 1))
    np.testing.assert_allclose(imagenet_utils.preprocess_input(images[0].copy(), mode="torch"), torch_mode[0])


def test_preprocess_input_numpy_in_place_tensors_and_ints():
    x = np.full((1, 2, 2, 3), 255.0, "float32")
    out = mobilenet_v2.preprocess_input(x)
    assert out is x and np.all(x == 1.0)  # Keras writes over a float array
    pixels = np.full((1, 2, 2, 3), 255, "uint8")
    assert resnet.preprocess_input(pixels).dtype == np.float32 and pixels[0, 0, 0, 0] == 255
    tensor = keras.ops.convert_to_tensor(np.full((1, 2, 2, 3), 127.5, "float32"))
    np.testing.assert_allclose(np.asarray(applications.vgg16.preprocess_input(tensor)),
                               np.full((1, 2, 2, 3), 127.5) - [103.939, 116.779, 123.68], rtol=1e-6)
    integer_tensor = keras.ops.convert_to_tensor(np.full((1, 1, 1, 3), 255, "uint8"))
    np.testing.assert_allclose(np.asarray(resnet.preprocess_input(integer_tensor)),
                               [[[[255 - 103.939, 255 - 116.779, 255 - 123.68]]]], rtol=1e-6)
    assert applications.efficientnet.preprocess_input(pixels) is pixels
    np.testing.assert_allclose(applications.densenet.preprocess_input(np.full((1, 3), 255.0)),
                               [[(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225]])  # "torch" mode
    with pytest.raises(ValueError, match="Expected mode to be one of `caffe`, `tf` or `torch`"):
        imagenet_utils.preprocess_input(x, mode="keras")
    with pytest.raises(ValueError, match="Expected data_format to be one of"):
        imagenet_utils.preprocess_input(x, data_format="NHWC")


def test_preprocess_input_inside_a_model():
    image = keras.Input(shape=(4, 4, 3))
    model = keras.Model(image, applications.resnet50.preprocess_input(image))
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), x[..., ::-1] - [103.939, 116.779, 123.68], rtol=1e-5)


def test_decode_predictions_through_get_file(tmp_path, monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    source = tmp_path / "source" / "imagenet_class_index.json"
    source.parent.mkdir()
    source.write_text(json.dumps(index))
    assert imagenet_utils.CLASS_INDEX_PATH == ("https://storage.googleapis.com/download.tensorflow.org/data/"
                                               "imagenet_class_index.json")  # Keras's
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", source.as_uri())
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", hashlib.md5(source.read_bytes()).hexdigest())
    preds = np.zeros((2, 1000), "float32")
    preds[0, [3, 999, 5]] = [0.5, 0.3, 0.2]
    preds[1, 42] = 1.0
    decoded = applications.resnet50.decode_predictions(preds, top=3)
    assert [entry[:2] for entry in decoded[0]] == [("n00000003", "class_3"), ("n00000999", "class_999"),
                                                  ("n00000005", "class_5")]
    assert decoded[0][0][2] == pytest.approx(0.5) and decoded[1][0][:2] == ("n00000042", "class_42")
    assert (tmp_path / "keras_home" / "models" / "imagenet_class_index.json").exists()
    assert len(applications.mobilenet_v2.decode_predictions(preds)[1]) == 5
    with pytest.raises(ValueError, match=r"Received array with shape: \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


# --- Keras's HDF5 weight files ----------------------------------------------------------------------------------
def _randomize(model, seed=None):
    """``model`` with random weights from ``seed`` (as it was built when ``seed`` is None)."""
    if seed is None:
        return model
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if np.dtype(variable.dtype).kind != "f":
            variable.assign(np.asarray(rng.integers(1, 100), variable.dtype).reshape(shape))
        elif "variance" in variable.name:  # positive, as a variance is
            variable.assign(rng.uniform(0.5, 1.5, shape).astype(variable.dtype))
        else:
            variable.assign(rng.normal(0, 0.1, shape).astype(variable.dtype))
    return model


def write_keras_h5(model, path, whole_model: bool = False, order=None):
    """A Keras legacy weights file of ``model``'s weights: layer_names in Keras's layer order (all layers, those
    without weights with an empty weight_names), each layer's weights trainable first, named as Keras names them."""
    import h5py

    with h5py.File(path, "w") as file:
        group = file.create_group("model_weights") if whole_model else file
        layers_in_order = order if order is not None else keras_layer_order(model)
        group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers_in_order]
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.2.4"
        for layer in layers_in_order:
            layer_group = group.create_group(layer.name)
            names = [f"{v.name}:0" for v in legacy_weights(layer)]  # '<layer>/<weight>:0', a nested one's too
            layer_group.attrs["weight_names"] = [name.encode("utf8") for name in names]
            for name, variable in zip(names, legacy_weights(layer)):
                layer_group.create_dataset(name, data=np.asarray(variable.numpy()))


def _mobilenet(seed=None, **kwargs):
    kwargs = {"alpha": 0.35, "input_shape": (32, 32, 3), "classes": 5, "weights": None, **kwargs}
    return _randomize(applications.MobileNetV2(**kwargs), seed)


def test_h5_round_trip_gives_the_same_outputs(tmp_path):
    pytest.importorskip("h5py")
    source = _mobilenet(seed=1)
    path = tmp_path / "mobilenet.h5"
    write_keras_h5(source, path)
    images = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    expected = np.asarray(source.predict(images, verbose=0))
    fresh = _mobilenet()
    assert not np.allclose(np.asarray(fresh.predict(images, verbose=0)), expected)
    fresh.load_weights(str(path))
    np.testing.assert_allclose(np.asarray(fresh.predict(images, verbose=0)), expected, rtol=1e-5, atol=1e-6)
    again = _mobilenet(weights=str(path))  # the weights argument takes the file too
    for a, b in zip(again.weights, source.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _small_resnet(seed=None):
    """ResNet's builder with two bottleneck blocks: the first has the convolution shortcut."""
    return _randomize(resnet.ResNet(lambda x: resnet.stack_residual_blocks_v1(x, 8, 2, stride1=1, name="conv2"),
                                    preact=False, use_bias=True, weights=None, include_top=False,
                                    input_shape=(32, 32, 3), pooling="avg"), seed)


def test_h5_loading_follows_keras_order_in_residual_graphs(tmp_path):
    """ResNet's conv2_block1_0_conv and _3_conv have the same shapes: only the order tells them apart."""
    pytest.importorskip("h5py")
    source = _small_resnet(seed=3)
    path = tmp_path / "resnet.h5"
    write_keras_h5(source, path, whole_model=True)  # a whole-model file keeps the weights under model_weights
    fresh = _small_resnet()
    fresh.load_weights(path)
    for name in ("conv2_block1_0_conv", "conv2_block1_3_conv", "conv2_block1_0_bn", "conv2_block2_3_bn"):
        for a, b in zip(fresh.get_layer(name).weights, source.get_layer(name).weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    images = np.random.default_rng(4).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(fresh(images)), np.asarray(source(images)), rtol=1e-5, atol=1e-6)


def test_h5_of_a_model_with_a_nested_base(tmp_path):
    """A Keras 2 transfer-learning model saved whole: the base is one layer of the file, its weights listed
    trainable first, each group in Keras's layer order of the base (conv2_block1_1_conv before _0_conv)."""
    pytest.importorskip("h5py")

    def transfer_model(seed=None):
        image = keras.Input(shape=(32, 32, 3))
        base = _small_resnet(seed)
        return keras.Model(image, layers.Dense(3, name="head")(base(image, training=False)))

    source = transfer_model(seed=9)
    base = source.layers[1]
    names = [v.name for v in legacy_weights(base)]
    assert names.index("conv2_block1_1_conv/kernel") < names.index("conv2_block1_0_conv/kernel")
    assert names.index("conv2_block2_3_bn/beta") < names.index("conv1_bn/moving_mean")  # trainable ones first
    path = tmp_path / "transfer.h5"
    write_keras_h5(source, path, whole_model=True)
    fresh = transfer_model()
    fresh.load_weights(path)
    images = np.random.default_rng(5).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(fresh(images)), np.asarray(source(images)), rtol=1e-5, atol=1e-6)


def test_imagenet_weights_come_from_get_files_cache(tmp_path, monkeypatch):
    """weights='imagenet' asks get_file for Keras's file name in ~/.keras/models; a cached file matching the
    expected hash is used without downloading."""
    pytest.importorskip("h5py")
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    source = applications.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    _randomize(source, seed=4)
    cached = home / "models" / "efficientnetb0_notop.h5"
    write_keras_h5(source, cached)
    monkeypatch.setitem(efficientnet.WEIGHTS_HASHES, "b0", ("unused", hashlib.md5(cached.read_bytes()).hexdigest()))
    loaded = applications.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    for a, b in zip(loaded.weights, source.weights):  # the normalization's mean, variance and count too
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    stds = loaded.layers[3]  # with ImageNet weights, Keras's stem also divides by the square roots of the stds
    assert type(stds).__name__ == "Rescaling" and stds.scale == pytest.approx([0.229 ** -0.5, 0.224 ** -0.5,
                                                                                0.225 ** -0.5])
    slim = _mobilenet(seed=5, include_top=False, input_shape=(96, 96, 3), classes=1000)
    write_keras_h5(slim, home / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5")
    loaded = applications.MobileNetV2(weights="imagenet", alpha=0.35, include_top=False, input_shape=(96, 96, 3))
    np.testing.assert_array_equal(loaded.get_layer("Conv_1").kernel.numpy(), slim.get_layer("Conv_1").kernel.numpy())



def test_mobilenet_imagenet_file_names(tmp_path, monkeypatch):
    pytest.importorskip("h5py")
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    v1 = _randomize(applications.MobileNet(weights=None, alpha=0.25, include_top=False, input_shape=(128, 128, 3)),
                    seed=6)
    write_keras_h5(v1, home / "models" / "mobilenet_2_5_128_tf_no_top.h5")
    loaded = applications.MobileNet(weights="imagenet", alpha=0.25, include_top=False, input_shape=(128, 128, 3))
    assert loaded.name == "mobilenet_0.25_128"
    np.testing.assert_array_equal(loaded.get_layer("conv_pw_13").kernel.numpy(),
                                  v1.get_layer("conv_pw_13").kernel.numpy())
    asked = []  # a 100x100 image asks for the 224x224 file, as Keras does (the weights fit any size)
    monkeypatch.setattr(building, "get_file", lambda name, origin, **kwargs: asked.append((name, origin)) or str(
        home / "models" / "mobilenet_2_5_128_tf_no_top.h5"))
    with pytest.warns(UserWarning, match=r"Weights for input shape \(224, 224\) will be loaded as the default"):
        applications.MobileNet(weights="imagenet", alpha=0.25, include_top=False, input_shape=(100, 100, 3))
    assert asked == [("mobilenet_2_5_224_tf_no_top.h5", "https://storage.googleapis.com/tensorflow/"
                      "keras-applications/mobilenet/mobilenet_2_5_224_tf_no_top.h5")]


def test_h5_mismatches_change_nothing(tmp_path):
    pytest.importorskip("h5py")
    source = _mobilenet(seed=6)
    fewer = tmp_path / "fewer.h5"
    write_keras_h5(source, fewer, order=[layer for layer in keras_layer_order(source) if layer.name != "Conv_1"])
    target = _mobilenet()
    before = [w.numpy().copy() for w in target.weights]
    with pytest.raises(ValueError, match="Layer count mismatch when loading weights from file"):
        target.load_weights(fewer)
    other = tmp_path / "other_classes.h5"
    write_keras_h5(_mobilenet(seed=7, classes=3), other)
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #\d+ \(named predictions\)"):
        target.load_weights(other)
    for a, b in zip(target.weights, before):
        np.testing.assert_array_equal(a.numpy(), b)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        target.load_weights(other, skip_mismatch=True)
    assert any("Skipping loading weights" in str(w.message) for w in caught)
    np.testing.assert_array_equal(target.get_layer("Conv1").kernel.numpy(),
                                  _get(other, "Conv1", "Conv1/kernel:0"))
    np.testing.assert_array_equal(target.get_layer("predictions").kernel.numpy(), before[-2])


def _get(path, layer, weight):
    import h5py

    with h5py.File(path, "r") as file:
        return np.asarray(file[layer][weight])


def test_h5_by_name_loads_the_layers_that_match(tmp_path):
    """by_name=True (Keras's): a model with another head takes the backbone's weights by layer name."""
    pytest.importorskip("h5py")
    backbone = _mobilenet(seed=8, include_top=False, pooling="avg")
    path = tmp_path / "backbone.h5"
    write_keras_h5(backbone, path)
    image = keras.Input(shape=(32, 32, 3))
    features = _mobilenet(include_top=False, pooling="avg", input_tensor=image)
    head = layers.Dense(2, name="head")(features.output)
    model = keras.Model(image, head)
    head_kernel = model.get_layer("head").kernel.numpy().copy()
    model.load_weights(path, by_name=True)
    np.testing.assert_array_equal(model.get_layer("block_5_expand").kernel.numpy(),
                                  backbone.get_layer("block_5_expand").kernel.numpy())
    np.testing.assert_array_equal(model.get_layer("head").kernel.numpy(), head_kernel)
    model.save_weights(tmp_path / "own.h5")  # chainrule's own format under an .h5 name loads as before
    with pytest.raises(ValueError, match="`by_name` only supports loading legacy '.h5' or '.hdf5' files"):
        model.load_weights(tmp_path / "own.h5", by_name=True)
    fresh = keras.models.clone_model(model)
    fresh.load_weights(tmp_path / "own.h5")
    np.testing.assert_array_equal(fresh.get_layer("head").kernel.numpy(), model.get_layer("head").kernel.numpy())


# --- training ---------------------------------------------------------------------------------------------------
def test_fine_tuning_a_small_mobilenet_lowers_the_loss():
    """The transfer-learning recipe: a frozen base called with training=False, a new head, fit; then unfreeze."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (48, 32, 32, 3)).astype("float32")
    y = (x[..., 0].mean(axis=(1, 2)) > x[..., 2].mean(axis=(1, 2))).astype("int64")  # red brighter than blue
    base = applications.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3))
    base.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    features = base(applications.mobilenet_v2.preprocess_input(inputs), training=False)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.trainable_weights) == 2
    losses = model.fit(x, y, batch_size=16, epochs=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    base.trainable = True
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.trainable_weights) == 2 + len(base.trainable_weights) > 100
    tuned = model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(tuned)) and tuned[-1] < losses[0]
