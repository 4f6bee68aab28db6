"""The text classifier workload: Embedding + Bidirectional(LSTM) + Dense in chainrule's Keras against PyTorch's
nn.Embedding + bidirectional nn.LSTM + nn.Linear, same weights.

    python -m benchmarks.run --workloads text-bilstm-b32 --ops none

Token ids (batch, 100) -> Embedding(10000, 64) -> Bidirectional(LSTM(64)) (the forward layer's last output beside
the backward layer's) -> Dense(2, softmax); Adam(1e-3), sparse categorical cross-entropy. PyTorch runs the same
network (its LSTM's gates are Keras's i, f, c, o in the same order: kernels transposed, Keras's one bias as
``bias_ih`` and ``bias_hh`` zero), the classifier on the final hidden states of both directions.

Both sides run in the benchmark's worker processes (benchmarks/worker.py's ``workload`` command calls
:func:`handle` there); this module imports neither framework at import time, as the orchestrator must stay light.
:func:`handle`, :func:`measure` and :func:`table_lines` take any network module laid out as this one.
"""
from __future__ import annotations

import sys
import time

# name -> settings; steps per round of a full run: about a second per round and framework on 2 cores
WORKLOADS: dict[str, dict] = {
    "text-bilstm-b32": dict(batch=32, steps=100, vocab=10000, width=64, units=64, classes=2, full_steps=12),
}
NETWORK = "embedding-bilstm"
TITLE = "Text classifier (benchmarks/text_classifier.py): Embedding + Bidirectional(LSTM) + Dense"


def forward_flops(cfg: dict) -> int:
    """Forward FLOPs of one sequence (a multiply-add is 2): per direction and step the input and recurrent GEMMs of
    the four gates (2·(d + u)·4u); the classifier on both directions' last outputs."""
    u = cfg["units"]
    return 2 * cfg["steps"] * 2 * (cfg["width"] + u) * 4 * u + 2 * 2 * u * cfg["classes"]


def count_params(cfg: dict) -> int:
    u = cfg["units"]
    return cfg["vocab"] * cfg["width"] + 2 * 4 * u * (cfg["width"] + u + 1) + 2 * u * cfg["classes"] + cfg["classes"]


def initial_weights(cfg: dict, seed: int) -> dict:
    """The weights both sides start from, in Keras's layouts, from one NumPy generator."""
    import numpy as np

    rng = np.random.default_rng(seed)
    d, u = cfg["width"], cfg["units"]

    def uniform(shape, limit):
        return rng.uniform(-limit, limit, shape).astype(np.float32)

    directions = [{"kernel": uniform((d, 4 * u), (6 / (d + 4 * u)) ** 0.5),
                   "recurrent_kernel": uniform((u, 4 * u), (1 / u) ** 0.5),
                   "bias": np.concatenate([np.zeros(u), np.ones(u), np.zeros(2 * u)]).astype(np.float32)}
                  for _ in range(2)]  # Keras's unit_forget_bias: the forget gate's bias starts at 1
    return {"embedding": uniform((cfg["vocab"], d), 0.05), "forward": directions[0], "backward": directions[1],
            "head_kernel": uniform((2 * u, cfg["classes"]), (6 / (2 * u + cfg["classes"])) ** 0.5),
            "head_bias": np.zeros(cfg["classes"], np.float32)}


def build_chainrule(keras, cfg: dict, weights: dict):
    """The Sequential model a user would write, with ``weights`` set."""
    layers = keras.layers
    model = keras.Sequential([keras.Input((cfg["steps"],), dtype="int32"), layers.Embedding(cfg["vocab"], cfg["width"]),
                              layers.Bidirectional(layers.LSTM(cfg["units"])),
                              layers.Dense(cfg["classes"], activation="softmax")])
    embedding, bidirectional, head = model.layers
    embedding.set_weights([weights["embedding"]])
    bidirectional.set_weights([weights[side][part] for side in ("forward", "backward")
                               for part in ("kernel", "recurrent_kernel", "bias")])
    head.set_weights([weights["head_kernel"], weights["head_bias"]])
    return model


def build_torch(torch, cfg: dict, weights: dict):
    nn = torch.nn

    class TextClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(cfg["vocab"], cfg["width"])
            self.lstm = nn.LSTM(cfg["width"], cfg["units"], batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * cfg["units"], cfg["classes"])

        def forward(self, ids):
            _, (h, _) = self.lstm(self.embedding(ids))
            return self.head(torch.cat([h[0], h[1]], dim=-1))  # the forward's last state, the backward's

    model = TextClassifier()
    t = lambda a: torch.from_numpy(a.copy())  # noqa: E731
    with torch.no_grad():
        model.embedding.weight.copy_(t(weights["embedding"]))
        for suffix, side in (("", "forward"), ("_reverse", "backward")):
            getattr(model.lstm, f"weight_ih_l0{suffix}").copy_(t(weights[side]["kernel"].T))
            getattr(model.lstm, f"weight_hh_l0{suffix}").copy_(t(weights[side]["recurrent_kernel"].T))
            getattr(model.lstm, f"bias_ih_l0{suffix}").copy_(t(weights[side]["bias"]))
            getattr(model.lstm, f"bias_hh_l0{suffix}").zero_()
        model.head.weight.copy_(t(weights["head_kernel"].T))
        model.head.bias.copy_(t(weights["head_bias"]))
    return model


def synthetic_tokens(cfg: dict, count: int, seed: int):
    """``count`` sequences of token ids (never 0) and their class labels."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    return (rng.integers(1, cfg["vocab"], (count, cfg["steps"])).astype(np.int32),
            rng.integers(0, cfg["classes"], count))


# --- in the worker (any network module with WORKLOADS, initial_weights, synthetic_tokens, build_*) ------------------
def handle(side, state: dict, action: str, name: str = "", steps: int = 0, seed: int = 0, network=None):
    """benchmarks/worker.py's ``workload`` command for ``network`` (this module by default): ``setup`` builds the
    model and data of workload ``name`` on this side (``side``: the worker's ChainruleSide or TorchSide), Keras's
    ``fit`` on one side and the usual PyTorch loop on the other; ``round`` trains one round and returns its wall
    and CPU seconds."""
    network = network or sys.modules[__name__]
    if action == "setup":
        cfg = network.WORKLOADS[name]
        weights = network.initial_weights(cfg, seed)
        x, y = network.synthetic_tokens(cfg, steps * cfg["batch"], seed)
        if side.name == "chainrule":
            model = network.build_chainrule(side.keras, cfg, weights)
            model.compile(optimizer=side.keras.optimizers.Adam(learning_rate=1e-3),
                          loss="sparse_categorical_crossentropy")
            optimizer = model.optimizer
            train = lambda: model.fit(x, y, batch_size=cfg["batch"], epochs=1, verbose=0, shuffle=False)  # noqa
            params = int(model.count_params())
        else:
            train, optimizer, params = _torch_loop(side.torch, network.build_torch(side.torch, cfg, weights), x, y,
                                                   cfg["batch"])
        state.clear()
        state.update(train=train, optimizer=optimizer, steps=steps)
        return {"model": f"{type(model).__name__ if side.name == 'chainrule' else 'torch.nn.Module'} "
                         f"({network.__name__.replace('.', '/')}.py)", "params": params,
                "data_mb": (x.nbytes + y.nbytes) / 2**20}
    if action == "round":
        from benchmarks.worker import cpu_seconds

        cpu, start = cpu_seconds(), time.perf_counter()
        state["train"]()
        result = {"wall_s": time.perf_counter() - start, "cpu_s": cpu_seconds() - cpu}
        if side.name == "chainrule" and int(state["optimizer"].iterations) % state["steps"]:
            raise RuntimeError(f"chainrule {name}: the round did not take its optimizer steps")
        return result
    raise ValueError(f"unknown workload action {action!r}")


def _torch_loop(torch, model, x, y, batch: int):
    """(train one epoch, optimizer, parameter count) for PyTorch: Adam(1e-3) and cross-entropy over the batches."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = list(zip(torch.from_numpy(x.astype("int64")).split(batch), torch.from_numpy(y.astype("int64")).split(batch)))
    loss_fn = torch.nn.CrossEntropyLoss()

    def train():
        model.train()
        for xb, yb in batches:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    return train, optimizer, sum(p.numel() for p in model.parameters())


# --- in the orchestrator ---------------------------------------------------------------------------------------------
def measure(pair, name: str, cfg: dict, peak_gflops: float | None, network=None) -> dict:
    """One workload's row, as benchmarks/run.py's training rows: medians of alternating rounds, ratio, memory."""
    from benchmarks import run as bench
    from benchmarks.workloads import EPOCH_IMAGES, steps_for

    network = network or sys.modules[__name__]
    settings = network.WORKLOADS[name]
    steps = steps_for(settings["full_steps"], cfg["step_scale"])
    flops = network.forward_flops(settings)
    gflop_epoch = 3 * flops * EPOCH_IMAGES / 1e9
    row = {"name": name, "network": network.NETWORK, "batch": settings["batch"], "steps_per_round": steps,
           "rounds": cfg["rounds"], "warmup_rounds": cfg["warmup"], "settings": dict(settings),
           "params_expected": network.count_params(settings), "forward_mflop_per_sequence": flops / 1e6,
           "train_gflop_per_epoch": gflop_epoch}
    command = {"module": network.__name__, "name": name}
    setup = {side: pair[side].call("workload", action="setup", steps=steps, seed=0, **command) for side in bench.SIDES}
    rounds = bench.alternate(pair, "workload", {**command, "action": "round"}, cfg["warmup"], cfg["rounds"],
                             cfg["settle"])
    for side in bench.SIDES:
        stats = bench.round_stats(rounds[side], steps, settings["batch"], gflop_epoch, peak_gflops)
        row[side] = {**setup[side], **stats, "step_ms": stats["step_s_median"] * 1e3,
                     "memory": bench.worker_memory(pair[side])}
    row["ratio"] = row["chainrule"]["epoch_s"] / row["torch"]["epoch_s"]
    row["ratio_paired_median"] = bench.paired_median(rounds["chainrule"], rounds["torch"])
    return row


def table_lines(rows: list[dict], number, title: str = TITLE) -> list[str]:
    """The report's section for these rows (``number`` formats a float as the rest of the table does)."""
    from benchmarks import run as bench

    lines = ["", f"{title}: time per step and per epoch of 60,000 sequences, Adam(1e-3), sparse categorical "
                 "cross-entropy; chainrule model.fit vs PyTorch's loop, the same initial weights;",
             "ratio = chainrule / torch; GFLOP/s = 3 x analytic forward FLOPs / time; peak MB = each worker's "
             "ru_maxrss (increase over its value after import)"]
    body = []
    for r in rows:
        c, t = r["chainrule"], r["torch"]
        mem = lambda side: f"{side['memory']['peak_rss_mb']:.0f} (+{side['memory']['increase_mb']:.0f})"  # noqa
        body.append([r["name"], r["batch"], r["steps_per_round"], number(c["step_ms"]), number(t["step_ms"]),
                     number(c["epoch_s"]), number(t["epoch_s"]), f"{r['ratio']:.2f}x",
                     f"{r['ratio_paired_median']:.2f}x", number(c["gflops"]), number(t["gflops"]),
                     f"{number(c['percent_of_numpy_sgemm'])}%", mem(c), mem(t)])
    return lines + bench._table(["workload", "batch", "steps", "cr ms/step", "torch ms/step", "cr s/ep",
                                 "torch s/ep", "ratio", "paired", "cr GFLOP/s", "torch GFLOP/s", "cr %sgemm",
                                 "cr peak MB", "torch peak MB"], body)
