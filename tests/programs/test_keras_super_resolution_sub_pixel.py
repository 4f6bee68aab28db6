"""keras-io example "Image Super-Resolution using an Efficient Sub-Pixel CNN", run on chainrule.

Source: https://keras.io/examples/vision/super_resolution_sub_pixel/ (keras-team/keras-io,
examples/vision/super_resolution_sub_pixel.py, the TensorFlow 2 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` /
  `from tensorflow.keras... import ...` -> `from chainrule import keras` / `from chainrule.keras... import ...`;
  `from IPython.display import display` is replaced by a stand-in that counts the images shown;
- the BSDS500 archive (`keras.utils.get_file(..., untar=True)`, a download) is replaced by a synthetic `BSR` folder
  of the same layout: data/images/{train,val,test}/*.jpg (20, 8 and 52 smooth synthetic photos) and
  data/groundTruth/*.mat files that are not images;
- sizes are shrunk through the marked constants: crop_size=96 (the example's 300), epochs=2 (100);
- the checkpoint and the figures are written in the test's temporary folder (the working folder there); the figures
  are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.

Slow: the sub-pixel network trains on 96x96 crops and upscales photos.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import chainrule as tf

import os
import math
import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.preprocessing.image import load_img
from chainrule.keras.preprocessing.image import array_to_img
from chainrule.keras.preprocessing.image import img_to_array
from chainrule.keras.preprocessing import image_dataset_from_directory

shown = []  # test: the images display() showed


def display(image):  # test: stands in for IPython.display.display
    shown.append(image)


def bsds500(root, seed=0):
    """test: stands in for BSR_bsds500.tgz: smooth colour photos (gradients and discs) in data/images/{train,val,
    test} and a groundTruth folder of non-image files, as the archive lays them out."""
    rng = np.random.default_rng(seed)
    data = os.path.join(root, "BSDS500", "data")
    for split, count in (("train", 20), ("val", 8), ("test", 52)):
        os.makedirs(os.path.join(data, "images", split))
        for i in range(count):
            h, w = (120, 160) if i % 2 else (160, 120)
            rows, cols = np.mgrid[:h, :w]
            image = np.stack([rows / h * 200, cols / w * 200, np.full((h, w), 90.0)], -1) + rng.uniform(0, 40, 3)
            r, c = rng.integers(30, min(h, w) - 30, 2)
            image[(rows - r) ** 2 + (cols - c) ** 2 < 20 ** 2] = rng.uniform(0, 255, 3)
            keras.utils.save_img(os.path.join(data, "images", split, f"{i:06d}.jpg"), image.astype("uint8"))
    os.makedirs(os.path.join(data, "groundTruth", "train"))
    with open(os.path.join(data, "groundTruth", "train", "000000.mat"), "wb") as f:
        f.write(b"MATLAB 5.0 MAT-file")
    return root


@pytest.mark.slow
def test_super_resolution_sub_pixel(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the figures are saved in the working folder
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window

    data_dir = bsds500(str(tmp_path / "BSR"))  # test: instead of keras.utils.get_file(..., untar=True)
    root_dir = os.path.join(data_dir, "BSDS500/data")

    crop_size = 96  # test: the example's 300
    upscale_factor = 3
    input_size = crop_size // upscale_factor
    batch_size = 8

    train_ds = image_dataset_from_directory(
        root_dir,
        batch_size=batch_size,
        image_size=(crop_size, crop_size),
        validation_split=0.2,
        subset="training",
        seed=1337,
        label_mode=None,
    )

    valid_ds = image_dataset_from_directory(
        root_dir,
        batch_size=batch_size,
        image_size=(crop_size, crop_size),
        validation_split=0.2,
        subset="validation",
        seed=1337,
        label_mode=None,
    )

    def scaling(input_image):
        input_image = input_image / 255.0
        return input_image

    # Scale from (0, 255) to (0, 1)
    train_ds = train_ds.map(scaling)
    valid_ds = valid_ds.map(scaling)

    for batch in train_ds.take(1):
        for img in batch:
            display(array_to_img(img))

    # test: the 80 photos under images/ (not the .mat file), 64 for training; unlabelled batches of 8 in [0, 1]
    assert len(shown) == 8 and tuple(batch.shape) == (8, 96, 96, 3)
    assert sum(int(tf.shape(b)[0]) for b in train_ds) == 64 and sum(int(tf.shape(b)[0]) for b in valid_ds) == 16

    dataset = os.path.join(root_dir, "images")
    test_path = os.path.join(dataset, "test")

    test_img_paths = sorted(
        [
            os.path.join(test_path, fname)
            for fname in os.listdir(test_path)
            if fname.endswith(".jpg")
        ]
    )

    # Use TF Ops to process.
    def process_input(input, input_size, upscale_factor):
        input = tf.image.rgb_to_yuv(input)
        last_dimension_axis = len(input.shape) - 1
        y, u, v = tf.split(input, 3, axis=last_dimension_axis)
        return tf.image.resize(y, [input_size, input_size], method="area")

    def process_target(input):
        input = tf.image.rgb_to_yuv(input)
        last_dimension_axis = len(input.shape) - 1
        y, u, v = tf.split(input, 3, axis=last_dimension_axis)
        return y

    train_ds = train_ds.map(
        lambda x: (process_input(x, input_size, upscale_factor), process_target(x))
    )
    train_ds = train_ds.prefetch(buffer_size=32)

    valid_ds = valid_ds.map(
        lambda x: (process_input(x, input_size, upscale_factor), process_target(x))
    )
    valid_ds = valid_ds.prefetch(buffer_size=32)

    for batch in train_ds.take(1):
        for img in batch[0]:
            display(array_to_img(img))
        for img in batch[1]:
            display(array_to_img(img))

    # test: 32x32 luminance inputs (area-resized) for 96x96 luminance targets
    assert tuple(batch[0].shape) == (8, 32, 32, 1) and tuple(batch[1].shape) == (8, 96, 96, 1)

    def get_model(upscale_factor=3, channels=1):
        conv_args = {
            "activation": "relu",
            "kernel_initializer": "Orthogonal",
            "padding": "same",
        }
        inputs = keras.Input(shape=(None, None, channels))
        x = layers.Conv2D(64, 5, **conv_args)(inputs)
        x = layers.Conv2D(64, 3, **conv_args)(x)
        x = layers.Conv2D(32, 3, **conv_args)(x)
        x = layers.Conv2D(channels * (upscale_factor**2), 3, **conv_args)(x)
        outputs = tf.nn.depth_to_space(x, upscale_factor)

        return keras.Model(inputs, outputs)

    import matplotlib.pyplot as plt
    from mpl_toolkits.axes_grid1.inset_locator import zoomed_inset_axes
    from mpl_toolkits.axes_grid1.inset_locator import mark_inset
    import PIL

    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window

    def plot_results(img, prefix, title):
        """Plot the result with zoom-in area."""
        img_array = img_to_array(img)
        img_array = img_array.astype("float32") / 255.0

        # Create a new figure with a default 111 subplot.
        fig, ax = plt.subplots()
        im = ax.imshow(img_array[::-1], origin="lower")

        plt.title(title)
        # zoom-factor: 2.0, location: upper-left
        axins = zoomed_inset_axes(ax, 2, loc=2)
        axins.imshow(img_array[::-1], origin="lower")

        # Specify the limits.
        x1, x2, y1, y2 = 200, 300, 100, 200
        # Apply the x-limits.
        axins.set_xlim(x1, x2)
        # Apply the y-limits.
        axins.set_ylim(y1, y2)

        plt.yticks(visible=False)
        plt.xticks(visible=False)

        # Make the line.
        mark_inset(ax, axins, loc1=1, loc2=3, fc="none", ec="blue")
        plt.savefig(str(prefix) + "-" + title + ".png")
        plt.show()

    def get_lowres_image(img, upscale_factor):
        """Return low-resolution image to use as model input."""
        return img.resize(
            (img.size[0] // upscale_factor, img.size[1] // upscale_factor),
            PIL.Image.BICUBIC,
        )

    def upscale_image(model, img):
        """Predict the result based on input image and restore the image as RGB."""
        ycbcr = img.convert("YCbCr")
        y, cb, cr = ycbcr.split()
        y = img_to_array(y)
        y = y.astype("float32") / 255.0

        input = np.expand_dims(y, axis=0)
        out = model.predict(input)

        out_img_y = out[0]
        out_img_y *= 255.0

        # Restore the image in RGB color space.
        out_img_y = out_img_y.clip(0, 255)
        out_img_y = out_img_y.reshape((np.shape(out_img_y)[0], np.shape(out_img_y)[1]))
        out_img_y = PIL.Image.fromarray(np.uint8(out_img_y), mode="L")
        out_img_cb = cb.resize(out_img_y.size, PIL.Image.BICUBIC)
        out_img_cr = cr.resize(out_img_y.size, PIL.Image.BICUBIC)
        out_img = PIL.Image.merge("YCbCr", (out_img_y, out_img_cb, out_img_cr)).convert(
            "RGB"
        )
        return out_img

    psnrs = []  # test: each epoch's PSNR values

    class ESPCNCallback(keras.callbacks.Callback):
        def __init__(self):
            super(ESPCNCallback, self).__init__()
            self.test_img = get_lowres_image(load_img(test_img_paths[0]), upscale_factor)

        # Store PSNR value in each epoch.
        def on_epoch_begin(self, epoch, logs=None):
            self.psnr = []

        def on_epoch_end(self, epoch, logs=None):
            print("Mean PSNR for epoch: %.2f" % (np.mean(self.psnr)))
            psnrs.append(list(self.psnr))  # test: kept
            if epoch % 20 == 0:
                prediction = upscale_image(self.model, self.test_img)
                plot_results(prediction, "epoch-" + str(epoch), "prediction")

        def on_test_batch_end(self, batch, logs=None):
            self.psnr.append(10 * math.log10(1 / logs["loss"]))

    early_stopping_callback = keras.callbacks.EarlyStopping(monitor="loss", patience=10)

    checkpoint_filepath = str(tmp_path / "checkpoint")  # test: the example's /tmp/checkpoint

    model_checkpoint_callback = keras.callbacks.ModelCheckpoint(
        filepath=checkpoint_filepath,
        save_weights_only=True,
        monitor="loss",
        mode="min",
        save_best_only=True,
    )

    model = get_model(upscale_factor=upscale_factor, channels=1)
    model.summary()

    callbacks = [ESPCNCallback(), early_stopping_callback, model_checkpoint_callback]
    loss_fn = keras.losses.MeanSquaredError()
    optimizer = keras.optimizers.Adam(learning_rate=0.001)

    epochs = 2  # test: the example's 100

    model.compile(
        optimizer=optimizer,
        loss=loss_fn,
    )

    model.fit(
        train_ds, epochs=epochs, callbacks=callbacks, validation_data=valid_ds, verbose=2
    )

    # The model weights (that are considered the best) are loaded into the model.
    model.load_weights(checkpoint_filepath)

    total_bicubic_psnr = 0.0
    total_test_psnr = 0.0

    for index, test_img_path in enumerate(test_img_paths[50:60]):
        img = load_img(test_img_path)
        lowres_input = get_lowres_image(img, upscale_factor)
        w = lowres_input.size[0] * upscale_factor
        h = lowres_input.size[1] * upscale_factor
        highres_img = img.resize((w, h))
        prediction = upscale_image(model, lowres_input)
        lowres_img = lowres_input.resize((w, h))
        lowres_img_arr = img_to_array(lowres_img)
        highres_img_arr = img_to_array(highres_img)
        predict_img_arr = img_to_array(prediction)
        bicubic_psnr = tf.image.psnr(lowres_img_arr, highres_img_arr, max_val=255)
        test_psnr = tf.image.psnr(predict_img_arr, highres_img_arr, max_val=255)

        total_bicubic_psnr += bicubic_psnr
        total_test_psnr += test_psnr

        print(
            "PSNR of low resolution image and high resolution image is %.4f" % bicubic_psnr
        )
        print("PSNR of predict and high resolution is %.4f" % test_psnr)
        plot_results(lowres_img, index, "lowres")
        plot_results(highres_img, index, "highres")
        plot_results(prediction, index, "prediction")

    print("Avg. PSNR of lowres images is %.4f" % (total_bicubic_psnr / 10))
    print("Avg. PSNR of reconstructions is %.4f" % (total_test_psnr / 10))

    # test: the model upscales any size by 3 (depth_to_space of 9 channels); one PSNR per validation batch and
    # epoch; the epoch-0 prediction and the 2 x 3 result figures were saved; tf.image.psnr is 10 log10(255^2/MSE)
    assert tuple(model(np.zeros((1, 7, 5, 1), "float32")).shape) == (1, 21, 15, 1)
    assert [len(p) for p in psnrs] == [2, 2] and all(np.isfinite(psnrs[0]))
    saved = sorted(f for f in os.listdir(".") if f.endswith(".png"))
    assert saved == ["0-highres.png", "0-lowres.png", "0-prediction.png", "1-highres.png", "1-lowres.png",
                     "1-prediction.png", "epoch-0-prediction.png"]
    mse = np.mean((predict_img_arr - highres_img_arr) ** 2)
    assert float(test_psnr) == pytest.approx(10 * np.log10(255.0 ** 2 / mse), rel=1e-4)
