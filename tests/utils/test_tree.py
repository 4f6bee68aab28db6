"""chainrule.utils.tree against Keras 3's keras.tree (and tf.nest) behaviour: leaf order, sorted dict keys,
namedtuples, None, packing, structure checks and their errors; and the names keras.tree and tf.nest."""
import collections

import numpy as np
import pytest
from hypothesis import given, strategies as st

from chainrule.utils import tree

Point = collections.namedtuple("Point", ["x", "y"])


def test_flatten_orders_leaves_depth_first_with_dict_values_by_sorted_key():
    assert tree.flatten([[1, 2, 3], [4, [5], [[6]]]]) == [1, 2, 3, 4, 5, 6]
    assert tree.flatten({"b": 1, "a": (2, [3])}) == [2, 3, 1]
    assert tree.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]  # its own order, as Keras 3
    assert tree.flatten(Point(1, (2, 3))) == [1, 2, 3]
    assert tree.flatten(None) == [None] and tree.flatten([None, 1]) == [None, 1]
    assert tree.flatten("text") == ["text"] and tree.flatten([]) == [] and tree.flatten({}) == []
    array = np.arange(3)
    assert tree.flatten(array)[0] is array  # an array is a leaf, not a sequence


def test_pack_sequence_as_rebuilds_each_kind_of_container_with_its_key_order():
    structure = {"key3": {"c": ("alpha", "beta"), "a": "gamma"}, "key1": {"e": "val1", "d": "val2"}}
    packed = tree.pack_sequence_as(structure, ["val2", "val1", 3.0, 1.0, 2.0])
    assert packed == {"key3": {"c": (1.0, 2.0), "a": 3.0}, "key1": {"e": "val1", "d": "val2"}}
    assert list(packed) == ["key3", "key1"] and list(packed["key3"]) == ["c", "a"]
    assert tree.pack_sequence_as(Point(0, [0, 0]), [1, 2, 3]) == Point(1, [2, 3])
    counts = tree.pack_sequence_as(collections.defaultdict(int, a=0), [5])
    assert isinstance(counts, collections.defaultdict) and counts["missing"] == 0 and counts["a"] == 5
    assert tree.pack_sequence_as("leaf", [7]) == 7


def test_pack_sequence_as_refuses_the_wrong_number_of_leaves_or_a_non_sequence():
    with pytest.raises(ValueError, match="Structure had 2 leaves, but flat_sequence had 3 items"):
        tree.pack_sequence_as([0, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="had 1 leaves, but flat_sequence had 2"):
        tree.pack_sequence_as("leaf", [1, 2])
    with pytest.raises(TypeError, match="iterable"):
        tree.pack_sequence_as([0], 5)


def test_map_structure_over_one_or_several_structures():
    assert tree.map_structure(lambda v: v ** 2, [[1], [2], [3]]) == [[1], [4], [9]]
    assert tree.map_structure(lambda a, b: a * b, {"b": 2, "a": (3,)}, {"a": (4,), "b": 5}) == {"b": 10, "a": (12,)}
    assert tree.map_structure(lambda v: v * 2, Point(1, 2)) == Point(2, 4)
    assert tree.map_structure(lambda v: v + 1, 1) == 2
    assert tree.map_structure(str, [None, 1]) == ["None", "1"]
    assert tree.map_structure(str, [None, 1], none_is_leaf=False) == [None, "1"]


def test_map_structure_matches_mappings_by_key_whatever_their_order():
    ordered = collections.OrderedDict([("b", 1), ("a", 2)])
    assert tree.map_structure(lambda x, y: (x, y), ordered, {"a": 20, "b": 10}) == {"b": (1, 10), "a": (2, 20)}


def test_map_structure_calls_func_in_flatten_order():
    seen = []
    tree.map_structure(seen.append, {"b": 1, "a": [2, 3], "c": {"z": 4, "y": 5}})
    assert seen == tree.flatten({"b": 1, "a": [2, 3], "c": {"z": 4, "y": 5}}) == [2, 3, 1, 5, 4]


def test_map_structure_refuses_structures_that_nest_differently():
    with pytest.raises(ValueError, match="same nested structure"):
        tree.map_structure(lambda a, b: a, [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="a list where the other has a tuple"):
        tree.map_structure(lambda a, b: a, [1, 2], (1, 2))
    assert tree.map_structure(lambda a, b: a + b, [1, 2], (3, 4), check_types=False) == [4, 6]
    with pytest.raises(TypeError, match="callable"):
        tree.map_structure(5, [1])
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(print)


@pytest.mark.parametrize("a, b, reason", [
    ([1], [1, 2], "1 items where the other has 2"),
    ({"a": 1}, {"b": 1}, "keys"),
    ([1, [2]], [1, 2], "the leaf 2"),
    (Point(1, 2), (1, 2), "Point where the other has a tuple"),
    (collections.namedtuple("Point", ["x", "y"])(1, 2), Point(1, 2), "Point where the other has a Point"),
])
def test_assert_same_structure_names_the_first_difference(a, b, reason):
    with pytest.raises(ValueError, match=reason):
        tree.assert_same_structure(a, b)


def test_assert_same_structure_accepts_what_nests_alike():
    tree.assert_same_structure(1, "leaf")
    tree.assert_same_structure([(0, 1)], [(2, 3)])
    tree.assert_same_structure({"a": 1, "b": [2]}, collections.OrderedDict([("b", [0]), ("a", 0)]))  # any mappings
    tree.assert_same_structure([0, 1], (2, 3), check_types=False)


def test_is_nested_and_is_leaf():
    assert [tree.is_nested(s) for s in (42, "s", None, np.zeros(2), [], (), {}, Point(1, 2))] == \
        [False, False, False, False, True, True, True, True]
    lists_are_leaves = lambda s: isinstance(s, list)  # noqa: E731 (tf.data's rule)
    assert tree.flatten(([1, 2], {"a": [3]}), is_leaf=lists_are_leaves) == [[1, 2], [3]]
    assert tree.map_structure(len, ([1, 2], {"a": [3]}), is_leaf=lists_are_leaves) == (2, {"a": 1})


def test_dicts_with_unsortable_keys_are_refused():
    with pytest.raises(TypeError, match="sortable keys"):
        tree.flatten({1: "a", "b": 2})


structures = st.recursive(
    st.integers() | st.none() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=2), children, max_size=3),
    max_leaves=12)


@given(structures)
def test_pack_sequence_as_inverts_flatten(structure):
    flat = tree.flatten(structure)
    assert tree.pack_sequence_as(structure, flat) == structure
    tree.assert_same_structure(structure, tree.map_structure(lambda leaf: 0, structure))
    marked = tree.pack_sequence_as(structure, range(len(flat)))
    assert tree.flatten(marked) == list(range(len(flat)))


def test_keras_tree_and_tf_nest_are_this_module():
    import chainrule as tf
    from chainrule import keras

    assert keras.tree is tree
    assert tf.nest.flatten is tree.flatten and tf.nest.map_structure is tree.map_structure
    assert tf.nest.pack_sequence_as({"b": 0, "a": 0}, [1, 2]) == {"b": 2, "a": 1}
    assert tf.nest.is_nested([1]) and not tf.nest.is_nested(1)
    tf.nest.assert_same_structure((1, 2), (3, 4))
