"""KerasTuner guide "Visualize the hyperparameter tuning process", run on chainrule.

Source: https://keras.io/guides/keras_tuner/visualize_tuning/ (keras-team/keras-io,
guides/keras_tuner/visualize_tuning.py, "Last modified: 2021/06/05").

The guide's code is kept as written, except:
- the import lines: `import keras_tuner` -> `from chainrule import keras_tuner`,
  `import keras` -> `from chainrule import keras`, `from keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by N_TRAIN training and N_TEST test synthetic 28x28
  images (tests/programs/mnist_like.py), and `max_trials=10` is MAX_TRIALS;
- the folders "/tmp/tb" and "/tmp/tb_logs" are in the test's temporary folder (TMP);
- lines marked `# test:` check what the program produces.
"""

import os

import numpy as np
from chainrule import keras_tuner
from chainrule import keras
from chainrule.keras import layers

import mnist_like

N_TRAIN, N_TEST = 160, 32  # MNIST: 60000, 10000
MAX_TRIALS = 4  # the guide: 10


def test_visualize_tuning(tmp_path):
    TMP = str(tmp_path)  # test: the guide's "/tmp"

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST)
    # Normalize the pixel values to the range of [0, 1].
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Add the channel dimension to the images.
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    # Print the shapes of the data.
    print(x_train.shape)
    print(y_train.shape)
    print(x_test.shape)
    print(y_test.shape)

    def build_model(hp):
        inputs = keras.Input(shape=(28, 28, 1))
        # Model type can be MLP or CNN.
        model_type = hp.Choice("model_type", ["mlp", "cnn"])
        x = inputs
        if model_type == "mlp":
            x = layers.Flatten()(x)
            # Number of layers of the MLP is a hyperparameter.
            for i in range(hp.Int("mlp_layers", 1, 3)):
                # Number of units of each layer are
                # different hyperparameters with different names.
                x = layers.Dense(
                    units=hp.Int(f"units_{i}", 32, 128, step=32),
                    activation="relu",
                )(x)
        else:
            # Number of layers of the CNN is also a hyperparameter.
            for i in range(hp.Int("cnn_layers", 1, 3)):
                x = layers.Conv2D(
                    hp.Int(f"filters_{i}", 32, 128, step=32),
                    kernel_size=(3, 3),
                    activation="relu",
                )(x)
                x = layers.MaxPooling2D(pool_size=(2, 2))(x)
            x = layers.Flatten()(x)

        # A hyperparamter for whether to use dropout layer.
        if hp.Boolean("dropout"):
            x = layers.Dropout(0.5)(x)

        # The last layer contains 10 units,
        # which is the same as the number of classes.
        outputs = layers.Dense(units=10, activation="softmax")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)

        # Compile the model.
        model.compile(
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            optimizer="adam",
        )
        return model

    # Initialize the `HyperParameters` and set the values.
    hp = keras_tuner.HyperParameters()
    hp.values["model_type"] = "cnn"
    # Build the model using the `HyperParameters`.
    model = build_model(hp)
    # Test if the model runs with our data.
    model(x_train[:100])
    # Print a summary of the model.
    model.summary()

    assert any(isinstance(layer, layers.Conv2D) for layer in model.layers)  # test

    # Do the same for MLP model.
    hp.values["model_type"] = "mlp"
    model = build_model(hp)
    model(x_train[:100])
    model.summary()

    assert not any(isinstance(layer, layers.Conv2D) for layer in model.layers)  # test

    tuner = keras_tuner.RandomSearch(
        build_model,
        max_trials=MAX_TRIALS,
        # Do not resume the previous search in the same directory.
        overwrite=True,
        objective="val_accuracy",
        # Set a directory to store the intermediate results.
        directory=TMP + "/tb",
    )

    tuner.search(
        x_train,
        y_train,
        validation_split=0.2,
        epochs=2,
        # Use the TensorBoard callback.
        # The logs will be write to "/tmp/tb_logs".
        callbacks=[keras.callbacks.TensorBoard(TMP + "/tb_logs")],
    )

    trials = list(tuner.oracle.trials.values())  # test
    assert len(trials) == MAX_TRIALS and all(t.status == "COMPLETED" for t in trials)  # test
    assert os.path.isdir(os.path.join(TMP, "tb", "untitled_project"))  # test
    runs = sorted(os.listdir(os.path.join(TMP, "tb_logs")))  # test: one log folder per trial (KerasTuner's layout)
    assert runs == sorted(t.trial_id for t in trials), runs  # test
    for trial in trials:  # test: each run has its curves and, for the HParams tab, the trial's values
        run = os.path.join(TMP, "tb_logs", trial.trial_id)  # test
        tags = {v.tag for e in _events(os.path.join(run, "validation")) for v in e.summary.value}  # test
        assert tags >= {"epoch_loss", "epoch_accuracy"}  # test
        plugin = [v for e in _events(run) for v in e.summary.value if v.metadata.plugin_data.plugin_name]  # test
        assert [v.tag for v in plugin] == ["_hparams_/session_start_info", "_hparams_/session_end_info"]  # test
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData  # test

        data = HParamsPluginData.FromString(plugin[0].metadata.plugin_data.content)  # test
        values = dict(data.session_start_info.hparams)  # test
        assert set(values) == set(trial.hyperparameters.values)  # test
        assert values["model_type"].string_value == trial.hyperparameters.get("model_type")  # test


def _events(folder):  # test: the Event records of the event files in folder (TFRecord framing)
    import struct
    from tensorboardX.proto.event_pb2 import Event

    for name in sorted(os.listdir(folder)):
        if name.startswith("events.out.tfevents"):
            data = open(os.path.join(folder, name), "rb").read()
            while data:
                (length,) = struct.unpack("<Q", data[:8])
                yield Event.FromString(data[12:12 + length])
                data = data[16 + length:]
