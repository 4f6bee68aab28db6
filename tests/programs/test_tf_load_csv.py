"""TensorFlow tutorial "Load CSV data" (pandas tables into Keras models, a preprocessing model of Normalization,
StringLookup and CategoryEncoding saved and reloaded, tf.data.experimental.make_csv_dataset with gzip files, caching
and snapshots, many files with list_files and interleave, tf.io.decode_csv and CsvDataset), run on chainrule.

Source: https://www.tensorflow.org/tutorials/load_data/csv (tensorflow/docs, site/en/tutorials/load_data/csv.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import layers` ->
  `from chainrule.keras import layers`; the imports of later cells (itertools, pathlib, re, pyplot) are at the top;
- the downloads (abalone_train.csv, Titanic's train.csv, Metro_Interstate_Traffic_Volume.csv.gz, fonts.zip) are
  replaced by synthetic files of the same columns and kinds in the test's temporary folder (tests/programs/
  csv_like.py): 200 abalone rows (3320), 160 Titanic rows (627), 600 traffic rows (48204), 5 font files of 20 rows
  (153 files);
- every `epochs=10` and `epochs=5` is 2; the `%%time` magics are left out and the figure is not shown;
- lines marked `# test:` check what the program produces.
"""

import itertools
import os
import pathlib
import re

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt

import chainrule as tf
from chainrule.keras import layers

import csv_like


@pytest.fixture(autouse=True)
def _numpy_print_options():
    with np.printoptions():  # test: the program sets NumPy's print options; they are restored after it
        yield


def test_load_csv(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the files in a temporary folder
    
    # Make numpy values easier to read.
    np.set_printoptions(precision=3, suppress=True)
    
    
    
    
    
    abalone_train = pd.read_csv(
        csv_like.abalone("abalone_train.csv"),  # test: instead of the file's address
        names=["Length", "Diameter", "Height", "Whole weight", "Shucked weight",
               "Viscera weight", "Shell weight", "Age"])
    
    abalone_train.head()
    
    
    
    abalone_features = abalone_train.copy()
    abalone_labels = abalone_features.pop('Age')
    
    
    abalone_features = np.array(abalone_features)
    abalone_features
    
    
    abalone_model = tf.keras.Sequential([
      layers.Dense(64, activation='relu'),
      layers.Dense(1)
    ])
    
    abalone_model.compile(loss = tf.keras.losses.MeanSquaredError(),
                          optimizer = tf.keras.optimizers.Adam())
    
    
    abalone_model.fit(abalone_features, abalone_labels, epochs=2)  # test: 2 (10 or 5)
    
    
    
    
    normalize = layers.Normalization()
    
    
    normalize.adapt(abalone_features)
    
    
    norm_abalone_model = tf.keras.Sequential([
      normalize,
      layers.Dense(64, activation='relu'),
      layers.Dense(1)
    ])
    
    norm_abalone_model.compile(loss = tf.keras.losses.MeanSquaredError(),
                               optimizer = tf.keras.optimizers.Adam())
    
    norm_abalone_model.fit(abalone_features, abalone_labels, epochs=2)  # test: 2 (10 or 5)
    
    
    titanic = pd.read_csv(csv_like.titanic("train.csv"))  # test: instead of the file's address
    titanic.head()
    
    titanic_features = titanic.copy()
    titanic_labels = titanic_features.pop('survived')
    
    
    
    # Create a symbolic input
    input = tf.keras.Input(shape=(), dtype=tf.float32)
    
    # Perform a calculation using the input
    result = 2*input + 1
    
    # the result doesn't have a value
    result
    
    calc = tf.keras.Model(inputs=input, outputs=result)
    
    print(calc(np.array([1])).numpy())
    print(calc(np.array([2])).numpy())
    assert calc(np.array([2])).numpy().tolist() == [5.0]  # test
    
    
    inputs = {}
    
    for name, column in titanic_features.items():
      dtype = column.dtype
      if dtype == object:
        dtype = tf.string
      else:
        dtype = tf.float32
    
      inputs[name] = tf.keras.Input(shape=(1,), name=name, dtype=dtype)
    
    inputs
    
    
    numeric_inputs = {name:input for name,input in inputs.items()
                      if input.dtype==tf.float32}
    
    x = layers.Concatenate()(list(numeric_inputs.values()))
    norm = layers.Normalization()
    norm.adapt(np.array(titanic[numeric_inputs.keys()]))
    all_numeric_inputs = norm(x)
    
    all_numeric_inputs
    
    
    preprocessed_inputs = [all_numeric_inputs]
    
    
    for name, input in inputs.items():
      if input.dtype == tf.float32:
        continue
      
      lookup = layers.StringLookup(vocabulary=np.unique(titanic_features[name]))
      one_hot = layers.CategoryEncoding(num_tokens=lookup.vocabulary_size())
    
      x = lookup(input)
      x = one_hot(x)
      preprocessed_inputs.append(x)
    
    
    preprocessed_inputs_cat = layers.Concatenate()(preprocessed_inputs)
    
    titanic_preprocessing = tf.keras.Model(inputs, preprocessed_inputs_cat)
    
    tf.keras.utils.plot_model(model = titanic_preprocessing , rankdir="LR", dpi=72, show_shapes=True)
    
    
    titanic_features_dict = {name: np.array(value) 
                             for name, value in titanic_features.items()}
    
    
    features_dict = {name:values[:1] for name, values in titanic_features_dict.items()}
    titanic_preprocessing(features_dict)
    assert titanic_preprocessing(features_dict).shape == (1, 4 + 3 + 4 + 6 + 4 + 3)  # test: numbers, then one-hot sex, class, deck, embark_town, alone
    
    
    def titanic_model(preprocessing_head, inputs):
      body = tf.keras.Sequential([
        layers.Dense(64, activation='relu'),
        layers.Dense(1)
      ])
    
      preprocessed_inputs = preprocessing_head(inputs)
      result = body(preprocessed_inputs)
      model = tf.keras.Model(inputs, result)
    
      model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                    optimizer=tf.keras.optimizers.Adam())
      return model
    
    titanic_model = titanic_model(titanic_preprocessing, inputs)
    
    
    titanic_model.fit(x=titanic_features_dict, y=titanic_labels, epochs=2)  # test: 2 (10 or 5)
    
    
    titanic_model.save('test.keras')
    reloaded = tf.keras.models.load_model('test.keras')
    
    features_dict = {name:values[:1] for name, values in titanic_features_dict.items()}
    
    before = titanic_model(features_dict)
    after = reloaded(features_dict)
    assert (before-after)<1e-3
    print(before)
    print(after)
    
    
    
    
    
    def slices(features):
      for i in itertools.count():
        # For each feature take index `i`
        example = {name:values[i] for name, values in features.items()}
        yield example
    
    
    for example in slices(titanic_features_dict):
      for name, value in example.items():
        print(f"{name:19s}: {value}")
      break
    
    
    features_ds = tf.data.Dataset.from_tensor_slices(titanic_features_dict)
    
    
    for example in features_ds:
      for name, value in example.items():
        print(f"{name:19s}: {value}")
      break
    
    
    titanic_ds = tf.data.Dataset.from_tensor_slices((titanic_features_dict, titanic_labels))
    
    
    titanic_batches = titanic_ds.shuffle(len(titanic_labels)).batch(32)
    
    
    titanic_model.fit(titanic_batches, epochs=2)  # test: 2 (10 or 5)
    
    
    titanic_file_path = os.path.abspath("train.csv")  # test: instead of tf.keras.utils.get_file("train.csv", ...)
    
    
    titanic_csv_ds = tf.data.experimental.make_csv_dataset(
        titanic_file_path,
        batch_size=5, # Artificially small to make examples easier to show.
        label_name='survived',
        num_epochs=1,
        ignore_errors=True,)
    
    
    for batch, label in titanic_csv_ds.take(1):
      for key, value in batch.items():
        print(f"{key:20s}: {value}")
      print()
      print(f"{'label':20s}: {label}")
      assert label.shape == (5,) and sorted(batch) == sorted(csv_like.TITANIC_COLUMNS[1:]) and batch['age'].dtype == np.float32  # test
    
    
    
    os.makedirs("traffic")  # test: instead of tf.keras.utils.get_file('Metro_Interstate_Traffic_Volume.csv.gz', ...)
    traffic_volume_csv_gz = csv_like.traffic("traffic/Metro_Interstate_Traffic_Volume.csv.gz")
    
    
    traffic_volume_csv_gz_ds = tf.data.experimental.make_csv_dataset(
        traffic_volume_csv_gz,
        batch_size=256,
        label_name='traffic_volume',
        num_epochs=1,
        compression_type="GZIP")
    
    for batch, label in traffic_volume_csv_gz_ds.take(1):
      for key, value in batch.items():
        print(f"{key:20s}: {value[:5]}")
      print()
      print(f"{'label':20s}: {label[:5]}")
    
    
    
    
    for i, (batch, label) in enumerate(traffic_volume_csv_gz_ds.repeat(20)):
      if i % 40 == 0:
        print('.', end='')
    print()
    
    
    caching = traffic_volume_csv_gz_ds.cache().shuffle(1000)
    
    for i, (batch, label) in enumerate(caching.shuffle(1000).repeat(20)):
      if i % 40 == 0:
        print('.', end='')
    print()
    
    
    snapshotting = traffic_volume_csv_gz_ds.snapshot('titanic.tfsnap').shuffle(1000)
    
    for i, (batch, label) in enumerate(snapshotting.shuffle(1000).repeat(20)):
      if i % 40 == 0:
        print('.', end='')
    print()
    
    
    
    
    fonts_zip = csv_like.fonts("fonts")  # test: instead of tf.keras.utils.get_file('fonts.zip', ..., extract=True)
    
    font_csvs =  sorted(str(p) for p in pathlib.Path('fonts').glob("*.csv"))
    
    font_csvs[:10]
    
    len(font_csvs)
    
    
    fonts_ds = tf.data.experimental.make_csv_dataset(
        file_pattern = "fonts/*.csv",
        batch_size=10, num_epochs=1,
        num_parallel_reads=20,
        shuffle_buffer_size=10000)
    
    
    for features in fonts_ds.take(1):
      for i, (name, value) in enumerate(features.items()):
        if i>15:
          break
        print(f"{name:20s}: {value}")
    print('...')
    print(f"[total: {len(features)} features]")
    
    
    
    def make_images(features):
      image = [None]*400
      new_feats = {}
    
      for name, value in features.items():
        match = re.match('r(\d+)c(\d+)', name)
        if match:
          image[int(match.group(1))*20+int(match.group(2))] = value
        else:
          new_feats[name] = value
    
      image = tf.stack(image, axis=0)
      image = tf.reshape(image, [20, 20, -1])
      new_feats['image'] = image
    
      return new_feats
    
    
    fonts_image_ds = fonts_ds.map(make_images)
    
    for features in fonts_image_ds.take(1):
      break
    assert features['image'].shape == (20, 20, 10) and 'm_label' in features and 'r0c0' not in features  # test
    
    
    
    plt.figure(figsize=(6,6), dpi=120)
    
    for n in range(9):
      plt.subplot(3,3,n+1)
      plt.imshow(features['image'][..., n])
      plt.title(chr(features['m_label'][n]))
      plt.axis('off')
    
    
    
    
    text = pathlib.Path(titanic_file_path).read_text()
    lines = text.split('\n')[1:-1]
    
    all_strings = [str()]*10
    all_strings
    
    features = tf.io.decode_csv(lines, record_defaults=all_strings) 
    
    for f in features:
      print(f"type: {f.dtype.name}, shape: {f.shape}")
    assert all(f.dtype == tf.string and f.shape == (160,) for f in features)  # test
    
    
    print(lines[0])
    
    titanic_types = [int(), str(), float(), int(), int(), float(), str(), str(), str(), str()]
    titanic_types
    
    features = tf.io.decode_csv(lines, record_defaults=titanic_types) 
    
    for f in features:
      print(f"type: {f.dtype.name}, shape: {f.shape}")
    assert [f.dtype.name for f in features] == ['int32', 'string', 'float32', 'int32', 'int32', 'float32', 'string', 'string', 'string', 'string'] and features[0].shape == (160,)  # test
    
    
    
    simple_titanic = tf.data.experimental.CsvDataset(titanic_file_path, record_defaults=titanic_types, header=True)
    
    for example in simple_titanic.take(1):
      print([e.numpy() for e in example])
    
    
    def decode_titanic_line(line):
      return tf.io.decode_csv(line, titanic_types)
    
    manual_titanic = (
        # Load the lines of text
        tf.data.TextLineDataset(titanic_file_path)
        # Skip the header row.
        .skip(1)
        # Decode the line.
        .map(decode_titanic_line)
    )
    
    for example in manual_titanic.take(1):
      print([e.numpy() for e in example])
    
    
    font_line = pathlib.Path(font_csvs[0]).read_text().splitlines()[1]
    print(font_line)
    
    
    num_font_features = font_line.count(',')+1
    font_column_types = [str(), str()] + [float()]*(num_font_features-2)
    
    
    font_csvs[0]
    
    
    simple_font_ds = tf.data.experimental.CsvDataset(
        font_csvs, 
        record_defaults=font_column_types, 
        header=True)
    
    for row in simple_font_ds.take(10):
      print(row[0].numpy())
    
    
    font_files = tf.data.Dataset.list_files("fonts/*.csv")
    
    
    print('Epoch 1:')
    for f in list(font_files)[:5]:
      print("    ", f.numpy())
    print('    ...')
    print()
    
    print('Epoch 2:')
    for f in list(font_files)[:5]:
      print("    ", f.numpy())
    print('    ...')
    
    
    def make_font_csv_ds(path):
      return tf.data.experimental.CsvDataset(
        path, 
        record_defaults=font_column_types, 
        header=True)
    
    
    font_rows = font_files.interleave(make_font_csv_ds,
                                      cycle_length=3)
    
    fonts_dict = {'font_name':[], 'character':[]}
    
    for row in font_rows.take(10):
      fonts_dict['font_name'].append(row[0].numpy().decode())
      fonts_dict['character'].append(chr(int(row[2].numpy())))
    
    pd.DataFrame(fonts_dict)
    assert len(fonts_dict['font_name']) == 10 and set(fonts_dict['font_name']) <= {'AGENCY', 'ARIAL', 'BAITI', 'CALIBRI', 'COURIER'}  # test
    
    
    
    
    BATCH_SIZE=2048
    fonts_ds = tf.data.experimental.make_csv_dataset(
        file_pattern = "fonts/*.csv",
        batch_size=BATCH_SIZE, num_epochs=1,
        num_parallel_reads=100)
    
    for i,batch in enumerate(fonts_ds.take(20)):
      print('.',end='')
    
    print()
    
    
    fonts_files = tf.data.Dataset.list_files("fonts/*.csv")
    fonts_lines = fonts_files.interleave(
        lambda fname:tf.data.TextLineDataset(fname).skip(1), 
        cycle_length=100).batch(BATCH_SIZE)
    
    fonts_fast = fonts_lines.map(lambda x: tf.io.decode_csv(x, record_defaults=font_column_types))
    
    for i,batch in enumerate(fonts_fast.take(20)):
      print('.',end='')
    
    print()
    plt.close('all')

    # test: what the program produced
    out = capsys.readouterr().out
    assert abalone_features.shape == (200, 7) and os.path.isdir("titanic.tfsnap")
    assert out.count(".") >= 3 and len(font_csvs) == 5 and num_font_features == 412
    assert all(len(batch["m_label"].shape) == 1 for batch in fonts_ds.take(1))
