"""Nested structures (``keras.tree``, ``tf.nest``): lists, tuples, namedtuples and dicts of leaves, in one order.

A structure is a leaf, or a list, tuple (namedtuples too) or mapping of structures; ``None``, arrays, tensors and
strings are leaves. A dict's values are taken in the order of its sorted keys (an ``OrderedDict``'s in its own
order), as Keras 3 does, so that two dicts with the same keys flatten alike; rebuilt dicts keep their key order.
``is_leaf`` (optree's and JAX's option) makes more things leaves: tf.data treats lists as leaves, for example.

>>> flatten({"b": [1, 2], "a": (3, None)})
[3, None, 1, 2]
>>> pack_sequence_as({"b": [0, 0], "a": (0, 0)}, [1, 2, 3, 4])
{'b': [3, 4], 'a': (1, 2)}
>>> map_structure(lambda x, y: x + y, (1, [2]), (10, [20]))
(11, [22])
"""
from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping
from typing import Any

IsLeaf = Callable[[Any], bool] | None  # a predicate that makes a list, tuple or mapping a leaf


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, tuple or mapping rather than a leaf.

    >>> is_nested(42), is_nested({"foo": 42}), is_nested("text")
    (False, True, False)
    """
    return isinstance(structure, (list, tuple, dict)) or isinstance(structure, Mapping)


def _is_node(structure: Any, is_leaf: IsLeaf) -> bool:
    return is_nested(structure) and (is_leaf is None or not is_leaf(structure))


def _keys(mapping: Mapping) -> list:
    """A mapping's keys in flattening order: sorted, an OrderedDict's as they are."""
    if isinstance(mapping, collections.OrderedDict):
        return list(mapping)
    try:
        return sorted(mapping)
    except TypeError as error:
        raise TypeError(f"nested structures support only dicts with sortable keys, got the keys {list(mapping)}") \
            from error


def _children(structure: Any) -> list:
    if isinstance(structure, Mapping):
        return [structure[key] for key in _keys(structure)]
    return list(structure)


def _aligned_children(first: Any, *others: Any) -> list[list]:
    """The children of each container in ``first``'s flattening order (mappings matched by key)."""
    if isinstance(first, Mapping):
        keys = _keys(first)
        return [[node[key] for key in keys] for node in (first, *others)]
    return [list(node) for node in (first, *others)]


def _rebuild(structure: Any, children: list) -> Any:
    """A container of ``structure``'s kind holding ``children`` (given in flattening order)."""
    if isinstance(structure, Mapping):
        by_key = dict(zip(_keys(structure), children))
        items = [(key, by_key[key]) for key in structure]
        if isinstance(structure, collections.defaultdict):
            return collections.defaultdict(structure.default_factory, items)
        return type(structure)(items) if isinstance(structure, dict) else dict(items)
    if isinstance(structure, tuple) and hasattr(type(structure), "_fields"):  # a namedtuple
        return type(structure)(*children)
    return type(structure)(children)


def flatten(structure: Any, *, is_leaf: IsLeaf = None) -> list:
    """The leaves of ``structure`` in order (a leaf alone gives a one-item list).

    >>> flatten([[1, 2, 3], [4, [5], [[6]]]]), flatten(None), flatten({100: "world!", 6: "Hello"})
    ([1, 2, 3, 4, 5, 6], [None], ['Hello', 'world!'])
    """
    if not _is_node(structure, is_leaf):
        return [structure]
    leaves: list = []
    for child in _children(structure):
        if _is_node(child, is_leaf):
            leaves.extend(flatten(child, is_leaf=is_leaf))
        else:
            leaves.append(child)
    return leaves


def flatten_with_path(structure: Any, *, is_leaf: IsLeaf = None) -> list[tuple[tuple, Any]]:
    """``(path, leaf)`` for each leaf in :func:`flatten`'s order; a path holds the list indices and dict keys that
    lead to the leaf (Keras 3's ``keras.tree.flatten_with_path``).

    >>> flatten_with_path({"b": [1, 2], "a": 3})
    [(('a',), 3), (('b', 0), 1), (('b', 1), 2)]
    """
    if not _is_node(structure, is_leaf):
        return [((), structure)]
    keys = _keys(structure) if isinstance(structure, Mapping) else range(len(structure))
    return [((key,) + path, leaf) for key, child in zip(keys, _children(structure))
            for path, leaf in flatten_with_path(child, is_leaf=is_leaf)]


def pack_sequence_as(structure: Any, flat_sequence: Iterable, *, is_leaf: IsLeaf = None) -> Any:
    """``flat_sequence`` rebuilt into the shape of ``structure`` (the inverse of :func:`flatten`)."""
    if isinstance(flat_sequence, (str, bytes)) or not isinstance(flat_sequence, Iterable):
        raise TypeError(f"flat_sequence must be an iterable of leaves, got {type(flat_sequence).__name__}: "
                        f"{flat_sequence!r}")
    flat = list(flat_sequence)
    count = len(flatten(structure, is_leaf=is_leaf))
    if count != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {count} leaves, but flat_sequence had {len(flat)} "
                         f"items. Structure: {structure!r}, flat_sequence: {flat!r}.")
    leaves = iter(flat)

    def pack(node):
        if not _is_node(node, is_leaf):
            return next(leaves)
        return _rebuild(node, [pack(child) for child in _children(node)])
    return pack(structure)


def assert_same_structure(a: Any, b: Any, check_types: bool = True, *, is_leaf: IsLeaf = None) -> None:
    """Raise ValueError unless ``a`` and ``b`` nest alike: the same kinds of containers (any two mappings with the
    same keys match; a list and a tuple only with ``check_types=False``) and the same lengths, down to the leaves.

    >>> assert_same_structure([(0, 1)], [(2, 3)])
    >>> assert_same_structure([0, 1], (2, 3))
    Traceback (most recent call last):
    ...
    ValueError: The two structures don't have the same nested structure.
    <BLANKLINE>
    First structure: [0, 1]
    <BLANKLINE>
    Second structure: (2, 3)
    <BLANKLINE>
    More specifically: a list where the other has a tuple
    """
    problem = _difference(a, b, check_types, is_leaf)
    if problem is not None:
        raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: {a!r}\n\n"
                         f"Second structure: {b!r}\n\nMore specifically: {problem}")


def _difference(a: Any, b: Any, check_types: bool, is_leaf: IsLeaf) -> str | None:
    """Where ``a`` and ``b`` first nest differently, in words; None when they nest alike."""
    a_node, b_node = _is_node(a, is_leaf), _is_node(b, is_leaf)
    if not (a_node or b_node):
        return None
    if a_node != b_node:
        nested, leaf = (a, b) if a_node else (b, a)
        return f"a {type(nested).__name__} where the other has the leaf {leaf!r}"
    if isinstance(a, Mapping) != isinstance(b, Mapping) or \
            (check_types and not isinstance(a, Mapping) and type(a) is not type(b)):
        return f"a {type(a).__name__} where the other has a {type(b).__name__}"
    if isinstance(a, Mapping) and set(a) != set(b):
        return f"a mapping with the keys {_keys(a)} where the other has the keys {_keys(b)}"
    if len(a) != len(b):
        return f"a {type(a).__name__} of {len(a)} items where the other has {len(b)} items"
    for x, y in zip(*_aligned_children(a, b)):
        problem = _difference(x, y, check_types, is_leaf)
        if problem is not None:
            return problem
    return None


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True, check_types: bool = True,
                  is_leaf: IsLeaf = None) -> Any:
    """``func`` applied to the leaves of ``structures`` (which must nest alike), in the shape of the first one.
    ``none_is_leaf=False`` keeps each ``None`` of the first structure as it is instead of calling ``func`` on it.

    >>> map_structure(lambda v: v * 2, {"a": [1, 2], "b": None}, none_is_leaf=False)
    {'a': [2, 4], 'b': None}
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func!r}")
    if not structures:
        raise ValueError("Must provide at least one structure")
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types, is_leaf=is_leaf)

    def apply(first, *others):
        if not _is_node(first, is_leaf):
            return None if first is None and not none_is_leaf else func(first, *others)
        return _rebuild(first, [apply(*nodes) for nodes in zip(*_aligned_children(first, *others))])
    return apply(*structures)


class MAP_TO_NONE:  # noqa: N801  (Keras's name)
    """What a :func:`traverse` function returns to replace a sub-structure with ``None`` (returning None itself
    means "leave it")."""


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Call ``func`` on every sub-structure, depth first; a result other than None replaces that sub-structure
    (:class:`MAP_TO_NONE` replaces it with None). Top-down, a replaced sub-structure is not entered.

    >>> seen = []
    >>> traverse(seen.append, [(1, 2), {"a": 3}])
    [(1, 2), {'a': 3}]
    >>> seen
    [[(1, 2), {'a': 3}], (1, 2), 1, 2, {'a': 3}, 3]
    >>> traverse(lambda x: x * 10 if isinstance(x, int) else None, [(1, 2), 3], top_down=False)
    [(10, 20), 30]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")

    def children_traversed(node):
        if not is_nested(node):
            return node
        return _rebuild(node, [traverse(func, child, top_down) for child in _children(node)])

    if top_down:
        result = func(structure)
        if result is None:
            return children_traversed(structure)
    else:
        traversed = children_traversed(structure)
        result = func(traversed)
        if result is None:
            return traversed
    return None if result is MAP_TO_NONE else result


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """``func`` applied to the sub-structures of ``structures`` found at the leaves of ``shallow_structure``; below
    those, ``structures`` may nest deeper and are passed whole.

    >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2]])
    [2, 2]
    >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
    ['[1, 1]', ['2', '2']]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")

    def apply(shallow, *nodes):
        if not is_nested(shallow):
            return func(*nodes)
        for node in nodes:  # each must hold the shallow container's items (deeper below them is fine)
            if not is_nested(node) or isinstance(node, Mapping) != isinstance(shallow, Mapping) or (
                    set(node) != set(shallow) if isinstance(shallow, Mapping) else len(node) != len(shallow)):
                raise ValueError(f"Structures don't have the same nested structure: {node!r} does not nest as "
                                 f"{shallow!r}")
        return _rebuild(shallow, [apply(*children) for children in zip(*_aligned_children(shallow, *nodes))])
    return apply(shallow_structure, *structures)


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same leaf paths (list and tuple indices, dict keys),
    whatever their container types.

    >>> assert_same_paths([0, 1], (2, 3))
    >>> assert_same_paths({"a": 1}, {"b": 1})
    Traceback (most recent call last):
    ...
    ValueError: `a` and `b` don't have the same paths.
    Paths in `a` missing in `b`:
    {('a',)}
    Paths in `b` missing in `a`:
    {('b',)}
    """
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        message = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            message += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            message += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(message)


def lists_to_tuples(structure: Any) -> Any:
    """``structure`` with every list, at any depth, made a tuple.

    >>> lists_to_tuples({"a": [1, [2, 3]], "b": (4,)})
    {'a': (1, (2, 3)), 'b': (4,)}
    """
    return traverse(lambda node: tuple(node) if isinstance(node, list) else None, structure, top_down=False)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in value)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """``func`` applied to each shape (a list or tuple of ints and Nones) of a structure of shapes.

    >>> map_shape_structure(lambda shape: (None,) + tuple(shape), {"x": (2, 3), "y": [[4], [5]]})
    {'x': (None, 2, 3), 'y': [(None, 4), (None, 5)]}
    """
    return map_structure(func, structure, is_leaf=_is_shape)
