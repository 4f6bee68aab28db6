"""keras-io example "Learning to Resize in Computer Vision", run on chainrule.

Source: https://keras.io/examples/vision/learnable_resizer/ (keras-team/keras-io, examples/vision/learnable_resizer.py).

The example's code is kept as written, except:
- the import lines: `from tensorflow.keras import layers` / `from tensorflow import keras` / `import tensorflow as
  tf` -> their chainrule paths; `import tensorflow_datasets as tfds` is replaced by a stand-in whose
  `load("cats_vs_dogs", split=["train[:40%]", "train[40%:50%]"], as_supervised=True)` gives 60 synthetic photos of
  varied sizes (uint8, labels 0 for cats and 1 for dogs) split as asked, and whose `disable_progress_bar` does nothing;
- sizes are shrunk through the marked constants: INP_SIZE=(64, 64) (the example's (300, 300)), TARGET_SIZE=(32, 32)
  ((150, 150)), BATCH_SIZE=16 (64), EPOCHS=1 (5);
- the figures are drawn on matplotlib's Agg backend and closed;
- lines marked `# test:` check what the program produces.

Slow: a DenseNet121 (weights=None, as in the example) behind the learnable resizer.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import re
import types

import pytest

from chainrule.keras import layers
from chainrule import keras
import chainrule as tf

import matplotlib.pyplot as plt
import numpy as np


def _cats_vs_dogs(name, split, as_supervised=False, n=60, seed=0):
    """test: stands in for tfds.load("cats_vs_dogs", ...): photos of 80-140 x 80-140 pixels, cats dark with light
    ears (triangles), dogs light with dark spots."""
    assert name == "cats_vs_dogs" and as_supervised
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = []
    for label in labels:
        h, w = rng.integers(80, 141, 2)
        image = np.clip(rng.normal(70 if label == 0 else 180, 20, (h, w, 3)), 0, 255)
        rows, cols = np.mgrid[:h, :w]
        if label == 0:
            image[(rows < h // 3) & (np.abs(cols - w // 2) < rows)] = 230
        else:
            for r, c in rng.integers(10, min(h, w) - 10, (4, 2)):
                image[(rows - r) ** 2 + (cols - c) ** 2 < 64] = 30
        images.append(image.astype(np.uint8))

    def part(text):
        start, stop = (int(v) for v in re.fullmatch(r"train\[(\d+)%:(\d+)%\]", text.replace("[:", "[0%:")).groups())
        indices = range(n * start // 100, n * stop // 100)
        return tf.data.Dataset.from_generator(
            lambda: ((images[i], labels[i]) for i in indices),
            output_signature=(tf.TensorSpec((None, None, 3), tf.uint8), tf.TensorSpec((), tf.int64)))

    return [part(s) for s in split]


tfds = types.SimpleNamespace(load=_cats_vs_dogs, disable_progress_bar=lambda: None)  # test: stand-in

tfds.disable_progress_bar()

INP_SIZE = (64, 64)  # test: the example's (300, 300)
TARGET_SIZE = (32, 32)  # test: the example's (150, 150)
INTERPOLATION = "bilinear"

AUTO = tf.data.AUTOTUNE
BATCH_SIZE = 16  # test: the example's 64
EPOCHS = 1  # test: the example's 5


def conv_block(x, filters, kernel_size, strides, activation=layers.LeakyReLU(0.2)):
    x = layers.Conv2D(filters, kernel_size, strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    if activation:
        x = activation(x)
    return x


def res_block(x):
    inputs = x
    x = conv_block(x, 16, 3, 1)
    x = conv_block(x, 16, 3, 1, activation=None)
    return layers.Add()([inputs, x])


def get_learnable_resizer(filters=16, num_res_blocks=1, interpolation=INTERPOLATION):
    inputs = layers.Input(shape=[None, None, 3])

    # First, perform naive resizing.
    naive_resize = layers.Resizing(*TARGET_SIZE, interpolation=interpolation)(inputs)

    # First convolution block without batch normalization.
    x = layers.Conv2D(filters=filters, kernel_size=7, strides=1, padding="same")(inputs)
    x = layers.LeakyReLU(0.2)(x)

    # Second convolution block with batch normalization.
    x = layers.Conv2D(filters=filters, kernel_size=1, strides=1, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.BatchNormalization()(x)

    # Intermediate resizing as a bottleneck.
    bottleneck = layers.Resizing(*TARGET_SIZE, interpolation=interpolation)(x)

    # Residual passes.
    for _ in range(num_res_blocks):
        x = res_block(bottleneck)

    # Projection.
    x = layers.Conv2D(
        filters=filters, kernel_size=3, strides=1, padding="same", use_bias=False
    )(x)
    x = layers.BatchNormalization()(x)

    # Skip connection.
    x = layers.Add()([bottleneck, x])

    # Final resized image.
    x = layers.Conv2D(filters=3, kernel_size=7, strides=1, padding="same")(x)
    final_resize = layers.Add()([naive_resize, x])

    return tf.keras.Model(inputs, final_resize, name="learnable_resizer")


@pytest.mark.slow
def test_learnable_resizer():
    train_ds, validation_ds = tfds.load(
        "cats_vs_dogs",
        # Reserve 10% for validation
        split=["train[:40%]", "train[40%:50%]"],
        as_supervised=True,
    )

    def preprocess_dataset(image, label):
        image = tf.image.resize(image, (INP_SIZE[0], INP_SIZE[1]))
        label = tf.one_hot(label, depth=2)
        return (image, label)

    train_ds = (
        train_ds.shuffle(BATCH_SIZE * 100)
        .map(preprocess_dataset, num_parallel_calls=AUTO)
        .batch(BATCH_SIZE)
        .prefetch(AUTO)
    )
    validation_ds = (
        validation_ds.map(preprocess_dataset, num_parallel_calls=AUTO)
        .batch(BATCH_SIZE)
        .prefetch(AUTO)
    )

    learnable_resizer = get_learnable_resizer()

    sample_images, _ = next(iter(train_ds))

    plt.figure(figsize=(16, 10))
    for i, image in enumerate(sample_images[:6]):
        image = image / 255

        ax = plt.subplot(3, 4, 2 * i + 1)
        plt.title("Input Image")
        plt.imshow(image.numpy().squeeze())
        plt.axis("off")

        ax = plt.subplot(3, 4, 2 * i + 2)
        resized_image = learnable_resizer(image[None, ...])
        plt.title("Resized Image")
        plt.imshow(resized_image.numpy().squeeze())
        plt.axis("off")
    plt.close("all")  # test: drawn, not shown

    # test: the resizer takes any size to TARGET_SIZE; the batches are the 24 training photos resized to INP_SIZE
    assert tuple(resized_image.shape) == (1, 32, 32, 3)
    assert tuple(learnable_resizer(np.zeros((2, 50, 70, 3), "float32")).shape) == (2, 32, 32, 3)
    assert tuple(sample_images.shape) == (16, 64, 64, 3)

    def get_model():
        backbone = tf.keras.applications.DenseNet121(
            weights=None,
            include_top=True,
            classes=2,
            input_shape=((TARGET_SIZE[0], TARGET_SIZE[1], 3)),
        )
        backbone.trainable = True

        inputs = layers.Input((INP_SIZE[0], INP_SIZE[1], 3))
        x = layers.Rescaling(scale=1.0 / 255)(inputs)
        x = learnable_resizer(x)
        outputs = backbone(x)

        return tf.keras.Model(inputs, outputs)

    model = get_model()
    model.compile(
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    initial = [w.numpy().copy() for w in learnable_resizer.trainable_weights]  # test: kept
    history = model.fit(train_ds, validation_data=validation_ds, epochs=EPOCHS)  # test: the History kept

    plt.figure(figsize=(16, 10))
    for i, image in enumerate(sample_images[:6]):
        image = image / 255

        ax = plt.subplot(3, 4, 2 * i + 1)
        plt.title("Input Image")
        plt.imshow(image.numpy().squeeze())
        plt.axis("off")

        ax = plt.subplot(3, 4, 2 * i + 2)
        resized_image = learnable_resizer(image[None, ...])
        plt.title("Resized Image")
        plt.imshow(resized_image.numpy().squeeze() / 10)
        plt.axis("off")
    plt.close("all")  # test: drawn, not shown

    # test: the resizer is the same layer inside the model, so training the model trained it; the logs
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(initial, learnable_resizer.trainable_weights))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.layers[2] is learnable_resizer
