"""keras-io example "Character-level text generation with LSTM", run on chainrule.

Source: https://keras.io/examples/generative/lstm_character_level_text_generation/
(keras-team/keras-io, examples/generative/lstm_character_level_text_generation.py).

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- the nietzsche.txt download is replaced by a small text written in the test's temporary folder
  (three sentences repeated, about 1,200 characters);
- smaller: LSTM(32) (128), maxlen=20 (40), epochs=2 (40), 40 generated characters (400), diversities 0.2 and 1.0;
- lines marked `# test:` check what the program produces.
"""

import io
import random
import sys

import numpy as np

from chainrule import keras
from chainrule.keras import layers

SENTENCES = [
    "supposing that truth is a woman, what then? ",
    "is there not ground for suspecting that all philosophers have failed to understand women? ",
    "the will to truth, which is to tempt us to many a hazardous enterprise. ",
]


def test_lstm_text_generation(tmp_path, capsys):
    path = tmp_path / "nietzsche.txt"  # test: stands in for keras.utils.get_file("nietzsche.txt", ...)
    path.write_text("".join(SENTENCES) * 6, encoding="utf-8")  # test
    random.seed(0)  # test: the seed sentence is the same at each run

    with io.open(path, encoding="utf-8") as f:
        text = f.read().lower()
    print("corpus length:", len(text))

    chars = sorted(list(set(text)))
    print("total chars:", len(chars))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    indices_char = dict((i, c) for i, c in enumerate(chars))

    # cut the text in semi-redundant sequences of maxlen characters
    maxlen = 20
    step = 3
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i : i + maxlen])
        next_chars.append(text[i + maxlen])
    print("nb sequences:", len(sentences))

    print("Vectorization...")
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=np.bool)
    y = np.zeros((len(sentences), len(chars)), dtype=np.bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, len(chars))),
            layers.LSTM(32),
            layers.Dense(len(chars), activation="softmax"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    def sample(preds, temperature=1.0):
        # helper function to sample an index from a probability array
        preds = np.asarray(preds).astype("float64")
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = np.random.multinomial(1, preds, 1)
        return np.argmax(probas)

    epochs = 2
    batch_size = 128

    losses = []  # test
    generations = []  # test
    for epoch in range(epochs):
        history = model.fit(x, y, batch_size=batch_size, epochs=1)
        losses.append(history.history["loss"][0])  # test

        print("Generating text after epoch: %d" % epoch)

        start_index = random.randint(0, len(text) - maxlen - 1)
        for diversity in [0.2, 1.0]:
            print("----- diversity:", diversity)

            generated = ""
            sentence = text[start_index : start_index + maxlen]
            generated += sentence
            print('----- Generating with seed: "' + sentence + '"')
            sys.stdout.write(generated)

            for i in range(40):
                x_pred = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(sentence):
                    x_pred[0, t, char_indices[char]] = 1.0

                preds = model.predict(x_pred, verbose=0)[0]
                assert preds.shape == (len(chars),) and abs(preds.sum() - 1) < 1e-4  # test
                next_index = sample(preds, diversity)
                next_char = indices_char[next_index]

                sentence = sentence[1:] + next_char
                generated += next_char  # test

                sys.stdout.write(next_char)
                sys.stdout.flush()
            print()
            generations.append(generated)  # test

    # test: the data's shapes, the loss falling, and 40 characters of the corpus's alphabet each time
    out = capsys.readouterr().out
    assert "corpus length: %d" % len(text) in out and out.count("----- diversity:") == 4
    assert x.shape == (len(sentences), 20, len(chars)) and y.shape == (len(sentences), len(chars))
    assert losses[-1] < losses[0]
    assert all(len(g) == 60 and set(g) <= set(chars) for g in generations)
