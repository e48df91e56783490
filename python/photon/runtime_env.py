"""photon.runtime_env (``ray.runtime_env``): RuntimeEnv, a dict of the
runtime_env fields. Photon applies env_vars; other fields are refused when the
environment is used (see photon._private.options.validate_runtime_env)."""


class RuntimeEnv(dict):
    """runtime_env=RuntimeEnv(env_vars={...}) is the same as the dict form."""

    def __init__(self, *, env_vars=None, **fields):
        super().__init__()
        if env_vars is not None:
            self["env_vars"] = dict(env_vars)
        self.update(fields)

    def env_vars(self):
        return dict(self.get("env_vars") or {})

    def to_dict(self):
        return dict(self)


__all__ = ["RuntimeEnv"]
