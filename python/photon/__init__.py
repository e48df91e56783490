"""Photon: a distributed computing framework with Ray's API on a C++ core.

A Ray program runs on Photon after ``import photon as ray``.
"""

# In a developer build the native extension lives in <build>/python/photon/;
# extend_path adds every ``photon`` folder on sys.path to this package.
from pkgutil import extend_path as _extend_path

__path__ = _extend_path(__path__, __name__)

from photon import _photon  # noqa: E402

__version__ = _photon.version()

__all__ = ["__version__"]
