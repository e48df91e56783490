"""Starting and stopping the dashboard process of a head node.

The caller binds the listening socket and hands it to the child (uvicorn
serves a given file descriptor), so the URL is known and answers (after the
child is up, requests wait in the backlog) the moment start() returns.
"""
import ctypes
import errno
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

from photon import _photon
from photon._private import config

KV_NAMESPACE = "dashboard"
KV_URL_KEY = b"url"
# Ray's default; a local cluster takes the next free port when it is taken.
DEFAULT_PORT = 8265
_PORTS_TRIED = 100
_PR_SET_PDEATHSIG = 1


def available():
    """Whether the dashboard's web stack (starlette, uvicorn) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("starlette", "uvicorn"))


def _bind(host, port, port_given):
    last = None
    for candidate in ([port] if port_given or port == 0 else
                      range(port, port + _PORTS_TRIED)):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, candidate))
            s.listen(128)
            return s
        except OSError as e:
            s.close()
            last = e
            if e.errno != errno.EADDRINUSE:
                break
    what = f"port {port}" if port_given or port == 0 else f"ports {port}-{port + _PORTS_TRIED - 1}"
    raise ValueError(f"the dashboard cannot listen on {host} {what}: {last.strerror if last else ''}"
                     " (pass dashboard_port= or --dashboard-port to choose another)")


def die_with_parent(parent_pid):
    """In the dashboard: be sent SIGTERM when the process that started it ends
    (set in the child, not by a preexec_fn, which is unsafe in a threaded
    parent); exits at once if that process is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        os._exit(0)


class Dashboard:
    """A running dashboard process: its URL (host:port, as Ray's
    dashboard_url) and its pid."""

    def __init__(self, proc, host, port):
        self.proc = proc
        self.host = host
        self.port = port

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=5):
        stop_pid(self.proc.pid, timeout)
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


def stop_pid(pid, timeout=5):
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return
        except ChildProcessError:
            # Not our child: poll for it to go.
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _pythonpath():
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    return os.pathsep.join(paths)


def start(gcs_address, session_dir, host=None, port=None, *, detached=False):
    """Starts the dashboard of the cluster whose GCS is at `gcs_address` and
    records its URL in the GCS (so drivers that connect later find it).
    `port` None: the dashboard_port setting, or the next free one."""

    port_given = port is not None
    host = host or config.setting("dashboard_host")
    port = int(config.setting("dashboard_port") if port is None else port)
    if not 0 <= port <= 65535:
        raise ValueError(f"dashboard_port must be a port number, got {port}")
    sock = _bind(host, port, port_given)
    try:
        bound_port = sock.getsockname()[1]
        log_dir = os.path.join(session_dir, "logs")
        os.makedirs(log_dir, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = _pythonpath()
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "photon.dashboard", "--gcs-address", gcs_address,
               "--session-dir", session_dir, "--host", host, "--port", str(bound_port),
               "--fd", str(sock.fileno())]
        if not detached:
            cmd += ["--parent-pid", str(os.getpid())]
        with open(os.path.join(log_dir, "dashboard.log"), "ab") as log:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                pass_fds=(sock.fileno(),), start_new_session=detached)
    finally:
        sock.close()
    dash = Dashboard(proc, host, bound_port)
    with open(os.path.join(session_dir, "dashboard_url"), "w") as f:
        f.write(dash.url)
    try:
        _photon.state_kv_put(KV_NAMESPACE, KV_URL_KEY, dash.url.encode(), True, gcs_address)
    except Exception:  # noqa: BLE001 - drivers on this host still find it
        pass
    return dash


def recorded_url(gcs_address=""):
    """The dashboard URL the cluster at `gcs_address` recorded (None if none)."""
    try:
        raw = _photon.state_kv_get(KV_NAMESPACE, KV_URL_KEY, gcs_address)
    except Exception:  # noqa: BLE001
        return None
    return raw.decode() if raw else None
