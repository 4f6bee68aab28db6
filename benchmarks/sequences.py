"""The recurrent workloads: LSTM and GRU with 128 units on MNIST rows (28 steps of 28 features), batch 128, trained
in chainrule and in PyTorch from the same weights.

    python -m benchmarks.run --workloads lstm-rows-b128,gru-rows-b128 --ops none

Model: LSTM(128) or GRU(128) (Keras's defaults: tanh, sigmoid gates, GRU reset_after=True) over (batch, 28, 28),
the last output into Dense(10); plain SGD(0.01) on sparse categorical cross-entropy from logits, so that the step is
the recurrent layer's forward and backward plus a small head. chainrule runs ``model.fit`` (the layer's fused op);
PyTorch runs nn.LSTM / nn.GRU (oneDNN's fused kernels on CPU) and nn.Linear in the usual loop, with the chainrule
model's initial weights mapped into its layout (LSTM gates i, f, g, o are Keras's i, f, c, o; GRU's r, z, n are
Keras's r, z, h reordered).

GFLOP/s: 3 x the forward's multiply-adds x 2 (the recurrent layer's input and recurrent products, 2·T·(D + H)·G·H
per sequence with G gates, and the head's), per second, beside NumPy's float32 matmul peak measured in the run.

Both sides run in the benchmark's worker processes (benchmarks/worker.py's ``workload`` command calls
:func:`handle` there); this module imports neither framework at import time.
"""
from __future__ import annotations

from benchmarks.transformer import measure_workload, prepare_sides, timed_round

GATES = {"lstm": 4, "gru": 3}
# name -> settings; full_steps: steps per round of a full run (about a second per round and framework on 2 cores)
WORKLOADS: dict[str, dict] = {
    f"{cell}-rows-b128": dict(cell=cell, batch=128, steps=28, features=28, units=128, classes=10, full_steps=24)
    for cell in GATES
}


def forward_flops(cfg: dict) -> int:
    """Forward FLOPs of one sequence (a multiply-add is 2): the gates' input and recurrent products, the head."""
    t, d, h = cfg["steps"], cfg["features"], cfg["units"]
    return 2 * t * (d + h) * GATES[cfg["cell"]] * h + 2 * h * cfg["classes"]


def count_params(cfg: dict) -> int:
    d, h, g = cfg["features"], cfg["units"], GATES[cfg["cell"]]
    biases = 2 * g * h if cfg["cell"] == "gru" else g * h  # GRU reset_after: input and recurrent biases
    return (d + h) * g * h + biases + h * cfg["classes"] + cfg["classes"]


def initial_weights(cfg: dict, seed: int) -> list:
    """[kernel, recurrent_kernel, bias, head kernel, head bias] in Keras's layouts, from one NumPy generator."""
    import numpy as np

    rng = np.random.default_rng(seed)
    d, h, g, k = cfg["features"], cfg["units"], GATES[cfg["cell"]], cfg["classes"]

    def uniform(shape, fan_in, fan_out):
        return rng.uniform(-1, 1, shape).astype(np.float32) * np.float32(np.sqrt(6 / (fan_in + fan_out)))

    bias = np.zeros((2, g * h) if cfg["cell"] == "gru" else g * h, np.float32)
    return [uniform((d, g * h), d, g * h), uniform((h, g * h), h, g * h), bias, uniform((h, k), h, k),
            np.zeros(k, np.float32)]


def synthetic_rows(cfg: dict, count: int, seed: int):
    """MNIST-shaped images read as rows: (count, 28, 28) in [0, 1], and class labels."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    return (rng.random((count, cfg["steps"], cfg["features"]), dtype=np.float32),
            rng.integers(0, cfg["classes"], count))


def build_chainrule(keras, cfg: dict, weights: list):
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cfg["cell"]](cfg["units"])
    model = keras.Sequential([keras.Input((cfg["steps"], cfg["features"])), layer,
                              keras.layers.Dense(cfg["classes"])])
    model.set_weights(weights)
    return model


def build_torch(torch, cfg: dict, weights: list):
    nn = torch.nn
    kernel, recurrent, bias, head_kernel, head_bias = [torch.from_numpy(w.copy()) for w in weights]
    h = cfg["units"]

    def order(w):  # Keras's GRU gates (z, r, h) in PyTorch's order (r, z, n); LSTM's are the same
        return torch.cat([w[h:2 * h], w[:h], w[2 * h:]]) if cfg["cell"] == "gru" else w

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cfg["cell"]](cfg["features"], h, batch_first=True)
            self.head = nn.Linear(h, cfg["classes"])

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    model = Model()
    with torch.no_grad():
        model.rnn.weight_ih_l0.copy_(order(kernel.T))
        model.rnn.weight_hh_l0.copy_(order(recurrent.T))
        model.rnn.bias_ih_l0.copy_(order(bias[0] if cfg["cell"] == "gru" else bias))
        model.rnn.bias_hh_l0.copy_(order(bias[1]) if cfg["cell"] == "gru" else torch.zeros_like(bias))
        model.head.weight.copy_(head_kernel.T)
        model.head.bias.copy_(head_bias)
    return model


# --- in the worker ---------------------------------------------------------------------------------------------------
def handle(side, state: dict, action: str, name: str = "", steps: int = 0, seed: int = 0):
    """benchmarks/worker.py's ``workload`` command: ``setup`` builds workload ``name``'s model and data on this side;
    ``round`` trains one round (``steps`` steps) and returns its wall and CPU seconds."""
    if action == "setup":
        cfg = WORKLOADS[name]
        x, y = synthetic_rows(cfg, steps * cfg["batch"], seed)
        logits_loss = lambda keras: keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # noqa: E731
        info = prepare_sides(side, state, cfg, initial_weights(cfg, seed), x, y, steps, build_chainrule, build_torch,
                             "SGD", 0.01, loss=logits_loss)
        return {"model": f"{cfg['cell'].upper()}({cfg['units']}) + Dense({cfg['classes']}) (benchmarks/sequences.py)",
                **info}
    if action == "round":
        return timed_round(side, state, "sequences")
    raise ValueError(f"unknown sequences action {action!r}")


# --- in the orchestrator ---------------------------------------------------------------------------------------------
def measure(pair, name: str, cfg: dict, peak_gflops: float | None) -> dict:
    """One workload's row: medians of alternating rounds, ratio chainrule / torch, GFLOP/s, memory."""
    settings = WORKLOADS[name]
    return measure_workload(pair, __name__, name, cfg, peak_gflops, f"{settings['cell']}-{settings['units']}")


def table_lines(rows: list[dict], number) -> list[str]:
    """The report's section for these rows (``number`` formats a float as the rest of the table does)."""
    from benchmarks import run as bench

    lines = ["", "Recurrent layers (benchmarks/sequences.py): a training step of LSTM/GRU(128) + Dense(10) on 28 steps "
                 "of 28 features, SGD; chainrule model.fit (fused op) vs torch nn.LSTM/nn.GRU, the same initial "
                 "weights;", "ratio = chainrule / torch; GFLOP/s = 3 x analytic forward FLOPs / time"]
    body = [[r["name"], r["batch"], r["steps_per_round"], number(r["chainrule"]["step_ms"]),
             number(r["torch"]["step_ms"]), f"{r['ratio']:.2f}x", f"{r['ratio_paired_median']:.2f}x",
             number(r["chainrule"]["gflops"]), number(r["torch"]["gflops"]),
             f"{number(r['chainrule']['percent_of_numpy_sgemm'])}%",
             f"{r['chainrule']['memory']['peak_rss_mb']:.0f}", f"{r['torch']['memory']['peak_rss_mb']:.0f}"]
            for r in rows]
    return lines + bench._table(["workload", "batch", "steps", "cr ms/step", "torch ms/step", "ratio", "paired",
                                 "cr GFLOP/s", "torch GFLOP/s", "cr %sgemm", "cr peak MB", "torch peak MB"], body)
