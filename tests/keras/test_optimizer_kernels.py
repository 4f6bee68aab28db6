"""Each optimizer's NumPy formula (beside it in chainrule/keras/optimizers/) against its fused numba kernel
(chainrule/backend/kernels/optim.py), bit for bit (float32 and float64, small and large variables, every option);
the optimizers with the switch off and on; and every test of test_optimizers.py again on the other path (the numba
one runs there by default)."""
import numpy as np
import pytest
import test_optimizers
from test_optimizers import *  # noqa: F401,F403  (collected again here, under the `other_path` fixture below)

import chainrule as cr
from chainrule.backend import kernels
from chainrule.backend.kernels import optim
from chainrule.keras import optimizers, schedules
from chainrule.keras.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from chainrule.keras.optimizers.adadelta import adadelta_numpy
from chainrule.keras.optimizers.adagrad import adagrad_numpy
from chainrule.keras.optimizers.adam import adam_numpy
from chainrule.keras.optimizers.adamax import adamax_numpy
from chainrule.keras.optimizers.ftrl import ftrl_numpy
from chainrule.keras.optimizers.lion import lion_numpy
from chainrule.keras.optimizers.nadam import nadam_numpy
from chainrule.keras.optimizers.rmsprop import rmsprop_numpy
from chainrule.keras.optimizers.sgd import sgd_numpy

SMALL, LARGE = (7, 5), (3 * 2 ** 16 + 3,)  # a matrix; a long vector with a ragged end for the vectorized loop
STEPS = {SMALL: 20, LARGE: 5}


def _assert_same_bits(got, expected):
    """Equal bit for bit, except that a NaN may carry another sign or payload (NumPy's loops and the kernels' scalar
    code may propagate different NaNs; no result depends on which)."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(got), nan)
    assert got[~nan].tobytes() == expected[~nan].tobytes()


@pytest.fixture(autouse=True)
def other_path(request):
    """Tests imported from test_optimizers run on the path their own module does not take; tests of this module
    keep the default and switch for themselves."""
    before = kernels.enabled()
    if request.function.__module__ == test_optimizers.__name__:
        kernels.set_enabled(not before)
    yield
    kernels.set_enabled(before)


# --- each kernel against its NumPy formula ----------------------------------------------------------------------------
# name: (NumPy formula, numba kernel, slots given (None where the option is off), constants after the slots)
KERNEL_CASES = {
    "adam": (adam_numpy, optim.adam_numba, ("m", "v", None), (1e-3, 0.1, 1e-3, 1e-7)),
    "adam_amsgrad": (adam_numpy, optim.adam_numba, ("m", "v", "v_hat"), (1e-2, 0.2, 1e-2, 1e-7)),
    "sgd": (sgd_numpy, optim.sgd_numba, (None,), (0.1, 0.0, False)),
    "sgd_momentum": (sgd_numpy, optim.sgd_numba, ("m",), (0.1, 0.9, False)),
    "sgd_nesterov": (sgd_numpy, optim.sgd_numba, ("m",), (0.05, 0.8, True)),
    "rmsprop": (rmsprop_numpy, optim.rmsprop_numba, ("v", None, None), (1e-3, 0.9, 1 - 0.9, 0.0, 1e-7)),
    "rmsprop_momentum": (rmsprop_numpy, optim.rmsprop_numba, ("v", "mom", None), (1e-2, 0.8, 1 - 0.8, 0.5, 1e-7)),
    "rmsprop_centered": (rmsprop_numpy, optim.rmsprop_numba, ("v", None, "a"), (1e-2, 0.9, 1 - 0.9, 0.0, 1e-7)),
    "rmsprop_centered_momentum": (rmsprop_numpy, optim.rmsprop_numba, ("v", "mom", "a"),
                                  (1e-2, 0.9, 1 - 0.9, 0.9, 1e-7)),
    "adagrad": (adagrad_numpy, optim.adagrad_numba, ("acc",), (0.1, 1e-7)),
    "nadam": (nadam_numpy, optim.nadam_numba, ("m", "v"), (0.1, 1e-3, 3e-3, 4e-4, 1.001, 1e-7)),
    "adamax": (adamax_numpy, optim.adamax_numba, ("m", "u"), (2e-3, 0.1, 0.999, 1e-7)),
    "adadelta": (adadelta_numpy, optim.adadelta_numba, ("ag", "ad"), (1.0, 0.95, 0.05, 1e-6)),
    "lion": (lion_numpy, optim.lion_numba, ("m",), (1e-3, 0.9, 0.1, 0.99, 0.01)),
    "ftrl": (ftrl_numpy, optim.ftrl_numba, ("acc", "linear"), (0.1, 0.5, 0.01, 0.2, 0.1)),
}


def test_every_built_in_optimizer_pairs_a_formula_with_a_kernel_tested_here():
    """A new optimizer (or a new pairing) fails here until its formula and kernel are among KERNEL_CASES."""
    tested = {(formula, kernel) for formula, kernel, _, _ in KERNEL_CASES.values()}
    for name, cls in optimizers.ALL_OPTIMIZERS.items():
        assert cls._update in tested, f"{name}: its update {cls._update} has no case in KERNEL_CASES"
        assert cls._update[0].__module__ in (cls.__module__, *(base.__module__ for base in cls.__mro__)), \
            f"{name}: its NumPy formula should live beside it"


def _run_kernel(update, shape, dtype, slot_names, constants, options, seed=0):
    """STEPS updates of one variable; returns the final weight and slots."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    slots = [None if name is None else np.zeros(shape, dtype) for name in slot_names]
    if slot_names == ("acc",):
        slots[0][...] = 0.1
    scratch = np.empty(shape, dtype)
    for step in range(STEPS[shape]):
        g = (rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 2)).astype(dtype)
        keep = 1.0 - 0.004 * 0.01 * (step + 1) if options.get("decay") else 1.0
        gscale = 0.5 / (step + 1) if options.get("clip") else 1.0
        update(w, g, *slots, scratch, *constants, keep, gscale)
    return [w] + [s for s in slots if s is not None]


@pytest.mark.parametrize("shape, options", [
    (SMALL, {}), (SMALL, {"decay": True, "clip": True}),
    pytest.param(LARGE, {"decay": True, "clip": True}, marks=pytest.mark.skipif(
        kernels.numba is None, reason="without numba the kernels are slow plain Python"))],
    ids=["small", "small-decay-clip", "large-decay-clip"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_kernel_equals_numpy_bit_for_bit(case, dtype, shape, options):
    numpy_update, numba_update, slot_names, constants = KERNEL_CASES[case]
    expected = _run_kernel(numpy_update, shape, dtype, slot_names, constants, options)
    got = _run_kernel(numba_update, shape, dtype, slot_names, constants, options)
    for e, g in zip(expected, got):
        assert g.dtype == dtype and g.shape == shape
        _assert_same_bits(g, e)


@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_kernel_equals_numpy_on_extreme_values(case):
    """NaN, ±inf, zeros (0/0 with epsilon 0), huge and tiny gradients give the same bits on both paths."""
    numpy_update, numba_update, slot_names, constants = KERNEL_CASES[case]
    if isinstance(constants[-1], float):
        constants = constants[:-1] + (0.0,)  # epsilon 0
    values = np.array([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-45, 1e-20, 5.0], np.float32)
    results = []
    for update in (numpy_update, numba_update):
        rng = np.random.default_rng(3)
        w = rng.choice(values, 64)
        slots = [None if name is None else np.abs(rng.choice(values, 64)) for name in slot_names]
        for _ in range(3):
            g = rng.choice(values, 64)
            with np.errstate(all="ignore"):
                update(w, g, *slots, np.empty(64, np.float32), *constants, 0.9, 0.5)
        results.append([w] + [s for s in slots if s is not None])
    for e, g in zip(*results):
        _assert_same_bits(g, e)


def test_kernel_takes_any_c_contiguous_shape_and_refuses_what_it_cannot_update_in_place():
    """N-d C-contiguous arrays run the kernel through flat views; a non-contiguous weight, float16, or a gradient of
    another dtype are refused (the optimizer runs the NumPy formula on them), leaving the arrays untouched."""
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    results = []
    for update in (adam_numpy, optim.adam_numba):
        w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
        g = np.linspace(-1, 1, w.size).reshape(w.shape).astype(np.float32)
        for _ in range(3):
            update(w, g, m, v, None, np.empty_like(w), 1e-2, 0.1, 1e-3, 1e-7, 0.99, 0.5)
        results.append((w, m, v))
    for e, got in zip(*results):
        _assert_same_bits(got, e)

    refused = {"transposed": (np.asfortranarray(rng.standard_normal((6, 5)).astype(np.float32)), None),
               "float16": (rng.standard_normal((6, 5)).astype(np.float16), None),
               "float64 grad": (rng.standard_normal((6, 5)).astype(np.float32), np.float64)}
    for name, (w, grad_dtype) in refused.items():
        g = np.ones(w.shape, grad_dtype or w.dtype)
        m, v = np.zeros(w.shape, w.dtype), np.zeros(w.shape, w.dtype)
        assert not optim.takes(w, g, (m, v, None)), name
        before = w.copy()
        with pytest.raises(TypeError, match="NumPy formula"):
            optim.adam_numba(w, g, m, v, None, None, 1e-2, 0.1, 1e-3, 1e-7)
        np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_an_optimizer_runs_its_formula_where_the_kernel_cannot(dtype):
    """float16 and non-contiguous weights train with the kernels on, as with them off."""
    def train(flag):
        kernels.set_enabled(flag)
        w = [cr.Variable(np.linspace(-1, 1, 12).reshape(3, 4).astype(dtype)),
             cr.Variable(np.linspace(1, 2, 12).reshape(4, 3).astype(dtype))]
        w[1].data = np.asfortranarray(w[1].data)
        opt = Adam(0.01, amsgrad=True)
        for step in range(3):
            opt.apply_gradients([(np.full(v.shape, step - 1.0, dtype), v) for v in w])
        return [v.numpy() for v in w]

    before = kernels.enabled()
    try:
        expected, got = train(False), train(True)
    finally:
        kernels.set_enabled(before)
    for e, g in zip(expected, got):
        _assert_same_bits(g, e)


def test_the_kernel_runs_for_float32_c_contiguous_weights_and_only_then(monkeypatch):
    calls = []

    def kernel(var, *args):
        calls.append(var.dtype)
        return optim.adam_numba(var, *args)

    monkeypatch.setattr(Adam, "_update", (adam_numpy, kernel))
    before = kernels.enabled()
    try:
        kernels.set_enabled(True)
        variables = [cr.Variable(np.ones((2, 3), np.float32)), cr.Variable(np.ones(4, np.float16)),
                     cr.Variable(np.ones((3, 2), np.float32))]
        variables[2].data = np.asfortranarray(variables[2].data)
        Adam().apply_gradients([(np.ones(v.shape), v) for v in variables])
        kernels.set_enabled(False)
        Adam().apply_gradients([(np.ones(v.shape), v) for v in variables])
    finally:
        kernels.set_enabled(before)
    assert calls == [np.dtype(np.float32)]


# --- the optimizers with the switch off and on ------------------------------------------------------------------------
OPTIMIZERS = {
    "adam": lambda: Adam(0.01),
    "adam_amsgrad_clipnorm": lambda: Adam(0.01, amsgrad=True, clipnorm=0.5),
    "adamw": lambda: AdamW(0.01, weight_decay=0.1),
    "adamw_schedule_global_clipnorm": lambda: AdamW(schedules.ExponentialDecay(0.05, 3, 0.5), global_clipnorm=1.0),
    "sgd": lambda: SGD(0.1),
    "sgd_momentum_clipvalue": lambda: SGD(0.1, momentum=0.9, clipvalue=0.5),
    "sgd_nesterov_decay": lambda: SGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    "rmsprop": lambda: RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad_decay": lambda: Adagrad(0.1, weight_decay=0.05),
}
OPTIMIZER_SHAPES = [(784, 10), (10,), (), LARGE, (3, 3, 1, 4)]


def _train(make, flag, dtype):
    kernels.set_enabled(flag)
    rng = np.random.default_rng(5)
    variables = [cr.Variable(rng.standard_normal(s).astype(dtype), name=f"layer{k}/{'bias' if k == 1 else 'kernel'}")
                 for k, s in enumerate(OPTIMIZER_SHAPES)]
    variables[4].data = np.asfortranarray(variables[4].data)  # a weight that is not C-contiguous is updated as it is
    opt = make()
    if opt.weight_decay:
        opt.exclude_from_weight_decay(var_names=["bias"])
    arrays = [v.data for v in variables]
    for step in range(6):
        grads = [rng.standard_normal(v.shape).astype(dtype) * 0.1 for v in variables]
        grads[0] = grads[0].T.copy().T  # a gradient that is not C-contiguous
        if step == 4:  # a new array in a variable: the optimizer follows it
            variables[1].data = variables[1].data.copy()
            arrays[1] = variables[1].data
        opt.apply_gradients(zip(grads, variables))
    assert all(v.data is a for v, a in zip(variables, arrays))
    return [v.numpy() for v in variables] + [s for _, s in sorted(opt.get_state().items())]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_optimizer_gives_the_same_bits_with_and_without_numba(case, dtype):
    before = kernels.enabled()
    try:
        with_numpy = _train(OPTIMIZERS[case], False, dtype)
        with_numba = _train(OPTIMIZERS[case], True, dtype)
    finally:
        kernels.set_enabled(before)
    for e, g in zip(with_numpy, with_numba):
        _assert_same_bits(g, e)


def test_decay_exclusions_follow_renames_and_new_exclusions():
    a, b = cr.Variable([1.0], name="kernel"), cr.Variable([1.0], name="dense/bias")
    opt = SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(np.zeros(1), a), (np.zeros(1), b)])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.95, 1.0])
    b.name = "dense/other"
    opt.apply_gradients([(np.zeros(1), a), (np.zeros(1), b)])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.95 ** 2, 0.95], rtol=1e-6)
    opt.exclude_from_weight_decay(var_list=[a])
    opt.apply_gradients([(np.zeros(1), a), (np.zeros(1), b)])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.95 ** 2, 0.95 ** 2], rtol=1e-6)


def test_a_subclass_with_its_own_update_step_still_gets_clipping_and_decay():
    class Halve(SGD):
        def update_step(self, gradient, variable, slots, learning_rate):
            variable -= gradient * learning_rate / 2

    v = cr.Variable([1.0, 1.0], name="kernel")
    Halve(1.0, clipnorm=1.0, weight_decay=0.5).apply_gradients([(np.array([3.0, 4.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.5 - 0.3, 0.5 - 0.4], rtol=1e-6)


def test_a_variable_whose_shape_changes_is_refused_and_one_whose_dtype_changes_takes_its_state_along():
    v = cr.Variable(np.ones(4, np.float32))
    opt = Adam()
    opt.apply_gradients([(np.ones(4), v)])
    v.data = np.ones(4, np.float64)
    opt.apply_gradients([(np.ones(4), v)])
    assert all(s.dtype == np.float64 for s in opt.get_state().values() if s.ndim)
    v.data = np.ones(5, np.float32)
    with pytest.raises(ValueError, match="now has shape"):
        opt.apply_gradients([(np.ones(5), v)])
