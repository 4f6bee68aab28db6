"""The numba max-pool kernels against their NumPy versions (bit for bit) and a direct loop; the ops with the switch off
and on; and every test of test_pool_ops.py again on the other path (the numba one runs there by default)."""
import itertools

import numpy as np
import pytest
import test_pool_ops
from test_pool_ops import *  # noqa: F401,F403  (collected again here, under the `other_path` fixture below)

import chainrule as cr
from chainrule.backend import kernels
from chainrule.backend.kernels import pooling
from chainrule.ops.conv import out_size, resolve_padding
from chainrule.ops.pool import avg_pool2d, max_pool2d


@pytest.fixture(autouse=True)
def other_path(request):
    """Tests imported from test_pool_ops run on the path their own module does not take; tests of this module keep
    the default and switch for themselves."""
    before = kernels.enabled()
    if request.function.__module__ == test_pool_ops.__name__:
        kernels.set_enabled(not before)
    yield
    kernels.set_enabled(before)


def _geometry(hw, pool, strides, padding):
    pads = resolve_padding(padding, hw, pool, strides, (1, 1), "test", explicit_ok=False)
    return pads, tuple(out_size(size, pad, k, s) for size, pad, k, s in zip(hw, pads, pool, strides))


def _values(kind, shape, dtype, rng):
    if kind == "ties":  # like ReLU zeros or saturated pixels: most windows hold several equal maxima
        return rng.integers(0, 2, shape).astype(dtype)
    if kind == "extremes":
        return rng.choice(np.array([0.0, -0.0, 1.0, -np.inf, np.inf, 3e38, -3e38, np.nan], dtype), shape)
    return rng.standard_normal(shape).astype(dtype)


def _loop_reference(x, g, u, pool, strides, pads, out_hw):
    """The definitions, one window at a time: y, argmax (first maximum, -inf padding), scatter of g, gather of u."""
    n, h, w, c = x.shape
    (kh, kw), (sh, sw), (top, left) = pool, strides, (pads[0][0], pads[1][0])
    y = np.empty((n, *out_hw, c), x.dtype)
    argmax = np.empty(y.shape, np.int64)
    dx = np.zeros(x.shape, g.dtype)
    gathered = np.zeros(y.shape, u.dtype)
    for b, p, q, ch in np.ndindex(y.shape):
        window = [(i, j, p * sh + i - top, q * sw + j - left) for i in range(kh) for j in range(kw)]
        values = [x[b, r, s, ch] if 0 <= r < h and 0 <= s < w else -np.inf for _, _, r, s in window]
        if any(np.isnan(values)):
            continue  # NaN: checked against the NumPy version only
        k = int(np.argmax(values))  # np.argmax returns the first maximum
        _, _, r, s = window[k]
        y[b, p, q, ch], argmax[b, p, q, ch] = values[k], k
        if 0 <= r < h and 0 <= s < w:
            dx[b, r, s, ch] += g[b, p, q, ch]
            gathered[b, p, q, ch] = u[b, r, s, ch]
    return y, argmax, dx, gathered


POOLS = [(2, 2), (3, 3), (2, 3)]
STRIDES = [(1, 1), (2, 2), (3, 3), (1, 2)]
SHAPES = [(1, 7, 9, 1), (5, 5, 6, 3), (2, 9, 7, 32)]  # (N, H, W, C): odd sizes, channels 1 / 3 / 32, batch 1 / 5


@pytest.mark.numpy_only("the numba kernels against their NumPy twins")
@pytest.mark.skipif(kernels.numba is None, reason="without numba the kernels are slow plain Python")
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", STRIDES, ids=[f"s{s}" for s in STRIDES])
@pytest.mark.parametrize("pool", POOLS, ids=[f"p{p}" for p in POOLS])
def test_numba_kernels_equal_numpy_and_the_definition(pool, strides, padding):
    rng = np.random.default_rng(sum(pool) * 10 + sum(strides))
    for shape, kind, dtype in itertools.product(SHAPES, ["ties", "normal", "extremes"], [np.float32, np.float64]):
        if dtype == np.float64 and shape[3] != 3:
            continue  # float64 once per geometry is enough
        pads, out_hw = _geometry(shape[1:3], pool, strides, padding)
        x = _values(kind, shape, dtype, rng)
        y, argmax = pooling.max_pool_numpy(x, pool, strides, pads, out_hw)
        y_fast, argmax_fast = pooling.max_pool_numba(x, pool, strides, pads, out_hw)
        np.testing.assert_array_equal(y_fast, y)  # NaN == NaN here; a zero maximum's sign is np.maximum's choice
        np.testing.assert_array_equal(argmax_fast, argmax)
        assert argmax.dtype == argmax_fast.dtype == np.uint8 and y_fast.dtype == dtype

        g = _values("ties" if kind == "ties" else "normal", y.shape, dtype, rng)
        u = _values("normal", shape, dtype, rng)
        dx = pooling.max_pool_scatter_numpy(g, argmax, shape, pool, strides, pads)
        dx_fast = pooling.max_pool_scatter_numba(g, argmax, shape, pool, strides, pads)
        assert dx_fast.tobytes() == dx.tobytes()  # bit for bit, signed zeros included: the same sums in the same order
        gathered = pooling.max_pool_gather_numpy(u, argmax, pool, strides, pads)
        assert pooling.max_pool_gather_numba(u, argmax, pool, strides, pads).tobytes() == gathered.tobytes()

        if kind != "extremes" and shape[3] <= 3:  # the loop is slow; it needs no more than a few channels
            ref_y, ref_argmax, ref_dx, ref_gathered = _loop_reference(x, g, u, pool, strides, pads, out_hw)
            np.testing.assert_array_equal(y, ref_y)
            np.testing.assert_array_equal(argmax, ref_argmax)
            np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-6)  # overlapping windows: another sum order
            np.testing.assert_array_equal(gathered, ref_gathered)


@pytest.mark.numpy_only("numba's CPU threads")
def test_kernels_do_not_depend_on_the_thread_count(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(pooling, "PARALLEL_MIN_ELEMENTS", 0)  # parallel even on these small arrays
    rng = np.random.default_rng(9)
    x = rng.integers(0, 3, (7, 11, 10, 5)).astype(np.float32)
    g = rng.standard_normal((7, 11, 10, 5)).astype(np.float32)
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            y, argmax = pooling.max_pool_numba(x, (3, 3), (1, 1), ((1, 1), (1, 1)), (11, 10))
            results.append((y, argmax, pooling.max_pool_scatter_numba(g, argmax, x.shape, (3, 3), (1, 1),
                                                                      ((1, 1), (1, 1)))))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for one, many in zip(*results):
        assert one.tobytes() == many.tobytes()


@pytest.mark.numpy_only("the numba kernel against its NumPy twin on NumPy arrays")
def test_windows_larger_than_256_taps_use_a_wider_index():
    x = np.random.default_rng(10).standard_normal((2, 17, 17, 3)).astype(np.float32)
    y, argmax = pooling.max_pool_numpy(x, (17, 17), (1, 1), ((0, 0), (0, 0)), (1, 1))
    y_fast, argmax_fast = pooling.max_pool_numba(x, (17, 17), (1, 1), ((0, 0), (0, 0)), (1, 1))
    np.testing.assert_array_equal(argmax, x.reshape(2, -1, 3).argmax(axis=1)[:, None, None, :])
    np.testing.assert_array_equal(argmax_fast, argmax)
    np.testing.assert_array_equal(y_fast, y)


def test_scatter_leaves_zeros_between_windows_when_the_strides_tile_the_input():
    """Stride > pool with out * stride == size: the gaps between windows are zeros (not uninitialised memory)."""
    x = cr.Tensor(np.arange(1.0, 73.0).reshape(1, 9, 8, 1), requires_grad=True)
    for flag in (False, True):
        kernels.set_enabled(flag)
        np.empty((1, 9, 8, 1))[...] = np.nan  # leave NaN in the memory a careless np.empty would hand out next
        (dx,) = cr.grad(max_pool2d(x, (2, 3), (3, 4)).sum(), [x])
        expected = np.zeros((9, 8))
        expected[[1, 1, 4, 4, 7, 7], [2, 6, 2, 6, 2, 6]] = 1  # each window's bottom-right pixel is its maximum
        np.testing.assert_array_equal(dx.numpy()[0, :, :, 0], expected)


@pytest.mark.numpy_only("the window-major numba kernels against their NumPy twins")
@pytest.mark.skipif(kernels.numba is None, reason="without numba the kernels are slow plain Python")
@pytest.mark.parametrize("taps", [4, 6, 1])
@pytest.mark.parametrize("kind", ["ties", "normal", "extremes"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_major_kernels_equal_numpy_and_max_pool(taps, kind, dtype):
    """tap_max / tap_spread (blocks of one pixel per window) against their NumPy versions, bit for bit, and against
    max_pool / its scatter on the same pixels laid out as images (windows of 2 x taps/2, or 1x1)."""
    rng = np.random.default_rng(taps * 7 + len(kind))
    pool = (1, 1) if taps == 1 else (2, taps // 2)
    n, oh, ow, c = 3, 4, 5, 6
    z = _values(kind, (taps, n * oh * ow, c), dtype, rng)
    y, argmax = (np.empty((n * oh * ow, c), dtype), np.empty((n * oh * ow, c), np.uint8))
    y_np, argmax_np = np.empty_like(y), np.empty_like(argmax)
    pooling.tap_max(z, y, argmax)
    pooling.tap_max_numpy(z, y_np, argmax_np)
    np.testing.assert_array_equal(y, y_np)
    np.testing.assert_array_equal(argmax, argmax_np)

    images = z.reshape(*pool, n, oh, ow, c).transpose(2, 3, 0, 4, 1, 5).reshape(n, oh * pool[0], ow * pool[1], c)
    y_pool, argmax_pool = pooling.max_pool_numpy(images, pool, pool, ((0, 0), (0, 0)), (oh, ow))
    np.testing.assert_array_equal(y.reshape(y_pool.shape), y_pool)
    np.testing.assert_array_equal(argmax.reshape(argmax_pool.shape), argmax_pool)

    g = _values("normal" if kind == "ties" else kind, y.shape, dtype, rng)
    gz, gz_np = np.empty(z.shape, dtype), np.empty(z.shape, dtype)
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN on the other taps, in every version
        pooling.tap_spread(g, argmax, gz)
        pooling.tap_spread_numpy(g, argmax, gz_np)
        scattered = pooling.max_pool_scatter_numpy(g.reshape(y_pool.shape), argmax_pool, images.shape, pool, pool,
                                                   ((0, 0), (0, 0)))
    assert gz.tobytes() == gz_np.tobytes()
    as_images = gz.reshape(*pool, n, oh, ow, c).transpose(2, 3, 0, 4, 1, 5).reshape(images.shape)
    assert as_images.tobytes() == scattered.tobytes()


# --- the ops with the switch off and on -------------------------------------------------------------------------------
def _forward_backward_second_order(pool, x, w, pool_size, strides, padding):
    """y, dL/dx and d(sum (dL/dx)²)/dx for L = sum(pool(x) * w): every pool op and both backward ops."""
    xt = cr.Tensor(x, requires_grad=True)
    y = pool(xt, pool_size, strides, padding)
    (dx,) = cr.grad((y * w).sum(), [xt], create_graph=True)
    (ddx,) = cr.grad((dx * dx * xt).sum(), [xt])
    return y.numpy(), dx.numpy(), ddx.numpy()


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "valid"), (2, None, "same"), (3, 2, "same"),
                                                         (3, 1, "valid"), ((2, 3), (1, 2), "same")])
def test_ops_give_the_same_bits_with_and_without_numba(pool, pool_size, strides, padding):
    rng = np.random.default_rng(11)
    x = np.maximum(rng.standard_normal((3, 9, 7, 4)), 0).astype(np.float32)  # after a ReLU: ties at zero
    y_shape = pool(x, pool_size, strides, padding).shape
    w = rng.standard_normal(y_shape).astype(np.float32)
    results = []
    for flag in (False, True):
        kernels.set_enabled(flag)
        results.append(_forward_backward_second_order(pool, x, w, pool_size, strides, padding))
    for numpy_result, numba_result in zip(*results):
        assert numba_result.dtype == np.float32
        assert numba_result.tobytes() == numpy_result.tobytes()


@pytest.mark.numpy_only("float16, which the array API lacks")
def test_float16_takes_the_numpy_path():
    """numba has no float16 arrays: the ops fall back to NumPy for it, with the switch on."""
    x = cr.Tensor(np.random.default_rng(12).standard_normal((2, 5, 5, 3)).astype(np.float16), requires_grad=True)
    kernels.set_enabled(True)
    y = max_pool2d(x, 2, 2, "same")
    (dx,) = cr.grad((y * y).sum(), [x])
    assert y.dtype == dx.dtype == np.float16
    kernels.set_enabled(False)
    y = max_pool2d(x, 2, 2, "same")
    assert cr.grad((y * y).sum(), [x])[0].numpy().tobytes() == dx.numpy().tobytes()
