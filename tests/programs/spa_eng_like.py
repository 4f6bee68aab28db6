"""Small synthetic stand-in for the Anki ``spa-eng/spa.txt`` (no download): one "English<TAB>Spanish" pair per line,
Spanish with its accents and inverted marks (so the tutorial's NFKD normalization has work to do)."""

import pathlib

import numpy as np

SUBJECTS = [("I", "Yo"), ("You", "Tú"), ("He", "Él"), ("She", "Ella"), ("We", "Nosotros")]
VERBS = [("am at home", "estoy en casa"), ("like coffee", "quiero café"), ("read a book", "leo un libro"),
         ("am still here", "todavía estoy aquí"), ("live in the city", "vivo en la ciudad")]


def write(path, n=400, seed=0) -> pathlib.Path:
    """Writes ``n`` pairs to ``path`` (its folder made) and returns it as a Path."""
    rng = np.random.default_rng(seed)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for _ in range(n):
        (en_s, es_s), (en_v, es_v) = SUBJECTS[rng.integers(len(SUBJECTS))], VERBS[rng.integers(len(VERBS))]
        if rng.random() < 0.5:
            lines.append(f"{en_s} {en_v}.\t{es_s} {es_v}.")
        else:
            lines.append(f"Are you {en_v.split(' ', 1)[1]}?\t¿{es_v[0].upper()}{es_v[1:]}?")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
