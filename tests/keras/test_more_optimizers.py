"""Nadam, Adamax, Adadelta, Lion and Ftrl (chainrule/keras/optimizers/): step by step against PyTorch's NAdam,
Adamax and Adadelta (with the settings under which their formulas are Keras's), Lion against its paper's update and
Ftrl against TensorFlow's documented FTRL-Proximal op, in float64 and float32; the kernel and NumPy paths alike;
state saved and resumed bit for bit; configs, names, Keras's errors and a model trained with each."""
import numpy as np
import pytest
import torch
from test_optimizers import _problem, _run_ours  # initial weights and gradients; the history of our steps

import chainrule as cr
from chainrule.backend import kernels
from chainrule.keras import optimizers
from chainrule.keras.optimizers import Adadelta, Adamax, Ftrl, Lion, Nadam


def _run_torch(make, init, grads, dtype=np.float64):
    params = [torch.tensor(a.astype(dtype), requires_grad=True) for a in init]
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam keeps its momentum product in the default dtype
    try:
        opt = make(params)
        history = []
        for step in grads:
            for p, g in zip(params, step):
                p.grad = torch.tensor(g.astype(dtype))
            opt.step()
            history.append([p.detach().numpy().copy() for p in params])
    finally:
        torch.set_default_dtype(default)
    return history


TORCH_CASES = {
    "nadam": (lambda: Nadam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
              lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, momentum_decay=1.0)),
    "adamax": (lambda: Adamax(0.02, beta_1=0.85, beta_2=0.95, epsilon=0.0),  # torch adds eps inside the max
               lambda p: torch.optim.Adamax(p, lr=0.02, betas=(0.85, 0.95), eps=0.0)),
    "adadelta": (lambda: Adadelta(1.0, rho=0.9, epsilon=1e-6),
                 lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
    "adadelta_keras_defaults": (lambda: Adadelta(), lambda p: torch.optim.Adadelta(p, lr=0.001, rho=0.95, eps=1e-7)),
}


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-5)], ids=["float64", "float32"])
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_matches_torch_step_by_step(case, dtype, rtol):
    make_ours, make_torch = TORCH_CASES[case]
    init, grads = _problem()
    ours, theirs = _run_ours(make_ours(), init, grads, dtype), _run_torch(make_torch, init, grads, dtype)
    for step, (mine, ref) in enumerate(zip(ours, theirs)):
        for a, b in zip(mine, ref):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2, err_msg=f"{case}, step {step}")


def test_adamax_with_kerass_epsilon_matches_its_formula():
    """Keras adds epsilon after the max (torch inside it): u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))."""
    init, grads = _problem(seed=2)
    ours = _run_ours(Adamax(0.01), init, grads)
    w = [a.copy() for a in init]
    m, u = [np.zeros_like(a) for a in init], [np.zeros_like(a) for a in init]
    for t, step in enumerate(grads, 1):
        for k, g in enumerate(step):
            m[k] += (g - m[k]) * 0.1
            u[k] = np.maximum(0.999 * u[k], np.abs(g))
            w[k] -= 0.01 * m[k] / ((1 - 0.9 ** t) * (u[k] + 1e-7))
    for a, b in zip(ours[-1], w):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_lion_matches_the_papers_update_with_decoupled_weight_decay():
    """Chen et al. 2023, Algorithm 2: c = b1 m + (1 - b1) g; w -= lr (sign(c) + wd w); m = b2 m + (1 - b2) g."""
    init, grads = _problem(seed=3)
    lr, wd = 0.01, 0.1
    ours = _run_ours(Lion(lr, beta_1=0.9, beta_2=0.99, weight_decay=wd), init, grads)
    w, m = [a.copy() for a in init], [np.zeros_like(a) for a in init]
    for step in grads:
        for k, g in enumerate(step):
            c = 0.9 * m[k] + 0.1 * g
            w[k] = w[k] - lr * (np.sign(c) + wd * w[k])
            m[k] = 0.99 * m[k] + 0.01 * g
    for a, b in zip(ours[-1], w):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("settings", [
    {}, {"l1_regularization_strength": 0.05, "l2_regularization_strength": 0.02},
    {"l2_shrinkage_regularization_strength": 0.1, "beta": 0.5, "initial_accumulator_value": 0.5},
    {"learning_rate_power": -0.3, "l1_regularization_strength": 0.01}], ids=str)
def test_ftrl_matches_tensorflows_documented_ftrl_proximal(settings):
    """tf.raw_ops.ApplyFtrlV2: linear += g_s - (n'^-p - n^-p) / lr * w; quadratic = 1 / (n'^p lr) + 2 l2;
    w = (sign(linear) l1 - linear) / quadratic if |linear| > l1 else 0 (Keras adds beta / lr to 2 l2)."""
    lr = 0.1
    opt = Ftrl(lr, **settings)
    power, l1 = opt.learning_rate_power, opt.l1_regularization_strength
    l2 = opt.l2_regularization_strength + opt.beta / (2 * lr)
    init, grads = _problem(seed=4)
    ours = _run_ours(opt, init, grads)
    w = [a.copy() for a in init]
    n = [np.full_like(a, opt.initial_accumulator_value) for a in init]
    z = [np.zeros_like(a) for a in init]
    for step in grads:
        for k, g in enumerate(step):
            shrunk = g + 2 * opt.l2_shrinkage_regularization_strength * w[k]
            new_n = n[k] + g * g
            z[k] += shrunk - (new_n ** -power - n[k] ** -power) / lr * w[k]
            quadratic = 1.0 / (new_n ** power * lr) + 2 * l2
            w[k] = np.where(np.abs(z[k]) > l1, (np.sign(z[k]) * l1 - z[k]) / quadratic, 0.0)
            n[k] = new_n
    for a, b in zip(ours[-1], w):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_ftrl_keeps_weights_under_the_l1_threshold_at_zero():
    w = cr.Variable(np.zeros(4))
    opt = Ftrl(0.1, l1_regularization_strength=1.0)
    for _ in range(3):
        opt.apply_gradients([(np.array([0.1, -0.2, 5.0, -5.0]), w)])
    assert (w.numpy()[:2] == 0).all() and w.numpy()[2] < 0 < w.numpy()[3]


ALL = {"nadam": lambda: Nadam(0.01), "adamax": lambda: Adamax(0.01, clipnorm=0.5),
       "adadelta": lambda: Adadelta(1.0, weight_decay=0.01), "lion": lambda: Lion(1e-3, global_clipnorm=1.0),
       "ftrl": lambda: Ftrl(0.05, l1_regularization_strength=0.01), "ftrl_power": lambda: Ftrl(0.05, -0.7)}


@pytest.mark.parametrize("case", sorted(ALL))
def test_kernels_and_numpy_formulas_give_the_same_bits(case):
    init, grads = _problem(seed=5)
    before = kernels.enabled()
    try:
        kernels.set_enabled(False)
        with_numpy = _run_ours(ALL[case](), init, grads, np.float32)
        kernels.set_enabled(True)
        with_kernels = _run_ours(ALL[case](), init, grads, np.float32)
    finally:
        kernels.set_enabled(before)
    for a, b in zip(with_numpy[-1], with_kernels[-1]):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("case", sorted(ALL))
def test_state_saved_and_resumed_continues_bit_for_bit(case):
    init, grads = _problem(seed=6)
    straight = _run_ours(ALL[case](), init, grads)[-1]
    first = ALL[case]()
    variables = [cr.Variable(a) for a in init]
    for step in grads[:7]:
        first.apply_gradients(zip(step, variables))
    second = ALL[case]()
    second.set_state(first.get_state())
    for step in grads[7:]:
        second.apply_gradients(zip(step, variables))
    assert set(first.get_state()) == {"iterations"} | {f"{i}/{s}" for i in range(2) for s in first.slot_names}
    for a, b in zip((v.numpy() for v in variables), straight):
        assert a.tobytes() == b.tobytes()


def test_names_defaults_configs_and_errors():
    defaults = {"nadam": (Nadam, 0.001), "adamax": (Adamax, 0.001), "adadelta": (Adadelta, 0.001),
                "lion": (Lion, 0.001), "ftrl": (Ftrl, 0.001)}
    for name, (cls, lr) in defaults.items():
        opt = optimizers.get(name)
        assert type(opt) is cls and opt.learning_rate == lr and opt.name == name
        assert type(optimizers.get(cls.__name__)) is cls
        again = optimizers.deserialize(optimizers.serialize(opt))
        assert type(again) is cls and again.get_config() == opt.get_config()
    assert Nadam().get_config()["beta_2"] == 0.999 and Adadelta().get_config()["rho"] == 0.95
    assert Lion().get_config()["beta_2"] == 0.99 and Ftrl().get_config()["initial_accumulator_value"] == 0.1
    with pytest.raises(ValueError, match="Argument `beta_1` must be in the \\[0, 1\\] range"):
        Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="`learning_rate_power` needs to be negative or zero"):
        Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="`l1_regularization_strength` needs to be positive or zero"):
        Ftrl(l1_regularization_strength=-1.0)


@pytest.mark.parametrize("name", ["nadam", "adamax", "adadelta", "lion", "ftrl"])
def test_each_trains_a_model(name):
    from chainrule import keras

    rng = np.random.default_rng(7)
    x = rng.standard_normal((128, 5)).astype("float32")
    y = (x @ rng.standard_normal((5, 1))).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    rate = {"adadelta": 1.0, "lion": 0.01, "ftrl": 0.5}.get(name, 0.02)
    model.compile(optimizer=optimizers.get({"class_name": name, "config": {"learning_rate": rate}}), loss="mse")
    losses = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0] * 0.95, (name, losses)
