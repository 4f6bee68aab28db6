"""The text classifier workload: Embedding + Bidirectional(LSTM) + Dense in chainrule's Keras against PyTorch's
nn.Embedding + bidirectional nn.LSTM + nn.Linear, same weights.

    python -m benchmarks.run --workloads text-bilstm-b32 --ops none

Token ids (batch, 100) -> Embedding(10000, 64) -> Bidirectional(LSTM(64)) (the forward layer's last output beside
the backward layer's) -> Dense(2, softmax); Adam(1e-3), sparse categorical cross-entropy. PyTorch runs the same
network (its LSTM's gates are Keras's i, f, c, o in the same order: kernels transposed, Keras's one bias as
``bias_ih`` and ``bias_hh`` zero), the classifier on the final hidden states of both directions.

Both sides run in the benchmark's worker processes (benchmarks/worker.py's ``workload`` command calls
:func:`handle` there); this module imports neither framework at import time. The round timing, the PyTorch loop,
the row and the table are benchmarks/transformer.py's.
"""
from __future__ import annotations

from benchmarks import transformer
from benchmarks.transformer import measure_workload, prepare_sides, synthetic_tokens, timed_round

# name -> settings; steps per round of a full run: about a second per round and framework on 2 cores
WORKLOADS: dict[str, dict] = {
    "text-bilstm-b32": dict(batch=32, steps=100, vocab=10000, width=64, units=64, classes=2, full_steps=12),
}


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


# --- in the worker --------------------------------------------------------------------------------------------------
def handle(side, state: dict, action: str, name: str = "", steps: int = 0, seed: int = 0):
    """benchmarks/worker.py's ``workload`` command: ``setup`` builds workload ``name``'s model and data on this side,
    Keras's ``fit`` on one and PyTorch's usual loop on the other; ``round`` trains one round (``steps`` steps) and
    returns its wall and CPU seconds."""
    if action == "setup":
        cfg = WORKLOADS[name]
        x, y = synthetic_tokens(cfg, steps * cfg["batch"], seed)
        info = prepare_sides(side, state, cfg, initial_weights(cfg, seed), x, y, steps, build_chainrule, build_torch,
                             "Adam", 1e-3, torch_x=x.astype("int64"))
        return {"model": f"{'keras.Sequential' if side.name == 'chainrule' else 'torch.nn.Module'} "
                         f"(benchmarks/text_classifier.py)", **info}
    if action == "round":
        return timed_round(side, state, "text classifier")
    raise ValueError(f"unknown text classifier action {action!r}")


# --- in the orchestrator ---------------------------------------------------------------------------------------------
def measure(pair, name: str, cfg: dict, peak_gflops: float | None) -> dict:
    """One workload's row, as the Transformer's (benchmarks/transformer.py's measure_workload)."""
    return measure_workload(pair, __name__, name, cfg, peak_gflops, "embedding-bilstm")


def table_lines(rows: list[dict], number) -> list[str]:
    """The report's section for these rows: the Transformer's table under this workload's heading."""
    lines = transformer.table_lines(rows, number)
    lines[1] = ("Text classifier (benchmarks/text_classifier.py): Embedding + Bidirectional(LSTM) + Dense, time per step "
                "and per epoch of 60,000 sequences, Adam(1e-3), sparse categorical cross-entropy; chainrule model.fit "
                "vs PyTorch's nn.Embedding + bidirectional nn.LSTM + nn.Linear in a loop, the same initial weights;")
    return lines
