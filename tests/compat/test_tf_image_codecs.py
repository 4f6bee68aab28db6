"""tf.io / tf.image decode_jpeg, decode_png, decode_bmp, decode_gif, decode_image, encode_jpeg, encode_png."""

import io

import numpy as np
import pytest
from PIL import Image

import chainrule as tf


def _file(array, fmt, path, mode=None, **options):
    Image.fromarray(array, mode).save(path, fmt, **options)
    return str(path)


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (6, 9, 3)).astype(np.uint8)


def test_png_round_trip_and_channels(rgb, tmp_path):
    path = _file(rgb, "PNG", tmp_path / "a.png")
    contents = tf.io.read_file(path)
    decoded = tf.io.decode_png(contents)
    assert decoded.dtype == tf.uint8 and decoded.shape == (6, 9, 3)
    np.testing.assert_array_equal(decoded.numpy(), rgb)
    assert tf.io.decode_png(contents, channels=4).numpy()[..., 3].min() == 255
    gray = tf.io.decode_png(contents, channels=1).numpy()
    np.testing.assert_array_equal(gray[..., 0], np.asarray(Image.fromarray(rgb).convert("L")))
    wide = tf.io.decode_png(contents, dtype=tf.uint16).numpy()
    assert wide.dtype == np.uint16 and (wide == rgb.astype(np.uint16) * 257).all()
    np.testing.assert_array_equal(tf.io.decode_png(tf.io.encode_png(rgb)).numpy(), rgb)


def test_jpeg_and_decode_image(rgb, tmp_path):
    smooth = np.repeat(np.repeat(np.array([[[40, 90, 200]]], np.uint8), 16, 0), 16, 1)
    path = _file(smooth, "JPEG", tmp_path / "a.jpg", quality=95)
    contents = tf.io.read_file(path)
    assert bool(tf.io.is_jpeg(contents)) and not bool(tf.io.is_jpeg(tf.io.encode_png(rgb)))
    image = tf.image.decode_jpeg(contents, channels=3)
    assert image.shape == (16, 16, 3) and np.abs(image.numpy().astype(int) - smooth).max() <= 3
    as_float = tf.image.decode_image(contents, dtype=tf.float32)
    assert as_float.dtype == tf.float32 and as_float.shape == (16, 16, 3)
    np.testing.assert_allclose(as_float.numpy(), image.numpy() / 255.0, atol=1e-6)
    assert tf.io.decode_jpeg(contents, channels=1).shape == (16, 16, 1)
    again = tf.io.decode_jpeg(tf.io.encode_jpeg(image, quality=100)).numpy()
    assert np.abs(again.astype(int) - image.numpy()).max() <= 3


def test_bmp_gif_and_animations(rgb, tmp_path):
    bmp = tf.io.read_file(_file(rgb, "BMP", tmp_path / "a.bmp"))
    np.testing.assert_array_equal(tf.io.decode_bmp(bmp).numpy(), rgb)
    np.testing.assert_array_equal(tf.io.decode_image(bmp).numpy(), rgb)
    frames = [Image.fromarray(np.full((4, 5, 3), v, np.uint8)) for v in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    gif = buffer.getvalue()
    assert tf.io.decode_gif(gif).shape == (2, 4, 5, 3)
    assert tf.io.decode_image(gif).shape == (2, 4, 5, 3)
    first = tf.io.decode_image(gif, expand_animations=False)
    assert first.shape == (4, 5, 3) and first.numpy().max() == 0


def test_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        tf.io.decode_image(b"not an image")
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a JPEG image"):
        tf.io.decode_jpeg(b"GIF? no")
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a BMP image"):
        tf.io.decode_bmp(tf.io.encode_png(np.zeros((2, 2, 3), np.uint8)))
    png = tf.io.encode_png(np.full((2, 2, 3), 7, np.uint8))
    assert tf.io.decode_jpeg(png).numpy().tolist() == [[[7, 7, 7]] * 2] * 2  # decode_jpeg reads a PNG, as TF
    with pytest.raises(tf.errors.InvalidArgumentError, match="channels must be one of"):
        tf.io.decode_jpeg(tf.io.encode_jpeg(np.zeros((2, 2, 3), np.uint8)), channels=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be uint8"):
        tf.io.encode_png(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="3-dimensional"):
        tf.io.encode_png(np.zeros((2, 2), np.uint8))
