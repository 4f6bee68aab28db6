"""Seed 002: the Keras MLP (Dense 10 ReLU on 784 inputs -> Dense 10 softmax) compiled with Adam and
CategoricalCrossentropy and trained with ``model.fit``: the program as printed, ``import chainrule as tf``, plus the
reader's lines that make ``x_train``/``y_train`` (flatten to 784, scale to [0, 1], one-hot)."""
import pytest

import chainrule
from seed_data import accuracy, mnist_slices, run_program, synthetic_mnist

SEED_PROGRAM = """
import chainrule as tf

# 定义模型
model = tf.keras.Sequential([
  tf.keras.layers.Dense(10, activation='relu', input_shape=(784,)),
  tf.keras.layers.Dense(10, activation='softmax')
])

# 定义损失函数
loss_fn = tf.keras.losses.CategoricalCrossentropy()

# 定义优化器
optimizer = tf.keras.optimizers.Adam(learning_rate=0.001)

# 训练模型
model.compile(optimizer=optimizer, loss=loss_fn, metrics=['accuracy'])
model.fit(x_train, y_train, epochs=5)
"""


def reader_lines(images, labels):
    tf = chainrule
    x = images.reshape(-1, 784) / 255.0
    y = tf.keras.utils.to_categorical(labels, 10)
    return x, y


def run_seed(x_train, y_train):
    return run_program(SEED_PROGRAM, "seed_002", x_train=x_train, y_train=y_train)["model"]


def test_seed_002_program_on_synthetic_digits():
    chainrule.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = synthetic_mnist(1600, 300)
    model = run_seed(*reader_lines(x_train, y_train))
    history = model.history.history
    assert len(history["accuracy"]) == 5 and history["loss"][-1] < history["loss"][0]
    assert accuracy(model, *reader_lines(x_test, y_test)) >= 0.9


@pytest.mark.mnist
def test_seed_002_program_on_mnist_slice():
    chainrule.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist_slices(6000, 2000)
    model = run_seed(*reader_lines(x_train, y_train))
    assert accuracy(model, *reader_lines(x_test, y_test)) >= 0.80
