"""Model.fit: History, validation, data sources (arrays, Dataset, generator), weights, NaN, progress output."""
import io
import math
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.data import Dataset
from chainrule.keras import layers


def data(n=96, features=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, :classes] * 3).argmax(axis=1)
    return x, y


def small_model(classes=3, features=12, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(features,)),
                              layers.Dense(classes, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_history_has_loss_metrics_and_validation_per_epoch():
    x, y = data()
    model = small_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=(x[:32], y[:32]), verbose=0)
    assert isinstance(history, keras.callbacks.History) and model.history is history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert all(isinstance(v, float) for values in history.history.values() for v in values)
    assert history.epoch == [0, 1, 2]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_validation_split_takes_the_last_fraction():
    x, y = data(n=100)
    model = small_model()
    history = model.fit(x, y, epochs=1, batch_size=10, validation_split=0.2, shuffle=True, verbose=0)
    val_loss, val_acc = model.evaluate(x[80:], y[80:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(val_acc)
    other_loss, _ = model.evaluate(x[:20], y[:20], verbose=0)
    assert other_loss != pytest.approx(val_loss, rel=1e-6)


def test_validation_split_rejects_datasets():
    x, y = data()
    with pytest.raises(ValueError, match="validation_split"):
        small_model().fit(Dataset.from_tensor_slices((x, y)).batch(8), validation_split=0.2, verbose=0)


def test_fit_on_dataset_ignores_batch_size():
    x, y = data()
    seen = []
    model = small_model()
    cb = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(batch))
    dataset = Dataset.from_tensor_slices((x, y)).shuffle(96, seed=0).batch(32)
    history = model.fit(dataset, batch_size=5, epochs=2, callbacks=[cb], verbose=0,
                        validation_data=Dataset.from_tensor_slices((x, y)).batch(48))
    assert seen == [0, 1, 2] * 2
    assert len(history.history["val_loss"]) == 2


def test_fit_on_generator_with_steps_per_epoch_and_running_out():
    x, y = data()

    def batches():
        while True:
            for i in range(0, 96, 16):
                yield x[i:i + 16], y[i:i + 16]

    model = small_model()
    history = model.fit(batches(), steps_per_epoch=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert int(model.optimizer.iterations) == 12

    finite = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 96, 16))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = small_model().fit(finite, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


def test_steps_per_epoch_on_arrays_continues_across_epochs():
    x, y = data(n=64)
    model = small_model()
    model.fit(x, y, batch_size=16, steps_per_epoch=3, epochs=4, verbose=0)
    assert int(model.optimizer.iterations) == 12


def test_initial_epoch_and_validation_freq():
    x, y = data()
    history = small_model().fit(x, y, epochs=4, initial_epoch=1, validation_data=(x, y), validation_freq=2,
                                verbose=0)
    assert history.epoch == [1, 2, 3]
    assert len(history.history["loss"]) == 3 and len(history.history["val_loss"]) == 2  # epochs 2 and 4


def test_sample_weight_and_class_weight_scale_the_loss():
    x, y = data(n=30)
    model = small_model()
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    per_sample = keras.losses.SparseCategoricalCrossentropy(reduction="none")(y, model.predict(x, verbose=0))
    per_sample = per_sample.numpy()
    weights = np.where(y == 0, 2.0, 0.5).astype("float32")
    h1 = model.fit(x, y, batch_size=30, sample_weight=weights, shuffle=False, verbose=0)
    assert h1.history["loss"][0] == pytest.approx(float((per_sample * weights).mean()), rel=1e-5)
    h2 = model.fit(x, y, batch_size=30, class_weight={0: 2.0, 1: 0.5, 2: 0.5}, shuffle=False, verbose=0)
    assert h2.history["loss"][0] == pytest.approx(h1.history["loss"][0], rel=1e-6)
    both = dict(sample_weight=weights, class_weight={0: 2.0, 1: 0.5, 2: 0.5})
    with pytest.raises(ValueError, match="`sample_weight` and `class_weight` cannot be specified at the same time"):
        model.fit(x, y, verbose=0, **both)  # Keras refuses the pair rather than guess how to combine them
    with pytest.raises(ValueError, match="cannot be specified at the same time"):
        model.train_on_batch(x, y, **both)


def test_stop_training_from_a_callback_ends_after_the_batch():
    x, y = data()
    model = small_model()

    def stop(batch, logs):
        if batch == 1:
            model.stop_training = True

    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0,
                        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=stop)])
    assert len(history.history["loss"]) == 1
    assert int(model.optimizer.iterations) == 2


def test_nan_loss_stops_training_with_a_message_naming_epoch_and_batch():
    x, y = data(n=64)
    x[40] = np.nan  # in the third batch of 16
    model = small_model()
    before = model.get_weights()
    with pytest.warns(RuntimeWarning, match=r"nan at epoch 1, batch 3"):
        history = model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])
    assert int(model.optimizer.iterations) == 2  # the NaN batch's update was not applied
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_set_random_seed_gives_bit_identical_training():
    x, y = data()

    def run():
        model = small_model(seed=123)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_uint8_inputs_and_float64_targets_are_cast():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (40, 12)).astype(np.uint8)
    y = rng.random((40, 2))  # float64
    model = keras.Sequential([layers.Dense(2, input_shape=(12,))])
    model.compile("sgd", "mse")
    history = model.fit(x / 255.0, y, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    history = model.fit(x, y, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(w.dtype == np.float32 for w in model.get_weights())


# --- progress output -------------------------------------------------------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def fit_output(monkeypatch, verbose, tty: bool, epochs=2):
    out = FakeTTY() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    x, y = data(n=64)
    small_model().fit(x, y, batch_size=8, epochs=epochs, verbose=verbose, validation_data=(x[:8], y[:8]))
    return out.getvalue()


def test_verbose_0_prints_nothing(monkeypatch):
    assert fit_output(monkeypatch, 0, tty=True) == ""


def test_verbose_2_prints_one_line_per_epoch(monkeypatch):
    text = fit_output(monkeypatch, 2, tty=True)
    assert "\r" not in text
    lines = text.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("8/8") and "loss:" in lines[1] and "accuracy:" in lines[1]
    assert "val_loss:" in lines[1] and "val_accuracy:" in lines[1]
    assert len(lines) == 4


def test_verbose_1_on_a_terminal_rewrites_one_line(monkeypatch):
    text = fit_output(monkeypatch, 1, tty=True)
    assert "\r" in text and "[" in text and "Epoch 1/2" in text
    last_line = text.split("\n")[1].split("\r")[-1]
    assert last_line.startswith("8/8 [") and "val_loss:" in last_line


def test_verbose_1_off_a_terminal_prints_the_final_line_only(monkeypatch):
    text = fit_output(monkeypatch, 1, tty=False)
    assert "\r" not in text
    assert len(text.strip().splitlines()) == 4


def test_verbose_auto_follows_the_terminal(monkeypatch):
    assert "\r" in fit_output(monkeypatch, "auto", tty=True)
    text = fit_output(monkeypatch, "auto", tty=False)
    assert "\r" not in text and "[" not in text  # verbose=2 style: no bar


def test_single_epoch_has_no_epoch_header(monkeypatch):
    assert "Epoch" not in fit_output(monkeypatch, 2, tty=False, epochs=1)


def test_evaluate_and_predict_print_a_bar_when_verbose(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    x, y = data(n=64)
    model = small_model()
    model.evaluate(x, y, batch_size=16, verbose=1)
    model.predict(x, batch_size=16, verbose=1)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("4/4") and "loss:" in lines[0] and lines[1].startswith("4/4")


def test_a_custom_train_step_drives_fit():
    import chainrule as cr

    class Custom(keras.Sequential):
        def train_step(self, data):
            x, y = data
            with cr.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss, "twice": loss * 2}

    keras.utils.set_random_seed(0)
    model = Custom([layers.Dense(3, activation="softmax", input_shape=(12,))])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    x, y = data()
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "twice"}
    assert history.history["twice"][0] == pytest.approx(2 * history.history["loss"][0])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert int(model.optimizer.iterations) == 9


def test_a_keras_style_sequence_is_read_batch_by_batch():
    x, y = data()

    class Batches:
        def __init__(self):
            self.epochs_ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]

        def on_epoch_end(self):
            self.epochs_ended += 1

    batches = Batches()
    model = small_model()
    model.fit(batches, epochs=2, verbose=0)
    assert batches.epochs_ended == 2 and int(model.optimizer.iterations) == 6
    assert model.predict(batches, verbose=0).shape == (96, 3)


def test_the_live_bar_shows_the_running_averages_as_they_are(monkeypatch):
    out = FakeTTY()
    monkeypatch.setattr(sys, "stdout", out)
    x, y = data(n=64)
    model = small_model()
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=1)
    final = out.getvalue().split("\r")[-1]
    assert f"loss: {history.history['loss'][0]:.4f}" in final
    assert f"accuracy: {history.history['accuracy'][0]:.4f}" in final


# --- the Keras guide "Customizing what happens in fit()": a Model subclass that overrides train_step ----------------
def _regression(n=96, features=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, features)).astype("float32")
    return x, (x @ rng.random((features, 1)) + 0.1).astype("float32")


class GuideModel(keras.Model):
    """Keras 3's guide: compute_loss, optimizer.apply, then every metric in self.metrics updated and returned."""

    def train_step(self, data):
        x, y = data
        with cr.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_a_subclass_built_from_inputs_and_outputs_runs_the_guides_train_step():
    x, y = _regression()
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8,))
    model = GuideModel(inputs, layers.Dense(1)(inputs))
    assert isinstance(model, GuideModel) and type(model).__name__ == "GuideModel"
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0).history
    assert set(history) == {"loss", "mae"} and history["loss"][-1] < history["loss"][0]
    loss, mae = model.evaluate(x, y, verbose=0)  # the built-in test step on the same model
    assert mae == pytest.approx(float(np.abs(model.predict(x, verbose=0) - y).mean()), rel=1e-5)
    other = GuideModel(inputs=inputs, outputs=layers.Dense(1)(inputs))  # keywords too
    assert type(other) is type(model)


def test_tf2_style_train_step_with_compiled_loss_and_compiled_metrics():
    class TF2Model(keras.Model):
        def train_step(self, data):
            x, y = data
            with cr.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    x, y = _regression()
    inputs = keras.Input(shape=(8,))
    model = TF2Model(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=96, epochs=2, verbose=0).history
    assert set(history) == {"loss", "mae"} and history["loss"][0] > 0


def test_a_subclass_with_its_own_trackers_has_them_reset_each_epoch():
    class OwnTrackers(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def train_step(self, data):
            x, y = data
            with cr.GradientTape() as tape:
                loss = cr.reduce_mean(cr.square(self(x, training=True) - y))
            self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables),
                                               self.trainable_variables))
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self):
            return [self.loss_tracker]

    x, y = _regression()
    inputs = keras.Input(shape=(8,))
    model = OwnTrackers(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    model.fit(x, y, batch_size=24, epochs=3, verbose=0)
    assert float(np.asarray(model.loss_tracker.count)) == 4  # one epoch's batches: Keras resets them per epoch
