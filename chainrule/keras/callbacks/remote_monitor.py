"""RemoteMonitor (``keras.callbacks.RemoteMonitor``): POST each epoch's logs to a server, as Keras does with
``requests``, here with the standard library's urllib.

The body is the form field ``field`` holding the logs as JSON (``data={"epoch": 0, "loss": 0.5}``, URL-encoded), or
the JSON itself with ``send_as_json=True``. A server that cannot be reached gives a warning, never an error: a
monitor must not stop training.

>>> monitor = RemoteMonitor(root="http://localhost:9000")
>>> monitor.root + monitor.path
'http://localhost:9000/publish/epoch/end/'
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from chainrule.keras.callbacks import Callback

TIMEOUT_S = 10.0  # a slow server delays the epoch's end by at most this long


def _plain(value):
    """A log value as JSON can hold it (NumPy numbers and one-element arrays as Python numbers)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if value.size == 1 else value.tolist()
    if hasattr(value, "numpy"):
        return _plain(np.asarray(value.numpy()))
    return value


class RemoteMonitor(Callback):
    """Send ``{"epoch": epoch, **logs}`` to ``root + path`` at the end of every epoch, with ``headers`` added."""

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/", field: str = "data",
                 headers: dict | None = None, send_as_json: bool = False):
        super().__init__()
        if not isinstance(root, str) or not root.lower().startswith(("http://", "https://")):
            raise ValueError(f"RemoteMonitor: `root` must be an http:// or https:// URL. Received: root={root!r}")
        self.root, self.path, self.field = root, path, field
        self.headers = dict(headers) if headers else None
        self.send_as_json = bool(send_as_json)

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch, **{key: _plain(value) for key, value in (logs or {}).items()}}
        if self.send_as_json:
            body, content_type = json.dumps(send).encode("utf-8"), "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.root + self.path, data=body, method="POST",
                                         headers={"Content-Type": content_type, **(self.headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                response.read()
        except (urllib.error.URLError, OSError) as error:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root} ({error})", stacklevel=2)
