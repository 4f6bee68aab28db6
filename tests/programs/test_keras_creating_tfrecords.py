"""keras-io's "Creating TFRecords" (examples/keras_recipes/creating_tfrecords.py), run on chainrule.

Source: https://keras.io/examples/keras_recipes/creating_tfrecords/ (Dimitre Oliveira, 2021).

The program's text is kept, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`; plots go to matplotlib's Agg backend;
- the COCO 2017 download (val2017.zip, annotations_trainval2017.zip) is replaced by a synthetic stand-in of the same
  layout made here: datasets/val2017/{image_id:012d}.jpg photos of varying sizes and
  datasets/annotations/instances_val2017.json with COCO's annotation fields (id, image_id, category_id, bbox, area,
  iscrowd, segmentation), so the download branches are skipped as the program skips them when the folders exist;
- sizes shrunk through the marked constants: 10 annotations, `n_samples` 4 (4096), `batch_size` 4 (64), `epochs` 1
  (5), `steps_per_epoch` 2 (50);
- lines marked `# test:` check what the program produces.
"""
import matplotlib

matplotlib.use("Agg")  # test: no display

import io
import json as _json

import numpy as np
import pytest
from PIL import Image

N_ANNOTATIONS = 10  # test: 36781 in COCO's val2017 annotations
N_SAMPLES = 4  # test: 4096 in the program
BATCH_SIZE = 4  # test: 64 in the program
EPOCHS = 1  # test: 5 in the program
STEPS_PER_EPOCH = 2  # test: 50 in the program


def _coco_like(root, seed=0):
    """test: stands in for COCO's val2017 photos and instances_val2017.json."""
    rng = np.random.default_rng(seed)
    (root / "val2017").mkdir(parents=True)
    (root / "annotations").mkdir()
    annotations = []
    for i in range(N_ANNOTATIONS):
        image_id = int(rng.integers(1, 600000))
        h, w = int(rng.integers(60, 120)), int(rng.integers(60, 120))
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buffer, "JPEG")
        (root / "val2017" / f"{image_id:012d}.jpg").write_bytes(buffer.getvalue())
        x, y = float(rng.uniform(0, w / 2)), float(rng.uniform(0, h / 2))
        bw, bh = float(rng.uniform(5, w / 2)), float(rng.uniform(5, h / 2))
        annotations.append({"segmentation": [[x, y, x + bw, y, x + bw, y + bh]], "area": bw * bh / 2, "iscrowd": 0,
                            "image_id": image_id, "bbox": [x, y, bw, bh], "category_id": int(rng.integers(1, 91)),
                            "id": 1000 + i})
    (root / "annotations" / "instances_val2017.json").write_text(_json.dumps({"annotations": annotations}))
    return annotations


@pytest.mark.slow  # test: EfficientNetB0 on 224 x 224 images
def test_creating_tfrecords(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    coco = _coco_like(tmp_path / "datasets")

    import os
    import json
    import pprint
    import chainrule as tf
    import matplotlib.pyplot as plt

    root_dir = "datasets"
    tfrecords_dir = "tfrecords"
    images_dir = os.path.join(root_dir, "val2017")
    annotations_dir = os.path.join(root_dir, "annotations")
    annotation_file = os.path.join(annotations_dir, "instances_val2017.json")
    images_url = "http://images.cocodataset.org/zips/val2017.zip"
    annotations_url = (
        "http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
    )

    # Download image files
    if not os.path.exists(images_dir):
        image_zip = tf.keras.utils.get_file(
            "images.zip", cache_dir=os.path.abspath("."), origin=images_url, extract=True,
        )
        os.remove(image_zip)

    # Download caption annotation files
    if not os.path.exists(annotations_dir):
        annotation_zip = tf.keras.utils.get_file(
            "captions.zip",
            cache_dir=os.path.abspath("."),
            origin=annotations_url,
            extract=True,
        )
        os.remove(annotation_zip)

    print("The COCO dataset has been downloaded and extracted successfully.")

    with open(annotation_file, "r") as f:
        annotations = json.load(f)["annotations"]

    print(f"Number of images: {len(annotations)}")

    pprint.pprint(annotations[6])  # test: annotations[60] in the program, past the stand-in's 10

    n_samples = N_SAMPLES
    n_tfrecods = len(annotations) // n_samples
    if len(annotations) % n_samples:
        n_tfrecods += 1  # add one record if there are any remaining samples

    if not os.path.exists(tfrecords_dir):
        os.makedirs(tfrecords_dir)  # creating TFRecords output folder

    def image_feature(value):
        """Returns a bytes_list from a string / byte."""
        return tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[tf.io.encode_jpeg(value).numpy()])
        )

    def bytes_feature(value):
        """Returns a bytes_list from a string / byte."""
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))

    def float_feature(value):
        """Returns a float_list from a float / double."""
        return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))

    def int64_feature(value):
        """Returns an int64_list from a bool / enum / int / uint."""
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    def float_feature_list(value):
        """Returns a list of float_list from a float / double."""
        return tf.train.Feature(float_list=tf.train.FloatList(value=value))

    def create_example(image, path, example):
        feature = {
            "image": image_feature(image),
            "path": bytes_feature(path),
            "area": float_feature(example["area"]),
            "bbox": float_feature_list(example["bbox"]),
            "category_id": int64_feature(example["category_id"]),
            "id": int64_feature(example["id"]),
            "image_id": int64_feature(example["image_id"]),
        }
        return tf.train.Example(features=tf.train.Features(feature=feature))

    def parse_tfrecord_fn(example):
        feature_description = {
            "image": tf.io.FixedLenFeature([], tf.string),
            "path": tf.io.FixedLenFeature([], tf.string),
            "area": tf.io.FixedLenFeature([], tf.float32),
            "bbox": tf.io.VarLenFeature(tf.float32),
            "category_id": tf.io.FixedLenFeature([], tf.int64),
            "id": tf.io.FixedLenFeature([], tf.int64),
            "image_id": tf.io.FixedLenFeature([], tf.int64),
        }
        example = tf.io.parse_single_example(example, feature_description)
        example["image"] = tf.io.decode_jpeg(example["image"], channels=3)
        example["bbox"] = tf.sparse.to_dense(example["bbox"])
        return example

    for tfrec_num in range(n_tfrecods):
        samples = annotations[(tfrec_num * n_samples) : ((tfrec_num + 1) * n_samples)]

        with tf.io.TFRecordWriter(
            tfrecords_dir + "/file_%.2i-%i.tfrec" % (tfrec_num, len(samples))
        ) as writer:
            for sample in samples:
                image_path = f"{images_dir}/{sample['image_id']:012d}.jpg"
                image = tf.io.decode_jpeg(tf.io.read_file(image_path))
                example = create_example(image, image_path, sample)
                writer.write(example.SerializeToString())

    assert sorted(os.listdir(tfrecords_dir)) == ["file_00-4.tfrec", "file_01-4.tfrec", "file_02-2.tfrec"]  # test

    raw_dataset = tf.data.TFRecordDataset(f"{tfrecords_dir}/file_00-{n_samples}.tfrec")
    parsed_dataset = raw_dataset.map(parse_tfrecord_fn)

    for features in parsed_dataset.take(1):
        for key in features.keys():
            if key != "image":
                print(f"{key}: {features[key]}")

        print(f"Image shape: {features['image'].shape}")
        plt.figure(figsize=(7, 7))
        plt.imshow(features["image"].numpy())
        plt.show()

    first = coco[0]  # test: the first record holds the first annotation
    np.testing.assert_allclose(features["bbox"].numpy(), first["bbox"], rtol=1e-6)
    assert int(features["image_id"]) == first["image_id"] and int(features["id"]) == first["id"]
    assert features["path"].numpy() == f"datasets/val2017/{first['image_id']:012d}.jpg".encode()
    assert features["image"].shape == Image.open(features["path"].numpy().decode()).size[::-1] + (3,)

    def prepare_sample(features):
        image = tf.image.resize(features["image"], size=(224, 224))
        return image, features["category_id"]

    def get_dataset(filenames, batch_size):
        """Return a Tensorflow dataset ready for training or inference."""
        dataset = (
            tf.data.TFRecordDataset(
                filenames, num_parallel_reads=tf.data.experimental.AUTOTUNE
            )
            .map(parse_tfrecord_fn, num_parallel_calls=tf.data.experimental.AUTOTUNE)
            .map(prepare_sample, num_parallel_calls=tf.data.experimental.AUTOTUNE)
            .shuffle(batch_size * 10)
            .batch(batch_size)
            .prefetch(tf.data.experimental.AUTOTUNE)
        )
        return dataset

    train_filenames = tf.io.gfile.glob(tfrecords_dir + "/*.tfrec")
    batch_size = BATCH_SIZE
    epochs = EPOCHS
    steps_per_epoch = STEPS_PER_EPOCH

    input_tensor = tf.keras.layers.Input(shape=(224, 224, 3), name="image")
    model = tf.keras.applications.EfficientNetB0(
        input_tensor=input_tensor, weights=None, classes=91
    )

    model.compile(
        optimizer=tf.keras.optimizers.Adam(),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=["sparse_categorical_accuracy"],
    )

    history = model.fit(
        x=get_dataset(train_filenames, batch_size),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        verbose=1,
    )
    assert np.isfinite(history.history["loss"]).all()  # test
