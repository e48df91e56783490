"""photon.rllib as an RLlib user drives it: PPO and DQN learn CartPole with
env runners as actors, checkpoints restore the same policy, a killed env
runner is replaced, Tune runs "PPO", custom envs and modules, bad configs."""
import os
import signal
import tempfile

import gymnasium as gym
import numpy as np
import pytest
import torch

import photon
from photon import tune
from photon.rllib.algorithms.algorithm import Algorithm
from photon.rllib.algorithms.dqn import DQNConfig
from photon.rllib.algorithms.ppo import PPOConfig
from photon.rllib.core.rl_module.rl_module import RLModuleSpec, TorchRLModule
from photon.rllib.utils.error import EnvError

pytestmark = pytest.mark.timeout(300, method="thread")


@pytest.fixture(scope="module")
def cluster():
    if photon.is_initialized():
        photon.shutdown()
    photon.init(num_cpus=4)
    try:
        yield
    finally:
        photon.shutdown()


def fast_ppo(seed=1):
    return (PPOConfig().environment("CartPole-v1")
            .env_runners(num_env_runners=2, num_envs_per_env_runner=4)
            .training(lr=3e-4, num_epochs=10, minibatch_size=128, lambda_=0.95, clip_param=0.2,
                      vf_loss_coeff=0.5, train_batch_size_per_learner=4000)
            .rl_module(model_config={"fcnet_hiddens": [64, 64]})
            .debugging(seed=seed))


def test_ppo_learns_cartpole(cluster):
    algo = fast_ppo().build_algo()
    try:
        best = 0.0
        for _ in range(100):
            result = algo.train()
            best = max(best, result["env_runners"]["episode_return_mean"])
            if best >= 450:
                break
        assert best >= 450, f"PPO reached only {best}"
        for key in ("training_iteration", "time_this_iter_s", "num_env_steps_sampled_lifetime"):
            assert key in result
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] == \
            result["num_env_steps_sampled_lifetime"] == 4000 * result["training_iteration"]
        learner = result["learners"]["default_policy"]
        assert {"policy_loss", "vf_loss", "entropy", "total_loss"} <= set(learner)
    finally:
        algo.stop()


def test_dqn_learns_cartpole(cluster):
    config = (DQNConfig().environment("CartPole-v1")
              .env_runners(num_env_runners=1)
              .training(lr=5e-4, epsilon=[(0, 1.0), (10000, 0.02)])
              .rl_module(model_config={"fcnet_hiddens": [128]})
              .debugging(seed=1))
    algo = config.build_algo()
    try:
        best = 0.0
        for _ in range(120):
            result = algo.train()
            best = max(best, result["env_runners"]["episode_return_mean"])
            if best >= 150:
                break
        assert best >= 150, f"DQN reached only {best}"
        assert result["learners"]["default_policy"]["curr_epsilon"] == pytest.approx(0.02)
    finally:
        algo.stop()


def test_save_restore_continues_from_the_checkpoint(cluster, tmp_path):
    algo = fast_ppo(seed=3).build_algo()
    obs = np.array([[0.01, -0.02, 0.03, 0.04], [0.1, 0.5, -0.1, -0.5]], np.float32)
    try:
        for _ in range(2):
            algo.train()
        saved = algo.save(str(tmp_path / "ckpt"))
        assert os.path.isdir(saved.checkpoint.path)
        module = algo.get_module()
        with torch.no_grad():
            before = module.forward_inference({"obs": torch.as_tensor(obs)})[
                "action_dist_inputs"].numpy()
        steps = algo.train()["num_env_steps_sampled_lifetime"]
    finally:
        algo.stop()
    restored = Algorithm.from_checkpoint(saved.checkpoint.path)
    try:
        with torch.no_grad():
            after = restored.get_module().forward_inference({"obs": torch.as_tensor(obs)})[
                "action_dist_inputs"].numpy()
        np.testing.assert_allclose(before, after)
        assert restored.iteration == 2
        result = restored.train()
        assert result["training_iteration"] == 3
        assert result["num_env_steps_sampled_lifetime"] == steps  # 2 saved + this one
    finally:
        restored.stop()


def test_killed_env_runner_is_restarted(cluster):
    config = fast_ppo().training(train_batch_size_per_learner=1000, num_epochs=2)
    algo = config.build_algo()
    try:
        algo.train()
        victim = algo.runner_pids()[0]
        os.kill(victim, signal.SIGKILL)
        for _ in range(3):
            result = algo.train()
        assert result["num_env_runner_restarts"] >= 1
        assert victim not in algo.runner_pids() and len(algo.runner_pids()) == 2
        assert result["training_iteration"] == 4
    finally:
        algo.stop()


class CorridorEnv(gym.Env):
    """Walk right to the end of a corridor (RLlib's classic custom env)."""

    def __init__(self, config):
        self.length = config.get("corridor_length", 5)
        self.observation_space = gym.spaces.Box(0.0, self.length, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        self.pos = 0
        return np.array([self.pos], np.float32), {}

    def step(self, action):
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        done = self.pos >= self.length
        return np.array([self.pos], np.float32), 1.0 if done else -0.1, done, False, {}


class TinyPolicy(TorchRLModule):
    def setup(self):
        self.pi = torch.nn.Linear(1, 2)
        self.vf = torch.nn.Linear(1, 1)

    def _forward(self, batch, **kwargs):
        return {"action_dist_inputs": self.pi(batch["obs"].float())}

    def compute_values(self, batch, embeddings=None):
        return self.vf(batch["obs"].float()).squeeze(-1)


def test_registered_env_custom_module_and_tune(cluster, tmp_path):
    tune.register_env("corridor", lambda cfg: CorridorEnv(cfg))
    config = (PPOConfig().environment("corridor", env_config={"corridor_length": 4})
              .env_runners(num_env_runners=1)
              .training(train_batch_size_per_learner=400, minibatch_size=100, num_epochs=3)
              .rl_module(rl_module_spec=RLModuleSpec(module_class=TinyPolicy)))
    algo = config.build_algo()
    try:
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled"] >= 400
        assert isinstance(algo.get_module(), TinyPolicy)
        assert algo.evaluate()["env_runners"]["num_episodes"] >= 1
    finally:
        algo.stop()
    results = tune.Tuner(
        "PPO", param_space=config,
        run_config=tune.RunConfig(storage_path=str(tmp_path), stop={"training_iteration": 2},
                                  verbose=0)).fit()
    assert results.num_errors == 0
    assert results[0].metrics["training_iteration"] == 2
    assert "env_runners" in results[0].metrics


def test_continuous_actions(cluster):
    config = (PPOConfig().environment("Pendulum-v1").env_runners(num_env_runners=1)
              .training(train_batch_size_per_learner=400, minibatch_size=100, num_epochs=2))
    algo = config.build_algo()
    try:
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled"] >= 400
        action = algo.compute_single_action(np.zeros(3, np.float32))
        assert action.shape == (1,)
    finally:
        algo.stop()


def test_bad_configs_raise_at_build(cluster):
    with pytest.raises(EnvError, match="NoSuchEnv-v0"):
        PPOConfig().environment("NoSuchEnv-v0").build_algo()
    with pytest.raises(ValueError, match="num_env_runners"):
        PPOConfig().environment("CartPole-v1").env_runners(num_env_runners=-1).build_algo()
    with pytest.raises(ValueError, match="No environment"):
        PPOConfig().build_algo()
    with pytest.raises(TypeError, match="no_such_option"):
        PPOConfig().training(no_such_option=1)
    with pytest.raises(ValueError, match="minibatch_size"):
        PPOConfig().environment("CartPole-v1").training(
            minibatch_size=500, train_batch_size_per_learner=100).build_algo()
    with pytest.raises(ValueError, match="Discrete"):
        DQNConfig().environment("Pendulum-v1").env_runners(num_env_runners=0).build_algo()
    with pytest.raises(ValueError, match="not an algorithm checkpoint"):
        Algorithm.from_checkpoint(tempfile.mkdtemp())
