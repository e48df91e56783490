"""Errors of the state API (Ray's names)."""


class RayStateApiException(Exception):
    """A state API call failed: a bad filter or resource, or the cluster did
    not answer."""


class ServerUnavailable(RayStateApiException):
    """The cluster could not be reached."""
