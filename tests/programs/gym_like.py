"""Small stand-in for ``gym``'s CartPole environments (gym is not installed): the classic cart-pole equations
(Barto, Sutton & Anderson 1983, as gym's CartPoleEnv), with gym's old API: ``reset() -> state``, ``step(action) ->
(state, reward, done, info)``, ``seed(seed)``; an episode ends when the pole tilts past 12 degrees, the cart leaves
the track, or after ``max_episode_steps`` (200 for CartPole-v0, 500 for v1). ``observation_space.shape`` and
``action_space.n`` are gym's."""

import math
import types

import numpy as np


class CartPole:
    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold, x_threshold = 12 * 2 * math.pi / 360, 2.4

    def __init__(self, max_episode_steps: int):
        self.max_episode_steps = max_episode_steps
        self._rng = np.random.default_rng()
        self.observation_space = types.SimpleNamespace(shape=(4,), dtype=np.float32)
        self.action_space = types.SimpleNamespace(n=2, sample=lambda: int(self._rng.integers(2)))
        self.state, self._steps = None, 0

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)
        return [seed]

    def reset(self):
        self.state, self._steps = self._rng.uniform(-0.05, 0.05, size=4), 0
        return self.state.astype(np.float32)

    def step(self, action):
        if action not in (0, 1):
            raise ValueError(f"CartPole takes action 0 or 1, got {action!r}")
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass, pole_mass_length = self.masscart + self.masspole, self.masspole * self.length
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + pole_mass_length * theta_dot ** 2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * cos ** 2 / total_mass))
        x_acc = temp - pole_mass_length * theta_acc * cos / total_mass
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * x_acc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc
        self.state = np.array([x, x_dot, theta, theta_dot])
        self._steps += 1
        done = bool(abs(x) > self.x_threshold or abs(theta) > self.theta_threshold
                    or self._steps >= self.max_episode_steps)
        return self.state.astype(np.float32), 1.0, done, {}


def make(name: str) -> CartPole:
    limits = {"CartPole-v0": 200, "CartPole-v1": 500}
    if name not in limits:
        raise ValueError(f"gym_like knows {sorted(limits)}, not {name!r}")
    return CartPole(limits[name])
