"""TensorFlow tutorial "Playing CartPole with the Actor-Critic method", run on chainrule.

Source: https://www.tensorflow.org/tutorials/reinforcement_learning/actor_critic
(tensorflow/docs, site/en/tutorials/reinforcement_learning/actor_critic.ipynb).

The tutorial's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`;
- gym, tqdm and tensorflow_docs are not installed here: `gym` is a stand-in with gym 0.26's API (`reset()` gives
  `(state, info)`, `step()` five values, `render()` an RGB array of the cart and pole) over tests/programs/gym_like.py's
  CartPole equations; `tqdm.trange` and `embed.embed_file` are stand-ins that record what they are given; the
  install cells are left out;
- `max_episodes = 10000` is MAX_EPISODES (marked): the test checks that training runs and the episode is rendered,
  not that CartPole is solved;
- lines marked `# test:` check what it produces.
"""

import os
import types

import matplotlib

matplotlib.use("Agg")

import numpy as np
import PIL.Image  # noqa: F401  (the tutorial's `from PIL import Image`)

import chainrule as tf
import gym_like
from chainrule.keras import layers

MAX_EPISODES = 5  # test: 10000 in the tutorial


class _CartPoleNewApi:
    """test: gym 0.26's CartPole-v1 API over gym_like's CartPole."""

    def __init__(self, name, render_mode=None):
        self._env = gym_like.make(name)
        self._env.seed(0)  # test: gym_like's episodes start from a fixed state (its generator is unseeded otherwise)
        self.action_space, self.observation_space = self._env.action_space, self._env.observation_space
        self.render_mode = render_mode

    def reset(self):
        return self._env.reset(), {}

    def step(self, action):
        state, reward, done, info = self._env.step(int(action))
        return state, reward, done, False, info

    def render(self):
        """An RGB frame: the track, the cart at its position and the pole at its angle."""
        frame = np.full((100, 150, 3), 255, np.uint8)
        x, _, theta, _ = self._env.state
        cart = int(75 + x / 2.4 * 60)
        frame[70:72] = 0
        frame[62:70, max(cart - 8, 0):cart + 8] = (50, 50, 200)
        for r in range(30):
            row, col = int(62 - r * np.cos(theta)), int(cart + r * np.sin(theta))
            if 0 <= row < 100 and 0 <= col < 150:
                frame[row, col] = (200, 120, 50)
        return frame


gym = types.SimpleNamespace(make=_CartPoleNewApi, Env=_CartPoleNewApi)  # test: stands in for gym


class _Trange:
    """test: stands in for tqdm.trange (records the postfixes)."""

    def __init__(self, n):
        self.n, self.postfixes = n, []

    def __iter__(self):
        return iter(range(self.n))

    def set_postfix(self, **values):
        self.postfixes.append(values)


tqdm = types.SimpleNamespace(trange=_Trange)  # test: stands in for tqdm
embedded = []
embed = types.SimpleNamespace(embed_file=embedded.append)  # test: stands in for tensorflow_docs.vis.embed


def test_actor_critic(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the GIF goes to a temporary folder
    import collections
    # test: `import gym` (not installed): the module-level `gym` stand-in below
    import numpy as np
    import statistics
    # test: `import tqdm` (not installed): the module-level `tqdm` stand-in below

    from matplotlib import pyplot as plt
    from typing import Any, List, Sequence, Tuple

    # Create the environment
    env = gym.make("CartPole-v1")

    # Set seed for experiment reproducibility
    seed = 42
    tf.random.set_seed(seed)
    np.random.seed(seed)

    # Small epsilon value for stabilizing division operations
    eps = np.finfo(np.float32).eps.item()

    class ActorCritic(tf.keras.Model):
      """Combined actor-critic network."""

      def __init__(
          self,
          num_actions: int,
          num_hidden_units: int):
        """Initialize."""
        super().__init__()

        self.common = layers.Dense(num_hidden_units, activation="relu")
        self.actor = layers.Dense(num_actions)
        self.critic = layers.Dense(1)

      def call(self, inputs: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        x = self.common(inputs)
        return self.actor(x), self.critic(x)

    num_actions = env.action_space.n  # 2
    num_hidden_units = 128

    model = ActorCritic(num_actions, num_hidden_units)

    # Wrap Gym's `env.step` call as an operation in a TensorFlow function.
    # This would allow it to be included in a callable TensorFlow graph.

    @tf.numpy_function(Tout=[tf.float32, tf.int32, tf.int32])
    def env_step(action: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
      """Returns state, reward and done flag given an action."""

      state, reward, done, truncated, info = env.step(action)
      return (state.astype(np.float32),
              np.array(reward, np.int32),
              np.array(done, np.int32))

    def run_episode(
        initial_state: tf.Tensor,
        model: tf.keras.Model,
        max_steps: int) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
      """Runs a single episode to collect training data."""

      action_probs = tf.TensorArray(dtype=tf.float32, size=0, dynamic_size=True)
      values = tf.TensorArray(dtype=tf.float32, size=0, dynamic_size=True)
      rewards = tf.TensorArray(dtype=tf.int32, size=0, dynamic_size=True)

      initial_state_shape = initial_state.shape
      state = initial_state

      for t in tf.range(max_steps):
        # Convert state into a batched tensor (batch size = 1)
        state = tf.expand_dims(state, 0)

        # Run the model and to get action probabilities and critic value
        action_logits_t, value = model(state)

        # Sample next action from the action probability distribution
        action = tf.random.categorical(action_logits_t, 1)[0, 0]
        action_probs_t = tf.nn.softmax(action_logits_t)

        # Store critic values
        values = values.write(t, tf.squeeze(value))

        # Store log probability of the action chosen
        action_probs = action_probs.write(t, action_probs_t[0, action])

        # Apply action to the environment to get next state and reward
        state, reward, done = env_step(action)
        state.set_shape(initial_state_shape)

        # Store reward
        rewards = rewards.write(t, reward)

        if tf.cast(done, tf.bool):
          break

      action_probs = action_probs.stack()
      values = values.stack()
      rewards = rewards.stack()

      return action_probs, values, rewards

    def get_expected_return(
        rewards: tf.Tensor,
        gamma: float,
        standardize: bool = True) -> tf.Tensor:
      """Compute expected returns per timestep."""

      n = tf.shape(rewards)[0]
      returns = tf.TensorArray(dtype=tf.float32, size=n)

      # Start from the end of `rewards` and accumulate reward sums
      # into the `returns` array
      rewards = tf.cast(rewards[::-1], dtype=tf.float32)
      discounted_sum = tf.constant(0.0)
      discounted_sum_shape = discounted_sum.shape
      for i in tf.range(n):
        reward = rewards[i]
        discounted_sum = reward + gamma * discounted_sum
        discounted_sum.set_shape(discounted_sum_shape)
        returns = returns.write(i, discounted_sum)
      returns = returns.stack()[::-1]

      if standardize:
        returns = ((returns - tf.math.reduce_mean(returns)) /
                   (tf.math.reduce_std(returns) + eps))

      return returns

    huber_loss = tf.keras.losses.Huber(reduction=tf.keras.losses.Reduction.SUM)

    def compute_loss(
        action_probs: tf.Tensor,
        values: tf.Tensor,
        returns: tf.Tensor) -> tf.Tensor:
      """Computes the combined Actor-Critic loss."""

      advantage = returns - values

      action_log_probs = tf.math.log(action_probs)
      actor_loss = -tf.math.reduce_sum(action_log_probs * advantage)

      critic_loss = huber_loss(values, returns)

      return actor_loss + critic_loss

    optimizer = tf.keras.optimizers.Adam(learning_rate=0.01)

    @tf.function
    def train_step(
        initial_state: tf.Tensor,
        model: tf.keras.Model,
        optimizer: tf.keras.optimizers.Optimizer,
        gamma: float,
        max_steps_per_episode: int) -> tf.Tensor:
      """Runs a model training step."""

      with tf.GradientTape() as tape:

        # Run the model for one episode to collect training data
        action_probs, values, rewards = run_episode(
            initial_state, model, max_steps_per_episode)

        # Calculate the expected returns
        returns = get_expected_return(rewards, gamma)

        # Convert training data to appropriate TF tensor shapes
        action_probs, values, returns = [
            tf.expand_dims(x, 1) for x in [action_probs, values, returns]]

        # Calculate the loss values to update our network
        loss = compute_loss(action_probs, values, returns)

      # Compute the gradients from the loss
      grads = tape.gradient(loss, model.trainable_variables)

      # Apply the gradients to the model's parameters
      optimizer.apply_gradients(zip(grads, model.trainable_variables))

      episode_reward = tf.math.reduce_sum(rewards)

      return episode_reward

    # shell: %%time

    min_episodes_criterion = 100
    max_episodes = MAX_EPISODES  # test: 10000 in the tutorial
    max_steps_per_episode = 500

    # `CartPole-v1` is considered solved if average reward is >= 475 over 500
    # consecutive trials
    reward_threshold = 475
    running_reward = 0

    # The discount factor for future rewards
    gamma = 0.99

    # Keep the last episodes reward
    episodes_reward: collections.deque = collections.deque(maxlen=min_episodes_criterion)

    t = tqdm.trange(max_episodes)
    for i in t:
        initial_state, info = env.reset()
        initial_state = tf.constant(initial_state, dtype=tf.float32)
        episode_reward = int(train_step(
            initial_state, model, optimizer, gamma, max_steps_per_episode))

        episodes_reward.append(episode_reward)
        running_reward = statistics.mean(episodes_reward)

        t.set_postfix(
            episode_reward=episode_reward, running_reward=running_reward)

        # Show the average episode reward every 10 episodes
        if i % 10 == 0:
          pass # print(f'Episode {i}: average reward: {avg_reward}')

        if running_reward > reward_threshold and i >= min_episodes_criterion:
            break

    print(f'\nSolved at episode {i}: average reward: {running_reward:.2f}!')

    # Render an episode and save as a GIF file

    # test: `from IPython import display as ipythondisplay` left out (IPython is not installed; the tutorial does not use it)
    from PIL import Image

    render_env = gym.make("CartPole-v1", render_mode='rgb_array')

    def render_episode(env: gym.Env, model: tf.keras.Model, max_steps: int):
      state, info = env.reset()
      state = tf.constant(state, dtype=tf.float32)
      screen = env.render()
      images = [Image.fromarray(screen)]

      for i in range(1, max_steps + 1):
        state = tf.expand_dims(state, 0)
        action_probs, _ = model(state)
        action = np.argmax(np.squeeze(action_probs))

        state, reward, done, truncated, info = env.step(action)
        state = tf.constant(state, dtype=tf.float32)

        # Render screen every 10 steps
        if i % 10 == 0:
          screen = env.render()
          images.append(Image.fromarray(screen))

        if done:
          break

      return images

    # Save GIF image
    images = render_episode(render_env, model, max_steps_per_episode)
    image_file = 'cartpole-v1.gif'
    # loop=0: loop forever, duration=1: play each frame for 1ms
    images[0].save(
        image_file, save_all=True, append_images=images[1:], loop=0, duration=1)

    # test: `import tensorflow_docs.vis.embed as embed`: the module-level `embed` stand-in below
    embed.embed_file(image_file)

    assert len(t.postfixes) == MAX_EPISODES and all(p["episode_reward"] > 0 for p in t.postfixes)  # test
    assert "Solved at episode 4" in capsys.readouterr().out  # test: the loop ran MAX_EPISODES episodes
    assert embedded == ['cartpole-v1.gif'] and os.path.getsize('cartpole-v1.gif') > 0  # test
    assert len(images) >= 2 and images[0].size == (150, 100)  # test: frames every 10 steps
