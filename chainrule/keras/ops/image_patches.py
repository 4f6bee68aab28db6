"""``keras.ops.image.extract_patches_3d`` (the patches of volumes (N, D, H, W, C), each flattened in (depth, row,
column, channel) order) and ``reconstruct_patches`` (non-overlapping 2-D or 3-D patches laid back into images or
volumes, as Keras), both index gathers and reshapes, so gradients flow.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> volumes = np.arange(2 * 4 * 4 * 4, dtype="float32").reshape(2, 4, 4, 4, 1)
>>> patches = ops.image.extract_patches_3d(volumes, 2)
>>> patches.shape
TensorShape([2, 2, 2, 2, 8])
>>> bool((ops.image.reconstruct_patches(patches, (2, 2, 2), (4, 4, 4)).numpy() == volumes).all())
True
"""
from __future__ import annotations

import numbers

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.image import _window_indices, from_channels_last, is_channels_first, to_channels_last
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import shape as _shape


def _triple(value, name: str, fn: str, rank: int = 3) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != rank or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                                      for v in values):
        raise ValueError(f"{fn}: Invalid `{name}` argument: expected a positive int or a tuple of {rank} positive "
                         f"ints. Received: {name}={value!r}")
    return tuple(int(v) for v in values)


def extract_patches_3d(volumes: TensorLike, size, strides=None, dilation_rate=1, padding: str = "valid",
                       data_format: str | None = None) -> Tensor:
    """The patches of ``size`` (int or (depth, height, width)) every ``strides`` voxels (default: ``size``) of
    volumes (N, D, H, W, C) or one volume (D, H, W, C): (N, D', H', W', pd*ph*pw*C)."""
    first = is_channels_first(data_format, "extract_patches_3d")
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"extract_patches_3d: padding must be 'valid' or 'same', got {padding!r}")
    size = _triple(size, "size", "extract_patches_3d")
    strides = _triple(strides if strides is not None else size, "strides", "extract_patches_3d")
    dilations = _triple(dilation_rate, "dilation_rate", "extract_patches_3d")
    x = knp.to_tensor(volumes, "volumes")
    if x.ndim not in (4, 5):
        raise ValueError(f"extract_patches_3d: Invalid volumes rank: expected rank 4 (single volume) or rank 5 "
                         f"(batch of volumes). Received input with shape: volumes.shape={tuple(x.shape)}")
    single = x.ndim == 4
    x = to_channels_last(x[None] if single else x, first, spatial=3)
    windows = [_window_indices(x.shape[1 + a], size[a], strides[a], dilations[a], padding) for a in range(3)]
    pads = [pads for _, pads in windows]
    if any(p for pair in pads for p in pair):
        x = knp.pad(x, ((0, 0), *pads, (0, 0)))
    n, channels = x.shape[0], x.shape[-1]
    for axis, (indices, _) in enumerate(windows, start=1):
        x = knp.take(x, indices.reshape(-1), axis=axis)          # each axis becomes (blocks * taps)
    counts = [indices.shape[0] for indices, _ in windows]
    x = _shape.reshape(x, (n, counts[0], size[0], counts[1], size[1], counts[2], size[2], channels))
    x = _shape.transpose(x, (0, 1, 3, 5, 2, 4, 6, 7))
    x = from_channels_last(_shape.reshape(x, (n, *counts, size[0] * size[1] * size[2] * channels)), first, 3)
    return x[0] if single else x


def reconstruct_patches(patches: TensorLike, size, output_size, strides=None, padding: str = "valid",
                        data_format: str | None = None) -> Tensor:
    """Images (N, H, W, C) from non-overlapping 2-D patches (N, gH, gW, ph*pw*C), or volumes from 3-D ones (``size``
    of length 3): the inverse of ``extract_patches``. 'valid' needs ``output_size == grid * size``; 'same' crops the
    centre of the patches' grid to ``output_size``. Only ``strides == size`` is supported, as in Keras."""
    first = is_channels_first(data_format, "reconstruct_patches")
    rank = 3 if not isinstance(size, numbers.Integral) and len(size) == 3 else 2
    size = _triple(size, "size", "reconstruct_patches", rank)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != rank:
        raise ValueError(f"reconstruct_patches: Invalid `output_size`: expected a tuple of {rank} sizes. Received: "
                         f"output_size={output_size!r}")
    if strides is not None and _triple(strides, "strides", "reconstruct_patches", rank) != size:
        raise NotImplementedError(f"`reconstruct_patches` supports only non-overlapping reconstruction (strides == "
                                  f"size). Got strides={strides} and size={size}.")
    if padding not in ("valid", "same"):
        raise ValueError(f"Invalid `padding`. Expected 'same' or 'valid'. Got: {padding}")
    x = knp.to_tensor(patches, "patches")
    if x.ndim not in (rank + 1, rank + 2):
        raise ValueError(f"`patches` has unexpected rank for {rank}D reconstruction. Expected {rank + 1} (unbatched) "
                         f"or {rank + 2} (batched). Received shape: {tuple(x.shape)}")
    single = x.ndim == rank + 1
    x = to_channels_last(x[None] if single else x, first, spatial=rank)
    per_patch = 1
    for s in size:
        per_patch *= s
    if x.shape[-1] % per_patch:
        raise ValueError(f"`patches` last dim ({x.shape[-1]}) is not divisible by prod(size) ({per_patch}).")
    n, grid, channels = x.shape[0], tuple(x.shape[1:1 + rank]), x.shape[-1] // per_patch
    x = _shape.reshape(x, (n, *grid, *size, channels))
    order = [0] + [v for a in range(rank) for v in (1 + a, 1 + rank + a)] + [1 + 2 * rank]
    x = _shape.reshape(_shape.transpose(x, tuple(order)), (n, *(g * s for g, s in zip(grid, size)), channels))
    for a, (g, s, target) in enumerate(zip(grid, size, output_size)):
        if padding == "valid" and g * s != target:
            raise ValueError(f"`padding='valid'` requires output_size to equal size * grid. Got output_size="
                             f"{tuple(output_size)}, grid={grid}, size={size}.")
        if padding == "same":
            if not g * s - s < target <= g * s:
                raise ValueError(f"For `padding='same'`, `output_size` ({target}) must be in the range "
                                 f"({g * s - s}, {g * s}] for a grid of {g} patches of {s}.")
            start = (g * s - target) // 2
            lead = (slice(None),) * (1 + a)
            x = x[lead + (slice(start, start + target),)]
    x = from_channels_last(x, first, spatial=rank)
    return x[0] if single else x


__all__ = ["extract_patches_3d", "reconstruct_patches"]
wrap_namespace(globals(), __all__, "keras.ops.image.")
