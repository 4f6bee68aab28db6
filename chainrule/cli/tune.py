"""``chainrule tune`` and ``chainrule lr-find``: choose a learning rate for a named model on an image dataset.

    chainrule tune --model cnn --lr 1e-4:1e-1 --search random --trials 12 --epochs 2 --limit 5000
    chainrule tune --search grid --trials 6            # 6 rates evenly spaced on a log scale, ends included
    chainrule tune --search hyperband --epochs 9       # Hyperband's brackets up to 9 epochs (factor 3)
    chainrule lr-find --model cnn --limit 6400         # the learning-rate range test

``tune`` searches the learning rate (log scale) with :mod:`chainrule.keras_tuner`, judging each trial by its
validation accuracy (the last ``--validation-split`` of the training images), and writes into ``--out`` (default
``runs/tune-<model>-<dataset>``): the search's folder ``search/`` (one JSON file and best-epoch model per trial; the
same command run again resumes it, ``--overwrite`` starts over), ``results.json`` and ``tune.png`` (validation
accuracy against the learning rate). ``lr-find`` writes ``lr_find.json`` and ``lr_find.png`` into its ``--out``
(default ``runs/lr-find-<model>-<dataset>``).
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

SEARCHES = ("random", "grid", "hyperband")
OBJECTIVE = "val_accuracy"


def add_commands(commands, app) -> None:
    """Add ``tune`` and ``lr-find`` to the subcommands of the ``chainrule`` parser (``app``: chainrule.cli.app)."""
    from chainrule.cli.data import NAMES
    from chainrule.cli.zoo import MODELS

    tune = commands.add_parser("tune", help="search the learning rate: a table, results.json and tune.png",
                               description=__doc__.split("\n\n")[2].replace("\n", " "))
    _common(tune, app, MODELS, NAMES)
    tune.add_argument("--lr", type=_lr_range, default=(1e-4, 1e-1), metavar="LOW:HIGH",
                      help="the learning rates to search, sampled on a log scale (default: 1e-4:1e-1)")
    tune.add_argument("--search", choices=SEARCHES, default="random", help="default: random")
    tune.add_argument("--trials", type=app._positive_int, default=12,
                      help="trials of random or grid search (grid: that many rates; hyperband runs its own "
                           "brackets) (default: 12)")
    tune.add_argument("--epochs", type=app._positive_int, default=2,
                      help="epochs per trial; hyperband's max_epochs (default: 2)")
    tune.add_argument("--factor", type=_at_least_two(app), default=3, help="hyperband's reduction factor (default: 3)")
    tune.add_argument("--validation-split", type=app._fraction, default=0.1,
                      help="fraction of the training images that judges each trial (default: 0.1)")
    tune.add_argument("--workers", type=app._positive_int, default=1,
                      help="trials trained at once, in worker processes with one BLAS thread each (default: 1)")
    tune.add_argument("--overwrite", action="store_true", help="start the search over instead of resuming it")
    tune.set_defaults(run=lambda args: _tune(args, app))

    find = commands.add_parser("lr-find", help="the learning-rate range test: a suggested rate and lr_find.png",
                               description="An exponential sweep of the learning rate over --steps batches "
                                           "(Smith 2017; fastai's lr_find); prints the suggested rate and writes "
                                           "lr_find.png and lr_find.json into --out.")
    _common(find, app, MODELS, NAMES)
    find.add_argument("--start-lr", type=app._positive_float, default=1e-7, help="default: 1e-7")
    find.add_argument("--end-lr", type=app._positive_float, default=10.0, help="default: 10")
    find.add_argument("--steps", type=_at_least_two(app), default=100, help="batches in the sweep (default: 100)")
    find.set_defaults(run=lambda args: _lr_find(args, app))


def _common(parser, app, models, names) -> None:
    parser.add_argument("--model", default="cnn", help=f"{', '.join(models)}, or a JSON model config (default: cnn)")
    parser.add_argument("--dataset", default="mnist",
                        help=f"{' or '.join(names)}, or a folder of MNIST-format IDX files (default: mnist)")
    parser.add_argument("--optimizer", default="adam", type=str.lower, choices=app.OPTIMIZERS,
                        help="default: adam")
    parser.add_argument("--batch-size", type=app._positive_int, default=32, help="default: 32")
    parser.add_argument("--limit", type=app._positive_int, default=None,
                        help="use the first N training images only (quick runs)")
    parser.add_argument("--seed", type=app._seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--verbose", type=int, choices=(0, 1), default=1, help="1: a line per trial (default: 1)")


# --- tune ------------------------------------------------------------------------------------------------------------
def _tune(args: argparse.Namespace, app) -> None:
    import chainrule.keras_tuner as kt

    plots = app._plots_module()
    if args.validation_split == 0:
        raise app.UsageError("tune judges trials on held-out images: --validation-split must be above 0")
    data, x, y, build = _prepared(args, app)
    low, high = args.lr
    out = args.out or Path("runs") / f"tune-{_name(args.model)}-{_name(args.dataset)}"

    def hypermodel(hp):
        if args.search == "grid":  # --trials rates, evenly spaced on a log scale, both ends included
            step = (high / low) ** (1 / (args.trials - 1)) if args.trials > 1 and high > low else None
            lr = hp.Float("learning_rate", low, high, step=step, sampling="log") if step else \
                hp.Fixed("learning_rate", low)
        else:
            lr = hp.Float("learning_rate", low, high, sampling="log")
        return build(lr)

    common = dict(objective=OBJECTIVE, seed=args.seed, directory=out, project_name="search",
                  overwrite=args.overwrite, workers=args.workers, verbose=0)
    if args.search == "random":
        tuner = _with_lines(kt.RandomSearch)(hypermodel, max_trials=args.trials, **common)
    elif args.search == "grid":
        tuner = _with_lines(kt.GridSearch)(hypermodel, max_trials=args.trials, **common)
    else:
        tuner = _with_lines(kt.Hyperband)(hypermodel, max_epochs=args.epochs, factor=args.factor, **common)
    tuner.lines = bool(args.verbose)
    already = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
    print(f"Searching the learning rate of {args.model} on {data.name} in [{low:g}, {high:g}] (log scale): "
          f"{args.search} search" + (f", {args.trials} trials" if args.search != "hyperband" else
                                     f", max_epochs {args.epochs}, factor {args.factor}") +
          f", {len(x) - _held_out(len(x), args.validation_split)} training and "
          f"{_held_out(len(x), args.validation_split)} validation images, seed {args.seed}" +
          (f" (resuming: {already} trials done)" if already else ""))
    tuner.search(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=args.validation_split,
                 verbose=0)
    rows = _rows(tuner)
    if not any(row["score"] is not None for row in rows):
        raise app.UsageError(f"no trial finished; see {tuner.project_dir}")
    _print_table(rows)
    best = tuner.oracle.get_best_trials()[0]
    app._write_json(out / "results.json", {
        "model": args.model, "dataset": data.name, "search": args.search, "objective": OBJECTIVE,
        "lr_range": [low, high], "epochs": args.epochs, "batch_size": args.batch_size,
        "optimizer": args.optimizer, "validation_split": args.validation_split, "limit": args.limit,
        "seed": args.seed, "best": {"trial_id": best.trial_id, "learning_rate": best.hyperparameters["learning_rate"],
                                    OBJECTIVE: best.score},
        "trials": rows})
    plot_search(rows, out / "tune.png", f"{args.search} search: {args.model} on {data.name}", plots)
    print(f"Best learning rate {best.hyperparameters['learning_rate']:.3g}: {OBJECTIVE} {best.score:.4f} "
          f"(trial {best.trial_id})")
    print(f"Wrote {out}/: results.json, tune.png, search/ (trials and their models)")


def _with_lines(tuner_class):
    """``tuner_class`` printing one line per finished trial (its own display stays off)."""

    class WithLines(tuner_class):
        lines = True

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            if self.lines:
                score = f"{OBJECTIVE} {trial.score:.4f}" if trial.score is not None else trial.status.lower()
                print(f"  trial {trial.trial_id}: lr {trial.hyperparameters.values['learning_rate']:.3g}, "
                      f"{_epochs(trial)} epoch(s): {score}", flush=True)

    return WithLines


def _rows(tuner) -> list[dict]:
    rows = []
    for trial in tuner.oracle.trials.values():
        metrics = trial.best_metrics() if trial.score is not None else {}
        rows.append({"trial_id": trial.trial_id, "learning_rate": trial.hyperparameters.values["learning_rate"],
                     "epochs": _epochs(trial), "status": trial.status, "score": trial.score,
                     "val_loss": metrics.get("val_loss"), "accuracy": metrics.get("accuracy"),
                     "continues": trial.hyperparameters.values.get("tuner/trial_id")})
    return rows


def _epochs(trial) -> int:
    values = trial.hyperparameters.values
    if "tuner/epochs" in values:
        return values["tuner/epochs"]
    steps = [step for step, _ in trial.metrics.get(OBJECTIVE, [])]
    return max(steps) + 1 if steps else 0


def _print_table(rows: list[dict]) -> None:
    """The trials by learning rate; the best marked with '*'."""
    finished = [r for r in rows if r["score"] is not None]
    best = max(finished, key=lambda r: r["score"])["trial_id"] if finished else None
    print(f"\n  {'trial':>5}  {'learning rate':>13}  {'epochs':>6}  {OBJECTIVE:>12}  {'val_loss':>8}  status")
    for row in sorted(rows, key=lambda r: (r["learning_rate"], r["epochs"])):
        score = f"{row['score']:.4f}" if row["score"] is not None else "-"
        loss = f"{row['val_loss']:.4f}" if row["val_loss"] is not None else "-"
        mark = "*" if row["trial_id"] == best else " "
        print(f"{mark} {row['trial_id']:>5}  {row['learning_rate']:>13.4g}  {row['epochs']:>6}  {score:>12}  "
              f"{loss:>8}  {row['status'].lower()}")
    print()


def plot_search(rows: list[dict], path: str | os.PathLike, title: str, plots) -> None:
    """Validation accuracy against the learning rate (log scale), one point per trial (Hyperband: coloured by the
    epochs trained), the best circled."""
    finished = [r for r in rows if r["score"] is not None]
    figure = plots._figure(7, 4.5)
    axes = figure.add_subplot()
    epochs = sorted({r["epochs"] for r in finished})
    for count in epochs:
        chosen = sorted((r for r in finished if r["epochs"] == count), key=lambda r: r["learning_rate"])
        axes.plot([r["learning_rate"] for r in chosen], [r["score"] for r in chosen], marker="o",
                  linestyle="-" if len(epochs) == 1 else "none",
                  label=f"{count} epoch{'s' * (count > 1)}" if len(epochs) > 1 else None)
    best = max(finished, key=lambda r: r["score"])
    axes.scatter([best["learning_rate"]], [best["score"]], s=200, facecolors="none", edgecolors="tab:red",
                 linewidths=2, label=f"best: lr {best['learning_rate']:.3g}, {best['score']:.4f}", zorder=3)
    axes.set_xscale("log")
    axes.set_xlabel("learning rate")
    axes.set_ylabel("validation accuracy")
    axes.set_title(title)
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=plots.DPI)


# --- lr-find ---------------------------------------------------------------------------------------------------------
def _lr_find(args: argparse.Namespace, app) -> None:
    app._plots_module()
    if not args.start_lr < args.end_lr:
        raise app.UsageError(f"--start-lr ({args.start_lr:g}) must be below --end-lr ({args.end_lr:g})")
    data, x, y, build = _prepared(args, app)
    model = build(args.start_lr)
    out = args.out or Path("runs") / f"lr-find-{_name(args.model)}-{_name(args.dataset)}"
    print(f"Learning-rate range test of {args.model} on {data.name}: {args.optimizer}, {args.steps} batches of "
          f"{args.batch_size} from {len(x)} images, rates {args.start_lr:g} to {args.end_lr:g}")
    found = model.find_learning_rate(x, y, start_lr=args.start_lr, end_lr=args.end_lr, num_steps=args.steps,
                                     batch_size=args.batch_size, seed=args.seed, verbose=args.verbose)
    out.mkdir(parents=True, exist_ok=True)
    found.plot(out / "lr_find.png", title=f"learning-rate range test: {args.model} on {data.name}, "
                                          f"{args.optimizer}")
    app._write_json(out / "lr_find.json", {
        "model": args.model, "dataset": data.name, "optimizer": args.optimizer, "batch_size": args.batch_size,
        "seed": args.seed, "limit": args.limit, "suggestion": found.suggestion, "method": found.method,
        "suggestions": found.suggestions, "stopped_early": found.stopped_early, "lrs": found.lrs,
        "losses": found.losses, "smoothed_losses": found.smoothed_losses})
    if found.suggestion is None:
        raise app.UsageError(f"the sweep stopped after {len(found.lrs)} steps, too few to suggest a rate: lower "
                             f"--start-lr or give more --steps")
    others = ", ".join(f"{name} {rate:.2g}" for name, rate in found.suggestions.items()
                       if name != found.method and rate is not None)
    ending = (f"the loss diverged at lr {found.lrs[-1]:.2g}" if found.stopped_early else
              f"the loss did not diverge up to {found.lrs[-1]:.2g}")
    print(f"Suggested learning rate: {found.suggestion:.2g} ({found.method}; {others}); {ending}")
    print(f"Wrote {out}/: lr_find.png, lr_find.json")


# --- shared ----------------------------------------------------------------------------------------------------------
def _prepared(args, app):
    """The dataset, the training images as the model takes them, their labels, and ``build(lr)``: a fresh
    compiled model of ``--model`` with that learning rate."""
    from chainrule.cli import zoo
    from chainrule.keras import optimizers
    from chainrule.keras.utils import set_random_seed

    set_random_seed(args.seed)
    data = app._load_data(args.dataset)
    x, y = data.x_train[:args.limit], data.y_train[:args.limit]

    def build(lr: float):
        try:
            model = zoo.build(args.model, input_shape=data.x_train.shape[1:], num_classes=len(data.class_names))
        except ValueError as error:
            raise app.UsageError(error) from error
        optimizer = optimizers.get(args.optimizer)
        optimizer.learning_rate = lr
        model.compile(optimizer=optimizer, loss=app.LOSS, metrics=app.METRICS)
        return model

    return data, app._as_model_input(x, build(1e-3)), y, build


def _held_out(n: int, split: float) -> int:
    return n - math.floor(n * (1.0 - split))  # as Keras splits


def _name(text: str) -> str:
    path = Path(text)
    return path.stem if path.suffix else path.resolve().name if path.exists() else text


def _lr_range(text: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        low_value, high_value = float(low), float(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be LOW:HIGH, two numbers such as 1e-4:1e-1, got {text!r}") from None
    if not sep or not (0 < low_value <= high_value and math.isfinite(high_value)):
        raise argparse.ArgumentTypeError(f"must be LOW:HIGH with 0 < LOW <= HIGH, got {text!r}")
    return low_value, high_value


def _at_least_two(app):
    """An argparse type: a whole number of at least 2 (app._whole_number checks the whole number)."""
    def parse(text: str) -> int:
        value = app._whole_number(text)
        if value < 2:
            raise argparse.ArgumentTypeError(f"must be at least 2, got {value}")
        return value
    return parse
