"""``tf.train.Checkpoint``: save and restore the Variables of models, layers, optimizers and Variables, found by
the names of the attributes that hold them (the object graph of :mod:`.object_graph`), as TensorFlow 2 does.

A checkpoint is two files named after its prefix, as TensorFlow names them: ``<prefix>.data-00000-of-00001`` holds
the values and ``<prefix>.index`` the object graph and the data file's SHA-256; both are chainrule's checksummed
container (:mod:`chainrule.keras.saving.file_format`, never pickle), written atomically, the data first, so that an
index always names complete data. Values are keyed as TensorFlow keys them
(``model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE``; an optimizer's slots under their variable,
``.../.OPTIMIZER_SLOT/optimizer/m/...``), which :func:`list_variables` shows.

Restoring matches the saved graph to the objects by name. Variables that exist get their values at once; the rest
wait on the object that will hold them (restore-on-create): a layer built later gets its saved weights when it
creates them, an optimizer its saved slots for a variable (its state is then created at once, as a step would), and
an object assigned to a checkpoint's or a layer's attribute later is restored when assigned.

>>> import os, tempfile
>>> import chainrule as tf
>>> step = tf.Variable(5)
>>> prefix = os.path.join(tempfile.mkdtemp(), "ckpt")
>>> path = tf.train.Checkpoint(step=step).save(prefix)
>>> os.path.basename(path)
'ckpt-1'
>>> _ = step.assign(0)
>>> tf.train.Checkpoint(step=step).restore(path).assert_consumed() is not None, int(step)
(True, 5)
"""
from __future__ import annotations

import hashlib
import inspect
import logging
import os
import weakref
from collections import deque
from typing import Any

import numpy as np

from chainrule.compat.tf import errors
from chainrule.compat.tf.train import object_graph
from chainrule.compat.tf.train.object_graph import children, is_trackable, walk
from chainrule.engine.tensor import Variable
from chainrule.keras.layers.tracking import TrackedDict, TrackedList, restore_deferred, waiting_restores
from chainrule.keras.optimizers import Optimizer
from chainrule.keras.saving.file_format import ModelFileError, read_file, write_file
from chainrule.utils.release import CHAINRULE_VERSION

_log = logging.getLogger("chainrule.train")
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"  # the name TensorFlow lists its object graph under


class CheckpointOptions:
    """``tf.train.CheckpointOptions``: accepted for TensorFlow programs; chainrule writes on this machine, at once."""

    def __init__(self, experimental_io_device: str | None = None, experimental_enable_async_checkpoint: bool = False,
                 experimental_write_callbacks: list | None = None, enable_async: bool = False,
                 experimental_skip_slot_variables: bool = False, experimental_sharding_callback=None):
        self.experimental_io_device = experimental_io_device
        self.experimental_enable_async_checkpoint = experimental_enable_async_checkpoint or enable_async
        self.experimental_write_callbacks = experimental_write_callbacks
        self.experimental_skip_slot_variables = experimental_skip_slot_variables
        self.experimental_sharding_callback = experimental_sharding_callback


# --- writing and reading the files ---------------------------------------------------------------------------------
def _optimizer_slots(optimizer: Optimizer) -> list[tuple[Variable, str, np.ndarray]]:
    """(variable, slot name, value) of each slot the optimizer has made."""
    found = []
    variables = optimizer._variables  # position -> variable (get_state keys its slots by position)
    for key, value in optimizer.get_state().items():
        position, _, slot = key.partition("/")
        if slot and int(position) < len(variables):
            found.append((variables[int(position)], slot, value))
    return found


def _set_slot(optimizer: Optimizer, variable: Variable, slot: str, value: np.ndarray) -> bool:
    """Give ``variable``'s slot ``slot`` of ``optimizer`` the saved value, making its state first if the optimizer
    has not seen the variable yet; False when this optimizer keeps no such slot (another kind of optimizer)."""
    if slot not in optimizer.slot_names:
        return False
    optimizer.build([variable])
    position = optimizer._index[id(variable)]
    optimizer.set_state({f"{position}/{slot}": value})
    return True


def write_checkpoint(prefix: str, root: Any, extra: list[tuple[str, Any]] = ()) -> str:
    """Write every Variable reachable from ``root`` (and the optimizers' slots of those) to ``prefix``'s files."""
    entries = list(walk(root, extra))
    node_of = {id(obj): i for i, (_, obj) in enumerate(entries)}
    nodes: list[dict] = []
    tensors: list[tuple[str, np.ndarray]] = []
    for i, (path, obj) in enumerate(entries):
        named = children(obj) + (list(extra) if i == 0 else [])
        node: dict = {"children": {name: node_of[id(child)] for name, child in named}}
        if isinstance(obj, Variable):
            node["key"] = object_graph.variable_key(path)
            node["slots"] = []
            tensors.append((node["key"], np.asarray(obj.numpy())))
        nodes.append(node)
    for i, (path, obj) in enumerate(entries):
        if isinstance(obj, Optimizer):
            for variable, slot, value in _optimizer_slots(obj):
                if id(variable) in node_of:  # slots of variables this checkpoint does not hold are left out
                    owner = node_of[id(variable)]
                    key = object_graph.slot_key(entries[owner][0], path, slot)
                    nodes[owner]["slots"].append({"optimizer": i, "slot": slot, "key": key})
                    tensors.append((key, value))
    prefix = os.fspath(prefix)
    data_path = prefix + DATA_SUFFIX
    write_file(data_path, {"kind": "checkpoint data"}, tensors)
    with open(data_path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    write_file(prefix + INDEX_SUFFIX, {"kind": "checkpoint", "chainrule_version": CHAINRULE_VERSION, "nodes": nodes,
                                       "data": {"file": os.path.basename(data_path), "sha256": digest}}, [])
    return prefix


def read_checkpoint(prefix: str) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The object graph and the values of the checkpoint at ``prefix``. A missing checkpoint raises
    ``tf.errors.NotFoundError``; a damaged or foreign one ModelFileError naming the file."""
    prefix = os.fspath(prefix)
    index_path = prefix + INDEX_SUFFIX
    if not os.path.exists(index_path):
        found = "a folder" if os.path.isdir(prefix) else "no file"
        raise errors.NotFoundError(None, None, (
            f"Error when restoring from checkpoint or SavedModel at {prefix}: {found} at {index_path}\nPlease "
            f"double-check that the path is correct. You may be missing the checkpoint suffix (e.g. the '-1' in "
            f"'path/to/ckpt-1')."))
    header, _ = read_file(index_path)
    data = header.get("data")
    nodes = header.get("nodes")
    if header.get("kind") != "checkpoint" or not isinstance(data, dict) or not _valid_nodes(nodes):
        raise ModelFileError(index_path, "not a training checkpoint's index (tf.train.Checkpoint writes them)")
    data_path = os.path.join(os.path.dirname(prefix), str(data.get("file")))
    try:
        with open(data_path, "rb") as file:
            content = file.read()
    except FileNotFoundError:
        raise ModelFileError(index_path, f"its data file {data_path} is missing") from None
    if hashlib.sha256(content).hexdigest() != data.get("sha256"):
        raise ModelFileError(data_path, "is not the data its index was written with (replaced or damaged)")
    from chainrule.keras.saving.file_format import decode

    _, arrays = decode(content, data_path)
    keys = [node["key"] for node in nodes if "key" in node] + [s["key"] for n in nodes for s in n.get("slots", ())]
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise ModelFileError(data_path, f"lacks the values of {missing[:5]}")
    return nodes, arrays


def _valid_nodes(nodes: Any) -> bool:
    if not isinstance(nodes, list) or not nodes:
        return False
    for node in nodes:
        if not isinstance(node, dict) or not isinstance(node.get("children"), dict):
            return False
        if not all(isinstance(c, int) and 0 <= c < len(nodes) for c in node["children"].values()):
            return False
        for slot in node.get("slots", ()):
            if not (isinstance(slot, dict) and isinstance(slot.get("optimizer"), int)
                    and 0 <= slot["optimizer"] < len(nodes) and isinstance(slot.get("slot"), str)):
                return False
    return True


# --- restoring ----------------------------------------------------------------------------------------------------
class _Restore:
    """One checkpoint being restored into an object graph: which saved objects are matched, and what waits for
    objects not made yet (TensorFlow's _CheckpointRestoreCoordinator)."""

    def __init__(self, path: str, nodes: list[dict], arrays: dict[str, np.ndarray]):
        self.path, self.nodes, self.arrays = path, nodes, arrays
        # saved object -> a reference to the object it matched: weak, so that objects waiting to be restored (which
        # hold this restore) do not keep themselves alive
        self.matched: dict[int, Any] = {}
        self.progress = _Progress(nodes)  # what the warning at deletion reads
        self.waiting_slots: dict[int, list[tuple[Variable, dict]]] = {}  # optimizer node -> slots to give it

    @property
    def restored_slots(self) -> set[str]:
        return self.progress.restored_slots

    @property
    def expect_partial(self) -> bool:
        return self.progress.expect_partial

    @expect_partial.setter
    def expect_partial(self, value: bool) -> None:
        self.progress.expect_partial = value

    def matched_objects(self) -> dict[int, Any]:
        """The objects matched so far that still exist, by saved object."""
        found = {nid: ref() for nid, ref in self.matched.items()}
        return {nid: obj for nid, obj in found.items() if obj is not None}

    def restore(self, node_id: int, obj: Any, extra: list[tuple[str, Any]] = ()) -> None:
        """Match saved object ``node_id`` to ``obj``, then what each depends on, by name; restore the Variables."""
        queue = deque([(node_id, obj)])
        while queue:
            nid, current = queue.popleft()
            if nid in self.matched:
                continue
            node = self.nodes[nid]
            if "key" in node:
                if not isinstance(current, Variable):
                    continue
                self._assign(current, node["key"])
                for slot in node.get("slots", ()):
                    optimizer = self.matched[slot["optimizer"]]() if slot["optimizer"] in self.matched else None
                    if optimizer is None:
                        self.waiting_slots.setdefault(slot["optimizer"], []).append((current, slot))
                    else:
                        self._give_slot(optimizer, current, slot)
            self.matched[nid] = _reference(current)
            self.progress.matched.add(nid)
            if isinstance(current, Optimizer):
                for variable, slot in self.waiting_slots.pop(nid, []):
                    self._give_slot(current, variable, slot)
            held = dict(children(current) + (list(extra) if nid == node_id and extra else []))
            for name, child_id in node["children"].items():
                if name in held:
                    queue.append((child_id, held[name]))
                elif child_id not in self.matched:
                    self._wait(current, name, child_id)

    def _assign(self, variable: Variable, key: str) -> None:
        value = self.arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"Received incompatible tensor with shape {tuple(value.shape)} when attempting to "
                             f"restore variable with shape {tuple(variable.shape)} and name {key} from "
                             f"{self.path}.")
        variable.assign(value.astype(np.dtype(variable.dtype), copy=False))

    def _give_slot(self, optimizer: Optimizer, variable: Variable, slot: dict) -> None:
        value = self.arrays[slot["key"]]
        if tuple(value.shape) == tuple(variable.shape) and _set_slot(optimizer, variable, slot["slot"], value):
            self.restored_slots.add(slot["key"])

    def _wait(self, owner: Any, name: str, node_id: int) -> None:
        """Restore saved object ``node_id`` when ``owner.<name>`` is first assigned (restore-on-create)."""
        try:
            waiting = waiting_restores(owner)
        except TypeError:  # an object that cannot be weakly referenced (a plain list or dict): nothing to wait on
            return
        waiting[name] = lambda value, node_id=node_id: self.restore(node_id, value)

    def unresolved(self) -> list[str]:
        return self.progress.unresolved()


def _reference(obj: Any):
    """A weak reference to ``obj``, or (for what cannot be weakly referenced: a plain list) a strong one."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


class _Progress:
    """Which saved objects and slots a restore has matched: what it reports about itself, even once deleted."""

    def __init__(self, nodes: list[dict]):
        self.nodes = nodes
        self.matched: set[int] = set()
        self.restored_slots: set[str] = set()
        self.expect_partial = False

    def names(self) -> dict[int, str]:
        """A readable path for every saved object (``(root).model.dense.kernel``)."""
        names, queue = {0: "(root)"}, deque([0])
        while queue:
            nid = queue.popleft()
            for name, child in self.nodes[nid]["children"].items():
                if child not in names:
                    names[child] = f"{names[nid]}.{name}"
                    queue.append(child)
        return names

    def unresolved(self) -> list[str]:
        """The saved values no object took: variables not matched, slots not given."""
        names = self.names()
        missing = [names.get(i, str(i)) for i, node in enumerate(self.nodes) if "key" in node and i not in self.matched]
        for i, node in enumerate(self.nodes):
            for slot in node.get("slots", ()):
                if slot["key"] not in self.restored_slots:
                    missing.append(f"{names.get(slot['optimizer'])}'s state '{slot['slot']}' for {names.get(i)}")
        return missing


def _report_unrestored(progress: _Progress) -> None:
    """TensorFlow's warning when a checkpoint's unrestored values are dropped without ``expect_partial()``."""
    if progress.expect_partial:
        return
    missing = progress.unresolved()
    if missing:
        _log.warning("Detecting that an object or model or tf.train.Checkpoint is being deleted with unrestored "
                     "values. See the following logs for the specific values in question. To silence these "
                     "warnings, use `status.expect_partial()`.")
        for name in missing:
            _log.warning("Value in checkpoint could not be found in the restored object: %s", name)


class CheckpointLoadStatus:
    """What ``Checkpoint.restore`` returns: assertions on how the checkpoint matched the objects."""

    def __init__(self, restore: _Restore, root: Any, extra: list[tuple[str, Any]]):
        self._restore, self._root, self._extra = restore, root, extra

    def _unmatched_objects(self) -> list[str]:
        """The Variables (and optimizer slots) of the current objects that took no value from the checkpoint."""
        matched_objects = self._restore.matched_objects()
        matched = {id(obj) for obj in matched_objects.values()}
        unmatched, optimizers = [], []
        for path, obj in walk(self._root, self._extra):
            if isinstance(obj, Variable) and id(obj) not in matched:
                unmatched.append(f"{'.'.join(path) or '(root)'} ({obj.name or 'Variable'}, shape {obj.shape})")
            elif isinstance(obj, Optimizer):
                optimizers.append((path, obj))
        restored = self._restore.restored_slots
        saved = {s["key"]: s for node in self._restore.nodes for s in node.get("slots", ())}
        by_variable = {id(obj): i for i, obj in matched_objects.items()}
        for path, optimizer in optimizers:
            for variable, slot, _ in _optimizer_slots(optimizer):
                node = by_variable.get(id(variable))
                keys = [s["key"] for s in self._restore.nodes[node].get("slots", ())
                        if s["slot"] == slot] if node is not None else []
                if not any(key in restored and key in saved for key in keys):
                    unmatched.append(f"{'.'.join(path)}'s state '{slot}' for {variable.name or 'a variable'}")
        return unmatched

    def assert_existing_objects_matched(self) -> "CheckpointLoadStatus":
        """Raise AssertionError if a Variable of the objects (those that exist now) has no value in the checkpoint;
        values in the checkpoint without an object yet are allowed."""
        unmatched = self._unmatched_objects()
        if unmatched:
            shown = min(10, len(unmatched))
            raise AssertionError(f"Found {len(unmatched)} Python objects that were not bound to checkpointed values, "
                                 f"likely due to changes in the Python program. Showing {shown} of {len(unmatched)} "
                                 f"unmatched objects: {unmatched[:shown]}")
        return self

    def assert_consumed(self) -> "CheckpointLoadStatus":
        """Raise AssertionError unless every value in the checkpoint went to an object and every Variable of the
        objects got a value."""
        self.assert_existing_objects_matched()
        unresolved = self._restore.unresolved()
        if unresolved:
            raise AssertionError(f"Unresolved object in checkpoint {unresolved[0]} (and {len(unresolved) - 1} more: "
                                 f"{unresolved[1:6]})" if len(unresolved) > 1 else
                                 f"Unresolved object in checkpoint {unresolved[0]}")
        return self

    def assert_nontrivial_match(self) -> "CheckpointLoadStatus":
        """Raise AssertionError if nothing but the root matched."""
        if len(self._restore.matched) <= 1:
            raise AssertionError("Nothing except the root object matched a checkpointed value. Typically this means "
                                 "that the checkpoint does not match the Python program.")
        return self

    def expect_partial(self) -> "CheckpointLoadStatus":
        """Silence the warning about values left unrestored."""
        self._restore.expect_partial = True
        return self

    def run_restore_ops(self, session=None) -> None:
        """Nothing to run: values are restored eagerly (TensorFlow 2's eager behaviour)."""

    def initialize_or_restore(self, session=None) -> None:
        """Nothing to run: values are restored eagerly and Variables start initialized."""


class InitializationOnlyStatus:
    """What ``restore(None)`` returns (no checkpoint yet, e.g. ``tf.train.latest_checkpoint`` found none)."""

    def _fail(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    def assert_consumed(self):
        self._fail()

    def assert_existing_objects_matched(self):
        self._fail()

    def assert_nontrivial_match(self):
        self._fail()

    def run_restore_ops(self, session=None):
        raise AssertionError("No checkpoint specified, so no restore ops are available (save_path=None to "
                             "Saver.restore).")

    def initialize_or_restore(self, session=None) -> None:
        """Nothing to run: Variables start initialized."""

    def expect_partial(self) -> "InitializationOnlyStatus":
        return self


# --- the Checkpoint -------------------------------------------------------------------------------------------------
class Checkpoint:
    """``tf.train.Checkpoint(root=None, **objects)``: groups trackable objects (models, layers, optimizers,
    Variables, modules, other checkpoints, and lists or dicts of them) under the keyword names, and saves and
    restores their Variables. ``save_counter`` numbers the checkpoints :meth:`save` writes."""

    _is_checkpoint = True

    def __init__(self, root=None, **kwargs):
        object.__setattr__(self, "_objects", {})
        object.__setattr__(self, "_save_counter", None)
        self._root = root
        for name, value in sorted(kwargs.items()):
            if not is_trackable(value):
                raise ValueError(f"`Checkpoint` was expecting {name} to be a trackable object (an object derived "
                                 f"from `Trackable`), got {value!r}. If you believe this object should be trackable "
                                 f"(i.e. it is part of the TensorFlow Python API and manages state), please open an "
                                 f"issue.")
            if root is not None:
                held = dict(children(root)).get(name)
                if held is not None and held is not value:
                    raise ValueError(f"Cannot create a Checkpoint with keyword argument {name} if root.{name} already "
                                     f"exists.")
            setattr(self, name, value)
        if root is not None and not is_trackable(root):
            raise ValueError(f"`Checkpoint` was expecting root to be a trackable object (an object derived from "
                             f"`Trackable`), got {root!r}. If you believe this object should be trackable (i.e. it "
                             f"is part of the TensorFlow Python API and manages state), please open an issue.")

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and type(value) in (list, dict):
            # wrapped, as TensorFlow's ListWrapper / _DictWrapper, so that items added later are saved and restored
            value = TrackedList(value) if isinstance(value, list) else TrackedDict(value)
        object.__setattr__(self, name, value)
        if not name.startswith("_") and (is_trackable(value) or isinstance(value, (TrackedList, TrackedDict))):
            self._objects[name] = value
            restore_deferred(self, name, value)

    def _checkpoint_children(self) -> list[tuple[str, Any]]:
        found = [] if self._root is not None else list(self._objects.items())
        if self._save_counter is not None and self._root is None:
            found.append(("save_counter", self._save_counter))
        return found

    def _graph(self) -> tuple[Any, list[tuple[str, Any]]]:
        """The object the saved graph starts from, and the dependencies attached to it (with a ``root``)."""
        if self._root is None:
            return self, []
        extra = list(self._objects.items())
        if self._save_counter is not None:
            extra.append(("save_counter", self._save_counter))
        return self._root, extra

    @property
    def save_counter(self) -> Variable:
        """An int64 Variable, 0 until :meth:`save` adds 1 per checkpoint (made on first use, then restored)."""
        if self._save_counter is None:
            counter = Variable(0, trainable=False, name="save_counter", dtype=np.int64)
            object.__setattr__(self, "_save_counter", counter)
            restore_deferred(self if self._root is None else self._root, "save_counter", counter)
        return self._save_counter

    def write(self, file_prefix, options: CheckpointOptions | None = None) -> str:
        """Write a checkpoint to ``file_prefix`` (no numbering, no ``checkpoint`` state file); read it with
        :meth:`read`. Returns ``file_prefix``."""
        root, extra = self._graph()
        path = write_checkpoint(os.fspath(file_prefix), root, extra)
        for callback in (options.experimental_write_callbacks or []) if options else []:
            callback(path) if inspect.signature(callback).parameters else callback()
        return path

    def save(self, file_prefix, options: CheckpointOptions | None = None) -> str:
        """Add 1 to ``save_counter``, write ``<file_prefix>-<save_counter>`` and record it in the folder's
        ``checkpoint`` file, which :func:`tf.train.latest_checkpoint` reads. Returns the checkpoint's path."""
        from chainrule.compat.tf.train import management

        number = int(self.save_counter.assign_add(1).numpy())
        path = self.write(f"{os.fspath(file_prefix)}-{number}", options)
        management.update_checkpoint_state(os.path.dirname(path), path, [path])
        return path

    def read(self, save_path, options: CheckpointOptions | None = None):
        """Restore a checkpoint written by :meth:`write` (without making ``save_counter``); returns the load
        status, as :meth:`restore`."""
        if save_path is None:
            return InitializationOnlyStatus()
        save_path = os.fspath(save_path)
        nodes, arrays = read_checkpoint(save_path)
        restore = _Restore(save_path, nodes, arrays)
        root, extra = self._graph()
        restore.restore(0, root, extra)
        weakref.finalize(restore, _report_unrestored, restore.progress)
        return CheckpointLoadStatus(restore, root, extra)

    def restore(self, save_path, options: CheckpointOptions | None = None):
        """Restore the checkpoint at ``save_path`` (as :meth:`save` or :func:`tf.train.latest_checkpoint` name it)
        into these objects; values whose objects do not exist yet are restored when they are made. ``None``
        restores nothing (the returned status's assertions fail). Returns the load status: ``assert_consumed()``,
        ``assert_existing_objects_matched()``, ``assert_nontrivial_match()``, ``expect_partial()``."""
        status = self.read(save_path, options)
        self.save_counter  # noqa: B018  (made now, so that a saved counter is restored into it)
        return status

    def sync(self) -> None:
        """Wait for saves under way: chainrule's are done when ``save`` returns."""

    def __repr__(self) -> str:
        return f"<tf.train.Checkpoint of {sorted(self._objects)}>"


__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointOptions", "InitializationOnlyStatus", "read_checkpoint",
           "write_checkpoint"]
