"""Optuna for photon.tune (``ray.tune.search.optuna``)."""
from photon.tune.search.optuna.optuna_search import OptunaSearch

__all__ = ["OptunaSearch"]
