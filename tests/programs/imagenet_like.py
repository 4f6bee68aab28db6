"""Stand-ins for the downloads of TensorFlow's ImageNet tutorials: a photograph file (a synthetic JPEG) and the
class names (ImageNet's class index that ``decode_predictions`` fetches, and the 1001 lines of
ImageNetLabels.txt), synthetic but of the real shapes and formats.
"""

import numpy as np
from PIL import Image


def photo(path, size=(577, 700), seed=0):
    """A JPEG of ``size`` (rows, columns): a soft vertical gradient with a few coloured ellipses."""
    rng = np.random.default_rng(seed)
    h, w = size
    rows, cols = np.mgrid[0:h, 0:w]
    image = np.stack([60 + 120 * rows / h, 90 + 60 * cols / w, np.full((h, w), 140.0)], axis=-1)
    for _ in range(4):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.05, 0.2) * h, rng.uniform(0.05, 0.2) * w
        image[((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 < 1] = rng.uniform(0, 255, 3)
    image += rng.normal(0, 4, image.shape)
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=90)
    return str(path)


def use_class_index(monkeypatch):
    """ImageNet's 1000 (wnid, name) pairs replaced by synthetic ones where keras.applications caches them."""
    from chainrule import keras

    index = {str(i): [f"n{i:08d}", f"imagenet_class_{i}"] for i in range(1000)}
    monkeypatch.setattr(keras.applications.imagenet_utils, "CLASS_INDEX", index)
    return index


def labels_file(path):
    """ImageNetLabels.txt: 'background' then 1000 class names, one a line."""
    with open(path, "w") as file:
        file.write("\n".join(["background"] + [f"imagenet_class_{i}" for i in range(1000)]) + "\n")
    return str(path)
