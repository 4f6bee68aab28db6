"""MultiHeadAttention subclasses that override Keras's ``_compute_attention`` hook: the layer runs it (never its
fused self-attention), with the optional arguments its signature takes."""

import numpy as np

from chainrule.keras import layers, ops


class Doubled(layers.MultiHeadAttention):
    """The older signature (no return_attention_scores, no use_causal_mask): scores from doubled queries."""

    def _compute_attention(self, query, key, value, attention_mask=None, training=None):
        return super()._compute_attention(query * 2.0, key, value, attention_mask, training,
                                          return_attention_scores=True)


def _plain_like(layer, x):
    plain = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    plain(x, x)
    plain.set_weights(layer.get_weights())
    return plain


def test_an_override_with_the_old_signature_runs_with_a_causal_mask():
    x = np.random.rand(2, 5, 8).astype("float32")
    layer = Doubled(num_heads=2, key_dim=4)
    out, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    scores = ops.convert_to_numpy(scores)
    assert np.allclose(np.triu(scores[0, 0], 1), 0)  # the causal mask reached the override as attention_mask
    plain = _plain_like(layer, x)
    _, plain_scores = plain(x * 1.0, x, use_causal_mask=True, return_attention_scores=True)
    assert not np.allclose(scores, ops.convert_to_numpy(plain_scores))  # the doubled queries were used


def test_an_overridden_compute_attention_is_used_for_self_attention():
    x = np.random.rand(2, 5, 8).astype("float32")
    layer = Doubled(num_heads=2, key_dim=4)
    y = ops.convert_to_numpy(layer(x, x))
    plain = _plain_like(layer, x)
    assert not np.allclose(y, ops.convert_to_numpy(plain(x, x)))  # (the fused self-attention would skip it)
    layer_x2 = _plain_like(layer, x)
    # doubling the queries is doubling the query projection's kernel and bias
    kernel, bias = layer_x2._query_dense.get_weights()
    layer_x2._query_dense.set_weights([kernel * 2.0, bias * 2.0])
    np.testing.assert_allclose(y, ops.convert_to_numpy(layer_x2(x, x)), rtol=1e-5, atol=1e-6)
