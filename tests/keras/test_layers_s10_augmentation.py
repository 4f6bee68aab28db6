"""Keras 3's newer image augmentation layers: what each transform does (against NumPy, colorsys and PyTorch where
they can say), labels mixed as the images are (MixUp, CutMix), inference untouched, seeds, configs, bad arguments,
and training inside fit (a traced step that draws anew)."""
import colorsys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.ops import image as image_ops
from chainrule.ops.image_transform import affine_transform

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (4, 8, 8, 3)).astype("float32")

RANDOM_LAYERS = [
    lambda: layers.MixUp(alpha=2.0, seed=2), lambda: layers.CutMix(seed=1), lambda: layers.RandomErasing(seed=1),
    lambda: layers.RandAugment(seed=1), lambda: layers.AugMix(seed=1), lambda: layers.RandomGrayscale(1.0, seed=1),
    lambda: layers.RandomHue(0.5, seed=1), lambda: layers.RandomSaturation(0.9, seed=1),
    lambda: layers.RandomColorDegeneration(0.8, seed=1),
    lambda: layers.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.2, saturation_factor=0.3,
                                     hue_factor=0.2, seed=1),
    lambda: layers.RandomInvert(seed=1), lambda: layers.Solarization(0.3, 0.5, seed=1),
    lambda: layers.RandomPosterization(4, seed=1), lambda: layers.Equalization(),
    lambda: layers.RandomSharpness(0.9, seed=1), lambda: layers.RandomGaussianBlur(seed=1),
    lambda: layers.RandomShear(0.3, 0.3, seed=1), lambda: layers.RandomPerspective(scale=0.5, seed=1),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_changes_images_in_training_only_and_round_trips(make):
    layer = make()
    out = layer(IMAGES, training=True).numpy()
    assert out.shape == IMAGES.shape and out.dtype == np.float32
    assert not np.allclose(out, IMAGES)
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES)
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    single = layer(IMAGES[0], training=True)
    assert single.shape == IMAGES[0].shape


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_the_same_seed_draws_the_same(make):
    np.testing.assert_array_equal(make()(IMAGES).numpy(), make()(IMAGES).numpy())


def constant_images_and_one_hot_labels(n=6):
    images = np.broadcast_to(np.arange(n, dtype="float32")[:, None, None, None], (n, 8, 8, 3)).copy()
    return images, np.eye(n, dtype="float32")


@pytest.mark.parametrize("kind", [layers.MixUp, layers.CutMix])
def test_labels_are_mixed_as_the_images(kind):
    images, labels = constant_images_and_one_hot_labels()
    out = kind(seed=3)({"images": images, "labels": labels})
    mixed, mixed_labels = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(mixed_labels.sum(axis=1), 1.0, rtol=1e-6)
    # each image holds its own index, so its mean is the label-weighted mean of the indices
    np.testing.assert_allclose(mixed.mean(axis=(1, 2, 3)), mixed_labels @ np.arange(6), rtol=1e-5, atol=1e-5)
    assert not np.allclose(mixed_labels, labels)


def test_cutmix_pastes_one_box_of_one_partner():
    images, _ = constant_images_and_one_hot_labels()
    out = layers.CutMix(seed=5)(images).numpy()
    for i in range(6):
        values = np.unique(out[i])
        assert len(values) <= 2 and i in values or len(values) == 1
        pasted = out[i, :, :, 0] != i
        if pasted.any():
            rows, cols = np.nonzero(pasted)
            assert pasted[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # a rectangle


def test_mixup_gradient_reaches_the_images():
    x = cr.Variable(IMAGES.astype("float64"))
    layer = layers.MixUp(seed=2, dtype="float64")
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(layer(x))
    grad = tape.gradient(loss, x).numpy()
    # image j gets w_j from its own output and 1 - w_i from the output i it was mixed into: constant over its
    # pixels, and in all the batch's pixel count (each output's two weights add up to 1)
    np.testing.assert_allclose(grad, np.broadcast_to(grad[:, :1, :1, :1], grad.shape), rtol=1e-12)
    assert np.isclose(grad.sum(), grad.size) and not np.allclose(grad, 1.0)


def test_non_mixing_layers_pass_labels_through_and_refuse_boxes():
    labels = np.arange(4)
    out = layers.RandomHue(0.3, seed=0)({"images": IMAGES, "labels": labels})
    np.testing.assert_array_equal(out["labels"], labels)
    with pytest.raises(NotImplementedError, match="bounding boxes"):
        layers.MixUp()({"images": IMAGES, "bounding_boxes": {}})


def test_grayscale_is_the_luma():
    np.testing.assert_allclose(layers.RandomGrayscale(1.0)(IMAGES).numpy(),
                               np.broadcast_to(image_ops.rgb_to_grayscale(IMAGES).numpy(), IMAGES.shape), rtol=1e-6)
    np.testing.assert_array_equal(layers.RandomGrayscale(0.0)(IMAGES).numpy(), IMAGES)


def hsv(images):
    flat = images.reshape(-1, 3) / 255.0
    return np.array([colorsys.rgb_to_hsv(*p) for p in flat]).reshape(images.shape)


def test_hue_turns_every_pixel_by_the_same_amount():
    out = layers.RandomHue((0.4, 0.4), seed=0)(IMAGES).numpy()
    turn = (hsv(out)[..., 0] - hsv(IMAGES)[..., 0]) % 1.0
    for i in range(4):
        assert np.allclose(turn[i], 0.2, atol=1e-3) or np.allclose(turn[i], 0.8, atol=1e-3)
    np.testing.assert_allclose(hsv(out)[..., 1:], hsv(IMAGES)[..., 1:], atol=1e-3)


def test_saturation_factors():
    np.testing.assert_allclose(layers.RandomSaturation((0.5, 0.5))(IMAGES).numpy(), IMAGES, atol=1e-3)
    grey = layers.RandomSaturation((0.0, 0.0))(IMAGES).numpy()
    np.testing.assert_allclose(grey[..., 0], grey[..., 1], atol=1e-3)
    full = layers.RandomSaturation((1.0, 1.0))(IMAGES).numpy()
    np.testing.assert_allclose(hsv(full)[..., 1], 1.0, atol=1e-4)
    np.testing.assert_allclose(hsv(full)[..., 2], hsv(IMAGES)[..., 2], atol=1e-4)


def test_erasing_with_a_constant():
    out = layers.RandomErasing(factor=(1.0, 1.0), scale=(0.4, 0.5), fill_value=0, seed=1)(IMAGES + 1).numpy()
    for i in range(4):
        erased = out[i, :, :, 0] == 0
        assert erased.any()
        rows, cols = np.nonzero(erased)
        assert erased[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()


def test_tone_layers_against_numpy():
    x = np.round(IMAGES)
    np.testing.assert_allclose(layers.Solarization(threshold_factor=(0.0, 0.0))(x).numpy(), 255 - x)
    np.testing.assert_array_equal(layers.RandomPosterization((4, 4))(x).numpy(), (x.astype(np.uint8) & 0xF0))
    np.testing.assert_array_equal(layers.RandomInvert((1.0, 1.0), value_range=(0, 1))(x / 255).numpy(),
                                  (1 - x / 255).astype("float32"))
    ramp = np.linspace(0.0, 100.0, 64, dtype="float32").reshape(1, 8, 8, 1)
    stretched = layers.Equalization()(ramp).numpy()
    assert stretched.min() == 0 and stretched.max() == 255 and (np.diff(stretched.ravel()) >= 0).all()
    flat = np.full((1, 4, 4, 3), 7.0, "float32")
    np.testing.assert_array_equal(layers.AutoContrast()(flat).numpy(), flat)
    np.testing.assert_array_equal(layers.Equalization()(flat).numpy(), flat)


def test_sharpness_zero_is_pils_smooth_filter():
    out = layers.RandomSharpness((0.0, 0.0), value_range=(-1e9, 1e9))(IMAGES).numpy()
    kernel = torch.tensor([[1.0, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=torch.float64) / 13
    x = torch.tensor(IMAGES, dtype=torch.float64).permute(0, 3, 1, 2)
    want = torch.nn.functional.conv2d(x, kernel.expand(3, 1, 3, 3), padding=1, groups=3).permute(0, 2, 3, 1)
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-5, atol=1e-3)


def test_gaussian_blur_is_the_op_with_the_drawn_sigma():
    out = layers.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=5, sigma=(0.7, 0.7))(IMAGES).numpy()
    np.testing.assert_allclose(out, image_ops.gaussian_blur(IMAGES, (5, 5), (0.7, 0.7)).numpy(), rtol=1e-4)


def test_shear_is_the_affine_transform():
    out = layers.RandomShear(x_factor=(0.2, 0.2), seed=4)(IMAGES).numpy()
    for i in range(4):
        candidates = [affine_transform(IMAGES[i:i + 1], [[1, s, 0, 0, 1, 0, 0, 0]], "bilinear", "reflect").numpy()
                      for s in (0.2, -0.2)]
        assert any(np.allclose(out[i:i + 1], c, atol=1e-4) for c in candidates)


def test_perspective_with_no_movement_keeps_the_images():
    np.testing.assert_allclose(layers.RandomPerspective(scale=0.0, seed=1)(IMAGES).numpy(), IMAGES, atol=1e-3)


def test_autocontrast_applies_in_inference_too():
    low = IMAGES * 0.5 + 20
    out = layers.AutoContrast()(low, training=False).numpy()
    np.testing.assert_allclose(out.min(axis=(1, 2)), 0, atol=1e-3)
    np.testing.assert_allclose(out.max(axis=(1, 2)), 255, atol=1e-3)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.MixUp(alpha=0), "alpha"), (lambda: layers.CutMix(factor=2), "factor"),
    (lambda: layers.RandomGrayscale(1.5), "factor"), (lambda: layers.RandomHue(-0.1), "factor"),
    (lambda: layers.RandomSaturation(0.5, value_range=(1,)), "value_range"),
    (lambda: layers.RandomErasing(fill_value=(1, 2)), "fill_value"),
    (lambda: layers.RandomPosterization(9), "factor"), (lambda: layers.Solarization(1.5), "addition_factor"),
    (lambda: layers.RandomGaussianBlur(kernel_size=4), "kernel_size"),
    (lambda: layers.RandomPerspective(scale=2), "scale"), (lambda: layers.RandAugment(num_ops=0), "num_ops"),
    (lambda: layers.AugMix(alpha=-1), "alpha"), (lambda: layers.Equalization(bins=1), "bins"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomShear(interpolation="bicubic")


@pytest.mark.parametrize("make", [lambda: layers.RandAugment(seed=1), lambda: layers.AugMix(seed=3),
                                  lambda: layers.CutMix(seed=1), lambda: layers.RandomPosterization(5, seed=1)])
def test_a_traced_call_draws_anew_on_each_replay(make):
    layer = make()
    traced = cr.function(lambda t: layer(t, training=True))
    first, second = traced(cr.constant(IMAGES)).numpy(), traced(cr.constant(IMAGES)).numpy()
    assert not np.allclose(first, second) and not np.allclose(first, IMAGES)


def test_augmentation_inside_fit():
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.RandAugment(seed=2), layers.MixUp(seed=3),
                              layers.RandomHue(0.2, seed=4), layers.Rescaling(1 / 255), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(IMAGES, np.array([0, 1, 0, 1]), batch_size=2, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    first = model.layers[0]
    a, b = first(IMAGES).numpy(), first(IMAGES).numpy()
    assert not np.allclose(a, b)  # a second call draws again
    np.testing.assert_array_equal(model.predict(IMAGES, verbose=0).shape, (4, 2))


def keras_clahe_reference(x, clip_limit, grid):
    """Keras's CLAHE, pixel by pixel (one image, one channel, 0-255 values)."""
    h, w = x.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    padded = np.pad(x, ((0, th * gh - h), (0, tw * gw - w)), mode="symmetric")
    v = np.clip(padded, 0, 255).astype(int)
    tables = np.zeros((gh + 2, gw + 2, 256))
    for i in range(gh):
        for j in range(gw):
            hist = np.bincount(v[i * th:(i + 1) * th, j * tw:(j + 1) * tw].ravel(), minlength=256).astype(float)
            if clip_limit > 0:
                clipped = np.minimum(hist, clip_limit * th * tw / 256)
                hist = clipped + (hist - clipped).sum() / 256
            cdf = np.cumsum(hist)
            den = th * tw - cdf.min()
            tables[i + 1, j + 1] = np.clip((cdf - cdf.min()) * 255 / (den if den else 1), 0, 255)
    tables[0], tables[-1] = tables[1], tables[-2]
    tables[:, 0], tables[:, -1] = tables[:, 1], tables[:, -2]
    out = np.zeros((h, w))
    for y in range(h):
        for x_ in range(w):
            fy, fx = (y - th / 2) / th + 1, (x_ - tw / 2) / tw + 1
            y0, x0 = int(np.floor(fy)), int(np.floor(fx))
            wy, wx = fy - y0, fx - x0
            y0c, y1c = min(max(y0, 0), gh + 1), min(max(y0 + 1, 0), gh + 1)
            x0c, x1c = min(max(x0, 0), gw + 1), min(max(x0 + 1, 0), gw + 1)
            p = v[y, x_]
            top = tables[y0c, x0c, p] * (1 - wx) + tables[y0c, x1c, p] * wx
            bottom = tables[y1c, x0c, p] * (1 - wx) + tables[y1c, x1c, p] * wx
            out[y, x_] = top * (1 - wy) + bottom * wy
    return out


@pytest.mark.parametrize("clip_limit, grid, shape", [(4.0, (2, 3), (10, 13)), (0.0, (3, 2), (9, 8)),
                                                     (2.0, (1, 1), (6, 6))])
def test_clahe_against_a_pixel_by_pixel_transcription(clip_limit, grid, shape):
    x = np.random.default_rng(4).integers(0, 256, (1, *shape, 2)).astype("float64")
    layer = layers.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=clip_limit, tile_grid_size=grid,
                                                                 dtype="float64")
    out = layer(x).numpy()
    for c in range(2):
        np.testing.assert_allclose(out[0, :, :, c], keras_clahe_reference(x[0, :, :, c], clip_limit, grid),
                                   rtol=1e-10, atol=1e-9)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), out)  # applied in inference too
    unit = layers.ContrastLimitedAdaptiveHistogramEqualization(value_range=(0, 1), clip_limit=clip_limit,
                                                                tile_grid_size=grid, dtype="float64")
    np.testing.assert_allclose(unit(x / 255).numpy(), out / 255, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="tile_grid_size"):
        layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2))


def test_mixing_in_a_tf_data_pipeline_feeds_fit():
    x = np.random.default_rng(5).uniform(0, 255, (16, 8, 8, 3)).astype("float32")
    y = np.eye(4, dtype="float32")[np.arange(16) % 4]
    augment = layers.Pipeline([layers.RandomFlip(seed=0), layers.RandAugment(seed=1), layers.CutMix(seed=2),
                               layers.MixUp(seed=3)])
    ds = (cr.data.Dataset.from_tensor_slices({"images": x, "labels": y}).batch(8).map(augment)
          .map(lambda d: (d["images"], d["labels"])))
    batches = list(ds)
    assert [tuple(b[0].shape) for b in batches] == [(8, 8, 8, 3)] * 2
    for _, labels in batches:
        np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0, rtol=1e-5)
    again = [b[1].numpy() for b in ds]  # a second pass draws anew
    assert not all(np.allclose(a, b[1].numpy()) for a, b in zip(again, batches))
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Rescaling(1 / 255), layers.Flatten(),
                              layers.Dense(4, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    assert np.isfinite(model.fit(ds, epochs=2, verbose=0).history["loss"]).all()
