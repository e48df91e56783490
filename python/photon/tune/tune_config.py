"""TuneConfig: what to search, how many trials, how to schedule them."""
import dataclasses
from typing import Any, Callable, Optional


@dataclasses.dataclass
class TuneConfig:
    mode: Optional[str] = None
    metric: Optional[str] = None
    search_alg: Any = None
    scheduler: Any = None
    num_samples: int = 1
    max_concurrent_trials: Optional[int] = None
    time_budget_s: Optional[float] = None
    reuse_actors: bool = False
    trial_name_creator: Optional[Callable] = None
    trial_dirname_creator: Optional[Callable] = None

    def __post_init__(self):
        if self.mode not in (None, "min", "max"):
            raise ValueError(f"`mode` must be one of [min, max], got {self.mode!r}.")
        if not isinstance(self.num_samples, int) or self.num_samples == 0 or self.num_samples < -1:
            raise ValueError(f"`num_samples` must be a positive integer (or -1 for unlimited), "
                             f"got {self.num_samples!r}.")
        if self.max_concurrent_trials is not None and (
                not isinstance(self.max_concurrent_trials, int) or self.max_concurrent_trials < 1):
            raise ValueError(f"`max_concurrent_trials` must be greater or equal than 1, got "
                             f"{self.max_concurrent_trials}.")
