"""RLlib's core: RLModules (rl_module) and the column names they use."""
from photon.rllib.core.rl_module.rl_module import ACTION_DIST_INPUTS, OBS, QF_PREDS, VF_PREDS

__all__ = ["ACTION_DIST_INPUTS", "OBS", "QF_PREDS", "VF_PREDS"]
