"""The joblib backend of register_ray(): joblib's multiprocessing backend with
its pool replaced by a Pool of Photon actors."""
try:
    from joblib._parallel_backends import MultiprocessingBackend
    from joblib.parallel import register_parallel_backend  # noqa: F401 - for register_ray
except ImportError as e:
    raise ImportError("photon.util.joblib needs joblib: pip install joblib") from e

import photon
from photon.util.multiprocessing import Pool


class RayBackend(MultiprocessingBackend):
    """n_jobs=-1 means every CPU of the cluster; `ray_remote_args` (given to
    parallel_backend("ray", ray_remote_args={...})) are the actors' options."""

    supports_timeout = True

    def __init__(self, nesting_level=None, inner_max_num_threads=None, ray_remote_args=None,
                 **kwargs):
        self.ray_remote_args = ray_remote_args
        super().__init__(nesting_level=nesting_level,
                         inner_max_num_threads=inner_max_num_threads, **kwargs)

    def effective_n_jobs(self, n_jobs):
        if n_jobs == 0:
            raise ValueError("n_jobs == 0 in Parallel has no meaning")
        if n_jobs is None:
            return 1
        if n_jobs < 0:
            if not photon.is_initialized():
                photon.init()
            cpus = int(photon.cluster_resources().get("CPU", 1))
            return max(cpus + 1 + n_jobs, 1)
        return n_jobs

    def configure(self, n_jobs=1, parallel=None, prefer=None, require=None,
                  **memmappingpool_args):
        n_jobs = self.effective_n_jobs(n_jobs)
        self._pool = Pool(processes=n_jobs, ray_remote_args=self.ray_remote_args)
        self.parallel = parallel
        return n_jobs

    def terminate(self):
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
