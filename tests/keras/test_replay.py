"""fit's traced steps (chainrule/engine/tracer.py): replaying gives the eager step's results bit for bit, is used
where it is safe, and is refused (steps stay eager) where a replay could not repeat the step."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import models
from chainrule.cli import zoo
from chainrule.engine.tracer import Program

keras = cr.keras
L = keras.layers


def _data(n=75, shape=(28, 28, 1), classes=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n,) + shape, dtype=np.float32)
    return x, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


def _train(build, x, y, run_eagerly, optimizer=lambda: keras.optimizers.Adam(1e-3),
           loss="categorical_crossentropy", epochs=2, batch_size=16, **fit):
    cr.keras.utils.set_random_seed(7)
    model = build()
    model.compile(optimizer=optimizer(), loss=loss, metrics=["accuracy"], run_eagerly=run_eagerly)
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, **fit)
    return model, history.history


def _assert_same_training(build, x, y, **kwargs):
    eager, eager_history = _train(build, x, y, True, **kwargs)
    replays = []
    run = Program.run
    Program.run = lambda self, *args: replays.append(1) or run(self, *args)
    try:
        replayed, replayed_history = _train(build, x, y, False, **kwargs)
    finally:
        Program.run = run
    assert replays  # the test compares something
    assert replayed_history == eager_history
    for a, b in zip(eager.get_weights(), replayed.get_weights()):
        assert a.tobytes() == b.tobytes()
    return replayed


def _functional():
    inputs = keras.Input((6,))
    a = L.Dense(8, activation="relu")(inputs)
    b = L.Dense(8, activation="tanh")(inputs)
    shared = L.Dense(8, activation="sigmoid")  # one layer called twice: its weights get two gradient terms
    merged = L.Concatenate()([L.Add()([shared(a), shared(b)]), a])
    return keras.Model(inputs, L.Dense(3, activation="softmax")(merged))


@pytest.mark.parametrize("network", ["cnn", "mlp", "deep-cnn"])
def test_the_benchmark_networks_train_bit_for_bit_as_eagerly(network):
    x, y = _data(40 if network == "deep-cnn" else 75)  # 75 = 4 batches of 16 and a last batch of 11
    _assert_same_training(lambda: zoo.build(network), x, y)


@pytest.mark.parametrize("case", ["functional-sgd-momentum", "sparse-labels", "mse-l2-rmsprop", "pooling-same",
                                  "dropout", "batch-norm"])
def test_other_models_losses_and_optimizers_train_bit_for_bit_as_eagerly(case):
    rng = np.random.default_rng(1)
    if case == "functional-sgd-momentum":
        x, y = _data(50, (6,), 3)
        _assert_same_training(_functional, x, y, optimizer=lambda: keras.optimizers.SGD(0.1, momentum=0.9))
    elif case == "sparse-labels":
        x = rng.random((50, 6), dtype=np.float32)
        y = rng.integers(0, 4, 50)
        _assert_same_training(lambda: keras.Sequential([L.Dense(5, activation="relu", input_shape=(6,)),
                                                        L.Dense(4, activation="softmax")]),
                              x, y, loss="sparse_categorical_crossentropy")
    elif case == "mse-l2-rmsprop":
        x = rng.standard_normal((50, 5)).astype(np.float32)
        y = x @ rng.standard_normal((5, 2)).astype(np.float32)
        _assert_same_training(lambda: keras.Sequential([
            L.Dense(7, activation="elu", kernel_regularizer="l2", input_shape=(5,)),
            L.Dense(2, bias_regularizer=keras.regularizers.L1(0.01))]),
            x, y, loss="mse", optimizer=lambda: keras.optimizers.RMSprop(1e-2))
    elif case == "dropout":  # a new mask on every replayed step, the same masks as eagerly
        x, y = _data(64, (6,), 3)
        _assert_same_training(lambda: keras.Sequential([
            L.Dense(16, activation="relu", input_shape=(6,)), L.Dropout(0.5), L.Dense(16, activation="relu"),
            L.Dropout(0.3, seed=4), L.Dense(3, activation="softmax")]), x, y, epochs=3)
    elif case == "batch-norm":  # the moving statistics (weights too) are updated on every replayed step
        x, y = _data(40, (10, 10, 2), 4)
        model = _assert_same_training(lambda: keras.Sequential([
            L.Conv2D(4, 3, input_shape=(10, 10, 2)), L.BatchNormalization(), L.Activation("relu"), L.Flatten(),
            L.Dense(6), L.BatchNormalization(momentum=0.5), L.Dense(4, activation="softmax")]), x, y, epochs=3)
        assert not np.allclose(model.layers[5].moving_mean.numpy(), 0.0)
    else:
        x, y = _data(40, (12, 12, 3), 5)
        _assert_same_training(lambda: keras.Sequential([
            L.Conv2D(4, 3, padding="same", activation="relu", input_shape=(12, 12, 3)),
            L.MaxPooling2D(3, strides=2, padding="same"), L.Conv2D(6, 2), L.AveragePooling2D(),
            L.GlobalAveragePooling2D(), L.Dense(5, activation="softmax")]), x, y)


def _count_calls(monkeypatch, cls=models.Sequential):
    calls = []
    original = cls.call
    monkeypatch.setattr(cls, "call", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    return calls


def test_after_the_building_and_recorded_steps_fit_replays_without_calling_the_layers(monkeypatch):
    x, y = _data(16 * 6, (6,), 3)
    model = keras.Sequential([L.Dense(4, activation="relu", input_shape=(6,)), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    calls = _count_calls(monkeypatch)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(calls) == 2  # 12 steps: one is traced, one traced again to check it, ten are replayed
    assert model._step_functions == {}  # fit lets go of the traced arrays when it ends


def test_run_eagerly_calls_the_layers_on_every_step(monkeypatch):
    x, y = _data(16 * 3, (6,), 3)
    model = keras.Sequential([L.Dense(3, activation="softmax", input_shape=(6,))])
    model.compile(optimizer="adam", loss="categorical_crossentropy", run_eagerly=True)
    calls = _count_calls(monkeypatch)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(calls) == 6 and model.run_eagerly


def _records_after_steps(model, x, y, steps=3, **kwargs):
    """What train_on_batch keeps for the batch's signature after ``steps`` calls: the Program, or why not."""
    for _ in range(steps):
        model.train_on_batch(x, y, **kwargs)
    traced = model._step_functions["train"]
    return traced.programs + list(traced.refusals.values())


class MyDense(L.Dense):
    pass


class NumpyScale(L.Layer):
    """A user's layer that computes outside the ops (its output is a NumPy result wrapped as a tensor)."""

    def call(self, inputs):
        return cr.Tensor(inputs.data * 2.0)


class CountingScale(L.Layer):
    """A user's layer whose call uses a Python value that changes on every call (a replay would freeze it)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def call(self, inputs):
        self.calls += 1
        return inputs * float(self.calls)


class Opaque(L.Dense):
    _traceable = False  # it says it works outside the ops


@pytest.mark.parametrize("case", ["subclassed-layer", "own-activation", "own-loss", "activity-regularizer"])
def test_a_users_layers_activations_and_losses_written_with_ops_are_replayed_bit_for_bit(case):
    """The user's own parts trace as chainrule's do (Keras traces them in a tf.function too), when made of ops."""
    x, y = _data(48, (6,), 3)
    hidden = {"subclassed-layer": lambda: MyDense(5, input_shape=(6,)),
              "own-activation": lambda: L.Dense(5, activation=lambda t: t * 2.0, input_shape=(6,)),
              "activity-regularizer": lambda: L.Dense(5, activity_regularizer="l2", input_shape=(6,))
              }.get(case, lambda: L.Dense(5, input_shape=(6,)))
    loss = {"own-loss": lambda t, p: cr.reduce_mean((t - p) ** 2, axis=-1)}.get(case, "categorical_crossentropy")
    _assert_same_training(lambda: keras.Sequential([hidden(), L.Dense(3, activation="softmax")]),
                          x, y, loss=loss, optimizer=lambda: keras.optimizers.SGD(0.1), epochs=3)


@pytest.mark.parametrize("case, reason", [
    ("numpy-layer", "computed outside the ops"), ("python-counter", "changed between two calls"),
    ("declared-untraceable", "_traceable = False"), ("float-sparse-labels", "computed outside the ops")])
def test_steps_a_replay_could_not_repeat_stay_eager_and_say_why(case, reason, caplog):
    x, y = _data(16, (6,), 3)
    hidden = {"numpy-layer": [L.Dense(5, input_shape=(6,)), NumpyScale()],
              "python-counter": [L.Dense(5, input_shape=(6,)), CountingScale()],
              "declared-untraceable": [Opaque(5, input_shape=(6,))],
              }.get(case, [L.Dense(5, input_shape=(6,))])
    model = keras.Sequential(hidden + [L.Dense(3, activation="softmax")])
    loss = "sparse_categorical_crossentropy" if case == "float-sparse-labels" else "categorical_crossentropy"
    if case == "float-sparse-labels":
        y = np.argmax(y, axis=-1).astype(np.float32)
    model.compile(optimizer="sgd", loss=loss)
    with caplog.at_level("INFO", logger="chainrule.engine.tracer"):
        (recorded,) = _records_after_steps(model, x, y)
    assert isinstance(recorded, str) and reason in recorded
    assert sum(reason in r.getMessage() for r in caplog.records) == 1  # logged once


def test_a_python_value_that_changes_keeps_the_steps_eager_with_the_eager_results():
    x, y = _data(16, (6,), 3)
    model = keras.Sequential([L.Dense(5, input_shape=(6,)), CountingScale(), L.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    before = model.layers[1].calls  # (building the model called it on symbolic inputs)
    for _ in range(5):
        model.train_on_batch(x, y)
    assert model.layers[1].calls == before + 5  # every step ran the layer, so the counter went on


def test_sample_weights_and_several_inputs_are_traced_and_replayed_bit_for_bit():
    x, y = _data(48, (6,), 3)
    weights = np.random.default_rng(2).random(48).astype(np.float32)
    single = lambda: keras.Sequential([L.Dense(3, activation="softmax", input_shape=(6,))])  # noqa: E731
    _assert_same_training(single, x, y, sample_weight=weights, optimizer=lambda: keras.optimizers.SGD(0.1), epochs=3)

    def two_inputs():
        a, b = keras.Input((6,)), keras.Input((6,))
        return keras.Model([a, b], L.Dense(3, activation="softmax")(L.Add()([a, b])))
    _assert_same_training(two_inputs, [x, x[::-1].copy()], y, optimizer=lambda: keras.optimizers.SGD(0.1), epochs=3)
    model = single()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    (recorded,) = _records_after_steps(model, x[:16], y[:16], sample_weight=weights[:16])
    assert isinstance(recorded, Program)


def test_a_replayed_step_reads_the_weights_as_they_are_now():
    x, y = _data(16, (6,), 3)
    model = keras.Sequential([L.Dense(3, activation="softmax", input_shape=(6,))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    (recorded,) = _records_after_steps(model, x, y)
    assert isinstance(recorded, Program)
    model.set_weights([np.zeros((6, 3), np.float32), np.zeros(3, np.float32)])
    model.reset_metrics()  # train_on_batch reports the mean loss since the last reset
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(np.log(3.0), rel=1e-6)  # uniform predictions


def test_a_non_finite_loss_in_a_replayed_step_stops_training_without_applying_it():
    x, y = _data(16 * 5, (6,), 3)
    x[16 * 3] = np.nan  # the fourth batch: after the two traced steps and one replayed step
    weights = {}
    for eager in (True, False):
        cr.keras.utils.set_random_seed(3)
        model = keras.Sequential([L.Dense(3, activation="softmax", input_shape=(6,))])
        model.compile(optimizer="sgd", loss="categorical_crossentropy", run_eagerly=eager)
        with pytest.warns(RuntimeWarning, match="batch 4"):
            model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        weights[eager] = model.get_weights()
    for a, b in zip(weights[True], weights[False]):
        assert np.isfinite(b).all() and a.tobytes() == b.tobytes()


def test_a_model_compiled_without_a_loss_still_evaluates_and_predicts():
    x, y = _data(8, (6,), 3)
    model = keras.Sequential([L.Dense(3, input_shape=(6,))])
    model.compile(optimizer="sgd", metrics=["mae"])
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] == 0.0
    assert model.predict(x, verbose=0).shape == (8, 3)
