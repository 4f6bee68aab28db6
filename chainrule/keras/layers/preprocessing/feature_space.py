"""FeatureSpace: Keras 3's ``keras.utils.FeatureSpace``, one object that indexes, preprocesses and encodes the columns
of structured data. Each feature gets a preprocessing layer (Normalization, Discretization, Rescaling, IntegerLookup,
StringLookup, Hashing) chosen by its type; ``crosses`` hash value co-occurrences (HashedCrossing); categorical outputs
are one-hot (multi-hot) encoded and, in ``output_mode="concat"``, all are concatenated into one vector per sample.
``adapt`` learns vocabularies, means and bin boundaries from a Dataset of dicts; ``get_inputs``/``get_encoded_features``
give the symbolic graph, so a model can take the raw dict end to end.

>>> import numpy as np
>>> space = FeatureSpace({"color": "string_categorical", "size": "float"}, output_mode="concat")
>>> space.adapt({"color": np.array(["red", "blue", "red"]), "size": np.array([1.0, 2.0, 3.0], "float32")}, verbose=0)
>>> space({"color": np.array(["blue"]), "size": np.array([5.0], "float32")}).numpy()
array([[0., 0., 1., 5.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.keras.layers.base import Layer, unique_name
from chainrule.utils.progbar import Progbar

FEATURE_TYPES = ("float", "float_rescaled", "float_normalized", "float_discretized", "integer_categorical",
                 "string_categorical", "integer_hashed", "string_hashed")


def _layers():
    from chainrule.keras import layers  # the layer classes (this module is one of them)

    return layers


def _serialize(obj):
    from chainrule.keras.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(obj)


def _deserialize(config):
    from chainrule.keras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects={"Feature": Feature, "Cross": Cross})


def _kind(dtype) -> str:
    """'i' for integers, 'f' for floats, 'U' for text, from a tensor's or KerasTensor's dtype."""
    return backend.as_dtype(dtype).kind.replace("u", "i").replace("S", "U").replace("O", "U")


class Cross:
    """Features whose value co-occurrences are hashed into ``crossing_dim`` bins (``FeatureSpace.cross``)."""

    def __init__(self, feature_names, crossing_dim: int, output_mode: str = "one_hot"):
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {{'int', 'one_hot'}}. "
                             f"Received: output_mode={output_mode}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim, "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> "Cross":
        return cls(**config)


class Feature:
    """One feature: the dtype of its input, its preprocessing layer and how its output is encoded."""

    def __init__(self, dtype: str, preprocessor, output_mode: str):
        if output_mode not in ("int", "one_hot", "float"):
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {{'int', 'one_hot', "
                             f"'float'}}. Received: output_mode={output_mode}")
        self.dtype = dtype
        self.preprocessor = _deserialize(preprocessor) if isinstance(preprocessor, dict) else preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "preprocessor": _serialize(self.preprocessor), "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> "Feature":
        return cls(**config)


class FeatureSpace(Layer):
    """Preprocess and encode a dict of feature columns (see the module's docstring); ``features`` maps each name to
    a type name (``FEATURE_TYPES``) or a ``FeatureSpace.<type>(...)`` spec."""

    @classmethod
    def cross(cls, feature_names, crossing_dim: int, output_mode: str = "one_hot") -> Cross:
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor, output_mode: str) -> Feature:
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        name = name or unique_name("float")
        return Feature("float32", _layers().Identity(name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale: float = 1.0, offset: float = 0.0, name: str | None = None) -> Feature:
        name = name or unique_name("float_rescaled")
        return Feature("float32", _layers().Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        name = name or unique_name("float_normalized")
        return Feature("float32", _layers().Normalization(axis=-1, name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_discretized(cls, num_bins: int, bin_boundaries=None, output_mode: str = "one_hot",
                          name: str | None = None) -> Feature:
        name = name or unique_name("float_discretized")
        layer = _layers().Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                         name=f"{name}_preprocessor")
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                            output_mode: str = "one_hot", name: str | None = None) -> Feature:
        return _categorical("integer_categorical", "int32", max_tokens, num_oov_indices, output_mode, name)

    @classmethod
    def string_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                           output_mode: str = "one_hot", name: str | None = None) -> Feature:
        return _categorical("string_categorical", "string", max_tokens, num_oov_indices, output_mode, name)

    @classmethod
    def string_hashed(cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or unique_name("string_hashed")
        return Feature("string", _layers().Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode)

    @classmethod
    def integer_hashed(cls, num_bins: int, output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or unique_name("integer_hashed")
        return Feature("int32", _layers().Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode)

    def __init__(self, features: dict, output_mode: str = "concat", crosses=None, crossing_dim: int = 32,
                 hashing_dim: int = 32, num_discretization_bins: int = 32, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {key: self._standardize_feature(key, value) for key, value in features.items()}
        self.crosses = [self._standardize_cross(cross, set(features)) for cross in crosses or []]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        if output_mode not in ("dict", "concat"):
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {{'dict', 'concat'}}. "
                             f"Received: output_mode={output_mode}")
        self.output_mode = output_mode
        self.inputs = {key: _layers().Input(shape=(1,), dtype=feature.dtype, name=key)
                       for key, feature in self.features.items()}
        self.preprocessors = {key: feature.preprocessor for key, feature in self.features.items()}
        self.crossers = {cross.name: _layers().HashedCrossing(cross.crossing_dim, name=cross.name)
                         for cross in self.crosses}
        self.one_hot_encoders: dict = {}
        self.encoded_features = None
        self.concat = None
        self._is_adapted = False
        self._sublayers_built = False
        self._names = None  # the preprocessed features' names, then the crosses', each sorted: the output's order

    def _standardize_feature(self, name: str, feature) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize(feature)
        if feature == "float_discretized":
            return self.float_discretized(name=name, num_bins=self.num_discretization_bins)
        if feature in ("integer_hashed", "string_hashed"):
            return getattr(self, feature)(self.hashing_dim, name=name)
        if feature in FEATURE_TYPES:
            return getattr(self, feature)(name=name)
        raise ValueError(f"Invalid feature type: {feature}. Expected one of {list(FEATURE_TYPES)} or a "
                         f"FeatureSpace.<type>(...) feature")

    def _standardize_cross(self, cross, feature_names: set) -> Cross:
        if isinstance(cross, dict):
            cross = _deserialize(cross)
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise ValueError("When specifying `crosses`, the argument `crossing_dim` (dimensionality of the "
                             "crossing space) should be specified as well.")
        unknown = [key for key in cross if key not in feature_names]
        if unknown:
            raise ValueError(f"All features referenced in the `crosses` argument should be present in the "
                             f"`features` dict. Received unknown features: {unknown} in {cross}")
        return Cross(cross, crossing_dim=self.crossing_dim)

    # --- adapting -------------------------------------------------------------------------------------------------
    def _adaptable(self) -> list[str]:
        """The features whose preprocessor learns from data (not a Normalization given its mean)."""
        names = []
        for key, layer in self.preprocessors.items():
            if isinstance(layer, _layers().Normalization) and getattr(layer, "input_mean", None) is not None:
                continue
            if hasattr(layer, "adapt"):
                names.append(key)
        return names

    def adapt(self, dataset, verbose: int = 1) -> None:
        """Learn each adaptable preprocessor's state from ``dataset`` (a Dataset of dicts, no labels, or a dict of
        arrays), then build the symbolic graph."""
        from chainrule.data import Dataset

        if not isinstance(dataset, Dataset):
            if not isinstance(dataset, dict):
                raise ValueError(f"`adapt()` can only be called on a tf.data.Dataset or a dict of arrays/lists. "
                                 f"Received instead: {type(dataset).__name__}")
            dataset = Dataset.from_tensor_slices(dataset)
        adaptable = self._adaptable()
        if adaptable:
            first = next(iter(dataset))
            if not isinstance(first, dict):
                raise ValueError(f"FeatureSpace.adapt() expects a dataset of dicts of features (no labels: map them "
                                 f"away with `ds.map(lambda x, y: x)`); received elements of type "
                                 f"{type(first).__name__}")
            if len(first[adaptable[0]].shape) == 0:
                dataset = dataset.batch(32)
            self._adapt_preprocessors(dataset, adaptable, verbose)
        self._is_adapted = True
        self.get_encoded_features()
        self.built = self._sublayers_built = True

    def _adapt_preprocessors(self, dataset, adaptable: list[str], verbose: int) -> None:
        stateful = [key for key in adaptable if hasattr(self.preprocessors[key], "update_state")]
        for key in stateful:
            self.preprocessors[key].reset_state()
        cardinality = int(np.asarray(dataset.cardinality()))
        progbar = Progbar(target=cardinality if cardinality >= 0 else None, unit_name="step") if verbose else None
        steps = 0
        for steps, batch in enumerate(dataset, start=1):
            for key in stateful:
                self.preprocessors[key].update_state(_as_column(batch[key]))
            if progbar is not None:
                progbar.update(steps)
        for key in stateful:
            self.preprocessors[key].finalize_state()
        if progbar is not None:
            progbar.update(steps, finalize=True)
        for key in adaptable:  # the layers that only have adapt (Normalization)
            if key not in stateful:
                self.preprocessors[key].adapt(dataset.map(lambda x, key=key: _as_column(x[key])))

    # --- the graph --------------------------------------------------------------------------------------------------
    def get_inputs(self) -> dict:
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess_features(self.inputs)
            self.encoded_features = self._merge_features(preprocessed, self._cross_features(preprocessed))
        return self.encoded_features

    def _preprocess_features(self, features: dict) -> dict:
        return {key: self.preprocessors[key](features[key]) for key in features}

    def _cross_features(self, features: dict) -> dict:
        return {cross.name: self.crossers[cross.name]([features[key] for key in cross.feature_names])
                for cross in self.crosses}

    def _merge_features(self, preprocessed: dict, crossed: dict):
        if self._names is None:
            self._names = sorted(preprocessed) + sorted(crossed)
        outputs = {}
        for key in self._names:
            feature = preprocessed[key] if key in preprocessed else crossed[key]
            if not self._sublayers_built:
                self._make_encoder(key, feature)
            encoder = self.one_hot_encoders.get(key)
            outputs[key] = encoder(feature) if encoder is not None else feature
        if self.output_mode == "dict":
            return outputs
        if self.concat is None:
            for key, feature in outputs.items():
                if _kind(feature.dtype) != "f":
                    raise ValueError(f"Cannot concatenate features because feature '{key}' has not been encoded (it "
                                     f"has dtype {backend.as_dtype(feature.dtype).name}). Consider using "
                                     f"`output_mode='dict'`.")
            self.concat = _layers().Concatenate(axis=-1)
        return self.concat(list(outputs.values()))

    def _make_encoder(self, key: str, feature) -> None:
        """A multi-hot CategoryEncoding for a feature (or cross) whose output_mode is 'one_hot'."""
        spec = self.features.get(key) or self.crosses_by_name[key]
        if spec.output_mode != "one_hot":
            return
        if _kind(feature.dtype) != "i":
            raise ValueError(f"Feature '{key}' has `output_mode='one_hot'`. Thus its preprocessor should return an "
                             f"integer dtype. Instead it returns a {backend.as_dtype(feature.dtype).name} dtype.")
        layers = _layers()
        layer = self.preprocessors.get(key) or self.crossers.get(key)
        if isinstance(layer, (layers.IntegerLookup, layers.StringLookup)):
            cardinality = layer.vocabulary_size()
        elif isinstance(layer, layers.CategoryEncoding):
            cardinality = layer.num_tokens
        elif isinstance(layer, (layers.Discretization, layers.HashedCrossing, layers.Hashing)):
            cardinality = _num_bins(layer)
        else:
            raise ValueError(f"Feature '{key}' has `output_mode='one_hot'`. However it isn't a standard feature and "
                             f"the dimensionality of its output space is not known, thus it cannot be one-hot "
                             f"encoded. Try using `output_mode='int'`.")
        self.one_hot_encoders[key] = layers.CategoryEncoding(num_tokens=cardinality, output_mode="multi_hot")

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if self._adaptable():
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace before you can start "
                                 "using it.")
            self._is_adapted = True

    def _check_if_built(self) -> None:
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True

    # --- calling ----------------------------------------------------------------------------------------------------
    def __call__(self, data):
        """Encode a dict of raw feature values: a batch of them (1-D, or 2-D with a trailing 1), or one sample of
        scalars (then the result has no batch axis)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(f"A FeatureSpace can only be called with a dict. Received: data={data!r} (of type "
                             f"{type(data).__name__})")
        data = {key: value if isinstance(value, Tensor) else as_tensor(value) for key, value in data.items()}
        rebatched = False
        for key, value in data.items():
            if value.ndim == 0:
                data[key], rebatched = value.reshape((1, 1)), True
            elif value.ndim == 1:
                data[key] = value.reshape((-1, 1))
        preprocessed = self._preprocess_features(data)
        merged = self._merge_features(preprocessed, self._cross_features(preprocessed))
        if rebatched:
            if self.output_mode == "concat":
                return merged.reshape(merged.shape[1:])
            return {key: x.reshape(x.shape[1:]) if x.ndim == 2 and x.shape[0] == 1 else x for key, x in merged.items()}
        return merged

    def get_config(self) -> dict:
        return {"name": self.name, "features": {key: _serialize(value) for key, value in self.features.items()},
                "output_mode": self.output_mode, "crosses": [_serialize(cross) for cross in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config: dict) -> "FeatureSpace":
        return cls(**config)

    # --- saving -----------------------------------------------------------------------------------------------------
    def get_build_config(self) -> dict:
        """Each feature's preprocessor's build config (Keras 3's), so that a loaded FeatureSpace builds them (a
        Normalization's mean and variance) before its weights are assigned."""
        return {key: feature.preprocessor.get_build_config() for key, feature in self.features.items()}

    def build_from_config(self, config: dict) -> None:
        """Build the preprocessors as :meth:`get_build_config` recorded; the loaded FeatureSpace counts as adapted
        (its vocabularies come with the configs, its means and variances with the weights)."""
        for key, build_config in config.items():
            if key not in self.features:
                raise ValueError(f"The FeatureSpace's build config names the feature {key!r}, which it does not "
                                 f"have (its features: {sorted(self.features)})")
            preprocessor = self.features[key].preprocessor
            if not preprocessor.built:
                preprocessor.build_from_config(build_config)
        self._is_adapted = True

    def save(self, filepath) -> None:
        """Write this FeatureSpace, adapted state included, to a ``.keras`` file that ``keras.models.load_model``
        reads back, as Keras 3's ``FeatureSpace.save``."""
        from chainrule.keras.saving.model_files import save_model

        save_model(self, filepath)


def _categorical(kind: str, dtype: str, max_tokens, num_oov_indices: int, output_mode: str, name) -> Feature:
    """An integer or string feature indexed by a lookup layer learnt in adapt."""
    name = name or unique_name(kind)
    lookup = _layers().IntegerLookup if dtype == "int32" else _layers().StringLookup
    return Feature(dtype, lookup(name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices),
                   output_mode)


def _as_column(values):
    """A batch of one feature as a column (the preprocessors learn from (batch, 1))."""
    values = values if isinstance(values, Tensor) else as_tensor(values)
    return values.reshape((-1, 1)) if values.ndim <= 1 else values


def _num_bins(layer) -> int:
    num_bins = getattr(layer, "num_bins", None)
    if num_bins is None:  # a Discretization given its boundaries
        num_bins = len(layer.bin_boundaries) + 1
    return int(num_bins)


__all__ = ["Cross", "Feature", "FeatureSpace"]
