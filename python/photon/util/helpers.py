"""photon.util.as_completed / map_unordered (``ray.util.as_completed`` and
``ray.util.map_unordered``)."""
import photon

DEFAULT_CHUNK_SIZE = 10
DEFAULT_BACKPRESSURE_SIZE = 100


def _wait_batch(refs, chunk_size, yield_obj_refs, wait_kwargs):
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    ready, rest = photon.wait(refs, num_returns=min(chunk_size, len(refs)), **wait_kwargs)
    return (ready if yield_obj_refs else photon.get(ready)), rest


def as_completed(refs, *, chunk_size=DEFAULT_CHUNK_SIZE, yield_obj_refs=False, **kwargs):
    """Yields the results of `refs` (or the refs themselves with
    yield_obj_refs=True) in batches of up to chunk_size, as they become ready.
    Extra keyword arguments go to photon.wait."""
    refs = list(refs)
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    while refs:
        ready, refs = _wait_batch(refs, chunk_size, yield_obj_refs, kwargs)
        yield from ready


def map_unordered(fn, items, *, backpressure_size=DEFAULT_BACKPRESSURE_SIZE,
                  chunk_size=DEFAULT_CHUNK_SIZE, yield_obj_refs=False, **kwargs):
    """Runs fn.remote(item) for each item, keeping at most backpressure_size
    tasks in flight (None: no limit), and yields results as they complete."""
    if backpressure_size is not None and backpressure_size < 1:
        raise ValueError("`backpressure_size` must be >= 1 or None")
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    pending = []
    for item in items:
        if backpressure_size is not None and len(pending) >= backpressure_size:
            ready, pending = _wait_batch(pending, chunk_size, yield_obj_refs, kwargs)
            yield from ready
        pending.append(fn.remote(item))
    while pending:
        ready, pending = _wait_batch(pending, chunk_size, yield_obj_refs, kwargs)
        yield from ready
