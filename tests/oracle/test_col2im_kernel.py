"""The numba col2im kernel (the conv input gradient's sum over kernel taps) against its NumPy version, bit for bit,
over strides, dilations and paddings; and backprop_input on both paths, for the whole batch and a chunk at a time."""
import numpy as np
import pytest

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import col2im
from chainrule.ops import conv as conv_module
from chainrule.ops.conv import backprop_input, out_size, resolve_padding

# (input shape NHWC, kernel (kh, kw), strides, dilations, padding)
GEOMETRIES = [
    ((2, 7, 6, 3), (3, 3), (1, 1), (1, 1), "same"),
    ((1, 9, 8, 2), (3, 2), (2, 2), (1, 1), "same"),  # stride 2: pixels between the windows get nothing
    ((2, 10, 9, 1), (2, 3), (1, 2), (2, 1), "valid"),  # dilated
    ((1, 6, 6, 4), (3, 3), (1, 1), (1, 1), ((2, 0), (1, 3))),  # explicit asymmetric padding
    ((3, 8, 8, 5), (2, 2), (3, 3), (1, 1), "valid"),  # stride > kernel: rows and columns read by no tap
]
IDS = [f"x{g[0]}-k{g[1]}-s{g[2]}-d{g[3]}-{g[4]}" for g in GEOMETRIES]


def _geometry(in_shape, k_hw, strides, dilations, padding):
    pads = resolve_padding(padding, in_shape[1:3], k_hw, strides, dilations, "test")
    out_hw = tuple(out_size(*args) for args in zip(in_shape[1:3], pads, k_hw, strides, dilations))
    return pads, out_hw


@pytest.mark.numpy_only("the numba kernel against its NumPy twin")
@pytest.mark.skipif(kernels.numba is None, reason="without numba the kernel is slow plain Python")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_shape, k_hw, strides, dilations, padding", GEOMETRIES, ids=IDS)
def test_sum_taps_kernel_equals_numpy(in_shape, k_hw, strides, dilations, padding, dtype):
    pads, out_hw = _geometry(in_shape, k_hw, strides, dilations, padding)
    rng = np.random.default_rng(sum(in_shape))
    taps = rng.standard_normal((k_hw[0] * k_hw[1], in_shape[0], *out_hw, in_shape[3])).astype(dtype)
    taps.flat[::7] = np.array([np.inf, -0.0, np.nan], dtype)[np.arange(taps.size)[::7] % 3]  # the same NaNs and zeros
    with np.errstate(invalid="ignore"):
        expected = col2im.sum_taps_numpy(taps, k_hw[1], in_shape, pads, strides, dilations)
        got = col2im.sum_taps_numba(taps, k_hw[1], in_shape, pads, strides, dilations)
    assert got.shape == expected.shape == in_shape and got.dtype == dtype
    assert got.tobytes() == np.ascontiguousarray(expected).tobytes()


def test_sum_taps_against_the_definition():
    """Each input pixel is the sum of the tap products at the outputs whose window holds it, tap by tap (on the
    current backend's arrays: the path every backend off NumPy takes)."""
    in_shape, k_hw, strides, dilations, padding = GEOMETRIES[2]
    pads, out_hw = _geometry(in_shape, k_hw, strides, dilations, padding)
    taps = np.random.default_rng(3).standard_normal((k_hw[0] * k_hw[1], in_shape[0], *out_hw, in_shape[3]))
    expected = np.zeros(in_shape)
    for t, b, p, q in np.ndindex(taps.shape[:4]):
        i, j = divmod(t, k_hw[1])
        r, s = p * strides[0] + i * dilations[0] - pads[0][0], q * strides[1] + j * dilations[1] - pads[1][0]
        if 0 <= r < in_shape[1] and 0 <= s < in_shape[2]:
            expected[b, r, s] += taps[t, b, p, q]
    got = col2im.sum_taps_numpy(backend.to_device(taps), k_hw[1], in_shape, pads, strides, dilations)
    np.testing.assert_allclose(backend.to_host(got), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.numpy_only("the numba kernel and the CPU's chunks against the NumPy sum")
@pytest.mark.parametrize("in_shape, k_hw, strides, dilations, padding", GEOMETRIES, ids=IDS)
def test_backprop_input_is_the_same_with_and_without_numba_and_in_chunks(monkeypatch, in_shape, k_hw, strides,
                                                                        dilations, padding):
    """numba kernel and NumPy sum: the same bits, for the whole batch at once and one image at a time; the chunked
    result equals the whole batch's to float32 rounding (BLAS sums a product's rows by the matrix's shape)."""
    pads, out_hw = _geometry(in_shape, k_hw, strides, dilations, padding)
    rng = np.random.default_rng(5)
    g = rng.standard_normal((in_shape[0], *out_hw, 4)).astype(np.float32)
    w = rng.standard_normal((*k_hw, in_shape[3], 4)).astype(np.float32)
    previous = kernels.enabled()
    results = {}
    try:
        for chunk_bytes in (conv_module.COL2IM_CHUNK_BYTES, 1):  # the whole batch here; one image per chunk
            monkeypatch.setattr(conv_module, "COL2IM_CHUNK_BYTES", chunk_bytes)
            for flag in (True, False):
                kernels.set_enabled(flag)
                results[chunk_bytes, flag] = np.ascontiguousarray(
                    backprop_input(g, w, in_shape, pads, strides, dilations))
    finally:
        kernels.set_enabled(previous)
    for chunk_bytes in (conv_module.COL2IM_CHUNK_BYTES, 1):
        assert results[chunk_bytes, True].tobytes() == results[chunk_bytes, False].tobytes()
    np.testing.assert_allclose(results[1, True], results[conv_module.COL2IM_CHUNK_BYTES, True], rtol=1e-5, atol=1e-5)
