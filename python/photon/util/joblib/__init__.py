"""photon.util.joblib: Ray's joblib backend on Photon. After register_ray(),
`with joblib.parallel_backend("ray"):` runs joblib's (and scikit-learn's)
parallel loops on a photon.util.multiprocessing.Pool of the cluster's actors."""


def register_ray():
    """Registers the "ray" joblib backend (joblib from the package registry)."""
    try:
        from joblib.parallel import register_parallel_backend
    except ImportError:
        raise ImportError("photon.util.joblib needs joblib: pip install joblib") from None
    from photon.util.joblib.ray_backend import RayBackend

    register_parallel_backend("ray", RayBackend)


__all__ = ["register_ray"]
