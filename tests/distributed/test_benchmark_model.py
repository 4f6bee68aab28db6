"""The step-time model of benchmarks/distributed.py (docs/distributed.md): the ring allreduce's terms, and what the
paper models are."""
from __future__ import annotations

import pytest

from benchmarks.distributed import PAPER_MODELS, predictions, step_seconds


def test_one_machine_is_its_computation_alone():
    assert step_seconds(1, 0.02, 1e6, 1e9, 1e-5, 1e-5, 1e10) == 0.02


def test_ring_terms():
    # 4 machines: 6 messages of latency (one allreduce: the loss rides with the gradients), 1.5 x the bytes over the
    # link, one pass copying the packed bytes
    t = step_seconds(4, 0.0, 4e6, 1e9, 1e-5, 2e-6, 4e9, packed_bytes=4e5)
    assert t == pytest.approx(6 * 1e-5 + 1.5 * 4e-3 + 2e-6 + 1e-4)


def test_paper_models_weights_and_flops():
    cnn_weights, cnn_flops, cnn_packed = PAPER_MODELS["cnn"]
    assert cnn_weights == 32 * 9 + 32 + 5408 * 128 + 128 + 128 * 10 + 10
    assert cnn_packed == cnn_weights - 5408 * 128  # (the dense kernel's 2.8 MB travel alone)
    lstm_weights, lstm_flops, lstm_packed = PAPER_MODELS["lstm"]
    assert lstm_weights == 4 * (128 * 28 + 128 * 128 + 128) + 128 * 10 + 10
    assert lstm_packed == lstm_weights - 4 * 128 * 128  # (the recurrent kernel's 256 KB travel alone)
    assert lstm_flops > 2 * cnn_flops


def test_efficiency_falls_with_machines_and_rises_with_bandwidth():
    rows = predictions(5e9, 5e-6, 5e9)
    for model in PAPER_MODELS:
        for link in ("10 Gbit/s", "100 Gbit/s"):
            e = [r["efficiency"] for r in rows if r["model"] == model and r["link"] == link]
            assert e == sorted(e, reverse=True) and 0 < e[-1] < e[0] <= 1
        slow, fast = ([r["efficiency"] for r in rows if r["model"] == model and r["link"] == link]
                      for link in ("10 Gbit/s", "100 Gbit/s"))
        assert all(f > s for s, f in zip(slow, fast))
