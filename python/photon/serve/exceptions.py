"""photon.serve's exceptions, with Ray Serve's names and messages."""
from photon.exceptions import RayError, TaskCancelledError


class RayServeException(RayError):
    """An error of Serve itself (not of a deployment's code)."""


class BackPressureError(RayServeException):
    """A request was rejected because its deployment's handle already holds
    max_queued_requests waiting requests (HTTP 503)."""

    def __init__(self, num_queued_requests, max_queued_requests, status_code=503,
                 retry_after_s=None):
        super().__init__(num_queued_requests, max_queued_requests, status_code, retry_after_s)
        self._message = (f"Request dropped due to backpressure "
                         f"(num_queued_requests={num_queued_requests}, "
                         f"max_queued_requests={max_queued_requests}).")
        self._status_code = status_code
        self._retry_after_s = retry_after_s

    def __str__(self):
        return self._message

    @property
    def message(self):
        return self._message

    @property
    def status_code(self):
        return self._status_code

    @property
    def retry_after_s(self):
        return self._retry_after_s


class RequestCancelledError(RayServeException, TaskCancelledError):
    """A Serve request was cancelled."""

    def __init__(self, request_id=None):
        self._request_id = request_id

    def __str__(self):
        if self._request_id:
            return f"Request {self._request_id} was cancelled."
        return "Request was cancelled."


class DeploymentUnavailableError(RayServeException):
    """A deployment cannot take requests because it failed to deploy."""

    def __init__(self, deployment_id):
        super().__init__(deployment_id)
        self._deployment_id = deployment_id

    @property
    def message(self):
        return f"{self._deployment_id} is unavailable because it failed to deploy."

    def __str__(self):
        return self.message
