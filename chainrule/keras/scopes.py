"""Keras 3's top-level scopes: ``keras.name_scope`` (a prefix for the names of the variables layers create inside
it, Keras's variable paths) and ``keras.device`` (where new arrays are made inside it: the CPU, or a GPU through
CuPy).

>>> from chainrule import keras
>>> with keras.name_scope("encoder"):
...     layer = keras.layers.Dense(2, name="proj")
...     layer.build((None, 3))
>>> layer.kernel.name
'encoder/proj/kernel'
>>> with keras.device("cpu:0"):
...     keras.ops.ones((2,)).numpy()
array([1., 1.], dtype=float32)
"""
from __future__ import annotations

import threading

from chainrule import backend


class _Stack(threading.local):
    def __init__(self):
        self.scopes: list["name_scope"] = []


_stack = _Stack()


class name_scope:  # noqa: N801  (Keras's name)
    """``with keras.name_scope("block"):`` puts ``block/`` before the names of variables made inside. ``caller``
    with ``deduplicate`` skips re-entering the scope a caller is already in; ``override_parent`` replaces the outer
    path."""

    def __init__(self, name: str, caller=None, deduplicate: bool = True, override_parent: str | None = None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. Received: "
                             f"name={name}")
        self.name, self.caller, self.deduplicate = name, caller, deduplicate
        self.override_parent = override_parent
        if override_parent is None and deduplicate and getattr(caller, "_parent_path", None) is not None:
            self.override_parent = caller._parent_path
        self._pop_on_exit = False

    def __enter__(self) -> "name_scope":
        scopes = _stack.scopes
        if self.deduplicate and scopes and self.caller is not None and self.caller is scopes[-1].caller \
                and self.name == scopes[-1].name:
            return self
        scopes.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc) -> None:
        if self._pop_on_exit and _stack.scopes:
            _stack.scopes.pop()
            self._pop_on_exit = False


def current_path() -> str:
    """The open scopes' path, ``"outer/inner"`` ('' outside any)."""
    parts: list[str] = []
    for scope in _stack.scopes:
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


class _DeviceScope:
    """The context ``keras.device`` returns: the backend for the device (and the CuPy device) while it is open."""

    def __init__(self, kind: str, index: int):
        self.kind, self.index = kind, index
        self._saved = None
        self._cuda = None

    def __enter__(self) -> "_DeviceScope":
        self._saved = backend.current()
        if self.kind == "cpu":
            if self._saved == "cupy":
                backend.set_backend("numpy")
        else:
            backend.set_backend("cupy")
            self._cuda = backend.get_backend("cupy").xp.cuda.Device(self.index)
            self._cuda.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._cuda is not None:
            self._cuda.__exit__(*exc)
            self._cuda = None
        backend.set_backend(self._saved)


def device(device_name: str) -> _DeviceScope:
    """``with keras.device("cpu:0"):`` or ``"gpu:1"`` (also ``"cuda"``, ``"/device:GPU:0"``): new arrays are made
    on that device inside the block."""
    if not isinstance(device_name, str):
        raise ValueError(f"Invalid value for argument `device_name`. Expected a string like 'gpu:0' or 'cpu'. "
                         f"Received: device_name='{device_name}'")
    name = device_name.lower().lstrip("/")
    name = name[len("device:"):] if name.startswith("device:") else name
    kind, _, index = name.partition(":")
    kind = "gpu" if kind == "cuda" else kind
    if kind not in ("cpu", "gpu") or (index and not index.isdigit()):
        raise ValueError(f"Invalid value for argument `device_name`. Expected a string like 'gpu:0' or 'cpu'. "
                         f"Received: device_name='{device_name}'")
    index = int(index or 0)
    available = [(k.lower(), i) for k, i in backend.physical_devices()]
    if (kind, index) not in available:
        raise ValueError(f"keras.device({device_name!r}): there is no such device here; available: "
                         f"{', '.join(f'{k}:{i}' for k, i in available)} (a GPU needs CuPy and an NVIDIA GPU)")
    return _DeviceScope(kind, index)
