"""PPO (RLlib's new API stack): sample train_batch_size_per_learner steps
from the env runners, compute GAE advantages and value targets with the
current value function, then num_epochs of minibatch SGD on the clipped
surrogate objective + vf_loss_coeff * value loss - entropy_coeff * entropy
(+ kl_coeff * KL with use_kl_loss, kl_coeff adapted toward kl_target), and
broadcast the new weights."""
import numpy as np
import torch

from photon.rllib.algorithms.algorithm import Algorithm
from photon.rllib.algorithms.algorithm_config import AlgorithmConfig, NotProvided
from photon.rllib.core.rl_module.rl_module import DefaultPPOTorchRLModule
from photon.rllib.utils import distributions


class PPOConfig(AlgorithmConfig):
    _PPO_KEYS = ("use_critic", "use_gae", "lambda_", "use_kl_loss", "kl_coeff", "kl_target",
                 "vf_loss_coeff", "entropy_coeff", "clip_param", "vf_clip_param",
                 "entropy_coeff_schedule", "lr_schedule")

    def __init__(self, algo_class=None):
        super().__init__(algo_class=algo_class or PPO)
        self.lr = 5e-5
        self.train_batch_size_per_learner = 4000
        self.minibatch_size = 128
        self.num_epochs = 30
        self.use_critic = True
        self.use_gae = True
        self.lambda_ = 1.0
        self.use_kl_loss = True
        self.kl_coeff = 0.2
        self.kl_target = 0.01
        self.vf_loss_coeff = 1.0
        self.entropy_coeff = 0.0
        self.clip_param = 0.3
        self.vf_clip_param = 10.0
        self.entropy_coeff_schedule = None
        self.lr_schedule = None
        self.num_env_runners = 2

    def _algo_training_keys(self):
        return self._PPO_KEYS

    def training(self, *, lambda_=NotProvided, **kwargs):
        if lambda_ is not NotProvided:
            kwargs["lambda_"] = lambda_
        return super().training(**kwargs)

    def validate(self):
        super().validate()
        if self.minibatch_size > self.train_batch_size_per_learner:
            raise ValueError(f"`minibatch_size` ({self.minibatch_size}) must be <= "
                             f"`train_batch_size_per_learner` "
                             f"({self.train_batch_size_per_learner})")
        if self.num_epochs < 1:
            raise ValueError(f"`num_epochs` must be >= 1, got {self.num_epochs}")


class PPO(Algorithm):
    _default_module_class = DefaultPPOTorchRLModule

    @classmethod
    def get_default_config(cls):
        return PPOConfig()

    def setup_learner(self):
        self._optimizer = torch.optim.Adam(self.module.parameters(), lr=self.config.lr)
        self._kl_coeff = self.config.kl_coeff
        self._trained = 0

    def get_learner_state(self):
        return {"optimizer": self._optimizer.state_dict(), "kl_coeff": self._kl_coeff}

    def set_learner_state(self, state):
        if "optimizer" in state:
            self._optimizer.load_state_dict(state["optimizer"])
        self._kl_coeff = state.get("kl_coeff", self._kl_coeff)

    def _postprocess(self, fragments):
        """Concatenates fragments with GAE advantages and value targets."""
        cfg = self.config
        columns = {k: [] for k in ("obs", "actions", "logp", "advantages", "value_targets")}
        with torch.no_grad():
            for f in fragments:
                obs = torch.from_numpy(np.array(f["obs"], dtype=np.float32))
                nxt = torch.from_numpy(np.array(f["next_obs"], dtype=np.float32))
                v = self.module.compute_values({"obs": obs}).numpy()
                nv = self.module.compute_values({"obs": nxt}).numpy()
                term = f["terminateds"].astype(np.float32)
                done = np.logical_or(f["terminateds"], f["truncateds"]).astype(np.float32)
                rewards = f["rewards"].astype(np.float32)
                nv = nv * (1.0 - term)
                lam = cfg.lambda_ if cfg.use_gae else 1.0
                adv = np.zeros_like(rewards)
                last = 0.0
                for t in range(len(rewards) - 1, -1, -1):
                    delta = rewards[t] + cfg.gamma * nv[t] - v[t]
                    last = delta + cfg.gamma * lam * (1.0 - done[t]) * last
                    adv[t] = last
                columns["obs"].append(f["obs"])
                columns["actions"].append(f["actions"])
                columns["logp"].append(f["logp"])
                columns["advantages"].append(adv)
                columns["value_targets"].append(adv + v)
        return {k: np.concatenate(v) for k, v in columns.items()}

    def training_step(self):
        cfg = self.config
        fragments = self.sample(cfg.train_batch_size_per_learner, explore=True)
        batch = self._postprocess(fragments)
        metrics = self._update(batch)
        self.sync_weights()
        return metrics

    def _update(self, batch):
        cfg = self.config
        n = len(batch["advantages"])
        obs = torch.as_tensor(batch["obs"]).float()
        actions = torch.as_tensor(batch["actions"])
        old_logp = torch.as_tensor(batch["logp"]).float()
        adv = torch.as_tensor(batch["advantages"]).float()
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        targets = torch.as_tensor(batch["value_targets"]).float()
        rng = np.random.default_rng(cfg.seed)
        totals = {"policy_loss": [], "vf_loss": [], "entropy": [], "mean_kl_loss": [],
                  "total_loss": []}
        mb = min(cfg.minibatch_size, n)
        for _ in range(cfg.num_epochs):
            order = rng.permutation(n)
            for start in range(0, n - mb + 1, mb):
                idx = torch.as_tensor(order[start:start + mb])
                out = self.module.forward_train({"obs": obs[idx]})
                dist = distributions.make(self.action_space, out["action_dist_inputs"])
                logp = dist.log_prob(actions[idx])
                ratio = torch.exp(logp - old_logp[idx])
                surrogate = torch.min(
                    ratio * adv[idx],
                    torch.clamp(ratio, 1 - cfg.clip_param, 1 + cfg.clip_param) * adv[idx])
                policy_loss = -surrogate.mean()
                values = self.module.compute_values({"obs": obs[idx]})
                vf_loss = torch.clamp((values - targets[idx]) ** 2, 0, cfg.vf_clip_param).mean()
                entropy = dist.entropy().mean()
                kl = (old_logp[idx] - logp).mean()
                loss = policy_loss + cfg.vf_loss_coeff * vf_loss - cfg.entropy_coeff * entropy
                if cfg.use_kl_loss:
                    loss = loss + self._kl_coeff * kl
                self._optimizer.zero_grad()
                loss.backward()
                if cfg.grad_clip:
                    torch.nn.utils.clip_grad_norm_(self.module.parameters(), cfg.grad_clip)
                self._optimizer.step()
                for k, v in (("policy_loss", policy_loss), ("vf_loss", vf_loss),
                             ("entropy", entropy), ("mean_kl_loss", kl), ("total_loss", loss)):
                    totals[k].append(v.item())
        kl_mean = float(np.mean(totals["mean_kl_loss"])) if totals["mean_kl_loss"] else 0.0
        if cfg.use_kl_loss:
            if kl_mean > 2.0 * cfg.kl_target:
                self._kl_coeff *= 1.5
            elif kl_mean < 0.5 * cfg.kl_target:
                self._kl_coeff *= 0.5
        self._trained += n
        out = {k: float(np.mean(v)) if v else 0.0 for k, v in totals.items()}
        out.update(curr_kl_coeff=self._kl_coeff, curr_lr=cfg.lr, num_env_steps_trained=n,
                   num_env_steps_trained_lifetime=self._trained)
        return out
