"""DataIterator: batches and rows out of a dataset's stream (Ray's
DataIterator), and the coordinator behind Dataset.streaming_split."""
import queue
import threading

import numpy as np
import pyarrow as pa

import photon
from photon.data import block as B
from photon.data import dataset as D  # (a cycle: dataset imports this module)

_DONE = object()


def _prefetched(tables, depth):
    """`tables` read ahead by a thread, up to `depth` tables ahead."""
    if depth <= 0:
        yield from tables
        return
    q = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pump():
        try:
            for t in tables:
                while not stop.is_set():
                    try:
                        q.put(t, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as e:  # noqa: BLE001 - raised in the consumer
            q.put(e)

    th = threading.Thread(target=pump, daemon=True, name="photon-data-prefetch")
    th.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _batches(tables, batch_size, drop_last, shuffle_buffer, seed):
    """Tables cut into tables of batch_size rows, carried across blocks (with
    a shuffle buffer: each batch drawn at random from at least
    shuffle_buffer buffered rows)."""
    if batch_size is None and not shuffle_buffer:
        for t in tables:
            if t.num_rows:
                yield t
        return
    rng = np.random.default_rng(seed)
    buf, buffered = [], 0
    for t in tables:
        if t.num_rows == 0:
            continue
        buf.append(t)
        buffered += t.num_rows
        while buffered >= batch_size + (shuffle_buffer or 0) or (
                not shuffle_buffer and buffered >= batch_size):
            whole = B.concat(buf)
            if shuffle_buffer:
                idx = rng.choice(whole.num_rows, size=batch_size, replace=False)
                mask = np.ones(whole.num_rows, dtype=bool)
                mask[idx] = False
                yield whole.take(pa.array(idx))
                rest = whole.filter(pa.array(mask))
            else:
                yield whole.slice(0, batch_size)
                rest = whole.slice(batch_size)
            buf, buffered = ([rest] if rest.num_rows else []), rest.num_rows
    if buffered:
        whole = B.concat(buf)
        if shuffle_buffer:
            whole = whole.take(pa.array(rng.permutation(whole.num_rows)))
        for i in range(0, whole.num_rows, batch_size):
            piece = whole.slice(i, batch_size)
            if drop_last and piece.num_rows < batch_size:
                return
            yield piece


class DataIterator:
    """Iterates a dataset (or one part of a streaming_split) by batch or row."""

    def __init__(self, stream_fn, context=None):
        self._stream_fn = stream_fn  # () -> iterator of (block ref, meta)
        self._context = context

    def _tables(self):
        for ref, _ in self._stream_fn():
            yield photon.get(ref)

    def iter_batches(self, *, prefetch_batches=1, batch_size=256, batch_format="default",
                     drop_last=False, local_shuffle_buffer_size=None, local_shuffle_seed=None,
                     _collate_fn=None):
        if batch_format not in B.VALID_BATCH_FORMATS:
            raise ValueError(f"The given batch format {batch_format!r} isn't allowed (must be "
                             f"one of {list(B.VALID_BATCH_FORMATS)}).")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got "
                             f"{batch_size!r}")
        if local_shuffle_buffer_size is not None and local_shuffle_buffer_size < 1:
            raise ValueError("local_shuffle_buffer_size must be a positive integer")
        if local_shuffle_buffer_size is not None and batch_size is None:
            raise ValueError("batch_size must be set when local_shuffle_buffer_size is")
        tables = _prefetched(self._tables(), prefetch_batches)
        for t in _batches(tables, batch_size, drop_last, local_shuffle_buffer_size,
                          local_shuffle_seed):
            batch = B.to_batch(t, batch_format)
            yield _collate_fn(batch) if _collate_fn is not None else batch

    def iter_rows(self):
        for t in self._tables():
            yield from B.rows_of(t)

    def iter_torch_batches(self, *, prefetch_batches=1, batch_size=256, dtypes=None,
                           device="auto", collate_fn=None, drop_last=False,
                           local_shuffle_buffer_size=None, local_shuffle_seed=None):
        try:
            import torch
        except ImportError as e:
            raise ImportError("iter_torch_batches needs torch: pip install torch==2.13.0") from e
        dev = None if device == "auto" else device

        def to_torch(batch):
            if collate_fn is not None:
                return collate_fn(batch)
            out = {}
            for k, v in batch.items():
                dtype = dtypes.get(k) if isinstance(dtypes, dict) else dtypes
                t = torch.as_tensor(v, dtype=dtype)
                out[k] = t.to(dev) if dev is not None else t
            return out
        for batch in self.iter_batches(prefetch_batches=prefetch_batches, batch_size=batch_size,
                                       batch_format="numpy", drop_last=drop_last,
                                       local_shuffle_buffer_size=local_shuffle_buffer_size,
                                       local_shuffle_seed=local_shuffle_seed):
            yield to_torch(batch)

    def materialize(self):
        return D.MaterializedDataset.from_blocks(list(self._stream_fn()), self._context)

    def stats(self):
        return ""


class _SplitCoordinator:
    """Runs one dataset's stream and hands its blocks to n consumers as they
    ask, so that all of them read concurrently (equal=True: materialized
    first and cut into n parts of equal rows). Epochs are a barrier: a
    consumer asking for the next epoch waits until every consumer has read
    the current one (to its end, or until it asked for the next)."""

    def __init__(self, dataset, n, equal):
        self._dataset = dataset
        self._n = n
        self._equal = equal
        self._cond = threading.Condition()
        self._epoch = -1
        self._finished = set()
        self._stream = None
        self._parts = None

    def _start(self, epoch):
        self._epoch = epoch
        self._finished = set()
        if self._equal:
            parts = self._dataset.split(self._n, equal=True)
            self._parts = [list(p._plan.source.blocks) for p in parts]
        else:
            self._stream = self._dataset._stream()

    def next_block(self, index, epoch):
        with self._cond:
            if epoch > self._epoch >= 0:
                # Asking for the next epoch ends this consumer's current one, read to
                # its end or not (a loop may stop early).
                self._finished.add(index)
                self._cond.notify_all()
            while epoch > self._epoch >= 0 and len(self._finished) < self._n:
                self._cond.wait()
            if epoch > self._epoch:
                self._start(epoch)
            elif epoch < self._epoch:
                return None
            got = self._next(index)
            if got is None:
                self._finished.add(index)
                self._cond.notify_all()
            return got

    def _next(self, index):
        if self._equal:
            part = self._parts[index]
            if not part:
                return None
            ref, meta = part.pop(0)
            return [ref], meta.num_rows
        try:
            ref, meta = next(self._stream)
        except StopIteration:
            return None
        return [ref], meta.num_rows


class _SplitIterator(DataIterator):
    def __init__(self, coordinator, index):
        super().__init__(self._stream_fn_impl)
        self._coordinator = coordinator
        self._index = index
        self._epoch = 0

    def _stream_fn_impl(self):
        epoch = self._epoch
        self._epoch += 1
        while True:
            got = photon.get(self._coordinator.next_block.remote(self._index, epoch))
            if got is None:
                return
            refs, rows = got
            yield refs[0], rows

    def __reduce__(self):
        return _rebuild_split_iterator, (self._coordinator, self._index, self._epoch)


def _rebuild_split_iterator(coordinator, index, epoch):
    it = _SplitIterator(coordinator, index)
    it._epoch = epoch
    return it


def _make_streaming_split(dataset, n, equal):
    coord_cls = photon.remote(num_cpus=0, max_concurrency=max(4, n + 1))(_SplitCoordinator)
    coordinator = coord_cls.remote(dataset, n, equal)
    return [_SplitIterator(coordinator, i) for i in range(n)]
