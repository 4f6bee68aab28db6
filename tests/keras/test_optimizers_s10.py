"""keras.optimizers.Lamb and Adafactor (Keras's formulas, transcribed here step by step in NumPy, over several steps
and shapes; state saved and restored; training), and schedules.CosineDecayRestarts against PyTorch's
CosineAnnealingWarmRestarts."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import keras

RNG = np.random.default_rng(0)


def run(optimizer, weights, grads):
    variables = [cr.Variable(w) for w in weights]
    for step_grads in grads:
        optimizer.apply_gradients([(cr.constant(g), v) for g, v in zip(step_grads, variables)])
    return [v.numpy() for v in variables]


def lamb_reference(weights, grads, lr, b1, b2, eps):
    weights = [w.copy() for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, step_grads in enumerate(grads, start=1):
        for k, g in enumerate(step_grads):
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            update = (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
            wn, un = np.linalg.norm(weights[k]), np.linalg.norm(update)
            ratio = wn / un if wn > 0 and un > 0 else 1.0
            weights[k] = weights[k] - lr * ratio * update
    return weights


def adafactor_reference(weights, grads, lr, decay, eps1, eps2, clip):
    weights = [w.copy() for w in weights]
    r = [np.zeros(w.shape[:-1]) if w.ndim >= 2 else None for w in weights]
    c = [np.zeros(w.shape[:-2] + w.shape[-1:]) if w.ndim >= 2 else None for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, step_grads in enumerate(grads, start=1):
        for k, g in enumerate(step_grads):
            w = weights[k]
            rho = min(lr, 1 / math.sqrt(t))
            alpha = max(eps2, np.sqrt(np.mean(w ** 2))) * rho
            sq = g ** 2 + eps1
            beta = 1 - t ** decay
            if w.ndim >= 2:
                r[k] = beta * r[k] + (1 - beta) * sq.mean(axis=-1)
                c[k] = beta * c[k] + (1 - beta) * sq.mean(axis=-2)
                v[k] = np.expand_dims(r[k] / r[k].mean(axis=-1, keepdims=True), -1) * np.expand_dims(c[k], -2)
            else:
                v[k] = beta * v[k] + (1 - beta) * sq
            u = g / np.sqrt(v[k])
            u = u / max(1.0, np.sqrt(np.mean(u ** 2)) / clip)
            weights[k] = w - alpha * u
    return weights


SHAPES = [(3, 4), (5,), (2, 3, 4), ()]


def sample(steps=4):
    weights = [RNG.normal(size=s) for s in SHAPES]
    weights[-1] = np.array(0.0)  # a zero weight: Lamb's trust ratio falls back to 1
    grads = [[RNG.normal(size=s) for s in SHAPES] for _ in range(steps)]
    return weights, grads


def test_lamb_matches_kerass_formula():
    weights, grads = sample()
    got = run(keras.optimizers.Lamb(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6), weights, grads)
    for a, b in zip(got, lamb_reference(weights, grads, 0.01, 0.8, 0.95, 1e-6)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lr", [0.5, 0.01])
def test_adafactor_matches_kerass_formula(lr):
    weights, grads = sample(5)
    got = run(keras.optimizers.Adafactor(learning_rate=lr, clip_threshold=0.5), weights, grads)
    for a, b in zip(got, adafactor_reference(weights, grads, lr, -0.8, 1e-30, 1e-3, 0.5)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["lamb", "adafactor"])
def test_state_restores_and_configs_round_trip(kind):
    weights, grads = sample(4)
    whole = run(keras.optimizers.get(kind), weights, grads)
    first = keras.optimizers.get(kind)
    variables = [cr.Variable(w) for w in weights]
    for step_grads in grads[:2]:
        first.apply_gradients([(cr.constant(g), v) for g, v in zip(step_grads, variables)])
    second = keras.optimizers.get(kind)
    second.build(variables)
    second.set_state(first.get_state())
    for step_grads in grads[2:]:
        second.apply_gradients([(cr.constant(g), v) for g, v in zip(step_grads, variables)])
    for a, b in zip(whole, variables):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12)
    config = first.get_config()
    assert type(first).from_config(config).get_config() == config
    assert keras.optimizers.deserialize(keras.optimizers.serialize(first)).get_config() == config


@pytest.mark.parametrize("optimizer", [lambda: keras.optimizers.Lamb(0.01), lambda: keras.optimizers.Adafactor(0.05)])
def test_they_train_a_model(optimizer):
    x = RNG.normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer(), "mse")
    losses = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta_1"):
        keras.optimizers.Lamb(beta_1=1.5)
    with pytest.raises(ValueError, match="clip_threshold"):
        keras.optimizers.Adafactor(clip_threshold=0)
    with pytest.raises(ValueError, match="first_decay_steps"):
        keras.optimizers.schedules.CosineDecayRestarts(0.1, 0)


@pytest.mark.parametrize("t_mul, alpha", [(1, 0.0), (2, 0.0), (3, 0.1)])
def test_cosine_decay_restarts_matches_torch(t_mul, alpha):
    schedule = keras.optimizers.schedules.CosineDecayRestarts(0.5, first_decay_steps=7, t_mul=float(t_mul),
                                                              alpha=alpha)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    torch_schedule = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=t_mul,
                                                                          eta_min=0.5 * alpha)
    for step in range(80):
        assert math.isclose(schedule(step), opt.param_groups[0]["lr"], rel_tol=1e-9, abs_tol=1e-12), step
        opt.step()
        torch_schedule.step()
    steps = np.arange(80)
    np.testing.assert_allclose(schedule(steps), [schedule(int(s)) for s in steps])


def test_cosine_decay_restarts_m_mul_and_config():
    schedule = keras.optimizers.schedules.CosineDecayRestarts(1.0, 4, t_mul=1.0, m_mul=0.5)
    assert [schedule(s) for s in (0, 4, 8)] == [1.0, 0.5, 0.25]
    config = keras.optimizers.schedules.serialize(schedule)
    again = keras.optimizers.schedules.deserialize(config)
    assert again.get_config() == schedule.get_config() and again.get_config()["name"] == "SGDRDecay"
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    assert keras.optimizers.Adam.from_config(optimizer.get_config()).get_config() == optimizer.get_config()


# --- Muon -------------------------------------------------------------------------------------------------------------
def keras_muon_reference(named_weights, grads, lr, wd=0.004, adam_wd=0.004, b1=0.9, b2=0.999, eps=1e-7,
                         momentum=0.95, ns_steps=5, rms_rate=0.2, exclude=()):
    """Keras's Muon step by step in NumPy (decay first, then the AdamW or Muon step)."""
    import re

    def adamw(name, w):
        return w.ndim != 2 or "embedding" in name.lower() or any(re.search(p, name) for p in exclude)

    def newton_schulz(x):
        tall = x.shape[0] > x.shape[1]
        x = x.T if tall else x
        x = x / (np.linalg.norm(x) + 1e-7)
        for _ in range(ns_steps):
            a = x @ x.T
            x = 3.4445 * x + (-4.7750 * a + 2.0315 * a @ a) @ x
        return x.T if tall else x

    weights = {n: w.copy() for n, w in named_weights}
    m = {n: np.zeros_like(w) for n, w in named_weights}
    v = {n: np.zeros_like(w) for n, w in named_weights}
    for t, step in enumerate(grads, start=1):
        for (n, _), g in zip(named_weights, step):
            w = weights[n]
            use_adam = adamw(n, w)
            w = w - w * (adam_wd if use_adam else wd) * lr
            if use_adam:
                alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                m[n] = m[n] + (g - m[n]) * (1 - b1)
                v[n] = v[n] + (g * g - v[n]) * (1 - b2)
                w = w - m[n] * alpha / (np.sqrt(v[n]) + eps)
            else:
                m[n] = m[n] + g + m[n] * (momentum - 1)
                update = newton_schulz(g + momentum * m[n])
                w = w - lr * update * np.sqrt(max(w.shape)) * rms_rate
            weights[n] = w
    return weights


def test_muon_matches_kerass_formula_for_each_kind_of_variable():
    named = [("dense/kernel", RNG.normal(size=(4, 6))), ("dense/bias", RNG.normal(size=6)),
             ("embedding/embeddings", RNG.normal(size=(5, 3))), ("head/kernel", RNG.normal(size=(6, 2))),
             ("tall/kernel", RNG.normal(size=(7, 3)))]
    grads = [[RNG.normal(size=w.shape) for _, w in named] for _ in range(3)]
    variables = [cr.Variable(w, name=n) for n, w in named]
    optimizer = keras.optimizers.Muon(learning_rate=0.02, exclude_layers=["head"], weight_decay=0.01,
                                      adam_weight_decay=0.003)
    for step in grads:
        optimizer.apply_gradients([(cr.constant(g), v) for g, v in zip(step, variables)])
    want = keras_muon_reference(named, grads, 0.02, wd=0.01, adam_wd=0.003, exclude=("head",))
    for (name, _), variable in zip(named, variables):
        np.testing.assert_allclose(variable.numpy(), want[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_muon_config_state_and_training():
    optimizer = keras.optimizers.get("muon")
    config = optimizer.get_config()
    assert config["weight_decay"] == 0.004 and config["ns_steps"] == 5 and config["rms_rate"] == 0.2
    assert keras.optimizers.Muon.from_config(config).get_config() == config
    x = RNG.normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Muon(learning_rate=0.02), "mse")
    losses = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    state = model.optimizer.get_state()
    fresh = keras.optimizers.Muon(learning_rate=0.02)
    fresh.build(model.trainable_variables)
    fresh.set_state(state)
    assert int(fresh.iterations) == int(model.optimizer.iterations)
    with pytest.raises(ValueError, match="ns_steps"):
        keras.optimizers.Muon(ns_steps=-1)


# --- use_ema and SwapEMAWeights ---------------------------------------------------------------------------------------
def test_ema_follows_kerass_rule_and_overwrites():
    w0 = RNG.normal(size=(3, 2))
    grads = [RNG.normal(size=(3, 2)) for _ in range(4)]
    v = cr.Variable(w0)
    optimizer = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8)
    w, average = w0.copy(), None
    for step, g in enumerate(grads):
        optimizer.apply_gradients([(cr.constant(g), v)])
        w = w - 0.1 * g
        average = w.copy() if step == 0 else 0.8 * average + 0.2 * w  # momentum 0 on the first step
        np.testing.assert_allclose(v.numpy(), w, rtol=1e-12)
        np.testing.assert_allclose(optimizer.average_of(v), average, rtol=1e-12)
    optimizer.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), average, rtol=1e-12)
    every2 = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    u = cr.Variable(w0)
    for g in grads[:2]:
        every2.apply_gradients([(cr.constant(g), u)])
    np.testing.assert_allclose(u.numpy(), every2.average_of(u), rtol=1e-12)  # overwritten on the second step


def test_ema_state_config_and_errors():
    optimizer = keras.optimizers.Adam(0.01, use_ema=True, ema_momentum=0.95, ema_overwrite_frequency=3)
    v = cr.Variable(RNG.normal(size=4))
    optimizer.apply_gradients([(cr.constant(RNG.normal(size=4)), v)])
    state = optimizer.get_state()
    assert "0/average" in state
    fresh = keras.optimizers.Adam.from_config(optimizer.get_config())
    assert fresh.use_ema and fresh.ema_momentum == 0.95 and fresh.ema_overwrite_frequency == 3
    fresh.build([v])
    fresh.set_state(state)
    np.testing.assert_allclose(fresh.average_of(v), optimizer.average_of(v))
    with pytest.raises(ValueError, match="ema_momentum"):
        keras.optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        keras.optimizers.SGD(use_ema=True, ema_overwrite_frequency=-1)
    assert "use_ema" not in keras.optimizers.SGD().get_config()


def ema_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.9), "mse")
    return model


def test_fit_ends_with_the_averages_and_swap_ema_weights_evaluates_with_them():
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-1.0]], "float32")

    class Before(keras.callbacks.Callback):  # runs before SwapEMAWeights: the averages as they are
        def on_test_begin(self, logs=None):
            self.average = np.array(self.model.optimizer.average_of(self.model.layers[0].kernel))

    class After(keras.callbacks.Callback):  # runs after it: the model should hold them now
        def on_test_begin(self, logs=None):
            self.swapped = np.allclose(self.model.layers[0].kernel.numpy(), before.average)

    model = ema_model()
    before, after = Before(), After()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_data=(x, y),
              callbacks=[before, keras.callbacks.SwapEMAWeights(), after])
    assert after.swapped
    kernel = model.layers[0].kernel
    np.testing.assert_allclose(kernel.numpy(), model.optimizer.average_of(kernel), rtol=1e-6)  # finalized
    before = kernel.numpy().copy()
    model.optimizer.average_of(kernel)[...] += 1.0  # an average that differs from the weights
    swap = keras.callbacks.SwapEMAWeights()
    with_average = model.evaluate(x, y, verbose=0, callbacks=[swap])
    np.testing.assert_allclose(kernel.numpy(), before)  # swapped back afterwards
    plain = model.evaluate(x, y, verbose=0)
    assert with_average != plain
    with pytest.raises(ValueError, match="use_ema"):
        plain_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        plain_model.compile("sgd", "mse")
        plain_model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                        callbacks=[keras.callbacks.SwapEMAWeights()])


def test_swap_on_epoch_leaves_the_averages_for_the_final_weights():
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    swapped, plain = ema_model(), ema_model()
    plain.set_weights(swapped.get_weights())
    swapped.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    plain.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    # the same training, swaps or not: both end with the same averages as weights
    for a, b in zip(swapped.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
