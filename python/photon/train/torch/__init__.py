"""photon.train.torch: PyTorch data-parallel training (Ray Train's ray.train.torch)."""
from photon.train.torch.config import TorchConfig
from photon.train.torch.torch_trainer import TorchTrainer
from photon.train.torch.train_loop_utils import (
    enable_reproducibility,
    get_device,
    get_devices,
    prepare_data_loader,
    prepare_model,
)

__all__ = ["TorchConfig", "TorchTrainer", "enable_reproducibility", "get_device", "get_devices",
           "prepare_data_loader", "prepare_model"]
