"""TensorFlow guide "tf.data: Build TensorFlow input pipelines", run on chainrule.

Source: https://www.tensorflow.org/guide/data (tensorflow/docs, site/en/guide/data.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- what it downloads is synthetic, of the same layout, written in the test's temporary folder (each line marked
  `# test: instead of ...`): Fashion-MNIST (tests/programs/mnist_like.py, 10 classes), the flower photos, the FSNS
  TFRecord file and the credit-card table (tests/programs/tf_data_guide_like.py), the three Iliad translations
  (text_like.py) and the Titanic CSV (csv_like.py); the `%%writefile missing.csv` cell writes the same lines with
  Python; one cell the notebook indents by a space is dedented;
- matplotlib draws on the Agg backend.
"""

import os

import matplotlib

matplotlib.use("Agg")

import pytest

import csv_like
import mnist_like
import text_like
import tf_data_guide_like


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the guide's files go to a temporary folder


@pytest.mark.slow
def test_tf_data_guide(capsys):
    import chainrule as tf

    import pathlib
    import os
    import matplotlib.pyplot as plt
    import pandas as pd
    import numpy as np

    np.set_printoptions(precision=4)

    dataset = tf.data.Dataset.from_tensor_slices([8, 3, 0, 8, 2, 1])
    dataset

    for elem in dataset:
      print(elem.numpy())

    it = iter(dataset)

    print(next(it).numpy())

    print(dataset.reduce(0, lambda state, value: state + value).numpy())

    dataset1 = tf.data.Dataset.from_tensor_slices(tf.random.uniform([4, 10]))

    dataset1.element_spec

    dataset2 = tf.data.Dataset.from_tensor_slices(
       (tf.random.uniform([4]),
        tf.random.uniform([4, 100], maxval=100, dtype=tf.int32)))

    dataset2.element_spec

    dataset3 = tf.data.Dataset.zip((dataset1, dataset2))

    dataset3.element_spec

    # Dataset containing a sparse tensor.
    dataset4 = tf.data.Dataset.from_tensors(tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1, 2], dense_shape=[3, 4]))

    dataset4.element_spec

    # Use value_type to see the type of value represented by the element spec
    dataset4.element_spec.value_type

    dataset1 = tf.data.Dataset.from_tensor_slices(
        tf.random.uniform([4, 10], minval=1, maxval=10, dtype=tf.int32))

    dataset1

    for z in dataset1:
      print(z.numpy())

    dataset2 = tf.data.Dataset.from_tensor_slices(
       (tf.random.uniform([4]),
        tf.random.uniform([4, 100], maxval=100, dtype=tf.int32)))

    dataset2

    dataset3 = tf.data.Dataset.zip((dataset1, dataset2))

    dataset3

    for a, (b,c) in dataset3:
      print('shapes: {a.shape}, {b.shape}, {c.shape}'.format(a=a, b=b, c=c))

    train, test = mnist_like.load_data(num_classes=10)  # test: instead of tf.keras.datasets.fashion_mnist.load_data()

    images, labels = train
    images = images/255

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset

    def count(stop):
      i = 0
      while i<stop:
        yield i
        i += 1

    for n in count(5):
      print(n)

    ds_counter = tf.data.Dataset.from_generator(count, args=[25], output_types=tf.int32, output_shapes = (), )

    for count_batch in ds_counter.repeat().batch(10).take(10):
      print(count_batch.numpy())

    def gen_series():
      i = 0
      while True:
        size = np.random.randint(0, 10)
        yield i, np.random.normal(size=(size,))
        i += 1

    for i, series in gen_series():
      print(i, ":", str(series))
      if i > 5:
        break

    ds_series = tf.data.Dataset.from_generator(
        gen_series,
        output_types=(tf.int32, tf.float32),
        output_shapes=((), (None,)))

    ds_series

    ds_series_batch = ds_series.shuffle(20).padded_batch(10)

    ids, sequence_batch = next(iter(ds_series_batch))
    print(ids.numpy())
    print()
    print(sequence_batch.numpy())

    flowers = tf_data_guide_like.flower_photos('flower_photos')  # test: instead of tf.keras.utils.get_file('flower_photos', ..., untar=True)

    img_gen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1./255, rotation_range=20)

    images, labels = next(img_gen.flow_from_directory(flowers))

    print(images.dtype, images.shape)
    print(labels.dtype, labels.shape)

    ds = tf.data.Dataset.from_generator(
        lambda: img_gen.flow_from_directory(flowers),
        output_types=(tf.float32, tf.float32),
        output_shapes=([32,256,256,3], [32,5])
    )

    ds.element_spec

    for images, labels in ds.take(1):
      print('images.shape: ', images.shape)
      print('labels.shape: ', labels.shape)

    # Creates a dataset that reads all of the examples from two files.
    fsns_test_file = tf_data_guide_like.fsns("fsns.tfrec")  # test: instead of tf.keras.utils.get_file("fsns.tfrec", ...)

    dataset = tf.data.TFRecordDataset(filenames = [fsns_test_file])
    dataset

    raw_example = next(iter(dataset))
    parsed = tf.train.Example.FromString(raw_example.numpy())

    parsed.features.feature['image/text']

    directory_url = 'https://storage.googleapis.com/download.tensorflow.org/data/illiad/'
    file_names = ['cowper.txt', 'derby.txt', 'butler.txt']

    file_paths = [
        os.path.abspath(text_like.iliad_translation(file_name))  # test: instead of tf.keras.utils.get_file(file_name, directory_url + file_name)
        for file_name in file_names
    ]

    dataset = tf.data.TextLineDataset(file_paths)

    for line in dataset.take(5):
      print(line.numpy())

    files_ds = tf.data.Dataset.from_tensor_slices(file_paths)
    lines_ds = files_ds.interleave(tf.data.TextLineDataset, cycle_length=3)

    for i, line in enumerate(lines_ds.take(9)):
      if i % 3 == 0:
        print()
      print(line.numpy())

    titanic_file = os.path.abspath(csv_like.titanic("train.csv"))  # test: instead of tf.keras.utils.get_file("train.csv", ...)
    titanic_lines = tf.data.TextLineDataset(titanic_file)

    for line in titanic_lines.take(10):
      print(line.numpy())

    def survived(line):
      return tf.not_equal(tf.strings.substr(line, 0, 1), "0")

    survivors = titanic_lines.skip(1).filter(survived)

    for line in survivors.take(10):
      print(line.numpy())

    titanic_file = os.path.abspath(csv_like.titanic("train.csv"))  # test: instead of tf.keras.utils.get_file("train.csv", ...)

    df = pd.read_csv(titanic_file)
    df.head()

    titanic_slices = tf.data.Dataset.from_tensor_slices(dict(df))

    for feature_batch in titanic_slices.take(1):
      for key, value in feature_batch.items():
        print("  {!r:20s}: {}".format(key, value))

    titanic_batches = tf.data.experimental.make_csv_dataset(
        titanic_file, batch_size=4,
        label_name="survived")

    for feature_batch, label_batch in titanic_batches.take(1):
      print("'survived': {}".format(label_batch))
      print("features:")
      for key, value in feature_batch.items():
        print("  {!r:20s}: {}".format(key, value))

    titanic_batches = tf.data.experimental.make_csv_dataset(
        titanic_file, batch_size=4,
        label_name="survived", select_columns=['class', 'fare', 'survived'])

    for feature_batch, label_batch in titanic_batches.take(1):
      print("'survived': {}".format(label_batch))
      for key, value in feature_batch.items():
        print("  {!r:20s}: {}".format(key, value))

    titanic_types  = [tf.int32, tf.string, tf.float32, tf.int32, tf.int32, tf.float32, tf.string, tf.string, tf.string, tf.string]
    dataset = tf.data.experimental.CsvDataset(titanic_file, titanic_types , header=True)

    for line in dataset.take(10):
      print([item.numpy() for item in line])

    with open("missing.csv", "w") as f:  # test: the cell's `%%writefile missing.csv`
      f.write("1,2,3,4\n,2,3,4\n1,,3,4\n1,2,,4\n1,2,3,\n,,,\n")

    # Creates a dataset that reads all of the records from two CSV files, each with
    # four float columns which may have missing values.

    record_defaults = [999,999,999,999]
    dataset = tf.data.experimental.CsvDataset("missing.csv", record_defaults)
    dataset = dataset.map(lambda *items: tf.stack(items))
    dataset

    for line in dataset:
      print(line.numpy())

    # Creates a dataset that reads all of the records from two CSV files with
    # headers, extracting float data from columns 2 and 4.
    record_defaults = [999, 999] # Only provide defaults for the selected columns
    dataset = tf.data.experimental.CsvDataset("missing.csv", record_defaults, select_cols=[1, 3])
    dataset = dataset.map(lambda *items: tf.stack(items))
    dataset

    for line in dataset:
      print(line.numpy())

    flowers_root = tf_data_guide_like.flower_photos('flower_photos')  # test: instead of tf.keras.utils.get_file('flower_photos', ..., untar=True)
    flowers_root = pathlib.Path(flowers_root)

    for item in flowers_root.glob("*"):
      print(item.name)

    list_ds = tf.data.Dataset.list_files(str(flowers_root/'*/*'))

    for f in list_ds.take(5):
      print(f.numpy())

    def process_path(file_path):
      label = tf.strings.split(file_path, os.sep)[-2]
      return tf.io.read_file(file_path), label

    labeled_ds = list_ds.map(process_path)

    for image_raw, label_text in labeled_ds.take(1):
      print(repr(image_raw.numpy()[:100]))
      print()
      print(label_text.numpy())

    inc_dataset = tf.data.Dataset.range(100)
    dec_dataset = tf.data.Dataset.range(0, -100, -1)
    dataset = tf.data.Dataset.zip((inc_dataset, dec_dataset))
    batched_dataset = dataset.batch(4)

    for batch in batched_dataset.take(4):
      print([arr.numpy() for arr in batch])

    batched_dataset

    batched_dataset = dataset.batch(7, drop_remainder=True)
    batched_dataset

    dataset = tf.data.Dataset.range(100)
    dataset = dataset.map(lambda x: tf.fill([tf.cast(x, tf.int32)], x))
    dataset = dataset.padded_batch(4, padded_shapes=(None,))

    for batch in dataset.take(2):
      print(batch.numpy())
      print()

    titanic_file = os.path.abspath(csv_like.titanic("train.csv"))  # test: instead of tf.keras.utils.get_file("train.csv", ...)
    titanic_lines = tf.data.TextLineDataset(titanic_file)

    def plot_batch_sizes(ds):
      batch_sizes = [batch.shape[0] for batch in ds]
      plt.bar(range(len(batch_sizes)), batch_sizes)
      plt.xlabel('Batch number')
      plt.ylabel('Batch size')

    titanic_batches = titanic_lines.repeat(3).batch(128)
    plot_batch_sizes(titanic_batches)

    titanic_batches = titanic_lines.batch(128).repeat(3)

    plot_batch_sizes(titanic_batches)

    epochs = 3
    dataset = titanic_lines.batch(128)

    for epoch in range(epochs):
      for batch in dataset:
        print(batch.shape)
      print("End of epoch: ", epoch)

    lines = tf.data.TextLineDataset(titanic_file)
    counter = tf.data.experimental.Counter()

    dataset = tf.data.Dataset.zip((counter, lines))
    dataset = dataset.shuffle(buffer_size=100)
    dataset = dataset.batch(20)
    dataset

    n,line_batch = next(iter(dataset))
    print(n.numpy())

    dataset = tf.data.Dataset.zip((counter, lines))
    shuffled = dataset.shuffle(buffer_size=100).batch(10).repeat(2)

    print("Here are the item ID's near the epoch boundary:\n")
    for n, line_batch in shuffled.skip(60).take(5):
      print(n.numpy())

    shuffle_repeat = [n.numpy().mean() for n, line_batch in shuffled]
    plt.plot(shuffle_repeat, label="shuffle().repeat()")
    plt.ylabel("Mean item ID")
    plt.legend()

    dataset = tf.data.Dataset.zip((counter, lines))
    shuffled = dataset.repeat(2).shuffle(buffer_size=100).batch(10)

    print("Here are the item ID's near the epoch boundary:\n")
    for n, line_batch in shuffled.skip(55).take(15):
      print(n.numpy())

    repeat_shuffle = [n.numpy().mean() for n, line_batch in shuffled]

    plt.plot(shuffle_repeat, label="shuffle().repeat()")
    plt.plot(repeat_shuffle, label="repeat().shuffle()")
    plt.ylabel("Mean item ID")
    plt.legend()

    list_ds = tf.data.Dataset.list_files(str(flowers_root/'*/*'))

    # Reads an image from a file, decodes it into a dense tensor, and resizes it
    # to a fixed shape.
    def parse_image(filename):
      parts = tf.strings.split(filename, os.sep)
      label = parts[-2]

      image = tf.io.read_file(filename)
      image = tf.io.decode_jpeg(image)
      image = tf.image.convert_image_dtype(image, tf.float32)
      image = tf.image.resize(image, [128, 128])
      return image, label

    file_path = next(iter(list_ds))
    image, label = parse_image(file_path)

    def show(image, label):
      plt.figure()
      plt.imshow(image)
      plt.title(label.numpy().decode('utf-8'))
      plt.axis('off')

    show(image, label)

    images_ds = list_ds.map(parse_image)

    for image, label in images_ds.take(2):
      show(image, label)

    import scipy.ndimage as ndimage

    @tf.py_function(Tout=tf.float32)
    def random_rotate_image(image):
      image = ndimage.rotate(image, np.random.uniform(-30, 30), reshape=False)
      return image

    image, label = next(iter(images_ds))
    image = random_rotate_image(image)
    show(image, label)

    def tf_random_rotate_image(image, label):
      im_shape = image.shape
      image = random_rotate_image(image)
      image.set_shape(im_shape)
      return image, label

    rot_ds = images_ds.map(tf_random_rotate_image)

    for image, label in rot_ds.take(2):
      show(image, label)

    fsns_test_file = tf_data_guide_like.fsns("fsns.tfrec")  # test: instead of tf.keras.utils.get_file("fsns.tfrec", ...)
    dataset = tf.data.TFRecordDataset(filenames = [fsns_test_file])
    dataset

    raw_example = next(iter(dataset))
    parsed = tf.train.Example.FromString(raw_example.numpy())

    feature = parsed.features.feature
    raw_img = feature['image/encoded'].bytes_list.value[0]
    img = tf.image.decode_png(raw_img)
    plt.imshow(img)
    plt.axis('off')
    _ = plt.title(feature["image/text"].bytes_list.value[0])

    raw_example = next(iter(dataset))

    def tf_parse(eg):
      example = tf.io.parse_example(
          eg[tf.newaxis], {
              'image/encoded': tf.io.FixedLenFeature(shape=(), dtype=tf.string),
              'image/text': tf.io.FixedLenFeature(shape=(), dtype=tf.string)
          })
      return example['image/encoded'][0], example['image/text'][0]

    img, txt = tf_parse(raw_example)
    print(txt.numpy())
    print(repr(img.numpy()[:20]), "...")

    decoded = dataset.map(tf_parse)
    decoded

    image_batch, text_batch = next(iter(decoded.batch(10)))
    image_batch.shape

    range_ds = tf.data.Dataset.range(100000)

    batches = range_ds.batch(10, drop_remainder=True)

    for batch in batches.take(5):
      print(batch.numpy())

    def dense_1_step(batch):
      # Shift features and labels one step relative to each other.
      return batch[:-1], batch[1:]

    predict_dense_1_step = batches.map(dense_1_step)

    for features, label in predict_dense_1_step.take(3):
      print(features.numpy(), " => ", label.numpy())

    batches = range_ds.batch(15, drop_remainder=True)

    def label_next_5_steps(batch):
      return (batch[:-5],   # Inputs: All except the last 5 steps
              batch[-5:])   # Labels: The last 5 steps

    predict_5_steps = batches.map(label_next_5_steps)

    for features, label in predict_5_steps.take(3):
      print(features.numpy(), " => ", label.numpy())

    feature_length = 10
    label_length = 3

    features = range_ds.batch(feature_length, drop_remainder=True)
    labels = range_ds.batch(feature_length).skip(1).map(lambda labels: labels[:label_length])

    predicted_steps = tf.data.Dataset.zip((features, labels))

    for features, label in predicted_steps.take(5):
      print(features.numpy(), " => ", label.numpy())

    window_size = 5

    windows = range_ds.window(window_size, shift=1)
    for sub_ds in windows.take(5):
      print(sub_ds)

    for x in windows.flat_map(lambda x: x).take(30):  # test: dedented (Jupyter runs the indented cell)
      print(x.numpy(), end=' ')

    def sub_to_batch(sub):
      return sub.batch(window_size, drop_remainder=True)

    for example in windows.flat_map(sub_to_batch).take(5):
      print(example.numpy())

    def make_window_dataset(ds, window_size=5, shift=1, stride=1):
      windows = ds.window(window_size, shift=shift, stride=stride)

      def sub_to_batch(sub):
        return sub.batch(window_size, drop_remainder=True)

      windows = windows.flat_map(sub_to_batch)
      return windows

    ds = make_window_dataset(range_ds, window_size=10, shift = 5, stride=3)

    for example in ds.take(10):
      print(example.numpy())

    dense_labels_ds = ds.map(dense_1_step)

    for inputs,labels in dense_labels_ds.take(3):
      print(inputs.numpy(), "=>", labels.numpy())

    zip_path = tf_data_guide_like.creditcard(os.path.abspath('creditcard.zip'))  # test: instead of tf.keras.utils.get_file('creditcard.zip', ..., extract=True)

    csv_path = zip_path.replace('.zip', '.csv')

    creditcard_ds = tf.data.experimental.make_csv_dataset(
        csv_path, batch_size=1024, label_name="Class",
        # Set the column types: 30 floats and an int.
        column_defaults=[float()]*30+[int()])

    def count(counts, batch):
      features, labels = batch
      class_1 = labels == 1
      class_1 = tf.cast(class_1, tf.int32)

      class_0 = labels == 0
      class_0 = tf.cast(class_0, tf.int32)

      counts['class_0'] += tf.reduce_sum(class_0)
      counts['class_1'] += tf.reduce_sum(class_1)

      return counts

    counts = creditcard_ds.take(10).reduce(
        initial_state={'class_0': 0, 'class_1': 0},
        reduce_func = count)

    counts = np.array([counts['class_0'].numpy(),
                       counts['class_1'].numpy()]).astype(np.float32)

    fractions = counts/counts.sum()
    print(fractions)

    negative_ds = (
      creditcard_ds
        .unbatch()
        .filter(lambda features, label: label==0)
        .repeat())
    positive_ds = (
      creditcard_ds
        .unbatch()
        .filter(lambda features, label: label==1)
        .repeat())

    for features, label in positive_ds.batch(10).take(1):
      print(label.numpy())

    balanced_ds = tf.data.Dataset.sample_from_datasets(
        [negative_ds, positive_ds], [0.5, 0.5]).batch(10)

    for features, labels in balanced_ds.take(10):
      print(labels.numpy())

    def class_func(features, label):
      return label

    resample_ds = (
        creditcard_ds
        .unbatch()
        .rejection_resample(class_func, target_dist=[0.5,0.5],
                            initial_dist=fractions)
        .batch(10))

    balanced_ds = resample_ds.map(lambda extra_label, features_and_label: features_and_label)

    for features, labels in balanced_ds.take(10):
      print(labels.numpy())

    range_ds = tf.data.Dataset.range(20)

    iterator = iter(range_ds)
    ckpt = tf.train.Checkpoint(step=tf.Variable(0), iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, '/tmp/my_ckpt', max_to_keep=3)

    print([next(iterator).numpy() for _ in range(5)])

    save_path = manager.save()

    print([next(iterator).numpy() for _ in range(5)])

    ckpt.restore(manager.latest_checkpoint)

    print([next(iterator).numpy() for _ in range(5)])

    train, test = mnist_like.load_data(num_classes=10)  # test: instead of tf.keras.datasets.fashion_mnist.load_data()

    images, labels = train
    images = images/255.0
    labels = labels.astype(np.int32)

    fmnist_train_ds = tf.data.Dataset.from_tensor_slices((images, labels))
    fmnist_train_ds = fmnist_train_ds.shuffle(5000).batch(32)

    model = tf.keras.Sequential([
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(10)
    ])

    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    model.fit(fmnist_train_ds, epochs=2)

    model.fit(fmnist_train_ds.repeat(), epochs=2, steps_per_epoch=20)

    loss, accuracy = model.evaluate(fmnist_train_ds)
    print("Loss :", loss)
    print("Accuracy :", accuracy)

    loss, accuracy = model.evaluate(fmnist_train_ds.repeat(), steps=10)
    print("Loss :", loss)
    print("Accuracy :", accuracy)

    predict_ds = tf.data.Dataset.from_tensor_slices(images).batch(32)
    result = model.predict(predict_ds, steps = 10)
    print(result.shape)

    result = model.predict(fmnist_train_ds, steps = 10)
    print(result.shape)

    out = capsys.readouterr().out  # test
    assert "Found 40 images belonging to 5 classes." in out  # test: ImageDataGenerator.flow_from_directory
    assert "images.shape:  (32, 256, 256, 3)" in out  # test: from_generator of its batches
    assert "SparseTensor" in repr(dataset4.element_spec.value_type)  # test
    balanced = [labels.numpy() for features, labels in balanced_ds.take(10)]  # test: rejection_resample
    import numpy as np  # test
    assert 0.3 < np.mean(np.concatenate(balanced)) < 0.7  # test: about half fraud after resampling (1% before)
