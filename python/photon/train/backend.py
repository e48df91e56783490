"""Backends set up a framework's distributed runtime across a worker group."""


class Backend:
    def on_start(self, worker_group, backend_config):
        """After the workers started, before the training function runs."""

    def on_shutdown(self, worker_group, backend_config):
        """After the training function ended on every worker."""


class BackendConfig:
    @property
    def backend_cls(self):
        return Backend
