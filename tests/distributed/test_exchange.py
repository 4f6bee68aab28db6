"""The gradient exchange's shortcuts: a gradient of ``solo_bytes`` or more in a bucket of its own and, when the
exchange may consume the gradients, summed where it lies (no copy into a bucket); the weight left to the optimizer's
update when every rank's share is the same; a number (the step's loss) riding in the last bucket of floats. In one
process here; marked ``mpi``, tests/distributed/exchange_program.py on 2 and 3 ranks against one process and
against the exchange without its shortcuts."""
from __future__ import annotations

import numpy as np
import pytest
from mpi_ranks import ROOT, ranks_results, run_ranks

from chainrule import distributed as dist
from chainrule.distributed.fusion import GradientReducer
from chainrule.distributed.optimizer import scales_gradients_for_free
from chainrule.distributed.replica import gradients_owned, step_weight, weights_uniform
from chainrule.keras.optimizers import SGD, Adam


def test_a_large_gradient_has_a_bucket_of_its_own():
    grads = [np.ones(10, np.float32), np.ones(40, np.float32), np.ones(3, np.float32), np.ones(2, np.float32)]
    plan = GradientReducer(solo_bytes=100).plan(grads)
    members = [[k for k in range(len(grads)) if plan.bucket_of[k] == b] for b in range(len(plan.buckets))]
    # backwards: 3 and 2 together, 1 (160 bytes) alone, then 0 in 3 and 2's bucket, which backward completes last
    assert members == [[1], [0, 2, 3]]
    assert plan.solo == [1, None] and plan.direct == [(0, 1)]


def test_small_gradients_between_large_ones_share_one_bucket():
    # a network of large kernels and small biases: one bucket per kernel and one for all the biases (not one per
    # bias), ordered by when backward completes them, so that each can start as soon as its gradients are there
    grads = [np.ones(n, np.float32) for n in (40, 2, 40, 2, 40, 3)]
    plan = GradientReducer(solo_bytes=100).plan(grads, carry=True)
    members = [[k for k in range(len(grads)) if plan.bucket_of[k] == b] for b in range(len(plan.buckets))]
    assert members == [[4], [2], [1, 3, 5], [0]]  # (backward finishes 1, the last bias, before 0, the first kernel)
    assert plan.carrier is not None and plan.bucket_of[5] == 2 and plan.buckets[2].size == 2 + 2 + 3 + 1
    assert plan.start_order[0] == 2  # (all started at once: the smallest first, the wait for a late rank)
    reducer = GradientReducer(solo_bytes=100)
    out = reducer.reduce([g * (k + 1) for k, g in enumerate(grads)], 0.5, extra=2.0)
    for k, g in enumerate(out):
        np.testing.assert_array_equal(g, np.full(grads[k].shape, 0.5 * (k + 1), np.float32))
    assert reducer.extra_sum == 2.0


def test_a_consumed_gradient_alone_in_its_bucket_is_summed_where_it_lies():
    big, small = np.full(64, 3.0, np.float32), np.full(2, 3.0, np.float32)
    reducer = GradientReducer(solo_bytes=256)
    out = reducer.reduce([small, big], 0.5, consume=True)
    assert out[1] is big and reducer.summed_in_place == 1  # (weighted in place: one rank's sum is its own share)
    np.testing.assert_array_equal(big, 1.5)
    plan = reducer.plan([small, big])
    assert out[0] is not small and np.shares_memory(out[0], plan.buckets[plan.bucket_of[0]])
    np.testing.assert_array_equal(small, 3.0)
    np.testing.assert_array_equal(out[0], 1.5)


def test_without_consume_the_gradients_are_left_as_they_were():
    big = np.full(64, 3.0, np.float32)
    reducer = GradientReducer(solo_bytes=256)
    out = reducer.reduce([big], 0.5)
    assert out[0] is not big and reducer.summed_in_place == 0
    np.testing.assert_array_equal(big, 3.0)
    np.testing.assert_array_equal(out[0], 1.5)


def test_views_and_arrays_given_twice_are_copied_not_summed_in_place():
    base = np.full(128, 2.0, np.float32)
    view = base[:64]  # (memory of another array's)
    reducer = GradientReducer(solo_bytes=256)
    out = reducer.reduce([view, np.full(64, 2.0, np.float32)], 1.0, consume=True)
    assert out[0] is not view and reducer.summed_in_place == 1
    shared = np.full(64, 2.0, np.float32)  # one array as two variables' gradients
    out = reducer.reduce([shared, shared], 0.5, consume=True)
    assert reducer.summed_in_place == 0 and out[0] is not shared
    np.testing.assert_array_equal(shared, 2.0)
    np.testing.assert_array_equal(out[1], 1.0)


def test_scale_later_leaves_the_weight_to_the_caller():
    g = np.full(3, 4.0, np.float32)
    out = GradientReducer().reduce([g], 0.25, scale_later=True)
    np.testing.assert_array_equal(out[0], 4.0)


def test_a_number_rides_in_the_last_bucket_of_floats():
    reducer = GradientReducer(solo_bytes=256)
    grads = [np.ones(2, np.float32), np.ones(64, np.float32)]
    out = reducer.reduce(grads, 1.0, extra=2.5)
    assert reducer.extra_sum == 2.5
    plan = reducer.plan(grads, carry=True)
    assert plan.carrier is not None and np.shares_memory(plan.carrier, plan.buckets[-1])  # (bucket 1 is the solo)
    assert plan.buckets[-1].size == 3
    np.testing.assert_array_equal(out[0], 1.0)
    only_large = GradientReducer(solo_bytes=4)  # (every gradient alone: the number goes on its own)
    only_large.reduce([np.ones(2, np.float32)], 1.0, extra=-1.0)
    assert only_large.plan([np.ones(2, np.float32)], carry=True).carrier is None and only_large.extra_sum == -1.0


def test_the_step_context_says_whether_shares_are_equal_and_the_gradients_owned():
    assert weights_uniform() and not gradients_owned()
    with step_weight(0.3, uniform=False, owned=True):
        assert not weights_uniform() and gradients_owned()
    assert weights_uniform() and not gradients_owned()


def test_which_updates_take_the_weight_for_free():
    assert scales_gradients_for_free(dist.DistributedOptimizer(Adam(0.1)))
    assert scales_gradients_for_free(dist.DistributedOptimizer(SGD(0.1, momentum=0.9)))
    assert not scales_gradients_for_free(dist.DistributedOptimizer(Adam(0.1, clipnorm=1.0)))
    assert not scales_gradients_for_free(dist.DistributedOptimizer(SGD(0.1, global_clipnorm=1.0)))

    class Own(SGD):
        def update_step(self, gradient, variable, slots, learning_rate):
            variable -= learning_rate * gradient
    assert not scales_gradients_for_free(dist.DistributedOptimizer(Own(0.1)))


def test_apply_with_loss_in_one_process_returns_the_loss_and_skips_a_non_finite_one():
    import chainrule as cr

    opt = dist.DistributedOptimizer(SGD(0.5))
    w = cr.Variable([1.0])
    assert opt.apply_with_loss([np.array([2.0], np.float32)], [w], 0.75) == 0.75
    np.testing.assert_array_equal(w.numpy(), [0.0])
    assert np.isnan(opt.apply_with_loss([np.array([2.0], np.float32)], [w], float("nan")))
    np.testing.assert_array_equal(w.numpy(), [0.0])


# --- on several ranks --------------------------------------------------------------------------------------------------
PROGRAM = ROOT / "tests" / "distributed" / "exchange_program.py"


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return ranks_results(1, PROGRAM, tmp_path_factory.mktemp("one"), "exchange")[0]


@pytest.mark.mpi
@pytest.mark.parametrize("n", [2, 3])
def test_the_shortcuts_train_as_one_process_and_as_the_plain_exchange(n, single, tmp_path):
    done = run_ranks(n, PROGRAM, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr  # (weights equal across ranks, NaN step skipped: checked)
    for rank in range(n):
        ranks = np.load(tmp_path / f"exchange_rank{rank}.npz")
        assert int(ranks["summed_in_place"]) == 8  # (every step: the 280 KB gradient summed where it lay)
        uneven = sum(rows % n != 0 for rows in (12, 12, 10, 13, 12, 12, 12))  # (the NaN step applies nothing)
        assert int(ranks["scaled_by_the_update"]) == 7 - uneven
        if n == 2:  # (halves: summing, then halving, rounds exactly as halving, then summing)
            np.testing.assert_array_equal(ranks["fast"], ranks["plain"])
        else:
            np.testing.assert_allclose(ranks["fast"], ranks["plain"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(ranks["fast"], single["fast"], rtol=0, atol=2e-6)
        np.testing.assert_allclose(ranks["fast_losses"], single["fast_losses"], rtol=1e-6)


def test_a_step_laid_out_as_the_last_reuses_its_plan_and_any_other_layout_does_not():
    # the one-bucket exchange reuses the last step's plan when the gradients look alike; a change of dtype or shape
    # makes a plan of its own (never a cast or a broadcast into the old buckets), and a number to carry where the
    # plan has no slot for it goes in an allreduce of its own
    reducer = GradientReducer()
    grads = [np.ones(3, np.float32), None, np.full((2, 2), 2.0, np.float32)]
    reducer.reduce(grads, 0.5, extra=1.0)
    plan = reducer._last_plan
    assert plan.single and plan.carrier is not None
    out = reducer.reduce([None if g is None else g * 2 for g in grads], 0.5, extra=3.0)
    assert reducer._last_plan is plan and reducer.extra_sum == 3.0 and out[1] is None
    np.testing.assert_array_equal(out[0], np.ones(3, np.float32))
    np.testing.assert_array_equal(out[2], np.full((2, 2), 2.0, np.float32))
    out = reducer.reduce([None if g is None else g.astype(np.float64) for g in grads], 0.5)
    assert reducer._last_plan is not plan and out[0].dtype == np.float64 and out[2].dtype == np.float64
    out = reducer.reduce([np.ones(1, np.float64), None, np.ones((2, 2), np.float64)], 1.0)
    assert out[0].shape == (1,) and out[2].shape == (2, 2)  # (not broadcast into the last plan's (3,))
    overlapped = GradientReducer(overlap=True)  # (its plans carry nothing: the number goes on its own)
    for value in (2.0, 5.0):
        out = overlapped.reduce(grads, 1.0, extra=value)
        assert overlapped.extra_sum == value
        np.testing.assert_array_equal(out[2], grads[2])


# --- waiting -----------------------------------------------------------------------------------------------------------
class _Request:
    """A request that completes at its ``polls``-th Test."""

    def __init__(self, polls: int):
        self.polls = polls

    def Test(self) -> bool:
        self.polls -= 1
        return self.polls <= 0


def test_a_wait_past_its_window_sleeps_between_polls_unless_every_rank_has_come(monkeypatch):
    from chainrule.distributed import comm

    waiter = object.__new__(comm.MPICommunicator)  # (no MPI needed: wait only polls the request)
    waiter._spin = False
    monkeypatch.setattr(comm, "YIELDING_S", 0.0)
    monkeypatch.setattr(comm, "YIELDING_BYTES_PER_S", float("inf"))
    slept = []
    monkeypatch.setattr(comm.time, "sleep", slept.append)
    waiter.wait(_Request(20), 1 << 20)
    assert len(slept) >= 10  # (a late rank: the core is offered)
    slept.clear()
    waiter.wait(_Request(20), 1 << 20, peers_arrived=True)
    assert slept == []  # (only bytes to move: a sleep per poll would move them one step at a time)


def test_buckets_started_together_start_with_the_smallest():
    grads = [np.ones(100, np.float32), np.ones(3, np.float32), np.ones(50, np.float32)]
    plan = GradientReducer(first_bucket_bytes=8, bucket_bytes=8, solo_bytes=1 << 20).plan(grads)
    sizes = [b.size for b in plan.buckets]
    assert sorted(plan.start_order) == list(range(len(sizes)))
    assert sizes[plan.start_order[0]] == min(sizes)
