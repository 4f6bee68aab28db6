"""KerasTuner guide "Getting started with KerasTuner", run on chainrule.

Source: https://keras.io/guides/keras_tuner/getting_started/ (keras-team/keras-io,
guides/keras_tuner/getting_started.py, "Last modified: 2021/10/27").

The guide's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `import keras_tuner` -> `from chainrule import keras_tuner`, `import tensorflow as tf` -> `import chainrule as tf`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by synthetic 28x28 images (tests/programs/mnist_like.py):
  N_TRAIN + N_VAL training images of which the last N_VAL are the validation set (MNIST: 50000 + 10000);
- the last section (the pre-made `keras_tuner.applications.HyperResNet`) is a test of its own, marked slow (ResNets
  of 23M to 58M weights), on the synthetic images;
- "my_dir" is in the test's temporary folder, and so are the guide's "/tmp" model files (TMP);
- lines marked `# test:` check what the program produces.
"""

import os

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule import keras_tuner

import mnist_like

N_TRAIN, N_VAL = 192, 64  # MNIST: 50000, 10000


def test_getting_started(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: my_dir/ in a temporary folder
    TMP = str(tmp_path)  # test: the guide's "/tmp"

    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(
                # Define the hyperparameter.
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                activation="relu",
            )
        )
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer="adam",
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    build_model(keras_tuner.HyperParameters())

    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(
                # Tune number of units.
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                # Tune the activation function to use.
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
        # Tune whether to use dropout.
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        # Define the optimizer learning rate as a hyperparameter.
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    build_model(keras_tuner.HyperParameters())

    hp = keras_tuner.HyperParameters()
    print(hp.Int("units", min_value=32, max_value=512, step=32))

    assert capsys.readouterr().out.strip().endswith("32")  # test: a plain int, the minimum by default

    def call_existing_code(units, activation, dropout, lr):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(layers.Dense(units=units, activation=activation))
        if dropout:
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=lr),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def build_model(hp):
        units = hp.Int("units", min_value=32, max_value=512, step=32)
        activation = hp.Choice("activation", ["relu", "tanh"])
        dropout = hp.Boolean("dropout")
        lr = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        # call existing model-building code with the hyperparameter values.
        model = call_existing_code(
            units=units, activation=activation, dropout=dropout, lr=lr
        )
        return model

    build_model(keras_tuner.HyperParameters())

    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        # Tune the number of layers.
        for i in range(hp.Int("num_layers", 1, 3)):
            model.add(
                layers.Dense(
                    # Tune number of units separately.
                    units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                    activation=hp.Choice("activation", ["relu", "tanh"]),
                )
            )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    build_model(keras_tuner.HyperParameters())

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        objective="val_accuracy",
        max_trials=3,
        executions_per_trial=2,
        overwrite=True,
        directory="my_dir",
        project_name="helloworld",
    )

    capsys.readouterr()  # test
    tuner.search_space_summary()

    out = capsys.readouterr().out  # test
    assert "Default search space size: 5" in out and "num_layers (Int)" in out and "lr (Float)" in out  # test

    (x, y), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN + N_VAL, n_test=N_VAL, num_classes=10)

    x_train = x[:-N_VAL]
    x_val = x[-N_VAL:]
    y_train = y[:-N_VAL]
    y_val = y[-N_VAL:]

    x_train = np.expand_dims(x_train, -1).astype("float32") / 255.0
    x_val = np.expand_dims(x_val, -1).astype("float32") / 255.0
    x_test = np.expand_dims(x_test, -1).astype("float32") / 255.0

    num_classes = 10
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_val = keras.utils.to_categorical(y_val, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val))

    trials = list(tuner.oracle.trials.values())  # test
    assert len(trials) == 3 and all(t.status == "COMPLETED" for t in trials)  # test

    # Get the top 2 models.
    models = tuner.get_best_models(num_models=2)
    best_model = models[0]
    # Build the model.
    # Needed for `Sequential` without specified `input_shape`.
    best_model.build(input_shape=(None, 28, 28))
    best_model.summary()

    best = tuner.oracle.get_best_trials(1)[0]  # test: the saved model is the best epoch's
    accuracy = best_model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"]  # test
    assert best.score >= accuracy - 0.2  # test: the score averages two executions; the model is the better one

    tuner.results_summary()

    assert os.path.isdir(os.path.join("my_dir", "helloworld", f"trial_{best.trial_id}"))  # test

    # Get the top 2 hyperparameters.
    best_hps = tuner.get_best_hyperparameters(5)
    # Build the model with the best hp.
    model = build_model(best_hps[0])
    # Fit with the entire dataset.
    x_all = np.concatenate((x_train, x_val))
    y_all = np.concatenate((y_train, y_val))
    model.fit(x=x_all, y=y_all, epochs=1)

    assert len(best_hps) == 3  # test: only three trials ran

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential()
            model.add(layers.Flatten())
            model.add(
                layers.Dense(
                    units=hp.Int("units", min_value=32, max_value=512, step=32),
                    activation="relu",
                )
            )
            model.add(layers.Dense(10, activation="softmax"))
            model.compile(
                optimizer="adam",
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(
                *args,
                # Tune whether to shuffle the data in each epoch.
                shuffle=hp.Boolean("shuffle"),
                **kwargs,
            )

    hp = keras_tuner.HyperParameters()
    hypermodel = MyHyperModel()
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, np.random.rand(100, 28, 28), np.random.rand(100, 10))

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential()
            model.add(layers.Flatten())
            model.add(
                layers.Dense(
                    units=hp.Int("units", min_value=32, max_value=512, step=32),
                    activation="relu",
                )
            )
            model.add(layers.Dense(10, activation="softmax"))
            model.compile(
                optimizer="adam",
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, x, y, **kwargs):
            if hp.Boolean("normalize"):
                x = layers.Normalization()(x)
            return model.fit(
                x,
                y,
                # Tune whether to shuffle the data in each epoch.
                shuffle=hp.Boolean("shuffle"),
                **kwargs,
            )

    hp = keras_tuner.HyperParameters()
    hypermodel = MyHyperModel()
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, np.random.rand(100, 28, 28), np.random.rand(100, 10))

    hp.values["normalize"] = True  # test: the other branch, Normalization called on a NumPy array
    hypermodel.fit(hp, model, np.random.rand(100, 28, 28), np.random.rand(100, 10))  # test

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            image_size = hp.Int("image_size", 10, 28)
            inputs = keras.Input(shape=(image_size, image_size))
            outputs = layers.Flatten()(inputs)
            outputs = layers.Dense(
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                activation="relu",
            )(outputs)
            outputs = layers.Dense(10, activation="softmax")(outputs)
            model = keras.Model(inputs, outputs)
            model.compile(
                optimizer="adam",
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, x, y, validation_data=None, **kwargs):
            if hp.Boolean("normalize"):
                x = layers.Normalization()(x)
            image_size = hp.get("image_size")
            cropped_x = x[:, :image_size, :image_size, :]
            if validation_data:
                x_val, y_val = validation_data
                cropped_x_val = x_val[:, :image_size, :image_size, :]
                validation_data = (cropped_x_val, y_val)
            return model.fit(
                cropped_x,
                y,
                # Tune whether to shuffle the data in each epoch.
                shuffle=hp.Boolean("shuffle"),
                validation_data=validation_data,
                **kwargs,
            )

    tuner = keras_tuner.RandomSearch(
        MyHyperModel(),
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="tune_hypermodel",
    )

    tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val))

    trials = list(tuner.oracle.trials.values())  # test
    assert all(t.status == "COMPLETED" for t in trials), [t.message for t in trials]  # test
    assert {"image_size", "units", "normalize", "shuffle"} <= set(tuner.oracle.get_space().values)  # test

    hypermodel = MyHyperModel()
    best_hp = tuner.get_best_hyperparameters()[0]
    model = hypermodel.build(best_hp)
    hypermodel.fit(best_hp, model, x_all, y_all, epochs=1)

    def build_regressor(hp):
        model = keras.Sequential(
            [
                layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            # Objective is one of the metrics.
            metrics=[keras.metrics.MeanAbsoluteError()],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_regressor,
        # The objective name and direction.
        # Name is the f"val_{snake_case_metric_class_name}".
        objective=keras_tuner.Objective("val_mean_absolute_error", direction="min"),
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="built_in_metrics",
    )

    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    tuner.results_summary()

    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())  # test

    import chainrule as tf

    class CustomMetric(keras.metrics.Metric):
        def __init__(self, **kwargs):
            # Specify the name of the metric as "custom_metric".
            super().__init__(name="custom_metric", **kwargs)
            self.sum = self.add_weight(name="sum", initializer="zeros")
            self.count = self.add_weight(name="count", dtype=tf.int32, initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            values = tf.math.squared_difference(y_pred, y_true)
            count = tf.shape(y_true)[0]
            if sample_weight is not None:
                sample_weight = tf.cast(sample_weight, self.dtype)
                values *= sample_weight
                count *= sample_weight
            self.sum.assign_add(tf.reduce_sum(values))
            self.count.assign_add(count)

        def result(self):
            return self.sum / tf.cast(self.count, tf.float32)

        def reset_states(self):
            self.sum.assign(0)
            self.count.assign(0)

    def build_regressor(hp):
        model = keras.Sequential(
            [
                layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            # Put custom metric into the metrics.
            metrics=[CustomMetric()],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_regressor,
        # Specify the name and direction of the objective.
        objective=keras_tuner.Objective("val_custom_metric", direction="min"),
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="custom_metrics",
    )

    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    tuner.results_summary()

    best = tuner.oracle.get_best_trials()[0]  # test
    assert best.status == "COMPLETED"  # test
    assert abs(best.score - best.best_metrics()["val_loss"]) < 1e-4  # test: the custom MSE is the MSE loss

    class HyperRegressor(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                    layers.Dense(units=1),
                ]
            )
            model.compile(
                optimizer="adam",
                loss="mean_squared_error",
            )
            return model

        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, **kwargs)
            x_val, y_val = validation_data
            y_pred = model.predict(x_val)
            # Return a single float to minimize.
            return np.mean(np.abs(y_pred - y_val))

    tuner = keras_tuner.RandomSearch(
        hypermodel=HyperRegressor(),
        # No objective to specify.
        # Objective is the return value of `HyperModel.fit()`.
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="custom_eval",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    tuner.results_summary()

    assert all(t.status == "COMPLETED" and t.score > 0 for t in tuner.oracle.trials.values())  # test

    class HyperRegressor(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                    layers.Dense(units=1),
                ]
            )
            model.compile(
                optimizer="adam",
                loss="mean_squared_error",
            )
            return model

        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, **kwargs)
            x_val, y_val = validation_data
            y_pred = model.predict(x_val)
            # Return a dictionary of metrics for KerasTuner to track.
            return {
                "metric_a": -np.mean(np.abs(y_pred - y_val)),
                "metric_b": np.mean(np.square(y_pred - y_val)),
            }

    tuner = keras_tuner.RandomSearch(
        hypermodel=HyperRegressor(),
        # Objective is one of the keys.
        # Maximize the negative MAE, equivalent to minimize MAE.
        objective=keras_tuner.Objective("metric_a", "max"),
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="custom_eval_dict",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    tuner.results_summary()

    best = tuner.oracle.get_best_trials()[0]  # test
    assert best.score < 0 and set(best.metrics) == {"metric_a", "metric_b"}  # test

    class MyTuner(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            # Get the hp from trial.
            hp = trial.hyperparameters
            # Define "x" as a hyperparameter.
            x = hp.Float("x", min_value=-1.0, max_value=1.0)
            # Return the objective value to minimize.
            return x * x + 1

    tuner = MyTuner(
        # No hypermodel or objective specified.
        max_trials=20,
        overwrite=True,
        directory="my_dir",
        project_name="tune_anything",
    )

    # No need to pass anything to search()
    # unless you use them in run_trial().
    tuner.search()
    print(tuner.get_best_hyperparameters()[0].get("x"))

    assert len(tuner.oracle.trials) == 20  # test
    best_x = tuner.get_best_hyperparameters()[0].get("x")  # test
    assert all(abs(best_x) <= abs(t.hyperparameters.get("x")) for t in tuner.oracle.trials.values())  # test

    def keras_code(units, optimizer, saving_path):
        # Build model
        model = keras.Sequential(
            [
                layers.Dense(units=units, activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer=optimizer,
            loss="mean_squared_error",
        )

        # Prepare data
        x_train = np.random.rand(100, 10)
        y_train = np.random.rand(100, 1)
        x_val = np.random.rand(20, 10)
        y_val = np.random.rand(20, 1)

        # Train & eval model
        model.fit(x_train, y_train)

        # Save model
        model.save(saving_path)

        # Return a single float as the objective value.
        # You may also return a dictionary
        # of {metric_name: metric_value}.
        y_pred = model.predict(x_val)
        return np.mean(np.abs(y_pred - y_val))

    class MyTuner(keras_tuner.RandomSearch):
        def run_trial(self, trial, **kwargs):
            hp = trial.hyperparameters
            return keras_code(
                units=hp.Int("units", 32, 128, 32),
                optimizer=hp.Choice("optimizer", ["adam", "adadelta"]),
                saving_path=os.path.join(TMP, f"{trial.trial_id}.keras"),
            )

    tuner = MyTuner(
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="keep_code_separate",
    )
    tuner.search()
    # Retraining the model
    best_hp = tuner.get_best_hyperparameters()[0]
    keras_code(**best_hp.values, saving_path=TMP + "/best_model.keras")

    assert all(os.path.exists(os.path.join(TMP, f"{t}.keras")) for t in tuner.oracle.trials)  # test
    assert os.path.exists(os.path.join(TMP, "best_model.keras"))  # test


@pytest.mark.slow
def test_pre_made_hyper_resnet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: my_dir/ in a temporary folder
    (x, y), _ = mnist_like.load_data(n_train=200, n_test=8, num_classes=10)  # test: the data of the guide's start
    x_train, x_val = np.expand_dims(x[:-100], -1) / 255.0, np.expand_dims(x[-100:], -1) / 255.0  # test
    y_train, y_val = keras.utils.to_categorical(y[:-100], 10), keras.utils.to_categorical(y[-100:], 10)  # test

    from chainrule.keras_tuner.applications import HyperResNet

    hypermodel = HyperResNet(input_shape=(28, 28, 1), classes=10)

    tuner = keras_tuner.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=2,
        overwrite=True,
        directory="my_dir",
        project_name="built_in_hypermodel",
    )

    tuner.search(
        x_train[:100], y_train[:100], epochs=1, validation_data=(x_val[:100], y_val[:100])
    )

    trials = list(tuner.oracle.trials.values())  # test
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials), [t.message for t in trials]  # test
    assert {"version", "conv3_depth", "conv4_depth", "pooling", "optimizer", "learning_rate"} == set(
        trials[0].hyperparameters.values)  # test
