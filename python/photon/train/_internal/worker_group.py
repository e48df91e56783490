"""A group of training-worker actors in one placement group, ranked by node."""
import inspect
import logging
import time

import photon
from photon.util import get_node_ip_address
from photon.train._internal.session import Session
from photon.util.placement_group import placement_group as _placement_group
from photon.util.placement_group import remove_placement_group
from photon.util.scheduling_strategies import PlacementGroupSchedulingStrategy

logger = logging.getLogger(__name__)


class TrainWorker:
    """The actor of one training worker: runs the user's function in a thread and
    hands its reports to the controller."""

    def __init__(self):
        self._session = None

    def node(self):
        return photon.get_runtime_context().get_node_id(), get_node_ip_address()

    def execute(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    def start(self, fn, config, session_kwargs):
        self._session = Session(**session_kwargs)
        args = (config,) if _takes_config(fn) else ()
        self._session.start(fn, *args)

    def next_event(self):
        return self._session.next_event()

    def persist(self, fs, path):
        return self._session.persist(fs, path)


def _takes_config(fn):
    try:
        return len(inspect.signature(fn).parameters) > 0
    except (TypeError, ValueError):
        return True


_worker_cls = photon.remote(TrainWorker)


class WorkerGroup:
    """num_workers TrainWorker actors, each in its own bundle of one placement group.

    workers are ordered by rank: grouped by node, nodes in the order their first
    worker appeared, so that local ranks are contiguous."""

    def __init__(self, scaling_config, runtime_env=None, pg_timeout_warning_s=30,
                 placement_group=None):
        """placement_group: one already reserved with the workers' bundles (a Tune trial's),
        used as it is and left in place at shutdown."""
        self.scaling_config = scaling_config
        bundles = scaling_config.as_bundles()
        self._own_pg = placement_group is None
        self.pg = placement_group or _placement_group(bundles, strategy=scaling_config.placement_strategy)
        start = time.monotonic()
        while not self.pg.wait(timeout_seconds=pg_timeout_warning_s):
            logger.warning("The training worker group (%d workers of %s) is waiting for "
                           "resources for %.0f s.", len(bundles), bundles[0],
                           time.monotonic() - start)
        options = {"runtime_env": runtime_env} if runtime_env else {}
        workers = []
        for i, bundle in enumerate(bundles):
            custom = {k: v for k, v in bundle.items() if k not in ("CPU", "GPU", "memory")}
            workers.append(_worker_cls.options(
                num_cpus=bundle.get("CPU", 0), num_gpus=bundle.get("GPU", 0),
                resources=custom or None, max_restarts=0,
                scheduling_strategy=PlacementGroupSchedulingStrategy(
                    self.pg, placement_group_bundle_index=i), **options).remote())
        nodes = photon.get([w.node.remote() for w in workers])
        order = {}
        for node_id, _ in nodes:
            order.setdefault(node_id, len(order))
        ranked = sorted(range(len(workers)), key=lambda i: (order[nodes[i][0]], i))
        self.workers = [workers[i] for i in ranked]
        self.node_ips = [nodes[i][1] for i in ranked]
        node_ids = [nodes[i][0] for i in ranked]
        self.node_ranks = [order[n] for n in node_ids]
        self.local_ranks = [node_ids[:r].count(node_ids[r]) for r in range(len(node_ids))]
        self.local_world_sizes = [node_ids.count(n) for n in node_ids]

    def __len__(self):
        return len(self.workers)

    def execute(self, fn, *args, **kwargs):
        return photon.get([w.execute.remote(fn, *args, **kwargs) for w in self.workers])

    def execute_single(self, rank, fn, *args, **kwargs):
        return photon.get(self.workers[rank].execute.remote(fn, *args, **kwargs))

    def shutdown(self):
        for w in self.workers:
            try:
                photon.kill(w)
            except Exception:  # noqa: BLE001 - already dead
                pass
        if not self._own_pg:
            return
        try:
            remove_placement_group(self.pg)
        except Exception:  # noqa: BLE001 - already removed
            pass
