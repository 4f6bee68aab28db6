"""keras-io example "Metric learning for image similarity search", run on chainrule.

Source: https://keras.io/examples/vision/metric_learning/ (keras-team/keras-io, examples/vision/metric_learning.py,
the TensorFlow 2 revision: a custom train_step with GradientTape, compiled_loss and compiled_metrics).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras` (and so for `layers` and `datasets.cifar10`); `from sklearn.metrics import
  ConfusionMatrixDisplay` is replaced by a small matplotlib stand-in (scikit-learn is not a dependency);
- CIFAR-10 (`cifar10.load_data()`, a download) is replaced by cifar_like.py's synthetic images of the same shapes
  and dtypes (500 training, 200 test images), so the collage's random indices are drawn below TRAIN_SIZE (the
  example's 50000);
- training is shrunk through the marked constants: NUM_BATCHES=20 batches per epoch (the example's 1000),
  EPOCHS=3 (20);
- the figures are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import random
import matplotlib.pyplot as plt
import numpy as np
import chainrule as tf
from collections import defaultdict
from PIL import Image
from chainrule import keras
from chainrule.keras import layers

import cifar_like

TRAIN_SIZE = 500  # test: the example's 50000
NUM_BATCHES = 20  # test: the example's 1000
EPOCHS = 3  # test: the example's 20


class ConfusionMatrixDisplay:
    """test: stands in for sklearn.metrics.ConfusionMatrixDisplay (the matrix drawn with imshow and its labels)."""

    def __init__(self, confusion_matrix, display_labels):
        self.confusion_matrix, self.display_labels = confusion_matrix, display_labels

    def plot(self, include_values=True, cmap="viridis", ax=None, xticks_rotation="horizontal"):
        ax = ax or plt.subplots()[1]
        ax.imshow(self.confusion_matrix, cmap=cmap)
        ticks = np.arange(len(self.display_labels))
        ax.set_xticks(ticks, self.display_labels, rotation=xticks_rotation)
        ax.set_yticks(ticks, self.display_labels)
        return self


def test_metric_learning(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window
    random.seed(0)  # test: the same pairs at every run

    (x_train, y_train), (x_test, y_test) = cifar_like.load_data(TRAIN_SIZE, 200, num_classes=10)  # test: cifar10

    x_train = x_train.astype("float32") / 255.0
    y_train = np.squeeze(y_train)
    x_test = x_test.astype("float32") / 255.0
    y_test = np.squeeze(y_test)

    height_width = 32

    def show_collage(examples):
        box_size = height_width + 2
        num_rows, num_cols = examples.shape[:2]

        collage = Image.new(
            mode="RGB",
            size=(num_cols * box_size, num_rows * box_size),
            color=(250, 250, 250),
        )
        for row_idx in range(num_rows):
            for col_idx in range(num_cols):
                array = (np.array(examples[row_idx, col_idx]) * 255).astype(np.uint8)
                collage.paste(
                    Image.fromarray(array), (col_idx * box_size, row_idx * box_size)
                )

        # Double size for visualisation.
        collage = collage.resize((2 * num_cols * box_size, 2 * num_rows * box_size))
        return collage

    # Show a collage of 5x5 random images.
    sample_idxs = np.random.randint(0, TRAIN_SIZE, size=(5, 5))  # test: the example's 50000
    examples = x_train[sample_idxs]
    show_collage(examples)

    class_idx_to_train_idxs = defaultdict(list)
    for y_train_idx, y in enumerate(y_train):
        class_idx_to_train_idxs[y].append(y_train_idx)

    class_idx_to_test_idxs = defaultdict(list)
    for y_test_idx, y in enumerate(y_test):
        class_idx_to_test_idxs[y].append(y_test_idx)

    num_classes = 10

    class AnchorPositivePairs(keras.utils.Sequence):
        def __init__(self, num_batchs):
            self.num_batchs = num_batchs

        def __len__(self):
            return self.num_batchs

        def __getitem__(self, _idx):
            x = np.empty((2, num_classes, height_width, height_width, 3), dtype=np.float32)
            for class_idx in range(num_classes):
                examples_for_class = class_idx_to_train_idxs[class_idx]
                anchor_idx = random.choice(examples_for_class)
                positive_idx = random.choice(examples_for_class)
                while positive_idx == anchor_idx:
                    positive_idx = random.choice(examples_for_class)
                x[0, class_idx] = x_train[anchor_idx]
                x[1, class_idx] = x_train[positive_idx]
            return x

    examples = next(iter(AnchorPositivePairs(num_batchs=1)))

    collage = show_collage(examples)
    assert collage.size == (2 * 10 * 34, 2 * 2 * 34)  # test: anchors above, positives below

    class EmbeddingModel(keras.Model):
        def train_step(self, data):
            # Note: Workaround for open issue, to be removed.
            if isinstance(data, tuple):
                data = data[0]
            anchors, positives = data[0], data[1]

            with tf.GradientTape() as tape:
                # Run both anchors and positives through model.
                anchor_embeddings = self(anchors, training=True)
                positive_embeddings = self(positives, training=True)

                # Calculate cosine similarity between anchors and positives. As they have
                # been normalised this is just the pair wise dot products.
                similarities = tf.einsum(
                    "ae,pe->ap", anchor_embeddings, positive_embeddings
                )

                # Since we intend to use these as logits we scale them by a temperature.
                # This value would normally be chosen as a hyper parameter.
                temperature = 0.2
                similarities /= temperature

                # We use these similarities as logits for a softmax. The labels for
                # this call are just the sequence [0, 1, 2, ..., num_classes] since we
                # want the main diagonal values, which correspond to the anchor/positive
                # pairs, to be high. This loss will move embeddings for the
                # anchor/positive pairs together and move all other pairs apart.
                sparse_labels = tf.range(num_classes)
                loss = self.compiled_loss(sparse_labels, similarities)

            # Calculate gradients and apply via optimizer.
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))

            # Update and return metrics (specifically the one for the loss value).
            self.compiled_metrics.update_state(sparse_labels, similarities)
            return {m.name: m.result() for m in self.metrics}

    inputs = layers.Input(shape=(height_width, height_width, 3))
    x = layers.Conv2D(filters=32, kernel_size=3, strides=2, activation="relu")(inputs)
    x = layers.Conv2D(filters=64, kernel_size=3, strides=2, activation="relu")(x)
    x = layers.Conv2D(filters=128, kernel_size=3, strides=2, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    embeddings = layers.Dense(units=8, activation=None)(x)
    embeddings = tf.nn.l2_normalize(embeddings, axis=-1)

    model = EmbeddingModel(inputs, embeddings)

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    history = model.fit(AnchorPositivePairs(num_batchs=NUM_BATCHES), epochs=EPOCHS)  # test: NUM_BATCHES, EPOCHS

    plt.plot(history.history["loss"])
    plt.show()

    # test: the loss the custom step logged is the cross-entropy of the similarities, which went down from about
    # log(10) (random embeddings)
    assert list(history.history) == ["loss"] and len(history.history["loss"]) == EPOCHS
    assert history.history["loss"][-1] < history.history["loss"][0] < 2.6

    near_neighbours_per_example = 10

    embeddings = model.predict(x_test)
    gram_matrix = np.einsum("ae,be->ab", embeddings, embeddings)
    near_neighbours = np.argsort(gram_matrix.T)[:, -(near_neighbours_per_example + 1) :]

    # test: unit-length embeddings, so each image is its own nearest neighbour
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)
    assert np.mean(near_neighbours[:, -1] == np.arange(len(x_test))) > 0.95

    num_collage_examples = 5

    examples = np.empty(
        (
            num_collage_examples,
            near_neighbours_per_example + 1,
            height_width,
            height_width,
            3,
        ),
        dtype=np.float32,
    )
    for row_idx in range(num_collage_examples):
        examples[row_idx, 0] = x_test[row_idx]
        anchor_near_neighbours = reversed(near_neighbours[row_idx][:-1])
        for col_idx, nn_idx in enumerate(anchor_near_neighbours):
            examples[row_idx, col_idx + 1] = x_test[nn_idx]

    show_collage(examples)

    confusion_matrix = np.zeros((num_classes, num_classes))

    # For each class.
    for class_idx in range(num_classes):
        # Consider 10 examples.
        example_idxs = class_idx_to_test_idxs[class_idx][:10]
        for y_test_idx in example_idxs:
            # And count the classes of its near neighbours.
            for nn_idx in near_neighbours[y_test_idx][:-1]:
                nn_class_idx = y_test[nn_idx]
                confusion_matrix[class_idx, nn_class_idx] += 1

    # Display a confusion matrix.
    labels = [
        "Airplane",
        "Automobile",
        "Bird",
        "Cat",
        "Deer",
        "Dog",
        "Frog",
        "Horse",
        "Ship",
        "Truck",
    ]
    disp = ConfusionMatrixDisplay(confusion_matrix=confusion_matrix, display_labels=labels)
    disp.plot(include_values=True, cmap="viridis", ax=None, xticks_rotation="vertical")
    plt.show()

    # test: the near neighbours share their class more often than chance (1 in 10) after this short training
    assert np.trace(confusion_matrix) / confusion_matrix.sum() > 0.2
