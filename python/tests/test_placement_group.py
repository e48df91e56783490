"""Placement groups as a Ray user uses them (ray.util.placement_group):
creation and readiness, the four strategies checked by node id on a real
multi-node cluster, tasks and actors in bundles, child capture, removal,
pending groups that are placed once a node joins, and bad inputs."""
import os
import subprocess
import sys
import time

import pytest

import photon as ray
from photon.util.placement_group import (get_current_placement_group, get_placement_group,
                                         placement_group, placement_group_table,
                                         remove_placement_group)
from photon.util.scheduling_strategies import PlacementGroupSchedulingStrategy


@ray.remote(num_cpus=0)
def node_of():
    return ray.get_runtime_context().get_node_id()


def _bundle_nodes(pg):
    table = placement_group_table(pg)
    return [table["bundles_to_node_id"][i] for i in range(len(table["bundles"]))]


def test_create_ready_wait_and_table(ray_start_regular):
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="PACK", name="first")
    assert ray.get(pg.ready(), timeout=30) == pg
    assert pg.wait(10)
    assert pg.bundle_count == 2
    assert pg.bundle_specs == [{"CPU": 1.0}, {"CPU": 1.0}]
    table = placement_group_table(pg)
    assert table["state"] == "CREATED"
    assert table["strategy"] == "PACK"
    assert table["name"] == "first"
    assert table["placement_group_id"] == pg.id.hex()
    assert placement_group_table()[pg.id.hex()]["state"] == "CREATED"
    assert get_placement_group("first") == pg
    # The bundles show as Ray's resource names; their CPUs are no longer free.
    total = ray.cluster_resources()
    hexid = pg.id.hex()
    assert total[f"CPU_group_0_{hexid}"] == 1
    assert total[f"CPU_group_{hexid}"] == 2
    assert total[f"bundle_group_0_{hexid}"] == 1000
    assert ray.available_resources().get("CPU", 0) == 0
    remove_placement_group(pg)
    assert placement_group_table(pg)["state"] == "REMOVED"
    deadline = time.time() + 10
    while ray.available_resources().get("CPU", 0) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert ray.available_resources().get("CPU", 0) == 2
    assert not any(k.endswith(hexid) for k in ray.cluster_resources())
    with pytest.raises(ValueError, match="first"):
        get_placement_group("first")


def test_tasks_and_actors_run_in_their_bundle(ray_start_regular):
    pg = placement_group([{"CPU": 1}, {"CPU": 1}])
    pg.wait(30)

    @ray.remote(num_cpus=1)
    def in_group():
        ctx = ray.get_runtime_context()
        current = get_current_placement_group()
        return ctx.get_placement_group_id(), current.id.hex() if current else None

    strategy = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=1)
    assert ray.get(in_group.options(scheduling_strategy=strategy).remote(), timeout=30) == (
        pg.id.hex(), pg.id.hex())
    # The deprecated form works too.
    assert ray.get(in_group.options(placement_group=pg).remote(), timeout=30)[0] == pg.id.hex()
    # Outside a group there is none (the group holds every CPU: ask for none).
    assert ray.get(in_group.options(num_cpus=0).remote(), timeout=30) == (None, None)

    @ray.remote(num_cpus=1)
    class Holder:
        def group(self):
            return ray.get_runtime_context().get_placement_group_id()

    a = Holder.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg, 0)).remote()
    assert ray.get(a.group.remote(), timeout=30) == pg.id.hex()
    # Removing the group kills its actors.
    remove_placement_group(pg)
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(a.group.remote(), timeout=30)


def test_child_tasks_are_captured_when_asked(ray_start_regular):
    pg = placement_group([{"CPU": 1}])
    pg.wait(30)

    @ray.remote(num_cpus=0)
    def child():
        return ray.get_runtime_context().get_placement_group_id()

    @ray.remote(num_cpus=1)
    def parent():
        return ray.get(child.remote())

    captured = PlacementGroupSchedulingStrategy(pg, placement_group_capture_child_tasks=True)
    assert ray.get(parent.options(scheduling_strategy=captured).remote(), timeout=30) == \
        pg.id.hex()
    not_captured = PlacementGroupSchedulingStrategy(pg)
    assert ray.get(parent.options(scheduling_strategy=not_captured).remote(), timeout=30) is None
    remove_placement_group(pg)


def test_a_request_bigger_than_its_bundle_is_refused(ray_start_regular):
    pg = placement_group([{"CPU": 1}])
    pg.wait(30)

    @ray.remote(num_cpus=2)
    def big():
        return 1

    with pytest.raises(ValueError, match="cannot fit into any bundles"):
        big.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg)).remote()
    with pytest.raises(ValueError, match="bundle index"):
        node_of.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg, 3)).remote()
    remove_placement_group(pg)


def test_bad_groups_raise_with_the_problem_named(ray_start_regular):
    with pytest.raises(ValueError, match="empty list"):
        placement_group([])
    with pytest.raises(ValueError, match="only 0 values"):
        placement_group([{"CPU": 0}])
    with pytest.raises(ValueError, match="list of dictionaries"):
        placement_group({"CPU": 1})
    with pytest.raises(ValueError, match="Invalid placement group strategy"):
        placement_group([{"CPU": 1}], strategy="TIGHT")
    with pytest.raises(ValueError, match="lifetime"):
        placement_group([{"CPU": 1}], lifetime="forever")
    with pytest.raises(ValueError, match=">= 0"):
        placement_group([{"CPU": -1}])
    first = placement_group([{"CPU": 0.1}], name="taken")
    with pytest.raises(ValueError, match="taken"):
        placement_group([{"CPU": 0.1}], name="taken")
    remove_placement_group(first)
    # The name is free again once the group is removed.
    again = placement_group([{"CPU": 0.1}], name="taken")
    assert again.wait(30)
    remove_placement_group(again)
    with pytest.raises(TypeError):
        remove_placement_group("taken")


def test_strict_spread_puts_each_bundle_on_its_own_node(three_two_cpu_nodes):
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    pg = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD")
    assert pg.wait(30)
    placed = _bundle_nodes(pg)
    assert len(set(placed)) == 3 and set(placed) == nodes
    for i in range(3):
        s = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=i)
        assert ray.get(node_of.options(scheduling_strategy=s).remote(), timeout=30) == placed[i]
    remove_placement_group(pg)
    # Four bundles on three nodes cannot be strictly spread: the group waits.
    pending = placement_group([{"CPU": 1}] * 4, strategy="STRICT_SPREAD")
    assert not pending.wait(1)
    assert placement_group_table(pending)["state"] == "PENDING"
    remove_placement_group(pending)


def test_strict_pack_and_pack_use_one_node_spread_uses_many(three_two_cpu_nodes):
    strict = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_PACK")
    assert strict.wait(30)
    assert len(set(_bundle_nodes(strict))) == 1
    remove_placement_group(strict)
    pack = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="PACK")
    assert pack.wait(30)
    assert len(set(_bundle_nodes(pack))) == 1
    remove_placement_group(pack)
    # PACK falls back to several nodes when no node fits every bundle.
    wide = placement_group([{"CPU": 2}, {"CPU": 2}], strategy="PACK")
    assert wide.wait(30)
    assert len(set(_bundle_nodes(wide))) == 2
    remove_placement_group(wide)
    spread = placement_group([{"CPU": 1}] * 3, strategy="SPREAD")
    assert spread.wait(30)
    assert len(set(_bundle_nodes(spread))) == 3
    remove_placement_group(spread)
    # STRICT_PACK of more than any node has stays pending.
    too_big = placement_group([{"CPU": 2}, {"CPU": 1}], strategy="STRICT_PACK")
    assert not too_big.wait(1)
    remove_placement_group(too_big)


def test_a_pending_group_is_placed_when_a_node_joins(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    cluster.connect()
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    ready = pg.ready()
    ready_now, _ = ray.wait([ready], timeout=1)
    assert not ready_now
    table = placement_group_table(pg)
    assert table["state"] == "PENDING"
    assert "STRICT_SPREAD" in table["stats"]["pending_reason"]
    cluster.add_node(num_cpus=1)
    assert ray.get(ready, timeout=30) == pg
    assert len(set(_bundle_nodes(pg))) == 2


def test_a_group_ends_with_its_job_unless_detached(ray_start_regular):
    address = ray.get_runtime_context().gcs_address
    script = (
        "import photon as ray\n"
        "from photon.util.placement_group import placement_group\n"
        f"ray.init(address={address!r})\n"
        "placement_group([{'CPU': 0.5}], name='job_bound').wait(30)\n"
        "placement_group([{'CPU': 0.5}], name='detached', lifetime='detached').wait(30)\n"
        "ray.shutdown()\n")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    deadline = time.time() + 20
    states = {}
    while time.time() < deadline:
        states = {e["name"]: e["state"] for e in placement_group_table().values()}
        if states.get("job_bound") == "REMOVED":
            break
        time.sleep(0.1)
    assert states.get("job_bound") == "REMOVED"
    assert states.get("detached") == "CREATED"
    # Names are per namespace (the other driver had its own): remove it by id.
    from photon._private.ids import PlacementGroupID
    from photon.util.placement_group import PlacementGroup
    (hexid,) = [k for k, e in placement_group_table().items() if e["name"] == "detached"]
    remove_placement_group(PlacementGroup(PlacementGroupID.from_hex(hexid)))


def test_a_dead_nodes_bundles_are_placed_again(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    others = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    cluster.connect()
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert pg.wait(30)
    placed = _bundle_nodes(pg)
    # Kill a non-head node that holds a bundle (of three nodes, two hold one).
    victim = next(n for n in others if n.node_id in placed)
    lost = placed.index(victim.node_id)

    @ray.remote(num_cpus=1, max_restarts=1, max_task_retries=-1)
    class InBundle:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    actor = InBundle.options(scheduling_strategy=PlacementGroupSchedulingStrategy(
        pg, placement_group_bundle_index=lost)).remote()
    assert ray.get(actor.node.remote(), timeout=30) == victim.node_id
    cluster.remove_node(victim, allow_graceful=False)

    def replaced():
        table = placement_group_table(pg)
        return table["state"] == "CREATED" and table["bundles_to_node_id"][lost] not in (
            victim.node_id, placed[1 - lost])

    deadline = time.time() + 30
    while time.time() < deadline and not replaced():
        time.sleep(0.1)
    assert replaced(), placement_group_table(pg)
    now = _bundle_nodes(pg)
    assert now[1 - lost] == placed[1 - lost]  # the surviving bundle stayed
    assert len(set(now)) == 2  # still strictly spread
    # The actor of the lost bundle restarted in it, on its new node.
    assert ray.get(actor.node.remote(), timeout=60) == now[lost]


def test_assigned_resources_in_a_group_use_the_names_asked_for(ray_start_regular):
    pg = placement_group([{"CPU": 1}])
    assert pg.wait(10)

    @ray.remote(num_cpus=1)
    def resources():
        return ray.get_runtime_context().get_assigned_resources()

    @ray.remote(num_cpus=1)
    class A:
        def from_thread(self):
            import threading
            out = []
            t = threading.Thread(target=lambda: out.append(
                ray.get_runtime_context().get_assigned_resources()))
            t.start()
            t.join()
            return out[0]

    strategy = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=0)
    assert ray.get(resources.options(scheduling_strategy=strategy).remote()) == {"CPU": 1.0}
    a = A.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg)).remote()
    assert ray.get(a.from_thread.remote()) == {"CPU": 1.0}
