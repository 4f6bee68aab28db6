"""Resizing, CenterCrop, RandomCrop, RandomContrast, RandomBrightness and keras.layers.experimental.preprocessing."""
import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, size=(3, 10, 8, 3)).astype("float32")


def test_resizing_is_ops_image_resize_in_training_and_inference():
    layer = layers.Resizing(5, 6, interpolation="nearest")
    want = keras.ops.image.resize(IMAGES, (5, 6), interpolation="nearest").numpy()
    np.testing.assert_array_equal(layer(IMAGES).numpy(), want)
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), want)
    assert layer.compute_output_shape((None, 10, 8, 3)) == (None, 5, 6, 3)
    assert layers.Resizing(4, 4, crop_to_aspect_ratio=True)(IMAGES[0]).shape == (4, 4, 3)
    with pytest.raises(ValueError, match="Only one of"):
        layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_center_crop_takes_the_middle_and_resizes_small_images():
    np.testing.assert_array_equal(layers.CenterCrop(4, 4)(IMAGES).numpy(), IMAGES[:, 3:7, 2:6])
    small = layers.CenterCrop(20, 10)(IMAGES)
    assert small.shape == (3, 20, 10, 3)


def test_random_crop_draws_one_window_per_batch_and_centres_in_inference():
    layer = layers.RandomCrop(6, 5, seed=3)
    out = layer(IMAGES, training=True).numpy()
    windows = [(t, l) for t in range(5) for l in range(4)
               if np.array_equal(out, IMAGES[:, t:t + 6, l:l + 5])]
    assert len(windows) == 1
    again = layers.RandomCrop(6, 5, seed=3)(IMAGES, training=True).numpy()
    np.testing.assert_array_equal(out, again)  # the seed fixes the draw
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES[:, 2:8, 1:6])


def test_random_contrast_keeps_each_channel_mean_and_is_identity_in_inference():
    images = RNG.uniform(100, 150, size=(4, 6, 6, 3)).astype("float32")  # far from the clip range
    out = layers.RandomContrast(0.5, seed=1)(images, training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), images.mean(axis=(1, 2)), rtol=1e-5)
    centred_in, centred_out = images - images.mean(axis=(1, 2), keepdims=True), \
        out - out.mean(axis=(1, 2), keepdims=True)
    factors = (centred_out / centred_in).reshape(4, -1)
    np.testing.assert_allclose(factors, factors[:, :1] * np.ones_like(factors), rtol=1e-3)  # one factor an image
    assert ((0.5 <= factors) & (factors <= 1.5)).all()
    np.testing.assert_array_equal(layers.RandomContrast(0.5)(images, training=False).numpy(), images)
    clipped = layers.RandomContrast((0.0, 1.0), value_range=(0, 1), seed=2)(images / 255, training=True).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 1
    with pytest.raises(ValueError, match="factor"):
        layers.RandomContrast(1.5)


def test_random_brightness_adds_one_delta_an_image_within_the_range():
    images = np.full((5, 4, 4, 3), 0.5, "float32")
    out = layers.RandomBrightness(0.2, value_range=(0, 1), seed=4)(images, training=True).numpy()
    deltas = (out - images).reshape(5, -1)
    np.testing.assert_allclose(deltas, deltas[:, :1] * np.ones_like(deltas), atol=1e-7)
    assert (np.abs(deltas) <= 0.2 + 1e-6).all() and len(set(np.round(deltas[:, 0], 6))) > 1
    np.testing.assert_array_equal(layers.RandomBrightness(0.2)(images, training=False).numpy(), images)
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomBrightness(0.1, value_range=(1, 0))


@pytest.mark.parametrize("layer", [layers.Resizing(4, 4), layers.CenterCrop(4, 4), layers.RandomCrop(4, 4, seed=1),
                                   layers.RandomContrast(0.2, seed=1), layers.RandomBrightness((-0.1, 0.3), seed=1)])
def test_configs_round_trip_and_the_layers_train_in_a_model(layer, tmp_path):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    model = keras.Sequential([keras.Input((10, 8, 3)), layer, layers.Flatten(), layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(IMAGES, np.array([0, 1, 0]), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    model.save(tmp_path / "m.keras")
    keras.models.load_model(tmp_path / "m.keras")


def test_the_tensorflow_2_experimental_namespace():
    preprocessing = layers.experimental.preprocessing
    assert preprocessing.Rescaling is layers.Rescaling and preprocessing.RandomFlip is layers.RandomFlip
    assert layers.experimental.EinsumDense is layers.EinsumDense
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        preprocessing.Nope
