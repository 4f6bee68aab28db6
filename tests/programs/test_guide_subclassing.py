"""Keras guide "Making new layers and models via subclassing", run on chainrule.

Source: https://keras.io/guides/making_new_layers_and_models_via_subclassing/
(keras-team/keras-io, guides/making_new_layers_and_models_via_subclassing.py, the tf.keras
revision "Last modified: 2023/03/16"). The last section, "Beyond object-oriented
development: the Functional API" (the functional VAE with `vae.add_loss`), is from the
2020/04/13 revision of the same guide, which still had it.

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 256 synthetic 28x28 images
  (tests/programs/mnist_like.py), so `x_train.reshape(60000, 784)` reads `reshape(256, 784)`;
- the functional VAE trains 2 epochs instead of 3;
- the training-loop snippet of the add_loss section (a code block in the guide's text, with
  a placeholder dataset and model) is made runnable on a small model and synthetic data;
- lines marked `# test:` record values for the assertions that follow the guide's code.
"""

import numpy as np

import chainrule as tf
from chainrule import keras

import mnist_like


def test_layer_class_linear_with_add_weight():
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(
                shape=(input_dim, units), initializer="random_normal", trainable=True
            )
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    x = tf.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    print(y)

    assert linear_layer.weights == [linear_layer.w, linear_layer.b]

    assert tuple(y.shape) == (2, 4)
    w = linear_layer.w.numpy()
    assert w.shape == (2, 4)
    np.testing.assert_allclose(linear_layer.b.numpy(), np.zeros(4))
    np.testing.assert_allclose(y.numpy(), np.ones((2, 2)) @ w, rtol=1e-6, atol=1e-6)
    assert len(linear_layer.trainable_weights) == 2


def test_non_trainable_weights_compute_sum():
    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(
                initializer="zeros", shape=(input_dim,), trainable=False
            )

        def call(self, inputs):
            self.total.assign_add(tf.reduce_sum(inputs, axis=0))
            return self.total

    x = tf.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    print(y.numpy())
    np.testing.assert_allclose(y.numpy(), [2.0, 2.0])  # test: the guide prints [2. 2.]
    y = my_sum(x)
    print(y.numpy())
    np.testing.assert_allclose(y.numpy(), [4.0, 4.0])  # test: the guide prints [4. 4.]

    print("weights:", len(my_sum.weights))
    print("non-trainable weights:", len(my_sum.non_trainable_weights))

    # It's not included in the trainable weights:
    print("trainable_weights:", my_sum.trainable_weights)

    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


def test_deferring_weight_creation_with_build():
    x = tf.ones((2, 2))  # test: `x` as left by the guide's previous section

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(
                shape=(input_dim, units), initializer="random_normal", trainable=True
            )
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    eager = Linear(4, 2)  # test: the input_dim variant still works
    assert len(eager.weights) == 2

    class Linear(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    # At instantiation, we don't know on what inputs this is going to get called
    linear_layer = Linear(32)
    assert linear_layer.weights == []  # test: no weights before the first call

    # The layer's weights are created dynamically the first time the layer is called
    y = linear_layer(x)

    assert tuple(y.shape) == (2, 32)
    assert len(linear_layer.weights) == 2
    assert tuple(linear_layer.w.shape) == (2, 32)
    assert tuple(linear_layer.b.shape) == (32,)
    w, b = linear_layer.w.numpy(), linear_layer.b.numpy()
    np.testing.assert_allclose(y.numpy(), np.ones((2, 2)) @ w + b, rtol=1e-5, atol=1e-6)
    # A second call reuses the same weights.
    y2 = linear_layer(x)
    assert len(linear_layer.weights) == 2
    np.testing.assert_allclose(y2.numpy(), y.numpy())


def test_layers_are_recursively_composable_mlp_block():
    class Linear(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    class MLPBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = tf.nn.relu(x)
            x = self.linear_2(x)
            x = tf.nn.relu(x)
            return self.linear_3(x)

    mlp = MLPBlock()
    y = mlp(tf.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    print("weights:", len(mlp.weights))
    print("trainable weights:", len(mlp.trainable_weights))

    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6  # the guide prints "weights: 6"
    assert len(mlp.trainable_weights) == 6  # and "trainable weights: 6"
    shapes = sorted(tuple(w.shape) for w in mlp.weights)
    assert shapes == sorted([(64, 32), (32,), (32, 32), (32,), (32, 1), (1,)])
    # The outer layer tracks exactly the inner layers' variables.
    inner = [mlp.linear_1.w, mlp.linear_1.b, mlp.linear_2.w, mlp.linear_2.b,
             mlp.linear_3.w, mlp.linear_3.b]
    assert {id(v) for v in mlp.weights} == {id(v) for v in inner}


# A layer that creates an activity regularization loss
class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * tf.reduce_mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


def test_add_loss_activity_regularization_layer():
    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called

    _ = layer(tf.zeros(1, 1))
    assert len(layer.losses) == 1  # We created one loss value

    # `layer.losses` gets reset at the start of each __call__
    _ = layer(tf.zeros(1, 1))
    assert len(layer.losses) == 1  # This is the loss created during the call above

    assert float(layer.losses[0]) == 0.0  # test: 1e-2 * mean(zeros)
    _ = layer(tf.ones((2, 3)) * 5.0)  # test: the loss is the inner layer's rate * mean
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 1e-2 * 5.0, rtol=1e-6)
    assert len(layer.activity_reg.losses) == 1


def test_add_loss_kernel_regularizer_of_inner_layer():
    class OuterLayerWithKernelRegularizer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(
                32, kernel_regularizer=keras.regularizers.l2(1e-3)
            )

        def call(self, inputs):
            return self.dense(inputs)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(tf.zeros((1, 1)))

    # This is `1e-3 * sum(layer.dense.kernel ** 2)`,
    # created by the `kernel_regularizer` above.
    print(layer.losses)

    assert len(layer.losses) == 1
    expected = 1e-3 * np.sum(layer.dense.kernel.numpy() ** 2)
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)
    # Still one regularization loss after another call.
    _ = layer(tf.zeros((1, 1)))
    assert len(layer.losses) == 1


def test_add_loss_in_a_gradient_tape_training_loop():
    # test: the guide's snippet uses a placeholder `train_dataset` and `layer`/`model`;
    # here they are a small classifier whose layers add both kinds of losses above.
    (x, y), _ = mnist_like.load_data(n_train=256, n_test=0)
    x = x.reshape(256, 784).astype("float32") / 255
    train_dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    model = keras.Sequential(
        [
            keras.layers.Dense(10, kernel_regularizer=keras.regularizers.l2(1e-3)),
            ActivityRegularizationLayer(1e-2),
        ]
    )
    layer = model

    # Instantiate an optimizer.
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    epoch_losses = []  # test
    for epoch in range(3):  # test: the snippet shows one pass; three show the trend
        step_losses = []  # test
        # Iterate over the batches of a dataset.
        for x_batch_train, y_batch_train in train_dataset:
            with tf.GradientTape() as tape:
                logits = layer(x_batch_train)  # Logits for this minibatch
                # Loss value for this minibatch
                loss_value = loss_fn(y_batch_train, logits)
                main_loss = float(loss_value)  # test
                # Add extra losses created during this forward pass:
                loss_value += sum(model.losses)

            # test: one activity loss and one kernel regularization loss, both in the total
            assert len(model.losses) == 2
            extra = sum(float(l) for l in model.losses)
            np.testing.assert_allclose(float(loss_value), main_loss + extra, rtol=1e-5)
            step_losses.append(float(loss_value))

            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
        epoch_losses.append(np.mean(step_losses))

    assert len(model.trainable_weights) == 2
    assert all(np.isfinite(epoch_losses))
    assert epoch_losses[-1] < epoch_losses[0]


def test_add_loss_is_counted_by_fit(monkeypatch):
    # test: keep the arrays the guide passes to fit() below, to recompute its losses
    passed = []
    real_random = np.random.random

    def recording_random(*args, **kwargs):
        array = real_random(*args, **kwargs)
        passed.append(array)
        return array

    monkeypatch.setattr(np.random, "random", recording_random)

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)

    # If there is a loss passed in `compile`, the regularization
    # losses get added to it
    model.compile(optimizer="adam", loss="mse")
    history_1 = model.fit(np.random.random((2, 3)), np.random.random((2, 3)))

    # It's also possible not to pass any loss in `compile`,
    # since the model already has a loss to minimize, via the `add_loss`
    # call during the forward pass!
    model.compile(optimizer="adam")
    history_2 = model.fit(np.random.random((2, 3)), np.random.random((2, 3)))

    # test: the model is the identity (no weights); its loss is mse(y, x) + 1e-2 * mean(x),
    # then 1e-2 * mean(x) alone.
    x1, y1, x2, _ = [a for a in passed if a.shape == (2, 3)]
    expected_1 = np.mean((y1 - x1) ** 2) + 1e-2 * np.mean(x1)
    expected_2 = 1e-2 * np.mean(x2)
    np.testing.assert_allclose(history_1.history["loss"][0], expected_1, rtol=1e-5)
    np.testing.assert_allclose(history_2.history["loss"][0], expected_2, rtol=1e-5)


def test_serialization_get_config_from_config():
    class Linear(keras.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    # Now you can recreate the layer from its config:
    layer = Linear(64)
    config = layer.get_config()
    print(config)
    new_layer = Linear.from_config(config)

    assert config == {"units": 64}
    assert isinstance(new_layer, Linear)
    assert new_layer.units == 64

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="random_normal", trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    layer = Linear(64)
    config = layer.get_config()
    print(config)
    new_layer = Linear.from_config(config)

    # test: the base config (name, trainable, dtype) plus "units"
    assert config["units"] == 64
    assert config["name"] == layer.name
    assert config["trainable"] is True
    assert "dtype" in config
    assert new_layer.units == 64
    assert new_layer.name == layer.name
    # test: with the same weights, the layer rebuilt from its config computes the same outputs
    x = tf.ones((3, 5))
    out = layer(x)
    new_layer(x)
    new_layer.set_weights(layer.get_weights())
    np.testing.assert_allclose(new_layer(x).numpy(), out.numpy())
    assert tuple(out.shape) == (3, 64)


def test_privileged_training_argument_custom_dropout():
    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs, training=False):
            if training:
                return tf.nn.dropout(inputs, rate=self.rate)
            return inputs

    layer = CustomDropout(0.5)
    x = tf.ones((8, 100))
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    dropped = layer(x, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0}  # kept units are scaled by 1 / (1 - rate)
    assert 0.3 < np.mean(dropped == 0.0) < 0.7

    # test: "you enable the built-in training and evaluation loops (e.g. fit()) to correctly
    # use the layer in training and inference": a model passes `training` down to it.
    inputs = keras.Input(shape=(100,))
    outputs = CustomDropout(0.5)(inputs)
    model = keras.Model(inputs, outputs)
    np.testing.assert_array_equal(model(x).numpy(), x.numpy())
    np.testing.assert_array_equal(model.predict(x.numpy(), verbose=0), x.numpy())
    assert np.mean(model(x, training=True).numpy() == 0.0) > 0.3


# ## Putting it all together: an end-to-end example (the guide's VAE).

from chainrule.keras import layers  # noqa: E402  (the guide imports it here)


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = keras.backend.random_normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * tf.reduce_mean(
            z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1
        )
        self.add_loss(kl_loss)
        return reconstructed


def _load_x_train():
    (x_train, _), _ = mnist_like.load_data(n_train=256, n_test=0)
    x_train = x_train.reshape(256, 784).astype("float32") / 255
    return x_train


def test_vae_model_subclass_custom_training_loop():
    original_dim = 784
    vae = VariationalAutoEncoder(original_dim, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    mse_loss_fn = keras.losses.MeanSquaredError()

    loss_metric = keras.metrics.Mean()

    x_train = _load_x_train()

    train_dataset = tf.data.Dataset.from_tensor_slices(x_train)
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(64)

    epochs = 2
    step_losses = [[] for _ in range(epochs)]  # test

    # Iterate over epochs.
    for epoch in range(epochs):
        print("Start of epoch %d" % (epoch,))

        # Iterate over the batches of the dataset.
        for step, x_batch_train in enumerate(train_dataset):
            with tf.GradientTape() as tape:
                reconstructed = vae(x_batch_train)
                # Compute reconstruction loss
                loss = mse_loss_fn(x_batch_train, reconstructed)
                loss += sum(vae.losses)  # Add KLD regularization loss

            grads = tape.gradient(loss, vae.trainable_weights)
            optimizer.apply_gradients(zip(grads, vae.trainable_weights))

            loss_metric(loss)

            if step % 100 == 0:
                print("step %d: mean loss = %.4f" % (step, loss_metric.result()))
            step_losses[epoch].append(float(loss))  # test

    assert [len(s) for s in step_losses] == [4, 4]  # 256 images in batches of 64
    assert tuple(reconstructed.shape) == (64, 784)
    assert len(vae.losses) == 1  # the KL loss of the last forward pass
    assert float(vae.losses[0]) >= 0.0  # a KL divergence
    # Encoder: 3 Dense layers, decoder: 2, each with a kernel and a bias.
    assert len(vae.trainable_weights) == 10
    all_losses = step_losses[0] + step_losses[1]
    np.testing.assert_allclose(float(loss_metric.result()), np.mean(all_losses), rtol=1e-5)
    assert np.mean(step_losses[1]) < np.mean(step_losses[0])


def test_vae_model_subclass_fit():
    x_train = _load_x_train()

    vae = VariationalAutoEncoder(784, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)

    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64)

    losses = history.history["loss"]
    assert len(losses) == 2
    assert all(np.isfinite(losses))
    assert losses[1] < losses[0]
    assert len(vae.trainable_weights) == 10
    assert vae.predict(x_train[:5], verbose=0).shape == (5, 784)


def test_functional_vae_with_add_loss():
    x_train = _load_x_train()

    original_dim = 784
    intermediate_dim = 64
    latent_dim = 32

    # Define encoder model.
    original_inputs = tf.keras.Input(shape=(original_dim,), name="encoder_input")
    x = layers.Dense(intermediate_dim, activation="relu")(original_inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()((z_mean, z_log_var))
    encoder = tf.keras.Model(inputs=original_inputs, outputs=z, name="encoder")

    # Define decoder model.
    latent_inputs = tf.keras.Input(shape=(latent_dim,), name="z_sampling")
    x = layers.Dense(intermediate_dim, activation="relu")(latent_inputs)
    outputs = layers.Dense(original_dim, activation="sigmoid")(x)
    decoder = tf.keras.Model(inputs=latent_inputs, outputs=outputs, name="decoder")

    # Define VAE model.
    outputs = decoder(z)
    vae = tf.keras.Model(inputs=original_inputs, outputs=outputs, name="vae")

    # Add KL divergence regularization loss.
    kl_loss = -0.5 * tf.reduce_mean(z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1)
    vae.add_loss(kl_loss)

    # Train.
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=tf.keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64)

    losses = history.history["loss"]
    assert len(losses) == 2
    assert all(np.isfinite(losses))
    assert losses[1] < losses[0]
    assert encoder(x_train[:4]).shape == (4, latent_dim)
    assert decoder(np.zeros((4, latent_dim), dtype="float32")).shape == (4, original_dim)
    assert vae.predict(x_train[:4], verbose=0).shape == (4, original_dim)
    # encoder: 3 Dense layers, decoder: 2, each with a kernel and a bias.
    assert len(vae.trainable_weights) == 10
