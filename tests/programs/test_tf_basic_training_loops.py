"""TensorFlow guide "Basic training loops", run on chainrule.

Source: https://www.tensorflow.org/guide/basic_training_loops
(tensorflow/docs, site/en/guide/basic_training_loops.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- matplotlib draws with the non-interactive Agg backend (`plt.show()` shows nothing);
- the checkpoint is written into pytest's temporary folder (the test changes into it);
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pytest

import chainrule as tf
import matplotlib.pyplot as plt


def test_basic_training_loops(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the checkpoint goes to a temporary folder

    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']

    # The actual line
    TRUE_W = 3.0
    TRUE_B = 2.0

    NUM_EXAMPLES = 201

    # A vector of random x values
    x = tf.linspace(-2,2, NUM_EXAMPLES)
    x = tf.cast(x, tf.float32)

    def f(x):
      return x * TRUE_W + TRUE_B

    # Generate some noise
    noise = tf.random.normal(shape=[NUM_EXAMPLES])

    # Calculate y
    y = f(x) + noise

    # Plot all the data
    plt.plot(x, y, '.')
    plt.show()

    class MyModel(tf.Module):
      def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Initialize the weights to `5.0` and the bias to `0.0`
        # In practice, these should be randomly initialized
        self.w = tf.Variable(5.0)
        self.b = tf.Variable(0.0)

      def __call__(self, x):
        return self.w * x + self.b

    model = MyModel()

    # List the variables tf.modules's built-in variable aggregation.
    print("Variables:", model.variables)

    # Verify the model works
    assert model(3.0).numpy() == 15.0

    # This computes a single loss value for an entire batch
    def loss(target_y, predicted_y):
      return tf.reduce_mean(tf.square(target_y - predicted_y))

    plt.plot(x, y, '.', label="Data")
    plt.plot(x, f(x), label="Ground truth")
    plt.plot(x, model(x), label="Predictions")
    plt.legend()
    plt.show()

    print("Current loss: %1.6f" % loss(y, model(x)).numpy())

    # Given a callable model, inputs, outputs, and a learning rate...
    def train(model, x, y, learning_rate):

      with tf.GradientTape() as t:
        # Trainable variables are automatically tracked by GradientTape
        current_loss = loss(y, model(x))

      # Use GradientTape to calculate the gradients with respect to W and b
      dw, db = t.gradient(current_loss, [model.w, model.b])

      # Subtract the gradient scaled by the learning rate
      model.w.assign_sub(learning_rate * dw)
      model.b.assign_sub(learning_rate * db)

    model = MyModel()

    # Collect the history of W-values and b-values to plot later
    weights = []
    biases = []
    epochs = range(10)

    # Define a training loop
    def report(model, loss):
      return f"W = {model.w.numpy():1.2f}, b = {model.b.numpy():1.2f}, loss={loss:2.5f}"

    def training_loop(model, x, y):

      for epoch in epochs:
        # Update the model with the single giant batch
        train(model, x, y, learning_rate=0.1)

        # Track this before I update
        weights.append(model.w.numpy())
        biases.append(model.b.numpy())
        current_loss = loss(y, model(x))

        print(f"Epoch {epoch:2d}:")
        print("    ", report(model, current_loss))

    current_loss = loss(y, model(x))

    print(f"Starting:")
    print("    ", report(model, current_loss))

    training_loop(model, x, y)

    plt.plot(epochs, weights, label='Weights', color=colors[0])
    plt.plot(epochs, [TRUE_W] * len(epochs), '--',
             label = "True weight", color=colors[0])

    plt.plot(epochs, biases, label='bias', color=colors[1])
    plt.plot(epochs, [TRUE_B] * len(epochs), "--",
             label="True bias", color=colors[1])

    plt.legend()
    plt.show()

    plt.plot(x, y, '.', label="Data")
    plt.plot(x, f(x), label="Ground truth")
    plt.plot(x, model(x), label="Predictions")
    plt.legend()
    plt.show()

    print("Current loss: %1.6f" % loss(model(x), y).numpy())

    # test: the variables are found by attribute name; the loop follows gradient
    # descent's closed form step for step and moves towards the true line
    # (TensorFlow lists them sorted by attribute name: b, then w)
    assert capsys.readouterr().out.startswith("Variables: (<")
    assert len(model.variables) == 2
    assert model.variables[0] is model.b and model.variables[1] is model.w
    xs, ys = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    w, b = 5.0, 0.0
    for epoch in range(10):
        r = w * xs + b - ys
        w, b = w - 0.1 * 2 * np.mean(r * xs), b - 0.1 * 2 * np.mean(r)
        np.testing.assert_allclose(weights[epoch], w, rtol=1e-4)
        np.testing.assert_allclose(biases[epoch], b, rtol=1e-4, atol=1e-5)
    assert abs(weights[-1] - TRUE_W) < abs(5.0 - TRUE_W)
    assert abs(biases[-1] - TRUE_B) < 0.5

    class MyModelKeras(tf.keras.Model):
      def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Initialize the weights to `5.0` and the bias to `0.0`
        # In practice, these should be randomly initialized
        self.w = tf.Variable(5.0)
        self.b = tf.Variable(0.0)

      def call(self, x):
        return self.w * x + self.b

    keras_model = MyModelKeras()

    # Reuse the training loop with a Keras model
    training_loop(keras_model, x, y)

    # You can also save a checkpoint using Keras's built-in support
    keras_model.save_weights("my_checkpoint")

    # test: the Keras model trains as the tf.Module did
    np.testing.assert_allclose(keras_model.w.numpy(), model.w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(keras_model.b.numpy(), model.b.numpy(), rtol=1e-6)

    keras_model = MyModelKeras()

    # compile sets the training parameters
    keras_model.compile(
        # By default, fit() uses tf.function().  You can
        # turn that off for debugging, but it is on now.
        run_eagerly=False,

        # Using a built-in optimizer, configuring as an object
        optimizer=tf.keras.optimizers.SGD(learning_rate=0.1),

        # Keras comes with built-in MSE error
        # However, you could use the loss function
        # defined above
        loss=tf.keras.losses.mean_squared_error,
    )

    print(x.shape[0])
    history = keras_model.fit(x, y, epochs=10, batch_size=1000)

    # test: one batch of all 201 examples per epoch: fit() takes the same 10 steps
    np.testing.assert_allclose(keras_model.w.numpy(), model.w.numpy(), rtol=1e-4)
    np.testing.assert_allclose(keras_model.b.numpy(), model.b.numpy(), rtol=1e-4, atol=1e-5)
    assert len(history.history["loss"]) == 10
    plt.close("all")
