"""Helpers for the training function of a TorchTrainer: the device, DDP and distributed samplers."""
from photon.train._internal.session import get_session


def _world():
    s = get_session()
    return (s.world_size, s.world_rank, s.local_rank) if s else (1, 0, 0)


def get_device():
    """This worker's torch device: cuda:<local rank> with GPUs, else cpu."""
    import torch
    if torch.cuda.is_available():
        return torch.device("cuda", _world()[2] % torch.cuda.device_count())
    return torch.device("cpu")


def get_devices():
    return [get_device()]


def prepare_model(model, move_to_device=True, parallel_strategy="ddp", parallel_strategy_kwargs=None):
    """The model on this worker's device, wrapped in DistributedDataParallel when the
    group has more than one worker (gradients are then all-reduced in backward())."""
    import torch
    from torch.nn.parallel import DistributedDataParallel
    if parallel_strategy not in ("ddp", "fsdp", None):
        raise ValueError(f"parallel_strategy must be 'ddp', 'fsdp' or None, got {parallel_strategy!r}.")
    device = get_device()
    if move_to_device:
        model = model.to(device)
    world_size = _world()[0]
    if world_size <= 1 or parallel_strategy is None:
        return model
    kwargs = dict(parallel_strategy_kwargs or {})
    if parallel_strategy == "fsdp":
        from torch.distributed.fsdp import FullyShardedDataParallel
        return FullyShardedDataParallel(model, **kwargs)
    if device.type == "cuda":
        kwargs.setdefault("device_ids", [device])
        kwargs.setdefault("output_device", device)
    return DistributedDataParallel(model, **kwargs)


class _DeviceLoader:
    """Iterates a DataLoader, moving each batch to the device; keeps its length and sampler."""

    def __init__(self, loader, device):
        self._loader, self._device = loader, device

    def __len__(self):
        return len(self._loader)

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def _move(self, batch):
        if hasattr(batch, "to"):
            return batch.to(self._device)
        if isinstance(batch, (list, tuple)):
            return type(batch)(self._move(b) for b in batch)
        if isinstance(batch, dict):
            return {k: self._move(v) for k, v in batch.items()}
        return batch

    def __iter__(self):
        for batch in self._loader:
            yield self._move(batch)


def prepare_data_loader(data_loader, add_dist_sampler=True, move_to_device=True, auto_transfer=True):
    """data_loader rebuilt with a DistributedSampler (each worker reads its own part;
    shuffling kept as the original's sampler had it) and batches moved to the device."""
    import torch.utils.data as tud
    world_size, rank, _ = _world()
    loader = data_loader
    if add_dist_sampler and world_size > 1 and not isinstance(loader.sampler, tud.DistributedSampler):
        shuffle = isinstance(loader.sampler, tud.RandomSampler)
        sampler = tud.DistributedSampler(loader.dataset, num_replicas=world_size, rank=rank,
                                         shuffle=shuffle)
        loader = tud.DataLoader(
            loader.dataset, batch_size=loader.batch_size, sampler=sampler,
            num_workers=loader.num_workers, collate_fn=loader.collate_fn,
            pin_memory=loader.pin_memory, drop_last=loader.drop_last, timeout=loader.timeout,
            worker_init_fn=loader.worker_init_fn)
    if move_to_device and get_device().type != "cpu":
        return _DeviceLoader(loader, get_device())
    return loader


def enable_reproducibility(seed=0):
    import random

    import numpy as np
    import torch
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)
