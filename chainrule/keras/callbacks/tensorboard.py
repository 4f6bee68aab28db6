"""TensorBoard: write what ``fit`` and ``evaluate`` see into event files that TensorBoard shows, as Keras 3 does.

``log_dir/train/`` and ``log_dir/validation/`` each get an event file, written with tensorboardX (``pip install
'chainrule[tensorboard]'``), the format that ``tensorboard --logdir log_dir`` reads:

- per epoch, ``epoch_<name>`` for each training log (``epoch_loss``, ``epoch_accuracy``, ...) and
  ``epoch_learning_rate`` in ``train/``, and the validation logs without their ``val_`` prefix in ``validation/``;
  ``evaluation_<name>_vs_iterations`` in ``validation/`` after each evaluation, against the optimizer's step;
- with ``update_freq='batch'`` or an integer N, ``batch_<name>`` every N training batches (``'epoch'``: none);
- with ``histogram_freq=N``, every N epochs, a histogram of each weight (``<layer>/<weight>/histogram``), with
  ``write_grads=True`` also of its gradient on the epoch's last batch (``<layer>/<weight>/gradient``), and with
  ``write_images=True`` each weight as an image (``<layer>/<weight>/image``);
- with ``write_graph=True``, the model's Keras config as TensorBoard's conceptual graph (the ``keras`` summary of
  the ``graph_keras_model`` plugin, Keras's own way). There is no op-level graph: chainrule's traced step is not a
  TensorFlow graph.
- with ``write_steps_per_second=True``, ``epoch_steps_per_second`` (and ``batch_steps_per_second``).

>>> tb = TensorBoard(log_dir="logs", histogram_freq=1, update_freq="batch")  # doctest: +SKIP
>>> model.fit(x, y, epochs=5, callbacks=[tb])                                # doctest: +SKIP
"""
from __future__ import annotations

import itertools
import os
import time
import warnings

import numpy as np

from chainrule.keras.callbacks import Callback, _learning_rate

INSTALL = "pip install 'chainrule[tensorboard]'  (or: pip install tensorboardX)"


class EventWriter:
    """One event file in ``logdir`` (scalars, histograms, images, text, a Keras model): the summaries are made by
    tensorboardX and written synchronously, so that ``flush`` leaves every event on disk. The writer behind
    :class:`TensorBoard` and ``tf.summary.create_file_writer``; files are named as TensorFlow names them
    (``events.out.tfevents.<time>.<host>.<pid>.<n>.v2``), so that writers opened in the same second differ."""

    _opened = itertools.count()

    def __init__(self, logdir: str | os.PathLike, filename_suffix: str = ""):
        try:
            from tensorboardX import event_file_writer, summary
            from tensorboardX.proto import event_pb2
        except ImportError as error:
            raise ImportError(f"Writing TensorBoard event files needs tensorboardX: {INSTALL}") from error
        self.logdir = str(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        self._summary, self._event = summary, event_pb2.Event
        suffix = f".{os.getpid()}.{next(self._opened)}.v2{filename_suffix}"
        self._file = event_file_writer.EventsWriter(os.path.join(self.logdir, "events"), suffix)

    def _add(self, summary, step: int) -> None:
        self._file.write_event(self._event(summary=summary, step=int(step), wall_time=time.time()))

    def scalar(self, tag: str, value, step: int) -> None:
        self._add(self._summary.scalar(tag, float(np.asarray(value))), step)

    def summary(self, summary, step: int = 0) -> None:
        """Write a Summary protocol buffer made elsewhere (tensorboardX's ``hparams`` ones, for KerasTuner)."""
        self._add(summary, step)

    def histogram(self, tag: str, values, step: int, buckets: int | None = None) -> None:
        values = np.asarray(values, np.float64).ravel()
        if values.size == 0 or not np.isfinite(values).all():
            return  # an empty or non-finite weight has no histogram (tensorboardX would raise)
        self._add(self._summary.histogram(tag, values, int(buckets or 30)), step)  # (30: tf.summary's default)

    def image(self, tag: str, images, step: int) -> None:
        """``images`` (count, height, width, channels) in [0, 1], as ``tf.summary.image`` takes them; tensorboardX
        tiles several into one grid."""
        self._add(self._summary.image(tag, np.asarray(images, np.float32), dataformats="NHWC"), step)

    def text(self, tag: str, text: str, step: int) -> None:
        self._add(self._summary.text(tag, str(text)), step)

    def keras_model(self, tag: str, model, step: int = 0) -> bool:
        """The model's JSON config under the ``graph_keras_model`` plugin, from which TensorBoard's graph tab draws
        the Keras model; False (and a warning, as Keras) when the model cannot be written as JSON."""
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.types_pb2 import DT_STRING

        try:
            config = model.to_json()
        except Exception as error:  # as Keras: a model that cannot be serialized still trains
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=2)
            return False
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="graph_keras_model",
                                                                          content=b"1"))
        tensor = TensorProto(dtype=DT_STRING, string_val=[config.encode()])
        self._add(Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)]), step)
        return True

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class TensorBoard(Callback):
    """Write training and validation logs, the learning rate, weight (and gradient) histograms and the model into
    TensorBoard event files under ``log_dir`` (see the module's docstring for what goes where). Keras 3's arguments;
    ``write_grads`` (TF 1's name) adds gradient histograms. ``profile_batch`` must be 0 (no profiler, as Keras's
    NumPy and torch backends) and ``embeddings_freq`` 0."""

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq="epoch",
                 profile_batch=0, embeddings_freq: int = 0, embeddings_metadata=None, write_grads: bool = False):
        super().__init__()
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq >= 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a whole number of batches >= 1, "
                             f"got {update_freq!r}")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be a whole number >= 0, got {histogram_freq!r}")
        if profile_batch:
            raise ValueError(f"Profiling is not yet available with the chainrule backend. Received: "
                             f"profile_batch={profile_batch} (must be 0)")
        if embeddings_freq:
            raise ValueError(f"TensorBoard: chainrule does not write embedding projector files; got "
                             f"embeddings_freq={embeddings_freq} (must be 0)")
        if write_grads and not histogram_freq:
            raise ValueError("TensorBoard: write_grads=True needs histogram_freq > 0 (the gradients are written with "
                             "the weight histograms)")
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self.write_grads = write_grads
        self._writers: dict[str, EventWriter] = {}
        self._global_train_batch = 0
        self._epoch = 0
        self._gradients: dict[int, np.ndarray] | None = None
        self._epoch_start = self._batch_start = 0.0
        self._epoch_iterations = 0

    # --- writers --------------------------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._close_writers()
        if self.write_graph:
            self._train_writer.keras_model("keras", model, step=0)

    def _writer(self, key: str, folder: str) -> EventWriter:
        if key not in self._writers:  # made when first needed, as Keras does: no empty event files
            self._writers[key] = EventWriter(folder)
        return self._writers[key]

    @property
    def _train_writer(self) -> EventWriter:
        return self._writer("train", self._train_dir)

    @property
    def _val_writer(self) -> EventWriter:
        return self._writer("val", self._val_dir)

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # --- hooks ----------------------------------------------------------------------------------------------------
    @property
    def _implements_train_batch_hooks(self) -> bool:
        return self.update_freq != "epoch" or self.write_grads or self.write_steps_per_second

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._gradients = None
        self._epoch_start = time.perf_counter()
        self._epoch_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()
        if self.write_grads and self._histogram_epoch(self._epoch) and self._is_last_batch(batch):
            from chainrule.keras.callbacks.gradient_health import batch_gradients

            data = getattr(self.model, "_train_batch_data", None)
            if data is not None:
                self._gradients = batch_gradients(self.model, data)[0]

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._train_writer
        if self.write_steps_per_second:
            writer.scalar("batch_steps_per_second", 1.0 / max(time.perf_counter() - self._batch_start, 1e-9), step)
        for name, value in _scalars(logs).items():
            writer.scalar(f"batch_{name}", value, step)

    def on_epoch_end(self, epoch, logs=None):
        train = {k: v for k, v in _scalars(logs).items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in _scalars(logs).items() if k.startswith("val_")}
        if getattr(self.model, "optimizer", None) is not None:
            train["learning_rate"] = _learning_rate(self.model.optimizer)
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["steps_per_second"] = (self._iterations() - self._epoch_iterations) / seconds
        for writer, values in ((self._train_writer, train), (self._val_writer if validation else None, validation)):
            for name, value in values.items():
                writer.scalar(f"epoch_{name}", value, epoch)
        if self._histogram_epoch(epoch):
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        step = self._iterations()
        if step is not None and getattr(self.model, "optimizer", None) is not None:
            writer = self._val_writer
            for name, value in _scalars(logs).items():
                writer.scalar(f"evaluation_{name}_vs_iterations", value, step)
            writer.flush()

    # --- weights --------------------------------------------------------------------------------------------------
    def _histogram_epoch(self, epoch: int) -> bool:
        return bool(self.histogram_freq) and epoch % self.histogram_freq == 0

    def _is_last_batch(self, batch: int) -> bool:
        steps = self.params.get("steps")
        return batch == (steps - 1 if steps else 0)  # (the first batch when the epoch's length is unknown)

    def _log_weights(self, epoch: int) -> None:
        writer = self._train_writer
        gradients = self._gradients or {}
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "path", None) or weight.name
                name = name.replace(":", "_")
                writer.histogram(f"{name}/histogram", weight.numpy(), epoch)
                if id(weight) in gradients:
                    writer.histogram(f"{name}/gradient", gradients[id(weight)], epoch)
                if self.write_images:
                    image = _weight_image(np.asarray(weight.numpy()))
                    if image is not None:
                        writer.image(f"{name}/image", image, epoch)

    def _iterations(self) -> int | None:
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        return None if iterations is None else int(np.asarray(getattr(iterations, "data", iterations)))


def _scalars(logs) -> dict:
    """The logs that are single numbers (predict's outputs and list-valued logs are not scalars)."""
    found = {}
    for name, value in (logs or {}).items():
        value = np.asarray(getattr(value, "data", value))
        if value.size == 1 and value.dtype.kind in "fiub":
            found[name] = float(value)
    return found


def _weight_image(weight: np.ndarray) -> np.ndarray | None:
    """A weight as Keras shows it: a bias as a row, a kernel as a matrix (wide side across), each 2-D filter of a
    convolution kernel as its own image; scaled to [0, 1]. None for other shapes (3-D convolutions)."""
    w = np.squeeze(weight)
    if w.ndim == 1:
        w = w.reshape(1, 1, -1, 1)
    elif w.ndim == 2:
        w = (w.T if w.shape[0] > w.shape[1] else w)[None, :, :, None]
    elif w.ndim == 3:
        w = np.transpose(w, (2, 0, 1))[..., None]  # channels last: one image per output filter
    else:
        return None
    low, high = float(w.min()), float(w.max())
    return (w - low) / (high - low) if high > low else np.zeros_like(w)
