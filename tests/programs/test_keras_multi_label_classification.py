"""keras-io example "Large-scale multi-label text classification", run on chainrule.

Source: https://keras.io/examples/nlp/multi_label_classification/ (keras-team/keras-io,
examples/nlp/multi_label_classification.py, "Last modified: 2020/12/23").

The example's code is kept as written, except:
- the import lines: `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow import keras` -> `from chainrule import keras`, `import tensorflow as tf` -> `import chainrule as
  tf`; scikit-learn is not installed: `train_test_split` (with `stratify`) is a stand-in below;
- arxiv_data.csv (`pd.read_csv(url)`, 51,774 rows) is replaced by a DataFrame of its three columns with 600
  synthetic rows (`arxiv_like` below);
- `epochs = 20` is 2; the inference demo samples 10 test rows instead of 100 (the synthetic test split has 29);
  the plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.

What it relies on: tf.ragged.constant of a pandas column of lists (an object array); StringLookup(output_mode=
"multi_hot") adapted on, and called on, a RaggedTensor of label lists (one multi-hot row per list); TextVectorization
with ngrams=2 and tf_idf adapted on a mapped Dataset; a Sequential of [TextVectorization, model] predicting from raw
strings.
"""

from ast import literal_eval

import numpy as np
import pandas as pd
import matplotlib

matplotlib.use("Agg")  # test: no display

from chainrule.keras import layers
from chainrule import keras
import chainrule as tf
import matplotlib.pyplot as plt

N_ROWS = 600  # test: the synthetic data's size (arXiv abstracts: 51,774 rows)
EPOCHS = 2  # test: the example's 20
N_INFERENCE = 10  # test: the example samples 100 test rows


def train_test_split(data, test_size=0.25, stratify=None, random_state=None):
    """test: stands in for sklearn.model_selection.train_test_split with `stratify` (scikit-learn is not installed):
    ceil(test_size) of each stratum's rows go to the test split."""
    rng = np.random.RandomState(random_state)
    keys = np.asarray([str(k) for k in stratify]) if stratify is not None else np.zeros(len(data), str)
    test_rows = []
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        rng.shuffle(rows)
        test_rows.extend(rows[: int(np.ceil(test_size * len(rows)))] if len(rows) > 1 else [])
    mask = np.zeros(len(data), bool); mask[test_rows] = True
    return data[~mask], data[mask]

def arxiv_like(n=N_ROWS, seed=0):
    """test: stands in for arxiv_data.csv: titles (40 duplicated), summaries (words drawn from each term's own pool
    and a common one) and terms (the string of a list of arXiv categories; the last 5 rows have unique ones)."""
    rng = np.random.default_rng(seed)
    areas = ["cs.CV", "cs.LG", "stat.ML", "cs.AI", "eess.IV", "cs.CL"]
    words = {a: [f"{a.replace('.', '')}word{i}" for i in range(30)] for a in areas}
    common = [f"common{i}" for i in range(200)]
    combos = [["cs.CV"], ["cs.LG"], ["cs.CV", "cs.LG"], ["cs.LG", "stat.ML"], ["cs.CV", "eess.IV"], ["cs.CL"], ["cs.AI", "cs.LG"], ["cs.CL", "cs.AI"]]
    rows = []
    for i in range(n):
        terms = combos[rng.integers(len(combos))] if i < n - 5 else [areas[i % 6], "q-bio.NC" + str(i)]
        text = list(rng.choice(common, 40))
        for t in terms:
            text += list(rng.choice(words.get(t, common), 10))
        rng.shuffle(text)
        rows.append({"titles": f"Title {i if i >= 80 else i // 2}", "summaries": " ".join(text), "terms": str(terms)})
    return pd.DataFrame(rows)


def test_multi_label_classification():
    arxiv_data = arxiv_like()
    arxiv_data.head()
    print(f"There are {len(arxiv_data)} rows in the dataset.")
    total_duplicate_titles = sum(arxiv_data["titles"].duplicated())
    print(f"There are {total_duplicate_titles} duplicate titles.")
    arxiv_data = arxiv_data[~arxiv_data["titles"].duplicated()]
    print(f"There are {len(arxiv_data)} rows in the deduplicated dataset.")
    print(sum(arxiv_data["terms"].value_counts() == 1))
    print(arxiv_data["terms"].nunique())
    arxiv_data_filtered = arxiv_data.groupby("terms").filter(lambda x: len(x) > 1)
    arxiv_data_filtered.shape
    arxiv_data_filtered["terms"] = arxiv_data_filtered["terms"].apply(lambda x: literal_eval(x))
    arxiv_data_filtered["terms"].values[:5]
    test_split = 0.1
    train_df, test_df = train_test_split(arxiv_data_filtered, test_size=test_split, stratify=arxiv_data_filtered["terms"].values)
    val_df = test_df.sample(frac=0.5)
    test_df.drop(val_df.index, inplace=True)
    print(f"Number of rows in training set: {len(train_df)}")
    print(f"Number of rows in validation set: {len(val_df)}")
    print(f"Number of rows in test set: {len(test_df)}")
    terms = tf.ragged.constant(train_df["terms"].values)
    lookup = tf.keras.layers.StringLookup(output_mode="multi_hot")
    lookup.adapt(terms)
    vocab = lookup.get_vocabulary()

    def invert_multi_hot(encoded_labels):
        hot_indices = np.argwhere(encoded_labels == 1.0)[..., 0]
        return np.take(vocab, hot_indices)

    print("Vocabulary:\n")
    print(vocab)
    sample_label = train_df["terms"].iloc[0]
    print(f"Original label: {sample_label}")
    label_binarized = lookup([sample_label])
    print(f"Label-binarized representation: {label_binarized}")
    train_df["summaries"].apply(lambda x: len(x.split(" "))).describe()
    max_seqlen = 150
    batch_size = 128
    padding_token = "<pad>"
    auto = tf.data.AUTOTUNE

    def make_dataset(dataframe, is_train=True):
        labels = tf.ragged.constant(dataframe["terms"].values)
        label_binarized = lookup(labels).numpy()
        dataset = tf.data.Dataset.from_tensor_slices((dataframe["summaries"].values, label_binarized))
        dataset = dataset.shuffle(batch_size * 10) if is_train else dataset
        return dataset.batch(batch_size)

    train_dataset = make_dataset(train_df, is_train=True)
    validation_dataset = make_dataset(val_df, is_train=False)
    test_dataset = make_dataset(test_df, is_train=False)
    text_batch, label_batch = next(iter(train_dataset))
    for i, text in enumerate(text_batch[:5]):
        label = label_batch[i].numpy()[None, ...]
        print(f"Abstract: {text}")
        print(f"Label(s): {invert_multi_hot(label[0])}")
        print(" ")
    vocabulary = set()
    train_df["summaries"].str.lower().str.split().apply(vocabulary.update)
    vocabulary_size = len(vocabulary)
    print(vocabulary_size)
    text_vectorizer = layers.TextVectorization(max_tokens=vocabulary_size, ngrams=2, output_mode="tf_idf")
    with tf.device("/CPU:0"):
        text_vectorizer.adapt(train_dataset.map(lambda text, label: text))
    train_dataset = train_dataset.map(lambda text, label: (text_vectorizer(text), label), num_parallel_calls=auto).prefetch(auto)
    validation_dataset = validation_dataset.map(lambda text, label: (text_vectorizer(text), label), num_parallel_calls=auto).prefetch(auto)
    test_dataset = test_dataset.map(lambda text, label: (text_vectorizer(text), label), num_parallel_calls=auto).prefetch(auto)

    def make_model():
        shallow_mlp_model = keras.Sequential(
            [
                layers.Dense(512, activation="relu"),
                layers.Dense(256, activation="relu"),
                layers.Dense(lookup.vocabulary_size(), activation="sigmoid"),
            ]  # More on why "sigmoid" has been used here in a moment.
        )
        return shallow_mlp_model

    epochs = EPOCHS
    shallow_mlp_model = make_model()
    shallow_mlp_model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["categorical_accuracy"])
    history = shallow_mlp_model.fit(train_dataset, validation_data=validation_dataset, epochs=epochs)

    def plot_result(item):
        plt.plot(history.history[item], label=item)
        plt.plot(history.history["val_" + item], label="val_" + item)
        plt.xlabel("Epochs")
        plt.ylabel(item)
        plt.title("Train and Validation {} Over Epochs".format(item), fontsize=14)
        plt.legend()
        plt.grid()
        plt.show()

    plot_result("loss")
    plot_result("categorical_accuracy")
    _, categorical_acc = shallow_mlp_model.evaluate(test_dataset)
    print(f"Categorical accuracy on the test set: {round(categorical_acc * 100, 2)}%.")
    model_for_inference = keras.Sequential([text_vectorizer, shallow_mlp_model])
    inference_dataset = make_dataset(test_df.sample(N_INFERENCE), is_train=False)
    text_batch, label_batch = next(iter(inference_dataset))
    predicted_probabilities = model_for_inference.predict(text_batch)
    for i, text in enumerate(text_batch[:5]):
        label = label_batch[i].numpy()[None, ...]
        print(f"Abstract: {text}")
        print(f"Label(s): {invert_multi_hot(label[0])}")
        predicted_proba = [proba for proba in predicted_probabilities[i]]
        top_3_labels = [x for _, x in sorted(zip(predicted_probabilities[i], lookup.get_vocabulary()), key=lambda pair: pair[0], reverse=True)][:3]
        print(f"Predicted Label(s): ({', '.join([label for label in top_3_labels])})")
        print(" ")

    # test: the label vocabulary is the OOV token and the 6 categories; each label row is multi-hot
    assert vocab[0] == "[UNK]" and sorted(vocab[1:]) == ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "eess.IV", "stat.ML"]
    assert label_binarized.shape == (1, len(vocab)) and label_binarized.numpy().sum() == len(sample_label)
    assert list(invert_multi_hot(label_binarized.numpy()[0])) == sorted(sample_label, key=vocab.index)
    assert len(train_df) + len(val_df) + len(test_df) == len(arxiv_data_filtered) < len(arxiv_data) < N_ROWS
    assert predicted_probabilities.shape == (N_INFERENCE, len(vocab))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert 0.0 <= categorical_acc <= 1.0
