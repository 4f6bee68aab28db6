"""Small synthetic stand-in for UCI's Bank Marketing ``bank-additional.csv`` (no download).

The same 21 columns, ";"-separated with a header line, of the same kinds (integer, float and string features, the
"yes"/"no" target ``y``); ``pdays`` is 999 for a client not contacted before, as in the real file. Whether the client
subscribes depends on a few columns so that a small model learns it.
"""

import numpy as np

COLUMNS = ["age", "job", "marital", "education", "default", "housing", "loan", "contact", "month", "day_of_week",
           "duration", "campaign", "pdays", "previous", "poutcome", "emp.var.rate", "cons.price.idx",
           "cons.conf.idx", "euribor3m", "nr.employed", "y"]
CHOICES = {
    "job": ["blue-collar", "services", "admin.", "entrepreneur", "technician", "retired"],
    "marital": ["married", "single", "divorced"],
    "education": ["basic.9y", "high.school", "university.degree", "basic.4y"],
    "default": ["no", "unknown"],
    "housing": ["yes", "no"],
    "loan": ["no", "yes"],
    "contact": ["cellular", "telephone"],
    "month": ["may", "jun", "jul", "aug"],
    "day_of_week": ["fri", "mon", "tue", "wed", "thu"],
    "poutcome": ["nonexistent", "failure", "success"],
}


def write_csv(path, n=200, seed=0) -> str:
    """Writes ``n`` rows with a header line to ``path`` and returns the path."""
    rng = np.random.default_rng(seed)
    lines = [";".join(f'"{c}"' for c in COLUMNS)]
    for _ in range(n):
        row = {name: str(rng.choice(values)) for name, values in CHOICES.items()}
        contacted = rng.random() < 0.3
        row.update(age=int(rng.integers(18, 90)), duration=int(rng.integers(0, 1000)),
                   campaign=int(rng.integers(1, 10)), pdays=int(rng.integers(0, 20)) if contacted else 999,
                   previous=int(rng.integers(1, 4)) if contacted else 0)
        row["poutcome"] = row["poutcome"] if contacted else "nonexistent"
        rate = float(rng.choice([-1.8, -0.1, 1.1, 1.4]))
        row.update({"emp.var.rate": rate, "cons.price.idx": round(float(rng.uniform(92.2, 94.8)), 3),
                    "cons.conf.idx": round(float(rng.uniform(-50.8, -26.9)), 1),
                    "euribor3m": round(float(rng.uniform(0.6, 5.0)), 3),
                    "nr.employed": float(rng.choice([4963.6, 5099.1, 5191.0, 5228.1]))})
        score = contacted + (row["poutcome"] == "success") + (rate < 0) + (row["contact"] == "cellular")
        row["y"] = "yes" if score + rng.uniform(-0.5, 0.5) > 2.0 else "no"
        lines.append(";".join(f'"{row[c]}"' if isinstance(row[c], str) else str(row[c]) for c in COLUMNS))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
