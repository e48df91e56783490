"""photon.util.multiprocessing: Ray's multiprocessing.Pool on Photon."""
from multiprocessing import TimeoutError  # noqa: F401 - the standard library's, as Ray re-exports it

from photon.util.multiprocessing.pool import AsyncResult, IMapIterator, Pool  # noqa: F401

__all__ = ["Pool", "AsyncResult", "IMapIterator", "TimeoutError"]
