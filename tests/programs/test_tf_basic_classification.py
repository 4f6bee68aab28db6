"""TensorFlow tutorial "Basic classification: Classify images of clothing", run on chainrule.

Source: https://www.tensorflow.org/tutorials/keras/classification
(tensorflow/docs, site/en/tutorials/keras/classification.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- Fashion-MNIST (`tf.keras.datasets.fashion_mnist.load_data()`) is replaced by 1024 training
  and 128 test synthetic 28x28 uint8 images of 10 classes (tests/programs/mnist_like.py);
- `model.fit(train_images, train_labels, epochs=10)` trains 3 epochs;
- matplotlib draws with the non-interactive Agg backend (`plt.show()` shows nothing);
- the notebook's bare expressions (`train_images.shape`, `predictions[0]`, ...) are checked;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import chainrule as tf
import numpy as np
import matplotlib.pyplot as plt

import mnist_like


def test_basic_classification():
    print(tf.__version__)

    fashion_mnist = mnist_like  # test: stands in for tf.keras.datasets.fashion_mnist
    (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data(
        n_train=1024, n_test=128, num_classes=10)

    class_names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                   'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

    train_images.shape
    len(train_labels)
    train_labels
    test_images.shape
    len(test_labels)
    assert train_images.shape == (1024, 28, 28) and len(train_labels) == 1024  # test
    assert test_images.shape == (128, 28, 28) and len(test_labels) == 128  # test

    plt.figure()
    plt.imshow(train_images[0])
    plt.colorbar()
    plt.grid(False)
    plt.show()

    train_images = train_images / 255.0

    test_images = test_images / 255.0

    plt.figure(figsize=(10,10))
    for i in range(25):
        plt.subplot(5,5,i+1)
        plt.xticks([])
        plt.yticks([])
        plt.grid(False)
        plt.imshow(train_images[i], cmap=plt.cm.binary)
        plt.xlabel(class_names[train_labels[i]])
    plt.show()

    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dense(10)
    ])

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    history = model.fit(train_images, train_labels, epochs=3)

    test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)

    print('\nTest accuracy:', test_acc)

    probability_model = tf.keras.Sequential([model,
                                             tf.keras.layers.Softmax()])

    predictions = probability_model.predict(test_images)

    predictions[0]

    np.argmax(predictions[0])

    test_labels[0]

    # test: the model learnt the classes; predictions are probabilities, the largest one
    # names the label
    losses = history.history["loss"]
    assert losses[2] < losses[0]
    assert test_acc > 0.8  # ten classes: chance is 0.1
    assert predictions.shape == (128, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert np.argmax(predictions[0]) == test_labels[0]
    np.testing.assert_allclose(np.mean(np.argmax(predictions, axis=1) == test_labels),
                               test_acc, atol=1e-6)

    def plot_image(i, predictions_array, true_label, img):
      true_label, img = true_label[i], img[i]
      plt.grid(False)
      plt.xticks([])
      plt.yticks([])

      plt.imshow(img, cmap=plt.cm.binary)

      predicted_label = np.argmax(predictions_array)
      if predicted_label == true_label:
        color = 'blue'
      else:
        color = 'red'

      plt.xlabel("{} {:2.0f}% ({})".format(class_names[predicted_label],
                                    100*np.max(predictions_array),
                                    class_names[true_label]),
                                    color=color)

    def plot_value_array(i, predictions_array, true_label):
      true_label = true_label[i]
      plt.grid(False)
      plt.xticks(range(10))
      plt.yticks([])
      thisplot = plt.bar(range(10), predictions_array, color="#777777")
      plt.ylim([0, 1])
      predicted_label = np.argmax(predictions_array)

      thisplot[predicted_label].set_color('red')
      thisplot[true_label].set_color('blue')

    i = 0
    plt.figure(figsize=(6,3))
    plt.subplot(1,2,1)
    plot_image(i, predictions[i], test_labels, test_images)
    plt.subplot(1,2,2)
    plot_value_array(i, predictions[i],  test_labels)
    plt.show()

    i = 12
    plt.figure(figsize=(6,3))
    plt.subplot(1,2,1)
    plot_image(i, predictions[i], test_labels, test_images)
    plt.subplot(1,2,2)
    plot_value_array(i, predictions[i],  test_labels)
    plt.show()

    # Plot the first X test images, their predicted labels, and the true labels.
    # Color correct predictions in blue and incorrect predictions in red.
    num_rows = 5
    num_cols = 3
    num_images = num_rows*num_cols
    plt.figure(figsize=(2*2*num_cols, 2*num_rows))
    for i in range(num_images):
      plt.subplot(num_rows, 2*num_cols, 2*i+1)
      plot_image(i, predictions[i], test_labels, test_images)
      plt.subplot(num_rows, 2*num_cols, 2*i+2)
      plot_value_array(i, predictions[i], test_labels)
    plt.tight_layout()
    plt.show()

    # Grab an image from the test dataset.
    img = test_images[1]

    print(img.shape)

    # Add the image to a batch where it's the only member.
    img = (np.expand_dims(img,0))

    print(img.shape)

    predictions_single = probability_model.predict(img)

    print(predictions_single)

    plot_value_array(1, predictions_single[0], test_labels)
    _ = plt.xticks(range(10), class_names, rotation=45)
    plt.show()

    np.argmax(predictions_single[0])

    # test: one image predicted alone as in the batch
    assert img.shape == (1, 28, 28)
    np.testing.assert_allclose(predictions_single[0], predictions[1], rtol=1e-5, atol=1e-7)
    assert np.argmax(predictions_single[0]) == np.argmax(predictions[1])
    plt.close("all")
