"""RLlib's errors."""


class EnvError(ValueError):
    """The environment could not be found or created (Ray's
    ray.rllib.utils.error.EnvError)."""
