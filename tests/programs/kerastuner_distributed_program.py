"""The program of KerasTuner's guide "Distributed hyperparameter tuning" (keras-team/keras-io,
guides/keras_tuner/distributed_tuning.py, "Last modified: 2021/06/02"), run by
test_kerastuner_distributed_tuning.py once as the chief and once per worker (KERASTUNER_TUNER_ID,
KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT), in the folder given as its argument.

The guide's code is kept as written, except:
- the import lines: `import keras_tuner` -> `from chainrule import keras_tuner`, `import tensorflow as tf` ->
  `import chainrule as tf`;
- MNIST (`tf.keras.datasets.mnist.load_data()`) is replaced by N_TRAIN training and N_TEST test synthetic 28x28
  images (tests/programs/mnist_like.py), and `steps_per_epoch=600` is STEPS_PER_EPOCH, `validation_steps=100`
  VALIDATION_STEPS;
- the program's code after `build_model` runs under `if __name__ == "__main__":` (pytest imports this file), and
  the lines after `# test:` write what the search did to a JSON file for the test to read.
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from chainrule import keras_tuner  # noqa: E402
import chainrule as tf  # noqa: E402
import numpy as np  # noqa: E402

import mnist_like  # noqa: E402

N_TRAIN, N_TEST = 96, 32  # the guide: the first 1000 and 100 of MNIST's
STEPS_PER_EPOCH, VALIDATION_STEPS = 3, 1  # the guide: 600, 100 (shrunk with the data: one pass each)


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


if __name__ == "__main__":  # test: run as a program only (pytest imports this file to look for doctests)
    os.chdir(sys.argv[1])

    tuner = keras_tuner.Hyperband(
        hypermodel=build_model,
        objective="val_accuracy",
        max_epochs=2,
        factor=3,
        hyperband_iterations=1,
        distribution_strategy=tf.distribute.MirroredStrategy(),
        directory="results_dir",
        project_name="mnist",
        overwrite=True,
    )

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)

    # Reshape the images to have the channel dimension.
    x_train = (x_train.reshape(x_train.shape + (1,)) / 255.0)[:1000]
    y_train = y_train.astype(np.int64)[:1000]
    x_test = (x_test.reshape(x_test.shape + (1,)) / 255.0)[:100]
    y_test = y_test.astype(np.int64)[:100]

    tuner.search(
        x_train,
        y_train,
        steps_per_epoch=STEPS_PER_EPOCH,
        validation_data=(x_test, y_test),
        validation_steps=VALIDATION_STEPS,
        callbacks=[tf.keras.callbacks.EarlyStopping("val_accuracy")],
    )

    # test: what this process saw of the search
    trials = tuner.oracle.trials
    Path(f"{tuner.tuner_id}.json").write_text(json.dumps(
        {trial_id: {"status": trial.status, "score": trial.score} for trial_id, trial in trials.items()}))
