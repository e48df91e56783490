"""Helpers for tests, with the names of Ray's ray._private.test_utils."""
import time


def wait_for_condition(condition_predictor, timeout=10, retry_interval_ms=100,
                       raise_exceptions=False, **kwargs):
    """Calls `condition_predictor(**kwargs)` until it returns true; raises
    RuntimeError if it has not after `timeout` seconds. Exceptions it raises
    count as false unless `raise_exceptions`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            if condition_predictor(**kwargs):
                return
        except Exception as e:  # noqa: BLE001 - retried, reported on timeout
            if raise_exceptions:
                raise
            last_error = e
        if time.monotonic() >= deadline:
            message = f"The condition was not met within {timeout} seconds."
            if last_error is not None:
                message += f" Last exception: {last_error!r}"
            raise RuntimeError(message)
        time.sleep(retry_interval_ms / 1000.0)
