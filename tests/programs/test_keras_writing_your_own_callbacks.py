"""Keras guide "Writing your own callbacks", run on chainrule.

Source: https://keras.io/guides/writing_your_own_callbacks/ (keras-team/keras-io,
guides/writing_your_own_callbacks.py, the tf.keras revision "Last modified: 2020/04/15").

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`;
- MNIST is replaced by 1000 training and 1000 test synthetic 28x28 images of 3 classes
  (tests/programs/mnist_like.py), in `load_data()`;
- `np.Inf` (removed in NumPy 2) is written `np.inf`;
- the learning-rate scheduling example trains 13 epochs instead of 15 (enough to pass
  every entry of LR_SCHEDULE);
- lines marked `# test:` record what the callbacks see, for the assertions.
"""

import numpy as np

import chainrule as tf
from chainrule import keras

import mnist_like


# Define the Keras model to add callbacks to
def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1, input_dim=784))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def load_data():
    # Load example MNIST data and pre-process it
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=1000, n_test=1000)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0

    # Limit the data to 1000 samples
    x_train = x_train[:1000]
    y_train = y_train[:1000]
    x_test = x_test[:1000]
    y_test = y_test[:1000]
    return (x_train, y_train), (x_test, y_test)


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print("For batch {}, loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        print("For batch {}, loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        print(
            "The average loss for epoch {} is {:7.2f} "
            "and mean absolute error is {:7.2f}.".format(
                epoch, logs["loss"], logs["mean_absolute_error"]
            )
        )


def test_basic_example(capsys):
    (x_train, y_train), (x_test, y_test) = load_data()

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

    model = get_model()
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        callbacks=[CustomCallback()],
    )

    res = model.evaluate(
        x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()]
    )

    res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])

    # test: the guide's printed log, line by line (500 training and 500 validation
    # samples in batches of 128: 4 batches each; 1000 test samples: 8 batches)
    lines = capsys.readouterr().out.splitlines()
    lines = [l for l in lines if l.startswith(("Start", "Stop", "End", "..."))]
    assert lines[0] == "Starting training; got log keys: []"
    assert lines[1] == "Start epoch 0 of training; got log keys: []"
    assert lines[2] == "...Training: start of batch 0; got log keys: []"
    assert lines[3] == ("...Training: end of batch 0; got log keys: "
                        "['loss', 'mean_absolute_error']")
    assert sum(l.startswith("...Training: end of batch") for l in lines) == 4
    assert "Start testing; got log keys: []" in lines
    end_epoch = [l for l in lines if l.startswith("End epoch 0")]
    assert end_epoch == ["End epoch 0 of training; got log keys: ['loss', "
                         "'mean_absolute_error', 'val_loss', 'val_mean_absolute_error']"]
    assert lines.index(end_epoch[0]) > lines.index("Start testing; got log keys: []")
    assert sum(l.startswith("...Evaluating: end of batch") for l in lines) == 4 + 8
    assert sum(l.startswith("...Predicting: end of batch") for l in lines) == 8
    assert "Start predicting; got log keys: []" in lines
    assert lines[-1] == "Stop predicting; got log keys: []"
    assert res.shape == (1000, 1)


def test_usage_of_logs_dict(capsys):
    (x_train, y_train), (x_test, y_test) = load_data()

    model = get_model()
    history = model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=2,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback()],
    )

    res = model.evaluate(
        x_test,
        y_test,
        batch_size=128,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback()],
    )

    # test: 8 batches per epoch, 2 epochs, then 8 test batches; the epoch lines print the
    # epoch's averages, which History records too
    out = capsys.readouterr().out.splitlines()
    assert sum(l.startswith("For batch") for l in out) == 8 * 2 + 8
    epoch_lines = [l for l in out if l.startswith("The average loss")]
    assert epoch_lines == [
        "The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}.".format(
            e, history.history["loss"][e], history.history["mean_absolute_error"][e])
        for e in range(2)]
    assert out[-1] == "For batch 7, loss is {:7.2f}.".format(res[0])


def test_early_stopping_at_minimum_loss(capsys):
    (x_train, y_train), (x_test, y_test) = load_data()

    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        """Stop training when the loss is at its min, i.e. the loss stops decreasing.

      Args:
          patience: Number of epochs to wait after min has been hit. After this
          number of no improvement, training stops.
      """

        def __init__(self, patience=0):
            super(EarlyStoppingAtMinLoss, self).__init__()
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
                print("Epoch %05d: early stopping" % (self.stopped_epoch + 1))

    model = get_model()
    early_stopping = EarlyStoppingAtMinLoss()  # test: kept, to read its state
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        steps_per_epoch=5,
        epochs=30,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback(), early_stopping],
    )

    # test: training stopped at the first epoch whose loss did not improve, and the
    # model holds the best epoch's weights
    losses = history.history["loss"]
    stopped = early_stopping.stopped_epoch
    assert 0 < stopped < 29
    assert len(losses) == stopped + 1
    assert losses[-1] >= min(losses[:-1])
    assert all(b < a for a, b in zip(losses[:-2], losses[1:-1]))
    for restored, best in zip(model.get_weights(), early_stopping.best_weights):
        np.testing.assert_array_equal(restored, best)
    out = capsys.readouterr().out
    assert "Epoch %05d: early stopping" % (stopped + 1) in out


def test_learning_rate_scheduling(capsys):
    (x_train, y_train), (x_test, y_test) = load_data()

    class CustomLearningRateScheduler(keras.callbacks.Callback):
        """Learning rate scheduler which sets the learning rate according to schedule.

      Args:
          schedule: a function that takes an epoch index
              (integer, indexed from 0) and current learning rate
              as inputs and returns a new learning rate as output (float).
      """

        def __init__(self, schedule):
            super(CustomLearningRateScheduler, self).__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self.model.optimizer, "lr"):
                raise ValueError('Optimizer must have a "lr" attribute.')
            # Get the current learning rate from model's optimizer.
            lr = float(tf.keras.backend.get_value(self.model.optimizer.learning_rate))
            # Call schedule function to get the scheduled learning rate.
            scheduled_lr = self.schedule(epoch, lr)
            # Set the value back to the optimizer before this epoch starts
            tf.keras.backend.set_value(self.model.optimizer.lr, scheduled_lr)
            print("\nEpoch %05d: Learning rate is %6.4f." % (epoch, scheduled_lr))

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

    model = get_model()
    model.fit(
        x_train,
        y_train,
        batch_size=64,
        steps_per_epoch=5,
        epochs=13,
        verbose=0,
        callbacks=[
            LossAndErrorPrintingCallback(),
            CustomLearningRateScheduler(lr_schedule),
        ],
    )

    # test: the learning rate each epoch began with, and the optimizer's last one
    out = capsys.readouterr().out
    rates = [float(l.split("is ")[1].rstrip(".")) for l in out.splitlines()
             if l.startswith("Epoch 000")]
    assert rates == [0.1] * 3 + [0.05] * 3 + [0.01] * 3 + [0.005] * 3 + [0.001]
    np.testing.assert_allclose(
        float(tf.keras.backend.get_value(model.optimizer.learning_rate)), 0.001, rtol=1e-6)
