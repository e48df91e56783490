"""A bounded chaos run (tests/chaos/chaos.py) inside `make test`: random
workers and non-head raylets are killed (and nodes added back) under a load
of dependent tasks, large objects and actor calls; every result is checked,
nothing is left tracked or running afterwards. `make chaos DURATION=...`
runs it for longer. CHAOS_DURATION (seconds) changes the bounded run."""
import os
import sys
from pathlib import Path

import pytest

import photon

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "chaos"))
import chaos  # noqa: E402


@pytest.mark.timeout(600)
def test_nothing_is_lost_or_wrong_under_chaos():
    if photon.is_initialized():
        photon.shutdown()
    summary = chaos.run(float(os.environ.get("CHAOS_DURATION", "90")), seed=1)
    print("chaos summary:", summary)
    assert summary["rounds under chaos"] > 0
    assert summary["kills"]["worker"] + summary["kills"]["raylet"] > 0
    assert summary["objects left over"] == 0
