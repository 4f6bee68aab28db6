"""Small synthetic stand-in for TensorFlow's ``shakespeare.txt`` (no download).

Like the real file: lines of a play, a speaker's name followed by a colon, then a few lines of verse, an empty
line between speeches; words are drawn from a vocabulary of ``vocabulary`` made-up words with Zipf-like
frequencies (a few very common, most rare), capitalised at the start of a line, with punctuation.
"""

import numpy as np

_SYLLABLES = ["ta", "ro", "mi", "ven", "sa", "lo", "gar", "ith", "ne", "pu", "dor", "el", "ka", "shu", "bri", "an"]
_SPEAKERS = ["First Citizen", "Second Citizen", "MENENIUS", "MARCIUS", "All"]


def _words(count, rng):
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(_SYLLABLES, size=int(rng.integers(1, 4)))))
    return list(rng.permutation(sorted(words)))


def text(n_speeches=120, vocabulary=1500, seed=0) -> str:
    """The whole file's text: ``n_speeches`` speeches of 1 to 4 lines of 4 to 11 words."""
    rng = np.random.default_rng(seed)
    words = _words(vocabulary, rng)
    weights = 1.0 / np.arange(1, vocabulary + 1)
    weights /= weights.sum()
    lines = []
    for _ in range(n_speeches):
        lines.append(str(rng.choice(_SPEAKERS)) + ":")
        for _ in range(int(rng.integers(1, 5))):
            line = list(rng.choice(words, size=int(rng.integers(4, 12)), p=weights))
            line[0] = line[0].capitalize()
            lines.append(" ".join(line) + str(rng.choice([",", ".", "!", "?", ";", ""])))
        lines.append("")
    return "\n".join(lines) + "\n"
