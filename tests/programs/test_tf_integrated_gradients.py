"""TensorFlow tutorial "Integrated gradients", run on chainrule.

Source: https://www.tensorflow.org/tutorials/interpretability/integrated_gradients
(tensorflow/docs, site/en/tutorials/interpretability/integrated_gradients.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- tensorflow_hub is not installed and its Inception V1 classifier is a download: `hub.KerasLayer(handle=...)` is a
  stand-in layer with the same contract (224 x 224 RGB images in [0, 1] in, 1001 ImageNet logits out) computed by a
  small untrained convolutional network, so the classes it predicts are not the tutorial's;
- the downloads that `tf.keras.utils.get_file` makes (ImageNetLabels.txt and the two photographs) are files put
  beforehand where it looks for them (`KERAS_HOME` set to a temporary folder): synthetic labels and JPEGs
  (tests/programs/imagenet_like.py), so the program's own get_file calls find them;
- `m_steps=240` is 60 (marked); plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import types

import numpy as np
import pytest

import chainrule as tf
import imagenet_like

M_STEPS = 60  # test: 240 in the tutorial


class _InceptionLike(tf.keras.layers.Layer):
    """test: stands in for hub.KerasLayer('https://tfhub.dev/google/imagenet/inception_v1/classification/4')."""

    def __init__(self, handle, trainable=False, name=None):
        super().__init__(name=name, trainable=trainable)
        self.handle = handle
        self.net = tf.keras.Sequential([
            tf.keras.layers.Conv2D(16, 7, strides=4, activation='relu'),
            tf.keras.layers.Conv2D(32, 3, strides=2, activation='relu'),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(1001)])

    def call(self, images):
        return self.net(images)


hub = types.SimpleNamespace(KerasLayer=_InceptionLike)  # test: instead of `import tensorflow_hub as hub`


def test_integrated_gradients(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))  # test: get_file finds the files put here
    (tmp_path / 'datasets').mkdir()
    imagenet_like.labels_file(tmp_path / 'datasets' / 'ImageNetLabels.txt')
    imagenet_like.photo(tmp_path / 'datasets' / 'Fireboat', size=(466, 700), seed=1)
    imagenet_like.photo(tmp_path / 'datasets' / 'Giant Panda', size=(597, 800), seed=2)

    import matplotlib.pylab as plt
    import numpy as np
    import chainrule as tf

    model = tf.keras.Sequential([
        hub.KerasLayer(
            name='inception_v1',
            handle='https://tfhub.dev/google/imagenet/inception_v1/classification/4',
            trainable=False),
    ])
    model.build([None, 224, 224, 3])
    model.summary()

    def load_imagenet_labels(file_path):
      labels_file = tf.keras.utils.get_file('ImageNetLabels.txt', file_path)
      with open(labels_file) as reader:
        f = reader.read()
        labels = f.splitlines()
      return np.array(labels)

    imagenet_labels = load_imagenet_labels('https://storage.googleapis.com/download.tensorflow.org/data/ImageNetLabels.txt')

    def read_image(file_name):
      image = tf.io.read_file(file_name)
      image = tf.io.decode_jpeg(image, channels=3)
      image = tf.image.convert_image_dtype(image, tf.float32)
      image = tf.image.resize_with_pad(image, target_height=224, target_width=224)
      return image

    img_url = {
        'Fireboat': 'http://storage.googleapis.com/download.tensorflow.org/example_images/San_Francisco_fireboat_showing_off.jpg',
        'Giant Panda': 'http://storage.googleapis.com/download.tensorflow.org/example_images/Giant_Panda_2.jpeg',
    }

    img_paths = {name: tf.keras.utils.get_file(name, url) for (name, url) in img_url.items()}
    img_name_tensors = {name: read_image(img_path) for (name, img_path) in img_paths.items()}

    plt.figure(figsize=(8, 8))
    for n, (name, img_tensors) in enumerate(img_name_tensors.items()):
      ax = plt.subplot(1, 2, n+1)
      ax.imshow(img_tensors)
      ax.set_title(name)
      ax.axis('off')
    plt.tight_layout()

    def top_k_predictions(img, k=3):
      image_batch = tf.expand_dims(img, 0)
      predictions = model(image_batch)
      probs = tf.nn.softmax(predictions, axis=-1)
      top_probs, top_idxs = tf.math.top_k(input=probs, k=k)
      top_labels = imagenet_labels[tuple(top_idxs)]
      return top_labels, top_probs[0]

    for (name, img_tensor) in img_name_tensors.items():
      plt.imshow(img_tensor)
      plt.title(name, fontweight='bold')
      plt.axis('off')
      plt.show()

      pred_label, pred_prob = top_k_predictions(img_tensor)
      for label, prob in zip(pred_label, pred_prob):
        print(f'{label}: {prob:0.1%}')

    def f(x):
      """A simplified model function."""
      return tf.where(x < 0.8, x, 0.8)

    def interpolated_path(x):
      """A straight line path."""
      return tf.zeros_like(x)

    x = tf.linspace(start=0.0, stop=1.0, num=6)
    y = f(x)

    #@title
    fig = plt.figure(figsize=(12, 5))
    ax0 = fig.add_subplot(121)
    ax0.plot(x, f(x), marker='o')
    ax0.set_title('Gradients saturate over F(x)', fontweight='bold')
    ax0.text(0.2, 0.5, 'Gradients > 0 = \n x is important')
    ax0.text(0.7, 0.85, 'Gradients = 0 \n x not important')
    ax0.set_yticks(tf.range(0, 1.5, 0.5))
    ax0.set_xticks(tf.range(0, 1.5, 0.5))
    ax0.set_ylabel('F(x) - model true class predicted probability')
    ax0.set_xlabel('x - (pixel value)')

    ax1 = fig.add_subplot(122)
    ax1.plot(x, f(x), marker='o')
    ax1.plot(x, interpolated_path(x), marker='>')
    ax1.set_title('IG intuition', fontweight='bold')
    ax1.text(0.25, 0.1, 'Accumulate gradients along path')
    ax1.set_ylabel('F(x) - model true class predicted probability')
    ax1.set_xlabel('x - (pixel value)')
    ax1.set_yticks(tf.range(0, 1.5, 0.5))
    ax1.set_xticks(tf.range(0, 1.5, 0.5))
    ax1.annotate('Baseline', xy=(0.0, 0.0), xytext=(0.0, 0.2),
                 arrowprops=dict(facecolor='black', shrink=0.1))
    ax1.annotate('Input', xy=(1.0, 0.0), xytext=(0.95, 0.2),
                 arrowprops=dict(facecolor='black', shrink=0.1))
    plt.show();

    baseline = tf.zeros(shape=(224,224,3))

    plt.imshow(baseline)
    plt.title("Baseline")
    plt.axis('off')
    plt.show()

    m_steps=50
    alphas = tf.linspace(start=0.0, stop=1.0, num=m_steps+1) # Generate m_steps intervals for integral_approximation() below.

    def interpolate_images(baseline,
                           image,
                           alphas):
      alphas_x = alphas[:, tf.newaxis, tf.newaxis, tf.newaxis]
      baseline_x = tf.expand_dims(baseline, axis=0)
      input_x = tf.expand_dims(image, axis=0)
      delta = input_x - baseline_x
      images = baseline_x +  alphas_x * delta
      return images

    interpolated_images = interpolate_images(
        baseline=baseline,
        image=img_name_tensors['Fireboat'],
        alphas=alphas)

    fig = plt.figure(figsize=(20, 20))

    i = 0
    for alpha, image in zip(alphas[0::10], interpolated_images[0::10]):
      i += 1
      plt.subplot(1, len(alphas[0::10]), i)
      plt.title(f'alpha: {alpha:.1f}')
      plt.imshow(image)
      plt.axis('off')

    plt.tight_layout();

    def compute_gradients(images, target_class_idx):
      with tf.GradientTape() as tape:
        tape.watch(images)
        logits = model(images)
        probs = tf.nn.softmax(logits, axis=-1)[:, target_class_idx]
      return tape.gradient(probs, images)

    path_gradients = compute_gradients(
        images=interpolated_images,
        target_class_idx=555)

    print(path_gradients.shape)

    pred = model(interpolated_images)
    pred_proba = tf.nn.softmax(pred, axis=-1)[:, 555]

    #@title
    plt.figure(figsize=(10, 4))
    ax1 = plt.subplot(1, 2, 1)
    ax1.plot(alphas, pred_proba)
    ax1.set_title('Target class predicted probability over alpha')
    ax1.set_ylabel('model p(target class)')
    ax1.set_xlabel('alpha')
    ax1.set_ylim([0, 1])

    ax2 = plt.subplot(1, 2, 2)
    # Average across interpolation steps
    average_grads = tf.reduce_mean(path_gradients, axis=[1, 2, 3])
    # Normalize gradients to 0 to 1 scale. E.g., (x - min(x))/(max(x)-min(x))
    average_grads_norm = (average_grads-tf.math.reduce_min(average_grads))/(tf.math.reduce_max(average_grads)-tf.reduce_min(average_grads))
    ax2.plot(alphas, average_grads_norm)
    ax2.set_title('Average pixel gradients (normalized) over alpha')
    ax2.set_ylabel('Average pixel gradients')
    ax2.set_xlabel('alpha')
    ax2.set_ylim([0, 1]);

    def integral_approximation(gradients):
      # riemann_trapezoidal
      grads = (gradients[:-1] + gradients[1:]) / tf.constant(2.0)
      integrated_gradients = tf.math.reduce_mean(grads, axis=0)
      return integrated_gradients

    ig = integral_approximation(
        gradients=path_gradients)

    print(ig.shape)

    def integrated_gradients(baseline,
                             image,
                             target_class_idx,
                             m_steps=50,
                             batch_size=32):
      # Generate alphas.
      alphas = tf.linspace(start=0.0, stop=1.0, num=m_steps+1)

      # Collect gradients.    
      gradient_batches = []

      # Iterate alphas range and batch computation for speed, memory efficiency, and scaling to larger m_steps.
      for alpha in tf.range(0, len(alphas), batch_size):
        from_ = alpha
        to = tf.minimum(from_ + batch_size, len(alphas))
        alpha_batch = alphas[from_:to]

        gradient_batch = one_batch(baseline, image, alpha_batch, target_class_idx)
        gradient_batches.append(gradient_batch)

      # Concatenate path gradients together row-wise into single tensor.
      total_gradients = tf.concat(gradient_batches, axis=0)

      # Integral approximation through averaging gradients.
      avg_gradients = integral_approximation(gradients=total_gradients)

      # Scale integrated gradients with respect to input.
      integrated_gradients = (image - baseline) * avg_gradients

      return integrated_gradients

    @tf.function
    def one_batch(baseline, image, alpha_batch, target_class_idx):
        # Generate interpolated inputs between baseline and input.
        interpolated_path_input_batch = interpolate_images(baseline=baseline,
                                                           image=image,
                                                           alphas=alpha_batch)

        # Compute gradients between model outputs and interpolated inputs.
        gradient_batch = compute_gradients(images=interpolated_path_input_batch,
                                           target_class_idx=target_class_idx)
        return gradient_batch

    ig_attributions = integrated_gradients(baseline=baseline,
                                           image=img_name_tensors['Fireboat'],
                                           target_class_idx=555,
                                           m_steps=M_STEPS)  # test: M_STEPS

    print(ig_attributions.shape)

    #@title
    def plot_img_attributions(baseline,
                              image,
                              target_class_idx,
                              m_steps=50,
                              cmap=None,
                              overlay_alpha=0.4):

      attributions = integrated_gradients(baseline=baseline,
                                          image=image,
                                          target_class_idx=target_class_idx,
                                          m_steps=m_steps)

      # Sum of the attributions across color channels for visualization.
      # The attribution mask shape is a grayscale image with height and width
      # equal to the original image.
      attribution_mask = tf.reduce_sum(tf.math.abs(attributions), axis=-1)

      fig, axs = plt.subplots(nrows=2, ncols=2, squeeze=False, figsize=(8, 8))

      axs[0, 0].set_title('Baseline image')
      axs[0, 0].imshow(baseline)
      axs[0, 0].axis('off')

      axs[0, 1].set_title('Original image')
      axs[0, 1].imshow(image)
      axs[0, 1].axis('off')

      axs[1, 0].set_title('Attribution mask')
      axs[1, 0].imshow(attribution_mask, cmap=cmap)
      axs[1, 0].axis('off')

      axs[1, 1].set_title('Overlay')
      axs[1, 1].imshow(attribution_mask, cmap=cmap)
      axs[1, 1].imshow(image, alpha=overlay_alpha)
      axs[1, 1].axis('off')

      plt.tight_layout()
      return fig

    _ = plot_img_attributions(image=img_name_tensors['Fireboat'],
                              baseline=baseline,
                              target_class_idx=555,
                              m_steps=M_STEPS,  # test: M_STEPS
                              cmap=plt.cm.inferno,
                              overlay_alpha=0.4)

    _ = plot_img_attributions(image=img_name_tensors['Giant Panda'],
                              baseline=baseline,
                              target_class_idx=389,
                              m_steps=55,
                              cmap=plt.cm.viridis,
                              overlay_alpha=0.5)

    plt.close('all')  # test
    out = capsys.readouterr().out  # test
    assert '(51, 224, 224, 3)' in out and '(224, 224, 3)' in out  # test: path gradients, attributions
    assert imagenet_labels.shape == (1001,) and imagenet_labels[0] == 'background'  # test
    assert img_name_tensors['Fireboat'].shape == (224, 224, 3)  # test: resized with padding
    # test: completeness: the attributions add up to F(image) - F(baseline) (up to the Riemann sum's error)
    def target_prob(image):  # test
      return float(tf.nn.softmax(model(image[tf.newaxis]), axis=-1)[0, 555])  # test
    total = float(tf.reduce_sum(ig_attributions))  # test
    expected = target_prob(img_name_tensors['Fireboat']) - target_prob(baseline)  # test
    assert total == pytest.approx(expected, rel=0.1, abs=1e-6)  # test
