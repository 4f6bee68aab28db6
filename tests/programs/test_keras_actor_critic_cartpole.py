"""keras-io example "Actor Critic Method" (CartPole), run on chainrule.

Source: https://keras.io/examples/rl/actor_critic_cartpole/ (keras-team/keras-io, examples/rl/actor_critic_cartpole.py,
"Last modified: 2020/05/13").

The example's code is kept as written, except:
- the import lines: `import gym` -> `import gym_like as gym` (gym is not installed: tests/programs/gym_like.py is the
  CartPole-v0 environment with gym's equations and old reset/step API), `import tensorflow as tf` -> `import chainrule
  as tf`, `from tensorflow import keras` -> `from chainrule import keras`, `from tensorflow.keras import layers` ->
  `from chainrule.keras import layers`;
- `while True:  # Run until solved` runs at most EPISODES episodes;
- lines marked `# test:` check what the program produces.

What it relies on: one GradientTape around a whole episode of model calls on single states, indexing outputs
(`critic_value[0, 0]`, `action_probs[0, action]` with a NumPy integer), np.random.choice(p=np.squeeze(tensor)),
Python's sum() over scalar tensors, Huber on 1-element tensors, and the gradient through all of it.
"""

import numpy as np

import gym_like as gym
import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

EPISODES = 40  # test: the example runs until the running reward passes 195


def test_actor_critic_cartpole():
    # Configuration parameters for the whole setup
    seed = 42
    gamma = 0.99  # Discount factor for past rewards
    max_steps_per_episode = 10000
    env = gym.make("CartPole-v0")  # Create the environment
    env.seed(seed)
    eps = np.finfo(np.float32).eps.item()  # Smallest number such that 1.0 + eps != 1.0

    num_inputs = 4
    num_actions = 2
    num_hidden = 128

    inputs = layers.Input(shape=(num_inputs,))
    common = layers.Dense(num_hidden, activation="relu")(inputs)
    action = layers.Dense(num_actions, activation="softmax")(common)
    critic = layers.Dense(1)(common)

    model = keras.Model(inputs=inputs, outputs=[action, critic])

    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    huber_loss = keras.losses.Huber()
    action_probs_history = []
    critic_value_history = []
    rewards_history = []
    running_reward = 0
    episode_count = 0
    weights_before = [w.numpy().copy() for w in model.trainable_variables]  # test
    episode_rewards = []  # test

    for _ in range(EPISODES):  # test: the example's `while True:  # Run until solved`
        state = env.reset()
        episode_reward = 0
        with tf.GradientTape() as tape:
            for timestep in range(1, max_steps_per_episode):
                # env.render(); Adding this line would show the attempts
                # of the agent in a pop up window.

                state = tf.convert_to_tensor(state)
                state = tf.expand_dims(state, 0)

                # Predict action probabilities and estimated future rewards
                # from environment state
                action_probs, critic_value = model(state)
                critic_value_history.append(critic_value[0, 0])

                # Sample action from action probability distribution
                action = np.random.choice(num_actions, p=np.squeeze(action_probs))
                action_probs_history.append(tf.math.log(action_probs[0, action]))

                # Apply the sampled action in our environment
                state, reward, done, _ = env.step(action)
                rewards_history.append(reward)
                episode_reward += reward

                if done:
                    break

            # Update running reward to check condition for solving
            running_reward = 0.05 * episode_reward + (1 - 0.05) * running_reward

            # Calculate expected value from rewards
            # - At each timestep what was the total reward received after that timestep
            # - Rewards in the past are discounted by multiplying them with gamma
            # - These are the labels for our critic
            returns = []
            discounted_sum = 0
            for r in rewards_history[::-1]:
                discounted_sum = r + gamma * discounted_sum
                returns.insert(0, discounted_sum)

            # Normalize
            returns = np.array(returns)
            returns = (returns - np.mean(returns)) / (np.std(returns) + eps)
            returns = returns.tolist()

            # Calculating loss values to update our network
            history = zip(action_probs_history, critic_value_history, returns)
            actor_losses = []
            critic_losses = []
            for log_prob, value, ret in history:
                # At this point in history, the critic estimated that we would get a
                # total reward = `value` in the future. We took an action with log probability
                # of `log_prob` and ended up recieving a total reward = `ret`.
                # The actor must be updated so that it predicts an action that leads to
                # high rewards (compared to critic's estimate) with high probability.
                diff = ret - value
                actor_losses.append(-log_prob * diff)  # actor loss

                # The critic must be updated so that it predicts a better estimate of
                # the future rewards.
                critic_losses.append(
                    huber_loss(tf.expand_dims(value, 0), tf.expand_dims(ret, 0))
                )

            # Backpropagation
            loss_value = sum(actor_losses) + sum(critic_losses)
            grads = tape.gradient(loss_value, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)  # test

            # Clear the loss and reward history
            action_probs_history.clear()
            critic_value_history.clear()
            rewards_history.clear()

        # Log details
        episode_count += 1
        episode_rewards.append(episode_reward)  # test
        if episode_count % 10 == 0:
            template = "running reward: {:.2f} at episode {}"
            print(template.format(running_reward, episode_count))

        if running_reward > 195:  # Condition to consider the task solved
            print("Solved at episode {}!".format(episode_count))
            break

    # test: every episode trained the shared trunk, the actor and the critic; episodes last 200 steps at most
    assert episode_count == EPISODES and 0 < running_reward < 200
    assert all(1 <= r <= 200 for r in episode_rewards)
    changed = [not np.allclose(before, after.numpy()) for before, after in zip(weights_before,
                                                                                 model.trainable_variables)]
    assert all(changed)


def test_gym_like_cartpole_follows_the_physics():
    env = gym.make("CartPole-v0")
    env.seed(0)
    state = env.reset()
    assert state.shape == (4,) and np.abs(state).max() <= 0.05
    steps, done = 0, False
    while not done:  # pushing one way only: the pole falls within a few dozen steps
        state, reward, done, info = env.step(1)
        steps += 1
    assert reward == 1.0 and info == {} and 5 < steps < 60
    assert abs(state[2]) > 12 * 2 * np.pi / 360 or abs(state[0]) > 2.4
