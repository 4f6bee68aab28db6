"""The worker process: one per framework, started with multiprocessing 'spawn' so it imports only its own framework.

It answers ``(command, kwargs)`` messages on a Pipe with ``("ok", result)`` or ``("error", traceback)``; the main
process (benchmarks/run.py) decides when each worker runs, so the two frameworks never run at the same time.
Each side (chainrule, torch) implements the same six things: ``info``, ``setup_train``, ``setup_loop``,
``train_round``, ``make_op`` and ``sgemm``.

``setup_loop`` prepares seed 003's loop (benchmarks/workloads.py, ``LOOPS``): on the chainrule side one model per
mode of ``LOOP_MODES``, each trained by ``train_round(mode=...)``, written with the public API only (``import
chainrule as tf``: ``tf.keras``, ``tf.data.Dataset``, ``tf.GradientTape``, ``tf.function``), since chainrule's
internal modules move; on the torch side the same hand-written loop as ``setup_train``.
"""
from __future__ import annotations

import ctypes
import importlib
import os
import resource
import sys
import time
import traceback

import numpy as np

from benchmarks.workloads import CLASSES, IMAGE, LOOP_MODES, NETWORKS, OPS

_MB = 1024 * 1024


# --- measuring helpers ------------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MB if sys.platform == "darwin" else peak / 1024


def proc_status_mb() -> dict:
    """VmRSS / VmHWM from /proc (Linux only; empty elsewhere)."""
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out


def memory() -> dict:
    return {"peak_rss_mb": peak_rss_mb(), **{k.lower() + "_mb": v for k, v in proc_status_mb().items()}}


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def blas_info() -> dict:
    """NumPy's BLAS (from numpy.show_config) and its thread count (asked of the loaded OpenBLAS, when it is one)."""
    info = {}
    try:
        deps = np.show_config(mode="dicts").get("Build Dependencies", {})
        blas = deps.get("blas", {})
        info = {k: blas.get(k) for k in ("name", "version", "openblas configuration") if blas.get(k)}
    except Exception as error:  # show_config's layout is not a stable API
        info["error"] = repr(error)
    info["threads"] = openblas_threads()
    return info


def openblas_threads() -> int | None:
    """The thread count of the OpenBLAS this process loaded (found in /proc/self/maps), or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                       "scipy_openblas_get_num_threads", "openblas_get_num_threads"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return int(fn())
    return None


def best_gflops(matmul, n: int, repeats: int) -> float:
    """Best-of-``repeats`` GFLOP/s of ``matmul()`` on n x n matrices (2 n^3 FLOPs), after one untimed call."""
    matmul()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def synthetic_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped data: uint8 pixels scaled to [0, 1] float32 (N, 28, 28, 1), and random class labels."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(count, *IMAGE), dtype=np.uint8).astype(np.float32) / np.float32(255)
    return x, rng.integers(0, CLASSES, size=count)


def op_arrays(cfg: dict, seed: int = 0) -> dict:
    """The op's inputs as float32 NumPy arrays in chainrule's layout (images NHWC, kernels HWIO, dense (in, out))."""
    rng = np.random.default_rng(seed)

    def rand(shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    kind = cfg["kind"]
    if kind in ("conv", "conv_pool"):
        return dict(x=rand(cfg["x"]), kernel=rand(cfg["kernel"], 0.1), bias=rand(cfg["kernel"][3:], 0.1))
    if kind in ("conv_transpose", "depthwise", "conv1d"):
        return dict(x=rand(cfg["x"]), kernel=rand(cfg["kernel"], 0.1))
    if kind in ("pool", "pool1d", "upsample"):
        return dict(x=rand(cfg["x"]))
    if kind == "dense":
        n, d = cfg["x"]
        return dict(x=rand((n, d)), kernel=rand((d, cfg["units"]), 0.02), bias=rand((cfg["units"],), 0.1))
    if kind == "xent":
        n, c = cfg["logits"]
        return dict(logits=rand((n, c)), labels=np.eye(c, dtype=np.float32)[rng.integers(0, c, size=n)])
    raise ValueError(f"unknown op kind {kind!r}")


# --- chainrule --------------------------------------------------------------------------------------------------------
class ChainruleSide:
    name = "chainrule"

    def __init__(self):
        import importlib

        self.tf = importlib.import_module("chainrule")
        # `tf.keras` when the package exposes it, else the same modules by their own name
        self.keras = getattr(self.tf, "keras", None) or importlib.import_module("chainrule.keras")
        self.model = self.x = self.y = None
        self.trainers = {}  # mode -> (function that trains one round, its optimizer, the steps it must take)

    def info(self) -> dict:
        return {"version": getattr(self.tf, "__version__", None) or _dist_version("chainrule"),
                "numpy": np.__version__, "blas": blas_info()}

    def build(self, network: str):
        """The model a user would write: chainrule.cli.zoo's named model when it has one (the same Sequential of
        keras layers the seed programs build), else a keras.Sequential from the layer list."""
        try:
            from chainrule.cli import zoo
            if network in zoo.MODELS:
                return zoo.build(network), f"chainrule.cli.zoo.build({network!r})"
        except ImportError:
            pass
        return self.build_sequential(network), "keras.Sequential (benchmarks/workloads.py)"

    def build_sequential(self, network: str):
        """``keras.Sequential`` of keras layers from the network's layer list (the public API only)."""
        layers, model = self.keras.layers, []
        for i, layer in enumerate(NETWORKS[network]):
            extra = {"input_shape": IMAGE} if i == 0 else {}
            if layer[0] == "conv":
                model.append(layers.Conv2D(layer[1], (layer[2], layer[2]), padding=layer[3], activation=layer[4],
                                           **extra))
            elif layer[0] == "pool":
                model.append(layers.MaxPooling2D((layer[1], layer[1]), **extra))
            elif layer[0] == "flatten":
                model.append(layers.Flatten(**extra))
            else:
                model.append(layers.Dense(layer[1], activation=layer[2], **extra))
        return self.keras.Sequential(model)

    def setup_train(self, network: str, batch: int, steps: int, seed: int) -> dict:
        keras = self.keras
        self.model, source = self.build(network)
        self.model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                           loss=keras.losses.CategoricalCrossentropy())
        x, labels = synthetic_images(steps * batch, seed)
        self.x, self.y = x, np.eye(CLASSES, dtype=np.float32)[labels]
        self.batch = batch
        self.trainers = {"fit": (self.fit_round(self.model, self.x, self.y, batch), self.model.optimizer, steps)}
        return {"model": source, "params": int(self.model.count_params()),
                "data_mb": (self.x.nbytes + self.y.nbytes) / _MB}

    @staticmethod
    def fit_round(model, x, y, batch: int):
        return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)

    def setup_loop(self, network: str, batch: int, steps: int, seed: int) -> dict:
        """Seed 003's program once per mode of LOOP_MODES, each with its own model (the same initial weights) and
        Adam(1e-3): 'fit' compiles the model and calls ``model.fit`` on the arrays; 'eager' runs the hand-written
        ``train_step`` over ``tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)``; 'function' runs the same
        loop with ``train_step`` under ``@tf.function`` (whatever tf.function does today: it is not looked into)."""
        tf, keras = self.tf, self.keras
        x, labels = synthetic_images(steps * batch, seed)
        y = np.eye(CLASSES, dtype=np.float32)[labels]
        train_dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)
        self.model = self.x = self.y = None  # a previous workload's model (the shared worker of a tiny run)
        self.trainers, params = {}, {}
        for mode in LOOP_MODES:
            keras.utils.set_random_seed(seed)
            model = self.build_sequential(network)
            if mode == "fit":
                model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                              loss=keras.losses.CategoricalCrossentropy())
                self.trainers[mode] = (self.fit_round(model, x, y, batch), model.optimizer, steps)
            else:
                epoch, optimizer = self.custom_loop(model, train_dataset, use_function=mode == "function")
                self.trainers[mode] = (epoch, optimizer, steps)
            params[mode] = int(model.count_params())
        if len(set(params.values())) != 1:
            raise RuntimeError(f"the modes' models differ: {params}")
        return {"model": "keras.Sequential (benchmarks/workloads.py), one per mode", "params": params["fit"],
                "modes": list(LOOP_MODES), "data_mb": (x.nbytes + y.nbytes) / _MB}

    def custom_loop(self, model, train_dataset, use_function: bool):
        """The seed's loop: one call trains one epoch of ``train_dataset``; returns it and its optimizer."""
        tf, keras = self.tf, self.keras
        loss_fn = keras.losses.CategoricalCrossentropy()
        optimizer = keras.optimizers.Adam(learning_rate=1e-3)

        def train_step(images, labels):
            with tf.GradientTape() as tape:
                predictions = model(images, training=True)
                loss = loss_fn(labels, predictions)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))

        if use_function:
            train_step = tf.function(train_step)  # what `@tf.function` above `def train_step` does

        def epoch():
            for images, labels in train_dataset:
                train_step(images, labels)

        return epoch, optimizer

    def train_round(self, mode: str = "fit") -> None:
        """One round of ``mode`` (the model of the last setup_train / setup_loop). Checks it took the optimizer
        steps it should (reading ``optimizer.iterations`` twice: microseconds), so a mode that trains nothing fails
        instead of looking fast."""
        epoch, optimizer, steps = self.trainers[mode]
        before = int(optimizer.iterations)
        epoch()
        done = int(optimizer.iterations) - before
        if done != steps:
            raise RuntimeError(f"chainrule {mode}: {done} optimizer steps in a round of {steps}")

    def make_op(self, cfg: dict):
        from chainrule import ops

        arrays = op_arrays(cfg)
        Tensor = self.tf.Tensor
        kind = cfg["kind"]
        if kind == "conv":
            x = Tensor(arrays["x"], requires_grad=cfg["grad_x"])
            k = Tensor(arrays["kernel"], requires_grad=True)
            leaves, forward = [x, k], lambda: ops.conv2d(x, k, strides=1, padding=cfg["padding"])
        elif kind == "conv_pool":
            x = Tensor(arrays["x"], requires_grad=cfg["grad_x"])
            k, b = Tensor(arrays["kernel"], requires_grad=True), Tensor(arrays["bias"], requires_grad=True)
            leaves, forward = [x, k, b], lambda: ops.conv2d_relu_max_pool2d(x, k, b, padding=cfg["padding"],
                                                                            pool_size=cfg["size"])
        elif kind == "pool":
            x = Tensor(arrays["x"], requires_grad=True)
            leaves, forward = [x], lambda: ops.max_pool2d(x, cfg["size"])
        elif kind in ("conv_transpose", "depthwise", "conv1d"):
            x, k = Tensor(arrays["x"], requires_grad=True), Tensor(arrays["kernel"], requires_grad=True)
            run = {"conv_transpose": lambda: ops.conv2d_transpose(x, k, strides=2, padding="same"),
                   "depthwise": lambda: ops.depthwise_conv2d(x, k, padding="same"),
                   "conv1d": lambda: ops.conv1d(x, k, padding="same")}
            leaves, forward = [x, k], run[kind]
        elif kind in ("pool1d", "upsample"):
            x = Tensor(arrays["x"], requires_grad=True)
            op = ops.max_pool1d if kind == "pool1d" else ops.upsample_nearest
            leaves, forward = [x], lambda: op(x, cfg["size"])
        elif kind == "dense":
            x, k, b = (Tensor(arrays[name], requires_grad=True) for name in ("x", "kernel", "bias"))
            leaves, forward = [x, k, b], lambda: ops.linear(x, k, b)
        else:
            labels, logits = Tensor(arrays["labels"]), Tensor(arrays["logits"], requires_grad=True)
            leaves, forward = [logits], lambda: ops.softmax_cross_entropy_with_logits(labels, logits)
        grad = {}

        def backward(y):
            for leaf in leaves:
                leaf.grad = None
            if "g" not in grad:
                grad["g"] = np.ones(y.shape, dtype=np.float32)
            y.backward(grad["g"])

        return forward, backward

    def sgemm(self, n: int, repeats: int) -> float:
        a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        b = a.copy()
        return best_gflops(lambda: a @ b, n, repeats)


# --- PyTorch ----------------------------------------------------------------------------------------------------------
class TorchSide:
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        self.model = self.batches = None

    def info(self) -> dict:
        torch = self.torch
        return {"version": str(torch.__version__), "threads": torch.get_num_threads(),
                "interop_threads": torch.get_num_interop_threads(), "numpy": np.__version__,
                "mkldnn": bool(torch.backends.mkldnn.is_available())}

    def build(self, network: str):
        """The idiomatic nn.Sequential: NCHW convolutions, the last Dense gives logits (softmax is in the loss)."""
        nn = self.torch.nn
        mods, channels = [], IMAGE[2]
        last = len(NETWORKS[network]) - 1
        for i, layer in enumerate(NETWORKS[network]):
            if layer[0] == "conv":
                _, filters, k, padding, act = layer
                mods.append(nn.Conv2d(channels, filters, k, padding=k // 2 if padding == "same" else 0))
                channels = filters
            elif layer[0] == "pool":
                mods.append(nn.MaxPool2d(layer[1]))
                continue
            elif layer[0] == "flatten":
                mods.append(nn.Flatten())
                continue
            else:
                _, units, act = layer
                mods.append(nn.LazyLinear(units))
            if act == "relu":
                mods.append(nn.ReLU())
            elif act != "softmax" or i != last:
                raise ValueError(f"activation {act!r} not supported here")
        model = nn.Sequential(*mods)
        with self.torch.no_grad():  # materialize the lazy Linear layers
            model(self.torch.zeros(1, IMAGE[2], IMAGE[0], IMAGE[1]))
        return model

    def setup_train(self, network: str, batch: int, steps: int, seed: int) -> dict:
        torch = self.torch
        torch.manual_seed(seed)
        self.model = self.build(network)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        x, labels = synthetic_images(steps * batch, seed)
        x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        y = torch.from_numpy(labels.astype(np.int64))
        self.batches = list(zip(x.split(batch), y.split(batch)))
        return {"model": "torch.nn.Sequential", "params": sum(p.numel() for p in self.model.parameters()),
                "data_mb": (x.numel() * 4 + y.numel() * 8) / _MB}

    def setup_loop(self, network: str, batch: int, steps: int, seed: int) -> dict:
        """Torch's side of seed 003's loop: its usual hand-written loop, as in setup_train."""
        return self.setup_train(network, batch, steps, seed)

    def train_round(self) -> None:
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        model.train()
        for xb, yb in self.batches:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()

    def make_op(self, cfg: dict):
        torch = self.torch
        F = torch.nn.functional
        arrays = op_arrays(cfg)

        def t(name, grad=True, nchw=False):
            a = arrays[name]
            if nchw:
                a = np.ascontiguousarray(a.transpose(0, 3, 1, 2) if name == "x" else a.transpose(3, 2, 0, 1))
            return torch.from_numpy(a).requires_grad_(grad)

        kind = cfg["kind"]
        if kind in ("conv", "conv_pool"):
            x, k = t("x", cfg["grad_x"], nchw=True), t("kernel", nchw=True)
            pad = cfg["kernel"][0] // 2 if cfg["padding"] == "same" else 0
            leaves, forward = [x, k], lambda: F.conv2d(x, k, padding=pad)
            if kind == "conv_pool":
                b = t("bias")
                leaves.append(b)
                forward = lambda: F.max_pool2d(torch.relu(F.conv2d(x, k, b, padding=pad)), cfg["size"])  # noqa: E731
        elif kind == "pool":
            x = t("x", nchw=True)
            leaves, forward = [x], lambda: F.max_pool2d(x, cfg["size"])
        elif kind == "conv_transpose":  # (kh, kw, out, in) -> PyTorch's (in, out, kh, kw); 4x4 stride 2: padding 1
            x, k = t("x", nchw=True), t("kernel", nchw=True)
            leaves, forward = [x, k], lambda: F.conv_transpose2d(x, k, stride=2, padding=1)
        elif kind == "depthwise":  # (kh, kw, C, 1) -> (C, 1, kh, kw), groups = C
            kh, kw, c, _ = cfg["kernel"]
            x = t("x", nchw=True)
            k = torch.from_numpy(np.ascontiguousarray(arrays["kernel"].reshape(kh, kw, c).transpose(2, 0, 1)[:, None]))
            k.requires_grad_(True)
            leaves, forward = [x, k], lambda: F.conv2d(x, k, padding=kh // 2, groups=c)
        elif kind in ("conv1d", "pool1d", "upsample"):  # sequences (N, L, C) -> (N, C, L); images as NCHW
            x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(arrays["x"], -1, 1))).requires_grad_(True)
            leaves = [x]
            if kind == "conv1d":
                k = torch.from_numpy(np.ascontiguousarray(arrays["kernel"].transpose(2, 1, 0))).requires_grad_(True)
                leaves.append(k)
                forward = lambda: F.conv1d(x, k, padding=k.shape[2] // 2)  # noqa: E731
            elif kind == "pool1d":
                forward = lambda: F.max_pool1d(x, cfg["size"])  # noqa: E731
            else:
                forward = lambda: F.interpolate(x, scale_factor=cfg["size"], mode="nearest")  # noqa: E731
        elif kind == "dense":
            x, b = t("x"), t("bias")
            k = torch.from_numpy(np.ascontiguousarray(arrays["kernel"].T)).requires_grad_(True)  # (out, in)
            leaves, forward = [x, k, b], lambda: F.linear(x, k, b)
        else:
            labels, logits = t("labels", grad=False), t("logits")
            leaves, forward = [logits], lambda: F.cross_entropy(logits, labels, reduction="none")
        grad = {}

        def backward(y):
            for leaf in leaves:
                leaf.grad = None
            if "g" not in grad:
                grad["g"] = torch.ones_like(y)
            y.backward(grad["g"])

        return forward, backward

    def sgemm(self, n: int, repeats: int) -> float:
        a = self.torch.randn(n, n, dtype=self.torch.float32)
        b = a.clone()
        return best_gflops(lambda: a @ b, n, repeats)


def _dist_version(name: str) -> str | None:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


# --- the loop ---------------------------------------------------------------------------------------------------------
def time_op(forward, backward, reps: int) -> dict:
    """``reps`` timed forwards, then ``reps`` timed backwards, each after an untimed forward (ms)."""
    fwd, bwd = [], []
    for _ in range(reps):
        start = time.perf_counter()
        forward()
        fwd.append((time.perf_counter() - start) * 1e3)
    for _ in range(reps):
        y = forward()
        start = time.perf_counter()
        backward(y)
        bwd.append((time.perf_counter() - start) * 1e3)
    return {"forward_ms": fwd, "backward_ms": bwd}


def serve(conn, side_name: str) -> None:
    """Entry point of a worker: import the framework, then answer commands until 'stop'. Replies hold only
    builtins (unpickling a framework type, e.g. torch's version string, would import that framework in the main
    process, and every worker started after it would report the main process's peak RSS as its own)."""
    started = time.perf_counter()
    try:
        side = ChainruleSide() if side_name == "chainrule" else TorchSide()
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    baseline = memory()
    conn.send(("ok", {"import_s": time.perf_counter() - started, "pid": os.getpid(), "memory_after_import": baseline}))
    ops = {}
    workload_state = {}  # what a workload module's handle() keeps between its commands
    while True:
        try:
            command, kwargs = conn.recv()
        except EOFError:
            return
        if command == "stop":
            conn.send(("ok", None))
            return
        try:
            if command == "info":
                result = side.info()
            elif command == "memory":
                result = memory()
            elif command == "setup_train":
                result = side.setup_train(**kwargs)
            elif command == "setup_loop":
                result = side.setup_loop(**kwargs)
            elif command == "train_round":  # kwargs: chainrule's mode, for a loop workload
                cpu, start = cpu_seconds(), time.perf_counter()
                side.train_round(**kwargs)
                result = {"wall_s": time.perf_counter() - start, "cpu_s": cpu_seconds() - cpu}
            elif command == "op":  # kwargs: name, batch, reps
                key = (kwargs["name"], kwargs["batch"])
                if key not in ops:
                    ops[key] = side.make_op(OPS[kwargs["name"]][1](kwargs["batch"]))
                result = time_op(*ops[key], kwargs["reps"])
            elif command == "sgemm":
                result = side.sgemm(**kwargs)
            elif command == "workload":  # kwargs: module (with a handle(side, state, ...)), its own arguments
                result = importlib.import_module(kwargs.pop("module")).handle(side, workload_state, **kwargs)
            else:
                raise ValueError(f"unknown command {command!r}")
            conn.send(("ok", result))
        except BaseException:
            conn.send(("error", traceback.format_exc()))

