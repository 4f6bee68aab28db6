"""keras-io example "PixelCNN", run on chainrule.

Source: https://keras.io/examples/generative/pixelcnn/ (keras-team/keras-io, examples/generative/pixelcnn.py,
"Last modified: 2020/05/23").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`; tqdm and
  IPython are not installed: `tqdm` passes its iterable through and `display`/`Image` show nothing (stand-ins below);
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 96 + 32 synthetic 28x28 digits (mnist_like.py);
- `epochs=50` is 1;
- lines marked `# test:` check what the program produces.

What it relies on: a layer building a wrapped Conv2D in its own build and masking its kernel with
`kernel.assign(kernel * float64_mask)` at each call (Variable.get_shape, np.zeros(shape=TensorShape)), layers.add in
a layer's call, 784 predict calls generating pixel by pixel with tf.math.ceil(probs - tf.random.uniform(...)),
keras.preprocessing.image.save_img.
"""

import os

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like

EPOCHS = 1  # test: the example's 50


def tqdm(iterable):  # test: stands in for tqdm.tqdm (a progress bar)
    return iterable


def Image(path):  # test: stands in for IPython.display.Image
    return path


def display(image):  # test: stands in for IPython.display.display
    return None


class PixelConvLayer(layers.Layer):
    def __init__(self, mask_type, **kwargs):
        super(PixelConvLayer, self).__init__()
        self.mask_type = mask_type
        self.conv = layers.Conv2D(**kwargs)
    def build(self, input_shape):
        # Build the conv2d layer to initialize kernel variables
        self.conv.build(input_shape)
        # Use the initialized kernel to create the mask
        kernel_shape = self.conv.kernel.get_shape()
        self.mask = np.zeros(shape=kernel_shape)
        self.mask[: kernel_shape[0] // 2, ...] = 1.0
        self.mask[kernel_shape[0] // 2, : kernel_shape[1] // 2, ...] = 1.0
        if self.mask_type == "B":
            self.mask[kernel_shape[0] // 2, kernel_shape[1] // 2, ...] = 1.0
    def call(self, inputs):
        self.conv.kernel.assign(self.conv.kernel * self.mask)
        return self.conv(inputs)
class ResidualBlock(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super(ResidualBlock, self).__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(filters=filters, kernel_size=1, activation="relu")
        self.pixel_conv = PixelConvLayer(mask_type="B", filters=filters // 2, kernel_size=3, activation="relu", padding="same")
        self.conv2 = keras.layers.Conv2D(filters=filters, kernel_size=1, activation="relu")
    def call(self, inputs):
        x = self.conv1(inputs)
        x = self.pixel_conv(x)
        x = self.conv2(x)
        return keras.layers.add([inputs, x])


@pytest.mark.slow
def test_pixelcnn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the generated images go to the working folder
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)
    n_residual_blocks = 5
    # The data, split between train and test sets
    (x, _), (y, _) = mnist_like.load_data(n_train=96, n_test=32, num_classes=10)
    # Concatenate all of the images together
    data = np.concatenate((x, y), axis=0)
    # Round all pixel values less than 33% of the max 256 value to 0
    # anything above this value gets rounded up to 1 so that all values are either
    # 0 or 1
    data = np.where(data < (0.33 * 256), 0, 1)
    data = data.astype(np.float32)

    inputs = keras.Input(shape=input_shape)
    x = PixelConvLayer(
        mask_type="A", filters=128, kernel_size=7, activation="relu", padding="same"
    )(inputs)
    for _ in range(n_residual_blocks):
        x = ResidualBlock(filters=128)(x)
    for _ in range(2):
        x = PixelConvLayer(mask_type="B", filters=128, kernel_size=1, strides=1, activation="relu", padding="valid")(x)
    out = keras.layers.Conv2D(filters=1, kernel_size=1, strides=1, activation="sigmoid", padding="valid")(x)
    pixel_cnn = keras.Model(inputs, out)
    adam = keras.optimizers.Adam(learning_rate=0.0005)
    pixel_cnn.compile(optimizer=adam, loss="binary_crossentropy")
    pixel_cnn.summary()
    pixel_cnn.fit(
        x=data, y=data, batch_size=128, epochs=EPOCHS, validation_split=0.1, verbose=2
    )

    # Create an empty array of pixels.
    batch = 4
    pixels = np.zeros(shape=(batch,) + (pixel_cnn.input_shape)[1:])
    batch, rows, cols, channels = pixels.shape

    # Iterate over the pixels because generation has to be done sequentially pixel by pixel.
    for row in tqdm(range(rows)):
        for col in range(cols):
            for channel in range(channels):
                # Feed the whole array and retrieving the pixel value probabilities for the next
                # pixel.
                probs = pixel_cnn.predict(pixels)[:, row, col, channel]
                # Use the probabilities to pick pixel values and append the values to the image
                # frame.
                pixels[:, row, col, channel] = tf.math.ceil(
                    probs - tf.random.uniform(probs.shape)
                )


    def deprocess_image(x):
        # Stack the single channeled black and white image to rgb values.
        x = np.stack((x, x, x), 2)
        # Undo preprocessing
        x *= 255.0
        # Convert to uint8 and clip to the valid range [0, 255]
        x = np.clip(x, 0, 255).astype("uint8")
        return x


    # Iterate over the generated images and plot them with matplotlib.
    for i, pic in enumerate(pixels):
        keras.preprocessing.image.save_img(
            "generated_image_{}.png".format(i), deprocess_image(np.squeeze(pic, -1))
        )

    display(Image("generated_image_0.png"))
    display(Image("generated_image_1.png"))
    display(Image("generated_image_2.png"))
    display(Image("generated_image_3.png"))

    # test: the masks hide the centre and later pixels (type A) or only later ones (type B); every pixel got a
    # 0/1 value; four images written; the parameter count is the example's
    first = pixel_cnn.layers[1]
    assert first.mask_type == "A" and first.mask[3, 3].sum() == 0 and first.mask[2, 6].all() and not first.mask[4].any()
    assert np.asarray(first.conv.kernel)[3, 4:].any() == False  # noqa: E712  (masked weights stay zero)
    assert set(np.unique(pixels)) <= {0.0, 1.0}
    assert sorted(f for f in os.listdir(".") if f.endswith(".png")) == [f"generated_image_{i}.png" for i in range(4)]
    assert pixel_cnn.count_params() == 532673
