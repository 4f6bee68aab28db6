"""keras-io example "A Transformer-based recommendation system" (Behavior Sequence Transformer on MovieLens),
run on chainrule.

Source: https://keras.io/examples/structured_data/movielens_recommendations_transformers/ (keras-team/keras-io,
examples/structured_data/movielens_recommendations_transformers.py).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras.layers import StringLookup` -> `from chainrule.keras.layers import StringLookup`;
- MovieLens 1M (`urlretrieve(...)`, `ZipFile(...).extractall()`) is replaced by synthetic users.dat, movies.dat and
  ratings.dat of 60 users, 100 movies and 1500 ratings in the same format, in a temporary working folder;
- `epochs=5` is 2;
- lines marked `# test:` check what the program produces.

What it relies on: make_csv_dataset with field_delim="|", tf.strings.split(...).to_tensor() and
tf.strings.to_number of a RaggedTensor (which stays ragged) inside Dataset.map, StringLookup on (None, 3) string
inputs, Embedding of a tf.range, tf.unstack of a symbolic tensor, MultiHeadAttention with key_dim from a symbolic
shape, Adagrad.
"""

import os
import math

import numpy as np
import pandas as pd
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers import StringLookup

EPOCHS = 2  # test: the example's 5


def write_movielens_1m_like(folder="ml-1m", n_users=60, n_movies=100, n_ratings=1500, seed=0):
    """test: stands in for ml-1m.zip: users.dat, movies.dat and ratings.dat in MovieLens' "::" format (every user
    with at least 5 ratings, so that each has a sequence of 4)."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    all_genres = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
    with open(f"{folder}/users.dat", "w") as f:
        for u in range(1, n_users + 1):
            f.write(f"{u}::{rng.choice(['F', 'M'])}::{rng.choice([1, 18, 25, 35, 45, 50, 56])}::{rng.integers(0, 21)}::{rng.integers(10000, 99999)}\n")
    with open(f"{folder}/movies.dat", "w", encoding="latin-1") as f:
        for m in range(1, n_movies + 1):
            f.write(f"{m}::Movie {m} (199{m % 10})::{'|'.join(rng.choice(all_genres, rng.integers(1, 4), replace=False))}\n")
    with open(f"{folder}/ratings.dat", "w") as f:
        users = np.concatenate([np.arange(1, n_users + 1).repeat(5), rng.integers(1, n_users + 1, n_ratings - 5 * n_users)])
        for u in users:
            f.write(f"{u}::{rng.integers(1, n_movies + 1)}::{rng.integers(1, 6)}::{rng.integers(956703932, 1046454590)}\n")


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
def test_movielens_recommendations_transformers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_movielens_1m_like()  # test: urlretrieve(...ml-1m.zip) and ZipFile(...).extractall()
    users = pd.read_csv("ml-1m/users.dat", sep="::", names=["user_id", "sex", "age_group", "occupation", "zip_code"])
    ratings = pd.read_csv("ml-1m/ratings.dat", sep="::", names=["user_id", "movie_id", "rating", "unix_timestamp"])
    movies = pd.read_csv("ml-1m/movies.dat", sep="::", names=["movie_id", "title", "genres"])
    users["user_id"] = users["user_id"].apply(lambda x: f"user_{x}")
    users["age_group"] = users["age_group"].apply(lambda x: f"group_{x}")
    users["occupation"] = users["occupation"].apply(lambda x: f"occupation_{x}")
    movies["movie_id"] = movies["movie_id"].apply(lambda x: f"movie_{x}")
    ratings["movie_id"] = ratings["movie_id"].apply(lambda x: f"movie_{x}")
    ratings["user_id"] = ratings["user_id"].apply(lambda x: f"user_{x}")
    ratings["rating"] = ratings["rating"].apply(lambda x: float(x))
    genres = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
    for genre in genres:
        movies[genre] = movies["genres"].apply(lambda values: int(genre in values.split("|")))
    ratings_group = ratings.sort_values(by=["unix_timestamp"]).groupby("user_id")
    ratings_data = pd.DataFrame(data={"user_id": list(ratings_group.groups.keys()), "movie_ids": list(ratings_group.movie_id.apply(list)), "ratings": list(ratings_group.rating.apply(list)), "timestamps": list(ratings_group.unix_timestamp.apply(list))})
    sequence_length = 4
    step_size = 2
    def create_sequences(values, window_size, step_size):
        sequences = []
        start_index = 0
        while True:
            end_index = start_index + window_size
            seq = values[start_index:end_index]
            if len(seq) < window_size:
                seq = values[-window_size:]
                if len(seq) == window_size:
                    sequences.append(seq)
                break
            sequences.append(seq)
            start_index += step_size
        return sequences
    ratings_data.movie_ids = ratings_data.movie_ids.apply(lambda ids: create_sequences(ids, sequence_length, step_size))
    ratings_data.ratings = ratings_data.ratings.apply(lambda ids: create_sequences(ids, sequence_length, step_size))
    del ratings_data["timestamps"]
    ratings_data_movies = ratings_data[["user_id", "movie_ids"]].explode("movie_ids", ignore_index=True)
    ratings_data_rating = ratings_data[["ratings"]].explode("ratings", ignore_index=True)
    ratings_data_transformed = pd.concat([ratings_data_movies, ratings_data_rating], axis=1)
    ratings_data_transformed = ratings_data_transformed.join(users.set_index("user_id"), on="user_id")
    ratings_data_transformed.movie_ids = ratings_data_transformed.movie_ids.apply(lambda x: ",".join(x))
    ratings_data_transformed.ratings = ratings_data_transformed.ratings.apply(lambda x: ",".join([str(v) for v in x]))
    del ratings_data_transformed["zip_code"]
    ratings_data_transformed.rename(columns={"movie_ids": "sequence_movie_ids", "ratings": "sequence_ratings"}, inplace=True)
    random_selection = np.random.rand(len(ratings_data_transformed.index)) <= 0.85
    train_data = ratings_data_transformed[random_selection]
    test_data = ratings_data_transformed[~random_selection]
    train_data.to_csv("train_data.csv", index=False, sep="|", header=False)
    test_data.to_csv("test_data.csv", index=False, sep="|", header=False)
    CSV_HEADER = list(ratings_data_transformed.columns)
    CATEGORICAL_FEATURES_WITH_VOCABULARY = {"user_id": list(users.user_id.unique()), "movie_id": list(movies.movie_id.unique()), "sex": list(users.sex.unique()), "age_group": list(users.age_group.unique()), "occupation": list(users.occupation.unique())}
    USER_FEATURES = ["sex", "age_group", "occupation"]
    MOVIE_FEATURES = ["genres"]
    def get_dataset_from_csv(csv_file_path, shuffle=False, batch_size=128):
        def process(features):
            movie_ids_string = features["sequence_movie_ids"]
            sequence_movie_ids = tf.strings.split(movie_ids_string, ",").to_tensor()
            features["target_movie_id"] = sequence_movie_ids[:, -1]
            features["sequence_movie_ids"] = sequence_movie_ids[:, :-1]
            ratings_string = features["sequence_ratings"]
            sequence_ratings = tf.strings.to_number(tf.strings.split(ratings_string, ","), tf.dtypes.float32).to_tensor()
            target = sequence_ratings[:, -1]
            features["sequence_ratings"] = sequence_ratings[:, :-1]
            return features, target
        dataset = tf.data.experimental.make_csv_dataset(csv_file_path, batch_size=batch_size, column_names=CSV_HEADER, num_epochs=1, header=False, field_delim="|", shuffle=shuffle).map(process)
        return dataset
    def create_model_inputs():
        return {
            "user_id": layers.Input(name="user_id", shape=(1,), dtype=tf.string),
            "sequence_movie_ids": layers.Input(name="sequence_movie_ids", shape=(sequence_length - 1,), dtype=tf.string),
            "target_movie_id": layers.Input(name="target_movie_id", shape=(1,), dtype=tf.string),
            "sequence_ratings": layers.Input(name="sequence_ratings", shape=(sequence_length - 1,), dtype=tf.float32),
            "sex": layers.Input(name="sex", shape=(1,), dtype=tf.string),
            "age_group": layers.Input(name="age_group", shape=(1,), dtype=tf.string),
            "occupation": layers.Input(name="occupation", shape=(1,), dtype=tf.string),
        }
    def encode_input_features(inputs, include_user_id=True, include_user_features=True, include_movie_features=True):
        encoded_transformer_features = []
        encoded_other_features = []
        other_feature_names = []
        if include_user_id:
            other_feature_names.append("user_id")
        if include_user_features:
            other_feature_names.extend(USER_FEATURES)
        for feature_name in other_feature_names:
            vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
            idx = StringLookup(vocabulary=vocabulary, mask_token=None, num_oov_indices=0)(inputs[feature_name])
            embedding_dims = int(math.sqrt(len(vocabulary)))
            embedding_encoder = layers.Embedding(input_dim=len(vocabulary), output_dim=embedding_dims, name=f"{feature_name}_embedding")
            encoded_other_features.append(embedding_encoder(idx))
        if len(encoded_other_features) > 1:
            encoded_other_features = layers.concatenate(encoded_other_features)
        elif len(encoded_other_features) == 1:
            encoded_other_features = encoded_other_features[0]
        else:
            encoded_other_features = None
        movie_vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY["movie_id"]
        movie_embedding_dims = int(math.sqrt(len(movie_vocabulary)))
        movie_index_lookup = StringLookup(vocabulary=movie_vocabulary, mask_token=None, num_oov_indices=0, name="movie_index_lookup")
        movie_embedding_encoder = layers.Embedding(input_dim=len(movie_vocabulary), output_dim=movie_embedding_dims, name=f"movie_embedding")
        genre_vectors = movies[genres].to_numpy()
        movie_genres_lookup = layers.Embedding(input_dim=genre_vectors.shape[0], output_dim=genre_vectors.shape[1], embeddings_initializer=tf.keras.initializers.Constant(genre_vectors), trainable=False, name="genres_vector")
        movie_embedding_processor = layers.Dense(units=movie_embedding_dims, activation="relu", name="process_movie_embedding_with_genres")
        def encode_movie(movie_id):
            movie_idx = movie_index_lookup(movie_id)
            movie_embedding = movie_embedding_encoder(movie_idx)
            encoded_movie = movie_embedding
            if include_movie_features:
                movie_genres_vector = movie_genres_lookup(movie_idx)
                encoded_movie = movie_embedding_processor(layers.concatenate([movie_embedding, movie_genres_vector]))
            return encoded_movie
        target_movie_id = inputs["target_movie_id"]
        encoded_target_movie = encode_movie(target_movie_id)
        sequence_movies_ids = inputs["sequence_movie_ids"]
        encoded_sequence_movies = encode_movie(sequence_movies_ids)
        position_embedding_encoder = layers.Embedding(input_dim=sequence_length, output_dim=movie_embedding_dims, name="position_embedding")
        positions = tf.range(start=0, limit=sequence_length - 1, delta=1)
        encodded_positions = position_embedding_encoder(positions)
        sequence_ratings = tf.expand_dims(inputs["sequence_ratings"], -1)
        encoded_sequence_movies_with_poistion_and_rating = layers.Multiply()([(encoded_sequence_movies + encodded_positions), sequence_ratings])
        for encoded_movie in tf.unstack(encoded_sequence_movies_with_poistion_and_rating, axis=1):
            encoded_transformer_features.append(tf.expand_dims(encoded_movie, 1))
        encoded_transformer_features.append(encoded_target_movie)
        encoded_transformer_features = layers.concatenate(encoded_transformer_features, axis=1)
        return encoded_transformer_features, encoded_other_features
    include_user_id = False
    include_user_features = False
    include_movie_features = False
    hidden_units = [256, 128]
    dropout_rate = 0.1
    num_heads = 3
    def create_model():
        inputs = create_model_inputs()
        transformer_features, other_features = encode_input_features(inputs, include_user_id, include_user_features, include_movie_features)
        attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=transformer_features.shape[2], dropout=dropout_rate)(transformer_features, transformer_features)
        attention_output = layers.Dropout(dropout_rate)(attention_output)
        x1 = layers.Add()([transformer_features, attention_output])
        x1 = layers.LayerNormalization()(x1)
        x2 = layers.LeakyReLU()(x1)
        x2 = layers.Dense(units=x2.shape[-1])(x2)
        x2 = layers.Dropout(dropout_rate)(x2)
        transformer_features = layers.Add()([x1, x2])
        transformer_features = layers.LayerNormalization()(transformer_features)
        features = layers.Flatten()(transformer_features)
        if other_features is not None:
            features = layers.concatenate([features, layers.Reshape([other_features.shape[-1]])(other_features)])
        for num_units in hidden_units:
            features = layers.Dense(num_units)(features)
            features = layers.BatchNormalization()(features)
            features = layers.LeakyReLU()(features)
            features = layers.Dropout(dropout_rate)(features)
        outputs = layers.Dense(units=1)(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model
    model = create_model()
    model.compile(optimizer=keras.optimizers.Adagrad(learning_rate=0.01), loss=keras.losses.MeanSquaredError(), metrics=[keras.metrics.MeanAbsoluteError()])
    train_dataset = get_dataset_from_csv("train_data.csv", shuffle=True, batch_size=265)
    history = model.fit(train_dataset, epochs=EPOCHS)
    test_dataset = get_dataset_from_csv("test_data.csv", batch_size=265)
    _, rmse = model.evaluate(test_dataset, verbose=0)
    print(f"Test MAE: {round(rmse, 3)}")

    # test: each sequence is 3 rated movies and a target; the transformer sees 4 positions
    assert model.get_layer("movie_index_lookup").vocabulary_size() == 100
    x, y = next(iter(train_dataset))
    assert x["sequence_movie_ids"].shape[1] == 3 and x["target_movie_id"].shape == y.shape
    assert len(history.history["loss"]) == EPOCHS and np.isfinite(history.history["loss"]).all()
    assert np.isfinite(rmse)
