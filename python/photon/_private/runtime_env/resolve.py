"""Validating a runtime_env (at .options()/.remote() time, no cluster needed)
and resolving it for workers (at submission: local working_dir and py_modules
packed and uploaded, pip normalized), plus merging a task's env over its
job's (or its parent task's) as Ray does: the task's fields win, env_vars
are merged key by key."""
import json
import os
import threading

from photon._private.runtime_env import packaging, pip

FIELDS = ("env_vars", "working_dir", "py_modules", "pip", "excludes", "config")
_CONFIG_FIELDS = ("setup_timeout_seconds", "eager_install")
DEFAULT_SETUP_TIMEOUT_S = 600

_cache_lock = threading.Lock()
_cache = {}  # (epoch, canonical json) -> resolved


def _is_uri(value):
    return isinstance(value, str) and "://" in value


def validate(runtime_env, check_env_var):
    if not isinstance(runtime_env, dict):
        raise TypeError(f"runtime_env must be a dict, got {type(runtime_env).__name__}")
    unknown = sorted(set(runtime_env) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown runtime_env field(s) {', '.join(repr(u) for u in unknown)}; "
                         f"Photon supports {', '.join(FIELDS)}")
    env_vars = runtime_env.get("env_vars") or {}
    if not isinstance(env_vars, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env_vars.items()):
        raise TypeError("runtime_env['env_vars'] must map str to str")
    for k in env_vars:
        check_env_var(k)
    wd = runtime_env.get("working_dir")
    if wd is not None:
        if not isinstance(wd, (str, os.PathLike)):
            raise TypeError(f"runtime_env['working_dir'] must be a path or a package URI, got "
                            f"{type(wd).__name__}")
        wd = os.fspath(wd)
        if _is_uri(wd):
            packaging.check_uri(wd)
        elif not (os.path.isdir(wd) or (os.path.isfile(wd) and wd.endswith(".zip"))):
            raise ValueError(f"runtime_env['working_dir'] {wd!r} is not an existing folder or "
                             ".zip file")
    mods = runtime_env.get("py_modules")
    if mods is not None:
        if not isinstance(mods, (list, tuple)):
            raise TypeError("runtime_env['py_modules'] must be a list of paths, modules or "
                            "package URIs")
        for m in mods:
            if hasattr(m, "__file__"):
                continue
            m = os.fspath(m) if isinstance(m, os.PathLike) else m
            if not isinstance(m, str):
                raise TypeError(f"runtime_env['py_modules'] entry {m!r} is not a path")
            if _is_uri(m):
                packaging.check_uri(m)
            elif not os.path.exists(m):
                raise ValueError(f"runtime_env['py_modules'] entry {m!r} does not exist")
    excludes = runtime_env.get("excludes")
    if excludes is not None and (not isinstance(excludes, (list, tuple)) or
                                 not all(isinstance(e, str) for e in excludes)):
        raise TypeError("runtime_env['excludes'] must be a list of patterns (str)")
    if runtime_env.get("pip") is not None:
        pip.normalize(runtime_env["pip"])
    cfg = runtime_env.get("config")
    if cfg is not None:
        if not isinstance(cfg, dict):
            cfg = getattr(cfg, "to_dict", lambda: None)()
            if not isinstance(cfg, dict):
                raise TypeError("runtime_env['config'] must be a dict")
        bad = sorted(set(cfg) - set(_CONFIG_FIELDS))
        if bad:
            raise ValueError(f"unknown runtime_env config field(s): {', '.join(bad)}")
        t = cfg.get("setup_timeout_seconds")
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or
                              (t <= 0 and t != -1)):
            raise ValueError("runtime_env config setup_timeout_seconds must be a positive int "
                             f"(or -1: no timeout), got {t!r}")


def _module_path(m):
    if hasattr(m, "__file__"):
        f = m.__file__
        return os.path.dirname(f) if os.path.basename(f) == "__init__.py" else f
    return os.fspath(m)


def resolve(runtime_env, epoch=0):
    """The form workers get: local folders replaced by uploaded package URIs.
    Needs a connection (uploads go to its GCS); cached per connection."""
    key = (epoch, json.dumps(runtime_env, sort_keys=True, default=str))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    out = {}
    excludes = list(runtime_env.get("excludes") or [])
    wd = runtime_env.get("working_dir")
    if wd is not None:
        wd = os.fspath(wd)
        out["working_dir"] = wd if _is_uri(wd) else packaging.upload(wd, excludes)
    mods = runtime_env.get("py_modules")
    if mods:
        uris = []
        for m in mods:
            path = _module_path(m)
            if _is_uri(path):
                uris.append(path)
            elif os.path.isfile(path) and path.endswith(".py"):
                raise ValueError(f"runtime_env['py_modules'] entry {path!r} is a single file: "
                                 "put it in a package folder")
            else:
                uris.append(packaging.upload(path, excludes, include_parent=os.path.isdir(path),
                                             what="py_modules entry"))
        out["py_modules"] = uris
    if runtime_env.get("pip") is not None:
        out["pip"] = pip.normalize(runtime_env["pip"])
    cfg = runtime_env.get("config")
    if cfg is not None:
        out["config"] = dict(cfg if isinstance(cfg, dict) else cfg.to_dict())
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = out
    return out


def merge(parent, child):
    """A task's runtime_env over the one it inherits (both in resolved form,
    env_vars left out): the child's fields win."""
    out = dict(parent or {})
    out.update(child or {})
    return out


def encode(resolved):
    """The worker environment variable's value ("" for nothing to set up)."""
    return json.dumps(resolved, sort_keys=True) if resolved else ""
