"""``tf.train.Example`` and its parts (``Features``, ``Feature``, ``BytesList``, ``FloatList``, ``Int64List``,
``FeatureList``, ``FeatureLists``, ``SequenceExample``): real protobuf message classes with TensorFlow's schema
(tensorflow/core/example/feature.proto and example.proto, package ``tensorflow``), so their bytes and text format
are TensorFlow's and ``SerializeToString`` / ``FromString`` / ``ParseFromString`` work unchanged.

No installed package ships these two .proto files compiled (tensorboard compiles only its own), so the schema is
declared here with protobuf's descriptor API, in a pool of its own so that a real TensorFlow imported beside
chainrule keeps its classes.

>>> import chainrule as tf
>>> example = tf.train.Example(features=tf.train.Features(feature={
...     "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[3]))}))
>>> tf.train.Example.FromString(example.SerializeToString()).features.feature["label"].int64_list.value[0]
3
"""
from __future__ import annotations

import functools

from chainrule.utils.optional import require_protobuf

NAMES = ("BytesList", "Example", "Feature", "FeatureList", "FeatureLists", "Features", "FloatList", "Int64List",
         "SequenceExample")


def _camel(name: str) -> str:
    """protoc's JSON name of a field: int64_list -> int64List."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _message(file, name: str, fields: list[tuple], oneof: str | None = None,
             maps: dict[str, str] | None = None) -> None:
    """Declare ``message name { fields }``; each field is (name, number, type, label, type_name or None); ``maps``
    names the fields that are ``map<string, V>`` (with V's message name), ``oneof`` puts all fields in one oneof."""
    _Field = _field_type()
    message = file.message_type.add(name=name)
    if oneof:
        message.oneof_decl.add(name=oneof)
    for field_name, number, kind, label, type_name in fields:
        field = message.field.add(name=field_name, number=number, type=kind, label=label, json_name=_camel(field_name))
        if type_name:
            field.type_name = type_name
        if oneof:
            field.oneof_index = 0
    for field_name, value_type in (maps or {}).items():
        entry = message.nested_type.add(name="".join(part.title() for part in field_name.split("_")) + "Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_Field.TYPE_STRING, label=_Field.LABEL_OPTIONAL, json_name="key")
        entry.field.add(name="value", number=2, type=_Field.TYPE_MESSAGE, label=_Field.LABEL_OPTIONAL,
                        type_name=value_type, json_name="value")
        message.field.add(name=field_name, number=1, type=_Field.TYPE_MESSAGE, label=_Field.LABEL_REPEATED,
                          type_name=f".tensorflow.{name}.{entry.name}", json_name=_camel(field_name))


def _field_type():
    require_protobuf()
    from google.protobuf import descriptor_pb2
    return descriptor_pb2.FieldDescriptorProto


@functools.lru_cache(maxsize=None)
def _schema():
    """A descriptor pool of its own holding TensorFlow's feature.proto and example.proto."""
    require_protobuf()
    from google.protobuf import descriptor_pb2, descriptor_pool
    _Field = descriptor_pb2.FieldDescriptorProto
    repeated, optional, message = _Field.LABEL_REPEATED, _Field.LABEL_OPTIONAL, _Field.TYPE_MESSAGE
    feature = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/feature.proto",
                                                 package="tensorflow", syntax="proto3")
    _message(feature, "BytesList", [("value", 1, _Field.TYPE_BYTES, repeated, None)])
    _message(feature, "FloatList", [("value", 1, _Field.TYPE_FLOAT, repeated, None)])
    _message(feature, "Int64List", [("value", 1, _Field.TYPE_INT64, repeated, None)])
    _message(feature, "Feature", [("bytes_list", 1, message, optional, ".tensorflow.BytesList"),
                                  ("float_list", 2, message, optional, ".tensorflow.FloatList"),
                                  ("int64_list", 3, message, optional, ".tensorflow.Int64List")], oneof="kind")
    _message(feature, "Features", [], maps={"feature": ".tensorflow.Feature"})
    _message(feature, "FeatureList", [("feature", 1, message, repeated, ".tensorflow.Feature")])
    _message(feature, "FeatureLists", [], maps={"feature_list": ".tensorflow.FeatureList"})
    example = descriptor_pb2.FileDescriptorProto(name="tensorflow/core/example/example.proto", package="tensorflow",
                                                 syntax="proto3", dependency=[feature.name])
    _message(example, "Example", [("features", 1, message, optional, ".tensorflow.Features")])
    _message(example, "SequenceExample", [("context", 1, message, optional, ".tensorflow.Features"),
                                          ("feature_lists", 2, message, optional, ".tensorflow.FeatureLists")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(feature)
    pool.Add(example)
    return pool


@functools.lru_cache(maxsize=None)
def _class(name: str) -> type:
    require_protobuf()
    from google.protobuf import message_factory
    return message_factory.GetMessageClass(_schema().FindMessageTypeByName(f"tensorflow.{name}"))


def __getattr__(name: str):
    """The message classes, made on first use (importing chainrule needs no protobuf)."""
    if name in NAMES:
        return _class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(NAMES)
