"""keras-io example "Keras debugging tips", run on chainrule.

Source: https://keras.io/examples/keras_recipes/debugging_tips/ (keras-team/keras-io,
examples/keras_recipes/debugging_tips.py, "Last modified: 2020/05/16").

The example's code is kept as written, one test per tip, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 2048 synthetic 28x28 images of the 10 classes
  (tests/programs/mnist_like.py); the trainings run `EPOCHS` = 2 epochs (3, 5 and 50);
- the model plot is written in the test's temporary folder;
- lines marked `# test:` check what the program produces (the tip's first layer is meant to fail: the test checks
  the error it raises names the shapes).
"""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like

N_TRAIN = 2048  # test: MNIST's 60000
EPOCHS = 2  # test: the example's 3, 5 and 50


def test_tip_1_test_each_part_before_you_test_the_whole(capsys):
    class MyAntirectifier(layers.Layer):
        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim),
                initializer="he_normal",
                name="kernel",
                trainable=True,
            )

        def call(self, inputs):
            # Take the positive part of the input
            pos = tf.nn.relu(inputs)
            # Take the negative part of the input
            neg = tf.nn.relu(-inputs)
            # Concatenate the positive and negative parts
            concatenated = tf.concat([pos, neg], axis=0)
            # Project the concatenation down to the same dimensionality as the input
            return tf.matmul(concatenated, self.kernel)

    x = tf.random.normal(shape=(2, 5))
    # test: "Matrix size-incompatible: In[0]: [4,5], In[1]: [10,5]" in TensorFlow; here an error naming the shapes
    with pytest.raises(Exception, match=r"\(4, 5\).*\(10, 5\)"):
        y = MyAntirectifier()(x)

    class MyAntirectifier(layers.Layer):
        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim),
                initializer="he_normal",
                name="kernel",
                trainable=True,
            )

        def call(self, inputs):
            pos = tf.nn.relu(inputs)
            neg = tf.nn.relu(-inputs)
            print("pos.shape:", pos.shape)
            print("neg.shape:", neg.shape)
            concatenated = tf.concat([pos, neg], axis=1)
            print("concatenated.shape:", concatenated.shape)
            print("kernel.shape:", self.kernel.shape)
            return tf.matmul(concatenated, self.kernel)

    x = tf.random.normal(shape=(2, 5))
    y = MyAntirectifier()(x)

    # test: the shapes the example prints, and the output's
    printed = capsys.readouterr().out
    for line in ("pos.shape: (2, 5)", "neg.shape: (2, 5)", "concatenated.shape: (2, 10)", "kernel.shape: (10, 5)"):
        assert line in printed
    assert y.shape == (2, 5)


def test_tip_2_use_summary_and_plot_model(tmp_path, capsys):
    num_tags = 12  # Number of unique issue tags
    num_words = 10000  # Size of vocabulary obtained when preprocessing text data
    num_departments = 4  # Number of departments for predictions

    title_input = keras.Input(
        shape=(None,), name="title"
    )  # Variable-length sequence of ints
    body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
    tags_input = keras.Input(
        shape=(num_tags,), name="tags"
    )  # Binary vectors of size `num_tags`

    # Embed each word in the title into a 64-dimensional vector
    title_features = layers.Embedding(num_words, 64)(title_input)
    # Embed each word in the text into a 64-dimensional vector
    body_features = layers.Embedding(num_words, 64)(body_input)

    # Reduce sequence of embedded words in the title into a single 128-dimensional vector
    title_features = layers.LSTM(128)(title_features)
    # Reduce sequence of embedded words in the body into a single 32-dimensional vector
    body_features = layers.LSTM(32)(body_features)

    # Merge all available features into a single large vector via concatenation
    x = layers.concatenate([title_features, body_features, tags_input])

    # Stick a logistic regression for priority prediction on top of the features
    priority_pred = layers.Dense(1, name="priority")(x)
    # Stick a department classifier on top of the features
    department_pred = layers.Dense(num_departments, name="department")(x)

    # Instantiate an end-to-end model predicting both priority and department
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs=[priority_pred, department_pred],
    )

    model.summary()

    keras.utils.plot_model(model, to_file=str(tmp_path / "model.png"), show_shapes=True)

    # test: the summary's total (the functional API guide's model) and a drawn file
    assert "Total params: 1,392,097" in capsys.readouterr().out
    assert (tmp_path / "model.png").stat().st_size > 1000


class MyModel(keras.Model):
    """The tip's model whose step combines first- and second-order gradients, normalized (its last version)."""

    def train_step(self, data):
        inputs, targets = data
        trainable_vars = self.trainable_variables
        with tf.GradientTape() as tape2:
            with tf.GradientTape() as tape1:
                preds = self(inputs, training=True)  # Forward pass
                # Compute the loss value
                # (the loss function is configured in `compile()`)
                loss = self.compiled_loss(targets, preds)
            # Compute first-order gradients
            dl_dw = tape1.gradient(loss, trainable_vars)
        # Compute second-order gradients
        d2l_dw2 = tape2.gradient(dl_dw, trainable_vars)

        dl_dw = [tf.math.l2_normalize(w) for w in dl_dw]
        d2l_dw2 = [tf.math.l2_normalize(w) for w in d2l_dw2]

        # Combine first-order and second-order gradients
        grads = [0.2 * w1 + 0.8 * w2 for (w1, w2) in zip(d2l_dw2, dl_dw)]

        # Update weights
        self.optimizer.apply_gradients(zip(grads, trainable_vars))

        # Update metrics (includes the metric that tracks the loss)
        self.compiled_metrics.update_state(targets, preds)
        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


def _data():
    (x_train, y_train), _ = mnist_like.load_data(n_train=N_TRAIN, n_test=16, num_classes=10)
    x_train = np.reshape(x_train, (-1, 784)) / 255
    return x_train, y_train


def get_model(cls=MyModel):
    inputs = keras.Input(shape=(784,))
    intermediate = layers.Dense(256, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(intermediate)
    model = cls(inputs, outputs)
    return model


def test_tip_3_run_eagerly_to_debug_fit(capsys):
    class MyModel(keras.Model):
        def train_step(self, data):
            print()
            print("----Start of step: %d" % (self.step_counter,))
            self.step_counter += 1

            inputs, targets = data
            trainable_vars = self.trainable_variables
            with tf.GradientTape() as tape2:
                with tf.GradientTape() as tape1:
                    preds = self(inputs, training=True)  # Forward pass
                    # Compute the loss value
                    # (the loss function is configured in `compile()`)
                    loss = self.compiled_loss(targets, preds)
                # Compute first-order gradients
                dl_dw = tape1.gradient(loss, trainable_vars)
            # Compute second-order gradients
            d2l_dw2 = tape2.gradient(dl_dw, trainable_vars)

            print("Max of dl_dw[0]: %.4f" % tf.reduce_max(dl_dw[0]))
            print("Min of dl_dw[0]: %.4f" % tf.reduce_min(dl_dw[0]))
            print("Mean of dl_dw[0]: %.4f" % tf.reduce_mean(dl_dw[0]))
            print("-")
            print("Max of d2l_dw2[0]: %.4f" % tf.reduce_max(d2l_dw2[0]))
            print("Min of d2l_dw2[0]: %.4f" % tf.reduce_min(d2l_dw2[0]))
            print("Mean of d2l_dw2[0]: %.4f" % tf.reduce_mean(d2l_dw2[0]))

            # Combine first-order and second-order gradients
            grads = [0.5 * w1 + 0.5 * w2 for (w1, w2) in zip(d2l_dw2, dl_dw)]

            # Update weights
            self.optimizer.apply_gradients(zip(grads, trainable_vars))

            # Update metrics (includes the metric that tracks the loss)
            self.compiled_metrics.update_state(targets, preds)
            # Return a dict mapping metric names to current value
            return {m.name: m.result() for m in self.metrics}

    x_train, y_train = _data()
    model = get_model(MyModel)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    model.step_counter = 0
    # We pass epochs=1 and steps_per_epoch=10 to only run 10 steps of training.
    model.fit(x_train, y_train, epochs=1, batch_size=1024, verbose=0, steps_per_epoch=2)  # test: 2 of the 10

    # test: run eagerly, the step's Python ran on every batch and printed the gradients' statistics
    printed = capsys.readouterr().out
    assert model.step_counter == 2
    assert "----Start of step: 0" in printed and "----Start of step: 1" in printed
    assert printed.count("Max of d2l_dw2[0]:") == 2


def test_second_order_gradient_of_a_list_of_gradients():
    # test: tape2.gradient(dl_dw, vars) is the gradient of the sum of the first-order gradients' entries, which a
    # finite difference of sum(dl/dw) gives
    model = get_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    x, y = x[:8].astype("float32"), y[:8]
    w = model.trainable_variables

    def grad_sum():
        with tf.GradientTape() as tape:
            loss = model.compiled_loss(y, model(x))
        return sum(float(tf.reduce_sum(g)) for g in tape.gradient(loss, w))

    with tf.GradientTape() as tape2:
        with tf.GradientTape() as tape1:
            loss = model.compiled_loss(y, model(x))
        dl_dw = tape1.gradient(loss, w)
    d2 = tape2.gradient(dl_dw, w)
    bias = w[3]  # the last layer's bias: 10 entries
    base, eps = bias.numpy().copy(), 1e-3
    numeric = []
    for k in range(10):
        values = []
        for sign in (1, -1):
            b = base.copy()
            b[k] += sign * eps
            bias.assign(b)
            values.append(grad_sum())
        numeric.append((values[0] - values[1]) / (2 * eps))
    bias.assign(base)
    np.testing.assert_allclose(d2[3].numpy(), numeric, rtol=0.05, atol=1e-3)


def test_final_training_run():
    x_train, y_train = _data()
    model = get_model()
    lr = learning_rate = keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=0.1, decay_steps=25, decay_rate=0.1
    )
    model.compile(
        optimizer=keras.optimizers.SGD(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=2048 // 8, validation_split=0.1)  # test: 256

    # test: the normalized combination trains (the loss goes down, the schedule decays the step size)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert float(model.optimizer.learning_rate.numpy()) < 0.1
