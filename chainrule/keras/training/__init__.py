"""The Keras training loop, one idea per module: ``adapters`` (data in, batches out), ``compile_utils`` (the compiled
loss and metrics), ``trainer`` (the step and the fit/evaluate/predict loops)."""
from chainrule.keras.training.trainer import Trainer

__all__ = ["Trainer"]
