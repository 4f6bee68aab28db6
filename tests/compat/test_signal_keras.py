"""keras.ops' Fourier functions on (real, imaginary) pairs (chainrule/keras/ops/spectral.py) against NumPy, Keras's
documented values and torch.stft/istft, and the audio layers MelSpectrogram and STFTSpectrogram."""
import numpy as np
import pytest
import torch

import chainrule as tf
from chainrule import keras
from chainrule.keras import ops

R = np.random.default_rng(0)


def test_transforms_on_pairs_match_numpy_and_kerass_examples():
    x = ops.convert_to_tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    real, imag = ops.rfft(x)
    np.testing.assert_allclose(real.numpy(), [10.0, -2.5, -2.5], rtol=1e-6)
    np.testing.assert_allclose(imag.numpy(), [0.0, 3.4409548, 0.81229924], rtol=1e-6, atol=1e-6)
    real, imag = ops.rfft(x, 3)
    np.testing.assert_allclose(real.numpy(), [3.0, -1.5], rtol=1e-6)
    np.testing.assert_allclose(imag.numpy(), [0.0, 0.8660254], atol=1e-6)
    # (Keras's docstring shows 3 values for this call; its code, as NumPy's irfft, gives 2 * (5 - 1))
    np.testing.assert_allclose(ops.irfft((x, x)).numpy(), np.fft.irfft(x.numpy() * (1 + 1j)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ops.irfft((x, x), 3).numpy(), [0.66666667, -0.9106836, 0.24401694], rtol=1e-6)
    np.testing.assert_allclose(ops.irfft(ops.rfft(x, 5), 5).numpy(), x.numpy(), atol=1e-6)
    pair = (np.array([1.0, 2.0], "float32"), np.array([0.0, 1.0], "float32"))
    np.testing.assert_allclose([p.numpy() for p in ops.fft(pair)], [[3.0, -1.0], [1.0, -1.0]])
    pair2 = (np.array([[1.0, 2.0], [2.0, 1.0]], "float32"), np.array([[0.0, 1.0], [1.0, 0.0]], "float32"))
    np.testing.assert_allclose([p.numpy() for p in ops.fft2(pair2)], [[[6, 0], [0, -2]], [[2, 0], [0, -2]]])
    z = R.standard_normal((3, 4, 5)) + 1j * R.standard_normal((3, 4, 5))
    real, imag = ops.ifft2((z.real, z.imag))
    np.testing.assert_allclose(real.numpy() + 1j * imag.numpy(), np.fft.ifft2(z), atol=1e-12)
    assert real.dtype == np.float64 and ops.rfft(np.ones(4, "float32"))[0].dtype == np.float32
    np.testing.assert_array_equal(ops.view_as_real(ops.view_as_complex(np.array([[1.0, 2.0], [3.0, -4.0]],
                                                                                 "float32"))).numpy(),
                                  [[1.0, 2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(ops.extract_sequences(np.arange(1, 7), 3, 2).numpy(), [[1, 2, 3], [3, 4, 5]])


def test_pair_errors_are_kerass():
    with pytest.raises(ValueError, match="Input `x` should be a tuple of two tensors - real and imaginary"):
        ops.fft(np.ones(4, "float32"))
    with pytest.raises(ValueError, match="Both the real and imaginary parts should have the same shape"):
        ops.fft((np.ones(4, "float32"), np.ones(3, "float32")))
    with pytest.raises(ValueError, match="At least one tensor in input `x` is not of type float"):
        ops.fft((np.ones(4, "int32"), np.ones(4, "int32")))
    with pytest.raises(ValueError, match="Input should have rank >= 2"):
        ops.fft2((np.ones(4, "float32"), np.ones(4, "float32")))
    with pytest.raises(ValueError, match="`sequence_stride` must be a positive integer"):
        ops.stft(np.ones(64, "float32"), 16, 0, 16)
    with pytest.raises(ValueError, match="`fft_length` must equal or larger than `sequence_length`"):
        ops.stft(np.ones(64, "float32"), 16, 4, 8)
    with pytest.raises(ValueError, match='it must be one of `"hann"`, `"hamming"`. Received: window=blackman'):
        ops.stft(np.ones(64, "float32"), 16, 4, 16, window="blackman")
    with pytest.raises(TypeError, match="Invalid input type. Expected `float32` or `float64`. Received: input "
                                        "type=int32"):
        ops.stft(np.ones(64, "int32"), 16, 4, 16)
    with pytest.raises(ValueError, match="The shape of `window` must be equal to \\[sequence_length\\]"):
        ops.stft(np.ones(64, "float32"), 16, 4, 16, window=np.ones(8))


def test_stft_matches_kerass_example():
    real, imag = ops.stft(ops.convert_to_tensor([0.0, 1.0, 2.0, 3.0, 4.0]), 3, 2, 3)
    np.testing.assert_allclose(real.numpy(), [[0.75, -0.375], [3.75, -1.875], [5.25, -2.625]], rtol=1e-6)
    np.testing.assert_allclose(imag.numpy(), [[0.0, 0.64951905], [0.0, 0.64951905], [0.0, -0.64951905]], atol=1e-6)


@pytest.mark.parametrize("sequence_length, window", [(32, "hann"), (24, "hann"), (32, "hamming"), (20, None)])
@pytest.mark.parametrize("center", [True, False])
def test_stft_matches_torch_in_values_and_gradients(sequence_length, window, center):
    # torch.stft centres a window shorter than n_fft in the frame and pads by reflection, as Keras's stft does
    signal = R.standard_normal((2, 200))
    x = tf.Variable(signal)
    with tf.GradientTape() as tape:
        real, imag = ops.stft(x, sequence_length, 8, 32, window=window, center=center)
        loss = ops.sum(ops.sqrt(real * real + imag * imag + 1e-3))
    t = torch.tensor(signal, requires_grad=True)
    if window is None:  # Keras's frames are then all fft_length samples, unwindowed (torch's: win_length of them)
        torch_window, sequence_length = torch.ones(32, dtype=torch.float64), 32
    else:
        make = torch.hann_window if window == "hann" else torch.hamming_window
        torch_window = make(sequence_length, periodic=True, dtype=torch.float64)
    reference = torch.stft(t, n_fft=32, hop_length=8, win_length=sequence_length, window=torch_window,
                           center=center, pad_mode="reflect", return_complex=True).transpose(-1, -2)
    torch.sqrt(reference.real ** 2 + reference.imag ** 2 + 1e-3).sum().backward()
    np.testing.assert_allclose(real.numpy(), reference.real.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(imag.numpy(), reference.imag.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_istft_undoes_stft_as_torchs():
    signal = R.standard_normal((2, 256)).astype(np.float32)
    pair = ops.stft(signal, 32, 8, 32)
    restored = ops.istft(pair, 32, 8, 32, length=256)
    reference = torch.istft(torch.complex(torch.tensor(pair[0].numpy()), torch.tensor(pair[1].numpy())).transpose(
        -1, -2), n_fft=32, hop_length=8, window=torch.hann_window(32), center=True, length=256)
    inner = slice(32, -32)  # where every frame that covers a sample is there (torch divides the ends by less)
    assert restored.shape == reference.shape == (2, 256)
    np.testing.assert_allclose(restored.numpy()[:, inner], reference.numpy()[:, inner], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(restored.numpy()[:, inner], signal[:, inner], atol=1e-5)
    # center=False: the frames start at sample 0; (frames - 1) * stride + fft_length samples come back
    uncentred = ops.istft(ops.stft(signal, 32, 8, 32, center=False), 32, 8, 32, center=False)
    assert uncentred.shape == (2, 28 * 8 + 32)
    np.testing.assert_allclose(uncentred.numpy()[:, inner], signal[:, inner], atol=1e-5)


def _numpy_mel_spectrogram(audio, fft_length, stride, rate, bins, min_freq, max_freq, top_db=80.0):
    """Keras's MelSpectrogram written out in NumPy (its default arguments besides these)."""
    padded = np.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(fft_length // 2, fft_length // 2)], mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, fft_length, axis=-1)[..., ::stride, :]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft_length) / fft_length)
    power = np.abs(np.fft.rfft(frames * window)) ** 2
    mel = 1127.0 * np.log1p(np.linspace(0, rate / 2, fft_length // 2 + 1)[1:] / 700.0)[:, None]
    edges = np.linspace(1127.0 * np.log1p(min_freq / 700.0), 1127.0 * np.log1p(max_freq / 700.0), bins + 2)
    lower = (mel - edges[None, :-2]) / (edges[None, 1:-1] - edges[None, :-2])
    upper = (edges[None, 2:] - mel) / (edges[None, 2:] - edges[None, 1:-1])
    matrix = np.pad(np.maximum(0, np.minimum(lower, upper)), ((1, 0), (0, 0)))
    db = 10 * np.log10(np.maximum(power @ matrix, 1e-10))
    return np.swapaxes(np.maximum(db, db.max() - top_db), -1, -2)


def test_mel_spectrogram_layer():
    audio = R.uniform(-1, 1, (2, 4000)).astype(np.float32)
    layer = keras.layers.MelSpectrogram(num_mel_bins=40, sampling_rate=8000, sequence_stride=128, fft_length=512)
    out = layer(audio)
    assert out.shape == (2, 40, 32) == layer.compute_output_shape((2, 4000)) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), _numpy_mel_spectrogram(audio.astype(np.float64), 512, 128, 8000, 40,
                                                                   20.0, 4000), rtol=1e-3, atol=1e-3)
    assert layer(audio[0]).shape == (40, 32)
    config = layer.get_config()
    assert config["num_mel_bins"] == 40 and config["max_freq"] == 4000 and config["sequence_length"] == 512
    assert keras.layers.MelSpectrogram.from_config(config)(audio).shape == (2, 40, 32)
    with pytest.raises(ValueError, match="`fft_length` must be greater than or equal to"):
        keras.layers.MelSpectrogram(fft_length=256, sequence_length=512)


def test_stft_spectrogram_layer_matches_the_stft_and_trains():
    audio = R.standard_normal((2, 300, 1)).astype(np.float32)
    layer = keras.layers.STFTSpectrogram(mode="magnitude", frame_length=64, frame_step=16)
    out = layer(audio)
    assert out.shape == (2, 15, 33) == layer.compute_output_shape((2, 300, 1))
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(64) / 63)  # symmetric (periodic=False), as Keras's default
    frames = np.lib.stride_tricks.sliding_window_view(audio[..., 0], 64, axis=-1)[:, ::16]
    expected = np.abs(np.fft.rfft(frames * window)) / np.sqrt((window ** 2).sum())  # 'density' scaling
    np.testing.assert_allclose(out.numpy(), np.maximum(expected, np.sqrt(1e-7)), rtol=1e-4, atol=1e-4)
    both = keras.layers.STFTSpectrogram(mode="stft", frame_length=64, frame_step=16, expand_dims=True)(
        np.repeat(audio, 2, axis=-1))
    assert both.shape == (2, 15, 66, 2)
    first = keras.layers.STFTSpectrogram(mode="log", frame_length=64, frame_step=16, padding="same",
                                         data_format="channels_first")
    assert first(np.swapaxes(audio, 1, 2)).shape == (2, 33, 19) == first.compute_output_shape((2, 1, 300))
    # the kernels are weights the gradient reaches
    model = keras.Sequential([keras.Input((300, 1)), keras.layers.STFTSpectrogram(mode="log", frame_length=64),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = model.layers[0].real_kernel.numpy()
    model.fit(audio, np.ones((2, 1), "float32"), epochs=1, verbose=0)
    assert not np.allclose(before, model.layers[0].real_kernel.numpy())
    assert keras.layers.STFTSpectrogram.from_config(layer.get_config()).mode == "magnitude"
    with pytest.raises(ValueError, match="Output mode is invalid, it must be one of log, magnitude"):
        keras.layers.STFTSpectrogram(mode="power")


def test_stft_initializer_is_kerass():
    init = keras.initializers.get("stft")
    assert isinstance(init, keras.initializers.STFT) and keras.initializers.STFTInitializer is keras.initializers.STFT
    kernel = keras.initializers.STFT("imag", window="hamming", scaling="spectrum", periodic=True)((8, 1, 5))
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(8) / 8)
    t, k = np.arange(8)[:, None], np.arange(5)[None, :]
    np.testing.assert_allclose(kernel[:, 0, :], np.sin(-2 * np.pi * t * k / 8) * window[:, None] / window.sum(),
                               rtol=1e-6, atol=1e-7)
    config = keras.initializers.serialize(keras.initializers.STFT("real", window="boxcar", scaling=None))
    assert keras.initializers.deserialize(config).get_config()["window"] == "boxcar"
    with pytest.raises(ValueError, match="Unknown window type 'kaiser'"):
        keras.initializers.STFT(window="kaiser")
    with pytest.raises(ValueError, match="side should be 'real' or 'imag', not both"):
        keras.initializers.STFT(side="both")
