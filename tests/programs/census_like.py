"""Small synthetic stand-in for the UCI Census Income files ``adult.data`` and ``adult.test`` (no download).

The same 15 columns without a header line, written as UCI writes them: each value after a comma starts with a space
(" State-gov", " <=50K"), ``adult.test`` starts with a line that is no record and its labels end in a dot
(" >50K."), and "?" marks a missing value. The income depends on a few columns so that a small model learns it.
"""

import numpy as np

WORKCLASS = ["Private", "Self-emp-not-inc", "Local-gov", "State-gov", "?"]
EDUCATION = ["Bachelors", "HS-grad", "Masters", "Some-college", "Doctorate"]
MARITAL = ["Married-civ-spouse", "Never-married", "Divorced"]
OCCUPATION = ["Exec-managerial", "Craft-repair", "Sales", "Prof-specialty", "Other-service"]
RELATIONSHIP = ["Husband", "Not-in-family", "Own-child", "Wife"]
RACE = ["White", "Black", "Asian-Pac-Islander"]
GENDER = ["Male", "Female"]
# the widest vocabulary, as in UCI's data (42 countries): keras-io programs size embeddings by its lookup
COUNTRY = ["United-States", "Mexico", "India", "Germany", "Canada", "Philippines", "Cuba", "England", "China", "Italy"]


def _rows(n, rng, label_suffix):
    rows = []
    for _ in range(n):
        age, education_num = int(rng.integers(17, 90)), int(rng.integers(1, 17))
        hours, gain = int(rng.integers(10, 80)), int(rng.choice([0, 0, 0, int(rng.integers(1000, 20000))]))
        marital = str(rng.choice(MARITAL))
        score = (age > 35) + (education_num > 12) + (hours > 45) + (gain > 0) + (marital == MARITAL[0])
        label = ">50K" if score + rng.uniform(-0.5, 0.5) > 2.5 else "<=50K"
        values = [age, rng.choice(WORKCLASS), int(rng.integers(20000, 500000)), rng.choice(EDUCATION), education_num,
                  marital, rng.choice(OCCUPATION), rng.choice(RELATIONSHIP), rng.choice(RACE), rng.choice(GENDER),
                  gain, int(rng.choice([0, 0, 0, 1902])), hours, rng.choice(COUNTRY), label + label_suffix]
        rows.append(", ".join(str(v) for v in values) + "\n")
    return rows


def write(train_path, test_path, n_train=200, n_test=100, seed=0):
    """Writes ``adult.data``- and ``adult.test``-like files to the two paths and returns them."""
    rng = np.random.default_rng(seed)
    with open(train_path, "w") as f:
        f.writelines(_rows(n_train, rng, ""))
    with open(test_path, "w") as f:
        f.write("|1x3 Cross validator\n")
        f.writelines(_rows(n_test, rng, "."))
    return train_path, test_path
