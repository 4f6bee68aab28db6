import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.keras import layers
from layer_checks import (check_config_round_trip, check_gradients_reach_weights, check_weights_round_trip, rand)


def test_weights_in_keras_order_and_shapes():
    bn = layers.BatchNormalization()
    y = bn(rand(4, 5, 5, 3))
    assert y.shape == (4, 5, 5, 3) and y.dtype == np.float32
    names = [v.name.split("/")[-1] for v in bn.weights]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]
    gamma, beta, mean, var = bn.get_weights()
    for w, fill in ((gamma, 1), (beta, 0), (mean, 0), (var, 1)):
        assert w.shape == (3,)
        np.testing.assert_array_equal(w, fill)
    assert [v.name.split("/")[-1] for v in bn.trainable_variables] == ["gamma", "beta"]
    assert len(bn.non_trainable_weights) == 2
    assert bn.compute_output_shape((None, 5, 5, 3)) == (None, 5, 5, 3)


def test_center_scale_off():
    bn = layers.BatchNormalization(center=False, scale=False)
    bn(rand(2, 3))
    assert [v.name.split("/")[-1] for v in bn.weights] == ["moving_mean", "moving_variance"]
    assert bn.trainable_variables == []


def test_training_matches_torch_and_moving_statistics_follow_keras():
    x = rand(6, 4, 5, 3, dtype="float64") * 2 + 1
    bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-3, dtype="float64")
    bn(x)  # build (inference: no update)
    gamma, beta = rand(3, seed=1, dtype="float64"), rand(3, seed=2, dtype="float64")
    mean0, var0 = rand(3, seed=3, dtype="float64"), np.abs(rand(3, seed=4, dtype="float64")) + 0.5
    bn.set_weights([gamma, beta, mean0, var0])
    g = rand(*x.shape, seed=5, dtype="float64")
    xt = cr.Tensor(x, requires_grad=True)
    with cr.GradientTape() as tape:
        y = bn(xt, training=True)
        loss = cr.reduce_sum(y * g)
    dx, dgamma, dbeta = tape.gradient(loss, [xt, bn.gamma, bn.beta])

    ref_bn = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.1).double().train()
    with torch.no_grad():
        ref_bn.weight.copy_(torch.tensor(gamma))
        ref_bn.bias.copy_(torch.tensor(beta))
        ref_bn.running_mean.copy_(torch.tensor(mean0))
    x_t = torch.tensor(x, requires_grad=True)
    ref = ref_bn(x_t.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dgamma.numpy(), ref_bn.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dbeta.numpy(), ref_bn.bias.grad.numpy(), rtol=1e-10)

    # Keras: moving = moving * momentum + batch * (1 - momentum), with the biased batch variance
    batch_mean, batch_var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.9 * mean0 + 0.1 * batch_mean, rtol=1e-12)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 * var0 + 0.1 * batch_var, rtol=1e-12)
    np.testing.assert_allclose(bn.moving_mean.numpy(), ref_bn.running_mean.numpy(), rtol=1e-12)


def test_moving_statistics_converge_and_inference_uses_them():
    bn = layers.BatchNormalization(momentum=0.5)
    x = rand(64, 2) * np.float32(3) + np.float32(5)
    for _ in range(40):
        y = bn(x, training=True)
    assert y.dtype == np.float32 and bn.moving_mean.dtype == np.float32 and bn.moving_variance.dtype == np.float32
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), x.var(axis=0), rtol=1e-4)
    bn.set_weights([np.float32([2, 3]), np.float32([1, -1]), np.float32([1, 2]), np.float32([4, 9])])
    y = bn(x)  # training=False by default
    want = (x - [1, 2]) / np.sqrt(np.float32([4, 9]) + 1e-3) * [2, 3] + [1, -1]
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
    before = bn.get_weights()
    bn(x, training=False)
    for a, b in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_frozen_layer_runs_in_inference_mode():
    bn = layers.BatchNormalization()
    x = rand(8, 3) + np.float32(4)
    bn(x)
    bn.trainable = False
    y = bn(x, training=True)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0)
    np.testing.assert_allclose(y.numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    assert bn.trainable_variables == [] and not bn.gamma.requires_grad


def test_other_axis():
    x = rand(4, 3, 6) * np.float32(2)
    bn = layers.BatchNormalization(axis=1)
    y = bn(x, training=True)
    assert bn.gamma.shape == (3,)
    xm = (x - x.mean(axis=(0, 2), keepdims=True)) / np.sqrt(x.var(axis=(0, 2), keepdims=True) + 1e-3)
    np.testing.assert_allclose(y.numpy(), xm, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError) as e:
        bn(rand(4, 5, 6))
    assert bn.name in str(e.value) and "(4, 5, 6)" in str(e.value)


def test_gradients_reach_every_weight():
    check_gradients_reach_weights(layers.BatchNormalization(), rand(5, 3, 3, 4))


def test_weights_and_config_round_trip():
    bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-4, gamma_regularizer="l2", name="bn_a")
    x = rand(4, 3)
    bn(x, training=True)
    check_weights_round_trip(bn)
    config = bn.get_config()
    for key in ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
                "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer", "gamma_regularizer"):
        assert key in config
    assert config["momentum"] == 0.9 and config["epsilon"] == 1e-4
    check_config_round_trip(bn, x)


def test_regularizer_losses():
    bn = layers.BatchNormalization(gamma_regularizer=cr.regularizers.L2(0.5), beta_regularizer=cr.regularizers.L1(0.1))
    bn(rand(3, 2))
    np.testing.assert_allclose([float(v) for v in bn.losses], [0.5 * 2, 0.0])
