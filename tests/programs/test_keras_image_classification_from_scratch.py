"""keras-io example "Image classification from scratch" (Cats vs Dogs), run on chainrule.

Source: https://keras.io/examples/vision/image_classification_from_scratch/ (keras-team/keras-io,
examples/vision/image_classification_from_scratch.py, the Keras 3 revision of 2023/11/09).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers` -> `from
  chainrule.keras import layers`, `from tensorflow import data as tf_data` -> `from chainrule import data as
  tf_data`;
- the Kaggle archive (786 MB, fetched with curl and unzipped in shell cells) is replaced by a `PetImages` folder of
  synthetic JPEG photos of varied sizes, 24 cats and 24 dogs (among them Cat/6779.jpg, which the example
  classifies at the end), and 3 files without the "JFIF" marker that the example's filter deletes;
- sizes are shrunk through the marked constants: image_size=(96, 96) (the example's (180, 180)), epochs=2 (25);
- the figures are drawn on matplotlib's Agg backend and closed; the checkpoints and the model plot are written in
  the test's temporary folder (the working folder there);
- lines marked `# test:` check what the program produces.

Slow: the example's small Xception (128 to 1024 channels, separable convolutions) trains on 96x96 images.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import os

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule import data as tf_data
import matplotlib.pyplot as plt


def pet_images(root, per_class=24, seed=0):
    """test: stands in for the Kaggle archive: PetImages/{Cat,Dog}/<n>.jpg, cats bluish with a dark disc, dogs
    brownish with a light square; 3 files that are not JFIF JPEGs (a PNG, a truncated file, text)."""
    rng = np.random.default_rng(seed)
    for label, (folder, colour) in enumerate((("Cat", (70, 90, 140)), ("Dog", (150, 100, 60)))):
        os.makedirs(os.path.join(root, folder))
        numbers = [6779] + list(rng.choice(np.arange(7000, 9000), per_class - 1, replace=False)) if not label \
            else list(rng.choice(np.arange(100, 2000), per_class, replace=False))
        for number in numbers:
            h, w = int(rng.integers(150, 260)), int(rng.integers(150, 260))
            image = np.clip(np.array(colour) + rng.normal(0, 25, (h, w, 3)), 0, 255)
            r, c = rng.integers(30, h - 30), rng.integers(30, w - 30)
            rows, cols = np.mgrid[:h, :w]
            if label:
                image[max(r - 25, 0):r + 25, max(c - 25, 0):c + 25] = 230
            else:
                image[(rows - r) ** 2 + (cols - c) ** 2 < 25 ** 2] = 20
            keras.utils.save_img(os.path.join(root, folder, f"{number}.jpg"), image.astype("uint8"))
    keras.utils.save_img(os.path.join(root, "Cat", "666.jpg"), np.zeros((20, 20, 3), "uint8"), file_format="png")
    with open(os.path.join(root, "Dog", "11702.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xdb")  # a JPEG start without the JFIF segment, cut off
    with open(os.path.join(root, "Dog", "Thumbs.db"), "wb") as f:
        f.write(b"not an image")


@pytest.mark.slow
def test_image_classification_from_scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example works in its current folder
    pet_images("PetImages")  # test: instead of curl + unzip

    num_skipped = 0
    for folder_name in ("Cat", "Dog"):
        folder_path = os.path.join("PetImages", folder_name)
        for fname in os.listdir(folder_path):
            fpath = os.path.join(folder_path, fname)
            try:
                fobj = open(fpath, "rb")
                is_jfif = b"JFIF" in fobj.peek(10)
            finally:
                fobj.close()

            if not is_jfif:
                num_skipped += 1
                # Delete corrupted image
                os.remove(fpath)

    print(f"Deleted {num_skipped} images.")
    assert num_skipped == 3  # test: the three files without the JFIF marker

    image_size = (96, 96)  # test: the example's (180, 180)
    batch_size = 128

    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        "PetImages",
        validation_split=0.2,
        subset="both",
        seed=1337,
        image_size=image_size,
        batch_size=batch_size,
    )

    plt.figure(figsize=(10, 10))
    for images, labels in train_ds.take(1):
        for i in range(9):
            ax = plt.subplot(3, 3, i + 1)
            plt.imshow(np.array(images[i]).astype("uint8"))
            plt.title(int(labels[i]))
            plt.axis("off")

    # test: 48 images split 39/9 (Keras's 20% validation, rounded down); label 0 is "Cat", 1 "Dog"
    assert train_ds.class_names == ["Cat", "Dog"]
    assert images.shape == (39, 96, 96, 3) and len(list(val_ds)[0][0]) == 9

    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    plt.figure(figsize=(10, 10))
    for images, _ in train_ds.take(1):
        for i in range(9):
            augmented_images = data_augmentation(images)
            ax = plt.subplot(3, 3, i + 1)
            plt.imshow(np.array(augmented_images[0]).astype("uint8"))
            plt.axis("off")
    plt.close("all")  # test: drawn, not shown

    # Apply `data_augmentation` to the training images.
    train_ds = train_ds.map(
        lambda img, label: (data_augmentation(img), label),
        num_parallel_calls=tf_data.AUTOTUNE,
    )
    # Prefetching samples in GPU memory helps maximize GPU utilization.
    train_ds = train_ds.prefetch(tf_data.AUTOTUNE)
    val_ds = val_ds.prefetch(tf_data.AUTOTUNE)

    def make_model(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape)

        # Entry block
        x = layers.Rescaling(1.0 / 255)(inputs)
        x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        previous_block_activation = x  # Set aside residual

        for size in [256, 512, 728]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

            # Project residual
            residual = layers.Conv2D(size, 1, strides=2, padding="same")(
                previous_block_activation
            )
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        x = layers.SeparableConv2D(1024, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        x = layers.GlobalAveragePooling2D()(x)
        if num_classes == 2:
            units = 1
        else:
            units = num_classes

        x = layers.Dropout(0.25)(x)
        # We specify activation=None so as to return logits
        outputs = layers.Dense(units, activation=None)(x)
        return keras.Model(inputs, outputs)

    model = make_model(input_shape=image_size + (3,), num_classes=2)
    keras.utils.plot_model(model, show_shapes=True)
    assert os.path.exists("model.png")  # test: the plot's default file

    epochs = 2  # test: the example's 25

    callbacks = [
        keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras"),
    ]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    history = model.fit(  # test: the History kept
        train_ds,
        epochs=epochs,
        callbacks=callbacks,
        validation_data=val_ds,
    )

    img = keras.utils.load_img("PetImages/Cat/6779.jpg", target_size=image_size)
    plt.imshow(img)

    img_array = keras.utils.img_to_array(img)
    img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

    predictions = model.predict(img_array)
    score = float(keras.ops.sigmoid(predictions[0][0]))
    print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")
    plt.close("all")  # test: drawn, not shown

    # test: a checkpoint per epoch, each a whole model; the last one predicts as the final model; the score is
    # the sigmoid of the logit
    assert sorted(os.listdir(".")) == ["PetImages", "model.png", "save_at_1.keras", "save_at_2.keras"]
    reloaded = keras.models.load_model("save_at_2.keras")
    np.testing.assert_allclose(reloaded.predict(img_array, verbose=0), predictions, rtol=1e-4, atol=1e-5)
    assert predictions.shape == (1, 1) and score == pytest.approx(1 / (1 + np.exp(-predictions[0, 0])), rel=1e-5)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
