"""tf.nn.conv1d, tf.nn.convolution, tf.nn.pool and tf.nn.max_pool_with_argmax against PyTorch, gradients by finite
differences, TensorFlow's argument forms and errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(0)


def _torch_conv(x, w, stride, padding, dilation):
    """PyTorch's convolution of channels-last x with TF-layout filters, the result channels-last."""
    rank = x.ndim - 2
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    xt = torch.from_numpy(np.moveaxis(x, -1, 1))
    wt = torch.from_numpy(np.moveaxis(np.moveaxis(w, -1, 0), -1, 1))  # (*k, in, out) -> (out, in, *k)
    return np.moveaxis(conv(xt, wt, stride=stride, padding=padding, dilation=dilation).numpy(), 1, -1)


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), ([1, 2, 1], [1, 1, 1])])
def test_conv1d_matches_pytorch(stride, dilation):
    x, w = RNG.standard_normal((2, 11, 3)).astype(np.float32), RNG.standard_normal((3, 3, 4)).astype(np.float32)
    got = tf.nn.conv1d(x, w, stride=stride, padding="VALID", dilations=dilation)
    s = stride if isinstance(stride, int) else stride[1]
    d = dilation if isinstance(dilation, int) else dilation[1]
    np.testing.assert_allclose(got.numpy(), _torch_conv(x, w, s, 0, d), atol=1e-5)
    # channels-first 'NCW' gives the same numbers, transposed
    got_ncw = tf.nn.conv1d(np.moveaxis(x, -1, 1), w, stride=stride, padding="VALID", data_format="NCW",
                           dilations=dilation)
    np.testing.assert_allclose(got_ncw.numpy(), np.moveaxis(got.numpy(), -1, 1), atol=1e-6)


def test_conv1d_same_padding_length_and_gradients():
    x, w = RNG.standard_normal((1, 7, 2)), RNG.standard_normal((4, 2, 3))
    assert tf.nn.conv1d(x, w, 2, "SAME").shape == (1, 4, 3)
    check_gradients(lambda a, b: tf.nn.conv1d(a, b, 2, "SAME"), x, w)
    check_gradients(lambda a, b: tf.nn.conv1d(a, b, 1, "VALID", data_format="NCW"),
                    np.ascontiguousarray(np.moveaxis(x, -1, 1)), w)  # (check_gradients perturbs C-order arrays)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_convolution_dispatches_on_rank_and_matches_pytorch(rank):
    spatial = (7, 6, 5)[:rank]
    x = RNG.standard_normal((2, *spatial, 3)).astype(np.float32)
    w = RNG.standard_normal((*(3,) * rank, 3, 2)).astype(np.float32)
    got = tf.nn.convolution(x, w, strides=2 if rank != 3 else 1, padding="VALID")
    np.testing.assert_allclose(got.numpy(), _torch_conv(x, w, 2 if rank != 3 else 1, 0, 1), atol=1e-4)
    first = ("NCW", "NCHW", "NCDHW")[rank - 1]
    got_first = tf.nn.convolution(np.moveaxis(x, -1, 1), w, dilations=2 if rank == 2 else 1,
                                  padding="SAME", data_format=first)
    expected = tf.nn.convolution(x, w, dilations=2 if rank == 2 else 1, padding="SAME")
    assert got_first.shape == (2, 2, *spatial)
    np.testing.assert_allclose(got_first.numpy(), np.moveaxis(expected.numpy(), -1, 1), atol=1e-5)


def test_convolution_gradients_channels_first():
    x, w = RNG.standard_normal((1, 2, 5, 4)), RNG.standard_normal((2, 3, 2, 2))
    check_gradients(lambda a, b: tf.nn.convolution(a, b, strides=[1, 2], padding="SAME", data_format="NCHW"), x, w)


def test_convolution_errors():
    with pytest.raises(ValueError, match="filters must be 4-D"):
        tf.nn.convolution(np.zeros((1, 4, 4, 1), "float32"), np.zeros((3, 1, 1), "float32"))
    with pytest.raises(ValueError, match="input must be 3-D, 4-D or 5-D"):
        tf.nn.convolution(np.zeros((4, 1), "float32"), np.zeros((3, 1, 1), "float32"))
    with pytest.raises(ValueError, match="data_format` must be 'NHWC' or 'NCHW'"):
        tf.nn.convolution(np.zeros((1, 4, 4, 1), "float32"), np.zeros((3, 3, 1, 1), "float32"), data_format="NWC")
    with pytest.raises(ValueError, match="input must be 3-D"):
        tf.nn.conv1d(np.zeros((1, 4, 4, 1), "float32"), np.zeros((3, 1, 1), "float32"), 1, "VALID")


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("kind", ["MAX", "AVG"])
def test_pool_matches_pytorch(rank, kind):
    spatial = (8, 7, 6)[:rank]
    x = RNG.standard_normal((2, *spatial, 3)).astype(np.float32)
    window, strides = [2] * rank, [2] * rank
    got = tf.nn.pool(x, window, kind, strides=strides, padding="VALID")
    fn = {("MAX", 1): F.max_pool1d, ("MAX", 2): F.max_pool2d, ("MAX", 3): F.max_pool3d,
          ("AVG", 1): F.avg_pool1d, ("AVG", 2): F.avg_pool2d, ("AVG", 3): F.avg_pool3d}[kind, rank]
    expected = np.moveaxis(fn(torch.from_numpy(np.moveaxis(x, -1, 1)), 2, 2).numpy(), 1, -1)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)
    first = ("NCW", "NCHW", "NCDHW")[rank - 1]
    got_first = tf.nn.pool(np.moveaxis(x, -1, 1), window, kind, strides=strides, data_format=first)
    np.testing.assert_allclose(got_first.numpy(), np.moveaxis(expected, -1, 1), atol=1e-6)


def test_pool_strides_default_to_one_same_average_counts_real_elements_and_gradients():
    x = np.arange(5.0).reshape(1, 5, 1)
    np.testing.assert_allclose(tf.nn.pool(x, [2], "AVG").numpy().ravel(), [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(tf.nn.pool(x, [2], "AVG", padding="SAME").numpy().ravel(), [0.5, 1.5, 2.5, 3.5, 4])
    check_gradients(lambda a: tf.nn.pool(a, [2, 3], "AVG", strides=[1, 2], padding="SAME"),
                    RNG.standard_normal((1, 4, 5, 2)))
    with pytest.raises(ValueError, match="pooling_type must be 'AVG' or 'MAX'"):
        tf.nn.pool(x, [2], "MIN")
    with pytest.raises(ValueError, match="window_shape must have 1 entries"):
        tf.nn.pool(x, [1, 2, 1], "MAX")


@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_max_pool_with_argmax_matches_pytorch_indices(padding):
    x = RNG.standard_normal((2, 7, 6, 3)).astype(np.float32)
    x[0, 0, :2, 0] = 5.0  # a tie: the first maximum in row-major window order wins, in both
    output, argmax = tf.nn.max_pool_with_argmax(x, 3, 2, padding)
    assert argmax.dtype == np.int64 and argmax.shape == output.shape
    np.testing.assert_allclose(output.numpy(), tf.nn.max_pool2d(x, 3, 2, padding).numpy())
    # every index points at its window's value
    flat = x.reshape(2, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, argmax.numpy().reshape(2, -1), 1).reshape(output.shape),
                                  output.numpy())
    if padding == "VALID":
        _, indices = F.max_pool2d(torch.from_numpy(np.moveaxis(x, -1, 1)), 3, 2, return_indices=True)
        torch_index = np.moveaxis(indices.numpy(), 1, -1)  # y * width + x per channel
        np.testing.assert_array_equal(argmax.numpy(), torch_index * 3 + np.arange(3))
    _, with_batch = tf.nn.max_pool_with_argmax(x, [1, 3, 3, 1], [1, 2, 2, 1], padding, output_dtype=tf.int32,
                                               include_batch_in_index=True)
    assert with_batch.dtype == np.int32
    np.testing.assert_array_equal(with_batch.numpy()[1], argmax.numpy()[1] + 7 * 6 * 3)


def test_max_pool_with_argmax_output_is_differentiable():
    check_gradients(lambda a: tf.nn.max_pool_with_argmax(a, 2, 2, "SAME")[0], RNG.standard_normal((1, 5, 5, 2)))
    with pytest.raises(ValueError, match="data_format must be 'NHWC'"):
        tf.nn.max_pool_with_argmax(np.zeros((1, 4, 4, 1), "float32"), 2, 2, "VALID", data_format="NCHW")


@pytest.mark.parametrize("depth_radius, bias, alpha, beta",
                         [(5, 1.0, 1.0, 0.5), (2, 2.0, 1e-4, 0.75), (0, 1.0, 0.5, 1)])
def test_local_response_normalization_matches_pytorch(depth_radius, bias, alpha, beta):
    x = RNG.standard_normal((2, 3, 4, 9)).astype(np.float32)
    got = tf.nn.local_response_normalization(x, depth_radius, bias, alpha, beta)
    size = 2 * depth_radius + 1  # PyTorch divides alpha by the window size
    expected = F.local_response_norm(torch.from_numpy(np.moveaxis(x, -1, 1)), size, alpha * size, beta, bias)
    np.testing.assert_allclose(got.numpy(), np.moveaxis(expected.numpy(), 1, -1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(tf.nn.lrn(x, depth_radius, bias, alpha, beta).numpy(), got.numpy())


def test_local_response_normalization_gradients_and_errors():
    check_gradients(lambda a: tf.nn.lrn(a, depth_radius=1, bias=1.5, alpha=0.3, beta=0.75),
                    RNG.standard_normal((1, 2, 2, 4)))
    with pytest.raises(ValueError, match="must be 4-D"):
        tf.nn.lrn(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="depth_radius must be a non-negative int"):
        tf.nn.lrn(np.ones((1, 1, 1, 3), "float32"), depth_radius=-1)


def test_space_to_batch_tensorflow_examples():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)
    got = tf.space_to_batch(x, [2, 2], [[0, 0], [0, 0]]).numpy()
    np.testing.assert_array_equal(got[..., 0], [[[1, 3], [9, 11]], [[2, 4], [10, 12]], [[5, 7], [13, 15]],
                                                [[6, 8], [14, 16]]])
    x = np.arange(1, 17, dtype=np.float32).reshape(2, 2, 4, 1)
    got = tf.nn.space_to_batch(x, [2, 2], [[0, 0], [2, 0]]).numpy()
    assert got.shape == (8, 1, 3, 1)
    np.testing.assert_array_equal(got[:, 0, :, 0], [[0, 1, 3], [0, 9, 11], [0, 2, 4], [0, 10, 12], [0, 5, 7],
                                                    [0, 13, 15], [0, 6, 8], [0, 14, 16]])
    back = tf.batch_to_space(got, [2, 2], [[0, 0], [2, 0]])
    np.testing.assert_array_equal(back.numpy(), x)


def test_space_to_batch_is_how_dilated_convolution_works():
    # atrous convolution = space_to_batch, a plain convolution, batch_to_space (TensorFlow's own decomposition)
    x, w = RNG.standard_normal((2, 8, 8, 3)), RNG.standard_normal((3, 3, 3, 2))
    blocks = tf.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])
    got = tf.batch_to_space(tf.nn.conv2d(blocks, w, 1, "VALID"), [2, 2], [[0, 0], [0, 0]])
    np.testing.assert_allclose(got.numpy(), tf.nn.conv2d(x, w, 1, "VALID", dilations=2).numpy(), atol=1e-10)
    check_gradients(lambda a: tf.batch_to_space(tf.space_to_batch(a, [2], [[1, 1]]) * 2.0, [2], [[1, 0]]),
                    RNG.standard_normal((2, 4, 3)))


def test_space_to_batch_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="not divisible by block_shape"):
        tf.space_to_batch(np.zeros((1, 3, 4, 1)), [2, 2], [[0, 0], [0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be non-negative with shape"):
        tf.space_to_batch(np.zeros((1, 4, 4, 1)), [2, 2], [[0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not divisible by the product of block sizes"):
        tf.batch_to_space(np.zeros((3, 2, 2, 1)), [2, 2], [[0, 0], [0, 0]])


def _reference_dilation(x, w, strides, rates, padding):
    n, h, wd, c = x.shape
    kh, kw, _ = w.shape
    eff = ((kh - 1) * rates[0] + 1, (kw - 1) * rates[1] + 1)
    if padding == "SAME":
        out = (-(-h // strides[0]), -(-wd // strides[1]))
        pad_top = max((out[0] - 1) * strides[0] + eff[0] - h, 0) // 2
        pad_left = max((out[1] - 1) * strides[1] + eff[1] - wd, 0) // 2
    else:
        out = ((h - eff[0]) // strides[0] + 1, (wd - eff[1]) // strides[1] + 1)
        pad_top = pad_left = 0
    y = np.full((n, *out, c), -np.inf)
    for i in range(out[0]):
        for j in range(out[1]):
            for dy in range(kh):
                for dx in range(kw):
                    r, s = i * strides[0] + dy * rates[0] - pad_top, j * strides[1] + dx * rates[1] - pad_left
                    if 0 <= r < h and 0 <= s < wd:
                        y[:, i, j] = np.maximum(y[:, i, j], x[:, r, s] + w[dy, dx])
    return y


@pytest.mark.parametrize("strides, rates, padding", [((1, 1), (1, 1), "VALID"), ((2, 1), (1, 2), "SAME"),
                                                     ((1, 2), (2, 1), "VALID"), ((2, 2), (1, 1), "SAME")])
def test_dilation2d_and_erosion2d_match_reference(strides, rates, padding):
    x, w = RNG.standard_normal((2, 7, 8, 3)), RNG.standard_normal((2, 3, 3))
    got = tf.nn.dilation2d(x, w, [1, *strides, 1], padding, "NHWC", [1, *rates, 1])
    np.testing.assert_allclose(got.numpy(), _reference_dilation(x, w, strides, rates, padding), atol=1e-12)
    eroded = tf.nn.erosion2d(x, w, [1, *strides, 1], padding, "NHWC", [1, *rates, 1])
    np.testing.assert_allclose(eroded.numpy(), -_reference_dilation(-x, w[::-1, ::-1], strides, rates, padding),
                               atol=1e-12)


def test_dilation2d_gradients_and_errors():
    x, w = RNG.standard_normal((1, 5, 5, 2)), RNG.standard_normal((2, 2, 2))  # continuous: no ties
    check_gradients(lambda a, b: tf.nn.dilation2d(a, b, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]), x, w)
    check_gradients(lambda a, b: tf.nn.erosion2d(a, b, 2, "VALID", "NHWC", 1), x, w)
    with pytest.raises(ValueError, match="filters must be 3-D"):
        tf.nn.dilation2d(x, np.zeros((2, 2, 3)), 1, "VALID", "NHWC", 1)
    with pytest.raises(ValueError, match="data_format must be 'NHWC'"):
        tf.nn.dilation2d(x, w, 1, "VALID", "NCHW", 1)


def test_dilated_pool_matches_pytorch_and_tensorflow_same_rule():
    x = RNG.standard_normal((2, 9, 10, 3))
    got = tf.nn.pool(x, [2, 3], "MAX", padding="VALID", dilations=[2, 3])
    expected = F.max_pool2d(torch.from_numpy(np.moveaxis(x, -1, 1)), (2, 3), 1, dilation=(2, 3))
    np.testing.assert_allclose(got.numpy(), np.moveaxis(expected.numpy(), 1, -1))
    # average: each output the mean of its dilated window
    avg = tf.nn.pool(x[:, :, 0, :], [3], "AVG", dilations=[2]).numpy()
    np.testing.assert_allclose(avg, (x[:, 0:5, 0] + x[:, 2:7, 0] + x[:, 4:9, 0]) / 3)
    # 'SAME' zero-pads by (window - 1) * rate and pools 'VALID', as TensorFlow's space-to-batch route does
    same = tf.nn.pool(x, [3, 2], "MAX", padding="SAME", dilations=[2, 2])
    padded = np.pad(x, ((0, 0), (2, 2), (1, 1), (0, 0)))
    np.testing.assert_allclose(same.numpy(), tf.nn.pool(padded, [3, 2], "MAX", dilations=[2, 2]).numpy())
    assert same.shape == x.shape
    check_gradients(lambda a: tf.nn.pool(a, [2, 2], "AVG", padding="SAME", dilations=2, data_format="NCHW"),
                    RNG.standard_normal((1, 2, 5, 4)))
    with pytest.raises(ValueError, match="strides > 1 not supported in conjunction with dilation_rate > 1"):
        tf.nn.pool(x, [2, 2], "MAX", strides=2, dilations=2)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_generic_max_pool_and_avg_pool_take_any_rank_and_tensorflow_ksize_forms(rank):
    x = RNG.standard_normal((2, *(6, 5, 4)[:rank], 3)).astype(np.float32)
    torch_x = torch.from_numpy(np.moveaxis(x, -1, 1))
    expected_max = np.moveaxis((F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1](torch_x, 2, 1).numpy(), 1, -1)
    expected_avg = np.moveaxis((F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1](torch_x, 2, 2).numpy(), 1, -1)
    np.testing.assert_allclose(tf.nn.max_pool(x, [1, *[2] * rank, 1], [1] * (rank + 2), "VALID").numpy(),
                               expected_max, atol=1e-6)
    np.testing.assert_allclose(tf.nn.avg_pool(x, [2], [2], "VALID").numpy(), expected_avg, atol=1e-6)
    first = ("NCW", "NCHW", "NCDHW")[rank - 1]
    got_first = tf.nn.max_pool(np.moveaxis(x, -1, 1), [1, 1, *[2] * rank], 1, "VALID", data_format=first)
    np.testing.assert_allclose(got_first.numpy(), np.moveaxis(expected_max, -1, 1), atol=1e-6)


def test_max_pool1d_avg_pool1d_and_their_rank_check():
    x = RNG.standard_normal((2, 7, 3)).astype(np.float32)
    expected = F.max_pool1d(torch.from_numpy(np.moveaxis(x, -1, 1)), 3, 2).numpy()
    np.testing.assert_allclose(tf.nn.max_pool1d(x, 3, 2, "VALID").numpy(), np.moveaxis(expected, 1, -1))
    np.testing.assert_allclose(tf.nn.avg_pool1d(np.moveaxis(x, -1, 1), [3], [1, 1, 2], "VALID",
                                                data_format="NCW").numpy(),
                               F.avg_pool1d(torch.from_numpy(np.moveaxis(x, -1, 1)), 3, 2).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="input must be 3-D"):
        tf.nn.max_pool1d(np.zeros((1, 4, 4, 1), "float32"), 2, 2, "VALID")
