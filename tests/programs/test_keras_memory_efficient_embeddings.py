"""keras-io example "Memory-efficient embeddings for recommendation systems", run on chainrule.

Source: https://keras.io/examples/keras_recipes/memory_efficient_embeddings/ (keras-team/keras-io,
examples/keras_recipes/memory_efficient_embeddings.py, "Last modified: 2021/02/15").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras.layers import StringLookup` -> `from chainrule.keras.layers import StringLookup`;
- MovieLens 1M (`urlretrieve(...ml-1m.zip)`, `pd.read_csv("ml-1m/ratings.dat", ...)`) is replaced by a DataFrame of
  the same columns: 6000 synthetic ratings of 2500 users and 1800 movies (every user and movie rated at least once,
  movie popularity Zipf-like, as the real one), so the example's blocks (400 / 1300 / the rest of the movies) and
  its `len(user_vocabulary) // 50` quotient-remainder buckets keep their meaning;
- `num_epochs = 3` is 1; the CSV files go to a temporary folder; the plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.

What it relies on: tf.data.experimental.make_csv_dataset with `field_delim`; StringLookup with
`num_oov_indices=0` inside a Sequential first called on a string keras.Input (the Sequential's input is a string one;
the symbolic call does not look up made-up values); `keras.activations.sigmoid` on a symbolic tensor;
tf.lookup.StaticHashTable with a KeyValueTensorInitializer; tf.math.floordiv/floormod on int64 indices.
"""

import numpy as np
import pandas as pd
import matplotlib

matplotlib.use("Agg")  # test: no display

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers import StringLookup
import matplotlib.pyplot as plt

N_USERS, N_MOVIES, N_RATINGS = 2500, 1800, 6000  # test: the synthetic data's size (MovieLens 1M: 6040, 3706, 1000209)
NUM_EPOCHS = 1  # test: the example's 3


def movielens_like(seed=0):
    """test: stands in for ml-1m/ratings.dat: user_id, movie_id, rating (1-5), unix_timestamp."""
    rng = np.random.default_rng(seed)
    popular = rng.zipf(1.5, size=N_RATINGS) % N_MOVIES
    users = np.concatenate([np.arange(N_USERS), rng.integers(0, N_USERS, N_RATINGS - N_USERS)])
    movies = np.concatenate([np.arange(N_MOVIES), popular[: N_RATINGS - N_MOVIES]])
    return pd.DataFrame({"user_id": users + 1, "movie_id": movies + 1, "rating": rng.integers(1, 6, N_RATINGS),
                         "unix_timestamp": rng.integers(956703932, 1046454590, N_RATINGS)})


def test_memory_efficient_embeddings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example writes its CSV files to the working folder
    ratings_data = movielens_like()

    ratings_data["movie_id"] = ratings_data["movie_id"].apply(lambda x: f"movie_{x}")
    ratings_data["user_id"] = ratings_data["user_id"].apply(lambda x: f"user_{x}")
    ratings_data["rating"] = ratings_data["rating"].apply(lambda x: float(x))
    del ratings_data["unix_timestamp"]

    print(f"Number of users: {len(ratings_data.user_id.unique())}")
    print(f"Number of movies: {len(ratings_data.movie_id.unique())}")
    print(f"Number of ratings: {len(ratings_data.index)}")
    random_selection = np.random.rand(len(ratings_data.index)) <= 0.85
    train_data = ratings_data[random_selection]
    eval_data = ratings_data[~random_selection]

    train_data.to_csv("train_data.csv", index=False, sep="|", header=False)
    eval_data.to_csv("eval_data.csv", index=False, sep="|", header=False)
    print(f"Train data split: {len(train_data.index)}")
    print(f"Eval data split: {len(eval_data.index)}")
    print("Train and eval data files are saved.")
    csv_header = list(ratings_data.columns)
    user_vocabulary = list(ratings_data.user_id.unique())
    movie_vocabulary = list(ratings_data.movie_id.unique())
    target_feature_name = "rating"
    learning_rate = 0.001
    batch_size = 128
    num_epochs = NUM_EPOCHS
    base_embedding_dim = 64

    def get_dataset_from_csv(csv_file_path, batch_size=128, shuffle=True):
        return tf.data.experimental.make_csv_dataset(
            csv_file_path,
            batch_size=batch_size,
            column_names=csv_header,
            label_name=target_feature_name,
            num_epochs=1,
            header=False,
            field_delim="|",
            shuffle=shuffle,
        )

    def run_experiment(model):
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=tf.keras.losses.MeanSquaredError(),
            metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
        )
        train_dataset = get_dataset_from_csv("train_data.csv", batch_size)
        eval_dataset = get_dataset_from_csv("eval_data.csv", batch_size, shuffle=False)
        history = model.fit(
            train_dataset,
            epochs=num_epochs,
            validation_data=eval_dataset,
        )
        return history

    def embedding_encoder(vocabulary, embedding_dim, num_oov_indices=0, name=None):
        return keras.Sequential(
            [
                StringLookup(
                    vocabulary=vocabulary, mask_token=None, num_oov_indices=num_oov_indices
                ),
                layers.Embedding(
                    input_dim=len(vocabulary) + num_oov_indices, output_dim=embedding_dim
                ),
            ],
            name=f"{name}_embedding" if name else None,
        )

    def create_baseline_model():
        user_input = layers.Input(name="user_id", shape=(), dtype=tf.string)
        user_embedding = embedding_encoder(
            vocabulary=user_vocabulary, embedding_dim=base_embedding_dim, name="user"
        )(user_input)
        movie_input = layers.Input(name="movie_id", shape=(), dtype=tf.string)
        movie_embedding = embedding_encoder(
            vocabulary=movie_vocabulary, embedding_dim=base_embedding_dim, name="movie"
        )(movie_input)
        logits = layers.Dot(axes=1, name="dot_similarity")(
            [user_embedding, movie_embedding]
        )
        prediction = keras.activations.sigmoid(logits) * 5
        model = keras.Model(
            inputs=[user_input, movie_input], outputs=prediction, name="baseline_model"
        )
        return model

    baseline_model = create_baseline_model()
    baseline_model.summary()
    history = run_experiment(baseline_model)
    plt.plot(history.history["loss"])
    plt.plot(history.history["val_loss"])
    plt.title("model loss")
    plt.ylabel("loss")
    plt.xlabel("epoch")
    plt.legend(["train", "eval"], loc="upper left")
    plt.show()

    class QREmbedding(keras.layers.Layer):
        def __init__(self, vocabulary, embedding_dim, num_buckets, name=None):
            super(QREmbedding, self).__init__(name=name)
            self.num_buckets = num_buckets

            self.index_lookup = StringLookup(
                vocabulary=vocabulary, mask_token=None, num_oov_indices=0
            )
            self.q_embeddings = layers.Embedding(
                num_buckets,
                embedding_dim,
            )
            self.r_embeddings = layers.Embedding(
                num_buckets,
                embedding_dim,
            )

        def call(self, inputs):
            embedding_index = self.index_lookup(inputs)
            quotient_index = tf.math.floordiv(embedding_index, self.num_buckets)
            remainder_index = tf.math.floormod(embedding_index, self.num_buckets)
            quotient_embedding = self.q_embeddings(quotient_index)
            remainder_embedding = self.r_embeddings(remainder_index)
            return quotient_embedding * remainder_embedding

    class MDEmbedding(keras.layers.Layer):
        def __init__(
            self, blocks_vocabulary, blocks_embedding_dims, base_embedding_dim, name=None
        ):
            super(MDEmbedding, self).__init__(name=name)
            self.num_blocks = len(blocks_vocabulary)
            keys = []
            values = []
            for block_idx, block_vocab in enumerate(blocks_vocabulary):
                keys.extend(block_vocab)
                values.extend([block_idx] * len(block_vocab))
            self.vocab_to_block = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(keys, values), default_value=-1
            )
            self.block_embedding_encoders = []
            self.block_embedding_projectors = []
            for idx in range(self.num_blocks):
                vocabulary = blocks_vocabulary[idx]
                embedding_dim = blocks_embedding_dims[idx]
                block_embedding_encoder = embedding_encoder(
                    vocabulary, embedding_dim, num_oov_indices=1
                )
                self.block_embedding_encoders.append(block_embedding_encoder)
                if embedding_dim == base_embedding_dim:
                    self.block_embedding_projectors.append(layers.Lambda(lambda x: x))
                else:
                    self.block_embedding_projectors.append(
                        layers.Dense(units=base_embedding_dim)
                    )

        def call(self, inputs):
            block_indicies = self.vocab_to_block.lookup(inputs)
            embeddings = tf.zeros(shape=(tf.shape(inputs)[0], base_embedding_dim))
            for idx in range(self.num_blocks):
                block_embeddings = self.block_embedding_encoders[idx](inputs)
                block_embeddings = self.block_embedding_projectors[idx](block_embeddings)
                mask = tf.expand_dims(tf.cast(block_indicies == idx, tf.dtypes.float32), 1)
                block_embeddings = block_embeddings * mask
                embeddings += block_embeddings
            return embeddings

    movie_frequencies = ratings_data["movie_id"].value_counts()
    movie_frequencies.hist(bins=10)
    sorted_movie_vocabulary = list(movie_frequencies.keys())
    movie_blocks_vocabulary = [
        sorted_movie_vocabulary[:400],
        sorted_movie_vocabulary[400:1700],
        sorted_movie_vocabulary[1700:],
    ]
    movie_blocks_embedding_dims = [64, 32, 16]
    user_embedding_num_buckets = len(user_vocabulary) // 50

    def create_memory_efficient_model():
        user_input = layers.Input(name="user_id", shape=(), dtype=tf.string)
        user_embedding = QREmbedding(
            vocabulary=user_vocabulary,
            embedding_dim=base_embedding_dim,
            num_buckets=user_embedding_num_buckets,
            name="user_embedding",
        )(user_input)
        movie_input = layers.Input(name="movie_id", shape=(), dtype=tf.string)
        movie_embedding = MDEmbedding(
            blocks_vocabulary=movie_blocks_vocabulary,
            blocks_embedding_dims=movie_blocks_embedding_dims,
            base_embedding_dim=base_embedding_dim,
            name="movie_embedding",
        )(movie_input)
        logits = layers.Dot(axes=1, name="dot_similarity")(
            [user_embedding, movie_embedding]
        )
        prediction = keras.activations.sigmoid(logits) * 5
        model = keras.Model(
            inputs=[user_input, movie_input], outputs=prediction, name="baseline_model"
        )
        return model

    memory_efficient_model = create_memory_efficient_model()
    memory_efficient_model.summary()
    history = run_experiment(memory_efficient_model)

    # test: Notice that the number of trainable parameters is 5x less than the baseline (here: 275,200 -> 78,512)
    baseline_params = baseline_model.count_params()
    efficient_params = memory_efficient_model.count_params()
    assert baseline_params == (N_USERS + N_MOVIES) * base_embedding_dim
    assert efficient_params == (2 * (N_USERS // 50) * 64 + 401 * 64 + 1301 * 32 + 32 * 64 + 64
                                + (N_MOVIES - 1700 + 1) * 16 + 16 * 64 + 64)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert np.isfinite(history.history["val_loss"][-1])
    # test: every movie gets one block's embedding; the table maps the blocks' movies, -1 elsewhere
    movie_layer = memory_efficient_model.get_layer("movie_embedding")
    blocks = movie_layer.vocab_to_block.lookup(tf.constant([sorted_movie_vocabulary[0], sorted_movie_vocabulary[500],
                                                            sorted_movie_vocabulary[-1], "movie_unknown"]))
    np.testing.assert_array_equal(blocks.numpy(), [0, 1, 2, -1])
    user_layer = memory_efficient_model.get_layer("user_embedding")
    embeddings = user_layer(tf.constant(user_vocabulary[:60])).numpy()
    assert embeddings.shape == (60, base_embedding_dim)
    assert len({row.tobytes() for row in embeddings}) == 60  # the quotient-remainder trick: one vector per user
