"""keras-io example "Customizing the convolution operation of a Conv2D layer", run on chainrule.

Source: https://keras.io/examples/keras_recipes/subclassing_conv_layers/ (keras-team/keras-io,
examples/keras_recipes/subclassing_conv_layers.py, the Keras 3 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `import keras` -> `from chainrule import keras`, `from keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 512 training and 128 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- the example's `model.fit(..., epochs=5, ...)` trains for `EPOCHS` = 2 epochs;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like

N_TRAIN, N_TEST = 512, 128  # test: the synthetic data's size (MNIST: 60000, 10000)
EPOCHS = 2  # test: the example's 5


class StandardizedConv2DWithOverride(layers.Conv2D):
    def convolution_op(self, inputs, kernel):
        mean, var = tf.nn.moments(kernel, axes=[0, 1, 2], keepdims=True)
        return tf.nn.conv2d(
            inputs,
            (kernel - mean) / tf.sqrt(var + 1e-10),
            padding="valid",
            strides=list(self.strides),
            name=self.__class__.__name__,
        )


class StandardizedConv2DWithCall(layers.Conv2D):
    def call(self, inputs):
        mean, var = tf.nn.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
        result = self.convolution_op(
            inputs, (self.kernel - mean) / tf.sqrt(var + 1e-10)
        )
        if self.use_bias:
            result = result + self.bias
        return result


def _standardized(kernel):
    kernel = np.asarray(kernel, dtype="float64")
    mean, var = kernel.mean(axis=(0, 1, 2), keepdims=True), kernel.var(axis=(0, 1, 2), keepdims=True)
    return (kernel - mean) / np.sqrt(var + 1e-10)


def _conv_valid(x, kernel):
    """A plain NumPy 'valid' convolution (cross-correlation), NHWC."""
    kh, kw = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (n, oh, ow, c, kh, kw)
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel)


def test_both_layers_standardize_the_kernel():
    # test: each layer convolves with the standardized kernel (the override also gets Conv2D's bias and activation)
    x = np.random.rand(2, 9, 9, 3).astype("float32")
    with_override = StandardizedConv2DWithOverride(4, kernel_size=(3, 3), activation="relu", bias_initializer="ones")
    with_call = StandardizedConv2DWithCall(4, kernel_size=(3, 3), activation="relu", bias_initializer="ones")
    y_override, y_call = np.asarray(with_override(x)), np.asarray(with_call(x))
    expected_override = np.maximum(_conv_valid(x, _standardized(with_override.kernel)) + 1.0, 0.0)
    expected_call = _conv_valid(x, _standardized(with_call.kernel)) + 1.0  # its call skips the activation
    np.testing.assert_allclose(y_override, expected_override, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y_call, expected_call, rtol=1e-4, atol=1e-4)


def test_standardized_convolutions_on_mnist():
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # the data, split between train and test sets
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=num_classes)

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.layers.Input(shape=input_shape),
            StandardizedConv2DWithCall(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            StandardizedConv2DWithOverride(
                64, kernel_size=(3, 3), activation="relu"
            ),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )

    model.summary()
    assert model.count_params() == 34826  # test: the same weights as mnist_convnet's model

    batch_size = 128
    epochs = EPOCHS

    model.compile(
        loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )

    history = model.fit(
        x_train, y_train, batch_size=batch_size, epochs=EPOCHS, validation_split=0.1
    )

    # test: training through the standardized kernels lowered the loss
    assert history.history["loss"][-1] < history.history["loss"][0]
    score = model.evaluate(x_test, y_test, verbose=0)
    assert np.isfinite(score[0]) and 0.0 <= score[1] <= 1.0


def test_convolution_op_of_conv1d_and_conv3d():
    # test: the same API on Conv1D and Conv3D (channels_first too): an overridden convolution_op replaces the
    # convolution, and the layer still adds its bias along the channel axis and applies its activation
    class Doubled1D(layers.Conv1D):
        def convolution_op(self, inputs, kernel):
            return super().convolution_op(inputs, 2.0 * kernel)

    class Doubled3D(layers.Conv3D):
        def convolution_op(self, inputs, kernel):
            return super().convolution_op(inputs, 2.0 * kernel)

    x1 = np.random.rand(2, 7, 3).astype("float32")
    plain1 = layers.Conv1D(4, 3, activation="tanh", bias_initializer="ones")
    doubled1 = Doubled1D(4, 3, activation="tanh", bias_initializer="ones")
    plain1(x1), doubled1(x1)
    doubled1.set_weights([w * 0.5 if w.ndim > 1 else w for w in plain1.get_weights()])
    np.testing.assert_allclose(np.asarray(doubled1(x1)), np.asarray(plain1(x1)), rtol=1e-5, atol=1e-6)

    x3 = np.random.rand(2, 3, 5, 5, 4).astype("float32")  # channels first
    plain3 = layers.Conv3D(2, 2, data_format="channels_first", activation="relu", bias_initializer="ones")
    doubled3 = Doubled3D(2, 2, data_format="channels_first", activation="relu", bias_initializer="ones")
    plain3(x3), doubled3(x3)
    doubled3.set_weights([w * 0.5 if w.ndim > 1 else w for w in plain3.get_weights()])
    np.testing.assert_allclose(np.asarray(doubled3(x3)), np.asarray(plain3(x3)), rtol=1e-5, atol=1e-6)
