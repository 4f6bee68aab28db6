"""Where a chainrule training step spends its time: wall time per step of the functions that do the work.

    python -m benchmarks.step_profile                          # the seed CNN, batch 32
    python -m benchmarks.step_profile --network mlp --batch 32 --steps 2000
    python -m benchmarks.step_profile --network deep-cnn --batch 128 --steps 20

It trains the benchmark's network (benchmarks/workloads.py) with ``model.fit`` on synthetic MNIST-shaped data, with
a timer around each function in ``TIMED`` (the ops' array work, the kernels, the optimizer, the model's forward
pass), and prints milliseconds per step for each. Timers nest: a function's time includes the timed functions it
calls (the forward pass holds every forward op). A sampling profiler (py-spy) shows the same picture without the
timers; this table is the quick, repeatable one. Like the benchmark, it is an instrument, not a test.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import sys
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/step_profile.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (module, attribute path): the functions timed, by where they live
TIMED = [
    ("chainrule.keras.models", "Sequential.call"),
    ("chainrule.ops.conv", "conv_forward"), ("chainrule.ops.conv", "im2col"), ("chainrule.ops.conv", "_filter_grad"),
    ("chainrule.ops.conv", "Conv2DBackpropInput.forward"), ("chainrule.ops.conv", "backprop_input"),
    ("chainrule.backend.kernels.col2im", "sum_taps_numba"),
    ("chainrule.ops.pool", "max_pool_with_argmax"), ("chainrule.ops.pool", "MaxPool2DScatter.forward"),
    ("chainrule.ops.conv_pool", "Conv2DReluMaxPool.forward"), ("chainrule.ops.conv_pool", "Conv2DReluMaxPool.backward"),
    ("chainrule.backend.kernels.pooling", "tap_max"), ("chainrule.backend.kernels.pooling", "tap_spread"),
    ("chainrule.ops.linalg", "Linear.forward"), ("chainrule.ops.linalg", "Linear.backward"),
    ("chainrule.keras.layers.core", "LinearRelu.forward"), ("chainrule.keras.layers.core", "LinearRelu.backward"),
    ("chainrule.backend.kernels.activation", "bias_relu_"), ("chainrule.backend.kernels.activation", "relu_grad"),
    ("chainrule.backend.kernels.activation", "relu_grad_sum"),
    ("chainrule.backend.kernels.softmax", "softmax"), ("chainrule.backend.kernels.softmax", "softmax_xent"),
    ("chainrule.keras.training.trainer", "Trainer.compute_loss"), ("chainrule.keras.optimizers", "Optimizer.apply"),
    ("chainrule.engine.tracer", "Program.run"), ("chainrule.engine.autograd", "walk"),
]


def install_timers(totals: dict) -> None:
    """Wrap each function in TIMED so that its wall time adds up in ``totals`` (by its qualified name)."""
    for module_name, path in TIMED:
        owner = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args, _fn=fn, _key=path, **kwargs):
            start = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                totals[_key] += time.perf_counter() - start

        # modules that imported the function by name keep their own reference: patch those too
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("chainrule") and getattr(module, name, None) is fn:
                setattr(module, name, timed)
        setattr(owner, name, timed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--network", default="cnn", help="cnn, deep-cnn or mlp (benchmarks/workloads.py)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)

    import numpy as np

    from benchmarks.worker import ChainruleSide

    side = ChainruleSide()
    side.setup_train(args.network, args.batch, args.steps, seed=0)
    side.train_round()  # compiles the numba kernels, builds the optimizer state
    totals: dict = defaultdict(float)
    install_timers(totals)
    side.train_round()  # warm the timers' paths too
    totals.clear()
    start = time.perf_counter()
    side.train_round()
    step = (time.perf_counter() - start) / args.steps
    print(f"{args.network}, batch {args.batch}: {step * 1e3:.3f} ms per step (with the timers), numpy "
          f"{np.__version__}")
    print(f"{'function':34s} {'ms/step':>8s} {'share':>6s}")
    for key, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"{key:34s} {seconds / args.steps * 1e3:8.3f} {seconds / args.steps / step:6.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
