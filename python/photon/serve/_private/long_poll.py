"""The controller's side of the long poll: keyed values with versions that
clients (routers, proxies) wait on.

A client sends the versions it has ({key: version}); `listen` returns the
keys whose version differs, with their (version, value), as soon as one
does, or {} after the timeout. A key never set has version -1 and value
None.

Threading: `set` may be called from any thread; `listen` runs on the
controller's event loop, which `bind` names (the first listen binds it).
"""
import asyncio
import threading

UNKNOWN = (-1, None)


class LongPollHost:
    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}  # key -> (version, value, compare_key); guarded by _lock
        self._loop = None
        self._changed = None  # asyncio.Event on _loop, replaced after each change

    def bind(self, loop):
        if self._loop is None:
            self._loop = loop
            self._changed = asyncio.Event()

    def set(self, key, value, compare_key=None):
        """Publishes `value` under `key` (a no-op if compare_key, or the value
        when compare_key is None, equals the current one's)."""
        ck = value if compare_key is None else compare_key
        with self._lock:
            old = self._values.get(key)
            if old is not None and old[2] == ck:
                return False
            version = old[0] + 1 if old is not None else 0
            self._values[key] = (version, value, ck)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._notify)
        return True

    def get(self, key):
        with self._lock:
            entry = self._values.get(key)
        return UNKNOWN if entry is None else (entry[0], entry[1])

    def _notify(self):
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _changes(self, snapshot):
        out = {}
        with self._lock:
            for key, version in snapshot.items():
                entry = self._values.get(key)
                current = UNKNOWN if entry is None else (entry[0], entry[1])
                if current[0] != version:
                    out[key] = current
        return out

    async def listen(self, snapshot, timeout_s):
        self.bind(asyncio.get_running_loop())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            event = self._changed
            changes = self._changes(snapshot)
            if changes:
                return changes
            remaining = deadline - loop.time()
            if remaining <= 0:
                return {}
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                return {}
