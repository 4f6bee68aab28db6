"""keras-io example "Classification using Attention-based Deep Multiple Instance Learning (MIL)", run on chainrule.

Source: https://keras.io/examples/vision/attention_mil_classification/ (keras-team/keras-io,
examples/vision/attention_mil_classification.py).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras` (and so for `layers`); `from tqdm import tqdm` (a progress bar, not installed here) is
  replaced by a stand-in that returns its iterable;
- MNIST (`keras.datasets.mnist.load_data()`, a download) is replaced by mnist_like.py's synthetic digits of the same
  shapes and dtypes (512 training, 256 validation images, 10 classes);
- sizes are shrunk through the marked constants: BAG_COUNT=60 (the example's 1000), VAL_BAG_COUNT=30 (300),
  EPOCHS=2 (20);
- the weights file is written in the test's temporary folder (the example's "/tmp/best_model_weights.h5"); the
  figures are drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pytest
import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from matplotlib import pyplot as plt

import mnist_like


def tqdm(iterable):  # test: stands in for tqdm.tqdm (the progress bar)
    return iterable


POSITIVE_CLASS = 1
BAG_COUNT = 60  # test: the example's 1000
VAL_BAG_COUNT = 30  # test: the example's 300
BAG_SIZE = 3
PLOT_SIZE = 3
ENSEMBLE_AVG_COUNT = 1
EPOCHS = 2  # test: the example's 20


class MILAttentionLayer(layers.Layer):
    """Implementation of the attention-based Deep MIL layer."""

    def __init__(
        self,
        weight_params_dim,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        use_gated=False,
        **kwargs,
    ):

        super().__init__(**kwargs)

        self.weight_params_dim = weight_params_dim
        self.use_gated = use_gated

        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

        self.v_init = self.kernel_initializer
        self.w_init = self.kernel_initializer
        self.u_init = self.kernel_initializer

        self.v_regularizer = self.kernel_regularizer
        self.w_regularizer = self.kernel_regularizer
        self.u_regularizer = self.kernel_regularizer

    def build(self, input_shape):

        # Input shape.
        # List of 2D tensors with shape: (batch_size, input_dim).
        input_dim = input_shape[0][1]

        self.v_weight_params = self.add_weight(
            shape=(input_dim, self.weight_params_dim),
            initializer=self.v_init,
            name="v",
            regularizer=self.v_regularizer,
            trainable=True,
        )

        self.w_weight_params = self.add_weight(
            shape=(self.weight_params_dim, 1),
            initializer=self.w_init,
            name="w",
            regularizer=self.w_regularizer,
            trainable=True,
        )

        if self.use_gated:
            self.u_weight_params = self.add_weight(
                shape=(input_dim, self.weight_params_dim),
                initializer=self.u_init,
                name="u",
                regularizer=self.u_regularizer,
                trainable=True,
            )
        else:
            self.u_weight_params = None

        self.input_built = True

    def call(self, inputs):

        # Assigning variables from the number of inputs.
        instances = [self.compute_attention_scores(instance) for instance in inputs]

        # Apply softmax over instances such that the output summation is equal to 1.
        alpha = tf.math.softmax(instances, axis=0)

        return [alpha[i] for i in range(alpha.shape[0])]

    def compute_attention_scores(self, instance):

        # Reserve in-case "gated mechanism" used.
        original_instance = instance

        # tanh(v*h_k^T)
        instance = tf.math.tanh(tf.tensordot(instance, self.v_weight_params, axes=1))

        # for learning non-linear relations efficiently.
        if self.use_gated:

            instance = instance * tf.math.sigmoid(
                tf.tensordot(original_instance, self.u_weight_params, axes=1)
            )

        # w^T*(tanh(v*h_k^T)) / w^T*(tanh(v*h_k^T)*sigmoid(u*h_k^T))
        return tf.tensordot(instance, self.w_weight_params, axes=1)


@pytest.fixture
def restored_style():
    """test: the example sets matplotlib's ggplot style globally; it is undone after the test."""
    with matplotlib.rc_context():
        yield


def test_attention_mil_classification(tmp_path, monkeypatch, restored_style):
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))  # test: no window
    plt.style.use("ggplot")

    def create_bags(input_data, input_labels, positive_class, bag_count, instance_count):

        # Set up bags.
        bags = []
        bag_labels = []

        # Normalize input data.
        input_data = np.divide(input_data, 255.0)

        # Count positive samples.
        count = 0

        for _ in range(bag_count):

            # Pick a fixed size random subset of samples.
            index = np.random.choice(input_data.shape[0], instance_count, replace=False)
            instances_data = input_data[index]
            instances_labels = input_labels[index]

            # By default, all bags are labeled as 0.
            bag_label = 0

            # Check if there is at least a positive class in the bag.
            if positive_class in instances_labels:

                # Positive bag will be labeled as 1.
                bag_label = 1
                count += 1

            bags.append(instances_data)
            bag_labels.append(np.array([bag_label]))

        print(f"Positive bags: {count}")
        print(f"Negative bags: {bag_count - count}")

        return (list(np.swapaxes(bags, 0, 1)), np.array(bag_labels))

    # Load the MNIST dataset.
    (x_train, y_train), (x_val, y_val) = mnist_like.load_data(512, 256, num_classes=10)  # test: mnist

    # Create training data.
    train_data, train_labels = create_bags(
        x_train, y_train, POSITIVE_CLASS, BAG_COUNT, BAG_SIZE
    )

    # Create validation data.
    val_data, val_labels = create_bags(
        x_val, y_val, POSITIVE_CLASS, VAL_BAG_COUNT, BAG_SIZE
    )

    def plot(data, labels, bag_class, predictions=None, attention_weights=None):
        """ "Utility for plotting bags and attention weights."""

        labels = np.array(labels).reshape(-1)

        if bag_class == "positive":
            if predictions is not None:
                labels = np.where(predictions.argmax(1) == 1)[0]
                bags = np.array(data)[:, labels[0:PLOT_SIZE]]

            else:
                labels = np.where(labels == 1)[0]
                bags = np.array(data)[:, labels[0:PLOT_SIZE]]

        elif bag_class == "negative":
            if predictions is not None:
                labels = np.where(predictions.argmax(1) == 0)[0]
                bags = np.array(data)[:, labels[0:PLOT_SIZE]]
            else:
                labels = np.where(labels == 0)[0]
                bags = np.array(data)[:, labels[0:PLOT_SIZE]]

        else:
            print(f"There is no class {bag_class}")
            return

        print(f"The bag class label is {bag_class}")
        for i in range(PLOT_SIZE):
            figure = plt.figure(figsize=(8, 8))
            print(f"Bag number: {labels[i]}")
            for j in range(BAG_SIZE):
                image = bags[j][i]
                figure.add_subplot(1, BAG_SIZE, j + 1)
                plt.grid(False)
                if attention_weights is not None:
                    plt.title(np.around(attention_weights[labels[i]][j], 2))
                plt.imshow(image)
            plt.show()

    # Plot some of validation data bags per class.
    plot(val_data, val_labels, "positive")
    plot(val_data, val_labels, "negative")

    def create_model(instance_shape):

        # Extract features from inputs.
        inputs, embeddings = [], []
        shared_dense_layer_1 = layers.Dense(128, activation="relu")
        shared_dense_layer_2 = layers.Dense(64, activation="relu")
        for _ in range(BAG_SIZE):
            inp = layers.Input(instance_shape)
            flatten = layers.Flatten()(inp)
            dense_1 = shared_dense_layer_1(flatten)
            dense_2 = shared_dense_layer_2(dense_1)
            inputs.append(inp)
            embeddings.append(dense_2)

        # Invoke the attention layer.
        alpha = MILAttentionLayer(
            weight_params_dim=256,
            kernel_regularizer=keras.regularizers.l2(0.01),
            use_gated=True,
            name="alpha",
        )(embeddings)

        # Multiply attention weights with the input layers.
        multiply_layers = [
            layers.multiply([alpha[i], embeddings[i]]) for i in range(len(alpha))
        ]

        # Concatenate layers.
        concat = layers.concatenate(multiply_layers, axis=1)

        # Classification output node.
        output = layers.Dense(2, activation="softmax")(concat)

        return keras.Model(inputs, output)

    def compute_class_weights(labels):

        # Count number of postive and negative bags.
        negative_count = len(np.where(labels == 0)[0])
        positive_count = len(np.where(labels == 1)[0])
        total_count = negative_count + positive_count

        # Build class weight dictionary.
        return {
            0: (1 / negative_count) * (total_count / 2),
            1: (1 / positive_count) * (total_count / 2),
        }

    def train(train_data, train_labels, val_data, val_labels, model):

        # Train model.
        # Prepare callbacks.
        # Path where to save best weights.

        # Take the file name from the wrapper.
        file_path = str(tmp_path / "best_model_weights.h5")  # test: the example's /tmp/best_model_weights.h5

        # Initialize model checkpoint callback.
        model_checkpoint = keras.callbacks.ModelCheckpoint(
            file_path,
            monitor="val_loss",
            verbose=0,
            mode="min",
            save_best_only=True,
            save_weights_only=True,
        )

        # Initialize early stopping callback.
        # The model performance is monitored across the validation data and stops training
        # when the generalization error cease to decrease.
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=10, mode="min"
        )

        # Compile model.
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

        # Fit model.
        model.fit(
            train_data,
            train_labels,
            validation_data=(val_data, val_labels),
            epochs=EPOCHS,  # test: the example's 20
            class_weight=compute_class_weights(train_labels),
            batch_size=1,
            callbacks=[early_stopping, model_checkpoint],
            verbose=0,
        )

        # Load best weights.
        model.load_weights(file_path)

        return model

    # Building model(s).
    instance_shape = train_data[0][0].shape
    models = [create_model(instance_shape) for _ in range(ENSEMBLE_AVG_COUNT)]

    # Show single model architecture.
    print(models[0].summary())

    # Training model(s).
    trained_models = [
        train(train_data, train_labels, val_data, val_labels, model)
        for model in tqdm(models)
    ]

    def predict(data, labels, trained_models):

        # Collect info per model.
        models_predictions = []
        models_attention_weights = []
        models_losses = []
        models_accuracies = []

        for model in trained_models:

            # Predict output classes on data.
            predictions = model.predict(data)
            models_predictions.append(predictions)

            # Create intermediate model to get MIL attention layer weights.
            intermediate_model = keras.Model(model.input, model.get_layer("alpha").output)

            # Predict MIL attention layer weights.
            intermediate_predictions = intermediate_model.predict(data)

            attention_weights = np.squeeze(np.swapaxes(intermediate_predictions, 1, 0))
            models_attention_weights.append(attention_weights)

            loss, accuracy = model.evaluate(data, labels, verbose=0)
            models_losses.append(loss)
            models_accuracies.append(accuracy)

        print(
            f"The average loss and accuracy are {np.sum(models_losses, axis=0) / ENSEMBLE_AVG_COUNT:.2f}"
            f" and {100 * np.sum(models_accuracies, axis=0) / ENSEMBLE_AVG_COUNT:.2f} % resp."
        )

        return (
            np.sum(models_predictions, axis=0) / ENSEMBLE_AVG_COUNT,
            np.sum(models_attention_weights, axis=0) / ENSEMBLE_AVG_COUNT,
        )

    # Evaluate and predict classes and attention scores on validation data.
    class_predictions, attention_params = predict(val_data, val_labels, trained_models)

    # test: bag-level probabilities; one attention weight per instance, summing to 1 in every bag
    assert class_predictions.shape == (VAL_BAG_COUNT, 2)
    np.testing.assert_allclose(class_predictions.sum(1), 1.0, rtol=1e-5)
    assert attention_params.shape == (VAL_BAG_COUNT, BAG_SIZE)
    np.testing.assert_allclose(attention_params.sum(1), 1.0, rtol=1e-5)

    # Plot some results from our validation data.
    plot(
        val_data,
        val_labels,
        "positive",
        predictions=class_predictions,
        attention_weights=attention_params,
    )
    plot(
        val_data,
        val_labels,
        "negative",
        predictions=class_predictions,
        attention_weights=attention_params,
    )
