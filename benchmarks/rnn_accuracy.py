"""The LSTM recipe of Keras's guide "Working with RNNs", for ``python -m benchmarks.accuracy --recipe lstm``.

MNIST images read as 28 steps of 28 features (scaled to [0, 1]); LSTM(64), BatchNormalization, Dense(10) logits;
SGD (learning rate 0.01), sparse categorical cross-entropy from logits, ``fit(batch_size=64)``, reshuffled every
epoch. PyTorch runs the same recipe written out: nn.LSTM with Keras's initializers (Glorot-uniform input kernel,
orthogonal recurrent kernel, zero biases but 1 for the forget gate), nn.BatchNorm1d with Keras's epsilon 1e-3 and
momentum (0.01 in PyTorch's convention), a Glorot-uniform nn.Linear, plain SGD.
"""
from __future__ import annotations

UNITS, BATCH, LEARNING_RATE = 64, 64, 0.01


def mnist_arrays():
    """(x_train, y_train, x_test, y_test): float32 rows (N, 28, 28) in [0, 1], int64 class labels."""
    import numpy as np

    from chainrule.data.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return ((x_train / 255.0).astype(np.float32), y_train.astype(np.int64),
            (x_test / 255.0).astype(np.float32), y_test.astype(np.int64))


def train_keras_style(keras, seed: int, epochs: int, data) -> list[float]:
    """The guide's model and compile/fit in a Keras-like namespace (chainrule or tf.keras): accuracy per epoch."""
    from benchmarks.accuracy import accuracy_per_epoch

    keras.utils.set_random_seed(seed)
    model = keras.models.Sequential([keras.Input((None, 28)), keras.layers.LSTM(UNITS),
                                     keras.layers.BatchNormalization(), keras.layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE), metrics=["accuracy"])
    return accuracy_per_epoch(model, data, epochs, batch_size=BATCH)


def train_torch(seed: int, epochs: int, data) -> list[float]:
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)

    class Guide(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, UNITS, batch_first=True)
            self.norm = nn.BatchNorm1d(UNITS, eps=1e-3, momentum=0.01)
            self.head = nn.Linear(UNITS, 10)

        def forward(self, x):
            return self.head(self.norm(self.lstm(x)[0][:, -1]))

    model = Guide()
    with torch.no_grad():  # Keras's initializers (the fans of (out, in) are those of Keras's (in, out) kernels)
        nn.init.xavier_uniform_(model.lstm.weight_ih_l0)
        nn.init.orthogonal_(model.lstm.weight_hh_l0)
        model.lstm.bias_ih_l0.zero_()
        model.lstm.bias_ih_l0[UNITS:2 * UNITS] = 1.0  # unit_forget_bias
        model.lstm.bias_hh_l0.zero_()
        nn.init.xavier_uniform_(model.head.weight)
        model.head.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    accuracies = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x_train)))
        model.train()
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            optimizer.zero_grad()
            loss_fn(model(x_train[idx]), y_train[idx]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(x_test[i:i + 1000]).argmax(1) for i in range(0, len(x_test), 1000)])
        accuracies.append(float((predicted == y_test).float().mean()))
    return accuracies
