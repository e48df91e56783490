from photon.train.result import Result  # noqa: F401
