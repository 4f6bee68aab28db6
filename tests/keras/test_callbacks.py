"""Each callback's behaviour inside fit: hooks and their order, EarlyStopping (restoring the best weights with and
without stopping early), ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN, CSVLogger."""
import csv
import math

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import callbacks, layers


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype(np.int64)


def model_(lr=0.05):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                              layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Script(callbacks.Callback):
    """Writes a scripted value of ``key`` into the epoch logs (placed before the callback that reads it)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class WeightsAtEpochEnd(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.saved = []

    def on_epoch_end(self, epoch, logs=None):
        self.saved.append(self.model.get_weights())


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_hooks_run_in_keras_order_with_params_and_model():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin {epoch}")
        def on_train_batch_begin(self, batch, logs=None): events.append(f"batch_begin {batch}")
        def on_train_batch_end(self, batch, logs=None): events.append(f"batch_end {batch} {sorted(logs)}")
        def on_test_begin(self, logs=None): events.append("test_begin")
        def on_test_end(self, logs=None): events.append(f"test_end {sorted(logs)}")
        def on_epoch_end(self, epoch, logs=None): events.append(f"epoch_end {epoch} {sorted(logs)}")
        def on_train_end(self, logs=None): events.append("train_end")

    x, y = data(n=32)
    recorder = Recorder()
    model = model_()
    model.fit(x, y, batch_size=16, epochs=1, validation_data=(x, y), callbacks=[recorder], verbose=0)
    assert recorder.model is model
    assert recorder.params == {"verbose": 0, "epochs": 1, "steps": 2}
    assert events == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                      "batch_begin 1", "batch_end 1 ['accuracy', 'loss']", "test_begin",
                      "test_end ['accuracy', 'loss']",
                      "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']", "train_end"]


def test_callback_list_skips_batch_logs_when_nobody_reads_them():
    assert not callbacks.CallbackList([callbacks.History(), callbacks.EarlyStopping()])._implements_train_batch_hooks
    assert callbacks.CallbackList([callbacks.TerminateOnNaN()])._implements_train_batch_hooks
    assert callbacks.CallbackList([callbacks.LambdaCallback(on_batch_end=print)])._implements_train_batch_hooks


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = data()
    model = model_()
    record = WeightsAtEpochEnd()
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=10, callbacks=[Script("score", [3, 1, 2, 2, 0.5, 0, 0, 0, 0, 0]), record,
                                                      stop], verbose=0)
    assert len(history.history["loss"]) == 4  # epochs 2 and 3 did not improve on epoch 1: stop after epoch 3
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1 and stop.best == 1
    assert same_weights(model.get_weights(), record.saved[1])
    assert not same_weights(model.get_weights(), record.saved[3])


def test_early_stopping_restores_the_best_weights_when_training_ends_without_stopping():
    x, y = data()
    model = model_()
    record = WeightsAtEpochEnd()
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=5, restore_best_weights=True)
    history = model.fit(x, y, epochs=4, callbacks=[Script("score", [3, 1, 2, 2]), record, stop], verbose=0)
    assert len(history.history["loss"]) == 4 and stop.stopped_epoch == 0
    assert same_weights(model.get_weights(), record.saved[1])


def test_early_stopping_without_restore_keeps_the_last_weights_and_uses_val_loss():
    x, y = data()
    model = model_()
    record = WeightsAtEpochEnd()
    stop = callbacks.EarlyStopping(patience=1)  # monitor val_loss, direction inferred
    model.fit(x, y, epochs=3, validation_data=(x, y), callbacks=[Script("val_loss", [1, 2, 3]), record, stop],
              verbose=0)
    assert stop.stopped_epoch == 1
    assert same_weights(model.get_weights(), record.saved[-1])


def test_early_stopping_max_mode_baseline_and_start_from_epoch():
    x, y = data()
    values = [0.5, 0.6, 0.6, 0.6, 0.95]
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=2, baseline=0.9)
    history = model_().fit(x, y, epochs=5, validation_data=(x, y), verbose=0,
                           callbacks=[Script("val_accuracy", values), stop])
    assert len(history.history["loss"]) == 3  # improving without beating the baseline does not reset the wait
    plain = callbacks.EarlyStopping(monitor="val_accuracy", patience=2)
    history = model_().fit(x, y, epochs=5, validation_data=(x, y), verbose=0,
                           callbacks=[Script("val_accuracy", values), plain])
    assert len(history.history["loss"]) == 4
    late = callbacks.EarlyStopping(monitor="score", mode="min", patience=0, start_from_epoch=3)
    history = model_().fit(x, y, epochs=5, verbose=0, callbacks=[Script("score", [5, 6, 7, 8, 9]), late])
    assert len(history.history["loss"]) == 5  # epoch 3 sets the reference, epoch 4 is its first chance to stop


def test_early_stopping_warns_about_a_missing_monitor():
    x, y = data()
    with pytest.warns(UserWarning, match="val_loss"):
        model_().fit(x, y, epochs=1, callbacks=[callbacks.EarlyStopping()], verbose=0)


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    x, y = data()
    model = model_(lr=0.1)
    seen = []
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: seen.append(lr) or lr * 0.5)
    history = model.fit(x, y, epochs=3, callbacks=[schedule], verbose=0)
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0125)
    by_epoch = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    model.fit(x, y, epochs=2, callbacks=[by_epoch], verbose=0)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)


def test_reduce_lr_on_plateau_lowers_the_rate_with_cooldown_and_floor():
    x, y = data()
    model = model_(lr=0.1)
    reduce = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    history = model.fit(x, y, epochs=8, verbose=0, callbacks=[Script("score", [1.0] * 8), reduce])
    # as Keras: epoch 0 sets the best; waits 1, 2 -> halve; the cooldown epoch 3 ends its cooldown and waits (1),
    # 4 waits (2) -> halve; 5, 6 -> halve to 0.0125, floored at min_lr. Logged: the rate the epoch trained with.
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)
    more = model.fit(x, y, epochs=4, verbose=0, callbacks=[Script("score", [1.0] * 4), reduce])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)
    assert min(more.history["learning_rate"]) >= 0.02
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_keeps_the_rate_while_improving():
    x, y = data()
    model = model_(lr=0.1)
    reduce = callbacks.ReduceLROnPlateau(monitor="score", patience=1)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Script("score", [4.0, 3.0, 2.0, 1.0]), reduce])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)


def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    x, y = data()
    x[20] = np.nan
    model = model_()
    with pytest.warns(RuntimeWarning, match="batch 2"):
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                            callbacks=[callbacks.TerminateOnNaN()])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    assert len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])


def test_terminate_on_nan_on_its_own():
    class Dummy:
        stop_training = False

    cb = callbacks.TerminateOnNaN()
    cb.set_model(Dummy())
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not cb.model.stop_training
    cb.on_train_batch_end(1, {"loss": float("inf")})
    assert cb.model.stop_training


def test_terminate_on_nan_can_raise_as_keras_3():
    cb = callbacks.TerminateOnNaN(raise_error=True)
    cb.on_train_batch_end(0, {"loss": 1.0})
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 3. Loss value: nan"):
        cb.on_train_batch_end(3, {"loss": float("nan")})


def test_csv_logger_writes_one_row_per_epoch_and_appends(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model = model_()
    model.fit(x, y, epochs=2, validation_data=(x, y), callbacks=[callbacks.CSVLogger(path)], verbose=0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    history = model.history.history
    assert float(rows[2][2]) == pytest.approx(history["loss"][1])
    model.fit(x, y, epochs=1, callbacks=[callbacks.CSVLogger(path, separator=";", append=True)], verbose=0)
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;")


def test_lambda_callback_calls_its_functions():
    x, y = data()
    seen = {"begin": 0, "epochs": [], "batches": 0, "end": 0}
    cb = callbacks.LambdaCallback(on_train_begin=lambda logs: seen.__setitem__("begin", 1),
                                  on_epoch_end=lambda epoch, logs: seen["epochs"].append((epoch, "loss" in logs)),
                                  on_batch_end=lambda batch, logs: seen.__setitem__("batches", seen["batches"] + 1),
                                  on_train_end=lambda logs: seen.__setitem__("end", 1))
    model_().fit(x, y, batch_size=32, epochs=2, callbacks=[cb], verbose=0)
    assert seen == {"begin": 1, "epochs": [(0, True), (1, True)], "batches": 4, "end": 1}


def _io_saves():
    try:
        from chainrule.keras import saving as io
    except ImportError:
        return False
    return hasattr(io, "save_model") and hasattr(io, "save_weights")


needs_io = pytest.mark.skipif(not _io_saves(), reason="chainrule.keras.saving (model.save / save_weights) is not written yet")


@needs_io
def test_model_checkpoint_formats_the_path_and_saves_each_epoch(tmp_path):
    x, y = data()
    model = model_()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0,
              callbacks=[callbacks.ModelCheckpoint(pattern, save_best_only=False)])
    names = sorted(p.name for p in tmp_path.iterdir())
    losses = model.history.history["val_loss"]
    assert names == [f"ckpt-01-{losses[0]:.2f}.keras", f"ckpt-02-{losses[1]:.2f}.keras"]
    restored = keras.models.load_model(tmp_path / names[-1])
    assert same_weights(restored.get_weights(), model.get_weights())


@needs_io
def test_model_checkpoint_save_best_only_and_weights_only(tmp_path):
    x, y = data()
    model = model_()
    path = tmp_path / "best.weights.bin"
    record = WeightsAtEpochEnd()
    ckpt = callbacks.ModelCheckpoint(path, monitor="score", mode="max", save_best_only=True, save_weights_only=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Script("score", [0.1, 0.5, 0.3, 0.4]), record, ckpt])
    assert ckpt.best == 0.5
    fresh = model_()
    fresh.load_weights(path)
    assert same_weights(fresh.get_weights(), record.saved[1])
