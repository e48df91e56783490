"""Ray's _system_config names on Photon (docs/system-config.md): mapped
names reach the daemons of a local cluster and of a cluster_utils Cluster,
Photon's own names pass, anything else is refused naming the closest
setting; Ray's node arguments of Cluster.add_node."""
import os

import pytest

import photon
from photon._private import system_config
from photon.cluster_utils import Cluster

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "system-config.md")


def test_translation_table():
    assert system_config.translate({"num_heartbeats_timeout": 7}) == \
        {"health_check_failure_threshold": "7"}
    assert system_config.translate({"worker_register_timeout_seconds": 2.5}) == \
        {"worker_register_timeout_ms": "2500"}
    assert system_config.translate({"lineage_pinning_enabled": False}) == {"max_lineage_bytes": "0"}
    assert system_config.translate({"lineage_pinning_enabled": True}) == {}
    assert system_config.translate({"record_ref_creation_sites": True}) == \
        {"record_ref_creation_sites": "true"}
    # Photon's own names pass as they are.
    assert system_config.translate({"task_max_retries": 5}) == {"task_max_retries": "5"}
    with pytest.raises(ValueError, match="'health_check_perod_ms' is not a setting Photon has; "
                                         "the closest Photon setting is 'health_check_period_ms'"):
        system_config.translate({"health_check_perod_ms": 1})
    with pytest.raises(ValueError, match="'automatic_object_spilling_enabled' is not a setting"):
        system_config.translate({"automatic_object_spilling_enabled": False})
    with pytest.raises(TypeError):
        system_config.translate(["not", "a", "dict"])
    # Every mapped name is in the documented table.
    text = open(DOCS).read()
    for ray_name, (photon_name, _) in system_config.RAY_TO_PHOTON.items():
        assert f"| `{ray_name}` | `{photon_name}` |" in text


def test_init_system_config_reaches_the_local_cluster(shutdown_only):
    photon.init(num_cpus=1, _system_config={"task_max_retries": 0,
                                            "record_ref_creation_sites": True})

    @photon.remote
    def settings():
        return (os.environ.get("PHOTON_TASK_MAX_RETRIES"),
                os.environ.get("PHOTON_RECORD_REF_CREATION_SITES"))

    assert photon.get(settings.remote()) == ("0", "true")
    assert "PHOTON_TASK_MAX_RETRIES" not in os.environ  # not left behind in the driver


def test_init_refuses_unknown_keys_and_system_config_for_an_existing_cluster(shutdown_only):
    with pytest.raises(ValueError, match="not a setting Photon has"):
        photon.init(num_cpus=1, _system_config={"no_such_knob_at_all": 1})
    assert not photon.is_initialized()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        with pytest.raises(ValueError, match="_system_config must not be provided"):
            photon.init(address=cluster.address, _system_config={"task_max_retries": 1})
    finally:
        cluster.shutdown()


def test_cluster_head_system_config_and_ray_node_args():
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "memory": 2 * 1024**3, "dashboard_port": 0,
        "_system_config": {"health_check_failure_threshold": 9}})
    try:
        assert os.environ["PHOTON_HEALTH_CHECK_FAILURE_THRESHOLD"] == "9"
        node = cluster.add_node(num_cpus=1, labels={"zone": "b"}, object_store_memory=10**8,
                                _system_config={"health_check_period_ms": 400})
        assert "PHOTON_HEALTH_CHECK_PERIOD_MS" not in os.environ
        raylet_env = open(f"/proc/{node._process.pid}/environ", "rb").read().split(b"\0")
        assert b"PHOTON_HEALTH_CHECK_PERIOD_MS=400" in raylet_env
        assert b"PHOTON_HEALTH_CHECK_FAILURE_THRESHOLD=9" in raylet_env
        cluster.wait_for_nodes()
        cluster.connect()
        assert photon.cluster_resources()["memory"] >= 2 * 1024**3
        assert cluster.dashboard_url
        with pytest.raises(ValueError, match="arguments of the head node"):
            cluster.add_node(num_cpus=1, dashboard_port=0)
        with pytest.raises(ValueError, match="not a setting Photon has"):
            cluster.add_node(num_cpus=1, _system_config={"bogus_key": 1})
    finally:
        cluster.shutdown()
        photon.shutdown()
    assert "PHOTON_HEALTH_CHECK_FAILURE_THRESHOLD" not in os.environ
