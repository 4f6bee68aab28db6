"""``tf.train``: training checkpoints (``Checkpoint``, ``CheckpointManager``, ``latest_checkpoint``) and reading
them (``list_variables``, ``load_variable``, ``load_checkpoint``).

==================  ====================================================================================
``object_graph.py``  what a checkpoint saves: the objects' dependencies by attribute name, and the keys
``checkpoint.py``    ``Checkpoint``: save/write/restore/read, restore-on-create, the load status, the files
``management.py``    the folder's ``checkpoint`` state file, ``latest_checkpoint``, ``CheckpointManager``
``reader.py``        ``load_checkpoint``, ``list_variables``, ``load_variable``
==================  ====================================================================================

``tf.train.Example`` and its parts are the protobuf classes of ``chainrule/compat/tf/example_proto.py``.
"""
from chainrule.compat.tf.train.checkpoint import Checkpoint, CheckpointOptions
from chainrule.compat.tf.train.management import (CheckpointManager, CheckpointState, get_checkpoint_state,
                                                  latest_checkpoint)
from chainrule.compat.tf.train.reader import CheckpointReader, list_variables, load_checkpoint, load_variable
from chainrule.compat.tf import example_proto as _example_proto


def __getattr__(name: str):
    """``tf.train.Example`` and its parts, made on first use (importing chainrule needs no protobuf)."""
    if name in _example_proto.NAMES:
        return getattr(_example_proto, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BytesList", "Example", "Feature", "FeatureList", "FeatureLists", "Features", "FloatList", "Int64List",
           "SequenceExample", "Checkpoint", "CheckpointManager", "CheckpointOptions", "CheckpointReader",
           "CheckpointState", "get_checkpoint_state", "latest_checkpoint", "list_variables", "load_checkpoint", "load_variable"]
