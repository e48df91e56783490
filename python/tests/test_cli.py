"""The `photon` command as a user runs it: start a head with resources and
labels (JSON flags), see nodes, labels, resources and placement groups in
`photon status`, refuse bad flags, and stop everything it started."""
import json
import os
import re
import subprocess
import sys
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
    assert nodes[0]["resources_total"]["custom"] == 2
    groups = json.loads(_photon("list", "placement-groups", "--format", "json").stdout)
    assert {g["name"]: g["state"] for g in groups} == {"held": "CREATED", "too_big": "PENDING"}
    table = _photon("list", "placement-groups").stdout.splitlines()
    assert table[0].split()[:4] == ["PLACEMENT_GROUP_ID", "NAME", "CREATOR_JOB_ID", "STATE"]
    assert len(table) == 3
    jobs = json.loads(_photon("list", "jobs", "--format", "json").stdout)
    assert any(j["status"] == "RUNNING" for j in jobs)
    assert _photon("list", "things").returncode != 0  # not a resource

    # Workers: this driver, and the worker that holds an actor.
    @photon.remote(num_cpus=0)
    class Holder:
        def pid(self):
            return os.getpid()

    holder = Holder.remote()
    holder_pid = photon.get(holder.pid.remote(), timeout=30)
    workers = json.loads(_photon("list", "workers", "--format", "json").stdout)
    by_pid = {w["pid"]: w for w in workers}
    assert by_pid[os.getpid()]["worker_type"] == "DRIVER"
    assert by_pid[holder_pid]["worker_type"] == "WORKER"
    assert by_pid[holder_pid]["state"] == "LEASED"
    assert by_pid[holder_pid]["node_id"] == nodes[0]["node_id"]
    assert _photon("list", "workers").stdout.splitlines()[0].split()[:3] == \
        ["WORKER_ID", "IS_ALIVE", "WORKER_TYPE"]

    # A shape no node can ever serve is named in the status, with who asks for it.
    @photon.remote(num_cpus=100)
    def greedy():
        return 1

    ref = greedy.remote()
    deadline = time.time() + 20
    while time.time() < deadline:
        out = _photon("status").stdout
        if "{CPU: 100}" in out:
            break
        time.sleep(0.2)
    assert "Demands no node can ever serve" in out and "{CPU: 100}" in out, out
    assert "greedy" in out
    photon.cancel(ref)
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


def test_the_cluster_token_guards_the_cluster(cli_env, tmp_path_factory):
    started = _photon("start", "--head", "--port", "0", "--num-cpus", "1")
    assert started.returncode == 0, started.stderr
    address = re.search(r"GCS address: (\S+)", started.stdout).group(1)
    token = re.search(r"--token=([0-9a-f]{64})", started.stdout).group(1)
    session = re.search(r"\(session (\S+)\)", started.stdout).group(1)
    token_file = os.path.join(session, "cluster_token")
    assert oct(os.stat(token_file).st_mode & 0o777) == "0o600"
    assert open(token_file).read().strip() == token
    # The token is in no daemon's command line (ps shows those to every user).
    for pid in (int(p) for p in (cli_env / "cli_processes").read_text().split()):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert token.encode() not in f.read()
    # On this host the CLI and drivers find it by themselves...
    assert _photon("status", "--address", address).returncode == 0
    photon.init(address=address)
    assert photon.get(photon.put(7)) == 7
    photon.shutdown()
    # ...elsewhere (no session folder of this cluster) they need it.
    elsewhere = dict(os.environ, PHOTON_SESSION_DIR_ROOT=str(tmp_path_factory.mktemp("other")))
    run = lambda *args: subprocess.run([os.path.join(bin_dir(), "photon"), *args],
                                       capture_output=True, text=True, timeout=60, env=elsewhere)
    refused = run("status", "--address", address)
    assert refused.returncode == 1
    assert "no cluster token" in refused.stderr and "--token" in refused.stderr
    wrong = run("status", "--address", address, "--token", "f" * 64)
    assert wrong.returncode == 1 and "wrong cluster token" in wrong.stderr
    assert run("status", "--address", address, "--token", token).returncode == 0
    assert "16 to 256" in run("status", "--token", "short").stderr
    refused_join = run("start", "--address", address)
    assert refused_join.returncode == 1 and "needs its token" in refused_join.stderr


def test_stop_force_kills_at_once(cli_env):
    started = _photon("start", "--head", "--port", "0", "--num-cpus", "1")
    assert started.returncode == 0, started.stderr
    pids = [int(p) for p in (cli_env / "cli_processes").read_text().split()]
    stopped = _photon("stop", "--force")
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert not _still_running(pids, within=5)


def _console(*args, timeout=60):
    """The `photon` console script (Python): what starts and stops the dashboard."""
    return subprocess.run([sys.executable, "-m", "photon._private.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_start_head_serves_the_dashboard_and_stop_stops_it(cli_env):
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        started = _console("start", "--head", "--port", "0", "--num-cpus", "1",
                           "--include-dashboard=true", "--dashboard-port", str(port))
        assert started.returncode == 0, started.stderr
        assert f"Dashboard:   http://127.0.0.1:{port}" in started.stdout, started.stdout
        session = re.search(r"started \(session (.+)\)\.", started.stdout).group(1)
        token = open(os.path.join(session, "cluster_token")).read().strip()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v0/nodes")
        req.add_header("Authorization", f"Bearer {token}")
        nodes = json.loads(urllib.request.urlopen(req, timeout=30).read())
        assert nodes["data"]["result"]["total"] == 1
        # A driver of the cluster learns the URL from the GCS.
        address = re.search(r"GCS address: (\S+)", started.stdout).group(1)
        assert photon.init(address=address).dashboard_url == f"127.0.0.1:{port}"
        photon.shutdown()
        pids = [int(p) for p in (cli_env / "cli_dashboards").read_text().split()]
    finally:
        stopped = _console("stop")
    assert stopped.returncode == 0, stopped.stderr
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{p}") for p in pids)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
