"""Training on a backend whose arrays live off the host, proven on the CPU with the strict backend (array-api-strict:
its arrays sit on a second device, as a GPU's do): ``fit`` keeps the arrays on the device for the whole run and
gathers each shuffled batch there, reads each step's loss one step late (``Backend.read_later``), skips a non-finite
loss's update, and accumulates the loss and accuracy metrics on the device; the results equal the NumPy backend's."""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from chainrule import backend, keras  # noqa: E402
from chainrule.keras.training.adapters import ArrayAdapter, on_device  # noqa: E402


def _fit(backend_name: str, optimizer, x, y, **fit_kwargs):
    backend.set_backend(backend_name)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, **fit_kwargs)
    return model, history.history, model.evaluate(x, y, verbose=0)


def _problem(rows: int = 80):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 1).astype(np.int32)


@pytest.mark.parametrize("optimizer", [lambda: keras.optimizers.Adam(0.01),
                                       lambda: keras.optimizers.Adam(0.01, amsgrad=True),
                                       lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)],
                         ids=["adam", "adam-amsgrad", "sgd-nesterov"])
def test_fit_on_a_device_equals_numpy(optimizer, restore_backend):
    x, y = _problem()
    device_model, device_history, device_eval = _fit("strict", optimizer, x, y, shuffle=True)
    assert not isinstance(device_model.weights[0].data, np.ndarray)  # trained where its arrays live
    numpy_model, numpy_history, numpy_eval = _fit("numpy", optimizer, x, y, shuffle=True)
    np.testing.assert_allclose(device_history["loss"], numpy_history["loss"], rtol=1e-5)
    assert device_history["accuracy"] == numpy_history["accuracy"]
    np.testing.assert_allclose(device_eval, numpy_eval, rtol=1e-5)
    for got, want in zip(device_model.get_weights(), numpy_model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_arrays_go_to_the_device_once_and_batches_are_gathered_there(restore_backend):
    backend.set_backend("strict")
    x = np.arange(20, dtype=np.uint8).reshape(10, 2)
    adapter = ArrayAdapter(x, np.arange(10), batch_size=4, shuffle=True)
    batches = list(adapter.epoch())
    kept = adapter._device
    assert list(adapter.epoch()) and adapter._device is kept  # the second epoch reuses the device copies
    xs = [backend.to_host(bx) for bx, _, _ in batches]
    ys = [backend.to_host(by) for _, by, _ in batches]
    assert all(not isinstance(bx, np.ndarray) for bx, _, _ in batches)
    assert xs[0].dtype == np.float32  # cast on the device, as the host path casts each batch
    np.testing.assert_array_equal(np.concatenate(xs), x[np.concatenate(ys)].astype(np.float32))
    assert sorted(np.concatenate(ys).tolist()) == list(range(10))


def test_text_and_class_weights_stay_on_the_host(restore_backend):
    backend.set_backend("strict")
    assert not ArrayAdapter(np.ones((2, 1)), np.arange(2), batch_size=2, class_weight={0: 1.0, 1: 2.0}) \
        ._fits_on_device()
    text, labels, _ = on_device((np.array(["a"]), np.arange(1), None))
    assert isinstance(text, np.ndarray) and not isinstance(labels, np.ndarray)


def test_a_non_finite_loss_on_a_device_stops_training_without_its_update(restore_backend):
    """The loss is read one step late on a device; the warning still names the batch whose loss was NaN, and that
    batch's update is not applied."""
    x, y = _problem(64)
    x[40] = np.nan  # the third batch of 16
    backend.set_backend("strict")
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    with pytest.warns(RuntimeWarning, match=r"nan at epoch 1, batch 3 \(step 2\)"):
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])
    assert all(np.isfinite(w).all() for w in model.get_weights())  # the NaN batch changed nothing


def test_read_later_gives_the_value(restore_backend):
    backend.set_backend("strict")
    value = backend.get_backend().from_host(np.array(2.5, np.float32))
    assert backend.extras_for(value).read_later(value)() == 2.5


def test_a_model_saved_on_a_device_loads_on_the_cpu_and_back(tmp_path, restore_backend):
    """The seed CNN trained and saved where its arrays live off the host, loaded on NumPy (same predictions),
    trained there (its optimizer state came along) and saved, then loaded and trained on the device again."""
    from chainrule.cli import zoo

    rng = np.random.default_rng(0)
    x, y = rng.random((32, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 32)
    backend.set_backend("strict")
    keras.utils.set_random_seed(0)
    model = zoo.build("cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "device.keras")
    on_device = model.predict(x, verbose=0)
    backend.set_backend("numpy")
    on_cpu = keras.models.load_model(tmp_path / "device.keras")
    assert all(type(w.data) is np.ndarray for w in on_cpu.weights)
    np.testing.assert_allclose(on_cpu.predict(x, verbose=0), on_device, rtol=1e-5, atol=1e-6)
    assert int(on_cpu.optimizer.iterations) == 2
    on_cpu.fit(x, y, batch_size=16, epochs=1, verbose=0)
    on_cpu.save(tmp_path / "cpu.keras")
    want = on_cpu.predict(x, verbose=0)
    backend.set_backend("strict")
    back = keras.models.load_model(tmp_path / "cpu.keras")
    assert not isinstance(back.weights[0].data, np.ndarray)
    np.testing.assert_allclose(back.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    back.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert int(back.optimizer.iterations) == 6


@pytest.mark.parametrize("network", ["cnn", "mlp"])
def test_a_training_step_moves_nothing_between_host_and_device(network, restore_backend, monkeypatch):
    """The transfer counter: on the strict backend every copy to or from the host goes through the backend's
    ``to_host`` / ``from_host`` (NumPy cannot read its arrays), so counting them counts the round trips. A step of
    ``fit``'s traced train function on a batch already on the device makes none; ``fit`` itself reads one loss per
    step, a step late, and moves the arrays over once."""
    from chainrule.cli import zoo
    from chainrule.keras.training.trainer import _pack

    backend.set_backend("strict")
    strict = backend.get_backend()
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 64)
    keras.utils.set_random_seed(0)
    model = zoo.build(network)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    counts = {"to_host": 0, "from_host": 0}
    for name in counts:
        original = getattr(type(strict), name)

        def counted(self, array, _name=name, _original=original):
            counts[_name] += 1
            return _original(self, array)
        monkeypatch.setattr(type(strict), name, counted)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert counts["to_host"] <= 4 + 2  # one loss per step (4 steps), the epoch's logs
    step = model._step_function("train")
    batch = _pack(*on_device((x[:16], y[:16], None)))
    step(batch)  # traced
    counts.update(to_host=0, from_host=0)
    step(batch)
    step(batch)
    assert counts == {"to_host": 0, "from_host": 0}
