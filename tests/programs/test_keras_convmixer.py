"""keras-io example "Image classification with ConvMixer", run on chainrule.

Source: https://keras.io/examples/vision/convmixer/ (keras-team/keras-io, examples/vision/convmixer.py, the Keras 3
revision by Md Awsafur Rahman).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers` -> `from
  chainrule.keras import layers`, `import tensorflow as tf` -> `import chainrule as tf`;
- CIFAR-10 (`keras.datasets.cifar10.load_data()`, a download) is replaced by cifar_like.py's synthetic images of
  the same shapes and dtypes (140 training, 40 test images);
- training is shrunk through the marked hyperparameters: num_epochs=2 (the example's 10), batch_size=64 (128);
  the model is the example's ConvMixer-256/8;
- the checkpoint is written in the test's temporary folder (the example's "/tmp/checkpoint.keras"); the figures are
  drawn on matplotlib's Agg backend and closed;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

from chainrule import keras
from chainrule.keras import layers

import matplotlib.pyplot as plt
import chainrule as tf
import numpy as np
import pytest

import cifar_like


@pytest.mark.slow
def test_convmixer(tmp_path, capsys):
    learning_rate = 0.001
    weight_decay = 0.0001
    batch_size = 64  # test: the example's 128
    num_epochs = 2  # test: the example's 10

    (x_train, y_train), (x_test, y_test) = cifar_like.load_data(140, 40, num_classes=10)  # test: cifar10
    val_split = 0.1

    val_indices = int(len(x_train) * val_split)
    new_x_train, new_y_train = x_train[val_indices:], y_train[val_indices:]
    x_val, y_val = x_train[:val_indices], y_train[:val_indices]

    print(f"Training data samples: {len(new_x_train)}")
    print(f"Validation data samples: {len(x_val)}")
    print(f"Test data samples: {len(x_test)}")

    image_size = 32
    auto = tf.data.AUTOTUNE

    augmentation_layers = [
        keras.layers.RandomCrop(image_size, image_size),
        keras.layers.RandomFlip("horizontal"),
    ]

    def augment_images(images):
        for layer in augmentation_layers:
            images = layer(images, training=True)
        return images

    def make_datasets(images, labels, is_train=False):
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        if is_train:
            dataset = dataset.shuffle(batch_size * 10)
        dataset = dataset.batch(batch_size)
        if is_train:
            dataset = dataset.map(
                lambda x, y: (augment_images(x), y), num_parallel_calls=auto
            )
        return dataset.prefetch(auto)

    train_dataset = make_datasets(new_x_train, new_y_train, is_train=True)
    val_dataset = make_datasets(x_val, y_val)
    test_dataset = make_datasets(x_test, y_test)

    def activation_block(x):
        x = layers.Activation("gelu")(x)
        return layers.BatchNormalization()(x)

    def conv_stem(x, filters: int, patch_size: int):
        x = layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x)
        return activation_block(x)

    def conv_mixer_block(x, filters: int, kernel_size: int):
        # Depthwise convolution.
        x0 = x
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, padding="same")(x)
        x = layers.Add()([activation_block(x), x0])  # Residual.

        # Pointwise convolution.
        x = layers.Conv2D(filters, kernel_size=1)(x)
        x = activation_block(x)

        return x

    def get_conv_mixer_256_8(
        image_size=32,
        filters=256,
        depth=8,
        kernel_size=5,
        patch_size=2,
        num_classes=10,
    ):
        """ConvMixer-256/8: https://openreview.net/pdf?id=TVHS5Y4dNvM.
        The hyperparameter values are taken from the paper.
        """
        inputs = keras.Input((image_size, image_size, 3))
        x = layers.Rescaling(scale=1.0 / 255)(inputs)

        # Extract patch embeddings.
        x = conv_stem(x, filters, patch_size)

        # ConvMixer blocks.
        for _ in range(depth):
            x = conv_mixer_block(x, filters, kernel_size)

        # Classification block.
        x = layers.GlobalAvgPool2D()(x)
        outputs = layers.Dense(num_classes, activation="softmax")(x)

        return keras.Model(inputs, outputs)

    def run_experiment(model):
        optimizer = keras.optimizers.AdamW(
            learning_rate=learning_rate, weight_decay=weight_decay
        )

        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

        checkpoint_filepath = str(tmp_path / "checkpoint.keras")  # test: the example's "/tmp/checkpoint.keras"
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=False,
        )

        history = model.fit(
            train_dataset,
            validation_data=val_dataset,
            epochs=num_epochs,
            callbacks=[checkpoint_callback],
        )

        model.load_weights(checkpoint_filepath)
        _, accuracy = model.evaluate(test_dataset)
        print(f"Test accuracy: {round(accuracy * 100, 2)}%")

        # test: the best epoch's whole model was saved; the weights loaded back are those of the saved model
        saved = keras.models.load_model(checkpoint_filepath)
        for a, b in zip(saved.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert 0 <= accuracy <= 1 and len(history.history["loss"]) == num_epochs

        return history, model

    conv_mixer_model = get_conv_mixer_256_8()
    history, conv_mixer_model = run_experiment(conv_mixer_model)

    # test: ConvMixer-256/8's weights: the 2x2 stem, per block a 5x5 depthwise and a 1x1 convolution, each followed
    # by a batch normalization (4 weights per channel), and the classifier: 602,890 in all (Keras counts the same)
    stem, block, head = 2 * 2 * 3 * 256 + 256 + 4 * 256, (25 * 256 + 256) + (256 * 256 + 256) + 2 * 4 * 256, 2570
    assert conv_mixer_model.count_params() == stem + 8 * block + head == 602_890

    def visualization_plot(weights, idx=1):
        # First, apply min-max normalization to the
        # given weights to avoid isotrophic scaling.
        p_min, p_max = weights.min(), weights.max()
        weights = (weights - p_min) / (p_max - p_min)

        # Visualize all the filters.
        num_filters = 256
        plt.figure(figsize=(8, 8))

        for i in range(num_filters):
            current_weight = weights[:, :, :, i]
            if current_weight.shape[-1] == 1:
                current_weight = current_weight.squeeze()
            ax = plt.subplot(16, 16, idx)
            ax.set_xticks([])
            ax.set_yticks([])
            plt.imshow(current_weight)
            idx += 1

    # We first visualize the learned patch embeddings.
    patch_embeddings = conv_mixer_model.layers[2].get_weights()[0]
    visualization_plot(patch_embeddings)
    plt.close("all")  # test: drawn, not shown

    capsys.readouterr()  # test: what the next loop prints is checked below
    # First, print the indices of the convolution layers that are not
    # pointwise convolutions.
    for i, layer in enumerate(conv_mixer_model.layers):
        if isinstance(layer, layers.DepthwiseConv2D):
            if layer.get_config()["kernel_size"] == (5, 5):
                print(i, layer)

    printed = capsys.readouterr().out.splitlines()  # test: the eight depthwise layers, every 7th from index 5
    assert [int(line.split()[0]) for line in printed] == list(range(5, 5 + 7 * 8, 7))

    idx = 26  # Taking a kernel from the middle of the network.

    kernel = conv_mixer_model.layers[idx].get_weights()[0]
    kernel = np.expand_dims(kernel.squeeze(), axis=2)
    visualization_plot(kernel)
    plt.close("all")  # test: drawn, not shown

    # test: the patch embedding is the stem's 2x2x3x256 kernel, layer 26 the fourth block's 5x5 depthwise kernel
    assert patch_embeddings.shape == (2, 2, 3, 256)
    assert isinstance(conv_mixer_model.layers[idx], layers.DepthwiseConv2D) and kernel.shape == (5, 5, 1, 256)
