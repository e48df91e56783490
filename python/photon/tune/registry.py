"""Trainables and environments registered by name (tune.register_trainable / register_env).

Environments are also kept in the cluster's key-value store (once this process
is connected), so a trial's actor or an RLlib env runner in another process
finds an environment registered in the driver, as with Ray."""
import cloudpickle

from photon import _photon
from photon._private import state

_trainables = {}
_envs = {}
_unpublished = set()  # env names registered before this process was connected
_KV_NAMESPACE = "photon:tune_registry"


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
    if not isinstance(name, str) or not name:
        raise TypeError(f"The name of an environment must be a non-empty string, got {name!r}.")
    if not callable(env_creator):
        raise TypeError(f"The environment creator for {name!r} must be callable.")
    _envs[name] = env_creator
    _unpublished.add(name)
    publish()


def publish():
    """Puts the environments registered here into the cluster's store (a
    no-op until this process is connected)."""
    if not state.is_connected():
        return
    for name in list(_unpublished):
        _photon.kv_put(_KV_NAMESPACE, b"env:" + name.encode(),
                       cloudpickle.dumps(_envs[name]), True)
        _unpublished.discard(name)


def get_env_creator(name):
    creator = _envs.get(name)
    if creator is None and state.is_connected():
        blob = _photon.kv_get(_KV_NAMESPACE, b"env:" + name.encode())
        if blob is not None:
            creator = cloudpickle.loads(blob)
            _envs[name] = creator
    return creator
