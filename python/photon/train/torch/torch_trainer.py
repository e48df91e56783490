"""TorchTrainer: a DataParallelTrainer whose workers form one torch.distributed group."""
from photon.train.data_parallel_trainer import DataParallelTrainer
from photon.train.torch.config import TorchConfig


class TorchTrainer(DataParallelTrainer):
    _default_backend_config = TorchConfig

    def __init__(self, train_loop_per_worker, *, train_loop_config=None, torch_config=None,
                 scaling_config=None, run_config=None, datasets=None, dataset_config=None,
                 resume_from_checkpoint=None, metadata=None):
        if torch_config is not None and not isinstance(torch_config, TorchConfig):
            raise ValueError(f"torch_config must be a TorchConfig, got {type(torch_config).__name__}.")
        super().__init__(train_loop_per_worker, train_loop_config=train_loop_config,
                         backend_config=torch_config or TorchConfig(), scaling_config=scaling_config,
                         run_config=run_config, datasets=datasets, dataset_config=dataset_config,
                         resume_from_checkpoint=resume_from_checkpoint, metadata=metadata)
