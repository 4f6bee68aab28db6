"""TensorFlow tutorial "Simple audio recognition: Recognizing keywords", run on chainrule.

Source: https://www.tensorflow.org/tutorials/audio/simple_audio
(tensorflow/docs, site/en/tutorials/audio/simple_audio.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow.keras import layers`
  / `models` -> `from chainrule.keras import layers` / `models`;
- the mini Speech Commands download (8 words, 8000 one-second 16 kHz 16-bit wav files) is replaced by 12 files
  per word written with Python's wave module in the test's temporary folder, where DATASET_PATH points (so the
  tutorial's `tf.keras.utils.get_file` is not reached), and batches of 16 instead of 64 (so that the 19 validation
  files still make two shards of batches, as the real 1600 do): each word is a tone of its own pitch with noise, some files
  shorter than a second (`output_sequence_length=16000` pads them), one of them 'no/01bb6a2a_nohash_0.wav' as the
  tutorial reads at the end;
- IPython's `display` and seaborn (not installed here) are stand-ins that check what they are given (`display.Audio`
  takes the waveform and rate, `sns.heatmap` draws the confusion matrix with matplotlib);
- matplotlib draws with the non-interactive Agg backend (`plt.show()` shows nothing);
- the last cell (tf.saved_model.save of the tf.Module, load, call) is checked to raise chainrule's TypeError:
  its tf.saved_model exports Keras models only, never a Module's Python code;
- the notebook's bare expressions (`train_ds.element_spec`, `label_names[[1,1,3,0]]`, ...) are checked;
- lines marked `# test:` check what the program produces.
"""

import pathlib
import wave
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers
from chainrule.keras import models

COMMANDS = ["down", "go", "left", "no", "right", "stop", "up", "yes"]
FILES_PER_COMMAND = 12  # test: the real dataset has 1000 per command


def write_mini_speech_commands(data_dir: pathlib.Path) -> None:
    """test: stands in for mini_speech_commands.zip: <command>/<id>_nohash_<k>.wav, 16 kHz mono 16-bit PCM, and its
    README.md (which the tutorial filters out of the commands)."""
    rng = np.random.default_rng(0)
    data_dir.mkdir(parents=True)
    (data_dir / "README.md").write_text("mini speech commands (synthetic)")
    for k, command in enumerate(COMMANDS):
        (data_dir / command).mkdir()
        for i in range(FILES_PER_COMMAND):
            n = 16000 if i % 3 else int(rng.integers(12000, 16000))
            t = np.arange(n) / 16000
            pitch = 300.0 * (k + 1) * (1 + 0.02 * rng.standard_normal())
            audio = rng.uniform(0.3, 0.8) * np.sin(2 * np.pi * pitch * t) + 0.05 * rng.standard_normal(n)
            name = "01bb6a2a_nohash_0.wav" if (command, i) == ("no", 0) else f"{i:08x}_nohash_{i % 2}.wav"
            with wave.open(str(data_dir / command / name), "wb") as file:
                file.setnchannels(1)
                file.setsampwidth(2)
                file.setframerate(16000)
                file.writeframes(np.round(np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


class _Display:
    """test: stands in for IPython.display: Audio(waveform, rate) is checked and displayed as nothing."""

    def __init__(self):
        self.shown = []

    def Audio(self, data, rate):  # noqa: N802  (IPython's name)
        data = np.asarray(data)
        assert data.ndim == 1 and rate == 16000
        return SimpleNamespace(data=data, rate=rate)

    def display(self, audio):
        self.shown.append(audio)


def _heatmap(data, xticklabels, yticklabels, annot, fmt):
    """test: stands in for seaborn.heatmap (the confusion matrix drawn with matplotlib)."""
    data = np.asarray(data)
    assert data.shape == (len(xticklabels), len(yticklabels)) and fmt == "g" and annot
    plt.imshow(data)


def test_simple_audio(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the tutorial's relative paths ('data/...', 'saved') land in tmp_path
    display = _Display()  # test: `from IPython import display`
    sns = SimpleNamespace(heatmap=_heatmap)  # test: `import seaborn as sns`

    # Set the seed value for experiment reproducibility.
    seed = 42
    tf.random.set_seed(seed)
    np.random.seed(seed)

    DATASET_PATH = 'data/mini_speech_commands'
    write_mini_speech_commands(tmp_path / DATASET_PATH)  # test: the download

    data_dir = pathlib.Path(DATASET_PATH)
    if not data_dir.exists():
        tf.keras.utils.get_file(
            'mini_speech_commands.zip',
            origin="http://storage.googleapis.com/download.tensorflow.org/data/mini_speech_commands.zip",
            extract=True,
            cache_dir='.', cache_subdir='data')

    commands = np.array(tf.io.gfile.listdir(str(data_dir)))
    commands = commands[(commands != 'README.md') & (commands != '.DS_Store')]
    print('Commands:', commands)
    assert sorted(commands) == COMMANDS  # test

    train_ds, val_ds = tf.keras.utils.audio_dataset_from_directory(
        directory=data_dir,
        batch_size=16,  # test: 64 in the tutorial; the 19 validation files must make 2 shards of batches
        validation_split=0.2,
        seed=0,
        output_sequence_length=16000,
        subset='both')

    label_names = np.array(train_ds.class_names)
    print()
    print("label names:", label_names)
    assert label_names.tolist() == COMMANDS  # test: the sorted folder names
    out = capsys.readouterr().out
    assert "Found 96 files belonging to 8 classes." in out and "Using 77 files for training." in out  # test
    assert "Using 19 files for validation." in out  # test

    audio_spec, label_spec = train_ds.element_spec
    assert tuple(audio_spec.shape) == (None, 16000, None) or tuple(audio_spec.shape)[1:] == (16000, 1)  # test
    assert label_spec.dtype == tf.int32  # test

    def squeeze(audio, labels):
        audio = tf.squeeze(audio, axis=-1)
        return audio, labels

    train_ds = train_ds.map(squeeze, tf.data.AUTOTUNE)
    val_ds = val_ds.map(squeeze, tf.data.AUTOTUNE)

    test_ds = val_ds.shard(num_shards=2, index=0)
    val_ds = val_ds.shard(num_shards=2, index=1)

    for example_audio, example_labels in train_ds.take(1):
        print(example_audio.shape)
        print(example_labels.shape)
    assert example_audio.shape == (16, 16000) and example_labels.shape == (16,)  # test

    assert label_names[[1, 1, 3, 0]].tolist() == ["go", "go", "no", "down"]  # test: the notebook's bare expression

    plt.figure(figsize=(16, 10))
    rows = 3
    cols = 3
    n = rows * cols
    for i in range(n):
        plt.subplot(rows, cols, i+1)
        audio_signal = example_audio[i]
        plt.plot(audio_signal)
        plt.title(label_names[example_labels[i]])
        plt.yticks(np.arange(-1.2, 1.2, 0.2))
        plt.ylim([-1.1, 1.1])

    def get_spectrogram(waveform):
        # Convert the waveform to a spectrogram via a STFT.
        spectrogram = tf.signal.stft(
            waveform, frame_length=255, frame_step=128)
        # Obtain the magnitude of the STFT.
        spectrogram = tf.abs(spectrogram)
        # Add a `channels` dimension, so that the spectrogram can be used
        # as image-like input data with convolution layers (which expect
        # shape (`batch_size`, `height`, `width`, `channels`).
        spectrogram = spectrogram[..., tf.newaxis]
        return spectrogram

    for i in range(3):
        label = label_names[example_labels[i]]
        waveform = example_audio[i]
        spectrogram = get_spectrogram(waveform)

        print('Label:', label)
        print('Waveform shape:', waveform.shape)
        print('Spectrogram shape:', spectrogram.shape)
        print('Audio playback')
        display.display(display.Audio(waveform, rate=16000))
    assert spectrogram.shape == (124, 129, 1) and spectrogram.dtype == tf.float32  # test: the tutorial's shape
    # test: the loudest bin of each frame is the file's tone (300 Hz times the word's index + 1; bins of 62.5 Hz)
    pitch = 300.0 * (COMMANDS.index(str(label)) + 1)
    assert abs(np.median(np.argmax(spectrogram.numpy()[:, :, 0], axis=1)) * 16000 / 256 - pitch) < 0.1 * pitch

    def plot_spectrogram(spectrogram, ax):
        if len(spectrogram.shape) > 2:
            assert len(spectrogram.shape) == 3
            spectrogram = np.squeeze(spectrogram, axis=-1)
        # Convert the frequencies to log scale and transpose, so that the time is
        # represented on the x-axis (columns).
        # Add an epsilon to avoid taking a log of zero.
        log_spec = np.log(spectrogram.T + np.finfo(float).eps)
        height = log_spec.shape[0]
        width = log_spec.shape[1]
        X = np.linspace(0, np.size(spectrogram), num=width, dtype=int)
        Y = range(height)
        ax.pcolormesh(X, Y, log_spec)

    fig, axes = plt.subplots(2, figsize=(12, 8))
    timescale = np.arange(waveform.shape[0])
    axes[0].plot(timescale, waveform.numpy())
    axes[0].set_title('Waveform')
    axes[0].set_xlim([0, 16000])

    plot_spectrogram(spectrogram.numpy(), axes[1])
    axes[1].set_title('Spectrogram')
    plt.suptitle(label.title())
    plt.show()

    def make_spec_ds(ds):
        return ds.map(
            map_func=lambda audio, label: (get_spectrogram(audio), label),
            num_parallel_calls=tf.data.AUTOTUNE)

    train_spectrogram_ds = make_spec_ds(train_ds)
    val_spectrogram_ds = make_spec_ds(val_ds)
    test_spectrogram_ds = make_spec_ds(test_ds)

    for example_spectrograms, example_spect_labels in train_spectrogram_ds.take(1):
        break

    rows = 3
    cols = 3
    n = rows*cols
    fig, axes = plt.subplots(rows, cols, figsize=(16, 9))

    for i in range(n):
        r = i // cols
        c = i % cols
        ax = axes[r][c]
        plot_spectrogram(example_spectrograms[i].numpy(), ax)
        ax.set_title(label_names[example_spect_labels[i].numpy()])

    plt.show()

    train_spectrogram_ds = train_spectrogram_ds.cache().shuffle(10000).prefetch(tf.data.AUTOTUNE)
    val_spectrogram_ds = val_spectrogram_ds.cache().prefetch(tf.data.AUTOTUNE)
    test_spectrogram_ds = test_spectrogram_ds.cache().prefetch(tf.data.AUTOTUNE)

    input_shape = example_spectrograms.shape[1:]
    print('Input shape:', input_shape)
    num_labels = len(label_names)
    assert tuple(input_shape) == (124, 129, 1) and num_labels == 8  # test

    # Instantiate the `tf.keras.layers.Normalization` layer.
    norm_layer = layers.Normalization()
    # Fit the state of the layer to the spectrograms
    # with `Normalization.adapt`.
    norm_layer.adapt(data=train_spectrogram_ds.map(map_func=lambda spec, label: spec))

    model = models.Sequential([
        layers.Input(shape=input_shape),
        # Downsample the input.
        layers.Resizing(32, 32),
        # Normalize.
        norm_layer,
        layers.Conv2D(32, 3, activation='relu'),
        layers.Conv2D(64, 3, activation='relu'),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation='relu'),
        layers.Dropout(0.5),
        layers.Dense(num_labels),
    ])

    model.summary()

    model.compile(
        optimizer=tf.keras.optimizers.Adam(),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=['accuracy'],
    )

    EPOCHS = 10
    history = model.fit(
        train_spectrogram_ds,
        validation_data=val_spectrogram_ds,
        epochs=EPOCHS,
        callbacks=tf.keras.callbacks.EarlyStopping(verbose=1, patience=2),
    )

    metrics = history.history
    plt.figure(figsize=(16,6))
    plt.subplot(1,2,1)
    plt.plot(history.epoch, metrics['loss'], metrics['val_loss'])
    plt.legend(['loss', 'val_loss'])
    plt.ylim([0, max(plt.ylim())])
    plt.xlabel('Epoch')
    plt.ylabel('Loss [CrossEntropy]')

    plt.subplot(1,2,2)
    plt.plot(history.epoch, 100*np.array(metrics['accuracy']), 100*np.array(metrics['val_accuracy']))
    plt.legend(['accuracy', 'val_accuracy'])
    plt.ylim([0, 100])
    plt.xlabel('Epoch')
    plt.ylabel('Accuracy [%]')
    # test: the loss falls and the tones are told apart
    assert metrics['loss'][-1] < metrics['loss'][0]
    assert max(metrics['accuracy']) > 0.5

    results = model.evaluate(test_spectrogram_ds, return_dict=True)
    assert set(results) == {'loss', 'accuracy'} and np.isfinite(results['loss'])  # test

    y_pred = model.predict(test_spectrogram_ds)

    y_pred = tf.argmax(y_pred, axis=1)

    y_true = tf.concat(list(test_spectrogram_ds.map(lambda s,lab: lab)), axis=0)
    assert y_pred.shape == y_true.shape == (16,)  # test: batch 0 of the 19 validation files (shard 0 of 2)

    confusion_mtx = tf.math.confusion_matrix(y_true, y_pred)
    plt.figure(figsize=(10, 8))
    sns.heatmap(confusion_mtx,
                xticklabels=label_names,
                yticklabels=label_names,
                annot=True, fmt='g')
    plt.xlabel('Prediction')
    plt.ylabel('Label')
    plt.show()
    assert int(tf.reduce_sum(confusion_mtx)) == 16  # test

    x = data_dir/'no/01bb6a2a_nohash_0.wav'
    x = tf.io.read_file(str(x))
    x, sample_rate = tf.audio.decode_wav(x, desired_channels=1, desired_samples=16000,)
    x = tf.squeeze(x, axis=-1)
    waveform = x
    x = get_spectrogram(x)
    x = x[tf.newaxis,...]

    prediction = model(x)
    x_labels = ['no', 'yes', 'down', 'go', 'left', 'up', 'right', 'stop']
    plt.bar(x_labels, tf.nn.softmax(prediction[0]))
    plt.title('No')
    plt.show()

    display.display(display.Audio(waveform, rate=16000))
    assert prediction.shape == (1, 8) and len(display.shown) == 4  # test

    class ExportModel(tf.Module):
        def __init__(self, model):
            self.model = model

            # Accept either a string-filename or a batch of waveforms.
            # You could add additional signatures for a single wave, or a ragged-batch.
            self.__call__.get_concrete_function(
                x=tf.TensorSpec(shape=(), dtype=tf.string))
            self.__call__.get_concrete_function(
               x=tf.TensorSpec(shape=[None, 16000], dtype=tf.float32))

        @tf.function
        def __call__(self, x):
            # If they pass a string, load the file and decode it.
            if x.dtype == tf.string:
                x = tf.io.read_file(x)
                x, _ = tf.audio.decode_wav(x, desired_channels=1, desired_samples=16000,)
                x = tf.squeeze(x, axis=-1)
                x = x[tf.newaxis, :]

            x = get_spectrogram(x)
            result = self.model(x, training=False)

            class_ids = tf.argmax(result, axis=-1)
            class_names = tf.gather(label_names, class_ids)
            return {'predictions':result,
                    'class_ids': class_ids,
                    'class_names': class_names}

    export = ExportModel(model)
    exported = export(tf.constant(str(data_dir/'no/01bb6a2a_nohash_0.wav')))
    # test: the file's prediction through the export is the model's
    np.testing.assert_allclose(exported['predictions'].numpy(), prediction.numpy(), rtol=1e-5, atol=1e-5)
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in exported['class_names'].numpy().tolist()]
    assert names == [label_names[int(np.argmax(prediction.numpy()))]]  # (TensorFlow gives bytes)

    # test: the last cell, `tf.saved_model.save(export, "saved")`, `imported = tf.saved_model.load("saved")`,
    # `imported(waveform[tf.newaxis, :])`, saves the tf.Module; chainrule's tf.saved_model exports Keras models only
    # (a Module's methods are Python code, which it never writes into files), and says so
    with pytest.raises(TypeError, match="chainrule exports Keras models only, got ExportModel"):
        tf.saved_model.save(export, "saved")
