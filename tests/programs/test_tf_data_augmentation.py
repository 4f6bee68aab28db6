"""TensorFlow tutorial "Data augmentation" (Keras preprocessing layers, a custom Lambda and Layer, tf.image's ops
and their stateless random versions, seeds from tf.random.Generator and tf.random.split, a CNN trained on augmented
flowers), run on chainrule.

Source: https://www.tensorflow.org/tutorials/images/data_augmentation
(tensorflow/docs, site/en/tutorials/images/data_augmentation.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import layers` ->
  `from chainrule.keras import layers`; `import tensorflow_datasets as tfds` -> a stand-in for `tfds.load` that
  gives tf_flowers' splits, elements and metadata for 50 synthetic flower images (tests/programs/flowers_like.py;
  3670 photos);
- `epochs=5` is 2; the figures are drawn on matplotlib's Agg backend and closed;
- lines marked `# test:` check what the program produces.
"""

import types

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers

import flowers_like

tfds = types.SimpleNamespace(load=flowers_like.load)  # test: instead of `import tensorflow_datasets as tfds`


@pytest.mark.slow
def test_data_augmentation(capsys):
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
    IMG_SIZE = 180
    resize_and_rescale = tf.keras.Sequential([
      layers.Resizing(IMG_SIZE, IMG_SIZE),
      layers.Rescaling(1./255)
    ])
    result = resize_and_rescale(image)
    _ = plt.imshow(result)
    print("Min and max pixel values:", result.numpy().min(), result.numpy().max())
    data_augmentation = tf.keras.Sequential([
      layers.RandomFlip("horizontal_and_vertical"),
      layers.RandomRotation(0.2),
    ])
    # Add the image to a batch.
    image = tf.cast(tf.expand_dims(image, 0), tf.float32)
    plt.figure(figsize=(10, 10))
    for i in range(9):
      augmented_image = data_augmentation(image)
      ax = plt.subplot(3, 3, i + 1)
      plt.imshow(augmented_image[0])
      plt.axis("off")
    model = tf.keras.Sequential([
      # Add the preprocessing layers you created earlier.
      resize_and_rescale,
      data_augmentation,
      layers.Conv2D(16, 3, padding='same', activation='relu'),
      layers.MaxPooling2D(),
      # Rest of your model.
    ])
    aug_ds = train_ds.map(
      lambda x, y: (resize_and_rescale(x, training=True), y))
    batch_size = 32
    AUTOTUNE = tf.data.AUTOTUNE
    def prepare(ds, shuffle=False, augment=False):
      # Resize and rescale all datasets.
      ds = ds.map(lambda x, y: (resize_and_rescale(x), y), 
                  num_parallel_calls=AUTOTUNE)
      if shuffle:
        ds = ds.shuffle(1000)
      # Batch all datasets.
      ds = ds.batch(batch_size)
      # Use data augmentation only on the training set.
      if augment:
        ds = ds.map(lambda x, y: (data_augmentation(x, training=True), y), 
                    num_parallel_calls=AUTOTUNE)
      # Use buffered prefetching on all datasets.
      return ds.prefetch(buffer_size=AUTOTUNE)
    train_ds = prepare(train_ds, shuffle=True, augment=True)
    val_ds = prepare(val_ds)
    test_ds = prepare(test_ds)
    model = tf.keras.Sequential([
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
    epochs=2  # test: 2 (5)
    history = model.fit(
      train_ds,
      validation_data=val_ds,
      epochs=epochs
    )
    loss, acc = model.evaluate(test_ds)
    print("Accuracy", acc)
    def random_invert_img(x, p=0.5):
      if  tf.random.uniform([]) < p:
        x = (255-x)
      else:
        x
      return x
    def random_invert(factor=0.5):
      return layers.Lambda(lambda x: random_invert_img(x, factor))
    random_invert = random_invert()
    plt.figure(figsize=(10, 10))
    for i in range(9):
      augmented_image = random_invert(image)
      ax = plt.subplot(3, 3, i + 1)
      plt.imshow(augmented_image[0].numpy().astype("uint8"))
      plt.axis("off")
    class RandomInvert(layers.Layer):
      def __init__(self, factor=0.5, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
      def call(self, x):
        return random_invert_img(x)
    _ = plt.imshow(RandomInvert()(image)[0])
    (train_ds, val_ds, test_ds), metadata = tfds.load(
        'tf_flowers',
        split=['train[:80%]', 'train[80%:90%]', 'train[90%:]'],
        with_info=True,
        as_supervised=True,
    )
    image, label = next(iter(train_ds))
    _ = plt.imshow(image)
    _ = plt.title(get_label_name(label))
    def visualize(original, augmented):
      fig = plt.figure()
      plt.subplot(1,2,1)
      plt.title('Original image')
      plt.imshow(original)
      plt.subplot(1,2,2)
      plt.title('Augmented image')
      plt.imshow(augmented)
    flipped = tf.image.flip_left_right(image)
    visualize(image, flipped)
    grayscaled = tf.image.rgb_to_grayscale(image)
    visualize(image, tf.squeeze(grayscaled))
    _ = plt.colorbar()
    saturated = tf.image.adjust_saturation(image, 3)
    visualize(image, saturated)
    bright = tf.image.adjust_brightness(image, 0.4)
    visualize(image, bright)
    cropped = tf.image.central_crop(image, central_fraction=0.5)
    visualize(image, cropped)
    rotated = tf.image.rot90(image)
    visualize(image, rotated)
    for i in range(3):
      seed = (i, 0)  # tuple of size (2,)
      stateless_random_brightness = tf.image.stateless_random_brightness(
          image, max_delta=0.95, seed=seed)
      visualize(image, stateless_random_brightness)
    for i in range(3):
      seed = (i, 0)  # tuple of size (2,)
      stateless_random_contrast = tf.image.stateless_random_contrast(
          image, lower=0.1, upper=0.9, seed=seed)
      visualize(image, stateless_random_contrast)
    for i in range(3):
      seed = (i, 0)  # tuple of size (2,)
      stateless_random_crop = tf.image.stateless_random_crop(
          image, size=[210, 300, 3], seed=seed)
      visualize(image, stateless_random_crop)
    (train_datasets, val_ds, test_ds), metadata = tfds.load(
        'tf_flowers',
        split=['train[:80%]', 'train[80%:90%]', 'train[90%:]'],
        with_info=True,
        as_supervised=True,
    )
    def resize_and_rescale(image, label):
      image = tf.cast(image, tf.float32)
      image = tf.image.resize(image, [IMG_SIZE, IMG_SIZE])
      image = (image / 255.0)
      return image, label
    def augment(image_label, seed):
      image, label = image_label
      image, label = resize_and_rescale(image, label)
      image = tf.image.resize_with_crop_or_pad(image, IMG_SIZE + 6, IMG_SIZE + 6)
      # Make a new seed.
      new_seed = tf.random.split(seed, num=1)[0, :]
      # Random crop back to the original size.
      image = tf.image.stateless_random_crop(
          image, size=[IMG_SIZE, IMG_SIZE, 3], seed=seed)
      # Random brightness.
      image = tf.image.stateless_random_brightness(
          image, max_delta=0.5, seed=new_seed)
      image = tf.clip_by_value(image, 0, 1)
      return image, label
    # Create a `Counter` object and `Dataset.zip` it together with the training set.
    counter = tf.data.experimental.Counter()
    train_ds = tf.data.Dataset.zip((train_datasets, (counter, counter)))
    train_ds = (
        train_ds
        .shuffle(1000)
        .map(augment, num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )
    val_ds = (
        val_ds
        .map(resize_and_rescale, num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )
    test_ds = (
        test_ds
        .map(resize_and_rescale, num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )
    # Create a generator.
    rng = tf.random.Generator.from_seed(123, alg='philox')
    # Create a wrapper function for updating seeds.
    def f(x, y):
      seed = rng.make_seeds(1)[:, 0]
      image, label = augment((x, y), seed)
      return image, label
    train_ds = (
        train_datasets
        .shuffle(1000)
        .map(f, num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )
    val_ds = (
        val_ds
        .map(resize_and_rescale, num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )
    test_ds = (
        test_ds
        .map(resize_and_rescale, num_parallel_calls=AUTOTUNE)
        .batch(batch_size)
        .prefetch(AUTOTUNE)
    )

    plt.close("all")

    # test: what the program produced
    out = capsys.readouterr().out
    low, high = (float(v) for v in out.split("Min and max pixel values: ")[1].split()[:2])
    assert out.startswith("5\n") and 0.0 <= low < high <= 1.0
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all() and 0 <= acc <= 1
    assert saturated.dtype == tf.uint8 and saturated.shape == image.shape
    assert cropped.shape[0] == image.shape[0] - 2 * int((image.shape[0] - image.shape[0] * 0.5) / 2)  # TF's rule
    assert stateless_random_crop.shape == (210, 300, 3)
    again = tf.image.stateless_random_crop(image, size=[210, 300, 3], seed=(2, 0))
    assert (again.numpy() == stateless_random_crop.numpy()).all()  # the same seed, the same crop
    images, labels = next(iter(train_ds))
    assert images.shape[1:] == (IMG_SIZE, IMG_SIZE, 3) and float(tf.reduce_max(images)) <= 1.0
