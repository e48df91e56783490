"""photon.util.joblib: Ray's joblib backend on Photon. After register_ray(),
`with joblib.parallel_backend("ray"):` runs joblib's (and scikit-learn's)
parallel loops on a photon.util.multiprocessing.Pool of the cluster's actors.
Importing it needs joblib (from the package registry)."""
from photon.util.joblib.ray_backend import RayBackend, register_parallel_backend


def register_ray():
    """Registers the "ray" joblib backend."""
    register_parallel_backend("ray", RayBackend)


__all__ = ["register_ray", "RayBackend"]
