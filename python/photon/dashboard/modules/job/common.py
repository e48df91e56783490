"""What the jobs parts share: JobStatus, JobDetails (Ray's names and fields),
and where a job's record lives (the GCS's key-value store, so that job state
survives a GCS restart with Redis)."""
import dataclasses
import enum
import json
import re
from typing import Any, Dict, Optional

KV_NAMESPACE = "job"
# Ray's prefix for submission ids it makes.
SUBMISSION_ID_PREFIX = "raysubmit_"
SUPERVISOR_NAMESPACE = "_photon_internal_jobs"
SUPERVISOR_NAME_PREFIX = "_photon_job_supervisor_"
# A failed job's message carries at most this much of its log's tail (Ray's).
LOG_TAIL_CHARS = 20000
_SUBMISSION_ID_RE = re.compile(r"^[A-Za-z0-9_\-.:]{1,128}$")


class JobStatus(str, enum.Enum):
    """The state of a submitted job (Ray's ray.job_submission.JobStatus)."""
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    def __str__(self):
        return f"{self.value}"

    def is_terminal(self):
        return self.value in ("STOPPED", "SUCCEEDED", "FAILED")


class JobType(str, enum.Enum):
    SUBMISSION = "SUBMISSION"
    DRIVER = "DRIVER"


@dataclasses.dataclass
class DriverInfo:
    id: str
    node_ip_address: str
    pid: str


@dataclasses.dataclass
class JobDetails:
    """One job as list_jobs/get_job_info return it (Ray's JobDetails)."""
    type: JobType
    job_id: Optional[str] = None
    submission_id: Optional[str] = None
    driver_info: Optional[DriverInfo] = None
    status: JobStatus = JobStatus.PENDING
    entrypoint: str = ""
    message: Optional[str] = None
    error_type: Optional[str] = None
    start_time: Optional[int] = None
    end_time: Optional[int] = None
    metadata: Optional[Dict[str, str]] = None
    runtime_env: Optional[Dict[str, Any]] = None
    driver_agent_http_address: Optional[str] = None
    driver_node_id: Optional[str] = None
    driver_exit_code: Optional[int] = None
    entrypoint_num_cpus: Optional[float] = None
    entrypoint_num_gpus: Optional[float] = None
    entrypoint_memory: Optional[int] = None
    entrypoint_resources: Optional[Dict[str, float]] = None

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        fields = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in fields}
        d["type"] = JobType(d.get("type") or "SUBMISSION")
        d["status"] = JobStatus(d.get("status") or "PENDING")
        if isinstance(d.get("driver_info"), dict):
            d["driver_info"] = DriverInfo(**{k: d["driver_info"].get(k) for k in
                                             ("id", "node_ip_address", "pid")})
        return cls(**d)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["type"] = self.type.value
        d["status"] = self.status.value
        return d

    # Ray's JobInfo had these; JobDetails answers them too.
    def dict(self):
        return self.to_dict()


# Ray returns JobDetails from get_job_info; the name JobInfo is kept for programs.
JobInfo = JobDetails


def validate_submission_id(submission_id):
    if not isinstance(submission_id, str) or not _SUBMISSION_ID_RE.match(submission_id):
        raise ValueError(f"submission_id must be 1 to 128 letters, digits or _-.: characters, "
                         f"got {submission_id!r}")


def info_key(submission_id):
    return f"info:{submission_id}".encode()


def driver_key(submission_id):
    """Where a submitted job's driver records its job id."""
    return f"driver:{submission_id}".encode()


def log_file_name(submission_id):
    """The entrypoint's output, in the logs folder of the node it runs on."""
    return f"job-driver-{submission_id}.log"


def dumps(info):
    return json.dumps(info, sort_keys=True).encode()


def loads(raw):
    return json.loads(raw.decode()) if raw else None
