"""TensorFlow tutorial "Transfer learning and fine-tuning", run on chainrule.

Source: https://www.tensorflow.org/tutorials/images/transfer_learning
(tensorflow/docs, site/en/tutorials/images/transfer_learning.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- the cats-and-dogs archive (`get_file('cats_and_dogs.zip', origin=_URL, extract=True)`, a download) is a zip of
  synthetic JPEGs in its layout (cats_and_dogs_filtered/{train,validation}/{cats,dogs}), 20 + 20 training and
  25 + 25 validation images of 500 x 375 (1000 + 1000 and 500 + 500), put beforehand where get_file looks for it
  (`KERAS_HOME` set to a temporary folder); the line that finds the extracted folder is tensorflow/docs#2397's fix,
  as Keras 3's get_file extracts into a folder of its own and returns that folder;
- `MobileNetV2(..., weights='imagenet')` (a download) is `weights=None`: the same network, untrained;
- `BATCH_SIZE = 32` is 10, `initial_epochs = 10` and `fine_tune_epochs = 10` are 1 (marked); plots go to
  matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

BATCH_SIZE_SHRUNK = 10  # test: 32 in the tutorial
INITIAL_EPOCHS = 1  # test: 10 in the tutorial
FINE_TUNE_EPOCHS = 1  # test: 10 in the tutorial


def _cats_and_dogs_zip(path, per_class={'train': 20, 'validation': 25}, seed=0):
    """test: stands in for cats_and_dogs_filtered.zip: cats are warm blobs on the left, dogs cool ones on the right."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:375, 0:500]
    with zipfile.ZipFile(path, 'w') as archive:
        for split, count in per_class.items():
            for label, name in enumerate(['cats', 'dogs']):
                for i in range(count):
                    image = rng.normal(110, 20, (375, 500, 3))
                    cx = rng.uniform(100, 200) + 200 * label
                    blob = (rows - rng.uniform(120, 250)) ** 2 + (cols - cx) ** 2 < rng.uniform(60, 90) ** 2
                    image[blob] = [220, 140, 60] if label == 0 else [60, 120, 220]
                    buffer = io.BytesIO()
                    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, 'JPEG')
                    archive.writestr(f'cats_and_dogs_filtered/{split}/{name}/{name[:-1]}.{i}.jpg', buffer.getvalue())


@pytest.mark.slow  # test: MobileNetV2 at 160 x 160 trained and fine-tuned
def test_transfer_learning(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))  # test: get_file finds the archive put here
    (tmp_path / 'datasets').mkdir()
    _cats_and_dogs_zip(tmp_path / 'datasets' / 'cats_and_dogs.zip')

    #@title MIT License
    #
    # Copyright (c) 2017 François Chollet                                                                                                                    # IGNORE_COPYRIGHT: cleared by OSS licensing
    #
    # Permission is hereby granted, free of charge, to any person obtaining a
    # copy of this software and associated documentation files (the "Software"),
    # to deal in the Software without restriction, including without limitation
    # the rights to use, copy, modify, merge, publish, distribute, sublicense,
    # and/or sell copies of the Software, and to permit persons to whom the
    # Software is furnished to do so, subject to the following conditions:
    #
    # The above copyright notice and this permission notice shall be included in
    # all copies or substantial portions of the Software.
    #
    # THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    # IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    # FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL
    # THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    # LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
    # FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
    # DEALINGS IN THE SOFTWARE.

    import matplotlib.pyplot as plt
    import numpy as np
    import os
    import chainrule as tf

    _URL = 'https://download.mlcc.google.com/mledu-datasets/cats_and_dogs_filtered.zip'
    path_to_zip = tf.keras.utils.get_file('cats_and_dogs.zip', origin=_URL, extract=True)
    PATH = os.path.join(path_to_zip, 'cats_and_dogs_filtered')  # test: tensorflow/docs#2397's fix (Keras 3's get_file
    # extracts into a folder of its own and returns it)

    train_dir = os.path.join(PATH, 'train')
    validation_dir = os.path.join(PATH, 'validation')

    BATCH_SIZE = BATCH_SIZE_SHRUNK
    IMG_SIZE = (160, 160)

    train_dataset = tf.keras.utils.image_dataset_from_directory(train_dir,
                                                                shuffle=True,
                                                                batch_size=BATCH_SIZE,
                                                                image_size=IMG_SIZE)

    validation_dataset = tf.keras.utils.image_dataset_from_directory(validation_dir,
                                                                     shuffle=True,
                                                                     batch_size=BATCH_SIZE,
                                                                     image_size=IMG_SIZE)

    class_names = train_dataset.class_names

    plt.figure(figsize=(10, 10))
    for images, labels in train_dataset.take(1):
      for i in range(9):
        ax = plt.subplot(3, 3, i + 1)
        plt.imshow(images[i].numpy().astype("uint8"))
        plt.title(class_names[labels[i]])
        plt.axis("off")

    val_batches = tf.data.experimental.cardinality(validation_dataset)
    test_dataset = validation_dataset.take(val_batches // 5)
    validation_dataset = validation_dataset.skip(val_batches // 5)

    print('Number of validation batches: %d' % tf.data.experimental.cardinality(validation_dataset))
    print('Number of test batches: %d' % tf.data.experimental.cardinality(test_dataset))

    AUTOTUNE = tf.data.AUTOTUNE

    train_dataset = train_dataset.prefetch(buffer_size=AUTOTUNE)
    validation_dataset = validation_dataset.prefetch(buffer_size=AUTOTUNE)
    test_dataset = test_dataset.prefetch(buffer_size=AUTOTUNE)

    data_augmentation = tf.keras.Sequential([
      tf.keras.layers.RandomFlip('horizontal'),
      tf.keras.layers.RandomRotation(0.2),
    ])

    for image, _ in train_dataset.take(1):
      plt.figure(figsize=(10, 10))
      first_image = image[0]
      for i in range(9):
        ax = plt.subplot(3, 3, i + 1)
        augmented_image = data_augmentation(tf.expand_dims(first_image, 0))
        plt.imshow(augmented_image[0] / 255)
        plt.axis('off')

    preprocess_input = tf.keras.applications.mobilenet_v2.preprocess_input

    rescale = tf.keras.layers.Rescaling(1./127.5, offset=-1)

    # Create the base model from the pre-trained model MobileNet V2
    IMG_SHAPE = IMG_SIZE + (3,)
    base_model = tf.keras.applications.MobileNetV2(input_shape=IMG_SHAPE,
                                                   include_top=False,
                                                   weights=None)  # test: weights='imagenet'

    image_batch, label_batch = next(iter(train_dataset))
    feature_batch = base_model(image_batch)
    print(feature_batch.shape)

    base_model.trainable = False

    # Let's take a look at the base model architecture
    base_model.summary()

    global_average_layer = tf.keras.layers.GlobalAveragePooling2D()
    feature_batch_average = global_average_layer(feature_batch)
    print(feature_batch_average.shape)

    prediction_layer = tf.keras.layers.Dense(1, activation='sigmoid')
    prediction_batch = prediction_layer(feature_batch_average)
    print(prediction_batch.shape)

    inputs = tf.keras.Input(shape=(160, 160, 3))
    x = data_augmentation(inputs)
    x = preprocess_input(x)
    x = base_model(x, training=False)
    x = global_average_layer(x)
    x = tf.keras.layers.Dropout(0.2)(x)
    outputs = prediction_layer(x)
    model = tf.keras.Model(inputs, outputs)

    model.summary()

    len(model.trainable_variables)

    tf.keras.utils.plot_model(model, show_shapes=True)

    base_learning_rate = 0.0001
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=base_learning_rate),
                  loss=tf.keras.losses.BinaryCrossentropy(),
                  metrics=[tf.keras.metrics.BinaryAccuracy(threshold=0.5, name='accuracy')])

    initial_epochs = INITIAL_EPOCHS

    loss0, accuracy0 = model.evaluate(validation_dataset)

    print("initial loss: {:.2f}".format(loss0))
    print("initial accuracy: {:.2f}".format(accuracy0))

    history = model.fit(train_dataset,
                        epochs=initial_epochs,
                        validation_data=validation_dataset)

    acc = history.history['accuracy']
    val_acc = history.history['val_accuracy']

    loss = history.history['loss']
    val_loss = history.history['val_loss']

    plt.figure(figsize=(8, 8))
    plt.subplot(2, 1, 1)
    plt.plot(acc, label='Training Accuracy')
    plt.plot(val_acc, label='Validation Accuracy')
    plt.legend(loc='lower right')
    plt.ylabel('Accuracy')
    plt.ylim([min(plt.ylim()),1])
    plt.title('Training and Validation Accuracy')

    plt.subplot(2, 1, 2)
    plt.plot(loss, label='Training Loss')
    plt.plot(val_loss, label='Validation Loss')
    plt.legend(loc='upper right')
    plt.ylabel('Cross Entropy')
    plt.ylim([0,1.0])
    plt.title('Training and Validation Loss')
    plt.xlabel('epoch')
    plt.show()

    base_model.trainable = True

    # Let's take a look to see how many layers are in the base model
    print("Number of layers in the base model: ", len(base_model.layers))

    # Fine-tune from this layer onwards
    fine_tune_at = 100

    # Freeze all the layers before the `fine_tune_at` layer
    for layer in base_model.layers[:fine_tune_at]:
      layer.trainable = False

    model.compile(loss=tf.keras.losses.BinaryCrossentropy(),
                  optimizer = tf.keras.optimizers.RMSprop(learning_rate=base_learning_rate/10),
                  metrics=[tf.keras.metrics.BinaryAccuracy(threshold=0.5, name='accuracy')])

    model.summary()

    len(model.trainable_variables)

    fine_tune_epochs = FINE_TUNE_EPOCHS
    total_epochs =  initial_epochs + fine_tune_epochs

    history_fine = model.fit(train_dataset,
                             epochs=total_epochs,
                             initial_epoch=len(history.epoch),
                             validation_data=validation_dataset)

    acc += history_fine.history['accuracy']
    val_acc += history_fine.history['val_accuracy']

    loss += history_fine.history['loss']
    val_loss += history_fine.history['val_loss']

    plt.figure(figsize=(8, 8))
    plt.subplot(2, 1, 1)
    plt.plot(acc, label='Training Accuracy')
    plt.plot(val_acc, label='Validation Accuracy')
    plt.ylim([0.8, 1])
    plt.plot([initial_epochs-1,initial_epochs-1],
              plt.ylim(), label='Start Fine Tuning')
    plt.legend(loc='lower right')
    plt.title('Training and Validation Accuracy')

    plt.subplot(2, 1, 2)
    plt.plot(loss, label='Training Loss')
    plt.plot(val_loss, label='Validation Loss')
    plt.ylim([0, 1.0])
    plt.plot([initial_epochs-1,initial_epochs-1],
             plt.ylim(), label='Start Fine Tuning')
    plt.legend(loc='upper right')
    plt.title('Training and Validation Loss')
    plt.xlabel('epoch')
    plt.show()

    loss, accuracy = model.evaluate(test_dataset)
    print('Test accuracy :', accuracy)

    # Retrieve a batch of images from the test set
    image_batch, label_batch = test_dataset.as_numpy_iterator().next()
    predictions = model.predict_on_batch(image_batch).flatten()
    predictions = tf.where(predictions < 0.5, 0, 1)

    print('Predictions:\n', predictions.numpy())
    print('Labels:\n', label_batch)

    plt.figure(figsize=(10, 10))
    for i in range(9):
      ax = plt.subplot(3, 3, i + 1)
      plt.imshow(image_batch[i].astype("uint8"))
      plt.title(class_names[predictions[i]])
      plt.axis("off")

    plt.close('all')  # test
    out = capsys.readouterr().out  # test
    assert 'Number of validation batches: 4' in out and 'Number of test batches: 1' in out  # test
    assert '(10, 5, 5, 1280)' in out and '(10, 1280)' in out and '(10, 1)' in out  # test: the feature shapes
    assert len(base_model.layers) == 154  # test: MobileNetV2 without its top, as Keras
    assert len(model.trainable_variables) == 56  # test: the tutorial's count after unfreezing from layer 100
    assert len(acc) == 2 and set(predictions.numpy().tolist()) <= {0, 1}  # test
