"""GradientHealth: watch each layer's gradients and activations while ``fit`` trains, and say what is wrong.

On a few sampled training batches per epoch (``samples_per_epoch``, spread over the epoch) the callback runs one
extra forward and backward pass on the batch the step is about to train on, with the weights the step starts from,
and records per layer: the gradient norm (and its root mean square, comparable across layers of different sizes),
the update-to-weight ratio of the real step (``|w_after - w_before| / |w_before|``), the fraction of dead ReLU units
(zero for every example of the batch), the fraction of saturated sigmoid/tanh outputs (where their derivative is
below 1% of its peak), and the mean and standard deviation of the layer's output. The rest of the epoch's steps run
untouched, so the cost is about ``samples_per_epoch`` extra steps per epoch.

:meth:`GradientHealth.report` turns the records into findings: gradients that vanish (their RMS shrinks by
``orders`` orders of magnitude from the output layer toward the input), gradients that explode (a non-finite
gradient or loss, steps larger than the weights they change, gradients that grow by ``orders`` orders of magnitude
toward the input or over training), dead ReLU layers and saturated layers, each with the layer named and the cures
to try. :meth:`GradientHealth.plot` draws the per-layer gradient norms over training.

>>> import numpy as np
>>> from chainrule import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="hidden"),
...                           keras.layers.Dense(1, name="out")])
>>> model.compile(optimizer="sgd", loss="mse")
>>> health = GradientHealth()
>>> _ = model.fit(np.ones((16, 4)), np.ones((16, 1)), epochs=2, verbose=0, callbacks=[health])
>>> [epoch["epoch"] for epoch in health.history]
[0, 1]
>>> list(health.history[0]["layers"])
['hidden', 'out']
"""
from __future__ import annotations

import dataclasses
import math
import os
import warnings

import numpy as np

from chainrule.keras.callbacks import Callback

# what counts as saturated: the activation's derivative below 1% of its peak (sigmoid' <= 0.0025, tanh' <= 0.01)
_SATURATED = {"sigmoid": lambda y: (y < 0.0025) | (y > 0.9975), "hard_sigmoid": lambda y: (y <= 0.0) | (y >= 1.0),
              "tanh": lambda y: np.abs(y) > 0.995}
_RELUS = ("relu", "relu6")

CURES = {
    "vanishing": ["use ReLU (or LeakyReLU/ELU) instead of sigmoid or tanh in the hidden layers",
                  "add BatchNormalization after the hidden layers",
                  "initialise the weights for the activation (He for ReLU, Glorot for tanh/sigmoid)",
                  "make the network shallower or add residual connections"],
    "exploding": ["clip the gradients (e.g. optimizer=keras.optimizers.SGD(clipnorm=1.0))",
                  "use a smaller learning rate",
                  "add BatchNormalization after the hidden layers",
                  "initialise the weights with a smaller scale (Glorot or He)"],
    "dead_relu": ["use a smaller learning rate", "use LeakyReLU or ELU",
                  "initialise with He initialisation and small positive biases"],
    "saturation": ["use ReLU instead of sigmoid or tanh in the hidden layers",
                   "add BatchNormalization before the activation",
                   "initialise the weights with Glorot initialisation and scale the inputs to about [-1, 1]"],
}


@dataclasses.dataclass
class Finding:
    """One problem :meth:`GradientHealth.report` found: its ``kind`` ('vanishing', 'exploding', 'dead_relu' or
    'saturation'), the ``layer`` it names, the epochs (0-based) it was seen in, what was measured, and the cures."""

    kind: str
    layer: str
    epochs: list[int]
    message: str
    cures: list[str]

    def __str__(self) -> str:
        seen = ", ".join(str(e + 1) for e in self.epochs)
        return (f"{self.kind} at layer '{self.layer}' (epoch{'s' * (len(self.epochs) > 1)} {seen}): {self.message}"
                f"\n    try: " + "; ".join(self.cures))


@dataclasses.dataclass
class HealthReport:
    """What :meth:`GradientHealth.report` returns: the findings, and the last epoch's per-layer table as text when
    printed."""

    findings: list[Finding]
    table: str

    def _first(self, kind: str) -> Finding | None:
        return next((f for f in self.findings if f.kind == kind), None)

    @property
    def vanishing(self) -> Finding | None:
        return self._first("vanishing")

    @property
    def exploding(self) -> Finding | None:
        return self._first("exploding")

    @property
    def healthy(self) -> bool:
        return not self.findings

    def __str__(self) -> str:
        verdict = "\n".join(f"- {f}" for f in self.findings) or "- no vanishing or exploding gradients, dead or " \
                                                                 "saturated layers found"
        return f"{self.table}\n{verdict}"


class GradientHealth(Callback):
    """Record per-layer gradient and activation statistics on sampled batches; ``report()`` names the layers where
    gradients vanish or explode and suggests cures; ``plot(path)`` draws the gradient norms over training.

    Args:
        samples_per_epoch: how many training batches of each epoch to measure (spread evenly over the epoch).
        orders: how many orders of magnitude of shrinking (or growing) toward the input count as vanishing (or
            exploding) gradients.
        max_update_ratio: a step whose update is larger than this fraction of a layer's weights counts as exploding.
        dead_fraction: report a ReLU layer with more than this fraction of dead units.
        saturated_fraction: report a sigmoid/tanh layer with more than this fraction of saturated outputs.
        verbose: 1 prints the report at the end of training.

    ``history`` holds one dict per epoch: ``{"epoch": e, "loss": ..., "layers": {name: {"grad_norm", "grad_rms",
    "update_ratio", "dead_fraction", "saturated_fraction", "activation_mean", "activation_std", "activation"}}}``
    (the means over the epoch's sampled batches; a statistic that does not apply to a layer is absent). The extra
    pass runs in training mode, as the step does; BatchNormalization's moving statistics are put back afterwards.
    """

    def __init__(self, samples_per_epoch: int = 2, orders: float = 2.0, max_update_ratio: float = 1.0,
                 dead_fraction: float = 0.5, saturated_fraction: float = 0.5, verbose: int = 0):
        super().__init__()
        if int(samples_per_epoch) < 1:
            raise ValueError(f"GradientHealth: samples_per_epoch must be at least 1, got {samples_per_epoch}")
        if not orders > 0:
            raise ValueError(f"GradientHealth: orders must be above 0, got {orders}")
        self.samples_per_epoch = int(samples_per_epoch)
        self.orders = float(orders)
        self.max_update_ratio = float(max_update_ratio)
        self.dead_fraction = float(dead_fraction)
        self.saturated_fraction = float(saturated_fraction)
        self.verbose = verbose
        self.history: list[dict] = []
        self._samples: list[dict] = []  # this epoch's sampled batches
        self._before: list[np.ndarray] | None = None
        self._sampled_steps: set[int] = set()
        self._epoch = 0
        self._warned = False

    # --- hooks ----------------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.history = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._samples = []
        steps = self.params.get("steps") or self.samples_per_epoch
        count = min(self.samples_per_epoch, steps)
        self._sampled_steps = {int(i * steps / count) for i in range(count)}

    def on_train_batch_begin(self, batch, logs=None):
        if batch not in self._sampled_steps:
            return
        data = getattr(self.model, "_train_batch_data", None)
        if data is None:
            return
        layers = _measured_layers(self.model)
        sample = {"layers": {layer.name: {} for layer in layers}}
        try:
            self._probe(data, layers, sample)
        except Exception as error:  # (a custom train_step whose loss compute_loss cannot make): the updates only
            if not self._warned:
                warnings.warn(f"GradientHealth: the measurement pass failed ({type(error).__name__}: {error}); only "
                              f"update-to-weight ratios are recorded", RuntimeWarning, stacklevel=2)
                self._warned = True
        self._before = [np.array(v.numpy()) for v in self.model.trainable_variables]
        self._samples.append(sample)

    def on_train_batch_end(self, batch, logs=None):
        if self._before is None:
            return
        layers, variables = _measured_layers(self.model), self.model.trainable_variables
        before = {id(v): w for v, w in zip(variables, self._before)}
        self._before = None
        stats = self._samples[-1]["layers"]
        for layer in layers:
            own = [v for v in layer._trainable_variables if id(v) in before]
            if own:
                step = math.sqrt(sum(float(np.sum((np.asarray(v.numpy(), np.float64) - before[id(v)]) ** 2))
                                     for v in own))
                size = math.sqrt(sum(float(np.sum(np.asarray(before[id(v)], np.float64) ** 2)) for v in own))
                stats[layer.name]["update_ratio"] = step / size if size > 0 else (0.0 if step == 0 else math.inf)
        if logs and "loss" in logs:
            self._samples[-1]["loss"] = float(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        layers: dict[str, dict] = {}
        for sample in self._samples:
            for name, stats in sample["layers"].items():
                for key, value in stats.items():
                    layers.setdefault(name, {}).setdefault(key, []).append(value)
        summary = {name: {key: (values[0] if key == "activation" else float(np.mean(values)))
                          for key, values in stats.items()} for name, stats in layers.items()}
        loss = (logs or {}).get("loss")
        self.history.append({"epoch": epoch, "loss": None if loss is None else float(loss), "layers": summary})

    def on_train_end(self, logs=None):
        if getattr(self.model, "_train_batch_data", None) is not None:
            object.__setattr__(self.model, "_train_batch_data", None)  # no batch kept alive after fit
        if self.verbose and self.history:
            print(self.report())

    # --- the extra pass -------------------------------------------------------------------------------------------
    def _probe(self, data, layers: list, sample: dict) -> None:
        """Forward (capturing each layer's output) and backward on the batch; gradients grouped by layer."""
        by_id, outputs = batch_gradients(self.model, data, capture=layers)
        for layer in layers:
            stats = sample["layers"][layer.name]
            own = [by_id[id(v)] for v in layer._trainable_variables if by_id.get(id(v)) is not None]
            if own:
                squares = sum(float(np.sum(np.asarray(g, np.float64) ** 2)) for g in own)
                count = sum(int(np.size(g)) for g in own)
                stats["grad_norm"] = math.sqrt(squares)
                stats["grad_rms"] = math.sqrt(squares / count)
            if layer.name in outputs:
                stats.update(_activation_stats(outputs[layer.name], _activation_name(layer)))

    # --- findings -------------------------------------------------------------------------------------------------
    def report(self) -> HealthReport:
        """The findings so far (vanishing or exploding gradients, dead and saturated layers), each naming its layer
        and the cures to try; printing it shows the last epoch's per-layer statistics too."""
        found: dict[tuple[str, str], Finding] = {}

        def note(kind: str, layer: str, epoch: int, message: str) -> None:
            key = (kind, layer)
            if key in found:
                found[key].epochs.append(epoch)
                found[key].message = message  # the latest epoch's numbers
            else:
                found[key] = Finding(kind, layer, [epoch], message, list(CURES[kind]))

        first_norms: dict[str, float] = {}
        for record in self.history:
            epoch, layers = record["epoch"], record["layers"]
            for name, stats in layers.items():
                first_norms.setdefault(name, stats.get("grad_norm", math.nan))
            self._depth_findings(epoch, layers, note)
            self._step_findings(epoch, record, first_norms, note)
            for name, stats in layers.items():
                if stats.get("dead_fraction", 0.0) > self.dead_fraction:
                    note("dead_relu", name, epoch, f"{stats['dead_fraction']:.0%} of its ReLU units output 0 for "
                                                   f"every example of the sampled batches")
                if stats.get("saturated_fraction", 0.0) > self.saturated_fraction:
                    note("saturation", name, epoch, f"{stats['saturated_fraction']:.0%} of its "
                                                    f"{stats.get('activation')} outputs are saturated (their "
                                                    f"derivative is below 1% of its peak)")
        order = {"exploding": 0, "vanishing": 1, "dead_relu": 2, "saturation": 3}
        findings = sorted(found.values(), key=lambda f: order[f.kind])
        return HealthReport(findings, self._table())

    def _depth_findings(self, epoch: int, layers: dict, note) -> None:
        """Gradients that shrink (or grow) by ``orders`` orders of magnitude from the output layer toward the
        input: the layer named is the first, counting from the output, past that threshold."""
        profile = [(name, stats["grad_rms"]) for name, stats in layers.items() if "grad_rms" in stats]
        if len(profile) < 2 or not all(math.isfinite(rms) for _, rms in profile):
            return
        top_name, top = profile[-1]
        if top <= 0:
            return
        for name, rms in reversed(profile[:-1]):
            change = math.log10(rms / top) if rms > 0 else -math.inf
            if change <= -self.orders:
                note("vanishing", name, epoch, f"its gradient RMS {rms:.2e} is {-change:.1f} orders of magnitude "
                                               f"below that of the output layer '{top_name}' ({top:.2e})"
                     if math.isfinite(change) else f"its gradient is exactly 0 while the output layer "
                                                   f"'{top_name}' gets {top:.2e}")
                return
            if change >= self.orders:
                note("exploding", name, epoch, f"its gradient RMS {rms:.2e} is {change:.1f} orders of magnitude "
                                               f"above that of the output layer '{top_name}' ({top:.2e})")
                return

    def _step_findings(self, epoch: int, record: dict, first_norms: dict, note) -> None:
        """Exploding gradients seen in time: a non-finite gradient or loss, a step larger than ``max_update_ratio``
        of the weights, a gradient norm ``orders`` orders of magnitude above its first epoch's."""
        layers = record["layers"]
        for name, stats in layers.items():
            norm, ratio = stats.get("grad_norm"), stats.get("update_ratio")
            if norm is not None and not math.isfinite(norm):
                note("exploding", name, epoch, f"its gradient norm is {norm}")
                return
            if ratio is not None and not ratio <= self.max_update_ratio:
                note("exploding", name, epoch, f"one step changed its weights by {ratio:.3g} times their size "
                                               f"(update-to-weight ratio; about 1e-3 is healthy)")
                return
            first = first_norms.get(name, math.nan)
            if norm is not None and first > 0 and math.log10(norm / first) >= self.orders:
                note("exploding", name, epoch, f"its gradient norm grew from {first:.2e} in the first epoch to "
                                               f"{norm:.2e}")
                return
        loss = record.get("loss")
        if loss is not None and not math.isfinite(loss):
            worst = max(layers, key=lambda n: layers[n].get("update_ratio", 0.0), default="(model)")
            note("exploding", worst, epoch, f"the training loss became {loss}")

    def _table(self) -> str:
        if not self.history:
            return "GradientHealth: no epoch recorded yet"
        record = self.history[-1]
        lines = [f"Gradient health, epoch {record['epoch'] + 1} (input first):",
                 f"  {'layer':<24}{'grad norm':>11}{'grad RMS':>11}{'update/w':>11}{'dead':>7}{'satur.':>8}"
                 f"{'act mean':>10}{'act std':>10}"]
        for name, s in record["layers"].items():
            def cell(key, width, fmt):
                return f"{format(s[key], fmt):>{width}}" if key in s else f"{'-':>{width}}"
            lines.append(f"  {name[:23]:<24}{cell('grad_norm', 11, '.2e')}{cell('grad_rms', 11, '.2e')}"
                         f"{cell('update_ratio', 11, '.2e')}{cell('dead_fraction', 7, '.0%')}"
                         f"{cell('saturated_fraction', 8, '.0%')}{cell('activation_mean', 10, '.3f')}"
                         f"{cell('activation_std', 10, '.3f')}")
        return "\n".join(lines)

    # --- the picture ----------------------------------------------------------------------------------------------
    def plot(self, path: str | os.PathLike) -> None:
        """Draw the per-layer gradient norms per epoch (left) and the last epoch's gradient RMS from the input to
        the output layer (right), on log scales, into the image file ``path`` (needs matplotlib)."""
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError as error:
            raise ImportError("GradientHealth.plot draws with matplotlib: pip install matplotlib") from error
        if not self.history:
            raise ValueError("GradientHealth.plot: nothing recorded yet (train with this callback first)")
        figure = Figure(figsize=(12, 4.5))
        FigureCanvasAgg(figure)
        over_time, depth = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
        names = [n for n, s in self.history[-1]["layers"].items() if "grad_norm" in s]
        epochs = [r["epoch"] + 1 for r in self.history]
        colors = _colors(len(names))
        for name, color in zip(names, colors):
            values = [r["layers"].get(name, {}).get("grad_norm", math.nan) for r in self.history]
            over_time.plot(epochs, values, marker="o", color=color, label=name)
        over_time.set_yscale("log")
        over_time.set_xlabel("epoch")
        over_time.xaxis.set_major_locator(MaxNLocator(integer=True))
        over_time.set_title("gradient norm per layer" + (" (dark: input side, light: output side)"
                                                         if len(names) > 12 else ""))
        over_time.grid(alpha=0.3)
        if len(names) <= 12:
            over_time.legend(fontsize=7)
        last = self.history[-1]["layers"]
        depth.plot(range(len(names)), [last[n]["grad_rms"] for n in names], marker="o")
        depth.set_yscale("log")
        depth.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        depth.set_title(f"gradient RMS from input to output, epoch {epochs[-1]}")
        depth.grid(alpha=0.3)
        report = self.report()
        verdict = "; ".join(f"{f.kind} at '{f.layer}'" for f in report.findings[:3]) or "healthy"
        figure.suptitle(f"GradientHealth: {verdict}", fontsize=10)
        figure.tight_layout()
        figure.savefig(path, dpi=100)


def batch_gradients(model, data, capture=()) -> tuple[dict, dict]:
    """The gradients of ``model``'s loss on one training batch ``data`` (``(x, y[, sample_weight])``), by ``id`` of
    each trainable variable (as arrays; absent where the loss does not reach it), and the outputs of the layers in
    ``capture`` by layer name. The pass runs in training mode, as a step does, without updating anything: the
    non-trainable variables (BatchNormalization's moving statistics) are put back afterwards."""
    from chainrule.engine.tape import GradientTape
    from chainrule.keras.training.adapters import unpack

    x, y, sample_weight = unpack(tuple(data))
    outputs: dict[str, np.ndarray] = {}
    moving = [(v, np.array(v.numpy())) for v in model.non_trainable_variables]
    restore = [_capture_output(layer, outputs) for layer in capture]
    try:
        variables = model.trainable_variables
        with GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight) \
                if getattr(model, "_compiled_loss", None) is not None or model.losses else None
        grads = tape.gradient(loss, variables) if loss is not None and variables else []
    finally:
        for undo in restore:
            undo()
        for variable, value in moving:  # the step itself updates the moving statistics, once
            variable.assign(value)
    found = {id(v): np.asarray(g.numpy()) for v, g in zip(variables, grads) if g is not None}
    return found, outputs


def _measured_layers(model) -> list:
    """The layers whose gradients and outputs are recorded: every layer inside the model, models excepted."""
    from chainrule.keras.models import Model

    return [layer for layer in model._flatten_layers(include_self=False) if not isinstance(layer, Model)]


def _capture_output(layer, outputs: dict):
    """Make ``layer`` store a copy of its output in ``outputs`` when called; returns what undoes it."""
    call = layer.call

    def recording_call(*args, **kwargs):
        result = call(*args, **kwargs)
        if hasattr(result, "numpy"):
            outputs[layer.name] = np.asarray(result.numpy())
        return result

    object.__setattr__(layer, "call", recording_call)  # an instance attribute: no tracking, removed after
    return lambda: object.__delattr__(layer, "call")


def _activation_name(layer) -> str | None:
    """The name of the activation that produces ``layer``'s output ('relu', 'sigmoid', ...), or None."""
    from chainrule.keras import activations
    from chainrule.keras.layers.activations import ReLU

    if isinstance(layer, ReLU):
        plain = getattr(layer, "negative_slope", 0.0) == 0.0 and getattr(layer, "threshold", 0.0) == 0.0
        return "relu" if plain else None
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    try:
        return activations.serialize(function)
    except (ValueError, TypeError):
        return None


def _activation_stats(output: np.ndarray, activation: str | None) -> dict:
    """Mean and standard deviation of a layer's output; the fraction of dead units (channels last) after a ReLU,
    of saturated outputs after a sigmoid or tanh."""
    output = np.asarray(output, np.float64)
    stats = {"activation_mean": float(output.mean()), "activation_std": float(output.std())}
    if activation is not None:
        stats["activation"] = activation
    if activation in _RELUS and output.ndim >= 2:
        alive = (output > 0).reshape(-1, output.shape[-1]).any(axis=0)
        stats["dead_fraction"] = float(1.0 - alive.mean())
    elif activation in _SATURATED:
        stats["saturated_fraction"] = float(_SATURATED[activation](output).mean())
    return stats


def _colors(count: int) -> list:
    from matplotlib import colormaps

    return [colormaps["viridis"](i / max(count - 1, 1)) for i in range(count)]
