"""SwapEMAWeights (``keras.callbacks.SwapEMAWeights``): evaluate and predict with the optimizer's moving averages of
the weights (``use_ema=True``) instead of the weights themselves, swapping them in for the duration; with
``swap_on_epoch=True`` the averages are also in the model between epochs (for checkpoints written at an epoch's end).

>>> from chainrule import keras
>>> SwapEMAWeights(swap_on_epoch=True).swap_on_epoch
True
"""
from __future__ import annotations

from chainrule import backend
from chainrule.keras.callbacks import Callback


class SwapEMAWeights(Callback):
    """Swap the trainable weights with the optimizer's moving averages for evaluation and prediction."""

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._ema_weights_in_model = False

    def _optimizer(self):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if not getattr(optimizer, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. Received: "
                             f"use_ema={getattr(optimizer, 'use_ema', False)}")
        return optimizer

    def _pairs(self):
        optimizer = self._optimizer()
        for variable in self.model.trainable_weights:
            average = optimizer.average_of(variable)
            if average is not None:
                yield variable, average

    def _swap_variables(self) -> None:
        for variable, average in self._pairs():
            held = backend.copy(variable.data)  # (on the variable's device)
            variable.data[...] = average
            average[...] = held

    def _finalize_ema_values(self) -> None:
        """Put the averages (in the model after the last epoch's swap) back where fit's finalization reads them."""
        for variable, average in self._pairs():
            average[...] = variable.data

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end  # (Keras's own on_predict_end tests the flag the wrong way and leaves them in)
