"""scheduling_strategy: NodeAffinitySchedulingStrategy (hard and soft), SPREAD,
DEFAULT, and clear errors for bad strategies (placement groups:
test_placement_group.py)."""
import time

import pytest

import photon as ray
from photon.util.scheduling_strategies import (NodeAffinitySchedulingStrategy,
                                               PlacementGroupSchedulingStrategy)


@ray.remote
def where(delay=0.0):
    time.sleep(delay)
    return ray.get_runtime_context().get_node_id()


@pytest.fixture
def two_nodes():
    from photon.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    try:
        worker_node = cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        cluster.connect()
        yield cluster, worker_node
    finally:
        cluster.shutdown()


def test_node_affinity_runs_tasks_and_actors_on_the_node(two_nodes):
    cluster, worker_node = two_nodes
    head = ray.get_runtime_context().get_node_id()
    target = worker_node.node_id
    assert target != head
    strategy = NodeAffinitySchedulingStrategy(node_id=target, soft=False)
    nodes = ray.get([where.options(scheduling_strategy=strategy).remote() for _ in range(6)])
    assert set(nodes) == {target}

    @ray.remote
    class Where:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    a = Where.options(scheduling_strategy=strategy).remote()
    assert ray.get(a.node.remote()) == target
    # And back to the head node.
    home = NodeAffinitySchedulingStrategy(node_id=head, soft=False)
    assert ray.get(where.options(scheduling_strategy=home).remote()) == head


def test_node_affinity_to_a_dead_node(two_nodes):
    cluster, worker_node = two_nodes
    target = worker_node.node_id
    cluster.remove_node(worker_node)
    deadline = time.time() + 20
    while any(n["NodeID"] == target and n["Alive"] for n in ray.nodes()) and time.time() < deadline:
        time.sleep(0.1)
    soft = NodeAffinitySchedulingStrategy(node_id=target, soft=True)
    assert ray.get(where.options(scheduling_strategy=soft).remote(), timeout=30) != target
    hard = NodeAffinitySchedulingStrategy(node_id=target, soft=False)
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match="not a live node"):
        ray.get(where.options(scheduling_strategy=hard).remote(), timeout=30)


def test_spread_uses_every_node(two_nodes):
    refs = [where.options(scheduling_strategy="SPREAD").remote(0.5) for _ in range(4)]
    assert len(set(ray.get(refs))) == 2


def test_default_and_invalid_strategies(two_nodes):
    assert ray.get(where.options(scheduling_strategy="DEFAULT").remote())
    with pytest.raises(ValueError, match="scheduling_strategy"):
        where.options(scheduling_strategy="NEAREST")
    with pytest.raises(ValueError, match="hex"):
        NodeAffinitySchedulingStrategy(node_id="not-hex", soft=False)
    with pytest.raises(TypeError, match="PlacementGroup"):
        where.options(scheduling_strategy=PlacementGroupSchedulingStrategy("not a group"))


def test_nodes_have_ray_node_resources(two_nodes):
    cluster, worker_node = two_nodes
    total = ray.cluster_resources()
    assert total["node:__internal_head__"] == 1
    assert total["node:127.0.0.1"] == 2  # both nodes are on this address
    head = ray.get_runtime_context().get_node_id()
    on_head = where.options(resources={"node:__internal_head__": 0.01}).remote()
    assert ray.get(on_head) == head


def test_a_default_actor_is_not_placed_on_a_node_without_cpus():
    from photon.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        worker_node = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        cluster.connect()

        @ray.remote
        class Default:
            def node(self):
                return ray.get_runtime_context().get_node_id()

        @ray.remote(num_cpus=0)
        class Zero:
            def node(self):
                return ray.get_runtime_context().get_node_id()

        # Ray: 1 CPU to place, 0 held: several fit on the 1-CPU node at once.
        actors = [Default.remote() for _ in range(3)]
        assert set(ray.get([a.node.remote() for a in actors], timeout=60)) == \
            {worker_node.node_id}
        # An explicit num_cpus=0 actor may go anywhere (here: the driver's node first).
        head = ray.get_runtime_context().get_node_id()
        assert ray.get(Zero.remote().node.remote(), timeout=60) in {head, worker_node.node_id}
    finally:
        cluster.shutdown()
        ray.shutdown()


def test_spread_spreads_a_burst_of_quick_tasks_over_every_node(three_two_cpu_nodes):
    ray.get([where.remote() for _ in range(4)])  # workers up
    # The driver's raylet learns of the nodes a report period after they join
    # (raylet_tick_period_ms; longer on a loaded machine): a burst sent before
    # it knows the third one spreads over two. Once it knows, a burst covers all.
    deadline = time.monotonic() + 20
    while True:
        refs = [where.options(scheduling_strategy="SPREAD").remote() for _ in range(12)]
        seen = set(ray.get(refs, timeout=60))
        if len(seen) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(seen) == 3


def test_node_label_strategy_runs_work_on_matching_nodes():
    from photon.cluster_utils import Cluster
    from photon.util.scheduling_strategies import (DoesNotExist, Exists, In,
                                                   NodeLabelSchedulingStrategy, NotIn)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        a = cluster.add_node(num_cpus=1, labels={"zone": "a", "disk": "ssd"})
        b = cluster.add_node(num_cpus=1, labels={"zone": "b"})
        cluster.wait_for_nodes()
        cluster.connect()
        head = ray.get_runtime_context().get_node_id()
        labels = {n["NodeID"]: n["Labels"] for n in ray.nodes()}
        assert labels[a.node_id]["zone"] == "a"
        assert labels[a.node_id]["ray.io/node-id"] == a.node_id

        def run(hard, soft=None, n=4):
            s = NodeLabelSchedulingStrategy(hard, soft=soft)
            return set(ray.get([where.options(scheduling_strategy=s).remote() for _ in range(n)],
                               timeout=60))

        assert run({"zone": In("a")}) == {a.node_id}
        assert run({"zone": In("b")}) == {b.node_id}
        assert run({"zone": NotIn("a"), "disk": DoesNotExist()}) <= {b.node_id, head}
        assert run({"disk": Exists()}) == {a.node_id}
        assert run({"zone": Exists()}, soft={"disk": In("ssd")}) == {a.node_id}
        assert run({"ray.io/node-id": In(b.node_id)}) == {b.node_id}

        @ray.remote(num_cpus=0)
        class Where:
            def node(self):
                return ray.get_runtime_context().get_node_id()

        actor = Where.options(
            scheduling_strategy=NodeLabelSchedulingStrategy({"zone": In("b")})).remote()
        assert ray.get(actor.node.remote(), timeout=60) == b.node_id
        # No node matches: the task waits (infeasible), as in Ray.
        none = NodeLabelSchedulingStrategy({"zone": In("z")})
        ready, _ = ray.wait([where.options(scheduling_strategy=none).remote()], timeout=1)
        assert not ready
        with pytest.raises(ValueError, match="cannot both be empty"):
            NodeLabelSchedulingStrategy({})
        with pytest.raises(ValueError, match="In must be a non-empty"):
            In()
        with pytest.raises(ValueError, match="must be In, NotIn"):
            NodeLabelSchedulingStrategy({"zone": "a"})
        with pytest.raises(ValueError, match="labels"):
            cluster.add_node(num_cpus=1, labels={"zone": 1})
    finally:
        cluster.shutdown()
        ray.shutdown()


def test_label_selector_option_and_bundle_label_selector():
    """Ray 2.49's label_selector on tasks and actors ("v", "!v", "in(a,b)",
    "!in(a,b)") and placement_group(bundle_label_selector=...)."""
    from photon.cluster_utils import Cluster
    from photon.util import placement_group, placement_group_table, remove_placement_group
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        a = cluster.add_node(num_cpus=2, labels={"zone": "a", "disk": "ssd"})
        b = cluster.add_node(num_cpus=2, labels={"zone": "b"})
        cluster.wait_for_nodes()
        cluster.connect()
        head = ray.get_runtime_context().get_node_id()

        def run(selector, n=4):
            return set(ray.get([where.options(label_selector=selector).remote()
                                for _ in range(n)], timeout=60))

        assert run({"zone": "a"}) == {a.node_id}
        assert run({"zone": "!a"}) <= {b.node_id, head}
        assert run({"zone": "in(a, b)", "disk": "!in(ssd)"}) == {b.node_id}
        assert run({"ray.io/node-id": b.node_id}) == {b.node_id}

        @ray.remote(num_cpus=0, label_selector={"zone": "b"})
        class Where:
            def node(self):
                return ray.get_runtime_context().get_node_id()

        assert ray.get(Where.remote().node.remote(), timeout=60) == b.node_id
        with pytest.raises(ValueError, match="closing"):
            where.options(label_selector={"zone": "in(a"}).remote()
        with pytest.raises(ValueError, match="must be a string"):
            where.options(label_selector={"zone": 1}).remote()

        pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD",
                             bundle_label_selector=[{"zone": "b"}, {"zone": "a"}])
        assert pg.wait(30)
        assert placement_group_table(pg)["bundles_to_node_id"] == {0: b.node_id, 1: a.node_id}
        remove_placement_group(pg)
        # No node has zone c: the group waits, saying why.
        waiting = placement_group([{"CPU": 1}], bundle_label_selector=[{"zone": "c"}])
        assert not waiting.wait(1)
        assert "labels" in placement_group_table(waiting)["stats"]["pending_reason"]
        remove_placement_group(waiting)
        with pytest.raises(ValueError, match="should equal the length"):
            placement_group([{"CPU": 1}, {"CPU": 1}], bundle_label_selector=[{"zone": "a"}])
    finally:
        cluster.shutdown()
        ray.shutdown()


def test_accelerator_type_schedules_on_nodes_that_have_it(ray_start_cluster):
    from photon.util import accelerators

    assert accelerators.NVIDIA_TESLA_V100 == "V100" and accelerators.NVIDIA_A100 == "A100"
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    v100 = cluster.add_node(num_cpus=1, resources={"accelerator_type:V100": 1})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)

    @ray.remote(accelerator_type=accelerators.NVIDIA_TESLA_V100)
    def where():
        return ray.get_runtime_context().get_node_id()

    @ray.remote
    class OnV100:
        def where(self):
            return ray.get_runtime_context().get_node_id()

    assert {ray.get(where.remote()) for _ in range(4)} == {v100.node_id}
    a = OnV100.options(accelerator_type="V100").remote()
    assert ray.get(a.where.remote()) == v100.node_id
    # No node has an A100: the task waits (infeasible), as in Ray.
    ref = where.options(accelerator_type=accelerators.NVIDIA_A100).remote()
    ready, _ = ray.wait([ref], timeout=1)
    assert ready == []
    ray.cancel(ref)
    with pytest.raises(TypeError, match="accelerator_type"):
        where.options(accelerator_type=3)


def test_init_auto_finds_a_cluster_utils_cluster():
    from photon.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        ctx = ray.init(address="auto")
        assert ctx["gcs_address"] == cluster.address
    finally:
        ray.shutdown()
        cluster.shutdown()
