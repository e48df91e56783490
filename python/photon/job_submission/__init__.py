"""photon.job_submission (``ray.job_submission``): submit and manage jobs
through the dashboard's REST API."""
from photon.dashboard.modules.job.common import (  # noqa: F401
    DriverInfo,
    JobDetails,
    JobInfo,
    JobStatus,
    JobType,
)
from photon.dashboard.modules.job.sdk import JobSubmissionClient  # noqa: F401

__all__ = ["JobSubmissionClient", "JobStatus", "JobInfo", "JobDetails", "JobType", "DriverInfo"]
