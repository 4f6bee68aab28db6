"""Small synthetic stand-in for TensorFlow's ``heart.csv`` (the Cleveland heart-disease table; no download).

The same 14 columns and kinds: integer columns (age, sex, cp, trestbps, chol, fbs, restecg, thalach, exang, slope,
ca), a float column (oldpeak), a text column (thal: 'fixed', 'normal', 'reversible') and the 0/1 ``target``, which
depends on a few columns so that a small model learns it.
"""

import numpy as np

COLUMNS = ["age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca",
           "thal", "target"]


def write_csv(path, n=120, seed=0) -> str:
    """Writes ``n`` rows with a header line to ``path`` and returns the path."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        age, thalach = int(rng.integers(29, 78)), int(rng.integers(90, 200))
        cp, exang, oldpeak = int(rng.integers(0, 5)), int(rng.integers(0, 2)), round(float(rng.uniform(0, 5)), 1)
        thal = str(rng.choice(["fixed", "normal", "reversible"]))
        risk = (age > 55) + (thalach < 140) + exang + (oldpeak > 2) + (thal == "reversible") + (cp == 4)
        target = int(risk + rng.uniform(-0.5, 0.5) > 2.5)
        rows.append([age, int(rng.integers(0, 2)), cp, int(rng.integers(94, 200)), int(rng.integers(126, 565)),
                     int(rng.integers(0, 2)), int(rng.integers(0, 3)), thalach, exang, oldpeak,
                     int(rng.integers(1, 4)), int(rng.integers(0, 4)), thal, target])
    with open(path, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        f.writelines(",".join(str(v) for v in row) + "\n" for row in rows)
    return path
