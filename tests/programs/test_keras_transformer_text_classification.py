"""keras-io example "Text classification with Transformer", run on chainrule.

Source: https://keras.io/examples/nlp/text_classification_with_transformer/ (keras-team/keras-io,
examples/nlp/text_classification_with_transformer.py, "Last modified: 2024/01/18", the Keras 3 version).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import ops` ->
  `from chainrule.keras import ops`, `from keras import layers` -> `from chainrule.keras import layers`;
- `keras.datasets.imdb` is the synthetic stand-in `imdb_like` (no download): 128 training and 64
  validation reviews of 20 to 300 words whose sentiment shows in which words occur;
- lines marked `# test:` check what the program produces.
"""

import numpy as np
from chainrule import keras
from chainrule.keras import ops
from chainrule.keras import layers

import imdb_like


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [
                layers.Dense(ff_dim, activation="relu"),
                layers.Dense(embed_dim),
            ]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def test_text_classification_with_transformer(capsys):
    vocab_size = 20000  # Only consider the top 20k words
    maxlen = 200  # Only consider the first 200 words of each movie review
    (x_train, y_train), (x_val, y_val) = imdb_like.load_data(num_words=vocab_size)
    print(len(x_train), "Training sequences")
    print(len(x_val), "Validation sequences")
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    ff_dim = 32  # Hidden layer size in feed forward network inside transformer

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val)
    )

    # test: the printed counts, Keras's weights (the attention's key_dim=32 per head), and learning in two epochs
    out = capsys.readouterr().out
    assert "128 Training sequences" in out and "64 Validation sequences" in out
    assert x_train.shape == (128, 200) and tuple(x.shape) == (None, 20)
    # embeddings 20000*32 + 200*32; attention 3*(32*2*32 + 2*32) + 2*32*32 + 32; feed-forward 2*(32*32 + 32);
    # two norms 2*64; the classifier 32*20 + 20 and 20*2 + 2
    assert model.count_params() == 640000 + 6400 + 8416 + 2112 + 128 + 660 + 42
    assert [tuple(w.shape) for w in transformer_block.att.weights] == [
        (32, 2, 32), (2, 32), (32, 2, 32), (2, 32), (32, 2, 32), (2, 32), (2, 32, 32), (32,)]
    losses = history.history["loss"]
    assert len(losses) == 2 and np.isfinite(history.history["val_loss"]).all()
    assert losses[1] < losses[0]
    probabilities = model.predict(x_val, verbose=0)
    assert probabilities.shape == (64, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
