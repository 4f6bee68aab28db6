"""TensorFlow tutorial "Save and load models", run on chainrule.

Source: https://www.tensorflow.org/tutorials/keras/save_and_load
(tensorflow/docs, site/en/tutorials/keras/save_and_load.ipynb).

The tutorial's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`; the notebook's
  `!pip install`, `!ls` and `!mkdir` shell lines are left out (`!mkdir -p saved_model` is
  `os.makedirs`);
- MNIST is replaced by 512 training and 256 test synthetic 28x28 images of 10 classes
  (tests/programs/mnist_like.py), in `load_data()`;
- `epochs=10` is 2, `epochs=50` is 10 (so the checkpoints every 5 epochs are cp-0005 and
  cp-0010), `epochs=5` is 2;
- the files are written into pytest's temporary folder (the test changes into it);
- lines marked `# test:` check what the program produces.
"""

import math
import os

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras

import mnist_like


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the tutorial's files go to a temporary folder


def load_data():
    (train_images, train_labels), (test_images, test_labels) = mnist_like.load_data(
        n_train=512, n_test=256, num_classes=10)

    train_labels = train_labels[:1000]
    test_labels = test_labels[:1000]

    train_images = train_images[:1000].reshape(-1, 28 * 28) / 255.0
    test_images = test_images[:1000].reshape(-1, 28 * 28) / 255.0
    return (train_images, train_labels), (test_images, test_labels)


# Define a simple sequential model
def create_model():
  model = tf.keras.Sequential([
    keras.layers.Dense(512, activation='relu', input_shape=(784,)),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10)
  ])

  model.compile(optimizer='adam',
                loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

  return model


def test_save_checkpoints_during_training(capsys):
    print(tf.version.VERSION)
    (train_images, train_labels), (test_images, test_labels) = load_data()

    # Create a basic model instance
    model = create_model()

    # Display the model's architecture
    model.summary()

    checkpoint_path = "training_1/cp.weights.h5" # Since you're only saving weights, you should use the .weights.h5 extension. If you're saving the whole model, you would use the .keras extension instead
    checkpoint_dir = os.path.dirname(checkpoint_path)

    # Create a callback that saves the model's weights
    cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path,
                                                     save_weights_only=True,
                                                     verbose=1)

    # Train the model with the new callback
    model.fit(train_images,
              train_labels,
              epochs=2,
              validation_data=(test_images, test_labels),
              callbacks=[cp_callback])  # Pass callback to training

    # This may generate warnings related to saving the state of the optimizer.
    # These warnings (and similar warnings throughout this notebook)
    # are in place to discourage outdated usage, and can be ignored.

    os.listdir(checkpoint_dir)
    assert os.listdir(checkpoint_dir) == ["cp.weights.h5"]  # test
    trained_acc = model.evaluate(test_images, test_labels, verbose=0)[1]  # test

    # Create a basic model instance
    model = create_model()

    # Evaluate the model
    loss, acc = model.evaluate(test_images, test_labels, verbose=2)
    print("Untrained model, accuracy: {:5.2f}%".format(100 * acc))
    untrained_acc = acc  # test

    # Loads the weights
    model.load_weights(checkpoint_path)

    # Re-evaluate the model
    loss, acc = model.evaluate(test_images, test_labels, verbose=2)
    print("Restored model, accuracy: {:5.2f}%".format(100 * acc))

    # test: the restored model scores as the trained one, far above the untrained one
    assert acc == pytest.approx(trained_acc)
    assert acc > 0.8 and untrained_acc < 0.5
    assert "saving model to training_1/cp.weights.h5" in capsys.readouterr().out

    # Include the epoch in the file name (uses `str.format`)
    checkpoint_path = "training_2/cp-{epoch:04d}.weights.h5"
    checkpoint_dir = os.path.dirname(checkpoint_path)
    os.mkdir(checkpoint_dir)

    batch_size = 32

    # Calculate the number of batches per epoch
    n_batches = len(train_images) / batch_size
    n_batches = math.ceil(n_batches)    # round up the number of batches to the nearest whole integer

    # Create a callback that saves the model's weights every 5 epochs
    cp_callback = tf.keras.callbacks.ModelCheckpoint(
        filepath=checkpoint_path,
        verbose=1,
        save_weights_only=True,
        save_freq=5*n_batches)

    # Create a new model instance
    model = create_model()

    # Save the weights using the `checkpoint_path` format
    model.save_weights(checkpoint_path.format(epoch=0))

    # Train the model with the new callback
    model.fit(train_images,
              train_labels,
              epochs=10,
              batch_size=batch_size,
              callbacks=[cp_callback],
              validation_data=(test_images, test_labels),
              verbose=0)

    os.listdir(checkpoint_dir)
    assert sorted(os.listdir(checkpoint_dir)) == [  # test
        "cp-0000.weights.h5", "cp-0005.weights.h5", "cp-0010.weights.h5"]

    def load_latest_checkpoint(checkpoint_dir):
        latest = max(os.listdir(checkpoint_dir), key=lambda f: int(f.split('-')[1].split('.')[0]))
        return os.path.join(checkpoint_dir, latest)

    latest = load_latest_checkpoint(checkpoint_dir)
    latest
    assert latest == "training_2/cp-0010.weights.h5"  # test

    # Create a new model instance
    model2 = create_model()  # test: `model` is kept for the comparison below

    # Load the previously saved weights
    model2.load_weights(latest)

    # Re-evaluate the model
    loss, acc = model2.evaluate(test_images, test_labels, verbose=2)
    print("Restored model, accuracy: {:5.2f}%".format(100 * acc))

    # test: the last checkpoint holds the weights at the end of training
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)
    model = model2

    # Save the weights
    os.mkdir('./checkpoints')
    model.save_weights('./checkpoints/my_checkpoint.weights.h5')

    # Create a new model instance
    model = create_model()

    # Restore the weights
    model.load_weights('./checkpoints/my_checkpoint.weights.h5')

    # Evaluate the model
    loss, acc = model.evaluate(test_images, test_labels, verbose=2)
    print("Restored model, accuracy: {:5.2f}%".format(100 * acc))
    assert acc > 0.8  # test


def test_save_the_entire_model_keras_format():
    (train_images, train_labels), (test_images, test_labels) = load_data()

    # Create and train a new model instance.
    model = create_model()
    model.fit(train_images, train_labels, epochs=2)

    # Save the entire model as a `.keras` zip archive.
    model.save('my_model.keras')

    new_model = tf.keras.models.load_model('my_model.keras')

    # Show the model architecture
    new_model.summary()

    # Evaluate the restored model
    loss, acc = new_model.evaluate(test_images, test_labels, verbose=2)
    print('Restored model, accuracy: {:5.2f}%'.format(100 * acc))

    print(new_model.predict(test_images).shape)

    # test: the restored model predicts as the saved one, and keeps its compile()
    np.testing.assert_allclose(new_model.predict(test_images), model.predict(test_images),
                               rtol=1e-5, atol=1e-6)
    assert new_model.predict(test_images).shape == (256, 10)
    assert acc == pytest.approx(model.evaluate(test_images, test_labels, verbose=0)[1])


def test_savedmodel_format():
    (train_images, train_labels), (test_images, test_labels) = load_data()

    # Create and train a new model instance.
    model = create_model()
    model.fit(train_images, train_labels, epochs=2)

    # Save the entire model as a SavedModel.
    os.makedirs("saved_model", exist_ok=True)
    tf.saved_model.save(model, 'saved_model/my_model')

    saved_model = tf.saved_model.load('saved_model/my_model')
    saved_model

    # test: the loaded object computes what the model does, in inference mode
    np.testing.assert_allclose(saved_model(test_images).numpy(), model.predict(test_images), rtol=1e-5, atol=1e-6)
    assert len(saved_model.trainable_variables) == 4


def test_hdf5_format():
    (train_images, train_labels), (test_images, test_labels) = load_data()

    # Create and train a new model instance.
    model = create_model()
    model.fit(train_images, train_labels, epochs=2)

    # Save the entire model to a HDF5 file.
    # The '.h5' extension indicates that the model should be saved to HDF5.
    model.save('my_model.h5')

    # Recreate the exact same model, including its weights and the optimizer
    new_model = tf.keras.models.load_model('my_model.h5')

    # Show the model architecture
    new_model.summary()

    loss, acc = new_model.evaluate(test_images, test_labels, verbose=2)
    print('Restored model, accuracy: {:5.2f}%'.format(100 * acc))

    # test
    np.testing.assert_allclose(new_model.predict(test_images), model.predict(test_images),
                               rtol=1e-5, atol=1e-6)
