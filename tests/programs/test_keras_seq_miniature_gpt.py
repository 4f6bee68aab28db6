"""keras-io example "Text generation with a miniature GPT", run on chainrule.

Source: https://keras.io/examples/generative/text_generation_with_miniature_gpt/ (keras-team/keras-io,
examples/generative/text_generation_with_miniature_gpt.py, its TensorFlow version: a hand-written causal
multi-head self-attention, `tf.data.TextLineDataset`, TextVectorization with a custom standardization, a model
with two outputs and `loss=[loss_fn, None]`, a callback sampling with `tf.math.top_k`).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` /
  `from tensorflow.keras import layers` / `...layers.experimental.preprocessing import TextVectorization` ->
  the same names from `chainrule.keras`;
- the aclImdb download is replaced by 40 short synthetic reviews, one per text file, in the four folders (more
  than 200 distinct words, so that the vocabulary fills vocab_size - 1 as IMDB's fills 19,999);
- smaller: vocab_size=200 (20000), maxlen=12 (100), embed_dim=16 (256), feed_forward_dim=16 (256),
  batch_size=8 (32), 2 epochs (30), 5 generated tokens (40);
- lines marked `# test:` check what the program produces.
"""

import os
import random
import string

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers import TextVectorization

SUBJECTS = ["this movie is", "the film was", "the acting is", "the story was"]
VERDICTS = ["great", "terrible", "boring", "wonderful", "funny"]


def write_aclimdb_like(root):
    """test: stands in for aclImdb/{train,test}/{pos,neg}/*.txt, one review per file (with the <br /> tags)."""
    rng = random.Random(0)
    for d, folder in enumerate(["train/pos", "train/neg", "test/pos", "test/neg"]):
        os.makedirs(os.path.join(root, folder))
        for k in range(10):
            words = [f"{rng.choice(SUBJECTS)} {rng.choice(VERDICTS)}." for _ in range(3)]
            words += [" ".join(f"word{rng.randrange(400)}" for _ in range(8))]  # test: a vocabulary above 200 words
            with open(os.path.join(root, folder, f"{k}_{d}.txt"), "w") as f:
                f.write(" <br />".join(words))


def test_miniature_gpt(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the aclImdb folder in a temporary folder
    write_aclimdb_like("aclImdb")  # test
    random.seed(0)  # test

    class MultiHeadSelfAttention(layers.Layer):
        def __init__(self, embed_dim, num_heads=8):
            super(MultiHeadSelfAttention, self).__init__()
            self.embed_dim = embed_dim
            self.num_heads = num_heads
            if embed_dim % num_heads != 0:
                raise ValueError(
                    f"embedding dimension = {embed_dim} should be divisible by number of heads = {num_heads}"
                )
            self.projection_dim = embed_dim // num_heads
            self.query_dense = layers.Dense(embed_dim)
            self.key_dense = layers.Dense(embed_dim)
            self.value_dense = layers.Dense(embed_dim)
            self.combine_heads = layers.Dense(embed_dim)

        @staticmethod
        def causal_attention_mask(n_dest, n_src, dtype):
            """
            1's in the lower triangle, counting from the lower right corner.
            """
            i = tf.range(n_dest)[:, None]
            j = tf.range(n_src)
            m = i >= j - n_src + n_dest
            return tf.cast(m, dtype)

        def attention(self, query, key, value):
            score = tf.matmul(query, key, transpose_b=True)
            dim_key = tf.cast(tf.shape(key)[-1], tf.float32)
            scaled_score = score / tf.math.sqrt(dim_key)

            # prevent information flow from future tokens
            shape = tf.shape(scaled_score)
            dim_dest, dim_src = shape[2], shape[3]
            attention_mask = self.causal_attention_mask(dim_dest, dim_src, scaled_score.dtype)
            attention_mask = tf.reshape(attention_mask, [1, 1, dim_dest, dim_src])
            scaled_score = scaled_score * attention_mask - 1e4 * (1 - attention_mask)

            weights = tf.nn.softmax(scaled_score, axis=-1)
            output = tf.matmul(weights, value)
            return output, weights

        def separate_heads(self, x, batch_size):
            x = tf.reshape(x, (batch_size, -1, self.num_heads, self.projection_dim))
            return tf.transpose(x, perm=[0, 2, 1, 3])

        def call(self, inputs):
            # x.shape = [batch_size, seq_len, embedding_dim]
            batch_size = tf.shape(inputs)[0]
            query = self.query_dense(inputs)  # (batch_size, seq_len, embed_dim)
            key = self.key_dense(inputs)  # (batch_size, seq_len, embed_dim)
            value = self.value_dense(inputs)  # (batch_size, seq_len, embed_dim)
            query = self.separate_heads(query, batch_size)  # (batch_size, num_heads, seq_len, projection_dim)
            key = self.separate_heads(key, batch_size)  # (batch_size, num_heads, seq_len, projection_dim)
            value = self.separate_heads(value, batch_size)  # (batch_size, num_heads, seq_len, projection_dim)
            attention, weights = self.attention(query, key, value)
            attention = tf.transpose(attention, perm=[0, 2, 1, 3])  # (batch_size, seq_len, num_heads, projection_dim)
            concat_attention = tf.reshape(attention, (batch_size, -1, self.embed_dim))  # (batch_size, seq_len, embed_dim)
            output = self.combine_heads(concat_attention)  # (batch_size, seq_len, embed_dim)
            return output

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super(TransformerBlock, self).__init__()
            self.att = MultiHeadSelfAttention(embed_dim, num_heads)
            self.ffn = keras.Sequential(
                [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
            )
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attention_output = self.att(inputs)
            attention_output = self.dropout1(attention_output)
            out1 = self.layernorm1(inputs + attention_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super(TokenAndPositionEmbedding, self).__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = tf.shape(x)[-1]
            positions = tf.range(start=0, limit=maxlen, delta=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    vocab_size = 200  # Only consider the top 20k words
    maxlen = 12  # Max sequence size
    embed_dim = 16  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    feed_forward_dim = 16  # Hidden layer size in feed forward network inside transformer

    def create_model():
        inputs = layers.Input(shape=(maxlen,), dtype=tf.int32)
        embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
        x = embedding_layer(inputs)
        transformer_block = TransformerBlock(embed_dim, num_heads, feed_forward_dim)
        x = transformer_block(x)
        outputs = layers.Dense(vocab_size)(x)
        model = keras.Model(inputs=inputs, outputs=[outputs, x])
        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(
            "adam", loss=[loss_fn, None],
        )  # No loss and optimization based on word embeddings from transformer block
        return model

    batch_size = 8

    # The dataset contains each review in a separate text file
    # The text files are present in four different folders
    # Create a list all files
    filenames = []
    directories = [
        "aclImdb/train/pos",
        "aclImdb/train/neg",
        "aclImdb/test/pos",
        "aclImdb/test/neg",
    ]
    for dir in directories:
        for f in os.listdir(dir):
            filenames.append(os.path.join(dir, f))

    print(f"{len(filenames)} files")

    # Create a dataset from text files
    random.shuffle(filenames)
    text_ds = tf.data.TextLineDataset(filenames)
    text_ds = text_ds.shuffle(buffer_size=256)
    text_ds = text_ds.batch(batch_size)

    def custom_standardization(input_string):
        """ Remove html line-break tags and handle punctuation """
        lowercased = tf.strings.lower(input_string)
        stripped_html = tf.strings.regex_replace(lowercased, "<br />", " ")
        return tf.strings.regex_replace(stripped_html, f"([{string.punctuation}])", r" \1")

    # Create a vectorization layer and adapt it to the text
    vectorize_layer = TextVectorization(
        standardize=custom_standardization,
        max_tokens=vocab_size - 1,
        output_mode="int",
        output_sequence_length=maxlen + 1,
    )
    vectorize_layer.adapt(text_ds)
    vocab = vectorize_layer.get_vocabulary()  # To get words back from token indices
    # test: the padding and OOV tokens first, punctuation split off as its own token, no <br /> left
    assert vocab[:2] == ["", "[UNK]"] and "." in vocab and "movie" in vocab and not any("<" in w for w in vocab)

    def prepare_lm_inputs_labels(text):
        """
        Shift word sequences by 1 position so that the target for position (i) is
        word at position (i+1). The model will use all words up till position (i)
        to predict the next word.
        """
        text = tf.expand_dims(text, -1)
        tokenized_sentences = vectorize_layer(text)
        x = tokenized_sentences[:, :-1]
        y = tokenized_sentences[:, 1:]
        return x, y

    text_ds = text_ds.map(prepare_lm_inputs_labels)
    text_ds = text_ds.prefetch(tf.data.experimental.AUTOTUNE)
    for x_batch, y_batch in text_ds.take(1):  # test: inputs and labels shifted by one word
        assert tuple(x_batch.shape) == (batch_size, maxlen) and tuple(y_batch.shape) == (batch_size, maxlen)
        np.testing.assert_array_equal(np.asarray(x_batch)[:, 1:], np.asarray(y_batch)[:, :-1])

    generated = []  # test

    class TextGenerator(keras.callbacks.Callback):
        """A callback to generate text from a trained model.
        1. Feed some starting prompt to the model
        2. Predict probabilities for the next token
        3. Sample the next token and add it to the next input

        Args:
            max_tokens: Integer, the number of tokens to be generated after prompt.
            start_tokens: List of integers, the token indices for the starting prompt.
            index_to_word: List of strings, obtained from the TextVectorization layer.
            top_k: Integer, sample from the `top_k` token predictions.
            print_every: Integer, print after this many epochs.
        """

        def __init__(self, max_tokens, start_tokens, index_to_word, top_k=10, print_every=1):
            self.max_tokens = max_tokens
            self.start_tokens = start_tokens
            self.index_to_word = index_to_word
            self.print_every = print_every
            self.k = top_k

        def sample_from(self, logits):
            logits, indices = tf.math.top_k(logits, k=self.k, sorted=True)
            indices = np.asarray(indices).astype("int32")
            preds = keras.activations.softmax(tf.expand_dims(logits, 0))[0]
            preds = np.asarray(preds).astype("float32")
            return np.random.choice(indices, p=preds)

        def detokenize(self, number):
            return self.index_to_word[number]

        def on_epoch_end(self, epoch, logs=None):
            start_tokens = [_ for _ in self.start_tokens]
            if (epoch + 1) % self.print_every != 0:
                return
            num_tokens_generated = 0
            tokens_generated = []
            while num_tokens_generated <= self.max_tokens:
                pad_len = maxlen - len(start_tokens)
                sample_index = len(start_tokens) - 1
                if pad_len < 0:
                    x = start_tokens[:maxlen]
                    sample_index = maxlen - 1
                elif pad_len > 0:
                    x = start_tokens + [0] * pad_len
                else:
                    x = start_tokens
                x = np.array([x])
                y, _ = self.model.predict(x)
                sample_token = self.sample_from(y[0][sample_index])
                tokens_generated.append(sample_token)
                start_tokens.append(sample_token)
                num_tokens_generated = len(tokens_generated)
            txt = " ".join([self.detokenize(_) for _ in self.start_tokens + tokens_generated])
            print(f"generated text:\n{txt}\n")
            generated.append(txt)  # test

    # Tokenize starting prompt
    word_to_index = {}
    for index, word in enumerate(vocab):
        word_to_index[word] = index

    start_prompt = "this movie is"
    start_tokens = [word_to_index.get(_, 1) for _ in start_prompt.split()]
    num_tokens_generated = 5
    text_gen_callback = TextGenerator(num_tokens_generated, start_tokens, vocab)

    model = create_model()

    history = model.fit(text_ds, verbose=2, epochs=2, callbacks=[text_gen_callback])

    # test: the loss falls, the two outputs' shapes, and a generation per epoch that starts with the prompt
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [tuple(o.shape) for o in model.outputs] == [(None, maxlen, vocab_size), (None, maxlen, embed_dim)]
    assert len(generated) == 2 and all(t.startswith("this movie is ") for t in generated)
    assert all(len(t.split(" ")) == 3 + num_tokens_generated + 1 for t in generated)
    assert "40 files" in capsys.readouterr().out
    # test: the causal mask keeps a later token from changing an earlier position's logits
    tokens = np.array([start_tokens + [0] * (maxlen - 3)])
    changed = tokens.copy()
    changed[0, 5] = word_to_index["great"]
    logits_a, _ = model.predict(tokens, verbose=0)
    logits_b, _ = model.predict(changed, verbose=0)
    np.testing.assert_allclose(logits_a[0, :5], logits_b[0, :5], rtol=1e-4, atol=1e-5)
    assert not np.allclose(logits_a[0, 5], logits_b[0, 5])


def test_text_line_dataset_reads_lines_file_after_file(tmp_path):
    import gzip
    import zlib

    (tmp_path / "a.txt").write_bytes(b"first\r\nsecond\n\nlast without newline")
    with gzip.open(tmp_path / "b.txt.gz", "wb") as f:
        f.write("gzip line\nd\u00e9j\u00e0 vu\n".encode("utf-8"))
    (tmp_path / "c.z").write_bytes(zlib.compress(b"zlib one\nzlib two\n"))
    ds = tf.data.TextLineDataset([str(tmp_path / "a.txt")])
    assert list(ds.as_numpy_iterator()) == [b"first", b"second", b"", b"last without newline"]
    assert ds.element_spec.dtype == tf.string and ds.element_spec.shape == ()
    gz = tf.data.TextLineDataset(str(tmp_path / "b.txt.gz"), compression_type="GZIP")
    assert list(gz.as_numpy_iterator()) == [b"gzip line", "d\u00e9j\u00e0 vu".encode("utf-8")]
    both = tf.data.TextLineDataset(tf.constant([str(tmp_path / "c.z"), str(tmp_path / "c.z")]), compression_type="ZLIB")
    assert next(both.batch(3).as_numpy_iterator()).tolist() == [b"zlib one", b"zlib two", b"zlib one"]
    with pytest.raises(ValueError, match="compression_type"):
        tf.data.TextLineDataset(str(tmp_path / "a.txt"), compression_type="BZ2")


def test_one_target_for_the_one_output_with_a_loss():
    # test: Keras's compile(loss=[loss, None]) on a two-output model takes y for the output that has the loss
    inputs = layers.Input(shape=(3,))
    hidden = layers.Dense(4, name="hidden")(inputs)
    outputs = layers.Dense(2, name="head")(hidden)
    model = keras.Model(inputs, [hidden, outputs])
    model.compile("sgd", loss=[None, "mse"])
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    expected = np.mean(model.predict(x, verbose=0)[1] ** 2)
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)
    model.compile("sgd", loss=["mse", "mse"])
    with pytest.raises(ValueError, match="2 outputs but 1 targets"):
        model.evaluate(x, y, verbose=0)
