"""keras-io example "Neural style transfer", run on chainrule.

Source: https://keras.io/examples/generative/neural_style_transfer/ (keras-team/keras-io,
examples/generative/neural_style_transfer.py, "Last modified: 2020/05/02").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras.applications import vgg19` -> `from chainrule.keras.applications
  import vgg19`; IPython is not installed: `display`/`Image` show nothing (stand-ins below);
- the two photographs (`keras.utils.get_file(...)`) are synthetic 80x60 and 64x64 JPEGs in a temporary folder;
  VGG19 is built with weights=None (the example loads ImageNet weights);
- `img_nrows = 400` is 32, `iterations = 4000` is 4 and the image is saved every 2 iterations instead of 100;
- lines marked `# test:` check what the program produces.

What it relies on: a feature extractor whose outputs are a dict of every VGG19 layer's symbolic output, tf.function
around a GradientTape whose gradient is taken with respect to a tf.Variable image, a learning-rate schedule in SGD,
apply_gradients on a (grads, variable) list, vgg19.preprocess_input, load_img/img_to_array/save_img.
"""

import os

import numpy as np
import pytest
from PIL import Image as PILImage

import chainrule as tf
from chainrule import keras
from chainrule.keras.applications import vgg19

IMG_NROWS = 32  # test: the example's 400
ITERATIONS = 4  # test: the example's 4000
SAVE_EVERY = 2  # test: the example's 100


def Image(path):  # test: stands in for IPython.display.Image
    return path


def display(image):  # test: stands in for IPython.display.display
    return None


@pytest.mark.slow
def test_neural_style_transfer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)  # test: the two photographs
    PILImage.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save("paris.jpg")
    PILImage.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save("starry_night.jpg")

    base_image_path = "paris.jpg"  # test: keras.utils.get_file("paris.jpg", "https://i.imgur.com/F28w3Ac.jpg")
    style_reference_image_path = "starry_night.jpg"  # test: keras.utils.get_file("starry_night.jpg", ...)
    result_prefix = "paris_generated"

    # Weights of the different loss components
    total_variation_weight = 1e-6
    style_weight = 1e-6
    content_weight = 2.5e-8

    # Dimensions of the generated picture.
    width, height = keras.preprocessing.image.load_img(base_image_path).size
    img_nrows = IMG_NROWS
    img_ncols = int(width * img_nrows / height)

    display(Image(base_image_path))
    display(Image(style_reference_image_path))

    def preprocess_image(image_path):
        # Util function to open, resize and format pictures into appropriate tensors
        img = keras.preprocessing.image.load_img(
            image_path, target_size=(img_nrows, img_ncols)
        )
        img = keras.preprocessing.image.img_to_array(img)
        img = np.expand_dims(img, axis=0)
        img = vgg19.preprocess_input(img)
        return tf.convert_to_tensor(img)
    def deprocess_image(x):
        # Util function to convert a tensor into a valid image
        x = x.reshape((img_nrows, img_ncols, 3))
        x[:, :, 0] += 103.939
        x[:, :, 1] += 116.779
        x[:, :, 2] += 123.68
        # 'BGR'->'RGB'
        x = x[:, :, ::-1]
        x = np.clip(x, 0, 255).astype("uint8")
        return x
    def gram_matrix(x):
        x = tf.transpose(x, (2, 0, 1))
        features = tf.reshape(x, (tf.shape(x)[0], -1))
        gram = tf.matmul(features, tf.transpose(features))
        return gram
    def style_loss(style, combination):
        S = gram_matrix(style)
        C = gram_matrix(combination)
        channels = 3
        size = img_nrows * img_ncols
        return tf.reduce_sum(tf.square(S - C)) / (4.0 * (channels**2) * (size**2))
    def content_loss(base, combination):
        return tf.reduce_sum(tf.square(combination - base))
    def total_variation_loss(x):
        a = tf.square(x[:, : img_nrows - 1, : img_ncols - 1, :] - x[:, 1:, : img_ncols - 1, :])
        b = tf.square(x[:, : img_nrows - 1, : img_ncols - 1, :] - x[:, : img_nrows - 1, 1:, :])
        return tf.reduce_sum(tf.pow(a + b, 1.25))
    # Build a VGG19 model (test: weights=None, the example loads "imagenet")
    model = vgg19.VGG19(weights=None, include_top=False)
    outputs_dict = dict([(layer.name, layer.output) for layer in model.layers])
    feature_extractor = keras.Model(inputs=model.inputs, outputs=outputs_dict)
    style_layer_names = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
    content_layer_name = "block5_conv2"
    def compute_loss(combination_image, base_image, style_reference_image):
        input_tensor = tf.concat([base_image, style_reference_image, combination_image], axis=0)
        features = feature_extractor(input_tensor)
        loss = tf.zeros(shape=())
        layer_features = features[content_layer_name]
        base_image_features = layer_features[0, :, :, :]
        combination_features = layer_features[2, :, :, :]
        loss = loss + content_weight * content_loss(base_image_features, combination_features)
        for layer_name in style_layer_names:
            layer_features = features[layer_name]
            style_reference_features = layer_features[1, :, :, :]
            combination_features = layer_features[2, :, :, :]
            sl = style_loss(style_reference_features, combination_features)
            loss += (style_weight / len(style_layer_names)) * sl
        loss += total_variation_weight * total_variation_loss(combination_image)
        return loss
    @tf.function
    def compute_loss_and_grads(combination_image, base_image, style_reference_image):
        with tf.GradientTape() as tape:
            loss = compute_loss(combination_image, base_image, style_reference_image)
        grads = tape.gradient(loss, combination_image)
        return loss, grads
    optimizer = keras.optimizers.SGD(
        keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate=100.0, decay_steps=100, decay_rate=0.96
        )
    )
    base_image = preprocess_image(base_image_path)
    style_reference_image = preprocess_image(style_reference_image_path)
    combination_image = tf.Variable(preprocess_image(base_image_path))
    iterations = ITERATIONS
    for i in range(1, iterations + 1):
        loss, grads = compute_loss_and_grads(combination_image, base_image, style_reference_image)
        optimizer.apply_gradients([(grads, combination_image)])
        if i % SAVE_EVERY == 0:
            print("Iteration %d: loss=%.2f" % (i, loss))
            img = deprocess_image(combination_image.numpy())
            fname = result_prefix + "_at_iteration_%d.png" % i
            keras.preprocessing.image.save_img(fname, img)
    display(Image(result_prefix + "_at_iteration_%d.png" % ITERATIONS))  # test: the example shows iteration 4000

    # test: the generated image changed and was saved at the expected size; the loss is a finite scalar
    assert img_ncols == 42 and combination_image.shape == (1, 32, 42, 3)
    assert not np.allclose(combination_image.numpy(), base_image.numpy())
    assert np.isfinite(float(loss)) and grads.shape == combination_image.shape
    saved = sorted(name for name in os.listdir(".") if name.startswith(result_prefix))
    assert saved == [f"paris_generated_at_iteration_{i}.png" for i in range(SAVE_EVERY, ITERATIONS + 1, SAVE_EVERY)]
    with PILImage.open(saved[-1]) as img:
        assert img.size == (42, 32)
