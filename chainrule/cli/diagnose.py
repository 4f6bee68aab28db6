"""``chainrule train --diagnose``: watch the gradients while training (``keras.callbacks.GradientHealth``), then
print what was found (vanishing or exploding gradients, dead or saturated layers, with the cures to try) and write
``gradients.png`` (per-layer gradient norms over the epochs) and ``diagnosis.txt`` (the same report) into the run's
folder.
"""
from __future__ import annotations

from pathlib import Path

from chainrule.keras.callbacks import GradientHealth


def callbacks(enabled: bool) -> list[GradientHealth]:
    """The callback to add to ``fit`` (none when ``--diagnose`` was not given)."""
    return [GradientHealth(samples_per_epoch=2)] if enabled else []


def report(health: list[GradientHealth], out: Path) -> None:
    """Print the findings and write the picture and the text of the report into ``out``."""
    for callback in health:
        if not callback.history:
            return
        text = str(callback.report())
        print(text)
        (out / "diagnosis.txt").write_text(text + "\n")
        callback.plot(out / "gradients.png")
        print(f"Wrote {out}/: gradients.png, diagnosis.txt")
