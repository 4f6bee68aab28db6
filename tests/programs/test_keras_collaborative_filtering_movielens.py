"""keras-io example "Collaborative Filtering for Movie Recommendations", run on chainrule.

Source: https://keras.io/examples/structured_data/collaborative_filtering_movielens/ (keras-team/keras-io,
examples/structured_data/collaborative_filtering_movielens.py, "Last modified: 2020/05/24").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MovieLens' ml-latest-small.zip (`keras.utils.get_file(...)`, ZipFile) is replaced by a folder holding a
  ratings.csv (userId, movieId, rating in half stars, timestamp) of 3000 synthetic ratings by 100 users of 300
  movies and a movies.csv (movieId, title, genres), written to a temporary folder;
- `epochs=5` is 2; the plot goes to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.

What it relies on: a subclassed Model called on int64 (user, movie) pairs sliced with `inputs[:, 0]`;
`tf.tensordot(user_vector, movie_vector, 2)` contracting both axes to a scalar (as TensorFlow does: the example adds
one number for the whole batch); embeddings_regularizer losses in fit.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib

matplotlib.use("Agg")  # test: no display

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
import matplotlib.pyplot as plt

N_USERS, N_MOVIES, N_RATINGS = 100, 300, 3000  # test: the synthetic data's size (ml-latest-small: 610, 9724, 100836)
EPOCHS = 2  # test: the example's 5


def write_movielens_like(folder: Path, seed=0):
    """test: stands in for ml-latest-small/ratings.csv and movies.csv."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    taste = rng.normal(size=(N_USERS + 1, 3))
    kind = rng.integers(0, 3, N_MOVIES + 1)
    users, movies = rng.integers(1, N_USERS + 1, N_RATINGS), rng.integers(1, N_MOVIES + 1, N_RATINGS)
    stars = np.clip(np.round(2 * (3 + taste[users, kind[movies]])) / 2, 0.5, 5.0)  # each user likes some genres
    pd.DataFrame({"userId": users, "movieId": movies * 7, "rating": stars,
                  "timestamp": rng.integers(828124615, 1537799250, N_RATINGS)}).to_csv(folder / "ratings.csv",
                                                                                        index=False)
    genres = np.array(["Comedy", "Drama|Romance", "Action|Thriller"])
    pd.DataFrame({"movieId": np.arange(1, N_MOVIES + 1) * 7,
                  "title": [f"Movie {i} ({1990 + i % 30})" for i in range(1, N_MOVIES + 1)],
                  "genres": genres[kind[1:]]}).to_csv(folder / "movies.csv", index=False)


EMBEDDING_SIZE = 50


class RecommenderNet(keras.Model):
    def __init__(self, num_users, num_movies, embedding_size, **kwargs):
        super(RecommenderNet, self).__init__(**kwargs)
        self.num_users = num_users
        self.num_movies = num_movies
        self.embedding_size = embedding_size
        self.user_embedding = layers.Embedding(
            num_users,
            embedding_size,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )
        self.user_bias = layers.Embedding(num_users, 1)
        self.movie_embedding = layers.Embedding(
            num_movies,
            embedding_size,
            embeddings_initializer="he_normal",
            embeddings_regularizer=keras.regularizers.l2(1e-6),
        )
        self.movie_bias = layers.Embedding(num_movies, 1)

    def call(self, inputs):
        user_vector = self.user_embedding(inputs[:, 0])
        user_bias = self.user_bias(inputs[:, 0])
        movie_vector = self.movie_embedding(inputs[:, 1])
        movie_bias = self.movie_bias(inputs[:, 1])
        dot_user_movie = tf.tensordot(user_vector, movie_vector, 2)
        # Add all the components (including bias)
        x = dot_user_movie + user_bias + movie_bias
        # The sigmoid activation forces the rating to between 0 and 1
        return tf.nn.sigmoid(x)


def test_collaborative_filtering_movielens(tmp_path):
    movielens_dir = tmp_path / "ml-latest-small"
    write_movielens_like(movielens_dir)

    ratings_file = movielens_dir / "ratings.csv"
    df = pd.read_csv(ratings_file)

    user_ids = df["userId"].unique().tolist()
    user2user_encoded = {x: i for i, x in enumerate(user_ids)}
    userencoded2user = {i: x for i, x in enumerate(user_ids)}
    movie_ids = df["movieId"].unique().tolist()
    movie2movie_encoded = {x: i for i, x in enumerate(movie_ids)}
    movie_encoded2movie = {i: x for i, x in enumerate(movie_ids)}
    df["user"] = df["userId"].map(user2user_encoded)
    df["movie"] = df["movieId"].map(movie2movie_encoded)

    num_users = len(user2user_encoded)
    num_movies = len(movie_encoded2movie)
    df["rating"] = df["rating"].values.astype(np.float32)
    # min and max ratings will be used to normalize the ratings later
    min_rating = min(df["rating"])
    max_rating = max(df["rating"])

    print(
        "Number of users: {}, Number of Movies: {}, Min rating: {}, Max rating: {}".format(
            num_users, num_movies, min_rating, max_rating
        )
    )

    df = df.sample(frac=1, random_state=42)
    x = df[["user", "movie"]].values
    # Normalize the targets between 0 and 1. Makes it easy to train.
    y = df["rating"].apply(lambda x: (x - min_rating) / (max_rating - min_rating)).values
    # Assuming training on 90% of the data and validating on 10%.
    train_indices = int(0.9 * df.shape[0])
    x_train, x_val, y_train, y_val = (
        x[:train_indices],
        x[train_indices:],
        y[:train_indices],
        y[train_indices:],
    )

    model = RecommenderNet(num_users, num_movies, EMBEDDING_SIZE)
    model.compile(
        loss=tf.keras.losses.BinaryCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
    )

    history = model.fit(
        x=x_train,
        y=y_train,
        batch_size=64,
        epochs=EPOCHS,
        verbose=1,
        validation_data=(x_val, y_val),
    )

    plt.plot(history.history["loss"])
    plt.plot(history.history["val_loss"])
    plt.title("model loss")
    plt.ylabel("loss")
    plt.xlabel("epoch")
    plt.legend(["train", "test"], loc="upper left")
    plt.show()

    movie_df = pd.read_csv(movielens_dir / "movies.csv")

    # Let us get a user and see the top recommendations.
    user_id = df.userId.sample(1).iloc[0]
    movies_watched_by_user = df[df.userId == user_id]
    movies_not_watched = movie_df[
        ~movie_df["movieId"].isin(movies_watched_by_user.movieId.values)
    ]["movieId"]
    movies_not_watched = list(
        set(movies_not_watched).intersection(set(movie2movie_encoded.keys()))
    )
    movies_not_watched = [[movie2movie_encoded.get(x)] for x in movies_not_watched]
    user_encoder = user2user_encoded.get(user_id)
    user_movie_array = np.hstack(
        ([[user_encoder]] * len(movies_not_watched), movies_not_watched)
    )
    ratings = model.predict(user_movie_array).flatten()
    top_ratings_indices = ratings.argsort()[-10:][::-1]
    recommended_movie_ids = [
        movie_encoded2movie.get(movies_not_watched[x][0]) for x in top_ratings_indices
    ]

    print("Showing recommendations for user: {}".format(user_id))
    print("====" * 9)
    print("Movies with high ratings from user")
    print("----" * 8)
    top_movies_user = (
        movies_watched_by_user.sort_values(by="rating", ascending=False)
        .head(5)
        .movieId.values
    )
    movie_df_rows = movie_df[movie_df["movieId"].isin(top_movies_user)]
    for row in movie_df_rows.itertuples():
        print(row.title, ":", row.genres)

    print("----" * 8)
    print("Top 10 movie recommendations")
    print("----" * 8)
    recommended_movies = movie_df[movie_df["movieId"].isin(recommended_movie_ids)]
    for row in recommended_movies.itertuples():
        print(row.title, ":", row.genres)

    # test: one prediction per unwatched movie in [0, 1]; ten recommendations, none already watched
    assert ratings.shape == (len(movies_not_watched),)
    assert ((ratings > 0) & (ratings < 1)).all()
    assert len(recommended_movies) == 10
    assert not set(recommended_movie_ids) & set(movies_watched_by_user.movieId.values)
    # test: the regularized embeddings add their penalties to the loss; the model's weights are the four tables
    assert len(model.losses) == 2
    assert model.count_params() == (num_users + num_movies) * (EMBEDDING_SIZE + 1)
    assert np.isfinite(history.history["val_loss"]).all() and len(history.history["loss"]) == EPOCHS
    # test: tensordot over two axes is one number for the batch, as TensorFlow computes it
    u, m = model.user_embedding(x_val[:4, 0]), model.movie_embedding(x_val[:4, 1])
    np.testing.assert_allclose(float(tf.tensordot(u, m, 2)), float(np.sum(u.numpy() * m.numpy())), rtol=1e-5)
    assert userencoded2user[user_encoder] == user_id
