"""The GPU benchmark: the seed networks trained by chainrule on CuPy and by PyTorch on CUDA (eager), on one GPU.

    python -m benchmarks.run --device gpu                       # every workload below, 3 timed rounds each
    python -m benchmarks.run --device gpu --workloads cnn-b512 --rounds 5

Each (workload, framework) runs in a fresh process of its own, one after the other, so the GPU and its memory pool
belong to one framework at a time: an untimed warm-up round (CUDA contexts, kernel compilation, cuBLAS handles),
then timed rounds of ``steps`` training steps, the device synchronized before each round's clock starts and after
it stops. Quoted per workload: the median time per epoch (the per-step time scaled to MNIST's 60,000 images) of each
framework, the ratio chainrule / PyTorch against the issue's goals (``GOALS``), and each framework's peak GPU memory
(CuPy's memory pool: what it holds at the end, which it never gives back; PyTorch's ``max_memory_reserved``, its
caching allocator's peak: both are the memory the framework took from the device).

chainrule runs ``model.fit`` on NumPy arrays as a user writes it (the arrays go to the device once per ``fit``, the
timed rounds are its epochs); PyTorch runs the usual loop over batches already on the device. Both use Adam(1e-3)
and categorical cross-entropy on the CNNs and the MLP, SGD(0.01) and sparse cross-entropy from logits on the LSTM
(benchmarks/sequences.py's model and weights). Nothing here runs without CuPy, PyTorch with CUDA and a GPU.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# name -> (network, batch size, steps per round); networks of benchmarks/workloads.py, 'lstm' of sequences.py
WORKLOADS: dict[str, tuple[str, int, int]] = {
    "cnn-b128": ("cnn", 128, 120),
    "cnn-b512": ("cnn", 512, 60),
    "deep-cnn-b128": ("deep-cnn", 128, 80),
    "mlp-b128": ("mlp", 128, 200),
    "lstm-b128": ("lstm", 128, 60),
}
GOALS = {128: 1.5, 512: 1.2}  # issue 17: chainrule's time per epoch at most this many times PyTorch's, by batch
EPOCH_IMAGES = 60_000


# --- one side, in its own process -------------------------------------------------------------------------------------
def _lstm_cfg():
    from benchmarks.sequences import WORKLOADS as RNN
    return RNN["lstm-rows-b128"]


def _data(network: str, count: int):
    from benchmarks.worker import synthetic_images
    if network == "lstm":
        from benchmarks.sequences import synthetic_rows
        return synthetic_rows(_lstm_cfg(), count, 0)
    return synthetic_images(count, 0)


def run_chainrule(network: str, batch: int, steps: int, rounds: int) -> dict:
    os.environ["CHAINRULE_DEVICE"] = "gpu"
    import numpy as np
    from chainrule import keras  # without CuPy: chainrule's ImportError, which says what to install
    import cupy
    from benchmarks.worker import ChainruleSide

    x, labels = _data(network, steps * batch)
    if network == "lstm":
        from benchmarks.sequences import build_chainrule, initial_weights
        model = build_chainrule(keras, _lstm_cfg(), initial_weights(_lstm_cfg(), 0))
        model.compile(optimizer=keras.optimizers.SGD(0.01),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        y = labels
    else:
        model, _ = ChainruleSide().build(network)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=keras.losses.CategoricalCrossentropy())
        y = np.eye(10, dtype=np.float32)[labels]
    times = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            cupy.cuda.Device().synchronize()
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            cupy.cuda.Device().synchronize()
            times.append(time.perf_counter() - self.start)

    model.fit(x, y, batch_size=batch, epochs=1 + rounds, shuffle=False, verbose=0, callbacks=[Clock()])
    return {"round_s": times[1:], "peak_gpu_mb": cupy.get_default_memory_pool().total_bytes() / 2**20,
            "version": _version("chainrule"), "cupy": cupy.__version__}


def run_torch(network: str, batch: int, steps: int, rounds: int) -> dict:
    import numpy as np
    import torch

    torch.manual_seed(0)
    x, labels = _data(network, steps * batch)
    if network == "lstm":
        from benchmarks.sequences import build_torch, initial_weights
        model = build_torch(torch, _lstm_cfg(), initial_weights(_lstm_cfg(), 0)).cuda()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        inputs = torch.from_numpy(x)
    else:
        from benchmarks.worker import TorchSide
        model = TorchSide().build(network).cuda()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        inputs = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = list(zip(inputs.cuda().split(batch), torch.from_numpy(labels.astype(np.int64)).cuda().split(batch)))
    times = []
    for _ in range(1 + rounds):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for xb, yb in batches:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {"round_s": times[1:], "peak_gpu_mb": torch.cuda.max_memory_reserved() / 2**20,
            "version": torch.__version__, "device": torch.cuda.get_device_name()}


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return None


# --- the orchestrator -------------------------------------------------------------------------------------------------
def measure(side: str, workload: str, rounds: int) -> dict:
    """Run one side of one workload in a fresh process; its result, or ``{"error": ...}``."""
    command = [sys.executable, "-m", "benchmarks.gpu", "--side", side, "--workloads", workload, "--rounds",
               str(rounds)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout)[-3000:]}
    return json.loads(lines[-1])


def report_rows(results: dict) -> list[str]:
    lines = [f"{'workload':<15} {'chainrule s/epoch':>18} {'torch s/epoch':>14} {'ratio':>7} {'goal':>6} "
             f"{'chainrule MB':>13} {'torch MB':>9}"]
    for name, sides in results.items():
        network, batch, steps = WORKLOADS[name]
        if any("error" in sides[s] for s in sides):
            lines.append(f"{name:<15} error: " + " | ".join(f"{s}: {sides[s]['error'].splitlines()[-1]}"
                                                             for s in sides if "error" in sides[s]))
            continue
        epoch = {s: statistics.median(sides[s]["round_s"]) / steps * EPOCH_IMAGES / batch for s in sides}
        ratio = epoch["chainrule"] / epoch["torch"]
        goal = GOALS.get(batch)
        lines.append(f"{name:<15} {epoch['chainrule']:>18.3f} {epoch['torch']:>14.3f} {ratio:>6.2f}x "
                     f"{'' if goal is None else f'{goal:.1f}x':>6} {sides['chainrule']['peak_gpu_mb']:>13.0f} "
                     f"{sides['torch']['peak_gpu_mb']:>9.0f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run --device gpu", description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", help=f"comma-separated, of {', '.join(WORKLOADS)} (default all)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per framework (default 3)")
    parser.add_argument("--side", choices=("chainrule", "torch"), help=argparse.SUPPRESS)  # one side, in-process
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    names = list(WORKLOADS) if not args.workloads else args.workloads.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or args.rounds < 1:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}" if unknown
                     else "--rounds must be at least 1")
    if args.side:
        network, batch, steps = WORKLOADS[names[0]]
        run = run_chainrule if args.side == "chainrule" else run_torch
        print(json.dumps(run(network, batch, steps, args.rounds)))
        return 0
    results = {}
    for name in names:
        results[name] = {side: measure(side, name, args.rounds) for side in ("chainrule", "torch")}
        print(report_rows({name: results[name]})[-1], file=sys.stderr, flush=True)
    print("\n".join(report_rows(results)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"workloads": results, "table": report_rows(results)}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
