"""conv2d_transpose, conv1d_transpose and conv1d against finite differences and PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.autograd import enable_grad
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.conv1d import conv1d
from chainrule.ops.conv_transpose import conv1d_transpose, conv2d_transpose
from test_conv_ops import _pairs


def keras_transpose_length(n, k, padding, s, output_padding, d):
    """Keras's output size (backend_utils._get_output_shape_given_tf_padding), written out again for the test."""
    k = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + k + (max(k, s) - k if output_padding is None else output_padding)
    return n * s if output_padding is None else (n - 1) * s + k % 2 + output_padding


def torch_conv2d_transpose(x, w, strides=1, padding="valid", output_padding=None, dilations=1):
    """PyTorch's transposed convolution without padding (the full output), then cropped (or zero-extended) to
    TensorFlow's window: the pads before are those of TF's 'same' rule for a conv of the output size."""
    strides, dilations = _pairs(strides), _pairs(dilations)
    extra = (None, None) if output_padding is None else _pairs(output_padding)
    k_hw = w.shape[:2]
    out_hw = [keras_transpose_length(n, k, padding, s, p, d)
              for n, k, s, p, d in zip(x.shape[1:3], k_hw, strides, extra, dilations)]
    before = []
    for n, o, k, s, d in zip(x.shape[1:3], out_hw, k_hw, strides, dilations):
        total = max((n - 1) * s + (k - 1) * d + 1 - o, 0) if padding == "same" else 0
        before.append(total // 2)
    full = F.conv_transpose2d(x.permute(0, 3, 1, 2).contiguous(), w.permute(3, 2, 0, 1).contiguous(), stride=strides,
                              dilation=dilations)
    (top, left), (h, wd) = before, out_hw
    y = F.pad(full, (-left, left + wd - full.shape[3], -top, top + h - full.shape[2]))
    return y.permute(0, 2, 3, 1)


# (x shape NHWC, kernel (kh, kw, out, in), strides, padding, output_padding, dilations)
CASES = [
    ((2, 3, 3, 2), (3, 3, 4, 2), 1, "valid", None, 1),
    ((2, 3, 4, 2), (3, 3, 3, 2), 2, "same", None, 1),
    ((1, 4, 3, 3), (4, 4, 2, 3), 2, "same", None, 1),  # the GAN generator's layer: 4x4, stride 2, 'same'
    ((2, 3, 3, 1), (2, 3, 2, 1), (2, 3), "valid", None, 1),  # stride > kernel along the width: gaps of zeros
    ((1, 3, 4, 2), (3, 2, 2, 2), 2, "valid", 1, 1),
    ((1, 3, 3, 2), (3, 3, 2, 2), 2, "same", (1, 0), 1),
    ((1, 4, 4, 2), (4, 3, 2, 2), 3, "same", 2, 1),
    ((2, 4, 3, 2), (3, 2, 3, 2), 1, "same", None, (2, 1)),
    ((1, 5, 5, 1), (1, 1, 3, 1), 2, "same", None, 1),
]
IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-{c[3]}-op{c[4]}-d{c[5]}" for c in CASES]


def _data(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@covers("conv2d_transpose", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilations", CASES, ids=IDS)
def test_conv2d_transpose_gradients_match_finite_differences(x_shape, w_shape, strides, padding, output_padding,
                                                             dilations):
    x, w = _data(x_shape, w_shape)
    assert check_gradients(lambda a, b: conv2d_transpose(a, b, strides, padding, output_padding, dilations), x, w)


@covers("conv2d_transpose", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilations", CASES, ids=IDS)
def test_conv2d_transpose_matches_torch(x_shape, w_shape, strides, padding, output_padding, dilations, dtype):
    x, w = _data(x_shape, w_shape, seed=1)
    out = compare_with_torch(lambda a, b: conv2d_transpose(a, b, strides, padding, output_padding, dilations),
                             lambda a, b: torch_conv2d_transpose(a, b, strides, padding, output_padding, dilations),
                             x, w, dtype=dtype)
    extra = (None, None) if output_padding is None else _pairs(output_padding)
    assert out.shape == (x_shape[0], *[keras_transpose_length(n, k, padding, s, p, d) for n, k, s, p, d in zip(
        x_shape[1:3], w_shape[:2], _pairs(strides), extra, _pairs(dilations))], w_shape[2])


def test_conv2d_transpose_symmetric_cases_match_torch_padding_argument():
    """Where TF's crop is symmetric (odd kernel, stride 1, 'same'), PyTorch's own padding argument is the same op."""
    x, w = _data((2, 5, 4, 3), (3, 3, 2, 3), seed=2)
    compare_with_torch(lambda a, b: conv2d_transpose(a, b, 1, "same"),
                       lambda a, b: F.conv_transpose2d(a.permute(0, 3, 1, 2), b.permute(3, 2, 0, 1),
                                                       padding=1).permute(0, 2, 3, 1), x, w)


@covers("conv2d_transpose", kind="torch")
@covers("conv2d_transpose", kind="fd")
def test_conv2d_transpose_sizes_tensorflow_refuses_follow_keras_jax_rule():
    """An even kernel with 'same' and output_padding=0 gives (n - 1) * s rows, which TensorFlow cannot convolve back;
    Keras's JAX backend keeps rows [k - 1 - left, ...) of the full output, left = min(ceil(pad / 2), k - 1) with
    pad = k + k % 2 - 2 + output_padding. PyTorch's full output cropped that way is the reference."""
    x, w = _data((1, 4, 3, 2), (2, 4, 3, 2), seed=11)
    strides = (1, 2)

    def reference(a, b):
        full = F.conv_transpose2d(a.permute(0, 3, 1, 2), b.permute(3, 2, 0, 1).contiguous(), stride=strides)
        crops = []
        for n, k, s in zip(a.shape[1:3], b.shape[:2], strides):
            pad = k + k % 2 - 2
            crops.append((k - 1 - min(pad // 2 + pad % 2, k - 1), (n - 1) * s + k % 2))
        (top, h), (left, wd) = crops
        return full[:, :, top:top + h, left:left + wd].permute(0, 2, 3, 1)

    out = compare_with_torch(lambda a, b: conv2d_transpose(a, b, strides, "same", output_padding=0), reference, x, w)
    assert out.shape == (1, 3, 4, 3)
    assert check_gradients(lambda a, b: conv2d_transpose(a, b, strides, "same", output_padding=0), x, w)


def test_conv2d_transpose_is_the_input_gradient_of_conv2d():
    """<conv2d(u, w), x> = <u, conv2d_transpose(x, w)>: the two ops are adjoint (strides 2, 'same')."""
    u, w, x = _data((2, 8, 7, 3), (3, 3, 3, 4), (2, 4, 4, 4), seed=3)
    left = float((cr.nn.conv2d(u, w, strides=2, padding="SAME").numpy() * x).sum())
    right = float((u * conv2d_transpose(x, w, strides=2, padding="same", output_shape=(2, 8, 7, 3)).numpy()).sum())
    assert np.isclose(left, right, rtol=1e-12)


def check_second_order_against_torch(op, torch_op, x, w):
    """A gradient penalty through ``op`` (d/d(x, w) of |d(sum y³)/d(x, w)|²) equals PyTorch's: the op's backward ops
    are differentiable with respect to both of their inputs."""
    def penalty(fn, grad, a, b):
        y = fn(a, b)
        da, db = grad((y * y * y).sum(), [a, b], create_graph=True)
        return grad((da * da).sum() + (db * db).sum(), [a, b])

    ours = penalty(op, cr.grad, cr.Tensor(x, requires_grad=True), cr.Tensor(w, requires_grad=True))
    theirs = penalty(torch_op,
                     lambda out, ins, create_graph=False: torch.autograd.grad(out, ins, create_graph=create_graph),
                     torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True))
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-10, atol=1e-9)


@covers("conv2d_transpose", kind="torch")
def test_conv2d_transpose_second_order_matches_torch():
    x, w = _data((2, 3, 3, 2), (3, 3, 2, 2), seed=4)
    check_second_order_against_torch(lambda a, b: conv2d_transpose(a, b, 2, "same"),
                                      lambda a, b: torch_conv2d_transpose(a, b, 2, "same"), x, w)


@covers("conv2d_transpose", kind="fd")
def test_conv2d_transpose_second_order_matches_finite_differences():
    x, w = _data((1, 3, 3, 2), (3, 2, 2, 2), seed=5)

    def input_grad(a, b):
        with enable_grad():
            y = conv2d_transpose(a, b, strides=(2, 1), padding="same")
            (da,) = cr.grad((y * y * y).sum(), [a], create_graph=True)
        return da

    assert check_gradients(input_grad, x, w)


@pytest.mark.parametrize("kwargs, message", [
    (dict(x=(1, 3, 3, 2), w=(3, 3, 4, 3)), r"conv2d_transpose: the number of input channels must match the kernel's "
                                           r"input channels .* input channels=2, kernel input channels=3"),
    (dict(x=(3, 3, 2), w=(3, 3, 4, 2)), r"conv2d_transpose: input must be 4-D"),
    (dict(x=(1, 3, 3, 2), w=(3, 3, 2)), r"conv2d_transpose: kernel must be 4-D"),
    (dict(x=(1, 3, 3, 2), w=(3, 3, 4, 2), strides=2, output_padding=2),
     r"`output_padding` must be strictly less than `strides`"),
    (dict(x=(1, 3, 3, 2), w=(3, 3, 4, 2), padding="full"), r"conv2d_transpose: padding must be 'valid' or 'same'"),
    (dict(x=(1, 3, 3, 2), w=(3, 3, 4, 2), strides=2, padding="same", output_shape=(1, 9, 6, 4)),
     r"an output of size 9 along height does not convolve back to the input's 3"),
    (dict(x=(1, 3, 3, 2), w=(3, 3, 4, 2), output_shape=(1, 5, 5, 3)), r"output_shape must be \(batch=1"),
])
def test_conv2d_transpose_errors(kwargs, message):
    x, w = kwargs.pop("x"), kwargs.pop("w")
    with pytest.raises(ValueError, match=message):
        conv2d_transpose(np.zeros(x, np.float32), np.zeros(w, np.float32), **kwargs)


# --- 1-D --------------------------------------------------------------------------------------------------------------
def torch_conv1d_transpose(x, w, strides=1, padding="valid", output_padding=None, dilations=1):
    y = torch_conv2d_transpose(x[:, None], w[None], (1, strides), padding,
                               None if output_padding is None else (0, output_padding), (1, dilations))
    return y[:, 0]


CASES_1D = [((2, 5, 3), (3, 2, 3), 1, "valid", None, 1), ((2, 4, 2), (4, 3, 2), 2, "same", None, 1),
            ((1, 4, 2), (3, 2, 2), 3, "same", 1, 1), ((2, 3, 2), (2, 2, 2), 1, "valid", None, 3)]


@covers("conv1d_transpose", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilations", CASES_1D)
def test_conv1d_transpose_gradients_match_finite_differences(x_shape, w_shape, strides, padding, output_padding,
                                                             dilations):
    x, w = _data(x_shape, w_shape, seed=6)
    assert check_gradients(lambda a, b: conv1d_transpose(a, b, strides, padding, output_padding, dilations), x, w)


@covers("conv1d_transpose", kind="torch")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilations", CASES_1D)
def test_conv1d_transpose_matches_torch(x_shape, w_shape, strides, padding, output_padding, dilations):
    x, w = _data(x_shape, w_shape, seed=7)
    compare_with_torch(lambda a, b: conv1d_transpose(a, b, strides, padding, output_padding, dilations),
                       lambda a, b: torch_conv1d_transpose(a, b, strides, padding, output_padding, dilations), x, w)
    # with PyTorch's own 1-D op where the window needs no crop ('valid')
    if padding == "valid" and output_padding is None:
        compare_with_torch(lambda a, b: conv1d_transpose(a, b, strides, padding, dilations=dilations),
                           lambda a, b: F.conv_transpose1d(a.transpose(1, 2), b.permute(2, 1, 0), stride=strides,
                                                           dilation=dilations,
                                                           output_padding=max(strides - (b.shape[0] - 1) * dilations
                                                                              - 1, 0)).transpose(1, 2), x, w)


def torch_conv1d(x, w, stride=1, padding="valid", dilations=1):
    """F.conv1d on (N, C, L) with the pads of TF's rule, or Keras's causal pads, made explicit with F.pad."""
    k, n = w.shape[0], x.shape[1]
    if padding == "causal":
        pads = ((k - 1) * dilations, 0)
    elif padding == "same":
        total = max((-(-n // stride) - 1) * stride + (k - 1) * dilations + 1 - n, 0)
        pads = (total // 2, total - total // 2)
    else:
        pads = (0, 0)
    y = F.conv1d(F.pad(x.transpose(1, 2), pads), w.permute(2, 1, 0), stride=stride, dilation=dilations)
    return y.transpose(1, 2)


CONV1D_CASES = [((2, 7, 3), (3, 3, 4), 1, "valid", 1), ((2, 8, 2), (4, 2, 3), 2, "same", 1),
                ((1, 6, 2), (3, 2, 2), 1, "causal", 2), ((2, 9, 1), (2, 1, 3), 3, "causal", 1),
                ((1, 7, 2), (3, 2, 2), 1, "same", 2)]


@covers("conv1d", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilations", CONV1D_CASES)
def test_conv1d_gradients_match_finite_differences(x_shape, w_shape, stride, padding, dilations):
    x, w = _data(x_shape, w_shape, seed=8)
    assert check_gradients(lambda a, b: conv1d(a, b, stride, padding, dilations), x, w)


@covers("conv1d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilations", CONV1D_CASES)
def test_conv1d_matches_torch(x_shape, w_shape, stride, padding, dilations, dtype):
    x, w = _data(x_shape, w_shape, seed=9)
    out = compare_with_torch(lambda a, b: conv1d(a, b, stride, padding, dilations),
                             lambda a, b: torch_conv1d(a, b, stride, padding, dilations), x, w, dtype=dtype)
    if padding == "causal":
        assert out.shape[1] == -(-x_shape[1] // stride)


def test_conv1d_causal_output_never_reads_the_future():
    x = np.random.default_rng(10).standard_normal((1, 8, 1))
    w = np.ones((3, 1, 1))
    base = conv1d(x, w, padding="causal").numpy()
    later = x.copy()
    later[0, 5:] += 1.0
    np.testing.assert_array_equal(conv1d(later, w, padding="causal").numpy()[0, :5], base[0, :5])


def test_1d_errors():
    with pytest.raises(ValueError, match=r"conv1d: input must be 3-D \(batch, steps, channels\)"):
        conv1d(np.zeros((1, 4, 4, 1)), np.zeros((3, 1, 1)))
    with pytest.raises(ValueError, match=r"conv1d: kernel must be 3-D"):
        conv1d(np.zeros((1, 4, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"conv1d: input has 2 channels but the kernel expects 1"):
        conv1d(np.zeros((1, 4, 2)), np.zeros((3, 1, 1)))
    with pytest.raises(ValueError, match=r"conv1d: stride must be an int or a 1-tuple"):
        conv1d(np.zeros((1, 4, 1)), np.zeros((3, 1, 1)), stride=(1, 2))
    with pytest.raises(ValueError, match=r"conv1d_transpose: input must be 3-D"):
        conv1d_transpose(np.zeros((1, 4, 4, 1)), np.zeros((3, 1, 1)))
