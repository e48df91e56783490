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
