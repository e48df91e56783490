"""DQN (RLlib's new API stack): epsilon-greedy env runners fill a replay
buffer; each update draws train_batch_size_per_learner transitions and
regresses Q(s, a) toward r + gamma^n * Q_target(s', argmax_a Q(s', a))
(double-Q; max over Q_target without it), with a Huber loss; the target
network is copied every target_network_update_freq sampled steps."""
import copy

import numpy as np
import torch

from photon.rllib.algorithms.algorithm import Algorithm
from photon.rllib.algorithms.algorithm_config import AlgorithmConfig
from photon.rllib.core.rl_module.rl_module import DefaultDQNTorchRLModule


class DQNConfig(AlgorithmConfig):
    _DQN_KEYS = ("replay_buffer_config", "target_network_update_freq",
                 "num_steps_sampled_before_learning_starts", "double_q", "dueling", "n_step",
                 "epsilon", "training_intensity", "tau", "td_error_loss_fn", "noisy",
                 "num_atoms", "categorical_distribution_temperature", "before_learn_on_batch")

    def __init__(self, algo_class=None):
        super().__init__(algo_class=algo_class or DQN)
        self.lr = 5e-4
        self.train_batch_size_per_learner = 32
        self.replay_buffer_config = {"type": "PrioritizedEpisodeReplayBuffer",
                                     "capacity": 50000}
        self.target_network_update_freq = 500
        self.num_steps_sampled_before_learning_starts = 1000
        self.double_q = True
        self.dueling = True
        self.n_step = 1
        self.epsilon = [(0, 1.0), (10000, 0.05)]
        self.training_intensity = None
        self.tau = 1.0
        self.td_error_loss_fn = "huber"
        self.noisy = False
        self.num_atoms = 1
        self.categorical_distribution_temperature = 1.0
        self.before_learn_on_batch = None
        self.rollout_fragment_length = 4
        self.grad_clip = 40.0
        self.min_sample_timesteps_per_iteration = 1000

    def _algo_training_keys(self):
        return self._DQN_KEYS

    def get_rl_module_spec(self, default_module_class):
        spec = super().get_rl_module_spec(default_module_class)
        spec.model_config.setdefault("dueling", self.dueling)
        return spec

    def validate(self):
        super().validate()
        if self.n_step < 1:
            raise ValueError(f"`n_step` must be >= 1, got {self.n_step}")
        if self.td_error_loss_fn not in ("huber", "mse"):
            raise ValueError(f"`td_error_loss_fn` must be 'huber' or 'mse', got "
                             f"{self.td_error_loss_fn!r}")
        if self.noisy or self.num_atoms > 1:
            raise ValueError("photon.rllib's DQN has no noisy nets or distributional Q "
                             "(noisy=False, num_atoms=1)")


class ReplayBuffer:
    """A ring of transitions (obs, action, n-step return, next obs, done)."""

    def __init__(self, capacity, seed=None):
        self.capacity = int(capacity)
        self._data = None
        self._next = 0
        self._size = 0
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        return self._size

    def add(self, obs, actions, returns, next_obs, discounts):
        n = len(actions)
        if self._data is None:
            self._data = {
                "obs": np.zeros((self.capacity,) + obs.shape[1:], np.float32),
                "actions": np.zeros((self.capacity,), np.int64),
                "returns": np.zeros((self.capacity,), np.float32),
                "next_obs": np.zeros((self.capacity,) + obs.shape[1:], np.float32),
                "discounts": np.zeros((self.capacity,), np.float32),
            }
        for i in range(n):
            j = self._next
            d = self._data
            d["obs"][j], d["actions"][j], d["returns"][j] = obs[i], actions[i], returns[i]
            d["next_obs"][j], d["discounts"][j] = next_obs[i], discounts[i]
            self._next = (j + 1) % self.capacity
            self._size = min(self._size + 1, self.capacity)

    def sample(self, n):
        idx = self._rng.integers(0, self._size, size=n)
        return {k: v[idx] for k, v in self._data.items()}

    def get_state(self):
        return {"data": self._data, "next": self._next, "size": self._size}

    def set_state(self, state):
        self._data, self._next, self._size = state["data"], state["next"], state["size"]


def _n_step(fragment, n, gamma):
    """Per step: the n-step discounted return, the obs n steps on (or where
    the episode or fragment ended) and gamma^k (0 if the episode ended)."""
    r, term = fragment["rewards"], fragment["terminateds"]
    done = np.logical_or(term, fragment["truncateds"])
    T = len(r)
    returns = np.zeros(T, np.float32)
    next_obs = np.array(fragment["next_obs"], dtype=np.float32)
    discounts = np.zeros(T, np.float32)
    for t in range(T):
        g, k = 0.0, 0
        while True:
            g += (gamma ** k) * r[t + k]
            k += 1
            if done[t + k - 1] or k == n or t + k >= T:
                break
        returns[t] = g
        next_obs[t] = fragment["next_obs"][t + k - 1]
        discounts[t] = 0.0 if term[t + k - 1] else gamma ** k
    return returns, next_obs, discounts


class DQN(Algorithm):
    _default_module_class = DefaultDQNTorchRLModule

    @classmethod
    def get_default_config(cls):
        return DQNConfig()

    def setup_learner(self):
        cfg = self.config
        self._target = copy.deepcopy(self.module)
        self._optimizer = torch.optim.Adam(self.module.parameters(), lr=cfg.lr)
        self._buffer = ReplayBuffer(cfg.replay_buffer_config.get("capacity", 50000), cfg.seed)
        self._last_target_update = 0
        self._trained = 0
        self._num_updates = 0

    def get_learner_state(self):
        return {"optimizer": self._optimizer.state_dict(),
                "target": self._target.get_state(), "buffer": self._buffer.get_state(),
                "last_target_update": self._last_target_update}

    def set_learner_state(self, state):
        if "optimizer" in state:
            self._optimizer.load_state_dict(state["optimizer"])
            self._target.set_state(state["target"])
            self._buffer.set_state(state["buffer"])
            self._last_target_update = state["last_target_update"]

    def current_epsilon(self):
        schedule = self.config.epsilon
        if isinstance(schedule, (int, float)):
            return float(schedule)
        t = self._lifetime_steps
        points = sorted(schedule)
        if t <= points[0][0]:
            return float(points[0][1])
        for (t0, e0), (t1, e1) in zip(points, points[1:]):
            if t <= t1:
                return float(e0 + (e1 - e0) * (t - t0) / max(1, t1 - t0))
        return float(points[-1][1])

    def _eval_epsilon(self):
        return 0.0

    def training_step(self):
        cfg = self.config
        n_runners = max(1, len(self._runners))
        per_round = cfg.rollout_fragment_length * cfg.num_envs_per_env_runner * n_runners
        intensity = cfg.training_intensity or cfg.train_batch_size_per_learner / 4.0
        metrics = {}
        sampled = 0
        while sampled < max(cfg.min_sample_timesteps_per_iteration, per_round):
            fragments = self.sample(per_round, explore=True, epsilon=self.current_epsilon())
            for f in fragments:
                returns, next_obs, discounts = _n_step(f, cfg.n_step, cfg.gamma)
                self._buffer.add(np.asarray(f["obs"], np.float32), f["actions"], returns,
                                 next_obs, discounts)
                sampled += len(returns)
            if self._lifetime_steps < cfg.num_steps_sampled_before_learning_starts:
                continue
            updates = max(1, int(round(per_round * intensity /
                                       cfg.train_batch_size_per_learner)))
            for _ in range(updates):
                metrics = self._update()
            if self._lifetime_steps - self._last_target_update >= cfg.target_network_update_freq:
                self._update_target()
                self._last_target_update = self._lifetime_steps
            self.sync_weights()
        metrics = dict(metrics)
        metrics.update(curr_epsilon=self.current_epsilon(), replay_buffer_size=len(self._buffer),
                       num_env_steps_trained_lifetime=self._trained,
                       num_module_updates=self._num_updates)
        return metrics

    def _update_target(self):
        tau = self.config.tau
        if tau >= 1.0:
            self._target.load_state_dict(self.module.state_dict())
            return
        with torch.no_grad():
            for t, s in zip(self._target.parameters(), self.module.parameters()):
                t.mul_(1 - tau).add_(tau * s)

    def _update(self):
        cfg = self.config
        b = self._buffer.sample(cfg.train_batch_size_per_learner)
        obs = torch.as_tensor(b["obs"])
        nxt = torch.as_tensor(b["next_obs"])
        actions = torch.as_tensor(b["actions"])
        q = self.module.forward_train({"obs": obs})["qf_preds"]
        q_sa = q.gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            q_next_target = self._target.forward_train({"obs": nxt})["qf_preds"]
            if cfg.double_q:
                best = self.module.forward_train({"obs": nxt})["qf_preds"].argmax(1)
                q_next = q_next_target.gather(1, best[:, None]).squeeze(1)
            else:
                q_next = q_next_target.max(1).values
            target = torch.as_tensor(b["returns"]) + torch.as_tensor(b["discounts"]) * q_next
        td = q_sa - target
        if cfg.td_error_loss_fn == "huber":
            loss = torch.nn.functional.smooth_l1_loss(q_sa, target)
        else:
            loss = (td ** 2).mean()
        self._optimizer.zero_grad()
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.module.parameters(), cfg.grad_clip)
        self._optimizer.step()
        self._trained += len(actions)
        self._num_updates += 1
        return {"qf_loss": loss.item(), "qf_mean": q_sa.mean().item(),
                "td_error_mean": td.abs().mean().item(), "total_loss": loss.item(),
                "curr_lr": cfg.lr, "num_env_steps_trained": len(actions)}
