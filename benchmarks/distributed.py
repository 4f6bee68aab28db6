"""Data-parallel training on MPI, measured: ``python -m benchmarks.distributed [--quick]``.

1. The gradient exchange against mpi4py's raw ``Allreduce`` of the same bytes on 2 ranks, by message size: the
   exchange is chainrule's :class:`~chainrule.distributed.fusion.GradientReducer` on four float32 arrays of that
   many bytes in all, the raw one a single in-place ``Allreduce`` of one float32 buffer, alternated call by call,
   every buffer warm (the same arrays every call). Two ways of calling the exchange: as ``fit`` does (the weight
   left to the optimizer's update, the step's own gradients summed where they lie when they travel alone) and as a
   ``GradientTape`` loop's ``DistributedOptimizer`` does (each gradient copied into its bucket, times the weight,
   the caller's arrays untouched). Beside them, mpi4py's ``Allreduce`` called on each of the four arrays in turn:
   from 1 MiB each array is 256 KiB or more and travels alone, so fit's exchange makes those four calls too, and
   this column says how much of the gap to the one raw call is MPI's per call rather than chainrule's. A line
   ``t = alpha + beta * bytes`` fitted to the raw times gives the latency and bandwidth docs/distributed.md models
   with.
2. Images per second of the seed CNN and MLP, global batch fixed, on 1 process with 1 BLAS thread, 1 process with 2
   threads, and 2 ranks with 1 thread each (chainrule: ``fit`` under ``MultiWorkerMirroredStrategy``; PyTorch:
   DistributedDataParallel on gloo, each rank half the batch), and 1 process with 1 thread on half the batch. Two
   scaling efficiencies, both ``images/s on 2 ranks / (2 x images/s on 1 rank)``: with the global batch fixed
   (strong scaling: 1 rank on the whole batch) and with the batch per rank fixed (weak scaling: 1 rank on half of
   it, the batch each rank has), since a framework whose step costs more than twice as much on twice the batch
   gains from the split before any communication, and the first figure credits that to the distribution.

The machine may be shared: the figures are from one run, and the ratios (chainrule / raw, 2 ranks / 1 rank) are
what to read. Results go to stdout and benchmarks/results/distributed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZES = [2 ** k for k in range(4, 27, 2)]  # bytes: 16 B to 64 MiB
# network -> (global batch, timed steps, full-run steps); the seed CNN's and MLP's batch sizes of benchmarks/run.py
TRAINING = {"cnn": (64, 60), "mlp": (128, 400)}
QUICK_STEPS = {"cnn": 8, "mlp": 40}


def _mpiexec() -> str:
    return shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")


def _env(threads: int) -> dict:
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}


def _run(args: list[str], ranks: int, threads: int) -> dict:
    """This module with ``args`` on ``ranks`` processes (mpiexec when more than one); rank 0's JSON line."""
    command = [sys.executable, "-m", "benchmarks.distributed", *args]
    if ranks > 1:
        command = [_mpiexec(), "-n", str(ranks), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(threads), cwd=ROOT, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- part 1: the exchange against raw Allreduce (runs on each rank) --------------------------------------------------
def _timed(fns: list, repeats: int) -> list[tuple[float, float]]:
    """The (median, fastest) seconds of each of ``fns`` over ``repeats`` rounds, taken in turn within each round
    (A/B/C, A/B/C, ...) so that a slow spell of the shared machine hits them alike; the ranks line up before each
    call. The fastest is what the machine does when no one else runs: the model is fitted to it."""
    from chainrule import distributed

    times = [[] for _ in fns]
    for fn in fns:
        fn()
    for _ in range(repeats):
        for fn, spent in zip(fns, times):
            distributed.barrier()
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [(statistics.median(spent), min(spent)) for spent in times]


def _exchange_row(comm, MPI, grads: list[np.ndarray], repeats: int) -> dict:
    """Raw Allreduce of one buffer of the gradients' bytes against the exchange of the gradients themselves, as fit
    calls it, as a tape loop calls it, and with float16 compression, and raw Allreduce called on each of the
    gradients (what the exchange's buckets do when every gradient travels alone). (The sums grow call by call, to inf in the
    end: the time of a float addition does not depend on its value, but for subnormal numbers, which never arise.)"""
    from chainrule.distributed.fusion import GradientReducer

    buffer = np.ones(sum(g.size for g in grads), np.float32)
    owned = [g.copy() for g in grads]  # (fit's gradients: summed where they lie)
    separate = [g.copy() for g in grads]  # (mpi4py's Allreduce called on each array: the same arrays, unfused)
    fit, tape, half = GradientReducer(), GradientReducer(), GradientReducer("fp16")

    def raw_each() -> None:
        for array in separate:
            comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)

    raw, in_fit, in_tape, fp16, each = _timed([lambda: comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM),
                                               lambda: fit.reduce(owned, 0.5, scale_later=True, consume=True),
                                               lambda: tape.reduce(grads, 0.5), lambda: half.reduce(grads, 0.5),
                                               raw_each], repeats)
    return {"bytes": buffer.nbytes, "arrays": len(grads), "raw_s": raw[0], "fit_s": in_fit[0],
            "exchange_s": in_tape[0], "fp16_s": fp16[0], "raw_each_s": each[0], "raw_each_fastest_s": each[1],
            "raw_fastest_s": raw[1], "fit_fastest_s": in_fit[1],
            "exchange_fastest_s": in_tape[1], "packed_bytes": sum(g.nbytes for g in grads if g.nbytes <
                                                                  fit.solo_bytes)}


def allreduce_part(quick: bool) -> dict:
    from mpi4py import MPI

    from chainrule import distributed
    from benchmarks.worker import ChainruleSide

    distributed.init()
    comm = MPI.COMM_WORLD
    rows = []
    for size in SIZES:
        n = max(4, size // 4)
        grads = [np.ones(part.size, np.float32) for part in np.array_split(np.empty(n, np.float32), 4)]
        repeats = 5 if quick else (300 if size < 2 ** 20 else 30)
        rows.append(_exchange_row(comm, MPI, grads, repeats))
    sizes = np.array([r["bytes"] for r in rows], float)
    raw = np.array([r["raw_fastest_s"] for r in rows])
    beta, alpha = np.polyfit(sizes, raw, 1, w=1 / raw)  # (relative errors: small messages count too)
    # what fit's exchange adds to a raw allreduce: Python around it (the small messages' difference) and one pass
    # over the gradients too small to travel alone into the fused buffer (its bandwidth timed here, fastest of several)
    small = [r["fit_fastest_s"] - r["raw_fastest_s"] for r in rows if r["bytes"] <= 4096]
    source, into = np.ones(2 ** 22, np.float32), np.empty(2 ** 22, np.float32)
    pack = min(_timed([lambda: np.multiply(source, 0.5, out=into)], 5 if quick else 30)[0])
    models = {}
    for network in TRAINING:  # the seed models' own gradient lists
        model, _ = ChainruleSide().build(network)
        grads = [np.ones(w.shape, np.float32) for w in model.trainable_weights]
        models[network] = _exchange_row(comm, MPI, grads, 5 if quick else 100)
    return {"ranks": comm.Get_size(), "rows": rows, "models": models, "latency_s": float(alpha),
            "exchange_overhead_s": float(np.median(small)), "pack_GBps": source.nbytes / pack / 1e9,
            "bandwidth_GBps": float(1 / beta / 1e9) if beta > 0 else None}


# --- part 2: training throughput -------------------------------------------------------------------------------------
def chainrule_part(network: str, steps: int, half: bool = False) -> dict:
    """Images per second of ``fit`` under MultiWorkerMirroredStrategy (one process: the same without MPI); ``half``:
    batches of half the global batch."""
    import chainrule as tf
    from chainrule import distributed
    from benchmarks.worker import ChainruleSide, synthetic_images

    distributed.init()
    batch = TRAINING[network][0] // (2 if half else 1)
    side = ChainruleSide()
    keras = side.keras
    keras.utils.set_random_seed(0)
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        model, _ = side.build(network)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy())
    x, y = synthetic_images(steps * batch, 0)
    model.fit(x[:4 * batch], y[:4 * batch], batch_size=batch, epochs=1, verbose=0, shuffle=False)  # warm-up
    distributed.barrier()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    seconds = distributed.allreduce(time.perf_counter() - start, op="max").item()
    return {"images_per_s": steps * batch / seconds, "params": model.count_params()}


def torch_trainer(network: str, steps: int, lo: int, hi: int, wrap=None):
    """PyTorch's loop (Adam) over ``steps`` batches of the seed data, each cut to rows ``[lo, hi)``, on a fresh
    model (``wrap``: e.g. DistributedDataParallel), warmed up; a function that trains ``count`` steps."""
    import torch

    from benchmarks.worker import TorchSide, synthetic_images

    batch = TRAINING[network][0]
    model = TorchSide().build(network)
    model = wrap(model) if wrap is not None else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = synthetic_images(steps * batch, 0)
    x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    y = torch.from_numpy(y.astype(np.int64))

    def train(count: int = steps) -> None:
        for k in range(count):
            xb, yb = x[k * batch:(k + 1) * batch][lo:hi], y[k * batch:(k + 1) * batch][lo:hi]
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()

    train(4)
    return train


def torch_part(network: str, steps: int, half: bool = False) -> dict:
    """Images per second of PyTorch's loop, wrapped in DistributedDataParallel (gloo) when started by mpiexec;
    ``half``: batches of half the global batch."""
    import torch

    rank, size = int(os.environ.get("PMI_RANK", 0)), int(os.environ.get("PMI_SIZE", 1))
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    batch = TRAINING[network][0]
    torch.manual_seed(0)
    if size > 1:
        torch.distributed.init_process_group("gloo", init_method="tcp://127.0.0.1:29517", rank=rank,
                                             world_size=size)
    # this rank's rows of each global batch (with ``half``, the first half of it)
    train = torch_trainer(network, steps, batch * rank // size, batch * (rank + 1) // (size * (2 if half else 1)),
                          torch.nn.parallel.DistributedDataParallel if size > 1 else None)
    batch //= 2 if half else 1
    if size > 1:
        torch.distributed.barrier()
    start = time.perf_counter()
    train(steps)
    seconds = time.perf_counter() - start
    if size > 1:
        both = torch.tensor([seconds])
        torch.distributed.all_reduce(both, op=torch.distributed.ReduceOp.MAX)
        seconds = float(both[0])
        torch.distributed.destroy_process_group()
    return {"images_per_s": steps * batch / seconds}


# --- part 2b: overlap on/off and DDP, alternated within one run ------------------------------------------------------
AB_STEPS = {"cnn": 40, "mlp": 300}
AB_ROUNDS = 5


def _idle_until_all_arrive(comm) -> None:
    """A barrier whose waiting ranks sleep (so that rank 0, training alone meanwhile, has a core to itself)."""
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(0.002)


def _ab_rounds(rank: int, comm, alone_rounds: dict, together_rounds: dict, rounds: int) -> dict:
    """Per round: rank 0 trains alone (each of ``alone_rounds``; the others sleep), then each of
    ``together_rounds`` on all ranks, their order turned round every other round; seconds of each, the slowest
    rank's."""
    names = ["1 rank", "1 rank, half batch", *together_rounds]
    times = {name: [] for name in names}
    for r in range(rounds):
        for name, train in alone_rounds.items():
            start = time.perf_counter()
            train()
            times[name].append(time.perf_counter() - start)
        _idle_until_all_arrive(comm)
        order = list(together_rounds) if r % 2 == 0 else list(reversed(together_rounds))
        for name in order:
            comm.Barrier()
            start = time.perf_counter()
            together_rounds[name]()
            times[name].append(comm.allreduce(time.perf_counter() - start, op=max_op()))
    return comm.bcast(times if rank == 0 else None)


def max_op():
    from mpi4py import MPI

    return MPI.MAX


def ab_chainrule_part(network: str, steps: int, rounds: int) -> dict:
    """Seconds per round of ``fit`` on rank 0 alone (no strategy; full and half batches) and on all ranks under
    MultiWorkerMirroredStrategy with the exchange overlapped with backward and not."""
    from mpi4py import MPI

    import chainrule as tf
    from chainrule import distributed
    from benchmarks.worker import ChainruleSide, synthetic_images

    distributed.init()
    comm, rank = MPI.COMM_WORLD, MPI.COMM_WORLD.Get_rank()
    batch = TRAINING[network][0]
    side = ChainruleSide()
    keras = side.keras
    x, y = synthetic_images(steps * batch, 0)

    def compiled(model):
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy())
        model.fit(x[:4 * batch], y[:4 * batch], batch_size=batch, epochs=1, verbose=0, shuffle=False)  # warm-up
        return model

    keras.utils.set_random_seed(0)
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        together = compiled(side.build(network)[0])
    alone = compiled(side.build(network)[0]) if rank == 0 else None
    reducer = together.optimizer._reducer

    def fit(model, overlap=None, rows: int = batch):
        if overlap is not None:
            reducer.overlap = overlap
        model.fit(x[:steps * rows], y[:steps * rows], batch_size=rows, epochs=1, verbose=0, shuffle=False)

    alone_rounds = {"1 rank": lambda: fit(alone), "1 rank, half batch": lambda: fit(alone, rows=batch // 2)}
    times = _ab_rounds(rank, comm, alone_rounds if rank == 0 else {},
                       {"2 ranks, overlap": lambda: fit(together, True),
                        "2 ranks, no overlap": lambda: fit(together, False)}, rounds)
    return {"times": times, "images": steps * batch, "buckets": [b.size for b in next(iter(
        reducer._plans.values())).buckets]}


def ab_torch_part(network: str, steps: int, rounds: int) -> dict:
    """Seconds per round of PyTorch's loop on rank 0 alone (full and half batches) and wrapped in
    DistributedDataParallel (gloo)."""
    import torch
    from mpi4py import MPI

    comm, rank, size = MPI.COMM_WORLD, MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    batch = TRAINING[network][0]
    torch.distributed.init_process_group("gloo", init_method="tcp://127.0.0.1:29518", rank=rank, world_size=size)
    torch.manual_seed(0)
    ddp = torch_trainer(network, steps, batch * rank // size, batch * (rank + 1) // size,
                        torch.nn.parallel.DistributedDataParallel)
    alone = {"1 rank": torch_trainer(network, steps, 0, batch),
             "1 rank, half batch": torch_trainer(network, steps, 0, batch // size)} if rank == 0 else {}
    times = _ab_rounds(rank, comm, alone, {"2 ranks, DDP": ddp}, rounds)
    torch.distributed.destroy_process_group()
    return {"times": times, "images": steps * batch}


def ab_report(quick: bool) -> dict:
    """Overlap on/off against DDP: per network, a chainrule job and a torch job twice, in turn (each job alternates
    its own setups round by round). Within each round, from the seconds T of the same images: efficiency
    ``T(1 rank) / (2 T(2 ranks))``, split into what one rank's share of the batch allows at best,
    ``T(1 rank) / (2 T(1 rank, half batch))`` (the per-step costs that do not shrink with the batch), and what the
    exchange and the waiting leave of it, ``T(1 rank, half batch) / T(2 ranks)``, which is also the efficiency with
    the batch per rank fixed (weak scaling: 2 ranks on 2 half batches against 1 rank on one); medians over the
    rounds."""
    report = {}
    for network in TRAINING:
        steps = QUICK_STEPS[network] if quick else AB_STEPS[network]
        runs: dict[str, list[float]] = {}
        for _ in range(2):
            for framework in ("chainrule", "torch"):
                args = ["--part", f"ab-{framework}", "--network", network, *(["--quick"] if quick else [])]
                times = _run(args, ranks=2, threads=1)["times"]
                one, half = times["1 rank"], times["1 rank, half batch"]
                for name, spent in times.items():
                    runs.setdefault(f"{framework}: {name}, ms per step", []).extend(t / steps * 1e3 for t in spent)
                    if name.startswith("2 ranks"):
                        runs.setdefault(f"{framework}: {name}, efficiency, global batch fixed", []).extend(
                            a / (2 * t) for a, t in zip(one, spent))
                        runs.setdefault(f"{framework}: {name}, efficiency, batch per rank fixed (half / 2 ranks)",
                                        []).extend(h / t for h, t in zip(half, spent))
                        runs.setdefault(f"{framework}: {name}, ms per step beyond the half batch", []).extend(
                            (t - h) / steps * 1e3 for h, t in zip(half, spent))
                runs.setdefault(f"{framework}: share bound, 1 rank / (2 x half batch)", []).extend(
                    a / (2 * h) for a, h in zip(one, half))
                if framework == "chainrule":
                    runs.setdefault("chainrule: overlap / no overlap, time", []).extend(
                        a / b for a, b in zip(times["2 ranks, overlap"], times["2 ranks, no overlap"]))
        report[network] = {name: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
                           for name, v in sorted(runs.items())}
        print(f"{network} (global batch {TRAINING[network][0]}, {steps} steps a round; median [min .. max] over "
              f"rounds):")
        for name, row in report[network].items():
            print(f"  {name:<52} {row['median']:8.3f}   [{row['min']:.3f} .. {row['max']:.3f}], n={row['n']}")
    return report


# --- part 3: past this machine, on paper --------------------------------------------------------------------------
# name -> (weights, training FLOPs per image: 3x the forward pass's multiply-adds x 2, the weights whose gradients are
# too small to travel alone: copied into a bucket); the LSTM reads MNIST's 28 rows as 28 steps of 28 features:
# LSTM(128) then Dense(10)
LSTM_UNITS, ROWS = 128, 28
PAPER_MODELS = {
    "cnn": (693_962, 3 * 2 * (26 * 26 * 32 * 9 + 5408 * 128 + 128 * 10), 693_962 - 5408 * 128),
    "lstm": (4 * (LSTM_UNITS * (ROWS + LSTM_UNITS) + LSTM_UNITS) + LSTM_UNITS * 10 + 10,
             3 * 2 * (ROWS * 4 * LSTM_UNITS * (ROWS + LSTM_UNITS) + LSTM_UNITS * 10),
             4 * LSTM_UNITS * (ROWS + 1) + LSTM_UNITS * 10 + 10),  # (all but the recurrent kernel)
}
LINKS = {"10 Gbit/s": (10e9 / 8, 25e-6), "100 Gbit/s": (100e9 / 8, 5e-6)}  # bytes/s, latency per message (assumed)
MACHINES = (8, 64, 512)
PER_MACHINE_BATCH = 32


def step_seconds(n: int, compute_s: float, grad_bytes: float, bandwidth: float, latency: float,
                 overhead_s: float, pack_bandwidth: float, packed_bytes: float = 0.0) -> float:
    """Ring allreduce model of one step on ``n`` machines: the computation of one machine's share, then
    ``2 (n - 1)`` messages each paying ``latency``, carrying ``2 (n - 1) / n`` of the gradient bytes per link, plus
    what the exchange adds: the Python around it and one pass copying the ``packed_bytes`` of gradients too small to
    travel alone into their bucket (the loss rides in a bucket: no allreduce of its own)."""
    if n == 1:
        return compute_s
    ring = 2 * (n - 1) * latency + 2 * (n - 1) / n * grad_bytes / bandwidth
    return compute_s + ring + overhead_s + packed_bytes / pack_bandwidth


def predictions(flops_per_s: float, overhead_s: float, pack_bandwidth: float) -> list[dict]:
    """Weak scaling (each machine its own batch of PER_MACHINE_BATCH) of the paper models on each link:
    efficiency = one machine's step time / the step time on n machines."""
    rows = []
    for name, (weights, flops, packed) in PAPER_MODELS.items():
        compute = PER_MACHINE_BATCH * flops / flops_per_s
        for link, (bandwidth, latency) in LINKS.items():
            for n in MACHINES:
                t = step_seconds(n, compute, 4 * weights, bandwidth, latency, overhead_s, pack_bandwidth, 4 * packed)
                rows.append({"model": name, "link": link, "machines": n, "compute_ms": compute * 1e3,
                             "step_ms": t * 1e3, "efficiency": compute / t})
    return rows


def model_report(report: dict) -> dict:
    """The step-time model fitted to a run's measurements (one core's FLOP rate from the seed CNN on 1 rank, this
    machine's latency and bandwidth, what the exchange adds), checked against the 2-rank runs measured here, and its
    predictions for the paper models on real links, printed."""
    exchange = report["allreduce"]
    cnn_rate = report["training"]["chainrule cnn"]["1 rank, 1 thread"]  # images/s of one core
    flops_per_s = cnn_rate * PAPER_MODELS["cnn"][1]
    overhead, pack = exchange["exchange_overhead_s"], exchange["pack_GBps"] * 1e9
    print(f"Predicted weak-scaling efficiency, batch {PER_MACHINE_BATCH} per machine, one core each at "
          f"{flops_per_s / 1e9:.1f} GFLOP/s (the seed CNN's measured rate); the exchange adds {overhead * 1e6:.1f} us "
          f"and a pass at {pack / 1e9:.1f} GB/s over the gradients too small to travel alone:")
    rows = predictions(flops_per_s, overhead, pack)
    check = {}
    for network, (batch, _) in TRAINING.items():  # the model on this machine's shared memory, against the runs
        measured = report["training"][f"chainrule {network}"]
        one = batch / measured["1 rank, 1 thread"]
        row = exchange["models"][network]
        t = step_seconds(2, one / 2, row["bytes"], exchange["bandwidth_GBps"] * 1e9, exchange["latency_s"], overhead,
                         pack, row["packed_bytes"])
        check[network] = {"predicted_images_per_s": batch / t, "measured_images_per_s": measured[
            "2 ranks, 1 thread each"]}
        print(f"  here, {network} on 2 ranks: predicted {batch / t:.0f} img/s, measured "
              f"{measured['2 ranks, 1 thread each']:.0f} img/s (the gap: the machine is shared)")
    for r in rows:
        print(f"  {r['model']:>4} {r['link']:>10} {r['machines']:>4} machines: step {r['step_ms']:.2f} ms "
              f"(compute {r['compute_ms']:.2f} ms), efficiency {r['efficiency']:.2f}")
    return {"flops_per_s": flops_per_s, "overhead_s": overhead, "pack_bandwidth": pack, "rows": rows,
            "check_here": check}


# label, ranks, BLAS threads per rank, whether each step takes half the global batch
SETUPS = (("1 rank, 1 thread", 1, 1, False), ("1 process, 2 threads", 1, 2, False),
          ("2 ranks, 1 thread each", 2, 1, False), ("1 rank, half batch, 1 thread", 1, 1, True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only (checks that it runs)")
    parser.add_argument("--overlap-ab", action="store_true",
                        help="only the A/B run: 2 ranks with the exchange overlapped with backward and not, and "
                             "PyTorch DDP, each against one rank alone, alternated")
    parser.add_argument("--part", choices=("allreduce", "chainrule", "torch", "ab-chainrule", "ab-torch"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--network", choices=tuple(TRAINING), help=argparse.SUPPRESS)
    parser.add_argument("--half", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model-from", type=Path, metavar="JSON",
                        help="print the step-time model's predictions from a results file, without measuring")
    args = parser.parse_args(argv)
    if args.model_from is not None:
        model_report(json.loads(args.model_from.read_text()))
        return 0
    if args.part is not None and args.part.startswith("ab-"):
        steps = QUICK_STEPS[args.network] if args.quick else AB_STEPS[args.network]
        part = ab_chainrule_part if args.part == "ab-chainrule" else ab_torch_part
        result = part(args.network, steps, 2 if args.quick else AB_ROUNDS)
        if int(os.environ.get("PMI_RANK", 0)) == 0:
            print(json.dumps(result))
        return 0
    if args.part is not None:  # a worker: print rank 0's JSON
        steps = QUICK_STEPS[args.network] if args.quick and args.network else \
            TRAINING.get(args.network, (0, 0))[1]
        result = allreduce_part(args.quick) if args.part == "allreduce" else \
            (chainrule_part if args.part == "chainrule" else torch_part)(args.network, steps, args.half)
        if int(os.environ.get("PMI_RANK", 0)) == 0:
            print(json.dumps(result))
        return 0

    report = {"machine": f"{os.cpu_count()} cores, shared with other work: one run, read the ratios"}
    if args.overlap_ab:
        report["overlap_ab"] = ab_report(args.quick)
        out = ROOT / "benchmarks" / "results" / "distributed-overlap-ab.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
        return 0
    exchange = _run(["--part", "allreduce", *(["--quick"] if args.quick else [])], ranks=2, threads=1)
    report["allreduce"] = exchange
    print("Gradient exchange on 2 ranks against raw MPI Allreduce of the same bytes (median times; as fit calls it, "
          "and as a tape loop's DistributedOptimizer does)")
    print(f"{'bytes':>10} {'raw Allreduce':>14} {'fit':>10} {'ratio':>6} {'tape loop':>10} {'ratio':>6} {'fp16':>10}"
          f" {'raw, each':>10} {'ratio':>6}   fastest: raw, fit (ratio), fit / raw each")
    for row in exchange["rows"]:
        print(f"{row['bytes']:>10} {row['raw_s'] * 1e6:>12.1f}us {row['fit_s'] * 1e6:>8.1f}us "
              f"{row['fit_s'] / row['raw_s']:>6.2f} {row['exchange_s'] * 1e6:>8.1f}us "
              f"{row['exchange_s'] / row['raw_s']:>6.2f} {row['fp16_s'] * 1e6:>8.1f}us "
              f"{row['raw_each_s'] * 1e6:>8.1f}us {row['fit_s'] / row['raw_each_s']:>6.2f}   "
              f"{row['raw_fastest_s'] * 1e6:.1f}us, {row['fit_fastest_s'] * 1e6:.1f}us "
              f"({row['fit_fastest_s'] / row['raw_fastest_s']:.2f}), "
              f"{row['fit_fastest_s'] / row['raw_each_fastest_s']:.2f}")
    for network, row in exchange["models"].items():
        print(f"seed {network}'s {row['arrays']} gradients, {row['bytes']} bytes: raw {row['raw_s'] * 1e6:.1f}us, "
              f"fit {row['fit_s'] * 1e6:.1f}us (ratio {row['fit_s'] / row['raw_s']:.2f}, fastest "
              f"{row['fit_fastest_s'] / row['raw_fastest_s']:.2f}), tape loop {row['exchange_s'] * 1e6:.1f}us "
              f"(ratio {row['exchange_s'] / row['raw_s']:.2f}), fp16 {row['fp16_s'] * 1e6:.1f}us")
    print(f"fit of the raw times: latency {exchange['latency_s'] * 1e6:.1f} us, bandwidth "
          f"{exchange['bandwidth_GBps']:.2f} GB/s")

    report["training"] = {}
    for network in TRAINING:
        for framework in ("chainrule", "torch"):
            results = {}
            for label, ranks, threads, half in SETUPS:
                part = ["--part", framework, "--network", network, *(["--quick"] if args.quick else []),
                        *(["--half"] if half else [])]
                results[label] = _run(part, ranks, threads)["images_per_s"]
            one, two = results["1 rank, 1 thread"], results["2 ranks, 1 thread each"]
            results["efficiency_2_ranks"] = two / (2 * one)
            results["efficiency_2_ranks_batch_per_rank_fixed"] = two / (2 * results["1 rank, half batch, 1 thread"])
            results["2_ranks_over_2_threads"] = two / results["1 process, 2 threads"]
            report["training"][f"{framework} {network}"] = results
            print(f"{framework:>9} {network:>4} (global batch {TRAINING[network][0]}): " +
                  ", ".join(f"{setup[0]} {results[setup[0]]:.0f} img/s" for setup in SETUPS) +
                  f"; efficiency of 2 ranks {results['efficiency_2_ranks']:.2f} (global batch fixed), "
                  f"{results['efficiency_2_ranks_batch_per_rank_fixed']:.2f} (batch per rank fixed), "
                  f"2 ranks / 2 threads {results['2_ranks_over_2_threads']:.2f}")
    report["model"] = model_report(report)
    out = ROOT / "benchmarks" / "results" / ("distributed-quick.json" if args.quick else "distributed.json")
    out.parent.mkdir(exist_ok=True)  # (ignored by git: not there in a fresh checkout)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
