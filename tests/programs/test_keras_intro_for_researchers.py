"""keras-io guide "Introduction to Keras for Researchers" (TensorFlow 2 era), run on chainrule.

Source: https://keras.io/getting_started/intro_to_keras_for_researchers/
(keras-team/keras-io, guides/intro_to_keras_for_researchers.py).

The guide's code is kept as written (its prose comments shortened), except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`tf.keras.datasets.mnist.load_data()`, reshaped with `reshape(60000, 784)`) is replaced
  by 256 synthetic 28x28 images (tests/programs/mnist_like.py), reshaped with `reshape(256, 784)`;
  the hypernetwork's loop reads 32 of them; "stop after 1000 steps" is never reached;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like

N = 256  # test: the synthetic MNIST's size


def mnist_dataset(batch_size=64):
    (x_train, y_train), _ = mnist_like.load_data(n_train=N)
    dataset = tf.data.Dataset.from_tensor_slices(
        (x_train.reshape(N, 784).astype("float32") / 255, y_train)
    )
    return dataset.shuffle(buffer_size=1024).batch(batch_size)


class Linear(keras.layers.Layer):
    """y = w.x + b"""

    def __init__(self, units=32):
        super(Linear, self).__init__()
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


def test_tensors_variables_gradients():
    x = tf.constant([[5, 2], [1, 3]])
    print(x)
    x.numpy()
    print("dtype:", x.dtype)
    print("shape:", x.shape)
    print(tf.ones(shape=(2, 1)))
    print(tf.zeros(shape=(2, 1)))
    x = tf.random.normal(shape=(2, 2), mean=0.0, stddev=1.0)
    x = tf.random.uniform(shape=(2, 2), minval=0, maxval=10, dtype="int32")

    initial_value = tf.random.normal(shape=(2, 2))
    a = tf.Variable(initial_value)
    print(a)

    new_value = tf.random.normal(shape=(2, 2))
    a.assign(new_value)
    for i in range(2):
        for j in range(2):
            assert a[i, j] == new_value[i, j]

    added_value = tf.random.normal(shape=(2, 2))
    a.assign_add(added_value)
    for i in range(2):
        for j in range(2):
            assert a[i, j] == new_value[i, j] + added_value[i, j]

    a = tf.random.normal(shape=(2, 2))
    b = tf.random.normal(shape=(2, 2))

    c = a + b
    d = tf.square(c)
    e = tf.exp(d)

    a = tf.random.normal(shape=(2, 2))
    b = tf.random.normal(shape=(2, 2))

    with tf.GradientTape() as tape:
        tape.watch(a)  # Start recording the history of operations applied to `a`
        c = tf.sqrt(tf.square(a) + tf.square(b))  # Do some math using `a`
        # What's the gradient of `c` with respect to `a`?
        dc_da = tape.gradient(c, a)
        print(dc_da)
    np.testing.assert_allclose(dc_da.numpy(), (a / c).numpy(), rtol=1e-5)  # test

    a = tf.Variable(a)

    with tf.GradientTape() as tape:
        c = tf.sqrt(tf.square(a) + tf.square(b))
        dc_da = tape.gradient(c, a)
        print(dc_da)

    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as tape:
            c = tf.sqrt(tf.square(a) + tf.square(b))
            dc_da = tape.gradient(c, a)
        d2c_da2 = outer_tape.gradient(dc_da, a)
        print(d2c_da2)
    np.testing.assert_allclose(d2c_da2.numpy(), (b.numpy() ** 2 / c.numpy() ** 3), rtol=1e-4)  # test


def test_layers_losses_metrics():
    class Linear(keras.layers.Layer):
        """y = w.x + b"""

        def __init__(self, units=32, input_dim=32):
            super(Linear, self).__init__()
            w_init = tf.random_normal_initializer()
            self.w = tf.Variable(
                initial_value=w_init(shape=(input_dim, units), dtype="float32"),
                trainable=True,
            )
            b_init = tf.zeros_initializer()
            self.b = tf.Variable(
                initial_value=b_init(shape=(units,), dtype="float32"), trainable=True
            )

        def call(self, inputs):
            return tf.matmul(inputs, self.w) + self.b

    linear_layer = Linear(units=4, input_dim=2)
    y = linear_layer(tf.ones((2, 2)))
    assert y.shape == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]

    linear_layer = globals()["Linear"](4)  # test: the guide redefines Linear with build() (module level here)
    y = linear_layer(tf.ones((2, 2)))

    dataset = mnist_dataset()
    linear_layer = globals()["Linear"](10)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.SGD(learning_rate=1e-3)

    for step, (x, y) in enumerate(dataset):
        with tf.GradientTape() as tape:
            logits = linear_layer(x)
            loss = loss_fn(y, logits)
        gradients = tape.gradient(loss, linear_layer.trainable_weights)
        optimizer.apply_gradients(zip(gradients, linear_layer.trainable_weights))
        if step % 100 == 0:
            print("Step:", step, "Loss:", float(loss))
    assert optimizer.iterations.numpy() == N // 64  # test

    class ComputeSum(keras.layers.Layer):
        """Returns the sum of the inputs."""

        def __init__(self, input_dim):
            super(ComputeSum, self).__init__()
            self.total = tf.Variable(initial_value=tf.zeros((input_dim,)), trainable=False)

        def call(self, inputs):
            self.total.assign_add(tf.reduce_sum(inputs, axis=0))
            return self.total

    my_sum = ComputeSum(2)
    x = tf.ones((2, 2))

    y = my_sum(x)
    print(y.numpy())  # [2. 2.]

    y = my_sum(x)
    print(y.numpy())  # [4. 4.]
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])  # test

    assert my_sum.weights == [my_sum.total]
    assert my_sum.non_trainable_weights == [my_sum.total]
    assert my_sum.trainable_weights == []

    Linear = globals()["Linear"]  # test: the build() version, as the guide has it from here on

    class MLP(keras.layers.Layer):
        """Simple stack of Linear layers."""

        def __init__(self):
            super(MLP, self).__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(10)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = tf.nn.relu(x)
            x = self.linear_2(x)
            x = tf.nn.relu(x)
            return self.linear_3(x)

    mlp = MLP()
    y = mlp(tf.ones(shape=(3, 64)))
    assert len(mlp.weights) == 6

    mlp = keras.Sequential(
        [
            keras.layers.Dense(32, activation=tf.nn.relu),
            keras.layers.Dense(32, activation=tf.nn.relu),
            keras.layers.Dense(10),
        ]
    )

    class ActivityRegularization(keras.layers.Layer):
        """Layer that creates an activity sparsity regularization loss."""

        def __init__(self, rate=1e-2):
            super(ActivityRegularization, self).__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * tf.reduce_sum(inputs))
            return inputs

    class SparseMLP(keras.layers.Layer):
        """Stack of Linear layers with a sparsity regularization loss."""

        def __init__(self):
            super(SparseMLP, self).__init__()
            self.linear_1 = Linear(32)
            self.regularization = ActivityRegularization(1e-2)
            self.linear_3 = Linear(10)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = tf.nn.relu(x)
            x = self.regularization(x)
            return self.linear_3(x)

    mlp = SparseMLP()
    y = mlp(tf.ones((10, 10)))
    print(mlp.losses)  # List containing one float32 scalar

    mlp = SparseMLP()
    mlp(tf.ones((10, 10)))
    assert len(mlp.losses) == 1
    mlp(tf.ones((10, 10)))
    assert len(mlp.losses) == 1  # No accumulation.

    mlp = SparseMLP()
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.SGD(learning_rate=1e-3)

    for step, (x, y) in enumerate(dataset):
        with tf.GradientTape() as tape:
            logits = mlp(x)
            loss = loss_fn(y, logits)
            loss += sum(mlp.losses)
            gradients = tape.gradient(loss, mlp.trainable_weights)
        optimizer.apply_gradients(zip(gradients, mlp.trainable_weights))
        if step % 100 == 0:
            print("Step:", step, "Loss:", float(loss))

    accuracy = tf.keras.metrics.SparseCategoricalAccuracy()
    model = keras.Sequential(
        [
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)

    for epoch in range(2):
        for step, (x, y) in enumerate(dataset):
            with tf.GradientTape() as tape:
                logits = model(x)
                loss_value = loss_fn(y, logits)
            accuracy.update_state(y, logits)
            gradients = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(gradients, model.trainable_weights))
            if step % 200 == 0:
                print("Epoch:", epoch, "Step:", step)
                print("Total running accuracy so far: %.3f" % accuracy.result())
        assert 0.0 < float(accuracy.result()) <= 1.0  # test
        accuracy.reset_states()
    assert float(accuracy.result()) == 0.0  # test: reset


def test_compiled_functions_modes_and_fit():
    dataset = mnist_dataset()
    model = keras.Sequential(
        [
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)

    @tf.function  # Make it fast.
    def train_on_batch(x, y):
        with tf.GradientTape() as tape:
            logits = model(x)
            loss = loss_fn(y, logits)
            gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        return loss

    for step, (x, y) in enumerate(dataset):
        loss = train_on_batch(x, y)
        if step % 100 == 0:
            print("Step:", step, "Loss:", float(loss))
    assert optimizer.iterations.numpy() == N // 64  # test

    class Dropout(keras.layers.Layer):
        def __init__(self, rate):
            super(Dropout, self).__init__()
            self.rate = rate

        def call(self, inputs, training=None):
            if training:
                return tf.nn.dropout(inputs, rate=self.rate)
            return inputs

    class MLPWithDropout(keras.layers.Layer):
        def __init__(self):
            super(MLPWithDropout, self).__init__()
            self.linear_1 = Linear(32)
            self.dropout = Dropout(0.5)
            self.linear_3 = Linear(10)

        def call(self, inputs, training=None):
            x = self.linear_1(inputs)
            x = tf.nn.relu(x)
            x = self.dropout(x, training=training)
            return self.linear_3(x)

    mlp = MLPWithDropout()
    y_train = mlp(tf.ones((2, 2)), training=True)
    y_test = mlp(tf.ones((2, 2)), training=False)

    inputs = tf.keras.Input(shape=(16,), dtype="float32")
    x = Linear(32)(inputs)
    x = Dropout(0.5)(x)
    outputs = Linear(10)(x)
    model = tf.keras.Model(inputs, outputs)
    assert len(model.weights) == 4
    y = model(tf.ones((2, 16)))
    assert y.shape == (2, 10)
    y = model(tf.ones((2, 16)), training=True)

    inputs = tf.keras.Input(shape=(784,), dtype="float32")
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = keras.layers.Dense(32, activation="relu")(x)
    outputs = keras.layers.Dense(10)(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[keras.metrics.SparseCategoricalAccuracy()])
    model.fit(dataset, epochs=2)
    assert model.predict(dataset).shape == (N, 10)  # test
    model.evaluate(dataset)

    class CustomModel(keras.Model):

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.accuracy = keras.metrics.SparseCategoricalAccuracy()
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            self.optimizer = keras.optimizers.Adam(learning_rate=1e-3)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                loss = self.loss_fn(y, y_pred)
            gradients = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
            self.loss_tracker.update_state(loss)
            self.accuracy.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.accuracy]

    inputs = tf.keras.Input(shape=(784,), dtype="float32")
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = keras.layers.Dense(32, activation="relu")(x)
    outputs = keras.layers.Dense(10)(x)
    model = CustomModel(inputs, outputs)
    model.compile()
    history = model.fit(dataset, epochs=2)
    assert set(history.history) == {"loss", "accuracy"}  # test


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = tf.keras.backend.random_normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


def test_variational_autoencoders():
    class Encoder(layers.Layer):
        """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

        def __init__(self, latent_dim=32, intermediate_dim=64, **kwargs):
            super(Encoder, self).__init__(**kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation=tf.nn.relu)
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

        def __init__(self, original_dim, intermediate_dim=64, **kwargs):
            super(Decoder, self).__init__(**kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation=tf.nn.relu)
            self.dense_output = layers.Dense(original_dim, activation=tf.nn.sigmoid)

        def call(self, inputs):
            x = self.dense_proj(inputs)
            return self.dense_output(x)

    class VariationalAutoEncoder(layers.Layer):
        """Combines the encoder and decoder into an end-to-end model for training."""

        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, **kwargs):
            super(VariationalAutoEncoder, self).__init__(**kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * tf.reduce_mean(
                z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1
            )
            self.add_loss(kl_loss)
            return reconstructed

    vae = VariationalAutoEncoder(original_dim=784, intermediate_dim=64, latent_dim=32)
    loss_fn = tf.keras.losses.MeanSquaredError()
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)

    (x_train, _), _ = mnist_like.load_data(n_train=N)
    dataset = tf.data.Dataset.from_tensor_slices(
        x_train.reshape(N, 784).astype("float32") / 255
    )
    dataset = dataset.shuffle(buffer_size=1024).batch(32)

    @tf.function
    def training_step(x):
        with tf.GradientTape() as tape:
            reconstructed = vae(x)  # Compute input reconstruction.
            loss = loss_fn(x, reconstructed)
            loss += sum(vae.losses)  # Add KLD term.
        grads = tape.gradient(loss, vae.trainable_weights)
        optimizer.apply_gradients(zip(grads, vae.trainable_weights))
        return loss

    losses = []  # Keep track of the losses over time.
    for step, x in enumerate(dataset):
        loss = training_step(x)
        losses.append(float(loss))
        if step % 100 == 0:
            print("Step:", step, "Loss:", sum(losses) / len(losses))
        if step >= 1000:
            break
    assert len(losses) == N // 32 and losses[-1] < losses[0]  # test

    original_dim = 784
    intermediate_dim = 64
    latent_dim = 32

    original_inputs = tf.keras.Input(shape=(original_dim,), name="encoder_input")
    x = layers.Dense(intermediate_dim, activation="relu")(original_inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()((z_mean, z_log_var))
    encoder = tf.keras.Model(inputs=original_inputs, outputs=z, name="encoder")

    latent_inputs = tf.keras.Input(shape=(latent_dim,), name="z_sampling")
    x = layers.Dense(intermediate_dim, activation="relu")(latent_inputs)
    outputs = layers.Dense(original_dim, activation="sigmoid")(x)
    decoder = tf.keras.Model(inputs=latent_inputs, outputs=outputs, name="decoder")

    outputs = decoder(z)
    vae = tf.keras.Model(inputs=original_inputs, outputs=outputs, name="vae")

    kl_loss = -0.5 * tf.reduce_mean(z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1)
    vae.add_loss(kl_loss)

    loss_fn = tf.keras.losses.MeanSquaredError()
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)

    dataset = tf.data.Dataset.from_tensor_slices(
        x_train.reshape(N, 784).astype("float32") / 255
    )
    dataset = dataset.map(lambda x: (x, x))  # Use x_train as both inputs & targets
    dataset = dataset.shuffle(buffer_size=1024).batch(32)

    vae.compile(optimizer, loss=loss_fn)
    history = vae.fit(dataset, epochs=1)
    assert np.isfinite(history.history["loss"][0])  # test


def test_hypernetworks():
    input_dim = 784
    classes = 10

    main_network = keras.Sequential(
        [keras.layers.Dense(64, activation=tf.nn.relu), keras.layers.Dense(classes),]
    )

    for layer in main_network.layers:
        layer.built = True

    num_weights_to_generate = (classes * 64 + classes) + (64 * input_dim + 64)

    hypernetwork = keras.Sequential(
        [
            keras.layers.Dense(16, activation=tf.nn.relu),
            keras.layers.Dense(num_weights_to_generate, activation=tf.nn.sigmoid),
        ]
    )

    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-4)

    (x_train, y_train), _ = mnist_like.load_data(n_train=32)
    dataset = tf.data.Dataset.from_tensor_slices(
        (x_train.reshape(32, 784).astype("float32") / 255, y_train)
    )
    dataset = dataset.shuffle(buffer_size=1024).batch(1)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            weights_pred = hypernetwork(x)
            start_index = 0
            w0_shape = (input_dim, 64)
            w0_coeffs = weights_pred[:, start_index : start_index + np.prod(w0_shape)]
            w0 = tf.reshape(w0_coeffs, w0_shape)
            start_index += np.prod(w0_shape)
            b0_shape = (64,)
            b0_coeffs = weights_pred[:, start_index : start_index + np.prod(b0_shape)]
            b0 = tf.reshape(b0_coeffs, b0_shape)
            start_index += np.prod(b0_shape)
            w1_shape = (64, classes)
            w1_coeffs = weights_pred[:, start_index : start_index + np.prod(w1_shape)]
            w1 = tf.reshape(w1_coeffs, w1_shape)
            start_index += np.prod(w1_shape)
            b1_shape = (classes,)
            b1_coeffs = weights_pred[:, start_index : start_index + np.prod(b1_shape)]
            b1 = tf.reshape(b1_coeffs, b1_shape)
            start_index += np.prod(b1_shape)

            main_network.layers[0].kernel = w0
            main_network.layers[0].bias = b0
            main_network.layers[1].kernel = w1
            main_network.layers[1].bias = b1

            preds = main_network(x)
            loss = loss_fn(y, preds)

        grads = tape.gradient(loss, hypernetwork.trainable_weights)
        optimizer.apply_gradients(zip(grads, hypernetwork.trainable_weights))
        return loss

    losses = []  # Keep track of the losses over time.
    for step, (x, y) in enumerate(dataset):
        loss = train_step(x, y)
        losses.append(float(loss))
        if step % 100 == 0:
            print("Step:", step, "Loss:", sum(losses) / len(losses))
        if step >= 1000:
            break
    assert len(losses) == 32 and all(np.isfinite(losses))  # test
    assert optimizer.iterations.numpy() == 32  # test: only the hypernetwork is trained
