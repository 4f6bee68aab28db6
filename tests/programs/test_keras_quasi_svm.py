"""keras-io example "A Quasi-SVM in Keras", run on chainrule.

Source: https://keras.io/examples/keras_recipes/quasi_svm/ (keras-team/keras-io,
examples/keras_recipes/quasi_svm.py, "Last modified: 2020/04/17").

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras.layers.experimental import RandomFourierFeatures` ->
  `from chainrule.keras.layers.experimental import RandomFourierFeatures`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 512 training and 128 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- `epochs=20` is 3;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers.experimental import RandomFourierFeatures

import mnist_like

N_TRAIN, N_TEST = 512, 128  # test: the synthetic data's size (MNIST: 60000, 10000)
EPOCHS = 3  # test: the example's 20


def test_quasi_svm_on_mnist():
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            RandomFourierFeatures(
                output_dim=4096, scale=10.0, kernel_initializer="gaussian"
            ),
            layers.Dense(units=10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.hinge,
        metrics=[keras.metrics.CategoricalAccuracy(name="acc")],
    )

    # Load MNIST
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)

    # Preprocess the data by flattening & scaling it
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255

    # Categorical (one hot) encoding of the labels
    y_train = keras.utils.to_categorical(y_train)
    y_test = keras.utils.to_categorical(y_test)

    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=128, validation_split=0.2)

    # test: the random features are fixed (only the Dense layer's 4096*10+10 weights train); the hinge loss falls
    rff = model.layers[0]
    assert rff.unscaled_kernel.shape == (784, 4096) and rff.bias.shape == (4096,)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 4096 * 10 + 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["acc"][-1] > 0.3
    score = model.evaluate(x_test, y_test, verbose=0)
    assert score[1] > 0.3
