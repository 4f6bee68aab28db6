"""TensorFlow tutorial "Intro to Autoencoders", run on chainrule.

Source: https://www.tensorflow.org/tutorials/generative/autoencoder
(tensorflow/docs, site/en/tutorials/generative/autoencoder.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras import layers, losses` -> `from chainrule.keras import layers, losses`,
  `from tensorflow.keras.models import Model` -> `from chainrule.keras.models import Model`,
  `from tensorflow.keras.datasets import fashion_mnist` -> `import mnist_like as fashion_mnist`
  (128 training and 32 test synthetic 28x28 images, tests/programs/mnist_like.py);
- the ECG CSV (`pd.read_csv`, pandas) is replaced by 300 synthetic rows of 140 values and a 0/1
  label (normal rhythms a slower sine than anomalous ones), split 240/60 by a permutation instead
  of sklearn's `train_test_split`; sklearn's accuracy/precision/recall are left out (the
  accuracy is computed with NumPy);
- `epochs=10` and `epochs=20` are 2 and 5; the plots draw on matplotlib's Agg backend, without
  `plt.show()`;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np
import chainrule as tf

from chainrule.keras import layers, losses
from chainrule.keras.models import Model
import mnist_like as fashion_mnist


def ecg_like(n=300, seed=0):
    """test: stands in for pd.read_csv('.../ecg.csv').values: 140 values then the label per row."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 6, 140)
    labels = (rng.random(n) < 0.6).astype(float)
    data = np.sin(t[None] * (1 + labels[:, None])) + rng.normal(0, 0.1, (n, 140))
    return np.concatenate([data, labels[:, None]], axis=1)


def test_basic_autoencoder():
    (x_train, _), (x_test, _) = fashion_mnist.load_data(n_train=128, n_test=32)

    x_train = x_train.astype('float32') / 255.
    x_test = x_test.astype('float32') / 255.

    print (x_train.shape)
    print (x_test.shape)

    class Autoencoder(Model):
      def __init__(self, latent_dim, shape):
        super(Autoencoder, self).__init__()
        self.latent_dim = latent_dim
        self.shape = shape
        self.encoder = tf.keras.Sequential([
          layers.Flatten(),
          layers.Dense(latent_dim, activation='relu'),
        ])
        self.decoder = tf.keras.Sequential([
          layers.Dense(tf.math.reduce_prod(shape).numpy(), activation='sigmoid'),
          layers.Reshape(shape)
        ])

      def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded

    shape = x_test.shape[1:]
    latent_dim = 64
    autoencoder = Autoencoder(latent_dim, shape)

    autoencoder.compile(optimizer='adam', loss=losses.MeanSquaredError())

    history = autoencoder.fit(x_train, x_train,
                    epochs=2,
                    shuffle=True,
                    validation_data=(x_test, x_test))
    assert history.history["loss"][-1] < history.history["loss"][0]  # test

    encoded_imgs = autoencoder.encoder(x_test).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert encoded_imgs.shape == (32, 64) and decoded_imgs.shape == (32, 28, 28)  # test

    n = 10
    plt.figure(figsize=(20, 4))
    for i in range(n):
      ax = plt.subplot(2, n, i + 1)
      plt.imshow(x_test[i])
      plt.title("original")
      plt.gray()
      ax = plt.subplot(2, n, i + 1 + n)
      plt.imshow(decoded_imgs[i])
      plt.title("reconstructed")
      plt.gray()
    plt.close()


def test_image_denoising():
    (x_train, _), (x_test, _) = fashion_mnist.load_data(n_train=128, n_test=32)

    x_train = x_train.astype('float32') / 255.
    x_test = x_test.astype('float32') / 255.

    x_train = x_train[..., tf.newaxis]
    x_test = x_test[..., tf.newaxis]

    print(x_train.shape)

    noise_factor = 0.2
    x_train_noisy = x_train + noise_factor * tf.random.normal(shape=x_train.shape)
    x_test_noisy = x_test + noise_factor * tf.random.normal(shape=x_test.shape)

    x_train_noisy = tf.clip_by_value(x_train_noisy, clip_value_min=0., clip_value_max=1.)
    x_test_noisy = tf.clip_by_value(x_test_noisy, clip_value_min=0., clip_value_max=1.)

    n = 10
    plt.figure(figsize=(20, 2))
    for i in range(n):
        ax = plt.subplot(1, n, i + 1)
        plt.title("original + noise")
        plt.imshow(tf.squeeze(x_test_noisy[i]))
        plt.gray()
    plt.close()

    class Denoise(Model):
      def __init__(self):
        super(Denoise, self).__init__()
        self.encoder = tf.keras.Sequential([
          layers.Input(shape=(28, 28, 1)),
          layers.Conv2D(16, (3, 3), activation='relu', padding='same', strides=2),
          layers.Conv2D(8, (3, 3), activation='relu', padding='same', strides=2)])

        self.decoder = tf.keras.Sequential([
          layers.Conv2DTranspose(8, kernel_size=3, strides=2, activation='relu', padding='same'),
          layers.Conv2DTranspose(16, kernel_size=3, strides=2, activation='relu', padding='same'),
          layers.Conv2D(1, kernel_size=(3, 3), activation='sigmoid', padding='same')])

      def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded

    autoencoder = Denoise()

    autoencoder.compile(optimizer='adam', loss=losses.MeanSquaredError())

    autoencoder.fit(x_train_noisy, x_train,
                    epochs=2,
                    shuffle=True,
                    validation_data=(x_test_noisy, x_test))

    autoencoder.encoder.summary()
    autoencoder.decoder.summary()

    encoded_imgs = autoencoder.encoder(x_test_noisy).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert encoded_imgs.shape == (32, 7, 7, 8) and decoded_imgs.shape == (32, 28, 28, 1)  # test

    plt.imshow(tf.squeeze(decoded_imgs[0]))
    plt.close()


def test_anomaly_detection():
    raw_data = ecg_like()

    labels = raw_data[:, -1]
    data = raw_data[:, 0:-1]

    idx = np.random.default_rng(21).permutation(len(data))  # test: instead of train_test_split
    train_data, test_data = data[idx[:240]], data[idx[240:]]
    train_labels, test_labels = labels[idx[:240]], labels[idx[240:]]

    min_val = tf.reduce_min(train_data)
    max_val = tf.reduce_max(train_data)

    train_data = (train_data - min_val) / (max_val - min_val)
    test_data = (test_data - min_val) / (max_val - min_val)

    train_data = tf.cast(train_data, tf.float32)
    test_data = tf.cast(test_data, tf.float32)

    train_labels = train_labels.astype(bool)
    test_labels = test_labels.astype(bool)

    normal_train_data = train_data[train_labels]
    normal_test_data = test_data[test_labels]

    anomalous_train_data = train_data[~train_labels]
    anomalous_test_data = test_data[~test_labels]

    plt.grid()
    plt.plot(np.arange(140), normal_train_data[0])
    plt.title("A Normal ECG")
    plt.close()

    class AnomalyDetector(Model):
      def __init__(self):
        super(AnomalyDetector, self).__init__()
        self.encoder = tf.keras.Sequential([
          layers.Dense(32, activation="relu"),
          layers.Dense(16, activation="relu"),
          layers.Dense(8, activation="relu")])

        self.decoder = tf.keras.Sequential([
          layers.Dense(16, activation="relu"),
          layers.Dense(32, activation="relu"),
          layers.Dense(140, activation="sigmoid")])

      def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded

    autoencoder = AnomalyDetector()

    autoencoder.compile(optimizer='adam', loss='mae')

    history = autoencoder.fit(normal_train_data, normal_train_data,
              epochs=5,
              batch_size=512,
              validation_data=(test_data, test_data),
              shuffle=True)
    assert len(history.history["val_loss"]) == 5  # test

    encoded_data = autoencoder.encoder(normal_test_data).numpy()
    decoded_data = autoencoder.decoder(encoded_data).numpy()

    plt.plot(normal_test_data[0], 'b')
    plt.plot(decoded_data[0], 'r')
    plt.fill_between(np.arange(140), decoded_data[0], normal_test_data[0], color='lightcoral')
    plt.close()

    reconstructions = autoencoder.predict(normal_train_data)
    train_loss = tf.keras.losses.mae(reconstructions, normal_train_data)

    plt.hist(train_loss[None,:], bins=50)
    plt.close()

    threshold = np.mean(train_loss) + np.std(train_loss)
    print("Threshold: ", threshold)

    reconstructions = autoencoder.predict(anomalous_test_data)
    test_loss = tf.keras.losses.mae(reconstructions, anomalous_test_data)

    plt.hist(test_loss[None, :], bins=50)
    plt.close()

    def predict(model, data, threshold):
      reconstructions = model(data)
      loss = tf.keras.losses.mae(reconstructions, data)
      return tf.math.less(loss, threshold)

    preds = predict(autoencoder, test_data, threshold)
    assert preds.shape == (60,) and preds.dtype == bool  # test
    print("Accuracy = {}".format(np.mean(preds.numpy() == test_labels)))  # test: instead of sklearn
