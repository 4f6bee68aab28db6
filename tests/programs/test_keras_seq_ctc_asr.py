"""keras-io example "Automatic Speech Recognition using CTC" (DeepSpeech2-like: Conv2D + Bidirectional GRU + CTC),
run on chainrule.

Source: https://keras.io/examples/audio/ctc_asr/ (keras-team/keras-io, examples/audio/ctc_asr.py).

The example reads LJSpeech wav files with `tf.io.read_file` + `tf.audio.decode_wav` and makes spectrograms with
`tf.signal.stft` inside `tf.data.Dataset.map`. test_ctc_asr_program runs its `encode_single_sample` on one file and
checks the spectrogram against NumPy's; test_ctc_asr_model runs the example as written -- reading the wav files,
the spectrograms (tf.signal.stft, abs, pow 0.5, normalisation), the vocabulary's StringLookup
pair, the example's `CTCLoss` (keras.backend.ctc_batch_cost), `build_model` (Reshape, Conv2D,
BatchNormalization, ReLU, Bidirectional GRU(reset_after=True), Dense), fit with the word-error-rate callback,
and `decode_batch_predictions` (keras.backend.ctc_decode + tf.strings.reduce_join) -- except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` /
  `from tensorflow.keras import layers` -> `from chainrule import keras` / `from chainrule.keras import layers`;
- LJSpeech (a 2.6 GB download) is replaced by 24 wav files of synthetic tones, one tone per transcription, and
  pandas' metadata table by a list of (file name, transcription) rows;
- jiwer's `wer` (not installed) is a word-level edit distance written here;
- smaller: rnn_layers=2 (5), rnn_units=16 (512), Conv2D filters 8 (32), batch_size=4 (32), 2 epochs (1), the
  evaluation callback once per epoch on the validation set as written;
- lines marked `# test:` check what the program produces.
"""

import wave

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

WORDS = ["a cat", "the dog", "hi", "yes no"]


def spectrogram_of(audio, frame_length=256, frame_step=160, fft_length=384):
    """test: what the example's tf.signal.stft + abs + pow 0.5 + normalisation compute, in NumPy (frames of 256
    samples every 160, a periodic Hann window, |rFFT| of 384 points, square root, normalised per frame)."""
    frames = np.lib.stride_tricks.sliding_window_view(audio, frame_length)[::frame_step]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_length) / frame_length)  # periodic Hann, as TF's
    spectrogram = np.abs(np.fft.rfft(frames * window, n=fft_length)) ** 0.5
    means = spectrogram.mean(axis=1, keepdims=True)
    stddevs = spectrogram.std(axis=1, keepdims=True)
    return ((spectrogram - means) / (stddevs + 1e-10)).astype("float32")


def write_ljspeech_like(data_path, rows):
    """test: stands in for LJSpeech-1.1: wavs/<name>.wav, 16-bit PCM written by Python's wave module (a word's tone
    plus noise, 0.4 to 0.42 s at 16 kHz), and the (file name, transcription) rows of metadata.csv."""
    rng = np.random.default_rng(0)
    (data_path / "wavs").mkdir(parents=True)
    metadata = []
    for k, (word, text) in enumerate(rows):
        n = 6400 + 160 * int(rng.integers(0, 3))
        t = np.arange(n) / 16000
        audio = 0.5 * np.sin(2 * np.pi * 300 * (word + 1) * t) + 0.05 * rng.normal(size=n)
        with wave.open(str(data_path / "wavs" / f"LJ{k:03d}.wav"), "wb") as file:
            file.setnchannels(1)
            file.setsampwidth(2)
            file.setframerate(16000)
            file.writeframes(np.round(audio * 32767).astype("<i2").tobytes())
        metadata.append((f"LJ{k:03d}", text))
    return metadata


def wer(targets, predictions):
    """test: jiwer.wer -- the word edit distance summed over the pairs, over the number of target words."""
    errors = words = 0
    for target, prediction in zip(targets, predictions):
        t, p = target.split(), prediction.split()
        d = np.arange(len(p) + 1)
        for i, tw in enumerate(t, 1):
            previous, d[0] = d.copy(), i
            for j, pw in enumerate(p, 1):
                d[j] = min(previous[j] + 1, d[j - 1] + 1, previous[j - 1] + (tw != pw))
        errors, words = errors + d[-1], words + len(t)
    return errors / words


def test_ctc_asr_program(tmp_path):
    wavs_path = str(tmp_path / "LJSpeech-1.1") + "/wavs/"
    metadata = write_ljspeech_like(tmp_path / "LJSpeech-1.1", [(0, "a cat")])
    frame_length, frame_step, fft_length = 256, 160, 384
    wav_file = metadata[0][0]
    # the example's encode_single_sample, steps 1 to 6
    file = tf.io.read_file(wavs_path + wav_file + ".wav")
    audio, _ = tf.audio.decode_wav(file)
    audio = tf.squeeze(audio, axis=-1)
    audio = tf.cast(audio, tf.float32)
    assert tuple(audio.shape) in ((6400,), (6560,), (6720,))  # test: tf.audio reads the file
    spectrogram = tf.signal.stft(audio, frame_length=frame_length, frame_step=frame_step, fft_length=fft_length)
    spectrogram = tf.abs(spectrogram)
    spectrogram = tf.math.pow(spectrogram, 0.5)
    means = tf.math.reduce_mean(spectrogram, 1, keepdims=True)
    stddevs = tf.math.reduce_std(spectrogram, 1, keepdims=True)
    spectrogram = (spectrogram - means) / (stddevs + 1e-10)
    # test: (frames, fft_length // 2 + 1) float32 values, as NumPy computes them
    frames = 1 + (audio.shape[0] - frame_length) // frame_step
    assert spectrogram.shape == (frames, fft_length // 2 + 1) and spectrogram.dtype == tf.float32
    np.testing.assert_allclose(spectrogram.numpy(), spectrogram_of(audio.numpy()), rtol=1e-3, atol=1e-3)


def test_ctc_asr_model(tmp_path, capsys):
    data_path = str(tmp_path / "LJSpeech-1.1")  # test: keras.utils.get_file("LJSpeech-1.1", data_url, untar=True)
    wavs_path = data_path + "/wavs/"
    # test: metadata_df[["file_name", "normalized_transcription"]], shuffled
    metadata = write_ljspeech_like(tmp_path / "LJSpeech-1.1", [(i % 4, WORDS[i % 4]) for i in range(24)])
    split = int(len(metadata) * 0.90)
    df_train = metadata[:split]
    df_val = metadata[split:]

    print(f"Size of the training set: {len(df_train)}")
    print(f"Size of the training set: {len(df_val)}")

    # The set of characters accepted in the transcription.
    characters = [x for x in "abcdefghijklmnopqrstuvwxyz'?! "]
    # Mapping characters to integers
    char_to_num = keras.layers.StringLookup(vocabulary=characters, oov_token="")
    # Mapping integers back to original characters
    num_to_char = keras.layers.StringLookup(vocabulary=char_to_num.get_vocabulary(), oov_token="", invert=True)

    print(
        f"The vocabulary is: {char_to_num.get_vocabulary()} "
        f"(size ={char_to_num.vocabulary_size()})"
    )
    assert char_to_num.vocabulary_size() == 31  # test: '' (the OOV token) and the 30 characters

    # An integer scalar Tensor. The window length in samples.
    frame_length = 256
    # An integer scalar Tensor. The number of samples to step.
    frame_step = 160
    # An integer scalar Tensor. The size of the FFT to apply.
    # If not provided, uses the smallest power of 2 enclosing frame_length.
    fft_length = 384

    def encode_single_sample(wav_file, label):
        # 1. Read wav file
        file = tf.io.read_file(wavs_path + wav_file + ".wav")
        # 2. Decode the wav file
        audio, _ = tf.audio.decode_wav(file)
        audio = tf.squeeze(audio, axis=-1)
        # 3. Change type to float
        audio = tf.cast(audio, tf.float32)
        # 4. Get the spectrogram
        spectrogram = tf.signal.stft(
            audio, frame_length=frame_length, frame_step=frame_step, fft_length=fft_length
        )
        # 5. We only need the magnitude, which can be derived by applying tf.abs
        spectrogram = tf.abs(spectrogram)
        spectrogram = tf.math.pow(spectrogram, 0.5)
        # 6. normalisation
        means = tf.math.reduce_mean(spectrogram, 1, keepdims=True)
        stddevs = tf.math.reduce_std(spectrogram, 1, keepdims=True)
        spectrogram = (spectrogram - means) / (stddevs + 1e-10)
        label = tf.strings.lower(label)
        label = tf.strings.unicode_split(label, input_encoding="UTF-8")
        label = char_to_num(label)
        return spectrogram, label

    batch_size = 4
    # Define the trainig dataset
    train_dataset = tf.data.Dataset.from_tensor_slices(
        ([name for name, _ in df_train], [text for _, text in df_train])
    )
    train_dataset = (
        train_dataset.map(encode_single_sample, num_parallel_calls=tf.data.AUTOTUNE)
        .padded_batch(batch_size)
        .prefetch(buffer_size=tf.data.AUTOTUNE)
    )

    # Define the validation dataset
    validation_dataset = tf.data.Dataset.from_tensor_slices(
        ([name for name, _ in df_val], [text for _, text in df_val])
    )
    validation_dataset = (
        validation_dataset.map(encode_single_sample, num_parallel_calls=tf.data.AUTOTUNE)
        .padded_batch(batch_size)
        .prefetch(buffer_size=tf.data.AUTOTUNE)
    )

    def CTCLoss(y_true, y_pred):
        # Compute the training-time loss value
        batch_len = tf.cast(tf.shape(y_true)[0], dtype="int64")
        input_length = tf.cast(tf.shape(y_pred)[1], dtype="int64")
        label_length = tf.cast(tf.shape(y_true)[1], dtype="int64")

        input_length = input_length * tf.ones(shape=(batch_len, 1), dtype="int64")
        label_length = label_length * tf.ones(shape=(batch_len, 1), dtype="int64")

        loss = keras.backend.ctc_batch_cost(y_true, y_pred, input_length, label_length)
        return loss

    def build_model(input_dim, output_dim, rnn_layers=5, rnn_units=128):
        """Model similar to DeepSpeech2."""
        # Model's input
        input_spectrogram = layers.Input((None, input_dim), name="input")
        # Expand the dimension to use 2D CNN.
        x = layers.Reshape((-1, input_dim, 1), name="expand_dim")(input_spectrogram)
        # Convolution layer 1
        x = layers.Conv2D(
            filters=8,
            kernel_size=[11, 41],
            strides=[2, 2],
            padding="same",
            use_bias=False,
            name="conv_1",
        )(x)
        x = layers.BatchNormalization(name="conv_1_bn")(x)
        x = layers.ReLU(name="conv_1_relu")(x)
        # Convolution layer 2
        x = layers.Conv2D(
            filters=8,
            kernel_size=[11, 21],
            strides=[1, 2],
            padding="same",
            use_bias=False,
            name="conv_2",
        )(x)
        x = layers.BatchNormalization(name="conv_2_bn")(x)
        x = layers.ReLU(name="conv_2_relu")(x)
        # Reshape the resulted volume to feed the RNNs layers
        x = layers.Reshape((-1, x.shape[-2] * x.shape[-1]))(x)
        # RNN layers
        for i in range(1, rnn_layers + 1):
            recurrent = layers.GRU(
                units=rnn_units,
                activation="tanh",
                recurrent_activation="sigmoid",
                use_bias=True,
                return_sequences=True,
                reset_after=True,
                name=f"gru_{i}",
            )
            x = layers.Bidirectional(recurrent, name=f"bidirectional_{i}", merge_mode="concat")(x)
            if i < rnn_layers:
                x = layers.Dropout(rate=0.5)(x)
        # Dense layer
        x = layers.Dense(units=rnn_units * 2, name="dense_1")(x)
        x = layers.ReLU(name="dense_1_relu")(x)
        x = layers.Dropout(rate=0.5)(x)
        # Classification layer
        output = layers.Dense(units=output_dim + 1, activation="softmax")(x)
        # Model
        model = keras.Model(input_spectrogram, output, name="DeepSpeech_2")
        # Optimizer
        opt = keras.optimizers.Adam(learning_rate=1e-3)  # test: 1e-4 in the example, 1e-3 to move in 2 epochs
        # Compile the model and return
        model.compile(optimizer=opt, loss=CTCLoss)
        return model

    model = build_model(
        input_dim=fft_length // 2 + 1,
        output_dim=char_to_num.vocabulary_size(),
        rnn_layers=2,
        rnn_units=16,
    )
    model.summary(line_length=110)
    assert model.output_shape == (None, None, 32)  # test: 31 symbols and the blank

    def decode_batch_predictions(pred):
        input_len = np.ones(pred.shape[0]) * pred.shape[1]
        # Use greedy search. For complex tasks, you can use beam search
        results = keras.backend.ctc_decode(pred, input_length=input_len, greedy=True)[0][0]
        # Iterate over the results and get back the text
        output_text = []
        for result in results:
            result = tf.strings.reduce_join(num_to_char(result)).numpy().decode("utf-8")
            output_text.append(result)
        return output_text

    class CallbackEval(keras.callbacks.Callback):
        """Displays a batch of outputs after every epoch."""

        def __init__(self, dataset):
            super().__init__()
            self.dataset = dataset

        def on_epoch_end(self, epoch: int, logs=None):
            predictions = []
            targets = []
            for batch in self.dataset:
                X, y = batch
                batch_predictions = model.predict(X)
                batch_predictions = decode_batch_predictions(batch_predictions)
                predictions.extend(batch_predictions)
                for label in y:
                    label = tf.strings.reduce_join(num_to_char(label)).numpy().decode("utf-8")
                    targets.append(label)
            wer_score = wer(targets, predictions)
            print("-" * 100)
            print(f"Word Error Rate: {wer_score:.4f}")
            print("-" * 100)
            for i in np.random.randint(0, len(predictions), 2):
                print(f"Target    : {targets[i]}")
                print(f"Prediction: {predictions[i]}")
                print("-" * 100)

    epochs = 2
    validation_callback = CallbackEval(validation_dataset)
    history = model.fit(
        train_dataset,
        validation_data=validation_dataset,
        epochs=epochs,
        callbacks=[validation_callback],
    )
    # test: the CTC loss is finite and falls, the callback decoded text each epoch
    assert set(history.history) == {"loss", "val_loss"}
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][1] < history.history["loss"][0]
    out = capsys.readouterr().out
    assert out.count("Word Error Rate:") == 2 and "Target    : " in out
    # test: what the validation labels decode to, and predictions made of the vocabulary
    X, y = next(iter(validation_dataset))
    texts = [tf.strings.reduce_join(num_to_char(label)).numpy().decode("utf-8") for label in y]
    assert texts == [WORDS[i % 4] for i in range(split, len(metadata))][: len(texts)]
    predictions = decode_batch_predictions(model.predict(X))
    assert len(predictions) == len(texts) and all(set(p) <= set(characters) for p in predictions)


def test_tf_audio_reads_and_writes_16_bit_pcm(tmp_path):
    # test: a stereo file from Python's wave module: samples over 32768, (samples, channels), the rate
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(2)
        file.setframerate(22050)
        file.writeframes(np.array([[1, -2], [32767, -32768], [100, 0]], "<i2").tobytes())
    audio, rate = tf.audio.decode_wav(tf.io.read_file(str(path)))
    np.testing.assert_array_equal(audio.numpy() * 32768, [[1, -2], [32767, -32768], [100, 0]])
    assert audio.dtype == np.float32 and int(rate) == 22050
    # test: TensorFlow's desired_channels (the last channel repeated) and desired_samples (zeros after the end)
    audio, _ = tf.audio.decode_wav(path.read_bytes(), desired_channels=3, desired_samples=4)
    np.testing.assert_array_equal(audio.numpy() * 32768, [[1, -2, -2], [32767, -32768, -32768], [100, 0, 0], [0] * 3])
    audio, _ = tf.audio.decode_wav(path.read_bytes(), desired_channels=1, desired_samples=2)
    np.testing.assert_array_equal(audio.numpy() * 32768, [[1], [32767]])
    # test: encode_wav writes what the wave module reads back
    contents = tf.audio.encode_wav(np.array([[0.25, -0.25], [2.0, -1.0]], "float32"), 8000)
    (tmp_path / "out.wav").write_bytes(contents.numpy())
    with wave.open(str(tmp_path / "out.wav")) as file:
        assert (file.getnchannels(), file.getframerate(), file.getsampwidth()) == (2, 8000, 2)
        np.testing.assert_array_equal(np.frombuffer(file.readframes(2), "<i2"), [8192, -8192, 32767, -32768])
    # test: only 16-bit PCM, as TensorFlow reads
    with wave.open(str(tmp_path / "8bit.wav"), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(1)
        file.setframerate(8000)
        file.writeframes(b"\x80\x81")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Can only read 16-bit WAV files, but received 8"):
        tf.audio.decode_wav(tf.io.read_file(str(tmp_path / "8bit.wav")))


def test_ragged_constant_of_label_arrays():
    # test: labels of different lengths as NumPy arrays (what a vectorized transcription gives), as TensorFlow nests
    labels = tf.ragged.constant([np.array([3, 1, 20]), np.array([8, 9])])
    assert labels.to_list() == [[3, 1, 20], [8, 9]] and labels.ragged_rank == 1
    grid = tf.ragged.constant([np.ones((2, 3)), np.zeros((1, 3))], ragged_rank=1)
    assert grid.to_list() == [[[1.0] * 3] * 2, [[0.0] * 3]]
