"""RLlib's algorithms: the Algorithm base, AlgorithmConfig, PPO and DQN."""
from photon.rllib.algorithms.algorithm import Algorithm
from photon.rllib.algorithms.algorithm_config import AlgorithmConfig
from photon.rllib.algorithms.dqn import DQN, DQNConfig
from photon.rllib.algorithms.ppo import PPO, PPOConfig

__all__ = ["Algorithm", "AlgorithmConfig", "DQN", "DQNConfig", "PPO", "PPOConfig"]
