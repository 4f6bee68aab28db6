"""fit, evaluate and predict take a torch.utils.data.DataLoader, as Keras 3 does (its "Introduction to Keras for
engineers" trains on one): each epoch iterates the loader again, its torch tensors read as arrays."""

import numpy as np
import pytest

from chainrule import keras

torch = pytest.importorskip("torch")


def _loaders(n=40, batch_size=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    data = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    return (torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True),
            torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False), x, y)


def test_fit_evaluate_predict_on_dataloaders():
    train, val, x, y = _loaders()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=2, validation_data=val, verbose=0)
    assert len(history.history["loss"]) == 2 and len(history.history["val_loss"]) == 2
    loss_on_loader = model.evaluate(val, verbose=0)[0]
    loss_on_arrays = model.evaluate(x, y, batch_size=16, verbose=0)[0]
    np.testing.assert_allclose(loss_on_loader, loss_on_arrays, rtol=1e-5)
    x_only = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x)), batch_size=16)
    assert model.predict(x_only, verbose=0).shape == (40, 2)
