"""TensorFlow tutorial "Adversarial example using FGSM", run on chainrule.

Source: https://www.tensorflow.org/tutorials/generative/adversarial_fgsm
(tensorflow/docs, site/en/tutorials/generative/adversarial_fgsm.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- `MobileNetV2(include_top=True, weights='imagenet')` (a 14 MB download) is `weights=None`: the same architecture
  with its random initial weights, so the labels it gives are not the tutorial's; ImageNet's class index that
  `decode_predictions` downloads is replaced by synthetic names (tests/programs/imagenet_like.py);
- the photograph (`tf.keras.utils.get_file('YellowLabradorLooking_new.jpg', ...)`) is a synthetic JPEG of its size
  (577 x 700);
- plots go to matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pytest

import chainrule as tf
import matplotlib as mpl
import matplotlib.pyplot as plt

import imagenet_like


def test_adversarial_fgsm(tmp_path, monkeypatch, capsys):
    imagenet_like.use_class_index(monkeypatch)  # test: instead of the class index download

    mpl.rcParams['figure.figsize'] = (8, 8)
    mpl.rcParams['axes.grid'] = False

    pretrained_model = tf.keras.applications.MobileNetV2(include_top=True,
                                                         weights=None)  # test: weights='imagenet'
    pretrained_model.trainable = False

    # ImageNet labels
    decode_predictions = tf.keras.applications.mobilenet_v2.decode_predictions

    # Helper function to preprocess the image so that it can be inputted in MobileNetV2
    def preprocess(image):
      image = tf.cast(image, tf.float32)
      image = tf.image.resize(image, (224, 224))
      image = tf.keras.applications.mobilenet_v2.preprocess_input(image)
      image = image[None, ...]
      return image

    # Helper function to extract labels from probability vector
    def get_imagenet_label(probs):
      return decode_predictions(probs, top=1)[0][0]

    image_path = imagenet_like.photo(tmp_path / 'YellowLabradorLooking_new.jpg')  # test: instead of get_file
    image_raw = tf.io.read_file(image_path)
    image = tf.image.decode_image(image_raw)

    image = preprocess(image)
    image_probs = pretrained_model.predict(image)

    plt.figure()
    plt.imshow(image[0] * 0.5 + 0.5)  # To change [-1, 1] to [0,1]
    _, image_class, class_confidence = get_imagenet_label(image_probs)
    plt.title('{} : {:.2f}% Confidence'.format(image_class, class_confidence*100))
    plt.show()

    loss_object = tf.keras.losses.CategoricalCrossentropy()

    def create_adversarial_pattern(input_image, input_label):
      with tf.GradientTape() as tape:
        tape.watch(input_image)
        prediction = pretrained_model(input_image)
        loss = loss_object(input_label, prediction)

      # Get the gradients of the loss w.r.t to the input image.
      gradient = tape.gradient(loss, input_image)
      # Get the sign of the gradients to create the perturbation
      signed_grad = tf.sign(gradient)
      return signed_grad

    # Get the input label of the image.
    labrador_retriever_index = 208
    label = tf.one_hot(labrador_retriever_index, image_probs.shape[-1])
    label = tf.reshape(label, (1, image_probs.shape[-1]))

    perturbations = create_adversarial_pattern(image, label)
    plt.imshow(perturbations[0] * 0.5 + 0.5);  # To change [-1, 1] to [0,1]

    def display_images(image, description):
      _, label, confidence = get_imagenet_label(pretrained_model.predict(image))
      plt.figure()
      plt.imshow(image[0]*0.5+0.5)
      plt.title('{} \n {} : {:.2f}% Confidence'.format(description,
                                                       label, confidence*100))
      plt.show()
      shown.append((label, confidence))  # test

    shown = []  # test
    epsilons = [0, 0.01, 0.1, 0.15]
    descriptions = [('Epsilon = {:0.3f}'.format(eps) if eps else 'Input')
                    for eps in epsilons]

    for i, eps in enumerate(epsilons):
      adv_x = image + eps*perturbations
      adv_x = tf.clip_by_value(adv_x, -1, 1)
      display_images(adv_x, descriptions[i])
    plt.close('all')  # test

    assert image.shape == (1, 224, 224, 3) and float(tf.reduce_min(image)) >= -1  # test
    assert image_probs.shape == (1, 1000) and image_class.startswith('imagenet_class_')  # test
    signs = np.unique(perturbations.numpy())  # test
    assert set(signs.tolist()) <= {-1.0, 0.0, 1.0} and len(signs) >= 2  # test: the gradient's signs
    assert shown[0][0] == image_class  # test: epsilon 0 is the input itself
