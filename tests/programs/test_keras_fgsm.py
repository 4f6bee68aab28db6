"""keras-io example "Adversarial examples generation from scratch" (FGSM), run on chainrule.

Source: keras-team/keras-io, examples/vision/fgsm.py (2023/09/02).

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from keras import layers` -> `from chainrule.keras import layers`;
- MNIST (`keras.datasets.mnist.load_data()`, a download) is replaced by mnist_like.py's synthetic digits of the same
  shapes and dtypes (512 training images, 256 test images, 10 classes);
- training is shrunk through the marked constant EPOCHS=1 (the example's 10: on these synthetic digits, more
  training makes a model that an epsilon of 0.1 no longer fools, so the example's sample would be empty);
- the figure is drawn on matplotlib's Agg backend and closed instead of shown;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import chainrule as tf
from chainrule import keras
import numpy as np
from chainrule.keras import layers
import matplotlib.pyplot as plt

import mnist_like

EPOCHS = 1  # test: the example's 10


def test_fgsm(capsys):
    epsilon = [0, 0.1, 0.15, 0.2, 0.25, 0.30, 0.35]

    (train_images, train_labels), (
        test_images,
        test_labels,
    ) = mnist_like.load_data(512, 256, num_classes=10)  # test: instead of keras.datasets.mnist.load_data()

    train_images = train_images.astype("float32") / 255
    test_images = test_images.astype("float32") / 255
    train_images = train_images.reshape((*train_images.shape, 1))
    test_images = test_images.reshape((*test_images.shape, 1))

    input = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, strides=1, activation="relu")(input)
    x = layers.Conv2D(64, 3, strides=1, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    output = layers.Dense(10, activation="softmax")(x)

    model = keras.Model(inputs=input, outputs=output)

    model.compile(
        optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )

    model.fit(train_images, train_labels, epochs=EPOCHS, batch_size=128, validation_split=0.2)  # test: EPOCHS

    datas = tf.constant(test_images[:256])
    targets = tf.constant(test_labels[:256].astype("float16"))

    with tf.GradientTape() as tape:
        tape.watch(datas)
        tape.watch(targets)
        outs = model(datas)
        sparse_crossentropy_loss = tf.losses.SparseCategoricalCrossentropy()
        loss = sparse_crossentropy_loss(targets, outs)

    datas_grad = tape.gradient(loss, datas)
    perturbed_datas = datas + epsilon[1] * tf.sign(datas_grad)

    capsys.readouterr()  # test: the rate printed next is read below
    prediction = model(datas).numpy().argmax(axis=1)
    adv_prediction = model(perturbed_datas).numpy().argmax(axis=1)
    result = prediction == adv_prediction
    inconsistent_result = np.argwhere(result == False).squeeze()
    print(f"Attck Success Rate: {len(inconsistent_result) / len(result): .4f}")
    printed = capsys.readouterr().out

    index = inconsistent_result[0]

    ex = tf.squeeze(datas[index]).numpy()
    pre = prediction[index]
    adv = tf.squeeze(perturbed_datas[index]).numpy()
    adv_pre = adv_prediction[index]

    plt.figure(figsize=(8, 10))

    plt.subplot(1, 2, 1)
    plt.title(f"Predict: {pre}")
    plt.xticks([], [])
    plt.yticks([], [])
    plt.imshow(ex, cmap="gray")

    plt.subplot(1, 2, 2)
    plt.title(f"Attack: {adv_pre}")
    plt.xticks([], [])
    plt.yticks([], [])
    plt.imshow(adv, cmap="gray")
    plt.close("all")  # test: instead of plt.show()

    # test: the model learnt the digits; the perturbation is epsilon times the sign of the loss gradient (which
    # the tape recomputes per image here), it raises the loss, and it changes some predictions
    assert (prediction == test_labels).mean() > 0.4
    grad = datas_grad.numpy()
    np.testing.assert_allclose(perturbed_datas.numpy() - test_images, 0.1 * np.sign(grad), atol=1e-6)
    p = model(datas).numpy()[np.arange(256), test_labels]
    p_adv = model(perturbed_datas).numpy()[np.arange(256), test_labels]
    assert np.mean(-np.log(p_adv)) > np.mean(-np.log(p))
    assert 0 < len(inconsistent_result) and printed.startswith("Attck Success Rate:")
    assert pre != adv_pre and ex.shape == adv.shape == (28, 28)
