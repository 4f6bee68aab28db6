"""keras-io example "MixUp augmentation for image classification", run on chainrule.

Source: https://keras.io/examples/vision/mixup/ (keras-team/keras-io, examples/vision/mixup.py, the tf.keras
revision, "Last modified: 2021/03/06").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- FashionMNIST (`tf.keras.datasets.fashion_mnist.load_data()`) is replaced by 640 training and 128 test
  synthetic 28x28 images of 10 classes (tests/programs/mnist_like.py), of which `val_samples` = 128 (2000) are
  put aside for validation; `EPOCHS` = 2 (10);
- the weights file and the preview figure are written in the test's temporary folder (no `plt.show()`);
- lines marked `# test:` check what the program produces.
"""

import os

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np

import chainrule as tf
from chainrule.keras import layers

import mnist_like

N_TRAIN, N_TEST = 640, 128  # test: the synthetic data's size (FashionMNIST: 60000, 10000)
VAL_SAMPLES = 128  # test: the example's 2000


def sample_beta_distribution(size, concentration_0=0.2, concentration_1=0.2):
    gamma_1_sample = tf.random.gamma(shape=[size], alpha=concentration_1)
    gamma_2_sample = tf.random.gamma(shape=[size], alpha=concentration_0)
    return gamma_1_sample / (gamma_1_sample + gamma_2_sample)


def mix_up(ds_one, ds_two, alpha=0.2):
    # Unpack two datasets
    images_one, labels_one = ds_one
    images_two, labels_two = ds_two
    batch_size = tf.shape(images_one)[0]

    # Sample lambda and reshape it to do the mixup
    l = sample_beta_distribution(batch_size, alpha, alpha)
    x_l = tf.reshape(l, (batch_size, 1, 1, 1))
    y_l = tf.reshape(l, (batch_size, 1))

    # Perform mixup on both images and labels by combining a pair of images/labels
    # (one from each dataset) into one image/label
    images = images_one * x_l + images_two * (1 - x_l)
    labels = labels_one * y_l + labels_two * (1 - y_l)
    return (images, labels)


def get_training_model():
    model = tf.keras.Sequential(
        [
            layers.Conv2D(16, (5, 5), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(32, (5, 5), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.2),
            layers.GlobalAvgPool2D(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return model


def test_mixup(tmp_path):
    os.chdir(tmp_path)  # test: the weights file and the figure go to a temporary folder

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)

    x_train = x_train.astype("float32") / 255.0
    x_train = np.reshape(x_train, (-1, 28, 28, 1))
    y_train = tf.one_hot(y_train, 10)

    x_test = x_test.astype("float32") / 255.0
    x_test = np.reshape(x_test, (-1, 28, 28, 1))
    y_test = tf.one_hot(y_test, 10)

    AUTO = tf.data.AUTOTUNE
    BATCH_SIZE = 64
    EPOCHS = 2

    # Put aside a few samples to create our validation set
    val_samples = VAL_SAMPLES
    x_val, y_val = x_train[:val_samples], y_train[:val_samples]
    new_x_train, new_y_train = x_train[val_samples:], y_train[val_samples:]

    train_ds_one = (
        tf.data.Dataset.from_tensor_slices((new_x_train, new_y_train))
        .shuffle(BATCH_SIZE * 100)
        .batch(BATCH_SIZE)
    )
    train_ds_two = (
        tf.data.Dataset.from_tensor_slices((new_x_train, new_y_train))
        .shuffle(BATCH_SIZE * 100)
        .batch(BATCH_SIZE)
    )
    # Because we will be mixing up the images and their corresponding labels, we will be
    # combining two shuffled datasets from the same training data.
    train_ds = tf.data.Dataset.zip((train_ds_one, train_ds_two))

    val_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(BATCH_SIZE)

    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(BATCH_SIZE)

    # First create the new dataset using our `mix_up` utility
    train_ds_mu = train_ds.map(
        lambda ds_one, ds_two: mix_up(ds_one, ds_two, alpha=0.2), num_parallel_calls=AUTO
    )

    # Let's preview 9 samples from the dataset
    sample_images, sample_labels = next(iter(train_ds_mu))
    plt.figure(figsize=(10, 10))
    for i, (image, label) in enumerate(zip(sample_images[:9], sample_labels[:9])):
        ax = plt.subplot(3, 3, i + 1)
        plt.imshow(image.numpy().squeeze())
        print(label.numpy().tolist())
        plt.axis("off")
    plt.savefig("preview.png")  # test: instead of showing it

    # test: a mixed batch: labels are convex combinations of two one-hot labels (rows sum to 1, at most two
    # non-zero entries), and the images stay in [0, 1]
    labels = sample_labels.numpy()
    assert sample_images.shape == (BATCH_SIZE, 28, 28, 1) and labels.shape == (BATCH_SIZE, 10)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert ((labels > 1e-6).sum(axis=1) <= 2).all()
    assert sample_images.numpy().min() >= 0.0 and sample_images.numpy().max() <= 1.0 + 1e-6
    # test: the Beta(0.2, 0.2) weights pile up near 0 and 1
    lam = sample_beta_distribution(2000).numpy()
    assert ((lam >= 0) & (lam <= 1)).all() and np.mean((lam < 0.1) | (lam > 0.9)) > 0.5

    initial_model = get_training_model()
    initial_model.save_weights("initial_weights.h5")

    model = get_training_model()
    model.load_weights("initial_weights.h5")
    for a, b in zip(model.get_weights(), initial_model.get_weights()):  # test: the same initial weights
        np.testing.assert_array_equal(a, b)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(train_ds_mu, validation_data=val_ds, epochs=EPOCHS)
    _, test_acc = model.evaluate(test_ds)
    print("Test accuracy: {:.2f}%".format(test_acc * 100))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}  # test
    assert np.isfinite(history.history["loss"]).all() and 0.0 <= test_acc <= 1.0  # test

    model = get_training_model()
    model.load_weights("initial_weights.h5")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    # Notice that we are NOT using the mixed up dataset here
    history = model.fit(train_ds_one, validation_data=val_ds, epochs=EPOCHS)
    _, test_acc = model.evaluate(test_ds)
    print("Test accuracy: {:.2f}%".format(test_acc * 100))
    assert history.history["loss"][-1] < history.history["loss"][0]  # test
