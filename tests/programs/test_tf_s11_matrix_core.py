"""TensorFlow Core API guide "Matrix approximation with Core APIs" (SVD, low-rank image compression), run on
chainrule.

Source: https://www.tensorflow.org/guide/core/matrix_core (tensorflow/docs, site/en/guide/core/matrix_core.ipynb).

The guide's code is kept as written, except the import line (`import tensorflow as tf` -> `import chainrule as tf`)
and its download: `requests.get(img_link, stream=True).raw` gives a synthetic 192x256 JPEG photo (smooth colour
gradients and a few discs, so that a few singular values hold most of the energy) instead of the corgi picture;
matplotlib draws on the Agg backend. Lines marked `# test:` check what it produces.
"""

import io
import types

import matplotlib

matplotlib.use("Agg")

import numpy as np
import PIL.Image
import pytest


def _photo() -> io.BytesIO:
    """test: a JPEG of smooth gradients and discs (what the guide downloads is a photo)."""
    rows, cols = np.mgrid[:192, :256]
    image = np.stack([rows / 192 * 200, cols / 256 * 220, (rows + cols) / 448 * 180], axis=-1)
    for r, c, radius in ((60, 80, 30), (120, 180, 40), (150, 60, 20)):
        image[(rows - r) ** 2 + (cols - c) ** 2 < radius ** 2] = (240, 200, 40)
    buffer = io.BytesIO()
    PIL.Image.fromarray(image.astype(np.uint8)).save(buffer, format="JPEG")
    buffer.seek(0)
    return buffer


requests = types.SimpleNamespace(get=lambda url, stream=False: types.SimpleNamespace(raw=_photo()))  # test


@pytest.mark.slow
def test_matrix_core(capsys):
    import chainrule as tf
    import matplotlib
    from matplotlib.image import imread
    from matplotlib import pyplot as plt
    # test: `import requests` (no network here): the module-level `requests` stand-in
    # Preset Matplotlib figure sizes.
    matplotlib.rcParams['figure.figsize'] = [16, 9]

    print(tf.__version__)

    A = tf.random.uniform(shape=[40,30])
    # Compute the SVD factorization
    s, U, V = tf.linalg.svd(A)
    # Define Sigma and V Transpose
    S = tf.linalg.diag(s)
    V_T = tf.transpose(V)
    # Reconstruct the original matrix
    A_svd = U@S@V_T
    # Visualize 
    plt.bar(range(len(s)), s);
    plt.xlabel("Singular value rank")
    plt.ylabel("Singular value")
    plt.title("Bar graph of singular values");

    A_svd = tf.einsum('s,us,vs -> uv',s,U,V)
    print('\nReconstructed Matrix, A_svd', A_svd)

    def rank_r_approx(s, U, V, r, verbose=False):
      # Compute the matrices necessary for a rank-r approximation
      s_r, U_r, V_r = s[..., :r], U[..., :, :r], V[..., :, :r] # ... implies any number of extra batch axes
      # Compute the low-rank approximation and its size
      A_r = tf.einsum('...s,...us,...vs->...uv',s_r,U_r,V_r)
      A_r_size = tf.size(U_r) + tf.size(s_r) + tf.size(V_r)
      if verbose:
        print(f"Approximation Size: {A_r_size}")
      return A_r, A_r_size

    def viz_approx(A, A_r):
      # Plot A, A_r, and A - A_r
      vmin, vmax = 0, tf.reduce_max(A)
      fig, ax = plt.subplots(1,3)
      mats = [A, A_r, abs(A - A_r)]
      titles = ['Original A', 'Approximated A_r', 'Error |A - A_r|']
      for i, (mat, title) in enumerate(zip(mats, titles)):
        ax[i].pcolormesh(mat, vmin=vmin, vmax=vmax)
        ax[i].set_title(title)
        ax[i].axis('off')

    print(f"Original Size of A: {tf.size(A)}")
    s, U, V = tf.linalg.svd(A)

    # Rank-15 approximation
    A_15, A_15_size = rank_r_approx(s, U, V, 15, verbose = True)
    viz_approx(A, A_15)

    # Rank-3 approximation
    A_3, A_3_size = rank_r_approx(s, U, V, 3, verbose = True)
    viz_approx(A, A_3)

    img_link = "https://imagen.research.google/main_gallery_images/a-photo-of-a-corgi-dog-riding-a-bike-in-times-square.jpg"
    img_path = requests.get(img_link, stream=True).raw
    I = imread(img_path, 0)
    print("Input Image Shape:", I.shape)

    def show_img(I):
      # Display the image in matplotlib
      img = plt.imshow(I)
      plt.axis('off')
      return

    show_img(I)

    def compress_image(I, r, verbose=False):
      # Compress an image with the SVD given a rank 
      I_size = tf.size(I)
      print(f"Original size of image: {I_size}")
      # Compute SVD of image
      I = tf.convert_to_tensor(I)/255
      I_batched = tf.transpose(I, [2, 0, 1]) # einops.rearrange(I, 'h w c -> c h w')
      s, U, V = tf.linalg.svd(I_batched)
      # Compute low-rank approximation of image across each RGB channel
      I_r, I_r_size = rank_r_approx(s, U, V, r)
      I_r = tf.transpose(I_r, [1, 2, 0]) # einops.rearrange(I_r, 'c h w -> h w c')
      I_r_prop = (I_r_size / I_size)
      if verbose:
        # Display compressed image and attributes
        print(f"Number of singular values used in compression: {r}")
        print(f"Compressed image size: {I_r_size}")
        print(f"Proportion of original size: {I_r_prop:.3f}")
        ax_1 = plt.subplot(1,2,1)
        show_img(tf.clip_by_value(I_r,0.,1.))
        ax_1.set_title("Approximated image")
        ax_2 = plt.subplot(1,2,2)
        show_img(tf.clip_by_value(0.5+abs(I-I_r),0.,1.))
        ax_2.set_title("Error")
      return I_r, I_r_prop

    I_100, I_100_prop = compress_image(I, 100, verbose=True)

    I_50, I_50_prop = compress_image(I, 50, verbose=True)

    I_10, I_10_prop = compress_image(I, 10, verbose=True)

    plt.figure(figsize=(11,6))
    plt.plot([100, 50, 10], [I_100_prop, I_50_prop, I_10_prop])
    plt.xlabel("Rank")
    plt.ylabel("Proportion of original image size")
    plt.title("Compression factor vs rank");

    def compress_image_with_factor(I, compression_factor, verbose=False):
      # Returns a compressed image based on a desired compression factor
      m,n,o = I.shape
      r = int((compression_factor * m * n)/(m + n + 1))
      I_r, I_r_prop = compress_image(I, r, verbose=verbose)
      return I_r

    compression_factor = 0.15
    I_r_img = compress_image_with_factor(I, compression_factor, verbose=True)

    def viz_energy(I):
      # Visualize the energy captured based on rank
      # Computing SVD
      I = tf.convert_to_tensor(I)/255
      I_batched = tf.transpose(I, [2, 0, 1]) 
      s, U, V = tf.linalg.svd(I_batched)
      # Plotting average proportion across RGB channels 
      props_rgb = tf.map_fn(lambda x: tf.cumsum(x)/tf.reduce_sum(x), s)
      props_rgb_mean = tf.reduce_mean(props_rgb, axis=0)
      plt.figure(figsize=(11,6))
      plt.plot(range(len(I)), props_rgb_mean, color='k')
      plt.xlabel("Rank / singular value number")
      plt.ylabel("Cumulative proportion of singular values")
      plt.title("RGB-averaged proportion of energy captured by the first 'r' singular values")

    viz_energy(I)

    def compress_image_with_energy(I, energy_factor, verbose=False):
      # Returns a compressed image based on a desired energy factor
      # Computing SVD
      I_rescaled = tf.convert_to_tensor(I)/255
      I_batched = tf.transpose(I_rescaled, [2, 0, 1]) 
      s, U, V = tf.linalg.svd(I_batched)
      # Extracting singular values
      props_rgb = tf.map_fn(lambda x: tf.cumsum(x)/tf.reduce_sum(x), s)
      props_rgb_mean = tf.reduce_mean(props_rgb, axis=0)
      # Find closest r that corresponds to the energy factor
      r = tf.argmin(tf.abs(props_rgb_mean - energy_factor)) + 1
      actual_ef = props_rgb_mean[r]
      I_r, I_r_prop = compress_image(I, r, verbose=verbose)
      print(f"Proportion of energy captured by the first {r} singular values: {actual_ef:.3f}")
      return I_r

    energy_factor = 0.75
    I_r_img = compress_image_with_energy(I, energy_factor, verbose=True)

    s, U, V = tf.linalg.svd(A)
    A_10, A_10_size = rank_r_approx(s, U, V, 10)
    squared_norm = tf.norm(A - A_10)**2
    s_squared_sum = tf.reduce_sum(s[10:]**2)
    print(f"Squared Frobenius norm: {squared_norm:.3f}")
    print(f"Sum of squared singular values left out: {s_squared_sum:.3f}")

    out = capsys.readouterr().out  # test
    assert "Input Image Shape: (192, 256, 3)" in out  # test
    error = tf.reduce_sum((A - A_3) ** 2)  # test: the guide's check that the error is the left-out energy
    np.testing.assert_allclose(float(error), float(tf.reduce_sum(s[3:] ** 2)), rtol=1e-3)  # test
