"""The supervisor of one submitted job: a detached actor, created by the job
manager on the head node (or a node with the entrypoint resources), that runs
the entrypoint as a shell command in its own process group, keeps its output in
the node's logs folder (job-driver-<submission id>.log), and records the job's
status in the GCS as it changes.

The actor runs in the job's runtime_env, so the entrypoint starts in the
job's working_dir with its env_vars, and its photon.init() joins the cluster
(PHOTON_ADDRESS) as the job's driver (job_config_json: submission id,
runtime_env and metadata)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from photon import _photon
from photon.dashboard.modules.job import common
from photon._private import config

# Set by the raylet or the driver for one worker; the entrypoint is a new
# driver and must not inherit them.
_WORKER_ONLY = ("raylet_address", "worker_id", "job_id", "session_dir", "raylet_pid",
                "job_namespace", "job_worker_command", "job_worker_env", "runtime_env",
                "job_config_json")


# Runs the entrypoint with /bin/sh -c, killed if the supervisor (argv[1]) dies
# first (prctl PDEATHSIG, set in the child itself: a preexec_fn is unsafe in
# the supervisor's threaded process).
_DIE_WITH_SUPERVISOR = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(143)\n"
    "os.execv('/bin/sh', ['/bin/sh', '-c', sys.argv[2]])\n")


def _now_ms():
    return int(time.time() * 1000)


class JobSupervisor:
    def __init__(self, submission_id, entrypoint, gcs_address, runtime_env, metadata):
        self.submission_id = submission_id
        self.entrypoint = entrypoint
        self.gcs_address = gcs_address
        self.runtime_env = runtime_env or {}
        self.metadata = metadata or {}
        self.proc = None
        self.stop_requested = False
        self.lock = threading.Lock()
        session_dir = os.environ.get("PHOTON_SESSION_DIR", "")
        self.log_path = os.path.join(session_dir, "logs",
                                     common.log_file_name(submission_id))

    # --- the job's record ---

    def _update(self, **fields):
        key = common.info_key(self.submission_id)
        info = common.loads(_photon.kv_get(common.KV_NAMESPACE, key)) or {}
        info.update(fields)
        _photon.kv_put(common.KV_NAMESPACE, key, common.dumps(info), True)
        return info

    def _env(self):

        env = dict(os.environ)
        for name in _WORKER_ONLY:
            env.pop(config.env_var(name), None)
        env[config.env_var("address")] = self.gcs_address
        env["RAY_ADDRESS"] = self.gcs_address
        env[config.env_var("job_config_json")] = json.dumps({
            "submission_id": self.submission_id, "runtime_env": self.runtime_env,
            "metadata": self.metadata})
        return env

    def _tail(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - common.LOG_TAIL_CHARS))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    # --- what the manager calls ---

    def ping(self):
        return True

    def run(self):
        """Runs the entrypoint to its end; returns the final status."""
        node_id = _photon.node_id().hex()
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        with self.lock:
            if self.stop_requested:
                self._update(status="STOPPED", message="Job was intentionally stopped.",
                             end_time=_now_ms())
                return "STOPPED"
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", _DIE_WITH_SUPERVISOR, str(os.getpid()),
                     self.entrypoint], stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=self._env(), start_new_session=True)
            except OSError as e:
                log.close()
                self._update(status="FAILED", end_time=_now_ms(),
                             error_type="JOB_ENTRYPOINT_COMMAND_START_ERROR",
                             message=f"Failed to start the job's entrypoint: {e}")
                return "FAILED"
            self._update(status="RUNNING", message="Job is currently running.",
                         driver_node_id=node_id, driver_pid=self.proc.pid,
                         driver_log_path=self.log_path)
        code = self.proc.wait()
        log.close()
        with self.lock:
            stopped = self.stop_requested
        if stopped:
            self._update(status="STOPPED", message="Job was intentionally stopped.",
                         end_time=_now_ms(), driver_exit_code=code)
            return "STOPPED"
        if code == 0:
            self._update(status="SUCCEEDED", message="Job finished successfully.",
                         end_time=_now_ms(), driver_exit_code=0)
            return "SUCCEEDED"
        tail = self._tail()
        self._update(status="FAILED", end_time=_now_ms(), driver_exit_code=code,
                     error_type="JOB_ENTRYPOINT_COMMAND_ERROR",
                     message=f"Job entrypoint command failed with exit code {code}, last "
                             f"available logs (truncated to {common.LOG_TAIL_CHARS:,} chars):\n"
                             f"{tail}")
        return "FAILED"

    def stop(self, wait_s):
        """SIGTERM to the entrypoint's process group, SIGKILL after wait_s.
        Returns whether it was running."""
        with self.lock:
            self.stop_requested = True
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return proc is None
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return True

        def kill_later():
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    return
                time.sleep(0.05)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        threading.Thread(target=kill_later, daemon=True).start()
        return True
