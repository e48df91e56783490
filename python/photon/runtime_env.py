"""photon.runtime_env (``ray.runtime_env``): RuntimeEnv and RuntimeEnvConfig.

A runtime_env is a dict of: env_vars, working_dir (a local folder or .zip,
shipped to every node), py_modules (local packages shipped the same way),
pip (a list of packages, a requirements file, or {"packages": [...]}: a
virtual environment per distinct list, made once per node), excludes
(gitignore-style patterns left out of working_dir and py_modules) and config
(RuntimeEnvConfig: setup_timeout_seconds, eager_install). See
docs/runtime-env.md."""
from photon._private import options


class RuntimeEnvConfig(dict):
    """Options of setting an environment up (Ray's RuntimeEnvConfig)."""

    def __init__(self, setup_timeout_seconds=600, eager_install=True, log_files=None):
        super().__init__()
        if isinstance(setup_timeout_seconds, bool) or not isinstance(setup_timeout_seconds, int) \
                or (setup_timeout_seconds <= 0 and setup_timeout_seconds != -1):
            raise ValueError("setup_timeout_seconds must be a positive int, or -1 for no "
                             f"timeout, got {setup_timeout_seconds!r}")
        if not isinstance(eager_install, bool):
            raise TypeError(f"eager_install must be a bool, got {eager_install!r}")
        self["setup_timeout_seconds"] = setup_timeout_seconds
        self["eager_install"] = eager_install

    def to_dict(self):
        return dict(self)


class RuntimeEnv(dict):
    """runtime_env=RuntimeEnv(working_dir=..., env_vars={...}) is the same as
    the dict form. Fields left as None are absent."""

    def __init__(self, *, py_modules=None, working_dir=None, pip=None, conda=None,
                 container=None, env_vars=None, config=None, excludes=None, _validate=True,
                 **kwargs):
        super().__init__()
        if conda is not None:
            raise ValueError("runtime_env 'conda' is not supported by Photon: use 'pip'")
        if container is not None:
            raise ValueError("runtime_env 'container' is not supported by Photon")
        fields = {"py_modules": py_modules, "working_dir": working_dir, "pip": pip,
                  "env_vars": dict(env_vars) if env_vars is not None else None,
                  "config": config, "excludes": excludes}
        fields.update(kwargs)
        for k, v in fields.items():
            if v is not None:
                self[k] = v
        if _validate:
            options.validate_runtime_env(self)

    def env_vars(self):
        return dict(self.get("env_vars") or {})

    def working_dir(self):
        return self.get("working_dir")

    def py_modules(self):
        return list(self.get("py_modules") or [])

    def pip_config(self):
        return self.get("pip")

    def to_dict(self):
        return dict(self)


__all__ = ["RuntimeEnv", "RuntimeEnvConfig"]
