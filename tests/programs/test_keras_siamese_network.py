"""keras-io example "Image similarity estimation using a Siamese Network with a triplet loss", run on chainrule.

Source: https://keras.io/examples/vision/siamese_network/ (keras-team/keras-io, examples/vision/siamese_network.py,
the Keras 3 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from keras import ...` -> `from
  chainrule.keras import ...`;
- the Totally Looks Like archives (gdown + unzip into ~/.keras/left and ~/.keras/right) are replaced by 24 synthetic
  JPEG pairs written there, the home folder being the test's temporary folder; each pair shows one pattern twice
  with different noise;
- `resnet.ResNet50(weights="imagenet", ...)` (a download) is `weights=None`: the same architecture;
- sizes are shrunk through the marked constants: target_shape=(64, 64) (the example's (200, 200)), EPOCHS=1 (10);
- the figures are drawn on matplotlib's Agg backend and closed;
- lines marked `# test:` check what the program produces.

Slow: three ResNet50 passes per triplet.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import os
import random
import chainrule as tf
from pathlib import Path
from chainrule.keras import applications
from chainrule.keras import layers
from chainrule.keras import losses
from chainrule.keras import ops
from chainrule.keras import optimizers
from chainrule.keras import metrics
from chainrule.keras import Model
from chainrule.keras.applications import resnet

import pytest

EPOCHS = 1  # test: the example's 10


def totally_looks_like(cache_dir, pairs=24, seed=0):
    """test: stands in for left.zip and right.zip: left/<n>.jpg and right/<n>.jpg look alike (same blobs and
    colours, different noise), different numbers look different."""
    from chainrule import keras

    rng = np.random.default_rng(seed)
    for side in ("left", "right"):
        (cache_dir / side).mkdir(parents=True)
    for n in range(pairs):
        colour = rng.uniform(30, 220, 3)
        centres = rng.integers(20, 100, size=(3, 2))
        for side in ("left", "right"):
            rows, cols = np.mgrid[:120, :120]
            image = np.clip(colour + rng.normal(0, 20, (120, 120, 3)), 0, 255)
            for r, c in centres:
                image[(rows - r) ** 2 + (cols - c) ** 2 < 15 ** 2] = 255 - colour
            keras.utils.save_img(str(cache_dir / side / f"{n:05d}.jpg"), image.astype("uint8"))


@pytest.mark.slow
def test_siamese_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # test: ~/.keras is the temporary folder's
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window

    target_shape = (64, 64)  # test: the example's (200, 200)

    cache_dir = Path(Path.home()) / ".keras"
    anchor_images_path = cache_dir / "left"
    positive_images_path = cache_dir / "right"
    totally_looks_like(cache_dir)  # test: instead of gdown + unzip

    def preprocess_image(filename):
        """
        Load the specified file as a JPEG image, preprocess it and
        resize it to the target shape.
        """

        image_string = tf.io.read_file(filename)
        image = tf.image.decode_jpeg(image_string, channels=3)
        image = tf.image.convert_image_dtype(image, tf.float32)
        image = tf.image.resize(image, target_shape)
        return image

    def preprocess_triplets(anchor, positive, negative):
        """
        Given the filenames corresponding to the three images, load and
        preprocess them.
        """

        return (
            preprocess_image(anchor),
            preprocess_image(positive),
            preprocess_image(negative),
        )

    # We need to make sure both the anchor and positive images are loaded in
    # sorted order so we can match them together.
    anchor_images = sorted(
        [str(anchor_images_path / f) for f in os.listdir(anchor_images_path)]
    )

    positive_images = sorted(
        [str(positive_images_path / f) for f in os.listdir(positive_images_path)]
    )

    image_count = len(anchor_images)

    anchor_dataset = tf.data.Dataset.from_tensor_slices(anchor_images)
    positive_dataset = tf.data.Dataset.from_tensor_slices(positive_images)

    # To generate the list of negative images, let's randomize the list of
    # available images and concatenate them together.
    rng = np.random.RandomState(seed=42)
    rng.shuffle(anchor_images)
    rng.shuffle(positive_images)

    negative_images = anchor_images + positive_images
    np.random.RandomState(seed=32).shuffle(negative_images)

    negative_dataset = tf.data.Dataset.from_tensor_slices(negative_images)
    negative_dataset = negative_dataset.shuffle(buffer_size=4096)

    dataset = tf.data.Dataset.zip((anchor_dataset, positive_dataset, negative_dataset))
    dataset = dataset.shuffle(buffer_size=1024)
    dataset = dataset.map(preprocess_triplets)

    # Let's now split our dataset in train and validation.
    train_dataset = dataset.take(round(image_count * 0.8))
    val_dataset = dataset.skip(round(image_count * 0.8))

    train_dataset = train_dataset.batch(32, drop_remainder=False)
    train_dataset = train_dataset.prefetch(tf.data.AUTOTUNE)

    val_dataset = val_dataset.batch(32, drop_remainder=False)
    val_dataset = val_dataset.prefetch(tf.data.AUTOTUNE)

    def visualize(anchor, positive, negative):
        """Visualize a few triplets from the supplied batches."""

        def show(ax, image):
            ax.imshow(image)
            ax.get_xaxis().set_visible(False)
            ax.get_yaxis().set_visible(False)

        fig = plt.figure(figsize=(9, 9))

        axs = fig.subplots(3, 3)
        for i in range(3):
            show(axs[i, 0], anchor[i])
            show(axs[i, 1], positive[i])
            show(axs[i, 2], negative[i])

    visualize(*list(train_dataset.take(1).as_numpy_iterator())[0])
    plt.close("all")  # test: drawn, not shown

    # test: 19 training and 5 validation triplets of float images in [0, 1] at the target shape
    batches = list(train_dataset.as_numpy_iterator())
    assert len(batches) == 1 and [part.shape for part in batches[0]] == [(19, 64, 64, 3)] * 3
    assert sum(len(b[0]) for b in val_dataset.as_numpy_iterator()) == 5
    assert 0 <= batches[0][0].min() and batches[0][0].max() <= 1

    base_cnn = resnet.ResNet50(
        weights=None, input_shape=target_shape + (3,), include_top=False  # test: the example's "imagenet"
    )

    flatten = layers.Flatten()(base_cnn.output)
    dense1 = layers.Dense(512, activation="relu")(flatten)
    dense1 = layers.BatchNormalization()(dense1)
    dense2 = layers.Dense(256, activation="relu")(dense1)
    dense2 = layers.BatchNormalization()(dense2)
    output = layers.Dense(256)(dense2)

    embedding = Model(base_cnn.input, output, name="Embedding")

    trainable = False
    for layer in base_cnn.layers:
        if layer.name == "conv5_block1_out":
            trainable = True
        layer.trainable = trainable

    class DistanceLayer(layers.Layer):
        """
        This layer is responsible for computing the distance between the anchor
        embedding and the positive embedding, and the anchor embedding and the
        negative embedding.
        """

        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def call(self, anchor, positive, negative):
            ap_distance = ops.sum(tf.square(anchor - positive), -1)
            an_distance = ops.sum(tf.square(anchor - negative), -1)
            return (ap_distance, an_distance)

    anchor_input = layers.Input(name="anchor", shape=target_shape + (3,))
    positive_input = layers.Input(name="positive", shape=target_shape + (3,))
    negative_input = layers.Input(name="negative", shape=target_shape + (3,))

    distances = DistanceLayer()(
        embedding(resnet.preprocess_input(anchor_input)),
        embedding(resnet.preprocess_input(positive_input)),
        embedding(resnet.preprocess_input(negative_input)),
    )

    siamese_network = Model(
        inputs=[anchor_input, positive_input, negative_input], outputs=distances
    )

    class SiameseModel(Model):
        """The Siamese Network model with a custom training and testing loops."""

        def __init__(self, siamese_network, margin=0.5):
            super().__init__()
            self.siamese_network = siamese_network
            self.margin = margin
            self.loss_tracker = metrics.Mean(name="loss")

        def call(self, inputs):
            return self.siamese_network(inputs)

        def train_step(self, data):
            # GradientTape is a context manager that records every operation that
            # you do inside. We are using it here to compute the loss so we can get
            # the gradients and apply them using the optimizer specified in
            # `compile()`.
            with tf.GradientTape() as tape:
                loss = self._compute_loss(data)

            # Storing the gradients of the loss function with respect to the
            # weights/parameters.
            gradients = tape.gradient(loss, self.siamese_network.trainable_weights)

            # Applying the gradients on the model using the specified optimizer
            self.optimizer.apply_gradients(
                zip(gradients, self.siamese_network.trainable_weights)
            )

            # Let's update and return the training loss metric.
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        def test_step(self, data):
            loss = self._compute_loss(data)

            # Let's update and return the loss metric.
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        def _compute_loss(self, data):
            # The output of the network is a tuple containing the distances
            # between the anchor and the positive example, and the anchor and
            # the negative example.
            ap_distance, an_distance = self.siamese_network(data)

            # Computing the Triplet Loss by subtracting both distances and
            # making sure we don't get a negative value.
            loss = ap_distance - an_distance
            loss = tf.maximum(loss + self.margin, 0.0)
            return loss

        @property
        def metrics(self):
            # We need to list our metrics here so the `reset_states()` can be
            # called automatically.
            return [self.loss_tracker]

    conv1 = base_cnn.get_layer("conv1_conv").kernel.numpy().copy()  # test: a frozen layer's kernel, kept
    siamese_model = SiameseModel(siamese_network)
    siamese_model.compile(optimizer=optimizers.Adam(0.0001))
    history = siamese_model.fit(train_dataset, epochs=EPOCHS, validation_data=val_dataset)  # test: EPOCHS

    sample = next(iter(train_dataset))
    visualize(*sample)
    plt.close("all")  # test: drawn, not shown

    anchor, positive, negative = sample
    anchor_embedding, positive_embedding, negative_embedding = (
        embedding(resnet.preprocess_input(anchor)),
        embedding(resnet.preprocess_input(positive)),
        embedding(resnet.preprocess_input(negative)),
    )

    cosine_similarity = metrics.CosineSimilarity()

    positive_similarity = cosine_similarity(anchor_embedding, positive_embedding)
    print("Positive similarity:", positive_similarity.numpy())

    negative_similarity = cosine_similarity(anchor_embedding, negative_embedding)
    print("Negative similarity", negative_similarity.numpy())

    # test: the layers before conv5_block1_out stayed frozen; the loss logged is the mean triplet loss; the
    # cosine similarity is a running mean of the per-sample cosines (Keras's metric keeps its state)
    np.testing.assert_array_equal(base_cnn.get_layer("conv1_conv").kernel.numpy(), conv1)
    assert set(history.history) == {"loss", "val_loss"} and np.isfinite(history.history["val_loss"][0])
    a, p, n = (np.asarray(t) for t in (anchor_embedding, positive_embedding, negative_embedding))

    def cos(u, v):
        return (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)

    assert float(positive_similarity) == pytest.approx(cos(a, p).mean(), rel=1e-4)
    assert float(negative_similarity) == pytest.approx(np.concatenate([cos(a, p), cos(a, n)]).mean(), rel=1e-4)
