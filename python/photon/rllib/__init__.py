"""photon.rllib: reinforcement learning with RLlib's new-API-stack interface
(see docs/rllib.md): PPOConfig/DQNConfig -> build_algo() -> train(); env
runners are actors, weights travel through the object store, an Algorithm
is a Tune trainable ("PPO", "DQN")."""
from photon.rllib.algorithms import DQN, PPO, Algorithm, AlgorithmConfig, DQNConfig, PPOConfig
from photon.tune import registry as _registry

_registry.register_trainable("PPO", PPO)
_registry.register_trainable("DQN", DQN)

__all__ = ["Algorithm", "AlgorithmConfig", "DQN", "DQNConfig", "PPO", "PPOConfig"]
