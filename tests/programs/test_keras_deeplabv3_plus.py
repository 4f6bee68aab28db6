"""keras-io example "Multiclass semantic segmentation using DeepLabV3+", run on chainrule.

Source: https://keras.io/examples/vision/deeplabv3_plus/ (keras-team/keras-io, examples/vision/deeplabv3_plus.py,
the TensorFlow 2 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`; `import
  cv2` is replaced by a stand-in for the one OpenCV function the example calls, `cv2.addWeighted` (OpenCV is not a
  dependency);
- the CIHP archive (gdown + unzip) is replaced by a synthetic `instance-level_human_parsing` folder: JPEG photos of
  varied sizes with PNG masks of the 20 classes (a background and rectangles of other classes), and the
  `human_colormap.mat` colour map written with scipy.io.savemat;
- sizes are shrunk through the marked constants: IMAGE_SIZE=128 (the example's 512), NUM_TRAIN_IMAGES=8 (1000),
  NUM_VAL_IMAGES=4 (50), EPOCHS=1 (25); inference runs on 2 images of each split (the example's 4);
- `keras.applications.ResNet50(weights="imagenet", ...)` (a download) is `weights=None`: the same backbone;
- the figures are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.

Slow: a ResNet50 backbone with the DeepLabV3+ head, trained for one epoch at 128x128.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import os
import types
import numpy as np
from glob import glob
import matplotlib.pyplot as plt
import pytest

scipy = pytest.importorskip("scipy")  # test: the example reads its colour map with scipy.io.loadmat
from scipy.io import loadmat, savemat

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

IMAGE_SIZE = 128  # test: the example's 512
NUM_TRAIN_IMAGES = 8  # test: the example's 1000
NUM_VAL_IMAGES = 4  # test: the example's 50
EPOCHS = 1  # test: the example's 25


def _add_weighted(src1, alpha, src2, beta, gamma):
    """test: OpenCV's addWeighted on uint8 images: src1*alpha + src2*beta + gamma, rounded and saturated."""
    out = np.asarray(src1, np.float64) * alpha + np.asarray(src2, np.float64) * beta + gamma
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


cv2 = types.SimpleNamespace(addWeighted=_add_weighted)  # test: stands in for `import cv2`


def human_parsing(root, n, seed=0):
    """test: stands in for the CIHP archive: Training/Images/<id>.jpg, Training/Category_ids/<id>.png (values
    0..19: background 0 and a few rectangles of other classes, each class a colour in the photo) and
    human_colormap.mat (20 RGB colours in [0, 1])."""
    rng = np.random.default_rng(seed)
    colours = rng.uniform(0, 255, (20, 3))
    training = os.path.join(root, "instance-level_human_parsing", "instance-level_human_parsing", "Training")
    os.makedirs(os.path.join(training, "Images"))
    os.makedirs(os.path.join(training, "Category_ids"))
    for i in range(n):
        h, w = int(rng.integers(140, 220)), int(rng.integers(140, 220))
        mask = np.zeros((h, w), np.uint8)
        for label in rng.choice(np.arange(1, 20), 3, replace=False):
            r, c = rng.integers(0, h - 40), rng.integers(0, w - 40)
            mask[r:r + int(rng.integers(30, 80)), c:c + int(rng.integers(30, 80))] = label
        image = np.clip(colours[mask] + rng.normal(0, 15, (h, w, 3)), 0, 255).astype(np.uint8)
        keras.utils.save_img(os.path.join(training, "Images", f"{i:07d}.jpg"), image)
        keras.utils.save_img(os.path.join(training, "Category_ids", f"{i:07d}.png"), mask[..., None], scale=False)
    savemat(os.path.join(root, "instance-level_human_parsing", "instance-level_human_parsing", "human_colormap.mat"),
            {"colormap": rng.uniform(0, 1, (20, 3))})
    return training


@pytest.mark.slow
def test_deeplabv3_plus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example reads ./instance-level_human_parsing
    shows = []
    monkeypatch.setattr(plt, "show", lambda: (shows.append(1), plt.close("all")))  # test: no window
    human_parsing(".", NUM_TRAIN_IMAGES + NUM_VAL_IMAGES)  # test: instead of gdown + unzip

    BATCH_SIZE = 4
    NUM_CLASSES = 20
    DATA_DIR = "./instance-level_human_parsing/instance-level_human_parsing/Training"

    train_images = sorted(glob(os.path.join(DATA_DIR, "Images/*")))[:NUM_TRAIN_IMAGES]
    train_masks = sorted(glob(os.path.join(DATA_DIR, "Category_ids/*")))[:NUM_TRAIN_IMAGES]
    val_images = sorted(glob(os.path.join(DATA_DIR, "Images/*")))[
        NUM_TRAIN_IMAGES : NUM_VAL_IMAGES + NUM_TRAIN_IMAGES
    ]
    val_masks = sorted(glob(os.path.join(DATA_DIR, "Category_ids/*")))[
        NUM_TRAIN_IMAGES : NUM_VAL_IMAGES + NUM_TRAIN_IMAGES
    ]

    def read_image(image_path, mask=False):
        image = tf.io.read_file(image_path)
        if mask:
            image = tf.image.decode_png(image, channels=1)
            image.set_shape([None, None, 1])
            image = tf.image.resize(images=image, size=[IMAGE_SIZE, IMAGE_SIZE])
        else:
            image = tf.image.decode_png(image, channels=3)
            image.set_shape([None, None, 3])
            image = tf.image.resize(images=image, size=[IMAGE_SIZE, IMAGE_SIZE])
            image = image / 127.5 - 1
        return image

    def load_data(image_list, mask_list):
        image = read_image(image_list)
        mask = read_image(mask_list, mask=True)
        return image, mask

    def data_generator(image_list, mask_list):
        dataset = tf.data.Dataset.from_tensor_slices((image_list, mask_list))
        dataset = dataset.map(load_data, num_parallel_calls=tf.data.AUTOTUNE)
        dataset = dataset.batch(BATCH_SIZE, drop_remainder=True)
        return dataset

    train_dataset = data_generator(train_images, train_masks)
    val_dataset = data_generator(val_images, val_masks)

    print("Train Dataset:", train_dataset)
    print("Val Dataset:", val_dataset)

    # test: batches of 4 images in [-1, 1] and 4 one-channel masks, both resized to IMAGE_SIZE
    images, masks = next(iter(train_dataset))
    assert tuple(images.shape) == (4, IMAGE_SIZE, IMAGE_SIZE, 3) and tuple(masks.shape) == (4, IMAGE_SIZE,
                                                                                              IMAGE_SIZE, 1)
    assert -1 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1

    def convolution_block(
        block_input,
        num_filters=256,
        kernel_size=3,
        dilation_rate=1,
        padding="same",
        use_bias=False,
    ):
        x = layers.Conv2D(
            num_filters,
            kernel_size=kernel_size,
            dilation_rate=dilation_rate,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=keras.initializers.HeNormal(),
        )(block_input)
        x = layers.BatchNormalization()(x)
        return tf.nn.relu(x)

    def DilatedSpatialPyramidPooling(dspp_input):
        dims = dspp_input.shape
        x = layers.AveragePooling2D(pool_size=(dims[-3], dims[-2]))(dspp_input)
        x = convolution_block(x, kernel_size=1, use_bias=True)
        out_pool = layers.UpSampling2D(
            size=(dims[-3] // x.shape[1], dims[-2] // x.shape[2]),
            interpolation="bilinear",
        )(x)

        out_1 = convolution_block(dspp_input, kernel_size=1, dilation_rate=1)
        out_6 = convolution_block(dspp_input, kernel_size=3, dilation_rate=6)
        out_12 = convolution_block(dspp_input, kernel_size=3, dilation_rate=12)
        out_18 = convolution_block(dspp_input, kernel_size=3, dilation_rate=18)

        x = layers.Concatenate(axis=-1)([out_pool, out_1, out_6, out_12, out_18])
        output = convolution_block(x, kernel_size=1)
        return output

    def DeeplabV3Plus(image_size, num_classes):
        model_input = keras.Input(shape=(image_size, image_size, 3))
        resnet50 = keras.applications.ResNet50(
            weights=None, include_top=False, input_tensor=model_input  # test: the example's weights="imagenet"
        )
        x = resnet50.get_layer("conv4_block6_2_relu").output
        x = DilatedSpatialPyramidPooling(x)

        input_a = layers.UpSampling2D(
            size=(image_size // 4 // x.shape[1], image_size // 4 // x.shape[2]),
            interpolation="bilinear",
        )(x)
        input_b = resnet50.get_layer("conv2_block3_2_relu").output
        input_b = convolution_block(input_b, num_filters=48, kernel_size=1)

        x = layers.Concatenate(axis=-1)([input_a, input_b])
        x = convolution_block(x)
        x = convolution_block(x)
        x = layers.UpSampling2D(
            size=(image_size // x.shape[1], image_size // x.shape[2]),
            interpolation="bilinear",
        )(x)
        model_output = layers.Conv2D(num_classes, kernel_size=(1, 1), padding="same")(x)
        return keras.Model(inputs=model_input, outputs=model_output)

    model = DeeplabV3Plus(image_size=IMAGE_SIZE, num_classes=NUM_CLASSES)
    model.summary()
    assert model.output_shape == (None, IMAGE_SIZE, IMAGE_SIZE, NUM_CLASSES)  # test: per-pixel class logits

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss=loss,
        metrics=["accuracy"],
    )

    history = model.fit(train_dataset, validation_data=val_dataset, epochs=EPOCHS)  # test: EPOCHS

    plt.plot(history.history["loss"])
    plt.title("Training Loss")
    plt.ylabel("loss")
    plt.xlabel("epoch")
    plt.show()

    plt.plot(history.history["accuracy"])
    plt.title("Training Accuracy")
    plt.ylabel("accuracy")
    plt.xlabel("epoch")
    plt.show()

    plt.plot(history.history["val_loss"])
    plt.title("Validation Loss")
    plt.ylabel("val_loss")
    plt.xlabel("epoch")
    plt.show()

    plt.plot(history.history["val_accuracy"])
    plt.title("Validation Accuracy")
    plt.ylabel("val_accuracy")
    plt.xlabel("epoch")
    plt.show()

    # Loading the Colormap
    colormap = loadmat(
        "./instance-level_human_parsing/instance-level_human_parsing/human_colormap.mat"
    )["colormap"]
    colormap = colormap * 100
    colormap = colormap.astype(np.uint8)

    predicted = []  # test: the predicted masks

    def infer(model, image_tensor):
        predictions = model.predict(np.expand_dims((image_tensor), axis=0))
        predictions = np.squeeze(predictions)
        predictions = np.argmax(predictions, axis=2)
        predicted.append(predictions)  # test: kept
        return predictions

    def decode_segmentation_masks(mask, colormap, n_classes):
        r = np.zeros_like(mask).astype(np.uint8)
        g = np.zeros_like(mask).astype(np.uint8)
        b = np.zeros_like(mask).astype(np.uint8)
        for l in range(0, n_classes):
            idx = mask == l
            r[idx] = colormap[l, 0]
            g[idx] = colormap[l, 1]
            b[idx] = colormap[l, 2]
        rgb = np.stack([r, g, b], axis=2)
        return rgb

    def get_overlay(image, colored_mask):
        image = tf.keras.preprocessing.image.array_to_img(image)
        image = np.array(image).astype(np.uint8)
        overlay = cv2.addWeighted(image, 0.35, colored_mask, 0.65, 0)
        return overlay

    def plot_samples_matplotlib(display_list, figsize=(5, 3)):
        _, axes = plt.subplots(nrows=1, ncols=len(display_list), figsize=figsize)
        for i in range(len(display_list)):
            if display_list[i].shape[-1] == 3:
                axes[i].imshow(tf.keras.preprocessing.image.array_to_img(display_list[i]))
            else:
                axes[i].imshow(display_list[i])
        plt.show()

    def plot_predictions(images_list, colormap, model):
        for image_file in images_list:
            image_tensor = read_image(image_file)
            prediction_mask = infer(image_tensor=image_tensor, model=model)
            prediction_colormap = decode_segmentation_masks(prediction_mask, colormap, 20)
            overlay = get_overlay(image_tensor, prediction_colormap)
            plot_samples_matplotlib(
                [image_tensor, overlay, prediction_colormap], figsize=(18, 14)
            )

    plot_predictions(train_images[:2], colormap, model=model)  # test: the example's [:4]

    plot_predictions(val_images[:2], colormap, model=model)  # test: the example's [:4]

    # test: one class per pixel for each of the 4 images; the 4 curves and 4 prediction figures were drawn
    assert len(predicted) == 4 and all(p.shape == (IMAGE_SIZE, IMAGE_SIZE) for p in predicted)
    assert all(0 <= p.min() and p.max() < NUM_CLASSES for p in predicted)
    assert len(shows) == 8 and np.isfinite(history.history["val_loss"][0])
