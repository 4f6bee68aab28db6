"""RandomFlip, RandomRotation, RandomTranslation, RandomZoom: identity at inference, Keras's draws and transforms in
training (checked against the formula and exact pixel moves), gradients through them, traced fit steps that draw
anew, configs, save/load in a model."""
import logging

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras import random as keras_random
from chainrule.ops.image_transform import affine_transform
from layer_checks import check_config_round_trip, rand
from model_checks import check_trains_and_reloads
from test_image_transform_ops import rotation

AUGMENTATIONS = [
    lambda: layers.RandomFlip(seed=1), lambda: layers.RandomRotation(0.2, seed=2),
    lambda: layers.RandomTranslation(0.2, 0.3, seed=3), lambda: layers.RandomZoom(0.3, seed=4),
]


def _draws(seed, *ranges_and_sizes):
    """The uniform draws a layer with ``SeedGenerator(seed)`` makes at its first call, one per (low, high, size)."""
    rng = keras_random.draw_generator(keras_random.SeedGenerator(seed))
    return [rng.uniform(low, high, size) for low, high, size in ranges_and_sizes]


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_identity_at_inference_and_cast(make):
    images = np.random.default_rng(0).integers(0, 255, (2, 6, 5, 3)).astype("uint8")
    out = make()(images, training=False)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), images.astype("float32"))
    assert make().compute_output_shape((None, 6, None, 3)) == (None, 6, None, 3)


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_flips_the_drawn_images(mode):
    images = rand(6, 4, 5, 2)
    out = layers.RandomFlip(mode, seed=9)(images).numpy()  # call's default is training=True, as Keras's
    (draws,) = _draws(9, (0.0, 1.0, (6, 1, 1, 1)))
    flipped = images
    if mode != "vertical":
        flipped = flipped[:, :, ::-1]
    if mode != "horizontal":
        flipped = flipped[:, ::-1]
    want = np.where(draws <= 0.5, flipped, images)
    np.testing.assert_array_equal(out, want)
    assert 0 < (draws <= 0.5).sum() < 6


def test_random_flip_single_image_gradient_and_channels_first():
    image = rand(4, 5, 2)
    out = layers.RandomFlip("horizontal", seed=0)(image).numpy()
    assert out.shape == (4, 5, 2)
    assert np.array_equal(out, image) or np.array_equal(out, image[:, ::-1])
    x = cr.Tensor(rand(3, 4, 4, 1), requires_grad=True)
    g = rand(3, 4, 4, 1, seed=1)
    layer = layers.RandomFlip("vertical", seed=5)
    y = layer(x)
    (dx,) = cr.grad(cr.reduce_sum(y * g), [x])
    (draws,) = _draws(5, (0.0, 1.0, (3, 1, 1, 1)))
    np.testing.assert_array_equal(dx.numpy(), np.where(draws <= 0.5, g[:, ::-1], g))  # the flip of g
    first = rand(2, 3, 4, 4)
    out = layers.RandomFlip("vertical", seed=5, data_format="channels_first")(first).numpy()
    (draws,) = _draws(5, (0.0, 1.0, (2, 1, 1, 1)))
    np.testing.assert_array_equal(out, np.where(draws.reshape(2, 1, 1, 1) <= 0.5, first[:, :, ::-1], first))


def test_random_rotation_by_a_quarter_turn_is_rot90():
    images = rand(2, 5, 5, 3)
    out = layers.RandomRotation((0.25, 0.25), fill_mode="constant")(images).numpy()
    np.testing.assert_allclose(out, np.rot90(images, 1, axes=(1, 2)), atol=1e-6)


def test_random_rotation_draws_keras_angles_and_resamples():
    images = rand(3, 6, 7, 2, dtype="float64")
    layer = layers.RandomRotation(0.1, fill_mode="wrap", interpolation="bilinear", seed=11, dtype="float64")
    (angles,) = _draws(11, (-36.0, 36.0, 3))
    want = affine_transform(images, np.array([rotation(a, 6, 7) for a in angles]), "bilinear", "wrap").numpy()
    np.testing.assert_allclose(layer(images).numpy(), want, rtol=1e-10, atol=1e-12)
    assert layer.factor == (-0.1, 0.1)
    assert layers.RandomRotation((0.3, -0.2)).factor == (-0.2, 0.3)


def test_random_translation_moves_whole_pixels():
    images = rand(2, 8, 8, 1)
    # a quarter of the height down (2 rows), a quarter of the width left (2 columns)
    out = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode="constant")(images).numpy()
    want = np.zeros_like(images)
    want[:, 2:, :6] = images[:, :6, 2:]
    np.testing.assert_allclose(out, want, atol=1e-6)
    reflected = layers.RandomTranslation((0.25, 0.25), 0.0)(images).numpy()  # 'reflect': d c b a | a b c d
    padded = np.pad(images, ((0, 0), (2, 0), (0, 0), (0, 0)), mode="symmetric")
    np.testing.assert_allclose(reflected, padded[:, :8], atol=1e-6)


def test_random_translation_and_zoom_draw_keras_transforms():
    images = rand(3, 6, 5, 2, dtype="float64")
    layer = layers.RandomTranslation(0.2, (-0.1, 0.3), seed=4, fill_mode="nearest", dtype="float64")
    dy, dx = _draws(4, (-0.2, 0.2, 3), (-0.1, 0.3, 3))
    transforms = np.array([[1, 0, -x * 5, 0, 1, -y * 6, 0, 0] for y, x in zip(dy, dx)])
    np.testing.assert_allclose(layer(images).numpy(), affine_transform(images, transforms, fill_mode="nearest")
                               .numpy(), rtol=1e-10, atol=1e-12)
    layer = layers.RandomZoom((-0.3, 0.4), seed=6, dtype="float64")  # width_factor None: the same zoom both ways
    (zoom,) = _draws(6, (0.7, 1.4, 3))
    transforms = np.array([[z, 0, 2.0 * (1 - z), 0, z, 2.5 * (1 - z), 0, 0] for z in zoom])
    np.testing.assert_allclose(layer(images).numpy(), affine_transform(images, transforms, fill_mode="reflect")
                               .numpy(), rtol=1e-10, atol=1e-12)
    layer = layers.RandomZoom(0.2, width_factor=(0.5, 0.5), seed=6, interpolation="nearest", dtype="float64")
    (zy,) = _draws(6, (0.8, 1.2, 3))
    transforms = np.array([[1.5, 0, 2.0 * -0.5, 0, z, 2.5 * (1 - z), 0, 0] for z in zy])
    np.testing.assert_allclose(layer(images).numpy(), affine_transform(images, transforms, "nearest", "reflect")
                               .numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_gradients_pass_through_to_earlier_layers(make):
    """An augmentation after a trainable layer: the layer before still gets a gradient."""
    conv = layers.Conv2D(2, 1)
    model = keras.Sequential([keras.Input((6, 6, 1)), conv, make(), layers.Flatten(), layers.Dense(1)])
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(model(rand(2, 6, 6, 1), training=True))
    (kernel_grad,) = tape.gradient(loss, [conv.kernel])
    assert np.all(np.isfinite(kernel_grad.numpy())) and np.any(kernel_grad.numpy() != 0)


def test_fit_traces_the_step_and_draws_anew_at_each_replay(caplog):
    layer = layers.RandomRotation(0.2, seed=3)
    model = keras.Sequential([keras.Input((6, 6, 1)), layers.RandomFlip(seed=2), layer, layers.Flatten(),
                              layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    before = int(layer.seed_generator.state.numpy()[1])
    with caplog.at_level(logging.INFO, logger="chainrule.engine.tracer"):
        model.fit(rand(8, 6, 6, 1), rand(8, 2), batch_size=2, epochs=2, verbose=0)
    assert not [r for r in caplog.records if "runs eagerly" in r.getMessage()]
    assert int(layer.seed_generator.state.numpy()[1]) - before >= 8  # one draw per training step at least


@pytest.mark.parametrize("layer, keys", [
    (layers.RandomFlip("horizontal", seed=1), {"mode": "horizontal", "seed": 1, "data_format": "channels_last"}),
    (layers.RandomRotation(0.1, fill_mode="constant", fill_value=0.5),
     {"factor": (-0.1, 0.1), "fill_mode": "constant", "fill_value": 0.5, "interpolation": "bilinear"}),
    (layers.RandomTranslation((0.1, 0.2), 0.3), {"height_factor": [0.1, 0.2], "width_factor": 0.3,
                                                 "fill_mode": "reflect"}),
    (layers.RandomZoom(0.2, interpolation="nearest"), {"height_factor": 0.2, "width_factor": None,
                                                       "interpolation": "nearest"}),
])
def test_configs(layer, keys, tmp_path):
    config = layer.get_config()
    assert {key: config[key] for key in keys} == keys
    check_config_round_trip(layer, rand(2, 5, 5, 3), training=False)


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_trains_and_reloads_in_a_model(make, tmp_path):
    check_trains_and_reloads(make(), rand(4, 6, 6, 2), tmp_path)


def test_errors():
    with pytest.raises(ValueError, match=r"The `factor` argument should be a number .* Received: factor=1.5"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match=r"in the range \(-1.0, 1.0\]"):
        layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match=r"Received: width_factor=\(0.1, 0.2, 0.3\)"):
        layers.RandomTranslation(0.1, (0.1, 0.2, 0.3))
    with pytest.raises(NotImplementedError, match=r"Unknown `fill_mode` mirror"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match=r"Unknown `interpolation` bicubic"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"RandomFlip: mode must be"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"Expected image tensor to have rank 3 \(single image\) or 4"):
        layers.RandomFlip()(rand(4, 5))
