"""Seed 001: the deeper CNN of the seed's ``cnn_model`` (four blocks of 3x3 'same' convolution with 32, 64, 128 and
256 filters and ReLU, each followed by 2x2 max pooling with stride 2, then a 10-way softmax), trained with Adam at
learning rate 0.001 on one-hot labels in batches of 128 as the seed's ``main`` does.

The seed's code is TensorFlow 1 (``tf.layers``, ``tf.Session``) and cannot run as printed (it reshapes the
(N, 1, 1, 256) features to (-1, 10)); here is the same network in the Keras API, with a Flatten where the seed's
reshape was meant to go."""
import numpy as np
import pytest

import chainrule as tf
from seed_data import accuracy, mnist_slices, synthetic_mnist


def cnn_model(num_classes=10):
    def conv2d(filters):
        return tf.keras.layers.Conv2D(filters, (3, 3), strides=(1, 1), padding='same', activation='relu')

    def max_pooling2d():
        return tf.keras.layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2))

    return tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28, 1)),
        conv2d(32), max_pooling2d(),
        conv2d(64), max_pooling2d(),
        conv2d(128), max_pooling2d(),
        conv2d(256), max_pooling2d(),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(num_classes, activation='softmax'),
    ])


def prepare(images, labels):
    """The seed's main(): scale, reshape to (-1, 28, 28, 1), one-hot labels."""
    train_images = images / 255.0
    train_images = train_images.reshape(-1, 28, 28, 1)
    train_labels = tf.keras.utils.to_categorical(labels, num_classes=10)
    return train_images, train_labels


def train(images, labels, epochs):
    tf.keras.utils.set_random_seed(1)
    model = cnn_model(num_classes=10)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.001),
                  loss=tf.keras.losses.CategoricalCrossentropy(), metrics=['accuracy'])
    history = model.fit(*prepare(images, labels), batch_size=128, epochs=epochs, verbose=0)
    return model, history.history


def test_seed_001_architecture():
    model = cnn_model()
    shapes = [layer_output.shape for layer_output in model._layer_outputs]
    assert shapes[:8] == [(None, 28, 28, 32), (None, 14, 14, 32), (None, 14, 14, 64), (None, 7, 7, 64),
                          (None, 7, 7, 128), (None, 3, 3, 128), (None, 3, 3, 256), (None, 1, 1, 256)]
    assert model.output_shape == (None, 10)
    assert model.count_params() == 320 + 18_496 + 73_856 + 295_168 + 2_570


def test_seed_001_deeper_cnn_trains_on_synthetic_digits():
    (x, y), _ = synthetic_mnist(384, 10)
    model, history = train(x, y, epochs=3)
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.mnist
def test_seed_001_deeper_cnn_trains_on_mnist_slice():
    (x, y), (x_test, y_test) = mnist_slices(3000, 500)
    model, history = train(x, y, epochs=3)
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert accuracy(model, *prepare(x_test, y_test)) >= 0.8
