"""Keras guide "Training & evaluation with the built-in methods", run on chainrule.

Source: https://keras.io/guides/training_with_built_in_methods/ (also
https://www.tensorflow.org/guide/keras/training_with_built_in_methods), the tf.keras
revision: keras-team/keras-io, guides/training_with_built_in_methods.py,
"Last modified: 2020/04/13".

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST is replaced by 896 training and 128 test synthetic 28x28 images of 10 classes
  (tests/programs/mnist_like.py), in `load_data()`, and the validation set reserves 128
  samples instead of 10,000;
- `steps_per_epoch=100` is 4 and `validation_steps=10` is 1 (the small set has 12 training and
  2 validation batches); the multi-input data has 64 samples instead of 100;
- `tf.one_hot(y_train, depth=10)` casts the float32 labels first (`tf.cast(y_train, "int64")`):
  TensorFlow's one_hot refuses float indices ("Value passed to parameter 'indices' has
  DataType float32 not in list of allowed values"), and so does chainrule;
- `keras.utils.plot_model(...)` (it needs pydot and graphviz) is left out;
- the checkpoints are written into pytest's temporary folder, with the `.keras` extension
  Keras 3's ModelCheckpoint asks for (`"mymodel_{epoch}"` -> `"mymodel_{epoch}.keras"`,
  `"/ckpt-loss={loss:.2f}"` -> `"/ckpt-loss={loss:.2f}.keras"`);
- lines marked `# test:` keep what the program produces, for the assertions.
"""

import os

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like


def load_data():
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(
        n_train=1024, n_test=128, num_classes=10)

    # Preprocess the data (these are NumPy arrays)
    x_train = x_train.reshape(1024, 784).astype("float32") / 255
    x_test = x_test.reshape(128, 784).astype("float32") / 255

    y_train = y_train.astype("float32")
    y_test = y_test.astype("float32")

    # Reserve 10,000 samples for validation
    x_val = x_train[-128:]
    y_val = y_train[-128:]
    x_train = x_train[:-128]
    y_train = y_train[:-128]
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def test_api_overview_first_end_to_end_example():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        # Loss function to minimize
        loss=keras.losses.SparseCategoricalCrossentropy(),
        # List of metrics to monitor
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    print("Fit model on training data")
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        # We pass some validation for
        # monitoring validation loss and metrics
        # at the end of each epoch
        validation_data=(x_val, y_val),
    )

    history.history
    assert sorted(history.history) == [  # test
        "loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy"]

    # Evaluate the model on the test data using `evaluate`
    print("Evaluate on test data")
    results = model.evaluate(x_test, y_test, batch_size=128)
    print("test loss, test acc:", results)

    # Generate predictions (probabilities -- the output of the last layer)
    # on new data using `predict`
    print("Generate predictions for 3 samples")
    predictions = model.predict(x_test[:3])
    print("predictions shape:", predictions.shape)

    # test
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert results[1] > 0.5  # ten classes: chance is 0.1

    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    assert model.evaluate(x_test, y_test)[1] == pytest.approx(results[1])  # test


def test_custom_losses():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    def custom_mean_squared_error(y_true, y_pred):
        return tf.math.reduce_mean(tf.square(y_true - y_pred))

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)

    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = tf.one_hot(tf.cast(y_train, "int64"), depth=10)
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1)

    # test: the logged loss is the custom MSE (a mean of squares of numbers in [0, 1])
    assert 0 < history.history["loss"][0] < 0.1

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = tf.math.reduce_mean(tf.square(y_true - y_pred))
            reg = tf.math.reduce_mean(tf.square(0.5 - y_pred))
            return mse + reg * self.regularization_factor

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())

    y_train_one_hot = tf.one_hot(tf.cast(y_train, "int64"), depth=10)
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1)

    # test: the loss on a batch is the guide's formula
    pred = model.predict(x_test[:8])
    target = np.eye(10)[y_test[:8].astype(int)]
    expected = np.mean((target - pred) ** 2) + 0.1 * np.mean((0.5 - pred) ** 2)
    np.testing.assert_allclose(
        float(CustomMSE()(target.astype("float32"), pred)), expected, rtol=1e-5)


def test_custom_metrics():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super(CategoricalTruePositives, self).__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = tf.reshape(tf.argmax(y_pred, axis=1), shape=(-1, 1))
            values = tf.cast(y_true, "int32") == tf.cast(y_pred, "int32")
            values = tf.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = tf.cast(sample_weight, "float32")
                values = tf.multiply(values, sample_weight)
            self.true_positives.assign_add(tf.reduce_sum(values))

        def result(self):
            return self.true_positives

        def reset_states(self):
            # The state of the metric will be reset at the start of each epoch.
            self.true_positives.assign(0.0)

    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=3)

    # test: fit() hands the metric the labels as given, shape (batch,), as Keras 3 does
    # (tf.keras 2 expanded them to (batch, 1)); against the (batch, 1) predicted classes
    # the guide's `==` then broadcasts to (batch, batch), which Keras 3's own rendering of
    # this guide shows too (counts above the number of samples). The metric is reset each
    # epoch: its value after fit() is the last epoch's count.
    counts = history.history["categorical_true_positives"]
    assert len(counts) == 3
    assert all(c == int(c) and c > 0 for c in counts)
    assert [m.name for m in model.metrics] == ["loss", "categorical_true_positives"]
    assert float(model.metrics[-1].result()) == counts[-1]
    # With (n, 1) labels the metric counts the correctly classified samples.
    pred = model.predict(x_test)
    direct = CategoricalTruePositives()
    direct.update_state(y_test.reshape(-1, 1), pred)
    assert float(direct.result()) == np.sum(pred.argmax(axis=1) == y_test)
    direct.reset_states()
    assert float(direct.result()) == 0.0


def test_losses_that_dont_fit_the_standard_signature():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(tf.reduce_sum(inputs) * 0.1)
            return inputs  # Pass-through layer.

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    # The displayed loss will be much higher than before
    # due to the regularization component.
    history = model.fit(x_train, y_train, batch_size=64, epochs=1)

    # test: the layer's loss is part of the model's losses after a call
    model(x_test[:4])
    assert len(model.losses) == 1
    hidden = model.get_layer("dense_1")(x_test[:4]).numpy()
    np.testing.assert_allclose(float(model.losses[0]), hidden.sum() * 0.1, rtol=1e-4)
    assert np.isfinite(history.history["loss"][0])


def test_add_metric():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    class MetricLoggingLayer(layers.Layer):
        def call(self, inputs):
            # The `aggregation` argument defines
            # how to aggregate the per-batch values
            # over each epoch:
            # in this case we simply average them.
            self.add_metric(
                keras.backend.std(inputs), name="std_of_activation", aggregation="mean"
            )
            return inputs  # Pass-through layer.

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert std logging as a layer.
    x = MetricLoggingLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=1)
    assert "std_of_activation" in history.history  # test

    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x2 = layers.Dense(64, activation="relu", name="dense_2")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)

    model.add_loss(tf.reduce_sum(x1) * 0.1)

    model.add_metric(keras.backend.std(x1), name="std_of_activation", aggregation="mean")

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=1)
    assert "std_of_activation" in history.history  # test


def test_logistic_endpoint_compiled_without_loss():
    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super(LogisticEndpoint, self).__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
            self.accuracy_fn = keras.metrics.BinaryAccuracy()

        def call(self, targets, logits, sample_weights=None):
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)

            # Log accuracy as a metric and add it
            # to the layer using `self.add_metric()`.
            acc = self.accuracy_fn(targets, logits, sample_weights)
            self.add_metric(acc, name="accuracy")

            # Return the inference-time prediction tensor (for `.predict()`).
            return tf.nn.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(logits, targets)

    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!

    data = {
        "inputs": np.random.random((3, 3)),
        "targets": np.random.random((3, 10)),
    }
    history = model.fit(data)
    assert np.isfinite(history.history["loss"][0])  # test


def test_validation_split_and_datasets():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    model = get_compiled_model()
    history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1)
    assert "val_loss" in history.history  # test

    model = get_compiled_model()

    # First, let's create a training Dataset instance.
    # For the sake of our example, we'll use the same MNIST data as before.
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    # Shuffle and slice the dataset.
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Now we get a test dataset.
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test))
    test_dataset = test_dataset.batch(64)

    # Since the dataset already takes care of batching,
    # we don't pass a `batch_size` argument.
    history = model.fit(train_dataset, epochs=3)

    # You can also evaluate or predict on a dataset.
    print("Evaluate")
    result = model.evaluate(test_dataset)
    named = dict(zip(model.metrics_names, result))

    # test: the dataset is reset each epoch (three full epochs of learning)
    losses = history.history["loss"]
    assert losses[2] < losses[1] < losses[0]
    assert named == {"loss": result[0], "sparse_categorical_accuracy": result[1]}
    assert result[1] > 0.5

    model = get_compiled_model()

    # Prepare the training dataset
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Only use the 100 batches per epoch (that's 64 * 100 samples)
    steps = []  # test: the batches each epoch runs

    class CountBatches(keras.callbacks.Callback):  # test
        def on_epoch_begin(self, epoch, logs=None):
            steps.append(0)

        def on_train_batch_end(self, batch, logs=None):
            steps[-1] += 1

    model.fit(train_dataset, epochs=3, steps_per_epoch=4, callbacks=[CountBatches()])
    assert steps == [4, 4, 4]  # test

    model = get_compiled_model()

    # Prepare the training dataset
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Prepare the validation dataset
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(64)

    history = model.fit(train_dataset, epochs=1, validation_data=val_dataset)
    full_val_loss = model.evaluate(val_dataset)[0]  # test
    np.testing.assert_allclose(history.history["val_loss"][0], full_val_loss, rtol=1e-5)  # test

    model = get_compiled_model()

    # Prepare the training dataset
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    # Prepare the validation dataset
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(64)

    history = model.fit(
        train_dataset,
        epochs=1,
        # Only run validation using the first 10 batches of the dataset
        # using the `validation_steps` argument
        validation_data=val_dataset,
        validation_steps=1,
    )

    # test: validation ran on the first batch only
    first_batch_loss = model.evaluate(x_val[:64], y_val[:64], batch_size=64)[0]
    np.testing.assert_allclose(history.history["val_loss"][0], first_batch_loss, rtol=1e-5)


def test_class_and_sample_weights():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    class_weight = {
        0: 1.0,
        1: 1.0,
        2: 1.0,
        3: 1.0,
        4: 1.0,
        # Set weight "2" for class "5",
        # making this class 2x more important
        5: 2.0,
        6: 1.0,
        7: 1.0,
        8: 1.0,
        9: 1.0,
    }

    print("Fit with class weight")
    model = get_compiled_model()
    h_class = model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1)

    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0

    print("Fit with sample weight")
    model = get_compiled_model()
    h_sample = model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1)

    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0

    # Create a Dataset that includes sample weights
    # (3rd element in the return tuple).
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight))

    # Shuffle and slice the dataset.
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    model = get_compiled_model()
    h_dataset = model.fit(train_dataset, epochs=1)

    # test: every variant trains; class weights and the equivalent sample weights weigh
    # the loss alike (same start: each fit begins from a fresh model with its own seed)
    for h in (h_class, h_sample, h_dataset):
        assert np.isfinite(h.history["loss"][0])

    # test: with the same initial weights, class_weight and the matching sample_weight
    # give the same training
    model_a = get_compiled_model()
    model_b = get_compiled_model()
    model_b.set_weights(model_a.get_weights())
    a = model_a.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1,
                    shuffle=False)
    b = model_b.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1,
                    shuffle=False)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-5)


def test_multi_input_multi_output_models():
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    model = keras.Model(
        inputs=[image_input, timeseries_input], outputs=[score_output, class_output]
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )

    # Generate dummy NumPy data
    img_data = np.random.random_sample(size=(64, 32, 32, 3))
    ts_data = np.random.random_sample(size=(64, 20, 10))
    score_targets = np.random.random_sample(size=(64, 1))
    class_targets = np.random.random_sample(size=(64, 5))

    history = model.fit(  # test: this compile() is also trained once
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
    )
    # test: per-output losses and metrics are logged
    assert {"loss", "score_output_loss", "class_output_loss"} <= set(history.history)

    # List loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[None, keras.losses.CategoricalCrossentropy()],
    )

    # Or dict loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"class_output": keras.losses.CategoricalCrossentropy()},
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
    )

    # Fit on lists
    h_lists = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1)

    # Alternatively, fit on dicts
    h_dicts = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
    )

    train_dataset = tf.data.Dataset.from_tensor_slices(
        (
            {"img_input": img_data, "ts_input": ts_data},
            {"score_output": score_targets, "class_output": class_targets},
        )
    )
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    h_dataset = model.fit(train_dataset, epochs=1)

    # test
    for h in (h_lists, h_dicts, h_dataset):
        assert np.isfinite(h.history["loss"][0])
    score, classes = model.predict([img_data[:2], ts_data[:2]])
    assert score.shape == (2, 1) and classes.shape == (2, 5)


def test_callbacks_and_checkpoints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the checkpoints go to a temporary folder
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()

    model = get_compiled_model()

    callbacks = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=1,
        )
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=20,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
    )

    # test: training stopped once val_loss had not improved by 1e-2 for 2 epochs
    val = history.history["val_loss"]
    assert len(val) < 20  # the small set converges within a few epochs
    best_before = min(val[:-2])
    assert all(v > best_before - 1e-2 for v in val[-2:])

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    loss_history = LossHistory()  # test: the guide only defines it; run it once
    get_compiled_model().fit(x_train, y_train, batch_size=64, epochs=1,
                             callbacks=[loss_history])
    assert len(loss_history.per_batch_losses) == 14  # test: 896 samples in batches of 64

    model = get_compiled_model()

    callbacks = [
        keras.callbacks.ModelCheckpoint(
            # Path where to save the model
            # The two parameters below mean that we will overwrite
            # the current checkpoint if and only if
            # the `val_loss` score has improved.
            # The saved model name will include the current epoch.
            filepath="mymodel_{epoch}.keras",
            save_best_only=True,  # Only save a model if `val_loss` has improved.
            monitor="val_loss",
            verbose=1,
        )
    ]
    history = model.fit(
        x_train, y_train, epochs=2, batch_size=64, callbacks=callbacks, validation_split=0.2
    )

    # test: epoch 1 is always saved, epoch 2 when val_loss improved
    saved = sorted(p for p in os.listdir(".") if p.startswith("mymodel_"))
    val = history.history["val_loss"]
    assert saved == (["mymodel_1.keras", "mymodel_2.keras"] if val[1] < val[0]
                     else ["mymodel_1.keras"])

    # Prepare a directory to store all the checkpoints.
    checkpoint_dir = "./ckpt"
    if not os.path.exists(checkpoint_dir):
        os.makedirs(checkpoint_dir)

    def make_or_restore_model():
        # Either restore the latest model, or create a fresh one
        # if there is no checkpoint available.
        checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
        if checkpoints:
            latest_checkpoint = max(checkpoints, key=os.path.getctime)
            print("Restoring from", latest_checkpoint)
            return keras.models.load_model(latest_checkpoint)
        print("Creating a new model")
        return get_compiled_model()

    model = make_or_restore_model()
    callbacks = [
        # This callback saves a SavedModel every 100 batches.
        # We include the training loss in the saved model name.
        keras.callbacks.ModelCheckpoint(
            filepath=checkpoint_dir + "/ckpt-loss={loss:.2f}.keras", save_freq=100
        )
    ]
    model.fit(x_train, y_train, epochs=1, callbacks=callbacks)

    # test: 896 samples in batches of 32 are 28 batches, fewer than 100: nothing saved yet;
    # a checkpoint written by hand is what the next run restores
    assert os.listdir(checkpoint_dir) == []
    model.save(checkpoint_dir + "/ckpt-loss=0.50.keras")
    restored = make_or_restore_model()
    np.testing.assert_allclose(restored.predict(x_test[:4]), model.predict(x_test[:4]),
                               rtol=1e-5, atol=1e-6)


def test_learning_rate_schedules():
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )

    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)

    # test: a staircase decay stays at 0.1 for the first 100000 steps, then 0.096
    np.testing.assert_allclose(float(lr_schedule(0)), 0.1, rtol=1e-6)
    np.testing.assert_allclose(float(lr_schedule(99999)), 0.1, rtol=1e-6)
    np.testing.assert_allclose(float(lr_schedule(100000)), 0.096, rtol=1e-6)


def test_tensorboard_callback():
    keras.callbacks.TensorBoard(
        log_dir="/full_path_to_your_logs",
        histogram_freq=0,  # How often to log histogram visualizations
        embeddings_freq=0,  # How often to log embedding visualizations
        update_freq="epoch",
    )  # How often to write logs (default: once per epoch)
