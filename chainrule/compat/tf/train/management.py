"""Which checkpoints a folder holds: the ``checkpoint`` state file, ``tf.train.latest_checkpoint`` and
``tf.train.CheckpointManager``, as TensorFlow 2 keeps them.

The state file is TensorFlow's ``CheckpointState`` in protocol-buffer text format, one field a line, paths relative
to the folder::

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_timestamps: 1733280000.5
    all_model_checkpoint_timestamps: 1733280060.25
    last_preserved_timestamp: 1733279999.0

It is replaced atomically. A checkpoint is named by its prefix (``ckpt-3``); its files are ``ckpt-3.index`` and
``ckpt-3.data-00000-of-00001``.

>>> import tempfile
>>> import chainrule as tf
>>> folder = tempfile.mkdtemp()
>>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), folder, max_to_keep=2)
>>> paths = [manager.save() for _ in range(3)]
>>> [os.path.basename(p) for p in manager.checkpoints], tf.train.latest_checkpoint(folder) == paths[-1]
(['ckpt-2', 'ckpt-3'], True)
"""
from __future__ import annotations

import codecs
import collections
import glob
import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from chainrule.compat.tf.train.checkpoint import INDEX_SUFFIX
from chainrule.keras.saving.atomic import atomic_write

_log = logging.getLogger("chainrule.train")
STATE_FILE = "checkpoint"


@dataclass
class CheckpointState:
    """``tf.train.get_checkpoint_state``'s answer (TensorFlow's CheckpointState message)."""

    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float = 0.0


# --- the state file -------------------------------------------------------------------------------------------------
def _quoted(text: str) -> str:
    """A string field as protocol-buffer text format writes it: C escapes, bytes beyond ASCII in octal."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _unquoted(text: str) -> str:
    return codecs.escape_decode(text[1:-1].encode("ascii"))[0].decode("utf-8")


def _state_text(state: CheckpointState) -> str:
    lines = [f"model_checkpoint_path: {_quoted(state.model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {_quoted(p)}" for p in state.all_model_checkpoint_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in state.all_model_checkpoint_timestamps]
    if state.last_preserved_timestamp:
        lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    return "\n".join(lines) + "\n"


_FIELD = re.compile(r'\s*(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|[-+0-9.eEinfINFa]+)\s*')


def _parse_state(text: str, path: str) -> CheckpointState:
    state = CheckpointState()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _FIELD.fullmatch(line)
        if match is None:
            raise ValueError(f"{path}:{number}: not a CheckpointState field: {line!r}")
        name, value = match.groups()
        if name in ("model_checkpoint_path", "all_model_checkpoint_paths") and value.startswith('"'):
            if name == "model_checkpoint_path":
                state.model_checkpoint_path = _unquoted(value)
            else:
                state.all_model_checkpoint_paths.append(_unquoted(value))
        elif name == "all_model_checkpoint_timestamps" and not value.startswith('"'):
            state.all_model_checkpoint_timestamps.append(float(value))
        elif name == "last_preserved_timestamp" and not value.startswith('"'):
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"{path}:{number}: unexpected field {name!r}")
    return state


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str, all_model_checkpoint_paths: list[str],
                            all_model_checkpoint_timestamps: list[float] | None = None,
                            last_preserved_timestamp: float | None = None) -> None:
    """Write the folder's ``checkpoint`` state file, paths relative to the folder (TensorFlow's
    ``update_checkpoint_state_internal`` with ``save_relative_paths=True``)."""
    save_dir = os.fspath(save_dir)

    def relative(path: str) -> str:
        return os.path.relpath(path, save_dir) if os.path.isabs(path) or os.path.dirname(path) else path

    paths = [relative(p) for p in all_model_checkpoint_paths]
    latest = relative(model_checkpoint_path)
    if not paths or paths[-1] != latest:
        paths.append(latest)
    timestamps = list(all_model_checkpoint_timestamps or [])
    if timestamps and len(timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths (got paths {paths} and "
                         f"timestamps {timestamps})")
    state_path = os.path.join(save_dir, STATE_FILE)
    if os.path.abspath(state_path) == os.path.abspath(os.path.join(save_dir, latest)):
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for checkpoint state.  "
                           f"Please use a different save path.")
    state = CheckpointState(latest, paths, timestamps, last_preserved_timestamp or 0.0)
    atomic_write(state_path, [_state_text(state).encode("utf-8")])


def get_checkpoint_state(checkpoint_dir, latest_filename: str | None = None) -> CheckpointState | None:
    """The folder's ``checkpoint`` state, with relative paths joined to the folder; None when there is none or it
    cannot be read (with a warning, as TensorFlow)."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or STATE_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            state = _parse_state(file.read(), path)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        _log.warning("%s: %s", type(error).__name__, error)
        _log.warning("%s: Checkpoint ignored", path)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [os.path.join(checkpoint_dir, p) for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir, latest_filename: str | None = None) -> str | None:
    """The prefix of the newest checkpoint the folder's ``checkpoint`` file names, if its files exist; else None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    prefix = state.model_checkpoint_path
    if os.path.exists(prefix + INDEX_SUFFIX) or os.path.exists(prefix):
        return prefix
    _log.error("Couldn't match files for checkpoint %s", prefix)
    return None


def delete_checkpoint_files(prefix: str) -> None:
    """Remove a checkpoint's files (its index and data files)."""
    for path in [prefix + INDEX_SUFFIX] + glob.glob(glob.escape(prefix) + ".data-?????-of-?????"):
        try:
            os.remove(path)
        except FileNotFoundError:
            _log.warning("Hit NotFoundError when deleting '%s', possibly because another process/thread is also "
                         "deleting/moving the same file", path)


# --- the manager ----------------------------------------------------------------------------------------------------
class CheckpointManager:
    """``tf.train.CheckpointManager``: saves numbered checkpoints of ``checkpoint`` in ``directory``, keeps the
    newest ``max_to_keep`` (None: all) plus one every ``keep_checkpoint_every_n_hours``, and takes up the state a
    previous manager left in the folder."""

    def __init__(self, checkpoint, directory, max_to_keep: int | None, keep_checkpoint_every_n_hours=None,
                 checkpoint_name: str = "ckpt", step_counter=None, checkpoint_interval: int | None = None,
                 init_fn: Callable[[], Any] | None = None):
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
        self._checkpoint = checkpoint
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._directory = os.fspath(directory)
        self._checkpoint_prefix = os.path.join(self._directory, checkpoint_name)
        self._init_fn = init_fn
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_step = None
        state = get_checkpoint_state(self._directory)
        now = time.time()
        self._maybe_delete: collections.OrderedDict[str, float] = collections.OrderedDict()
        if state is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now - 1.0  # a little back: a manager re-made at once
        else:
            self._latest_checkpoint = state.model_checkpoint_path
            self._last_preserved_timestamp = state.last_preserved_timestamp
            if now < self._last_preserved_timestamp:
                _log.warning("time.time() returned a value %f seconds behind the last preserved checkpoint "
                             "timestamp.", self._last_preserved_timestamp - now)
                self._last_preserved_timestamp = now
            timestamps = state.all_model_checkpoint_timestamps or \
                [self._last_preserved_timestamp] * len(state.all_model_checkpoint_paths)
            for path, timestamp in zip(state.all_model_checkpoint_paths, timestamps):
                timestamp = min(timestamp, now)
                if timestamp > self._last_preserved_timestamp:
                    self._maybe_delete[path] = timestamp

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self):
        """The ``tf.train.Checkpoint`` this manager saves."""
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self) -> str | None:
        """The prefix of the newest checkpoint (``tf.train.latest_checkpoint(directory)``), or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list[str]:
        """The managed checkpoints, oldest first (those kept by ``keep_checkpoint_every_n_hours`` are not listed)."""
        return list(self._maybe_delete)

    def _sweep(self) -> None:
        """Delete the oldest checkpoints beyond ``max_to_keep``, keeping one every n hours."""
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            path, timestamp = self._maybe_delete.popitem(last=False)
            hours = self._keep_checkpoint_every_n_hours
            if hours and timestamp - hours * 3600.0 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = timestamp
                continue
            delete_checkpoint_files(path)

    def _record_state(self) -> None:
        update_checkpoint_state(self._directory, self._latest_checkpoint, list(self._maybe_delete),
                                list(self._maybe_delete.values()), self._last_preserved_timestamp)

    def save(self, checkpoint_number=None, check_interval: bool = True, options=None) -> str | None:
        """Save a checkpoint numbered ``checkpoint_number`` (an int, or an integer Variable or tensor; default the
        checkpoint's ``save_counter``, which goes up by one either way), record it and delete the ones no longer
        kept. Returns its prefix, or None when ``checkpoint_interval`` steps have not passed."""
        if self._checkpoint_interval is not None:
            step = int(self._step_counter.numpy()) if hasattr(self._step_counter, "numpy") else int(self._step_counter)
            if self._last_checkpoint_step is not None:
                if step == self._last_checkpoint_step:
                    return None
                if check_interval and step < self._last_checkpoint_step + self._checkpoint_interval:
                    return None
            self._last_checkpoint_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        if checkpoint_number is None:
            checkpoint_number = counter
        number = int(checkpoint_number.numpy()) if hasattr(checkpoint_number, "numpy") else int(checkpoint_number)
        path = self._checkpoint.write(f"{self._checkpoint_prefix}-{number}", options)
        if path in self._maybe_delete:  # saved again: it moves to the end of the queue
            del self._maybe_delete[path]
        self._maybe_delete[path] = time.time()
        self._latest_checkpoint = path
        self._record_state()  # the new checkpoint recorded before anything is deleted
        self._sweep()
        self._record_state()
        return path

    def restore_or_initialize(self) -> str | None:
        """Restore the newest checkpoint and return its prefix; without one, call ``init_fn`` and return None."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = int(self._step_counter.numpy())
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None


__all__ = ["CheckpointManager", "CheckpointState", "get_checkpoint_state", "latest_checkpoint",
           "update_checkpoint_state"]
