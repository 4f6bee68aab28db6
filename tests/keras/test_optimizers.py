"""Optimizers: step by step against torch.optim (where the formulas coincide) and against a direct NumPy transcription
of Keras 3's formulas (where Keras places epsilon differently), plus clipping, schedules, state and in-place updates."""
import math
import time
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.keras import optimizers
from chainrule.keras import schedules
from chainrule.keras.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

SHAPES = ((3, 4), (4,))
STEPS = 25


def _problem(steps=STEPS, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * scale for s in SHAPES] for _ in range(steps)]
    return init, grads


def _run_ours(opt, init, grads, dtype=np.float64):
    variables = [cr.Variable(a.astype(dtype)) for a in init]
    history = []
    for step in grads:
        opt.apply_gradients(zip(step, variables))
        history.append([v.numpy().copy() for v in variables])
    return history


def _compare_with_torch(ours, make_torch, dtype=np.float64, scale=1.0):
    init, grads = _problem(scale=scale)
    history = _run_ours(ours, init, grads, dtype)
    params = [torch.tensor(a.astype(dtype), requires_grad=True) for a in init]
    opt = make_torch(params)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for k, step in enumerate(grads):
        for p, g in zip(params, step):
            p.grad = torch.tensor(g.astype(dtype))
        opt.step()
        for mine, p in zip(history[k], params):
            assert mine.dtype == dtype
            np.testing.assert_allclose(mine, p.detach().numpy(), **tol, err_msg=f"step {k + 1}")


# --- against torch.optim (identical formulas) -------------------------------------------------------------------------
TORCH_CASES = {
    "sgd": (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (lambda: SGD(0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "sgd_nesterov": (lambda: SGD(0.05, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    # with epsilon 0, Keras's and torch's Adam/RMSprop/Adagrad formulas are the same function
    "adam": (lambda: Adam(0.01, epsilon=0.0), lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0)),
    "adam_betas": (lambda: Adam(0.02, beta_1=0.8, beta_2=0.99, epsilon=0.0),
                   lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=0.0)),
    "amsgrad": (lambda: Adam(0.01, epsilon=0.0, amsgrad=True),
                lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0, amsgrad=True)),
    "adamw": (lambda: AdamW(0.01, weight_decay=0.05, epsilon=0.0),
              lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05, eps=0.0)),
    "rmsprop": (lambda: RMSprop(0.01, rho=0.9, epsilon=0.0), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0)),
    "rmsprop_centered_momentum": (
        lambda: RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, epsilon=0.0),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.8, momentum=0.5, centered=True, eps=0.0)),
    "adagrad": (lambda: Adagrad(0.1, epsilon=0.0),
                lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_matches_torch_float64(case):
    ours, theirs = TORCH_CASES[case]
    _compare_with_torch(ours(), theirs, np.float64)


@pytest.mark.parametrize("case", ["sgd_momentum", "adam", "rmsprop", "adagrad", "adamw"])
def test_matches_torch_float32(case):
    ours, theirs = TORCH_CASES[case]
    _compare_with_torch(ours(), theirs, np.float32)


# --- against Keras's formulas, transcribed (epsilon where Keras puts it) -----------------------------------------------
def keras_adam(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, weight_decay=0.0):
    m, v, v_hat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w - w * weight_decay * lr
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        if amsgrad:
            v_hat = np.maximum(v_hat, v)
        w = w - alpha * m / (np.sqrt(v_hat if amsgrad else v) + eps)
    return w


def keras_rmsprop(w, grads, lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    v, a, mom = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = v - a * a + eps
        else:
            denominator = v + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
    return w


def keras_adagrad(w, grads, lr=0.001, initial=0.1, eps=1e-7):
    acc = np.full_like(w, initial)
    for g in grads:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


KERAS_CASES = {
    "adam": (lambda: Adam(), keras_adam),
    "adam_amsgrad": (lambda: Adam(0.01, amsgrad=True), lambda w, g: keras_adam(w, g, lr=0.01, amsgrad=True)),
    "adamw": (lambda: AdamW(0.01), lambda w, g: keras_adam(w, g, lr=0.01, weight_decay=0.004)),
    "rmsprop": (lambda: RMSprop(), keras_rmsprop),
    "rmsprop_centered": (lambda: RMSprop(0.01, momentum=0.9, centered=True),
                         lambda w, g: keras_rmsprop(w, g, lr=0.01, momentum=0.9, centered=True)),
    "adagrad": (lambda: Adagrad(), keras_adagrad),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_matches_keras_formulas_with_default_epsilon(case):
    ours, reference = KERAS_CASES[case]
    init, grads = _problem(scale=1e-3)  # small gradients, so epsilon's placement matters
    final = _run_ours(ours(), init, grads)[-1]
    for i, (w0, w) in enumerate(zip(init, final)):
        expected = reference(w0, [step[i] for step in grads])
        np.testing.assert_allclose(w, expected, rtol=1e-10, atol=1e-13)


def test_keras_epsilon_placement_differs_from_torch_default():
    """The check above can fail: torch's Adam puts epsilon outside the bias correction and differs at small grads."""
    init, grads = _problem(scale=1e-4)
    final = _run_ours(Adam(), init, grads)[-1]
    p = torch.tensor(init[0], requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.001, eps=1e-7)
    for step in grads:
        p.grad = torch.tensor(step[0])
        opt.step()
    assert not np.allclose(final[0], p.detach().numpy(), rtol=1e-9, atol=1e-12)


# --- dtype and in-place ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9, nesterov=True), Adam, AdamW, RMSprop, Adagrad,
                                  lambda: RMSprop(centered=True, momentum=0.5), lambda: Adam(amsgrad=True)])
def test_float32_stays_float32_and_updates_in_place(make):
    opt = make()
    opt.learning_rate = np.float64(0.01)
    v = cr.Variable(np.ones((5, 3), np.float32))
    array = v.data
    for _ in range(3):
        opt.apply_gradients([(np.full((5, 3), 0.5, np.float64), v)])  # a float64 gradient must not promote
    assert v.data is array
    assert v.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt.get_state().values() if s.ndim)
    assert not np.allclose(v.numpy(), 1.0)


def test_gradients_may_be_tensors_arrays_or_lists_and_none_is_skipped():
    a, b = cr.Variable([1.0, 2.0]), cr.Variable([3.0])
    opt = SGD(1.0)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(cr.constant([1.0, 1.0]), a), (None, b)])
    opt.apply_gradients([([0.5, 0.5], a), (np.array([1.0], np.float32), b)])
    np.testing.assert_allclose(a.numpy(), [-0.5, 0.5])
    np.testing.assert_allclose(b.numpy(), [2.0])
    assert int(opt.iterations) == 2
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, a)])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        opt.apply_gradients([(np.ones(3), a)])


def test_minimize_uses_autograd():
    w = cr.Variable([1.0, -2.0])
    opt = SGD(0.1)
    opt.minimize(lambda: cr.reduce_sum(w * w), [w])  # gradient 2w
    np.testing.assert_allclose(w.numpy(), [0.8, -1.6], rtol=1e-6)
    with cr.GradientTape() as tape:
        loss = cr.reduce_sum(w * w * w)
    opt.minimize(loss, [w], tape=tape)  # gradient 3w²
    np.testing.assert_allclose(w.numpy(), [0.8 - 0.3 * 0.64, -1.6 - 0.3 * 2.56], rtol=1e-6)
    assert int(opt.iterations) == 2


# --- clipping ---------------------------------------------------------------------------------------------------------
def _one_sgd_step(grads, **clip):
    variables = [cr.Variable(np.zeros_like(g)) for g in grads]
    SGD(1.0, **clip).apply_gradients(zip(grads, variables))
    return [-v.numpy() for v in variables]  # the applied gradient


def test_clipnorm_scales_each_gradient_to_the_norm():
    big, small = np.array([3.0, 4.0]), np.array([0.3, 0.4])  # norms 5 and 0.5
    applied = _one_sgd_step([big, small], clipnorm=1.0)
    np.testing.assert_allclose(applied[0], big / 5.0, rtol=1e-6)
    np.testing.assert_allclose(applied[1], small, rtol=1e-6)


def test_global_clipnorm_scales_all_gradients_together():
    g1, g2 = np.array([3.0, 0.0]), np.array([0.0, 4.0])  # global norm 5
    applied = _one_sgd_step([g1, g2], global_clipnorm=2.5)
    np.testing.assert_allclose(applied[0], g1 / 2, rtol=1e-6)
    np.testing.assert_allclose(applied[1], g2 / 2, rtol=1e-6)
    applied = _one_sgd_step([g1, g2], global_clipnorm=10.0)
    np.testing.assert_allclose(applied[0], g1, rtol=1e-6)


def test_clipvalue_clips_elementwise():
    applied = _one_sgd_step([np.array([-3.0, 0.2, 7.0])], clipvalue=0.5)
    np.testing.assert_allclose(applied[0], [-0.5, 0.2, 0.5], rtol=1e-6)


def test_clipping_does_not_modify_the_callers_gradient():
    g = np.array([3.0, 4.0], np.float32)
    _one_sgd_step([g], clipvalue=0.5)
    _one_sgd_step([g], clipnorm=1.0)
    np.testing.assert_array_equal(g, [3.0, 4.0])


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="Only one of"):
        Adam(clipnorm=1.0, clipvalue=1.0)


def test_adam_with_clipnorm_matches_torch_clip_grad_norm():
    init, grads = _problem()
    ours = _run_ours(Adam(0.01, epsilon=0.0, clipnorm=0.5), init, grads)[-1]
    params = [torch.tensor(a, requires_grad=True) for a in init]
    opt = torch.optim.Adam(params, lr=0.01, eps=0.0)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
            torch.nn.utils.clip_grad_norm_([p], 0.5)
        opt.step()
    for mine, p in zip(ours, params):  # torch divides by (norm + 1e-6), Keras by max(norm, clipnorm)
        np.testing.assert_allclose(mine, p.detach().numpy(), rtol=1e-5)


# --- learning rate and schedules --------------------------------------------------------------------------------------
def test_schedule_drives_the_step_size():
    lr = schedules.PiecewiseConstantDecay(boundaries=[2], values=[1.0, 0.1])
    v = cr.Variable([0.0])
    opt = SGD(lr)
    deltas = []
    for _ in range(5):
        before = v.numpy().copy()
        assert float(opt.learning_rate) == lr(int(opt.iterations))
        opt.apply_gradients([(np.array([1.0]), v)])
        deltas.append(float(before[0] - v.numpy()[0]))
    np.testing.assert_allclose(deltas, [1.0, 1.0, 1.0, 0.1, 0.1], rtol=1e-6)


def test_adam_with_exponential_decay_matches_torch_with_the_same_rates():
    sched = schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    init, grads = _problem()
    ours = _run_ours(Adam(sched, epsilon=0.0), init, grads)[-1]
    params = [torch.tensor(a, requires_grad=True) for a in init]
    opt = torch.optim.Adam(params, lr=0.05, eps=0.0)
    for k, step in enumerate(grads):
        opt.param_groups[0]["lr"] = sched(k)
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        opt.step()
    for mine, p in zip(ours, params):
        np.testing.assert_allclose(mine, p.detach().numpy(), rtol=1e-9)


def test_learning_rate_is_a_readable_settable_float():
    opt = Adam(0.1)
    assert isinstance(opt.learning_rate, float) and opt.learning_rate == pytest.approx(0.1)
    assert opt.learning_rate.numpy().dtype == np.float32
    opt.learning_rate = 0.25
    assert opt.learning_rate == 0.25 and opt.lr == 0.25
    assert opt.get_config()["learning_rate"] == 0.25
    opt.learning_rate = cr.constant(0.5)
    assert opt.learning_rate == 0.5
    opt.learning_rate.assign(0.125)  # as on Keras's learning-rate variable
    assert opt.learning_rate == 0.125
    cr.keras.backend.set_value(opt.learning_rate, 0.0625)  # TF 2's way
    assert cr.keras.backend.get_value(opt.learning_rate) == np.float32(0.0625)


def test_a_scheduled_learning_rate_refuses_a_number_as_keras():
    opt = Adam(schedules.ExponentialDecay(0.1, 10, 0.5))
    assert opt.learning_rate == pytest.approx(0.1)
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule`.*not settable"):
        opt.learning_rate = 0.25  # a callback setting it would silently end the schedule
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate.assign(0.25)
    opt.learning_rate = schedules.ExponentialDecay(0.2, 10, 0.5)  # another schedule is fine
    assert opt.learning_rate == pytest.approx(0.2)


# --- state ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), Adam, lambda: Adam(amsgrad=True), AdamW,
                                  lambda: RMSprop(momentum=0.9, centered=True), Adagrad])
def test_get_state_set_state_resumes_bit_identically(make):
    init, grads = _problem(steps=10)
    opt = make()
    variables = [cr.Variable(a.astype(np.float32)) for a in init]
    for step in grads[:5]:
        opt.apply_gradients(zip(step, variables))
    saved_weights = [v.numpy().copy() for v in variables]
    saved_state = opt.get_state()
    assert int(saved_state["iterations"]) == 5
    for step in grads[5:]:
        opt.apply_gradients(zip(step, variables))
    expected = [v.numpy().copy() for v in variables]

    for build_first in (False, True):  # state set before the variables are known, or after build()
        fresh = make()
        restored = [cr.Variable(w) for w in saved_weights]
        if build_first:
            fresh.build(restored)
        fresh.set_state(saved_state)
        assert int(fresh.iterations) == 5
        for step in grads[5:]:
            fresh.apply_gradients(zip(step, restored))
        for got, want in zip(restored, expected):
            np.testing.assert_array_equal(got.numpy(), want)
        assert set(fresh.get_state()) == set(saved_state)


def test_get_state_is_a_copy_and_set_state_checks_keys_and_shapes():
    v = cr.Variable(np.ones(3, np.float32))
    opt = Adam()
    opt.apply_gradients([(np.ones(3), v)])
    state = opt.get_state()
    assert sorted(state) == ["0/m", "0/v", "iterations"]
    state["0/m"][...] = 123.0
    assert not np.any(opt.get_state()["0/m"] == 123.0)
    with pytest.raises(ValueError, match="unexpected entry"):
        opt.set_state({"0/momentum": np.zeros(3)})
    with pytest.raises(ValueError, match=r"\(4,\)"):
        opt.set_state({"0/m": np.zeros(4)})
    fresh = Adam()
    fresh.set_state({"0/m": np.zeros(4), "0/v": np.zeros(4), "iterations": np.array(1)})
    with pytest.raises(ValueError, match="not in the saved order"):
        fresh.apply_gradients([(np.ones(3), v)])


# --- weight decay ---------------------------------------------------------------------------------------------------
def test_weight_decay_and_exclusions():
    a, b = cr.Variable([1.0], name="kernel"), cr.Variable([1.0], name="dense/bias")
    opt = SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(np.zeros(1), a), (np.zeros(1), b)])
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.1 * 0.5])
    np.testing.assert_allclose(b.numpy(), [1.0])
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(weight_decay=None)


# --- config and lookup ----------------------------------------------------------------------------------------------
def test_get_and_keras_defaults():
    assert isinstance(optimizers.get("adam"), Adam) and isinstance(optimizers.get("SGD"), SGD)
    assert optimizers.get("sgd").learning_rate == pytest.approx(0.01)
    assert optimizers.get("adam").learning_rate == pytest.approx(0.001)
    rms = optimizers.get("rmsprop")
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    ada = optimizers.get("adagrad")
    assert (ada.initial_accumulator_value, ada.epsilon) == (0.1, 1e-7)
    adam = optimizers.get("adam")
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert optimizers.get("adamw").weight_decay == 0.004
    opt = Adam()
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        optimizers.get("adamax2")
    with pytest.raises(ValueError, match="not recognized"):
        Adam(betas=(0.9, 0.99))


def test_config_round_trip_with_schedule():
    sched = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    opt = Adam(sched, beta_1=0.8, clipnorm=2.0, name="my_adam")
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    again = Adam.from_config(config)
    assert again.get_config() == config
    assert again.learning_rate == pytest.approx(0.1)
    plain = optimizers.deserialize(optimizers.serialize(SGD(0.3, momentum=0.5, nesterov=True)))
    assert isinstance(plain, SGD) and plain.get_config()["nesterov"] and plain.learning_rate == pytest.approx(0.3)


# --- speed ----------------------------------------------------------------------------------------------------------
def test_adam_step_on_a_784_10_10_mlp_is_cheap():
    rng = np.random.default_rng(0)
    variables = [cr.Variable(rng.standard_normal(s).astype(np.float32)) for s in [(784, 10), (10,), (10, 10), (10,)]]
    grads = [rng.standard_normal(v.shape).astype(np.float32) for v in variables]
    opt = Adam()
    pairs = list(zip(grads, variables))
    opt.apply_gradients(pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(200):
                opt.apply_gradients(pairs)
            best = min(best, (time.perf_counter() - start) / 200)
    assert best < 1e-3, f"an Adam step takes {best * 1e6:.0f} µs"
