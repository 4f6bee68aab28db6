"""keras.ops.image's map_coordinates, perspective_transform, elastic_transform, scale_and_translate,
extract_patches_3d and reconstruct_patches: values against SciPy, PyTorch and NumPy loops, gradients against finite
differences, Keras's errors."""
import numpy as np
import pytest
import scipy.ndimage
import torch

from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

RNG = np.random.default_rng(3)
SCIPY_MODES = {"constant": "grid-constant", "wrap": "grid-wrap", "nearest": "nearest", "mirror": "mirror",
               "reflect": "reflect"}


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("fill_mode", sorted(SCIPY_MODES))
def test_map_coordinates_matches_scipy(fill_mode, order):
    x = RNG.standard_normal((5, 6, 3))
    coords = RNG.uniform(-4, 9, (3, 4, 7))
    coords[2] = RNG.integers(0, 3, (4, 7))
    ours = ops.image.map_coordinates(x, coords, order, fill_mode=fill_mode, fill_value=0.25).numpy()
    theirs = scipy.ndimage.map_coordinates(x, coords, order=order, mode=SCIPY_MODES[fill_mode], cval=0.25)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_map_coordinates_gradients_and_integer_images():
    x = RNG.standard_normal((4, 5))
    coords = RNG.uniform(0.1, 3.9, (2, 6))
    coords = np.where(np.abs(coords - np.round(coords)) < 0.05, coords + 0.1, coords)  # away from the kinks
    check_gradients(lambda t: ops.image.map_coordinates(t, coords, 1, fill_mode="reflect"), x)
    check_gradients(lambda c: ops.image.map_coordinates(x, c, 1, fill_mode="nearest"), coords)
    ints = np.arange(12, dtype="uint8").reshape(3, 4)
    out = ops.image.map_coordinates(ints, [[0.5], [1.0]], 1)
    assert out.dtype == np.uint8 and int(out.numpy()[0]) == 3  # (1 + 5) / 2 = 3
    with pytest.raises(ValueError, match="First dim of `coordinates`"):
        ops.image.map_coordinates(x, np.zeros((3, 2)), 1)
    with pytest.raises(ValueError, match="order"):
        ops.image.map_coordinates(x, np.zeros((2, 2)), 3)
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.map_coordinates(x, np.zeros((2, 2)), 1, fill_mode="edge")


def test_perspective_transform_moves_start_points_to_end_points():
    image = RNG.standard_normal((2, 8, 9, 2))
    square = np.array([[0, 0], [8, 0], [0, 7], [8, 7]], float)
    np.testing.assert_allclose(ops.image.perspective_transform(image, square, square).numpy(), image, atol=1e-12)
    shifted = square + [2.0, 1.0]  # the content moves 2 right and 1 down
    out = ops.image.perspective_transform(image, square, shifted, interpolation="nearest").numpy()
    np.testing.assert_allclose(out[:, 1:, 2:], image[:, :-1, :-2], atol=1e-12)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    warped = np.array([[0.5, 0.2], [7.5, 0.8], [0.1, 6.0], [8.0, 6.9]])
    out = ops.image.perspective_transform(image[0], warped, square, fill_value=1.0).numpy()
    assert out.shape == image.shape[1:]
    check_gradients(lambda t: ops.image.perspective_transform(t, warped, square), image[:1, :5, :6, :1])
    with pytest.raises(ValueError, match="start_points shape"):
        ops.image.perspective_transform(image, np.zeros((3, 2)), square)
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.perspective_transform(image, square, square, interpolation="bicubic")


def test_elastic_transform_is_seeded_and_differentiable():
    images = RNG.uniform(0, 1, (2, 10, 12, 3))
    a = ops.image.elastic_transform(images, alpha=5.0, sigma=2.0, seed=7).numpy()
    b = ops.image.elastic_transform(images, alpha=5.0, sigma=2.0, seed=7).numpy()
    c = ops.image.elastic_transform(images, alpha=5.0, sigma=2.0, seed=8).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and a.shape == images.shape
    np.testing.assert_allclose(ops.image.elastic_transform(images, alpha=0.0, sigma=2.0, seed=1).numpy(), images,
                               atol=1e-12)
    # every channel moves with the same field: a pixel's channels stay together
    same = np.repeat(images[..., :1], 3, axis=-1)
    moved = ops.image.elastic_transform(same, seed=3).numpy()
    np.testing.assert_allclose(moved[..., 0], moved[..., 2])
    check_gradients(lambda t: ops.image.elastic_transform(t, alpha=3.0, sigma=1.0, seed=5), images[:1, :5, :5, :1])
    assert ops.image.elastic_transform(np.full((6, 6, 1), 9, "uint8"), seed=1).dtype == np.uint8


@pytest.mark.parametrize("size_in, size_out", [(4, 8), (5, 7), (8, 3)])
def test_scale_and_translate_linear_matches_torch_bilinear(size_in, size_out):
    x = RNG.standard_normal((1, size_in, size_in + 1, 2))
    scale = [size_out / size_in, (size_out + 1) / (size_in + 1)]
    antialias = size_out < size_in
    ours = ops.image.scale_and_translate(x, (1, size_out, size_out + 1, 2), scale, [0.0, 0.0], (1, 2), "linear",
                                         antialias=antialias).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x).permute(0, 3, 1, 2), size=(size_out, size_out + 1),
                                             mode="bilinear", align_corners=False, antialias=antialias)
    np.testing.assert_allclose(ours, theirs.permute(0, 2, 3, 1).numpy(), rtol=1e-10, atol=1e-12)


def test_scale_and_translate_kernels_translation_and_gradients():
    x = RNG.standard_normal((6, 5))
    for method in ("cubic", "lanczos3", "lanczos5", "triangle"):
        same = ops.image.scale_and_translate(x, (6, 5), [1.0, 1.0], [0.0, 0.0], (0, 1), method).numpy()
        np.testing.assert_allclose(same, x, atol=1e-12)
    shifted = ops.image.scale_and_translate(x, (6, 5), [1.0], [2.0], (0,), "linear").numpy()
    np.testing.assert_allclose(shifted[2:], x[:-2], atol=1e-12)
    np.testing.assert_array_equal(shifted[:2], 0.0)  # centres before the input read nothing
    check_gradients(lambda t: ops.image.scale_and_translate(t, (9, 3), [1.5, 0.6], [0.3, -0.2], (0, 1), "cubic"), x)
    ints = np.array([[0, 255]], "uint8")
    up = ops.image.scale_and_translate(ints, (1, 4), [2.0], [0.0], (1,), "cubic")
    assert up.dtype == np.uint8 and up.numpy().min() >= 0 and up.numpy().max() <= 255
    with pytest.raises(ValueError, match="method"):
        ops.image.scale_and_translate(x, (6, 5), [1.0], [0.0], (0,), "area")


def _patches_3d_loop(v, size, strides):
    n, d, h, w, c = v.shape
    counts = [(s - k) // st + 1 for s, k, st in zip((d, h, w), size, strides)]
    out = np.zeros((n, *counts, size[0] * size[1] * size[2] * c))
    for i in range(counts[0]):
        for j in range(counts[1]):
            for k in range(counts[2]):
                block = v[:, i * strides[0]:i * strides[0] + size[0], j * strides[1]:j * strides[1] + size[1],
                          k * strides[2]:k * strides[2] + size[2]]
                out[:, i, j, k] = block.reshape(n, -1)
    return out


def test_extract_patches_3d_matches_a_loop_and_reconstructs():
    v = RNG.standard_normal((2, 5, 6, 7, 2))
    np.testing.assert_array_equal(ops.image.extract_patches_3d(v, (2, 3, 2), strides=(1, 2, 3)).numpy(),
                                  _patches_3d_loop(v, (2, 3, 2), (1, 2, 3)))
    single = ops.image.extract_patches_3d(v[0], 2, padding="same")
    assert single.shape == (3, 3, 4, 16)
    patches = ops.image.extract_patches_3d(v[:, :4, :6, :6], (2, 3, 3))
    np.testing.assert_array_equal(ops.image.reconstruct_patches(patches, (2, 3, 3), (4, 6, 6)).numpy(),
                                  v[:, :4, :6, :6])
    check_gradients(lambda t: ops.image.extract_patches_3d(t, 2, strides=1), v[:1, :3, :3, :3, :1])


def test_reconstruct_patches_inverts_extract_patches():
    images = RNG.standard_normal((2, 10, 12, 3))
    patches = ops.image.extract_patches(images, (5, 4))
    np.testing.assert_array_equal(ops.image.reconstruct_patches(patches, (5, 4), (10, 12)).numpy(), images)
    cut = images[:, :9, :11]
    same = ops.image.extract_patches(cut, (5, 4), padding="same")
    np.testing.assert_array_equal(ops.image.reconstruct_patches(same, (5, 4), (9, 11), padding="same").numpy(), cut)
    np.testing.assert_array_equal(ops.image.reconstruct_patches(patches[0], (5, 4), (10, 12)).numpy(), images[0])
    check_gradients(lambda p: ops.image.reconstruct_patches(p, 2, (4, 4)), RNG.standard_normal((1, 2, 2, 4)))
    with pytest.raises(NotImplementedError, match="non-overlapping"):
        ops.image.reconstruct_patches(patches, (5, 4), (10, 12), strides=2)
    with pytest.raises(ValueError, match="requires output_size"):
        ops.image.reconstruct_patches(patches, (5, 4), (10, 11))
    with pytest.raises(ValueError, match="not divisible"):
        ops.image.reconstruct_patches(patches, (3, 3), (6, 9))


def test_extract_patches_with_three_sizes_takes_volume_patches():
    v = RNG.standard_normal((2, 6, 6, 6, 2))
    np.testing.assert_array_equal(ops.image.extract_patches(v, (2, 3, 3)).numpy(),
                                  ops.image.extract_patches_3d(v, (2, 3, 3)).numpy())


CHANNELS_FIRST = {
    "rgb_to_hsv": lambda x, df: ops.image.rgb_to_hsv(x, data_format=df),
    "hsv_to_rgb": lambda x, df: ops.image.hsv_to_rgb(x, data_format=df),
    "gaussian_blur": lambda x, df: ops.image.gaussian_blur(x, (3, 5), (1.0, 2.0), data_format=df),
    "perspective_transform": lambda x, df: ops.image.perspective_transform(
        x, [[0, 0], [5, 0], [0, 4], [5, 4]], [[0.5, 0], [5, 0.3], [0, 4], [4.6, 4]], data_format=df),
    "elastic_transform": lambda x, df: ops.image.elastic_transform(x, sigma=1.0, seed=2, data_format=df),
}


@pytest.mark.parametrize("name", sorted(CHANNELS_FIRST))
@pytest.mark.parametrize("batched", [True, False])
def test_channels_first_gives_the_transposed_result(name, batched):
    fn = CHANNELS_FIRST[name]
    x = RNG.uniform(size=(2, 5, 6, 3) if batched else (5, 6, 3))
    to_first = (0, 3, 1, 2) if batched else (2, 0, 1)
    expected = np.transpose(fn(x, "channels_last").numpy(), to_first)
    np.testing.assert_allclose(fn(np.transpose(x, to_first), "channels_first").numpy(), expected, atol=1e-12)


def test_channels_first_sobel_ssim_and_patches():
    x = RNG.uniform(size=(2, 6, 7, 3))
    first = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_allclose(ops.image.sobel_edges(first, data_format="channels_first").numpy(),
                               np.transpose(ops.image.sobel_edges(x).numpy(), (0, 3, 1, 2, 4)), atol=1e-12)
    y = RNG.uniform(size=x.shape)
    np.testing.assert_allclose(ops.image.ssim(first, np.transpose(y, (0, 3, 1, 2)), filter_size=3,
                                              data_format="channels_first").numpy(),
                               ops.image.ssim(x, y, filter_size=3).numpy(), rtol=1e-12)
    v = RNG.standard_normal((2, 4, 4, 6, 2))
    v_first = np.transpose(v, (0, 4, 1, 2, 3))
    patches = ops.image.extract_patches_3d(v_first, 2, data_format="channels_first")
    np.testing.assert_array_equal(patches.numpy(),
                                  np.transpose(ops.image.extract_patches_3d(v, 2).numpy(), (0, 4, 1, 2, 3)))
    back = ops.image.reconstruct_patches(patches, (2, 2, 2), (4, 4, 6), data_format="channels_first")
    np.testing.assert_array_equal(back.numpy(), v_first)
    with pytest.raises(ValueError, match="data_format"):
        ops.image.gaussian_blur(x, data_format="NCHW")


@pytest.mark.parametrize("interpolation", ["bicubic", "lanczos3", "lanczos5"])
def test_resize_with_jax_kernels_is_scale_and_translate(interpolation):
    x = RNG.standard_normal((2, 6, 5, 3))
    kernel = {"bicubic": "cubic"}.get(interpolation, interpolation)
    for size, antialias in (((9, 12), False), ((3, 4), True)):
        expected = ops.image.scale_and_translate(x, (2, *size, 3), [size[0] / 6, size[1] / 5], [0.0, 0.0], (1, 2),
                                                 kernel, antialias=antialias).numpy()
        np.testing.assert_allclose(ops.image.resize(x, size, interpolation=interpolation,
                                                    antialias=antialias).numpy(), expected, rtol=1e-12)


def test_resize_antialias_matches_torch_and_existing_functions_take_channels_first():
    x = RNG.standard_normal((1, 8, 10, 2))
    ours = ops.image.resize(x, (3, 4), antialias=True).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x).permute(0, 3, 1, 2), size=(3, 4), mode="bilinear",
                                             align_corners=False, antialias=True).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    first = np.transpose(x, (0, 3, 1, 2))
    for fn in (lambda t, df: ops.image.resize(t, (5, 4), data_format=df),
               lambda t, df: ops.image.extract_patches(t, 2, data_format=df),
               lambda t, df: ops.image.pad_images(t, 1, 2, 0, 1, data_format=df),
               lambda t, df: ops.image.crop_images(t, 1, 2, 0, 1, data_format=df),
               lambda t, df: ops.image.affine_transform(t, [1.0, 0, 1.0, 0, 1.0, 0, 0, 0], data_format=df)):
        np.testing.assert_allclose(fn(first, "channels_first").numpy(),
                                   np.transpose(fn(x, "channels_last").numpy(), (0, 3, 1, 2)), atol=1e-12)
    rgb = RNG.uniform(size=(2, 3, 4, 4))
    np.testing.assert_allclose(ops.image.rgb_to_grayscale(rgb, data_format="channels_first").numpy(),
                               np.transpose(ops.image.rgb_to_grayscale(np.transpose(rgb, (0, 2, 3, 1))).numpy(),
                                            (0, 3, 1, 2)))
