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
