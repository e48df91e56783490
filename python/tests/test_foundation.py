"""The Python package imports and sees the core's configuration and IDs."""
import os
import subprocess
import sys

import pytest

import photon
from photon._private import config


def test_version():
    assert photon.__version__ == "0.1.0"


def test_config_table_matches_core():
    names = {row["name"] for row in config.table()}
    assert "max_direct_call_object_size" in names
    for row in config.table():
        assert row["env_var"] == "PHOTON_" + row["name"].upper()
        assert row["doc"]


def _run_check(env_extra):
    env = dict(os.environ, **env_extra)
    code = "from photon._private import config; print(config.check_environment()['task_max_retries'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_env_override():
    out = _run_check({"PHOTON_TASK_MAX_RETRIES": "9"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "9"


@pytest.mark.parametrize("var,value,needle", [
    ("PHOTON_TASK_MAX_RETRIES", "many", "PHOTON_TASK_MAX_RETRIES"),
    ("PHOTON_NOT_A_KNOB", "1", "PHOTON_NOT_A_KNOB"),
])
def test_bad_env_is_rejected(var, value, needle):
    out = _run_check({var: value})
    assert out.returncode != 0
    assert "ValueError" in out.stderr and needle in out.stderr
