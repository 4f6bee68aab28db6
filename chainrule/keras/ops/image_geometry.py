"""``keras.ops.image``'s resampling functions: ``map_coordinates`` (``scipy.ndimage``'s and JAX's, order 0 or 1, five
fill modes), ``perspective_transform`` (the homography taking four points to four points), ``elastic_transform``
(random smooth displacements) and ``scale_and_translate`` (JAX's separable resampling kernels). The sampled values
are gathers and weighted sums of the input, so gradients flow to it (and, for ``map_coordinates`` with order 1, to
the coordinates).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> image = np.arange(9.0).reshape(3, 3)
>>> ops.image.map_coordinates(image, [[0.5, 2.0], [1.0, 1.5]], order=1).numpy()
array([2.5, 7.5])
>>> ops.image.scale_and_translate(np.ones((1, 2, 2, 1)), (1, 4, 4, 1), [2.0, 2.0], [0.0, 0.0], (1, 2),
...                               "linear").numpy()[0, :, :, 0]
array([[1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.]])
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.core import cast, to_tensor
from chainrule.keras.ops.image import batched_channels_last, restored
from chainrule.keras.ops.image_filters import gaussian_blur
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import image_transform as _image_transform
from chainrule.ops import shape as _shape
from chainrule.ops.image_transform import FILL_MODES, _fix_index
from chainrule.ops.no_gradient import no_gradient

ORDERS = {"nearest": 0, "bilinear": 1}


def _check_interpolation(interpolation: str) -> None:
    if interpolation not in ORDERS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected of one {set(ORDERS)}. Received: "
                         f"interpolation={interpolation}")


# --- map_coordinates ---------------------------------------------------------------------------------------------------
def _tap(coordinate, offset: int, order: int, size: int, fill_mode: str):
    """The integer position a tap reads along one axis, brought inside by ``fill_mode`` ('constant': clipped; the
    caller masks it)."""
    base = np.round(coordinate) if order == 0 else np.floor(coordinate) + offset
    index = _fix_index(base.astype(np.int64), size, fill_mode)
    return backend.array_namespace(coordinate).asarray(np.clip(index, 0, size - 1))


def _inside(coordinate, offset: int, order: int, size: int):
    base = np.round(coordinate) if order == 0 else np.floor(coordinate) + offset
    return backend.array_namespace(coordinate).asarray((base >= 0) & (base < size))


def _sample(x: Tensor, coordinates: list, order: int, fill_mode: str, fill_value: float) -> Tensor:
    """``x`` read at the points whose position along axis d is ``coordinates[d]`` (a float Tensor, or an int array
    of exact positions inside the axis): the weighted sum of the 1 or 2 taps per axis."""
    strides = [math.prod(x.shape[d + 1:]) for d in range(x.ndim)]
    flat = _shape.reshape(x, (-1,))
    per_axis = []
    for d, c in enumerate(coordinates):
        if not isinstance(c, Tensor):  # exact integer positions: a constant array
            per_axis.append([(np.asarray(c, dtype=np.int64), None, None)])
            continue
        size = x.shape[d]
        if order == 0:
            taps = [(0, None)]
        else:
            fraction = c - knp.floor(c)
            taps = [(0, 1.0 - fraction), (1, fraction)]
        per_axis.append([(no_gradient(_tap, c, offset=o, order=order, size=size, fill_mode=fill_mode), w,
                          no_gradient(_inside, c, offset=o, order=order, size=size) if fill_mode == "constant"
                          else None) for o, w in taps])
    out = None
    for combination in itertools.product(*per_axis):
        index, weight, inside = None, None, None
        for d, (position, w, valid) in enumerate(combination):
            term = position * strides[d] if strides[d] != 1 else position
            index = term if index is None else index + term
            weight = w if weight is None else weight if w is None else weight * w
            inside = valid if inside is None else inside if valid is None else knp.logical_and(inside, valid)
        value = knp.take(flat, index)
        if inside is not None:
            value = knp.where(inside, value, fill_value)
        value = value if weight is None else value * weight
        out = value if out is None else out + value
    return out


def map_coordinates(inputs: TensorLike, coordinates, order: int, fill_mode: str = "constant",
                    fill_value: float = 0) -> Tensor:
    """``inputs`` read at ``coordinates`` (one array of positions per axis of ``inputs``, stacked: shape
    (inputs.ndim, ...)), by nearest (``order=0``, rounding half to even) or linear (``order=1``) interpolation;
    positions outside are read through ``fill_mode`` ('constant' reads ``fill_value``)."""
    x = to_tensor(inputs, "inputs")
    coords = coordinates if isinstance(coordinates, Tensor) else \
        knp.stack([to_tensor(c, "coordinates") for c in coordinates]) if isinstance(coordinates, (list, tuple)) \
        else to_tensor(coordinates, "coordinates")
    if coords.ndim < 2:
        raise ValueError(f"Invalid coordinates rank: expected at least rank 2. Received input with shape: "
                         f"{tuple(coords.shape)}")
    if coords.shape[0] != x.ndim:
        raise ValueError(f"First dim of `coordinates` must be the same as the rank of `inputs`. Received inputs "
                         f"with shape: {tuple(x.shape)} and coordinate leading dim of {coords.shape[0]}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected one of {set(FILL_MODES)}. Received: "
                         f"fill_mode={fill_mode}")
    if order not in (0, 1):
        raise ValueError(f"Invalid value for argument `order`. Expected one of [0, 1]. Received: order={order}")
    dtype = x.dtype
    work = x if dtype.kind == "f" else cast(x, "float32")
    if coords.dtype.kind != "f":
        coords = cast(coords, work.dtype)
    elif coords.dtype != work.dtype:
        coords = cast(coords, work.dtype)
    out = _sample(work, [coords[d] for d in range(x.ndim)], order, fill_mode, fill_value)
    return out if dtype.kind == "f" else cast(knp.round(out), dtype)


# --- perspective_transform ---------------------------------------------------------------------------------------------
def homography(start_points: np.ndarray, end_points: np.ndarray) -> np.ndarray:
    """The 8 numbers [a0, a1, a2, b0, b1, b2, c0, c1] of the projective map that takes each of four end points to
    its start point (so an output pixel at an end point reads the input at the start point), per batch row; here a
    shift by 1 in x:

    >>> homography(np.array([[[0, 0], [1, 0], [0, 1], [1, 1]]], float),
    ...            np.array([[[1, 0], [2, 0], [1, 1], [2, 1]]], float)).round(6).tolist() == [[1, 0, -1, 0, 1, 0, 0, 0]]
    True
    """
    rows = []
    for k in range(4):
        (sx, sy), (ex, ey) = start_points[:, k].T, end_points[:, k].T
        zero, one = np.zeros_like(ex), np.ones_like(ex)
        rows.append(np.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1))
        rows.append(np.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1))
    system = np.stack(rows, axis=1)                                      # (N, 8, 8)
    targets = np.stack([start_points[:, k, j] for k in range(4) for j in (0, 1)], axis=-1)
    try:
        return np.linalg.solve(system, targets[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ValueError("perspective_transform: the points do not define a homography (three of them are on one "
                         "line)") from None


def _points(points, name: str) -> np.ndarray:
    values = np.asarray(points.numpy() if isinstance(points, Tensor) else points, dtype=np.float64)
    if values.ndim not in (2, 3) or values.shape[-2:] != (4, 2):
        raise ValueError(f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a batch. Received "
                         f"shape: {values.shape}")
    return values if values.ndim == 3 else values[None]


def perspective_transform(images: TensorLike, start_points, end_points, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: str | None = None) -> Tensor:
    """Warp images so that the four ``start_points`` (x, y) land on the four ``end_points`` ((4, 2), or (N, 4, 2)
    per image); pixels from outside read ``fill_value``."""
    _check_interpolation(interpolation)
    start, end = _points(start_points, "start_points"), _points(end_points, "end_points")
    if start.shape != end.shape:
        raise ValueError(f"start_points and end_points must have the same shape. Received start_points.shape="
                         f"{start.shape}, end_points.shape={end.shape}")
    x, single, first = batched_channels_last(images, "perspective_transform", data_format)
    transforms = homography(start, end)
    if transforms.shape[0] == 1 and x.shape[0] > 1:
        transforms = np.repeat(transforms, x.shape[0], axis=0)
    dtype = x.dtype
    work = x if dtype.kind == "f" else cast(x, "float32")
    out = _image_transform.affine_transform(work, transforms.astype(work.dtype), interpolation=interpolation,
                                            fill_mode="constant", fill_value=fill_value)
    return restored(out if dtype.kind == "f" else cast(knp.round(out), dtype), single, first)


# --- elastic_transform -------------------------------------------------------------------------------------------------
def elastic_transform(images: TensorLike, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value: float = 0.0, seed=None,
                      data_format: str | None = None) -> Tensor:
    """Displace each pixel by a random field (standard normal draws times ``sigma``, blurred by a Gaussian of
    ``sigma`` over ``int(6 sigma) | 1`` taps, times ``alpha``), as Keras; the same field for every channel."""
    from chainrule.keras.random import draw_generator

    _check_interpolation(interpolation)
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected of one {FILL_MODES}. Received: "
                         f"fill_mode={fill_mode}")
    if not sigma > 0:
        raise ValueError(f"elastic_transform: `sigma` must be positive. Received: sigma={sigma}")
    x, single, first = batched_channels_last(images, "elastic_transform", data_format)
    n, h, w, c = x.shape
    dtype = x.dtype
    work = x if dtype.kind == "f" else cast(x, "float32")
    rng = draw_generator(seed)
    taps = int(6 * sigma) | 1
    fields = [gaussian_blur((rng.normal(size=(n, h, w, 1)) * sigma).astype(work.dtype), (taps, taps),
                            (sigma, sigma)) for _ in range(2)]
    rows = np.arange(h, dtype=work.dtype)[None, :, None, None] + alpha * fields[1]
    cols = np.arange(w, dtype=work.dtype)[None, None, :, None] + alpha * fields[0]
    shape = (n, h, w, c)
    coordinates = [np.broadcast_to(np.arange(n)[:, None, None, None], shape),
                   knp.broadcast_to(cast(rows, work.dtype), shape), knp.broadcast_to(cast(cols, work.dtype), shape),
                   np.broadcast_to(np.arange(c)[None, None, None, :], shape)]
    out = _sample(work, coordinates, ORDERS[interpolation], fill_mode, fill_value)
    return restored(out if dtype.kind == "f" else cast(knp.round(out), dtype), single, first)


# --- scale_and_translate -----------------------------------------------------------------------------------------------
def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x):
    x = np.abs(x)
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _lanczos(radius: float):
    def kernel(x):
        x = np.abs(x)
        safe = np.where(x > 1e-3, x, 1.0)
        value = radius * np.sin(np.pi * safe) * np.sin(np.pi * safe / radius) / (np.pi ** 2 * safe ** 2)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, value, 1.0))
    return kernel


KERNELS = {"linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "triangle": _triangle,
           "cubic": _keys_cubic, "bicubic": _keys_cubic, "tricubic": _keys_cubic,
           "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}


def resampling_weights(in_size: int, out_size: int, scale: float, translation: float, kernel,
                       antialias: bool) -> np.ndarray:
    """The (in_size, out_size) weights of output sample j on input sample i: the kernel at the distance between
    input i and output j's centre mapped back, ``(j + 0.5 - translation) / scale - 0.5`` (widened by 1 / scale when
    downscaling with ``antialias``), each column normalised; 0 for a centre outside the input (JAX's rule)."""
    centres = (np.arange(out_size) + 0.5 - translation) / scale - 0.5
    width = max(1.0 / scale, 1.0) if antialias else 1.0
    weights = kernel(np.abs(centres[None, :] - np.arange(in_size)[:, None]) / width)
    totals = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(totals) > 1000.0 * np.finfo(np.float32).eps, weights / np.where(totals != 0, totals, 1),
                       0.0)
    return np.where(((centres >= -0.5) & (centres <= in_size - 0.5))[None, :], weights, 0.0)


def scale_and_translate(images: TensorLike, output_shape, scale, translation, spatial_dims, method: str,
                        antialias: bool = True) -> Tensor:
    """Resample ``images`` to ``output_shape`` along ``spatial_dims``: output sample j of each of those axes is
    centred at ``(j + 0.5 - translation) / scale - 0.5`` of the input, weighted by ``method``'s kernel (linear,
    cubic (Keys), lanczos3, lanczos5), as ``jax.image.scale_and_translate``. Integer images are rounded back."""
    if method not in KERNELS:
        raise ValueError(f"Invalid value for argument `method`. Expected of one {set(KERNELS)}. Received: "
                         f"method={method}")
    x = to_tensor(images, "images")
    dims = [int(d) % x.ndim for d in spatial_dims]
    scales = np.atleast_1d(np.asarray(scale.numpy() if isinstance(scale, Tensor) else scale, np.float64))
    shifts = np.atleast_1d(np.asarray(translation.numpy() if isinstance(translation, Tensor) else translation,
                                      np.float64))
    if len(output_shape) != x.ndim or len(scales) != len(dims) or len(shifts) != len(dims):
        raise ValueError(f"scale_and_translate: `output_shape` needs one size per axis of images {tuple(x.shape)}, "
                         f"`scale` and `translation` one value per spatial dim {tuple(dims)}")
    dtype = x.dtype
    out = x if dtype.kind == "f" else cast(x, "float32")
    for d, s, t in zip(dims, scales, shifts):
        weights = resampling_weights(x.shape[d], int(output_shape[d]), s, t, KERNELS[method], antialias)
        out = knp.moveaxis(knp.tensordot(out, weights.astype(out.dtype), axes=([d], [0])), -1, d)
    if dtype.kind != "f":
        values = x.numpy()
        out = cast(knp.clip(knp.round(out), values.min(), values.max()), dtype)
    return out


__all__ = ["elastic_transform", "map_coordinates", "perspective_transform", "scale_and_translate"]
wrap_namespace(globals(), __all__, "keras.ops.image.")
