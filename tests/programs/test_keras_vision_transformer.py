"""keras-io example "Image classification with Vision Transformer", run on chainrule.

Source: https://keras.io/examples/vision/image_classification_with_vision_transformer/ (keras-team/keras-io,
examples/vision/image_classification_with_vision_transformer.py, the Keras 3 revision).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`,
  `from keras import layers` / `from keras import ops` -> `from chainrule.keras import layers, ops`
  (the `KERAS_BACKEND` line is left out);
- CIFAR-100 (`keras.datasets.cifar100.load_data()`, a download) is replaced by 320 training and 64 test random
  uint8 32x32x3 images with (n, 1) labels of the 100 classes whose colour depends on the class;
- the model is shrunk through the marked hyperparameters: num_epochs=2 (10), batch_size=64 (256),
  image_size=24 (72), transformer_layers=2 (8), mlp_head_units=[64, 32] ([2048, 1024]);
- the checkpoint is written in the test's temporary folder (the example's "/tmp/checkpoint.weights.h5"),
  the figures are drawn on matplotlib's Agg backend without `plt.show()`;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np

from chainrule import keras
from chainrule.keras import layers, ops


def cifar100_like(n_train=320, n_test=64, seed=0):
    """test: stands in for keras.datasets.cifar100.load_data(): uint8 images, (n, 1) labels; the mean colour of an
    image depends on its class, so a model can learn something in two epochs."""
    rng = np.random.default_rng(seed)
    colours = rng.uniform(40, 215, size=(100, 3))

    def make(n):
        y = rng.integers(0, 100, size=(n, 1)).astype("uint8")
        x = colours[y[:, 0], None, None, :] + rng.normal(0, 25, size=(n, 32, 32, 3))
        return np.clip(x, 0, 255).astype("uint8"), y

    return make(n_train), make(n_test)


num_classes = 100
input_shape = (32, 32, 3)

(x_train, y_train), (x_test, y_test) = cifar100_like()

learning_rate = 0.001
weight_decay = 0.0001
batch_size = 64  # test: the example's 256
num_epochs = 2  # test: the example's 10
image_size = 24  # test: the example's 72
patch_size = 6  # Size of the patches to be extract from the input images
num_patches = (image_size // patch_size) ** 2
projection_dim = 64
num_heads = 4
hidden_dim = projection_dim * num_heads
transformer_units = [
    hidden_dim * 2,
    hidden_dim,
]  # Size of the transformer layers
transformer_layers = 2  # test: the example's 8
mlp_head_units = [64, 32]  # test: the example's [2048, 1024]


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=keras.activations.gelu)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


class Patches(layers.Layer):
    def __init__(self, patch_size):
        super().__init__()
        self.patch_size = patch_size

    def call(self, images):
        input_shape = ops.shape(images)
        batch_size = input_shape[0]
        height = input_shape[1]
        width = input_shape[2]
        channels = input_shape[3]
        num_patches_h = height // self.patch_size
        num_patches_w = width // self.patch_size
        patches = keras.ops.image.extract_patches(images, size=self.patch_size)
        patches = ops.reshape(
            patches,
            (
                batch_size,
                num_patches_h * num_patches_w,
                self.patch_size * self.patch_size * channels,
            ),
        )
        return patches

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(
            input_dim=num_patches, output_dim=projection_dim
        )

    def call(self, patch):
        positions = ops.expand_dims(
            ops.arange(start=0, stop=self.num_patches, step=1), axis=0
        )
        projected_patches = self.projection(patch)
        encoded = projected_patches + self.position_embedding(positions)
        return encoded

    def get_config(self):
        config = super().get_config()
        config.update({"num_patches": self.num_patches})
        return config


def test_patches_of_a_sample_image():
    plt.figure(figsize=(4, 4))
    image = x_train[np.random.choice(range(x_train.shape[0]))]
    plt.imshow(image.astype("uint8"))
    plt.axis("off")

    resized_image = ops.image.resize(
        ops.convert_to_tensor([image], dtype="float32"), size=(image_size, image_size)
    )
    patches = Patches(patch_size)(resized_image)
    print(f"Image size: {image_size} X {image_size}")
    print(f"Patch size: {patch_size} X {patch_size}")
    print(f"Patches per image: {patches.shape[1]}")
    print(f"Elements per patch: {patches.shape[-1]}")

    n = int(np.sqrt(patches.shape[1]))
    plt.figure(figsize=(4, 4))
    for i, patch in enumerate(patches[0]):
        ax = plt.subplot(n, n, i + 1)
        patch_img = ops.reshape(patch, (patch_size, patch_size, 3))
        plt.imshow(ops.convert_to_numpy(patch_img).astype("uint8"))
        plt.axis("off")
    plt.close("all")

    # test: 16 patches of 6x6x3 values, patch i the i-th block of the image in row-major order
    assert tuple(patches.shape) == (1, num_patches, patch_size * patch_size * 3)
    resized = ops.convert_to_numpy(resized_image)[0]
    row, col = divmod(5, n)
    block = resized[row * patch_size:(row + 1) * patch_size, col * patch_size:(col + 1) * patch_size]
    np.testing.assert_allclose(ops.convert_to_numpy(patches[0, 5]), block.reshape(-1), rtol=1e-6)


def test_vit_classifier(tmp_path):
    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(image_size, image_size),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.02),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    # Compute the mean and the variance of the training data for normalization.
    data_augmentation.layers[0].adapt(x_train)

    def create_vit_classifier():
        inputs = keras.Input(shape=input_shape)
        # Augment data.
        augmented = data_augmentation(inputs)
        # Create patches.
        patches = Patches(patch_size)(augmented)
        # Encode patches.
        encoded_patches = PatchEncoder(num_patches, hidden_dim)(patches)

        # Create multiple layers of the Transformer block.
        for _ in range(transformer_layers):
            # Layer normalization 1.
            x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(
                num_heads=num_heads, key_dim=projection_dim, dropout=0.1
            )(x1, x1)
            # Skip connection 1.
            x2 = layers.Add()([attention_output, encoded_patches])
            # Layer normalization 2.
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            # MLP.
            x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
            # Skip connection 2.
            encoded_patches = layers.Add()([x3, x2])

        # Create a [batch_size, projection_dim] tensor.
        representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        representation = layers.Flatten()(representation)
        representation = layers.Dropout(0.5)(representation)
        # Add MLP.
        features = mlp(representation, hidden_units=mlp_head_units, dropout_rate=0.5)
        # Classify outputs.
        logits = layers.Dense(num_classes)(features)
        # Create the Keras model.
        model = keras.Model(inputs=inputs, outputs=logits)
        return model

    def run_experiment(model):
        optimizer = keras.optimizers.AdamW(
            learning_rate=learning_rate, weight_decay=weight_decay
        )

        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[
                keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
            ],
        )

        checkpoint_filepath = str(tmp_path / "checkpoint.weights.h5")  # test: the example's /tmp/...
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        )

        history = model.fit(
            x=x_train,
            y=y_train,
            batch_size=batch_size,
            epochs=num_epochs,
            validation_split=0.1,
            callbacks=[checkpoint_callback],
        )

        model.load_weights(checkpoint_filepath)
        _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test)
        print(f"Test accuracy: {round(accuracy * 100, 2)}%")
        print(f"Test top 5 accuracy: {round(top_5_accuracy * 100, 2)}%")

        return history

    vit_classifier = create_vit_classifier()
    history = run_experiment(vit_classifier)

    def plot_history(item):
        plt.plot(history.history[item], label=item)
        plt.plot(history.history["val_" + item], label="val_" + item)
        plt.xlabel("Epochs")
        plt.ylabel(item)
        plt.title("Train and Validation {} Over Epochs".format(item), fontsize=14)
        plt.legend()
        plt.grid()

    plot_history("loss")
    plot_history("top-5-accuracy")
    plt.close("all")

    # test: the logs the example plots, a loss that went down, and the checkpoint it reloaded
    assert set(history.history) == {"loss", "accuracy", "top-5-accuracy", "val_loss", "val_accuracy",
                                    "val_top-5-accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert (tmp_path / "checkpoint.weights.h5").exists()
    assert vit_classifier.output_shape == (None, num_classes)
