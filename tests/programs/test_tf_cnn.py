"""TensorFlow tutorial "Convolutional Neural Network (CNN)" (CIFAR-10), run on chainrule.

Source: https://www.tensorflow.org/tutorials/images/cnn (tensorflow/docs, site/en/tutorials/images/cnn.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras import datasets, layers, models` -> `from chainrule.keras import datasets, layers, models`;
- CIFAR-10 (`datasets.cifar10.load_data()`) is replaced by 64 training and 32 test random uint8
  images of shape (32, 32, 3) with uint8 labels of shape (n, 1), as CIFAR-10's;
- `epochs=10` is 1; the plots draw on matplotlib's Agg backend without `plt.show()`;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import matplotlib.pyplot as plt

import chainrule as tf
from chainrule.keras import datasets, layers, models


def cifar10_like(n_train=64, n_test=32, seed=0):
    """test: stands in for datasets.cifar10.load_data()."""
    rng = np.random.default_rng(seed)
    def split(n):
        return (rng.integers(0, 256, (n, 32, 32, 3)).astype("uint8"), rng.integers(0, 10, (n, 1)).astype("uint8"))
    return split(n_train), split(n_test)


def test_cnn():
    (train_images, train_labels), (test_images, test_labels) = cifar10_like()

    # Normalize pixel values to be between 0 and 1
    train_images, test_images = train_images / 255.0, test_images / 255.0

    class_names = ['airplane', 'automobile', 'bird', 'cat', 'deer',
                   'dog', 'frog', 'horse', 'ship', 'truck']

    plt.figure(figsize=(10,10))
    for i in range(25):
        plt.subplot(5,5,i+1)
        plt.xticks([])
        plt.yticks([])
        plt.grid(False)
        plt.imshow(train_images[i])
        plt.xlabel(class_names[train_labels[i][0]])
    plt.close()

    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))

    model.summary()
    assert model.output_shape == (None, 4, 4, 64)  # test: as the tutorial's summary shows

    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10))

    model.summary()
    assert model.count_params() == 122570  # test: the tutorial's printed total

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    history = model.fit(train_images, train_labels, epochs=1,
                        validation_data=(test_images, test_labels))

    plt.plot(history.history['accuracy'], label='accuracy')
    plt.plot(history.history['val_accuracy'], label = 'val_accuracy')
    plt.xlabel('Epoch')
    plt.ylabel('Accuracy')
    plt.ylim([0.5, 1])
    plt.legend(loc='lower right')
    plt.close()

    test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)
    print(test_acc)
    assert np.isfinite(test_loss) and 0.0 <= test_acc <= 1.0  # test
