"""The program tests/distributed/test_collective_ops.py starts with ``mpiexec -n N``: chainrule's differentiable
collectives against PyTorch's (``torch.distributed.nn.functional.all_reduce`` on a gloo group of the same ranks),
a finite-difference check of ``allreduce_mean`` across the ranks, and SyncBatchNormalization against PyTorch's
batch normalization of the global batch (every rank's rows together).

``python collective_program.py OUT_DIR``: every check raises on a mismatch (which ends all ranks with a non-zero
status); each rank then writes ``OUT_DIR/checks_rank<r>.json``, the checks it passed and their largest errors.
"""
from __future__ import annotations

import contextlib
import json
import socket
import sys
from pathlib import Path

import numpy as np

TOLERANCES = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}


def rows_of(rank: int) -> int:
    return 3 + rank  # uneven shares of the global batch


def inputs(rank: int, shape, dtype, seed: int = 0) -> np.ndarray:
    return np.random.default_rng([seed, rank]).standard_normal(shape).astype(dtype)


class Checks:
    """Comparisons that raise on a mismatch and remember their largest differences."""

    def __init__(self):
        self.passed: dict[str, float] = {}

    def close(self, name: str, mine, reference, dtype: str) -> None:
        mine, reference = np.asarray(mine), np.asarray(reference)
        assert mine.shape == reference.shape, f"{name}: shape {mine.shape}, expected {reference.shape}"
        np.testing.assert_allclose(mine, reference, **TOLERANCES[dtype], err_msg=name)
        self.passed[name] = float(np.max(np.abs(mine - reference), initial=0.0))


def start_torch(dist) -> None:
    """A gloo process group over the same ranks as MPI's (rank 0 picks the port)."""
    import torch.distributed

    port = None
    if dist.rank() == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    port = dist.broadcast_object(port)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=dist.rank(),
                                         world_size=dist.size())


def torch_grads(outputs, inputs_, upstream):
    import torch

    return [g.numpy() for g in torch.autograd.grad(outputs, inputs_, grad_outputs=torch.tensor(upstream))]


def collectives_against_torch(cr, dist, checks: Checks, dtype: str) -> None:
    """allreduce_sum and allreduce_mean forward and backward, outside a step (equal weights) and inside one with
    each rank's share of the global batch as its weight."""
    import torch
    from torch.distributed.nn.functional import all_reduce

    from chainrule.distributed.collective_ops import allreduce_mean, allreduce_sum
    from chainrule.distributed.replica import step_weight

    r = dist.rank()
    total_rows = sum(rows_of(q) for q in range(dist.size()))
    weight = rows_of(r) / total_rows
    x, g = inputs(r, (2, 3), dtype), inputs(r, (2, 3), dtype, seed=1)
    s, gs = inputs(r, (4,), dtype, seed=2), inputs(r, (4,), dtype, seed=3)
    for weighted in (False, True):
        share = weight if weighted else 1.0  # (torch: each rank's loss scaled by its share instead)
        with step_weight(weight) if weighted else contextlib.nullcontext():
            mine = cr.Tensor(x, requires_grad=True)
            y = allreduce_sum(mine)
            (dx,) = cr.grad(y, [mine], grad_outputs=cr.Tensor(g))
            local = cr.Tensor(s, requires_grad=True)
            m = allreduce_mean(local, rows_of(r))
            (ds,) = cr.grad(m, [local], grad_outputs=cr.Tensor(gs))
        theirs = torch.tensor(x, requires_grad=True)
        y_ref = all_reduce(theirs)
        dx_ref = torch_grads(y_ref, [theirs], g * share)[0]
        theirs_s = torch.tensor(s, requires_grad=True)
        count = torch.tensor(float(rows_of(r)), dtype=theirs_s.dtype)
        m_ref = all_reduce(theirs_s) / all_reduce(count)
        ds_ref = torch_grads(m_ref, [theirs_s], gs * share)[0]
        tag = f"{dtype}{' weighted' if weighted else ''}"
        assert y.dtype == m.dtype == dx.dtype == ds.dtype == np.dtype(dtype), (y.dtype, m.dtype, dx.dtype, ds.dtype)
        checks.close(f"allreduce_sum forward {tag}", y.numpy(), y_ref.detach().numpy(), dtype)
        checks.close(f"allreduce_sum gradient {tag}", dx.numpy() * share, dx_ref, dtype)
        checks.close(f"allreduce_mean forward {tag}", m.numpy(), m_ref.detach().numpy(), dtype)
        checks.close(f"allreduce_mean gradient {tag}", ds.numpy() * share, ds_ref, dtype)
    # Horovod's allreduce (an average by default) on a Tensor that requires grad, against PyTorch's all_reduce / N
    mine = cr.Tensor(x, requires_grad=True)
    y = dist.allreduce(mine)
    (dx,) = cr.grad(y, [mine], grad_outputs=cr.Tensor(g))
    theirs = torch.tensor(x, requires_grad=True)
    y_ref = all_reduce(theirs) / dist.size()
    checks.close(f"allreduce average forward {dtype}", y.numpy(), y_ref.detach().numpy(), dtype)
    checks.close(f"allreduce average gradient {dtype}", dx.numpy(), torch_grads(y_ref, [theirs], g)[0], dtype)


def finite_differences_across_ranks(cr, dist, checks: Checks) -> None:
    """The global loss Σ_q w_q <g_q, allreduce_mean(s_q, n_q)> moved by each element of each rank's s in turn
    (that rank alone perturbs it; every rank recomputes its term), against w_r times the gradient on rank r."""
    from chainrule.distributed.collective_ops import allreduce_mean, allreduce_sum
    from chainrule.distributed.replica import step_weight

    r, n = dist.rank(), dist.size()
    total_rows = sum(rows_of(q) for q in range(n))
    weight = rows_of(r) / total_rows
    s, g = inputs(r, (3,), "float64", seed=4), inputs(r, (3,), "float64", seed=5)
    x = inputs(r, (3,), "float64", seed=6)
    for name, function in (("allreduce_mean", lambda t: allreduce_mean(t, rows_of(r))),
                           ("allreduce_sum", allreduce_sum)):
        value = s if name == "allreduce_mean" else x
        with step_weight(weight):
            local = cr.Tensor(value.copy(), requires_grad=True)
            (analytic,) = cr.grad(function(local), [local], grad_outputs=cr.Tensor(g))
            analytic = analytic.numpy() * weight  # what this rank adds to the optimizer's sum

            def global_loss(t):
                term = np.array([weight * float((function(cr.Tensor(t)).numpy() * g).sum())])
                return float(dist.allreduce(term, op="sum")[0])

            eps = 1e-6
            for p in range(n):
                numeric = np.zeros_like(value)
                for k in range(value.size):
                    moved = [value.copy(), value.copy()]
                    if r == p:
                        moved[0][k] += eps
                        moved[1][k] -= eps
                    numeric[k] = (global_loss(moved[0]) - global_loss(moved[1])) / (2 * eps)
                if r == p:
                    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8,
                                               err_msg=f"{name}: finite differences of rank {p}'s input")
                    checks.passed[f"{name} finite differences across {n} ranks"] = float(
                        np.max(np.abs(analytic - numeric)))


def sync_batch_norm_against_torch(cr, keras, dist, checks: Checks, dtype: str) -> None:
    """SyncBatchNormalization on each rank's rows equals PyTorch's batch normalization of the global batch:
    outputs, the moving statistics, and the gradients of the global loss Σ_r w_r <g_r, y_r>."""
    import torch
    import torch.nn.functional as F

    from chainrule.distributed import SyncBatchNormalization
    from chainrule.distributed.replica import step_weight

    r, n = dist.rank(), dist.size()
    channels = 4
    every_x = [inputs(q, (rows_of(q), 2, channels), dtype, seed=7) for q in range(n)]
    every_g = [inputs(q, (rows_of(q), 2, channels), dtype, seed=8) for q in range(n)]
    total_rows = sum(rows_of(q) for q in range(n))
    weights = [rows_of(q) / total_rows for q in range(n)]
    gamma, beta = inputs(0, (channels,), dtype, seed=9), inputs(0, (channels,), dtype, seed=10)

    layer = SyncBatchNormalization(momentum=0.9, epsilon=1e-3, dtype=dtype)
    layer.build((None, 2, channels))
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    x = cr.Tensor(every_x[r], requires_grad=True)
    with step_weight(weights[r]):
        y = layer(x, training=True)
        dx, dgamma, dbeta = cr.grad(y, [x, layer.gamma, layer.beta], grad_outputs=cr.Tensor(every_g[r]))
    dgamma = dist.allreduce(dgamma.numpy() * weights[r], op="sum")  # the optimizer's sum over the ranks
    dbeta = dist.allreduce(dbeta.numpy() * weights[r], op="sum")

    x_all = torch.tensor(np.concatenate(every_x), requires_grad=True)
    gamma_t, beta_t = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    running_mean, running_var = torch.zeros(channels, dtype=x_all.dtype), torch.ones(channels, dtype=x_all.dtype)
    y_all = F.batch_norm(x_all.permute(0, 2, 1), running_mean, running_var, gamma_t, beta_t, training=True,
                         momentum=0.1, eps=1e-3).permute(0, 2, 1)
    upstream = np.concatenate([g * w for g, w in zip(every_g, weights)])
    dx_all, dgamma_ref, dbeta_ref = torch_grads(y_all, [x_all, gamma_t, beta_t], upstream)
    start = sum(rows_of(q) for q in range(r))
    mine = slice(start, start + rows_of(r))
    flat = np.concatenate(every_x).reshape(-1, channels)
    biased_var = flat.var(axis=0)  # (Keras's moving variance follows the biased variance; PyTorch's the unbiased)
    checks.close(f"SyncBatchNormalization forward {dtype}", y.numpy(), y_all.detach().numpy()[mine], dtype)
    checks.close(f"SyncBatchNormalization input gradient {dtype}", dx.numpy() * weights[r], dx_all[mine], dtype)
    checks.close(f"SyncBatchNormalization gamma gradient {dtype}", dgamma, dgamma_ref, dtype)
    checks.close(f"SyncBatchNormalization beta gradient {dtype}", dbeta, dbeta_ref, dtype)
    checks.close(f"SyncBatchNormalization moving mean {dtype}", layer.moving_mean.numpy(), running_mean.numpy(),
                 dtype)
    checks.close(f"SyncBatchNormalization moving variance {dtype}", layer.moving_variance.numpy(),
                 0.9 + 0.1 * biased_var, dtype)


if __name__ == "__main__":
    import warnings

    import chainrule as cr
    from chainrule import distributed, keras

    # (torch 2.13 points to its functional collectives, which have no autograd; the brief's reference is this one)
    warnings.filterwarnings("ignore", "torch.distributed.nn.functional.all_reduce is deprecated")
    distributed.init()
    start_torch(distributed)
    done = Checks()
    for kind in ("float64", "float32"):
        collectives_against_torch(cr, distributed, done, kind)
        sync_batch_norm_against_torch(cr, keras, distributed, done, kind)
    finite_differences_across_ranks(cr, distributed, done)
    out = Path(sys.argv[1])
    (out / f"checks_rank{distributed.rank()}.json").write_text(json.dumps(
        {"size": distributed.size(), "passed": done.passed}, indent=1))
