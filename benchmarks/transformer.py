"""The Transformer encoder workload: chainrule's Keras model against torch.nn.TransformerEncoder, same weights.

    python -m benchmarks.run --workloads transformer-b32 --ops none

Token ids (batch, 64) -> Embedding(1000, 64) -> 2 post-norm encoder blocks (MultiHeadAttention with 4 heads of 16,
add & LayerNormalization(1e-5), Dense(128, relu) -> Dense(64), add & LayerNormalization) -> GlobalAveragePooling1D
-> Dense(2, softmax); Adam(1e-3), sparse categorical cross-entropy. PyTorch runs nn.Embedding, nn.TransformerEncoder
of nn.TransformerEncoderLayer(64, 4, 128, batch_first=True) (the same post-norm block), mean pooling and nn.Linear,
with the chainrule model's initial weights mapped into its layout; dropout is 0 on both sides so that both compute
the same function (torch's fast inference path is not used: this is training).

Both sides run in the benchmark's worker processes (benchmarks/worker.py's ``workload`` command calls
:func:`handle` there); this module imports neither framework at import time, as the orchestrator must stay light.
"""
from __future__ import annotations

import time

# name -> settings; steps per round of a full run: about a second per round and framework on 2 cores
WORKLOADS: dict[str, dict] = {
    "transformer-b32": dict(batch=32, steps=64, vocab=1000, width=64, heads=4, feed_forward=128, blocks=2,
                            classes=2, full_steps=40),
}


def forward_flops(cfg: dict) -> int:
    """Forward FLOPs of one sequence (a multiply-add is 2): per block the q, k, v and output projections
    (4 · 2·T·d²), scores and weighted values (2 · 2·T²·d) and the feed-forward pair (2 · 2·T·d·f); the classifier."""
    t, d, f = cfg["steps"], cfg["width"], cfg["feed_forward"]
    block = 4 * 2 * t * d * d + 2 * 2 * t * t * d + 2 * 2 * t * d * f
    return cfg["blocks"] * block + 2 * d * cfg["classes"]


def count_params(cfg: dict) -> int:
    d, f = cfg["width"], cfg["feed_forward"]
    block = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 2 * 2 * d
    return cfg["vocab"] * d + cfg["blocks"] * block + d * cfg["classes"] + cfg["classes"]


def initial_weights(cfg: dict, seed: int) -> dict:
    """The weights both sides start from, in Keras's layouts, from one NumPy generator (Glorot-like scales)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    d, f, h = cfg["width"], cfg["feed_forward"], cfg["heads"]

    def glorot(shape, fan_in, fan_out):
        return rng.uniform(-1, 1, shape).astype(np.float32) * np.float32(np.sqrt(6 / (fan_in + fan_out)))

    blocks = []
    for _ in range(cfg["blocks"]):
        blocks.append({
            **{f"{role}_kernel": glorot((d, h, d // h), d, d) for role in ("query", "key", "value")},
            **{f"{role}_bias": np.zeros((h, d // h), np.float32) for role in ("query", "key", "value")},
            "output_kernel": glorot((h, d // h, d), d, d), "output_bias": np.zeros(d, np.float32),
            "ff1_kernel": glorot((d, f), d, f), "ff1_bias": np.zeros(f, np.float32),
            "ff2_kernel": glorot((f, d), f, d), "ff2_bias": np.zeros(d, np.float32)})
    return {"embedding": rng.uniform(-0.05, 0.05, (cfg["vocab"], d)).astype(np.float32), "blocks": blocks,
            "head_kernel": glorot((d, cfg["classes"]), d, cfg["classes"]),
            "head_bias": np.zeros(cfg["classes"], np.float32)}


def synthetic_tokens(cfg: dict, count: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    return (rng.integers(1, cfg["vocab"], (count, cfg["steps"])).astype(np.int32),
            rng.integers(0, cfg["classes"], count))


# --- chainrule ------------------------------------------------------------------------------------------------------
def build_chainrule(keras, cfg: dict, weights: dict):
    """The Keras functional model a user would write for a post-norm encoder, with ``weights`` set."""
    layers = keras.layers
    d, h = cfg["width"], cfg["heads"]
    inputs = keras.Input((cfg["steps"],), dtype="int32")
    x = layers.Embedding(cfg["vocab"], d)(inputs)
    for _ in range(cfg["blocks"]):
        attention = layers.MultiHeadAttention(h, d // h)(x, x)
        x = layers.LayerNormalization(epsilon=1e-5)(layers.Add()([x, attention]))
        ff = layers.Dense(d)(layers.Dense(cfg["feed_forward"], activation="relu")(x))
        x = layers.LayerNormalization(epsilon=1e-5)(layers.Add()([x, ff]))
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(cfg["classes"], activation="softmax")(x))
    of_type = lambda cls: [layer for layer in model.layers if isinstance(layer, cls)]  # noqa: E731 (in call order)
    of_type(layers.Embedding)[0].set_weights([weights["embedding"]])
    dense = iter(of_type(layers.Dense))
    for block, attention in zip(weights["blocks"], of_type(layers.MultiHeadAttention)):
        attention.set_weights([block[f"{role}_{part}"] for role in ("query", "key", "value", "output")
                               for part in ("kernel", "bias")])
        next(dense).set_weights([block["ff1_kernel"], block["ff1_bias"]])
        next(dense).set_weights([block["ff2_kernel"], block["ff2_bias"]])
    next(dense).set_weights([weights["head_kernel"], weights["head_bias"]])
    return model


# --- torch -----------------------------------------------------------------------------------------------------------
def build_torch(torch, cfg: dict, weights: dict):
    nn = torch.nn
    d, h, f = cfg["width"], cfg["heads"], cfg["feed_forward"]

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(cfg["vocab"], d)
            layer = nn.TransformerEncoderLayer(d, h, f, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, cfg["blocks"], enable_nested_tensor=False)
            self.head = nn.Linear(d, cfg["classes"])

        def forward(self, ids):
            return self.head(self.encoder(self.embedding(ids)).mean(dim=1))

    model = Encoder()
    t = lambda a: torch.from_numpy(a.copy())  # noqa: E731
    with torch.no_grad():
        model.embedding.weight.copy_(t(weights["embedding"]))
        for block, layer in zip(weights["blocks"], model.encoder.layers):
            attention = layer.self_attn  # Keras (d, heads, head_dim) kernels = torch's (heads*head_dim, d) rows
            attention.in_proj_weight.copy_(torch.cat([t(block[f"{r}_kernel"].reshape(d, d).T)
                                                      for r in ("query", "key", "value")]))
            attention.in_proj_bias.copy_(torch.cat([t(block[f"{r}_bias"].reshape(d)) for r in ("query", "key",
                                                                                               "value")]))
            attention.out_proj.weight.copy_(t(block["output_kernel"].reshape(d, d).T))
            attention.out_proj.bias.copy_(t(block["output_bias"]))
            layer.linear1.weight.copy_(t(block["ff1_kernel"].T))
            layer.linear1.bias.copy_(t(block["ff1_bias"]))
            layer.linear2.weight.copy_(t(block["ff2_kernel"].T))
            layer.linear2.bias.copy_(t(block["ff2_bias"]))
        model.head.weight.copy_(t(weights["head_kernel"].T))
        model.head.bias.copy_(t(weights["head_bias"]))
    return model


# --- in the worker ---------------------------------------------------------------------------------------------------
def handle(side, state: dict, action: str, name: str = "", steps: int = 0, seed: int = 0):
    """benchmarks/worker.py's ``workload`` command: ``setup`` builds the model and data of workload ``name`` on
    this side (``side``: the worker's ChainruleSide or TorchSide); ``round`` trains one round and returns its wall
    and CPU seconds."""
    if action == "setup":
        cfg = WORKLOADS[name]
        x, y = synthetic_tokens(cfg, steps * cfg["batch"], seed)
        info = prepare_sides(side, state, cfg, initial_weights(cfg, seed), x, y, steps, build_chainrule, build_torch,
                             "Adam", 1e-3, torch_x=x.astype("int64"))
        return {"model": f"{'keras.Model' if side.name == 'chainrule' else 'torch.nn.TransformerEncoder'} "
                         f"(benchmarks/transformer.py)", **info}
    if action == "round":
        return timed_round(side, state, "transformer")
    raise ValueError(f"unknown transformer action {action!r}")


def prepare_sides(side, state: dict, cfg: dict, weights, x, y, steps: int, build_chainrule, build_torch,
                  optimizer: str, learning_rate: float, loss=None, torch_x=None) -> dict:
    """The setup every sequence workload shares: this side's model from the same ``weights``, Keras's ``fit`` over
    (x, y) on chainrule's side and PyTorch's usual loop on torch's, with the optimizer of that name (``Adam``,
    ``SGD``) in both, kept in ``state`` for ``timed_round``. ``loss(keras)`` gives chainrule's loss (default: sparse
    cross-entropy of softmax outputs). Returns the parameter count and the data size."""
    if side.name == "chainrule":
        keras = side.keras
        model = build_chainrule(keras, cfg, weights)
        model.compile(optimizer=getattr(keras.optimizers, optimizer)(learning_rate=learning_rate),
                      loss="sparse_categorical_crossentropy" if loss is None else loss(keras))
        opt = model.optimizer
        train = lambda: model.fit(x, y, batch_size=cfg["batch"], epochs=1, verbose=0, shuffle=False)  # noqa: E731
        params = int(model.count_params())
    else:
        torch = side.torch
        model = build_torch(torch, cfg, weights)
        opt = getattr(torch.optim, optimizer)(model.parameters(), lr=learning_rate)
        train = torch_trainer(torch, model, opt, x if torch_x is None else torch_x, y, cfg["batch"])
        params = sum(p.numel() for p in model.parameters())
    state.clear()
    state.update(train=train, optimizer=opt, steps=steps)
    return {"params": params, "data_mb": (x.nbytes + y.nbytes) / 2**20}


def torch_trainer(torch, model, optimizer, x, y, batch: int):
    """A function training ``model`` one epoch over (x, y) in batches: PyTorch's usual loop with cross-entropy."""
    batches = list(zip(torch.from_numpy(x).split(batch), torch.from_numpy(y.astype("int64")).split(batch)))
    loss_fn = torch.nn.CrossEntropyLoss()

    def train():
        model.train()
        for xb, yb in batches:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    return train


def timed_round(side, state: dict, label: str) -> dict:
    """One round of ``state["train"]``: its wall and CPU seconds; chainrule's optimizer must have taken every step."""
    from benchmarks.worker import cpu_seconds

    cpu, start = cpu_seconds(), time.perf_counter()
    state["train"]()
    result = {"wall_s": time.perf_counter() - start, "cpu_s": cpu_seconds() - cpu}
    if side.name == "chainrule" and int(state["optimizer"].iterations) % state["steps"]:
        raise RuntimeError(f"chainrule {label}: the round did not take its optimizer steps")
    return result


# --- in the orchestrator ---------------------------------------------------------------------------------------------
def measure(pair, name: str, cfg: dict, peak_gflops: float | None) -> dict:
    """One workload's row, as benchmarks/run.py's training rows: medians of alternating rounds, ratio, memory."""
    return measure_workload(pair, __name__, name, cfg, peak_gflops, "transformer-encoder")


def measure_workload(pair, module_name: str, name: str, cfg: dict, peak_gflops: float | None, network: str) -> dict:
    """The row of workload ``name`` of the module ``module_name`` (its WORKLOADS, forward_flops, count_params and a
    ``handle`` with actions setup and round): medians of alternating rounds, ratio chainrule / torch, memory."""
    import importlib

    from benchmarks import run as bench
    from benchmarks.workloads import EPOCH_IMAGES, steps_for

    module = importlib.import_module(module_name)
    settings = module.WORKLOADS[name]
    steps = steps_for(settings["full_steps"], cfg["step_scale"])
    gflop_epoch = 3 * module.forward_flops(settings) * EPOCH_IMAGES / 1e9
    row = {"name": name, "network": network, "batch": settings["batch"], "steps_per_round": steps,
           "rounds": cfg["rounds"], "warmup_rounds": cfg["warmup"], "settings": dict(settings),
           "params_expected": module.count_params(settings),
           "forward_mflop_per_sequence": module.forward_flops(settings) / 1e6, "train_gflop_per_epoch": gflop_epoch}
    call = lambda side, **kw: pair[side].call("workload", module=module_name, name=name, **kw)  # noqa: E731
    setup = {side: call(side, action="setup", steps=steps, seed=0) for side in bench.SIDES}
    rounds = bench.alternate(pair, "workload", {"module": module_name, "action": "round"}, cfg["warmup"],
                             cfg["rounds"], cfg["settle"])
    for side in bench.SIDES:
        stats = bench.round_stats(rounds[side], steps, settings["batch"], gflop_epoch, peak_gflops)
        row[side] = {**setup[side], **stats, "step_ms": stats["step_s_median"] * 1e3,
                     "memory": bench.worker_memory(pair[side])}
    row["ratio"] = row["chainrule"]["epoch_s"] / row["torch"]["epoch_s"]
    row["ratio_paired_median"] = bench.paired_median(rounds["chainrule"], rounds["torch"])
    return row


def table_lines(rows: list[dict], number) -> list[str]:
    """The report's section for these rows (``number`` formats a float as the rest of the table does)."""
    from benchmarks import run as bench

    lines = ["", "Transformer encoder (benchmarks/transformer.py): time per step and per epoch of 60,000 sequences, "
                 "Adam(1e-3), sparse categorical cross-entropy; chainrule model.fit vs torch.nn.TransformerEncoder "
                 "in a loop, the same initial weights;",
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
