"""TensorFlow tutorial "Overfit and underfit", run on chainrule (small parts).

Source: https://www.tensorflow.org/tutorials/keras/overfit_and_underfit
(tensorflow/docs, site/en/tutorials/keras/overfit_and_underfit.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras import regularizers` -> `from chainrule.keras import regularizers`;
- the Higgs CSV (`tf.keras.utils.get_file` + `tf.data.experimental.CsvDataset`, a 2.6 GB
  download) is replaced by a synthetic dataset of the same form, built from 29 columns of
  scalars by `Dataset.from_tensor_slices` (a label, then 28 features: the label is a noisy
  linear function of the features), which the tutorial's `pack_row` batching, `take`/`skip`,
  `cache`, `shuffle`, `repeat` and `batch` pipeline then prepares as written; 1,200 records
  instead of 11,000,000, N_VALIDATION=200, N_TRAIN=1000, BATCH_SIZE=100 (the tutorial's
  1e3, 1e4 and 500);
- `tensorflow_docs` (EpochDots, HistoryPlotter), IPython, TensorBoard (the callback and the
  notebook's %tensorboard magics) are left out: `get_callbacks` keeps the EarlyStopping
  callback; the plots of the histories are left out (the learning-rate plot is drawn, on
  matplotlib's Agg backend);
- `max_epochs=10000` is 3, and the size comparison is shrunk: the "large" models (and the
  regularized ones built from them) have 128 units per layer instead of 512;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
from matplotlib import pyplot as plt

import chainrule as tf
from chainrule.keras import layers
from chainrule.keras import regularizers

FEATURES = 28


def higgs_like_records(n=1200, seed=0):
    """test: stands in for `tf.data.experimental.CsvDataset(gz, [float(),]*(FEATURES+1))`."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, FEATURES)).astype("float32")
    w = rng.normal(size=FEATURES)
    label = (features @ w + rng.normal(scale=2.0, size=n) > 0).astype("float32")
    columns = [label] + [features[:, j] for j in range(FEATURES)]
    return tf.data.Dataset.from_tensor_slices(tuple(columns))


def test_overfit_and_underfit():
    print(tf.__version__)

    ds = higgs_like_records()

    def pack_row(*row):
      label = row[0]
      features = tf.stack(row[1:],1)
      return features, label

    packed_ds = ds.batch(10000).map(pack_row).unbatch()

    for features,label in packed_ds.batch(1000).take(1):
      print(features[0])
      plt.hist(features.numpy().flatten(), bins = 101)

    assert features.shape == (1000, FEATURES) and label.shape == (1000,)  # test

    N_VALIDATION = int(2e2)
    N_TRAIN = int(1e3)
    BUFFER_SIZE = int(1e4)
    BATCH_SIZE = 100
    STEPS_PER_EPOCH = N_TRAIN//BATCH_SIZE

    validate_ds = packed_ds.take(N_VALIDATION).cache()
    train_ds = packed_ds.skip(N_VALIDATION).take(N_TRAIN).cache()

    train_ds

    validate_ds = validate_ds.batch(BATCH_SIZE)
    train_ds = train_ds.shuffle(BUFFER_SIZE).repeat().batch(BATCH_SIZE)

    lr_schedule = tf.keras.optimizers.schedules.InverseTimeDecay(
      0.001,
      decay_steps=STEPS_PER_EPOCH*1000,
      decay_rate=1,
      staircase=False)

    def get_optimizer():
      return tf.keras.optimizers.Adam(lr_schedule)

    step = np.linspace(0,100000)
    lr = lr_schedule(step)
    plt.figure(figsize = (8,6))
    plt.plot(step/STEPS_PER_EPOCH, lr)
    plt.ylim([0,max(plt.ylim())])
    plt.xlabel('Epoch')
    _ = plt.ylabel('Learning Rate')

    # test: "1/2 of the base rate at 1,000 epochs, 1/3 at 2,000 epochs"
    np.testing.assert_allclose(np.asarray(lr), 0.001 / (1 + step / (STEPS_PER_EPOCH * 1000)))
    np.testing.assert_allclose(lr_schedule(STEPS_PER_EPOCH * 1000), 0.0005)
    np.testing.assert_allclose(lr_schedule(STEPS_PER_EPOCH * 2000), 0.001 / 3)

    def get_callbacks(name):
      return [
        tf.keras.callbacks.EarlyStopping(monitor='val_binary_crossentropy', patience=200),
      ]

    def compile_and_fit(model, name, optimizer=None, max_epochs=3):
      if optimizer is None:
        optimizer = get_optimizer()
      model.compile(optimizer=optimizer,
                    loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                    metrics=[
                      tf.keras.metrics.BinaryCrossentropy(
                          from_logits=True, name='binary_crossentropy'),
                      'accuracy'])

      model.summary()

      history = model.fit(
        train_ds.map(lambda x, y: (x, tf.expand_dims(y, axis=-1))),
        steps_per_epoch = STEPS_PER_EPOCH,
        epochs=max_epochs,
        validation_data=validate_ds.map(lambda x, y: (x, tf.expand_dims(y, axis=-1))),
        callbacks=get_callbacks(name),
        verbose=0)
      return history

    tiny_model = tf.keras.Sequential([
        layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(1)
    ])

    size_histories = {}

    size_histories['Tiny'] = compile_and_fit(tiny_model, 'sizes/Tiny')

    small_model = tf.keras.Sequential([
        # `input_shape` is only required here so that `.summary` works.
        layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(16, activation='elu'),
        layers.Dense(1)
    ])

    size_histories['Small'] = compile_and_fit(small_model, 'sizes/Small')

    medium_model = tf.keras.Sequential([
        layers.Dense(64, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(64, activation='elu'),
        layers.Dense(64, activation='elu'),
        layers.Dense(1)
    ])

    size_histories['Medium']  = compile_and_fit(medium_model, "sizes/Medium")

    large_model = tf.keras.Sequential([
        layers.Dense(128, activation='elu', input_shape=(FEATURES,)),
        layers.Dense(128, activation='elu'),
        layers.Dense(128, activation='elu'),
        layers.Dense(128, activation='elu'),
        layers.Dense(1)
    ])

    size_histories['large'] = compile_and_fit(large_model, "sizes/large")

    # test: every model trained 3 epochs and logged the tutorial's metrics; the bigger
    # models fit the training set at least as well as the tiny one
    for name, h in size_histories.items():
        assert sorted(h.history) == ["accuracy", "binary_crossentropy", "loss", "val_accuracy",
                                     "val_binary_crossentropy", "val_loss"], name
        assert len(h.history["loss"]) == 3
        assert h.history["binary_crossentropy"][-1] < h.history["binary_crossentropy"][0]
    assert (size_histories['large'].history["binary_crossentropy"][-1]
            < size_histories['Tiny'].history["binary_crossentropy"][-1])
    assert size_histories['Medium'].history["accuracy"][-1] > 0.7

    regularizer_histories = {}
    regularizer_histories['Tiny'] = size_histories['Tiny']

    l2_model = tf.keras.Sequential([
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001),
                     input_shape=(FEATURES,)),
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001)),
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001)),
        layers.Dense(128, activation='elu',
                     kernel_regularizer=regularizers.l2(0.001)),
        layers.Dense(1)
    ])

    regularizer_histories['l2'] = compile_and_fit(l2_model, "regularizers/l2")

    # test: the loss includes the weight penalty, the binary_crossentropy metric does not
    h = regularizer_histories['l2'].history
    assert all(l > b for l, b in zip(h["loss"], h["binary_crossentropy"]))

    result = l2_model(features)
    regularization_loss=tf.add_n(l2_model.losses)

    # test: `l2(0.001)` adds 0.001 * weight**2 for every kernel coefficient
    kernels = [layer.kernel.numpy() for layer in l2_model.layers[:4]]
    assert len(l2_model.losses) == 4
    np.testing.assert_allclose(float(regularization_loss),
                               sum(0.001 * np.sum(k.astype(np.float64) ** 2) for k in kernels),
                               rtol=1e-4)
    assert result.shape == (1000, 1)

    dropout_model = tf.keras.Sequential([
        layers.Dense(128, activation='elu', input_shape=(FEATURES,)),
        layers.Dropout(0.5),
        layers.Dense(128, activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(1)
    ])

    regularizer_histories['dropout'] = compile_and_fit(dropout_model, "regularizers/dropout")

    # test: dropout is active in training only
    x = features[:8]
    np.testing.assert_array_equal(dropout_model(x).numpy(), dropout_model(x).numpy())
    assert not np.array_equal(dropout_model(x, training=True).numpy(),
                              dropout_model(x, training=True).numpy())

    combined_model = tf.keras.Sequential([
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu', input_shape=(FEATURES,)),
        layers.Dropout(0.5),
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(128, kernel_regularizer=regularizers.l2(0.0001),
                     activation='elu'),
        layers.Dropout(0.5),
        layers.Dense(1)
    ])

    regularizer_histories['combined'] = compile_and_fit(combined_model, "regularizers/combined")

    # test
    for name, h in regularizer_histories.items():
        assert np.isfinite(h.history["val_binary_crossentropy"]).all(), name
    plt.close("all")


def test_rate_decay_schedules_take_an_array_of_steps():
    # test: what chainrule was changed for: the tutorial plots `lr_schedule(np.linspace(...))`;
    # TensorFlow evaluates a schedule elementwise on a tensor of steps
    steps = np.array([0, 9, 10, 25])
    exp = tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    np.testing.assert_allclose(exp(steps), [0.1, 0.1, 0.05, 0.025])
    np.testing.assert_allclose(exp(tf.constant(steps)), [0.1, 0.1, 0.05, 0.025])
    inv = tf.keras.optimizers.schedules.InverseTimeDecay(1.0, 10, 1.0)
    np.testing.assert_allclose(inv(steps), 1.0 / (1.0 + steps / 10))
    assert isinstance(inv(10), float) and inv(10) == 0.5  # a single step stays a float
