"""keras-io example "Simple MNIST convnet", run on chainrule.

Source: https://keras.io/examples/vision/mnist_convnet/ (keras-team/keras-io, examples/vision/mnist_convnet.py).

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 256 training and 64 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- `epochs = 15` is 2;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

from chainrule import keras
from chainrule.keras import layers

import mnist_like


def test_mnist_convnet():
    # Model / data parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    # Load the data and split it between train and test sets
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=256, n_test=64, num_classes=num_classes)

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
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )

    model.summary()
    assert model.count_params() == 34826  # test: the example's printed total

    batch_size = 128
    epochs = 2

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}  # test
    assert history.history["loss"][-1] < history.history["loss"][0]  # test

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    assert len(score) == 2 and 0.0 <= score[1] <= 1.0  # test
