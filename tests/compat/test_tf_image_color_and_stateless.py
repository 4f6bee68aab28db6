"""tf.image's HSV ops (rgb_to_hsv, hsv_to_rgb, adjust_saturation, adjust_hue) against Python's colorsys, and the
stateless random image ops (the same seed, the same result)."""

import colorsys

import numpy as np
import pytest

import chainrule as tf


def test_hsv_round_trip_matches_colorsys():
    rgb = np.random.default_rng(0).random((4, 5, 3)).astype("float32")
    hsv = tf.image.rgb_to_hsv(rgb).numpy()
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in rgb.reshape(-1, 3)]).reshape(rgb.shape)
    np.testing.assert_allclose(hsv, expected, atol=1e-6)
    np.testing.assert_allclose(tf.image.hsv_to_rgb(hsv).numpy(), rgb, atol=1e-6)


def test_adjust_saturation_and_hue():
    rgb = np.random.default_rng(1).random((6, 3)).astype("float32")
    saturated = tf.image.adjust_saturation(rgb, 1.5).numpy()
    for pixel, out in zip(rgb, saturated):
        h, s, v = colorsys.rgb_to_hsv(*pixel)
        np.testing.assert_allclose(out, colorsys.hsv_to_rgb(h, min(s * 1.5, 1.0), v), atol=1e-6)
    shifted = tf.image.adjust_hue(rgb, 0.25).numpy()
    for pixel, out in zip(rgb, shifted):
        h, s, v = colorsys.rgb_to_hsv(*pixel)
        np.testing.assert_allclose(out, colorsys.hsv_to_rgb((h + 0.25) % 1.0, s, v), atol=1e-6)
    image = (rgb * 255).astype("uint8").reshape(2, 3, 3)
    out = tf.image.adjust_saturation(image, 0.0)
    assert out.dtype == np.uint8 and (np.ptp(out.numpy(), axis=-1) <= 1).all()  # grey: equal channels
    with pytest.raises(ValueError, match="3 channels"):
        tf.image.adjust_saturation(np.zeros((2, 2)), 2.0)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        tf.image.adjust_hue(rgb, 1.5)


def test_stateless_random_image_ops_repeat_for_a_seed():
    image = np.random.default_rng(2).integers(0, 256, (20, 30, 3)).astype("uint8")
    for fn, kwargs in ((tf.image.stateless_random_brightness, {"max_delta": 0.5}),
                       (tf.image.stateless_random_contrast, {"lower": 0.2, "upper": 0.9}),
                       (tf.image.stateless_random_saturation, {"lower": 0.2, "upper": 0.9}),
                       (tf.image.stateless_random_crop, {"size": [10, 12, 3]}),
                       (tf.image.stateless_random_flip_left_right, {}),
                       (tf.image.stateless_random_flip_up_down, {})):
        outs = [fn(image, seed=(s, 0), **kwargs).numpy() for s in (1, 1, 2, 3, 4, 5)]
        assert (outs[0] == outs[1]).all(), fn.__name__
        assert any(o.shape != outs[0].shape or (o != outs[0]).any() for o in outs[2:]), fn.__name__
    crop = tf.image.stateless_random_crop(image, size=[10, 12, 3], seed=(7, 1)).numpy()
    assert any((image[r:r + 10, c:c + 12] == crop).all() for r in range(11) for c in range(19))
    with pytest.raises(ValueError, match="seed"):
        tf.image.stateless_random_brightness(image, 0.2, seed=5)
