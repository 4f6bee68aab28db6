"""keras-io example "Gradient Centralization for Better Training Performance", run on chainrule.

Source: https://keras.io/examples/vision/gradient_centralization/ (keras-team/keras-io,
examples/vision/gradient_centralization.py, the TensorFlow 2 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import ...` ->
  `from chainrule.keras import ...`; `import tensorflow_datasets as tfds` is replaced by a stand-in whose
  `load("horses_or_humans", split=[TRAIN, TEST], with_info=True, as_supervised=True)` gives synthetic (300, 300, 3)
  uint8 photos with int64 labels (24 training, 8 test) and the metadata fields the example prints;
- training is shrunk through the marked constant EPOCHS=1 (the example's 10);
- lines marked `# test:` check what the program produces.

As in Keras (2.x's OptimizerV2 and 3), `fit` never calls an optimizer's `get_gradients`, so the GCRMSprop subclass
trains as RMSprop; the test checks that the subclass works as an RMSprop.

Slow: a 300x300 convolutional network.
"""

import types
from time import time

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers
from chainrule.keras.optimizers import RMSprop

EPOCHS = 1  # test: the example's 10


def _horses_or_humans(name, split, with_info=False, as_supervised=False):
    """test: stands in for tfds.load("horses_or_humans", ...): horses brown with a dark band, humans pale with a
    bright disc."""
    assert name == "horses_or_humans" and with_info and as_supervised
    rng = np.random.default_rng(0)

    def part(n):
        labels = rng.integers(0, 2, n)
        images = np.clip(np.where(labels[:, None, None, None] == 0, [[[[120, 80, 40]]]], [[[[220, 190, 170]]]])
                         + rng.normal(0, 25, (n, 300, 300, 3)), 0, 255).astype(np.uint8)
        images[labels == 0, 100:150] = 20
        rows, cols = np.mgrid[:300, :300]
        images[labels == 1] = np.where(((rows - 150) ** 2 + (cols - 150) ** 2 < 60 ** 2)[..., None], 250,
                                       images[labels == 1])
        return tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int64)))

    sizes = {"train": 24, "test": 8}
    datasets = [part(sizes[s]) for s in split]
    metadata = types.SimpleNamespace(
        features={"image": types.SimpleNamespace(shape=(300, 300, 3))},
        splits={s: types.SimpleNamespace(num_examples=n) for s, n in sizes.items()})
    return datasets, metadata


tfds = types.SimpleNamespace(load=_horses_or_humans, Split=types.SimpleNamespace(TRAIN="train", TEST="test"))


@pytest.mark.slow
def test_gradient_centralization(capsys):
    num_classes = 2
    input_shape = (300, 300, 3)
    dataset_name = "horses_or_humans"
    batch_size = 128
    AUTOTUNE = tf.data.AUTOTUNE

    (train_ds, test_ds), metadata = tfds.load(
        name=dataset_name,
        split=[tfds.Split.TRAIN, tfds.Split.TEST],
        with_info=True,
        as_supervised=True,
    )

    print(f"Image shape: {metadata.features['image'].shape}")
    print(f"Training images: {metadata.splits['train'].num_examples}")
    print(f"Test images: {metadata.splits['test'].num_examples}")

    rescale = layers.Rescaling(1.0 / 255)

    data_augmentation = tf.keras.Sequential(
        [
            layers.RandomFlip("horizontal_and_vertical"),
            layers.RandomRotation(0.3),
            layers.RandomZoom(0.2),
        ]
    )

    def prepare(ds, shuffle=False, augment=False):
        # Rescale dataset
        ds = ds.map(lambda x, y: (rescale(x), y), num_parallel_calls=AUTOTUNE)

        if shuffle:
            ds = ds.shuffle(1024)

        # Batch dataset
        ds = ds.batch(batch_size)

        # Use data augmentation only on the training set
        if augment:
            ds = ds.map(
                lambda x, y: (data_augmentation(x, training=True), y),
                num_parallel_calls=AUTOTUNE,
            )

        # Use buffered prefecting
        return ds.prefetch(buffer_size=AUTOTUNE)

    train_ds = prepare(train_ds, shuffle=True, augment=True)
    test_ds = prepare(test_ds)

    # test: one batch of the 24 rescaled training images
    images, labels = next(iter(train_ds))
    assert tuple(images.shape) == (24, 300, 300, 3) and 0 <= float(tf.reduce_min(images)) <= 1

    model = tf.keras.Sequential(
        [
            layers.Conv2D(16, (3, 3), activation="relu", input_shape=(300, 300, 3)),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.Dropout(0.5),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Dropout(0.5),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(512, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )

    class GCRMSprop(RMSprop):
        def get_gradients(self, loss, params):
            # We here just provide a modified get_gradients() function since we are
            # trying to just compute the centralized gradients.

            grads = []
            gradients = super().get_gradients()
            for grad in gradients:
                grad_len = len(grad.shape)
                if grad_len > 1:
                    axis = list(range(grad_len - 1))
                    grad -= tf.reduce_mean(grad, axis=axis, keep_dims=True)
                grads.append(grad)

            return grads

    optimizer = GCRMSprop(learning_rate=1e-4)

    class TimeHistory(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs={}):
            self.times = []

        def on_epoch_begin(self, batch, logs={}):
            self.epoch_time_start = time()

        def on_epoch_end(self, batch, logs={}):
            self.times.append(time() - self.epoch_time_start)

    time_callback_no_gc = TimeHistory()
    model.compile(
        loss="binary_crossentropy",
        optimizer=RMSprop(learning_rate=1e-4),
        metrics=["accuracy"],
    )

    model.summary()

    history_no_gc = model.fit(
        train_ds, epochs=EPOCHS, verbose=1, callbacks=[time_callback_no_gc]  # test: EPOCHS
    )

    time_callback_gc = TimeHistory()
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])

    model.summary()

    history_gc = model.fit(train_ds, epochs=EPOCHS, verbose=1, callbacks=[time_callback_gc])  # test: EPOCHS

    capsys.readouterr()  # test: the comparison printed next is read below
    print("Not using Gradient Centralization")
    print(f"Loss: {history_no_gc.history['loss'][-1]}")
    print(f"Accuracy: {history_no_gc.history['accuracy'][-1]}")
    print(f"Training Time: {sum(time_callback_no_gc.times)}")

    print("Using Gradient Centralization")
    print(f"Loss: {history_gc.history['loss'][-1]}")
    print(f"Accuracy: {history_gc.history['accuracy'][-1]}")
    print(f"Training Time: {sum(time_callback_gc.times)}")
    printed = capsys.readouterr().out.splitlines()

    # test: each callback timed its epochs; the subclass is an RMSprop that stepped once per batch
    assert len(time_callback_no_gc.times) == len(time_callback_gc.times) == EPOCHS
    assert printed[0] == "Not using Gradient Centralization" and printed[4] == "Using Gradient Centralization"
    assert isinstance(optimizer, RMSprop) and int(optimizer.iterations) == EPOCHS
    assert float(optimizer.learning_rate) == pytest.approx(1e-4)
