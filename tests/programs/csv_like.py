"""Small synthetic stand-ins for the CSV files of TensorFlow's "Load CSV data" tutorial (no download): the abalone
table (no header, 8 numbers), the Titanic table (header, text and number columns), the Metro traffic table (gzip),
and a folder of font tables (``fonts/<FONT>.csv``: 12 description columns, then the 400 pixels r0c0..r19c19 of a
glyph). Same columns and kinds as the real files, few rows.
"""

import gzip
import os

import numpy as np

TITANIC_COLUMNS = ["survived", "sex", "age", "n_siblings_spouses", "parch", "fare", "class", "deck", "embark_town",
                   "alone"]
TRAFFIC_COLUMNS = ["holiday", "temp", "rain_1h", "snow_1h", "clouds_all", "weather_main", "weather_description",
                   "date_time", "traffic_volume"]
FONT_COLUMNS = ["font", "fontVariant", "m_label", "strength", "italic", "orientation", "m_top", "m_left",
                "originalH", "originalW", "h", "w"] + [f"r{r}c{c}" for r in range(20) for c in range(20)]


def _write(path, lines, gz=False):
    opener = gzip.open if gz else open
    with opener(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def abalone(path, n=200, seed=0):
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        length = rng.uniform(0.1, 0.8)
        weights = [length * k * rng.uniform(0.8, 1.2) for k in (0.9, 0.35, 0.4, 0.2, 0.3)]
        age = int(3 + 20 * length + rng.integers(-2, 3))
        lines.append(",".join(f"{v:.3f}" for v in [length, length * 0.8, length * 0.25, *weights]) + f",{age}")
    return _write(path, lines)


def titanic(path, n=160, seed=1):
    rng = np.random.default_rng(seed)
    lines = [",".join(TITANIC_COLUMNS)]
    for _ in range(n):
        sex, klass = str(rng.choice(["male", "female"])), str(rng.choice(["First", "Second", "Third"]))
        survived = int(rng.random() < (0.75 if sex == "female" else 0.2) + (0.15 if klass == "First" else 0))
        lines.append(",".join([str(survived), sex, f"{rng.uniform(1, 70):.1f}", str(rng.integers(0, 4)),
                               str(rng.integers(0, 3)), f"{rng.uniform(5, 250):.4f}", klass,
                               str(rng.choice(["unknown", "A", "B", "C", "D"])),
                               str(rng.choice(["Southampton", "Cherbourg", "Queenstown"])),
                               str(rng.choice(["y", "n"]))]))
    return _write(path, lines)


def traffic(path, n=600, seed=2):
    rng = np.random.default_rng(seed)
    lines = [",".join(TRAFFIC_COLUMNS)]
    for i in range(n):
        weather = str(rng.choice(["Clouds", "Clear", "Rain"]))
        lines.append(",".join(["None", f"{rng.uniform(250, 300):.2f}", f"{rng.uniform(0, 2):.2f}", "0.0",
                               str(rng.integers(0, 100)), weather, f"light {weather.lower()}",
                               f"2012-10-{2 + i // 24:02d} {i % 24:02d}:00:00", str(rng.integers(100, 7000))]))
    return _write(path, lines, gz=True)


def fonts(folder, names=("AGENCY", "ARIAL", "BAITI", "CALIBRI", "COURIER"), rows=20, seed=3):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for name in names:
        lines = [",".join(FONT_COLUMNS)]
        for _ in range(rows):
            pixels = rng.integers(0, 256, 400)
            lines.append(",".join([name, "scanned", str(rng.integers(33, 127)), "0.4", "0", "0", "35", "21", "51",
                                   "22", "20", "20"] + [str(p) for p in pixels]))
        _write(os.path.join(folder, f"{name}.csv"), lines)
    return folder
