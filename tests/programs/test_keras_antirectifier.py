"""keras-io example "Simple custom layer example: Antirectifier", run on chainrule.

Source: https://keras.io/examples/keras_recipes/antirectifier/ (keras-team/keras-io,
examples/keras_recipes/antirectifier.py, "Last modified: 2020/04/20").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 512 training and 128 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- `epochs = 20` is 2;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like

N_TRAIN, N_TEST = 512, 128  # test: the synthetic data's size (MNIST: 60000, 10000)
EPOCHS = 2  # test: the example's 20


class Antirectifier(layers.Layer):
    def __init__(self, initializer="he_normal", **kwargs):
        super(Antirectifier, self).__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        output_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(output_dim * 2, output_dim),
            initializer=self.initializer,
            name="kernel",
            trainable=True,
        )

    def call(self, inputs):
        inputs -= tf.reduce_mean(inputs, axis=-1, keepdims=True)
        pos = tf.nn.relu(inputs)
        neg = tf.nn.relu(-inputs)
        concatenated = tf.concat([pos, neg], axis=-1)
        mixed = tf.matmul(concatenated, self.kernel)
        return mixed

    def get_config(self):
        # Implement get_config to enable serialization. This is optional.
        base_config = super(Antirectifier, self).get_config()
        config = {"initializer": keras.initializers.serialize(self.initializer)}
        return dict(list(base_config.items()) + list(config.items()))


def test_antirectifier_on_mnist():
    # Training parameters
    batch_size = 128
    num_classes = 10
    epochs = EPOCHS

    # The data, split between train and test sets
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=num_classes)

    x_train = x_train.reshape(-1, 784)
    x_test = x_test.reshape(-1, 784)
    x_train = x_train.astype("float32")
    x_test = x_test.astype("float32")
    x_train /= 255
    x_test /= 255
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # Build the model
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(256),
            Antirectifier(),
            layers.Dense(256),
            Antirectifier(),
            layers.Dropout(0.5),
            layers.Dense(10),
        ]
    )

    # Compile the model
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )

    # Train the model
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.15)

    # Test the model
    score = model.evaluate(x_test, y_test)

    # test: each Antirectifier holds a (512, 256) kernel; training lowered the loss and the model learned the classes
    assert model.layers[1].kernel.shape == (512, 256)
    assert model.count_params() == 784 * 256 + 256 + 512 * 256 + 256 * 256 + 256 + 512 * 256 + 256 * 10 + 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert score[1] > 0.5


def test_antirectifier_config_round_trip():
    # test: the example's get_config is what lets the layer be rebuilt from its config
    layer = Antirectifier(initializer="glorot_uniform", name="anti")
    config = layer.get_config()
    assert config["name"] == "anti"
    clone = Antirectifier.from_config(config)
    assert isinstance(clone.initializer, keras.initializers.GlorotUniform)
    x = np.random.rand(4, 8).astype("float32")
    y = clone(x)
    assert tuple(y.shape) == (4, 8)
    centered = x - x.mean(axis=-1, keepdims=True)
    expected = np.concatenate([np.maximum(centered, 0), np.maximum(-centered, 0)], axis=-1) @ np.asarray(clone.kernel)
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-5, atol=1e-5)
