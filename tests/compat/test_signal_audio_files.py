"""What the audio tutorials read their files with: keras.utils.audio_dataset_from_directory (Keras 3's arguments,
padding, splits, resampling) and tf.io.gfile; and fit taking one callback, not a list, as the audio tutorial passes
EarlyStopping."""
import wave

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras.utils.audio_dataset_utils import resample


def _write_wav(path, samples, rate=16000, channels=1):
    with wave.open(str(path), "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(np.asarray(samples, "<i2").tobytes())


@pytest.fixture
def audio_dir(tmp_path):
    """Two classes, files of 5 and 7 samples with known values."""
    for label, value in [("cat", 1000), ("dog", -2000)]:
        (tmp_path / label).mkdir()
        for k, length in enumerate([5, 7]):
            _write_wav(tmp_path / label / f"{k}.wav", np.full(length, value + k))
    (tmp_path / "dog" / "notes.txt").write_text("not audio")
    return tmp_path


def test_audio_dataset_pads_each_batch_to_its_longest_file(audio_dir, capsys):
    ds = keras.utils.audio_dataset_from_directory(audio_dir, batch_size=4, shuffle=False)
    assert "Found 4 files belonging to 2 classes." in capsys.readouterr().out
    audio, labels = next(iter(ds))
    assert ds.class_names == ["cat", "dog"] and audio.shape == (4, 7, 1) and audio.dtype == np.float32
    np.testing.assert_array_equal(labels.numpy(), [0, 0, 1, 1])
    np.testing.assert_allclose(audio.numpy()[0, :, 0], [1000 / 32768] * 5 + [0, 0])  # padded after its 5 samples
    np.testing.assert_allclose(audio.numpy()[3, :, 0], [-1999 / 32768] * 7)


def test_audio_dataset_output_length_split_and_label_modes(audio_dir):
    train, val = keras.utils.audio_dataset_from_directory(audio_dir, batch_size=None, output_sequence_length=6,
                                                          validation_split=0.5, subset="both", seed=3,
                                                          label_mode="categorical", verbose=False)
    samples = list(train) + list(val)
    assert len(list(train)) == 2 and len(list(val)) == 2
    assert all(a.shape == (6, 1) and y.shape == (2,) for a, y in samples)
    assert sorted(int(np.argmax(y.numpy())) for _, y in samples) == [0, 0, 1, 1]
    no_labels = keras.utils.audio_dataset_from_directory(audio_dir, labels=None, batch_size=2, shuffle=False,
                                                         output_sequence_length=3, verbose=False)
    assert next(iter(no_labels)).shape == (2, 3, 1)
    with pytest.raises(ValueError, match="`sampling_rate` should be higher than 0"):
        keras.utils.audio_dataset_from_directory(audio_dir, sampling_rate=0)
    with pytest.raises(ValueError, match="`label_mode` argument must be one of"):
        keras.utils.audio_dataset_from_directory(audio_dir, label_mode="sparse")
    with pytest.raises(ValueError, match="If using `validation_split` and shuffling the data, you must provide"):
        keras.utils.audio_dataset_from_directory(audio_dir, validation_split=0.5, subset="training")


def test_audio_dataset_resamples_a_tone_to_the_asked_rate(tmp_path):
    (tmp_path / "tone").mkdir()
    t = np.arange(800) / 8000
    _write_wav(tmp_path / "tone" / "a.wav", np.round(8000 * np.sin(2 * np.pi * 500 * t)), rate=8000)
    ds = keras.utils.audio_dataset_from_directory(tmp_path, sampling_rate=16000, batch_size=None, verbose=False)
    audio, _ = next(iter(ds))
    assert audio.shape == (1600, 1)
    t16 = np.arange(1600) / 16000  # a whole number of periods: the Fourier method gives the tone at the new rate
    np.testing.assert_allclose(audio.numpy()[:, 0], 8000 / 32768 * np.sin(2 * np.pi * 500 * t16), atol=2e-4)


@pytest.mark.parametrize("n, m", [(10, 7), (10, 8), (9, 12), (8, 12), (8, 5), (16, 16)])
def test_resample_keeps_a_band_limited_signal(n, m):
    # a signal whose frequencies lie below both rates' Nyquist bins comes back exactly at the new rate
    x = np.arange(n) / n
    signal = np.stack([1 + np.cos(2 * np.pi * x), np.sin(2 * np.pi * 2 * x)], axis=1)
    y = np.arange(m) / m
    np.testing.assert_allclose(resample(signal, m), np.stack([1 + np.cos(2 * np.pi * y), np.sin(2 * np.pi * 2 * y)],
                                                             axis=1), atol=1e-12)


def test_gfile(tmp_path):
    root = str(tmp_path)
    tf.io.gfile.makedirs(tf.io.gfile.join(root, "a", "b"))
    tf.io.gfile.mkdir(tf.io.gfile.join(root, "c"))
    with tf.io.gfile.GFile(tf.io.gfile.join(root, "x.txt"), "w") as f:
        f.write("one\ntwo\n")
    assert sorted(tf.io.gfile.listdir(root)) == ["a", "c", "x.txt"]
    assert tf.io.gfile.isdir(tf.io.gfile.join(root, "a")) and tf.io.gfile.exists(tf.constant(root + "/x.txt"))
    with tf.io.gfile.GFile(root + "/x.txt") as f:
        assert list(f) == ["one\n", "two\n"]
    assert tf.io.gfile.glob(root + "/*.txt") == [root + "/x.txt"]
    tf.io.gfile.copy(root + "/x.txt", root + "/y.txt")
    tf.io.gfile.rename(root + "/y.txt", root + "/z.txt")
    assert sorted(tf.io.gfile.listdir(root)) == ["a", "c", "x.txt", "z.txt"]
    walked = [(d[len(root):], sorted(sub), files) for d, sub, files in tf.io.gfile.walk(root + "/a")]
    assert walked == [("/a", ["b"], []), ("/a/b", [], [])]
    tf.io.gfile.remove(root + "/z.txt")
    tf.io.gfile.rmtree(root + "/a")
    assert sorted(tf.io.gfile.listdir(root)) == ["c", "x.txt"]
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        tf.io.gfile.listdir(root + "/missing")
    with pytest.raises(tf.errors.NotFoundError):
        tf.io.gfile.remove(root + "/missing")
    with pytest.raises(tf.errors.OpError, match="already exists"):
        tf.io.gfile.copy(root + "/x.txt", root + "/x.txt")


def test_fit_takes_one_callback_as_keras():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)  # stops after the 2nd epoch
    history = model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=5, verbose=0, callbacks=stop)
    assert len(history.epoch) == 2 and stop.stopped_epoch == 1
