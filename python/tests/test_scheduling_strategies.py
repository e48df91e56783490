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
