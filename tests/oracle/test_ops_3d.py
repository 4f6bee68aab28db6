"""conv3d, conv3d_transpose, max_pool3d and avg_pool3d against finite differences and PyTorch (F.conv3d,
F.conv_transpose3d, F.max_pool3d, F.avg_pool3d): 'valid' / 'same' (asymmetric pads), strides, dilations, groups,
output_padding, ties, second order, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.autograd import enable_grad
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.conv3d import avg_pool3d, conv3d, conv3d_transpose, max_pool3d
from test_conv_transpose_ops import keras_transpose_length
from test_pool_ops import _ties


def _triple(v):
    return (v,) * 3 if isinstance(v, int) else tuple(v)


def _same_pads(sizes, ks, strides, dilations=(1, 1, 1)):
    """TensorFlow's 'same' rule per axis, written out again so the test does not trust the code under test:
    (before, after) for depth, height, width."""
    pads = []
    for n, k, s, d in zip(sizes, ks, strides, dilations):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _torch_pad_arg(pads):
    """F.pad's order: last axis first, (before, after) each: width, height, depth."""
    return tuple(v for before_after in reversed(pads) for v in before_after)


def _ncdhw(x):
    return x.permute(0, 4, 1, 2, 3)


def _ndhwc(x):
    return x.permute(0, 2, 3, 4, 1)


def _data(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# --- conv3d -------------------------------------------------------------------------------------------------------
def torch_conv3d(x, w, strides=1, padding="valid", dilations=1):
    """NDHWC -> NCDHW, (kd, kh, kw, I, O) -> (O, I, kd, kh, kw), explicit (possibly asymmetric) F.pad; groups from
    the channel counts, as the op infers them."""
    strides, dilations = _triple(strides), _triple(dilations)
    pads = _same_pads(x.shape[1:4], w.shape[:3], strides, dilations) if padding == "same" else [(0, 0)] * 3
    xt = F.pad(_ncdhw(x), _torch_pad_arg(pads)).contiguous()
    y = F.conv3d(xt, w.permute(4, 3, 0, 1, 2).contiguous(), stride=strides, dilation=dilations,
                 groups=x.shape[4] // w.shape[3])
    return _ndhwc(y)


# (x shape NDHWC, kernel shape (kd, kh, kw, I, O), strides, padding, dilations)
CONV_CASES = [
    ((1, 4, 5, 5, 1), (3, 3, 3, 1, 2), 1, "valid", 1),
    ((2, 5, 4, 6, 2), (3, 2, 3, 2, 3), 1, "same", 1),
    ((2, 6, 5, 5, 2), (3, 3, 2, 2, 2), 2, "same", 1),   # odd sizes with stride 2: the extra pad goes after
    ((1, 7, 6, 5, 2), (2, 3, 3, 2, 2), (3, 1, 2), "valid", 1),
    ((1, 7, 6, 6, 1), (2, 2, 3, 1, 2), 1, "same", (2, 1, 2)),
    ((1, 5, 5, 4, 4), (2, 2, 2, 2, 4), 1, "valid", 1),  # groups=2: the kernel sees half the channels
    ((1, 4, 4, 4, 3), (1, 1, 1, 3, 2), 2, "same", 1),   # 1x1x1 kernel with stride: some voxels are never read
]
CONV_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-{c[3]}-d{c[4]}" for c in CONV_CASES]


@covers("conv3d", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CONV_CASES, ids=CONV_IDS)
def test_conv3d_gradients_match_finite_differences(x_shape, w_shape, strides, padding, dilations):
    x, w = _data(x_shape, w_shape)
    assert check_gradients(lambda a, b: conv3d(a, b, strides, padding, dilations), x, w)


@covers("conv3d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CONV_CASES, ids=CONV_IDS)
def test_conv3d_matches_torch(x_shape, w_shape, strides, padding, dilations, dtype):
    x, w = _data(x_shape, w_shape, seed=1)
    out = compare_with_torch(lambda a, b: conv3d(a, b, strides, padding, dilations),
                             lambda a, b: torch_conv3d(a, b, strides, padding, dilations), x, w, dtype=dtype)
    sizes = [-(-n // s) if padding == "same" else (n - (k - 1) * d - 1) // s + 1
             for n, k, s, d in zip(x_shape[1:4], w_shape[:3], _triple(strides), _triple(dilations))]
    assert out.shape == (x_shape[0], *sizes, w_shape[4])


@covers("conv3d", kind="torch")
def test_conv3d_second_order_matches_torch():
    """The input gradient built with create_graph=True, differentiated again, as torch's double backward."""
    x, w = _data((1, 4, 5, 4, 2), (3, 2, 3, 2, 3), seed=4)
    xs, ws = cr.Tensor(x, requires_grad=True), cr.Tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    with enable_grad():
        (dx,) = cr.grad((conv3d(xs, ws, 2, "same") ** 2).sum(), [xs], create_graph=True)
        ours = cr.grad((dx * dx).sum(), [xs, ws])
    (dxt,) = torch.autograd.grad((torch_conv3d(xt, wt, 2, "same") ** 2).sum(), [xt], create_graph=True)
    theirs = torch.autograd.grad((dxt * dxt).sum(), [xt, wt])
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)


@covers("conv3d", "conv3d_transpose", kind="fd")
@pytest.mark.parametrize("depth, k, pads, stride, dilation", [(5, 3, (1, 1), 1, 1), (6, 2, (0, 1), 2, 1),
                                                              (7, 3, (2, 2), 1, 2), (4, 1, (0, 0), 3, 1),
                                                              (3, 3, (2, 1), 2, 1)])
def test_depth_gather_and_scatter_are_adjoint_and_differentiable(depth, k, pads, stride, dilation):
    """The two nodes behind the depth folding: each the other's gradient, both checked as ops of their own."""
    from chainrule.ops.conv3d import DepthGather, DepthScatter
    geometry = dict(k=k, pads=pads, stride=stride, dilation=dilation)
    (x,) = _data((2, depth, 2, 3, 2), seed=7)
    taps = DepthGather.apply(cr.Tensor(x), **geometry).numpy()
    out_depth = (depth + sum(pads) - (k - 1) * dilation - 1) // stride + 1
    assert taps.shape == (2, out_depth, 2, 3, k, 2)
    padded = np.pad(x, ((0, 0), pads, (0, 0), (0, 0), (0, 0)))
    for i in range(k):  # the definition: tap i of output depth o is padded depth o*stride + i*dilation
        np.testing.assert_array_equal(taps[:, :, :, :, i], padded[:, i * dilation::stride][:, :out_depth])
    (g,) = _data(taps.shape, seed=8)
    back = DepthScatter.apply(cr.Tensor(g), depth=depth, **geometry).numpy()
    assert np.isclose((taps * g).sum(), (x * back).sum(), rtol=1e-12)
    assert check_gradients(lambda a: DepthGather.apply(a, **geometry), x)
    assert check_gradients(lambda a: DepthScatter.apply(a, depth=depth, **geometry), g)


def test_conv3d_errors_name_the_argument():
    x, w = np.ones((1, 4, 4, 4, 3)), np.ones((2, 2, 2, 3, 2))
    with pytest.raises(ValueError, match="conv3d: input must be 5-D"):
        conv3d(np.ones((1, 4, 4, 3)), w)
    with pytest.raises(ValueError, match="kernel must be 5-D"):
        conv3d(x, np.ones((2, 2, 3, 2)))
    with pytest.raises(ValueError, match="multiple of the kernel's 2 input channels"):
        conv3d(x, np.ones((2, 2, 2, 2, 2)))
    with pytest.raises(ValueError, match="strides must be a positive int, 3 positive ints"):
        conv3d(x, w, strides=(1, 2))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        conv3d(x, w, padding="causal")
    with pytest.raises(ValueError, match="larger than the input along depth"):
        conv3d(np.ones((1, 1, 4, 4, 3)), w)
    with pytest.raises(ValueError, match="along height"):
        conv3d(np.ones((1, 4, 1, 4, 3)), w)
    with pytest.raises(TypeError, match="floating point"):
        conv3d(np.ones((1, 4, 4, 4, 3), "int64"), w)


# --- conv3d_transpose ---------------------------------------------------------------------------------------------
def torch_conv3d_transpose(x, w, strides=1, padding="valid", output_padding=None, dilations=1):
    """PyTorch's full transposed convolution (no padding), cropped (or zero-extended) to TensorFlow's window: the
    pads before are those of TF's 'same' rule for a convolution of the output size."""
    strides, dilations = _triple(strides), _triple(dilations)
    extra = (None,) * 3 if output_padding is None else _triple(output_padding)
    sizes = [keras_transpose_length(n, k, padding, s, p, d)
             for n, k, s, p, d in zip(x.shape[1:4], w.shape[:3], strides, extra, dilations)]
    full = F.conv_transpose3d(_ncdhw(x).contiguous(), w.permute(4, 3, 0, 1, 2).contiguous(), stride=strides,
                              dilation=dilations)
    pads = []
    for n, o, k, s, d, have in zip(x.shape[1:4], sizes, w.shape[:3], strides, dilations, full.shape[2:]):
        before = max((n - 1) * s + (k - 1) * d + 1 - o, 0) // 2 if padding == "same" else 0
        pads.append((-before, before + o - have))
    return _ndhwc(F.pad(full, _torch_pad_arg(pads)))


# (x shape NDHWC, kernel (kd, kh, kw, out, in), strides, padding, output_padding, dilations)
TRANSPOSE_CASES = [
    ((2, 2, 3, 3, 2), (3, 3, 3, 2, 2), 1, "valid", None, 1),
    ((1, 3, 2, 3, 2), (3, 3, 3, 3, 2), 2, "same", None, 1),
    ((1, 2, 3, 2, 3), (4, 4, 2, 2, 3), 2, "same", None, 1),       # even kernels, stride 2 (the GAN upsampler)
    ((2, 2, 2, 3, 1), (2, 3, 2, 2, 1), (3, 2, 3), "valid", None, 1),  # stride > kernel: gaps of zeros
    ((1, 3, 2, 2, 2), (3, 2, 3, 2, 2), 2, "valid", (1, 0, 1), 1),
    ((1, 2, 3, 3, 2), (3, 3, 3, 2, 2), 2, "same", 1, 1),
    ((1, 3, 3, 2, 2), (3, 2, 2, 3, 2), 1, "same", None, (2, 1, 2)),
]
TRANSPOSE_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-{c[3]}-op{c[4]}-d{c[5]}" for c in TRANSPOSE_CASES]


@covers("conv3d_transpose", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilations", TRANSPOSE_CASES,
                         ids=TRANSPOSE_IDS)
def test_conv3d_transpose_gradients_match_finite_differences(x_shape, w_shape, strides, padding, output_padding,
                                                             dilations):
    x, w = _data(x_shape, w_shape)
    assert check_gradients(lambda a, b: conv3d_transpose(a, b, strides, padding, output_padding, dilations), x, w)


@covers("conv3d_transpose", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilations", TRANSPOSE_CASES,
                         ids=TRANSPOSE_IDS)
def test_conv3d_transpose_matches_torch(x_shape, w_shape, strides, padding, output_padding, dilations, dtype):
    x, w = _data(x_shape, w_shape, seed=1)
    out = compare_with_torch(lambda a, b: conv3d_transpose(a, b, strides, padding, output_padding, dilations),
                             lambda a, b: torch_conv3d_transpose(a, b, strides, padding, output_padding, dilations),
                             x, w, dtype=dtype)
    extra = (None,) * 3 if output_padding is None else _triple(output_padding)
    assert out.shape == (x_shape[0], *[keras_transpose_length(n, k, padding, s, p, d) for n, k, s, p, d in zip(
        x_shape[1:4], w_shape[:3], _triple(strides), extra, _triple(dilations))], w_shape[3])


def test_conv3d_transpose_is_the_input_gradient_of_conv3d():
    """<conv3d(u, w), x> = <u, conv3d_transpose(x, w)> with tf.nn's explicit output_shape (strides 2, 'same')."""
    u, w, x = _data((2, 5, 6, 5, 3), (3, 3, 2, 3, 4), (2, 3, 3, 3, 4), seed=3)
    left = float((conv3d(u, w, strides=2, padding="same").numpy() * x).sum())
    right = float((u * conv3d_transpose(x, w, strides=2, padding="same", output_shape=(2, 5, 6, 5, 3)).numpy()).sum())
    assert np.isclose(left, right, rtol=1e-12)


def test_conv3d_transpose_errors():
    x = np.ones((1, 2, 2, 2, 3))
    with pytest.raises(ValueError, match="input channels=3, kernel input channels=2"):
        conv3d_transpose(x, np.ones((2, 2, 2, 4, 2)))
    with pytest.raises(ValueError, match="`output_padding` must be strictly less than `strides`"):
        conv3d_transpose(x, np.ones((2, 2, 2, 4, 3)), strides=2, output_padding=(0, 2, 0))
    with pytest.raises(ValueError, match="does not convolve back"):
        conv3d_transpose(x, np.ones((2, 2, 2, 4, 3)), strides=2, padding="same", output_shape=(1, 9, 4, 4, 4))


# --- pooling ------------------------------------------------------------------------------------------------------
def _pool_geometry(x, pool_size, strides, padding):
    pool = _triple(pool_size)
    strides = pool if strides is None else _triple(strides)
    pads = _same_pads(x.shape[1:4], pool, strides) if padding == "same" else [(0, 0)] * 3
    return pool, strides, _torch_pad_arg(pads)


def torch_max_pool3d(x, pool_size, strides=None, padding="valid"):
    pool, strides, pads = _pool_geometry(x, pool_size, strides, padding)
    return _ndhwc(F.max_pool3d(F.pad(_ncdhw(x), pads, value=-float("inf")), pool, strides))


def torch_avg_pool3d(x, pool_size, strides=None, padding="valid"):
    """The mean over real voxels: box sums of x over box sums of ones (both zero-padded)."""
    pool, strides, pads = _pool_geometry(x, pool_size, strides, padding)
    total = F.avg_pool3d(F.pad(_ncdhw(x), pads), pool, strides, divisor_override=1)
    count = F.avg_pool3d(F.pad(torch.ones_like(_ncdhw(x[:1, ..., :1])), pads), pool, strides, divisor_override=1)
    return _ndhwc(total / count)


# (x shape NDHWC, pool_size, strides, padding)
POOL_CASES = [
    ((1, 4, 4, 4, 1), 2, None, "valid"),
    ((2, 5, 7, 5, 2), 2, None, "same"),              # odd sizes: one pad voxel after
    ((1, 5, 6, 4, 2), 3, 1, "valid"),                # overlapping boxes
    ((2, 6, 5, 7, 1), (3, 2, 3), (2, 1, 2), "same"),  # overlapping, asymmetric pads
    ((1, 3, 5, 4, 2), (1, 3, 2), (1, 2, 1), "valid"),
]
POOL_IDS = [f"x{c[0]}-p{c[1]}-s{c[2]}-{c[3]}" for c in POOL_CASES]


@covers("max_pool3d", "avg_pool3d", kind="fd")
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", POOL_CASES, ids=POOL_IDS)
def test_pool3d_gradients_match_finite_differences(x_shape, pool_size, strides, padding):
    x = np.random.default_rng(0).permutation(np.prod(x_shape)).reshape(x_shape) * 0.1  # distinct: no ties
    assert check_gradients(lambda a: max_pool3d(a, pool_size, strides, padding), x)
    assert check_gradients(lambda a: avg_pool3d(a, pool_size, strides, padding), x)


@covers("max_pool3d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", POOL_CASES, ids=POOL_IDS)
def test_max_pool3d_with_ties_matches_torch(x_shape, pool_size, strides, padding, dtype):
    """Each box's gradient goes to ONE voxel, its first maximum in (depth, row, column) order, as torch's."""
    compare_with_torch(lambda a: max_pool3d(a, pool_size, strides, padding),
                       lambda a: torch_max_pool3d(a, pool_size, strides, padding), _ties(x_shape, 2), dtype=dtype)


@covers("avg_pool3d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", POOL_CASES, ids=POOL_IDS)
def test_avg_pool3d_matches_torch(x_shape, pool_size, strides, padding, dtype):
    (x,) = _data(x_shape, seed=3)
    compare_with_torch(lambda a: avg_pool3d(a, pool_size, strides, padding),
                       lambda a: torch_avg_pool3d(a, pool_size, strides, padding), x, dtype=dtype)


def test_avg_pool3d_symmetric_case_matches_torch_own_padding():
    """Where the pads are symmetric, torch's own padding with count_include_pad=False is the same op."""
    (x,) = _data((2, 5, 5, 5, 2), seed=5)
    compare_with_torch(lambda a: avg_pool3d(a, 3, 2, "same"),
                       lambda a: _ndhwc(F.avg_pool3d(_ncdhw(a), 3, 2, padding=1, count_include_pad=False)), x)


def test_pool3d_errors_name_the_axis():
    with pytest.raises(ValueError, match="max_pool3d: the pool window \\(3, 3, 3\\) is larger than the input along "
                                         "depth"):
        max_pool3d(np.ones((1, 2, 5, 5, 1)), 3)
    with pytest.raises(ValueError, match="avg_pool3d: input must be 5-D"):
        avg_pool3d(np.ones((1, 5, 5, 1)), 2)
    with pytest.raises(ValueError, match="pool_size must be a positive int, 3 positive ints"):
        max_pool3d(np.ones((1, 4, 4, 4, 1)), (2, 2))


def test_tf_nn_names_run_the_3d_ops():
    """tf.nn.conv3d / conv3d_transpose / max_pool3d / avg_pool3d by TensorFlow's argument names and NDHWC forms."""
    x, w = _data((1, 4, 5, 4, 2), (2, 3, 2, 2, 3), seed=6)
    np.testing.assert_array_equal(cr.nn.conv3d(x, w, [1, 2, 1, 1, 1], "SAME").numpy(), conv3d(x, w, (2, 1, 1), "same"))
    np.testing.assert_array_equal(cr.nn.max_pool3d(x, [1, 2, 2, 2, 1], 2, "VALID").numpy(), max_pool3d(x, 2))
    np.testing.assert_array_equal(cr.nn.avg_pool3d(x, 2, 1, "SAME").numpy(), avg_pool3d(x, 2, 1, "same"))
    y = cr.nn.conv3d_transpose(np.ones((1, 2, 3, 2, 3)), w, cr.constant([1, 4, 5, 4, 2]), 2)
    assert y.shape == (1, 4, 5, 4, 2)
    with pytest.raises(NotImplementedError, match="NDHWC only"):
        cr.nn.conv3d(x, w, 1, "SAME", data_format="NCDHW")
