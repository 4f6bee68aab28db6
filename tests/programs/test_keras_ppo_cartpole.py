"""keras-io example "Proximal Policy Optimization" (CartPole), run on chainrule.

Source: https://keras.io/examples/rl/ppo_cartpole/ (keras-team/keras-io, examples/rl/ppo_cartpole.py,
"Last modified: 2021/06/24").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`, `import gym`
  -> `import gym_like as gym` (gym is not installed: tests/programs/gym_like.py is CartPole-v0 with gym's equations
  and API);
- `steps_per_epoch = 4000` is 400, `epochs = 30` is 2, `train_policy_iterations`/`train_value_iterations` 80 are 10;
  the script's top level runs inside the test function (its functions read the module-level names it sets);
- lines marked `# test:` check what the program produces.

What it relies on: tf.function around the sampling and the two training steps (called with NumPy buffers),
tf.random.categorical, tf.squeeze on a symbolic model output, tf.one_hot of int32 actions, storing shape-(1,) and
(1, 1) tensors into NumPy buffers (int() and float() of a one-element tensor), scipy.signal.lfilter.
"""

import numpy as np
import chainrule as tf
from chainrule import keras
from chainrule.keras import layers
import gym_like as gym
import scipy.signal
import time

STEPS_PER_EPOCH = 400  # test: the example's 4000
EPOCHS = 2  # test: the example's 30
TRAIN_ITERATIONS = 10  # test: the example's 80


def discounted_cumulative_sums(x, discount):
    # Discounted cumulative sums of vectors for computing rewards-to-go and advantage estimates
    return scipy.signal.lfilter([1], [1, float(-discount)], x[::-1], axis=0)[::-1]

class Buffer:
    def __init__(self, observation_dimensions, size, gamma=0.99, lam=0.95):
        self.observation_buffer = np.zeros((size, observation_dimensions), dtype=np.float32)
        self.action_buffer = np.zeros(size, dtype=np.int32)
        self.advantage_buffer = np.zeros(size, dtype=np.float32)
        self.reward_buffer = np.zeros(size, dtype=np.float32)
        self.return_buffer = np.zeros(size, dtype=np.float32)
        self.value_buffer = np.zeros(size, dtype=np.float32)
        self.logprobability_buffer = np.zeros(size, dtype=np.float32)
        self.gamma, self.lam = gamma, lam
        self.pointer, self.trajectory_start_index = 0, 0
    def store(self, observation, action, reward, value, logprobability):
        self.observation_buffer[self.pointer] = observation
        self.action_buffer[self.pointer] = action
        self.reward_buffer[self.pointer] = reward
        self.value_buffer[self.pointer] = value
        self.logprobability_buffer[self.pointer] = logprobability
        self.pointer += 1
    def finish_trajectory(self, last_value=0):
        path_slice = slice(self.trajectory_start_index, self.pointer)
        rewards = np.append(self.reward_buffer[path_slice], last_value)
        values = np.append(self.value_buffer[path_slice], last_value)
        deltas = rewards[:-1] + self.gamma * values[1:] - values[:-1]
        self.advantage_buffer[path_slice] = discounted_cumulative_sums(deltas, self.gamma * self.lam)
        self.return_buffer[path_slice] = discounted_cumulative_sums(rewards, self.gamma)[:-1]
        self.trajectory_start_index = self.pointer
    def get(self):
        self.pointer, self.trajectory_start_index = 0, 0
        advantage_mean, advantage_std = (np.mean(self.advantage_buffer), np.std(self.advantage_buffer))
        self.advantage_buffer = (self.advantage_buffer - advantage_mean) / advantage_std
        return (self.observation_buffer, self.action_buffer, self.advantage_buffer, self.return_buffer, self.logprobability_buffer)

def mlp(x, sizes, activation=tf.tanh, output_activation=None):
    for size in sizes[:-1]:
        x = layers.Dense(units=size, activation=activation)(x)
    return layers.Dense(units=sizes[-1], activation=output_activation)(x)

def logprobabilities(logits, a):
    logprobabilities_all = tf.nn.log_softmax(logits)
    logprobability = tf.reduce_sum(tf.one_hot(a, num_actions) * logprobabilities_all, axis=1)
    return logprobability

# Sample action from actor
@tf.function
def sample_action(observation):
    logits = actor(observation)
    action = tf.squeeze(tf.random.categorical(logits, 1), axis=1)
    return logits, action

# Train the policy by maxizing the PPO-Clip objective
@tf.function
def train_policy(observation_buffer, action_buffer, logprobability_buffer, advantage_buffer):
    with tf.GradientTape() as tape:
        ratio = tf.exp(logprobabilities(actor(observation_buffer), action_buffer) - logprobability_buffer)
        min_advantage = tf.where(advantage_buffer > 0, (1 + clip_ratio) * advantage_buffer, (1 - clip_ratio) * advantage_buffer)
        policy_loss = -tf.reduce_mean(tf.minimum(ratio * advantage_buffer, min_advantage))
    policy_grads = tape.gradient(policy_loss, actor.trainable_variables)
    policy_optimizer.apply_gradients(zip(policy_grads, actor.trainable_variables))
    kl = tf.reduce_mean(logprobability_buffer - logprobabilities(actor(observation_buffer), action_buffer))
    kl = tf.reduce_sum(kl)
    return kl

# Train the value function by regression on mean-squared error
@tf.function
def train_value_function(observation_buffer, return_buffer):
    with tf.GradientTape() as tape:
        value_loss = tf.reduce_mean((return_buffer - critic(observation_buffer)) ** 2)
    value_grads = tape.gradient(value_loss, critic.trainable_variables)
    value_optimizer.apply_gradients(zip(value_grads, critic.trainable_variables))


def test_ppo_cartpole():
    global num_actions, actor, critic, policy_optimizer, value_optimizer, clip_ratio  # test: the example's module-level names
    mean_returns = []  # test
    steps_per_epoch = STEPS_PER_EPOCH
    epochs = EPOCHS
    gamma = 0.99
    clip_ratio = 0.2
    policy_learning_rate = 3e-4
    value_function_learning_rate = 1e-3
    train_policy_iterations = TRAIN_ITERATIONS
    train_value_iterations = TRAIN_ITERATIONS
    lam = 0.97
    target_kl = 0.01
    hidden_sizes = (64, 64)
    render = False
    env = gym.make("CartPole-v0")
    observation_dimensions = env.observation_space.shape[0]
    num_actions = env.action_space.n
    buffer = Buffer(observation_dimensions, steps_per_epoch)
    observation_input = keras.Input(shape=(observation_dimensions,), dtype=tf.float32)
    logits = mlp(observation_input, list(hidden_sizes) + [num_actions], tf.tanh, None)
    actor = keras.Model(inputs=observation_input, outputs=logits)
    value = tf.squeeze(mlp(observation_input, list(hidden_sizes) + [1], tf.tanh, None), axis=1)
    critic = keras.Model(inputs=observation_input, outputs=value)
    policy_optimizer = keras.optimizers.Adam(learning_rate=policy_learning_rate)
    value_optimizer = keras.optimizers.Adam(learning_rate=value_function_learning_rate)
    observation, episode_return, episode_length = env.reset(), 0, 0
    for epoch in range(epochs):
        sum_return = 0
        sum_length = 0
        num_episodes = 0
        for t in range(steps_per_epoch):
            if render:
                env.render()
            observation = observation.reshape(1, -1)
            logits, action = sample_action(observation)
            observation_new, reward, done, _ = env.step(action[0].numpy())
            episode_return += reward
            episode_length += 1
            value_t = critic(observation)
            logprobability_t = logprobabilities(logits, action)
            buffer.store(observation, action, reward, value_t, logprobability_t)
            observation = observation_new
            terminal = done
            if terminal or (t == steps_per_epoch - 1):
                last_value = 0 if done else critic(observation.reshape(1, -1))
                buffer.finish_trajectory(last_value)
                sum_return += episode_return
                sum_length += episode_length
                num_episodes += 1
                observation, episode_return, episode_length = env.reset(), 0, 0
        (observation_buffer, action_buffer, advantage_buffer, return_buffer, logprobability_buffer) = buffer.get()
        for _ in range(train_policy_iterations):
            kl = train_policy(observation_buffer, action_buffer, logprobability_buffer, advantage_buffer)
            if kl > 1.5 * target_kl:
                break
        for _ in range(train_value_iterations):
            train_value_function(observation_buffer, return_buffer)
        print(
            f" Epoch: {epoch + 1}. Mean Return: {sum_return / num_episodes}. Mean Length: {sum_length / num_episodes}"
        )
        mean_returns.append(sum_return / num_episodes)  # test

    # test: both epochs collected whole episodes and trained; the buffers hold the last epoch's steps
    assert len(mean_returns) == EPOCHS and all(1 <= r <= 200 for r in mean_returns)
    assert observation_buffer.shape == (STEPS_PER_EPOCH, 4) and set(np.unique(action_buffer)) <= {0, 1}
    assert abs(float(np.mean(advantage_buffer))) < 1e-4 and np.isfinite(return_buffer).all()
    assert np.isfinite(float(kl))
