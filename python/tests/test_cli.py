"""The `photon` command as a user runs it: start a head with resources and
labels (JSON flags), see nodes, labels, resources and placement groups in
`photon status`, refuse bad flags, and stop everything it started."""
import json
import os
import re
import subprocess
import time

import pytest

import photon
from photon._private.cli import bin_dir
from photon.util import placement_group


def _photon(*args, timeout=60):
    return subprocess.run([os.path.join(bin_dir(), "photon"), *args], capture_output=True,
                          text=True, timeout=timeout)


def _photon_daemon(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"photon-" in f.read()
    except OSError:
        return False


def _still_running(pids, within):
    """The daemons among `pids` still running after `within` seconds."""
    deadline = time.time() + within
    while time.time() < deadline and any(_photon_daemon(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _photon_daemon(p)]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A state folder of its own, so `photon stop` stops only this test's cluster."""
    monkeypatch.setenv("PHOTON_SESSION_DIR_ROOT", str(tmp_path))
    if photon.is_initialized():
        photon.shutdown()
    try:
        yield tmp_path
    finally:
        photon.shutdown()
        _photon("stop")


def test_start_status_stop(cli_env):
    started = _photon("start", "--head", "--port", "0", "--num-cpus", "2",
                      "--resources", '{"custom": 2}', "--labels", '{"zone": "a"}')
    assert started.returncode == 0, started.stderr
    address = re.search(r"GCS address: (\S+)", started.stdout).group(1)
    pids = [int(p) for p in (cli_env / "cli_processes").read_text().split()]
    assert pids

    photon.init(address=address)
    held = placement_group([{"CPU": 1}], name="held")
    assert held.wait(30)
    placement_group([{"CPU": 64}], name="too_big")
    time.sleep(0.3)
    status = _photon("status", "--address", address)
    assert status.returncode == 0, status.stderr
    out = status.stdout
    assert "1 nodes" in out and "ALIVE" in out
    assert "labels: zone=a" in out
    assert "custom: 0 / 2" in out
    assert "CPU: 1 / 2" in out  # the bundle holds one CPU
    assert "_group_" not in out  # bundle resources are not listed as node resources
    assert re.search(r"Placement groups: .*1 CREATED", out)
    assert "pending" in out and "too_big" in out and "no room" in out
    nodes = json.loads(_photon("list", "nodes", "--format", "json", "--address", address).stdout)
    assert len(nodes) == 1 and nodes[0]["labels"]["zone"] == "a"
    assert nodes[0]["resources"]["custom"] == 2
    groups = json.loads(_photon("list", "placement-groups", "--format", "json").stdout)
    assert {g["name"]: g["state"] for g in groups} == {"held": "CREATED", "too_big": "PENDING"}
    table = _photon("list", "placement-groups").stdout.splitlines()
    assert table[0].split()[:3] == ["PLACEMENT_GROUP_ID", "NAME", "STATE"]
    assert len(table) == 3
    jobs = json.loads(_photon("list", "jobs", "--format", "json").stdout)
    assert any(j["status"] == "RUNNING" for j in jobs)
    assert _photon("list", "tasks").returncode != 0  # not a thing it lists (yet)
    photon.shutdown()

    stopped = _photon("stop")
    assert stopped.returncode == 0
    assert not _still_running(pids, within=10)


@pytest.mark.parametrize("flag,value,message", [
    ("--labels", '{"zone": 1}', "must be a string"),
    ("--labels", "zone=a", "not a JSON object"),
    ("--labels", '{"ray.io/x": "1"}', "reserved"),
    ("--resources", '{"custom": -1}', ">= 0"),
    ("--resources", '{"custom": ', "not a JSON object"),
])
def test_bad_flags_are_refused_with_the_problem_named(cli_env, flag, value, message):
    r = _photon("start", "--head", "--port", "0", flag, value)
    assert r.returncode == 2
    assert message in r.stderr


def test_stop_force_kills_at_once(cli_env):
    started = _photon("start", "--head", "--port", "0", "--num-cpus", "1")
    assert started.returncode == 0, started.stderr
    pids = [int(p) for p in (cli_env / "cli_processes").read_text().split()]
    stopped = _photon("stop", "--force")
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert not _still_running(pids, within=5)
