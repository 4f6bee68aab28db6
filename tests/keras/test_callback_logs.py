"""Every callback hook gets a logs dict as Keras passes it ({} at the *_begin hooks, the running results at the
*_end hooks, {'outputs': ...} at predict's batch end), a fresh copy per hook call shared by the callbacks in order.
The callbacks of Keras's guide "Writing your own callbacks" (Keras 3 version) run with only the import changed."""
import re

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


# --- the guide's program, from here to the next marker, with only the import changed -----------------------------
def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        keys = list(logs.keys())
        print("Starting training; got log keys: {}".format(keys))

    def on_train_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop training; got log keys: {}".format(keys))

    def on_epoch_begin(self, epoch, logs=None):
        keys = list(logs.keys())
        print("Start epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_epoch_end(self, epoch, logs=None):
        keys = list(logs.keys())
        print("End epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_test_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start testing; got log keys: {}".format(keys))

    def on_test_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop testing; got log keys: {}".format(keys))

    def on_predict_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start predicting; got log keys: {}".format(keys))

    def on_predict_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop predicting; got log keys: {}".format(keys))

    def on_train_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: start of batch {}; got log keys: {}".format(batch, keys))

    def on_train_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: end of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: start of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: end of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: start of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: end of batch {}; got log keys: {}".format(batch, keys))


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
        )

    def on_test_batch_end(self, batch, logs=None):
        print(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
        )

    def on_epoch_end(self, epoch, logs=None):
        print(
            "The average loss for epoch {} is {:7.2f} "
            "and mean absolute error is {:7.2f}.".format(
                epoch, logs["loss"], logs["mean_absolute_error"]
            )
        )


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing.

    Arguments:
        patience: Number of epochs to wait after min has been hit. After this
        number of no improvement, training stops.
    """

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        # best_weights to store the weights at which the minimum loss occurs.
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # The number of epoch it has waited when loss is no longer minimum.
        self.wait = 0
        # The epoch the training stops at.
        self.stopped_epoch = 0
        # Initialize the best as infinity.
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            # Record the best weights if current results is better (less).
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class CustomLearningRateScheduler(keras.callbacks.Callback):
    """Learning rate scheduler which sets the learning rate according to schedule.

    Arguments:
        schedule: a function that takes an epoch index
            (integer, indexed from 0) and current learning rate
            as inputs and returns a new learning rate as output (float).
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        # Get the current learning rate from model's optimizer.
        lr = self.model.optimizer.learning_rate
        # Call schedule function to get the scheduled learning rate.
        scheduled_lr = self.schedule(epoch, lr)
        # Set the value back to the optimizer before this epoch starts
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
    (9, 0.005),
    (12, 0.001),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr
# --- end of the guide's program ----------------------------------------------------------------------------------


def mnist_shaped(n=1000, seed=0):
    """The guide's data in shape: 784 features in [0, 1] and digit labels (a regression target here)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784)).astype("float32")
    return x, rng.integers(0, 10, n).astype("float32")


@pytest.fixture
def mnist():
    keras.utils.set_random_seed(0)
    x, y = mnist_shaped()
    return x, y, x[:200], y[:200]


def _keys(*names):
    return str(list(names))


def test_every_hook_of_the_guides_custom_callback_gets_a_logs_dict(mnist, capsys):
    x_train, y_train, x_test, y_test = mnist
    model = get_model()
    model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
              callbacks=[CustomCallback()])
    metrics = _keys("loss", "mean_absolute_error")
    with_val = _keys("loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error")
    train = [f"...Training: {when} of batch {b}; got log keys: {metrics if when == 'end' else []}"
             for b in range(4) for when in ("start", "end")]  # 500 training samples: 4 batches of 128
    test = [f"...Evaluating: {when} of batch {b}; got log keys: {metrics if when == 'end' else []}"
            for b in range(4) for when in ("start", "end")]
    assert capsys.readouterr().out.splitlines() == [
        "Starting training; got log keys: []", "Start epoch 0 of training; got log keys: []", *train,
        "Start testing; got log keys: []", *test, f"Stop testing; got log keys: {metrics}",
        f"End epoch 0 of training; got log keys: {with_val}", f"Stop training; got log keys: {with_val}"]

    model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    test = [f"...Evaluating: {when} of batch {b}; got log keys: {metrics if when == 'end' else []}"
            for b in range(2) for when in ("start", "end")]
    assert capsys.readouterr().out.splitlines() == [
        "Start testing; got log keys: []", *test, f"Stop testing; got log keys: {metrics}"]

    model.predict(x_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    predict = [f"...Predicting: {when} of batch {b}; got log keys: {['outputs'] if when == 'end' else []}"
               for b in range(2) for when in ("start", "end")]
    assert capsys.readouterr().out.splitlines() == [
        "Start predicting; got log keys: []", *predict, "Stop predicting; got log keys: []"]


def test_the_guides_loss_and_error_printing_callback_reads_the_running_means(mnist, capsys):
    x_train, y_train, x_test, y_test = mnist
    model = get_model()
    history = model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0,
                        callbacks=[LossAndErrorPrintingCallback()]).history
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * (8 + 1)  # 1000 samples: 8 batches, then the epoch's line
    assert all(re.fullmatch(r"Up to batch \d, the average loss is +[\d.]+\.", line) for line in lines[:8])
    assert lines[8] == ("The average loss for epoch 0 is {:7.2f} and mean absolute error is {:7.2f}."
                        .format(history["loss"][0], history["mean_absolute_error"][0]))
    loss = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[LossAndErrorPrintingCallback()])[0]
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "Up to batch 1, the average loss is {:7.2f}.".format(loss)  # the last running mean


def test_the_guides_early_stopping_at_min_loss_restores_the_best_weights(mnist, capsys):
    x_train, y_train, _, _ = mnist
    model = get_model()
    stopper = EarlyStoppingAtMinLoss()
    history = model.fit(x_train, y_train, batch_size=64, steps_per_epoch=5, epochs=30, verbose=0,
                        callbacks=[LossAndErrorPrintingCallback(), stopper]).history
    epochs = len(history["loss"])
    assert stopper.stopped_epoch == epochs - 1 and 0 < stopper.stopped_epoch < 29
    assert stopper.best == min(history["loss"]) and history["loss"][-1] >= stopper.best
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), stopper.best_weights))
    out = capsys.readouterr().out
    assert out.endswith(f"Restoring model weights from the end of the best epoch.\nEpoch {epochs}: early stopping\n")


def test_the_guides_learning_rate_scheduler_sets_the_rate_each_epoch(mnist, capsys):
    x_train, y_train, _, _ = mnist
    model = get_model()
    model.fit(x_train, y_train, batch_size=64, steps_per_epoch=5, epochs=15, verbose=0,
              callbacks=[LossAndErrorPrintingCallback(), CustomLearningRateScheduler(lr_schedule)])
    rates = [float(line.split("is ")[1].rstrip("."))
             for line in capsys.readouterr().out.splitlines() if "Learning rate" in line]
    expected = [0.1] * 3 + [0.05] * 3 + [0.01] * 3 + [0.005] * 3 + [0.001] * 3
    assert rates == pytest.approx(expected, rel=1e-6)
    assert float(np.array(model.optimizer.learning_rate)) == pytest.approx(0.001)


def test_hooks_get_a_dict_even_when_nothing_ran():
    seen = []
    spy = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append(("begin", logs)),
                                         on_train_end=lambda logs: seen.append(("end", logs)))
    x, y = mnist_shaped(n=32)
    model = get_model()
    model.fit(x, y, epochs=2, initial_epoch=2, verbose=0, callbacks=[spy])  # no epoch left to run
    assert seen == [("begin", {}), ("end", {})]


def test_each_hook_call_gets_its_own_copy_shared_by_the_callbacks_in_order():
    class AddsAKey(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            logs["seen_by_next"] = 1.0
            logs["loss"] = -1.0  # changes this call's copy only

        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 2.0

    class Reads(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batch_logs, self.epoch_logs = [], []

        def on_train_batch_end(self, batch, logs=None):
            self.batch_logs.append(dict(logs))

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_logs.append(dict(logs))

    x, y = mnist_shaped(n=64)
    reader = Reads()
    history = get_model().fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[AddsAKey(), reader]).history
    assert [logs["seen_by_next"] for logs in reader.batch_logs] == [1.0, 1.0]
    assert [logs["loss"] for logs in reader.batch_logs] == [-1.0, -1.0]
    assert history["loss"][0] > 0 and reader.epoch_logs[0]["loss"] == history["loss"][0]
    assert history["extra"] == [2.0]  # History comes after the user's callbacks, as in Keras


def test_a_custom_steps_tensors_reach_the_callbacks_as_python_floats():
    class TensorLogs(keras.Sequential):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(self(x, training=True)[:, 0] - y))
            self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables),
                                               self.trainable_variables))
            return {"loss": loss, "extra": {"scale": tf.constant(2.0)}}

    seen = []
    x, y = mnist_shaped(n=32)
    model = TensorLogs([keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(logs))])
    assert [sorted(logs) for logs in seen] == [["loss", "scale"]] * 2
    assert all(type(value) is float for logs in seen for value in logs.values())
    assert keras.callbacks.python_logs({"acc": tf.constant(0.5), "n": np.int64(3), "name": "x"}) == \
        {"acc": 0.5, "n": 3.0, "name": "x"}
