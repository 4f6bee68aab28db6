"""``tf.device`` and ``tf.DeviceSpec``: where TensorFlow would place the work inside a ``with`` block.

chainrule computes on the CPU (NumPy) and, with CuPy and an NVIDIA GPU, on the GPU: ``with tf.device("/GPU:1")``
makes new arrays on GPU 1 inside the block and ``with tf.device("/CPU:0")`` on the CPU (``keras.device``'s scope).
As TensorFlow 2 does with soft device placement (on by default), a block asking for a device this machine does not
have (``/GPU:0`` without a GPU) runs on the CPU without a word; with soft placement off
(``tf.config.set_soft_device_placement(False)``) entering such a block raises TensorFlow's ``InvalidArgumentError``.
Device strings are parsed by TensorFlow's rules, so a misspelt one is refused either way.

>>> import chainrule as tf
>>> with tf.device("/GPU:0"):  # no GPU here: soft placement runs the block on the CPU
...     x = tf.ones([2]) * 2
>>> x.numpy()
array([2., 2.], dtype=float32)
>>> DeviceSpec.from_string("/job:worker/gpu:1").to_string()
'/job:worker/device:GPU:1'
"""
from __future__ import annotations

from chainrule import backend
from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.keras import scopes

_VALID_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "CUSTOM", "EPU"})


def available() -> list[str]:
    """The devices chainrule computes on, by TensorFlow's full names (the CPU, then each GPU CuPy sees)."""
    return [f"/job:localhost/replica:0/task:0/device:{kind}:{index}" for kind, index in backend.physical_devices()]


def current_device() -> str:
    """TensorFlow's full name of the device new arrays are made on now (the current GPU on the CuPy backend)."""
    if backend.current() == "cupy":
        index = backend.get_backend("cupy").xp.cuda.Device().id
        return f"/job:localhost/replica:0/task:0/device:GPU:{index}"
    return available()[0]


class DeviceSpec:
    """A device's job, replica, task, type and index, any of them unspecified (None), as ``tf.DeviceSpec``."""

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job: str | None = None, replica: int | None = None, task: int | None = None,
                 device_type: str | None = None, device_index: int | None = None):
        self.job = None if job is None else str(job)
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = None if device_type is None else str(device_type).upper()
        self.device_index = None if device_index is None else int(device_index)

    @classmethod
    def from_string(cls, spec: str) -> "DeviceSpec":
        """Parse ``/job:<name>/replica:<id>/task:<id>/device:<type>:<index>`` (any part may be left out; ``/GPU:0``
        and ``cpu`` are shorthands), raising TensorFlow's ValueError for anything else."""
        job = replica = task = device_type = device_index = None
        for part in (spec or "").split("/"):
            fields = part.split(":")
            n = len(fields)
            if n == 2 and fields[0] in ("job", "replica", "task"):
                if fields[0] == "job":
                    job = fields[1]
                elif fields[0] == "replica":
                    replica = fields[1]
                else:
                    task = fields[1]
            elif n in (1, 2) and fields[0].upper() in _VALID_DEVICE_TYPES:
                if device_type is not None:
                    raise ValueError(f"Cannot specify multiple device types: {spec}")
                device_type = fields[0].upper()
                if n == 2 and fields[1] != "*":
                    device_index = int(fields[1])
            elif n == 3 and fields[0] == "device":
                if device_type is not None:
                    raise ValueError(f"Cannot specify multiple device types: {spec}")
                device_type = fields[1]
                if fields[2] != "*":
                    if not fields[2].isdigit():
                        raise ValueError(f"invalid literal for int: {spec}")
                    device_index = int(fields[2])
            elif fields[0] != "":
                raise ValueError(f"Unknown attribute: '{fields[0]}' in '{spec}'")
        return cls(job, replica, task, device_type, device_index)

    def to_string(self) -> str:
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.device_type is not None:
            parts.append(f"/device:{self.device_type}:{'*' if self.device_index is None else self.device_index}")
        return "".join(parts)

    def __eq__(self, other) -> bool:
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self) -> int:
        return hash(self.to_string())

    def __repr__(self) -> str:
        return f"<DeviceSpec {self.to_string()!r}>"


_soft_placement = True  # tf.config.set_soft_device_placement, process-wide as in TensorFlow


def set_soft_device_placement(enabled: bool) -> None:
    """``tf.config.set_soft_device_placement``: whether a block for a missing device runs on the CPU (True, the
    default) or is refused."""
    global _soft_placement
    _soft_placement = bool(enabled)


def get_soft_device_placement() -> bool:
    return _soft_placement


def _on_this_machine(spec: DeviceSpec) -> tuple[str, int] | None:
    """The (kind, index) of the device asked for when chainrule computes on it ('cpu' 0, 'gpu' i), else None; a
    spec without a type keeps the current device (None type: ('', 0))."""
    if spec.job not in (None, "localhost") or spec.replica not in (None, 0) or spec.task not in (None, 0):
        return None
    if spec.device_type is None:
        return "", 0
    index = spec.device_index or 0
    return (spec.device_type.lower(), index) if (spec.device_type, index) in backend.physical_devices() else None


class _DeviceScope:
    """The context ``tf.device(name)`` returns: ``keras.device``'s scope for a device chainrule has."""

    def __init__(self, name: str | DeviceSpec | None):
        self.spec = None if name is None else name if isinstance(name, DeviceSpec) else DeviceSpec.from_string(name)
        self._inner = None

    def __enter__(self) -> None:
        if self.spec is None:
            return
        found = _on_this_machine(self.spec)
        if found is None and not _soft_placement:
            wanted = DeviceSpec("localhost", 0, 0, self.spec.device_type or "CPU", self.spec.device_index or 0)
            kinds = sorted({kind for kind, _ in backend.physical_devices()})
            raise InvalidArgumentError(None, None, f"Could not satisfy device specification '{wanted.to_string()}'. "
                                                   f"enable_soft_placement=0. Supported device types "
                                                   f"[{', '.join(kinds)}]. All available devices "
                                                   f"[{', '.join(available())}].")
        kind, index = found if found is not None else ("cpu", 0)  # soft placement: the CPU
        if kind:
            self._inner = scopes.device(f"{kind}:{index}")
            self._inner.__enter__()

    def __exit__(self, *exc) -> None:
        if self._inner is not None:
            self._inner.__exit__(*exc)
            self._inner = None


def device(device_name: str | DeviceSpec | None) -> _DeviceScope:
    """``with tf.device("/CPU:0"):`` runs the block on that device; see the module's note for devices chainrule
    does not have."""
    if callable(device_name):
        raise RuntimeError("tf.device does not support functions when eager execution is enabled.")
    return _DeviceScope(device_name)


__all__ = ["DeviceSpec", "device", "get_soft_device_placement", "set_soft_device_placement"]
