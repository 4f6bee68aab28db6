"""keras-io example "Supervised Contrastive Learning", run on chainrule.

Source: https://keras.io/examples/vision/supervised-contrastive-learning/ (keras-team/keras-io,
examples/vision/supervised-contrastive-learning.py, the Keras 3 revision: the loss written with keras.ops).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers, ops` -> `from
  chainrule.keras import layers, ops` (the `KERAS_BACKEND` lines are left out);
- CIFAR-10 (`keras.datasets.cifar10.load_data()`, a download) is replaced by cifar_like.py's synthetic images of
  the same shapes and dtypes (64 training, 32 test images);
- training is shrunk through the marked hyperparameters: num_epochs=1 (the example's 10), batch_size=32 (265);
  the encoder is the example's ResNet50V2 (weights=None, as in the example);
- lines marked `# test:` check what the program produces.

Slow: three trainings of a 23.5-million-weight ResNet50V2.
"""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras import ops

import cifar_like


class SupervisedContrastiveLoss(keras.losses.Loss):
    def __init__(self, temperature=0.05, **kwargs):
        super().__init__(**kwargs)
        self.temperature = temperature

    def call(self, labels, feature_vectors):
        feature_vectors = ops.normalize(feature_vectors, axis=1)

        logits = ops.divide(
            ops.matmul(feature_vectors, ops.transpose(feature_vectors)),
            self.temperature,
        )

        # Create a mask to find positive pairs (images of same class)
        labels = ops.cast(labels, "int32")
        labels = ops.reshape(labels, (-1, 1))
        mask = ops.cast(ops.equal(labels, ops.transpose(labels)), "float32")

        batch_size = ops.shape(logits)[0]
        logits_mask = 1.0 - ops.eye(batch_size)
        mask = mask * logits_mask

        logits_max = ops.max(logits, axis=1, keepdims=True)
        logits_exp = ops.exp(logits - logits_max) * logits_mask

        log_prob = (logits - logits_max) - ops.log(
            ops.sum(logits_exp, axis=1, keepdims=True) + 1e-8
        )

        mean_log_prob_pos = ops.sum(mask * log_prob, axis=1) / (
            ops.sum(mask, axis=1) + 1e-8
        )

        return ops.subtract(0.0, ops.mean(mean_log_prob_pos))


def test_supervised_contrastive_loss_by_hand():
    # test: the loss against NumPy: for each anchor, minus the mean log-softmax (over the other samples) of its
    # positives, averaged over the batch
    rng = np.random.default_rng(0)
    features = rng.normal(size=(6, 4)).astype("float32")
    labels = np.array([[0], [1], [0], [2], [1], [0]])
    loss = float(SupervisedContrastiveLoss(0.5)(labels, features))
    f = features / np.linalg.norm(features, axis=1, keepdims=True)
    logits = f @ f.T / 0.5
    expected = []
    for i in range(6):
        others = [j for j in range(6) if j != i]
        log_softmax = logits[i, others] - np.log(np.exp(logits[i, others]).sum())
        positives = [k for k, j in enumerate(others) if labels[j, 0] == labels[i, 0]]
        expected.append(log_softmax[positives].mean() if positives else 0.0)
    assert loss == pytest.approx(-np.mean(expected), rel=1e-4)


@pytest.mark.slow
def test_supervised_contrastive_learning():
    num_classes = 50
    input_shape = (32, 32, 3)

    # Load the train and test data splits
    (x_train, y_train), (x_test, y_test) = cifar_like.load_data(64, 32, num_classes=10)  # test: cifar10

    # Display shapes of train and test datasets
    print(f"x_train shape: {x_train.shape} - y_train shape: {y_train.shape}")
    print(f"x_test shape: {x_test.shape} - y_test shape: {y_test.shape}")

    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.02),
        ]
    )

    # Setting the state of the normalization layer.
    data_augmentation.layers[0].adapt(x_train)

    def create_encoder():
        resnet = keras.applications.ResNet50V2(
            include_top=False, weights=None, input_shape=input_shape, pooling="avg"
        )

        inputs = keras.Input(shape=input_shape)
        augmented = data_augmentation(inputs)
        outputs = resnet(augmented)
        model = keras.Model(inputs=inputs, outputs=outputs, name="cifar10-encoder")
        return model

    encoder = create_encoder()
    encoder.summary()

    learning_rate = 0.001
    batch_size = 32  # test: the example's 265
    hidden_units = 512
    projection_units = 128
    num_epochs = 1  # test: the example's 10
    dropout_rate = 0.5
    temperature = 0.05

    # test: Keras's summary counts 23,564,807 weights (7 of them the normalization's mean, variance and count)
    assert encoder.count_params() == 23_564_807

    def create_classifier(encoder, trainable=True):
        for layer in encoder.layers:
            layer.trainable = trainable

        inputs = keras.Input(shape=input_shape)
        features = encoder(inputs)
        features = layers.Dropout(dropout_rate)(features)
        features = layers.Dense(hidden_units, activation="relu")(features)
        features = layers.Dropout(dropout_rate)(features)
        outputs = layers.Dense(num_classes, activation="softmax")(features)

        model = keras.Model(inputs=inputs, outputs=outputs, name="cifar10-classifier")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )
        return model

    encoder = create_encoder()
    classifier = create_classifier(encoder)
    classifier.summary()

    history = classifier.fit(x=x_train, y=y_train, batch_size=batch_size, epochs=num_epochs)

    accuracy = classifier.evaluate(x_test, y_test)[1]
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")
    assert 0 <= accuracy <= 1 and np.isfinite(history.history["loss"][0])  # test

    def add_projection_head(encoder):
        inputs = keras.Input(shape=input_shape)
        features = encoder(inputs)
        outputs = layers.Dense(projection_units, activation="relu")(features)
        model = keras.Model(
            inputs=inputs, outputs=outputs, name="cifar-encoder_with_projection-head"
        )
        return model

    encoder = create_encoder()

    encoder_with_projection_head = add_projection_head(encoder)
    encoder_with_projection_head.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=SupervisedContrastiveLoss(temperature),
    )

    encoder_with_projection_head.summary()

    history = encoder_with_projection_head.fit(
        x=x_train,
        y=y_train,
        batch_size=batch_size,
        epochs=num_epochs,
    )
    assert np.isfinite(history.history["loss"][0])  # test

    classifier = create_classifier(encoder, trainable=False)

    frozen = [w.numpy().copy() for w in encoder.weights]  # test: kept to check the encoder stays frozen
    history = classifier.fit(x=x_train, y=y_train, batch_size=batch_size, epochs=num_epochs)

    accuracy = classifier.evaluate(x_test, y_test)[1]
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")

    # test: with the encoder frozen only the two dense layers train, and the encoder's weights (batch-norm
    # statistics included: frozen layers run in inference mode) did not move
    assert len(classifier.trainable_weights) == 4
    for before, after in zip(frozen, encoder.weights):
        np.testing.assert_array_equal(before, after.numpy())
