"""Seed 004: the MLP and the GradientTape ``train_step`` as printed (``import chainrule as tf``); the seed leaves
the loop as ``# ... 训练代码 ...``, so the reader adds the data lines and that loop (here three epochs over
``train_dataset``)."""
import numpy as np
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

# 训练模型
def train_step(images, labels):
  with tf.GradientTape() as tape:
    predictions = model(images)
    loss = loss_fn(labels, predictions)
  gradients = tape.gradient(loss, model.trainable_variables)
  optimizer.apply_gradients(zip(gradients, model.trainable_variables))

# ... 训练代码 ...
"""

READER_LOOP = """
losses = []
for epoch in range(3):
  for images, labels in train_dataset:
    train_step(images, labels)
  losses.append(float(loss_fn(y_train, model(x_train))))
"""


def run_seed(images, labels):
    tf = chainrule
    x_train = images.reshape(-1, 784) / 255.0
    y_train = tf.keras.utils.to_categorical(labels, 10)
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000, seed=0).batch(32)
    return run_program(SEED_PROGRAM + READER_LOOP, "seed_004", train_dataset=train_dataset, x_train=x_train,
                       y_train=y_train)


def test_seed_004_program_on_synthetic_digits():
    chainrule.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = synthetic_mnist(1280, 300)
    namespace = run_seed(x_train, y_train)
    losses = namespace["losses"]
    assert losses[2] < losses[1] < losses[0]
    assert accuracy(namespace["model"], x_test.reshape(-1, 784) / 255.0, y_test) >= 0.9


def test_seed_004_gradients_match_the_fit_step():
    """The tape's gradients are the ones ``fit`` applies: one Adam step each way gives the same weights."""
    (x, y), _ = synthetic_mnist(32, 1)
    x = x.reshape(-1, 784) / 255.0
    y = chainrule.keras.utils.to_categorical(y, 10)
    chainrule.keras.utils.set_random_seed(3)
    ns = run_program(SEED_PROGRAM, "seed_004")
    model = ns["model"]
    twin = chainrule.keras.Sequential.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    ns["train_step"](chainrule.constant(x.astype(np.float32)), chainrule.constant(y))
    twin.compile(optimizer=chainrule.keras.optimizers.Adam(), loss=chainrule.keras.losses.CategoricalCrossentropy())
    twin.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.mnist
def test_seed_004_program_on_mnist_slice():
    chainrule.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist_slices(6000, 2000)
    namespace = run_seed(x_train, y_train)
    assert accuracy(namespace["model"], x_test.reshape(-1, 784) / 255.0, y_test) >= 0.80
