"""One snake_case for default names, Keras 3's (keras.src.utils.naming.to_snake_case): layers, losses and metrics
are named, and metrics looked up by string, as Keras names them."""
import pytest

from chainrule.keras import layers, losses, metrics
from chainrule.utils.naming import to_snake_case


@pytest.mark.parametrize("class_name, expected", [
    ("Dense", "dense"), ("Conv2D", "conv2d"), ("MaxPooling2D", "max_pooling2d"), ("ReLU", "re_lu"),
    ("BatchNormalization", "batch_normalization"), ("GlobalAveragePooling2D", "global_average_pooling2d"),
    ("TopKCategoricalAccuracy", "top_k_categorical_accuracy"), ("KLDivergence", "kl_divergence"), ("AUC", "auc"),
    ("F1Score", "f1_score"), ("FBetaScore", "f_beta_score"), ("My-Layer", "my_layer"),
])
def test_to_snake_case_as_keras(class_name, expected):
    assert to_snake_case(class_name) == expected


def test_default_names_of_layers_losses_and_metrics():
    assert layers.Conv2D(2, 3).name.startswith("conv2d")
    assert layers.MaxPooling2D().name.startswith("max_pooling2d")
    assert layers.ReLU().name.startswith("re_lu")
    assert losses.KLDivergence().name == "kl_divergence"
    assert metrics.TopKCategoricalAccuracy().name == "top_k_categorical_accuracy"
    assert metrics.SparseTopKCategoricalAccuracy().name == "sparse_top_k_categorical_accuracy"


@pytest.mark.parametrize("identifier, cls", [
    ("top_k_categorical_accuracy", "TopKCategoricalAccuracy"),
    ("sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy"),
    ("f_beta_score", "FBetaScore"), ("fbeta_score", "FBetaScore"), ("f1_score", "F1Score"), ("auc", "AUC"),
])
def test_metrics_are_found_by_their_snake_case_names(identifier, cls):
    assert type(metrics.get(identifier)).__name__ == cls
