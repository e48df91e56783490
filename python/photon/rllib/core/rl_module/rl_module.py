"""RLModule: the neural networks of a policy (RLlib's new API stack), and
RLModuleSpec, which says how to build one.

A module maps a batch {"obs": tensor} to {"action_dist_inputs": tensor}
(logits of a Categorical for Discrete actions; means and log-stds of a
diagonal Gaussian for Box actions) in three modes: forward_inference
(greedy acting), forward_exploration (sampling) and forward_train (the
learner's pass). PPO's modules also compute state values
(compute_values); DQN's return Q-values ("qf_preds").
"""
import dataclasses
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

ACTION_DIST_INPUTS = "action_dist_inputs"
OBS = "obs"
QF_PREDS = "qf_preds"
VF_PREDS = "vf_preds"


class RLModule:
    """Subclass and build your networks in setup(); implement _forward (or
    _forward_inference / _forward_exploration / _forward_train)."""

    def __init__(self, observation_space=None, action_space=None, inference_only=False,
                 model_config=None, catalog_class=None, **kwargs):
        self.observation_space = observation_space
        self.action_space = action_space
        self.inference_only = inference_only
        self.model_config = dict(model_config or {})
        self.setup()

    def setup(self):
        pass

    def forward_inference(self, batch, **kwargs):
        return self._forward_inference(batch, **kwargs)

    def forward_exploration(self, batch, **kwargs):
        return self._forward_exploration(batch, **kwargs)

    def forward_train(self, batch, **kwargs):
        return self._forward_train(batch, **kwargs)

    def _forward(self, batch, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement _forward (or "
                                  "_forward_inference/_forward_exploration/_forward_train)")

    def _forward_inference(self, batch, **kwargs):
        return self._forward(batch, **kwargs)

    def _forward_exploration(self, batch, **kwargs):
        return self._forward(batch, **kwargs)

    def _forward_train(self, batch, **kwargs):
        return self._forward(batch, **kwargs)

    def get_state(self, *args, **kwargs):
        return {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}

    def set_state(self, state):
        self.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})


class TorchRLModule(RLModule, nn.Module):
    """An RLModule that is a torch.nn.Module."""

    framework = "torch"

    def __init__(self, *args, **kwargs):
        nn.Module.__init__(self)
        RLModule.__init__(self, *args, **kwargs)


@dataclasses.dataclass
class RLModuleSpec:
    module_class: Optional[type] = None
    observation_space: Any = None
    action_space: Any = None
    inference_only: bool = False
    model_config: Optional[dict] = None
    catalog_class: Any = None
    load_state_path: Optional[str] = None

    def build(self):
        if self.module_class is None:
            raise ValueError("RLModuleSpec.module_class is not set")
        if self.observation_space is None or self.action_space is None:
            raise ValueError("RLModuleSpec needs observation_space and action_space to build")
        return self.module_class(observation_space=self.observation_space,
                                 action_space=self.action_space,
                                 inference_only=self.inference_only,
                                 model_config=self.model_config or {})


# -- the default networks -------------------------------------------------------
_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "swish": nn.SiLU, "silu": nn.SiLU,
                "elu": nn.ELU, "linear": nn.Identity}


def mlp(in_size, hiddens, out_size, activation="tanh"):
    act = _ACTIVATIONS.get(activation)
    if act is None:
        raise ValueError(f"unknown fcnet_activation {activation!r}; one of {sorted(_ACTIVATIONS)}")
    layers, size = [], in_size
    for h in hiddens:
        layers += [nn.Linear(size, h), act()]
        size = h
    layers.append(nn.Linear(size, out_size))
    return nn.Sequential(*layers)


def obs_size(space):
    shape = getattr(space, "shape", None)
    if shape is None or len(shape) == 0:
        n = getattr(space, "n", None)
        if n is not None:
            return int(n)
        raise ValueError(f"unsupported observation space {space!r}")
    return int(np.prod(shape))


def action_dist_size(space):
    if hasattr(space, "n") and getattr(space, "shape", ()) == ():
        return int(space.n)
    shape = getattr(space, "shape", None)
    if shape:
        return 2 * int(np.prod(shape))  # means and log-stds
    raise ValueError(f"unsupported action space {space!r}")


class DefaultPPOTorchRLModule(TorchRLModule):
    """Separate policy and value MLPs (fcnet_hiddens, fcnet_activation), as
    RLlib's default PPO module (vf_share_layers=False)."""

    def setup(self):
        hiddens = self.model_config.get("fcnet_hiddens", [256, 256])
        act = self.model_config.get("fcnet_activation", "tanh")
        n_in = obs_size(self.observation_space)
        self.pi = mlp(n_in, hiddens, action_dist_size(self.action_space), act)
        self.vf = mlp(n_in, self.model_config.get("vf_hiddens", hiddens), 1, act)

    def _forward(self, batch, **kwargs):
        obs = batch[OBS].reshape(batch[OBS].shape[0], -1).float()
        return {ACTION_DIST_INPUTS: self.pi(obs)}

    def compute_values(self, batch, embeddings=None):
        obs = batch[OBS].reshape(batch[OBS].shape[0], -1).float()
        return self.vf(obs).squeeze(-1)


class DefaultDQNTorchRLModule(TorchRLModule):
    """A Q-network (fcnet_hiddens; dueling heads with `dueling`)."""

    def setup(self):
        if not (hasattr(self.action_space, "n") and getattr(self.action_space, "shape", ()) == ()):
            raise ValueError(f"DQN needs a Discrete action space, got {self.action_space!r}")
        hiddens = self.model_config.get("fcnet_hiddens", [256])
        act = self.model_config.get("fcnet_activation", "relu")
        n_in, n_out = obs_size(self.observation_space), int(self.action_space.n)
        self.dueling = bool(self.model_config.get("dueling", True))
        if self.dueling:
            self.body = mlp(n_in, hiddens[:-1], hiddens[-1], act) if hiddens else nn.Identity()
            width = hiddens[-1] if hiddens else n_in
            self.advantage = nn.Sequential(_ACTIVATIONS[act](), nn.Linear(width, n_out))
            self.value = nn.Sequential(_ACTIVATIONS[act](), nn.Linear(width, 1))
        else:
            self.q = mlp(n_in, hiddens, n_out, act)

    def _forward(self, batch, **kwargs):
        obs = batch[OBS].reshape(batch[OBS].shape[0], -1).float()
        if self.dueling:
            h = self.body(obs)
            a = self.advantage(h)
            q = self.value(h) + a - a.mean(dim=-1, keepdim=True)
        else:
            q = self.q(obs)
        return {QF_PREDS: q, ACTION_DIST_INPUTS: q}
