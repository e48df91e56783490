"""Jobs on a multi-node cluster: an entrypoint that asks for resources runs
on the node that has them, and a job's state survives a GCS restart with
Redis (the job keeps running and its end is recorded)."""
import time

import pytest

import photon
from photon.cluster_utils import Cluster
from photon.dashboard import launcher
from photon.job_submission import JobStatus, JobSubmissionClient

pytestmark = pytest.mark.timeout(180, method="thread")


@pytest.fixture
def redis_cluster_with_dashboard(external_redis):
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 2, "redis_address": external_redis})
    dash = None
    try:
        worker = cluster.add_node(num_cpus=1, resources={"entry_slot": 1})
        cluster.wait_for_nodes()
        dash = launcher.start(cluster.address, cluster.session_dir)
        yield cluster, worker, JobSubmissionClient(f"http://{dash.url}")
    finally:
        if dash is not None:
            dash.stop()
        cluster.shutdown()
        photon.shutdown()


def wait_for(client, sid, statuses, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = client.get_job_status(sid)
        except RuntimeError:  # the GCS is restarting
            status = None
        if status in statuses:
            return status
        time.sleep(0.3)
    raise AssertionError(f"job {sid} is {client.get_job_status(sid)}: "
                         f"{client.get_job_info(sid).message}")


def test_entrypoint_resources_choose_the_node(redis_cluster_with_dashboard):
    cluster, worker, client = redis_cluster_with_dashboard
    sid = client.submit_job(entrypoint="echo on the entry node",
                            entrypoint_resources={"entry_slot": 1})
    assert wait_for(client, sid, {JobStatus.SUCCEEDED, JobStatus.FAILED}) == JobStatus.SUCCEEDED
    info = client.get_job_info(sid)
    assert info.driver_node_id == worker.node_id
    assert "on the entry node" in client.get_job_logs(sid)
    # Without resources it runs on the head node.
    sid = client.submit_job(entrypoint="true")
    wait_for(client, sid, {JobStatus.SUCCEEDED})
    assert client.get_job_info(sid).driver_node_id == cluster.head_node.node_id


def test_job_survives_a_gcs_restart(redis_cluster_with_dashboard):
    cluster, _, client = redis_cluster_with_dashboard
    sid = client.submit_job(entrypoint="echo before; sleep 4; echo after the restart")
    wait_for(client, sid, {JobStatus.RUNNING})
    cluster.head_node.kill_gcs_server()
    time.sleep(1)
    cluster.head_node.start_gcs_server()
    assert wait_for(client, sid, {JobStatus.SUCCEEDED, JobStatus.FAILED}) == JobStatus.SUCCEEDED
    assert "after the restart" in client.get_job_logs(sid)
    assert sid in {j.submission_id for j in client.list_jobs()}
