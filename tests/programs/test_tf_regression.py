"""TensorFlow tutorial "Basic regression: Predict fuel efficiency" (Auto MPG), run on chainrule.

Source: https://www.tensorflow.org/tutorials/keras/regression
(tensorflow/docs, site/en/tutorials/keras/regression.ipynb).

The tutorial's Keras code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- pandas and seaborn are not installed here: the Auto MPG CSV (`pd.read_csv(url)`, the
  `get_dummies` one-hot origin, `sample`/`drop` split) is replaced by 200 synthetic cars as a
  float64 NumPy matrix with the tutorial's 9 feature columns in its order (Cylinders,
  Displacement, Horsepower, Weight, Acceleration, Model Year, Europe, Japan, USA; MPG falls with
  horsepower), the first 160 for training; `train_features['Horsepower']` is column 2; the
  pairplot and the DataFrames of results are left out;
- `epochs=100` is 10; the plots draw on matplotlib's Agg backend; the model file is written in
  the test's temporary folder;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

HORSEPOWER = 2  # test: the column train_features['Horsepower'] selects


@pytest.fixture(autouse=True)
def _restore_print_options():
    """test: the tutorial's np.set_printoptions would otherwise change how later tests and doctests print."""
    saved = np.get_printoptions()
    yield
    np.set_printoptions(**saved)


def auto_mpg_like(n=200, seed=0):
    """test: stands in for the cleaned, one-hot Auto MPG DataFrame: features (n, 9) and MPG (n,)."""
    rng = np.random.default_rng(seed)
    numeric = np.stack([rng.integers(4, 9, n), rng.uniform(70, 450, n), rng.uniform(45, 230, n),
                        rng.uniform(1600, 5100, n), rng.uniform(8, 25, n), rng.integers(70, 83, n)], 1)
    origin = np.eye(3)[rng.integers(0, 3, n)]
    features = np.concatenate([numeric, origin], 1).astype(float)
    mpg = 45 - 0.12 * features[:, HORSEPOWER] + rng.normal(0, 2, n)
    return features, mpg


def plot_loss(history):
  plt.plot(history.history['loss'], label='loss')
  plt.plot(history.history['val_loss'], label='val_loss')
  plt.ylim([0, 10])
  plt.xlabel('Epoch')
  plt.ylabel('Error [MPG]')
  plt.legend()
  plt.grid(True)


def test_regression(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: dnn_model.keras in a temporary folder
    np.set_printoptions(precision=3, suppress=True)
    print(tf.__version__)

    features, mpg = auto_mpg_like()
    train_features, test_features = features[:160], features[160:]
    train_labels, test_labels = mpg[:160], mpg[160:]

    normalizer = tf.keras.layers.Normalization(axis=-1)
    normalizer.adapt(np.array(train_features))
    print(normalizer.mean.numpy())
    np.testing.assert_allclose(normalizer.mean.numpy().ravel(), train_features.mean(axis=0), rtol=1e-5)  # test

    first = np.array(train_features[:1])

    with np.printoptions(precision=2, suppress=True):
      print('First example:', first)
      print()
      print('Normalized:', normalizer(first).numpy())

    horsepower = np.array(train_features[:, HORSEPOWER])

    horsepower_normalizer = layers.Normalization(input_shape=[1,], axis=None)
    horsepower_normalizer.adapt(horsepower)

    horsepower_model = tf.keras.Sequential([
        horsepower_normalizer,
        layers.Dense(units=1)
    ])

    horsepower_model.summary()
    assert horsepower_model.count_params() == 5  # test: mean, variance, count, kernel, bias

    horsepower_model.predict(horsepower[:10])

    horsepower_model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=0.1),
        loss='mean_absolute_error')

    history = horsepower_model.fit(
        train_features[:, HORSEPOWER],
        train_labels,
        epochs=10,
        # Suppress logging.
        verbose=0,
        # Calculate validation results on 20% of the training data.
        validation_split = 0.2)
    assert history.epoch == list(range(10))  # test
    plot_loss(history)

    test_results = {}

    test_results['horsepower_model'] = horsepower_model.evaluate(
        test_features[:, HORSEPOWER],
        test_labels, verbose=0)

    x = tf.linspace(0.0, 250, 251)
    y = horsepower_model.predict(x)
    assert y.shape == (251, 1)  # test
    plt.plot(x, y, color='k', label='Predictions')
    plt.close()

    linear_model = tf.keras.Sequential([
        normalizer,
        layers.Dense(units=1)
    ])

    linear_model.predict(train_features[:10])

    assert tuple(linear_model.layers[1].kernel.shape) == (9, 1)  # test

    linear_model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=0.1),
        loss='mean_absolute_error')

    history = linear_model.fit(
        train_features,
        train_labels,
        epochs=10,
        # Suppress logging.
        verbose=0,
        # Calculate validation results on 20% of the training data.
        validation_split = 0.2)

    test_results['linear_model'] = linear_model.evaluate(
        test_features, test_labels, verbose=0)

    def build_and_compile_model(norm):
      model = keras.Sequential([
          norm,
          layers.Dense(64, activation='relu'),
          layers.Dense(64, activation='relu'),
          layers.Dense(1)
      ])

      model.compile(loss='mean_absolute_error',
                    optimizer=tf.keras.optimizers.Adam(0.001))
      return model

    dnn_horsepower_model = build_and_compile_model(horsepower_normalizer)
    dnn_horsepower_model.summary()

    history = dnn_horsepower_model.fit(
        train_features[:, HORSEPOWER],
        train_labels,
        validation_split=0.2,
        verbose=0, epochs=10)

    test_results['dnn_horsepower_model'] = dnn_horsepower_model.evaluate(
        test_features[:, HORSEPOWER], test_labels,
        verbose=0)

    dnn_model = build_and_compile_model(normalizer)
    dnn_model.summary()

    history = dnn_model.fit(
        train_features,
        train_labels,
        validation_split=0.2,
        verbose=0, epochs=10)

    test_results['dnn_model'] = dnn_model.evaluate(test_features, test_labels, verbose=0)

    test_predictions = dnn_model.predict(test_features).flatten()
    error = test_predictions - test_labels
    plt.hist(error, bins=25)
    plt.close()

    dnn_model.save('dnn_model.keras')

    reloaded = tf.keras.models.load_model('dnn_model.keras')

    test_results['reloaded'] = reloaded.evaluate(
        test_features, test_labels, verbose=0)
    print(test_results)
    assert test_results['reloaded'] == test_results['dnn_model']  # test: the reloaded model is the same model
    assert all(np.isfinite(v) for v in test_results.values())  # test
