"""Small stand-in for ``gym``'s CartPole and Pendulum environments (gym is not installed), with gym's old API:
``reset() -> state``, ``step(action) -> (state, reward, done, info)``, ``seed(seed)``, and the spaces' ``shape``,
``n``, ``high`` and ``low``.

CartPole: the classic cart-pole equations (Barto, Sutton & Anderson 1983, as gym's CartPoleEnv); an episode ends when
the pole tilts past 12 degrees, the cart leaves the track, or after ``max_episode_steps`` (200 for CartPole-v0, 500
for v1). Pendulum: gym's PendulumEnv (torque in [-2, 2], observation (cos, sin, angular velocity), reward
-(angle^2 + 0.1 velocity^2 + 0.001 torque^2)), 200 steps an episode."""

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


class Pendulum:
    max_speed, max_torque, dt, g, m, length = 8.0, 2.0, 0.05, 10.0, 1.0, 1.0

    def __init__(self, max_episode_steps: int = 200):
        self.max_episode_steps = max_episode_steps
        self._rng = np.random.default_rng()
        self.observation_space = types.SimpleNamespace(shape=(3,), dtype=np.float32,
                                                       high=np.array([1.0, 1.0, self.max_speed], np.float32))
        self.action_space = types.SimpleNamespace(shape=(1,), high=np.array([self.max_torque], np.float32),
                                                  low=np.array([-self.max_torque], np.float32))
        self.state, self._steps = None, 0

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)
        return [seed]

    def reset(self):
        self.state = np.array([self._rng.uniform(-np.pi, np.pi), self._rng.uniform(-1.0, 1.0)])
        self._steps = 0
        return self._observation()

    def _observation(self):
        theta, theta_dot = self.state
        return np.array([np.cos(theta), np.sin(theta), theta_dot], dtype=np.float32)

    def step(self, action):
        theta, theta_dot = self.state
        u = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0], -self.max_torque, self.max_torque))
        angle = ((theta + np.pi) % (2 * np.pi)) - np.pi
        cost = angle ** 2 + 0.1 * theta_dot ** 2 + 0.001 * u ** 2
        theta_dot = np.clip(theta_dot + (3 * self.g / (2 * self.length) * np.sin(theta)
                                         + 3.0 / (self.m * self.length ** 2) * u) * self.dt,
                            -self.max_speed, self.max_speed)
        self.state = np.array([theta + theta_dot * self.dt, theta_dot])
        self._steps += 1
        return self._observation(), -cost, self._steps >= self.max_episode_steps, {}


def make(name: str):
    makers = {"CartPole-v0": lambda: CartPole(200), "CartPole-v1": lambda: CartPole(500),
              "Pendulum-v0": Pendulum, "Pendulum-v1": Pendulum}
    if name not in makers:
        raise ValueError(f"gym_like knows {sorted(makers)}, not {name!r}")
    return makers[name]()
