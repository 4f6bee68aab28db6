"""The ``chainrule`` command: train, evaluate and try image classifiers without writing a program.

    chainrule train                                # the seeds' CNN on MNIST: Adam 1e-3, batch 32, 5 epochs
    chainrule train --model deep-cnn --dataset fashion_mnist --epochs 10
    chainrule train --limit 2000 --epochs 1        # a quick run on the first 2000 training images
    chainrule evaluate runs/cnn-mnist/model.keras
    chainrule predict runs/cnn-mnist/model.keras my_digit.png
    chainrule summary runs/cnn-mnist/model.keras
    chainrule train --diagnose --epochs 2          # also watch the gradients: gradients.png, diagnosis.txt
    chainrule explain runs/cnn-mnist/model.keras my_digit.png
    chainrule attack runs/cnn-mnist/model.keras --eps 0.1
    chainrule tune --model cnn --lr 1e-4:1e-1 --search random --trials 12 --limit 5000
    chainrule lr-find --model cnn --limit 6400

``train`` writes into ``--out`` (default ``runs/<model>-<dataset>``): ``model.keras`` (architecture, weights and
optimizer state: see :mod:`chainrule.keras.saving`; written after each epoch whose weights are all finite, and a run
whose loss or weights stop being finite stops there with an error), ``history.json`` (loss and metrics per epoch, as ``History.history``),
``run.json`` (the settings, the seed and the test results), and three pictures: ``curves.png``,
``confusion.png`` and ``mistakes.png``. ``history.json`` and ``run.json`` are rewritten (atomically) after each epoch,
so that a run killed at any moment leaves both readable, ``run.json`` saying how far it got (``status``,
``epochs_done``). While it trains, ``backup/`` holds the training state (``keras.callbacks.BackupAndRestore``, every
``--backup-every`` batches): ``chainrule train --resume DIR`` continues an interrupted run from there, with its
settings, and ends with the files an uninterrupted run writes. ``python -m chainrule`` is the same command.
"""
from __future__ import annotations

import argparse
import json
import math
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chainrule.keras.callbacks import BackupAndRestore, Callback

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")
MODEL_FILE = "model.keras"
LOSS, METRICS = "sparse_categorical_crossentropy", ["accuracy"]


class UsageError(Exception):
    """A mistake in what was asked (a missing file, an unknown name): printed as one line, without a traceback."""


class TrainingDiverged(Exception):
    """Training had to stop because the loss or the weights stopped being finite numbers: printed as one line; the
    model file keeps the last epoch whose weights were all finite."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from chainrule.data.datasets import DatasetUnavailableError
    from chainrule.keras.saving import ModelFileError

    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # (what --workers hands to mpiexec)
    try:
        args.run(args)
    except (UsageError, TrainingDiverged, ModelFileError, DatasetUnavailableError, OSError) as error:
        print(f"chainrule {args.command}: error: {_message(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    from chainrule.cli import workers
    from chainrule.cli.data import NAMES
    from chainrule.cli.zoo import MODELS

    examples = __doc__.split("\n\n")[1]
    parser = argparse.ArgumentParser(prog="chainrule", formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Train, evaluate and try image classifiers without writing a "
                                                 "program.", epilog=f"examples:\n{examples}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model and write it, its history and plots to --out",
                                description="Train an image classifier, evaluate it on the test split, and write "
                                            "model.keras, history.json, run.json, curves.png, confusion.png and "
                                            "mistakes.png into --out.")
    train.add_argument("--model", default="cnn",
                       help=f"{', '.join(MODELS)}, or a JSON model config (model.to_json()) (default: cnn)")
    train.add_argument("--dataset", default="mnist",
                       help=f"{' or '.join(NAMES)}, or a folder of MNIST-format IDX files (default: mnist)")
    train.add_argument("--epochs", type=_positive_int, default=5, help="default: 5")
    train.add_argument("--batch-size", type=_positive_int, default=32, help="default: 32")
    train.add_argument("--optimizer", default="adam", type=str.lower, choices=OPTIMIZERS, help="default: adam")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default: the optimizer's, 0.001 for adam, 0.01 for sgd)")
    train.add_argument("--validation-split", type=_fraction, default=0.1,
                       help="fraction of the training images held out to validate each epoch, taken from the "
                            "end as Keras does (default: 0.1; 0 for none)")
    train.add_argument("--seed", type=_seed, default=None,
                       help="random seed for bit-identical runs (default: a fresh one, written to run.json)")
    train.add_argument("--limit", type=_positive_int, default=None,
                       help="train on the first N training images only (quick runs); the test split stays whole")
    train.add_argument("--out", type=Path, default=None, help="output folder (default: runs/<model>-<dataset>)")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="1: a progress bar, 2: one line per epoch, 0: quiet (default: 1)")
    train.add_argument("--diagnose", action="store_true",
                       help="watch each layer's gradients and activations; print what is wrong and how to cure it, "
                            "and write gradients.png and diagnosis.txt")
    train.add_argument("--resume", type=Path, default=None, metavar="DIR",
                       help="continue the interrupted run whose --out is DIR from its last backup, with the settings "
                            "in its run.json; it ends as the run would have ended uninterrupted")
    train.add_argument("--backup-every", type=_positive_int, default=200, metavar="N",
                       help="back the training state up every N batches (and after each epoch) for --resume "
                            "(default: 200)")
    workers.add_arguments(train)
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="loss and accuracy of a saved model on a test split")
    evaluate.add_argument("model", type=Path, metavar="MODEL", help="a model file written by train or model.save")
    evaluate.add_argument("--dataset", default=None,
                          help="dataset name or IDX folder (default: the one the model was trained on, else mnist)")
    evaluate.add_argument("--batch-size", type=_positive_int, default=32, help="default: 32")
    evaluate.add_argument("--limit", type=_positive_int, default=None, help="use the first N test images only")
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict", help="classify image files with a saved model",
        description="Print the predicted class and its probability for each image. Each image (PNG, JPEG, ..., "
                    "any size) is made grayscale, padded to a square, resized to the model's input size (28x28) "
                    "and scaled to [0, 1]. MNIST digits are white on black, so an image that is mostly light "
                    "(a dark digit on white paper) is inverted first; the output says so.")
    predict.add_argument("model", type=Path, metavar="MODEL", help="a model file written by train or model.save")
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files")
    predict.add_argument("--top", type=_positive_int, default=1, help="show the K most likely classes (default: 1)")
    predict.set_defaults(run=_predict)

    summary = commands.add_parser("summary", help="the layers of a saved model and what its file holds")
    summary.add_argument("model", type=Path, metavar="MODEL", help="a model file written by train or model.save")
    summary.set_defaults(run=_summary)

    from chainrule.cli import tune

    tune.add_commands(commands, sys.modules[__name__])  # tune, lr-find (they reuse this module's helpers)
    from chainrule.cli import attack, explain

    explain.add_command(commands, sys.modules[__name__])  # explain, attack (they reuse this module's helpers)
    attack.add_command(commands, sys.modules[__name__])
    return parser


# --- train -----------------------------------------------------------------------------------------------------------
def _train(args: argparse.Namespace) -> None:
    from chainrule.cli import data as cli_data
    from chainrule.keras import saving as io
    from chainrule.keras import optimizers
    from chainrule.cli import diagnose, zoo
    from chainrule.keras.utils import set_random_seed

    from chainrule.cli import workers

    status = workers.launch(args, args.argv)  # --workers N: this command again under mpiexec -n N
    if status is not None:
        raise SystemExit(status)
    chief = workers.is_chief()  # (rank 0 of several processes prints and writes; the others train)
    if args.resume is not None:
        _resume_settings(args)
    plots = _plots_module()
    seed = workers.from_chief(secrets.randbelow(2**31) if args.seed is None else args.seed)
    set_random_seed(seed)
    data = _load_data(args.dataset)
    x_train, y_train = data.x_train[:args.limit], data.y_train[:args.limit]
    try:
        model = zoo.build(args.model, input_shape=x_train.shape[1:], num_classes=len(data.class_names))
    except ValueError as error:
        raise UsageError(error) from error
    optimizer = optimizers.get(args.optimizer)
    if args.lr is not None:
        optimizer.learning_rate = args.lr
    with workers.scope():
        model.compile(optimizer=optimizer, loss=LOSS, metrics=METRICS)
    x_train, x_test = _as_model_input(x_train, model), _as_model_input(data.x_test, model)
    model_name = args.model if args.model in zoo.MODELS else Path(args.model).stem
    dataset_name = args.dataset if args.dataset in cli_data.NAMES else Path(args.dataset).resolve().name
    out = args.out or Path("runs") / f"{model_name}-{dataset_name}"
    held_out = len(x_train) - math.floor(len(x_train) * (1.0 - args.validation_split))  # as Keras splits
    if chief:
        print(f"Training {args.model} ({model.count_params():,} weights) on {data.name}: {len(x_train) - held_out} "
              f"training and {held_out} validation images, {args.epochs} epoch{'s' * (args.epochs > 1)} of batch "
              f"{args.batch_size}, "
              f"{args.optimizer} lr {float(optimizer.learning_rate):g}, seed {seed}"
              f"{f', {workers.processes()} processes' if workers.processes() > 1 else ''}")
        out.mkdir(parents=True, exist_ok=True)
    health = diagnose.callbacks(args.diagnose)
    keeper = _SaveWhileFinite(out / MODEL_FILE, {"dataset": data.name, "class_names": list(data.class_names)})
    run = _RunRecord.start(out, args, seed, {
        "model": args.model, "dataset": data.name, "epochs": args.epochs, "batch_size": args.batch_size,
        "optimizer": args.optimizer, "learning_rate": float(optimizer.learning_rate),
        "validation_split": args.validation_split, "seed": seed, "limit": args.limit,
        "training_images": len(x_train) - held_out, "validation_images": held_out})
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_split=args.validation_split, verbose=args.verbose,
                        callbacks=[keeper, run, BackupAndRestore(out / "backup", save_freq=args.backup_every),
                                   *health])
    seconds = run.seconds()
    if workers.from_chief(keeper.failure) is not None:  # (the callback ran on rank 0 only)
        if not chief:
            raise SystemExit(1)
        message = (f"{keeper.failure}, so training stopped (is the learning rate "
                   f"{float(optimizer.learning_rate):g} too high?); {keeper.outcome()}")
        _write_json(out / "run.json", {**run.run, "status": "diverged", "failure": message})
        raise TrainingDiverged(message)
    test_loss, test_accuracy = model.evaluate(x_test, data.y_test, batch_size=args.batch_size, verbose=0)
    if not chief:
        return
    print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f} ({len(data.y_test)} images)")

    logs = {key: [float(v) for v in values] for key, values in history.history.items()}
    _write_json(out / "history.json", logs)
    _write_json(out / "run.json", {
        **run.run, "status": "finished", "train_seconds": seconds,
        "test": {"loss": float(test_loss), "accuracy": float(test_accuracy), "images": len(data.y_test)}})
    probabilities = np.asarray(model.predict(x_test, batch_size=256, verbose=0))
    plots.plot_curves(logs, out / "curves.png")
    plots.plot_confusion(_confusion(data.y_test, probabilities.argmax(axis=1), len(data.class_names)),
                         out / "confusion.png", data.class_names)
    plots.plot_mistakes(data.x_test, data.y_test, probabilities, out / "mistakes.png", data.class_names)
    diagnose.report(health, out)
    print(f"Wrote {out}/: {MODEL_FILE}, history.json, run.json, curves.png, confusion.png, mistakes.png")


# the flags whose values make a run: --resume takes them from run.json ("arguments")
_RUN_FLAGS = {"--model": "model", "--dataset": "dataset", "--epochs": "epochs", "--batch-size": "batch_size",
              "--optimizer": "optimizer", "--lr": "lr", "--validation-split": "validation_split", "--seed": "seed",
              "--limit": "limit", "--out": "out", "--backup-every": "backup_every"}


def _resume_settings(args: argparse.Namespace) -> None:
    """``--resume DIR``: the interrupted run's settings from DIR/run.json, its --out DIR."""
    given = [flag for flag in _RUN_FLAGS if any(a == flag or a.startswith(flag + "=") for a in args.argv)]
    if given:
        raise UsageError(f"--resume continues a run with the settings in its run.json; drop {', '.join(given)}")
    path = args.resume / "run.json"
    try:
        run = json.loads(path.read_text())
        arguments = run["arguments"]
        for name in _RUN_FLAGS.values():
            if name != "out":
                setattr(args, name, arguments[name])
    except FileNotFoundError:
        raise UsageError(f"{args.resume} has no run.json: it is not the --out folder of a chainrule train run") \
            from None
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{path} does not describe a run to resume ({type(error).__name__}: {error})") from None
    if run.get("status") in ("finished", "diverged"):
        raise UsageError(f"the run in {args.resume} has {run['status']} ({run.get('epochs_done')} epochs); "
                         f"nothing to resume")
    args.out = args.resume


class _RunRecord(Callback):
    """``run.json`` and ``history.json`` rewritten after each epoch (atomically: a kill leaves the old or the new
    file, whole), ``run.json`` saying how far training got. ``history`` is the logs so far, which BackupAndRestore
    keeps with the training state so that a resumed run writes the whole history."""

    state_attributes = ("history",)

    def __init__(self, out: Path, run: dict):
        super().__init__()
        self.out, self.run, self.history = out, run, {}
        self._before, self._started = run.get("train_seconds", 0.0), time.perf_counter()

    def seconds(self) -> float:
        """The time spent training, over the sessions of a resumed run."""
        return self._before + time.perf_counter() - self._started

    @classmethod
    def start(cls, out: Path, args: argparse.Namespace, seed: int, settings: dict) -> "_RunRecord":
        """The record of this run, written now (a resumed run's keeps the time it trained before)."""
        arguments = {name: getattr(args, name) for name in _RUN_FLAGS.values() if name != "out"}
        run = {**settings, "status": "training", "epochs_done": 0, "arguments": {**arguments, "seed": seed}}
        previous = out / "run.json"
        if args.resume is not None and previous.exists():
            before = json.loads(previous.read_text())
            run.update(epochs_done=before.get("epochs_done", 0), train_seconds=before.get("train_seconds", 0.0))
        record = cls(out, run)
        if out.is_dir():  # (made by the process that writes the files)
            _write_json(out / "run.json", run)
        return record

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.run.update(epochs_done=epoch + 1, train_seconds=self.seconds())
        _write_json(self.out / "history.json", self.history)
        _write_json(self.out / "run.json", self.run)


class _SaveWhileFinite(Callback):
    """Write the model file after each epoch whose loss and weights are all finite; stop training at the first
    batch whose loss is not finite (as TerminateOnNaN), or after an epoch that left a weight that is not, and say
    which in ``failure``. The file then keeps the last good epoch (or, if none, whatever was there before)."""

    def __init__(self, path: Path, metadata: dict):
        super().__init__()
        self.path, self.metadata = path, metadata
        self.existed = path.exists()
        self.saved_epoch: int | None = None
        self.failure: str | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check_loss(logs, f"in epoch {self._epoch + 1}, batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check_loss(logs, f"in epoch {epoch + 1}")
        if self.failure is None:
            bad = [v.name for v in self.model.weights if not np.isfinite(np.asarray(v.numpy())).all()]
            if bad:
                self.failure = f"weight {bad[0]!r} became non-finite in epoch {epoch + 1}"
                self.model.stop_training = True
        if self.failure is None:
            from chainrule.keras import saving as io

            io.save_model(self.model, self.path, metadata=self.metadata)
            self.saved_epoch = epoch + 1

    def _check_loss(self, logs, where: str) -> None:
        loss = (logs or {}).get("loss")
        if self.failure is None and loss is not None and not math.isfinite(float(loss)):
            self.failure = f"the loss became {float(loss)} {where}"
            self.model.stop_training = True

    def outcome(self) -> str:
        """What the model file holds after a failure, in words."""
        if self.saved_epoch is not None:
            return f"{self.path} keeps the model after epoch {self.saved_epoch}, the last with finite weights"
        if self.existed:
            return f"{self.path} was left as it was"
        return "no model file was written"


def _plots_module():
    """cli_plots, or a clear error before any training when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise UsageError("chainrule train draws its plots with matplotlib: pip install 'chainrule[train]'") from error
    from chainrule.cli import plots as cli_plots

    return cli_plots


def _confusion(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    from chainrule.keras import metrics

    return np.asarray(metrics.confusion_matrix(labels, predictions, num_classes=num_classes))


# --- evaluate, predict, summary ------------------------------------------------------------------------------------
def _evaluate(args: argparse.Namespace) -> None:
    model, info = _load_model(args.model)
    data = _load_data(args.dataset or info.get("dataset", "mnist"))
    x, y = _as_model_input(data.x_test[:args.limit], model), data.y_test[:args.limit]
    if getattr(model, "optimizer", None) is None:
        model.compile(optimizer="adam", loss=LOSS, metrics=METRICS)
    results = model.evaluate(x, y, batch_size=args.batch_size, verbose=1, return_dict=True)
    shown = " - ".join(f"{name}: {float(value):.4f}" for name, value in results.items())
    print(f"{args.model} on the {data.name} test split ({len(y)} images): {shown}")


def _predict(args: argparse.Namespace) -> None:
    from chainrule.cli.images import ImageError, load_image

    model, info = _load_model(args.model)
    input_shape = _input_shape(model)
    batch, notes = [], []
    for path in args.images:
        try:
            pixels, inverted = load_image(path, input_shape)
        except ImageError as error:
            raise UsageError(error) from error
        batch.append(pixels)
        notes.append(" (inverted: light background)" if inverted else "")
    probabilities = np.asarray(model.predict(np.stack(batch), verbose=0))
    names = info.get("class_names") or [str(i) for i in range(probabilities.shape[1])]
    for path, p, note in zip(args.images, probabilities, notes):
        best = np.argsort(-p, kind="stable")[:args.top]
        shown = ", ".join(f"{_class_name(names, k)} ({p[k]:.1%})" for k in best)
        print(f"{path}: {shown}{note}")


def _summary(args: argparse.Namespace) -> None:
    from chainrule.keras import saving as io

    model, info = _load_model(args.model)
    model.summary()
    header = io.read_header(args.model)
    compiled = header.get("compile") or {}
    optimizer = (compiled.get("optimizer") or {}).get("class_name")
    print(f"File: {args.model} (chainrule {header.get('chainrule_version')}, format {io.FORMAT_VERSION})")
    if optimizer:
        state = getattr(model.optimizer, "iterations", None)
        steps = f", {int(np.asarray(state))} steps trained" if state is not None else ""
        print(f"Compiled: optimizer {optimizer}, loss {compiled.get('loss')}, metrics {compiled.get('metrics')}"
              f"{steps}")
    else:
        print("Not compiled (weights only, no optimizer state)")
    if info.get("dataset"):
        print(f"Trained on: {info['dataset']}")


# --- shared ----------------------------------------------------------------------------------------------------------
def _load_model(path: Path):
    """The model in ``path`` and the metadata ``train`` stored with it."""
    from chainrule.keras import saving as io

    if not path.is_file():
        raise UsageError(f"{path}: no such model file" if not path.exists() else f"{path} is not a file")
    return io.load_model(path), io.read_header(path).get("metadata") or {}


def _input_shape(model) -> tuple:
    shape = getattr(model, "input_shape", None)
    if not shape or not isinstance(shape, tuple) or any(n is None for n in shape[1:]):
        raise UsageError(f"the model does not declare one fixed input shape ({shape}); the command line needs it")
    return tuple(shape[1:])


def _as_model_input(images: np.ndarray, model) -> np.ndarray:
    """The dataset's images reshaped to the model's input (e.g. flattened for a model that takes 784 numbers)."""
    shape = _input_shape(model)
    if images.shape[1:] == shape:
        return images
    if math.prod(images.shape[1:]) == math.prod(shape):
        return images.reshape((len(images), *shape))
    raise UsageError(f"the model takes inputs of shape {shape}, the dataset's images have shape {images.shape[1:]}")


def _load_data(name: str):
    from chainrule.cli import data as cli_data

    try:
        return cli_data.load(name)
    except ValueError as error:
        raise UsageError(error) from error


def _class_name(names: Sequence[str], k: int) -> str:
    return names[k] if k < len(names) else str(k)


def _write_json(path: Path, value) -> None:
    from chainrule.keras.saving import atomic_write

    atomic_write(path, [json.dumps(value, indent=2).encode() + b"\n"])


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror}"
    return str(error)


# Each number flag is checked as it is parsed: argparse prints "argument --lr: <message>" and exits with status 2.
def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _finite_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**32 - 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _finite_number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
