"""The differentiable collectives (chainrule/distributed/collective_ops.py) as registered ops: float64 finite
differences and PyTorch's differentiable ``all_reduce`` (a gloo group of one process) in the default run; across
2 and 3 ranks (marked ``mpi``) tests/distributed/collective_program.py compares them, and SyncBatchNormalization,
with PyTorch in the same ranks and checks finite differences of the global loss across the ranks."""
from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed
from helpers import compare_with_torch, covers
from mpi_ranks import needs_mpi, run_ranks

import chainrule as cr
from chainrule.distributed.collective_ops import allreduce_mean, allreduce_sum
from chainrule.distributed.replica import step_weight
from chainrule.engine.gradcheck import check_gradients

PROGRAM = Path(__file__).with_name("collective_program.py")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.fixture(scope="module")
def torch_group(tmp_path_factory):
    """A gloo process group of this one process, for torch.distributed.nn.functional.all_reduce."""
    if torch.distributed.is_initialized():
        yield
        return
    store = tmp_path_factory.mktemp("gloo") / "store"
    torch.distributed.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1)
    try:
        yield
    finally:
        torch.distributed.destroy_process_group()


def torch_all_reduce(tensor):
    import warnings

    from torch.distributed.nn.functional import all_reduce

    with warnings.catch_warnings():  # (torch 2.13 points to functional collectives, which have no autograd)
        warnings.simplefilter("ignore", FutureWarning)
        return all_reduce(tensor)


@covers("allreduce_sum", "allreduce_mean", kind="fd")
@pytest.mark.parametrize("weight", [None, 0.25])
def test_collectives_finite_differences(weight):
    with step_weight(weight) if weight is not None else contextlib.nullcontext():
        check_gradients(allreduce_sum, rand(2, 3))
        check_gradients(lambda s: allreduce_mean(s, 5), rand(4, seed=1))


def test_collectives_second_order_match_torch(torch_group):
    # their backward passes are allreduces themselves, so a gradient built with create_graph differentiates again
    import test_second_order

    test_second_order.assert_second_order_matches_torch(lambda x: allreduce_sum(x * x),
                                                        lambda x: torch_all_reduce(x * x), rand(3, seed=2))
    count = torch.tensor(4.0, dtype=torch.float64)
    test_second_order.assert_second_order_matches_torch(
        lambda s: allreduce_mean(s * s, 4), lambda s: torch_all_reduce(s * s) / torch_all_reduce(count),
        rand(3, seed=3))


@covers("allreduce_sum", "allreduce_mean", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_collectives_match_torch_all_reduce(torch_group, dtype):
    compare_with_torch(allreduce_sum, torch_all_reduce, rand(2, 3), dtype=dtype)
    count = torch.tensor(7.0, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    compare_with_torch(lambda s: allreduce_mean(s, 7), lambda s: torch_all_reduce(s) / torch_all_reduce(count),
                       rand(5, seed=1), dtype=dtype)


@pytest.mark.parametrize("op", ["average", "sum"])
def test_horovods_allreduce_of_a_tensor_that_requires_grad_is_differentiable(torch_group, op):
    from chainrule import distributed

    compare_with_torch(lambda x: distributed.allreduce(x, op=op), torch_all_reduce, rand(2, 3))
    maximum = distributed.allreduce(cr.Tensor(rand(3), requires_grad=True), op="max")
    assert not maximum.requires_grad  # (a constant of the graph, as before)


@pytest.mark.parametrize("count", [-1, 2.5, True, "3"])
def test_allreduce_mean_refuses_a_count_that_is_not_a_row_count(count):
    with pytest.raises(ValueError, match="allreduce_mean: count must be this rank's number of rows"):
        allreduce_mean(cr.Tensor(rand(2)), count)


def test_sync_batch_normalization_runs_its_statistics_through_the_registered_op(monkeypatch):
    # with one process the layer is BatchNormalization; a communicator of two ranks that sum to themselves
    # (so the global batch is this rank's rows twice over) makes it take the synchronized path
    from chainrule.distributed import SyncBatchNormalization, batchnorm, comm
    from chainrule.keras.layers import BatchNormalization

    class Twice(comm.LocalCommunicator):
        size = 2

        def allreduce_array(self, array, op):
            array *= 2
            return array

    calls = []
    monkeypatch.setattr(batchnorm, "allreduce_mean", lambda *a: calls.append(a) or allreduce_mean(*a))
    monkeypatch.setattr(comm, "_communicator", Twice())
    x = cr.Tensor(rand(6, 3, seed=3).astype("float32"))
    synced = SyncBatchNormalization()(x, training=True)
    assert [a[1] for a in calls] == [6, 6]
    monkeypatch.setattr(comm, "_communicator", comm.LocalCommunicator())
    np.testing.assert_allclose(synced.numpy(), BatchNormalization()(x, training=True).numpy(), atol=1e-5)


@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_and_sync_batch_norm_across_ranks_match_torch(tmp_path, n):
    needs_mpi()
    done = run_ranks(n, PROGRAM, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for rank in range(n):
        report = json.loads((tmp_path / f"checks_rank{rank}.json").read_text())
        assert report["size"] == n
        passed = report["passed"]
        for dtype in ("float64", "float32"):
            for what in ("allreduce_sum forward", "allreduce_sum gradient", "allreduce_mean forward",
                         "allreduce_mean gradient"):
                assert f"{what} {dtype}" in passed and f"{what} {dtype} weighted" in passed
            assert f"allreduce average forward {dtype}" in passed and f"allreduce average gradient {dtype}" in passed
            for what in ("forward", "input gradient", "gamma gradient", "beta gradient", "moving mean",
                         "moving variance"):
                assert f"SyncBatchNormalization {what} {dtype}" in passed
    # each rank checks the finite differences of its own inputs
    for name in ("allreduce_mean", "allreduce_sum"):
        assert all(f"{name} finite differences across {n} ranks" in json.loads(
            (tmp_path / f"checks_rank{r}.json").read_text())["passed"] for r in range(n))
