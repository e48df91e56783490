from photon.train.config import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig  # noqa: F401
