"""The gradient exchange overlapped with backward: the engine's hook that reports each leaf's gradient once it is
complete, the buckets (reverse order of the variables, a small first one), an overlapped exchange equal to the
plain one bit for bit (and sent again when the gradients applied are not those backward finished), the switch; and,
marked ``mpi``, tests/distributed/overlap_program.py on 2 and 3 ranks."""
from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pytest
from mpi_ranks import needs_mpi, run_ranks

import chainrule as cr
from chainrule.distributed import DistributedOptimizer, overlap
from chainrule.distributed import fusion
from chainrule.distributed.fusion import GradientReducer
from chainrule.engine import autograd
from chainrule.keras.optimizers import SGD


@pytest.fixture
def hook():
    """Install a recording hook for the test, and put back whatever was there."""
    seen = []

    def on_walk(graph, keep):
        def on_final(leaves, results):
            for leaf in leaves:
                # (a copy of the gradient, and which leaves had a gradient at that moment)
                seen.append((leaf, np.array(results[id(leaf)][1]), set(results)))
        return on_final

    previous = autograd.set_final_gradient_hook(on_walk)
    yield seen
    autograd.set_final_gradient_hook(previous)


def two_layers():
    rng = np.random.default_rng(0)
    w1, b1 = cr.Variable(rng.normal(size=(4, 5)).astype("float32")), cr.Variable(np.zeros(5, "float32"))
    w2, b2 = cr.Variable(rng.normal(size=(5, 3)).astype("float32")), cr.Variable(np.zeros(3, "float32"))
    x = cr.constant(rng.normal(size=(6, 4)).astype("float32"))
    loss = cr.reduce_sum(cr.nn.relu(cr.matmul(cr.nn.relu(cr.matmul(x, w1) + b1), w2) + b2) ** 2)
    return loss, [w1, b1, w2, b2]


def test_hook_reports_each_leaf_once_with_its_final_gradient_before_backward_ends(hook):
    loss, variables = two_layers()
    expected = cr.grad(loss, variables)
    assert sorted(id(leaf) for leaf, _, _ in hook) == sorted(id(v) for v in variables)
    for leaf, g, _ in hook:
        np.testing.assert_array_equal(g, expected[[id(v) for v in variables].index(id(leaf))].numpy())
    # the second layer's gradients come while the first layer's are still to be computed
    w1, b1, w2, b2 = variables
    reported = {id(leaf): present for leaf, _, present in hook}
    assert id(w1) not in reported[id(w2)] and id(b1) not in reported[id(b2)]


def test_hook_is_not_called_for_backward_or_differentiable_gradients(hook):
    loss, variables = two_layers()
    loss.backward()  # (accumulates into .grad)
    cr.grad(loss, variables, create_graph=True)
    assert hook == []


def test_without_a_hook_the_walk_gives_the_same_gradients():
    assert autograd._final_gradient_hook is None or autograd._final_gradient_hook is overlap._on_walk
    previous = autograd.set_final_gradient_hook(None)
    try:
        loss, variables = two_layers()
        plain = [g.numpy() for g in cr.grad(loss, variables)]
    finally:
        autograd.set_final_gradient_hook(previous)
    seen = []
    autograd.set_final_gradient_hook(lambda graph, keep: lambda leaves, results: seen.extend(leaves))
    try:
        hooked = [g.numpy() for g in cr.grad(loss, variables)]
    finally:
        autograd.set_final_gradient_hook(previous)
    assert len(seen) == 4
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a, b)


def test_buckets_in_reverse_order_with_a_small_first_one():
    grads = [np.ones(300, np.float32), np.ones(10, np.float32), None, np.ones(200, np.float32),
             np.ones(5, np.float64), np.ones(50, np.float32), np.ones(2, np.float32)]
    plan = GradientReducer(first_bucket_bytes=100, bucket_bytes=800).plan(grads)
    members = [[k for k in range(len(grads)) if plan.bucket_of[k] == b] for b in range(len(plan.buckets))]
    # backwards: 6 and 5 (208 bytes: the first bucket closes once past 100), 4 (float64: a bucket of its own),
    # 3 (800 bytes: full), then 1 and 0 (a bucket closes once it reaches its size, as DDP's)
    assert members == [[5, 6], [4], [3], [0, 1]]
    assert [b.dtype for b in plan.buckets] == [np.float32, np.float64, np.float32, np.float32]
    assert plan.into[2] is None


def _reducers():
    return GradientReducer(first_bucket_bytes=64, overlap=True), GradientReducer(first_bucket_bytes=64, overlap=False)


def test_an_overlapped_exchange_starts_in_backward_and_equals_the_plain_one():
    overlapped, plain = _reducers()
    loss, variables = two_layers()
    grads = [g.numpy() for g in cr.grad(loss, variables)]
    overlapped.reduce(grads, 0.5, variables)  # (the first step: arms the next backward walk)
    plain.reduce(grads, 0.5, variables)
    loss, variables2 = two_layers()
    for v, v2 in zip(variables, variables2):
        v2.assign(v * 1.5)
    loss = cr.reduce_sum(cr.nn.relu(cr.matmul(cr.nn.relu(cr.matmul(
        cr.constant(np.random.default_rng(1).normal(size=(6, 4)).astype("float32")), variables[0]) + variables[1]),
        variables[2]) + variables[3]) ** 2)
    grads = [g.numpy() for g in cr.grad(loss, variables)]
    pending = overlapped.pending
    assert pending is not None and pending.started == len(pending.plan.buckets)  # every bucket began in backward
    assert all(p is g for p, g in zip(pending.packed, grads))
    together = overlapped.reduce(grads, 0.5, variables)
    assert overlapped.started_in_backward == len(pending.plan.buckets) and overlapped.pending is None
    for a, b in zip(together, plain.reduce(grads, 0.5)):
        np.testing.assert_array_equal(a, b)


def test_gradients_changed_after_backward_are_sent_again():
    overlapped, plain = _reducers()
    loss, variables = two_layers()
    grads = [g.numpy() for g in cr.grad(loss, variables)]
    overlapped.reduce(grads, 0.5, variables)
    grads = [g.numpy() for g in cr.grad(loss, variables)]
    assert overlapped.pending is not None
    clipped = [g * np.float32(0.25) for g in grads]
    for a, b in zip(overlapped.reduce(clipped, 0.5, variables), plain.reduce(clipped, 0.5)):
        np.testing.assert_array_equal(a, b)
    assert overlapped.started_in_backward == 0 and overlapped.resent == 1


def test_a_loop_that_keeps_changing_its_gradients_stops_the_overlap():
    overlapped, _ = _reducers()
    loss, variables = two_layers()
    overlapped.reduce([g.numpy() for g in cr.grad(loss, variables)], 0.5, variables)
    for step in range(3):
        grads = [g.numpy() for g in cr.grad(loss, variables)]
        assert (overlapped.pending is not None) == (step < 2)
        overlapped.reduce([g * np.float32(0.25) for g in grads], 0.5, variables)
    assert overlapped.resent == 2


def test_a_walk_for_other_variables_starts_nothing():
    overlapped, _ = _reducers()
    loss, variables = two_layers()
    overlapped.reduce([g.numpy() for g in cr.grad(loss, variables)], 0.5, variables)
    cr.grad(loss, variables[:2])  # (not every variable's gradient: not a training step's)
    assert overlapped.pending is None


def test_the_switch(monkeypatch):
    monkeypatch.delenv("CHAINRULE_OVERLAP", raising=False)
    assert GradientReducer().overlap == fusion.OVERLAP
    assert GradientReducer(overlap=True).overlap and not GradientReducer(overlap=False).overlap
    assert DistributedOptimizer(SGD(0.1), overlap=True)._reducer.overlap
    for setting, expected in (("0", False), ("1", True)):
        monkeypatch.setenv("CHAINRULE_OVERLAP", setting)
        assert GradientReducer().overlap is expected and DistributedOptimizer(SGD(0.1))._reducer.overlap is expected


def test_the_hook_goes_once_no_armed_reducer_is_left():
    reducer, _ = _reducers()
    loss, variables = two_layers()
    reducer.reduce([g.numpy() for g in cr.grad(loss, variables)], 0.5, variables)
    assert autograd._final_gradient_hook is overlap._on_walk
    del reducer
    gc.collect()
    cr.grad(loss, variables)
    assert autograd._final_gradient_hook is None


# --- on several ranks --------------------------------------------------------------------------------------------------
PROGRAM = Path(__file__).with_name("overlap_program.py")


@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_overlapped_training_equals_plain_bit_for_bit_on_ranks(n, tmp_path):
    needs_mpi()
    done = run_ranks(n, PROGRAM, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr  # (the program compares the weights on every rank)
    for rank in range(n):
        report = json.loads((tmp_path / f"overlap_rank{rank}.json").read_text())
        # from the second step on, both buckets began during backward (also in the fit after a step that no apply
        # took); never without overlap, nor when the loop changed its gradients after backward
        if rank == 0:  # (fit's callbacks, which look, run on rank 0)
            assert report["fit"]["started_in_backward"] == [0] + [2] * 11
        assert report["tape"]["started_in_backward"] == [0] + [2] * 5
        assert report["tape_clipped"]["started_in_backward"] == [0] * 6
        for scenario in report.values():
            assert set(scenario["started_without_overlap"]) <= {0}
