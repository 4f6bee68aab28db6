"""keras-io example "MobileViT: A mobile-friendly Transformer-based model for image classification", run on
chainrule.

Source: https://keras.io/examples/vision/mobilevit/ (keras-team/keras-io, examples/vision/mobilevit.py, the
TensorFlow 2 revision).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from keras.applications import
  imagenet_utils` / `from tensorflow.keras import layers` / `from tensorflow import keras` -> their chainrule
  paths; `import tensorflow_datasets as tfds` is replaced by a stand-in whose `load` is flowers_like.py's (50
  synthetic tf_flowers photos) and whose `disable_progress_bar` does nothing; `import tensorflow_addons as tfa` (not
  used by the example) is left out;
- sizes are shrunk through the marked constants: image_size=64 (the example's 256), resize_bigger=72 (280),
  epochs=2 (30);
- the checkpoint and the saved model are written in the test's temporary folder (the working folder there); the
  example's last step, the TensorFlow Lite conversion (`tf.lite.TFLiteConverter`), is not run: chainrule has no
  TFLite converter;
- lines marked `# test:` check what the program produces.

Slow: the MobileViT-XXS network trains for two epochs.
"""

import types

import numpy as np
import pytest

import chainrule as tf

from chainrule.keras.applications import imagenet_utils
from chainrule.keras import layers
from chainrule import keras

import flowers_like

tfds = types.SimpleNamespace(load=flowers_like.load, disable_progress_bar=lambda: None)  # test: stand-in

tfds.disable_progress_bar()

# Values are from table 4.
patch_size = 4  # 2x2, for the Transformer blocks.
image_size = 64  # test: the example's 256
expansion_factor = 2  # expansion factor for the MobileNetV2 blocks.


def conv_block(x, filters=16, kernel_size=3, strides=2):
    conv_layer = layers.Conv2D(
        filters, kernel_size, strides=strides, activation=tf.nn.swish, padding="same"
    )
    return conv_layer(x)


# Reference: https://git.io/JKgtC


def inverted_residual_block(x, expanded_channels, output_channels, strides=1):
    m = layers.Conv2D(expanded_channels, 1, padding="same", use_bias=False)(x)
    m = layers.BatchNormalization()(m)
    m = tf.nn.swish(m)

    if strides == 2:
        m = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(m, 3))(m)
    m = layers.DepthwiseConv2D(
        3, strides=strides, padding="same" if strides == 1 else "valid", use_bias=False
    )(m)
    m = layers.BatchNormalization()(m)
    m = tf.nn.swish(m)

    m = layers.Conv2D(output_channels, 1, padding="same", use_bias=False)(m)
    m = layers.BatchNormalization()(m)

    if tf.math.equal(x.shape[-1], output_channels) and strides == 1:
        return layers.Add()([m, x])
    return m


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=tf.nn.swish)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


def transformer_block(x, transformer_layers, projection_dim, num_heads=2):
    for _ in range(transformer_layers):
        # Layer normalization 1.
        x1 = layers.LayerNormalization(epsilon=1e-6)(x)
        # Create a multi-head attention layer.
        attention_output = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=projection_dim, dropout=0.1
        )(x1, x1)
        # Skip connection 1.
        x2 = layers.Add()([attention_output, x])
        # Layer normalization 2.
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        # MLP.
        x3 = mlp(
            x3,
            hidden_units=[x.shape[-1] * 2, x.shape[-1]],
            dropout_rate=0.1,
        )
        # Skip connection 2.
        x = layers.Add()([x3, x2])

    return x


def mobilevit_block(x, num_blocks, projection_dim, strides=1):
    # Local projection with convolutions.
    local_features = conv_block(x, filters=projection_dim, strides=strides)
    local_features = conv_block(
        local_features, filters=projection_dim, kernel_size=1, strides=strides
    )

    # Unfold into patches and then pass through Transformers.
    num_patches = int((local_features.shape[1] * local_features.shape[2]) / patch_size)
    non_overlapping_patches = layers.Reshape((patch_size, num_patches, projection_dim))(
        local_features
    )
    global_features = transformer_block(
        non_overlapping_patches, num_blocks, projection_dim
    )

    # Fold into conv-like feature-maps.
    folded_feature_map = layers.Reshape((*local_features.shape[1:-1], projection_dim))(
        global_features
    )

    # Apply point-wise conv -> concatenate with the input features.
    folded_feature_map = conv_block(
        folded_feature_map, filters=x.shape[-1], kernel_size=1, strides=strides
    )
    local_global_features = layers.Concatenate(axis=-1)([x, folded_feature_map])

    # Fuse the local and global features using a convoluion layer.
    local_global_features = conv_block(
        local_global_features, filters=projection_dim, strides=strides
    )

    return local_global_features


def create_mobilevit(num_classes=5):
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)

    # Initial conv-stem -> MV2 block.
    x = conv_block(x, filters=16)
    x = inverted_residual_block(
        x, expanded_channels=16 * expansion_factor, output_channels=16
    )

    # Downsampling with MV2 block.
    x = inverted_residual_block(
        x, expanded_channels=16 * expansion_factor, output_channels=24, strides=2
    )
    x = inverted_residual_block(
        x, expanded_channels=24 * expansion_factor, output_channels=24
    )
    x = inverted_residual_block(
        x, expanded_channels=24 * expansion_factor, output_channels=24
    )

    # First MV2 -> MobileViT block.
    x = inverted_residual_block(
        x, expanded_channels=24 * expansion_factor, output_channels=48, strides=2
    )
    x = mobilevit_block(x, num_blocks=2, projection_dim=64)

    # Second MV2 -> MobileViT block.
    x = inverted_residual_block(
        x, expanded_channels=64 * expansion_factor, output_channels=64, strides=2
    )
    x = mobilevit_block(x, num_blocks=4, projection_dim=80)

    # Third MV2 -> MobileViT block.
    x = inverted_residual_block(
        x, expanded_channels=80 * expansion_factor, output_channels=80, strides=2
    )
    x = mobilevit_block(x, num_blocks=3, projection_dim=96)
    x = conv_block(x, filters=320, kernel_size=1, strides=1)

    # Classification head.
    x = layers.GlobalAvgPool2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)

    return keras.Model(inputs, outputs)


def test_mobilevit_architecture():
    mobilevit_xxs = create_mobilevit()
    mobilevit_xxs.summary()

    # test: five stride-2 stages take 64x64 images to 2x2; the MobileViT blocks unfold 8x8, 4x4 and 2x2 maps into
    # 4 x (area / 4) patches; residual Adds only where the channels match at stride 1
    assert mobilevit_xxs.output_shape == (None, 5)
    reshapes = [layer for layer in mobilevit_xxs.layers if isinstance(layer, layers.Reshape)]
    assert [tuple(r.target_shape) for r in reshapes] == [(4, 16, 64), (8, 8, 64), (4, 4, 80), (4, 4, 80),
                                                          (4, 1, 96), (2, 2, 96)]
    adds = [layer for layer in mobilevit_xxs.layers if isinstance(layer, layers.Add)]
    assert len(adds) == 3 + 2 * (2 + 4 + 3)


@pytest.mark.slow
def test_mobilevit_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the checkpoint and the saved model go to the working folder
    batch_size = 64
    auto = tf.data.AUTOTUNE
    resize_bigger = 72  # test: the example's 280
    num_classes = 5

    def preprocess_dataset(is_training=True):
        def _pp(image, label):
            if is_training:
                # Resize to a bigger spatial resolution and take the random
                # crops.
                image = tf.image.resize(image, (resize_bigger, resize_bigger))
                image = tf.image.random_crop(image, (image_size, image_size, 3))
                image = tf.image.random_flip_left_right(image)
            else:
                image = tf.image.resize(image, (image_size, image_size))
            label = tf.one_hot(label, depth=num_classes)
            return image, label

        return _pp

    def prepare_dataset(dataset, is_training=True):
        if is_training:
            dataset = dataset.shuffle(batch_size * 10)
        dataset = dataset.map(preprocess_dataset(is_training), num_parallel_calls=auto)
        return dataset.batch(batch_size).prefetch(auto)

    train_dataset, val_dataset = tfds.load(
        "tf_flowers", split=["train[:90%]", "train[90%:]"], as_supervised=True
    )

    num_train = train_dataset.cardinality()
    num_val = val_dataset.cardinality()
    print(f"Number of training examples: {num_train}")
    print(f"Number of validation examples: {num_val}")

    train_dataset = prepare_dataset(train_dataset, is_training=True)
    val_dataset = prepare_dataset(val_dataset, is_training=False)

    images, labels = next(iter(train_dataset))  # test: one batch of the 45 cropped photos, one-hot labels
    assert tuple(images.shape) == (45, 64, 64, 3) and tuple(labels.shape) == (45, 5)

    learning_rate = 0.002
    label_smoothing_factor = 0.1
    epochs = 2  # test: the example's 30

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing_factor)

    def run_experiment(epochs=epochs):
        mobilevit_xxs = create_mobilevit(num_classes=num_classes)
        mobilevit_xxs.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])

        checkpoint_filepath = str(tmp_path / "checkpoint")  # test: in the temporary folder
        checkpoint_callback = keras.callbacks.ModelCheckpoint(
            checkpoint_filepath,
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
        )

        mobilevit_xxs.fit(
            train_dataset,
            validation_data=val_dataset,
            epochs=epochs,
            callbacks=[checkpoint_callback],
        )
        mobilevit_xxs.load_weights(checkpoint_filepath)
        _, accuracy = mobilevit_xxs.evaluate(val_dataset)
        print(f"Validation accuracy: {round(accuracy * 100, 2)}%")
        assert 0 <= accuracy <= 1  # test
        return mobilevit_xxs

    mobilevit_xxs = run_experiment()

    # Serialize the model as a SavedModel.
    mobilevit_xxs.save("mobilevit_xxs")

    # test: the saved model loads back and predicts as the trained one (the TFLite conversion that follows in the
    # example is not run)
    reloaded = tf.keras.models.load_model("mobilevit_xxs")
    x = images[:4]
    np.testing.assert_allclose(np.asarray(reloaded.predict(x, verbose=0)),
                               np.asarray(mobilevit_xxs.predict(x, verbose=0)), rtol=1e-4, atol=1e-5)
