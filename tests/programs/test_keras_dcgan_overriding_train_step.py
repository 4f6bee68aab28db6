"""keras-io example "DCGAN to generate face images" (train_step overridden), run on chainrule.

Source: https://keras.io/examples/generative/dcgan_overriding_train_step/ (keras-team/keras-io,
examples/generative/dcgan_overriding_train_step.py, "Last modified: 2021/01/01").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- CelebA (`gdown.download(...)` of data.zip, extracted to celeba_gan/) is replaced by 4 synthetic 109x89 JPEG faces
  written to celeba_gan/img_align_celeba/ in a temporary working folder;
- `GANMonitor(num_img=10)` makes 2 images; the sample image is drawn with matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.

What it relies on: image_dataset_from_directory(label_mode=None) resizing to 64x64, a GAN Model subclass whose
compile makes its metrics and whose train_step takes the batch of images alone, Conv2DTranspose up to 512 filters,
a Callback whose __init__ does not call super().__init__() (self.model is still set by fit), array_to_img(...).save.
"""

import os

import numpy as np
import pytest
import matplotlib

matplotlib.use("Agg")  # test: no display

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
import matplotlib.pyplot as plt
from PIL import Image

NUM_IMG = 2  # test: the example's GANMonitor(num_img=10)


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super(GAN, self).__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super(GAN, self).compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")
    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]
    def train_step(self, real_images):
        # Sample random points in the latent space
        batch_size = tf.shape(real_images)[0]
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        generated_images = self.generator(random_latent_vectors)
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


class GANMonitor(keras.callbacks.Callback):
    def __init__(self, num_img=3, latent_dim=128):
        self.num_img = num_img
        self.latent_dim = latent_dim
    def on_epoch_end(self, epoch, logs=None):
        random_latent_vectors = tf.random.normal(shape=(self.num_img, self.latent_dim))
        generated_images = self.model.generator(random_latent_vectors)
        generated_images *= 255
        generated_images.numpy()
        for i in range(self.num_img):
            img = keras.preprocessing.image.array_to_img(generated_images[i])
            img.save("generated_img_%03d_%d.png" % (epoch, i))


@pytest.mark.slow
def test_dcgan_overriding_train_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("celeba_gan")
    os.makedirs("celeba_gan/img_align_celeba")  # test: the zip's folder, with synthetic faces
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (109, 89, 3), dtype=np.uint8)).save(
            f"celeba_gan/img_align_celeba/{i:06d}.jpg")

    dataset = keras.preprocessing.image_dataset_from_directory("celeba_gan", label_mode=None, image_size=(64, 64), batch_size=32)
    dataset = dataset.map(lambda x: x / 255.0)
    for x in dataset:
        plt.axis("off")
        plt.imshow((x.numpy() * 255).astype("int32")[0])
        break
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )
    discriminator.summary()
    latent_dim = 128
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(8 * 8 * 128),
            layers.Reshape((8, 8, 128)),
            layers.Conv2DTranspose(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2DTranspose(256, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2DTranspose(512, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    generator.summary()

    epochs = 1  # In practice, use ~100 epochs
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.0001), g_optimizer=keras.optimizers.Adam(learning_rate=0.0001), loss_fn=keras.losses.BinaryCrossentropy())
    history = gan.fit(
        dataset, epochs=epochs, callbacks=[GANMonitor(num_img=NUM_IMG, latent_dim=latent_dim)]
    )

    # test: one step on the batch of 4 images; both losses logged; the callback saved its images
    assert set(history.history) == {"d_loss", "g_loss"} and np.isfinite(list(history.history.values())).all()
    saved = sorted(name for name in os.listdir(".") if name.endswith(".png"))
    assert saved == [f"generated_img_000_{i}.png" for i in range(NUM_IMG)]
    with Image.open(saved[0]) as img:
        assert img.size == (64, 64) and img.mode == "RGB"
