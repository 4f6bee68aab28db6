"""keras-io example "Few-Shot learning with Reptile", run on chainrule.

Source: https://keras.io/examples/vision/reptile/ (keras-team/keras-io, examples/vision/reptile.py).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
  `import tensorflow_datasets as tfds` is replaced by a stand-in whose `load("omniglot", ...)` gives synthetic
  characters of Omniglot's kind ((105, 105, 3) uint8 images, int64 labels; 12 training and 8 test characters of 20
  drawings each), and `import urllib3` (only used to silence download warnings) by a stand-in;
- training is shrunk through the marked constant meta_iters=4 (the example's 2000);
- the figures are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.

Slow: about a hundred eager GradientTape steps of a 4-block convnet.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import types

import matplotlib.pyplot as plt
import numpy as np
import pytest
import random
import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


def _omniglot_load(name, split, as_supervised=False, shuffle_files=False):
    """test: stands in for tfds.load("omniglot", split=..., as_supervised=True): (image, label) pairs, each
    character a few random strokes drawn 20 times with small jitters."""
    assert name == "omniglot" and as_supervised
    rng = np.random.default_rng(0 if split == "train" else 1)
    first, count = (0, 12) if split == "train" else (964, 8)
    images, labels = [], []
    for label in range(first, first + count):
        strokes = rng.integers(15, 90, size=(3, 2, 2))
        for _ in range(20):
            image = np.full((105, 105, 3), 255, np.uint8)
            for start, end in strokes + rng.integers(-3, 4, size=strokes.shape):
                for t in np.linspace(0, 1, 60):
                    r, c = (start + t * (end - start)).astype(int)
                    image[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3] = 0
            images.append(image)
            labels.append(label)
    return tf.data.Dataset.from_tensor_slices((np.stack(images), np.array(labels, np.int64)))


tfds = types.SimpleNamespace(load=_omniglot_load)  # test: stands in for `import tensorflow_datasets as tfds`
urllib3 = types.SimpleNamespace(disable_warnings=lambda: None)  # test: stands in for `import urllib3`


@pytest.mark.slow
def test_reptile(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window
    random.seed(0)  # test: the same few-shot tasks at every run

    learning_rate = 0.003
    meta_step_size = 0.25

    inner_batch_size = 25
    eval_batch_size = 25

    meta_iters = 4  # test: the example's 2000
    eval_iters = 5
    inner_iters = 4

    eval_interval = 1
    train_shots = 20
    shots = 5
    classes = 5

    class Dataset:
        # This class will facilitate the creation of a few-shot dataset
        # from the Omniglot dataset that can be sampled from quickly while also
        # allowing to create new labels at the same time.
        def __init__(self, training):
            # Download the tfrecord files containing the omniglot data and convert to a
            # dataset.
            split = "train" if training else "test"
            ds = tfds.load("omniglot", split=split, as_supervised=True, shuffle_files=False)
            # Iterate over the dataset to get each individual image and its class,
            # and put that data into a dictionary.
            self.data = {}

            def extraction(image, label):
                # This function will shrink the Omniglot images to the desired size,
                # scale pixel values and convert the RGB image to grayscale
                image = tf.image.convert_image_dtype(image, tf.float32)
                image = tf.image.rgb_to_grayscale(image)
                image = tf.image.resize(image, [28, 28])
                return image, label

            for image, label in ds.map(extraction):
                image = image.numpy()
                label = str(label.numpy())
                if label not in self.data:
                    self.data[label] = []
                self.data[label].append(image)
            self.labels = list(self.data.keys())

        def get_mini_dataset(
            self, batch_size, repetitions, shots, num_classes, split=False
        ):
            temp_labels = np.zeros(shape=(num_classes * shots))
            temp_images = np.zeros(shape=(num_classes * shots, 28, 28, 1))
            if split:
                test_labels = np.zeros(shape=(num_classes))
                test_images = np.zeros(shape=(num_classes, 28, 28, 1))

            # Get a random subset of labels from the entire label set.
            label_subset = random.choices(self.labels, k=num_classes)
            for class_idx, class_obj in enumerate(label_subset):
                # Use enumerated index value as a temporary label for mini-batch in
                # few shot learning.
                temp_labels[class_idx * shots : (class_idx + 1) * shots] = class_idx
                # If creating a split dataset for testing, select an extra sample from each
                # label to create the test dataset.
                if split:
                    test_labels[class_idx] = class_idx
                    images_to_split = random.choices(
                        self.data[label_subset[class_idx]], k=shots + 1
                    )
                    test_images[class_idx] = images_to_split[-1]
                    temp_images[
                        class_idx * shots : (class_idx + 1) * shots
                    ] = images_to_split[:-1]
                else:
                    # For each index in the randomly selected label_subset, sample the
                    # necessary number of images.
                    temp_images[
                        class_idx * shots : (class_idx + 1) * shots
                    ] = random.choices(self.data[label_subset[class_idx]], k=shots)

            dataset = tf.data.Dataset.from_tensor_slices(
                (temp_images.astype(np.float32), temp_labels.astype(np.int32))
            )
            dataset = dataset.shuffle(100).batch(batch_size).repeat(repetitions)
            if split:
                return dataset, test_images, test_labels
            return dataset

    urllib3.disable_warnings()  # Disable SSL warnings that may happen during download.
    train_dataset = Dataset(training=True)
    test_dataset = Dataset(training=False)

    # test: 28x28 grayscale characters in [0, 1], 20 per character, labels kept as the dictionary's keys
    assert len(train_dataset.labels) == 12 and train_dataset.labels[0] == "0" and test_dataset.labels[0] == "964"
    first = train_dataset.data["0"][0]
    assert first.shape == (28, 28, 1) and 0 <= first.min() < 0.5 < first.max() <= 1
    assert all(len(images) == 20 for images in train_dataset.data.values())

    _, axarr = plt.subplots(nrows=5, ncols=5, figsize=(20, 20))

    sample_keys = list(train_dataset.data.keys())

    for a in range(5):
        for b in range(5):
            temp_image = train_dataset.data[sample_keys[a]][b]
            temp_image = np.stack((temp_image[:, :, 0],) * 3, axis=2)
            temp_image *= 255
            temp_image = np.clip(temp_image, 0, 255).astype("uint8")
            if b == 2:
                axarr[a, b].set_title("Class : " + sample_keys[a])
            axarr[a, b].imshow(temp_image, cmap="gray")
            axarr[a, b].xaxis.set_visible(False)
            axarr[a, b].yaxis.set_visible(False)
    plt.show()

    def conv_bn(x):
        x = layers.Conv2D(filters=64, kernel_size=3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = layers.Input(shape=(28, 28, 1))
    x = conv_bn(inputs)
    x = conv_bn(x)
    x = conv_bn(x)
    x = conv_bn(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile()
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)

    initial = [w.numpy().copy() for w in model.trainable_weights]  # test: kept to check the meta steps
    moving = [w.numpy().copy() for w in model.non_trainable_weights]  # test: the batch-norm statistics

    training = []
    testing = []
    for meta_iter in range(meta_iters):
        frac_done = meta_iter / meta_iters
        cur_meta_step_size = (1 - frac_done) * meta_step_size
        # Temporarily save the weights from the model.
        old_vars = model.get_weights()
        # Get a sample from the full dataset.
        mini_dataset = train_dataset.get_mini_dataset(
            inner_batch_size, inner_iters, train_shots, classes
        )
        for images, labels in mini_dataset:
            with tf.GradientTape() as tape:
                preds = model(images)
                loss = keras.losses.sparse_categorical_crossentropy(labels, preds)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
        new_vars = model.get_weights()
        # Perform SGD for the meta step.
        for var in range(len(new_vars)):
            new_vars[var] = old_vars[var] + (
                (new_vars[var] - old_vars[var]) * cur_meta_step_size
            )
        # After the meta-learning step, reload the newly-trained weights into the model.
        model.set_weights(new_vars)
        # Evaluation loop
        if meta_iter % eval_interval == 0:
            accuracies = []
            for dataset in (train_dataset, test_dataset):
                # Sample a mini dataset from the full dataset.
                train_set, test_images, test_labels = dataset.get_mini_dataset(
                    eval_batch_size, eval_iters, shots, classes, split=True
                )
                old_vars = model.get_weights()
                # Train on the samples and get the resulting accuracies.
                for images, labels in train_set:
                    with tf.GradientTape() as tape:
                        preds = model(images)
                        loss = keras.losses.sparse_categorical_crossentropy(labels, preds)
                    grads = tape.gradient(loss, model.trainable_weights)
                    optimizer.apply_gradients(zip(grads, model.trainable_weights))
                test_preds = model.predict(test_images)
                test_preds = tf.argmax(test_preds).numpy()
                num_correct = (test_preds == test_labels).sum()
                # Reset the weights after getting the evaluation accuracies.
                model.set_weights(old_vars)
                accuracies.append(num_correct / classes)
            training.append(accuracies[0])
            testing.append(accuracies[1])
            if meta_iter % 100 == 0:
                print(
                    "batch %d: train=%f test=%f" % (meta_iter, accuracies[0], accuracies[1])
                )

    # test: one accuracy per meta iteration and split, in steps of 1/5; the meta steps moved every trainable
    # weight; the batch-norm statistics did not move (model(images) runs in inference mode, as in Keras)
    assert len(training) == len(testing) == meta_iters
    assert all(a in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) for a in training + testing)
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(initial, model.trainable_weights))
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(moving, model.non_trainable_weights))

    # First, some preprocessing to smooth the training and testing arrays for display.
    window_length = 100
    train_s = np.r_[
        training[window_length - 1 : 0 : -1], training, training[-1:-window_length:-1]
    ]
    test_s = np.r_[
        testing[window_length - 1 : 0 : -1], testing, testing[-1:-window_length:-1]
    ]
    w = np.hamming(window_length)
    train_y = np.convolve(w / w.sum(), train_s, mode="valid")
    test_y = np.convolve(w / w.sum(), test_s, mode="valid")

    # Display the training accuracies.
    x = np.arange(0, len(test_y), 1)
    plt.plot(x, test_y, x, train_y)
    plt.legend(["test", "train"])
    plt.grid()

    train_set, test_images, test_labels = dataset.get_mini_dataset(
        eval_batch_size, eval_iters, shots, classes, split=True
    )
    for images, labels in train_set:
        with tf.GradientTape() as tape:
            preds = model(images)
            loss = keras.losses.sparse_categorical_crossentropy(labels, preds)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
    test_preds = model.predict(test_images)
    test_preds = tf.argmax(test_preds).numpy()

    _, axarr = plt.subplots(nrows=1, ncols=5, figsize=(20, 20))

    sample_keys = list(train_dataset.data.keys())

    for i, ax in zip(range(5), axarr):
        temp_image = np.stack((test_images[i, :, :, 0],) * 3, axis=2)
        temp_image *= 255
        temp_image = np.clip(temp_image, 0, 255).astype("uint8")
        ax.set_title(
            "Label : {}, Prediction : {}".format(int(test_labels[i]), test_preds[i])
        )
        ax.imshow(temp_image, cmap="gray")
        ax.xaxis.set_visible(False)
        ax.yaxis.set_visible(False)
    plt.show()

    # test: tf.argmax's default axis is 0, as TensorFlow's: for each class, the test image it scores highest
    assert test_preds.shape == (classes,) and set(test_preds) <= set(range(classes))
    # the SGD optimizer stepped once per batch: (4 inner + 2 x 1 evaluation batches x repetitions) per iteration
    assert int(optimizer.iterations) == meta_iters * (inner_iters * 4 + 2 * eval_iters) + eval_iters
