"""Keras guide "Understanding masking & padding", run on chainrule.

Source: https://keras.io/guides/understanding_masking_and_padding/ (keras-team/keras-io,
guides/understanding_masking_and_padding.py, the tf.keras revision "Last modified:
2020/04/14").

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- each section starts from the objects the guide built before it (`padded_inputs` in
  `pad()`, `masked_embedding` made again where a later section uses it);
- lines marked `# test:` check what the program produces.

Every section runs; the last passes an array as the model call's `training` argument, which chainrule, as Keras 3,
carries along without reading.
"""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


def pad():
    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]

    # By default, this will pad using 0s; it is configurable via the
    # "value" parameter.
    # Note that you could "pre" padding (at the beginning) or
    # "post" padding (at the end).
    # We recommend using "post" padding when working with RNN layers
    # (in order to be able to use the
    # CuDNN implementation of the layers).
    padded_inputs = tf.keras.preprocessing.sequence.pad_sequences(
        raw_inputs, padding="post"
    )
    print(padded_inputs)
    return padded_inputs


def test_padding_sequence_data():
    padded_inputs = pad()

    # test: the guide's printed array
    np.testing.assert_array_equal(padded_inputs, [
        [711, 632, 71, 0, 0, 0],
        [73, 8, 3215, 55, 927, 0],
        [83, 91, 1, 645, 1253, 927],
    ])
    assert padded_inputs.dtype == np.int32


def test_mask_generating_layers_embedding_and_masking():
    padded_inputs = pad()

    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)

    print(masked_output._keras_mask)

    masking_layer = layers.Masking()
    # Simulate the embedding lookup by expanding the 2D input to 3D,
    # with embedding dimension of 10.
    unmasked_embedding = tf.cast(
        tf.tile(tf.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), tf.float32
    )

    masked_embedding = masking_layer(unmasked_embedding)
    print(masked_embedding._keras_mask)

    expected = padded_inputs != 0  # test
    np.testing.assert_array_equal(np.asarray(masked_output._keras_mask), expected)  # test
    np.testing.assert_array_equal(np.asarray(masked_embedding._keras_mask), expected)  # test


def test_mask_propagation_and_passing_masks_directly():
    model = keras.Sequential(
        [layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True), layers.LSTM(32),]
    )

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)

    model = keras.Model(inputs, outputs)

    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super(MyLayer, self).__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
            self.lstm = layers.LSTM(32)

        def call(self, inputs):
            x = self.embedding(inputs)
            # Note that you could also prepare a `mask` tensor manually.
            # It only needs to be a boolean tensor
            # with the right shape, i.e. (batch_size, timesteps).
            mask = self.embedding.compute_mask(inputs)
            output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
            return output

    layer = MyLayer()
    x = np.random.random((32, 10)) * 100
    x = x.astype("int32")
    assert layer(x).shape == (32, 32)  # test


def test_supporting_masking_in_custom_layers_temporal_split():
    padded_inputs = pad()
    masking_layer = layers.Masking()
    unmasked_embedding = tf.cast(
        tf.tile(tf.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), tf.float32
    )
    masked_embedding = masking_layer(unmasked_embedding)

    class TemporalSplit(keras.layers.Layer):
        """Split the input tensor into 2 tensors along the time dimension."""

        def call(self, inputs):
            # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
            # subtensors along the time axis (axis 1).
            return tf.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            # Also split the mask into 2 if it presents.
            if mask is None:
                return None
            return tf.split(mask, 2, axis=1)

    first_half, second_half = TemporalSplit()(masked_embedding)
    print(first_half._keras_mask)
    print(second_half._keras_mask)

    expected = padded_inputs != 0  # test
    np.testing.assert_array_equal(np.asarray(first_half._keras_mask), expected[:, :3])  # test
    np.testing.assert_array_equal(np.asarray(second_half._keras_mask), expected[:, 3:])  # test


def test_supporting_masking_in_custom_layers_custom_embedding():
    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super(CustomEmbedding, self).__init__(**kwargs)
            self.input_dim = input_dim
            self.output_dim = output_dim
            self.mask_zero = mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer="random_normal",
                dtype="float32",
            )

        def call(self, inputs):
            return tf.nn.embedding_lookup(self.embeddings, inputs)

        def compute_mask(self, inputs, mask=None):
            if not self.mask_zero:
                return None
            return tf.not_equal(inputs, 0)

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = np.random.random((3, 10)) * 9
    x = x.astype("int32")

    y = layer(x)
    mask = layer.compute_mask(x)

    print(mask)

    # test: rows of the embedding table, and the mask of the non-zero ids
    assert y.shape == (3, 10, 32)
    np.testing.assert_array_equal(y.numpy(), layer.embeddings.numpy()[x])
    np.testing.assert_array_equal(mask.numpy(), x != 0)
    # test: the mask travels with the output, as Keras attaches it
    np.testing.assert_array_equal(np.asarray(y._keras_mask), x != 0)


def test_opting_in_to_mask_propagation():
    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super(MyActivation, self).__init__(**kwargs)
            # Signal that the layer is safe for mask propagation
            self.supports_masking = True

        def call(self, inputs):
            return tf.nn.relu(inputs)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)  # Will pass the mask along
    print("Mask found:", x._keras_mask)
    outputs = layers.LSTM(32)(x)  # Will receive the mask

    model = keras.Model(inputs, outputs)
    assert tuple(model.output.shape) == (None, 32)  # test


def test_writing_layers_that_need_mask_information():
    class TemporalSoftmax(keras.layers.Layer):
        def call(self, inputs, mask=None):
            broadcast_float_mask = tf.expand_dims(tf.cast(mask, "float32"), -1)
            inputs_exp = tf.exp(inputs) * broadcast_float_mask
            inputs_sum = tf.reduce_sum(inputs * broadcast_float_mask, axis=1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)

    model = keras.Model(inputs, outputs)
    y = model(np.random.randint(0, 10, size=(32, 100)), np.random.random((32, 100, 1)))
    assert y.shape == (32, 100, 1)  # test


# test: the two TensorFlow names this guide reaches for, added to chainrule for it


def test_tf_tile_matches_numpy_and_sums_gradients_of_the_copies():
    x = tf.Variable(np.arange(6, dtype="float32").reshape(2, 3))
    with tf.GradientTape() as tape:
        y = tf.tile(x, [2, 3])
        loss = tf.reduce_sum(y * y)
    np.testing.assert_array_equal(y.numpy(), np.tile(x.numpy(), [2, 3]))
    # each element appears 6 times: d/dx sum(y^2) = 6 * 2x
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 12 * x.numpy())
    with pytest.raises(ValueError, match="Expected multiples argument to be a vector of length 2"):
        tf.tile(x, [2])


def test_tf_nn_embedding_lookup_gathers_rows_and_scatters_gradients():
    table = tf.Variable(np.arange(8, dtype="float32").reshape(4, 2))
    ids = np.array([[3, 0], [3, 3]])
    with tf.GradientTape() as tape:
        rows = tf.nn.embedding_lookup(table, ids)
        loss = tf.reduce_sum(rows)
    np.testing.assert_array_equal(rows.numpy(), table.numpy()[ids])
    np.testing.assert_array_equal(tape.gradient(loss, table).numpy(),
                                  [[1, 1], [0, 0], [0, 0], [3, 3]])
    # max_norm scales each picked row down to that L2 norm (row 3 is (6, 7))
    clipped = tf.nn.embedding_lookup(table, [3, 0], max_norm=5.0).numpy()
    np.testing.assert_allclose(clipped[0], np.array([6, 7]) * 5 / np.hypot(6, 7), rtol=1e-6)
    np.testing.assert_array_equal(clipped[1], [0, 1])
