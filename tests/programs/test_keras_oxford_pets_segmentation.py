"""keras-io example "Image segmentation with a U-Net-like architecture", run on chainrule.

Source: https://keras.io/examples/vision/oxford_pets_image_segmentation/ (keras-team/keras-io,
examples/vision/oxford_pets_image_segmentation.py, the tf.keras revision, "Last modified: 2020/04/20").

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras.preprocessing.image import load_img` -> `from chainrule.keras.preprocessing.image import
  load_img`; IPython's `display` calls are left out (the images they show are still loaded);
- the Oxford Pets archives (`images.tar.gz`, `annotations.tar.gz`, 800 MB) are replaced by `N_IMAGES` = 24
  synthetic pets in the test's temporary folder: JPEG photos of various sizes with an ellipse ("the pet") on a
  noisy background, and PNG trimaps of the same size with Oxford's values (1 pet, 2 background, 3 border);
- shrunk through the marked values: img_size=(32, 32) ((160, 160)), batch_size=4 (32), val_samples=8 (1000),
  epochs=1 (15), validation image i=2 (10);
- lines marked `# test:` check what the program produces.
"""

import os
import random

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageOps

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.preprocessing.image import load_img

N_IMAGES = 24  # test: the 7390 Oxford Pets images


def oxford_pets_like(root, n=N_IMAGES, seed=0):
    """test: writes images/*.jpg and annotations/trimaps/*.png as the two archives unpack."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"))
    os.makedirs(os.path.join(root, "annotations", "trimaps"))
    for k in range(n):
        w, h = int(rng.integers(60, 120)), int(rng.integers(60, 120))
        box = (int(rng.integers(5, w // 3)), int(rng.integers(5, h // 3)), int(rng.integers(2 * w // 3, w - 5)),
               int(rng.integers(2 * h // 3, h - 5)))
        photo = PILImage.fromarray(rng.integers(0, 90, size=(h, w, 3)).astype("uint8"))
        ImageDraw.Draw(photo).ellipse(box, fill=tuple(int(v) for v in rng.integers(150, 255, 3)))
        trimap = PILImage.new("L", (w, h), 2)
        ImageDraw.Draw(trimap).ellipse(box, fill=1, outline=3, width=2)
        name = f"{'Abyssinian' if k % 2 else 'beagle'}_{k + 1}"
        photo.save(os.path.join(root, "images", name + ".jpg"))
        trimap.save(os.path.join(root, "annotations", "trimaps", name + ".png"))
        if k == 0:  # the archive holds macOS's resource files too, which the example skips
            trimap.save(os.path.join(root, "annotations", "trimaps", "._" + name + ".png"))


class OxfordPets(keras.utils.Sequence):
    """Helper to iterate over the data (as Numpy arrays)."""

    def __init__(self, batch_size, img_size, input_img_paths, target_img_paths):
        self.batch_size = batch_size
        self.img_size = img_size
        self.input_img_paths = input_img_paths
        self.target_img_paths = target_img_paths

    def __len__(self):
        return len(self.target_img_paths) // self.batch_size

    def __getitem__(self, idx):
        """Returns tuple (input, target) correspond to batch #idx."""
        i = idx * self.batch_size
        batch_input_img_paths = self.input_img_paths[i : i + self.batch_size]
        batch_target_img_paths = self.target_img_paths[i : i + self.batch_size]
        x = np.zeros((self.batch_size,) + self.img_size + (3,), dtype="float32")
        for j, path in enumerate(batch_input_img_paths):
            img = load_img(path, target_size=self.img_size)
            x[j] = img
        y = np.zeros((self.batch_size,) + self.img_size + (1,), dtype="uint8")
        for j, path in enumerate(batch_target_img_paths):
            img = load_img(path, target_size=self.img_size, color_mode="grayscale")
            y[j] = np.expand_dims(img, 2)
            # Ground truth labels are 1, 2, 3. Subtract one to make them 0, 1, 2:
            y[j] -= 1
        return x, y


def get_model(img_size, num_classes):
    inputs = keras.Input(shape=img_size + (3,))

    ### [First half of the network: downsampling inputs] ###

    # Entry block
    x = layers.Conv2D(32, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    # Blocks 1, 2, 3 are identical apart from the feature depth.
    for filters in [64, 128, 256]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(
            previous_block_activation
        )
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    ### [Second half of the network: upsampling inputs] ###

    for filters in [256, 128, 64, 32]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.UpSampling2D(2)(x)

        # Project residual
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    # Add a per-pixel classification layer
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)

    # Define the model
    model = keras.Model(inputs, outputs)
    return model


def test_oxford_pets_segmentation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the data and the checkpoint in a temporary folder
    oxford_pets_like(tmp_path)

    input_dir = "images/"
    target_dir = "annotations/trimaps/"
    img_size = (32, 32)  # test: the example's (160, 160)
    num_classes = 3
    batch_size = 4  # test: the example's 32

    input_img_paths = sorted(
        [
            os.path.join(input_dir, fname)
            for fname in os.listdir(input_dir)
            if fname.endswith(".jpg")
        ]
    )
    target_img_paths = sorted(
        [
            os.path.join(target_dir, fname)
            for fname in os.listdir(target_dir)
            if fname.endswith(".png") and not fname.startswith(".")
        ]
    )

    print("Number of samples:", len(input_img_paths))

    for input_path, target_path in zip(input_img_paths[:10], target_img_paths[:10]):
        print(input_path, "|", target_path)

    # Display auto-contrast version of corresponding target (per-pixel categories)
    img = ImageOps.autocontrast(load_img(target_img_paths[9]))

    # Free up RAM in case the model definition cells were run multiple times
    keras.backend.clear_session()

    # Build model
    model = get_model(img_size, num_classes)
    model.summary()
    assert model.output_shape == (None, 32, 32, 3)  # test: a class distribution per pixel

    # Split our img paths into a training and a validation set
    val_samples = 8  # test: the example's 1000
    random.Random(1337).shuffle(input_img_paths)
    random.Random(1337).shuffle(target_img_paths)
    train_input_img_paths = input_img_paths[:-val_samples]
    train_target_img_paths = target_img_paths[:-val_samples]
    val_input_img_paths = input_img_paths[-val_samples:]
    val_target_img_paths = target_img_paths[-val_samples:]

    # Instantiate data Sequences for each split
    train_gen = OxfordPets(
        batch_size, img_size, train_input_img_paths, train_target_img_paths
    )
    val_gen = OxfordPets(batch_size, img_size, val_input_img_paths, val_target_img_paths)

    # test: the pairs stay matched after the shuffles, and a batch holds images and labels 0..2
    assert [os.path.basename(p)[:-4] for p in val_input_img_paths] == \
        [os.path.basename(p)[:-4] for p in val_target_img_paths]
    x0, y0 = train_gen[0]
    assert x0.shape == (4, 32, 32, 3) and y0.shape == (4, 32, 32, 1) and set(np.unique(y0)) <= {0, 1, 2}

    # Configure the model for training.
    # We use the "sparse" version of categorical_crossentropy
    # because our target data is integers.
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")

    callbacks = [
        keras.callbacks.ModelCheckpoint("oxford_segmentation.h5", save_best_only=True)
    ]

    # Train the model, doing validation at the end of each epoch.
    epochs = 1  # test: the example's 15
    history = model.fit(train_gen, epochs=epochs, validation_data=val_gen, callbacks=callbacks)
    assert set(history.history) == {"loss", "val_loss"} and os.path.exists("oxford_segmentation.h5")  # test

    # Generate predictions for all images in the validation set

    val_gen = OxfordPets(batch_size, img_size, val_input_img_paths, val_target_img_paths)
    val_preds = model.predict(val_gen)

    def display_mask(i):
        """Quick utility to display a model's prediction."""
        mask = np.argmax(val_preds[i], axis=-1)
        mask = np.expand_dims(mask, axis=-1)
        img = ImageOps.autocontrast(keras.preprocessing.image.array_to_img(mask))
        return img  # test: instead of display(img)

    # Display results for validation image #10
    i = 2  # test: the example's 10 (of 1000)

    # Display ground-truth target mask
    img = ImageOps.autocontrast(load_img(val_target_img_paths[i]))

    # Display mask predicted by our model
    shown = display_mask(i)  # Note that the model only sees inputs at 150x150.

    # test: a probability map per validation image, shown as a 32x32 grayscale mask
    assert val_preds.shape == (8, 32, 32, 3)
    np.testing.assert_allclose(val_preds.sum(axis=-1), 1.0, rtol=1e-4)
    assert shown.size == (32, 32) and shown.mode == "L"
    # test: the checkpoint is a whole model that loads back and predicts the same
    restored = keras.models.load_model("oxford_segmentation.h5")
    np.testing.assert_allclose(restored.predict(x0, verbose=0), model.predict(x0, verbose=0), rtol=1e-5, atol=1e-6)
