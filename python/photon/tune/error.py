"""Tune's errors."""


class TuneError(Exception):
    """An error of Tune itself (not of a trial's code)."""
