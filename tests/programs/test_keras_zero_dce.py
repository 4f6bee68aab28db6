"""keras-io example "Zero-DCE for low-light image enhancement", run on chainrule.

Source: https://keras.io/examples/vision/zero_dce/ (keras-team/keras-io, examples/vision/zero_dce.py, the
TensorFlow 2 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` /
  `from tensorflow.keras import layers` -> `from chainrule import keras` / `from chainrule.keras import layers`;
- the LOL archive (gdown + unzip) is replaced by a synthetic `lol_dataset` folder of dark PNG photos: 24 in
  our485/low, 6 in eval15/low;
- sizes are shrunk through the marked constants: IMAGE_SIZE=64 (the example's 512), MAX_TRAIN_IMAGES=16 (300),
  EPOCHS=2 (100);
- the figures are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.

Slow: the DCE-Net trains on 64x64 images with four image-based losses.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import os
import random
import numpy as np
from glob import glob
from PIL import Image, ImageOps
import matplotlib.pyplot as plt
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

IMAGE_SIZE = 64  # test: the example's 512
BATCH_SIZE = 8
MAX_TRAIN_IMAGES = 16  # test: the example's 300
EPOCHS = 2  # test: the example's 100


def lol_dataset(root, seed=0):
    """test: stands in for lol_dataset.zip: dark (low-light) PNG photos of a few shapes, in our485/low and
    eval15/low."""
    rng = np.random.default_rng(seed)
    for folder, count in (("our485/low", 24), ("eval15/low", 6)):
        os.makedirs(os.path.join(root, folder))
        for i in range(count):
            rows, cols = np.mgrid[:80, :96]
            image = np.stack([rows / 80 * 40, cols / 96 * 40, np.full((80, 96), 15.0)], -1)
            r, c = rng.integers(20, 60, 2)
            image[(rows - r) ** 2 + (cols - c) ** 2 < 15 ** 2] = rng.uniform(30, 70, 3)
            image += rng.normal(0, 3, image.shape)
            keras.utils.save_img(os.path.join(root, folder, f"{i + 1}.png"), np.clip(image, 0, 255).astype("uint8"),
                                 scale=False)


def build_dce_net():
    input_img = keras.Input(shape=[None, None, 3])
    conv1 = layers.Conv2D(
        32, (3, 3), strides=(1, 1), activation="relu", padding="same"
    )(input_img)
    conv2 = layers.Conv2D(
        32, (3, 3), strides=(1, 1), activation="relu", padding="same"
    )(conv1)
    conv3 = layers.Conv2D(
        32, (3, 3), strides=(1, 1), activation="relu", padding="same"
    )(conv2)
    conv4 = layers.Conv2D(
        32, (3, 3), strides=(1, 1), activation="relu", padding="same"
    )(conv3)
    int_con1 = layers.Concatenate(axis=-1)([conv4, conv3])
    conv5 = layers.Conv2D(
        32, (3, 3), strides=(1, 1), activation="relu", padding="same"
    )(int_con1)
    int_con2 = layers.Concatenate(axis=-1)([conv5, conv2])
    conv6 = layers.Conv2D(
        32, (3, 3), strides=(1, 1), activation="relu", padding="same"
    )(int_con2)
    int_con3 = layers.Concatenate(axis=-1)([conv6, conv1])
    x_r = layers.Conv2D(24, (3, 3), strides=(1, 1), activation="tanh", padding="same")(
        int_con3
    )
    return keras.Model(inputs=input_img, outputs=x_r)


def color_constancy_loss(x):
    mean_rgb = tf.reduce_mean(x, [1, 2], keepdims=True)
    mr, mg, mb = mean_rgb[:, :, :, 0], mean_rgb[:, :, :, 1], mean_rgb[:, :, :, 2]
    d_rg = tf.pow(mr - mg, 2)
    d_rb = tf.pow(mr - mb, 2)
    d_gb = tf.pow(mb - mg, 2)
    return tf.pow(tf.pow(d_rg, 2) + tf.pow(d_rb, 2) + tf.pow(d_gb, 2), 0.5)


def exposure_loss(x, mean_val=0.6):
    x = tf.reduce_mean(x, 3, keepdims=True)
    mean = tf.keras.layers.AveragePooling2D(pool_size=16, strides=16)(x)
    return tf.reduce_mean(tf.pow(mean - mean_val, 2))


def illumination_smoothness_loss(x):
    batch_size = tf.shape(x)[0]
    h_x = tf.shape(x)[1]
    w_x = tf.shape(x)[2]
    count_h = (tf.shape(x)[2] - 1) * tf.shape(x)[3]
    count_w = tf.shape(x)[2] * (tf.shape(x)[3] - 1)
    h_tv = tf.reduce_sum(tf.pow((x[:, 1:, :, :] - x[:, : h_x - 1, :, :]), 2))
    w_tv = tf.reduce_sum(tf.pow((x[:, :, 1:, :] - x[:, :, : w_x - 1, :]), 2))
    batch_size = tf.cast(batch_size, dtype=tf.float32)
    count_h = tf.cast(count_h, dtype=tf.float32)
    count_w = tf.cast(count_w, dtype=tf.float32)
    return 2 * (h_tv / count_h + w_tv / count_w) / batch_size


class SpatialConsistancyLoss:
    def __init__(self):

        self.left_kernel = tf.constant(
            [[[[0, 0, 0]], [[-1, 1, 0]], [[0, 0, 0]]]], dtype=tf.float32
        )
        self.right_kernel = tf.constant(
            [[[[0, 0, 0]], [[0, 1, -1]], [[0, 0, 0]]]], dtype=tf.float32
        )
        self.up_kernel = tf.constant(
            [[[[0, -1, 0]], [[0, 1, 0]], [[0, 0, 0]]]], dtype=tf.float32
        )
        self.down_kernel = tf.constant(
            [[[[0, 0, 0]], [[0, 1, 0]], [[0, -1, 0]]]], dtype=tf.float32
        )

        self.pool = tf.keras.layers.AveragePooling2D(pool_size=4)

    def __call__(self, original, enhanced):

        original_mean = tf.reduce_mean(original, 3, keepdims=True)
        enhanced_mean = tf.reduce_mean(enhanced, 3, keepdims=True)
        original_pool = self.pool(original_mean)
        enhanced_pool = self.pool(enhanced_mean)

        d_original_left = tf.nn.conv2d(
            original_pool, self.left_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )
        d_original_right = tf.nn.conv2d(
            original_pool, self.right_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )
        d_original_up = tf.nn.conv2d(
            original_pool, self.up_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )
        d_original_down = tf.nn.conv2d(
            original_pool, self.down_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )

        d_enhanced_left = tf.nn.conv2d(
            enhanced_pool, self.left_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )
        d_enhanced_right = tf.nn.conv2d(
            enhanced_pool, self.right_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )
        d_enhanced_up = tf.nn.conv2d(
            enhanced_pool, self.up_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )
        d_enhanced_down = tf.nn.conv2d(
            enhanced_pool, self.down_kernel, strides=[1, 1, 1, 1], padding="SAME"
        )

        d_left = tf.pow(d_original_left - d_enhanced_left, 2)
        d_right = tf.pow(d_original_right - d_enhanced_right, 2)
        d_up = tf.pow(d_original_up - d_enhanced_up, 2)
        d_down = tf.pow(d_original_down - d_enhanced_down, 2)
        return d_left + d_right + d_up + d_down


class ZeroDCE(keras.Model):
    def __init__(self, **kwargs):
        super(ZeroDCE, self).__init__(**kwargs)
        self.dce_model = build_dce_net()

    def compile(self, learning_rate, **kwargs):
        super(ZeroDCE, self).compile(**kwargs)
        self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
        self.spatial_constancy_loss = SpatialConsistancyLoss()

    def get_enhanced_image(self, data, output):
        r1 = output[:, :, :, :3]
        r2 = output[:, :, :, 3:6]
        r3 = output[:, :, :, 6:9]
        r4 = output[:, :, :, 9:12]
        r5 = output[:, :, :, 12:15]
        r6 = output[:, :, :, 15:18]
        r7 = output[:, :, :, 18:21]
        r8 = output[:, :, :, 21:24]
        x = data + r1 * (tf.pow(data, 2) - data)
        x = x + r2 * (tf.pow(x, 2) - x)
        x = x + r3 * (tf.pow(x, 2) - x)
        enhanced_image = x + r4 * (tf.pow(x, 2) - x)
        x = enhanced_image + r5 * (tf.pow(enhanced_image, 2) - enhanced_image)
        x = x + r6 * (tf.pow(x, 2) - x)
        x = x + r7 * (tf.pow(x, 2) - x)
        enhanced_image = x + r8 * (tf.pow(x, 2) - x)
        return enhanced_image

    def call(self, data):
        dce_net_output = self.dce_model(data)
        return self.get_enhanced_image(data, dce_net_output)

    def _calculate_losses(self, data, output):
        output = self.dce_model(data)
        enhanced_image = self.get_enhanced_image(data, output)
        loss_illumination = 200 * illumination_smoothness_loss(output)
        loss_spatial_constancy = tf.reduce_mean(
            self.spatial_constancy_loss(enhanced_image, data)
        )
        loss_color_constancy = 5 * tf.reduce_mean(color_constancy_loss(enhanced_image))
        loss_exposure = 10 * tf.reduce_mean(exposure_loss(enhanced_image))
        total_loss = (
            loss_illumination
            + loss_spatial_constancy
            + loss_color_constancy
            + loss_exposure
        )
        return {
            "total_loss": total_loss,
            "illumination_smoothness_loss": loss_illumination,
            "spatial_constancy_loss": loss_spatial_constancy,
            "color_constancy_loss": loss_color_constancy,
            "exposure_loss": loss_exposure,
        }

    def train_step(self, data):
        with tf.GradientTape() as tape:
            output = self.dce_model(data)
            losses = self._calculate_losses(data, output)
        gradients = tape.gradient(
            losses["total_loss"], self.dce_model.trainable_weights
        )
        self.optimizer.apply_gradients(zip(gradients, self.dce_model.trainable_weights))

        return losses

    def test_step(self, data):
        output = self.dce_model(data)
        return self._calculate_losses(data, output)

    def save_weights(self, filepath, overwrite=True, save_format=None, options=None):
        self.dce_model.save_weights(
            filepath, overwrite=overwrite, save_format=save_format, options=options
        )

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, options=None):
        self.dce_model.load_weights(
            filepath=filepath,
            by_name=by_name,
            skip_mismatch=skip_mismatch,
            options=options,
        )


@pytest.mark.slow
def test_zero_dce(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example reads ./lol_dataset
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window
    random.seed(0)
    lol_dataset("lol_dataset")  # test: instead of gdown + unzip

    def load_data(image_path):
        image = tf.io.read_file(image_path)
        image = tf.image.decode_png(image, channels=3)
        image = tf.image.resize(images=image, size=[IMAGE_SIZE, IMAGE_SIZE])
        image = image / 255.0
        return image

    def data_generator(low_light_images):
        dataset = tf.data.Dataset.from_tensor_slices((low_light_images))
        dataset = dataset.map(load_data, num_parallel_calls=tf.data.AUTOTUNE)
        dataset = dataset.batch(BATCH_SIZE, drop_remainder=True)
        return dataset

    train_low_light_images = sorted(glob("./lol_dataset/our485/low/*"))[:MAX_TRAIN_IMAGES]
    val_low_light_images = sorted(glob("./lol_dataset/our485/low/*"))[MAX_TRAIN_IMAGES:]
    test_low_light_images = sorted(glob("./lol_dataset/eval15/low/*"))

    train_dataset = data_generator(train_low_light_images)
    val_dataset = data_generator(val_low_light_images)

    print("Train Dataset:", train_dataset)
    print("Validation Dataset:", val_dataset)

    zero_dce_model = ZeroDCE()
    zero_dce_model.compile(learning_rate=1e-4)
    history = zero_dce_model.fit(train_dataset, validation_data=val_dataset, epochs=EPOCHS)  # test: EPOCHS

    def plot_result(item):
        plt.plot(history.history[item], label=item)
        plt.plot(history.history["val_" + item], label="val_" + item)
        plt.xlabel("Epochs")
        plt.ylabel(item)
        plt.title("Train and Validation {} Over Epochs".format(item), fontsize=14)
        plt.legend()
        plt.grid()
        plt.show()

    plot_result("total_loss")
    plot_result("illumination_smoothness_loss")
    plot_result("spatial_constancy_loss")
    plot_result("color_constancy_loss")
    plot_result("exposure_loss")

    def plot_results(images, titles, figure_size=(12, 12)):
        fig = plt.figure(figsize=figure_size)
        for i in range(len(images)):
            fig.add_subplot(1, len(images), i + 1).set_title(titles[i])
            _ = plt.imshow(images[i])
            plt.axis("off")
        plt.show()

    enhanced = []  # test: the enhanced images

    def infer(original_image):
        image = tf.keras.preprocessing.image.img_to_array(original_image)
        image = image.astype("float32") / 255.0
        image = np.expand_dims(image, axis=0)
        output_image = zero_dce_model(image)
        output_image = tf.cast((output_image[0, :, :, :] * 255), dtype=np.uint8)
        output_image = Image.fromarray(output_image.numpy())
        enhanced.append(output_image)  # test: kept
        return output_image

    for val_image_file in random.sample(test_low_light_images, 6):
        original_image = Image.open(val_image_file)
        enhanced_image = infer(original_image)
        plot_results(
            [original_image, ImageOps.autocontrast(original_image), enhanced_image],
            ["Original", "PIL Autocontrast", "Enhanced"],
            (20, 12),
        )

    # test: the custom steps' five losses logged for training and validation, for every epoch, the total going
    # down; the enhanced images keep the photos' full size (the DCE-Net is fully convolutional)
    keys = ["total_loss", "illumination_smoothness_loss", "spatial_constancy_loss", "color_constancy_loss",
            "exposure_loss"]
    assert set(history.history) == set(keys) | {"val_" + k for k in keys}
    assert all(len(v) == EPOCHS and np.all(np.isfinite(v)) for v in history.history.values())
    assert history.history["total_loss"][-1] < history.history["total_loss"][0]
    assert len(enhanced) == 6 and all(img.size == (96, 80) for img in enhanced)
    assert max(np.asarray(Image.open(f)).max() for f in test_low_light_images) < 100  # dark inputs
