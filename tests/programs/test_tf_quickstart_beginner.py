"""TensorFlow tutorial "TensorFlow 2 quickstart for beginners", run on chainrule.

Source: https://www.tensorflow.org/tutorials/quickstart/beginner
(tensorflow/docs, site/en/tutorials/quickstart/beginner.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- MNIST (`tf.keras.datasets.mnist.load_data()`) is replaced by 512 training and 128 test
  synthetic 28x28 images of 3 classes (tests/programs/mnist_like.py);
- `model.fit(x_train, y_train, epochs=5)` trains 2 epochs;
- the notebook's bare expressions (`predictions`, `probability_model(x_test[:5])`) are
  assigned, and their values checked.
"""

import numpy as np

import chainrule as tf

import mnist_like


def test_quickstart_for_beginners():
    print("TensorFlow version:", tf.__version__)

    mnist = mnist_like  # test: stands in for tf.keras.datasets.mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = tf.keras.models.Sequential([
      tf.keras.layers.Flatten(input_shape=(28, 28)),
      tf.keras.layers.Dense(128, activation='relu'),
      tf.keras.layers.Dropout(0.2),
      tf.keras.layers.Dense(10)
    ])

    predictions = model(x_train[:1]).numpy()
    predictions

    assert predictions.shape == (1, 10)  # test

    probabilities = tf.nn.softmax(predictions).numpy()

    assert probabilities.shape == (1, 10)  # test
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)  # test
    assert (probabilities > 0).all()  # test

    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    initial_loss = loss_fn(y_train[:1], predictions).numpy()

    # test: "the initial loss should be close to -tf.math.log(1/10) ~= 2.3"
    assert np.ndim(initial_loss) == 0
    assert abs(float(initial_loss) - 2.3) < 1.0
    np.testing.assert_allclose(
        initial_loss, -np.log(probabilities[0, y_train[0]]), rtol=1e-5)

    model.compile(optimizer='adam',
                  loss=loss_fn,
                  metrics=['accuracy'])

    history = model.fit(x_train, y_train, epochs=2)

    results = model.evaluate(x_test,  y_test, verbose=2)

    probability_model = tf.keras.Sequential([
      model,
      tf.keras.layers.Softmax()
    ])

    top5 = probability_model(x_test[:5])

    # test: what the program produces
    losses = history.history["loss"]
    accuracies = history.history["accuracy"]
    assert len(losses) == 2
    assert losses[1] < losses[0]
    assert accuracies[1] > 0.8  # three classes: chance is 1/3
    test_loss, test_acc = results
    assert np.isfinite(test_loss)
    assert test_acc > 0.8
    assert tuple(top5.shape) == (5, 10)
    np.testing.assert_allclose(np.asarray(top5).sum(axis=1), np.ones(5), rtol=1e-5)
    # The probability model wraps the trained model: same ranking as its logits.
    logits = model(x_test[:5]).numpy()
    np.testing.assert_array_equal(np.argmax(np.asarray(top5), axis=1), np.argmax(logits, axis=1))
    assert len(model.trainable_variables) == 4
