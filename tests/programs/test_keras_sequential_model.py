"""Keras guide "The Sequential model", run on chainrule.

Source: https://keras.io/guides/sequential_model/ (keras-team/keras-io,
guides/sequential_model.py, "Last modified: 2020/04/12", the Keras 3 revision).

The guide's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `import keras` -> `from chainrule import keras`,
  `from keras import layers` -> `from chainrule.keras import layers`;
- the feature-extraction examples run on 64x64 images instead of 250x250 (the debugging
  workflow keeps 250x250: it only builds the model);
- the notebook's bare expressions (`model.layers`, `layer.weights`) are checked;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


def test_sequential_model_guide(capsys):
    # Define Sequential model with 3 layers
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    # Call model on a test input
    x = tf.ones((3, 3))
    y = model(x)
    assert y.shape == (3, 4)  # test

    # test: the same layers' weights, called as a function, give the same result
    layer1, layer2, layer3 = model.layers
    np.testing.assert_allclose(layer3(layer2(layer1(x))).numpy(), y.numpy())

    # Create 3 layers
    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")

    # Call layers on a test input
    x = tf.ones((3, 3))
    y = layer3(layer2(layer1(x)))
    assert y.shape == (3, 4)  # test

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )

    model.layers
    assert len(model.layers) == 3  # test

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))

    model.pop()
    print(len(model.layers))  # 2
    assert capsys.readouterr().out.strip().endswith("2")  # test

    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    assert model.name == "my_sequential"  # test
    assert [l.name for l in model.layers] == ["layer1", "layer2", "layer3"]  # test

    layer = layers.Dense(3)
    layer.weights  # Empty
    assert layer.weights == []  # test

    # Call layer on a test input
    x = tf.ones((1, 4))
    y = layer(x)
    layer.weights  # Now it has weights, of shape (4, 3) and (3,)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]  # test

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )  # No weights at this stage!

    # Call the model on a test input
    x = tf.ones((1, 4))
    y = model(x)
    print("Number of weights after calling the model:", len(model.weights))  # 6
    assert len(model.weights) == 6  # test

    model.summary()

    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))

    model.summary()

    model.layers
    assert len(model.layers) == 1  # test: the Input is not a layer of the model
    assert len(model.weights) == 2  # test: built from the Input's shape

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))

    model.summary()
    assert len(model.weights) == 2  # test

    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))

    # Can you guess what the current output shape is at this point? Probably not.
    # Let's just print it:
    model.summary()

    # The answer was: (40, 40, 32), so we can keep downsampling...
    assert tuple(model.output_shape) == (None, 40, 40, 32)  # test

    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))

    # And now?
    model.summary()
    assert tuple(model.output_shape) == (None, 4, 4, 32)  # test: "4x4 feature maps"

    # Now that we have 4x4 feature maps, time to apply global max pooling.
    model.add(layers.GlobalMaxPooling2D())

    # Finally, we add a classification layer.
    model.add(layers.Dense(10))
    assert tuple(model.output_shape) == (None, 10)  # test

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )

    # Call feature extractor on test input.
    x = tf.ones((1, 64, 64, 3))
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [  # test
        (1, 30, 30, 32), (1, 28, 28, 32), (1, 26, 26, 32)]
    np.testing.assert_allclose(features[-1].numpy(), initial_model(x).numpy(), rtol=1e-5)  # test

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    # Call feature extractor on test input.
    x = tf.ones((1, 64, 64, 3))
    features = feature_extractor(x)
    assert tuple(features.shape) == (1, 28, 28, 32)  # test
