"""Ray Data's exceptions (ray.data.exceptions)."""
from photon.exceptions import UserCodeException


class RayDataUserCodeException(UserCodeException):
    """An exception from a user function of a Data transformation."""


class SystemException(Exception):
    """An exception from photon.data's own code, not the user's."""


class ExecutionTimeoutError(Exception):
    """A dataset's execution made no progress for too long."""


__all__ = ["UserCodeException", "RayDataUserCodeException", "SystemException",
           "ExecutionTimeoutError"]
