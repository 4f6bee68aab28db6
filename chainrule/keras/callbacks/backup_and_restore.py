"""``keras.callbacks.BackupAndRestore``: an interrupted ``fit`` run again with the same callback continues where it
stopped, and ends with the bits an uninterrupted run ends with.

Keras resumes at the epoch; this callback, as Keras, saves at each epoch's end (``save_freq="epoch"``) or every
``save_freq`` batches, and resumes at the batch after the last save. The backup holds the whole training state:

- the weights (every variable of the model) and the optimizer's slots, step count and learning rate;
- where training stood: the epoch and the batches of it done, the metrics' running state within the epoch;
- the other callbacks' state (EarlyStopping's best and wait, ReduceLROnPlateau's, ModelCheckpoint's best, History
  so far; the attributes a callback of one's own names in ``state_attributes``);
- every random generator: the global one (``chainrule.backend.rng()``: shuffle orders, Dropout without a seed, the
  initializers), its state when the epoch began (the epoch's shuffle order is drawn again from it and the batches
  done are skipped), the op-level seeds' sequences, each layer's own generator (a seeded Dropout, the SeedGenerators
  of the noise and augmentation layers), Python's ``random`` and NumPy's legacy global state.

The backup is one chainrule model file (chainrule/keras/saving/file_format.py: JSON and raw arrays, checksummed, no
pickle), written atomically with Ctrl-C held back while it is written, so a kill at any moment leaves the previous
backup or the new one whole. ``double_checkpoint=True`` keeps the previous backup too, used when the latest cannot
be read. ``delete_checkpoint=True`` removes the backup when ``fit`` ends normally.

Under a distribution of several processes (``tf.distribute.MultiWorkerMirroredStrategy``, chainrule.distributed)
the callback runs on every rank, as in TensorFlow, and must be given on each: rank 0 alone writes the backup (the
metrics' running state summed over the ranks, so that it is the global batch's), and rank 0 alone reads it, handing
it to the others, so that every rank resumes from the same backup whatever the number of ranks that wrote it.

Bit-identical resumption holds for arrays (shuffled or not) and Keras ``PyDataset``s in one process at a time;
a ``Dataset`` is resumed by skipping the batches already done, a generator (read once) and ``steps_per_epoch``
(which carries an epoch of the data over fit's epochs) resume at the saved epoch and batch but see other data.

>>> import os, tempfile, numpy as np
>>> from chainrule import keras
>>> keras.utils.set_random_seed(1)
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> backup = BackupAndRestore(os.path.join(tempfile.mkdtemp(), "backup"), delete_checkpoint=False)
>>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, callbacks=[backup], verbose=0)
>>> read_backup(backup.backup_dir)["epoch"]  # the next epoch to run: this fit is complete
2
"""
from __future__ import annotations

import contextlib
import json
import os
import random as python_random
import warnings
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.keras.callbacks import Callback, History, ProgbarLogger
from chainrule.keras.saving.file_format import ModelFileError, read_file, write_file
from chainrule.keras.saving.model_files import check_optimizer_state
from chainrule.utils.interrupts import deferred_interrupts

FORMAT = "chainrule-training-state"
LATEST = "training_state.chainrule"
PREVIOUS = "training_state.previous.chainrule"


class BackupAndRestore(Callback):
    """Back the training state up to ``backup_dir`` and resume an interrupted ``fit`` from it (see the module).

    ``save_freq``: ``"epoch"`` (at each epoch's end) or an integer, every that many batches (and at the epoch's
    end). ``double_checkpoint``: keep the previous backup as well. ``delete_checkpoint``: remove the backup when
    training ends normally (an interrupted run keeps it, to resume from).
    """

    runs_last = True  # after the other callbacks, so that their state at a batch's or an epoch's end is saved whole
    runs_on_every_rank = True  # with several processes: every rank takes part in saving and resumes (see the module)

    def __init__(self, backup_dir: str | os.PathLike, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or
                                     save_freq <= 0):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq!r}. "
                             f"Expected either 'epoch' or a positive integer")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._callbacks: list[Callback] = []
        self._epoch = 0
        self._epoch_start_rng: dict | None = None
        self._batches_since_save = 0
        self._resumed_epoch: int | None = None  # the epoch a resumed fit starts inside, until it ends

    # --- hooks ------------------------------------------------------------------------------------------------------
    def _set_callback_list(self, callbacks) -> None:
        """The fit's callbacks (CallbackList calls this), whose states the backup holds."""
        self._callbacks = [cb for cb in callbacks.callbacks if cb is not self and not isinstance(cb, ProgbarLogger)]

    @property
    def _implements_train_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        self._batches_since_save = 0
        self._resumed_epoch = None
        state = self._load_on_every_rank()
        if state is None:
            return
        header, arrays, path = state
        if not self.model.weights:
            raise ValueError("To use the BackupAndRestore callback, your model must be built before you call "
                             "`fit()` (give it an Input or call model.build(input_shape))")
        try:
            _check_state(header, arrays)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as error:
            raise ModelFileError(path, f"the training state is damaged: {type(error).__name__}: {error}") from error
        point = _ResumePoint(self, header, arrays, path)
        point.restore_at_train_begin()
        self._resumed_epoch = point.epoch if point.batch else None
        self._epoch_start_rng = header["rng"]["epoch_start"]
        object.__setattr__(self.model, "_resume_point", point)  # fit reads it once (trainer.py)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if epoch != self._resumed_epoch:
            self._epoch_start_rng = _generator_state(backend.rng())
        self._resumed_epoch = None

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._save(self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._save(epoch + 1, 0)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and self._writes():
            for name in (LATEST, PREVIOUS):
                path = os.path.join(self.backup_dir, name)
                if os.path.exists(path):
                    os.remove(path)
            try:
                os.rmdir(self.backup_dir)
            except OSError:
                pass  # not empty (the user's files) or gone

    # --- several processes ------------------------------------------------------------------------------------------
    def _distribution(self):
        """The distribution of several processes that fit runs under, or None."""
        distribution = getattr(self.model, "_distribution", None)
        return distribution if distribution is not None and distribution.num_replicas_in_sync > 1 else None

    def _writes(self) -> bool:
        """Whether this process writes the backup: rank 0, or the only process."""
        distribution = self._distribution()
        return distribution is None or distribution.is_chief

    def _load_on_every_rank(self) -> tuple[dict, dict, str] | None:
        """``_load`` on rank 0 and its result on every rank (so that no shared file system is needed); a backup
        rank 0 cannot read stops every rank."""
        distribution = self._distribution()
        if distribution is None:
            return self._load()
        found = None
        if distribution.is_chief:
            try:
                found = ("state", self._load())
            except Exception as error:
                distribution.from_chief(("error", f"{type(error).__name__}: {error}"))
                raise
        kind, value = distribution.from_chief(found)
        if kind == "error":
            raise RuntimeError(f"BackupAndRestore: rank 0 could not read the backup in {self.backup_dir}: {value}")
        return value

    def _metric_state(self) -> tuple[list[dict], list[tuple[str, np.ndarray]]]:
        """The metrics' running state (summed over the ranks, a collective, under a distribution)."""
        metrics = _stateful_metrics(self.model)
        distribution = self._distribution()
        summed = distribution.summed_metrics(metrics) if distribution is not None else contextlib.nullcontext()
        entries, tensors = [], []
        with summed:
            for i, metric in enumerate(metrics):
                entries.append({"name": metric.name, "count": len(metric.variables)})
                tensors += [(f"metrics/{i}/{j}", np.array(backend.to_host(v.data))) for j, v in enumerate(metric.variables)]
        return entries, tensors

    # --- saving -----------------------------------------------------------------------------------------------------
    def _save(self, epoch: int, batch: int) -> None:
        """Write the state in which training continues at ``batch`` of ``epoch`` (0-based; batch 0 = a new epoch)."""
        self._batches_since_save = 0
        # within an epoch: the metrics' running sums (they are reset at each epoch's start)
        metrics, metric_tensors = self._metric_state() if batch else ([], [])
        if not self._writes():
            return
        model = self.model
        tensors: list[tuple[str, np.ndarray]] = [(f"weights/{i}", np.asarray(w)) for i, w in
                                                 enumerate(model.get_weights())]
        optimizer = model.optimizer
        tensors += [(f"optimizer/{key}", value) for key, value in optimizer.get_state().items()]
        tensors += metric_tensors
        callbacks = []
        for i, (key, cb) in enumerate(_stateful_callbacks(self._callbacks).items()):
            plain, arrays = _callback_state(cb)
            callbacks.append({"key": key, "state": plain, "arrays": sorted(arrays)})
            for name, values in arrays.items():
                tensors += [(f"callbacks/{i}/{name}/{j}", np.asarray(v)) for j, v in enumerate(values)]
        rng, rng_arrays = _random_state(model)
        rng["epoch_start"] = self._epoch_start_rng if batch else rng["global"]
        tensors += rng_arrays
        header = {"format": FORMAT, "version": 1, "epoch": epoch, "batch": batch,
                  "learning_rate": _plain_rate(optimizer), "metrics": metrics, "callbacks": callbacks, "rng": rng}
        latest = os.path.join(self.backup_dir, LATEST)
        with deferred_interrupts():  # the previous backup moves aside and the new one lands, or neither
            if self.double_checkpoint and os.path.exists(latest):
                os.makedirs(self.backup_dir, exist_ok=True)
                os.replace(latest, os.path.join(self.backup_dir, PREVIOUS))
            write_file(latest, header, tensors)

    # --- loading ----------------------------------------------------------------------------------------------------
    def _load(self) -> tuple[dict, dict, str] | None:
        """The latest readable backup (header, arrays, its path), or None when there is none; with
        ``double_checkpoint`` the previous one when the latest is damaged."""
        names = [LATEST, PREVIOUS] if self.double_checkpoint else [LATEST]
        failure = None
        for name in names:
            path = os.path.join(self.backup_dir, name)
            if not os.path.exists(path):
                continue
            try:
                return (*read_backup_file(path), path)
            except ModelFileError as error:
                if failure is not None or not self.double_checkpoint:
                    raise
                failure = error
                warnings.warn(f"BackupAndRestore: {error}; resuming from the previous backup", stacklevel=3)
        if failure is not None:
            raise failure
        return None


def read_backup(backup_dir: str | os.PathLike) -> dict:
    """The header of the latest backup in ``backup_dir``: ``epoch`` and ``batch`` (where training continues), the
    learning rate, the callbacks' and generators' states."""
    return read_backup_file(os.path.join(os.fspath(backup_dir), LATEST))[0]


def read_backup_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """A backup file's header and arrays; ModelFileError when it is no training-state backup."""
    header, arrays = read_file(path)
    if header.get("format") != FORMAT:
        raise ModelFileError(path, f"not a BackupAndRestore training state (format {header.get('format')!r})")
    if header.get("version") != 1:
        raise ModelFileError(path, f"training state version {header.get('version')!r}: this chainrule reads 1")
    for key in ("epoch", "batch"):
        if not isinstance(header.get(key), int) or header[key] < 0:
            raise ModelFileError(path, f"the training state's {key!r} is {header.get(key)!r}, not a count")
    if not isinstance(header.get("rng"), dict) or not isinstance(header.get("callbacks"), list):
        raise ModelFileError(path, "the training state lacks its 'rng' or 'callbacks' entry")
    return header, arrays


class _ResumePoint:
    """Where a resumed fit starts (``epoch``, ``batch``) and the state to put back: most of it when training
    begins, the rest once the epoch's batches done are skipped (the generators, the metrics' sums, the rate)."""

    def __init__(self, owner: BackupAndRestore, header: dict, arrays: dict[str, np.ndarray], path: str):
        self.owner, self.header, self.arrays, self.path = owner, header, arrays, path
        self.epoch, self.batch = header["epoch"], header["batch"]

    def _fail(self, reason: str) -> ModelFileError:
        return ModelFileError(self.path, f"the training state does not fit this model: {reason}")

    def restore_at_train_begin(self) -> None:
        """Check every part of the backup against the model and its callbacks, then put back the weights, the
        optimizer, the rate and the callbacks' states (and, at an epoch's start, the generators)."""
        model, arrays = self.owner.model, self.arrays
        weights = model.get_weights()
        saved = [arrays.get(f"weights/{i}") for i in range(len(weights))]
        if any(s is None for s in saved) or f"weights/{len(weights)}" in arrays:
            raise self._fail(f"the model has {len(weights)} weights, the backup another number")
        for i, (s, w) in enumerate(zip(saved, weights)):
            if s.shape != w.shape or s.dtype != w.dtype:
                raise self._fail(f"weight {i} is {w.dtype} of shape {w.shape}, the backup's {s.dtype} {s.shape}")
        state = {key[len("optimizer/"):]: value for key, value in arrays.items() if key.startswith("optimizer/")}
        model.optimizer.build(model.trainable_variables)  # (its slots now, to check the saved ones against)
        check_optimizer_state(model.optimizer, state, self.path)
        callbacks = self._callback_plan()
        model.set_weights(saved)
        model.optimizer.set_state(state)
        _set_rate(model.optimizer, self.header.get("learning_rate"))
        for cb, name, value in callbacks:
            setattr(cb, name, value)
            if isinstance(cb, History) and cb.model is not None and cb.history:
                cb.model.history = cb
        if not self.batch:
            _set_random_state(model, self.header["rng"], arrays)

    def _callback_plan(self) -> list[tuple[Callback, str, Any]]:
        """(callback, attribute, value) to set: each callback that keeps state gets the state of the callback of its
        class and rank among those of the class in the interrupted run (one without a counterpart starts afresh); a
        value of another kind than the attribute holds now is refused."""
        current = _stateful_callbacks(self.owner._callbacks)
        plan, unmatched = [], []
        for i, entry in enumerate(self.header["callbacks"]):
            cb = current.get(entry["key"])
            if cb is None:
                unmatched.append(entry["key"])
                continue
            for name, value in entry["state"].items():
                value = _from_json(value)
                if not _same_kind(getattr(cb, name, None), value) or (isinstance(cb, History) and not (
                        all(isinstance(v, list) for v in value.values()) if name == "history" else
                        all(isinstance(v, int) for v in value))):
                    raise self._fail(f"{entry['key']}.{name} is {value!r}, where the callback holds "
                                     f"{getattr(cb, name, None)!r}")
                plan.append((cb, name, value))
            for name in entry["arrays"]:
                values, j = [], 0
                while f"callbacks/{i}/{name}/{j}" in self.arrays:
                    values.append(self.arrays[f"callbacks/{i}/{name}/{j}"])
                    j += 1
                plan.append((cb, name, values))
        if unmatched and self.owner._writes():  # (the other ranks run none but History and this callback)
            warnings.warn(f"BackupAndRestore: the interrupted run had callbacks {unmatched} that this fit has not; "
                          f"their states are dropped", stacklevel=5)
        return plan

    def continue_epoch(self, batches):
        """The epoch's batches after those done before the interruption: the shuffle order drawn again from the
        epoch's starting generator state, the batches done skipped, then the state at the save put back. (At an
        epoch's start all of it was put back before the epoch began, and callbacks may have changed it since.)"""
        if not self.batch:
            yield from batches
            return
        model = self.owner.model
        rng = self.header["rng"]
        _set_generator_state(backend.rng(), rng["epoch_start"])
        iterator = iter(batches)
        last = None
        for _ in range(self.batch):
            batch = next(iterator, None)
            if batch is None:
                break
            last = batch
        _set_random_state(model, rng, self.arrays)
        _set_rate(model.optimizer, self.header.get("learning_rate"))
        self._restore_metrics(last)
        yield from iterator

    def _restore_metrics(self, batch) -> None:
        model = self.owner.model
        saved = self.header.get("metrics") or []
        if not saved:
            return
        compiled = getattr(model, "_compiled_metrics", None)
        if compiled is not None and not compiled.built and batch is not None and \
                any(m["name"] not in {x.name for x in _stateful_metrics(model)} for m in saved):
            x, y, _ = batch  # build them as the first batch would have (shapes only; no generator is drawn)
            outputs = model.predict_on_batch(x)
            compiled.build(y, list(outputs.values()) if isinstance(outputs, dict) else outputs)
        loss = getattr(model, "_compiled_loss", None)
        if loss is not None and loss.term_names and not model._output_losses:
            from chainrule.keras.metrics import Mean

            model._output_losses = [Mean(name=name) for name in loss.term_names]
        metrics = {m.name: m for m in _stateful_metrics(model)}
        plan = []
        for i, entry in enumerate(saved):
            metric = metrics.get(entry["name"])
            if metric is None or len(metric.variables) != entry["count"]:
                raise self._fail(f"the metric {entry['name']!r} of the backup is not among the model's")
            for j, variable in enumerate(metric.variables):
                value = self.arrays[f"metrics/{i}/{j}"]
                if value.shape != variable.data.shape or value.dtype != variable.data.dtype:
                    raise self._fail(f"the metric {entry['name']!r} keeps {variable.data.dtype} of shape "
                                     f"{variable.data.shape}, the backup {value.dtype} of shape {value.shape}")
                plan.append((variable, value))
        chief = self.owner._writes()
        for variable, value in plan:  # (the saved sums on rank 0, nothing on the others: their sum is the same)
            variable.data[...] = value if chief else 0


# --- the pieces of the state -------------------------------------------------------------------------------------------
def _check_state(header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Raise (ValueError, TypeError, KeyError, ...) unless every entry of a backup has the form this module writes:
    a backup whose header was edited is refused before anything of the model changes."""
    def expect(condition: bool, what: str) -> None:
        if not condition:
            raise ValueError(what)

    rate = header.get("learning_rate")
    expect(rate is None or isinstance(rate, float), f"learning_rate {rate!r} is not a number")
    for i, entry in enumerate(header.get("metrics") or []):
        expect(isinstance(entry["name"], str) and isinstance(entry["count"], int), f"metric entry {i} is malformed")
        for j in range(entry["count"]):
            expect(f"metrics/{i}/{j}" in arrays, f"metric {entry['name']!r} lacks its array {j}")
    for entry in header["callbacks"]:
        expect(isinstance(entry["key"], str) and isinstance(entry["state"], dict) and
               isinstance(entry["arrays"], list), f"callback entry {entry!r} is malformed")
    rng = header["rng"]
    for state in [rng["global"], rng["epoch_start"], *rng["op_seeds"].values()]:
        np.random.default_rng().bit_generator.state = state  # (raises on a state it could not have written)
    for key in rng["op_seeds"]:
        int(key)
    for key, state in rng["layers"].items():
        if isinstance(state, list):
            expect(len(state) == 2 and all(isinstance(n, int) and 0 <= n < 2**32 for n in state),
                   f"the SeedGenerator state of {key} is {state!r}")
        else:
            np.random.default_rng().bit_generator.state = state
    version, words, gauss_next = rng["python"]
    python_random.Random().setstate((version, tuple(words), gauss_next))
    name, pos, has_gauss, cached = rng["numpy_legacy"]
    words = arrays["rng/numpy_legacy"]
    expect(words.dtype == np.uint32 and words.shape == (624,), f"NumPy's legacy state is {words.dtype} {words.shape}")
    np.random.RandomState().set_state((name, words, pos, has_gauss, cached))


def _stateful_metrics(model) -> list:
    """The model's metrics (built ones: an unbuilt compiled container has no state yet) and per-output loss
    trackers, each once."""
    from chainrule.keras.metrics import Metric

    found, seen = [], set()
    for metric in list(model.metrics) + list(getattr(model, "_output_losses", [])):
        if isinstance(metric, Metric) and id(metric) not in seen:
            seen.add(id(metric))
            found.append(metric)
    return found


def _plain_rate(optimizer):
    rate = getattr(optimizer, "_learning_rate", None)
    return rate if isinstance(rate, float) else None  # a schedule follows the restored step count


def _set_rate(optimizer, rate) -> None:
    if isinstance(rate, float) and isinstance(getattr(optimizer, "_learning_rate", None), float):
        optimizer.learning_rate = rate


def _state_attributes(callback: Callback) -> tuple[str, ...]:
    """The attributes that hold a callback's training state: those of the built-in callbacks that keep any, or the
    names a callback of one's own lists in ``state_attributes`` (its settings stay those the new run was given)."""
    from chainrule.keras import callbacks as known

    for cls, names in ((known.EarlyStopping, ("wait", "stopped_epoch", "best", "best_epoch", "best_weights",
                                              "direction")),
                       (known.ReduceLROnPlateau, ("best", "wait", "cooldown_counter")),
                       (known.ModelCheckpoint, ("best", "direction", "_batches_since_save")),
                       (History, ("history", "epoch"))):
        if isinstance(callback, cls):
            return names
    return tuple(getattr(callback, "state_attributes", ()))


def _same_kind(current: Any, saved: Any) -> bool:
    """Whether a saved callback attribute may replace the current value: either is None, both are numbers, or
    both are of one type."""
    if current is None or saved is None:
        return True
    numbers = (int, float)
    if isinstance(current, numbers) and isinstance(saved, numbers):
        return not isinstance(current, bool) and not isinstance(saved, bool) or type(current) is type(saved)
    return type(current) is type(saved)


def _stateful_callbacks(callbacks: list) -> dict[str, Callback]:
    """The callbacks that keep training state, by class name and rank among those of the class: "EarlyStopping#0"."""
    found: dict[str, Callback] = {}
    for cb in callbacks:
        if _state_attributes(cb):
            name = type(cb).__name__
            rank = sum(key.rsplit("#", 1)[0] == name for key in found)
            found[f"{name}#{rank}"] = cb
    return found


def _callback_state(callback: Callback) -> tuple[dict, dict[str, list]]:
    """A callback's training state: its state attributes that are JSON values, and those that are lists of arrays
    (EarlyStopping's best weights). An attribute that is neither is refused: it cannot be saved safely."""
    plain, arrays = {}, {}
    for name in _state_attributes(callback):
        value = getattr(callback, name, None)
        if isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            arrays[name] = value
            continue
        converted = _to_json(value)
        if converted is _SKIP:
            raise TypeError(f"BackupAndRestore cannot save {type(callback).__name__}.{name} (a "
                            f"{type(value).__name__}): a state attribute must hold numbers, strings, lists, dicts "
                            f"or a list of NumPy arrays")
        plain[name] = converted
    return plain, arrays


_SKIP = object()


def _to_json(value: Any):
    """``value`` as JSON (tuples tagged, to come back as tuples), or _SKIP when it holds anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [_to_json(v) for v in value]
        if any(v is _SKIP for v in items):
            return _SKIP
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict) and all(isinstance(k, str) and k != "__tuple__" for k in value):
        items = {k: _to_json(v) for k, v in value.items()}
        return _SKIP if any(v is _SKIP for v in items.values()) else items
    return _SKIP


def _from_json(value: Any):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _generator_state(generator: np.random.Generator) -> dict:
    return json.loads(json.dumps(generator.bit_generator.state))  # (a deep copy: plain ints and strings)


def _set_generator_state(generator: np.random.Generator, state: dict) -> None:
    generator.bit_generator.state = state


def _layer_generators(model) -> dict[str, Any]:
    """Every random generator a layer of ``model`` holds (a NumPy Generator or a keras SeedGenerator), by a name
    that is the same in every process that builds the model the same way: the layer's position and attribute."""
    from chainrule.keras.random import SeedGenerator

    found = {}
    for index, layer in enumerate(model._flatten_layers()):
        for name, value in sorted(vars(layer).items()):
            if isinstance(value, (np.random.Generator, SeedGenerator)):
                found[f"{index}/{type(layer).__name__}/{name}"] = value
    return found


def _random_state(model) -> tuple[dict, list[tuple[str, np.ndarray]]]:
    """The state of every generator training draws from: JSON, and NumPy's legacy state as an array."""
    from chainrule.keras.random import SeedGenerator

    layers = {}
    for key, generator in _layer_generators(model).items():
        layers[key] = (backend.to_host(generator.state.data).tolist() if isinstance(generator, SeedGenerator)
                       else _generator_state(generator))
    legacy = np.random.get_state()
    version, words, gauss_next = python_random.getstate()
    state = {
        "global": _generator_state(backend.rng()),
        "op_seeds": {str(seed): _generator_state(g) for seed, g in backend._op_rngs.items()},
        "layers": layers,
        "python": [version, list(words), gauss_next],
        "numpy_legacy": [legacy[0], int(legacy[2]), int(legacy[3]), float(legacy[4])],
    }
    return state, [("rng/numpy_legacy", np.asarray(legacy[1], dtype=np.uint32))]


def _set_random_state(model, state: dict, arrays: dict[str, np.ndarray]) -> None:
    from chainrule.keras.random import SeedGenerator

    _set_generator_state(backend.rng(), state["global"])
    backend._op_rngs.clear()
    for seed, saved in state.get("op_seeds", {}).items():
        generator = backend._op_rngs[int(seed)] = np.random.default_rng()
        _set_generator_state(generator, saved)
    generators = _layer_generators(model)
    for key, saved in state.get("layers", {}).items():
        generator = generators.get(key)
        if isinstance(generator, SeedGenerator):
            generator.state.assign(np.asarray(saved, dtype=np.uint32))  # (on its device)
        elif generator is not None:
            _set_generator_state(generator, saved)
    version, words, gauss_next = state["python"]
    python_random.setstate((version, tuple(words), gauss_next))
    name, pos, has_gauss, cached = state["numpy_legacy"]
    np.random.set_state((name, arrays["rng/numpy_legacy"], pos, has_gauss, cached))
