"""A cluster across three "hosts": Linux network namespaces joined by veth
pairs to a bridge, `photon start` inside each, a driver inside one. Tasks and
objects cross hosts, a STRICT_SPREAD placement group puts a bundle on each,
`photon status` on any host shows the three nodes, and `photon stop` on each
leaves nothing running. Skipped, saying why, where namespaces cannot be
made (not root, or no `ip`)."""
import os
import re
import shutil
import subprocess
import sys
import uuid

import pytest

from photon._private.cli import bin_dir

_TAG = uuid.uuid4().hex[:4]
_SUBNET = f"10.{77 + int(_TAG, 16) % 100}.0"
_HOSTS = [f"ph{_TAG}h{i}" for i in (1, 2, 3)]
_BRIDGE = f"ph{_TAG}br"


def _run(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=60)


def _namespaces_permitted():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = f"ph{_TAG}probe"
    ok = _run("ip", "netns", "add", probe, check=False).returncode == 0
    if ok:
        _run("ip", "netns", "delete", probe, check=False)
    return ok


pytestmark = pytest.mark.skipif(not _namespaces_permitted(),
                                reason="network namespaces cannot be created here (needs "
                                       "root and iproute2's `ip`)")


@pytest.fixture
def hosts(tmp_path):
    made = []
    try:
        _run("ip", "link", "add", _BRIDGE, "type", "bridge")
        made.append(("link", _BRIDGE))
        _run("ip", "link", "set", _BRIDGE, "up")
        for i, ns in enumerate(_HOSTS, start=1):
            _run("ip", "netns", "add", ns)
            made.append(("netns", ns))
            veth = f"ph{_TAG}v{i}"
            _run("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p")
            made.append(("link", veth))
            _run("ip", "link", "set", veth + "p", "netns", ns)
            _run("ip", "link", "set", veth, "master", _BRIDGE)
            _run("ip", "link", "set", veth, "up")
            _run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{_SUBNET}.{i}/24", "dev",
                 veth + "p")
            _run("ip", "netns", "exec", ns, "ip", "link", "set", veth + "p", "up")
            _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield [(ns, f"{_SUBNET}.{i}", tmp_path / ns) for i, ns in enumerate(_HOSTS, start=1)]
    finally:
        for ns in _HOSTS:
            if ("netns", ns) in made:
                _in(ns, tmp_path / ns, os.path.join(bin_dir(), "photon"), "stop", check=False)
        for kind, name in reversed(made):
            if kind == "netns":
                _run("ip", "netns", "delete", name, check=False)
            else:
                _run("ip", "link", "delete", name, check=False)


def _in(ns, state_dir, *cmd, check=True, env=None):
    full_env = dict(os.environ, PHOTON_SESSION_DIR_ROOT=str(state_dir), **(env or {}))
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True,
                          check=check, timeout=180, env=full_env)


DRIVER = """
import numpy as np
import photon as ray
from photon.util import placement_group
from photon.util.scheduling_strategies import PlacementGroupSchedulingStrategy
ray.init(address=ADDRESS)

@ray.remote(num_cpus=0)
def where():
    return ray.util.get_node_ip_address()

@ray.remote(num_cpus=0)
def make(n):
    return np.ones(n, dtype=np.uint8)

@ray.remote(num_cpus=0)
def total(a):
    return int(a.sum()), ray.util.get_node_ip_address()

ips = sorted(ray.get(where.options(resources={f"h{i}": 0.01}).remote(), timeout=60)
             for i in (1, 2, 3))
assert ips == sorted(IPS), ips
big = make.options(resources={"h2": 0.01}).remote(20_000_000)
assert ray.get(total.options(resources={"h3": 0.01}).remote(big), timeout=60) == \\
    (20_000_000, IPS[2])
assert int(ray.get(big, timeout=60).sum()) == 20_000_000
pg = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD")
assert pg.wait(60)
placed = ray.get([where.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg, i))
                  .remote() for i in range(3)], timeout=60)
assert sorted(placed) == sorted(IPS), placed
ray.shutdown()
print("DRIVER OK")
"""


def test_three_hosts(hosts):
    photon_cmd = os.path.join(bin_dir(), "photon")
    (ns1, ip1, dir1), (ns2, ip2, dir2), (ns3, ip3, dir3) = hosts
    head = _in(ns1, dir1, photon_cmd, "start", "--head", "--port", "6379", "--num-cpus", "1",
               "--node-ip-address", ip1, "--resources", '{"h1": 1}')
    assert "GCS address: " + ip1 in head.stdout
    # The head printed the token for the other hosts, which cannot join without it.
    token = re.search(r"--token=([0-9a-f]{64})", head.stdout).group(1)
    refused = _in(ns2, dir2 / "no-token", photon_cmd, "start", "--address", f"{ip1}:6379",
                  check=False)
    assert refused.returncode != 0 and "token" in refused.stderr, refused.stderr
    wrong = _in(ns2, dir2 / "no-token", photon_cmd, "status", "--address", f"{ip1}:6379",
                "--token", "0" * 64, check=False)
    assert wrong.returncode != 0 and "wrong cluster token" in wrong.stderr, wrong.stderr
    for i, (ns, ip, d) in enumerate(hosts[1:], start=2):
        _in(ns, d, photon_cmd, "start", "--address", f"{ip1}:6379", "--num-cpus", "1",
            "--node-ip-address", ip, "--resources", f'{{"h{i}": 1}}', "--token", token)
    for ns, ip, d in hosts:
        status = _in(ns, d, photon_cmd, "status", "--address", f"{ip1}:6379")
        assert "3 nodes" in status.stdout
        assert status.stdout.count("ALIVE") == 3
        assert f"{ip}:" in status.stdout  # nodes advertise their own host's address
    script = DRIVER.replace("ADDRESS", repr(f"{ip1}:6379")).replace("IPS", repr([ip1, ip2, ip3]))
    pythonpath = os.pathsep.join(os.path.abspath(p) for p in sys.path if p and os.path.isdir(p))
    driver = _in(ns2, dir2 / "driver", sys.executable, "-c", script, check=False,
                 env={"PYTHONPATH": pythonpath, "PHOTON_CLUSTER_TOKEN": token})
    assert driver.returncode == 0, driver.stdout + driver.stderr
    assert "DRIVER OK" in driver.stdout
    pids = []
    for ns, ip, d in hosts:
        pids += [int(p) for p in (d / "cli_processes").read_text().split()]
        assert _in(ns, d, photon_cmd, "stop").returncode == 0
    alive = [p for p in pids if os.path.exists(f"/proc/{p}/cmdline") and
             b"photon-" in open(f"/proc/{p}/cmdline", "rb").read()]
    assert not alive
