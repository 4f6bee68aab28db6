"""``chainrule train --diagnose``, ``chainrule explain`` and ``chainrule attack`` on a small synthetic MNIST-format
dataset (a folder of IDX files: each class a bright bar in its own rows), run in-process as users run them."""
import json
import re

import numpy as np
import pytest
from PIL import Image

from chainrule.cli import main
from chainrule.data.datasets.idx import write_idx


def bars(n: int, rng: np.random.Generator):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 50, (n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[2 + 2 * label:5 + 2 * label, 5:23] = 250
    return images, labels


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(1)
    for split, n in (("train", 320), ("t10k", 40)):
        images, labels = bars(n, rng)
        (folder / f"{split}-images-idx3-ubyte").write_bytes(write_idx(images))
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(write_idx(labels))
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--dataset", str(folder), "--epochs", "2", "--seed", "0", "--verbose", "0", "--diagnose",
                 "--out", str(out)]) == 0
    return folder, out


def test_train_diagnose_writes_the_report_and_the_plot(run, capsys):
    _, out = run
    assert (out / "gradients.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "diagnosis.txt").read_text()
    assert "Gradient health, epoch 2" in report
    # the layers' automatic names count up across a process (conv2d, conv2d_1, ...): match them by their stem
    rows = [line.split()[0] for line in report.splitlines() if re.match(r"  (conv2d|dense)(_\d+)? ", line)]
    assert [re.sub(r"_\d+$", "", name) for name in rows] == ["conv2d", "dense", "dense"]
    conv = next(line for line in report.splitlines() if line.startswith(f"  {rows[0]} "))
    assert "%" in conv  # the conv layer's dead-unit fraction is measured (it runs unfused while observed)
    assert json.loads((out / "run.json").read_text())["epochs"] == 2


def test_explain_writes_an_overlay_and_checks_completeness(run, tmp_path, capsys):
    _, out = run
    image = np.zeros((28, 28), np.uint8)
    image[8:11, 5:23] = 255  # class 3's bar
    Image.fromarray(image).save(tmp_path / "bar.png")
    picture = tmp_path / "overlay.png"
    assert main(["explain", str(out / "model.keras"), str(tmp_path / "bar.png"), "--out", str(picture)]) == 0
    printed = capsys.readouterr().out
    assert "Completeness" in printed and f"Wrote {picture}" in printed
    error = float(printed.split("within ")[1].split("%")[0])
    assert error < 1.0
    assert Image.open(picture).size[0] > 300
    assert main(["explain", str(out / "model.keras"), str(tmp_path / "bar.png"), "--method", "smoothgrad",
                 "--samples", "4", "--out", str(tmp_path / "smooth.png")]) == 0
    assert (tmp_path / "smooth.png").exists()


def accuracies(printed: str) -> tuple[float, float]:
    found = re.search(r"accuracy ([0-9.]+) clean, ([0-9.]+) under attack", printed)
    assert found, printed
    return float(found[1]), float(found[2])


def test_attack_prints_accuracy_under_attack_and_writes_examples(run, tmp_path, capsys):
    folder, out = run
    picture = tmp_path / "attack.png"
    assert main(["attack", str(out / "model.keras"), "--dataset", str(folder), "--eps", "0.3", "--out",
                 str(picture)]) == 0
    printed = capsys.readouterr().out
    clean, attacked = accuracies(printed)
    assert attacked < clean
    assert picture.read_bytes()[:4] == b"\x89PNG"
    assert main(["attack", str(out / "model.keras"), "--dataset", str(folder), "--method", "pgd", "--eps", "0.0",
                 "--steps", "2", "--out", str(tmp_path / "none.png")]) == 0
    clean, attacked = accuracies(capsys.readouterr().out)
    assert attacked == clean  # eps 0 changes nothing


def test_bad_arguments_get_one_clear_line(run, tmp_path, capsys):
    _, out = run
    with pytest.raises(SystemExit):
        main(["attack", str(out / "model.keras"), "--eps", "-1"])
    assert "--eps" in capsys.readouterr().err
    assert main(["explain", str(out / "model.keras"), str(tmp_path / "missing.png")]) == 1
    assert "missing.png" in capsys.readouterr().err
