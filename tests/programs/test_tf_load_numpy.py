"""TensorFlow tutorial "Load NumPy data" (MNIST from an .npz file into tf.data and a Keras model), run on chainrule.

Source: https://www.tensorflow.org/tutorials/load_data/numpy (tensorflow/docs, site/en/tutorials/load_data/numpy.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- the download of `mnist.npz` (`tf.keras.utils.get_file`) is replaced by an .npz file of the same keys, dtypes and
  image shape written to the test's temporary folder, with 256 training and 64 test synthetic images
  (tests/programs/mnist_like.py; 60000 and 10000);
- `epochs=10` is 3;
- lines marked `# test:` check what the program produces.
"""

import numpy as np
import chainrule as tf

import mnist_like


def test_load_numpy(tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=256, n_test=64)  # test: the .npz file
    path = str(tmp_path / "mnist.npz")  # test: instead of tf.keras.utils.get_file('mnist.npz', DATA_URL)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    with np.load(path) as data:
      train_examples = data['x_train']
      train_labels = data['y_train']
      test_examples = data['x_test']
      test_labels = data['y_test']

    train_dataset = tf.data.Dataset.from_tensor_slices((train_examples, train_labels))
    test_dataset = tf.data.Dataset.from_tensor_slices((test_examples, test_labels))

    BATCH_SIZE = 64
    SHUFFLE_BUFFER_SIZE = 100

    train_dataset = train_dataset.shuffle(SHUFFLE_BUFFER_SIZE).batch(BATCH_SIZE)
    test_dataset = test_dataset.batch(BATCH_SIZE)

    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dense(10)
    ])

    model.compile(optimizer=tf.keras.optimizers.RMSprop(),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['sparse_categorical_accuracy'])

    history = model.fit(train_dataset, epochs=3)  # test: history =, 3 (10)

    loss, accuracy = model.evaluate(test_dataset)  # test: loss, accuracy =

    # test: what the program produced
    assert train_dataset.element_spec[0].shape.as_list() == [None, 28, 28]
    assert train_dataset.element_spec[0].dtype == np.uint8
    assert history.history["loss"][-1] < history.history["loss"][0] and accuracy > 0.8
