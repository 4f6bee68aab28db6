"""Keras guide "Writing a training loop from scratch", run on chainrule.

Source: https://keras.io/guides/writing_a_training_loop_from_scratch/ (also
https://www.tensorflow.org/guide/keras/writing_a_training_loop_from_scratch), the tf.keras
revision: keras-team/keras-io, guides/writing_a_training_loop_from_scratch.py,
"Last modified: 2020/04/15".

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 1024 training and 128 test
  synthetic 28x28 uint8 images of 3 classes (tests/programs/mnist_like.py), and the
  validation split reserves 256 samples instead of 10,000;
- each section starts from the objects the guide built in the sections before it (the
  data preparation is the guide's, in `prepare_data()`);
- the add_loss section, which only defines its `train_step`, also runs it for a few
  steps with a fresh optimizer;
- the GAN trains on 4 images in batches of 2 (2 steps) instead of all MNIST digits in
  batches of 64, and saves its image into pytest's temporary folder;
- lines marked `# test:` record values for the assertions that follow the guide's code.
"""

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like


def prepare_data():
    # Prepare the training dataset.
    batch_size = 64
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=1024, n_test=128)
    x_train = np.reshape(x_train, (-1, 784))
    x_test = np.reshape(x_test, (-1, 784))

    # Reserve 10,000 samples for validation.
    x_val = x_train[-256:]
    y_val = y_train[-256:]
    x_train = x_train[:-256]
    y_train = y_train[:-256]

    # Prepare the training dataset.
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)

    # Prepare the validation dataset.
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val))
    val_dataset = val_dataset.batch(batch_size)
    return batch_size, train_dataset, val_dataset


def get_metrics_model():
    # Get model
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def test_using_the_gradient_tape_first_end_to_end_example():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu")(inputs)
    x2 = layers.Dense(64, activation="relu")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)

    # Instantiate an optimizer.
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    batch_size, train_dataset, val_dataset = prepare_data()

    epochs = 2
    step_losses = [[] for _ in range(epochs)]  # test
    for epoch in range(epochs):
        print("\nStart of epoch %d" % (epoch,))

        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):

            # Open a GradientTape to record the operations run
            # during the forward pass, which enables auto-differentiation.
            with tf.GradientTape() as tape:

                # Run the forward pass of the layer.
                # The operations that the layer applies
                # to its inputs are going to be recorded
                # on the GradientTape.
                logits = model(x_batch_train, training=True)  # Logits for this minibatch

                # Compute the loss value for this minibatch.
                loss_value = loss_fn(y_batch_train, logits)

            # Use the gradient tape to automatically retrieve
            # the gradients of the trainable variables with respect to the loss.
            grads = tape.gradient(loss_value, model.trainable_weights)

            # Run one step of gradient descent by updating
            # the value of the variables to minimize the loss.
            optimizer.apply_gradients(zip(grads, model.trainable_weights))

            # Log every 200 batches.
            if step % 200 == 0:
                print(
                    "Training loss (for one batch) at step %d: %.4f"
                    % (step, float(loss_value))
                )
                print("Seen so far: %s samples" % ((step + 1) * batch_size))
            step_losses[epoch].append(float(loss_value))  # test

    # test: 768 training samples in batches of 64
    assert [len(s) for s in step_losses] == [12, 12]
    assert len(model.trainable_weights) == 6
    assert all(np.isfinite(s).all() for s in step_losses)
    assert np.mean(step_losses[1]) < np.mean(step_losses[0])


def test_low_level_handling_of_metrics():
    batch_size, train_dataset, val_dataset = prepare_data()

    model = get_metrics_model()

    # Instantiate an optimizer to train the model.
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    # Instantiate a loss function.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # Prepare the metrics.
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    import time

    epochs = 2
    train_accs, val_accs = [], []  # test
    for epoch in range(epochs):
        print("\nStart of epoch %d" % (epoch,))
        start_time = time.time()

        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            with tf.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))

            # Update training metric.
            train_acc_metric.update_state(y_batch_train, logits)

            # Log every 200 batches.
            if step % 200 == 0:
                print(
                    "Training loss (for one batch) at step %d: %.4f"
                    % (step, float(loss_value))
                )
                print("Seen so far: %d samples" % ((step + 1) * batch_size))

        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        print("Training acc over epoch: %.4f" % (float(train_acc),))
        train_accs.append(float(train_acc))  # test

        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_states()

        # Run a validation loop at the end of each epoch.
        for x_batch_val, y_batch_val in val_dataset:
            val_logits = model(x_batch_val, training=False)
            # Update val metrics
            val_acc_metric.update_state(y_batch_val, val_logits)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_states()
        print("Validation acc: %.4f" % (float(val_acc),))
        print("Time taken: %.2fs" % (time.time() - start_time))
        val_accs.append(float(val_acc))  # test

    # test: three classes, chance is 1/3
    assert val_accs[-1] > 0.8
    assert train_accs[-1] > 0.6
    assert float(train_acc_metric.result()) == 0.0  # reset at the end of the epoch
    assert float(val_acc_metric.result()) == 0.0
    # The validation accuracy is the model's accuracy on the validation set.
    x_val, y_val = mnist_like.load_data(n_train=1024, n_test=128)[0]
    x_val, y_val = x_val.reshape(-1, 784)[-256:], y_val[-256:]
    predicted = np.argmax(model(x_val, training=False).numpy(), axis=1)
    np.testing.assert_allclose(val_accs[-1], np.mean(predicted == y_val), atol=1e-6)


def test_speeding_up_the_training_step_with_tf_function():
    batch_size, train_dataset, val_dataset = prepare_data()
    model = get_metrics_model()
    optimizer = keras.optimizers.SGD(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    @tf.function
    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    import time

    epochs = 2
    step_losses = [[] for _ in range(epochs)]  # test
    val_accs = []  # test
    for epoch in range(epochs):
        print("\nStart of epoch %d" % (epoch,))
        start_time = time.time()

        # Iterate over the batches of the dataset.
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)

            # Log every 200 batches.
            if step % 200 == 0:
                print(
                    "Training loss (for one batch) at step %d: %.4f"
                    % (step, float(loss_value))
                )
                print("Seen so far: %d samples" % ((step + 1) * batch_size))
            step_losses[epoch].append(float(loss_value))  # test

        # Display metrics at the end of each epoch.
        train_acc = train_acc_metric.result()
        print("Training acc over epoch: %.4f" % (float(train_acc),))

        # Reset training metrics at the end of each epoch
        train_acc_metric.reset_states()

        # Run a validation loop at the end of each epoch.
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)

        val_acc = val_acc_metric.result()
        val_acc_metric.reset_states()
        print("Validation acc: %.4f" % (float(val_acc),))
        print("Time taken: %.2fs" % (time.time() - start_time))
        val_accs.append(float(val_acc))  # test

    # test: the compiled steps update the model and the metrics as the eager ones do
    assert [len(s) for s in step_losses] == [12, 12]
    assert all(np.isfinite(s).all() for s in step_losses)
    assert np.mean(step_losses[1]) < np.mean(step_losses[0])
    assert val_accs[-1] > 0.8  # three classes: chance is 1/3
    # The last validation batch (256 = 4 x 64): test_step updated the metric with it.
    x_val, y_val = mnist_like.load_data(n_train=1024, n_test=128)[0]
    x_val, y_val = x_val.reshape(-1, 784)[-256:], y_val[-256:]
    test_step(x_val, y_val)
    predicted = np.argmax(model(x_val, training=False).numpy(), axis=1)
    np.testing.assert_allclose(
        float(val_acc_metric.result()), np.mean(predicted == y_val), atol=1e-6)
    np.testing.assert_allclose(float(val_acc_metric.result()), val_accs[-1], atol=1e-6)


def test_low_level_handling_of_losses_tracked_by_the_model():
    batch_size, train_dataset, val_dataset = prepare_data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * tf.reduce_sum(inputs))
            return inputs

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu")(inputs)
    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)

    optimizer = keras.optimizers.SGD(learning_rate=1e-3)  # test: fresh, for this model

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            # Add any extra losses created during the forward pass.
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    # test: run the step; its loss is the main loss plus the activity loss, computed
    # with the weights before the update.
    step_losses = []
    for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
        logits = model(x_batch_train, training=True)
        assert len(model.losses) == 1
        first_dense = [l for l in model.layers if isinstance(l, layers.Dense)][0]
        hidden = first_dense(tf.cast(x_batch_train, "float32"))
        np.testing.assert_allclose(
            float(model.losses[0]), 1e-2 * np.sum(hidden.numpy()), rtol=1e-4)
        expected = float(loss_fn(y_batch_train, logits)) + float(model.losses[0])
        loss_value = train_step(x_batch_train, y_batch_train)
        np.testing.assert_allclose(float(loss_value), expected, rtol=1e-4)
        step_losses.append(float(loss_value))
        if step == 5:
            break
    assert all(np.isfinite(step_losses))
    assert step_losses[-1] < step_losses[0]


def test_end_to_end_example_gan_training_loop(tmp_path):
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    discriminator.summary()

    latent_dim = 128

    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # We want to generate 128 coefficients to reshape into a 7x7x128 map
            layers.Dense(7 * 7 * 128),
            layers.LeakyReLU(alpha=0.2),
            layers.Reshape((7, 7, 128)),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    # Instantiate one optimizer for the discriminator and another for the generator.
    d_optimizer = keras.optimizers.Adam(learning_rate=0.0003)
    g_optimizer = keras.optimizers.Adam(learning_rate=0.0004)

    # Instantiate a loss function.
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real_images):
        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        # Decode them to fake images
        generated_images = generator(random_latent_vectors)
        # Combine them with real images
        combined_images = tf.concat([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = tf.concat(
            [tf.ones((batch_size, 1)), tf.zeros((real_images.shape[0], 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * tf.random.uniform(labels.shape)

        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = discriminator(combined_images)
            d_loss = loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_weights))

        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, latent_dim))
        # Assemble labels that say "all real images"
        misleading_labels = tf.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with tf.GradientTape() as tape:
            predictions = discriminator(generator(random_latent_vectors))
            g_loss = loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply_gradients(zip(grads, generator.trainable_weights))
        return d_loss, g_loss, generated_images

    import os

    # Prepare the dataset. We use both the training & test MNIST digits.
    batch_size = 2
    (x_train, _), (x_test, _) = mnist_like.load_data(n_train=2, n_test=2)
    all_digits = np.concatenate([x_train, x_test])
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    dataset = tf.data.Dataset.from_tensor_slices(all_digits)
    dataset = dataset.shuffle(buffer_size=1024).batch(batch_size)

    epochs = 1  # In practice you need at least 20 epochs to generate nice digits.
    save_dir = str(tmp_path)

    d_before = [w.numpy() for w in discriminator.trainable_weights]  # test
    g_before = [w.numpy() for w in generator.trainable_weights]  # test
    steps = 0  # test

    for epoch in range(epochs):
        print("\nStart epoch", epoch)

        for step, real_images in enumerate(dataset):
            # Train the discriminator & generator on one batch of real images.
            d_loss, g_loss, generated_images = train_step(real_images)

            # Logging.
            if step % 200 == 0:
                # Print metrics
                print("discriminator loss at step %d: %.2f" % (step, d_loss))
                print("adversarial loss at step %d: %.2f" % (step, g_loss))

                # Save one generated image
                img = tf.keras.preprocessing.image.array_to_img(
                    generated_images[0] * 255.0, scale=False
                )
                img.save(os.path.join(save_dir, "generated_img" + str(step) + ".png"))
            steps += 1  # test

            # To limit execution time we stop after 10 steps.
            # Remove the lines below to actually train the model!
            if step > 10:
                break

    # test: what the program produces
    assert steps == 2
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
    assert tuple(generated_images.shape) == (2, 28, 28, 1)
    generated = np.asarray(generated_images)
    assert generated.min() >= 0.0 and generated.max() <= 1.0  # sigmoid output
    assert os.path.exists(os.path.join(save_dir, "generated_img0.png"))
    assert len(discriminator.trainable_weights) == 6
    assert len(generator.trainable_weights) == 8
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(d_before, discriminator.trainable_weights))
    assert all(not np.array_equal(b, w.numpy())
               for b, w in zip(g_before, generator.trainable_weights))
