"""The benchmark command runs end to end and writes the JSON it promises (benchmarks/run.py, tiny mode).

No timing is asserted: the benchmark is an instrument. What is checked: the command exits 0, prints the table, and
the JSON has every workload and op with positive times for both frameworks, memory figures, the sgemm peak, and
the same weight count in chainrule, in PyTorch and in the analytic layer list; seed 003's loop rows have a time for
each chainrule mode (fit, eager loop, tf.function loop; each round checks it took its optimizer steps) and torch,
and their ratios.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package; plain `pytest` does not add the root

from benchmarks.workloads import (LOOP_GOALS, LOOP_MODES, LOOPS, NETWORKS, OPS, TRAINING, count_params,  # noqa: E402
                                  train_gflop_per_epoch)


def test_flop_and_weight_counts():
    assert train_gflop_per_epoch(NETWORKS["cnn"]) == pytest.approx(320, rel=0.01)  # the figure
    assert count_params(NETWORKS["cnn"]) == 693_962
    assert count_params(NETWORKS["mlp"]) == 7_960
    assert count_params(NETWORKS["deep-cnn"]) == 390_410


def test_tiny_run_writes_the_report(tmp_path):
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--tiny", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Training: time per epoch" in proc.stdout and "Seed 003's loop" in proc.stdout and "Per op" in proc.stdout
    report = json.loads(out.read_text())

    assert report["schema"] == "chainrule-benchmark/1" and report["errors"] == []
    assert report["settings"]["mode"] == "tiny" and "git" in report
    assert "torch" not in report["imported_in_main"] and "chainrule" not in report["imported_in_main"]
    machine = report["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["chainrule"]["numpy"] and machine["torch"]["version"] and machine["torch"]["threads"] >= 1
    assert "threads" in machine["chainrule"]["blas"]
    assert report["sgemm"]["numpy_gflops"] > 0 and report["sgemm"]["torch_gflops"] > 0
    assert report["table"] in proc.stdout

    assert [row["name"] for row in report["training"]] == list(TRAINING)
    for row in report["training"]:
        assert row["chainrule"]["params"] == row["torch"]["params"] == row["params_expected"], row["name"]
        for side in ("chainrule", "torch"):
            result = row[side]
            assert len(result["round_s"]) == 1 and result["epoch_s"] > 0 and result["gflops"] > 0
            memory = result["memory"]
            assert memory["peak_rss_mb"] >= memory["after_import_peak_rss_mb"] > 0
            assert memory["increase_mb"] >= 0
        assert row["ratio"] > 0 and row["ratio_paired_median"] > 0

    assert [row["name"] for row in report["loops"]] == list(LOOPS)
    for row in report["loops"]:
        chainrule, torch = row["chainrule"], row["torch"]
        assert (row["network"], row["batch"]) == LOOPS[row["name"]][:2] and row["steps_per_round"] == 2
        assert chainrule["params"] == torch["params"] == row["params_expected"], row["name"]
        for result in [chainrule[mode] for mode in LOOP_MODES] + [torch]:
            assert len(result["round_s"]) == 1 and result["epoch_s"] > 0 and result["gflops"] > 0
        for result in (chainrule, torch):
            assert result["memory"]["peak_rss_mb"] >= result["memory"]["after_import_peak_rss_mb"] > 0
        assert row["ratio_to_fit"].keys() == row["ratio_to_fit_paired_median"].keys() == {"eager", "function"}
        assert row["ratio_to_torch"].keys() == row["ratio_to_torch_paired_median"].keys() == set(LOOP_MODES)
        assert all(r > 0 for key in ("ratio_to_fit", "ratio_to_torch") for r in row[key].values())
        assert row["goals"] == LOOP_GOALS and row["meets_goal"].keys() == LOOP_GOALS.keys()
        assert row["name"] in report["table"]

    assert [row["name"] for row in report["ops"]] == list(OPS)
    for row in report["ops"]:
        for side in ("chainrule", "torch"):
            assert row[side]["forward_ms_median"] > 0 and row[side]["backward_ms_median"] > 0
        assert row["ratio_forward"] > 0 and row["ratio_backward"] > 0


def test_script_form_parses_arguments():
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--quick" in proc.stdout and "--json" in proc.stdout
    assert all(name in proc.stdout for name in LOOPS)
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--workloads", "loop-mlp-b32,no-such-loop"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown workload no-such-loop" in proc.stderr and "loop-cnn-b32" in proc.stderr


def test_loop_rows_are_selected_by_name(tmp_path):
    """--workloads picks seed 003's loop rows alone (tiny mode, no ops)."""
    out = tmp_path / "loop.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--tiny", "--json", str(out), "--workloads",
                           "loop-mlp-b32", "--ops", "none"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["training"] == [] and report["ops"] == [] and report["errors"] == []
    assert [row["name"] for row in report["loops"]] == ["loop-mlp-b32"]
    assert "Training: time per epoch" not in proc.stdout and "loop-mlp-b32" in proc.stdout


def test_accuracy_tool_trains_the_recipe_in_chainrule_and_torch():
    """benchmarks/accuracy.py's two trainers learn the seed recipe (on synthetic digits here, MNIST in the tool)."""
    import numpy as np

    from benchmarks import accuracy

    sys.path.insert(0, str(ROOT / "tests" / "seeds"))
    from seed_data import synthetic_mnist

    (x, y), (xt, yt) = synthetic_mnist(256, 200, seed=1)
    eye = np.eye(10, dtype=np.float32)
    data = ((x / 255.0).astype(np.float32)[..., None], eye[y], (xt / 255.0).astype(np.float32)[..., None], eye[yt])
    import chainrule

    for accuracies in (accuracy.train_keras_style(chainrule.keras, 0, 2, data), accuracy.train_torch(0, 2, data)):
        assert len(accuracies) == 2 and accuracies[-1] > 0.8, accuracies


def test_step_profile_times_the_functions_a_step_calls():
    """benchmarks/step_profile.py: every timed function a CNN step runs shows up with a positive time (run in its own
    process: the timers stay installed where they run)."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.step_profile", "--network", "cnn", "--batch", "4",
                           "--steps", "2"], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0]: float(line.split()[1]) for line in proc.stdout.splitlines()[2:]}
    for name in ("Sequential.call", "Conv2DReluMaxPool.forward", "tap_max", "im2col", "Optimizer.apply",
                 "LinearRelu.backward", "softmax_xent"):
        assert rows.get(name, 0) > 0, proc.stdout
