"""TensorFlow's names added in session 10 beside tf.linalg and tf.math: tf.unique(_with_counts), tf.searchsorted,
tf.unravel_index, tf.histogram_fixed_width(_bins), tf.bincount, space_to_depth/depth_to_space, tf.nn's depthwise
and separable convolutions, tf.image's sobel_edges/image_gradients/ssim/YIQ/YUV/adjust_gamma, tf.bitwise and
tf.signal's Kaiser and Vorbis windows: values against NumPy and PyTorch, gradients, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

RNG = np.random.default_rng(6)


def test_unique_keeps_the_order_of_first_appearance():
    x = np.array([7, 3, 7, 1, 3, 3])
    y, idx = tf.unique(x)
    np.testing.assert_array_equal(y.numpy(), [7, 3, 1])
    np.testing.assert_array_equal(idx.numpy(), [0, 1, 0, 2, 1, 1])
    assert idx.dtype == np.int32
    y, idx, count = tf.unique_with_counts(x, out_idx=tf.int64)
    np.testing.assert_array_equal(count.numpy(), [2, 3, 1])
    assert idx.dtype == np.int64 and count.dtype == np.int64
    with pytest.raises(ValueError, match="vector"):
        tf.unique(np.ones((2, 2)))


def test_searchsorted_unravel_index_and_histograms():
    seq = np.sort(RNG.standard_normal((3, 5)), axis=-1)
    values = RNG.standard_normal((3, 4))
    out = tf.searchsorted(seq, values, side="right")
    np.testing.assert_array_equal(out.numpy(), [np.searchsorted(s, v, "right") for s, v in zip(seq, values)])
    assert out.dtype == np.int32
    with pytest.raises(ValueError, match="leading"):
        tf.searchsorted(seq, values[:2])
    np.testing.assert_array_equal(tf.unravel_index(np.array([1, 5, 11]), [3, 4]).numpy(),
                                  np.stack(np.unravel_index([1, 5, 11], (3, 4))))
    v = np.array([-1.0, 0.0, 0.49, 0.5, 0.99, 1.0, 5.0])
    np.testing.assert_array_equal(tf.histogram_fixed_width(v, [0.0, 1.0], nbins=2).numpy(), [3, 4])
    np.testing.assert_array_equal(tf.histogram_fixed_width_bins(v, [0.0, 1.0], nbins=2).numpy(),
                                  [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(tf.bincount(np.array([0, 2, 2])).numpy(), [1, 0, 2])
    with pytest.raises(ValueError, match="low < high"):
        tf.histogram_fixed_width(v, [1.0, 1.0])


def test_space_to_depth_and_back_in_both_layouts():
    x = RNG.standard_normal((2, 4, 6, 3))
    nhwc = tf.nn.space_to_depth(x, 2)
    np.testing.assert_array_equal(nhwc.numpy(), ops.space_to_depth(x, 2).numpy())
    np.testing.assert_array_equal(tf.depth_to_space(nhwc, 2).numpy(), x)
    nchw = tf.space_to_depth(np.transpose(x, (0, 3, 1, 2)), 2, data_format="NCHW")
    np.testing.assert_array_equal(np.transpose(nchw.numpy(), (0, 2, 3, 1)), nhwc.numpy())
    with pytest.raises(ValueError, match="data_format"):
        tf.nn.depth_to_space(nhwc, 2, data_format="NDHWC")


def test_depthwise_and_separable_conv2d_match_torch():
    x = RNG.standard_normal((1, 7, 6, 2))
    dk = RNG.standard_normal((3, 3, 2, 2))
    pk = RNG.standard_normal((1, 1, 4, 3))
    out = tf.nn.depthwise_conv2d(x, dk, strides=[1, 2, 2, 1], padding="SAME")
    weight = torch.tensor(dk).permute(2, 3, 0, 1).reshape(4, 1, 3, 3)
    padded = F.pad(torch.tensor(x).permute(0, 3, 1, 2), (0, 1, 1, 1))  # SAME, 3x3, stride 2 on 7x6: TF pads
    ref = F.conv2d(padded, weight, stride=2, groups=2).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)
    sep = tf.nn.separable_conv2d(x, dk, pk, strides=[1, 1, 1, 1], padding="VALID")
    dw = F.conv2d(torch.tensor(x).permute(0, 3, 1, 2), weight, groups=2)
    ref = F.conv2d(dw, torch.tensor(pk).permute(3, 2, 0, 1)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(sep.numpy(), ref, rtol=1e-12)
    with pytest.raises(ValueError, match="strides"):
        tf.nn.depthwise_conv2d(x, dk, strides=[2, 2, 2], padding="SAME")


def test_image_filters():
    x = RNG.standard_normal((2, 5, 6, 3))
    edges = tf.image.sobel_edges(x)
    padded = torch.tensor(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")).permute(0, 3, 1, 2)
    sobel_y = torch.tensor([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=torch.float64)
    for k, kernel in enumerate((sobel_y, sobel_y.T)):
        ref = F.conv2d(padded, kernel[None, None].repeat(3, 1, 1, 1), groups=3).permute(0, 2, 3, 1).numpy()
        np.testing.assert_allclose(edges.numpy()[..., k], ref, atol=1e-12)
    check_gradients(tf.image.sobel_edges, x[:1, :3, :4, :1])
    dy, dx = tf.image.image_gradients(x)
    np.testing.assert_allclose(dy.numpy()[:, :-1], np.diff(x, axis=1))
    np.testing.assert_array_equal(dx.numpy()[:, :, -1], 0.0)
    a, b = RNG.uniform(size=(2, 16, 16, 3)), RNG.uniform(size=(2, 16, 16, 3))
    np.testing.assert_allclose(tf.image.ssim(a, b, max_val=1.0).numpy(), ops.image.ssim(a, b).numpy())
    rgb = RNG.uniform(size=(4, 4, 3))
    np.testing.assert_allclose(tf.image.yiq_to_rgb(tf.image.rgb_to_yiq(rgb)).numpy(), rgb, atol=1e-4)
    np.testing.assert_allclose(tf.image.yuv_to_rgb(tf.image.rgb_to_yuv(rgb)).numpy(), rgb, atol=1e-6)
    np.testing.assert_allclose(tf.image.rgb_to_yuv(rgb).numpy()[..., 0], rgb @ [0.299, 0.587, 0.114])
    np.testing.assert_allclose(tf.image.adjust_gamma(rgb, 2.0, 0.5).numpy(), 0.5 * rgb ** 2)
    ints = tf.image.adjust_gamma(np.array([[[0, 255, 64]]], "uint8"), 0.5)
    assert ints.dtype == np.uint8 and ints.numpy().tolist() == [[[0, 255, 128]]]


def test_bitwise_and_windows():
    a, b = np.array([12, -5], "int32"), np.array([10, 3], "int32")
    for name, fn in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                     ("bitwise_xor", np.bitwise_xor), ("left_shift", np.left_shift),
                     ("right_shift", np.right_shift)):
        np.testing.assert_array_equal(getattr(tf.bitwise, name)(a, b).numpy(), fn(a, b))
    np.testing.assert_array_equal(tf.bitwise.invert(a).numpy(), np.invert(a))
    np.testing.assert_allclose(tf.signal.kaiser_window(9, beta=5.0).numpy(), np.kaiser(9, 5.0), rtol=1e-6)
    vorbis = tf.signal.vorbis_window(8).numpy()
    np.testing.assert_allclose(vorbis ** 2 + np.roll(vorbis, 4) ** 2, 1.0, rtol=1e-6)  # power complementary
