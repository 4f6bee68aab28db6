"""keras.ops' NumPy functions added in session 10 (arrays, bitwise, counting, elementwise, NaN reductions,
quantiles, windows): values against NumPy, Keras's dtypes, gradients against finite differences, clear errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops

RNG = np.random.default_rng(0)
F = RNG.standard_normal((3, 4)).astype("float32")
F64 = RNG.standard_normal((3, 4))
NANS = F64.copy()
NANS[0, 1] = NANS[2, 0] = NANS[2, 3] = np.nan
I = RNG.integers(0, 20, (3, 4)).astype("int32")
V = RNG.standard_normal(5)

# (keras call, NumPy call): the values must agree (NaNs in the same places)
VALUES = {
    "cbrt": (lambda: ops.cbrt(F), lambda: np.cbrt(F)),
    "sinc": (lambda: ops.sinc(np.array([0.0, 0.5, 1.5], "float32")), lambda: np.sinc(np.array([0.0, 0.5, 1.5]))),
    "logaddexp2": (lambda: ops.logaddexp2(F64, F64[::-1]), lambda: np.logaddexp2(F64, F64[::-1])),
    "ldexp": (lambda: ops.ldexp(F, I), lambda: np.ldexp(F, I)),
    "fmax": (lambda: ops.fmax(NANS, NANS[::-1]), lambda: np.fmax(NANS, NANS[::-1])),
    "fmin": (lambda: ops.fmin(NANS, NANS[::-1]), lambda: np.fmin(NANS, NANS[::-1])),
    "fmod_float": (lambda: ops.fmod(F64 * 5, 1.5), lambda: np.fmod(F64 * 5, 1.5)),
    "fmod_int": (lambda: ops.fmod(I - 10, 3), lambda: np.fmod(I - 10, 3)),
    "heaviside": (lambda: ops.heaviside(np.array([-1.0, 0.0, 2.0]), 0.5), lambda: np.heaviside([-1.0, 0.0, 2.0], 0.5)),
    "nextafter": (lambda: ops.nextafter(F, 0.0), lambda: np.nextafter(F, np.float32(0))),
    "i0": (lambda: ops.i0(F64 * 3), lambda: np.i0(F64 * 3)),
    "real": (lambda: ops.real(np.array([1 + 2j])), lambda: np.array([1.0])),
    "imag": (lambda: ops.imag(np.array([1 + 2j])), lambda: np.array([2.0])),
    "conj": (lambda: ops.conj(np.array([1 + 2j])), lambda: np.array([1 - 2j])),
    "conjugate": (lambda: ops.conjugate(F), lambda: F),
    "angle": (lambda: ops.angle(np.array([1j, -1.0 + 0j])), lambda: np.angle(np.array([1j, -1.0 + 0j]))),
    "isreal": (lambda: ops.isreal(np.array([1 + 0j, 1j])), lambda: np.isreal(np.array([1 + 0j, 1j]))),
    "bitwise_and": (lambda: ops.bitwise_and(I, 6), lambda: np.bitwise_and(I, 6)),
    "bitwise_or": (lambda: ops.bitwise_or(I, I[::-1]), lambda: np.bitwise_or(I, I[::-1])),
    "bitwise_xor": (lambda: ops.bitwise_xor(I, I[::-1]), lambda: np.bitwise_xor(I, I[::-1])),
    "bitwise_invert": (lambda: ops.bitwise_invert(I), lambda: np.invert(I)),
    "bitwise_not": (lambda: ops.bitwise_not(np.array([True, False])), lambda: np.array([False, True])),
    "left_shift": (lambda: ops.left_shift(I, 2), lambda: np.left_shift(I, 2)),
    "bitwise_right_shift": (lambda: ops.bitwise_right_shift(I, I % 3), lambda: np.right_shift(I, I % 3)),
    "gcd": (lambda: ops.gcd(I, 12), lambda: np.gcd(I, 12)),
    "lcm": (lambda: ops.lcm(I, 4), lambda: np.lcm(I, 4)),
    "nansum": (lambda: ops.nansum(NANS, axis=1), lambda: np.nansum(NANS, axis=1)),
    "nanprod": (lambda: ops.nanprod(NANS, axis=0, keepdims=True), lambda: np.nanprod(NANS, axis=0, keepdims=True)),
    "nanmean": (lambda: ops.nanmean(NANS, axis=1), lambda: np.nanmean(NANS, axis=1)),
    "nanvar": (lambda: ops.nanvar(NANS), lambda: np.nanvar(NANS)),
    "nanstd": (lambda: ops.nanstd(NANS, axis=0), lambda: np.nanstd(NANS, axis=0)),
    "nanmax": (lambda: ops.nanmax(NANS, axis=1), lambda: np.nanmax(NANS, axis=1)),
    "nanmin": (lambda: ops.nanmin(NANS, axis=(0, 1)), lambda: np.nanmin(NANS, axis=(0, 1))),
    "nanargmax": (lambda: ops.nanargmax(NANS, axis=1), lambda: np.nanargmax(NANS, axis=1)),
    "nanargmin": (lambda: ops.nanargmin(NANS), lambda: np.nanargmin(NANS)),
    "nancumsum": (lambda: ops.nancumsum(NANS, axis=1), lambda: np.nancumsum(NANS, axis=1)),
    "nancumprod": (lambda: ops.nancumprod(NANS), lambda: np.nancumprod(NANS)),
    "nanmedian": (lambda: ops.nanmedian(NANS, axis=0), lambda: np.nanmedian(NANS, axis=0)),
    "nanquantile": (lambda: ops.nanquantile(NANS, [0.1, 0.9], axis=1), lambda: np.nanquantile(NANS, [0.1, 0.9], 1)),
    "nanpercentile": (lambda: ops.nanpercentile(NANS, 30), lambda: np.nanpercentile(NANS, 30)),
    "quantile": (lambda: ops.quantile(F64, [0.0, 0.3, 1.0], axis=0, keepdims=True),
                 lambda: np.quantile(F64, [0.0, 0.3, 1.0], axis=0, keepdims=True)),
    "percentile": (lambda: ops.percentile(F64, 75, axis=(0, 1)), lambda: np.percentile(F64, 75, axis=(0, 1))),
    "quantile_nan": (lambda: ops.quantile(NANS, 0.5, axis=1), lambda: np.quantile(NANS, 0.5, axis=1)),
    "bartlett": (lambda: ops.bartlett(7), lambda: np.bartlett(7)),
    "blackman": (lambda: ops.blackman(6), lambda: np.blackman(6)),
    "hamming": (lambda: ops.hamming(5), lambda: np.hamming(5)),
    "hanning": (lambda: ops.hanning(5), lambda: np.hanning(5)),
    "kaiser": (lambda: ops.kaiser(6, 14.0), lambda: np.kaiser(6, 14.0)),
    "array": (lambda: ops.array([[1, 2]], "float32"), lambda: np.array([[1, 2]], "float32")),
    "view": (lambda: ops.view(F, "int32"), lambda: F.view("int32")),
    "column_stack": (lambda: ops.column_stack([V, V * 2]), lambda: np.column_stack([V, V * 2])),
    "dstack": (lambda: ops.dstack([F, F]), lambda: np.dstack([F, F])),
    "diagflat": (lambda: ops.diagflat(I[:2, :2], k=-1), lambda: np.diagflat(I[:2, :2], k=-1)),
    "diff": (lambda: ops.diff(F64, n=2, axis=1), lambda: np.diff(F64, n=2, axis=1)),
    "diff_bool": (lambda: ops.diff(np.array([True, True, False])), lambda: np.diff(np.array([True, True, False]))),
    "kron": (lambda: ops.kron(F64[:2, :2], F64[1:, 1:3]), lambda: np.kron(F64[:2, :2], F64[1:, 1:3])),
    "kron_ranks": (lambda: ops.kron(V[:2], F64), lambda: np.kron(V[:2], F64)),
    "cross3": (lambda: ops.cross(F64[:, :3], F64[:, 1:]), lambda: np.cross(F64[:, :3], F64[:, 1:])),
    "cross_axis": (lambda: ops.cross(F64[:, :3].T, F64[:, 1:].T, axis=0), lambda: np.cross(F64[:, :3].T,
                                                                                         F64[:, 1:].T, axis=0)),
    "cross_23": (lambda: ops.cross(F64[:, :2], F64[:, 1:]), lambda: np.cross(np.pad(F64[:, :2], ((0, 0), (0, 1))),
                                                                              F64[:, 1:])),
    "rot90": (lambda: ops.rot90(I, k=1), lambda: np.rot90(I, k=1)),
    "rot90_k3": (lambda: ops.rot90(F64[None], k=3, axes=(1, 2)), lambda: np.rot90(F64[None], k=3, axes=(1, 2))),
    "rot90_k2": (lambda: ops.rot90(F64, k=-2), lambda: np.rot90(F64, k=-2)),
    "vander": (lambda: ops.vander(np.array([1, 2, 3])), lambda: np.vander(np.array([1, 2, 3]))),
    "vander_inc": (lambda: ops.vander(V, 3, increasing=True), lambda: np.vander(V, 3, increasing=True)),
    "trapezoid": (lambda: ops.trapezoid(F64, axis=0), lambda: np.trapezoid(F64, axis=0)),
    "trapezoid_x": (lambda: ops.trapezoid(F64, x=np.array([0.0, 1.0, 3.0, 6.0])),
                    lambda: np.trapezoid(F64, x=np.array([0.0, 1.0, 3.0, 6.0]))),
    "geomspace": (lambda: ops.geomspace(1.0, 1000.0, 4), lambda: np.geomspace(1.0, 1000.0, 4)),
    "logspace": (lambda: ops.logspace(0.0, 2.0, 3, base=2.0), lambda: np.logspace(0.0, 2.0, 3, base=2.0)),
    "slogdet": (lambda: ops.slogdet(F64[:3, :3])[1], lambda: np.linalg.slogdet(F64[:3, :3])[1]),
    "bincount": (lambda: ops.bincount(I.ravel(), minlength=25), lambda: np.bincount(I.ravel(), minlength=25)),
    "bincount_weights": (lambda: ops.bincount(I.ravel(), weights=F.ravel()),
                         lambda: np.bincount(I.ravel(), weights=F.ravel())),
    "bincount_2d": (lambda: ops.bincount(I), lambda: np.stack([np.bincount(r, minlength=I.max() + 1) for r in I])),
    "digitize": (lambda: ops.digitize(F, np.array([-1.0, 0.0, 1.0])), lambda: np.digitize(F, [-1.0, 0.0, 1.0])),
    "histogram": (lambda: ops.histogram(V, bins=3)[0], lambda: np.histogram(V, bins=3)[0]),
    "histogram_edges": (lambda: ops.histogram(V, bins=4, range=(-2, 2))[1], lambda: np.linspace(-2, 2, 5)),
    "searchsorted": (lambda: ops.searchsorted(np.sort(V), F64.ravel(), side="right"),
                     lambda: np.searchsorted(np.sort(V), F64.ravel(), side="right")),
    "unique": (lambda: ops.unique(I % 5), lambda: np.unique(I % 5)),
    "unique_counts": (lambda: ops.unique(I % 5, return_counts=True)[1], lambda: np.unique(I % 5,
                                                                                          return_counts=True)[1]),
    "unique_size": (lambda: ops.unique(np.array([3, 1, 3]), size=4, fill_value=-1), lambda: np.array([1, 3, -1, -1])),
    "isin": (lambda: ops.isin(I, [1, 2, 3]), lambda: np.isin(I, [1, 2, 3])),
    "isin_invert": (lambda: ops.isin(I, [1, 2, 3], invert=True), lambda: np.isin(I, [1, 2, 3], invert=True)),
    "unravel_index": (lambda: ops.stack(ops.unravel_index(np.array([5, 11]), (3, 4))),
                      lambda: np.stack(np.unravel_index([5, 11], (3, 4)))),
    "corrcoef": (lambda: ops.corrcoef(F64), lambda: np.corrcoef(F64)),
    "correlate_valid": (lambda: ops.correlate(V, V[:3]), lambda: np.correlate(V, V[:3])),
    "correlate_same": (lambda: ops.correlate(V, V[:2], mode="same"), lambda: np.correlate(V, V[:2], mode="same")),
    "correlate_full": (lambda: ops.correlate(V[:3], V, mode="full"), lambda: np.correlate(V[:3], V, mode="full")),
    "correlate_same_odd": (lambda: ops.correlate(V, V[:3], mode="same"), lambda: np.correlate(V, V[:3], "same")),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_numpy(name):
    ours, theirs = VALUES[name]
    out = ours()
    np.testing.assert_allclose(np.asarray(out.numpy()), theirs(), rtol=1e-6, atol=1e-7, equal_nan=True)


DTYPES = [
    (lambda: ops.cbrt(np.array([8], "int32")), "float32"),
    (lambda: ops.cbrt(np.array([8], "int64")), "float64"),
    (lambda: ops.heaviside(np.array([1], "int32"), np.array([0], "int32")), "float32"),
    (lambda: ops.nanmean(np.array([1, 2], "int32")), "float32"),
    (lambda: ops.nansum(np.array([1, 2], "int8")), "int32"),
    (lambda: ops.nanargmax(F), "int32"),
    (lambda: ops.quantile(np.array([1, 2, 3], "int32"), 0.5), "float32"),
    (lambda: ops.hamming(4), "float32"),
    (lambda: ops.bincount(np.array([0, 1])), "int32"),
    (lambda: ops.searchsorted(np.array([1.0, 2.0]), np.array([1.5])), "int32"),
    (lambda: ops.digitize(np.array([1.0]), np.array([0.0, 2.0])), "int32"),
    (lambda: ops.argpartition(F, 1), "int32"),
    (lambda: ops.vander(np.array([2, 3], "int32")), "int32"),
    (lambda: ops.corrcoef(np.array([[1, 2, 4], [2, 2, 3]], "int32")), "float32"),
    (lambda: ops.correlate(np.array([1, 2], "int64"), np.array([1], "int64")), "float64"),
    (lambda: ops.kron(np.ones(2, "int32"), np.ones(2, "float32")), "float64"),
    (lambda: ops.geomspace(1, 10, 3), "float32"),
    (lambda: ops.gcd(np.array([4], "int16"), np.array([6], "int16")), "int16"),
]


@pytest.mark.parametrize("index", range(len(DTYPES)))
def test_dtypes_follow_keras(index):
    call, dtype = DTYPES[index]
    assert call().dtype == np.dtype(dtype)


def test_argpartition_puts_the_kth_value_in_place():
    x = RNG.standard_normal((3, 7))
    idx = ops.argpartition(x, 3, axis=1).numpy()
    parted = np.take_along_axis(x, idx, axis=1)
    np.testing.assert_array_equal(parted[:, 3], np.sort(x, axis=1)[:, 3])
    assert (parted[:, :3] <= parted[:, 3:4]).all() and (parted[:, 4:] >= parted[:, 3:4]).all()


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_methods_match_numpy(method):
    x = RNG.standard_normal((4, 9))
    q = [0.0, 0.2, 0.5, 0.77, 1.0]
    np.testing.assert_allclose(ops.quantile(x, q, axis=1, method=method).numpy(),
                               np.quantile(x, q, axis=1, method=method), rtol=1e-12)
    np.testing.assert_allclose(ops.nanpercentile(NANS, 40, axis=1, method=method).numpy(),
                               np.nanpercentile(NANS, 40, axis=1, method=method), rtol=1e-12)


GRADIENTS = {
    "sinc": (ops.sinc, [np.array([-1.3, 0.0, 0.4, 2.2])]),
    "logaddexp2": (ops.logaddexp2, [V, V[::-1].copy()]),
    "ldexp": (lambda x: ops.ldexp(x, np.array([1, -2, 3, 0, 5])), [V]),
    "fmax": (ops.fmax, [V, V[::-1].copy()]),
    "fmod": (ops.fmod, [V * 5, np.array([1.5, -2.0, 0.7, 3.0, 1.1])]),
    "nanmean": (lambda x: ops.nanmean(ops.where(ops.greater(x, 1.5), np.nan, x), axis=1), [F64]),
    "nanvar": (lambda x: ops.nanvar(ops.where(ops.greater(x, 1.0), np.nan, x), axis=0), [F64]),
    "nanmax": (lambda x: ops.nanmax(x, axis=1), [F64]),
    "nancumprod": (lambda x: ops.nancumprod(x, axis=1), [F64]),
    "quantile": (lambda x: ops.quantile(x, [0.3, 0.6], axis=1), [F64]),
    "nanmedian": (lambda x: ops.nanmedian(ops.where(ops.greater(x, 1.0), np.nan, x), axis=1), [F64]),
    "diff": (lambda x: ops.diff(x, 2), [F64]),
    "kron": (ops.kron, [F64[:2, :2], F64[:2, 1:]]),
    "cross": (ops.cross, [F64[:, :3], F64[:, 1:]]),
    "rot90": (lambda x: ops.rot90(x, 3), [F64]),
    "vander": (lambda x: ops.vander(x, 4), [V]),
    "trapezoid": (lambda y, x: ops.trapezoid(y, x, axis=0), [F64, np.array([0.0, 1.0, 2.5])]),
    "corrcoef": (ops.corrcoef, [F64]),
    "correlate": (lambda a, b: ops.correlate(a, b, "full"), [V, V[:3].copy()]),
    "bincount": (lambda w: ops.bincount(np.array([0, 2, 2, 1, 0]), weights=w), [V]),
    "column_stack": (lambda a, b: ops.column_stack([a, b]), [V, V * 2]),
    "slogdet": (lambda x: ops.slogdet(x)[1], [F64[:3, :3] + 3 * np.eye(3)]),
    "cbrt": (ops.cbrt, [V]),
    "i0": (ops.i0, [V]),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients_match_finite_differences(name):
    fn, args = GRADIENTS[name]
    check_gradients(fn, *args)


def test_nanmax_gives_nan_for_an_all_nan_row_and_no_gradient_to_nans():
    x = cr.Tensor(np.array([[np.nan, np.nan], [1.0, np.nan]]), requires_grad=True)
    out = ops.nanmax(x, axis=1)
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 1.0
    (g,) = cr.grad(ops.nansum(x), [x])
    np.testing.assert_array_equal(g.numpy(), [[0.0, 0.0], [1.0, 0.0]])


def test_vectorize_loops_with_and_without_a_signature():
    dot = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4,))
    np.testing.assert_allclose(dot(a, b).numpy(), a @ b, rtol=1e-12)
    clipped = ops.vectorize(lambda x, top: ops.minimum(x, top), excluded={1})
    np.testing.assert_allclose(clipped(F64, 0.5).numpy(), np.minimum(F64, 0.5))
    x = cr.Tensor(a, requires_grad=True)
    (g,) = cr.grad(ops.sum(dot(x, b)), [x])
    np.testing.assert_allclose(g.numpy(), np.broadcast_to(b, a.shape))
    pair = ops.vectorize(lambda v: (ops.max(v), ops.min(v)), signature="(n)->(),()")
    top, bottom = pair(a)
    np.testing.assert_allclose(top.numpy(), a.max(-1))
    np.testing.assert_allclose(bottom.numpy(), a.min(-1))


def test_splits_match_numpy():
    x = np.arange(24).reshape(2, 3, 4)
    for ours, theirs in ((ops.hsplit(x, 3), np.hsplit(x, 3)), (ops.vsplit(x, [1]), np.vsplit(x, [1])),
                         (ops.dsplit(x, 2), np.dsplit(x, 2)), (ops.hsplit(np.arange(6), 2), np.hsplit(np.arange(6),
                                                                                                      2))):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            np.testing.assert_array_equal(o.numpy(), t)


def test_i0_gradient_is_i1():
    x = cr.Tensor(V, requires_grad=True)
    (g,) = cr.grad(ops.sum(ops.i0(x)), [x])
    np.testing.assert_allclose(g.numpy(), torch.special.i1(torch.tensor(V)).numpy(), rtol=1e-12)


ERRORS = [
    (lambda: ops.bitwise_and(F, 1), TypeError, "must hold integers"),
    (lambda: ops.left_shift(np.array([True]), 1), TypeError, "must hold integers"),
    (lambda: ops.ldexp(F, F), TypeError, "ldexp exponent must be an integer type"),
    (lambda: ops.quantile(F, 1.5), ValueError, "`q` must be"),
    (lambda: ops.percentile(F, 50, method="cubic"), ValueError, "Invalid `method`"),
    (lambda: ops.hamming(np.ones(3)), ValueError, "the window's length"),
    (lambda: ops.bincount(np.array([-1, 2])), ValueError, "non-negative"),
    (lambda: ops.bincount(F), TypeError, "non-negative integers"),
    (lambda: ops.histogram(F), ValueError, "must be 1-dimensional"),
    (lambda: ops.searchsorted(F, 1.0), ValueError, "only supports 1-D sorted sequences"),
    (lambda: ops.searchsorted(V, 1.0, side="middle"), ValueError, "`side` must be"),
    (lambda: ops.cross(F64, F64), ValueError, "2 or 3-dimensional vectors"),
    (lambda: ops.rot90(V), ValueError, "at least 2 dimensions"),
    (lambda: ops.rot90(F, axes=(1, 1)), ValueError, "Invalid axes"),
    (lambda: ops.vsplit(V, 2), ValueError, "vsplit only works on arrays of 2 or more dimensions"),
    (lambda: ops.diff(F, n=-1), ValueError, "order `n`"),
    (lambda: ops.view(np.ones(3, "int8"), "int32"), ValueError, "cannot be viewed"),
    (lambda: ops.correlate(F, V), ValueError, "must be 1-D"),
    (lambda: ops.unravel_index(np.array([12]), (3, 4)), ValueError, "out of bounds"),
    (lambda: ops.geomspace(0.0, 1.0), ValueError, "non-zero"),
    (lambda: ops.vectorize(lambda a: a, signature="(n)")(V), ValueError, "signature"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_bad_arguments_get_clear_errors(index):
    call, error, message = ERRORS[index]
    with pytest.raises(error, match=message):
        call()
