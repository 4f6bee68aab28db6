"""keras-io example "Character-level recurrent sequence-to-sequence model", run on chainrule.

Source: https://keras.io/examples/nlp/lstm_seq2seq/ (keras-team/keras-io,
examples/nlp/lstm_seq2seq.py, "Last modified: 2023/11/22").

The example's code is kept as written, except:
- the import line: `import keras` -> `from chainrule import keras`;
- the fra-eng.zip download (Anki's English-French pairs, unzipped with `os.system`) is replaced by a
  small `fra.txt` in the same tab-separated format written in the test's temporary folder;
- smaller: latent_dim=32 (256), the 60 pairs written here (num_samples=10000), epochs=3 (100),
  batch_size=16 (64), and 3 decoded sentences (20);
- the model is saved to and loaded from the test's temporary folder;
- lines marked `# test:` check what the program produces.
"""

import os

import numpy as np

from chainrule import keras

ENGLISH = ["go on", "run", "hi there", "stop", "wait", "help me", "hello", "fire", "jump up", "smile"]
FRENCH = ["va", "cours", "salut", "arrete", "attends", "aide", "bonjour", "au feu", "saute", "souris"]


def write_fra_txt(dirpath):
    """test: stands in for fra.txt from fra-eng.zip (English, French, attribution; tab-separated)."""
    rows = []
    for i in range(60):
        eng, fra = ENGLISH[i % 10], FRENCH[i % 10]
        mark = "!" if i % 3 == 0 else "."
        rows.append(f"{eng.capitalize()}{mark}\t{fra.capitalize()}{mark}\tCC-BY 2.0 (France)")
    with open(os.path.join(dirpath, "fra.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def test_lstm_seq2seq(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: s2s_model.keras in a temporary folder
    dirpath = str(tmp_path)  # test: Path(fpath).parent of the download
    write_fra_txt(dirpath)  # test

    batch_size = 16  # Batch size for training.
    epochs = 3  # Number of epochs to train for.
    latent_dim = 32  # Latent dimensionality of the encoding space.
    num_samples = 10000  # Number of samples to train on.
    # Path to the data txt file on disk.
    data_path = os.path.join(dirpath, "fra.txt")

    # Vectorize the data.
    input_texts = []
    target_texts = []
    input_characters = set()
    target_characters = set()
    with open(data_path, "r", encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines[: min(num_samples, len(lines) - 1)]:
        input_text, target_text, _ = line.split("\t")
        # We use "tab" as the "start sequence" character
        # for the targets, and "\n" as "end sequence" character.
        target_text = "\t" + target_text + "\n"
        input_texts.append(input_text)
        target_texts.append(target_text)
        for char in input_text:
            if char not in input_characters:
                input_characters.add(char)
        for char in target_text:
            if char not in target_characters:
                target_characters.add(char)

    input_characters = sorted(list(input_characters))
    target_characters = sorted(list(target_characters))
    num_encoder_tokens = len(input_characters)
    num_decoder_tokens = len(target_characters)
    max_encoder_seq_length = max([len(txt) for txt in input_texts])
    max_decoder_seq_length = max([len(txt) for txt in target_texts])

    print("Number of samples:", len(input_texts))
    print("Number of unique input tokens:", num_encoder_tokens)
    print("Number of unique output tokens:", num_decoder_tokens)
    print("Max sequence length for inputs:", max_encoder_seq_length)
    print("Max sequence length for outputs:", max_decoder_seq_length)

    input_token_index = dict([(char, i) for i, char in enumerate(input_characters)])
    target_token_index = dict([(char, i) for i, char in enumerate(target_characters)])

    encoder_input_data = np.zeros(
        (len(input_texts), max_encoder_seq_length, num_encoder_tokens),
        dtype="float32",
    )
    decoder_input_data = np.zeros(
        (len(input_texts), max_decoder_seq_length, num_decoder_tokens),
        dtype="float32",
    )
    decoder_target_data = np.zeros(
        (len(input_texts), max_decoder_seq_length, num_decoder_tokens),
        dtype="float32",
    )

    for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
        for t, char in enumerate(input_text):
            encoder_input_data[i, t, input_token_index[char]] = 1.0
        encoder_input_data[i, t + 1 :, input_token_index[" "]] = 1.0
        for t, char in enumerate(target_text):
            # decoder_target_data is ahead of decoder_input_data by one timestep
            decoder_input_data[i, t, target_token_index[char]] = 1.0
            if t > 0:
                # decoder_target_data will be ahead by one timestep
                # and will not include the start character.
                decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
        decoder_input_data[i, t + 1 :, target_token_index[" "]] = 1.0
        decoder_target_data[i, t:, target_token_index[" "]] = 1.0

    # Define an input sequence and process it.
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)

    # We discard `encoder_outputs` and only keep the states.
    encoder_states = [state_h, state_c]

    # Set up the decoder, using `encoder_states` as initial state.
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))

    # We set up our decoder to return full output sequences,
    # and to return internal states as well. We don't use the
    # return states in the training model, but we will use them in inference.
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    # Define the model that will turn
    # `encoder_input_data` & `decoder_input_data` into `decoder_target_data`
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        [encoder_input_data, decoder_input_data],
        decoder_target_data,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.2,
    )
    # Save model
    model.save("s2s_model.keras")
    # test: the loss falls and the metrics are Keras's
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    trained = model.predict([encoder_input_data[:4], decoder_input_data[:4]], verbose=0)  # test

    # Define sampling models
    # Restore the model and construct the encoder and decoder.
    model = keras.models.load_model("s2s_model.keras")
    # test: the restored model predicts what the trained one did
    restored = model.predict([encoder_input_data[:4], decoder_input_data[:4]], verbose=0)
    np.testing.assert_allclose(restored, trained, rtol=1e-5, atol=1e-6)

    encoder_inputs = model.input[0]  # input_1
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]  # input_2
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs
    )
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model(
        [decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states
    )

    # Reverse-lookup token index to decode sequences back to
    # something readable.
    reverse_input_char_index = dict((i, char) for char, i in input_token_index.items())
    reverse_target_char_index = dict((i, char) for char, i in target_token_index.items())

    steps = []  # test: the decoder's outputs at each step

    def decode_sequence(input_seq):
        # Encode the input as state vectors.
        states_value = encoder_model.predict(input_seq, verbose=0)

        # Generate empty target sequence of length 1.
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        # Populate the first character of target sequence with the start character.
        target_seq[0, 0, target_token_index["\t"]] = 1.0

        # Sampling loop for a batch of sequences
        # (to simplify, here we assume a batch of size 1).
        stop_condition = False
        decoded_sentence = ""
        while not stop_condition:
            output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
            steps.append((output_tokens.shape, h.shape, c.shape))  # test

            # Sample a token
            sampled_token_index = np.argmax(output_tokens[0, -1, :])
            sampled_char = reverse_target_char_index[sampled_token_index]
            decoded_sentence += sampled_char

            # Exit condition: either hit max length
            # or find stop character.
            if sampled_char == "\n" or len(decoded_sentence) > max_decoder_seq_length:
                stop_condition = True

            # Update the target sequence (of length 1).
            target_seq = np.zeros((1, 1, num_decoder_tokens))
            target_seq[0, 0, sampled_token_index] = 1.0

            # Update states
            states_value = [h, c]
        return decoded_sentence

    # test: the encoder's states are the trained encoder's, and the first step of the
    # inference decoder gives the training model's first output
    states = encoder_model.predict(encoder_input_data[:1], verbose=0)
    assert [s.shape for s in states] == [(1, latent_dim), (1, latent_dim)]
    first, _, _ = decoder_model.predict([decoder_input_data[:1, :1]] + states, verbose=0)
    np.testing.assert_allclose(first[0, 0], restored[0, 0], rtol=1e-4, atol=1e-6)

    decoded = []  # test
    for seq_index in range(3):
        # Take one sequence (part of the training set)
        # for trying out decoding.
        input_seq = encoder_input_data[seq_index : seq_index + 1]
        decoded_sentence = decode_sequence(input_seq)
        print("-")
        print("Input sentence:", input_texts[seq_index])
        print("Decoded sentence:", decoded_sentence)
        decoded.append(decoded_sentence)  # test

    # test: what the example prints, and decoded sentences made of the target characters
    out = capsys.readouterr().out
    assert "Number of samples: 60" in out and out.count("Decoded sentence:") == 3
    assert steps and all(s == ((1, 1, num_decoder_tokens), (1, latent_dim), (1, latent_dim)) for s in steps)
    for sentence in decoded:
        assert 1 <= len(sentence) <= max_decoder_seq_length + 1
        assert set(sentence) <= set(target_characters)
