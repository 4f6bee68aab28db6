"""``keras.utils.audio_dataset_from_directory``: a ``tf.data`` Dataset of ``(audio, labels)`` batches from a folder
of ``.wav`` files in one subfolder per class, with Keras 3's arguments and defaults.

Audio is float32 ``(samples, channels)`` in [-1, 1) (16-bit PCM over 32768, as ``tf.audio.decode_wav``), read
when the dataset is iterated; ``output_sequence_length`` cuts or pads each file with zeros to that many samples,
otherwise a batch is padded to its longest file. ``sampling_rate`` resamples each file by the Fourier method (as
Keras's SciPy path, ``scipy.signal.resample``).

>>> import os, tempfile, wave
>>> root = tempfile.mkdtemp()
>>> for label, value in [("no", 1000), ("yes", -1000)]:
...     os.makedirs(os.path.join(root, label))
...     with wave.open(os.path.join(root, label, "1.wav"), "wb") as f:
...         f.setnchannels(1); f.setsampwidth(2); f.setframerate(16000)
...         f.writeframes(np.full(3, value, "<i2").tobytes())
>>> ds = audio_dataset_from_directory(root, shuffle=False, output_sequence_length=4, verbose=False)
>>> audio, labels = next(iter(ds))
>>> ds.class_names, audio.shape, labels.numpy().tolist()
(['no', 'yes'], TensorShape([2, 4, 1]), [0, 1])
"""
from __future__ import annotations

import os
import wave

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras.utils import dataset_utils

ALLOWED_FORMATS = (".wav",)


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, format="tf",
                                 verbose=True):
    """The audio of ``directory``'s ``.wav`` files with their labels, batched, shuffled and split as Keras does;
    ``subset='both'`` returns the training and the validation dataset."""
    if ragged:
        raise ValueError("`ragged=True` is not supported by chainrule's audio_dataset_from_directory (a batch of "
                         "files of different lengths is padded with zeros); pass `ragged=False`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError(f"`sampling_rate` should have an integer value. Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError(f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}")
    return dataset_utils.dataset_from_directory(
        directory, lambda path: read_audio(path, sampling_rate, output_sequence_length), ALLOWED_FORMATS, "audio",
        labels=labels, label_mode=label_mode, class_names=class_names, batch_size=batch_size, shuffle=shuffle,
        seed=seed, validation_split=validation_split, subset=subset, follow_links=follow_links, format=format,
        verbose=verbose, padded=output_sequence_length is None)


def read_audio(path, sampling_rate: int | None = None, output_sequence_length: int | None = None) -> Tensor:
    """A 16-bit PCM WAV file's samples as float32 ``(samples, channels)``, resampled to ``sampling_rate`` and cut or
    padded with zeros to ``output_sequence_length`` when given."""
    name = os.fsdecode(np.asarray(path.numpy() if isinstance(path, Tensor) else path).item())
    with wave.open(name, "rb") as file:
        if file.getsampwidth() != 2:
            raise ValueError(f"Can only read 16-bit WAV files, but received {8 * file.getsampwidth()} ({name})")
        channels, rate = file.getnchannels(), file.getframerate()
        frames = np.frombuffer(file.readframes(file.getnframes()), "<i2").reshape(-1, channels)
    audio = frames.astype(np.float32) / np.float32(32768.0)
    if sampling_rate is not None and rate != sampling_rate and len(audio):
        audio = resample(audio, max(1, round(len(audio) * sampling_rate / rate)))
    if output_sequence_length is not None:
        audio = np.pad(audio[:output_sequence_length], ((0, max(0, output_sequence_length - len(audio))), (0, 0)))
    return Tensor._wrap(backend.xp.asarray(np.ascontiguousarray(audio)))


def resample(audio: np.ndarray, samples: int) -> np.ndarray:
    """``audio`` (samples, channels) at ``samples`` samples by the Fourier method (SciPy's ``signal.resample``):
    the spectrum cut or padded with zeros, the Nyquist bin split or folded as SciPy does.

    >>> resample(np.array([[0.0], [1.0], [0.0], [-1.0]]), 8).ravel().round(3).tolist()
    [0.0, 0.707, 1.0, 0.707, 0.0, -0.707, -1.0, -0.707]
    """
    n = len(audio)
    spectrum = np.fft.rfft(audio, axis=0)
    out = np.zeros((samples // 2 + 1, audio.shape[1]), dtype=spectrum.dtype)
    common = min(n, samples)
    out[:common // 2 + 1] = spectrum[:common // 2 + 1]
    if common % 2 == 0 and samples != n:  # the shorter signal's Nyquist bin stands for both of its mirror images
        out[common // 2] *= 2.0 if samples < n else 0.5
    return (np.fft.irfft(out, samples, axis=0) * (samples / n)).astype(audio.dtype)
