"""Access to the core's configuration table (src/photon/common/config_def.h)."""

from photon import _photon


def check_environment():
    """Validates every PHOTON_* environment variable.

    Returns a dict of every tunable's value as text. Raises ValueError naming
    the first variable that names no tunable or does not parse.
    """
    return _photon.check_config_environment()


def table():
    """The config table: a list of dicts with name, env_var, type, default, doc."""
    return _photon.config_table()


def _parse(kind, text):
    if kind == "bool":
        return text.strip().lower() in ("1", "true", "yes", "on")
    if kind in ("int", "int64"):
        return int(text)
    if kind in ("float", "double"):
        return float(text)
    return text


def setting(name):
    """The value of config row `name` in this process's environment (its
    PHOTON_<NAME> variable, else the default), typed as the row declares."""
    values = check_environment()
    if name not in values:
        raise KeyError(f"{name!r} is not a Photon setting (see docs/config.md)")
    kind = next(r["type"] for r in table() if r["name"] == name)
    return _parse(kind, values[name])


def env_var(name):
    """The environment variable of config row `name` (PHOTON_<NAME>)."""
    return "PHOTON_" + name.upper()
