"""keras-io example "Convolutional autoencoder for image denoising", run on chainrule.

Source: https://keras.io/examples/vision/autoencoder/ (keras-team/keras-io, examples/vision/autoencoder.py).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras.models import Model` -> `from chainrule.keras.models import Model`,
  `from tensorflow.keras.layers import ...` -> `from chainrule.keras.layers import ...`,
  `from tensorflow.keras.datasets import mnist` -> `import mnist_like as mnist` (128 training and
  32 test synthetic 28x28 images, tests/programs/mnist_like.py);
- `epochs=50` and `epochs=100` are 1; `display` draws on matplotlib's Agg backend without `plt.show()`;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import chainrule as tf
import matplotlib.pyplot as plt

from chainrule.keras.models import Model
from chainrule.keras.layers import Conv2D, MaxPooling2D, Input, UpSampling2D
import mnist_like as mnist


def preprocess(dataset):
    """
    Normalizes the supplied dataset and reshapes it into the appropriate format.
    """

    dataset = dataset.astype("float32") / 255.0
    dataset = np.reshape(dataset, (len(dataset), 28, 28, 1))
    return dataset


def noise(dataset):
    """
    Adds random noise to each image in the supplied dataset.
    """

    noise_factor = 0.4
    noisy_dataset = dataset + noise_factor * np.random.normal(
        loc=0.0, scale=1.0, size=dataset.shape
    )

    return np.clip(noisy_dataset, 0.0, 1.0)


def display(dataset1, dataset2):
    """
    Displays ten random images from each one of the supplied datasets.
    """

    n = 10

    indices = np.random.randint(len(dataset1), size=n)
    images1 = dataset1[indices, :]
    images2 = dataset2[indices, :]

    plt.figure(figsize=(20, 4))
    for i, (image1, image2) in enumerate(zip(images1, images2)):
        ax = plt.subplot(2, n, i + 1)
        plt.imshow(image1.reshape(28, 28))
        plt.gray()
        ax.get_xaxis().set_visible(False)
        ax.get_yaxis().set_visible(False)

        ax = plt.subplot(2, n, i + 1 + n)
        plt.imshow(image2.reshape(28, 28))
        plt.gray()
        ax.get_xaxis().set_visible(False)
        ax.get_yaxis().set_visible(False)
    plt.close()  # test: instead of plt.show()


def test_denoising_autoencoder():
    (train_dataset, _), (test_dataset, _) = mnist.load_data(n_train=128, n_test=32)

    # Normalize and reshape the data
    train_dataset = preprocess(train_dataset)
    test_dataset = preprocess(test_dataset)

    # Create a copy of the datasets with added noise
    noisy_train_dataset = noise(train_dataset)
    noisy_test_dataset = noise(test_dataset)

    # Display the train dataset and the version with added noise
    display(train_dataset, noisy_train_dataset)

    input = Input(shape=(28, 28, 1))

    # Encoder
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(input)
    x = MaxPooling2D((2, 2), padding="same")(x)
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = MaxPooling2D((2, 2), padding="same")(x)

    # Decoder
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

    # Autoencoder
    autoencoder = Model(input, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.summary()
    assert autoencoder.count_params() == 28353  # test: the example's printed total

    history = autoencoder.fit(
        x=train_dataset,
        y=train_dataset,
        epochs=1,
        batch_size=128,
        shuffle=True,
        validation_data=(test_dataset, test_dataset),
    )
    assert set(history.history) == {"loss", "val_loss"}  # test

    predictions = autoencoder.predict(test_dataset)
    display(test_dataset, predictions)
    assert predictions.shape == (32, 28, 28, 1)  # test
    assert 0.0 <= predictions.min() and predictions.max() <= 1.0  # test: sigmoid outputs

    autoencoder.fit(
        x=noisy_train_dataset,
        y=train_dataset,
        epochs=1,
        batch_size=128,
        shuffle=True,
        validation_data=(noisy_test_dataset, test_dataset),
    )

    predictions = autoencoder.predict(noisy_test_dataset)
    display(noisy_test_dataset, predictions)
    assert predictions.shape == (32, 28, 28, 1)  # test
