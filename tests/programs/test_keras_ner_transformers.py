"""keras-io example "Named Entity Recognition using Transformers", run on chainrule.

Source: https://keras.io/examples/nlp/ner_transformers/ (keras-team/keras-io, examples/nlp/ner_transformers.py,
"Last modified: Jun 24, 2021").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- HuggingFace's `datasets.load_dataset("conll2003")` is replaced by `load_dataset` below: 120 training and 40
  validation sentences of 3-14 synthetic tokens with CoNLL's 9 tag ids (0-8); the conlleval script's `evaluate` by
  a stand-in printing the tag accuracy (the example only prints what it returns);
- `epochs=10` is 2; the data folder is made in a temporary working folder;
- lines marked `# test:` check what the program produces.

What it relies on: TextLineDataset; tf.strings.split/to_number/lower inside Dataset.map, slicing a string tensor with
a tensor bound (`record[1 : length + 1]`); StringLookup inside map; padded_batch; a Loss subclass using
SparseCategoricalCrossentropy(reduction=keras.losses.Reduction.NONE) (from_logits=True on softmax outputs warns, as
Keras does); a subclassed Model whose call takes `training=False`.
"""

import os
from collections import Counter

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

N_TRAIN, N_VAL = 120, 40  # test: the synthetic data's size (CoNLL 2003: 14041, 3250 sentences)
EPOCHS = 2  # test: the example's 10


def load_dataset(name, seed=0):
    """test: stands in for datasets.load_dataset("conll2003"): splits whose records have "tokens" and "ner_tags",
    and whose column (`split["tokens"]`) is the list of every record's tokens."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)] + ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb"]

    class Split(list):
        def __getitem__(self, key):
            if isinstance(key, str):
                return [record[key] for record in self]
            return list.__getitem__(self, key)

    def split(n):
        records = Split()
        for _ in range(n):
            length = int(rng.integers(3, 15))
            records.append({"tokens": [words[i] for i in rng.integers(0, len(words), length)],
                            "ner_tags": [int(t) for t in rng.integers(0, 9, length)]})
        return records

    return {"train": split(N_TRAIN), "validation": split(N_VAL)}


def evaluate(true_seqs, pred_seqs):
    """test: stands in for conlleval.evaluate: prints the share of tags predicted right, returns their count."""
    correct = sum(t == p for t, p in zip(true_seqs, pred_seqs))
    print(f"accuracy: {100 * correct / max(len(true_seqs), 1):.2f}%")
    return correct


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super(TransformerBlock, self).__init__()
        self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([keras.layers.Dense(ff_dim, activation="relu"), keras.layers.Dense(embed_dim)])
        self.layernorm1 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = keras.layers.Dropout(rate)
        self.dropout2 = keras.layers.Dropout(rate)
    def call(self, inputs, training=False):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)

class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super(TokenAndPositionEmbedding, self).__init__()
        self.token_emb = keras.layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = keras.layers.Embedding(input_dim=maxlen, output_dim=embed_dim)
    def call(self, inputs):
        maxlen = tf.shape(inputs)[-1]
        positions = tf.range(start=0, limit=maxlen, delta=1)
        position_embeddings = self.pos_emb(positions)
        token_embeddings = self.token_emb(inputs)
        return token_embeddings + position_embeddings

class NERModel(keras.Model):
    def __init__(self, num_tags, vocab_size, maxlen=128, embed_dim=32, num_heads=2, ff_dim=32):
        super(NERModel, self).__init__()
        self.embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
        self.transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
        self.dropout1 = layers.Dropout(0.1)
        self.ff = layers.Dense(ff_dim, activation="relu")
        self.dropout2 = layers.Dropout(0.1)
        self.ff_final = layers.Dense(num_tags, activation="softmax")
    def call(self, inputs, training=False):
        x = self.embedding_layer(inputs)
        x = self.transformer_block(x)
        x = self.dropout1(x, training=training)
        x = self.ff(x)
        x = self.dropout2(x, training=training)
        x = self.ff_final(x)
        return x


def test_ner_transformers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example writes ./data/conll_*.txt
    conll_data = load_dataset("conll2003")

    def export_to_file(export_file_path, data):
        with open(export_file_path, "w") as f:
            for record in data:
                ner_tags = record["ner_tags"]
                tokens = record["tokens"]
                if len(tokens) > 0:
                    f.write(str(len(tokens)) + "\t" + "\t".join(tokens) + "\t" + "\t".join(map(str, ner_tags)) + "\n")

    os.mkdir("data")
    export_to_file("./data/conll_train.txt", conll_data["train"])
    export_to_file("./data/conll_val.txt", conll_data["validation"])

    def make_tag_lookup_table():
        iob_labels = ["B", "I"]
        ner_labels = ["PER", "ORG", "LOC", "MISC"]
        all_labels = [(label1, label2) for label2 in ner_labels for label1 in iob_labels]
        all_labels = ["-".join([a, b]) for a, b in all_labels]
        all_labels = ["[PAD]", "O"] + all_labels
        return dict(zip(range(0, len(all_labels) + 1), all_labels))

    mapping = make_tag_lookup_table()
    print(mapping)
    all_tokens = sum(conll_data["train"]["tokens"], [])
    all_tokens_array = np.array(list(map(str.lower, all_tokens)))
    counter = Counter(all_tokens_array)
    print(len(counter))
    num_tags = len(mapping)
    vocab_size = 20000
    vocabulary = [token for token, count in counter.most_common(vocab_size - 2)]
    lookup_layer = keras.layers.StringLookup(vocabulary=vocabulary)
    train_data = tf.data.TextLineDataset("./data/conll_train.txt")
    val_data = tf.data.TextLineDataset("./data/conll_val.txt")
    print(list(train_data.take(1).as_numpy_iterator()))

    def map_record_to_training_data(record):
        record = tf.strings.split(record, sep="\t")
        length = tf.strings.to_number(record[0], out_type=tf.int32)
        tokens = record[1 : length + 1]
        tags = record[length + 1 :]
        tags = tf.strings.to_number(tags, out_type=tf.int64)
        tags += 1
        return tokens, tags

    def lowercase_and_convert_to_ids(tokens):
        tokens = tf.strings.lower(tokens)
        return lookup_layer(tokens)

    batch_size = 32
    train_dataset = (train_data.map(map_record_to_training_data).map(lambda x, y: (lowercase_and_convert_to_ids(x), y)).padded_batch(batch_size))
    val_dataset = (val_data.map(map_record_to_training_data).map(lambda x, y: (lowercase_and_convert_to_ids(x), y)).padded_batch(batch_size))
    ner_model = NERModel(num_tags, vocab_size, embed_dim=32, num_heads=4, ff_dim=64)

    class CustomNonPaddingTokenLoss(keras.losses.Loss):
        def __init__(self, name="custom_ner_loss"):
            super().__init__(name=name)
        def call(self, y_true, y_pred):
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=keras.losses.Reduction.NONE)
            loss = loss_fn(y_true, y_pred)
            mask = tf.cast((y_true > 0), dtype=tf.float32)
            loss = loss * mask
            return tf.reduce_sum(loss) / tf.reduce_sum(mask)

    loss = CustomNonPaddingTokenLoss()
    ner_model.compile(optimizer="adam", loss=loss)
    history = ner_model.fit(train_dataset, epochs=EPOCHS)

    def tokenize_and_convert_to_ids(text):
        tokens = text.split()
        return lowercase_and_convert_to_ids(tokens)

    sample_input = tokenize_and_convert_to_ids("eu rejects german call to boycott british lamb")
    sample_input = tf.reshape(sample_input, shape=[1, -1])
    print(sample_input)
    output = ner_model.predict(sample_input)
    prediction = np.argmax(output, axis=-1)[0]
    prediction = [mapping[i] for i in prediction]
    print(prediction)

    def calculate_metrics(dataset):
        all_true_tag_ids, all_predicted_tag_ids = [], []
        for x, y in dataset:
            output = ner_model.predict(x)
            predictions = np.argmax(output, axis=-1)
            predictions = np.reshape(predictions, [-1])
            true_tag_ids = np.reshape(y, [-1])
            mask = (true_tag_ids > 0) & (predictions > 0)
            true_tag_ids = true_tag_ids[mask]
            predicted_tag_ids = predictions[mask]
            all_true_tag_ids.append(true_tag_ids)
            all_predicted_tag_ids.append(predicted_tag_ids)
        all_true_tag_ids = np.concatenate(all_true_tag_ids)
        all_predicted_tag_ids = np.concatenate(all_predicted_tag_ids)
        predicted_tags = [mapping[tag] for tag in all_predicted_tag_ids]
        real_tags = [mapping[tag] for tag in all_true_tag_ids]
        return evaluate(real_tags, predicted_tags)

    correct = calculate_metrics(val_dataset)

    # test: one tag distribution per token; the padded batches hold the longest sentence of each batch
    assert output.shape == (1, 8, num_tags) and len(prediction) == 8
    np.testing.assert_allclose(output.sum(axis=-1), 1.0, rtol=1e-5)
    x, y = next(iter(train_dataset))
    assert x.shape == y.shape and x.shape[0] == batch_size and x.shape[1] <= 14
    assert set(np.unique(y.numpy())) <= set(range(10)) and 0 in y.numpy()  # 0: the padding, tags shifted to 1-9
    assert len(history.history["loss"]) == EPOCHS and np.isfinite(history.history["loss"]).all()
    assert sample_input.shape == (1, 8) and sample_input.dtype == tf.int64
    assert 0 <= correct
