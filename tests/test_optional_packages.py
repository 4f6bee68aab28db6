"""Importing chainrule and training needs none of the optional packages (the README's first command installs only
numpy, matplotlib, pillow, numba and threadpoolctl); a feature that needs one says what to install."""
import subprocess
import sys
import textwrap

OPTIONAL = ["tensorboard", "tensorboardX", "google.protobuf", "google", "h5py", "torch", "scipy", "pandas", "mpi4py"]


def test_import_and_fit_without_optional_packages_and_a_clear_error_for_tfrecord(tmp_path):
    program = textwrap.dedent(f"""
        import sys
        for name in {OPTIONAL!r}:
            sys.modules[name] = None  # as if not installed: importing it raises ImportError
        import numpy as np
        import chainrule as tf
        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
        model.compile("adam", "mse")
        model.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)
        for make in (lambda: tf.train.Example(), lambda: tf.io.TFRecordWriter("unused.tfrecord")):
            try:
                make()
            except ImportError as error:
                assert "pip install 'chainrule[tfrecord]'" in str(error), error
            else:
                raise AssertionError("no ImportError")
        import os
        assert not os.path.exists("unused.tfrecord")  # refused before the file is made
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
