"""RLModules: the networks of a policy (see rl_module.py)."""
from photon.rllib.core.rl_module.rl_module import RLModule, RLModuleSpec, TorchRLModule

__all__ = ["RLModule", "RLModuleSpec", "TorchRLModule"]
