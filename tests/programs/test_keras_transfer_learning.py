"""Keras guide "Transfer learning & fine-tuning", run on chainrule (the parts that need no
download).

Source: https://keras.io/guides/transfer_learning/ (keras-team/keras-io,
guides/transfer_learning.py, "Last modified: 2020/05/12", the Keras 3 revision).

The guide's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `import keras` -> `from chainrule import keras`;
- the sections on the `trainable` attribute run as written; the workflow, fine-tuning and
  custom-loop blueprints (code blocks in the guide, on `keras.applications.Xception` with
  ImageNet weights and the cats-vs-dogs dataset from TFDS, both downloads) run with a small
  convolutional base model with BatchNormalization, "pre-trained" here on one synthetic
  image task (tests/programs/mnist_like.py, 3 classes, 32x32x3) and transferred to another
  (2 classes), at 32x32 instead of 150x150; `epochs=20`/`epochs=10` are 2;
- the end-to-end cats-vs-dogs example (TFDS, matplotlib, Xception) is left out;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf
from chainrule import keras

import mnist_like


def test_freezing_layers_the_trainable_attribute(capsys):
    layer = keras.layers.Dense(3)
    layer.build((None, 4))  # Create the weights

    print("weights:", len(layer.weights))
    print("trainable_weights:", len(layer.trainable_weights))
    print("non_trainable_weights:", len(layer.non_trainable_weights))

    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))  # Create the weights

    print("weights:", len(layer.weights))
    print("trainable_weights:", len(layer.trainable_weights))
    print("non_trainable_weights:", len(layer.non_trainable_weights))

    layer = keras.layers.Dense(3)
    layer.build((None, 4))  # Create the weights
    layer.trainable = False  # Freeze the layer

    print("weights:", len(layer.weights))
    print("trainable_weights:", len(layer.trainable_weights))
    print("non_trainable_weights:", len(layer.non_trainable_weights))

    # test: the guide's printed output
    assert capsys.readouterr().out.split("\n")[:-1] == [
        "weights: 2", "trainable_weights: 2", "non_trainable_weights: 0",
        "weights: 4", "trainable_weights: 2", "non_trainable_weights: 2",
        "weights: 2", "trainable_weights: 0", "non_trainable_weights: 2",
    ]

    # Make a model with 2 layers
    layer1 = keras.layers.Dense(3, activation="relu")
    layer2 = keras.layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])

    # Freeze the first layer
    layer1.trainable = False

    # Keep a copy of the weights of layer1 for later reference
    initial_layer1_weights_values = layer1.get_weights()
    initial_layer2_weights_values = layer2.get_weights()  # test

    # Train the model
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.random((2, 3)), np.random.random((2, 3)))

    # Check that the weights of layer1 have not changed during training
    final_layer1_weights_values = layer1.get_weights()
    np.testing.assert_allclose(
        initial_layer1_weights_values[0], final_layer1_weights_values[0]
    )
    np.testing.assert_allclose(
        initial_layer1_weights_values[1], final_layer1_weights_values[1]
    )
    # test: while layer2's did
    assert not np.array_equal(initial_layer2_weights_values[0], layer2.get_weights()[0])


def test_recursive_setting_of_the_trainable_attribute():
    inner_model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(3, activation="relu"),
        ]
    )

    model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            inner_model,
            keras.layers.Dense(3, activation="sigmoid"),
        ]
    )

    model.trainable = False  # Freeze the outer model

    assert inner_model.trainable == False  # All layers in `model` are now frozen
    assert inner_model.layers[0].trainable == False  # `trainable` is propagated recursively
    assert model.trainable_weights == []  # test
    assert len(model.non_trainable_weights) == 6  # test


def pretrained_base_model():
    """test: stands in for `keras.applications.Xception(weights='imagenet', include_top=False)`:
    a small convolutional base trained here on a 3-class synthetic image task."""
    (x, y), _ = mnist_like.load_data(n_train=192, n_test=8, num_classes=3, seed=1)
    x = np.repeat(np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None], 3, axis=-1) / 255.0
    base_model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
    ], name="base_model")
    pretraining = keras.Sequential([base_model, keras.layers.GlobalAveragePooling2D(),
                                    keras.layers.Dense(3)])
    pretraining.compile(optimizer="adam",
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pretraining.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return base_model


def new_dataset():
    """test: stands in for the cats-vs-dogs dataset: 2 other classes, 32x32x3 images."""
    (x, y), _ = mnist_like.load_data(n_train=128, n_test=8, num_classes=2, seed=2)
    x = np.repeat(np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None], 3, axis=-1) / 255.0
    y = y.reshape(-1, 1).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x.astype("float32"), y)).batch(32)


def test_typical_workflow_and_fine_tuning():
    base_model = pretrained_base_model()
    new_ds = new_dataset()

    base_model.trainable = False

    inputs = keras.Input(shape=(32, 32, 3))
    # We make sure that the base_model is running in inference mode here,
    # by passing `training=False`. This is important for fine-tuning, as you will
    # learn in a few paragraphs.
    x = base_model(inputs, training=False)
    # Convert features of shape `base_model.output_shape[1:]` to vectors
    x = keras.layers.GlobalAveragePooling2D()(x)
    # A Dense classifier with a single unit (binary classification)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy()])

    base_before = [w.copy() for w in base_model.get_weights()]  # test
    history = model.fit(new_ds, epochs=2)

    # test: the frozen base (its BatchNormalization statistics included) did not change;
    # only the new Dense layer's 2 weights are trained
    for a, b in zip(base_before, base_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2
    assert np.isfinite(history.history["loss"]).all()

    bn = base_model.layers[1]  # test
    kernel_before = base_model.layers[0].kernel.numpy().copy()  # test
    moving_mean_before = bn.moving_mean.numpy().copy()  # test
    moving_variance_before = bn.moving_variance.numpy().copy()  # test

    # Unfreeze the base model
    base_model.trainable = True

    # It's important to recompile your model after you make any changes
    # to the `trainable` attribute of any inner layer, so that your changes
    # are take into account
    model.compile(optimizer=keras.optimizers.Adam(1e-5),  # Very low learning rate
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy()])

    # Train end-to-end. Be careful to stop before you overfit!
    history = model.fit(new_ds, epochs=2)

    # test: the base's kernels now move (a little), while its BatchNormalization layer,
    # called with training=False, keeps its moving statistics
    kernel = base_model.layers[0].kernel.numpy()
    assert not np.array_equal(kernel, kernel_before)
    assert np.abs(kernel - kernel_before).max() < 1e-3
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving_mean_before)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), moving_variance_before)
    assert len(model.trainable_weights) == 2 + 6


def test_transfer_learning_with_a_custom_training_loop():
    base_model = pretrained_base_model()
    new_ds = new_dataset()

    # Freeze base model
    base_model.trainable = False

    # Create new model on top.
    inputs = keras.Input(shape=(32, 32, 3))
    x = base_model(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam()

    base_before = [w.copy() for w in base_model.get_weights()]  # test
    head_before = [w.copy() for w in model.layers[-1].get_weights()]  # test

    # Iterate over the batches of a dataset.
    for inputs, targets in new_ds:
        # Open a GradientTape.
        with tf.GradientTape() as tape:
            # Forward pass.
            predictions = model(inputs)
            # Compute the loss value for this batch.
            loss_value = loss_fn(targets, predictions)

        # Get gradients of loss wrt the *trainable* weights.
        gradients = tape.gradient(loss_value, model.trainable_weights)
        # Update the weights of the model.
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))

    # test: only the head was updated
    for a, b in zip(base_before, base_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(head_before, model.layers[-1].get_weights()):
        assert not np.array_equal(a, b)
