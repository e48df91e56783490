"""Action distributions from a module's action_dist_inputs: a Categorical
over logits (Discrete actions) or a diagonal Gaussian over means and
log-stds (Box actions)."""
import torch


def is_discrete(space):
    return hasattr(space, "n") and getattr(space, "shape", ()) == ()


def make(space, dist_inputs):
    if is_discrete(space):
        return torch.distributions.Categorical(logits=dist_inputs)
    mean, log_std = torch.chunk(dist_inputs, 2, dim=-1)
    std = torch.exp(torch.clamp(log_std, -20.0, 2.0))
    return torch.distributions.Independent(torch.distributions.Normal(mean, std), 1)


def deterministic(space, dist_inputs):
    if is_discrete(space):
        return torch.argmax(dist_inputs, dim=-1)
    return torch.chunk(dist_inputs, 2, dim=-1)[0]
