"""Sliding windows over NHWC arrays: padding the spatial axes and the strided view of one kernel tap, shared by the
convolution and pooling ops and their numba kernels.

>>> import numpy as np
>>> x = np.arange(16).reshape(1, 4, 4, 1)
>>> x[window_slice((2, 2), (1, 1), (2, 2))][0, :, :, 0]  # tap (1, 1) of each 2x2 window, stride 2
array([[ 5,  7],
       [13, 15]])
>>> pad_hw(x, ((1, 0), (0, 1))).shape
(1, 5, 5, 1)
"""
from __future__ import annotations

from chainrule import backend

Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


def pad_hw(x, pads: Pads, value=0.0):
    """Pad the H and W axes of an NHWC array (no copy when there is nothing to pad)."""
    if pads == ((0, 0), (0, 0)):
        return x
    return backend.extras_for(x).pad(x, ((0, 0), pads[0], pads[1], (0, 0)), value)


def window_slice(out_hw, offset, strides, dilations=(1, 1)):
    """The index that picks, for every output position, the input pixel at ``offset`` = (i, j) inside its window."""
    (oh, ow), (i, j), (sh, sw), (dh, dw) = out_hw, offset, strides, dilations
    return (slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw), slice(None))
