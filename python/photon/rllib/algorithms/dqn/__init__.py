"""DQN: DQNConfig and the DQN algorithm."""
from photon.rllib.algorithms.dqn.dqn import DQN, DQNConfig

__all__ = ["DQN", "DQNConfig"]
