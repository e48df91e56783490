"""The job manager of the dashboard: records a submitted job in the GCS, starts
its supervisor actor (job_supervisor.py) and watches it; answers status, logs,
stop and delete. The dashboard joins the cluster as a driver (in an internal
namespace, hidden from list_jobs) at the first submission."""
import logging
import secrets
import threading
import time

import photon
from photon import _photon
from photon.dashboard.modules.job import common
from photon.dashboard.modules.job.job_supervisor import JobSupervisor
from photon._private import options
from photon.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from photon._private import config

logger = logging.getLogger(__name__)


def _now_ms():
    return int(time.time() * 1000)


def _check_number(name, value, integral=False):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or \
            (integral and not isinstance(value, int)):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


class JobManager:
    def __init__(self, gcs_address, session_dir):
        self.gcs_address = gcs_address
        self.session_dir = session_dir
        self._lock = threading.Lock()
        self._supervisor_cls = None
        self._stopped = set()  # stopped here: their supervisors' deaths are no failure

    # --- the GCS's key-value store, by address ---

    def _get(self, key):
        return common.loads(_photon.state_kv_get(common.KV_NAMESPACE, key, self.gcs_address))

    def _put(self, key, info, overwrite=True):
        return _photon.state_kv_put(common.KV_NAMESPACE, key, common.dumps(info), overwrite,
                                    self.gcs_address)

    def get_info(self, submission_id):
        info = self._get(common.info_key(submission_id))
        if info is None:
            return None
        raw = _photon.state_kv_get(common.KV_NAMESPACE, common.driver_key(submission_id),
                                   self.gcs_address)
        info["job_id"] = raw.decode() if raw else None
        info["submission_id"] = submission_id
        info["type"] = "SUBMISSION"
        return info

    def find(self, job_or_submission_id):
        """A submission by its submission id or its driver's job id."""
        info = self.get_info(job_or_submission_id)
        if info is not None:
            return info
        for job in self.list_jobs():
            if job.get("job_id") == job_or_submission_id:
                return job
        return None

    def list_jobs(self):
        import json

        rows, _, _, _ = _photon.state_list("jobs", [], 100000, True, self.gcs_address)
        return json.loads(rows)

    # --- starting jobs ---

    def connect(self):
        """Joins the cluster as the dashboard's driver (once)."""
        with self._lock:
            if not photon.is_initialized():
                photon.init(address=self.gcs_address, namespace=common.SUPERVISOR_NAMESPACE,
                            log_to_driver=False, logging_level="warning")
            if self._supervisor_cls is None:
                self._supervisor_cls = photon.remote(JobSupervisor)

    def _head_node_id(self):
        for n in photon.nodes():
            if n["Alive"] and "node:__internal_head__" in n["Resources"]:
                return n["NodeID"]
        return None

    def submit(self, *, entrypoint, submission_id=None, runtime_env=None, metadata=None,
               entrypoint_num_cpus=None, entrypoint_num_gpus=None, entrypoint_memory=None,
               entrypoint_resources=None):

        if not isinstance(entrypoint, str) or not entrypoint.strip():
            raise ValueError("entrypoint must be a non-empty shell command (str)")
        if submission_id is None:
            submission_id = common.SUBMISSION_ID_PREFIX + secrets.token_hex(8)
        common.validate_submission_id(submission_id)
        if metadata is not None and (not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
            raise ValueError("metadata must map str to str")
        _check_number("entrypoint_num_cpus", entrypoint_num_cpus)
        _check_number("entrypoint_num_gpus", entrypoint_num_gpus)
        _check_number("entrypoint_memory", entrypoint_memory, integral=True)
        if entrypoint_resources is not None:
            if not isinstance(entrypoint_resources, dict):
                raise ValueError("entrypoint_resources must map resource names to numbers")
            for k, v in entrypoint_resources.items():
                _check_number(f"entrypoint_resources[{k!r}]", v)
        if runtime_env is not None:
            options.validate_runtime_env(runtime_env)
        info = {"status": "PENDING", "entrypoint": entrypoint,
                "message": "Job has not started yet. It may be waiting for resources (CPUs, "
                           "GPUs, custom resources) to become available.",
                "error_type": None, "start_time": _now_ms(), "end_time": None,
                "metadata": metadata or {}, "runtime_env": runtime_env or {},
                "driver_info": None, "driver_node_id": None, "driver_exit_code": None,
                "entrypoint_num_cpus": entrypoint_num_cpus,
                "entrypoint_num_gpus": entrypoint_num_gpus,
                "entrypoint_memory": entrypoint_memory,
                "entrypoint_resources": entrypoint_resources}
        if not self._put(common.info_key(submission_id), info, overwrite=False):
            raise ValueError(f"Job with submission_id {submission_id} already exists. Please "
                             "use a different submission_id.")
        try:
            self._start(submission_id, info)
        except Exception as e:  # noqa: BLE001 - recorded as the job's failure
            self._finish(submission_id, "FAILED", "JOB_SUPERVISOR_ACTOR_START_FAILURE",
                         f"Failed to start the job supervisor: {e}")
            raise
        return submission_id

    def _start(self, submission_id, info):
        self.connect()
        opts = {"name": common.SUPERVISOR_NAME_PREFIX + submission_id,
                "namespace": common.SUPERVISOR_NAMESPACE, "lifetime": "detached",
                "num_cpus": info["entrypoint_num_cpus"] or 0,
                "num_gpus": info["entrypoint_num_gpus"] or 0,
                "max_concurrency": 4, "max_restarts": 0}
        if info["entrypoint_memory"]:
            opts["memory"] = info["entrypoint_memory"]
        if info["entrypoint_resources"]:
            opts["resources"] = info["entrypoint_resources"]
        if info["runtime_env"]:
            opts["runtime_env"] = info["runtime_env"]
        custom = info["entrypoint_num_cpus"] or info["entrypoint_num_gpus"] or \
            info["entrypoint_memory"] or info["entrypoint_resources"]
        if not custom:
            # As Ray: an entrypoint that asks for nothing runs on the head node.

            head = self._head_node_id()
            if head is not None:
                opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(head, soft=True)
        supervisor = self._supervisor_cls.options(**opts).remote(
            submission_id, info["entrypoint"], self.gcs_address, info["runtime_env"],
            info["metadata"])
        done = supervisor.run.remote()
        threading.Thread(target=self._watch, args=(submission_id, supervisor, done),
                         name=f"job-{submission_id}", daemon=True).start()

    def _watch(self, submission_id, supervisor, done):
        try:
            photon.get(done)
        except Exception as e:  # noqa: BLE001 - the supervisor died or could not start
            info = self._get(common.info_key(submission_id)) or {}
            if submission_id not in self._stopped and \
                    info.get("status") not in ("STOPPED", "SUCCEEDED", "FAILED"):
                # The supervisor's constructor fails first when its runtime_env
                # cannot be set up: the actor's death carries that error.
                setup = "RuntimeEnvSetupError" in f"{type(e).__name__} {e}"
                self._finish(submission_id, "FAILED",
                             "RUNTIME_ENV_SETUP_FAILURE" if setup else "JOB_SUPERVISOR_ACTOR_DIED",
                             (f"runtime_env setup failed: {e}" if setup else
                              f"The job supervisor actor died unexpectedly: {e}"))
        try:
            photon.kill(supervisor)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _finish(self, submission_id, status, error_type, message):
        info = self._get(common.info_key(submission_id)) or {}
        info.update(status=status, error_type=error_type, message=message, end_time=_now_ms())
        self._put(common.info_key(submission_id), info)

    def _supervisor(self, submission_id):
        self.connect()
        try:
            return photon.get_actor(common.SUPERVISOR_NAME_PREFIX + submission_id,
                                    namespace=common.SUPERVISOR_NAMESPACE)
        except ValueError:
            return None

    def stop(self, submission_id):
        """Stops a job that is pending or running; False if it had ended."""

        info = self._get(common.info_key(submission_id))
        if info is None:
            raise KeyError(submission_id)
        if info.get("status") in ("STOPPED", "SUCCEEDED", "FAILED"):
            return False
        self._stopped.add(submission_id)
        supervisor = self._supervisor(submission_id)
        if supervisor is not None and info.get("status") == "RUNNING":
            try:
                photon.get(supervisor.stop.remote(config.setting("job_stop_wait_time_s")),
                           timeout=30)
                return True  # the supervisor records STOPPED when the entrypoint is gone
            except Exception:  # noqa: BLE001 - its supervisor is gone: record it here
                pass
        # Not running yet (waiting for resources or its runtime_env): it never
        # starts. (Had it just started, its entrypoint dies with its supervisor.)
        self._finish(submission_id, "STOPPED", None, "Job was intentionally stopped.")
        if supervisor is not None:
            try:
                photon.kill(supervisor)
            except Exception:  # noqa: BLE001 - already gone
                pass
        return True

    def delete(self, submission_id):
        info = self._get(common.info_key(submission_id))
        if info is None:
            raise KeyError(submission_id)
        status = info.get("status")
        if status not in ("STOPPED", "SUCCEEDED", "FAILED"):
            raise RuntimeError(f"Attempted to delete job '{submission_id}', but it is in a "
                               f"non-terminal state {status}.")
        _photon.state_kv_del(common.KV_NAMESPACE, common.info_key(submission_id), False,
                             self.gcs_address)
        _photon.state_kv_del(common.KV_NAMESPACE, common.driver_key(submission_id), False,
                             self.gcs_address)
        return True

    def read_logs(self, submission_id, start=0):
        """(text from byte `start`, next offset) of the job's entrypoint output."""
        info = self._get(common.info_key(submission_id))
        if info is None:
            raise KeyError(submission_id)
        node = info.get("driver_node_id")
        if not node:
            return "", start
        raylet, request, empty, _ = _photon.state_resolve_log(
            node, "", common.log_file_name(submission_id), "", "", 0, 0, "out", -1,
            self.gcs_address)
        if empty:
            return "", start
        chunks = []
        offset = start
        while True:
            data, nxt, _ = _photon.state_read_log(raylet, request, empty, offset, -1, 0)
            if not data:
                break
            chunks.append(data)
            offset = nxt
        return b"".join(chunks).decode("utf-8", errors="replace"), offset

    def shutdown(self):
        if photon.is_initialized():
            photon.shutdown()
