"""Small synthetic stand-ins for two UCI tables TensorFlow's Core API guides download (no download): Auto MPG
(``auto-mpg.data``: 8 numbers separated by spaces, '?' for a missing horsepower, a tab, then the quoted car name)
and Wisconsin breast cancer (``wdbc.data``: id, diagnosis M or B, 30 positive measurements, no header). Same
layout and kinds as the real files, with a signal a model can learn, fewer rows.
"""

import numpy as np


def auto_mpg(path, n=398, seed=0):
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        cylinders = int(rng.choice([4, 6, 8]))
        displacement = cylinders * rng.uniform(18, 45)
        horsepower = "?" if i % 60 == 7 else f"{displacement * rng.uniform(0.4, 0.7):.1f}"
        weight = 1500 + displacement * rng.uniform(6, 9)
        mpg = max(9.0, 50 - weight / 120 + rng.normal(0, 2))
        fields = [f"{mpg:.1f}", str(cylinders), f"{displacement:.1f}", horsepower, f"{weight:.1f}",
                  f"{rng.uniform(8, 25):.1f}", str(int(rng.integers(70, 83))), str(int(rng.integers(1, 4)))]
        lines.append("   ".join(fields) + f'\t"car {i}"')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def wdbc(path, n=569, seed=1):
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        malignant = rng.random() < 0.37
        scale = rng.uniform(1.2, 1.6) if malignant else rng.uniform(0.8, 1.1)
        values = rng.uniform(0.5, 1.5, 30) * scale * np.tile([14, 19, 92, 655, 0.1, 0.1, 0.09, 0.05, 0.18, 0.06], 3)
        lines.append(",".join([str(842302 + i), "M" if malignant else "B"] + [f"{v:.5g}" for v in values]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
