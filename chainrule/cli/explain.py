"""``chainrule explain MODEL IMAGE``: which pixels of an image the model's answer rests on, as a PNG overlay.

    chainrule explain runs/cnn-mnist/model.keras digit.png
    chainrule explain runs/cnn-mnist/model.keras digit.png --method smoothgrad --out digit-smooth.png
    chainrule explain runs/cnn-mnist/model.keras digit.png --method integrated_gradients --class 3

The image is read as ``chainrule predict`` reads it; the saliency map (:func:`chainrule.explain.saliency`) is the
absolute attribution, its maximum over colour channels, drawn beside the image and over it. Integrated gradients'
completeness (attributions summing to the output's change from a black image) is printed.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from chainrule import explain


def add_command(commands, app) -> None:
    """Add ``explain`` to the subcommands of the ``chainrule`` parser (``app``: chainrule.cli.app)."""
    parser = commands.add_parser("explain", help="a saliency map of a saved model's answer for an image (PNG)",
                                 description=__doc__.split("\n\n")[2].replace("\n", " "))
    parser.add_argument("model", type=Path, metavar="MODEL", help="a model file written by train or model.save")
    parser.add_argument("image", type=Path, metavar="IMAGE", help="an image file (PNG, JPEG, ...)")
    parser.add_argument("--method", choices=explain.METHODS, default="integrated_gradients",
                        help="default: integrated_gradients")
    parser.add_argument("--class", dest="target", type=int, default=None, metavar="K",
                        help="explain class K (default: the predicted class)")
    parser.add_argument("--steps", type=app._positive_int, default=64,
                        help="integrated gradients' path steps (default: 64)")
    parser.add_argument("--samples", type=app._positive_int, default=32,
                        help="SmoothGrad's noisy samples (default: 32)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the PNG to write (default: <image name>-<method>.png in the current folder)")
    parser.set_defaults(run=lambda args: _explain(args, app))


def _explain(args: argparse.Namespace, app) -> None:
    from chainrule.cli.images import ImageError, load_image

    plots = app._plots_module()
    model, info = app._load_model(args.model)
    try:
        pixels, inverted = load_image(args.image, app._input_shape(model))
    except ImageError as error:
        raise app.UsageError(error) from error
    x = pixels[None]
    probabilities = np.asarray(model.predict(x, verbose=0))[0]
    names = info.get("class_names") or [str(i) for i in range(len(probabilities))]
    target = int(probabilities.argmax()) if args.target is None else args.target
    if not 0 <= target < len(probabilities):
        raise app.UsageError(f"--class must be a class of the model, 0 to {len(probabilities) - 1}, got {target}")
    attributions = explain.saliency(model, x, method=args.method, target=target, steps=args.steps,
                                    samples=args.samples, seed=0)
    heat = np.abs(attributions[0]).max(axis=-1)
    out = args.out or Path(f"{args.image.stem}-{args.method}.png")
    title = (f"{args.method}: class {app._class_name(names, target)} ({probabilities[target]:.1%}); predicted "
             f"{app._class_name(names, int(probabilities.argmax()))}{' (image inverted)' * inverted}")
    draw_overlay(pixels, heat, out, title, plots)
    print(f"{args.image}: predicted {app._class_name(names, int(probabilities.argmax()))} "
          f"({probabilities.max():.1%}){' (inverted: light background)' * inverted}")
    if args.method == "integrated_gradients":
        error = float(explain.completeness_error(model, x, attributions, target=target)[0])
        print(f"Completeness: the attributions sum to {float(attributions.sum()):.4f}, the output's change from a "
              f"black image, within {error:.2%}")
    print(f"Wrote {out}")


def draw_overlay(image: np.ndarray, heat: np.ndarray, path, title: str, plots) -> None:
    """Three panels: the image, the saliency map, and the map laid over the image."""
    figure = plots._figure(9, 3.4)
    shown = image.squeeze()
    gray = shown.ndim == 2
    for k, (name, draw) in enumerate((("image", "image"), ("saliency", "heat"), ("overlay", "both")), start=1):
        axes = figure.add_subplot(1, 3, k)
        if draw in ("image", "both"):
            axes.imshow(shown, cmap="gray" if gray else None, vmin=0.0, vmax=1.0)
        if draw in ("heat", "both"):
            axes.imshow(heat, cmap="inferno", alpha=0.55 if draw == "both" else 1.0,
                        vmin=0.0, vmax=float(heat.max()) or 1.0)
        axes.set_title(name, fontsize=9)
        axes.axis("off")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=plots.DPI)
