"""keras-io example "Image classification with EANet (External Attention Transformer)", run on chainrule.

Source: https://keras.io/examples/vision/eanet/ (keras-team/keras-io, examples/vision/eanet.py, the Keras 3
revision of 2023/07/18).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers, ops` -> `from
  chainrule.keras import layers, ops`;
- CIFAR-100 (`keras.datasets.cifar100.load_data()`, a download) is replaced by cifar_like.py's synthetic images of
  the same shapes and dtypes (160 training, 64 test images);
- the model is shrunk through the marked hyperparameters: num_epochs=2 (the example's 50), batch_size=64 (128),
  num_transformer_blocks=2 (8);
- the figure is drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.

The training part is slow (about half a minute on a shared machine); the external attention block is checked
against NumPy in the default run.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras import ops

import matplotlib.pyplot as plt

import cifar_like

num_classes = 100
input_shape = (32, 32, 3)

(x_train, y_train), (x_test, y_test) = cifar_like.load_data(160, 64)  # test: instead of cifar100
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)
print(f"x_train shape: {x_train.shape} - y_train shape: {y_train.shape}")
print(f"x_test shape: {x_test.shape} - y_test shape: {y_test.shape}")

weight_decay = 0.0001
learning_rate = 0.001
label_smoothing = 0.1
validation_split = 0.2
batch_size = 64  # test: the example's 128
num_epochs = 2  # test: the example's 50
patch_size = 2  # Size of the patches to be extracted from the input images.
num_patches = (input_shape[0] // patch_size) ** 2  # Number of patch
embedding_dim = 64  # Number of hidden units.
mlp_dim = 64
dim_coefficient = 4
num_heads = 4
attention_dropout = 0.2
projection_dropout = 0.2
num_transformer_blocks = 2  # test: the example's 8

print(f"Patch size: {patch_size} X {patch_size} = {patch_size ** 2} ")
print(f"Patches per image: {num_patches}")

data_augmentation = keras.Sequential(
    [
        layers.Normalization(),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(factor=0.1),
        layers.RandomContrast(factor=0.1),
        layers.RandomZoom(height_factor=0.2, width_factor=0.2),
    ],
    name="data_augmentation",
)
# Compute the mean and the variance of the training data for normalization.
data_augmentation.layers[0].adapt(x_train)


class PatchExtract(layers.Layer):
    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size

    def call(self, x):
        B, C = ops.shape(x)[0], ops.shape(x)[-1]
        x = ops.image.extract_patches(x, self.patch_size)
        x = ops.reshape(x, (B, -1, self.patch_size * self.patch_size * C))
        return x


class PatchEmbedding(layers.Layer):
    def __init__(self, num_patch, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_patch = num_patch
        self.proj = layers.Dense(embed_dim)
        self.pos_embed = layers.Embedding(
            input_dim=num_patch, output_dim=embed_dim
        )

    def call(self, patch):
        pos = ops.arange(start=0, stop=self.num_patch, step=1)
        return self.proj(patch) + self.pos_embed(pos)


def external_attention(
    x,
    dim,
    num_heads,
    dim_coefficient=4,
    attention_dropout=0,
    projection_dropout=0,
):
    _, num_patch, channel = x.shape
    assert dim % num_heads == 0
    num_heads = num_heads * dim_coefficient

    x = layers.Dense(dim * dim_coefficient)(x)
    # create tensor [batch_size, num_patches, num_heads, dim*dim_coefficient//num_heads]
    x = ops.reshape(
        x, (-1, num_patch, num_heads, dim * dim_coefficient // num_heads)
    )
    x = ops.transpose(x, axes=[0, 2, 1, 3])
    # a linear layer M_k
    attn = layers.Dense(dim // dim_coefficient)(x)
    # normalize attention map
    attn = layers.Softmax(axis=2)(attn)
    # dobule-normalization
    attn = layers.Lambda(
        lambda attn: ops.divide(
            attn,
            ops.convert_to_tensor(1e-9) + ops.sum(attn, axis=-1, keepdims=True),
        )
    )(attn)
    attn = layers.Dropout(attention_dropout)(attn)
    # a linear layer M_v
    x = layers.Dense(dim * dim_coefficient // num_heads)(attn)
    x = ops.transpose(x, axes=[0, 2, 1, 3])
    x = ops.reshape(x, [-1, num_patch, dim * dim_coefficient])
    # a linear layer to project original dim
    x = layers.Dense(dim)(x)
    x = layers.Dropout(projection_dropout)(x)
    return x


def mlp(x, embedding_dim, mlp_dim, drop_rate=0.2):
    x = layers.Dense(mlp_dim, activation=ops.gelu)(x)
    x = layers.Dropout(drop_rate)(x)
    x = layers.Dense(embedding_dim)(x)
    x = layers.Dropout(drop_rate)(x)
    return x


def transformer_encoder(
    x,
    embedding_dim,
    mlp_dim,
    num_heads,
    dim_coefficient,
    attention_dropout,
    projection_dropout,
    attention_type="external_attention",
):
    residual_1 = x
    x = layers.LayerNormalization(epsilon=1e-5)(x)
    if attention_type == "external_attention":
        x = external_attention(
            x,
            embedding_dim,
            num_heads,
            dim_coefficient,
            attention_dropout,
            projection_dropout,
        )
    elif attention_type == "self_attention":
        x = layers.MultiHeadAttention(
            num_heads=num_heads,
            key_dim=embedding_dim,
            dropout=attention_dropout,
        )(x, x)
    x = layers.add([x, residual_1])
    residual_2 = x
    x = layers.LayerNormalization(epsilon=1e-5)(x)
    x = mlp(x, embedding_dim, mlp_dim)
    x = layers.add([x, residual_2])
    return x


def get_model(attention_type="external_attention"):
    inputs = layers.Input(shape=input_shape)
    # Image augment
    x = data_augmentation(inputs)
    # Extract patches.
    x = PatchExtract(patch_size)(x)
    # Create patch embedding.
    x = PatchEmbedding(num_patches, embedding_dim)(x)
    # Create Transformer block.
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(
            x,
            embedding_dim,
            mlp_dim,
            num_heads,
            dim_coefficient,
            attention_dropout,
            projection_dropout,
            attention_type,
        )

    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


@pytest.mark.slow
def test_eanet():
    model = get_model(attention_type="external_attention")

    model.compile(
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        optimizer=keras.optimizers.AdamW(
            learning_rate=learning_rate, weight_decay=weight_decay
        ),
        metrics=[
            keras.metrics.CategoricalAccuracy(name="accuracy"),
            keras.metrics.TopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )

    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=num_epochs,
        validation_split=validation_split,
    )

    plt.plot(history.history["loss"], label="train_loss")
    plt.plot(history.history["val_loss"], label="val_loss")
    plt.xlabel("Epochs")
    plt.ylabel("Loss")
    plt.title("Train and Validation Losses Over Epochs", fontsize=14)
    plt.legend()
    plt.grid()
    plt.close("all")  # test: instead of plt.show()

    loss, accuracy, top_5_accuracy = model.evaluate(x_test, y_test)
    print(f"Test loss: {round(loss, 2)}")
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")
    print(f"Test top 5 accuracy: {round(top_5_accuracy * 100, 2)}%")

    # test: 256 patches of 2x2x3 values; the loss went down; the metrics are in range
    assert tuple(PatchExtract(patch_size)(x_test[:2].astype("float32")).shape) == (2, 256, 12)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert 0 <= accuracy <= top_5_accuracy <= 1 and np.isfinite(loss)


def test_external_attention_by_hand():
    # test: the block against NumPy: split into 16 heads, the M_k memory scores, a softmax over the patches, a
    # second normalisation over the memory slots, the M_v memory, the heads joined and projected back
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    inputs = keras.Input((6, 8))
    block = keras.Model(inputs, external_attention(inputs, 8, 2, dim_coefficient=4))
    dense = [layer for layer in block.layers if isinstance(layer, layers.Dense)]
    w = [layer.get_weights() for layer in dense]
    h = x @ w[0][0] + w[0][1]  # (2, 6, 32)
    h = h.reshape(2, 6, 8, 4).transpose(0, 2, 1, 3)  # 8 heads of 4
    scores = h @ w[1][0] + w[1][1]  # (2, 8, 6, 2)
    attn = np.exp(scores - scores.max(2, keepdims=True))
    attn /= attn.sum(2, keepdims=True)
    attn /= 1e-9 + attn.sum(-1, keepdims=True)
    v = (attn @ w[2][0] + w[2][1]).transpose(0, 2, 1, 3).reshape(2, 6, 32)
    expected = v @ w[3][0] + w[3][1]
    np.testing.assert_allclose(block.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
