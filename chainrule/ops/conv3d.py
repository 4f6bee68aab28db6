"""3-D convolution, transposed convolution and max / average pooling over (N, D, H, W, C) volumes (``tf.nn.conv3d``,
``tf.nn.conv3d_transpose``, ``tf.nn.max_pool3d``, ``tf.nn.avg_pool3d``), folded onto the 2-D ops.

Depth is folded into the 2-D ops, as conv1d.py folds a sequence into an image of height 1, so the volumes run on the
2-D im2col, col2im and pooling kernels:

- conv3d: depth tap i of the kernel reads the (padded) input's depth slices o*sd + i*dd, o the output depth. Those
  slices of the kd taps, side by side on the channel axis, are a batch of images (N*OD, H, W, kd*C) whose 2-D
  convolution with the kernel laid out as (kh, kw, kd*C, F) is the 3-D convolution.
- conv3d_transpose: that map's adjoint. The 2-D transposed convolution of the (N*D, H, W, C) images with the same
  kernel layout gives every depth tap's share at once; tap i's share is added at output depths d*sd + i*dd.
- max / average pooling: a box is a stack of 2-D windows, so its maximum is the largest of its slices' 2-D maxima,
  and its mean over real voxels the mean of its real slices' 2-D means. Each depth slice is pooled in 2-D, then
  the depths, as a 2-D pool with window (kd, 1) over (N, D, OH*OW, C). The max gradient still reaches each box's
  first maximum in (depth, row, column) order, as PyTorch's: the first slice holding it, and that slice's first.

The depth taps are gathered (DepthGather, zeros for the padding) and added back (DepthScatter) by two nodes that are
each other's gradient; with them, reshapes and the 2-D convolutions and pools, the gradients, and gradients of
gradients, are those of differentiable ops.

>>> import numpy as np
>>> x = np.arange(27.0).reshape(1, 3, 3, 3, 1)
>>> conv3d(x, np.ones((2, 2, 2, 1, 1))).numpy()[0, :, :, :, 0]
array([[[ 52.,  60.],
        [ 76.,  84.]],
<BLANKLINE>
       [[124., 132.],
        [148., 156.]]])
>>> max_pool3d(x, 2, padding="same").shape, avg_pool3d(x, 3).numpy().ravel()
(TensorShape([1, 2, 2, 2, 1]), array([13.]))
>>> conv3d_transpose(np.ones((1, 2, 2, 2, 3)), np.ones((3, 3, 3, 4, 3)), strides=2, padding="same").shape
TensorShape([1, 4, 4, 4, 4])
"""
from __future__ import annotations

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.conv import Conv2D, conv_args, out_size, per_axis, resolve_padding, same_pads
from chainrule.ops.conv_transpose import (Conv2DTranspose, keras_pads, output_padding_per_axis,
                                          transpose_args, transpose_output_length)
from chainrule.ops.pool import avg_pool2d, max_pool2d
from chainrule.ops.shape import concat, reshape, split, transpose


def check_volume(x: Tensor, opname: str) -> None:
    """Raise unless ``x`` is a rank-5 floating-point (batch, depth, height, width, channels) tensor."""
    if x.ndim != 5:
        raise ValueError(f"{opname}: input must be 5-D (batch, depth, height, width, channels), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{opname}: input must be floating point, got dtype {x.dtype}; cast it first")


def padding_mode(padding, opname: str) -> str:
    """'valid' or 'same', in either case (the 3-D ops take no explicit pads, as TensorFlow's)."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{opname}: padding must be 'valid' or 'same', got {padding!r}")
    return mode


def _depth_too_small(opname: str, size: int, pads, extent: int, what: str, shape) -> ValueError | None:
    if size + sum(pads) >= extent:
        return None
    return ValueError(f"{opname}: the {what} (extent {extent}) is larger than the {'padded ' if sum(pads) else ''}"
                      f"input along depth ({size + sum(pads)}) (input shape {shape})")


# --- convolution --------------------------------------------------------------------------------------------------
def _tap_runs(depth: int, out_depth: int, k: int, pads: tuple[int, int], stride: int, dilation: int):
    """For each tap i: (i, outputs, inputs): the output depths o < out_depth whose input depth o*stride +
    i*dilation - pads[0] lies inside the unpadded input, as a slice, and those input depths, as a strided slice."""
    runs = []
    for i in range(k):
        first = i * dilation - pads[0]  # input depth of output 0
        lo = max(0, -(first // stride) if first < 0 else 0)
        hi = min(out_depth, (depth - 1 - first) // stride + 1) if depth - 1 >= first else 0
        if hi > lo:
            runs.append((i, slice(lo, hi), slice(first + lo * stride, first + (hi - 1) * stride + 1, stride)))
    return runs


class DepthGather(Function):
    # y[n, o, h, w, i, c] = xpad[n, o*s + i*d, h, w, c]   ->   dx = depth_scatter(g)
    # im2col along depth: the kernel's k depth taps of every output depth, side by side (zeros in the padding).
    def forward(self, x, k, pads, stride, dilation):
        self.geometry = dict(k=k, pads=pads, stride=stride, dilation=dilation)
        n, depth, h, w, c = x.shape
        out_depth = out_size(depth, pads, k, stride, dilation)
        runs = _tap_runs(depth, out_depth, k, pads, stride, dilation)
        covered = sum(outs.stop - outs.start for _, outs, _ in runs) == k * out_depth
        xp = backend.array_namespace(x)
        y = (xp.empty if covered else xp.zeros)((n, out_depth, h, w, k, c), dtype=x.dtype)
        for i, outs, ins in runs:
            y[:, outs, :, :, i, :] = x[:, ins, ...]
        return y

    def backward(self, g):
        return DepthScatter.apply(g, depth=self.arrays[0].shape[1], **self.geometry)


class DepthScatter(Function):
    # y[n, t, h, w, c] = Σ over (o, i) with o*s + i*d - pads[0] = t of g[n, o, h, w, i, c]   ->   dg = depth_gather(u)
    # The adjoint of DepthGather: each tap's share added back at the input depths it was read from.
    def forward(self, g, depth, k, pads, stride, dilation):
        self.geometry = dict(k=k, pads=pads, stride=stride, dilation=dilation)
        n, out_depth, h, w, _, c = g.shape
        y = backend.array_namespace(g).zeros((n, depth, h, w, c), dtype=g.dtype)
        for i, outs, ins in _tap_runs(depth, out_depth, k, pads, stride, dilation):
            y[:, ins, ...] += g[:, outs, :, :, i, :]
        return y

    def backward(self, u):
        return DepthGather.apply(u, **self.geometry)


def fold_depth(x: Tensor, k: int, pads: tuple[int, int], stride: int, dilation: int) -> Tensor:
    """(N*OD, H, W, k*C): for every output depth o, the input's depth slices o*stride + i*dilation (i < k) of the
    padded input, side by side on the channel axis (im2col along depth)."""
    taps = DepthGather.apply(x, k=k, pads=pads, stride=stride, dilation=dilation)
    n, od, h, w, _, c = taps.shape
    return reshape(taps, (n * od, h, w, k * c))


def depth_major_kernel(kernel: Tensor) -> Tensor:
    """A (kd, kh, kw, I, O) kernel as the 2-D kernel (kh, kw, kd*I, O) that acts on ``fold_depth``'s channels."""
    kd, kh, kw, i, o = kernel.shape
    return reshape(transpose(kernel, (1, 2, 0, 3, 4)), (kh, kw, kd * i, o))


@op
def conv3d(x: TensorLike, kernel: TensorLike, strides=1, padding="valid", dilations=1) -> Tensor:
    """3-D convolution like ``tf.nn.conv3d``: x is (N, D, H, W, C), kernel is (kd, kh, kw, C // groups, F); no bias.

    strides, dilations: an int or (depth, height, width). padding: 'valid' or 'same' (TensorFlow's rule per axis).
    A kernel with fewer input channels than x is a grouped convolution (Keras's ``groups``): C / kernel channels
    groups, each convolving its share of the channels into F / groups filters.
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    check_volume(x, "conv3d")
    if kernel.ndim != 5:
        raise ValueError(f"conv3d: kernel must be 5-D (depth, height, width, in_channels, out_channels), got shape "
                         f"{kernel.shape} (input shape {x.shape})")
    channels, (k_in, filters) = x.shape[4], kernel.shape[3:]
    if channels % k_in or filters % (channels // k_in):
        raise ValueError(f"conv3d: the input's {channels} channels must be a multiple of the kernel's {k_in} input "
                         f"channels (the number of groups), and that number must divide the {filters} filters "
                         f"(input shape {x.shape}, kernel shape {kernel.shape})")
    groups = channels // k_in
    if groups > 1:
        return concat([conv3d(part, k, strides, padding, dilations)
                       for part, k in zip(split(x, groups, axis=4), split(kernel, groups, axis=4))], axis=4)
    images, kernel2d, geometry = fold_conv3d(x, kernel, strides, padding, dilations)
    return unfold_images(Conv2D.apply(images, kernel2d, **geometry), x.shape[0])


def fold_conv3d(x: Tensor, kernel: Tensor, strides, padding, dilations) -> tuple[Tensor, Tensor, dict]:
    """A one-group 3-D convolution as a 2-D one: the images (N*OD, H, W, kd*C), the kernel (kh, kw, kd*C, F) and
    the 2-D ops' geometry, with the arguments checked (the Conv3D layer runs Conv2D's fused bias + relu node on
    them)."""
    strides, dilations = per_axis(strides, 3, "strides", "conv3d"), per_axis(dilations, 3, "dilations", "conv3d")
    mode = padding_mode(padding, "conv3d")
    kd = kernel.shape[0]
    depth_pads = same_pads(x.shape[1], kd, strides[0], dilations[0]) if mode == "same" else (0, 0)
    error = _depth_too_small("conv3d", x.shape[1], depth_pads, (kd - 1) * dilations[0] + 1, "kernel", x.shape)
    if error:
        raise error
    images = fold_depth(x, kd, depth_pads, strides[0], dilations[0])
    return conv_args("conv3d", images, depth_major_kernel(kernel), strides[1:], mode, dilations[1:])


def unfold_images(y: Tensor, batch: int) -> Tensor:
    """The 2-D convolution's (N*OD, OH, OW, F) output as the volume (N, OD, OH, OW, F)."""
    return reshape(y, (batch, y.shape[0] // batch) + tuple(y.shape[1:]))


# --- transposed convolution ---------------------------------------------------------------------------------------
@op
def conv3d_transpose(x: TensorLike, kernel: TensorLike, strides=1, padding="valid", output_padding=None,
                     dilations=1, output_shape=None) -> Tensor:
    """Transposed 3-D convolution: x is (N, D, H, W, C_in), kernel is (kd, kh, kw, C_out, C_in) as Keras's
    Conv3DTranspose stores it; no bias. Output sizes, pads and arguments as ``conv2d_transpose``'s, per axis
    (depth, height, width); output_shape: ``tf.nn.conv3d_transpose``'s explicit (N, D_out, H_out, W_out, C_out)."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    check_volume(x, "conv3d_transpose")
    if kernel.ndim != 5:
        raise ValueError(f"conv3d_transpose: kernel must be 5-D (depth, height, width, out_channels, in_channels), "
                         f"got shape {kernel.shape} (input shape {x.shape})")
    if kernel.shape[4] != x.shape[4]:
        raise ValueError(f"conv3d_transpose: the number of input channels must match the kernel's input channels "
                         f"(its last axis). Received: input channels={x.shape[4]}, kernel input channels="
                         f"{kernel.shape[4]} (input shape {x.shape}, kernel shape {kernel.shape})")
    strides = per_axis(strides, 3, "strides", "conv3d_transpose")
    dilations = per_axis(dilations, 3, "dilations", "conv3d_transpose")
    mode = padding_mode(padding, "conv3d_transpose")
    extra = output_padding_per_axis(output_padding, "conv3d_transpose", strides)
    n, depth = x.shape[:2]
    kd, filters = kernel.shape[0], kernel.shape[3]
    if output_shape is not None:
        output_shape = tuple(int(v) for v in output_shape)
        if len(output_shape) != 5 or output_shape[0] != n or output_shape[4] != filters:
            raise ValueError(f"conv3d_transpose: output_shape must be (batch={n}, depth, height, width, "
                             f"channels={filters}), got {output_shape}")
        out_depth = output_shape[1]
        depth_pads = resolve_padding(mode, (out_depth, 1), (kd, 1), (strides[0], 1), (dilations[0], 1),
                                     "conv3d_transpose")[0]
        hw_shape = (n * depth,) + tuple(output_shape[2:4]) + (kd * output_shape[4],)
    else:
        out_depth = transpose_output_length(depth, kd, mode, strides[0], extra and extra[0], dilations[0])
        depth_pads = keras_pads(depth, out_depth, kd, strides[0], extra and extra[0], dilations[0], mode)
        hw_shape = None
    if out_depth < 1 or out_size(out_depth, depth_pads, kd, strides[0], dilations[0]) != depth:
        raise ValueError(f"conv3d_transpose: an output of depth {out_depth} does not convolve back to the input's "
                         f"{depth} with kernel {kd}, stride {strides[0]}, dilation {dilations[0]} and padding "
                         f"'{mode}' (input shape {x.shape}, kernel shape {kernel.shape})")
    images = reshape(x, (n * depth,) + tuple(x.shape[2:]))
    images, kernel2d, settings = transpose_args("conv3d_transpose", images, depth_major_kernel(kernel), strides[1:],
                                                mode, extra and extra[1:], dilations[1:], hw_shape)
    shares = Conv2DTranspose.apply(images, kernel2d, **settings)  # (N*D, H_out, W_out, kd*C_out), tap-major
    shares = reshape(shares, (n, depth) + tuple(shares.shape[1:3]) + (kd, filters))
    return DepthScatter.apply(shares, depth=out_depth, k=kd, pads=depth_pads, stride=strides[0],
                              dilation=dilations[0])


# --- pooling ------------------------------------------------------------------------------------------------------
def _pool3d(pool2d, opname: str, x: TensorLike, pool_size, strides, padding) -> Tensor:
    x = as_tensor(x)
    check_volume(x, opname)
    pool = per_axis(pool_size, 3, "pool_size", opname)
    strides = pool if strides is None else per_axis(strides, 3, "strides", opname)
    mode = padding_mode(padding, opname)
    n, depth, h, w, c = x.shape
    if mode == "valid":
        for axis, (size, k) in enumerate(zip((depth, h, w), pool)):
            if size < k:
                raise ValueError(f"{opname}: the pool window {pool} is larger than the input along "
                                 f"{('depth', 'height', 'width')[axis]} (input shape {x.shape}, pool_size "
                                 f"{pool_size!r}, padding 'valid')")
    planes = pool2d(reshape(x, (n * depth, h, w, c)), pool[1:], strides[1:], mode)  # each depth slice in 2-D
    oh, ow = planes.shape[1:3]
    y = pool2d(reshape(planes, (n, depth, oh * ow, c)), (pool[0], 1), (strides[0], 1), mode)  # then the depths
    return reshape(y, (n, y.shape[1], oh, ow, c))


@op
def max_pool3d(x: TensorLike, pool_size, strides=None, padding="valid") -> Tensor:
    """Max pooling like ``tf.nn.max_pool3d`` on (N, D, H, W, C); strides default to pool_size; 'same' pads with
    -inf. Each box's gradient goes to its first maximum in (depth, row, column) order, as PyTorch's."""
    return _pool3d(max_pool2d, "max_pool3d", x, pool_size, strides, padding)


@op
def avg_pool3d(x: TensorLike, pool_size, strides=None, padding="valid") -> Tensor:
    """Average pooling like ``tf.nn.avg_pool3d`` on (N, D, H, W, C); 'same' boxes average their real voxels only."""
    return _pool3d(avg_pool2d, "avg_pool3d", x, pool_size, strides, padding)
