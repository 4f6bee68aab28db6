"""keras-io guide "Introduction to Keras for engineers" (Keras 3), run on chainrule.

Source: https://keras.io/getting_started/intro_to_keras_for_engineers/
(keras-team/keras-io, guides/intro_to_keras_for_engineers.py).

The guide's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `import tensorflow as tf` ->
  `import chainrule as tf`; `os.environ["KERAS_BACKEND"] = "jax"` is set through pytest's
  monkeypatch (chainrule has one backend and ignores it);
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 128 training and 32 test synthetic
  28x28 images of the 10 classes (tests/programs/mnist_like.py);
- sizes shrunk: the convolutions have 16 and 32 filters (64 and 128), batch_size=64 (128),
  epochs=2 (20); the model files are written in the test's temporary folder;
- lines marked `# test:` check what the program produces.
"""

import os

import numpy as np

import mnist_like


def test_intro_to_keras_for_engineers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the .keras files in a temporary folder
    monkeypatch.setenv("KERAS_BACKEND", "jax")  # test: instead of os.environ[...] = "jax"

    from chainrule import keras

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=128, n_test=32, num_classes=10)

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print("y_train shape:", y_train.shape)

    # Model parameters
    num_classes = 10
    input_shape = (28, 28, 1)

    model = keras.Sequential(
        [
            keras.layers.Input(shape=input_shape),
            keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
            keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )

    model.summary()

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="acc"),
        ],
    )

    batch_size = 64
    epochs = 2

    callbacks = [
        keras.callbacks.ModelCheckpoint(filepath="model_at_epoch_{epoch}.keras"),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2),
    ]

    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.15,
        callbacks=callbacks,
    )
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}  # test
    assert (tmp_path / "model_at_epoch_1.keras").exists() and (tmp_path / "model_at_epoch_2.keras").exists()  # test
    score = model.evaluate(x_test, y_test, verbose=0)

    model.save("final_model.keras")

    model = keras.saving.load_model("final_model.keras")

    predictions = model.predict(x_test)
    assert predictions.shape == (32, 10)  # test
    np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), score, rtol=1e-5)  # test: reloaded

    class MyDense(keras.layers.Layer):
        def __init__(self, units, activation=None, name=None):
            super().__init__(name=name)
            self.units = units
            self.activation = keras.activations.get(activation)

        def build(self, input_shape):
            input_dim = input_shape[-1]
            self.w = self.add_weight(
                shape=(input_dim, self.units),
                initializer=keras.initializers.GlorotNormal(),
                name="kernel",
                trainable=True,
            )

            self.b = self.add_weight(
                shape=(self.units,),
                initializer=keras.initializers.Zeros(),
                name="bias",
                trainable=True,
            )

        def call(self, inputs):
            # Use Keras ops to create backend-agnostic layers/metrics/etc.
            x = keras.ops.matmul(inputs, self.w) + self.b
            return self.activation(x)

    class MyDropout(keras.layers.Layer):
        def __init__(self, rate, name=None):
            super().__init__(name=name)
            self.rate = rate
            # Use seed_generator for managing RNG state.
            # It is a state element and its seed variable is
            # tracked as part of `layer.variables`.
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            # Use `keras.random` for random ops.
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    class MyModel(keras.Model):
        def __init__(self, num_classes):
            super().__init__()
            self.conv_base = keras.Sequential(
                [
                    keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
                    keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
                    keras.layers.MaxPooling2D(pool_size=(2, 2)),
                    keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                    keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                    keras.layers.GlobalAveragePooling2D(),
                ]
            )
            self.dp = MyDropout(0.5)
            self.dense = MyDense(num_classes, activation="softmax")

        def call(self, x):
            x = self.conv_base(x)
            x = self.dp(x)
            return self.dense(x)

    model = MyModel(num_classes=10)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="acc"),
        ],
    )

    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=1,  # For speed
        validation_split=0.15,
    )
    assert len(model.dense.trainable_weights) == 2  # test: MyDense's kernel and bias

    import torch

    # Create a TensorDataset
    train_torch_dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(x_train), torch.from_numpy(y_train)
    )
    val_torch_dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(x_test), torch.from_numpy(y_test)
    )

    # Create a DataLoader
    train_dataloader = torch.utils.data.DataLoader(
        train_torch_dataset, batch_size=batch_size, shuffle=True
    )
    val_dataloader = torch.utils.data.DataLoader(
        val_torch_dataset, batch_size=batch_size, shuffle=False
    )

    model = MyModel(num_classes=10)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="acc"),
        ],
    )
    history = model.fit(train_dataloader, epochs=1, validation_data=val_dataloader)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}  # test

    import chainrule as tf

    train_dataset = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    test_dataset = (
        tf.data.Dataset.from_tensor_slices((x_test, y_test))
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )

    model = MyModel(num_classes=10)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="acc"),
        ],
    )
    history = model.fit(train_dataset, epochs=1, validation_data=test_dataset)
    assert np.isfinite(history.history["val_loss"][0])  # test
    assert os.environ["KERAS_BACKEND"] == "jax"  # test: the setting is left alone
