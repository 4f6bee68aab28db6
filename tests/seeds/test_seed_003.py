"""Seed 003: the MLP trained by a hand-written ``train_step`` with ``tf.GradientTape`` over ``train_dataset``: the
program as printed, ``import chainrule as tf``, plus the reader's lines (flatten and scale the images, one-hot
labels, ``train_dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(...).batch(32)``)."""
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
optimizer = tf.keras.optimizers.Adam()

# 训练步骤
def train_step(images, labels):
  with tf.GradientTape() as tape:
    predictions = model(images)
    loss = loss_fn(labels, predictions)
  gradients = tape.gradient(loss, model.trainable_variables)
  optimizer.apply_gradients(zip(gradients, model.trainable_variables))

# 训练模型
for epoch in range(10):
  for images, labels in train_dataset:
    train_step(images, labels)
"""


def reader_lines(images, labels):
    tf = chainrule
    x = images.reshape(-1, 784) / 255.0
    y = tf.keras.utils.to_categorical(labels, 10)
    train_dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0).batch(32)
    return x, y, train_dataset


def run_seed(train_dataset):
    return run_program(SEED_PROGRAM, "seed_003", train_dataset=train_dataset)


def test_seed_003_program_on_synthetic_digits():
    chainrule.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = synthetic_mnist(640, 300)
    _, _, train_dataset = reader_lines(x_train, y_train)
    namespace = run_seed(train_dataset)
    x_test, y_test, _ = reader_lines(x_test, y_test)
    assert int(namespace["optimizer"].iterations) == 10 * 20
    assert accuracy(namespace["model"], x_test, y_test) >= 0.9


@pytest.mark.mnist
def test_seed_003_program_on_mnist_slice():
    chainrule.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist_slices(6000, 2000)
    namespace = run_seed(reader_lines(x_train, y_train)[2])
    x_test, y_test, _ = reader_lines(x_test, y_test)
    assert accuracy(namespace["model"], x_test, y_test) >= 0.80
