"""KerasTuner guide "Tune hyperparameters in your custom training loop", run on chainrule.

Source: https://keras.io/guides/keras_tuner/custom_tuner/ (keras-team/keras-io,
guides/keras_tuner/custom_tuner.py, "Last modified: 2022/01/12").

The guide's code is kept as written, except:
- the import lines: `import keras_tuner` -> `from chainrule import keras_tuner`,
  `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from chainrule import keras`;
- the random data has N_SAMPLES samples instead of 1000 (each);
- "results" is in the test's temporary folder; lines marked `# test:` check what the program produces.
"""

from chainrule import keras_tuner
import chainrule as tf
from chainrule import keras
import numpy as np

N_SAMPLES = 128  # the guide: 1000


def test_custom_training_loop(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: results/ in a temporary folder

    x_train = np.random.rand(N_SAMPLES, 28, 28, 1)
    y_train = np.random.randint(0, 10, (N_SAMPLES, 1))
    x_val = np.random.rand(N_SAMPLES, 28, 28, 1)
    y_val = np.random.randint(0, 10, (N_SAMPLES, 1))

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            """Builds a convolutional model."""
            inputs = keras.Input(shape=(28, 28, 1))
            x = keras.layers.Flatten()(inputs)
            x = keras.layers.Dense(
                units=hp.Choice("units", [32, 64, 128]), activation="relu"
            )(x)
            outputs = keras.layers.Dense(10)(x)
            return keras.Model(inputs=inputs, outputs=outputs)

        def fit(self, hp, model, x, y, validation_data, callbacks=None, **kwargs):
            # Convert the datasets to tf.data.Dataset.
            batch_size = hp.Int("batch_size", 32, 128, step=32, default=64)
            train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(
                batch_size
            )
            validation_data = tf.data.Dataset.from_tensor_slices(validation_data).batch(
                batch_size
            )

            # Define the optimizer.
            optimizer = keras.optimizers.Adam(
                hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
            )
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

            # The metric to track validation loss.
            epoch_loss_metric = keras.metrics.Mean()

            # Function to run the train step.
            @tf.function
            def run_train_step(images, labels):
                with tf.GradientTape() as tape:
                    logits = model(images)
                    loss = loss_fn(labels, logits)
                    # Add any regularization losses.
                    if model.losses:
                        loss += tf.math.add_n(model.losses)
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))

            # Function to run the validation step.
            @tf.function
            def run_val_step(images, labels):
                logits = model(images)
                loss = loss_fn(labels, logits)
                # Update the metric.
                epoch_loss_metric.update_state(loss)

            # Assign the model to the callbacks.
            for callback in callbacks:
                callback.model = model

            # Record the best validation loss value
            best_epoch_loss = float("inf")

            # The custom training loop.
            for epoch in range(2):
                print(f"Epoch: {epoch}")

                # Iterate the training data to run the training step.
                for images, labels in train_ds:
                    run_train_step(images, labels)

                # Iterate the validation data to run the validation step.
                for images, labels in validation_data:
                    run_val_step(images, labels)

                # Calling the callbacks after epoch.
                epoch_loss = float(epoch_loss_metric.result().numpy())
                for callback in callbacks:
                    # The "my_metric" is the objective passed to the tuner.
                    callback.on_epoch_end(epoch, logs={"my_metric": epoch_loss})
                epoch_loss_metric.reset_states()

                print(f"Epoch loss: {epoch_loss}")
                best_epoch_loss = min(best_epoch_loss, epoch_loss)
                losses.setdefault(hp.values["units"], []).append(epoch_loss)  # test

            # Return the evaluation metric value.
            return best_epoch_loss

    losses = {}  # test: each trial's validation losses, by units

    tuner = keras_tuner.RandomSearch(
        objective=keras_tuner.Objective("my_metric", "min"),
        max_trials=2,
        hypermodel=MyHyperModel(),
        directory="results",
        project_name="custom_training",
        overwrite=True,
    )

    tuner.search(x=x_train, y=y_train, validation_data=(x_val, y_val))

    best_hps = tuner.get_best_hyperparameters()[0]
    print(best_hps.values)

    best_model = tuner.get_best_models()[0]
    best_model.summary()

    trials = tuner.oracle.get_best_trials(2)  # test
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)  # test
    assert trials[0].score == min(losses[best_hps.values["units"]])  # test: the fit's returned best loss
    assert set(best_hps.values) == {"units", "batch_size", "learning_rate"}  # test: fit's hyperparameters too
    assert best_model.layers[2].units == best_hps.values["units"]  # test
    logits = best_model.predict(x_val, verbose=0)  # test: the best epoch's weights were kept
    val_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_val, logits)  # test
    assert abs(float(val_loss) - trials[0].score) < 0.05  # test: the mean of batch losses ~ the whole set's loss


def test_subclassing_the_tuner_for_a_custom_training_loop(tmp_path, monkeypatch):
    """The guide's earlier revision ("Writing your own Tuner to support a custom training loop", keras-io
    guides/keras_tuner/custom_tuner.py, "Last modified: 2021/06/02"): a Tuner subclass whose run_trial trains with
    GradientTape and reports through self.on_epoch_end, with the Bayesian optimization oracle. Changed as above,
    and MNIST is N_SAMPLES synthetic images (tests/programs/mnist_like.py) instead of the first 1000 digits."""
    import mnist_like

    monkeypatch.chdir(tmp_path)  # test: results/ in a temporary folder
    kt = keras_tuner

    def build_model(hp):
        """Builds a convolutional model."""
        inputs = tf.keras.Input(shape=(28, 28, 1))
        x = inputs
        for i in range(hp.Int("conv_layers", 1, 3, default=3)):
            x = tf.keras.layers.Conv2D(
                filters=hp.Int("filters_" + str(i), 4, 32, step=4, default=8),
                kernel_size=hp.Int("kernel_size_" + str(i), 3, 5),
                activation="relu",
                padding="same",
            )(x)

            if hp.Choice("pooling" + str(i), ["max", "avg"]) == "max":
                x = tf.keras.layers.MaxPooling2D()(x)
            else:
                x = tf.keras.layers.AveragePooling2D()(x)

            x = tf.keras.layers.BatchNormalization()(x)
            x = tf.keras.layers.ReLU()(x)

        if hp.Choice("global_pooling", ["max", "avg"]) == "max":
            x = tf.keras.layers.GlobalMaxPooling2D()(x)
        else:
            x = tf.keras.layers.GlobalAveragePooling2D()(x)
        outputs = tf.keras.layers.Dense(10, activation="softmax")(x)

        model = tf.keras.Model(inputs, outputs)

        optimizer = hp.Choice("optimizer", ["adam", "sgd"])
        model.compile(
            optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    class MyTuner(kt.Tuner):
        def run_trial(self, trial, train_ds):
            hp = trial.hyperparameters

            # Hyperparameters can be added anywhere inside `run_trial`.
            # When the first trial is run, they will take on their default values.
            # Afterwards, they will be tuned by the `Oracle`.
            train_ds = train_ds.batch(hp.Int("batch_size", 32, 128, step=32, default=64))

            model = self.hypermodel.build(trial.hyperparameters)
            lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
            optimizer = tf.keras.optimizers.Adam(lr)
            epoch_loss_metric = tf.keras.metrics.Mean()
            loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()

            # @tf.function
            def run_train_step(data):
                images = tf.dtypes.cast(data[0], "float32") / 255.0
                labels = data[1]
                with tf.GradientTape() as tape:
                    logits = model(images)
                    loss = loss_fn(labels, logits)
                    # Add any regularization losses.
                    if model.losses:
                        loss += tf.math.add_n(model.losses)
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))
                epoch_loss_metric.update_state(loss)
                return loss

            # `self.on_epoch_end` reports results to the `Oracle` and saves the
            # current state of the Model. The other hooks called here only log values
            # for display but can also be overridden. For use cases where there is no
            # natural concept of epoch, you do not have to call any of these hooks. In
            # this case you should instead call `self.oracle.update_trial` and
            # `self.oracle.save_model` manually.
            for epoch in range(2):
                print("Epoch: {}".format(epoch))

                self.on_epoch_begin(trial, model, epoch, logs={})
                for batch, data in enumerate(train_ds):
                    self.on_batch_begin(trial, model, batch, logs={})
                    batch_loss = float(run_train_step(data))
                    self.on_batch_end(trial, model, batch, logs={"loss": batch_loss})

                    if batch % 100 == 0:
                        loss = epoch_loss_metric.result().numpy()
                        print("Batch: {}, Average Loss: {}".format(batch, loss))

                epoch_loss = epoch_loss_metric.result().numpy()
                self.on_epoch_end(trial, model, epoch, logs={"loss": epoch_loss})
                epoch_loss_metric.reset_states()

    tuner = MyTuner(
        oracle=kt.oracles.BayesianOptimization(
            objective=kt.Objective("loss", "min"), max_trials=2
        ),
        hypermodel=build_model,
        directory="results",
        project_name="mnist_custom_training",
    )

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_SAMPLES, n_test=16, num_classes=10)

    # Reshape the images to have the channel dimension.
    x_train = x_train.reshape(x_train.shape + (1,))[:1000]
    y_train = y_train.astype(np.int64)[:1000]

    mnist_train = tf.data.Dataset.from_tensor_slices((x_train, y_train))

    tuner.search(train_ds=mnist_train)

    best_hps = tuner.get_best_hyperparameters()[0]
    print(best_hps.values)

    best_model = tuner.get_best_models()[0]

    trials = tuner.oracle.get_best_trials(2)  # test
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)  # test
    assert [step for step, _ in trials[0].metrics["loss"]] == [0, 1]  # test: on_epoch_end reported each epoch
    assert {"batch_size", "learning_rate", "conv_layers"} <= set(best_hps.values)  # test
    assert best_model.count_params() == build_model(best_hps).count_params()  # test
