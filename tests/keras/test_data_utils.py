"""keras.utils.pad_sequences (Keras's documented cases) and the image utilities array_to_img / img_to_array /
save_img / load_img (round trips through PIL and files), also under keras.preprocessing."""
import io

import numpy as np
import pytest
from PIL import Image

import chainrule as tf
from chainrule import keras
from chainrule.keras.utils import array_to_img, img_to_array, load_img, pad_sequences, save_img


# --- pad_sequences --------------------------------------------------------------------------------------------------
def test_pad_sequences_as_keras_documents_it():
    sequence = [[1], [2, 3], [4, 5, 6]]
    out = pad_sequences(sequence)
    assert out.dtype == np.int32 and out.tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    assert pad_sequences(sequence, value=-1).tolist() == [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    assert pad_sequences(sequence, padding="post").tolist() == [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    assert pad_sequences(sequence, maxlen=2).tolist() == [[0, 1], [2, 3], [5, 6]]


def test_pad_sequences_truncating_dtype_and_item_shapes():
    sequence = [[1, 2, 3, 4], [5]]
    assert pad_sequences(sequence, maxlen=2, truncating="post").tolist() == [[1, 2], [0, 5]]
    assert pad_sequences(sequence, maxlen=3, padding="post", truncating="pre").tolist() == [[2, 3, 4], [5, 0, 0]]
    floats = pad_sequences([[0.5], [1.5, 2.5]], dtype="float32", value=-1.0)
    assert floats.dtype == np.float32 and floats.tolist() == [[-1.0, 0.5], [1.5, 2.5]]
    vectors = pad_sequences([np.ones((1, 2)), np.zeros((3, 2))], padding="post")
    assert vectors.shape == (2, 3, 2) and vectors[0].tolist() == [[1, 1], [0, 0], [0, 0]]
    words = pad_sequences([["a"], ["b", "c"]], dtype=object, value="")
    assert words.tolist() == [["", "a"], ["b", "c"]]
    assert pad_sequences([[1, 2], []]).tolist() == [[1, 2], [0, 0]]
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0) and pad_sequences([]).shape == (0, 0)
    assert keras.preprocessing.sequence.pad_sequences is pad_sequences
    assert tf.keras.utils.pad_sequences is pad_sequences


def test_pad_sequences_errors_name_the_problem():
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "both" not understood'):
        pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="list of iterables"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="different from expected shape"):
        pad_sequences([np.ones((1, 2)), np.ones((1, 3))])


# --- images ---------------------------------------------------------------------------------------------------------
def rgb():
    return np.random.default_rng(0).integers(0, 256, (4, 5, 3)).astype(np.float32)


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB"), (4, "RGBA")])
def test_array_to_img_and_back_without_scaling_is_exact(channels, mode):
    x = np.random.default_rng(channels).integers(0, 256, (4, 5, channels)).astype(np.float32)
    img = array_to_img(x, scale=False)
    assert img.mode == mode and img.size == (5, 4)  # PIL's (width, height)
    back = img_to_array(img)
    assert back.dtype == np.float32 and back.shape == (4, 5, channels)
    np.testing.assert_array_equal(back, x)


def test_array_to_img_scales_to_the_full_range_by_default():
    x = np.array([[[-1.0], [1.0]], [[0.0], [0.5]]])
    np.testing.assert_array_equal(np.asarray(array_to_img(x)), [[0, 255], [127, 191]])
    assert array_to_img(np.full((2, 2, 1), 300.0), scale=False).mode == "I"  # past 255: 32-bit grayscale


def test_channels_first_round_trip():
    x = rgb()
    chw = x.transpose(2, 0, 1)
    img = array_to_img(chw, data_format="channels_first", scale=False)
    np.testing.assert_array_equal(img_to_array(img), x)
    np.testing.assert_array_equal(img_to_array(img, data_format="channels_first"), chw)
    gray = array_to_img(x[..., :1], scale=False)
    assert img_to_array(gray, data_format="channels_first").shape == (1, 4, 5)
    assert img_to_array(gray, dtype="uint8").dtype == np.uint8


def test_array_to_img_takes_a_tensor_as_the_gan_program_does():
    generated = tf.random.uniform((2, 28, 28, 1))
    img = tf.keras.preprocessing.image.array_to_img(generated[0] * 255.0, scale=False)
    assert img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), (generated[0].numpy()[..., 0] * 255.0).astype(np.uint8))


def test_save_and_load_round_trips_through_files(tmp_path):
    x = rgb()
    path = tmp_path / "image.png"
    save_img(path, x, scale=False)
    loaded = load_img(path)
    assert loaded.mode == "RGB" and loaded.size == (5, 4)
    np.testing.assert_array_equal(img_to_array(loaded), x)
    gray = img_to_array(load_img(str(path), color_mode="grayscale"))
    assert gray.shape == (4, 5, 1)
    np.testing.assert_array_equal(gray[..., 0], np.asarray(Image.open(path).convert("L")))
    assert img_to_array(load_img(path, color_mode="rgba"))[..., 3].min() == 255
    buffer = io.BytesIO()
    save_img(buffer, x, file_format="png", scale=False)
    buffer.seek(0)
    np.testing.assert_array_equal(img_to_array(load_img(buffer)), x)


def test_load_img_resizes_as_pil_does(tmp_path):
    path = tmp_path / "wide.png"
    x = np.random.default_rng(1).integers(0, 256, (6, 12, 3)).astype(np.float32)
    save_img(str(path), x, scale=False)
    for interpolation in ("nearest", "bilinear", "bicubic"):
        resized = load_img(path, target_size=(3, 4), interpolation=interpolation)
        expected = Image.open(path).convert("RGB").resize((4, 3), getattr(Image.Resampling, interpolation.upper()))
        assert resized.size == (4, 3)
        np.testing.assert_array_equal(np.asarray(resized), np.asarray(expected))
    cropped = load_img(path, target_size=(6, 6), keep_aspect_ratio=True)
    # the centred 6 x 6 crop of the 6 x 12 image, not a squeezed whole
    np.testing.assert_array_equal(img_to_array(cropped), x[:, 3:9])


def test_jpeg_files_and_their_rgba_warning(tmp_path):
    rgba = np.concatenate([rgb(), np.full((4, 5, 1), 255.0)], axis=-1)
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        save_img(tmp_path / "image.jpg", rgba, scale=False)
    assert load_img(tmp_path / "image.jpg").size == (5, 4)


def test_image_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        array_to_img(np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match="data_format"):
        array_to_img(np.zeros((4, 5, 3)), data_format="nhwc")
    save_img(tmp_path / "a.png", rgb())
    with pytest.raises(ValueError, match="color_mode"):
        load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method"):
        load_img(tmp_path / "a.png", target_size=(2, 2), interpolation="fancy")
    with pytest.raises(TypeError, match="path should be path-like"):
        load_img(42)


def test_keras_preprocessing_image_names():
    image = keras.preprocessing.image
    assert (image.array_to_img, image.img_to_array, image.load_img, image.save_img) == \
        (array_to_img, img_to_array, load_img, save_img)
    assert tf.keras.utils.array_to_img is array_to_img


# --- labels -----------------------------------------------------------------------------------------------------------
def test_one_hot_follows_tensorflow_integer_indices_and_axis():
    float_labels = np.array([0.0, 2.0, 1.0], np.float32)
    with pytest.raises(TypeError, match="has DataType float32 not in list of allowed values: uint8, int8, int32"):
        tf.one_hot(float_labels, 3)  # TensorFlow refuses float indices too
    np.testing.assert_array_equal(tf.one_hot(tf.cast(float_labels, tf.int64), 3).numpy(), np.eye(3)[[0, 2, 1]])
    assert tf.one_hot([0, 2], 3, axis=0).numpy().tolist() == [[1, 0], [0, 0], [0, 1]]
    assert tf.one_hot([[0, 5]], 3).shape == (1, 2, 3) and tf.one_hot([5], 3).numpy().sum() == 0
    # Keras's own helpers take integer-valued floats, as Keras does
    np.testing.assert_array_equal(keras.utils.to_categorical(float_labels, 3), np.eye(3)[[0, 2, 1]])
