"""TensorFlow tutorial "Image classification" (flowers), run on chainrule.

Source: https://www.tensorflow.org/tutorials/images/classification
(tensorflow/docs, site/en/tutorials/images/classification.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`, `from tensorflow.keras...` -> `from chainrule.keras...`;
- the flower photos download (`tf.keras.utils.get_file`) is replaced by a folder of 5 classes x 20 synthetic JPEG
  photos of random sizes, each class with its own tint, written by `flower_photos()`; the sunflower photo by one more;
- `img_height`/`img_width` 180 -> 48, `batch_size` 32 -> 16, `epochs` 10 and 15 -> 2;
- matplotlib draws with the non-interactive Agg backend (`plt.show()` shows nothing);
- the last section (converting the model to TensorFlow Lite, `tf.lite.TFLiteConverter`) is left out: TensorFlow
  Lite files hold TensorFlow graphs, which chainrule does not write;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import pathlib

import matplotlib.pyplot as plt
import numpy as np
import PIL
import PIL.Image
import pytest

import chainrule as tf

from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.models import Sequential

CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
TINTS = np.array([[230, 230, 230], [240, 220, 40], [200, 30, 40], [250, 180, 20], [220, 60, 160]])


def photo(rng, tint):
    height, width = rng.integers(40, 72, size=2)
    noise = rng.normal(0, 40, size=(height, width, 3))
    return PIL.Image.fromarray(np.clip(tint + noise, 0, 255).astype("uint8"))


@pytest.fixture
def flower_photos(tmp_path):
    rng = np.random.default_rng(0)
    data_dir = tmp_path / "flower_photos"
    for name, tint in zip(CLASSES, TINTS):
        (data_dir / name).mkdir(parents=True)
        for i in range(20):
            photo(rng, tint).save(data_dir / name / f"{i}.jpg")
    photo(rng, TINTS[3]).save(tmp_path / "Red_sunflower.jpg")
    return data_dir


def test_image_classification(flower_photos, capsys):
    data_dir = pathlib.Path(flower_photos)  # test: stands in for get_file(...) of flower_photos.tgz

    image_count = len(list(data_dir.glob('*/*.jpg')))
    print(image_count)

    roses = list(data_dir.glob('roses/*'))
    PIL.Image.open(str(roses[0]))

    batch_size = 16
    img_height = 48
    img_width = 48

    train_ds = tf.keras.utils.image_dataset_from_directory(
      data_dir,
      validation_split=0.2,
      subset="training",
      seed=123,
      image_size=(img_height, img_width),
      batch_size=batch_size)

    val_ds = tf.keras.utils.image_dataset_from_directory(
      data_dir,
      validation_split=0.2,
      subset="validation",
      seed=123,
      image_size=(img_height, img_width),
      batch_size=batch_size)

    class_names = train_ds.class_names
    print(class_names)

    plt.figure(figsize=(10, 10))
    for images, labels in train_ds.take(1):
      for i in range(9):
        ax = plt.subplot(3, 3, i + 1)
        plt.imshow(images[i].numpy().astype("uint8"))
        plt.title(class_names[labels[i]])
        plt.axis("off")

    for image_batch, labels_batch in train_ds:
      print(image_batch.shape)
      print(labels_batch.shape)
      break

    AUTOTUNE = tf.data.AUTOTUNE

    train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=AUTOTUNE)
    val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)

    normalization_layer = layers.Rescaling(1./255)

    normalized_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
    image_batch, labels_batch = next(iter(normalized_ds))
    first_image = image_batch[0]
    # Notice the pixel values are now in `[0,1]`.
    print(np.min(first_image), np.max(first_image))

    # test: what the tutorial printed so far
    lines = capsys.readouterr().out.splitlines()
    assert lines[:5] == ["100", "Found 100 files belonging to 5 classes.", "Using 80 files for training.",
                         "Found 100 files belonging to 5 classes.", "Using 20 files for validation."]
    assert lines[5] == str(CLASSES) and lines[6:8] == ["(16, 48, 48, 3)", "(16,)"]
    assert 0.0 <= float(np.min(first_image)) and float(np.max(first_image)) <= 1.0

    num_classes = len(class_names)

    model = Sequential([
      layers.Rescaling(1./255, input_shape=(img_height, img_width, 3)),
      layers.Conv2D(16, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(32, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(64, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Flatten(),
      layers.Dense(128, activation='relu'),
      layers.Dense(num_classes)
    ])

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    model.summary()

    epochs=2
    history = model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=epochs
    )

    acc = history.history['accuracy']
    val_acc = history.history['val_accuracy']

    loss = history.history['loss']
    val_loss = history.history['val_loss']
    assert len(acc) == len(val_acc) == len(loss) == len(val_loss) == 2  # test

    epochs_range = range(epochs)

    plt.figure(figsize=(8, 8))
    plt.subplot(1, 2, 1)
    plt.plot(epochs_range, acc, label='Training Accuracy')
    plt.plot(epochs_range, val_acc, label='Validation Accuracy')
    plt.legend(loc='lower right')
    plt.title('Training and Validation Accuracy')

    plt.subplot(1, 2, 2)
    plt.plot(epochs_range, loss, label='Training Loss')
    plt.plot(epochs_range, val_loss, label='Validation Loss')
    plt.legend(loc='upper right')
    plt.title('Training and Validation Loss')
    plt.show()

    data_augmentation = keras.Sequential(
      [
        layers.RandomFlip("horizontal",
                          input_shape=(img_height,
                                      img_width,
                                      3)),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
      ]
    )

    plt.figure(figsize=(10, 10))
    for images, _ in train_ds.take(1):
      for i in range(9):
        augmented_images = data_augmentation(images)
        ax = plt.subplot(3, 3, i + 1)
        plt.imshow(augmented_images[0].numpy().astype("uint8"))
        plt.axis("off")

    model = Sequential([
      data_augmentation,
      layers.Rescaling(1./255),
      layers.Conv2D(16, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(32, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Conv2D(64, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      layers.Dropout(0.2),
      layers.Flatten(),
      layers.Dense(128, activation='relu'),
      layers.Dense(num_classes, name="outputs")
    ])

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    model.summary()

    epochs = 2
    history = model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=epochs
    )

    sunflower_path = flower_photos.parent / "Red_sunflower.jpg"  # test: stands in for get_file(...)

    img = tf.keras.utils.load_img(
        sunflower_path, target_size=(img_height, img_width)
    )
    img_array = tf.keras.utils.img_to_array(img)
    img_array = tf.expand_dims(img_array, 0) # Create a batch

    predictions = model.predict(img_array)
    score = tf.nn.softmax(predictions[0])

    print(
        "This image most likely belongs to {} with a {:.2f} percent confidence."
        .format(class_names[np.argmax(score)], 100 * np.max(score))
    )
    # test: a class name and a percentage
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("This image most likely belongs to ") and last.endswith(" percent confidence.")
    assert predictions.shape == (1, 5)
