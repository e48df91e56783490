"""photon.air: Ray AIR's older names for the Train/Tune configs and session (ray.air)."""
from photon.train.config import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from photon.train.result import Result

__all__ = ["CheckpointConfig", "FailureConfig", "Result", "RunConfig", "ScalingConfig"]
