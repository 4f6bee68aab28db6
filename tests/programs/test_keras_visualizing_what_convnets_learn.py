"""keras-io example "Visualizing what convnets learn", run on chainrule.

Source: https://keras.io/examples/vision/visualizing_what_convnets_learn/ (keras-team/keras-io,
examples/vision/visualizing_what_convnets_learn.py).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`; `from IPython.display import Image, display` is replaced by a stand-in that
  records which files were shown (IPython is not installed here);
- `keras.applications.ResNet50V2(weights="imagenet", include_top=False)` (a download) is `weights=None`: the same
  architecture with random weights;
- the gradient ascent runs ITERATIONS steps (the example's 30) for NUM_FILTERS_SIDE**2 filters in a
  NUM_FILTERS_SIDE x NUM_FILTERS_SIDE grid (the example's 64 filters, 8 x 8);
- the images are written in the test's temporary folder (the working folder there);
- lines marked `# test:` check what the program produces.
"""

import numpy as np
import chainrule as tf
from chainrule import keras

ITERATIONS = 3  # test: the example's 30
NUM_FILTERS_SIDE = 2  # test: the example's 8 (64 filters)

shown = []  # test: the files `display(Image(path))` showed


class Image:  # test: stands in for IPython.display.Image
    def __init__(self, path):
        self.path = str(path)


def display(image):  # test: stands in for IPython.display.display
    shown.append(image.path)


def test_visualizing_what_convnets_learn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the images are written in the working folder
    shown.clear()

    # The dimensions of our input image
    img_width = 180
    img_height = 180
    # Our target layer: we will visualize the filters from this layer.
    # See `model.summary()` for list of layer names, if you want to change this.
    layer_name = "conv3_block4_out"

    # Build a ResNet50V2 model loaded with pre-trained ImageNet weights
    model = keras.applications.ResNet50V2(weights=None, include_top=False)  # test: the example's "imagenet"

    # Set up a model that returns the activation values for our target layer
    layer = model.get_layer(name=layer_name)
    feature_extractor = keras.Model(inputs=model.inputs, outputs=layer.output)

    def compute_loss(input_image, filter_index):
        activation = feature_extractor(input_image)
        # We avoid border artifacts by only involving non-border pixels in the loss.
        filter_activation = activation[:, 2:-2, 2:-2, filter_index]
        return tf.reduce_mean(filter_activation)

    @tf.function
    def gradient_ascent_step(img, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(img)
            loss = compute_loss(img, filter_index)
        # Compute gradients.
        grads = tape.gradient(loss, img)
        # Normalize gradients.
        grads = tf.math.l2_normalize(grads)
        img += learning_rate * grads
        return loss, img

    losses = {}  # test: each filter's loss at every step

    def initialize_image():
        # We start from a gray image with some random noise
        img = tf.random.uniform((1, img_width, img_height, 3))
        # ResNet50V2 expects inputs in the range [-1, +1].
        # Here we scale our random inputs to [-0.125, +0.125]
        return (img - 0.5) * 0.25

    def visualize_filter(filter_index):
        # We run gradient ascent for 20 steps
        iterations = ITERATIONS  # test: the example's 30
        learning_rate = 10.0
        img = initialize_image()
        for iteration in range(iterations):
            loss, img = gradient_ascent_step(img, filter_index, learning_rate)
            losses.setdefault(filter_index, []).append(float(loss))  # test: recorded

        # Decode the resulting input image
        img = deprocess_image(img[0].numpy())
        return loss, img

    def deprocess_image(img):
        # Normalize array: center on 0., ensure variance is 0.15
        img -= img.mean()
        img /= img.std() + 1e-5
        img *= 0.15

        # Center crop
        img = img[25:-25, 25:-25, :]

        # Clip to [0, 1]
        img += 0.5
        img = np.clip(img, 0, 1)

        # Convert to RGB array
        img *= 255
        img = np.clip(img, 0, 255).astype("uint8")
        return img

    loss, img = visualize_filter(0)
    keras.preprocessing.image.save_img("0.png", img)

    display(Image("0.png"))

    # test: gradient ascent raised filter 0's mean activation; the image is the 130x130 centre crop
    assert losses[0][-1] > losses[0][0]
    assert img.shape == (130, 130, 3) and img.dtype == np.uint8
    assert keras.utils.img_to_array(keras.utils.load_img("0.png")).shape == (130, 130, 3)

    # Compute image inputs that maximize per-filter activations
    # for the first 64 filters of our target layer
    all_imgs = []
    for filter_index in range(NUM_FILTERS_SIDE**2):  # test: the example's range(64)
        print("Processing filter %d" % (filter_index,))
        loss, img = visualize_filter(filter_index)
        all_imgs.append(img)

    # Build a black picture with enough space for
    # our 8 x 8 filters of size 128 x 128, with a 5px margin in between
    margin = 5
    n = NUM_FILTERS_SIDE  # test: the example's 8
    cropped_width = img_width - 25 * 2
    cropped_height = img_height - 25 * 2
    width = n * cropped_width + (n - 1) * margin
    height = n * cropped_height + (n - 1) * margin
    stitched_filters = np.zeros((width, height, 3))

    # Fill the picture with our saved filters
    for i in range(n):
        for j in range(n):
            img = all_imgs[i * n + j]
            stitched_filters[
                (cropped_width + margin) * i : (cropped_width + margin) * i + cropped_width,
                (cropped_height + margin) * j : (cropped_height + margin) * j
                + cropped_height,
                :,
            ] = img
    keras.preprocessing.image.save_img("stiched_filters.png", stitched_filters)

    display(Image("stiched_filters.png"))

    # test: every filter's activation rose under gradient ascent; different filters give different images; the
    # grid image has its size; the last step's loss is the mean activation of the returned image's filter
    for filter_index, trace in losses.items():
        assert trace[-1] > trace[0], (filter_index, trace)
    assert not np.array_equal(all_imgs[0], all_imgs[1])
    assert keras.utils.img_to_array(keras.utils.load_img("stiched_filters.png")).shape == (width, height, 3)
    assert shown == ["0.png", "stiched_filters.png"]
