"""Small synthetic stand-ins for the text files of TensorFlow's "Load text" tutorial (no download): the extracted
``stack_overflow_16k.tar.gz`` (``train/`` and ``test/`` folders of questions, one folder per language:
csharp, java, javascript, python) and the three Iliad translations (cowper.txt, derby.txt, butler.txt: lines of
verse, each translation with words of its own).
"""

import os
import pathlib

import numpy as np

LANGUAGES = {"csharp": ["linq", "dotnet", "nullable", "async"], "java": ["jvm", "spring", "hashmap", "maven"],
             "javascript": ["npm", "promise", "dom", "react"], "python": ["pandas", "numpy", "dict", "pip"]}
COMMON = ["how", "do", "i", "get", "the", "value", "of", "a", "list", "in", "my", "function", "error", "when"]
_TRANSLATORS = {"cowper.txt": ["thus", "o'er", "achaia's"], "derby.txt": ["valiant", "thereon", "grecian"],
                "butler.txt": ["then", "the", "achaeans"]}
_VERSE = ["son", "of", "atreus", "king", "of", "men", "spear", "ships", "wrath", "hector", "gods", "sea"]


def stack_overflow(root, n_train=40, n_test=16, seed=0) -> pathlib.Path:
    """Writes ``root/{train,test}/<language>/<n>.txt`` (with ``train/python/1755.txt``) and returns ``root``."""
    rng = np.random.default_rng(seed)
    root = pathlib.Path(root)
    for split, count in (("train", n_train), ("test", n_test)):
        for language, words in LANGUAGES.items():
            folder = root / split / language
            os.makedirs(folder)
            for i in range(count):
                text = " ".join(rng.choice(COMMON + words + words, size=30)) + "?"
                name = "1755.txt" if (split, language, i) == ("train", "python", 0) else f"{i}.txt"
                (folder / name).write_text(f'"{text}"\n')
    (root / "README.md").write_text("Stack Overflow questions, synthetic\n")
    return root


def iliad_translation(name, lines=150, seed=None) -> str:
    """Writes ``iliad/<name>`` (one of the three translations) and returns its path."""
    rng = np.random.default_rng(sorted(_TRANSLATORS).index(name) if seed is None else seed)
    os.makedirs("iliad", exist_ok=True)
    words = _VERSE + _TRANSLATORS[name] * 3
    path = os.path.join("iliad", name)
    with open(path, "w") as f:
        f.writelines(" ".join(rng.choice(words, size=int(rng.integers(5, 10)))).capitalize() + ",\n"
                     for _ in range(lines))
    return path
