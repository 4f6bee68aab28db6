"""keras-io example "Train a Vision Transformer on small datasets", run on chainrule.

Source: https://keras.io/examples/vision/vit_small_ds/ (keras-team/keras-io, examples/vision/vit_small_ds.py,
the Keras 3 revision): Shifted Patch Tokenization (tf.image crops, pads and patches) and Locality Self Attention (a
MultiHeadAttention subclass overriding `_compute_attention`, with a learned temperature and a diagonal mask).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import ops` / `from keras import
  layers` -> `from chainrule.keras import ops, layers`, `import tensorflow as tf` -> `import chainrule as tf`
  (the `KERAS_BACKEND` line is left out);
- CIFAR-100 (`keras.datasets.cifar100.load_data()`) is replaced by 320 training and 64 test random uint8 32x32x3
  images with (n, 1) labels of the 100 classes;
- shrunk through its hyperparameters: BATCH_SIZE=64 (256), IMAGE_SIZE=24 (72), EPOCHS=1 (50),
  TRANSFORMER_LAYERS=2 (8), MLP_HEAD_UNITS=[64, 32] ([2048, 1024]);
- the figures are drawn on matplotlib's Agg backend and closed (no `plt.show()`);
- lines marked `# test:` check what the program produces. (The example builds its WarmUpCosine schedule but
  trains with a constant rate; the schedule's last line passes `name=` to `ops.where`, which Keras 3's `ops.where`
  refuses as chainrule's does, so it is defined here and not called, as in the example.)
"""

import math

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers, ops

# Setting seed for reproducibiltiy
SEED = 42
keras.utils.set_random_seed(SEED)

NUM_CLASSES = 100
INPUT_SHAPE = (32, 32, 3)


def cifar100_like(n_train=320, n_test=64, seed=0):
    """test: stands in for keras.datasets.cifar100.load_data(): uint8 images, (n, 1) uint8 labels."""
    rng = np.random.default_rng(seed)
    return ((rng.integers(0, 256, (n_train, 32, 32, 3)).astype("uint8"),
             rng.integers(0, 100, (n_train, 1)).astype("uint8")),
            (rng.integers(0, 256, (n_test, 32, 32, 3)).astype("uint8"),
             rng.integers(0, 100, (n_test, 1)).astype("uint8")))


(x_train, y_train), (x_test, y_test) = cifar100_like()

# DATA
BUFFER_SIZE = 512
BATCH_SIZE = 64  # test: the example's 256

# AUGMENTATION
IMAGE_SIZE = 24  # test: the example's 72
PATCH_SIZE = 6
NUM_PATCHES = (IMAGE_SIZE // PATCH_SIZE) ** 2

# OPTIMIZER
LEARNING_RATE = 0.001
WEIGHT_DECAY = 0.0001

# TRAINING
EPOCHS = 1  # test: the example's 50

# ARCHITECTURE
LAYER_NORM_EPS = 1e-6
TRANSFORMER_LAYERS = 2  # test: the example's 8
PROJECTION_DIM = 64
NUM_HEADS = 4
TRANSFORMER_UNITS = [
    PROJECTION_DIM * 2,
    PROJECTION_DIM,
]
MLP_HEAD_UNITS = [64, 32]  # test: the example's [2048, 1024]

data_augmentation = keras.Sequential(
    [
        layers.Normalization(),
        layers.Resizing(IMAGE_SIZE, IMAGE_SIZE),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(factor=0.02),
        layers.RandomZoom(height_factor=0.2, width_factor=0.2),
    ],
    name="data_augmentation",
)
# Compute the mean and the variance of the training data for normalization.
data_augmentation.layers[0].adapt(x_train)


class ShiftedPatchTokenization(layers.Layer):
    def __init__(
        self,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        num_patches=NUM_PATCHES,
        projection_dim=PROJECTION_DIM,
        vanilla=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vanilla = vanilla  # Flag to swtich to vanilla patch extractor
        self.image_size = image_size
        self.patch_size = patch_size
        self.half_patch = patch_size // 2
        self.flatten_patches = layers.Reshape((num_patches, -1))
        self.projection = layers.Dense(units=projection_dim)
        self.layer_norm = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)

    def crop_shift_pad(self, images, mode):
        # Build the diagonally shifted images
        if mode == "left-up":
            crop_height = self.half_patch
            crop_width = self.half_patch
            shift_height = 0
            shift_width = 0
        elif mode == "left-down":
            crop_height = 0
            crop_width = self.half_patch
            shift_height = self.half_patch
            shift_width = 0
        elif mode == "right-up":
            crop_height = self.half_patch
            crop_width = 0
            shift_height = 0
            shift_width = self.half_patch
        else:
            crop_height = 0
            crop_width = 0
            shift_height = self.half_patch
            shift_width = self.half_patch

        # Crop the shifted images and pad them
        crop = tf.image.crop_to_bounding_box(
            images,
            offset_height=crop_height,
            offset_width=crop_width,
            target_height=self.image_size - self.half_patch,
            target_width=self.image_size - self.half_patch,
        )
        shift_pad = tf.image.pad_to_bounding_box(
            crop,
            offset_height=shift_height,
            offset_width=shift_width,
            target_height=self.image_size,
            target_width=self.image_size,
        )
        return shift_pad

    def call(self, images):
        if not self.vanilla:
            # Concat the shifted images with the original image
            images = ops.concatenate(
                [
                    images,
                    self.crop_shift_pad(images, mode="left-up"),
                    self.crop_shift_pad(images, mode="left-down"),
                    self.crop_shift_pad(images, mode="right-up"),
                    self.crop_shift_pad(images, mode="right-down"),
                ],
                axis=-1,
            )
        # Patchify the images and flatten it
        patches = tf.image.extract_patches(
            images=images,
            sizes=[1, self.patch_size, self.patch_size, 1],
            strides=[1, self.patch_size, self.patch_size, 1],
            rates=[1, 1, 1, 1],
            padding="VALID",
        )
        flat_patches = self.flatten_patches(patches)
        if not self.vanilla:
            # Layer normalize the flat patches and linearly project it
            tokens = self.layer_norm(flat_patches)
            tokens = self.projection(tokens)
        else:
            # Linearly project the flat patches
            tokens = self.projection(flat_patches)
        return (tokens, patches)


class PatchEncoder(layers.Layer):
    def __init__(
        self, num_patches=NUM_PATCHES, projection_dim=PROJECTION_DIM, **kwargs
    ):
        super().__init__(**kwargs)
        self.num_patches = num_patches
        self.position_embedding = layers.Embedding(
            input_dim=num_patches, output_dim=projection_dim
        )
        self.positions = ops.arange(start=0, stop=self.num_patches, step=1)

    def call(self, encoded_patches):
        encoded_positions = self.position_embedding(self.positions)
        encoded_patches = encoded_patches + encoded_positions
        return encoded_patches


class MultiHeadAttentionLSA(layers.MultiHeadAttention):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The trainable temperature term. The initial value is
        # the square root of the key dimension.
        self.tau = tf.Variable(math.sqrt(float(self._key_dim)), trainable=True)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None):
        query = ops.multiply(query, 1.0 / self.tau)
        attention_scores = ops.einsum(self._dot_product_equation, key, query)
        attention_scores = self._masked_softmax(attention_scores, attention_mask)
        attention_scores_dropout = self._dropout_layer(
            attention_scores, training=training
        )
        attention_output = ops.einsum(
            self._combine_equation, attention_scores_dropout, value
        )
        return attention_output, attention_scores


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation="gelu")(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


# Build the diagonal attention mask
diag_attn_mask = 1 - ops.eye(NUM_PATCHES)
diag_attn_mask = ops.cast([diag_attn_mask], dtype="int8")


def test_visualize_the_patches():
    # Get a random image from the training dataset
    # and resize the image
    image = x_train[np.random.choice(range(x_train.shape[0]))]
    resized_image = ops.cast(
        ops.image.resize(ops.convert_to_tensor([image]), size=(IMAGE_SIZE, IMAGE_SIZE)),
        dtype="float32",
    )

    # Vanilla patch maker: This takes an image and divides into
    # patches as in the original ViT paper
    (token, patch) = ShiftedPatchTokenization(vanilla=True)(resized_image / 255.0)
    (token, patch) = (token[0], patch[0])
    n = patch.shape[0]
    count = 1
    plt.figure(figsize=(4, 4))
    for row in range(n):
        for col in range(n):
            plt.subplot(n, n, count)
            count = count + 1
            image = ops.reshape(patch[row][col], (PATCH_SIZE, PATCH_SIZE, 3))
            plt.imshow(image)
            plt.axis("off")
    plt.close("all")

    # Shifted Patch Tokenization: This layer takes the image, shifts it
    # diagonally and then extracts patches from the concatinated images
    (token, patch) = ShiftedPatchTokenization(vanilla=False)(resized_image / 255.0)
    (token, patch) = (token[0], patch[0])
    n = patch.shape[0]
    shifted_images = ["ORIGINAL", "LEFT-UP", "LEFT-DOWN", "RIGHT-UP", "RIGHT-DOWN"]
    for index, name in enumerate(shifted_images):
        print(name)
        count = 1
        plt.figure(figsize=(4, 4))
        for row in range(n):
            for col in range(n):
                plt.subplot(n, n, count)
                count = count + 1
                image = ops.reshape(patch[row][col], (PATCH_SIZE, PATCH_SIZE, 5 * 3))
                plt.imshow(image[..., 3 * index : 3 * index + 3])
                plt.axis("off")
        plt.close("all")

    # test: 4x4 patches of 6x6x15 values (the image and its four shifts), 64-d tokens; the right-down shift is the
    # image moved by half a patch, zeros coming in at the top and left
    assert patch.shape == (4, 4, 6 * 6 * 15) and token.shape == (16, 64)
    img = ops.convert_to_numpy(resized_image)[0] / 255.0
    block = ops.convert_to_numpy(ops.reshape(patch[1][1], (6, 6, 15)))
    np.testing.assert_allclose(block[..., :3], img[6:12, 6:12], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(block[..., 12:], img[3:9, 3:9], rtol=1e-5, atol=1e-6)
    corner = ops.convert_to_numpy(ops.reshape(patch[0][0], (6, 6, 15)))
    assert (corner[:3, :, 12:] == 0).all() and (corner[:, :3, 12:] == 0).all()


def test_locality_self_attention_masks_the_diagonal_and_learns_its_temperature():
    # test: with the diagonal mask no token attends to itself; the temperature tau is a trainable weight that gets a
    # gradient, and the override is what the layer runs (not the built-in attention)
    lsa = MultiHeadAttentionLSA(num_heads=NUM_HEADS, key_dim=PROJECTION_DIM, dropout=0.1)
    x = tf.random.normal((2, NUM_PATCHES, PROJECTION_DIM))
    out, scores = lsa(x, x, attention_mask=diag_attn_mask, return_attention_scores=True)
    assert out.shape == (2, NUM_PATCHES, PROJECTION_DIM) and scores.shape == (2, NUM_HEADS, NUM_PATCHES, NUM_PATCHES)
    diagonal = ops.convert_to_numpy(scores)[..., np.arange(NUM_PATCHES), np.arange(NUM_PATCHES)]
    assert (diagonal == 0).all()
    np.testing.assert_allclose(ops.convert_to_numpy(scores).sum(-1), 1.0, rtol=1e-5)
    assert any(w is lsa.tau for w in lsa.trainable_weights)
    with tf.GradientTape() as tape:
        y = lsa(x, x, attention_mask=diag_attn_mask)
        loss = tf.reduce_sum(y * y)
    (g,) = tape.gradient(loss, [lsa.tau])
    assert g is not None and float(tf.abs(g)) > 0
    plain = layers.MultiHeadAttention(num_heads=NUM_HEADS, key_dim=PROJECTION_DIM)
    plain(x, x)
    lsa.tau.assign(math.sqrt(PROJECTION_DIM))
    plain.set_weights([w for w in lsa.get_weights() if np.ndim(w)])  # the same projections, tau left out
    np.testing.assert_allclose(ops.convert_to_numpy(lsa(x, x)), ops.convert_to_numpy(plain(x, x)), rtol=1e-4,
                               atol=1e-5)


def create_vit_classifier(vanilla=False):
    inputs = layers.Input(shape=INPUT_SHAPE)
    # Augment data.
    augmented = data_augmentation(inputs)
    # Create patches.
    (tokens, _) = ShiftedPatchTokenization(vanilla=vanilla)(augmented)
    # Encode patches.
    encoded_patches = PatchEncoder()(tokens)

    # Create multiple layers of the Transformer block.
    for _ in range(TRANSFORMER_LAYERS):
        # Layer normalization 1.
        x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        # Create a multi-head attention layer.
        if not vanilla:
            attention_output = MultiHeadAttentionLSA(
                num_heads=NUM_HEADS, key_dim=PROJECTION_DIM, dropout=0.1
            )(x1, x1, attention_mask=diag_attn_mask)
        else:
            attention_output = layers.MultiHeadAttention(
                num_heads=NUM_HEADS, key_dim=PROJECTION_DIM, dropout=0.1
            )(x1, x1)
        # Skip connection 1.
        x2 = layers.Add()([attention_output, encoded_patches])
        # Layer normalization 2.
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        # MLP.
        x3 = mlp(x3, hidden_units=TRANSFORMER_UNITS, dropout_rate=0.1)
        # Skip connection 2.
        encoded_patches = layers.Add()([x3, x2])

    # Create a [batch_size, projection_dim] tensor.
    representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    representation = layers.Flatten()(representation)
    representation = layers.Dropout(0.5)(representation)
    # Add MLP.
    features = mlp(representation, hidden_units=MLP_HEAD_UNITS, dropout_rate=0.5)
    # Classify outputs.
    logits = layers.Dense(NUM_CLASSES)(features)
    # Create the Keras model.
    model = keras.Model(inputs=inputs, outputs=logits)
    return model


# Some code is taken from:
# https://www.kaggle.com/ashusma/training-rfcx-tensorflow-tpu-effnet-b2.
class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(
        self, learning_rate_base, total_steps, warmup_learning_rate, warmup_steps
    ):
        super().__init__()

        self.learning_rate_base = learning_rate_base
        self.total_steps = total_steps
        self.warmup_learning_rate = warmup_learning_rate
        self.warmup_steps = warmup_steps
        self.pi = tf.constant(np.pi)

    def __call__(self, step):
        if self.total_steps < self.warmup_steps:
            raise ValueError("Total_steps must be larger or equal to warmup_steps.")

        cos_annealed_lr = ops.cos(
            self.pi
            * (ops.cast(step, dtype="float32") - self.warmup_steps)
            / float(self.total_steps - self.warmup_steps)
        )
        learning_rate = 0.5 * self.learning_rate_base * (1 + cos_annealed_lr)

        if self.warmup_steps > 0:
            if self.learning_rate_base < self.warmup_learning_rate:
                raise ValueError(
                    "Learning_rate_base must be larger or equal to "
                    "warmup_learning_rate."
                )
            slope = (
                self.learning_rate_base - self.warmup_learning_rate
            ) / self.warmup_steps
            warmup_rate = (
                slope * ops.cast(step, dtype="float32") + self.warmup_learning_rate
            )
            learning_rate = ops.where(
                step < self.warmup_steps, warmup_rate, learning_rate
            )
        return ops.where(
            step > self.total_steps, 0.0, learning_rate, name="learning_rate"
        )


def run_experiment(model):
    total_steps = int((len(x_train) / BATCH_SIZE) * EPOCHS)
    warmup_epoch_percentage = 0.10
    warmup_steps = int(total_steps * warmup_epoch_percentage)
    scheduled_lrs = WarmUpCosine(
        learning_rate_base=LEARNING_RATE,
        total_steps=total_steps,
        warmup_learning_rate=0.0,
        warmup_steps=warmup_steps,
    )

    optimizer = keras.optimizers.AdamW(
        learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY
    )

    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )

    history = model.fit(
        x=x_train,
        y=y_train,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        validation_split=0.1,
    )
    _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE)
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")
    print(f"Test top 5 accuracy: {round(top_5_accuracy * 100, 2)}%")

    return history


def test_vanilla_and_shifted_patch_locality_vits_train():
    # Run experiments with the vanilla ViT
    vit = create_vit_classifier(vanilla=True)
    history = run_experiment(vit)
    assert np.isfinite(history.history["loss"]).all()  # test

    # Run experiments with the Shifted Patch Tokenization and
    # Locality Self Attention modified ViT
    vit_sl = create_vit_classifier(vanilla=False)
    history = run_experiment(vit_sl)

    # test: the logs, and one temperature per LSA block among the trained weights
    assert set(history.history) == {"loss", "accuracy", "top-5-accuracy", "val_loss", "val_accuracy",
                                    "val_top-5-accuracy"}
    taus = [layer.tau for layer in vit_sl.layers if isinstance(layer, MultiHeadAttentionLSA)]
    assert len(taus) == TRANSFORMER_LAYERS
    assert all(float(tau.numpy()) != math.sqrt(PROJECTION_DIM) for tau in taus)

