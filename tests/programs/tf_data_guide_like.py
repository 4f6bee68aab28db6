"""Small synthetic stand-ins for the files TensorFlow's guide "tf.data: Build TensorFlow input pipelines" downloads
(no download): the flower_photos folder (one subfolder of JPEG photos per class), the FSNS TFRecord test file
(tf.train.Example records with a PNG 'image/encoded' and its 'image/text'), and the credit-card fraud table
(creditcard.zip holding creditcard.csv: Time, V1..V28, Amount and a quoted 0/1 Class, about 1% fraud). Same layout
and kinds as the real files, fewer and smaller items.
"""

import io
import os
import zipfile

import numpy as np
import PIL.Image

import chainrule as tf

FLOWER_CLASSES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]


def flower_photos(root, per_class=8, seed=0):
    rng = np.random.default_rng(seed)
    for k, name in enumerate(FLOWER_CLASSES):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            height, width = rng.integers(40, 72, size=2)
            image = np.clip(40 * k + rng.normal(0, 40, (height, width, 3)), 0, 255).astype("uint8")
            PIL.Image.fromarray(image).save(os.path.join(root, name, f"{i}.jpg"))
    return os.path.abspath(root)


def fsns(path, n=4, seed=1):
    rng = np.random.default_rng(seed)
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(n):
            png = io.BytesIO()
            PIL.Image.fromarray(rng.integers(0, 255, (150, 600, 3)).astype("uint8")).save(png, format="PNG")
            feature = {"image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png.getvalue()])),
                       "image/text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"Rue {i}".encode()]))}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return os.path.abspath(path)


def creditcard(zip_path, n=3000, seed=2):
    """Writes creditcard.csv beside ``zip_path`` (as get_file(..., extract=True) leaves it) and the zip."""
    rng = np.random.default_rng(seed)
    columns = ["Time"] + [f"V{i}" for i in range(1, 29)] + ["Amount", "Class"]
    lines = [",".join(f'"{c}"' for c in columns)]
    for i in range(n):
        fraud = int(rng.random() < 0.01)
        values = [f"{v:.4f}" for v in rng.normal(fraud, 1, 28)]
        lines.append(",".join([str(i)] + values + [f"{rng.uniform(0, 200):.2f}", f'"{fraud}"']))
    csv_path = zip_path.replace(".zip", ".csv")
    with open(csv_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(csv_path, os.path.basename(csv_path))
    return os.path.abspath(zip_path)
