"""TorchConfig: torch.distributed across the training workers (gloo on CPUs, NCCL on GPUs)."""
import dataclasses
import datetime
import os
import socket
from typing import Optional

import photon
from photon.train.backend import Backend, BackendConfig


@dataclasses.dataclass
class TorchConfig(BackendConfig):
    backend: Optional[str] = None
    init_method: str = "tcp"
    timeout_s: int = 1800

    @property
    def backend_cls(self):
        return _TorchBackend


def _free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _setup(backend, master_addr, master_port, rank, local_rank, world_size, local_world_size, timeout_s):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR=master_addr, MASTER_PORT=str(master_port), RANK=str(rank),
                      LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world_size),
                      LOCAL_WORLD_SIZE=str(local_world_size))
    dist.init_process_group(backend=backend, init_method=f"tcp://{master_addr}:{master_port}",
                            rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(seconds=timeout_s))


def _teardown():
    import torch.distributed as dist
    if dist.is_initialized():
        dist.destroy_process_group()


class _TorchBackend(Backend):
    def on_start(self, worker_group, backend_config):
        backend = backend_config.backend
        if backend is None:
            backend = "nccl" if worker_group.scaling_config.use_gpu else "gloo"
        addr = worker_group.node_ips[0]
        port = worker_group.execute_single(0, _free_port)
        photon.get([w.execute.remote(
            _setup, backend, addr, port, r, worker_group.local_ranks[r], len(worker_group),
            worker_group.local_world_sizes[r], backend_config.timeout_s)
            for r, w in enumerate(worker_group.workers)])

    def on_shutdown(self, worker_group, backend_config):
        worker_group.execute(_teardown)
