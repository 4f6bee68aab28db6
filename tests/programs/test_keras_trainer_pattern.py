"""keras-io example "Trainer pattern", run on chainrule.

Source: https://keras.io/examples/keras_recipes/trainer_pattern/ (keras-team/keras-io,
examples/keras_recipes/trainer_pattern.py, Keras 3 revision, "Last modified: 2022/09/26").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import keras` ->
  `from chainrule import keras` (and the `KERAS_BACKEND` environment line is dropped);
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 512 training and 128 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- `epochs=5` is 2;
- lines marked `# test:` check what the program produces.
"""

import chainrule as tf
from chainrule import keras

import mnist_like

N_TRAIN, N_TEST = 512, 128  # test: the synthetic data's size (MNIST: 60000, 10000)
EPOCHS = 2  # test: the example's 5


class MyTrainer(keras.Model):
    def __init__(self, model):
        super().__init__()
        self.model = model
        # Create loss and metrics here.
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy()
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy()

    @property
    def metrics(self):
        # List metrics here.
        return [self.accuracy_metric]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self.model(x, training=True)  # Forward pass
            # Compute loss value
            loss = self.loss_fn(y, y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))

        # Update metrics
        for metric in self.metrics:
            metric.update_state(y, y_pred)

        # Return a dict mapping metric names to current value.
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data

        # Inference step
        y_pred = self.model(x, training=False)

        # Update metrics
        for metric in self.metrics:
            metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def call(self, x):
        # Equivalent to `call()` of the wrapped keras.Model
        x = self.model(x)
        return x


def test_trainer_pattern_shares_one_train_step_across_two_models():
    # Load MNIST dataset and standardize the data
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)
    x_train, x_test = x_train / 255.0, x_test / 255.0

    # A model defined using Sequential API
    model_a = keras.models.Sequential(
        [
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )

    # A model defined using Functional API
    func_input = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Flatten()(func_input)
    x = keras.layers.Dense(512, activation="relu")(x)
    x = keras.layers.Dropout(0.4)(x)
    func_output = keras.layers.Dense(10, activation="softmax")(x)

    model_b = keras.Model(func_input, func_output)

    trainer_1 = MyTrainer(model_a)
    trainer_2 = MyTrainer(model_b)

    trainer_1.compile(optimizer=keras.optimizers.SGD())
    history_1 = trainer_1.fit(
        x_train, y_train, epochs=EPOCHS, batch_size=64, validation_data=(x_test, y_test)
    )

    trainer_2.compile(optimizer=keras.optimizers.Adam())
    history_2 = trainer_2.fit(
        x_train, y_train, epochs=EPOCHS, batch_size=64, validation_data=(x_test, y_test)
    )

    # test: the logs hold only the trainer's metric (no loss: train_step returns none), for training and validation
    assert set(history_1.history) == {"sparse_categorical_accuracy", "val_sparse_categorical_accuracy"}
    # test: each trainer trained the weights of the model it wraps
    assert len(trainer_1.trainable_variables) == 4 and len(trainer_2.trainable_variables) == 4
    assert history_1.history["sparse_categorical_accuracy"][-1] > history_1.history["sparse_categorical_accuracy"][0]
    assert history_2.history["val_sparse_categorical_accuracy"][-1] > 0.5
