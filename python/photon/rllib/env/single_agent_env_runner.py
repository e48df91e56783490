"""SingleAgentEnvRunner: an actor that steps num_envs copies of a gymnasium
environment with a copy of the policy's RLModule and returns what it saw.

sample() continues the episodes where the last call stopped (as RLlib's env
runners do) and returns, per environment, the steps taken: obs, actions,
rewards, terminateds, truncateds, next_obs, and (for PPO) the action's
log-probability; plus the returns and lengths of the episodes completed.
Weights come from the algorithm through the object store (set_weights).
"""
import os

import cloudpickle
import numpy as np
import torch

from photon.rllib.utils import distributions


class SingleAgentEnvRunner:
    def __init__(self, env_creator, env_config, num_envs, module_spec, seed, worker_index):
        torch.set_num_threads(1)
        creator = cloudpickle.loads(env_creator)
        self.worker_index = worker_index
        self.envs = [creator(dict(env_config, worker_index=worker_index, vector_index=i))
                     for i in range(num_envs)]
        spec = cloudpickle.loads(module_spec)
        spec.observation_space = self.envs[0].observation_space
        spec.action_space = self.envs[0].action_space
        self.module = spec.build()
        self.module.eval()
        self.action_space = spec.action_space
        self._rng = np.random.default_rng(seed)
        if seed is not None:
            torch.manual_seed(seed)  # the sampled actions repeat with the config's seed
        self._obs = []
        for i, env in enumerate(self.envs):
            obs, _ = env.reset(seed=None if seed is None else seed + 1000 * worker_index + i)
            self._obs.append(obs)
        self._returns = [0.0] * num_envs
        self._lengths = [0] * num_envs

    def ready(self):
        return True

    def pid(self):
        return os.getpid()

    def spaces(self):
        return self.envs[0].observation_space, self.envs[0].action_space

    def set_weights(self, weights):
        self.module.set_state(weights)
        return True

    def _act(self, obs, explore, epsilon):
        batch = {"obs": torch.as_tensor(np.stack(obs))}
        with torch.no_grad():
            if explore:
                out = self.module.forward_exploration(batch)
            else:
                out = self.module.forward_inference(batch)
            inputs = out["action_dist_inputs"]
            if epsilon is not None:  # epsilon-greedy on Q-values (DQN)
                greedy = torch.argmax(inputs, dim=-1).numpy()
                rand = self._rng.integers(0, self.action_space.n, size=len(obs))
                use_rand = self._rng.random(len(obs)) < (epsilon if explore else 0.0)
                return np.where(use_rand, rand, greedy), None
            if explore:
                dist = distributions.make(self.action_space, inputs)
                actions = dist.sample()
                return actions.numpy(), dist.log_prob(actions).numpy()
            return distributions.deterministic(self.action_space, inputs).numpy(), None

    def sample(self, num_timesteps=None, num_episodes=None, explore=True, epsilon=None):
        """Steps every env until num_timesteps steps (in all) were taken, or
        num_episodes episodes ended."""
        n = len(self.envs)
        out = [{"obs": [], "actions": [], "rewards": [], "terminateds": [], "truncateds": [],
                "next_obs": [], "logp": []} for _ in range(n)]
        episodes = []
        steps = 0
        while True:
            if num_timesteps is not None and steps >= num_timesteps:
                break
            if num_episodes is not None and len(episodes) >= num_episodes:
                break
            actions, logp = self._act(self._obs, explore, epsilon)
            for i, env in enumerate(self.envs):
                a = actions[i]
                if distributions.is_discrete(self.action_space):
                    a = int(a)
                else:
                    a = np.clip(a, self.action_space.low, self.action_space.high)
                next_obs, reward, terminated, truncated, _ = env.step(a)
                o = out[i]
                o["obs"].append(self._obs[i])
                o["actions"].append(actions[i])
                o["rewards"].append(float(reward))
                o["terminateds"].append(bool(terminated))
                o["truncateds"].append(bool(truncated))
                o["next_obs"].append(next_obs)
                if logp is not None:
                    o["logp"].append(float(logp[i]))
                self._returns[i] += float(reward)
                self._lengths[i] += 1
                if terminated or truncated:
                    episodes.append((self._returns[i], self._lengths[i]))
                    self._returns[i], self._lengths[i] = 0.0, 0
                    next_obs, _ = env.reset()
                self._obs[i] = next_obs
            steps += n
        fragments = []
        for o in out:
            if not o["obs"]:
                continue
            frag = {k: np.asarray(v) for k, v in o.items() if v}
            fragments.append(frag)
        return {"fragments": fragments, "episodes": episodes, "steps": steps}
