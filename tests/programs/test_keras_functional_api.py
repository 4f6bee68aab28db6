"""Keras guide "The Functional API", run on chainrule.

Source: https://keras.io/guides/functional_api/ (keras-team/keras-io, guides/functional_api.py,
the tf.keras revision "Last modified: 2020/04/12").

The guide's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- MNIST is replaced by 512 training and 128 test synthetic 28x28 images of 3 classes
  (tests/programs/mnist_like.py), CIFAR10 by 64 random 32x32x3 images with random labels;
- the `keras.utils.plot_model(...)` calls of the sections on multiple inputs and outputs and on
  the toy ResNet write their PNGs into pytest's temporary folder (drawn with matplotlib where
  pydot and graphviz are missing); the others are left out, and so is the VGG19
  feature-extraction example (it downloads ImageNet weights);
- the multi-input model trains on 64 samples instead of 1280, the toy ResNet 1 epoch on 64
  samples instead of 1000;
- `model.save("path_to_my_model")` writes `path_to_my_model.keras` into pytest's temporary
  folder (Keras 3 asks for the extension);
- lines marked `# test:` check what the program produces.
"""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

import mnist_like


def mnist_model():
    inputs = keras.Input(shape=(784,))

    # Just for demonstration purposes.
    img_inputs = keras.Input(shape=(32, 32, 3))

    inputs.shape
    inputs.dtype
    assert tuple(inputs.shape) == (None, 784)  # test
    assert inputs.dtype == "float32"  # test

    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)

    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)

    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

    model.summary()
    return model


def test_training_evaluation_inference_and_saving(tmp_path):
    model = mnist_model()
    assert model.name == "mnist_model"  # test
    assert model.count_params() == 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10  # test

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data()

    x_train = x_train.reshape(512, 784).astype("float32") / 255
    x_test = x_test.reshape(128, 784).astype("float32") / 255

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"]
    )

    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)

    test_scores = model.evaluate(x_test, y_test, verbose=2)
    print("Test loss:", test_scores[0])
    print("Test accuracy:", test_scores[1])

    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # test
    assert test_scores[1] > 0.8  # test: three classes, chance is 1/3

    path = str(tmp_path / "path_to_my_model.keras")  # test: the guide's "path_to_my_model"
    before = model.predict(x_test)  # test
    model.save(path)
    del model
    # Recreate the exact same model purely from the file:
    model = keras.models.load_model(path)

    np.testing.assert_allclose(model.predict(x_test), before, rtol=1e-5, atol=1e-6)  # test
    assert model.name == "mnist_model"  # test


def test_same_graph_of_layers_for_multiple_models():
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)

    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    encoder.summary()

    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    autoencoder.summary()

    # test: "the output shape is the same as the input shape (28, 28, 1)"
    assert tuple(encoder.output.shape) == (None, 16)
    assert tuple(autoencoder.output.shape) == (None, 28, 28, 1)
    images = np.random.random((2, 28, 28, 1)).astype("float32")
    assert autoencoder(images).shape == (2, 28, 28, 1)
    # The two models share the encoder's layers (and so their weights).
    assert all(any(w is v for v in autoencoder.weights) for w in encoder.weights)


def test_all_models_are_callable_just_like_layers():
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)

    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    encoder.summary()

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

    decoder = keras.Model(decoder_input, decoder_output, name="decoder")
    decoder.summary()

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    autoencoder.summary()

    # test: the nested models compute what chaining them does
    images = np.random.random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(
        autoencoder(images).numpy(), decoder(encoder(images)).numpy(), rtol=1e-5, atol=1e-6)
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()

    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)

    # test: the ensemble averages its members' predictions
    data = np.random.random((4, 128)).astype("float32")
    expected = (model1(data).numpy() + model2(data).numpy() + model3(data).numpy()) / 3
    np.testing.assert_allclose(ensemble_model(data).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_models_with_multiple_inputs_and_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the plot's PNG in a temporary folder
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

    keras.utils.plot_model(model, "multi_input_and_output_model.png", show_shapes=True)
    assert (tmp_path / "multi_input_and_output_model.png").stat().st_size > 10000  # test

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2]
    )

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2}
    )

    # Dummy input data
    title_data = np.random.randint(num_words, size=(64, 10))
    body_data = np.random.randint(num_words, size=(64, 100))
    tags_data = np.random.randint(2, size=(64, num_tags)).astype("float32")

    # Dummy target data
    priority_targets = np.random.random(size=(64, 1))
    dept_targets = np.random.randint(2, size=(64, num_departments))

    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
    )

    assert np.isfinite(history.history["loss"]).all()  # test


def test_toy_resnet_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the plot's PNG in a temporary folder
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)

    model = keras.Model(inputs, outputs, name="toy_resnet")
    model.summary()

    keras.utils.plot_model(model, "mini_resnet.png", show_shapes=True)
    assert (tmp_path / "mini_resnet.png").stat().st_size > 10000  # test

    # test: stands in for keras.datasets.cifar10.load_data()
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(64, 32, 32, 3)).astype("uint8")
    y_train = rng.integers(0, 10, size=(64, 1)).astype("uint8")

    x_train = x_train.astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"]
    )
    # We restrict the data to the first 1000 samples so as to limit execution time
    # on Colab. Try to train on the entire dataset until convergence!
    history = model.fit(x_train[:1000], y_train[:1000], batch_size=64, epochs=1, validation_split=0.2)

    # test
    assert tuple(block_1_output.shape) == (None, 9, 9, 64)
    assert model.count_params() == 223242  # the guide's summary: 223,242 parameters
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert np.isfinite(history.history["loss"]).all()


def test_custom_layers_and_mix_and_match():
    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super(CustomDense, self).__init__()
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

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)

    model = keras.Model(inputs, outputs)
    config = model.get_config()

    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})

    # test: the recreated model has the same structure, with fresh weights
    assert tuple(new_model.output.shape) == (None, 10)
    assert [w.shape for w in new_model.weights] == [(4, 10), (10,)]
    assert new_model.layers[-1].units == 10

    units = 32
    timesteps = 10
    input_dim = 5

    # Define a Functional model
    inputs = keras.Input((None, units))
    x = layers.GlobalAveragePooling1D()(inputs)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    class CustomRNN(layers.Layer):
        def __init__(self):
            super(CustomRNN, self).__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            # Our previously-defined Functional model
            self.classifier = model

        def call(self, inputs):
            outputs = []
            state = tf.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = tf.stack(outputs, axis=1)
            print(features.shape)
            return self.classifier(features)

    rnn_model = CustomRNN()
    _ = rnn_model(tf.zeros((1, timesteps, input_dim)))
    assert _.shape == (1, 1)  # test

    units = 32
    timesteps = 10
    input_dim = 5
    batch_size = 16

    class CustomRNN(layers.Layer):
        def __init__(self):
            super(CustomRNN, self).__init__()
            self.units = units
            self.projection_1 = layers.Dense(units=units, activation="tanh")
            self.projection_2 = layers.Dense(units=units, activation="tanh")
            self.classifier = layers.Dense(1)

        def call(self, inputs):
            outputs = []
            state = tf.zeros(shape=(inputs.shape[0], self.units))
            for t in range(inputs.shape[1]):
                x = inputs[:, t, :]
                h = self.projection_1(x)
                y = h + self.projection_2(state)
                state = y
                outputs.append(y)
            features = tf.stack(outputs, axis=1)
            return self.classifier(features)

    # Note that you specify a static batch size for the inputs with the `batch_shape`
    # arg, because the inner computation of `CustomRNN` requires a static batch size
    # (when you create the `state` zeros tensor).
    inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim))
    x = layers.Conv1D(32, 3)(inputs)
    outputs = CustomRNN()(x)

    model = keras.Model(inputs, outputs)

    rnn_model = CustomRNN()
    _ = rnn_model(tf.zeros((1, 10, 5)))

    # test
    assert tuple(model.output.shape) == (16, 8, 1)
    assert model(np.ones((16, 10, 5), "float32")).shape == (16, 8, 1)
    assert _.shape == (1, 10, 1)
