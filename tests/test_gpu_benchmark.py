"""The GPU benchmark's orchestration, without a GPU: arguments, the per-side processes' failure reports, the table."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks import gpu, run


def test_device_argument_routes_and_checks():
    assert run.main(["--device", "tpu"]) == 2
    with pytest.raises(SystemExit):
        run.main(["--device", "gpu", "--workloads", "cnn-b1024"])  # not a GPU workload: argparse's error


def test_table_quotes_ratios_against_the_goals():
    steps = gpu.WORKLOADS["cnn-b128"][2]
    per_step = {"chainrule": 0.003, "torch": 0.002}
    results = {"cnn-b128": {side: {"round_s": [t * steps] * 3, "peak_gpu_mb": 300.0} for side, t in per_step.items()}}
    header, row = gpu.report_rows(results)
    assert "ratio" in header
    epoch = {side: t * gpu.EPOCH_IMAGES / 128 for side, t in per_step.items()}
    assert f"{epoch['chainrule']:.3f}" in row and f"{epoch['torch']:.3f}" in row and "1.50x" in row and "1.5x" in row


def test_a_side_that_fails_is_reported_with_its_last_line():
    results = {"mlp-b128": {"chainrule": {"error": "Traceback...\nImportError: the 'cupy' backend needs CuPy"},
                            "torch": {"round_s": [1.0], "peak_gpu_mb": 1.0}}}
    assert "chainrule: ImportError: the 'cupy' backend needs CuPy" in gpu.report_rows(results)[-1]


def test_without_cupy_a_chainrule_side_fails_with_the_install_hint():
    pytest.importorskip("torch")
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    result = gpu.measure("chainrule", "mlp-b128", 1)
    assert "error" in result and "pip install" in result["error"]
    assert np.isfinite(gpu.EPOCH_IMAGES)
