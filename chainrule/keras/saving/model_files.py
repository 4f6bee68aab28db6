"""Model files: the architecture, the weights and the optimizer state in one file; no pickle; written atomically.

>>> model.save("mnist.keras")                                # doctest: +SKIP
>>> model = chainrule.keras.models.load_model("mnist.keras")  # doctest: +SKIP
>>> model.fit(x, y)  # goes on where the saved training stopped: same weights, same optimizer state  # doctest: +SKIP

What goes into the file (the container itself is :mod:`chainrule.keras.saving.file_format`): the header holds
``kind`` ("model" or "weights"), ``chainrule_version``, ``model`` (``{"class_name", "config"}`` from
``model.get_config()``), ``compile`` (the optimizer's class and config, the loss and the metrics, or null),
``layers`` (each layer's name, class and the names of its weight arrays) and ``metadata`` (free JSON given to
:func:`save_model`). Weight arrays are named ``weights/<i>/<variable name>``, optimizer state ``optimizer/<key>``
(from ``optimizer.get_state()``); what Keras 3's saving hooks of a layer (the ``i``-th of ``_flatten_layers()``)
store goes to ``own_variables/<i>/<key>`` (an overridden ``save_own_variables``) and ``assets/<i>/<file>`` (the
files ``save_assets(folder)`` writes, as bytes).

Naming: any path works. By convention a whole model is ``NAME.keras`` (Keras 3's suffix; the content is
chainrule's format, not Keras's zip) and weights alone are ``NAME.weights.bin`` (Keras writes ``.weights.h5``).
Reading a whole-model file with :func:`load_weights` works too.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.keras.configurable import is_serialized, serialize
from chainrule.keras.saving.object_registration import get_registered_name, registered_name_entry
from chainrule.keras.saving.file_format import ModelFileError, decode, read_file, write_file
from chainrule.keras.saving import legacy_h5
from chainrule.keras.saving.weight_budget import check_input_shapes, weight_budget


def save_model(model, path: str | os.PathLike, overwrite: bool = True, metadata: dict | None = None,
               include_optimizer: bool = True, save_format: str | None = None) -> None:
    """Write ``model`` whole: architecture, weights and, when it is compiled, the compile config and the optimizer's
    state, so that :func:`load_model` gives back a model whose ``fit`` goes on where this one stopped.
    ``metadata``: any JSON-able dict kept alongside (the command line stores the dataset's class names there).
    ``include_optimizer=False`` leaves out the compile config and the optimizer (tf.keras's option);
    ``save_format`` is accepted for tf.keras programs and ignored: there is one format."""
    header = {"kind": "model", "chainrule_version": _version(),
              "model": {"class_name": type(model).__name__, **registered_name_entry(model),
                        "config": model.get_config()},
              "compile": None, "layers": None, "metadata": dict(metadata or {}),
              "build_config": model.get_build_config()}  # Keras 3's: a subclassed model is built from it on loading
    layers, tensors = _weights_entries(model)
    header["layers"] = layers
    tensors += _layer_state_entries(model)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and include_optimizer:
        header["compile"] = _compile_config(model)
        tensors += [(f"optimizer/{key}", value) for key, value in optimizer.get_state().items()]
    write_file(path, header, tensors, overwrite=overwrite)


def load_model(path: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """The model :func:`save_model` wrote to ``path``, compiled and with its optimizer state when it was saved so
    (``compile=False``: the architecture and weights only). ``custom_objects`` maps the names of your own layers,
    losses and metrics to them. Raises :class:`ModelFileError` for a file that is damaged, foreign or
    inconsistent. ``safe_mode`` is Keras's; loading never runs code from the file, so it changes nothing."""
    header, arrays = read_file(path)
    kind = header.get("kind")
    if kind == "weights":
        raise ModelFileError(path, "holds weights only (written by save_weights): build the model in code, then "
                                   "call model.load_weights() on it")
    if kind != "model":
        raise ModelFileError(path, f"unknown kind of file {kind!r} (expected 'model')")
    _check_declared_input_shapes(header, path)
    # building allocates the weights before they are assigned: no more than the file holds (see weight_budget)
    with weight_budget(sum(a.size for name, a in arrays.items() if not name.startswith("optimizer/")), path):
        model = model_from_config(header.get("model"), path, custom_objects)
        if header.get("build_config") and not model.built:
            try:
                model.build_from_config(header["build_config"])
            except ModelFileError:
                raise
            except Exception as error:  # the shapes come from the file
                raise ModelFileError(path, f"cannot build the model for the input shape it was saved with: "
                                           f"{type(error).__name__}: {error}") from error
    _assign_weights(model, header, arrays, path)
    if compile and header.get("compile") is not None:
        _restore_training(model, header["compile"], arrays, path, custom_objects)
    _load_layer_state(model, arrays, path)
    return model


def save_weights(model, path: str | os.PathLike, overwrite: bool = True) -> None:
    """Write the weights of ``model`` alone (by convention ``NAME.weights.bin``)."""
    layers, tensors = _weights_entries(model)
    header = {"kind": "weights", "chainrule_version": _version(), "model_class": type(model).__name__,
              "layers": layers}
    write_file(path, header, tensors, overwrite=overwrite)


def load_weights(model, path: str | os.PathLike, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Load weights written by :func:`save_weights` (or :func:`save_model`) into ``model``, which must have as many
    layers with weights, in the same order, of the same classes and shapes. Nothing is changed when they do not
    match, unless ``skip_mismatch=True`` (Keras's option): then the layers that differ keep their weights, with a
    warning. A Keras HDF5 file (keras.applications' ``.h5`` weights) is read as Keras reads it, by layer order or,
    with ``by_name=True``, by layer name (:mod:`chainrule.keras.saving.legacy_h5`, needs h5py)."""
    if legacy_h5.is_legacy_h5_file(path):
        return legacy_h5.load_weights(model, path, skip_mismatch=skip_mismatch, by_name=by_name)
    if by_name:
        raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {path}")
    header, arrays = read_file(path)
    if header.get("kind") not in ("model", "weights"):
        raise ModelFileError(path, f"unknown kind of file {header.get('kind')!r} (expected 'weights' or 'model')")
    _assign_weights(model, header, arrays, path, skip_mismatch)


def read_header(path: str | os.PathLike) -> dict:
    """The header of a model or weights file (checked like a load): kind, versions, configs, ``metadata``."""
    with open(path, "rb") as file:
        return decode(file.read(), path, with_arrays=False)[0]


def model_from_config(config: Any, path: str | os.PathLike = "<config>", custom_objects: dict | None = None):
    """The model described by ``{"class_name": ..., "config": ...}`` (as ``model.to_json()`` writes it), built.
    Anything wrong with the description raises :class:`ModelFileError` naming ``path``."""
    from chainrule.keras.layers.preprocessing.feature_space import FeatureSpace
    from chainrule.keras.models import Model, model_from_config as rebuild

    if not (isinstance(config, dict) and isinstance(config.get("class_name"), str)
            and isinstance(config.get("config"), dict)):
        raise ModelFileError(path, "the model description must be {\"class_name\": ..., \"config\": {...}}")
    try:
        model = rebuild(config, custom_objects)
    except ModelFileError:  # a layer asked for more weights than the file holds (weight_budget)
        raise
    except Exception as error:  # the config comes from a file: any failure to rebuild it is the file's fault
        raise ModelFileError(path, f"cannot rebuild the {config['class_name']} model from its config: "
                                   f"{type(error).__name__}: {error}") from error
    if not isinstance(model, (Model, FeatureSpace)):  # Keras 3 saves a FeatureSpace (FeatureSpace.save) as a model
        raise ModelFileError(path, f"the config describes a {type(model).__name__}, not a model")
    return model


def _check_declared_input_shapes(header: dict, path) -> None:
    """The input shapes the model's config and build config declare, checked before building allocates them."""
    try:
        check_input_shapes(header.get("model"), path)
        check_input_shapes(header.get("build_config"), path, batched=True)
    except RecursionError as error:
        raise ModelFileError(path, "the model description is nested too deeply") from error


def _weights_entries(model) -> tuple[list[dict], list[tuple[str, np.ndarray]]]:
    """The ``layers`` header entries and the named weight arrays of ``model``."""
    entries, tensors = [], []
    for _, layer, variables in _layers_with_weights(model):
        names = [f"weights/{len(tensors) + i}/{v.name}" for i, v in enumerate(variables)]
        tensors += [(name, np.asarray(v.numpy())) for name, v in zip(names, variables)]
        entries.append({"name": layer.name, "class_name": type(layer).__name__, "weights": names})
    return entries, tensors


def _own_variables_hook(layer) -> bool:
    """Whether a layer's class has its own ``save_own_variables`` (Keras 3's hook); the others' weights are the
    ``weights/`` arrays."""
    from chainrule.keras.layers.base import Layer

    return type(layer).save_own_variables is not Layer.save_own_variables


def _layer_state_entries(model) -> list[tuple[str, np.ndarray]]:
    """What Keras 3's saving hooks of ``model``'s layers (by their position in ``model._flatten_layers()``) put in
    the file: ``own_variables/<i>/<key>`` from an overridden ``save_own_variables(store)``, and
    ``assets/<i>/<file>`` for each file ``save_assets(folder)`` writes (as uint8 arrays)."""
    tensors = []
    for i, layer in enumerate(model._flatten_layers()):
        if _own_variables_hook(layer):
            store: dict = {}
            layer.save_own_variables(store)
            tensors += [(f"own_variables/{i}/{key}", np.asarray(value)) for key, value in store.items()]
        if hasattr(layer, "save_assets"):
            with tempfile.TemporaryDirectory() as folder:
                layer.save_assets(folder)
                for root, _, files in os.walk(folder):
                    for name in sorted(files):
                        full = os.path.join(root, name)
                        with open(full, "rb") as file:
                            data = np.frombuffer(file.read(), dtype=np.uint8)
                        tensors.append((f"assets/{i}/{os.path.relpath(full, folder).replace(os.sep, '/')}", data))
    return tensors


def _load_layer_state(model, arrays: dict[str, np.ndarray], path) -> None:
    """Give each layer with Keras 3's loading hooks what :func:`_layer_state_entries` saved: its store to
    ``load_own_variables``, then a folder with its asset files to ``load_assets``, as Keras 3 calls them."""
    for i, layer in enumerate(model._flatten_layers()):
        own, assets = f"own_variables/{i}/", f"assets/{i}/"
        try:
            if _own_variables_hook(layer):
                layer.load_own_variables({name[len(own):]: a for name, a in arrays.items() if name.startswith(own)})
            if hasattr(layer, "load_assets"):
                with tempfile.TemporaryDirectory() as folder:
                    for name, data in arrays.items():
                        if name.startswith(assets):
                            _write_asset(folder, name[len(assets):], data, path)
                    layer.load_assets(folder)
        except ModelFileError:
            raise
        except Exception as error:  # what the hooks read comes from the file
            raise ModelFileError(path, f"layer {layer.name!r} could not load its saved state: "
                                       f"{type(error).__name__}: {error}") from error


def _write_asset(folder: str, relative: str, data: np.ndarray, path) -> None:
    """Write one saved asset file under ``folder``; a name that would leave the folder is refused."""
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") for part in parts) or data.dtype != np.uint8:
        raise ModelFileError(path, f"the asset entry {relative!r} is not a file name inside its layer's folder")
    target = os.path.join(folder, *parts)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as file:
        file.write(data.tobytes())


def _layers_with_weights(model) -> list[tuple[int, Any, list]]:
    """(index in ``model.layers``, layer, its weights) for each layer that has weights, each weight once; first the
    Variables the model holds itself, if any (index -1; a model without ``layers``: all its weights, index 0)."""
    layers = getattr(model, "layers", None)
    if not layers:
        return [(0, model, list(model.weights))] if model.weights else []
    own = list(getattr(model, "_trainable_variables", [])) + list(getattr(model, "_non_trainable_variables", []))
    seen: set[int] = set(map(id, own))
    found = [(-1, model, own)] if own else []
    for index, layer in enumerate(layers):
        variables = [v for v in layer.weights if id(v) not in seen]
        seen.update(map(id, variables))
        if variables:
            found.append((index, layer, variables))
    return found


def _assign_weights(model, header: dict, arrays: dict[str, np.ndarray], path, skip_mismatch: bool = False) -> None:
    """Check every saved weight against ``model`` first, then assign them all (a mismatch changes nothing)."""
    saved = header.get("layers")
    if not isinstance(saved, list) or not all(_is_layer_entry(entry, arrays) for entry in saved):
        raise ModelFileError(path, "the 'layers' entry of the header is missing or malformed")
    built = _layers_with_weights(model)
    if len(saved) != len(built):
        raise ModelFileError(path, f"the file has weights for {len(saved)} layers "
                                   f"({_names(e['class_name'] for e in saved)}), the model has {len(built)} layers "
                                   f"with weights ({_names(type(layer).__name__ for _, layer, _ in built)})")
    plan = []
    for entry, (index, layer, variables) in zip(saved, built):
        values = [arrays[name] for name in entry["weights"]]
        problem = _mismatch(entry["class_name"], values, layer, variables)
        if problem and skip_mismatch:
            warnings.warn(f"{os.fspath(path)}: skipped layer {index} ({layer.name!r}): {problem}", stacklevel=3)
        elif problem:
            raise ModelFileError(path, f"layer {index} ({layer.name!r}, {type(layer).__name__}): {problem}")
        else:
            plan += list(zip(variables, values))
    for var, value in plan:
        var.assign(value.astype(var.dtype, copy=False))


def _mismatch(saved_class: str, values: list[np.ndarray], layer, variables: list) -> str | None:
    """Why the saved weights ``values`` of a ``saved_class`` layer cannot go into ``layer``, or None."""
    if saved_class != type(layer).__name__:
        return f"the file has a {saved_class} in its place"
    shapes = [tuple(value.shape) for value in values]
    expected = [tuple(v.shape) for v in variables]
    if shapes != expected:
        return f"its weights have shapes {expected}, the file's have {shapes}"
    for value, var in zip(values, variables):
        if value.dtype.kind != np.dtype(var.dtype).kind:
            return f"weight {var.name!r} is {np.dtype(var.dtype).name}, the file holds {value.dtype.name}"
    return None


def _is_layer_entry(entry: Any, arrays: dict) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
            and isinstance(entry.get("weights"), list)
            and all(isinstance(name, str) and name in arrays for name in entry["weights"]))


def _restore_training(model, config: Any, arrays: dict[str, np.ndarray], path,
                      custom_objects: dict | None = None) -> None:
    """Compile ``model`` as it was and give its optimizer the saved state."""
    if not isinstance(config, dict):
        raise ModelFileError(path, "the 'compile' entry of the header is not an object")
    try:
        if hasattr(model, "compile_from_config"):
            model.compile_from_config(config)
        else:
            from chainrule.keras import losses
            from chainrule.keras import metrics
            from chainrule.keras import optimizers

            rest = {key: value for key, value in config.items() if key != "optimizer"}
            for key, module in (("loss", losses), ("metrics", metrics), ("weighted_metrics", metrics)):
                if key in rest:
                    rest[key] = _revived(rest[key], module, custom_objects)
            model.compile(optimizer=optimizers.deserialize(config.get("optimizer"), custom_objects),
                          **_with_custom_objects(rest, custom_objects or {}))
    except Exception as error:  # the config comes from a file: any failure to use it is the file's fault
        raise ModelFileError(path, f"cannot compile the model as it was saved: {type(error).__name__}: {error}") \
            from error
    state = {key.removeprefix("optimizer/"): value for key, value in arrays.items() if key.startswith("optimizer/")}
    try:
        model.optimizer.build(model.trainable_variables)  # create the slots now, so that the state is checked whole
        check_optimizer_state(model.optimizer, state, path)
        model.optimizer.set_state(state)
    except ModelFileError:
        raise
    except (ValueError, TypeError) as error:
        raise ModelFileError(path, f"the optimizer state does not fit the model: {error}") from error


def check_optimizer_state(optimizer, state: dict[str, np.ndarray], path) -> None:
    """Refuse saved optimizer state that the built ``optimizer`` would not have made itself: an unknown entry, a
    missing step count or slot, another shape or dtype (set_state would cast it silently). Variables without any
    slots are allowed (a variable that never had a gradient has none), with a warning once training had started."""
    name = type(optimizer).__name__
    expected = optimizer.get_state()

    def refuse(reason: str) -> ModelFileError:
        return ModelFileError(path, f"the {name} optimizer state {reason} (damaged or edited? load_model(..., "
                                    f"compile=False) loads the model without its training state)")

    for key, value in state.items():
        if key not in expected:
            raise refuse(f"has an entry {key!r} that {name} does not keep for this model (it keeps "
                         f"{_described_state(expected)})")
        want = expected[key]
        if key == "iterations":
            if value.shape != () or value.dtype.kind not in "iu" or int(value) < 0:
                raise refuse(f"has a step count 'iterations' of {value.dtype.name} {value.tolist()!r}, not a "
                             f"non-negative integer")
        elif value.shape != want.shape or value.dtype != want.dtype:
            raise refuse(f"has slot {key!r} as {value.dtype.name} of shape {value.shape}, where {name} keeps "
                         f"{want.dtype.name} of shape {want.shape}")
    missing = [key for key in expected if "/" not in key and key not in state]
    if missing:
        raise refuse(f"lacks {_names(missing)}")
    slots: dict[str, list[str]] = {}
    for key in expected:
        if "/" in key:
            slots.setdefault(key.split("/")[0], []).append(key)
    saved = {position for position, keys in slots.items() if any(key in state for key in keys)}
    for position in sorted(saved, key=int):
        absent = [key for key in slots[position] if key not in state]
        if absent:
            raise refuse(f"lacks slot {_names(map(repr, absent))} of variable {position} (it has the others)")
    steps = int(state.get("iterations", 0))
    if steps and slots and not saved:
        raise refuse(f"has {steps} step(s) but none of the slots they make ({_described_state(expected)})")
    if steps and len(saved) < len(slots):
        unsaved = sorted(set(slots) - saved, key=int)
        warnings.warn(f"{os.fspath(path)}: the {name} optimizer state has no slots for variables {_names(unsaved)} "
                      f"(never updated?); they start from zero", stacklevel=4)


def _described_state(state: dict) -> str:
    """What an optimizer's state holds, in a line: "'iterations' and slots m, v of variables 0 to 3"."""
    overall = [repr(key) for key in state if "/" not in key]
    positions = sorted({int(key.split("/")[0]) for key in state if "/" in key})
    slot_names = dict.fromkeys(key.split("/", 1)[1] for key in state if "/" in key)
    if not positions:
        return _names(overall)
    return (f"{' and '.join(overall) or 'no step count'} and slots {_names(slot_names)} of variables "
            f"{positions[0]} to {positions[-1]}")


def _compile_config(model) -> dict:
    """The arguments ``model.compile`` got, as JSON: names stay names, objects become ``{"class_name", "config"}``.
    ``model.get_compile_config()`` (Keras 3's method) when the model has it."""
    if hasattr(model, "get_compile_config"):  # its values may be objects: serialized as Keras 3 does
        from chainrule.keras.saving.serialization_lib import serialize_dict

        return serialize_dict(model.get_compile_config())
    metrics = getattr(model, "_compiled_metrics", None)
    return {"optimizer": _serialized(model.optimizer), "loss": _serialized(model.loss),
            "metrics": _serialized(getattr(metrics, "spec", None)),
            "weighted_metrics": _serialized(getattr(metrics, "weighted_spec", None))}


def _serialized(identifier: Any) -> Any:
    if identifier is None or isinstance(identifier, (str, int, float, bool)):
        return identifier
    if isinstance(identifier, (list, tuple)):
        return [_serialized(item) for item in identifier]
    if isinstance(identifier, dict):
        return {key: _serialized(value) for key, value in identifier.items()}
    if hasattr(identifier, "get_config"):
        return serialize(identifier)
    if callable(identifier) and hasattr(identifier, "__name__"):
        return get_registered_name(identifier)  # "package>name" for a registered function
    raise TypeError(f"cannot save the compile argument {identifier!r}: it is not a name, a config or a function")


def _revived(spec: Any, module, custom_objects: dict | None) -> Any:
    """A compile argument with every ``{"class_name", "config"}`` turned back into the loss or metric object
    (through ``module.deserialize``); names, lists and per-output mappings keep their shape."""
    if is_serialized(spec):
        return module.deserialize(spec, custom_objects)
    if isinstance(spec, list):
        return [_revived(item, module, custom_objects) for item in spec]
    if isinstance(spec, dict):
        return {key: _revived(item, module, custom_objects) for key, item in spec.items()}
    return spec


def _with_custom_objects(value: Any, custom_objects: dict) -> Any:
    """``value`` with each name, or ``{"class_name", "config"}``, of an entry of ``custom_objects`` replaced by it."""
    if isinstance(value, str):
        return custom_objects.get(value, value)
    if isinstance(value, list):
        return [_with_custom_objects(item, custom_objects) for item in value]
    if isinstance(value, dict):
        cls = custom_objects.get(value.get("class_name"))
        if cls is not None and isinstance(value.get("config"), dict) and hasattr(cls, "from_config"):
            return cls.from_config(value["config"])
        return {key: _with_custom_objects(item, custom_objects) for key, item in value.items()}
    return value


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chainrule")
    except PackageNotFoundError:
        return "unknown"
