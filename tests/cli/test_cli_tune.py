"""``chainrule tune`` and ``chainrule lr-find`` on a small synthetic MNIST-format dataset (no network, no cache)."""
import json
import re

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data.datasets.idx import write_idx


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Ten classes, each a bright bar in its own row band plus noise: one epoch of the MLP learns it."""
    folder = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(0)
    for split, n in (("train", 240), ("t10k", 20)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for image, label in zip(images, labels):
            image[2 + 2 * label:5 + 2 * label, 4:24] = 255
        (folder / f"{split}-images-idx3-ubyte").write_bytes(write_idx(images))
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(write_idx(labels))
    return folder


def tune(dataset, out, *extra):
    return main(["tune", "--model", "mlp", "--dataset", str(dataset), "--epochs", "1", "--batch-size", "16",
                 "--validation-split", "0.25", "--out", str(out), *extra])


def test_random_search_prints_a_table_and_writes_results_and_plot(dataset, tmp_path, capsys):
    assert tune(dataset, tmp_path, "--trials", "3", "--lr", "1e-4:1") == 0
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text())
    rates = [t["learning_rate"] for t in results["trials"]]
    assert len(rates) == 3 and all(1e-4 <= r <= 1 for r in rates)
    best = max(results["trials"], key=lambda t: t["score"])
    assert results["best"] == {"trial_id": best["trial_id"], "learning_rate": best["learning_rate"],
                               "val_accuracy": best["score"]}
    assert "learning rate" in out and "val_accuracy" in out
    assert f"* {best['trial_id']:>5}" in out and f"Best learning rate {best['learning_rate']:.3g}" in out
    assert (tmp_path / "tune.png").stat().st_size > 10_000
    assert (tmp_path / "search" / f"trial_{best['trial_id']}" / "model.keras").exists()

    assert tune(dataset, tmp_path, "--trials", "4", "--lr", "1e-4:1") == 0  # the same search, one trial more
    out = capsys.readouterr().out
    assert "resuming: 3 trials done" in out and len(re.findall(r"^  trial \d+:", out, re.M)) == 1
    again = json.loads((tmp_path / "results.json").read_text())["trials"]
    assert [t["learning_rate"] for t in again][:3] == rates and len(again) == 4


def test_grid_search_tries_rates_evenly_spaced_on_a_log_scale(dataset, tmp_path, capsys):
    assert tune(dataset, tmp_path, "--search", "grid", "--trials", "3", "--lr", "1e-3:1e-1") == 0
    rates = [t["learning_rate"] for t in json.loads((tmp_path / "results.json").read_text())["trials"]]
    np.testing.assert_allclose(rates, [1e-3, 1e-2, 1e-1], rtol=1e-6)


def test_hyperband_runs_its_brackets(dataset, tmp_path, capsys):
    assert tune(dataset, tmp_path, "--search", "hyperband", "--epochs", "3") == 0
    trials = json.loads((tmp_path / "results.json").read_text())["trials"]
    assert [t["epochs"] for t in trials] == [1, 1, 1, 3, 3, 3]  # bracket 1: 3 trials of 1 epoch, the best to 3
    assert trials[3]["continues"] in {t["trial_id"] for t in trials[:3]}


def test_lr_find_prints_the_suggestion_and_writes_the_plot(dataset, tmp_path, capsys):
    status = main(["lr-find", "--model", "mlp", "--dataset", str(dataset), "--steps", "40", "--batch-size", "16",
                   "--out", str(tmp_path), "--verbose", "0"])
    assert status == 0
    out = capsys.readouterr().out
    found = json.loads((tmp_path / "lr_find.json").read_text())
    assert found["method"] == "valley" and 1e-7 <= found["suggestion"] <= 10
    assert f"Suggested learning rate: {found['suggestion']:.2g} (valley" in out
    assert len(found["lrs"]) == len(found["losses"]) <= 40
    assert (tmp_path / "lr_find.png").stat().st_size > 10_000


@pytest.mark.parametrize("argv, message", [
    (["tune", "--lr", "1e-1:1e-4"], "argument --lr: must be LOW:HIGH with 0 < LOW <= HIGH"),
    (["tune", "--lr", "fast"], "argument --lr: must be LOW:HIGH"),
    (["tune", "--factor", "1"], "argument --factor: must be at least 2"),
    (["lr-find", "--steps", "1"], "argument --steps: must be at least 2"),
])
def test_bad_numbers_are_refused_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_bad_settings_get_one_clear_line(dataset, tmp_path, capsys):
    assert tune(dataset, tmp_path, "--validation-split", "0") == 1
    assert "--validation-split must be above 0" in capsys.readouterr().err
    assert main(["lr-find", "--dataset", str(dataset), "--start-lr", "1", "--end-lr", "0.1"]) == 1
    assert "--start-lr (1) must be below --end-lr (0.1)" in capsys.readouterr().err
