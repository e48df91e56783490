"""Fixtures of the Python suite, named like Ray's (python/ray/tests/conftest.py).

Every cluster a fixture starts is stopped in a `finally`, and every session
folder goes under a temporary PHOTON_SESSION_DIR_ROOT that is removed at the
end, so a run leaves nothing behind.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

# Before photon is imported anywhere: sessions of this run go to a private folder.
_SESSION_ROOT = tempfile.mkdtemp(prefix="photon-pytest-")
os.environ["PHOTON_SESSION_DIR_ROOT"] = _SESSION_ROOT
# Every process of the tests checks its lock order (off by default: it is slow).
os.environ["PHOTON_MUTEX_DEADLOCK_DETECTION"] = "true"
# Local clusters start no dashboard unless a test asks (include_dashboard=True):
# a web server per photon.init() would cost every test its start-up.
os.environ["PHOTON_INCLUDE_DASHBOARD"] = "false"

import photon  # noqa: E402
from photon.cluster_utils import Cluster  # noqa: E402

# Per-test limit (pytest-timeout); a test may set its own with
# @pytest.mark.timeout(n). The thread method is used because a hang inside the
# native core (with the GIL released) never returns to Python for a signal
# handler to run: the watchdog thread dumps every stack and ends the run.
DEFAULT_TEST_TIMEOUT_S = 60


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TEST_TIMEOUT_S, method="thread"))


def pytest_sessionfinish(session, exitstatus):
    if photon.is_initialized():
        photon.shutdown()
    shutil.rmtree(_SESSION_ROOT, ignore_errors=True)


def _init(**kwargs):
    if photon.is_initialized():
        # A test that failed half-way may have left a connection behind.
        photon.shutdown()
    return photon.init(**kwargs)


@pytest.fixture
def ray_start_regular(request):
    """A private 2-CPU cluster for one test. Parametrize indirectly with a
    dict of photon.init arguments to change it."""
    kwargs = dict(num_cpus=2)
    kwargs.update(getattr(request, "param", None) or {})
    info = _init(**kwargs)
    try:
        yield info
    finally:
        photon.shutdown()


@pytest.fixture(scope="module")
def ray_start_regular_shared():
    """A 2-CPU cluster shared by every test of a module (tests must not
    depend on a fresh cluster)."""
    info = _init(num_cpus=2)
    try:
        yield info
    finally:
        photon.shutdown()


@pytest.fixture
def shutdown_only():
    """For tests that call photon.init themselves."""
    try:
        yield None
    finally:
        photon.shutdown()


@pytest.fixture
def ray_start_cluster():
    """An empty Cluster (no nodes); the test adds nodes and connects."""
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.shutdown()
        photon.shutdown()


@pytest.fixture
def three_two_cpu_nodes():
    """A connected Cluster of three 2-CPU nodes (the head and two more)."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    try:
        cluster.add_node(num_cpus=2)
        cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        cluster.connect()
        yield cluster
    finally:
        cluster.shutdown()
        photon.shutdown()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def external_redis():
    """A private redis-server on a free port (no persistence to disk), for
    GCS fault tolerance; yields its "host:port" and sets PHOTON_REDIS_ADDRESS
    for the test (as Ray's fixture sets RAY_REDIS_ADDRESS). Stopped after."""
    redis = shutil.which("redis-server")
    if redis is None:
        pytest.fail("redis-server is not installed (scripts/setup.sh installs it)")
    workdir = tempfile.mkdtemp(prefix="photon-redis-")
    port = _free_port()
    proc = subprocess.Popen(
        [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    old = os.environ.get("PHOTON_REDIS_ADDRESS")
    try:
        deadline = time.monotonic() + 10
        while not _redis_answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not come up on port {port}")
            time.sleep(0.05)
        address = f"127.0.0.1:{port}"
        os.environ["PHOTON_REDIS_ADDRESS"] = address
        yield address
    finally:
        if old is None:
            os.environ.pop("PHOTON_REDIS_ADDRESS", None)
        else:
            os.environ["PHOTON_REDIS_ADDRESS"] = old
        proc.kill()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
