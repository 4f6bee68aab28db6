"""The strict lane of the programs: whole Keras/TensorFlow programs of tests/programs and tests/seeds run with
``CHAINRULE_BACKEND=strict`` (every array on array-api-strict's second device, where NumPy cannot read it), in one
process of their own. What a program calls above the ops (layers, initializers, metrics, callbacks, models, saving)
must not read a device's arrays through NumPy; what a GPU's CuPy runs is the same code.

``PROGRAMS`` lists those that pass there (under a minute together), ``ALSO_PASS`` the others that pass (too slow for
the lane), ``NOT_YET`` the rest, each with where its first error stops it (the file to port, whose owner fixes it).
Sections marked slow are left out, as in the default run; files whose every section is slow are not listed. An entry
moves up when its program passes (the lists come from one sweep: ``CHAINRULE_BACKEND=strict pytest -x -m "not slow"``
per file).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("array_api_strict")

TESTS = Path(__file__).resolve().parent.parent

PROGRAMS: tuple[str, ...] = (
    "programs/test_keras_collaborative_filtering_movielens.py", "programs/test_keras_shiftvit.py",
    "programs/test_keras_masking_and_padding.py", "seeds/test_seed_002.py",
    "programs/test_keras_attention_mil_classification.py", "programs/test_keras_sequential_model.py",
    "programs/test_keras_eanet.py", "programs/test_keras_mnist_convnet.py",
    "programs/test_keras_tensorflow_numpy_models.py", "programs/test_keras_endpoint_layer_pattern.py",
)

# pass on strict too, left out of the lane's minute (over ~10 s each there, or training for long)
ALSO_PASS: tuple[str, ...] = (
    "programs/test_guide_subclassing.py", "programs/test_keras_actor_critic_cartpole.py",
    "programs/test_keras_conv_lstm.py", "programs/test_keras_deep_q_network_cartpole.py",
    "programs/test_keras_denoising_autoencoder.py", "programs/test_keras_grad_cam.py",
    "programs/test_keras_imbalanced_classification.py", "programs/test_keras_intro_for_engineers.py",
    "programs/test_keras_knowledge_distillation.py", "programs/test_keras_quasi_svm.py",
    "programs/test_keras_reproducibility_recipes.py", "programs/test_keras_subclassing_conv_layers.py",
    "programs/test_keras_supervised_contrastive_learning.py", "programs/test_keras_timeseries_classification.py",
    "programs/test_keras_timeseries_transformer.py", "programs/test_keras_transfer_learning.py",
    "programs/test_keras_visualizing_what_convnets_learn.py", "programs/test_keras_writing_training_loop.py",
    "programs/test_kerastuner_custom_tuner.py", "programs/test_kerastuner_distributed_tuning.py",
    "programs/test_kerastuner_tailor_the_search_space.py", "programs/test_kerastuner_visualize_tuning.py",
    "seeds/test_seed_003.py", "seeds/test_seed_004.py", "programs/test_tf_autodiff.py",
    "programs/test_tf_basic_classification.py", "programs/test_tf_basic_training_loops.py",
    "programs/test_tf_basics.py", "programs/test_tf_cnn.py", "programs/test_tf_custom_layers.py",
    "programs/test_tf_custom_training_walkthrough.py", "programs/test_tf_cvae.py", "programs/test_tf_dcgan.py",
    "programs/test_tf_intro_to_autoencoders.py", "programs/test_tf_intro_to_modules.py",
    "programs/test_tf_keras_tuner.py", "programs/test_tf_quickstart_beginner.py",
    "programs/test_tf_quickstart_experts.py", "programs/test_tf_random_numbers.py", "programs/test_tf_regression.py",
    "programs/test_tf_s11_checkpoint.py", "programs/test_tf_save_and_load.py", "programs/test_tf_variable.py",
)

NOT_YET: dict[str, str] = {
    "programs/test_keras_addition_rnn.py":
        "keras/losses.py:172: TypeError: Python int scalars cannot be promoted with bool arrays",
    "programs/test_keras_antirectifier.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_bidirectional_lstm_imdb.py":
        "ops/shape.py:94: IndexError: self.ndim=3, but the multi-axes index only specifies 2 dimensions. If thi",
    "programs/test_keras_cct.py":
        "keras/metrics/accuracy.py:60: AttributeError: 'Array' object has no attribute 'argmax'",
    "programs/test_keras_classification_with_grn_and_vsn.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_custom_train_step_tf.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_customizing_fit.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_customizing_saving.py":
        "keras/metrics/accuracy.py:47: TypeError: float32 and int64 cannot be type promoted together",
    "programs/test_keras_cutmix.py":
        "ops/math.py:64: TypeError: Only floating-point dtypes are allowed in __truediv__",
    "programs/test_keras_ddpg_pendulum.py":
        "runs past a minute on strict: not judged yet",
    "programs/test_keras_debugging_tips.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_fgsm.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_functional_api.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_intro_for_researchers.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_involution.py":
        "runs past a minute on strict: not judged yet",
    "programs/test_keras_memory_efficient_embeddings.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_metric_learning.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_mixup.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_mlp_image_classification.py":
        "keras/metrics/accuracy.py:53: AttributeError: 'Array' object has no attribute 'astype'",
    "programs/test_keras_mnist_moe.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_mobilevit.py":
        "engine/tensor.py:457: TypeError: Two scalars not allowed, got type(x1) = <class 'int'> and type(x2) =<",
    "programs/test_keras_movielens_recommendations_transformers.py":
        "ops/shape.py:94: IndexError: self.ndim=3, but the multi-axes index only specifies 2 dimensions. If thi",
    "programs/test_keras_multi_label_classification.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_ner_transformers.py":
        "data/padding.py:57: RuntimeError: NumPy reads a device array",
    "programs/test_keras_oxford_pets_segmentation.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_perceiver.py":
        "keras/metrics/accuracy.py:53: AttributeError: 'Array' object has no attribute 'astype'",
    "programs/test_keras_ppo_cartpole.py":
        "backend/threads.py:217: RuntimeError: NumPy reads a device array",
    "programs/test_keras_preprocessing_layers.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_pretrained_word_embeddings.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_seq_ctc_asr.py":
        "ops/indexing.py:50: RuntimeError: NumPy reads a device array",
    "programs/test_keras_seq_lstm_seq2seq.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_seq_lstm_text_generation.py":
        "keras/losses.py:172: TypeError: Python int scalars cannot be promoted with bool arrays",
    "programs/test_keras_seq_miniature_gpt.py":
        "ops/math.py:123: TypeError: Only Array objects are allowed; got <class 'numpy.float32'>",
    "programs/test_keras_seq_transformer_translation.py":
        "keras/losses.py:409: AttributeError: 'Array' object has no attribute 'astype'",
    "programs/test_keras_serialization_and_saving.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_siamese_contrastive.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_structured_data_classification.py":
        "data/structure.py:90: RuntimeError: NumPy reads a device array",
    "programs/test_keras_structured_data_classification_with_feature_space.py":
        "data/dataset.py:1047: RuntimeError: NumPy reads a device array",
    "programs/test_keras_text_classification_from_scratch.py":
        "data/structure.py:90: RuntimeError: NumPy reads a device array",
    "programs/test_keras_timeseries_anomaly_detection.py":
        "runs past a minute on strict: not judged yet",
    "programs/test_keras_timeseries_traffic_forecasting.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_timeseries_weather_forecasting.py":
        "keras/training/adapters.py:62: RuntimeError: NumPy reads a device array",
    "programs/test_keras_trainer_pattern.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_training_with_built_in_methods.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_keras_transformer_text_classification.py":
        "runs past a minute on strict: not judged yet",
    "programs/test_keras_vae.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_vision_transformer.py":
        "keras/metrics/accuracy.py:53: AttributeError: 'Array' object has no attribute 'astype'",
    "programs/test_keras_vit_small_ds.py":
        "keras/metrics/accuracy.py:53: AttributeError: 'Array' object has no attribute 'astype'",
    "programs/test_keras_wgan_gp.py":
        "keras/training/trainer.py:636: RuntimeError: NumPy reads a device array",
    "programs/test_keras_working_with_rnns.py":
        "ops/shape.py:94: IndexError: self.ndim=3, but the multi-axes index only specifies 2 dimensions. If thi",
    "programs/test_keras_writing_your_own_callbacks.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_kerastuner_failed_trials.py":
        "keras_tuner/oracle.py:165: RuntimeError: Number of consecutive failures exceeded the limit of 8.",
    "programs/test_kerastuner_getting_started.py":
        "the program: assert False",
    "seeds/test_seed_000.py":
        "runs past a minute on strict: not judged yet",
    "seeds/test_seed_001.py":
        "runs past a minute on strict: not judged yet",
    "programs/test_tf_advanced_autodiff.py":
        "backend/extras.py:77: TypeError: Expected Python scalar fill_value, got type <class 'chainrule.engine.",
    "programs/test_tf_adversarial_fgsm.py":
        "ops/conv.py:138: AttributeError: module 'array_api_strict' has no attribute 'lib'",
    "programs/test_tf_customization_basics.py":
        "ops/math.py:26: TypeError: Expected Array or Python scalar; got <class 'list'>",
    "programs/test_tf_distribute_custom_training.py":
        "compat/tf/distribute.py:124: RuntimeError: NumPy reads a device array",
    "programs/test_tf_distribute_keras.py":
        "data/structure.py:90: RuntimeError: NumPy reads a device array",
    "programs/test_tf_image_classification.py":
        "data/structure.py:90: RuntimeError: NumPy reads a device array",
    "programs/test_tf_imbalanced_data.py":
        "keras/metrics/accuracy.py:21: TypeError: int64 and float32 cannot be type promoted together",
    "programs/test_tf_integrated_gradients.py":
        "ops/conv.py:138: AttributeError: module 'array_api_strict' has no attribute 'lib'",
    "programs/test_tf_intro_to_graphs.py":
        "ops/math.py:187: TypeError: Argument(s) are neither Array nor Python scalars: type(x1)=<class '_array_",
    "programs/test_tf_load_csv.py":
        "ops/shape.py:62: TypeError: result_type() inputs must be Array API arrays, dtypes, or scalars",
    "programs/test_tf_load_numpy.py":
        "keras/optimizers/rmsprop.py:28: TypeError: _create_binary_func.<locals>.inner() got an unexpected keyw",
    "programs/test_tf_multi_worker_with_keras.py":
        "the program: AssertionError: Traceback (most recent call last):",
    "programs/test_tf_optimizers_core.py":
        "engine/tensor.py:467: TypeError: Argument(s) are neither Array nor Python scalars: type(x1)=<class '_a",
    "programs/test_tf_overfit_and_underfit.py":
        "data/dataset.py:401: IndexError: self.ndim=2, but the multi-axes index only specifies 1 dimensions. If",
    "programs/test_tf_simple_audio.py":
        "data/dataset.py:1047: RuntimeError: NumPy reads a device array",
    "programs/test_tf_sparse_tensor.py":
        "ops/reduce.py:91: TypeError: Only floating-point dtypes are allowed in __truediv__",
    "programs/test_tf_tensor.py":
        "engine/tensor.py:30: KeyError: 'float16'",
    "programs/test_tf_tensor_slicing.py":
        "ops/shape.py:94: RuntimeError: NumPy reads a device array",
    "programs/test_tf_text_classification.py":
        "data/structure.py:90: RuntimeError: NumPy reads a device array",
    "programs/test_tf_text_classification_rnn.py":
        "backend/__init__.py:226: TypeError: The array_api_strict namespace does not support the dtype '<U104'",
    "programs/test_tf_tfrecord.py":
        "engine/tensor.py:230: TypeError: only integer scalar arrays can be converted to a scalar index",
    "programs/test_tf_word2vec.py":
        "compat/tf/candidate_sampling.py:47: RuntimeError: NumPy reads a device array",
    "programs/test_tf_word_embeddings.py":
        "data/structure.py:90: RuntimeError: NumPy reads a device array",
}


def test_the_lists_name_existing_files_once():
    named = list(PROGRAMS) + list(ALSO_PASS) + list(NOT_YET)
    assert len(named) == len(set(named)), sorted({n for n in named if named.count(n) > 1})
    assert [n for n in named if not (TESTS / n).is_file()] == []


def test_programs_pass_on_the_strict_backend():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--tb=short",
                           "-m", "not slow", *(str(TESTS / f) for f in PROGRAMS)],
                          env={**os.environ, "CHAINRULE_BACKEND": "strict"}, capture_output=True, text=True,
                          cwd=TESTS.parent)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
