"""tf.image and keras.ops.image: values against PyTorch and NumPy, gradients through the differentiable ones."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as tf
from chainrule.keras import ops

RNG = np.random.default_rng(0)


def images(n=2, h=6, w=5, c=3, dtype="float64"):
    return RNG.normal(size=(n, h, w, c)).astype(dtype)


def nchw(x):
    return torch.tensor(np.transpose(x, (0, 3, 1, 2)), requires_grad=True)


@pytest.mark.parametrize("size", [(3, 2), (9, 11), (6, 5), (4, 8)])
def test_bilinear_resize_and_its_gradient_equal_torch(size):
    x = images()
    t = nchw(x)
    expected = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
    weights = RNG.normal(size=expected.shape)
    (expected * torch.tensor(weights)).sum().backward()
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = ops.image.resize(v, size)
        loss = tf.reduce_sum(out * np.transpose(weights, (0, 2, 3, 1)))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10)


@pytest.mark.parametrize("size", [(3, 2), (12, 10), (5, 7)])
def test_nearest_resize_equals_torch_nearest_exact_and_keeps_the_dtype(size):
    x = images(dtype="float32")
    expected = F.interpolate(torch.tensor(x.transpose(0, 3, 1, 2)), size=size, mode="nearest-exact")
    out = ops.image.resize(x, size, interpolation="nearest")
    np.testing.assert_array_equal(out.numpy(), expected.numpy().transpose(0, 2, 3, 1))
    as_int = tf.image.resize((x * 10).astype("int32"), size, method="nearest")
    assert as_int.dtype == np.int32
    assert tf.image.resize((x * 10).astype("int32"), size).dtype == np.float32  # bilinear: float32, as TF


@pytest.mark.parametrize("size,strides,rates,padding", [((2, 2), (2, 2), (1, 1), "valid"),
                                                       ((3, 2), (1, 2), (1, 1), "valid"),
                                                       ((2, 3), (2, 1), (2, 1), "valid"),
                                                       ((3, 3), (2, 2), (1, 1), "same")])
def test_extract_patches_and_gradient_equal_torch_unfold(size, strides, rates, padding):
    x = images(1, 7, 6, 2)
    t = nchw(x)
    ph, pw = size
    if padding == "same":
        out_h, out_w = -(-7 // strides[0]), -(-6 // strides[1])
        pad_h = max((out_h - 1) * strides[0] + (ph - 1) * rates[0] + 1 - 7, 0)
        pad_w = max((out_w - 1) * strides[1] + (pw - 1) * rates[1] + 1 - 6, 0)
        tp = F.pad(t, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    else:
        tp = t
    cols = F.unfold(tp, size, dilation=rates, stride=strides)          # (1, C*ph*pw, L), (c, i, j) order
    out_h = (tp.shape[2] - (ph - 1) * rates[0] - 1) // strides[0] + 1
    out_w = (tp.shape[3] - (pw - 1) * rates[1] - 1) // strides[1] + 1
    expected = cols.reshape(1, 2, ph, pw, out_h, out_w).permute(0, 4, 5, 2, 3, 1).reshape(1, out_h, out_w, -1)
    weights = RNG.normal(size=expected.shape)
    (expected * torch.tensor(weights)).sum().backward()
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = tf.image.extract_patches(v, [1, *size, 1], [1, *strides, 1], [1, *rates, 1], padding.upper())
        loss = tf.reduce_sum(out * weights)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-12)


def test_flips_rotations_and_transpose_match_numpy():
    x = images(1, 4, 3, 2)[0]
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), x[:, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(x).numpy(), x[::-1])
    np.testing.assert_array_equal(tf.image.transpose(x).numpy(), x.transpose(1, 0, 2))
    for k in range(5):
        np.testing.assert_array_equal(tf.image.rot90(x, k).numpy(), np.rot90(x, k, axes=(0, 1)))
    batch = images(8, 3, 3, 1)
    flipped = tf.image.random_flip_left_right(batch, seed=3).numpy()
    assert all(np.array_equal(f, b) or np.array_equal(f, b[:, ::-1]) for f, b in zip(flipped, batch))


def test_crops_and_pads_as_tensorflow():
    x = np.arange(6 * 8, dtype="float32").reshape(6, 8, 1)
    np.testing.assert_array_equal(tf.image.central_crop(x, 0.5).numpy(), x[1:5, 2:6])
    np.testing.assert_array_equal(tf.image.crop_to_bounding_box(x, 1, 2, 3, 4).numpy(), x[1:4, 2:6])
    padded = tf.image.pad_to_bounding_box(x, 1, 2, 8, 11).numpy()
    assert padded.shape == (8, 11, 1) and padded.sum() == x.sum() and padded[1, 2, 0] == x[0, 0, 0]
    np.testing.assert_array_equal(tf.image.resize_with_crop_or_pad(x, 4, 10).numpy()[:, 1:9], x[1:5])
    assert tf.image.resize_with_pad(x, 12, 12).shape == (12, 12, 1)
    with pytest.raises(ValueError, match="does not fit"):
        tf.image.crop_to_bounding_box(x, 4, 0, 3, 8)
    with pytest.raises(ValueError, match="central_fraction"):
        tf.image.central_crop(x, 0.0)
    np.testing.assert_array_equal(ops.image.pad_images(x, 1, 2, target_height=9, target_width=12).numpy()[1:7, 2:10],
                                  x)
    np.testing.assert_array_equal(ops.image.crop_images(x, 1, 2, target_height=3, target_width=4).numpy(), x[1:4, 2:6])
    assert tf.image.random_crop(x, (3, 3, 1), seed=1).shape == (3, 3, 1)


def test_colour_and_dtype_conversions():
    rgb = RNG.uniform(size=(2, 3, 3, 3)).astype("float32")
    gray = tf.image.rgb_to_grayscale(rgb).numpy()
    np.testing.assert_allclose(gray[..., 0], rgb @ np.array([0.2989, 0.5870, 0.1140], "float32"), rtol=1e-6)
    assert tf.image.grayscale_to_rgb(gray).shape == (2, 3, 3, 3)
    u8 = np.array([[[0], [128], [255]]], dtype="uint8")
    as_float = tf.image.convert_image_dtype(u8, tf.float32)
    np.testing.assert_allclose(as_float.numpy().ravel(), [0, 128 / 255, 1], rtol=1e-6)
    np.testing.assert_array_equal(tf.image.convert_image_dtype(as_float, tf.uint8).numpy(), u8)
    np.testing.assert_array_equal(tf.image.convert_image_dtype(u8, tf.int32).numpy().ravel() >> 23, [0, 128, 255])
    standardized = tf.image.per_image_standardization(rgb).numpy()
    np.testing.assert_allclose(standardized.mean(axis=(1, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(standardized.std(axis=(1, 2, 3)), 1, rtol=1e-5)
    np.testing.assert_allclose(tf.image.adjust_brightness(rgb, 0.1).numpy(), rgb + 0.1, rtol=1e-6)
    contrast = tf.image.adjust_contrast(rgb, 2.0).numpy()
    mean = rgb.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(contrast, (rgb - mean) * 2 + mean, rtol=1e-5)


def test_adjust_contrast_has_no_gradient_as_in_tensorflow():
    image = tf.Variable([[[0.5, 0.0, 0.0]]])
    with tf.GradientTape() as tape:
        new_image = tf.image.adjust_contrast(image, 0.1)
    with pytest.raises(LookupError, match="AdjustContrastv2"):
        tape.gradient(new_image, image)


def test_metrics_total_variation_and_psnr():
    x = RNG.uniform(size=(2, 4, 5, 3))
    tv = np.abs(np.diff(x, axis=1)).sum(axis=(1, 2, 3)) + np.abs(np.diff(x, axis=2)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(tf.image.total_variation(x).numpy(), tv)
    y = x + 0.01
    np.testing.assert_allclose(tf.image.psnr(x, y, 1.0).numpy(), [40.0, 40.0], rtol=1e-6)


def test_bad_input_names_the_function():
    with pytest.raises(ValueError, match="Invalid images rank"):
        ops.image.resize(np.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="Invalid value for argument `interpolation`"):
        ops.image.resize(np.ones((4, 4, 1)), (2, 2), interpolation="cubic")  # (Keras's name is 'bicubic')
    with pytest.raises(ValueError, match="sizes must be \\[1, rows, cols, 1\\]"):
        tf.image.extract_patches(np.ones((1, 4, 4, 1)), [2, 2], [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="data_format"):
        ops.image.rgb_to_grayscale(np.ones((2, 2, 3)), data_format="NCHW")
