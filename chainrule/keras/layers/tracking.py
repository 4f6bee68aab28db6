"""What a layer tracks: the layers and Variables assigned to its attributes, directly or inside lists, tuples and
dicts (Keras 3's ``keras/src/utils/tracking.py``).

A :class:`Tracker` keeps one store per kind of object (a layer's sublayers, its trainable and its non-trainable
Variables), each in the order first assigned, and counts the references to every stored object: an attribute, a slot
of a tracked list or dict, or ``add_weight`` itself. Replacing or deleting the last reference untracks the object
(as TensorFlow 2 did), so ``self.head = Dense(5)`` after ``self.head = Dense(10)`` leaves one head in ``weights``.
Lists and dicts are stored wrapped (:class:`TrackedList`, :class:`TrackedDict`), so that what is appended later is
tracked too:

>>> class Box:
...     pass
>>> seen = []
>>> tracker = Tracker({"boxes": (lambda x: isinstance(x, Box), seen)})
>>> first, second = Box(), Box()
>>> blocks = tracker.track([first])
>>> blocks.append(second)
>>> seen == [first, second]
True
>>> tracker.release(blocks.pop())
>>> seen == [first]
True
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

# restore-on-create (tf.train.Checkpoint): object -> {attribute name: what restores the value first assigned to it}
deferred_restores: "weakref.WeakKeyDictionary[Any, dict[str, Callable[[Any], None]]]" = weakref.WeakKeyDictionary()


def waiting_restores(owner: Any) -> "dict[str, Callable[[Any], None]]":
    """The restores waiting for ``owner``'s attributes (a tracked list's indices, a tracked dict's keys), made empty
    on first use; a TypeError for an object that cannot hold them (a plain list)."""
    if isinstance(owner, (TrackedList, TrackedDict)):  # unhashable: they hold their own
        return owner.__dict__.setdefault("_waiting_restores", {})
    return deferred_restores.setdefault(owner, {})


def restore_deferred(owner: Any, name: str, value: Any) -> None:
    """Hand ``value``, just assigned to ``owner.<name>``, to the checkpoint restore that waits for it, if any."""
    if isinstance(owner, (TrackedList, TrackedDict)):
        waiting = owner.__dict__.get("_waiting_restores")
    else:
        waiting = deferred_restores.get(owner)
    if waiting and name in waiting:
        waiting.pop(name)(value)


class Tracker:
    """Stores of tracked objects, ``{name: (test, store)}``: an object goes to the first store whose test accepts it."""

    def __init__(self, stores: dict[str, tuple[Callable[[Any], bool], list]]):
        self.stores = stores
        self.counts: dict[int, int] = {}  # id of a stored object -> references to it

    def track(self, value: Any) -> Any:
        """Count the references ``value`` holds to trackable objects; return it as it is to be stored (a plain list or
        dict wrapped, a tuple rebuilt around wrapped items)."""
        for test, store in self.stores.values():
            if test(value):
                self.add(value, store)
                return value
        kind = type(value)
        if kind is list:
            return TrackedList(value, self)
        if kind is dict:
            return TrackedDict(value, self)
        if isinstance(value, tuple):
            items = [self.track(item) for item in value]
            if all(new is old for new, old in zip(items, value)):
                return value
            return kind(*items) if hasattr(value, "_fields") else kind(items)
        if isinstance(value, (list, dict)):  # another list or dict type (a defaultdict, ...): kept, its items tracked
            for item in (value.values() if isinstance(value, dict) else value):
                self.track(item)
        return value

    def release(self, value: Any) -> None:
        """Drop the references ``value`` holds (what :meth:`track` counted); untrack what has none left."""
        for test, _ in self.stores.values():
            if test(value):
                self.remove(value)
                return
        if isinstance(value, dict):
            for item in value.values():
                self.release(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.release(item)

    def add(self, value: Any, store: list) -> None:
        """One more reference to ``value``; the first puts it in ``store``."""
        key = id(value)
        count = self.counts.get(key, 0)
        if count == 0:
            store.append(value)
        self.counts[key] = count + 1

    def remove(self, value: Any) -> None:
        """One reference fewer to ``value``; the last takes it out of its store."""
        key = id(value)
        if key not in self.counts:  # never counted here (set around the tracker): nothing to drop
            return
        count = self.counts[key] - 1
        if count > 0:
            self.counts[key] = count
            return
        self.counts.pop(key, None)
        for _, store in self.stores.values():
            for i, item in enumerate(store):
                if item is value:
                    del store[i]
                    return


def may_hold_tracked(value: Any) -> bool:
    """Whether ``value`` is a container a tracker looks into (anything else is tested against the stores only)."""
    return isinstance(value, (list, tuple, dict))


class TrackedList(list):
    """A list whose additions and removals are counted by a :class:`Tracker`."""

    def __init__(self, values=(), tracker: Tracker | None = None):
        self._tracker = tracker
        super().__init__(values if tracker is None else [tracker.track(v) for v in values])

    def _track(self, value):
        return value if self._tracker is None else self._tracker.track(value)

    def _release(self, values) -> None:
        if self._tracker is not None:
            for value in values:
                self._tracker.release(value)

    def append(self, value) -> None:
        super().append(self._track(value))
        restore_deferred(self, str(len(self) - 1), value)  # a checkpoint's saved item for this index

    def insert(self, index, value) -> None:
        super().insert(index, self._track(value))

    def extend(self, values) -> None:
        for value in values:
            self.append(value)

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __setitem__(self, index, value) -> None:
        old = self[index] if isinstance(index, slice) else [self[index]]
        new = [self._track(v) for v in value] if isinstance(index, slice) else self._track(value)
        super().__setitem__(index, new)
        self._release(old)

    def __delitem__(self, index) -> None:
        old = self[index] if isinstance(index, slice) else [self[index]]
        super().__delitem__(index)
        self._release(old)

    def pop(self, index: int = -1):
        value = super().pop(index)
        self._release([value])
        return value

    def remove(self, value) -> None:
        for i, item in enumerate(self):  # by identity first: layers and Variables compare by identity
            if item is value:
                del self[i]
                return
        del self[self.index(value)]

    def clear(self) -> None:
        old = list(self)
        super().clear()
        self._release(old)


class TrackedDict(dict):
    """A dict whose additions and removals are counted by a :class:`Tracker`."""

    def __init__(self, values=(), tracker: Tracker | None = None):
        self._tracker = tracker
        items = dict(values).items()
        super().__init__(items if tracker is None else ((k, tracker.track(v)) for k, v in items))

    def _track(self, value):
        return value if self._tracker is None else self._tracker.track(value)

    def _release(self, value) -> None:
        if self._tracker is not None:
            self._tracker.release(value)

    def __setitem__(self, key, value) -> None:
        new = self._track(value)
        if key in self:
            self._release(self[key])
        super().__setitem__(key, new)
        restore_deferred(self, str(key), value)  # a checkpoint's saved item for this key

    def __delitem__(self, key) -> None:
        value = self[key]
        super().__delitem__(key)
        self._release(value)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key, *default):
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key, value = super().popitem()
        self._release(value)
        return key, value

    def clear(self) -> None:
        old = list(self.values())
        super().clear()
        for value in old:
            self._release(value)


__all__ = ["Tracker", "TrackedDict", "TrackedList", "deferred_restores", "may_hold_tracked", "restore_deferred",
           "waiting_restores"]
