"""Borrowing: a process that received a reference (nested in an argument or in
a value it got) keeps the object alive after the owner drops its own
references, as in Ray; the object goes once every borrower has dropped it."""
import gc
import time

import numpy as np

import photon as ray
from photon import _photon
from photon._private.test_utils import wait_for_condition


def test_an_actor_keeps_a_nested_ref_after_the_owner_drops_it(ray_start_regular_shared):
    @ray.remote
    class Holder:
        def hold(self, refs):
            self.refs = refs
            return len(refs)

        def total(self):
            return float(ray.get(self.refs[0]).sum()), ray.get(self.refs[1])

        def drop(self):
            self.refs = None
            return True

    baseline = _photon.num_tracked_objects()
    h = Holder.remote()
    big = ray.put(np.ones(1_000_000))  # in the object store
    small = ray.put("small")           # in the owner's memory
    assert ray.get(h.hold.remote([big, small])) == 2
    del big, small
    gc.collect()
    time.sleep(0.5)
    assert ray.get(h.total.remote()) == (1_000_000.0, "small")
    # The owner still tracks them for the borrower...
    assert _photon.num_tracked_objects() > baseline
    # ...until the borrower lets go.
    assert ray.get(h.drop.remote())
    # (+ 1: the ref of the last actor call)
    wait_for_condition(lambda: _photon.num_tracked_objects() <= baseline + 1)


def test_refs_in_a_returned_value_are_borrowed_by_the_caller(ray_start_regular_shared):
    @ray.remote
    class Maker:
        def make(self):
            self.mine = [ray.put(i) for i in range(3)]
            return self.mine

        def forget(self):
            self.mine = None

    m = Maker.remote()
    refs = ray.get(m.make.remote())
    ray.get(m.forget.remote())  # the owner drops its own references
    time.sleep(0.3)
    assert ray.get(refs) == [0, 1, 2]


def test_a_task_passes_a_borrowed_ref_on(ray_start_regular_shared):
    @ray.remote
    class Store:
        def __init__(self):
            self.kept = None

        def keep(self, boxed):
            self.kept = boxed
            return True

        def read(self):
            return ray.get(self.kept[0])

    @ray.remote
    def forward(store, boxed):
        return ray.get(store.keep.remote(boxed))

    s = Store.remote()
    ref = ray.put(np.arange(200_000))
    assert ray.get(forward.remote(s, [ref]))
    del ref
    gc.collect()
    time.sleep(0.5)
    assert int(ray.get(s.read.remote())[-1]) == 199_999


def test_a_borrower_that_dies_releases_its_borrows(ray_start_regular_shared):
    """The owner follows worker deaths: objects and actor handles lent to a
    process that was killed are freed (as in Ray)."""
    import os
    import signal

    @ray.remote
    class Target:
        def pid(self):
            return os.getpid()

    @ray.remote(max_restarts=0)
    class Holder:
        def hold(self, refs, handles):
            self.refs, self.handles = refs, handles
            return os.getpid()

    def alive(p):
        try:
            with open(f"/proc/{p}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    h = Holder.remote()
    target = Target.remote()
    target_pid = ray.get(target.pid.remote())
    big = ray.put(np.ones(500_000))
    pid = ray.get(h.hold.remote([big], [target]))
    big_id = big.binary()
    del big, target
    gc.collect()
    time.sleep(0.5)
    # Kept for the borrower: the object, and the actor its handle points to.
    assert _photon.local_object_info(big_id)["found"] == 1
    assert alive(target_pid)
    os.kill(pid, signal.SIGKILL)
    # The borrower died holding them: the owner frees the object and destroys
    # the actor nobody holds any more.
    wait_for_condition(lambda: _photon.local_object_info(big_id)["found"] == 0, timeout=20)
    wait_for_condition(lambda: not alive(target_pid), timeout=20)
