"""keras-io example "Reproducibility in Keras Models", run on chainrule.

Source: https://keras.io/examples/keras_recipes/reproducibility_recipes/ (keras-team/keras-io,
examples/keras_recipes/reproducibility_recipes.py, "Last modified: 2023/05/05").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import keras` -> `from chainrule import
  keras`, `from keras import layers` / `initializers` -> `from chainrule.keras import layers` / `initializers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 256 training and 64 test synthetic 28x28 images of the
  10 classes (tests/programs/mnist_like.py);
- "restart the kernel and run again" is done in the test: the training part runs twice in one process, each run
  after the example's `keras.utils.set_random_seed(812)`, and the second run's history is compared with the first
  one's, read back from history.json (in a temporary folder);
- lines marked `# test:` check what the program produces.

What it relies on: initializers return tensors (`float(initializer(seed=42)(shape=(1, 1)))`, as Keras's);
tf.config.experimental.enable_op_determinism (tf.data's parallel map then runs in order on one thread).
"""

import json

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras import initializers

import mnist_like

N_TRAIN, N_TEST = 256, 64  # test: the synthetic data's size (MNIST: 60000, 10000)


def setup():
    # Set the seed using keras.utils.set_random_seed. This will set:
    # 1) `numpy` seed
    # 2) backend random seed
    # 3) `python` random seed
    keras.utils.set_random_seed(812)

    # If using TensorFlow, this will make GPU ops as deterministic as possible,
    # but it will affect the overall performance, so be mindful of that.
    tf.config.experimental.enable_op_determinism()


@pytest.fixture(autouse=True)
def _determinism_switched_off_afterwards():
    yield
    tf.config.experimental.disable_op_determinism()  # test: leave the process as the other tests expect it


def test_weight_initialization_is_reproducible():
    setup()
    initializers_list = [
        initializers.RandomNormal,
        initializers.RandomUniform,
        initializers.TruncatedNormal,
        initializers.VarianceScaling,
        initializers.GlorotNormal,
        initializers.GlorotUniform,
        initializers.HeNormal,
        initializers.HeUniform,
        initializers.LecunNormal,
        initializers.LecunUniform,
        initializers.Orthogonal,
    ]

    results = {}  # test: what the example prints, kept
    for initializer in initializers_list:
        print(f"Running {initializer}")

        for iteration in range(2):
            # In order to get same results across multiple runs from an initializer,
            # you can specify a seed value.
            result = float(initializer(seed=42)(shape=(1, 1)))
            print(f"\tIteration --> {iteration} // Result --> {result}")
            results.setdefault(initializer, []).append(result)
        print("\n")

    # Setting the seed value for an initializer will cause two different objects
    # to produce same results.
    glorot_normal_1 = keras.initializers.GlorotNormal(seed=42)
    glorot_normal_2 = keras.initializers.GlorotNormal(seed=42)

    input_dim, neurons = 3, 5

    # Call two different objects with same shape
    result_1 = glorot_normal_1(shape=(input_dim, neurons))
    result_2 = glorot_normal_2(shape=(input_dim, neurons))

    # Check if the results are equal.
    equal = np.allclose(result_1, result_2)
    print(f"Are the results equal? {equal}")
    assert equal  # test

    glorot_normal_3 = keras.initializers.GlorotNormal()
    glorot_normal_4 = keras.initializers.GlorotNormal()

    # Let's call the initializer.
    result_3 = glorot_normal_3(shape=(input_dim, neurons))

    # Call the second initializer.
    result_4 = glorot_normal_4(shape=(input_dim, neurons))

    equal = np.allclose(result_3, result_4)
    print(f"Are the results equal? {equal}")
    assert not equal  # test

    # test: a seeded initializer gives the same value on every call; the unseeded ones follow the global seed
    assert all(first == second for first, second in results.values())
    assert float(initializers.Orthogonal(seed=42)(shape=(1, 1))) in (1.0, -1.0)
    setup()
    again_3 = keras.initializers.GlorotNormal()(shape=(input_dim, neurons))
    np.testing.assert_array_equal(again_3.numpy(), result_3.numpy())


def train_model(train_data: tf.data.Dataset, test_data: tf.data.Dataset) -> dict:
    model = keras.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(0.2),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(0.2),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )

    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    # jit_compile's default value is "auto" which will cause some problems in some
    # ops, therefore it's set to False.

    # model.fit has a `shuffle` parameter which has a default value of `True`.
    # If you are using array-like objects, this will shuffle the data before
    # training. This argument is ignored when `x` is a generator or
    # `tf.data.Dataset`.
    history = model.fit(train_data, epochs=2, validation_data=test_data)

    print(f"Model accuracy on test data: {model.evaluate(test_data)[1] * 100:.2f}%")

    return history.history


def prepare_dataset(image, label):
    # Cast and normalize the image
    image = tf.cast(image, tf.float32) / 255.0

    # Expand the channel dimension
    image = tf.expand_dims(image, axis=-1)

    # Resize the image
    image = tf.image.resize(image, (32, 32))

    return image, label


def run_training():
    """test: the example's training part, from its set-up on (what a rerun of the notebook does)."""
    setup()
    # Load the MNIST dataset
    (train_images, train_labels), (
        test_images,
        test_labels,
    ) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)

    # Construct tf.data.Dataset objects
    train_ds = tf.data.Dataset.from_tensor_slices((train_images, train_labels))
    test_ds = tf.data.Dataset.from_tensor_slices((test_images, test_labels))

    # Prepare the datasets, batch-map --> vectorized operations
    train_data = (
        train_ds.shuffle(buffer_size=len(train_images))
        .batch(batch_size=64)
        .map(prepare_dataset, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(buffer_size=tf.data.AUTOTUNE)
    )

    test_data = (
        test_ds.batch(batch_size=64)
        .map(prepare_dataset, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(buffer_size=tf.data.AUTOTUNE)
    )
    return train_model(train_data, test_data)


@pytest.mark.slow
def test_training_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = run_training()

    # Save the history object into a json file
    with open("history.json", "w") as fp:
        json.dump(history, fp)

    history = run_training()  # test: the second run ("restart the kernel")

    with open("history.json", "r") as fp:
        history_loaded = json.load(fp)

    not_equal = []  # test
    for key in history.keys():
        for i in range(len(history[key])):
            if not np.allclose(history[key][i], history_loaded[key][i]):
                print(f"{key} not equal")
                not_equal.append(key)

    # test: the two runs agree in every figure, exactly
    assert not_equal == []
    assert history == history_loaded
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
