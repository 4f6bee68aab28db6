"""``chainrule attack MODEL --eps 0.1``: the model's accuracy on adversarial test images, and a picture of some.

    chainrule attack runs/cnn-mnist/model.keras --eps 0.1
    chainrule attack runs/cnn-mnist/model.keras --method pgd --eps 0.1 --steps 20 --limit 500

Each test image is moved by at most ``--eps`` per pixel (the L-inf ball), within [0, 1], in the direction that
raises the loss most: one signed-gradient step (``fgsm``) or ``--steps`` projected steps from a random start
(``pgd``); see :mod:`chainrule.attacks`. The command prints the accuracy before and after and writes a PNG of
examples: the original, the adversarial image, and the change, with the model's answers.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from chainrule import attacks

METHODS = ("fgsm", "pgd")


def add_command(commands, app) -> None:
    """Add ``attack`` to the subcommands of the ``chainrule`` parser (``app``: chainrule.cli.app)."""
    parser = commands.add_parser("attack", help="accuracy of a saved model under an adversarial attack, and a PNG",
                                 description=__doc__.split("\n\n")[2].replace("\n", " "))
    parser.add_argument("model", type=Path, metavar="MODEL", help="a model file written by train or model.save")
    parser.add_argument("--eps", type=_radius(app), default=0.1, help="the largest change per pixel (default: 0.1)")
    parser.add_argument("--method", choices=METHODS, default="fgsm", help="default: fgsm")
    parser.add_argument("--steps", type=app._positive_int, default=10, help="pgd's steps (default: 10)")
    parser.add_argument("--alpha", type=app._positive_float, default=None,
                        help="pgd's step size (default: 2.5 * eps / steps)")
    parser.add_argument("--dataset", default=None,
                        help="dataset name or IDX folder (default: the one the model was trained on, else mnist)")
    parser.add_argument("--limit", type=app._positive_int, default=1000,
                        help="attack the first N test images (default: 1000)")
    parser.add_argument("--seed", type=app._seed, default=0, help="pgd's random start (default: 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the PNG to write (default: attack-<method>-eps<eps>.png in the current folder)")
    parser.set_defaults(run=lambda args: _attack(args, app))


def _radius(app):
    def parse(text: str) -> float:
        value = app._finite_number(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
        return value
    return parse


def _attack(args: argparse.Namespace, app) -> None:
    plots = app._plots_module()
    model, info = app._load_model(args.model)
    data = app._load_data(args.dataset or info.get("dataset", "mnist"))
    x, y = app._as_model_input(data.x_test[:args.limit], model), data.y_test[:args.limit]
    if args.method == "fgsm":
        adversarial = attacks.fgsm(model, x, y, args.eps)
        how = f"FGSM, eps {args.eps:g}"
    else:
        adversarial = attacks.pgd(model, x, y, args.eps, alpha=args.alpha, steps=args.steps, seed=args.seed)
        how = f"PGD, eps {args.eps:g}, {args.steps} steps"
    clean = np.asarray(model.predict(x, batch_size=256, verbose=0))
    attacked = np.asarray(model.predict(adversarial, batch_size=256, verbose=0))
    before, after = float(np.mean(clean.argmax(1) == y)), float(np.mean(attacked.argmax(1) == y))
    print(f"{args.model} on {len(y)} {data.name} test images: accuracy {before:.4f} clean, {after:.4f} under "
          f"attack ({how})")
    out = args.out or Path(f"attack-{args.method}-eps{args.eps:g}.png")
    draw_examples(x, adversarial, y, clean, attacked, out, list(data.class_names), f"{how}: accuracy {before:.2%} "
                  f"-> {after:.2%}", plots)
    print(f"Wrote {out}")


def draw_examples(x, adversarial, y, clean, attacked, path, class_names, title: str, plots, count: int = 6) -> None:
    """Rows of (original, adversarial, change) for the first ``count`` images the attack turned wrong (then
    others), each titled with the model's answer and its probability."""
    fooled = np.flatnonzero((clean.argmax(1) == y) & (attacked.argmax(1) != y))
    rest = np.setdiff1d(np.arange(len(y)), fooled)
    chosen = np.concatenate([fooled, rest])[:count]
    figure = plots._figure(7, 2.2 * len(chosen) + 0.6)
    for row, i in enumerate(chosen):
        change = adversarial[i] - x[i]
        limit = float(np.abs(change).max()) or 1.0
        panels = ((x[i], clean[i], "original"), (adversarial[i], attacked[i], "adversarial"), (change, None, "change"))
        for col, (image, p, name) in enumerate(panels):
            axes = figure.add_subplot(len(chosen), 3, 3 * row + col + 1)
            if p is None:
                axes.imshow(image.squeeze(), cmap="seismic", vmin=-limit, vmax=limit)
                axes.set_title(f"{name} (max {limit:.2f})", fontsize=8)
            else:
                axes.imshow(image.squeeze(), cmap="gray", vmin=0.0, vmax=1.0)
                k = int(p.argmax())
                label = class_names[k] if k < len(class_names) else str(k)
                axes.set_title(f"{name}: {label} ({p[k]:.2f})", fontsize=8,
                               color="black" if k == y[i] else "firebrick")
            axes.axis("off")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=plots.DPI)
