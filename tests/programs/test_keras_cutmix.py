"""keras-io example "CutMix data augmentation for image classification", run on chainrule.

Source: https://keras.io/examples/vision/cutmix/ (keras-team/keras-io, examples/vision/cutmix.py, the TensorFlow 2
revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`;
- CIFAR-10 (`tf.keras.datasets.cifar10.load_data()`, a download) is replaced by cifar_like.py's synthetic images of
  the same shapes and dtypes (128 training, 64 test images);
- training is shrunk through the marked constant EPOCHS=1 (the example's 15);
- the initial weights file is written in the test's temporary folder (the working folder there); the figure is drawn
  on matplotlib's Agg backend and closed;
- lines marked `# test:` check what the program produces.

Slow: a ResNet-20 trains twice.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import chainrule as tf
from chainrule import keras
import pytest

import cifar_like

EPOCHS = 1  # test: the example's 15
IMG_SIZE = 32


def sample_beta_distribution(size, concentration_0=0.2, concentration_1=0.2):
    gamma_1_sample = tf.random.gamma(shape=[size], alpha=concentration_1)
    gamma_2_sample = tf.random.gamma(shape=[size], alpha=concentration_0)
    return gamma_1_sample / (gamma_1_sample + gamma_2_sample)


@tf.function
def get_box(lambda_value):
    cut_rat = tf.math.sqrt(1.0 - lambda_value)

    cut_w = IMG_SIZE * cut_rat  # rw
    cut_w = tf.cast(cut_w, tf.int32)

    cut_h = IMG_SIZE * cut_rat  # rh
    cut_h = tf.cast(cut_h, tf.int32)

    cut_x = tf.random.uniform((1,), minval=0, maxval=IMG_SIZE, dtype=tf.int32)  # rx
    cut_y = tf.random.uniform((1,), minval=0, maxval=IMG_SIZE, dtype=tf.int32)  # ry

    boundaryx1 = tf.clip_by_value(cut_x[0] - cut_w // 2, 0, IMG_SIZE)
    boundaryy1 = tf.clip_by_value(cut_y[0] - cut_h // 2, 0, IMG_SIZE)
    bbx2 = tf.clip_by_value(cut_x[0] + cut_w // 2, 0, IMG_SIZE)
    bby2 = tf.clip_by_value(cut_y[0] + cut_h // 2, 0, IMG_SIZE)

    target_h = bby2 - boundaryy1
    if target_h == 0:
        target_h += 1

    target_w = bbx2 - boundaryx1
    if target_w == 0:
        target_w += 1

    return boundaryx1, boundaryy1, target_h, target_w


@tf.function
def cutmix(train_ds_one, train_ds_two):
    (image1, label1), (image2, label2) = train_ds_one, train_ds_two

    alpha = [0.25]
    beta = [0.25]

    # Get a sample from the Beta distribution
    lambda_value = sample_beta_distribution(1, alpha, beta)

    # Define Lambda
    lambda_value = lambda_value[0][0]

    # Get the bounding box offsets, heights and widths
    boundaryx1, boundaryy1, target_h, target_w = get_box(lambda_value)

    # Get a patch from the second image (`image2`)
    crop2 = tf.image.crop_to_bounding_box(
        image2, boundaryy1, boundaryx1, target_h, target_w
    )
    # Pad the `image2` patch (`crop2`) with the same offset
    image2 = tf.image.pad_to_bounding_box(
        crop2, boundaryy1, boundaryx1, IMG_SIZE, IMG_SIZE
    )
    # Get a patch from the first image (`image1`)
    crop1 = tf.image.crop_to_bounding_box(
        image1, boundaryy1, boundaryx1, target_h, target_w
    )
    # Pad the `image1` patch (`crop1`) with the same offset
    img1 = tf.image.pad_to_bounding_box(
        crop1, boundaryy1, boundaryx1, IMG_SIZE, IMG_SIZE
    )

    # Modify the first image by subtracting the patch from `image1`
    # (before applying the `image2` patch)
    image1 = image1 - img1
    # Add the modified `image1` and `image2`  together to get the CutMix image
    image = image1 + image2

    # Adjust Lambda in accordance to the pixel ration
    lambda_value = 1 - (target_w * target_h) / (IMG_SIZE * IMG_SIZE)
    lambda_value = tf.cast(lambda_value, tf.float32)

    # Combine the labels of both images
    label = lambda_value * label1 + (1 - lambda_value) * label2
    return image, label


def test_cutmix_pastes_a_box_and_mixes_the_labels():
    # test: the mixed image is image 2 inside one box and image 1 elsewhere; the label weights are the areas
    a, b = np.zeros((32, 32, 3), "float32"), np.ones((32, 32, 3), "float32")
    la, lb = np.eye(10, dtype="float32")[3], np.eye(10, dtype="float32")[7]
    for _ in range(5):
        image, label = cutmix((a, la), (b, lb))
        image, label = np.asarray(image), np.asarray(label)
        inside = image[..., 0] == 1.0
        rows, cols = np.nonzero(inside)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) if inside.any() else 0
        assert inside.sum() == box  # one rectangle
        np.testing.assert_allclose(label[7], inside.sum() / 1024, atol=1e-6)
        np.testing.assert_allclose(label.sum(), 1.0, rtol=1e-6)


@pytest.mark.slow
def test_cutmix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: initial_weights.h5 goes to the working folder
    np.random.seed(42)
    tf.random.set_seed(42)

    (x_train, y_train), (x_test, y_test) = cifar_like.load_data(128, 64, num_classes=10)  # test: cifar10
    y_train = tf.keras.utils.to_categorical(y_train, num_classes=10)
    y_test = tf.keras.utils.to_categorical(y_test, num_classes=10)

    print(x_train.shape)
    print(y_train.shape)
    print(x_test.shape)
    print(y_test.shape)

    class_names = [
        "Airplane",
        "Automobile",
        "Bird",
        "Cat",
        "Deer",
        "Dog",
        "Frog",
        "Horse",
        "Ship",
        "Truck",
    ]

    AUTO = tf.data.AUTOTUNE
    BATCH_SIZE = 32

    def preprocess_image(image, label):
        image = tf.image.resize(image, (IMG_SIZE, IMG_SIZE))
        image = tf.image.convert_image_dtype(image, tf.float32) / 255.0
        return image, label

    train_ds_one = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(1024)
        .map(preprocess_image, num_parallel_calls=AUTO)
    )
    train_ds_two = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(1024)
        .map(preprocess_image, num_parallel_calls=AUTO)
    )

    train_ds_simple = tf.data.Dataset.from_tensor_slices((x_train, y_train))

    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test))

    train_ds_simple = (
        train_ds_simple.map(preprocess_image, num_parallel_calls=AUTO)
        .batch(BATCH_SIZE)
        .prefetch(AUTO)
    )

    # Combine two shuffled datasets from the same training data.
    train_ds = tf.data.Dataset.zip((train_ds_one, train_ds_two))

    test_ds = (
        test_ds.map(preprocess_image, num_parallel_calls=AUTO)
        .batch(BATCH_SIZE)
        .prefetch(AUTO)
    )

    # Create the new dataset using our `cutmix` utility
    train_ds_cmu = (
        train_ds.shuffle(1024)
        .map(cutmix, num_parallel_calls=AUTO)
        .batch(BATCH_SIZE)
        .prefetch(AUTO)
    )

    # Let's preview 9 samples from the dataset
    image_batch, label_batch = next(iter(train_ds_cmu))
    plt.figure(figsize=(10, 10))
    for i in range(9):
        ax = plt.subplot(3, 3, i + 1)
        plt.title(class_names[np.argmax(label_batch[i])])
        plt.imshow(image_batch[i])
        plt.axis("off")
    plt.close("all")  # test: drawn, not shown

    # test: batches of 32 mixed images with label vectors summing to 1
    assert tuple(image_batch.shape) == (32, 32, 32, 3)
    np.testing.assert_allclose(np.asarray(label_batch).sum(1), 1.0, rtol=1e-5)

    def resnet_layer(
        inputs,
        num_filters=16,
        kernel_size=3,
        strides=1,
        activation="relu",
        batch_normalization=True,
        conv_first=True,
    ):
        conv = keras.layers.Conv2D(
            num_filters,
            kernel_size=kernel_size,
            strides=strides,
            padding="same",
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.l2(1e-4),
        )
        x = inputs
        if conv_first:
            x = conv(x)
            if batch_normalization:
                x = keras.layers.BatchNormalization()(x)
            if activation is not None:
                x = keras.layers.Activation(activation)(x)
        else:
            if batch_normalization:
                x = keras.layers.BatchNormalization()(x)
            if activation is not None:
                x = keras.layers.Activation(activation)(x)
            x = conv(x)
        return x

    def resnet_v20(input_shape, depth, num_classes=10):
        if (depth - 2) % 6 != 0:
            raise ValueError("depth should be 6n+2 (eg 20, 32, 44 in [a])")
        # Start model definition.
        num_filters = 16
        num_res_blocks = int((depth - 2) / 6)

        inputs = keras.layers.Input(shape=input_shape)
        x = resnet_layer(inputs=inputs)
        # Instantiate the stack of residual units
        for stack in range(3):
            for res_block in range(num_res_blocks):
                strides = 1
                if stack > 0 and res_block == 0:  # first layer but not first stack
                    strides = 2  # downsample
                y = resnet_layer(inputs=x, num_filters=num_filters, strides=strides)
                y = resnet_layer(inputs=y, num_filters=num_filters, activation=None)
                if stack > 0 and res_block == 0:  # first layer but not first stack
                    # linear projection residual shortcut connection to match
                    # changed dims
                    x = resnet_layer(
                        inputs=x,
                        num_filters=num_filters,
                        kernel_size=1,
                        strides=strides,
                        activation=None,
                        batch_normalization=False,
                    )
                x = keras.layers.add([x, y])
                x = keras.layers.Activation("relu")(x)
            num_filters *= 2

        # Add classifier on top.
        # v1 does not use BN after last shortcut connection-ReLU
        x = keras.layers.AveragePooling2D(pool_size=8)(x)
        y = keras.layers.Flatten()(x)
        outputs = keras.layers.Dense(
            num_classes, activation="softmax", kernel_initializer="he_normal"
        )(y)

        # Instantiate model.
        model = keras.models.Model(inputs=inputs, outputs=outputs)
        return model

    def training_model():
        return resnet_v20((32, 32, 3), 20)

    initial_model = training_model()
    initial_model.save_weights("initial_weights.h5")

    model = training_model()
    model.load_weights("initial_weights.h5")

    # test: the second model starts from the first one's weights
    for a, b in zip(initial_model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(train_ds_cmu, validation_data=test_ds, epochs=EPOCHS)  # test: EPOCHS

    test_loss, test_accuracy = model.evaluate(test_ds)
    print("Test accuracy: {:.2f}%".format(test_accuracy * 100))

    model = training_model()
    model.load_weights("initial_weights.h5")
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(train_ds_simple, validation_data=test_ds, epochs=EPOCHS)  # test: EPOCHS

    test_loss, test_accuracy = model.evaluate(test_ds)
    print("Test accuracy: {:.2f}%".format(test_accuracy * 100))
    assert 0 <= test_accuracy <= 1 and np.isfinite(test_loss)  # test
