"""keras-io example "Grad-CAM class activation visualization", run on chainrule.

Source: https://keras.io/examples/vision/grad_cam/ (keras-team/keras-io, examples/vision/grad_cam.py, the Keras 3
revision: `keras.utils.load_img`, `model.input`, `mpl.colormaps["jet"]`).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import keras` -> `from chainrule import
  keras` (the `KERAS_BACKEND` line is left out); `from IPython.display import Image, display` is replaced by a
  stand-in that records which image files were shown (IPython is not installed here);
- the two photographs (`keras.utils.get_file(...)`, downloads) are replaced by synthetic images written as PNG and
  JPEG files of other sizes than the model's (so `load_img(target_size=)` resizes them);
- `model_builder(weights="imagenet")` (a 90 MB download) is `model_builder(weights=None)`: the same Xception with its
  random initial weights; ImageNet's class-index file that `decode_predictions` downloads is replaced by synthetic
  class names set in `keras.applications.imagenet_utils.CLASS_INDEX` (the module global Keras caches it in);
- the figures are drawn on matplotlib's Agg backend without showing them, the heatmap images are written in the
  test's temporary folder;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import chainrule as tf
from chainrule import keras

# Display
import matplotlib as mpl
import matplotlib.pyplot as plt

import pytest

shown = []  # test: the files `display(Image(path))` showed


class Image:  # test: stands in for IPython.display.Image
    def __init__(self, path):
        self.path = str(path)


def display(image):  # test: stands in for IPython.display.display
    shown.append(image.path)


def synthetic_photo(path, size, seed):
    """test: stands in for keras.utils.get_file(...) of a photograph: a smooth colour gradient with a bright disc."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx / w * 255, yy / h * 255, np.full((h, w), 128.0)], axis=-1)
    cy, cx = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4)
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < (min(h, w) // 6) ** 2] = 250
    keras.utils.save_img(str(path), img.astype("uint8"))
    return str(path)


@pytest.fixture
def imagenet_class_index(monkeypatch):
    """test: ImageNet's 1000 class names (a download) replaced by synthetic ones."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(keras.applications.imagenet_utils, "CLASS_INDEX", index)
    return index


def test_grad_cam(tmp_path, monkeypatch, imagenet_class_index):
    monkeypatch.chdir(tmp_path)  # test: cam.jpg is written in the working folder
    shown.clear()

    model_builder = keras.applications.xception.Xception
    img_size = (299, 299)
    preprocess_input = keras.applications.xception.preprocess_input
    decode_predictions = keras.applications.xception.decode_predictions

    last_conv_layer_name = "block14_sepconv2_act"

    # The local path to our target image
    img_path = synthetic_photo(tmp_path / "african_elephant.png", (340, 510), seed=1)  # test: instead of get_file

    display(Image(img_path))

    def get_img_array(img_path, size):
        # `img` is a PIL image of size 299x299
        img = keras.utils.load_img(img_path, target_size=size)
        # `array` is a float32 Numpy array of shape (299, 299, 3)
        array = keras.utils.img_to_array(img)
        # We add a dimension to transform our array into a "batch"
        # of size (1, 299, 299, 3)
        array = np.expand_dims(array, axis=0)
        return array

    def make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
        # First, we create a model that maps the input image to the activations
        # of the last conv layer as well as the output predictions
        grad_model = keras.models.Model(
            model.input, [model.get_layer(last_conv_layer_name).output, model.output]
        )

        # Then, we compute the gradient of the top predicted class for our input image
        # with respect to the activations of the last conv layer
        with tf.GradientTape() as tape:
            last_conv_layer_output, preds = grad_model(img_array)
            if pred_index is None:
                pred_index = tf.argmax(preds[0])
            class_channel = preds[:, pred_index]

        # This is the gradient of the output neuron (top predicted or chosen)
        # with regard to the output feature map of the last conv layer
        grads = tape.gradient(class_channel, last_conv_layer_output)

        # This is a vector where each entry is the mean intensity of the gradient
        # over a specific feature map channel
        pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))

        # We multiply each channel in the feature map array
        # by "how important this channel is" with regard to the top predicted class
        # then sum all the channels to obtain the heatmap class activation
        last_conv_layer_output = last_conv_layer_output[0]
        heatmap = last_conv_layer_output @ pooled_grads[..., tf.newaxis]
        heatmap = tf.squeeze(heatmap)

        # For visualization purpose, we will also normalize the heatmap between 0 & 1
        heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
        return heatmap.numpy()

    # Prepare image
    img_array = preprocess_input(get_img_array(img_path, size=img_size))

    # Make model
    model = model_builder(weights=None)  # test: the example's weights="imagenet"

    # Remove last layer's softmax
    model.layers[-1].activation = None

    # Print what the top predicted class is
    preds = model.predict(img_array)
    print("Predicted:", decode_predictions(preds, top=1)[0])

    # Generate class activation heatmap
    heatmap = make_gradcam_heatmap(img_array, model, last_conv_layer_name)

    # Display heatmap
    plt.matshow(heatmap)
    plt.close("all")  # test: instead of plt.show()

    # test: the preprocessed image in [-1, 1]; the logits (no softmax); a 10x10 heatmap in [0, 1] of the last
    # conv block's activations weighted by the top class's pooled gradients, recomputed here from the two models
    assert img_array.shape == (1, 299, 299, 3) and -1 <= img_array.min() and img_array.max() <= 1
    assert preds.shape == (1, 1000) and not np.allclose(preds.sum(axis=-1), 1.0)
    top = decode_predictions(preds, top=1)[0][0]
    assert top[:2] == tuple(imagenet_class_index[str(int(np.argmax(preds[0])))])
    assert heatmap.shape == (10, 10) and heatmap.min() >= 0 and np.isclose(heatmap.max(), 1.0)
    conv_model = keras.Model(model.input, model.get_layer(last_conv_layer_name).output)
    features = conv_model.predict(img_array, verbose=0)[0]
    np.testing.assert_allclose(preds, model.predict(img_array, verbose=0), rtol=1e-4, atol=1e-5)
    dense = model.layers[-1].get_weights()[0]
    # The top is global average pooling then a dense layer: d logit_k / d feature[i, j, c] = W[c, k] / (10 * 10).
    weights = dense[:, int(np.argmax(preds[0]))] / 100.0
    expected = np.maximum(features @ weights, 0)
    np.testing.assert_allclose(heatmap, expected / (features @ weights).max(), rtol=1e-4, atol=1e-6)

    def save_and_display_gradcam(img_path, heatmap, cam_path="cam.jpg", alpha=0.4):
        # Load the original image
        img = keras.utils.load_img(img_path)
        img = keras.utils.img_to_array(img)

        # Rescale heatmap to a range 0-255
        heatmap = np.uint8(255 * heatmap)

        # Use jet colormap to colorize heatmap
        jet = mpl.colormaps["jet"]

        # Use RGB values of the colormap
        jet_colors = jet(np.arange(256))[:, :3]
        jet_heatmap = jet_colors[heatmap]

        # Create an image with RGB colorized heatmap
        jet_heatmap = keras.utils.array_to_img(jet_heatmap)
        jet_heatmap = jet_heatmap.resize((img.shape[1], img.shape[0]))
        jet_heatmap = keras.utils.img_to_array(jet_heatmap)

        # Superimpose the heatmap on original image
        superimposed_img = jet_heatmap * alpha + img
        superimposed_img = keras.utils.array_to_img(superimposed_img)

        # Save the superimposed image
        superimposed_img.save(cam_path)

        # Display Grad CAM
        display(Image(cam_path))

    save_and_display_gradcam(img_path, heatmap)

    # test: the superimposed image has the photograph's size
    cam = keras.utils.load_img("cam.jpg")
    assert cam.size == (510, 340)

    img_path = synthetic_photo(tmp_path / "cat_and_dog.jpg", (400, 600), seed=2)  # test: instead of get_file

    display(Image(img_path))

    # Prepare image
    img_array = preprocess_input(get_img_array(img_path, size=img_size))

    # Print what the two top predicted classes are
    preds = model.predict(img_array)
    print("Predicted:", decode_predictions(preds, top=2)[0])

    heatmap = make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=260)

    save_and_display_gradcam(img_path, heatmap)

    heatmap = make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=285)

    save_and_display_gradcam(img_path, heatmap)

    # test: the two top classes in order; each chosen class gives its own map
    two = decode_predictions(preds, top=2)[0]
    assert [t[1] for t in two] == [f"class_{i}" for i in np.argsort(preds[0])[::-1][:2]]
    assert shown == [str(tmp_path / "african_elephant.png"), "cam.jpg", str(tmp_path / "cat_and_dog.jpg"),
                     "cam.jpg", "cam.jpg"]
