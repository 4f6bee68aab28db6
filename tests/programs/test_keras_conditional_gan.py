"""keras-io example "Conditional GAN", run on chainrule.

Source: https://keras.io/examples/generative/conditional_gan/ (keras-team/keras-io,
examples/generative/conditional_gan.py, "Last modified: 2021/07/15").

The example's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`, `from tensorflow.keras import
  layers` -> `from chainrule.keras import layers`, `import tensorflow as tf` -> `import chainrule as tf`;
  imageio is not installed: `imageio.mimsave` is a stand-in below that writes the GIF with Pillow;
  `tensorflow_docs.vis.embed.embed_file` (a notebook display) is left out;
- MNIST (`keras.datasets.mnist.load_data()`) is replaced by 96 + 32 synthetic 28x28 images of the 10 classes
  (tests/programs/mnist_like.py);
- `epochs=20` is 1; the GIF goes to a temporary working folder;
- lines marked `# test:` check what the program produces.

What it relies on: a Model subclass with its own compile(d_optimizer, g_optimizer, loss_fn) and train_step (two
GradientTapes, two optimizers), the `metrics` property listing Mean trackers; tf.repeat with a one-element repeats
list (a flat repeat), tf.linspace of ints, keras.layers.InputLayer((shape)) first in a Sequential,
Conv2DTranspose, tf.image.resize of uint8 images.
"""

import types

import numpy as np
import pytest
from PIL import Image

from chainrule import keras
from chainrule.keras import layers

import matplotlib.pyplot as plt
import chainrule as tf

import mnist_like

N_TRAIN, N_TEST = 96, 32  # test: the synthetic data's size (MNIST: 60000 + 10000)
EPOCHS = 1  # test: the example's 20
batch_size = 64
num_channels = 1
num_classes = 10
image_size = 28
latent_dim = 128


def _mimsave(path, frames, fps=1):
    """test: stands in for imageio.mimsave: the frames as an animated GIF (Pillow)."""
    images = [Image.fromarray(np.squeeze(frame, -1) if frame.shape[-1] == 1 else frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)


imageio = types.SimpleNamespace(mimsave=_mimsave)  # test


class ConditionalGAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super(ConditionalGAN, self).__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.gen_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.disc_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
    @property
    def metrics(self):
        return [self.gen_loss_tracker, self.disc_loss_tracker]
    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super(ConditionalGAN, self).compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
    def train_step(self, data):
        real_images, one_hot_labels = data
        image_one_hot_labels = one_hot_labels[:, :, None, None]
        image_one_hot_labels = tf.repeat(image_one_hot_labels, repeats=[image_size * image_size])
        image_one_hot_labels = tf.reshape(image_one_hot_labels, (-1, image_size, image_size, num_classes))
        batch_size = tf.shape(real_images)[0]
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        random_vector_labels = tf.concat([random_latent_vectors, one_hot_labels], axis=1)
        generated_images = self.generator(random_vector_labels)
        fake_image_and_labels = tf.concat([generated_images, image_one_hot_labels], -1)
        real_image_and_labels = tf.concat([real_images, image_one_hot_labels], -1)
        combined_images = tf.concat([fake_image_and_labels, real_image_and_labels], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        random_vector_labels = tf.concat([random_latent_vectors, one_hot_labels], axis=1)
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            fake_images = self.generator(random_vector_labels)
            fake_image_and_labels = tf.concat([fake_images, image_one_hot_labels], -1)
            predictions = self.discriminator(fake_image_and_labels)
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.gen_loss_tracker.update_state(g_loss)
        self.disc_loss_tracker.update_state(d_loss)
        return {"g_loss": self.gen_loss_tracker.result(), "d_loss": self.disc_loss_tracker.result()}


@pytest.mark.slow
def test_conditional_gan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the GIF goes to the working folder
    # We'll use all the available examples from both the training and test
    # sets.
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)
    all_digits = np.concatenate([x_train, x_test])
    all_labels = np.concatenate([y_train, y_test])
    all_digits = all_digits.astype("float32") / 255.0
    all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
    all_labels = keras.utils.to_categorical(all_labels, 10)
    dataset = tf.data.Dataset.from_tensor_slices((all_digits, all_labels))
    dataset = dataset.shuffle(buffer_size=1024).batch(batch_size)
    print(f"Shape of training images: {all_digits.shape}")
    print(f"Shape of training labels: {all_labels.shape}")
    generator_in_channels = latent_dim + num_classes
    discriminator_in_channels = num_channels + num_classes
    print(generator_in_channels, discriminator_in_channels)
    discriminator = keras.Sequential(
        [
            keras.layers.InputLayer((28, 28, discriminator_in_channels)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.layers.InputLayer((generator_in_channels,)),
            layers.Dense(7 * 7 * generator_in_channels),
            layers.LeakyReLU(alpha=0.2),
            layers.Reshape((7, 7, generator_in_channels)),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    cond_gan = ConditionalGAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    cond_gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.0003), g_optimizer=keras.optimizers.Adam(learning_rate=0.0003), loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    history = cond_gan.fit(dataset, epochs=EPOCHS)
    trained_gen = cond_gan.generator
    num_interpolation = 9  # @param {type:"integer"}
    interpolation_noise = tf.random.normal(shape=(1, latent_dim))
    interpolation_noise = tf.repeat(interpolation_noise, repeats=num_interpolation)
    interpolation_noise = tf.reshape(interpolation_noise, (num_interpolation, latent_dim))
    def interpolate_class(first_number, second_number):
        first_label = keras.utils.to_categorical([first_number], num_classes)
        second_label = keras.utils.to_categorical([second_number], num_classes)
        first_label = tf.cast(first_label, tf.float32)
        second_label = tf.cast(second_label, tf.float32)
        percent_second_label = tf.linspace(0, 1, num_interpolation)[:, None]
        percent_second_label = tf.cast(percent_second_label, tf.float32)
        interpolation_labels = (first_label * (1 - percent_second_label) + second_label * percent_second_label)
        noise_and_labels = tf.concat([interpolation_noise, interpolation_labels], 1)
        fake = trained_gen.predict(noise_and_labels)
        return fake
    start_class = 1  # @param {type:"slider", min:0, max:9, step:1}
    end_class = 5  # @param {type:"slider", min:0, max:9, step:1}
    fake_images = interpolate_class(start_class, end_class)
    fake_images *= 255.0
    converted_images = fake_images.astype(np.uint8)
    converted_images = tf.image.resize(converted_images, (96, 96)).numpy().astype(np.uint8)
    imageio.mimsave("animation.gif", converted_images, fps=1)

    # test: both losses logged, one generated image per interpolation step, the GIF written with every frame
    assert set(history.history) == {"g_loss", "d_loss"} and np.isfinite(list(history.history.values())).all()
    assert fake_images.shape == (num_interpolation, 28, 28, 1)
    assert converted_images.shape == (num_interpolation, 96, 96, 1) and converted_images.dtype == np.uint8
    with Image.open("animation.gif") as gif:
        assert gif.n_frames == num_interpolation and gif.size == (96, 96)
    assert cond_gan.metrics == [cond_gan.gen_loss_tracker, cond_gan.disc_loss_tracker]
