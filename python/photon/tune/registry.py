"""Trainables and environments registered by name (tune.register_trainable / register_env)."""
_trainables = {}
_envs = {}


def register_trainable(name, trainable):
    if not isinstance(name, str) or not name:
        raise TypeError(f"The name of a trainable must be a non-empty string, got {name!r}.")
    if not callable(trainable):
        raise TypeError(f"{trainable!r} is not a function or a Trainable class.")
    _trainables[name] = trainable


def get_trainable(name):
    if name not in _trainables:
        raise ValueError(f"Unknown trainable {name!r}; register it first with "
                         f"tune.register_trainable(name, trainable). Known: {sorted(_trainables)}")
    return _trainables[name]


def register_env(name, env_creator):
    if not callable(env_creator):
        raise TypeError(f"The environment creator for {name!r} must be callable.")
    _envs[name] = env_creator


def get_env_creator(name):
    return _envs.get(name)
