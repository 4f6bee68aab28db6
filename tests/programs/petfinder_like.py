"""Small synthetic stand-in for TensorFlow's ``petfinder-mini.csv`` (PetFinder.my adoption records; no download).

The same 15 columns and kinds: text columns (Type, Breed1, Gender, Color1, Color2, MaturitySize, FurLength,
Vaccinated, Sterilized, Health, Description), integer columns (Age, Fee, PhotoAmt) and AdoptionSpeed 0..4 (4: not
adopted), which depends on a few columns so that a small model learns it.
"""

import os

import numpy as np

COLUMNS = ["Type", "Age", "Breed1", "Gender", "Color1", "Color2", "MaturitySize", "FurLength", "Vaccinated",
           "Sterilized", "Health", "Fee", "Description", "PhotoAmt", "AdoptionSpeed"]
CHOICES = {"Type": ["Cat", "Dog"], "Breed1": ["Tabby", "Mixed Breed", "Domestic Short Hair", "Poodle", "Beagle",
                                              "Persian", "Terrier"],
           "Gender": ["Male", "Female"], "Color1": ["Black", "Brown", "Golden", "Cream", "Gray", "White"],
           "Color2": ["White", "No Color", "Brown", "Cream", "Gray"], "MaturitySize": ["Small", "Medium", "Large"],
           "FurLength": ["Short", "Medium", "Long"], "Vaccinated": ["Yes", "No", "Not Sure"],
           "Sterilized": ["Yes", "No", "Not Sure"], "Health": ["Healthy", "Minor Injury"]}


def write_csv(path, n=300, seed=0) -> str:
    """Writes ``n`` records with a header line to ``path`` (its folders made) and returns the path."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = [",".join(COLUMNS)]
    for _ in range(n):
        row = {name: str(rng.choice(options)) for name, options in CHOICES.items()}
        age, fee, photos = int(rng.integers(1, 60)), int(rng.choice([0, 0, 50, 100, 200])), int(rng.integers(0, 10))
        chance = 0.8 - 0.01 * age + 0.05 * photos - (0.2 if row["Health"] != "Healthy" else 0)
        speed = int(rng.integers(0, 4)) if rng.random() < chance else 4
        row.update(Age=str(age), Fee=str(fee), PhotoAmt=str(photos), AdoptionSpeed=str(speed),
                   Description='"A lovely pet, friendly and calm."')
        lines.append(",".join(row[c] for c in COLUMNS))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
