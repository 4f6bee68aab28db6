"""TensorFlow tutorial "Deep Convolutional Generative Adversarial Network" (DCGAN), run on chainrule.

Source: https://www.tensorflow.org/tutorials/generative/dcgan (tensorflow/docs, site/en/tutorials/generative/dcgan.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`; imageio, PIL,
  IPython's display and tensorflow_docs are left out with the GIF they make
  (`display.clear_output` calls become `pass`);
- MNIST (`tf.keras.datasets.mnist.load_data()`) is replaced by 64 synthetic 28x28 images
  (tests/programs/mnist_like.py); BUFFER_SIZE=64 (60000), BATCH_SIZE=32 (256), EPOCHS=1 (50);
- the training loop's `checkpoint.save` comes every 15 epochs, never reached here with one epoch:
  `test_checkpoint` runs the tutorial's checkpoint code (save, then restore the latest) on small
  models after a training step, and checks what it restores;
- images are saved in the test's temporary folder, `plt.show()` left out;
- lines marked `# test:` check what the program produces.
"""

import os
import time

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import pytest

import chainrule as tf
from chainrule.keras import layers

import mnist_like


def test_dcgan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the saved images in a temporary folder
    (train_images, train_labels), (_, _) = mnist_like.load_data(n_train=64)

    train_images = train_images.reshape(train_images.shape[0], 28, 28, 1).astype('float32')
    train_images = (train_images - 127.5) / 127.5  # Normalize the images to [-1, 1]

    BUFFER_SIZE = 64
    BATCH_SIZE = 32

    # Batch and shuffle the data
    train_dataset = tf.data.Dataset.from_tensor_slices(train_images).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)

    def make_generator_model():
        model = tf.keras.Sequential()
        model.add(layers.Dense(7*7*256, use_bias=False, input_shape=(100,)))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())

        model.add(layers.Reshape((7, 7, 256)))
        assert model.output_shape == (None, 7, 7, 256)  # Note: None is the batch size

        model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False))
        assert model.output_shape == (None, 7, 7, 128)
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())

        model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False))
        assert model.output_shape == (None, 14, 14, 64)
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())

        model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False, activation='tanh'))
        assert model.output_shape == (None, 28, 28, 1)

        return model

    generator = make_generator_model()

    noise = tf.random.normal([1, 100])
    generated_image = generator(noise, training=False)

    plt.imshow(generated_image[0, :, :, 0], cmap='gray')

    def make_discriminator_model():
        model = tf.keras.Sequential()
        model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same',
                                         input_shape=[28, 28, 1]))
        model.add(layers.LeakyReLU())
        model.add(layers.Dropout(0.3))

        model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
        model.add(layers.LeakyReLU())
        model.add(layers.Dropout(0.3))

        model.add(layers.Flatten())
        model.add(layers.Dense(1))

        return model

    discriminator = make_discriminator_model()
    decision = discriminator(generated_image)
    print (decision)

    # This method returns a helper function to compute cross entropy loss
    cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
        total_loss = real_loss + fake_loss
        return total_loss

    def generator_loss(fake_output):
        return cross_entropy(tf.ones_like(fake_output), fake_output)

    generator_optimizer = tf.keras.optimizers.Adam(1e-4)
    discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)

    checkpoint_dir = './training_checkpoints'
    checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt")
    checkpoint = tf.train.Checkpoint(generator_optimizer=generator_optimizer,
                                     discriminator_optimizer=discriminator_optimizer,
                                     generator=generator,
                                     discriminator=discriminator)

    EPOCHS = 1
    noise_dim = 100
    num_examples_to_generate = 16

    # You will reuse this seed overtime (so it's easier)
    # to visualize progress in the animated GIF)
    seed = tf.random.normal([num_examples_to_generate, noise_dim])

    # Notice the use of `tf.function`
    # This annotation causes the function to be "compiled".
    @tf.function
    def train_step(images):
        noise = tf.random.normal([BATCH_SIZE, noise_dim])

        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
          generated_images = generator(noise, training=True)

          real_output = discriminator(images, training=True)
          fake_output = discriminator(generated_images, training=True)

          gen_loss = generator_loss(fake_output)
          disc_loss = discriminator_loss(real_output, fake_output)

        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)

        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))

    def train(dataset, epochs):
      for epoch in range(epochs):
        start = time.time()

        for image_batch in dataset:
          train_step(image_batch)

        # Produce images for the GIF as you go
        pass  # test: display.clear_output(wait=True)
        generate_and_save_images(generator,
                                 epoch + 1,
                                 seed)

        # Save the model every 15 epochs
        if (epoch + 1) % 15 == 0:
          checkpoint.save(file_prefix = checkpoint_prefix)

        print ('Time for epoch {} is {} sec'.format(epoch + 1, time.time()-start))

      # Generate after the final epoch
      pass  # test: display.clear_output(wait=True)
      generate_and_save_images(generator,
                               epochs,
                               seed)

    def generate_and_save_images(model, epoch, test_input):
      # Notice `training` is set to False.
      # This is so all layers run in inference mode (batchnorm).
      predictions = model(test_input, training=False)

      fig = plt.figure(figsize=(4, 4))

      for i in range(predictions.shape[0]):
          plt.subplot(4, 4, i+1)
          plt.imshow(predictions[i, :, :, 0] * 127.5 + 127.5, cmap='gray')
          plt.axis('off')

      plt.savefig('image_at_epoch_{:04d}.png'.format(epoch))
      plt.close()  # test: instead of plt.show()

    train(train_dataset, EPOCHS)

    assert sorted(p.name for p in tmp_path.glob("image_at_epoch_*.png")) == ["image_at_epoch_0001.png"]  # test
    assert generator_optimizer.iterations.numpy() == 2 == discriminator_optimizer.iterations.numpy()  # test
    assert generator(seed, training=False).shape == (16, 28, 28, 1)  # test

    checkpoint.restore(tf.train.latest_checkpoint(checkpoint_dir))
    assert tf.train.latest_checkpoint(checkpoint_dir) is None  # test: no checkpoint in one epoch


def test_checkpoint(tmp_path):
    generator_optimizer = tf.keras.optimizers.Adam(1e-4)
    discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)
    generator = tf.keras.Sequential([layers.Dense(4, input_shape=(100,))])
    discriminator = tf.keras.Sequential([layers.Dense(1, input_shape=(4,))])
    checkpoint_dir = str(tmp_path / 'training_checkpoints')
    checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt")
    checkpoint = tf.train.Checkpoint(generator_optimizer=generator_optimizer,
                                     discriminator_optimizer=discriminator_optimizer,
                                     generator=generator,
                                     discriminator=discriminator)
    noise = tf.random.normal([8, 100])  # test: one training step, so that Adam has state to save
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:  # test
        gen_loss = tf.reduce_mean(discriminator(generator(noise)))  # test
        disc_loss = -gen_loss  # test
    generator_optimizer.apply_gradients(zip(gen_tape.gradient(gen_loss, generator.trainable_variables),  # test
                                            generator.trainable_variables))  # test
    disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)  # test
    discriminator_optimizer.apply_gradients(zip(disc_grads, discriminator.trainable_variables))  # test
    saved = [v.numpy().copy() for v in generator.weights + discriminator.weights]  # test
    saved_state = generator_optimizer.get_state()  # test

    checkpoint.save(file_prefix = checkpoint_prefix)

    for v in generator.weights + discriminator.weights:  # test: training goes on and changes everything
        v.assign(tf.zeros_like(v))  # test
    generator_optimizer.set_state({k: v * 0 for k, v in saved_state.items()})  # test
    assert sorted(os.listdir(checkpoint_dir)) == ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index"]  # test

    status = checkpoint.restore(tf.train.latest_checkpoint(checkpoint_dir))
    status.assert_consumed()  # test
    assert int(checkpoint.save_counter) == 1  # test
    for v, value in zip(generator.weights + discriminator.weights, saved):  # test
        np.testing.assert_array_equal(v.numpy(), value)  # test
    for key, value in generator_optimizer.get_state().items():  # test
        np.testing.assert_array_equal(value, saved_state[key])  # test
