"""photon.cluster_utils: multi-node clusters on one machine, for tests.

Stands in for ``ray.cluster_utils``::

    from photon.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=2, resources={"gpu_box": 1})
    cluster.wait_for_nodes()
    cluster.connect()
    ...
    cluster.remove_node(worker)           # graceful stop (SIGTERM)
    cluster.remove_node(other, allow_graceful=False)   # SIGKILL, like a crash
    cluster.shutdown()

A head started with ``head_node_args={"redis_address": "HOST:PORT"}`` keeps
the GCS's tables in that Redis: ``cluster.head_node.kill_gcs_server()`` and
``cluster.head_node.start_gcs_server()`` (the names of Ray's harness) crash
and restart the GCS on the same address, and the cluster carries on.

Each node is a ``photon-raylet`` process with its own resources and object
store; they share one ``photon-gcs``. As in Ray, the first node added is the
head node. Every daemon dies with the process that made the cluster.
"""
import atexit
import os
import time
import weakref

import photon
from photon import _photon
from photon._private import system_config
from photon._private import worker
from photon.dashboard import launcher


# add_node arguments that Ray accepts and that have no meaning here; they are
# accepted so that Ray test code runs unchanged.
_IGNORED_NODE_ARGS = {"node_name", "dashboard_agent_listen_port", "min_worker_port",
                      "max_worker_port",
                      "node_ip_address", "enable_object_reconstruction",
                      "log_to_driver", "namespace", "redis_port", "port",
                      "object_store_memory_fraction", "temp_dir"}
_NODE_ARGS = {"num_cpus", "num_gpus", "resources", "object_store_memory", "labels",
              "metrics_export_port", "memory", "_system_config"}
# Arguments only the head node takes: where the GCS keeps its tables, and its
# dashboard (started when asked for: include_dashboard=True or a dashboard_port).
_HEAD_ARGS = {"redis_address", "redis_password", "include_dashboard", "dashboard_port",
              "dashboard_host"}


class ClusterNode:
    """A node of a Cluster (what Ray's ``ray._private.node.Node`` offers tests).

    ``address`` is the cluster's GCS address, as in Ray (what ``ray.init`` or
    ``ray start --address`` takes); ``raylet_address`` is this node's raylet.
    """

    def __init__(self, process, gcs_address, head, args, local=None):
        self._process = process
        self._local = local
        self.node_id = process.node_id
        self.unique_id = process.node_id
        self.address = gcs_address
        self.gcs_address = gcs_address
        self.raylet_address = process.address
        host, _, port = process.address.rpartition(":")
        self.node_ip_address = host
        self.node_manager_port = int(port)
        self.pid = process.pid
        self.head = head
        self.num_cpus = args.get("num_cpus")
        self.num_gpus = args.get("num_gpus")
        self.resources = dict(args.get("resources") or {})
        self.object_store_memory = args.get("object_store_memory")
        self._alive = True

    def is_head(self):
        return self.head

    def _head_only(self, what):
        if not self.head or self._local is None:
            raise ValueError(f"{what} is only for the head node (the GCS runs there)")

    def kill_gcs_server(self, check_alive=True):
        """Kills the cluster's GCS with SIGKILL, like a crash (raylets and
        workers keep running). ``check_alive``: raise if it is not running."""
        self._head_only("kill_gcs_server")
        if check_alive and self._local.gcs_pid <= 0:
            raise RuntimeError("the GCS is not running")
        self._local.kill_gcs()

    def start_gcs_server(self):
        """Starts the GCS again on the address it had. With the head's
        ``redis_address`` it recovers the cluster; without, it starts an
        empty cluster and every process of the old one says it is gone."""
        self._head_only("start_gcs_server")
        self._local.start_gcs()

    def all_gcs_processes_alive(self):
        self._head_only("all_gcs_processes_alive")
        return self._local.gcs_pid > 0

    def any_processes_alive(self):
        return self._alive

    def all_processes_alive(self):
        return self._alive

    def __repr__(self):
        kind = "head" if self.head else "worker"
        return f"ClusterNode({kind}, node_id={self.node_id}, raylet={self.raylet_address})"


def _restore(saved):
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _shutdown_at_exit(ref):
    cluster = ref()
    if cluster is not None:
        cluster.shutdown()


class Cluster:
    """A cluster of nodes on this machine (``ray.cluster_utils.Cluster``).

    Args:
        initialize_head: add the head node now (with ``head_node_args``).
        connect: also connect this process (``photon.init(address=...)``);
            requires ``initialize_head``.
        head_node_args: arguments of the head node's ``add_node``.
        shutdown_at_exit: stop every node when the interpreter exits.
    """

    def __init__(self, initialize_head=False, connect=False, head_node_args=None,
                 shutdown_at_exit=True):
        if connect and not initialize_head:
            raise ValueError("connect=True requires initialize_head=True")
        self._local = None
        self.head_node = None
        self.worker_nodes = set()
        self.connected = False
        self._removed_node_ids = set()
        self._saved_env = {}   # PHOTON_* the head's _system_config set, to restore
        self._dashboard = None
        if shutdown_at_exit:
            atexit.register(_shutdown_at_exit, weakref.ref(self))
        if initialize_head:
            self.add_node(**(head_node_args or {}))
            if connect:
                self.connect()

    # --- addresses ---------------------------------------------------------------

    @property
    def gcs_address(self):
        """The GCS "host:port" (None until the head node exists)."""
        if self._local is None or self.head_node is None:
            return None
        return self._local.gcs_address

    @property
    def address(self):
        return self.gcs_address

    @property
    def session_dir(self):
        return None if self._local is None else self._local.session_dir

    # --- nodes ---------------------------------------------------------------------

    def add_node(self, wait=True, **node_args):
        """Starts a raylet; the first node added is the head node.

        node_args: num_cpus (default: the machine's cores), num_gpus,
        resources (dict of custom resources), object_store_memory (bytes).
        Returns the node (``.node_id`` in hex, ``.address``).
        """
        unknown = set(node_args) - _NODE_ARGS - _HEAD_ARGS - _IGNORED_NODE_ARGS - {"env_vars"}
        if unknown:
            raise ValueError(f"Unsupported add_node arguments: {sorted(unknown)}; supported "
                             f"are {sorted(_NODE_ARGS)}")
        if self._local is not None:
            given = sorted(k for k in _HEAD_ARGS if node_args.get(k) is not None)
            if given:
                raise ValueError(f"{', '.join(given)}: arguments of the head node (the first "
                                 "add_node), not of a later one")
        # Ray's system config (Ray's names mapped to Photon's): the daemons
        # started here get it through their environment; the head's stays set
        # for the cluster's life, so later nodes and drivers of this process share it.
        settings = system_config.translate(node_args.get("_system_config"),
                                           "add_node(_system_config=...)")
        if node_args.get("env_vars"):
            raise ValueError("env_vars is not supported per node")
        num_cpus = node_args.get("num_cpus")
        num_gpus = node_args.get("num_gpus")
        resources = node_args.get("resources") or {}
        memory = node_args.get("object_store_memory")
        node_memory = node_args.get("memory")
        if node_memory is not None:
            # Ray's `memory` resource of the node (bytes tasks may reserve).
            if isinstance(node_memory, bool) or not isinstance(node_memory, (int, float)) or \
                    node_memory < 0:
                raise ValueError(f"memory must be a number of bytes >= 0, got {node_memory!r}")
            resources = dict(resources, memory=float(node_memory))
        metrics_port = node_args.get("metrics_export_port") or 0
        if isinstance(metrics_port, bool) or not isinstance(metrics_port, int) or \
                not 0 <= metrics_port <= 65535:
            raise ValueError(f"metrics_export_port must be a port number, got {metrics_port!r}")
        if num_cpus is not None and (not isinstance(num_cpus, (int, float)) or num_cpus < 0):
            raise ValueError(f"num_cpus must be a number >= 0, got {num_cpus!r}")
        if num_gpus is not None and (not isinstance(num_gpus, (int, float)) or num_gpus < 0):
            raise ValueError(f"num_gpus must be a number >= 0, got {num_gpus!r}")
        if not isinstance(resources, dict):
            raise ValueError(f"resources must be a dict, got {resources!r}")
        for k, v in resources.items():
            if k in ("CPU", "GPU"):
                raise ValueError(f"Use num_cpus/num_gpus instead of resources['{k}']")
            if not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"resources['{k}'] must be a number >= 0, got {v!r}")
        if memory is not None and (not isinstance(memory, int) or memory < 0):
            raise ValueError(f"object_store_memory must be an int >= 0, got {memory!r}")
        labels = node_args.get("labels") or {}
        if not isinstance(labels, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise ValueError(f"labels must be a dict of str to str, got {labels!r}")
        for k, v in labels.items():
            if not k or "," in k + v or "=" in k + v:
                raise ValueError(f"label {k!r}={v!r}: keys and values cannot be empty (keys) "
                                 "or contain ',' or '='")
            if k.startswith("ray.io/"):
                raise ValueError(f"label {k!r}: the ray.io/ prefix is reserved")
        redis_address = node_args.get("redis_address")
        if redis_address is not None:
            if self._local is not None:
                raise ValueError("redis_address is an argument of the head node (the first "
                                 "add_node), where the GCS starts")
            host, sep, port = str(redis_address).rpartition(":")
            if not isinstance(redis_address, str) or not sep or not host or not port.isdigit():
                raise ValueError(f"redis_address must be 'HOST:PORT', got {redis_address!r}")
        env = system_config.environment(settings)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        head_starts = self._local is None
        try:
            if self._local is None:
                self._local = _photon.LocalCluster.start(
                    redis_address=redis_address or "",
                    redis_password=str(node_args.get("redis_password") or ""))
            proc = self._local.add_node(
                num_cpus=-1.0 if num_cpus is None else float(num_cpus),
                num_gpus=float(num_gpus or 0),
                resources={str(k): float(v) for k, v in resources.items()},
                object_store_memory=int(memory or 0), labels=dict(labels),
                metrics_export_port=metrics_port)
        finally:
            if head_starts:
                self._saved_env.update({k: v for k, v in saved.items()
                                        if k not in self._saved_env})
            else:
                _restore(saved)
        if head_starts and (node_args.get("include_dashboard") or
                            node_args.get("dashboard_port") is not None):
            self._dashboard = launcher.start(self._local.gcs_address, self._local.session_dir,
                                             node_args.get("dashboard_host"),
                                             node_args.get("dashboard_port"))
        is_head = self.head_node is None
        node = ClusterNode(proc, self._local.gcs_address, is_head, node_args,
                           local=self._local if is_head else None)
        if is_head:
            self.head_node = node
        else:
            self.worker_nodes.add(node)
        if wait and self.connected:
            # The raylet registers with the GCS before add_node returns; a
            # connected driver sees it once its view of the nodes refreshes.
            self._wait_for_node(node.node_id, alive=True, timeout=30)
        return node

    def remove_node(self, node, allow_graceful=True):
        """Stops a node: gracefully (SIGTERM), or with SIGKILL like a crash
        when allow_graceful is False."""
        if self._local is None:
            raise ValueError("the cluster has no nodes")
        if node is self.head_node:
            self.head_node = None
        elif node in self.worker_nodes:
            self.worker_nodes.discard(node)
        else:
            raise ValueError(f"{node!r} is not a node of this cluster")
        self._local.remove_node(node._process, kill=not allow_graceful)
        node._alive = False
        self._removed_node_ids.add(node.node_id)

    def list_all_nodes(self):
        """Every live node this cluster started, head node first."""
        nodes = sorted(self.worker_nodes, key=lambda n: n.pid)
        if self.head_node is not None:
            nodes = [self.head_node] + nodes
        return nodes

    def remaining_processes_alive(self):
        return all(n.all_processes_alive() for n in self.list_all_nodes())

    def _alive_node_ids(self):
        return {n["NodeID"] for n in _photon.nodes() if n["Alive"]}

    def _wait_for_node(self, node_id, alive, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if (node_id in self._alive_node_ids()) == alive:
                return
            if time.monotonic() > deadline:
                state = "alive" if alive else "dead"
                raise TimeoutError(f"Timed out waiting for node {node_id} to be {state}")
            time.sleep(0.1)

    def wait_for_nodes(self, timeout=30):
        """Waits until the cluster's view of live nodes matches the nodes
        added and not removed. Raises TimeoutError after `timeout` seconds."""
        if not worker.is_connected():
            # Without a connection there is nothing to refresh: add_node
            # returns once the raylet has registered with the GCS.
            return
        expected = {n.node_id for n in self.list_all_nodes()}
        deadline = time.monotonic() + timeout
        while True:
            alive = self._alive_node_ids()
            if expected <= alive and not (alive & self._removed_node_ids):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Timed out while waiting for nodes to join or leave: expected "
                    f"{sorted(expected)}, alive {sorted(alive)}")
            time.sleep(0.1)

    # --- connection ---------------------------------------------------------------

    def connect(self, namespace=None):
        """Connects this process as a driver: photon.init(address=self.address)."""
        if self.address is None:
            raise RuntimeError("the cluster has no head node yet: call add_node first")
        if self.connected:
            raise RuntimeError("this process is already connected to the cluster")
        info = photon.init(address=self.address, namespace=namespace)
        self.connected = True
        return info

    def shutdown(self):
        """Disconnects (photon.shutdown() if connect() was used) and stops
        every node and the GCS. Safe to call twice."""
        if self.connected:
            try:
                photon.shutdown()
            finally:
                self.connected = False
        if self._dashboard is not None:
            self._dashboard.stop()
            self._dashboard = None
        if self._local is not None:
            self._local.shutdown()
            self._local = None
        _restore(self._saved_env)
        self._saved_env = {}
        self.head_node = None
        self.worker_nodes = set()

    @property
    def dashboard_url(self):
        """host:port of the head's dashboard (None unless the head asked for one)."""
        return None if self._dashboard is None else self._dashboard.url

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()


__all__ = ["Cluster", "ClusterNode"]
