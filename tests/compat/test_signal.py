"""tf.signal (chainrule/compat/tf/signal.py) and complex tensors under TensorFlow's names: the transforms against
NumPy, the STFT against torch.stft (values and gradients) and an explicit NumPy STFT, frames, overlap-add, windows,
the inverse STFT's reconstruction, the mel matrix, the DCT against SciPy's definitions, and a model that trains
through tf.signal.stft."""
import numpy as np
import pytest
import torch

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients

R = np.random.default_rng(0)


def numpy_stft(signal, frame_length, frame_step, fft_length, window):
    """TensorFlow's STFT written out: frames from the start, each windowed, its rfft of fft_length points."""
    frames = np.lib.stride_tricks.sliding_window_view(signal, frame_length, axis=-1)[..., ::frame_step, :]
    return np.fft.rfft(frames * window, n=fft_length)


# --- complex tensors ------------------------------------------------------------------------------------------------
def test_complex_tensors_under_tensorflows_names():
    z = tf.constant([1 + 2j, -3j])
    assert z.dtype == tf.complex128 and tf.constant(np.array([1j], np.complex64)).dtype == tf.complex64
    w = tf.complex(tf.constant([1.0, 2.0]), tf.constant([3.0, -1.0]))
    assert w.dtype == tf.complex64 and "1.+3.j" in repr(w)
    np.testing.assert_array_equal(tf.math.real(w).numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(tf.math.imag(w).numpy(), [3.0, -1.0])
    np.testing.assert_array_equal(tf.math.conj(w).numpy(), np.array([1 - 3j, 2 + 1j], np.complex64))
    np.testing.assert_allclose(tf.math.angle(w).numpy(), np.angle([1 + 3j, 2 - 1j]), rtol=1e-6)
    magnitude = tf.abs(w)
    assert magnitude.dtype == tf.float32
    np.testing.assert_allclose(magnitude.numpy(), [np.sqrt(10), np.sqrt(5)], rtol=1e-6)
    # tf.cast: complex -> real drops the imaginary part; real -> complex has none
    np.testing.assert_array_equal(tf.cast(w, tf.float32).numpy(), [1.0, 2.0])
    assert tf.cast(tf.constant([1.5]), tf.complex64).numpy().tolist() == [1.5 + 0j]
    # arithmetic keeps complex64 (Python numbers adapt, as in TensorFlow)
    for value, expected in [(w + w, [2 + 6j, 4 - 2j]), (w * w, [-8 + 6j, 3 - 4j]), (w / (1 + 1j), [2 + 1j, 0.5 - 1.5j]),
                            (w - 1, [3j, 1 - 1j]), (w * 2.0, [2 + 6j, 4 - 2j])]:
        assert value.dtype == tf.complex64
        np.testing.assert_allclose(value.numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(tf.math.real(tf.constant([1.5])).numpy(), [1.5])  # a real tensor: itself
    np.testing.assert_array_equal(tf.math.angle(tf.constant([-2.0, 3.0])).numpy(), np.float32([np.pi, 0.0]))


# --- transforms -----------------------------------------------------------------------------------------------------
def test_transforms_match_numpy():
    z = (R.standard_normal((2, 4, 6)) + 1j * R.standard_normal((2, 4, 6))).astype(np.complex64)
    x = R.standard_normal((2, 4, 6)).astype(np.float32)
    close = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tf.signal.fft(z).numpy(), np.fft.fft(z), **close)
    np.testing.assert_allclose(tf.signal.ifft(z).numpy(), np.fft.ifft(z), **close)
    np.testing.assert_allclose(tf.signal.fft2d(z).numpy(), np.fft.fft2(z), **close)
    np.testing.assert_allclose(tf.signal.ifft2d(z).numpy(), np.fft.ifft2(z), **close)
    np.testing.assert_allclose(tf.signal.fft3d(z).numpy(), np.fft.fftn(z), **close)
    np.testing.assert_allclose(tf.signal.ifft3d(z).numpy(), np.fft.ifftn(z), **close)
    np.testing.assert_allclose(tf.signal.rfft(x).numpy(), np.fft.rfft(x), **close)
    np.testing.assert_allclose(tf.signal.rfft(x, fft_length=[10]).numpy(), np.fft.rfft(x, n=10), **close)
    np.testing.assert_allclose(tf.signal.rfft2d(x, fft_length=[3, 8]).numpy(), np.fft.rfft2(x, s=(3, 8)), **close)
    np.testing.assert_allclose(tf.signal.rfft3d(x).numpy(), np.fft.rfftn(x), **close)
    spectrum = tf.signal.rfft(x)
    assert spectrum.dtype == tf.complex64 and spectrum.shape == (2, 4, 4)
    np.testing.assert_allclose(tf.signal.irfft(spectrum, fft_length=[6]).numpy(), x, **close)
    assert tf.signal.irfft(spectrum).shape == (2, 4, 6)  # default: 2 * (4 - 1)
    np.testing.assert_allclose(tf.signal.irfft2d(tf.signal.rfft2d(x)).numpy(), x, **close)
    np.testing.assert_allclose(tf.signal.irfft3d(tf.signal.rfft3d(x), fft_length=[2, 4, 6]).numpy(), x, **close)
    assert tf.signal.fft(z).dtype == tf.complex64 and tf.signal.rfft(x.astype(np.float64)).dtype == tf.complex128
    for axes in (None, 1, (0, 2)):
        np.testing.assert_array_equal(tf.signal.fftshift(x, axes=axes).numpy(), np.fft.fftshift(x, axes=axes))
        np.testing.assert_array_equal(tf.signal.ifftshift(x, axes=axes).numpy(), np.fft.ifftshift(x, axes=axes))


def test_transform_errors_name_the_argument():
    with pytest.raises(TypeError, match="fft2d: `input` must be complex64 or complex128, got float32"):
        tf.signal.fft2d(tf.ones((2, 2)))
    with pytest.raises(ValueError, match="fft3d: `input` must have at least 3 dimensions"):
        tf.signal.fft3d(tf.complex(tf.ones((2, 2)), tf.ones((2, 2))))
    with pytest.raises(ValueError, match="with 2 elements for `fft_length`"):
        tf.signal.rfft2d(tf.ones((2, 2)), fft_length=[4])
    with pytest.raises(TypeError, match="complex: `real` and `imag` must have the same dtype"):
        tf.complex(tf.ones(2), tf.ones(2, dtype=tf.float64))
    with pytest.raises(TypeError, match="complex: `real` must be float32 or float64, got int32"):
        tf.complex(tf.constant([1]), tf.constant([1]))


# --- frames, windows, STFT ------------------------------------------------------------------------------------------
def test_frame_and_overlap_and_add():
    x = R.standard_normal((3, 11)).astype(np.float32)
    frames = tf.signal.frame(x, 4, 3)
    np.testing.assert_array_equal(frames.numpy(), np.lib.stride_tricks.sliding_window_view(x, 4, axis=1)[:, ::3])
    padded = tf.signal.frame(x, 4, 3, pad_end=True, pad_value=-1.0)
    assert padded.shape == (3, 4, 4)  # ceil(11 / 3) frames
    np.testing.assert_array_equal(padded.numpy()[:, -1], np.concatenate([x[:, 9:], -np.ones((3, 2))], axis=1))
    along_0 = tf.signal.frame(x, 2, 1, axis=0)
    assert along_0.shape == (2, 2, 11)
    np.testing.assert_array_equal(along_0.numpy()[1], x[1:3])
    assert tf.signal.frame(np.zeros(3), 5, 2).shape == (0, 5)  # shorter than a frame, no pad_end: no frames
    pieces = R.standard_normal((2, 5, 7))
    expected = np.zeros((2, 4 * 3 + 7))
    for i in range(5):
        expected[:, 3 * i:3 * i + 7] += pieces[:, i]
    np.testing.assert_allclose(tf.signal.overlap_and_add(pieces, 3).numpy(), expected)
    check_gradients(lambda t: tf.signal.overlap_and_add(t, 3), pieces)
    check_gradients(lambda t: tf.signal.frame(t, 4, 3, pad_end=True), R.standard_normal((2, 10)))
    with pytest.raises(ValueError, match="Shape must be at least rank 2 but is rank 1 for `signal`"):
        tf.signal.overlap_and_add(tf.ones(4), 2)


@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(periodic):
    for length in (1, 2, 7, 16):
        np.testing.assert_allclose(tf.signal.hann_window(length, periodic=periodic).numpy(),
                                   torch.hann_window(length, periodic=periodic).numpy(), atol=1e-6)
        np.testing.assert_allclose(tf.signal.hamming_window(length, periodic=periodic, dtype=tf.float64).numpy(),
                                   torch.hamming_window(length, periodic=periodic, dtype=torch.float64).numpy())
    assert tf.signal.hann_window(4).dtype == tf.float32
    with pytest.raises(ValueError, match="dtype must be a floating point type"):
        tf.signal.hann_window(4, dtype=tf.int32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_stft_matches_torch_in_values_and_gradients(dtype):
    # equal frame and FFT lengths: torch.stft(center=False) frames as TensorFlow does
    signal = R.standard_normal((2, 300)).astype(dtype)
    ours = tf.Variable(signal)
    with tf.GradientTape() as tape:
        stft = tf.signal.stft(ours, frame_length=64, frame_step=32, fft_length=64)
        loss = tf.reduce_sum(tf.abs(stft) ** 1.5)
    theirs = torch.tensor(signal, requires_grad=True)
    reference = torch.stft(theirs, n_fft=64, hop_length=32, window=torch.hann_window(64, dtype=theirs.dtype),
                           center=False, return_complex=True).transpose(-1, -2)
    (reference.abs() ** 1.5).sum().backward()
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-3)
    assert stft.shape == (2, 8, 33) and stft.dtype == (tf.complex128 if dtype == np.float64 else tf.complex64)
    np.testing.assert_allclose(stft.numpy(), reference.detach().numpy(), **tol)
    np.testing.assert_allclose(tape.gradient(loss, ours).numpy(), theirs.grad.numpy(), **tol)


def test_stft_of_the_audio_tutorial_shape_and_values():
    # frame_length 255 with the default fft_length 256: each frame padded at its end, as TensorFlow's rfft does
    waveform = R.standard_normal(16000).astype(np.float32)
    spectrogram = tf.abs(tf.signal.stft(waveform, frame_length=255, frame_step=128))
    assert spectrogram.shape == (124, 129) and spectrogram.dtype == tf.float32
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(255) / 255)
    np.testing.assert_allclose(spectrogram.numpy(), np.abs(numpy_stft(waveform, 255, 128, 256, window)),
                               rtol=1e-4, atol=1e-4)
    no_window = tf.signal.stft(waveform[:600], 100, 50, fft_length=128, window_fn=None, pad_end=True)
    assert no_window.shape == (12, 65)
    np.testing.assert_allclose(no_window.numpy()[0], np.fft.rfft(waveform[:100], 128), rtol=1e-4, atol=1e-4)


def test_stft_gradient_matches_finite_differences():
    check_gradients(lambda x: tf.abs(tf.signal.stft(x, 8, 4, fft_length=12)), R.standard_normal((2, 24)))
    check_gradients(lambda x: tf.signal.inverse_stft(tf.signal.stft(x, 8, 4) * (1 + 0.5j), 8, 4),
                    R.standard_normal(20))


def test_inverse_stft_reconstructs_the_signal():
    signal = R.standard_normal((2, 1000)).astype(np.float32)
    frame_length, frame_step = 400, 160
    for window_fn in (tf.signal.hann_window, tf.signal.hamming_window):
        stft = tf.signal.stft(signal, frame_length, frame_step, window_fn=window_fn)
        restored = tf.signal.inverse_stft(stft, frame_length, frame_step, window_fn=tf.signal.inverse_stft_window_fn(
            frame_step, forward_window_fn=window_fn))
        assert restored.shape == (2, 3 * 160 + 400)  # 4 frames
        # the samples that all their overlapping frames cover come back
        np.testing.assert_allclose(restored.numpy()[:, 400:640], signal[:, 400:640], rtol=1e-4, atol=1e-4)
    window = tf.signal.inverse_stft_window_fn(160)(400, dtype=tf.float32).numpy()
    hann = np.float32(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400))
    overlap = sum(np.pad(hann ** 2, (0, 80))[i * 160:(i + 1) * 160] for i in range(3))
    np.testing.assert_allclose(window, hann / np.tile(overlap, 3)[:400], rtol=1e-6)


# --- mel, MFCC, DCT -------------------------------------------------------------------------------------------------
def test_linear_to_mel_weight_matrix():
    matrix = tf.signal.linear_to_mel_weight_matrix(num_mel_bins=8, num_spectrogram_bins=65, sample_rate=16000,
                                                   lower_edge_hertz=80.0, upper_edge_hertz=7600.0).numpy()
    assert matrix.shape == (65, 8) and matrix.dtype == np.float32
    mel = lambda f: 1127.0 * np.log(1.0 + f / 700.0)  # noqa: E731
    edges = np.linspace(mel(80.0), mel(7600.0), 10)
    for k in range(1, 65):
        m = mel(k * 8000.0 / 64)
        for band in range(8):
            lower, center, upper = edges[band:band + 3]
            expected = max(0.0, min((m - lower) / (center - lower), (upper - m) / (upper - center)))
            assert matrix[k, band] == pytest.approx(expected, abs=1e-6)
    assert not matrix[0].any()  # the DC bin carries no weight (the HTK's rule)
    assert tf.signal.linear_to_mel_weight_matrix().shape == (129, 20)
    with pytest.raises(ValueError, match="upper_edge_hertz must not be larger than the Nyquist frequency"):
        tf.signal.linear_to_mel_weight_matrix(upper_edge_hertz=5000.0)
    with pytest.raises(ValueError, match="lower_edge_hertz 300.0 >= upper_edge_hertz 200.0"):
        tf.signal.linear_to_mel_weight_matrix(lower_edge_hertz=300.0, upper_edge_hertz=200.0)
    with pytest.raises(ValueError, match="num_mel_bins must be positive. Got: 0"):
        tf.signal.linear_to_mel_weight_matrix(num_mel_bins=0)


def _scipy_dct(x, dct_type, norm):
    """SciPy's fftpack.dct definitions, written out."""
    n = x.shape[-1]
    i = np.arange(n)
    out = np.empty_like(x)
    for k in range(n):
        if dct_type == 1:
            out[..., k] = x[..., 0] + (-1) ** k * x[..., -1] + 2 * (x[..., 1:-1] * np.cos(np.pi * k * i[1:-1] / (n - 1))).sum(-1)
        elif dct_type == 2:
            out[..., k] = 2 * (x * np.cos(np.pi * k * (2 * i + 1) / (2 * n))).sum(-1)
            if norm == "ortho":
                out[..., k] *= np.sqrt(1 / (4 * n)) if k == 0 else np.sqrt(1 / (2 * n))
        elif dct_type == 3:
            terms = x[..., 1:] * np.cos(np.pi * i[1:] * (2 * k + 1) / (2 * n))
            out[..., k] = (x[..., 0] / np.sqrt(n) + np.sqrt(2 / n) * terms.sum(-1) if norm == "ortho"
                           else x[..., 0] + 2 * terms.sum(-1))
        else:
            out[..., k] = 2 * (x * np.cos(np.pi * (2 * i + 1) * (2 * k + 1) / (4 * n))).sum(-1)
            if norm == "ortho":
                out[..., k] *= np.sqrt(1 / (2 * n))
    return out


@pytest.mark.parametrize("dct_type", [1, 2, 3, 4])
@pytest.mark.parametrize("norm", [None, "ortho"])
def test_dct_matches_the_definitions(dct_type, norm):
    if dct_type == 1 and norm == "ortho":
        with pytest.raises(ValueError, match="Normalization is not supported for the Type-I DCT."):
            tf.signal.dct(tf.ones((3, 4)), type=1, norm="ortho")
        return
    x = R.standard_normal((3, 7))
    np.testing.assert_allclose(tf.signal.dct(x, type=dct_type, norm=norm).numpy(), _scipy_dct(x, dct_type, norm),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tf.signal.dct(x, type=dct_type, n=5, norm=norm).numpy(),
                               _scipy_dct(x[:, :5], dct_type, norm), rtol=1e-10, atol=1e-10)
    padded = np.concatenate([x, np.zeros((3, 2))], axis=1)
    np.testing.assert_allclose(tf.signal.dct(x, type=dct_type, n=9, norm=norm).numpy(),
                               _scipy_dct(padded, dct_type, norm), rtol=1e-10, atol=1e-10)
    check_gradients(lambda t: tf.signal.dct(t, type=dct_type, norm=norm), x)


def test_idct_inverts_dct_and_mfccs():
    x = R.standard_normal((2, 6))
    np.testing.assert_allclose(tf.signal.idct(tf.signal.dct(x)).numpy() * 0.5 / 6, x, atol=1e-12)
    np.testing.assert_allclose(tf.signal.idct(tf.signal.dct(x, norm="ortho"), norm="ortho").numpy(), x, atol=1e-12)
    log_mel = R.standard_normal((4, 3, 40)).astype(np.float32)
    mfccs = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)
    assert mfccs.shape == (4, 3, 40) and mfccs.dtype == tf.float32
    np.testing.assert_allclose(mfccs.numpy(), _scipy_dct(log_mel.astype(np.float64), 2, None) / np.sqrt(80),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="Unknown normalization. Expected None or 'ortho', got: l2"):
        tf.signal.dct(x, norm="l2")
    with pytest.raises(NotImplementedError, match="axis must be -1. Got: 0"):
        tf.signal.dct(x, axis=0)


# --- training through the STFT ---------------------------------------------------------------------------------------
def test_a_model_trains_on_log_mel_features_of_its_input():
    # a learned filter in front of the STFT: the gradient flows from the loss through mel, |STFT| and the filter
    rng = np.random.default_rng(1)
    t = np.arange(512) / 8000.0
    tones = np.stack([np.sin(2 * np.pi * f * t) for f in rng.choice([400.0, 2400.0], 16)]).astype(np.float32)
    labels = (tones @ np.sin(2 * np.pi * 2400.0 * t) > 1).astype(np.float32)[:, None]
    gain = tf.Variable(np.full((1, 512), 0.1, np.float32))
    dense = tf.keras.layers.Dense(1)
    mel = tf.signal.linear_to_mel_weight_matrix(16, 65, 8000, 20.0, 4000.0)
    optimizer = tf.keras.optimizers.Adam(0.05)
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            spectrogram = tf.abs(tf.signal.stft(tones * gain, frame_length=128, frame_step=64))
            features = tf.reduce_mean(tf.math.log(tf.tensordot(spectrogram, mel, 1) + 1e-3), axis=1)
            loss = tf.reduce_mean(tf.keras.losses.binary_crossentropy(labels, dense(features), from_logits=True))
        variables = [gain] + dense.trainable_variables
        gradients = tape.gradient(loss, variables)
        assert gradients[0] is not None and np.abs(gradients[0].numpy()).sum() > 0
        optimizer.apply_gradients(zip(gradients, variables))
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
