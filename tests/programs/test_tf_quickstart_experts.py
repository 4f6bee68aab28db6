"""TensorFlow tutorial "TensorFlow 2 quickstart for experts", run on chainrule.

Source: https://www.tensorflow.org/tutorials/quickstart/advanced
(tensorflow/docs, site/en/tutorials/quickstart/advanced.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras.layers import ...` -> `from chainrule.keras.layers import ...`,
  `from tensorflow.keras import Model` -> `from chainrule.keras import Model`;
- MNIST (`tf.keras.datasets.mnist.load_data()`) is replaced by 512 training and 128 test
  synthetic 28x28 images of 3 classes (tests/programs/mnist_like.py);
- EPOCHS = 2 instead of 5;
- lines marked `# test:` record values for the assertions that follow the tutorial's code.
"""

import numpy as np

import chainrule as tf

from chainrule.keras.layers import Dense, Flatten, Conv2D
from chainrule.keras import Model

import mnist_like


def test_quickstart_for_experts():
    print("TensorFlow version:", tf.__version__)

    mnist = mnist_like  # test: stands in for tf.keras.datasets.mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    # Add a channels dimension
    x_train = x_train[..., tf.newaxis].astype("float32")
    x_test = x_test[..., tf.newaxis].astype("float32")

    assert x_train.shape == (512, 28, 28, 1)  # test
    assert x_test.shape == (128, 28, 28, 1)  # test

    train_ds = tf.data.Dataset.from_tensor_slices(
        (x_train, y_train)).shuffle(10000).batch(32)

    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)

    class MyModel(Model):
      def __init__(self):
        super().__init__()
        self.conv1 = Conv2D(32, 3, activation='relu')
        self.flatten = Flatten()
        self.d1 = Dense(128, activation='relu')
        self.d2 = Dense(10)

      def call(self, x):
        x = self.conv1(x)
        x = self.flatten(x)
        x = self.d1(x)
        return self.d2(x)

    # Create an instance of the model
    model = MyModel()

    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    optimizer = tf.keras.optimizers.Adam()

    train_loss = tf.keras.metrics.Mean(name='train_loss')
    train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='train_accuracy')

    test_loss = tf.keras.metrics.Mean(name='test_loss')
    test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='test_accuracy')

    @tf.function
    def train_step(images, labels):
      with tf.GradientTape() as tape:
        # training=True is only needed if there are layers with different
        # behavior during training versus inference (e.g. Dropout).
        predictions = model(images, training=True)
        loss = loss_object(labels, predictions)
      gradients = tape.gradient(loss, model.trainable_variables)
      optimizer.apply_gradients(zip(gradients, model.trainable_variables))

      train_loss(loss)
      train_accuracy(labels, predictions)

    @tf.function
    def test_step(images, labels):
      # training=False is only needed if there are layers with different
      # behavior during training versus inference (e.g. Dropout).
      predictions = model(images, training=False)
      t_loss = loss_object(labels, predictions)

      test_loss(t_loss)
      test_accuracy(labels, predictions)

    EPOCHS = 2
    history = []  # test

    for epoch in range(EPOCHS):
      # Reset the metrics at the start of the next epoch
      train_loss.reset_state()
      train_accuracy.reset_state()
      test_loss.reset_state()
      test_accuracy.reset_state()

      for images, labels in train_ds:
        train_step(images, labels)

      for test_images, test_labels in test_ds:
        test_step(test_images, test_labels)

      print(
        f'Epoch {epoch + 1}, '
        f'Loss: {train_loss.result():0.2f}, '
        f'Accuracy: {train_accuracy.result() * 100:0.2f}, '
        f'Test Loss: {test_loss.result():0.2f}, '
        f'Test Accuracy: {test_accuracy.result() * 100:0.2f}'
      )
      history.append(  # test
          (float(train_loss.result()), float(train_accuracy.result()),
           float(test_loss.result()), float(test_accuracy.result())))

    # test: what the program produces
    assert len(model.trainable_variables) == 6  # conv1, d1, d2: a kernel and a bias each
    assert tuple(model.conv1.kernel.shape) == (3, 3, 1, 32)
    assert tuple(model.d1.kernel.shape) == (26 * 26 * 32, 128)
    assert tuple(model.d2.kernel.shape) == (128, 10)
    (loss_1, _, _, _), (loss_2, acc_2, test_loss_2, test_acc_2) = history
    assert all(np.isfinite(h).all() for h in history)
    assert loss_2 < loss_1
    # Three classes: chance is 1/3.
    assert acc_2 > 0.8
    assert test_acc_2 > 0.8
    # The test metrics hold the last epoch only (reset_state at the start of each epoch).
    predictions = model(x_test, training=False).numpy()
    assert predictions.shape == (128, 10)
    np.testing.assert_allclose(
        np.mean(np.argmax(predictions, axis=1) == y_test), test_acc_2, atol=1e-6)
