"""The ``chainrule`` command, run as users run it, on a small synthetic MNIST-format dataset (no network, no cache).

The dataset is a folder of IDX files (``--dataset DIR``): ten classes, each a bright bar in its own place plus noise,
so one short epoch already learns something. ``CHAINRULE_HOME`` points into the test's temporary folder so that no
run touches the real dataset cache.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chainrule.cli import main
from chainrule.data.datasets.idx import write_idx
from chainrule.keras.models import load_model

CLASSES = 10


def synthetic_digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, CLASSES, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[2 + 2 * label:5 + 2 * label, 4:24] = 255
    return images, labels


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("t10k", 60)):
        images, labels = synthetic_digits(n, rng)
        (folder / f"{split}-images-idx3-ubyte").write_bytes(write_idx(images))
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(write_idx(labels))
    return folder


@pytest.fixture(scope="module")
def trained_run(dataset, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One epoch of the default CNN, through the installed ``chainrule`` script (or ``python -m chainrule``)."""
    home = tmp_path_factory.mktemp("home")
    out = home / "run"
    script = shutil.which("chainrule")
    command = [script] if script else [sys.executable, "-m", "chainrule"]
    result = subprocess.run(
        [*command, "train", "--dataset", str(dataset), "--epochs", "1", "--limit", "200", "--seed", "0",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "CHAINRULE_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_writes_every_output(trained_run, dataset):
    out, result = trained_run
    assert "Test loss:" in result.stdout and "test accuracy:" in result.stdout
    assert "Training cnn" in result.stdout and "seed 0" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.keras", "history.json", "run.json", "curves.png", "confusion.png", "mistakes.png"])

    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 1 and np.isfinite(values[0]) for values in history.values())
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 0 and run["training_images"] == 180 and run["validation_images"] == 20
    assert run["test"]["images"] == 60 and 0 <= run["test"]["accuracy"] <= 1

    model = load_model(out / "model.keras")
    assert model.input_shape == (None, 28, 28, 1)
    images, labels = synthetic_digits(60, np.random.default_rng(1))
    loss, accuracy = model.evaluate(images[..., None] / np.float32(255), labels.astype(np.int64), verbose=0)
    assert np.isfinite(loss) and accuracy > 0.3  # one epoch on 180 images already beats chance (0.1)

    for name, (min_w, min_h) in {"curves.png": (600, 300), "confusion.png": (500, 500),
                                 "mistakes.png": (300, 150)}.items():
        with Image.open(out / name) as image:
            image.verify()
        with Image.open(out / name) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert min_w <= width <= 4000 and min_h <= height <= 4000, (name, image.size)


def test_evaluate_summary_and_predict(trained_run, dataset, tmp_path, capsys):
    out, _ = trained_run
    assert main(["evaluate", str(out / "model.keras"), "--dataset", str(dataset)]) == 0
    assert "accuracy:" in capsys.readouterr().out

    assert main(["summary", str(out / "model.keras")]) == 0
    shown = capsys.readouterr().out
    assert "conv2d" in shown.lower() and "Adam" in shown and "steps trained" in shown

    images, labels = synthetic_digits(2, np.random.default_rng(2))
    paths = []
    for i, (image, label) in enumerate(zip(images, labels)):
        dark_on_light = Image.fromarray(255 - image).resize((84, 56))  # another size, another aspect, inverted
        paths.append(tmp_path / f"digit{i}.png")
        dark_on_light.save(paths[-1])
    jpeg = tmp_path / "light.jpg"
    Image.fromarray(images[0]).convert("RGB").save(jpeg)
    assert main(["predict", str(out / "model.keras"), *map(str, paths), str(jpeg), "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(str(path)) and line.count("%") == 2 for line, path in zip(lines, [*paths, jpeg]))
    assert "inverted" in lines[0] and "inverted" not in lines[2]


def test_a_json_model_config_of_the_seeds_flat_mlp(dataset, tmp_path, capsys):
    from chainrule.keras import layers
    from chainrule.keras.models import Sequential

    flat = Sequential([layers.Dense(10, activation="relu", input_shape=(784,)), layers.Dense(10, activation="softmax")])
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"class_name": "Sequential", "config": flat.get_config()}))
    assert main(["train", "--model", str(config), "--dataset", str(dataset), "--epochs", "1", "--limit", "64",
                 "--validation-split", "0", "--optimizer", "sgd", "--lr", "0.05", "--out", str(tmp_path / "run"),
                 "--verbose", "0"]) == 0
    assert "Training" in capsys.readouterr().out
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert set(history) == {"loss", "accuracy"}
    model = load_model(tmp_path / "run" / "model.keras")
    assert model.input_shape == (None, 784)  # the images were flattened to fit it
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.05)


def test_bad_input_gets_one_clear_line(dataset, tmp_path, capsys):
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(b"\x89chainrule\r\n\x1a\n" + bytes(100))
    cases = [
        (["evaluate", str(tmp_path / "missing.keras")], "missing.keras: no such model file"),
        (["summary", str(damaged)], "damaged.keras: "),
        (["train", "--model", "resnet", "--dataset", str(dataset)], "unknown model 'resnet'"),
        (["train", "--model", str(tmp_path / "nope.json"), "--dataset", str(dataset)], "nope.json"),
        (["train", "--dataset", str(tmp_path / "no-such-folder")], "unknown dataset"),
        (["train", "--dataset", str(tmp_path)], "train-images-idx3-ubyte"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith(f"chainrule {argv[0]}: error: ") and message in err, (argv, err)
        assert "Traceback" not in err and err.count("\n") == 1

    model = tmp_path / "m.keras"
    from chainrule.cli import zoo

    zoo.mlp().save(model)
    assert main(["predict", str(model), str(not_an_image)]) == 1
    assert "notes.png: cannot read it as an image" in capsys.readouterr().err
    assert main(["predict", str(model), str(tmp_path / "gone.png")]) == 1
    assert "gone.png: no such file" in capsys.readouterr().err


def test_help_mentions_the_inversion():
    result = subprocess.run([sys.executable, "-m", "chainrule", "predict", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "inverted" in " ".join(result.stdout.split())


@pytest.mark.mnist
def test_train_on_real_mnist(tmp_path):
    """One epoch on 2000 real MNIST images (from the cache, downloaded once) reaches well above chance."""
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--epochs", "1", "--limit", "2000", "--seed", "0",
         "--out", str(tmp_path / "run"), "--verbose", "2"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["test"]["images"] == 10000 and run["test"]["accuracy"] > 0.8
