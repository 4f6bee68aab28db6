"""TensorFlow tutorial "Load and preprocess images", run on chainrule.

Source: https://www.tensorflow.org/tutorials/load_data/images
(tensorflow/docs, site/en/tutorials/load_data/images.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- the flower photos archive (flower_photos.tgz, a 218 MB download) is a tgz of the same layout made here
  (flower_photos/{daisy,dandelion,roses,sunflowers,tulips}/*.jpg of varying sizes, and LICENSE.txt), 12 photos a
  class instead of 633-898: the network fetch of `tf.keras.utils.get_file` is the only thing replaced (it copies
  this archive), so get_file's own caching and extraction run, into `KERAS_HOME` set to a temporary folder;
- `tfds.load('tf_flowers', ...)` is tests/programs/flowers_like.py's stand-in;
- `epochs=3` is 1 (marked); plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import io
import shutil
import tarfile
import types

import numpy as np
import pytest
from PIL import Image

import flowers_like

tfds = types.SimpleNamespace(load=flowers_like.load)  # test: instead of `import tensorflow_datasets as tfds`
EPOCHS = 1  # test: 3 in the tutorial
FLOWERS = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']


def _flower_photos_tgz(path, per_class=12, seed=0):
    """test: stands in for flower_photos.tgz: a coloured disc per class on a noisy background."""
    rng = np.random.default_rng(seed)
    with tarfile.open(path, 'w:gz') as archive:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        add('flower_photos/LICENSE.txt', b'All images are licensed under the Creative Commons By-Attribution License')
        for label, flower in enumerate(FLOWERS):
            for i in range(per_class):
                h, w = int(rng.integers(200, 330)), int(rng.integers(240, 500))
                rows, cols = np.mgrid[:h, :w]
                image = rng.normal(80, 20, (h, w, 3))
                disc = (rows - h / 2) ** 2 + (cols - w / 2) ** 2 < (min(h, w) / 3) ** 2
                image[disc] = flowers_like._COLOURS[label] + rng.normal(0, 10, 3)
                buffer = io.BytesIO()
                Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(buffer, 'JPEG')
                add(f'flower_photos/{flower}/{rng.integers(1 << 30)}_{i}.jpg', buffer.getvalue())


@pytest.mark.slow  # test: two small convnets trained on 180 x 180 photos
def test_load_images(tmp_path, monkeypatch, capsys):
    from chainrule.keras.utils import file_utils

    local = tmp_path / 'flower_photos.tgz'
    _flower_photos_tgz(local)
    monkeypatch.setenv('KERAS_HOME', str(tmp_path / 'keras'))  # test: get_file's cache in a temporary folder
    monkeypatch.setattr(file_utils, '_download', lambda origin, target: shutil.copy(local, target))  # test: offline

    import numpy as np
    import os
    import PIL
    import PIL.Image
    import chainrule as tf

    print(tf.__version__)

    import pathlib
    dataset_url = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
    archive = tf.keras.utils.get_file(origin=dataset_url, extract=True)
    data_dir = pathlib.Path(archive) / 'flower_photos'

    image_count = len(list(data_dir.glob('*/*.jpg')))
    print(image_count)

    roses = list(data_dir.glob('roses/*'))
    PIL.Image.open(str(roses[0]))

    roses = list(data_dir.glob('roses/*'))
    PIL.Image.open(str(roses[1]))

    batch_size = 32
    img_height = 180
    img_width = 180

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

    import matplotlib.pyplot as plt

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

    normalization_layer = tf.keras.layers.Rescaling(1./255)

    normalized_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
    image_batch, labels_batch = next(iter(normalized_ds))
    first_image = image_batch[0]
    # Notice the pixel values are now in `[0,1]`.
    print(np.min(first_image), np.max(first_image))

    AUTOTUNE = tf.data.AUTOTUNE

    train_ds = train_ds.cache().prefetch(buffer_size=AUTOTUNE)
    val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)

    num_classes = 5

    model = tf.keras.Sequential([
      tf.keras.layers.Rescaling(1./255),
      tf.keras.layers.Conv2D(32, 3, activation='relu'),
      tf.keras.layers.MaxPooling2D(),
      tf.keras.layers.Conv2D(32, 3, activation='relu'),
      tf.keras.layers.MaxPooling2D(),
      tf.keras.layers.Conv2D(32, 3, activation='relu'),
      tf.keras.layers.MaxPooling2D(),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(128, activation='relu'),
      tf.keras.layers.Dense(num_classes)
    ])

    model.compile(
      optimizer='adam',
      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      metrics=['accuracy'])

    model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=EPOCHS  # test: epochs=3
    )

    list_ds = tf.data.Dataset.list_files(str(data_dir/'*/*'), shuffle=False)
    list_ds = list_ds.shuffle(image_count, reshuffle_each_iteration=False)

    for f in list_ds.take(5):
      print(f.numpy())

    class_names = np.array(sorted([item.name for item in data_dir.glob('*') if item.name != "LICENSE.txt"]))
    print(class_names)

    val_size = int(image_count * 0.2)
    train_ds = list_ds.skip(val_size)
    val_ds = list_ds.take(val_size)

    print(tf.data.experimental.cardinality(train_ds).numpy())
    print(tf.data.experimental.cardinality(val_ds).numpy())

    def get_label(file_path):
      # Convert the path to a list of path components
      parts = tf.strings.split(file_path, os.path.sep)
      # The second to last is the class-directory
      one_hot = parts[-2] == class_names
      # Integer encode the label
      return tf.argmax(one_hot)

    def decode_img(img):
      # Convert the compressed string to a 3D uint8 tensor
      img = tf.io.decode_jpeg(img, channels=3)
      # Resize the image to the desired size
      return tf.image.resize(img, [img_height, img_width])

    def process_path(file_path):
      label = get_label(file_path)
      # Load the raw data from the file as a string
      img = tf.io.read_file(file_path)
      img = decode_img(img)
      return img, label

    # Set `num_parallel_calls` so multiple images are loaded/processed in parallel.
    train_ds = train_ds.map(process_path, num_parallel_calls=AUTOTUNE)
    val_ds = val_ds.map(process_path, num_parallel_calls=AUTOTUNE)

    for image, label in train_ds.take(1):
      print("Image shape: ", image.numpy().shape)
      print("Label: ", label.numpy())

    def configure_for_performance(ds):
      ds = ds.cache()
      ds = ds.shuffle(buffer_size=1000)
      ds = ds.batch(batch_size)
      ds = ds.prefetch(buffer_size=AUTOTUNE)
      return ds

    train_ds = configure_for_performance(train_ds)
    val_ds = configure_for_performance(val_ds)

    image_batch, label_batch = next(iter(train_ds))

    plt.figure(figsize=(10, 10))
    for i in range(9):
      ax = plt.subplot(3, 3, i + 1)
      plt.imshow(image_batch[i].numpy().astype("uint8"))
      label = label_batch[i]
      plt.title(class_names[label])
      plt.axis("off")

    model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=EPOCHS  # test: epochs=3
    )

    (train_ds, val_ds, test_ds), metadata = tfds.load(
        'tf_flowers',
        split=['train[:80%]', 'train[80%:90%]', 'train[90%:]'],
        with_info=True,
        as_supervised=True,
    )

    num_classes = metadata.features['label'].num_classes
    print(num_classes)

    get_label_name = metadata.features['label'].int2str

    image, label = next(iter(train_ds))
    _ = plt.imshow(image)
    _ = plt.title(get_label_name(label))

    train_ds = configure_for_performance(train_ds)
    val_ds = configure_for_performance(val_ds)
    test_ds = configure_for_performance(test_ds)

    plt.close('all')  # test
    out = capsys.readouterr().out  # test
    assert '60\n' in out  # test: image_count
    assert "['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']" in out  # test: the class names, both ways
    assert '(32, 180, 180, 3)' in out and '(32,)' in out  # test: the first batch
    assert 'Image shape:  (180, 180, 3)' in out  # test: decode_jpeg and resize in a map
    assert num_classes == 5  # test
