"""``tf.device`` and ``tf.DeviceSpec``: where TensorFlow would place the work inside a ``with`` block.

chainrule computes on the CPU (NumPy). As TensorFlow 2 does with soft device placement (on by default), a block
asking for a device this machine does not have (``/GPU:0``) runs on the CPU without a word; with soft placement
off (``tf.config.set_soft_device_placement(False)``) entering such a block raises TensorFlow's
``InvalidArgumentError``. Device strings are parsed by TensorFlow's rules, so a misspelt one is refused either way.

>>> import chainrule as tf
>>> with tf.device("/GPU:0"):  # no GPU here: soft placement runs the block on the CPU
...     x = tf.ones([2]) * 2
>>> x.numpy()
array([2., 2.], dtype=float32)
>>> DeviceSpec.from_string("/job:worker/gpu:1").to_string()
'/job:worker/device:GPU:1'
"""
from __future__ import annotations

from chainrule.compat.tf.errors import InvalidArgumentError

_VALID_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "CUSTOM", "EPU"})
AVAILABLE = ("/job:localhost/replica:0/task:0/device:CPU:0",)  # the devices chainrule computes on


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


def _on_this_machine(spec: DeviceSpec) -> bool:
    """Whether the device asked for is one chainrule computes on (the CPU, index 0 or any)."""
    return spec.device_type in (None, "CPU") and spec.device_index in (None, 0) and spec.job in (None, "localhost") \
        and spec.replica in (None, 0) and spec.task in (None, 0)


class _DeviceScope:
    """The context ``tf.device(name)`` returns."""

    def __init__(self, name: str | DeviceSpec | None):
        self.spec = None if name is None else name if isinstance(name, DeviceSpec) else DeviceSpec.from_string(name)

    def __enter__(self) -> None:
        if self.spec is not None and not _on_this_machine(self.spec) and not _soft_placement:
            wanted = DeviceSpec("localhost", 0, 0, self.spec.device_type or "CPU", self.spec.device_index or 0)
            raise InvalidArgumentError(None, None, f"Could not satisfy device specification '{wanted.to_string()}'. "
                                                   f"enable_soft_placement=0. Supported device types [CPU]. All "
                                                   f"available devices [{', '.join(AVAILABLE)}].")

    def __exit__(self, *exc) -> None:
        pass


def device(device_name: str | DeviceSpec | None) -> _DeviceScope:
    """``with tf.device("/CPU:0"):`` runs the block on that device; see the module's note for devices chainrule
    does not have."""
    if callable(device_name):
        raise RuntimeError("tf.device does not support functions when eager execution is enabled.")
    return _DeviceScope(device_name)


__all__ = ["DeviceSpec", "device", "get_soft_device_placement", "set_soft_device_placement"]
