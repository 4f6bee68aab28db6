"""keras.ops.nn's adaptive pooling, depth_to_space/space_to_depth, unfold/fold, depthwise_conv, separable_conv and
polar: values and gradients against PyTorch (and TensorFlow's documented block order), finite differences, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

RNG = np.random.default_rng(2)


def _grad_pair(ours, theirs, *arrays):
    """Our and PyTorch's outputs and input gradients for one random output weighting."""
    xs = [cr.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    w = RNG.standard_normal(tuple(out.shape))
    grads = cr.grad(ops.sum(out * w), xs)
    tgrads = torch.autograd.grad((ref * torch.tensor(w)).sum(), ts)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["average", "max"])
@pytest.mark.parametrize("shape, size", [((2, 7, 3), 3), ((2, 5, 7, 3), (3, 2)), ((1, 4, 5, 6, 2), (2, 3, 4)),
                                         ((2, 6, 6, 1), 4)])
def test_adaptive_pooling_matches_torch(mode, shape, size):
    x = RNG.standard_normal(shape)
    rank = len(shape) - 2
    ours = ops.adaptive_average_pool if mode == "average" else ops.adaptive_max_pool
    theirs = getattr(F, f"adaptive_{'avg' if mode == 'average' else 'max'}_pool{rank}d")
    to_first = (0, rank + 1, *range(1, rank + 1))
    back = (0, *range(2, rank + 2), 1)
    _grad_pair(lambda t: ours(t, size), lambda t: theirs(t.permute(*to_first), size).permute(*back), x)
    first = ours(np.transpose(x, to_first), size, data_format="channels_first").numpy()
    np.testing.assert_allclose(first, theirs(torch.tensor(np.transpose(x, to_first)), size).numpy(), rtol=1e-12)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depth_to_space_and_back(data_format):
    x = RNG.standard_normal((2, 3, 4, 8))
    first = data_format == "channels_first"
    given = np.transpose(x, (0, 3, 1, 2)) if first else x
    out = ops.depth_to_space(given, 2, data_format=data_format).numpy()
    out_last = np.transpose(out, (0, 2, 3, 1)) if first else out
    assert out_last.shape == (2, 6, 8, 2)
    # TensorFlow's order: output pixel (2i + a, 2j + b), channel k comes from input (i, j), channel (a * 2 + b) * 2 + k
    np.testing.assert_array_equal(out_last[:, 1::2, 0::2, :], x[:, :, :, 4:6])
    np.testing.assert_array_equal(ops.space_to_depth(out, 2, data_format=data_format).numpy(), given)
    # PyTorch's pixel_shuffle orders the channels (k, a, b): the same map after regrouping them
    regrouped = x.reshape(2, 3, 4, 2, 2, 2).transpose(0, 5, 3, 4, 1, 2).reshape(2, 8, 3, 4)
    shuffled = F.pixel_shuffle(torch.tensor(regrouped), 2).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(out_last, shuffled)
    check_gradients(lambda t: ops.depth_to_space(t, 2), x[:1, :2, :2])


@pytest.mark.parametrize("kernel, dilation, padding, stride", [(2, 1, 0, 1), ((3, 2), (1, 2), (1, 0), (2, 1)),
                                                              (3, 2, 2, 3)])
def test_unfold_and_fold_match_torch(kernel, dilation, padding, stride):
    x = RNG.standard_normal((2, 3, 7, 8))
    args = dict(dilation=dilation, padding=padding, stride=stride)
    _grad_pair(lambda t: ops.unfold(t, kernel, **args), lambda t: F.unfold(t, kernel, **args), x)
    columns = F.unfold(torch.tensor(x), kernel, **args).numpy()
    _grad_pair(lambda t: ops.fold(t, (7, 8), kernel, **args), lambda t: F.fold(t, (7, 8), kernel, **args),
               RNG.standard_normal(columns.shape))


@pytest.mark.parametrize("padding, strides, dilation", [("valid", 1, 1), ("same", 1, 2), ("valid", 2, 1)])
def test_depthwise_and_separable_conv_match_torch(padding, strides, dilation):
    x = RNG.standard_normal((2, 9, 8, 3))
    dk = RNG.standard_normal((3, 3, 3, 2))
    pk = RNG.standard_normal((1, 1, 6, 4))

    def torch_depthwise(t, k):
        weight = k.permute(2, 3, 0, 1).reshape(6, 1, 3, 3)  # output channel c*M + m
        return F.conv2d(t.permute(0, 3, 1, 2), weight, stride=strides, padding=padding, dilation=dilation,
                        groups=3).permute(0, 2, 3, 1)

    def torch_separable(t, k, p):
        return F.conv2d(torch_depthwise(t, k).permute(0, 3, 1, 2), p.permute(3, 2, 0, 1)).permute(0, 2, 3, 1)

    _grad_pair(lambda t, k: ops.depthwise_conv(t, k, strides, padding, dilation_rate=dilation), torch_depthwise, x,
               dk)
    _grad_pair(lambda t, k, p: ops.separable_conv(t, k, p, strides, padding, dilation_rate=dilation),
               torch_separable, x, dk, pk)


def test_one_dimensional_depthwise_and_separable_conv():
    x = RNG.standard_normal((2, 10, 3))
    dk = RNG.standard_normal((3, 3, 2))
    pk = RNG.standard_normal((1, 6, 5))
    out = ops.depthwise_conv(x, dk)
    expected = ops.depthwise_conv(x[:, None], dk[None]).numpy()[:, 0]
    np.testing.assert_allclose(out.numpy(), expected)
    sep = ops.separable_conv(x, dk, pk, data_format="channels_last")
    np.testing.assert_allclose(sep.numpy(), expected @ pk[0], rtol=1e-12)
    first = ops.depthwise_conv(np.transpose(x, (0, 2, 1)), dk, data_format="channels_first")
    np.testing.assert_allclose(first.numpy(), np.transpose(expected, (0, 2, 1)))


def test_polar_matches_torch():
    _grad_pair(lambda a, b: ops.real(ops.polar(a, b)) + 2 * ops.imag(ops.polar(a, b)),
               lambda a, b: torch.polar(a, b).real + 2 * torch.polar(a, b).imag,
               RNG.uniform(0.5, 2, 5), RNG.standard_normal(5))
    np.testing.assert_allclose(ops.polar(np.array([2.0]), np.array([np.pi / 2])).numpy(), [2j], atol=1e-15)


ERRORS = [
    (lambda: ops.adaptive_average_pool(np.ones((2, 3)), 2), ValueError, "must be 3-D, 4-D or 5-D"),
    (lambda: ops.adaptive_max_pool(np.ones((1, 4, 4, 1)), (2, 0)), ValueError, "output_size"),
    (lambda: ops.depth_to_space(np.ones((1, 2, 2, 3)), 2), ValueError, "divisible by block_size"),
    (lambda: ops.space_to_depth(np.ones((1, 3, 4, 1)), 2), ValueError, "divisible by block_size"),
    (lambda: ops.space_to_depth(np.ones((1, 4, 4, 1)), 1), ValueError, "block_size"),
    (lambda: ops.unfold(np.ones((1, 2, 3)), 2), ValueError, "must be 4-D"),
    (lambda: ops.unfold(np.ones((1, 1, 2, 2)), 3), ValueError, "does not fit"),
    (lambda: ops.fold(np.ones((1, 4, 5)), (3, 3), 2), ValueError, "fold: `x` must be"),
    (lambda: ops.depthwise_conv(np.ones((1, 2, 2, 2, 1)), np.ones((1, 1, 1, 1, 1))), ValueError, "1-D or 2-D"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_bad_arguments_get_clear_errors(index):
    call, error, message = ERRORS[index]
    with pytest.raises(error, match=message):
        call()
