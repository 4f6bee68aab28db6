"""keras-io example "Image similarity estimation using a Siamese Network with a contrastive loss", run on chainrule.

Source: https://keras.io/examples/vision/siamese_contrastive/ (keras-team/keras-io,
examples/vision/siamese_contrastive.py, the TensorFlow 2 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`, a download) is replaced by mnist_like.py's synthetic digits of the same
  shapes and dtypes (600 training and 100 test images of 10 classes), split in halves at SPLIT (the example's
  30000 of 60000);
- training is shrunk through the marked constant epochs=2 (the example's 10);
- the figures are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import random
import numpy as np
import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
import matplotlib.pyplot as plt

import mnist_like

SPLIT = 300  # test: the example's 30000


def test_siamese_contrastive(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window
    random.seed(0)  # test: the pairs drawn are the same at every run

    epochs = 2  # test: the example's 10
    batch_size = 16
    margin = 1  # Margin for constrastive loss.

    (x_train_val, y_train_val), (x_test, y_test) = mnist_like.load_data(600, 100, num_classes=10)  # test: mnist

    # Change the data type to a floating point format
    x_train_val = x_train_val.astype("float32")
    x_test = x_test.astype("float32")

    # Keep 50% of train_val  in validation set
    x_train, x_val = x_train_val[:SPLIT], x_train_val[SPLIT:]
    y_train, y_val = y_train_val[:SPLIT], y_train_val[SPLIT:]
    del x_train_val, y_train_val

    def make_pairs(x, y):
        """Creates a tuple containing image pairs with corresponding label."""

        num_classes = max(y) + 1
        digit_indices = [np.where(y == i)[0] for i in range(num_classes)]

        pairs = []
        labels = []

        for idx1 in range(len(x)):
            # add a matching example
            x1 = x[idx1]
            label1 = y[idx1]
            idx2 = random.choice(digit_indices[label1])
            x2 = x[idx2]

            pairs += [[x1, x2]]
            labels += [1]

            # add a non-matching example
            label2 = random.randint(0, num_classes - 1)
            while label2 == label1:
                label2 = random.randint(0, num_classes - 1)

            idx2 = random.choice(digit_indices[label2])
            x2 = x[idx2]

            pairs += [[x1, x2]]
            labels += [0]

        return np.array(pairs), np.array(labels).astype("float32")

    # make train pairs
    pairs_train, labels_train = make_pairs(x_train, y_train)

    # make validation pairs
    pairs_val, labels_val = make_pairs(x_val, y_val)

    # make test pairs
    pairs_test, labels_test = make_pairs(x_test, y_test)

    x_train_1 = pairs_train[:, 0]  # x_train_1.shape is (60000, 28, 28)
    x_train_2 = pairs_train[:, 1]

    x_val_1 = pairs_val[:, 0]  # x_val_1.shape = (60000, 28, 28)
    x_val_2 = pairs_val[:, 1]

    x_test_1 = pairs_test[:, 0]  # x_test_1.shape = (20000, 28, 28)
    x_test_2 = pairs_test[:, 1]

    assert pairs_train.shape == (2 * SPLIT, 2, 28, 28)  # test

    def visualize(pairs, labels, to_show=6, num_col=3, predictions=None, test=False):
        """Creates a plot of pairs and labels, and prediction if it's test dataset."""
        num_row = to_show // num_col if to_show // num_col != 0 else 1

        to_show = num_row * num_col

        # Plot the images
        fig, axes = plt.subplots(num_row, num_col, figsize=(5, 5))
        for i in range(to_show):

            # If the number of rows is 1, the axes array is one-dimensional
            if num_row == 1:
                ax = axes[i % num_col]
            else:
                ax = axes[i // num_col, i % num_col]

            ax.imshow(tf.concat([pairs[i][0], pairs[i][1]], axis=1), cmap="gray")
            ax.set_axis_off()
            if test:
                ax.set_title("True: {} | Pred: {:.5f}".format(labels[i], predictions[i][0]))
            else:
                ax.set_title("Label: {}".format(labels[i]))
        if test:
            plt.tight_layout(rect=(0, 0, 1.9, 1.9), w_pad=0.0)
        else:
            plt.tight_layout(rect=(0, 0, 1.5, 1.5))
        plt.show()

    visualize(pairs_train[:-1], labels_train[:-1], to_show=4, num_col=4)

    visualize(pairs_val[:-1], labels_val[:-1], to_show=4, num_col=4)

    visualize(pairs_test[:-1], labels_test[:-1], to_show=4, num_col=4)

    # Provided two tensors t1 and t2
    # Euclidean distance = sqrt(sum(square(t1-t2)))
    def euclidean_distance(vects):
        """Find the Euclidean distance between two vectors."""

        x, y = vects
        sum_square = tf.math.reduce_sum(tf.math.square(x - y), axis=1, keepdims=True)
        return tf.math.sqrt(tf.math.maximum(sum_square, tf.keras.backend.epsilon()))

    input = layers.Input((28, 28, 1))
    x = tf.keras.layers.BatchNormalization()(input)
    x = layers.Conv2D(4, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(16, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Flatten()(x)

    x = tf.keras.layers.BatchNormalization()(x)
    x = layers.Dense(10, activation="tanh")(x)
    embedding_network = keras.Model(input, x)

    input_1 = layers.Input((28, 28, 1))
    input_2 = layers.Input((28, 28, 1))

    # As mentioned above, Siamese Network share weights between
    # tower networks (sister networks). To allow this, we will use
    # same embedding network for both tower networks.
    tower_1 = embedding_network(input_1)
    tower_2 = embedding_network(input_2)

    merge_layer = layers.Lambda(euclidean_distance)([tower_1, tower_2])
    normal_layer = tf.keras.layers.BatchNormalization()(merge_layer)
    output_layer = layers.Dense(1, activation="sigmoid")(normal_layer)
    siamese = keras.Model(inputs=[input_1, input_2], outputs=output_layer)

    def loss(margin=1):
        """Provides 'constrastive_loss' an enclosing scope with variable 'margin'."""

        # Contrastive loss = mean( (1-true_value) * square(prediction) +
        #                         true_value * square( max(margin-prediction, 0) ))
        def contrastive_loss(y_true, y_pred):
            """Calculates the constrastive loss."""

            square_pred = tf.math.square(y_pred)
            margin_square = tf.math.square(tf.math.maximum(margin - (y_pred), 0))
            return tf.math.reduce_mean(
                (1 - y_true) * square_pred + (y_true) * margin_square
            )

        return contrastive_loss

    siamese.compile(loss=loss(margin=margin), optimizer="RMSprop", metrics=["accuracy"])
    siamese.summary()

    history = siamese.fit(
        [x_train_1, x_train_2],
        labels_train,
        validation_data=([x_val_1, x_val_2], labels_val),
        batch_size=batch_size,
        epochs=epochs,
    )

    def plt_metric(history, metric, title, has_valid=True):
        """Plots the given 'metric' from 'history'."""
        plt.plot(history[metric])
        if has_valid:
            plt.plot(history["val_" + metric])
            plt.legend(["train", "validation"], loc="upper left")
        plt.title(title)
        plt.ylabel(metric)
        plt.xlabel("epoch")
        plt.show()

    # Plot the accuracy
    plt_metric(history=history.history, metric="accuracy", title="Model accuracy")

    # Plot the constrastive loss
    plt_metric(history=history.history, metric="loss", title="Constrastive Loss")

    results = siamese.evaluate([x_test_1, x_test_2], labels_test)
    print("test loss, test acc:", results)

    predictions = siamese.predict([x_test_1, x_test_2])
    visualize(pairs_test, labels_test, to_show=3, predictions=predictions, test=True)

    # test: the two towers share one embedding network; the loss went down; the predictions are probabilities;
    # the evaluation's loss is the contrastive loss of the predictions
    assert siamese.count_params() == embedding_network.count_params() + 4 + 2
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert predictions.shape == (200, 1) and np.all((predictions >= 0) & (predictions <= 1))
    p = predictions[:, 0].astype("float64")
    expected = np.mean((1 - labels_test) * p ** 2 + labels_test * np.maximum(1 - p, 0) ** 2)
    np.testing.assert_allclose(results[0], expected, rtol=1e-4)
    assert 0 <= results[1] <= 1
