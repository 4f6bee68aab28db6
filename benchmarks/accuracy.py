"""Test accuracy of the seed CNN recipe, per epoch and per seed, in chainrule, PyTorch and (when importable) Keras.

    python -m benchmarks.accuracy                               # chainrule and torch, seeds 0-2, 5 epochs
    python -m benchmarks.accuracy --frameworks chainrule,keras --seeds 0,1,2,3 --json out.json
    python -m benchmarks.accuracy --recipe lstm --epochs 1    # Keras's RNN-guide LSTM (benchmarks/rnn_accuracy.py)

The recipe is seed 000's, as printed: Conv2D(32, 3x3, relu), MaxPooling2D, Flatten, Dense(128, relu),
Dense(10, softmax); Adam(1e-3), categorical cross-entropy, ``fit(x, y, epochs=5)`` (batch 32, shuffled every epoch);
images scaled to [0, 1]; all 60,000 training images, the 10,000 test images evaluated after every epoch.
PyTorch runs the same recipe written out by hand: Keras's initializers (Glorot-uniform kernels, zero biases), Keras's
Adam (epsilon 1e-7 added to sqrt(v) before the bias correction) and a reshuffle each epoch. Keras runs only where
tensorflow is installed (it is no dependency of chainrule). Each (framework, seed) trains in its own process, one at a
time; MNIST comes from chainrule's loader and its cache. This answers "what does this recipe reach?", which
the seed-000 acceptance figure depends on; it is not a test, and nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/accuracy.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FRAMEWORKS = ("chainrule", "torch", "keras")
RECIPES = {"cnn": "benchmarks.accuracy", "lstm": "benchmarks.rnn_accuracy"}  # modules with the three functions below


def mnist_arrays():
    """(x_train, y_train, x_test, y_test): float32 images in [0, 1] with a channel axis, one-hot float32 labels."""
    import numpy as np

    from chainrule.data.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    eye = np.eye(10, dtype=np.float32)
    return ((x_train / 255.0).astype(np.float32)[..., None], eye[y_train],
            (x_test / 255.0).astype(np.float32)[..., None], eye[y_test])


def keras_style_model(keras):
    """Seed 000's model in a Keras-like namespace (chainrule or tf.keras)."""
    return keras.models.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def train_keras_style(keras, seed: int, epochs: int, data) -> list[float]:
    keras.utils.set_random_seed(seed)
    model = keras_style_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return accuracy_per_epoch(model, data, epochs)


def accuracy_per_epoch(model, data, epochs: int, **fit) -> list[float]:
    """Fit a compiled Keras-style model one epoch at a time; the test accuracy after each."""
    x_train, y_train, x_test, y_test = data
    accuracies = []
    for _ in range(epochs):
        model.fit(x_train, y_train, epochs=1, verbose=0, **fit)
        accuracies.append(float(model.evaluate(x_test, y_test, verbose=0)[1]))
    return accuracies


def train_torch(seed: int, epochs: int, data) -> list[float]:
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    x_train, x_test = x_train.permute(0, 3, 1, 2).contiguous(), x_test.permute(0, 3, 1, 2).contiguous()
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(13 * 13 * 32, 128), nn.ReLU(), nn.Linear(128, 10))
    # Flatten order: Keras flattens NHWC; the order of the 5408 features does not change what can be learned
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)  # = Glorot uniform: the same fans for conv kernels as Keras
            nn.init.zeros_(layer.bias)
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
    step = 0
    accuracies = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x_train)))
        model.train()
        for start in range(0, len(order), 32):
            idx = order[start:start + 32]
            logits = model(x_train[idx])
            loss = -(y_train[idx] * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
            grads = torch.autograd.grad(loss, params)
            step += 1
            alpha = lr * (1 - b2 ** step) ** 0.5 / (1 - b1 ** step)
            with torch.no_grad():  # Keras's Adam
                for p, g, m_, v_ in zip(params, grads, m, v):
                    m_.add_((g - m_) * (1 - b1))
                    v_.add_((g * g - v_) * (1 - b2))
                    p.sub_(alpha * m_ / (v_.sqrt() + eps))
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(x_test[i:i + 1000]).argmax(1) for i in range(0, len(x_test), 1000)])
        accuracies.append(float((predicted == y_test.argmax(1)).float().mean()))
    return accuracies


def run_one(framework: str, seed: int, epochs: int, recipe: str = "cnn") -> dict:
    """Train one (framework, seed) in this process: the test accuracy after each epoch, and the version trained."""
    import importlib

    module = importlib.import_module(RECIPES[recipe])
    mnist_arrays, train_keras_style, train_torch = module.mnist_arrays, module.train_keras_style, module.train_torch
    data = mnist_arrays()
    if framework == "chainrule":
        import chainrule

        return {"accuracies": train_keras_style(chainrule.keras, seed, epochs, data),
                "version": chainrule.__version__}
    if framework == "torch":
        import torch

        return {"accuracies": train_torch(seed, epochs, data), "version": torch.__version__}
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return {"accuracies": train_keras_style(tf.keras, seed, epochs, data),
            "version": f"tensorflow {tf.__version__}, keras {tf.keras.__version__}"}


def available(framework: str, python: str) -> bool:
    module = {"chainrule": "chainrule", "torch": "torch", "keras": "tensorflow"}[framework]
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="chainrule,torch", help=f"comma-separated, from {FRAMEWORKS}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--keras-python", default=sys.executable,
                        help="the Python that has tensorflow (e.g. a separate virtual environment)")
    parser.add_argument("--json", type=Path, help="write the per-epoch accuracies here")
    parser.add_argument("--recipe", default="cnn", choices=RECIPES, help="the seed CNN (default) or Keras's "
                                                                            "RNN-guide LSTM on MNIST rows")
    parser.add_argument("--one", nargs=3, metavar=("FRAMEWORK", "SEED", "EPOCHS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # a child process: train one (framework, seed) and print its accuracies as JSON
        print(json.dumps(run_one(args.one[0], int(args.one[1]), int(args.one[2]), args.recipe)))
        return 0
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    if unknown:
        parser.error(f"unknown frameworks {unknown}; choose from {FRAMEWORKS}")
    seeds = [int(s) for s in args.seeds.split(",")]
    root = Path(__file__).resolve().parent.parent
    results: dict[str, dict[str, list[float]]] = {}
    versions: dict[str, str] = {}
    for framework in frameworks:
        python = args.keras_python if framework == "keras" else sys.executable
        if not available(framework, python):
            print(f"{framework}: not importable with {python}; skipped", flush=True)
            continue
        results[framework] = {}
        for seed in seeds:
            start = time.time()
            proc = subprocess.run([python, "-m", "benchmarks.accuracy", "--one", framework, str(seed),
                                   str(args.epochs), "--recipe", args.recipe], cwd=root, capture_output=True,
                                  text=True)
            if proc.returncode != 0:
                print(f"{framework} seed {seed}: failed\n{proc.stderr[-2000:]}", flush=True)
                continue
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            accuracies = results[framework][str(seed)] = run["accuracies"]
            versions[framework] = run["version"]
            print(f"{framework:9s} seed {seed}: " + " ".join(f"{a:.4f}" for a in accuracies)
                  + f"   ({time.time() - start:.0f} s)", flush=True)
    print(f"\ntest accuracy after epoch {args.epochs}: mean, min-max over seeds")
    for framework, by_seed in results.items():
        final = [accs[-1] for accs in by_seed.values()]
        if final:
            print(f"  {framework:9s} {statistics.mean(final):.4f}  {min(final):.4f}-{max(final):.4f}  "
                  f"({len(final)} seeds)")
    if args.json:
        args.json.write_text(json.dumps({"schema": "chainrule-accuracy/1", "recipe": args.recipe, "epochs": args.epochs,
                                         "seeds": seeds, "versions": versions, "test_accuracy": results},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
