"""The engine's step tracer (chainrule/engine/tracer.py): a traced and replayed function gives the eager results bit
for bit (ops, the one backward walk, the calls it repeats), on several models; what a replay could not repeat is
refused, with the reason, and runs eagerly."""
import logging

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import autograd, tracer
from chainrule.engine.tracer import TracedFunction

keras = cr.keras
L = keras.layers


def _batches(n=5, batch=8, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, features)).astype(np.float32),
             np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)]) for _ in range(n)]


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = L.Dense(7, activation="tanh")
        self.drop = L.Dropout(0.25, seed=11)
        self.out = L.Dense(3, activation="softmax")

    def call(self, x, training=False):
        return self.out(self.drop(self.hidden(x), training=training) * 2.0 + 1.0)


MODELS = {
    "mlp": lambda: keras.Sequential([L.Dense(8, activation="relu", input_shape=(6,)), L.Dense(3, activation="softmax")]),
    "batch-norm": lambda: keras.Sequential([L.Dense(8, input_shape=(6,)), L.BatchNormalization(momentum=0.5),
                                            L.Activation("relu"), L.Dense(3, activation="softmax")]),
    "dropout": lambda: keras.Sequential([L.Dense(16, activation="relu", input_shape=(6,)), L.Dropout(0.5),
                                         L.Dense(16, activation="relu"), L.Dropout(0.3, seed=4),
                                         L.Dense(3, activation="softmax")]),
    "subclassed": Subclassed,
}


def _train(build, batches, traced: bool, epochs=3):
    """A GradientTape step over ``batches`` (traced or eager); the weights (all, BatchNorm's statistics too) and the
    losses."""
    keras.utils.set_random_seed(5)
    model = build()
    optimizer = keras.optimizers.Adam(0.01)
    loss_fn = keras.losses.CategoricalCrossentropy()

    def step(x, y):
        with cr.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    if traced:
        step = TracedFunction(step)
    losses = [step(x, y).numpy().copy() for _ in range(epochs) for x, y in batches]
    return [w.numpy() for w in model.weights], losses, step


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_traced_step_replays_bit_for_bit_as_eagerly(name, replays):
    batches = _batches()
    eager_weights, eager_losses, _ = _train(MODELS[name], batches, traced=False)
    weights, losses, step = _train(MODELS[name], batches, traced=True)
    assert len(replays) >= 10 and not step.refusals
    assert [l.tobytes() for l in losses] == [l.tobytes() for l in eager_losses]
    for a, b in zip(eager_weights, weights):
        assert a.tobytes() == b.tobytes()


def test_batch_norm_statistics_and_dropout_masks_move_on_every_replay(replays):
    batches = _batches(n=1)
    weights = []
    model = MODELS["batch-norm"]()
    step = TracedFunction(lambda x: model(x, training=True))
    for _ in range(4):
        step(batches[0][0])
        weights.append(model.layers[1].moving_mean.numpy())
    assert len(replays) == 2 and not np.array_equal(weights[2], weights[3])
    drop = TracedFunction(lambda x: cr.nn.dropout(x, 0.5))
    masks = [drop(np.ones((4, 50), np.float32)).numpy() for _ in range(4)]
    assert not np.array_equal(masks[2], masks[3])  # a new mask on each replay


def test_the_replay_runs_the_engines_backward_walk(monkeypatch):
    """One walk: a replayed gradient goes through autograd.walk, as eager gradients do."""
    calls = []
    walk = autograd.walk
    monkeypatch.setattr(tracer, "walk", lambda *args: calls.append(1) or walk(*args))
    w = cr.Variable([1.0, 2.0])

    def grad_of(x):
        with cr.GradientTape() as tape:
            y = cr.reduce_sum(x * w * w)
        return tape.gradient(y, w)

    step = TracedFunction(grad_of)
    results = [step(np.array([1.0, 3.0], np.float32)).numpy() for _ in range(3)]
    assert calls == [1]  # the third call replayed the gradient with the engine's walk
    np.testing.assert_array_equal(results[2], [2.0, 12.0])


def test_signatures_nested_arguments_and_python_values():
    w = cr.Variable(np.ones((3, 2), np.float32))
    runs = []

    def f(batch, scale=1.0):
        runs.append(1)
        return {"out": cr.matmul(batch["x"], w) * scale + batch["b"]}

    step = TracedFunction(f)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 2), np.float32)
    for _ in range(4):
        out = step({"x": x, "b": b}, scale=2.0)
    assert len(runs) == 2  # traced twice, then replayed
    np.testing.assert_array_equal(out["out"].numpy(), x @ np.ones((3, 2)) * 2.0 + 1.0)
    step({"x": x, "b": b}, scale=3.0)  # a new Python value: a new signature, traced
    step({"x": x[:1], "b": b[:1]}, scale=2.0)  # a new shape too
    assert len(runs) == 4


def test_a_gradient_with_respect_to_an_input_and_an_assignment_are_repeated():
    counter = cr.Variable(0.0, trainable=False)

    def f(x):
        with cr.GradientTape() as tape:
            tape.watch(x)
            y = cr.reduce_sum(x * x)
        counter.assign_add(1.0)
        return tape.gradient(y, x)

    step = TracedFunction(f)
    for k in range(5):
        x = np.full(3, float(k), np.float32)
        np.testing.assert_array_equal(step(x).numpy(), 2 * x)
    assert float(counter.numpy()) == 5.0


def test_random_tensors_are_drawn_anew_on_each_replay_as_eagerly():
    def draws(traced):
        cr.random.set_seed(3)
        f = lambda x: x + cr.random.normal((2, 2))  # noqa: E731
        f = TracedFunction(f) if traced else f
        return [f(np.zeros((2, 2), np.float32)).numpy() for _ in range(4)]
    eager, traced = draws(False), draws(True)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(eager, traced))
    assert not np.array_equal(traced[2], traced[3])


def test_a_model_built_on_the_first_call_is_traced_again():
    model = keras.Sequential([L.Dense(2)])  # no input shape: built by its first call, which makes variables
    runs = []
    step = TracedFunction(lambda x: runs.append(1) or model(x))
    for _ in range(5):
        step(np.ones((2, 3), np.float32))
    assert len(runs) == 3  # the building call, then the two traces


class NumpyLayer(L.Layer):
    def call(self, x):
        return cr.Tensor(np.tanh(x.data))  # NumPy: outside the ops


class Opaque(L.Layer):
    _traceable = False

    def call(self, x):
        return x * 2.0


def _refusal(fn, *args, calls=3):
    step = TracedFunction(fn)
    outputs = [step(*args) for _ in range(calls)]
    (reason,) = step.refusals.values()
    assert not step.programs
    return reason, outputs


def test_refusals_say_why_and_the_calls_stay_eager(caplog):
    w = cr.Variable([1.0, 2.0])
    x = np.array([3.0, 4.0], np.float32)
    outside = np.array([1.0, 1.0], np.float32)
    counter = {"n": 0}

    def counting(x):
        counter["n"] += 1
        return x * float(counter["n"])

    def reads(x):
        y = x * w
        return y * 2.0 if float(cr.reduce_sum(y)) > 0 else y

    def backward(x):
        loss = cr.reduce_sum(x * w)
        loss.backward()
        return loss

    def second_order(x):
        with cr.GradientTape() as outer:
            with cr.GradientTape() as inner:
                y = cr.reduce_sum(w * w * w)
            g = inner.gradient(y, w)
        return outer.gradient(g, w)

    cases = {
        "computed outside the ops": lambda x: x * w + outside,
        "reads a traced value into Python": reads,
        "changed between two calls": counting,
        "Tensor.backward()": backward,
        "differentiable gradient": second_order,
        "_traceable = False": lambda x: Opaque()(x),
    }
    with caplog.at_level(logging.INFO, logger="chainrule.engine.tracer"):
        for expected, fn in cases.items():
            reason, _ = _refusal(fn, x)
            assert expected in reason, (expected, reason)
            assert any(expected in r.getMessage() for r in caplog.records)
    layer = NumpyLayer()
    reason, outputs = _refusal(lambda x: layer(x * w), x)
    assert "computed outside the ops" in reason
    np.testing.assert_allclose(outputs[-1].numpy(), np.tanh(x * [1.0, 2.0]), rtol=1e-6)
    assert counter["n"] == 3  # the refused function ran on every call


def test_a_refusal_is_logged_once():
    records = []

    class Handler(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("chainrule.engine.tracer")
    handler = Handler(logging.INFO)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        outside = np.ones(2, np.float32)
        step = TracedFunction(lambda x: x + outside)
        for _ in range(5):
            step(np.zeros(2, np.float32))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len(records) == 1 and "computed outside the ops" in records[0]


def test_run_functions_eagerly_turns_tracing_off():
    runs = []
    step = TracedFunction(lambda x: runs.append(1) or x * 2.0)
    tracer.run_functions_eagerly(True)
    try:
        for _ in range(4):
            step(np.ones(2, np.float32))
    finally:
        tracer.run_functions_eagerly(False)
    assert len(runs) == 4 and not step.programs


def test_comparisons_are_recomputed_on_replay_and_branching_on_them_refuses(replays):
    def relu_by_mask(x):
        return x * (x > 0.0)  # a mask from a comparison: no gradient, recomputed from each replay's x

    step = TracedFunction(relu_by_mask)
    for k in range(5):
        x = np.array([k - 2.0, 2.0 - k], np.float32)
        np.testing.assert_array_equal(step(x).numpy(), np.maximum(x, 0.0))
    assert len(replays) == 3

    def branches(x):
        return x * 2.0 if cr.reduce_sum(x) > 0.0 else x * -1.0  # Python control flow on the data

    reason, outputs = _refusal(branches, np.ones(2, np.float32))
    assert "reads a traced value into Python" in reason
    step = TracedFunction(branches)
    assert [float(cr.reduce_sum(step(np.full(2, v, np.float32)))) for v in (1.0, -1.0, 1.0, -1.0)] == \
        [4.0, 2.0, 4.0, 2.0]
