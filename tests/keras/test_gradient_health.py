"""GradientHealth: the seeds' demonstration of vanishing and exploding gradients, and their cures, as tests."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras.callbacks import GradientHealth
from chainrule.keras.utils import set_random_seed


def _data(rows=256, features=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features)).astype("float32")
    return x, (x[:, :8].sum(axis=1) > 0).astype("int64")


def _deep_mlp(activation: str, batch_norm: bool, depth: int = 20):
    """``depth`` Dense layers: ``depth - 1`` hidden ones of width 32 (each followed by BatchNormalization and the
    activation when ``batch_norm``), then a softmax over 2 classes."""
    stack = [keras.Input((16,))]
    for _ in range(depth - 1):
        if batch_norm:
            stack += [keras.layers.Dense(32), keras.layers.BatchNormalization(), keras.layers.Activation(activation)]
        else:
            stack.append(keras.layers.Dense(32, activation=activation))
    stack.append(keras.layers.Dense(2, activation="softmax"))
    return keras.Sequential(stack)


def _fit(model, x, y, optimizer="adam", loss="sparse_categorical_crossentropy", epochs=2, **kwargs):
    model.compile(optimizer=optimizer, loss=loss)
    health = GradientHealth(**kwargs)
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[health])
    return health


def test_twenty_layer_sigmoid_mlp_is_flagged_as_vanishing():
    set_random_seed(1)
    x, y = _data()
    model = _deep_mlp("sigmoid", batch_norm=False)
    report = _fit(model, x, y).report()
    finding = report.vanishing
    assert finding is not None, str(report)
    hidden = [layer.name for layer in model.layers[:-1]]
    assert finding.layer in hidden  # a hidden layer is named, not the output layer
    assert finding.epochs == [0, 1]
    assert any("ReLU" in cure for cure in finding.cures) and any("BatchNormalization" in cure for cure in finding.cures)
    assert report.exploding is None


def test_first_layer_gradient_is_orders_of_magnitude_below_the_last_in_the_sigmoid_mlp():
    set_random_seed(1)
    x, y = _data()
    model = _deep_mlp("sigmoid", batch_norm=False)
    health = _fit(model, x, y, epochs=1)
    layers = health.history[0]["layers"]
    first, last = layers[model.layers[0].name]["grad_rms"], layers[model.layers[-1].name]["grad_rms"]
    assert last / first > 1e6
    # sigmoid outputs carry their statistics; the hidden layers' outputs stay in (0, 1)
    stats = layers[model.layers[5].name]
    assert stats["activation"] == "sigmoid" and 0.0 < stats["activation_mean"] < 1.0
    assert 0.0 <= stats["saturated_fraction"] <= 1.0


def test_the_same_net_with_relu_and_batch_normalization_is_not_flagged():
    set_random_seed(1)
    x, y = _data()
    report = _fit(_deep_mlp("relu", batch_norm=True), x, y).report()
    assert report.vanishing is None and report.exploding is None, str(report)


def _exploding_mlp():
    """Six ReLU layers whose initial weights are too large (std 0.5 for 64 inputs, He would be 0.18): activations
    grow about threefold per layer, and SGD's first steps on a regression target throw the weights away."""
    init = keras.initializers.RandomNormal(stddev=0.5, seed=3)
    return keras.Sequential([keras.Input((16,))] +
                            [keras.layers.Dense(64, activation="relu", kernel_initializer=init) for _ in range(6)] +
                            [keras.layers.Dense(1)])


def test_an_exploding_setup_is_flagged_and_gradient_clipping_cures_it():
    set_random_seed(2)
    x, _ = _data()
    target = 10.0 * x[:, :1]
    with pytest.warns(RuntimeWarning, match="loss is"):
        report = _fit(_exploding_mlp(), x, target, optimizer=keras.optimizers.SGD(0.01), loss="mse",
                      epochs=3).report()
    finding = report.exploding
    assert finding is not None, str(report)
    assert any("clipnorm" in cure for cure in finding.cures)
    assert "exploding at layer" in str(report)

    set_random_seed(2)
    clipped = _fit(_exploding_mlp(), x, target, optimizer=keras.optimizers.SGD(0.01, clipnorm=1.0), loss="mse",
                   epochs=3)
    report = clipped.report()
    assert report.exploding is None, str(report)
    assert len(clipped.history) == 3  # training went on to the end
    assert all(np.isfinite(s["grad_norm"]) for r in clipped.history for s in r["layers"].values() if "grad_norm" in s)


def test_dead_relu_layer_is_reported():
    set_random_seed(3)
    x, y = _data()
    model = keras.Sequential([keras.Input((16,)),
                              keras.layers.Dense(32, activation="relu", bias_initializer=keras.initializers.Constant(-50.0),
                                                 name="dead"),
                              keras.layers.Dense(2, activation="softmax")])
    health = _fit(model, x, y, epochs=1)
    assert health.history[0]["layers"]["dead"]["dead_fraction"] == 1.0
    finding = next(f for f in health.report().findings if f.kind == "dead_relu")
    assert finding.layer == "dead"


def test_measuring_does_not_change_training():
    """The extra pass restores BatchNormalization's moving statistics: the weights come out bit-identical."""
    x, y = _data(rows=96)
    results = []
    for callbacks in ([], [GradientHealth(samples_per_epoch=3)]):
        set_random_seed(4)
        model = _deep_mlp("relu", batch_norm=True, depth=4)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=callbacks)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_samples_per_epoch_batches_are_measured_and_the_batch_is_released():
    x, y = _data(rows=160)
    model = _deep_mlp("relu", batch_norm=False, depth=3)
    health = GradientHealth(samples_per_epoch=3)
    probes = []
    original = health._probe
    health._probe = lambda *args: probes.append(1) or original(*args)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[health])
    assert len(probes) == 6
    assert model._train_batch_data is None


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    set_random_seed(5)
    x, y = _data(rows=64)
    health = _fit(_deep_mlp("tanh", batch_norm=False, depth=4), x, y)
    health.plot(tmp_path / "health.png")
    assert (tmp_path / "health.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_and_empty_history():
    with pytest.raises(ValueError, match="samples_per_epoch"):
        GradientHealth(samples_per_epoch=0)
    with pytest.raises(ValueError, match="orders"):
        GradientHealth(orders=0)
    health = GradientHealth()
    assert "no epoch recorded" in str(health.report())
    with pytest.raises(ValueError, match="nothing recorded"):
        health.plot("never.png")


def test_a_model_that_computes_its_own_loss_gets_update_ratios_and_activations():
    class OwnLoss(keras.Model):
        """Computes its loss inside train_step, with no compiled loss: the callback cannot redo the loss."""

        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2, activation="tanh", name="dense")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((self(x, training=True) - y) ** 2)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}

    model = OwnLoss()
    model.compile(optimizer="sgd")
    health = GradientHealth()
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    model.fit(x, np.full((64, 2), 0.5, "float32"), epochs=1, batch_size=16, verbose=0, callbacks=[health])
    stats = health.history[0]["layers"]["dense"]
    assert stats["update_ratio"] > 0 and "saturated_fraction" in stats and "grad_norm" not in stats


def test_a_failing_measurement_warns_once_and_training_goes_on(monkeypatch):
    from chainrule.keras.callbacks import gradient_health

    def broken(*args, **kwargs):
        raise ValueError("no loss here")

    monkeypatch.setattr(gradient_health, "batch_gradients", broken)
    x, y = _data(rows=64)
    model = _deep_mlp("relu", batch_norm=False, depth=3)
    with pytest.warns(RuntimeWarning, match="measurement pass failed") as caught:
        health = _fit(model, x, y, epochs=2)
    assert len([w for w in caught if "measurement" in str(w.message)]) == 1
    assert len(health.history) == 2 and health.history[1]["layers"][model.layers[0].name]["update_ratio"] > 0
