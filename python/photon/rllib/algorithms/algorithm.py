"""Algorithm: an RLlib algorithm on Photon, and a Tune Trainable.

It holds the learner's RLModule (in this process) and the env runners
(SingleAgentEnvRunner actors, or one local runner with num_env_runners=0).
Each train() call runs the subclass's training_step() — sample from the
runners in parallel, update the module, broadcast its weights through the
object store — and returns RLlib's result dict (env_runners/..., learners/...,
num_env_steps_sampled_lifetime, training_iteration, time_this_iter_s). A
runner whose process dies is replaced (restart_failed_env_runners) and
sampling goes on.
"""
import collections
import dataclasses
import json
import os
import pickle
import tempfile

import cloudpickle
import numpy as np
import torch

import photon
from photon import exceptions as core_exceptions
from photon.rllib.algorithms.algorithm_config import AlgorithmConfig
from photon.rllib.env.single_agent_env_runner import SingleAgentEnvRunner
from photon.rllib.utils import distributions
from photon.rllib.utils.error import EnvError
from photon.train import Checkpoint
from photon.tune import registry
from photon.tune.execution.placement_groups import PlacementGroupFactory
from photon.tune.trainable.trainable import Trainable

_RunnerActor = photon.remote(SingleAgentEnvRunner)
_DIED = (core_exceptions.ActorDiedError, core_exceptions.ActorUnavailableError)
_STATE_FILE = "algorithm_state.pkl"
_MODULE_FILE = "module_state.pt"


@dataclasses.dataclass
class TrainingResult:
    """What Algorithm.save() returns: the checkpoint and the latest metrics."""
    checkpoint: Checkpoint
    metrics: dict


def env_creator_of(env):
    """A function env_config -> environment for `env` (a registered name, a
    gymnasium id, an env class or a creator function)."""
    if isinstance(env, str):
        creator = registry.get_env_creator(env)
        if creator is not None:
            return creator

        def make_gym(env_config, _id=env):
            import gymnasium as gym
            kwargs = {k: v for k, v in dict(env_config).items()
                      if k not in ("worker_index", "vector_index")}
            return gym.make(_id, **kwargs)
        return make_gym
    if isinstance(env, type):
        return lambda env_config, _cls=env: _cls(env_config)
    if callable(env):
        return env
    raise EnvError(f"The environment must be a gymnasium id, a registered name, an env class "
                   f"or a creator function, got {env!r}")


class _Context(dict):
    """env_config with worker_index and vector_index, as RLlib's EnvContext."""

    @property
    def worker_index(self):
        return self.get("worker_index", 0)

    @property
    def vector_index(self):
        return self.get("vector_index", 0)


class Algorithm(Trainable):
    _default_module_class = None

    @classmethod
    def get_default_config(cls):
        raise NotImplementedError(f"{cls.__name__} must define get_default_config() (as PPO "
                                  "and DQN do)")

    def __init__(self, config=None, env=None, logger_creator=None, **kwargs):
        if isinstance(config, AlgorithmConfig):
            algo_config = config
        elif isinstance(config, dict):
            base = self.get_default_config()
            algo_config = type(base).from_dict(config) if "_algo_config_class" in config \
                else base.update_from_dict(config)
        elif config is None:
            algo_config = self.get_default_config()
        else:
            raise TypeError(f"config must be an AlgorithmConfig or a dict, got "
                            f"{type(config).__name__}")
        if env is not None:
            algo_config.env = env
        algo_config.validate()
        self._algo_config = algo_config
        super().__init__(config=algo_config.to_dict(), logger_creator=logger_creator, **kwargs)

    @classmethod
    def default_resource_request(cls, config):
        if isinstance(config, dict):
            n = config.get("num_env_runners", 0)
            per = config.get("num_cpus_per_env_runner", 1)
        else:
            n, per = config.num_env_runners, config.num_cpus_per_env_runner
        return PlacementGroupFactory([{"CPU": 1}] + [{"CPU": per}] * n)

    # -- setup -------------------------------------------------------------------
    def setup(self, config):
        cfg = self._algo_config
        self.config = cfg
        torch.manual_seed(cfg.seed if cfg.seed is not None else 0)
        creator = env_creator_of(cfg.env)
        self._env_creator_blob = cloudpickle.dumps(_wrap_creator(creator))
        try:
            probe = _wrap_creator(creator)(dict(cfg.env_config))
        except Exception as e:  # noqa: BLE001 - an unknown id, a bad env_config
            raise EnvError(f"Could not create the environment {cfg.env!r}: "
                           f"{type(e).__name__}: {e}") from None
        self.observation_space, self.action_space = probe.observation_space, probe.action_space
        try:
            probe.close()
        except Exception:  # noqa: BLE001
            pass
        spec = cfg.get_rl_module_spec(self._default_module_class)
        spec.observation_space, spec.action_space = self.observation_space, self.action_space
        self._module_spec_blob = cloudpickle.dumps(spec)
        self.module = spec.build()
        self._runners = [self._make_runner(i + 1) for i in range(cfg.num_env_runners)]
        self._local_runner = None
        if not self._runners:
            self._local_runner = SingleAgentEnvRunner(
                self._env_creator_blob, cfg.env_config, cfg.num_envs_per_env_runner,
                self._module_spec_blob, cfg.seed, 0)
        self._eval_runners = None
        self._episodes = collections.deque(maxlen=cfg.metrics_num_episodes_for_smoothing)
        self._lifetime_steps = 0
        self._lifetime_episodes = 0
        self._num_restarts = 0
        self.setup_learner()
        self.sync_weights()

    def setup_learner(self):
        """Subclasses build their optimizer and buffers here."""

    def _make_runner(self, index, evaluation=False):
        cfg = self.config
        return _RunnerActor.options(num_cpus=cfg.num_cpus_per_env_runner).remote(
            self._env_creator_blob, cfg.env_config, cfg.num_envs_per_env_runner,
            self._module_spec_blob, None if cfg.seed is None else cfg.seed + index, index)

    # -- weights and sampling -------------------------------------------------------
    def sync_weights(self, runners=None):
        state = self.module.get_state()
        if self._local_runner is not None and runners is None:
            self._local_runner.set_weights(state)
        targets = self._runners if runners is None else runners
        if targets:
            ref = photon.put(state)
            self._call_runners(targets, lambda r: r.set_weights.remote(ref))

    def _call_runners(self, runners, call):
        """call(runner) on each; a runner that died is replaced (its call
        made again on the new one). Returns the results in order."""
        results = []
        for i, r in enumerate(runners):
            results.append(call(r))
        out = []
        for i, ref in enumerate(results):
            while True:
                try:
                    out.append(photon.get(ref))
                    break
                except _DIED:
                    ref = call(self._replace_runner(runners, i))
        return out

    def _replace_runner(self, runners, i):
        cfg = self.config
        if not cfg.restart_failed_env_runners or self._num_restarts >= \
                cfg.max_num_env_runner_restarts:
            raise RuntimeError(f"env runner {i + 1} died and restart_failed_env_runners is off "
                               "(or max_num_env_runner_restarts was reached)")
        self._num_restarts += 1
        new = self._make_runner(i + 1)
        photon.get(new.set_weights.remote(photon.put(self.module.get_state())))
        runners[i] = new
        return new

    def sample(self, num_timesteps, explore=True, epsilon=None):
        """num_timesteps steps from all runners together; records episode
        metrics. Returns the fragments."""
        if self._local_runner is not None:
            outs = [self._local_runner.sample(num_timesteps=num_timesteps, explore=explore,
                                              epsilon=epsilon)]
        else:
            per = max(1, -(-num_timesteps // len(self._runners)))
            outs = self._call_runners(self._runners, lambda r: r.sample.remote(
                num_timesteps=per, explore=explore, epsilon=epsilon))
        fragments = []
        steps = 0
        for o in outs:
            fragments.extend(o["fragments"])
            steps += o["steps"]
            for ret, length in o["episodes"]:
                self._episodes.append((ret, length))
                self._lifetime_episodes += 1
            self._iter_episodes += len(o["episodes"])
        self._lifetime_steps += steps
        self._iter_steps += steps
        return fragments

    # -- the iteration ----------------------------------------------------------------
    def train(self):
        result = super().train()
        result["config"] = _plain(self.config.to_dict())
        return result

    def step(self):
        self._iter_steps = 0
        self._iter_episodes = 0
        learner_metrics = self.training_step()
        result = {
            "env_runners": self._runner_metrics(),
            "learners": {"default_policy": learner_metrics,
                         "__all_modules__": {"num_env_steps_trained": learner_metrics.get(
                             "num_env_steps_trained", 0)}},
            "num_env_steps_sampled_lifetime": self._lifetime_steps,
            "num_episodes_lifetime": self._lifetime_episodes,
            "num_env_runner_restarts": self._num_restarts,
        }
        interval = self.config.evaluation_interval
        if interval and (self.iteration + 1) % interval == 0:
            result["evaluation"] = self.evaluate()
        return result

    def training_step(self):
        raise NotImplementedError(f"{type(self).__name__} must define training_step() (as PPO "
                                  "and DQN do)")

    def _runner_metrics(self):
        returns = [r for r, _ in self._episodes]
        lengths = [n for _, n in self._episodes]
        return {
            "episode_return_mean": float(np.mean(returns)) if returns else float("nan"),
            "episode_return_max": float(np.max(returns)) if returns else float("nan"),
            "episode_return_min": float(np.min(returns)) if returns else float("nan"),
            "episode_len_mean": float(np.mean(lengths)) if lengths else float("nan"),
            "num_episodes": self._iter_episodes,
            "num_env_steps_sampled": self._iter_steps,
            "num_env_steps_sampled_lifetime": self._lifetime_steps,
            "num_episodes_lifetime": self._lifetime_episodes,
        }

    def evaluate(self):
        """Runs evaluation_duration episodes (or timesteps) greedily; returns
        {"env_runners": {"episode_return_mean", ...}}."""
        cfg = self.config
        if self._eval_runners is None:
            n = max(1, cfg.evaluation_num_env_runners)
            self._eval_runners = [self._make_runner(1000 + i, evaluation=True) for i in range(n)]
        self.sync_weights(self._eval_runners)
        n = len(self._eval_runners)
        if cfg.evaluation_duration_unit == "timesteps":
            per = max(1, -(-cfg.evaluation_duration // n))
            outs = self._call_runners(self._eval_runners, lambda r: r.sample.remote(
                num_timesteps=per, explore=False, epsilon=self._eval_epsilon()))
        else:
            per = max(1, -(-cfg.evaluation_duration // n))
            outs = self._call_runners(self._eval_runners, lambda r: r.sample.remote(
                num_episodes=per, explore=False, epsilon=self._eval_epsilon()))
        episodes = [e for o in outs for e in o["episodes"]]
        returns = [r for r, _ in episodes]
        return {"env_runners": {
            "episode_return_mean": float(np.mean(returns)) if returns else float("nan"),
            "episode_return_max": float(np.max(returns)) if returns else float("nan"),
            "episode_return_min": float(np.min(returns)) if returns else float("nan"),
            "episode_len_mean": float(np.mean([n for _, n in episodes])) if episodes
            else float("nan"),
            "num_episodes": len(episodes)}}

    def _eval_epsilon(self):
        return None

    # -- the module -------------------------------------------------------------------
    def get_module(self, module_id="default_policy"):
        return self.module

    def compute_single_action(self, observation, explore=False):
        batch = {"obs": torch.as_tensor(np.asarray(observation)[None])}
        with torch.no_grad():
            out = self.module.forward_inference(batch)
        return distributions.deterministic(self.action_space,
                                           out["action_dist_inputs"]).numpy()[0]

    # -- checkpoints ---------------------------------------------------------------------
    def get_state(self):
        return {"module": self.module.get_state(), "learner": self.get_learner_state(),
                "lifetime_steps": self._lifetime_steps,
                "lifetime_episodes": self._lifetime_episodes,
                "episodes": list(self._episodes), "iteration": self._iteration}

    def set_state(self, state):
        self.module.set_state(state["module"])
        self.set_learner_state(state.get("learner") or {})
        self._lifetime_steps = state.get("lifetime_steps", 0)
        self._lifetime_episodes = state.get("lifetime_episodes", 0)
        self._episodes.extend(state.get("episodes", []))
        self.sync_weights()

    def get_learner_state(self):
        return {}

    def set_learner_state(self, state):
        pass

    def save_checkpoint(self, checkpoint_dir):
        state = self.get_state()
        torch.save(state.pop("module"), os.path.join(checkpoint_dir, _MODULE_FILE))
        with open(os.path.join(checkpoint_dir, _STATE_FILE), "wb") as f:
            cloudpickle.dump({"state": state, "config": self.config,
                              "algo_class": type(self)}, f)
        return checkpoint_dir

    def load_checkpoint(self, checkpoint):
        path = checkpoint if isinstance(checkpoint, str) else getattr(checkpoint, "path", None)
        with open(os.path.join(path, _STATE_FILE), "rb") as f:
            saved = pickle.load(f)
        state = dict(saved["state"])
        state["module"] = torch.load(os.path.join(path, _MODULE_FILE), weights_only=False)
        self.set_state(state)
        self._iteration = state.get("iteration", self._iteration)

    def save(self, checkpoint_dir=None, prevent_upload=False):
        """Saves the algorithm into checkpoint_dir (a new temporary folder if
        None); returns a TrainingResult whose .checkpoint is the Checkpoint."""
        if checkpoint_dir is None:
            checkpoint_dir = tempfile.mkdtemp(prefix="photon-rllib-checkpoint-")
        checkpoint = Trainable.save(self, checkpoint_dir)
        return TrainingResult(checkpoint=checkpoint, metrics={})

    def save_to_path(self, path=None, **kwargs):
        return self.save(path).checkpoint.path

    def restore(self, checkpoint_path):
        Trainable.restore(self, checkpoint_path)

    def restore_from_path(self, path, **kwargs):
        self.restore(path)

    @classmethod
    def from_checkpoint(cls, path, **kwargs):
        """A new algorithm built from the checkpoint's config, with its state."""
        path = getattr(path, "path", path)
        if not os.path.exists(os.path.join(path, _STATE_FILE)):
            raise ValueError(f"{path!r} is not an algorithm checkpoint (no {_STATE_FILE})")
        with open(os.path.join(path, _STATE_FILE), "rb") as f:
            saved = pickle.load(f)
        algo = saved["algo_class"](config=saved["config"])
        algo.restore(path)
        return algo

    # -- the end ------------------------------------------------------------------------
    def cleanup(self):
        for r in list(self._runners) + list(self._eval_runners or []):
            try:
                photon.kill(r)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self._runners = []
        self._eval_runners = None

    def stop(self):
        self.cleanup()

    def runner_pids(self):
        """The process ids of the env runner actors (for tests and tools)."""
        return photon.get([r.pid.remote() for r in self._runners])


def _plain(d):
    """A config dict with only JSON values (others as their repr)."""
    out = {}
    for k, v in d.items():
        if k.startswith("_"):
            continue
        try:
            json.dumps(v)
            out[k] = v
        except (TypeError, ValueError):
            out[k] = repr(v)
    return out


def _wrap_creator(creator):
    def make(env_config):
        return creator(_Context(env_config))
    return make
