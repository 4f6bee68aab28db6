"""``tf.audio``: 16-bit PCM WAV files to float samples and back (``decode_wav``, ``encode_wav``), as TensorFlow reads
and writes them: samples in [-1, 1) are the 16-bit integers over 32768, shape ``(samples, channels)``.

>>> import numpy as np
>>> import chainrule as tf
>>> wav = tf.audio.encode_wav(np.array([[0.0], [0.5], [-1.0]], "float32"), 16000)
>>> audio, rate = tf.audio.decode_wav(wav)
>>> audio.numpy().ravel().tolist(), int(rate)
([0.0, 0.5, -1.0], 16000)
"""
from __future__ import annotations

import struct

import numpy as np

from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.engine.tensor import Tensor

_SCALE = 32768.0  # TensorFlow's 1 << 15: a 16-bit sample over it lies in [-1, 1)


def _wav_bytes(contents) -> bytes:
    if isinstance(contents, (bytes, bytearray)):  # as given: NumPy's bytes arrays would drop trailing zero bytes
        return bytes(contents)
    array = np.asarray(contents.numpy() if isinstance(contents, Tensor) else contents, dtype=object)
    if array.shape != () or not isinstance(array.item(), bytes):
        raise InvalidArgumentError(None, None, f"tf.audio.decode_wav: contents must be one file's bytes (a scalar, "
                                               f"as tf.io.read_file gives), got {type(contents).__name__} of shape "
                                               f"{array.shape}")
    return array.item()


def _chunks(data: bytes):
    """The (id, body) of each chunk after the RIFF/WAVE header."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InvalidArgumentError(None, None, "Header mismatch: expected a RIFF file of type WAVE")
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        yield chunk_id, data[offset + 8:offset + 8 + size]
        offset += 8 + size + (size & 1)  # chunks are padded to an even length


def decode_wav(contents, desired_channels: int = -1, desired_samples: int = -1, name=None) -> tuple[Tensor, Tensor]:
    """A 16-bit PCM WAV file's samples as float32 ``(samples, channels)`` in [-1, 1), and its sample rate (int32).

    ``desired_channels`` repeats the last channel or drops the extra ones; ``desired_samples`` pads with zeros or
    cuts, as TensorFlow does; -1 keeps the file's."""
    channels = rate = bits = None
    samples = None
    for chunk_id, body in _chunks(_wav_bytes(contents)):
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise InvalidArgumentError(None, None, "Bad WAV format chunk: shorter than 16 bytes")
            audio_format, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if audio_format != 1:
                raise InvalidArgumentError(None, None, f"Bad audio format for WAV: Expected 1 (PCM), but got "
                                                       f"{audio_format}")
            if bits != 16:
                raise InvalidArgumentError(None, None, f"Can only read 16-bit WAV files, but received {bits}")
        elif chunk_id == b"data":
            if channels is None:
                raise InvalidArgumentError(None, None, "Bad WAV file: the data chunk comes before the format chunk")
            frames = len(body) // (2 * channels)
            samples = np.frombuffer(body[:frames * 2 * channels], "<i2").reshape(frames, channels)
            break
    if samples is None:
        raise InvalidArgumentError(None, None, "Bad WAV file: no data chunk")
    audio = samples.astype(np.float32) / np.float32(_SCALE)
    if desired_channels != -1:
        audio = audio[:, np.minimum(np.arange(int(desired_channels)), channels - 1)]
    if desired_samples != -1:
        audio = np.pad(audio[:int(desired_samples)], ((0, max(0, int(desired_samples) - len(audio))), (0, 0)))
    return Tensor._wrap(np.ascontiguousarray(audio)), Tensor._wrap(np.array(rate, np.int32))


def encode_wav(audio, sample_rate, name=None) -> Tensor:
    """float ``(samples, channels)`` audio as a 16-bit PCM WAV file's bytes (a 0-d tensor): each sample times
    32768, rounded and clipped to the 16-bit range."""
    array = np.asarray(audio.numpy() if isinstance(audio, Tensor) else audio, dtype=np.float32)
    if array.ndim != 2:
        raise InvalidArgumentError(None, None, f"tf.audio.encode_wav: audio must be 2-D (samples, channels), got "
                                               f"shape {array.shape}")
    rate = int(sample_rate.numpy() if isinstance(sample_rate, Tensor) else sample_rate)
    pcm = np.clip(np.round(array * np.float32(_SCALE)), -32768, 32767).astype("<i2").tobytes()
    channels = array.shape[1]
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return Tensor._wrap(np.array(b"RIFF" + struct.pack("<I", len(body)) + body, dtype=object))


__all__ = ["decode_wav", "encode_wav"]
