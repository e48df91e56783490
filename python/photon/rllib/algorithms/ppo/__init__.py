"""PPO: PPOConfig and the PPO algorithm."""
from photon.rllib.algorithms.ppo.ppo import PPO, PPOConfig

__all__ = ["PPO", "PPOConfig"]
