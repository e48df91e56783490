"""Job submission: JobSubmissionClient against the dashboard of a live local
cluster: submit, status, logs (whole and tailed), stop, delete, list; failing
and bad jobs; the runtime_env of a job (working_dir shipped by the client);
`photon job` from the command line."""
import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import photon
from photon._private.test_utils import wait_for_condition
from photon.job_submission import JobDetails, JobStatus, JobSubmissionClient

pytestmark = pytest.mark.timeout(180, method="thread")

DRIVER = textwrap.dedent("""
    import photon
    photon.init()

    @photon.remote
    def square(x):
        return x * x

    print("squares", sum(photon.get([square.remote(i) for i in range(5)])))
""")


@pytest.fixture(scope="module")
def cluster():
    ctx = photon.init(num_cpus=4, include_dashboard=True)
    try:
        yield ctx
    finally:
        photon.shutdown()


@pytest.fixture(scope="module")
def client(cluster):
    return JobSubmissionClient(f"http://{cluster.dashboard_url}")


def wait_status(client, sid, statuses, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get_job_status(sid)
        if status in statuses:
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {sid} is {client.get_job_status(sid)}, not {statuses}: "
                         f"{client.get_job_info(sid).message}\n{client.get_job_logs(sid)}")


def test_submit_runs_a_driver_that_joins_the_cluster(client, tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    sid = client.submit_job(entrypoint=f"{sys.executable} {script}",
                            metadata={"owner": "tests"})
    assert sid.startswith("raysubmit_")
    assert wait_status(client, sid, {JobStatus.SUCCEEDED, JobStatus.FAILED}) == \
        JobStatus.SUCCEEDED
    assert "squares 30" in client.get_job_logs(sid)
    info = client.get_job_info(sid)
    assert isinstance(info, JobDetails)
    assert info.submission_id == sid and info.type.value == "SUBMISSION"
    assert info.metadata == {"owner": "tests"} and info.driver_exit_code == 0
    assert info.job_id  # the driver's job id, recorded by its photon.init()
    assert info.start_time <= info.end_time
    assert client.get_job_info(info.job_id).submission_id == sid
    listed = {j.submission_id: j for j in client.list_jobs()}
    assert listed[sid].status == JobStatus.SUCCEEDED
    # The dashboard's own connection is no user's job; the submission's driver
    # appears once, as the submission.
    assert all(j.job_id != info.job_id for j in client.list_jobs() if j.submission_id != sid)


def test_failing_job_reports_exit_code_and_log_tail(client):
    sid = client.submit_job(entrypoint="echo about to fail; exit 3")
    assert wait_status(client, sid, {JobStatus.FAILED, JobStatus.SUCCEEDED}) == JobStatus.FAILED
    info = client.get_job_info(sid)
    assert info.driver_exit_code == 3
    assert "exit code 3" in info.message and "about to fail" in info.message


def test_stop_a_running_job(client):
    sid = client.submit_job(entrypoint="echo started; sleep 300", submission_id="stop-me")
    assert sid == "stop-me"
    wait_status(client, sid, {JobStatus.RUNNING})
    # RUNNING means its process started, not that the shell has echoed yet: a
    # stop before the echo (a loaded machine) would rightly leave no log.
    wait_for_condition(lambda: "started" in client.get_job_logs(sid), timeout=30)
    assert client.stop_job(sid) is True
    assert wait_status(client, sid, {JobStatus.STOPPED}, timeout=30) == JobStatus.STOPPED
    assert client.stop_job(sid) is False  # already over
    assert "started" in client.get_job_logs(sid)


def test_delete_only_ended_jobs(client):
    sid = client.submit_job(entrypoint="sleep 300")
    wait_status(client, sid, {JobStatus.RUNNING})
    with pytest.raises(RuntimeError, match="non-terminal state"):
        client.delete_job(sid)
    client.stop_job(sid)
    wait_status(client, sid, {JobStatus.STOPPED})
    assert client.delete_job(sid) is True
    with pytest.raises(RuntimeError, match="404"):
        client.get_job_info(sid)


def test_bad_submissions_are_clear_errors(client):
    sid = client.submit_job(entrypoint="true", submission_id="taken-id")
    with pytest.raises(RuntimeError, match="already exists"):
        client.submit_job(entrypoint="true", submission_id="taken-id")
    with pytest.raises(RuntimeError, match="entrypoint"):
        client.submit_job(entrypoint="   ")
    with pytest.raises(RuntimeError, match="entrypoint_num_cpus"):
        client.submit_job(entrypoint="true", entrypoint_num_cpus=-1)
    with pytest.raises(ValueError, match="unknown runtime_env field"):
        client.submit_job(entrypoint="true", runtime_env={"no_such_field": 1})
    with pytest.raises(ValueError, match="not an existing folder"):
        client.submit_job(entrypoint="true", runtime_env={"working_dir": "/no/such/dir"})
    with pytest.raises(RuntimeError, match="404"):
        client.get_job_status("no-such-job")
    wait_status(client, sid, {JobStatus.SUCCEEDED})


def test_tail_job_logs(client):
    sid = client.submit_job(entrypoint="for i in 1 2 3; do echo line$i; sleep 0.3; done")

    async def collect():
        return "".join([chunk async for chunk in client.tail_job_logs(sid)])

    text = asyncio.run(collect())
    assert "line1" in text and "line3" in text
    assert client.get_job_status(sid) == JobStatus.SUCCEEDED


def test_job_runtime_env_working_dir_and_env_vars(client, tmp_path):
    wd = tmp_path / "project"
    wd.mkdir()
    (wd / "helper.py").write_text("GREETING = 'hello from the working_dir'\n")
    (wd / "main.py").write_text(textwrap.dedent("""
        import os
        import photon
        import helper
        photon.init()

        @photon.remote
        def in_task():
            import helper
            return helper.GREETING, os.environ.get("JOB_FLAVOUR")

        print("driver:", helper.GREETING, os.environ.get("JOB_FLAVOUR"))
        print("task:", photon.get(in_task.remote()))
    """))
    sid = client.submit_job(entrypoint="python main.py",
                            runtime_env={"working_dir": str(wd),
                                         "env_vars": {"JOB_FLAVOUR": "vanilla"}})
    assert wait_status(client, sid, {JobStatus.SUCCEEDED, JobStatus.FAILED}) == \
        JobStatus.SUCCEEDED, client.get_job_logs(sid)
    logs = client.get_job_logs(sid)
    assert "driver: hello from the working_dir vanilla" in logs
    assert "task: ('hello from the working_dir', 'vanilla')" in logs
    assert client.get_job_info(sid).runtime_env["working_dir"].startswith("gcs://")


def test_entrypoint_resources_that_no_node_has_stay_pending(client):
    sid = client.submit_job(entrypoint="true", entrypoint_resources={"no_such_thing": 1})
    time.sleep(1.5)
    assert client.get_job_status(sid) == JobStatus.PENDING
    assert client.stop_job(sid) is True
    assert wait_status(client, sid, {JobStatus.STOPPED}) == JobStatus.STOPPED


def _cli(*args, env=None):
    cmd = [sys.executable, "-m", "photon._private.cli", "job", *args]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120, env=env)


def test_photon_job_cli(client, cluster):
    address = ["--address", f"http://{cluster.dashboard_url}"]
    out = _cli("submit", *address, "--submission-id", "cli-job", "--", "echo", "from-cli")
    assert out.returncode == 0, out.stdout
    assert "Job 'cli-job' submitted successfully" in out.stdout
    assert "from-cli" in out.stdout and "succeeded" in out.stdout
    out = _cli("status", *address, "cli-job")
    assert "SUCCEEDED" in out.stdout
    out = _cli("logs", *address, "cli-job")
    assert "from-cli" in out.stdout
    out = _cli("list", *address, "--format", "json")
    assert any(j["submission_id"] == "cli-job" for j in json.loads(out.stdout))
    out = _cli("submit", *address, "--no-wait", "--", "exit", "1")
    assert out.returncode == 0 and "submitted successfully" in out.stdout
    out = _cli("delete", *address, "cli-job")
    assert out.returncode == 0, out.stdout
    out = _cli("status", *address, "cli-job")
    assert out.returncode == 1 and "does not exist" in out.stdout
    # The address found from RAY_ADDRESS, as Ray's CLI does.
    env = dict(os.environ, RAY_ADDRESS=f"http://{cluster.dashboard_url}")
    out = _cli("list", env=env)
    assert out.returncode == 0 and "SUBMISSION" in out.stdout


def _python_with_ray():
    """An interpreter that has Ray: this one, RAY_PYTHON, or the repository's
    .venv-ray (git-ignored: `python3 -m venv .venv-ray && .venv-ray/bin/pip install
    "ray[default]"`); None if none."""
    try:
        import ray.job_submission  # noqa: F401

        return sys.executable
    except ImportError:
        pass
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for candidate in (os.environ.get("RAY_PYTHON"), os.path.join(root, ".venv-ray", "bin", "python")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def test_rays_own_client_talks_to_photon(cluster):
    python = _python_with_ray()
    if python is None:
        pytest.skip("Ray is not installed (pip install 'ray[default]', or set RAY_PYTHON)")
    with open(os.path.join(cluster["session_dir"], "cluster_token")) as f:
        token = f.read().strip()
    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ray_job_client_probe.py")
    # Ray's process must not import Photon's tree as its own.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([python, probe, f"http://{cluster.dashboard_url}", token], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=150)
    assert out.returncode == 0, out.stdout
    assert "tail: ok" in out.stdout


def test_bad_entrypoint_and_bad_pip_fail_with_the_reason(client):
    sid = client.submit_job(entrypoint="photon-no-such-command --flag")
    assert wait_status(client, sid, {JobStatus.FAILED, JobStatus.SUCCEEDED}) == JobStatus.FAILED
    info = client.get_job_info(sid)
    assert info.driver_exit_code == 127 and "not found" in info.message
    sid = client.submit_job(entrypoint="true", runtime_env={
        "pip": {"packages": ["photon-no-such-package-abc==1.0"],
                "pip_install_options": ["--no-index"]}})
    assert wait_status(client, sid, {JobStatus.FAILED, JobStatus.SUCCEEDED}) == JobStatus.FAILED
    info = client.get_job_info(sid)
    assert info.error_type == "RUNTIME_ENV_SETUP_FAILURE"
    assert "photon-no-such-package-abc" in info.message


def test_stop_escalates_to_sigkill(client):
    sid = client.submit_job(entrypoint="trap '' TERM; echo ignoring; sleep 300")
    wait_status(client, sid, {JobStatus.RUNNING})
    deadline = time.monotonic() + 20
    while "ignoring" not in client.get_job_logs(sid):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    started = time.monotonic()
    assert client.stop_job(sid)
    assert wait_status(client, sid, {JobStatus.STOPPED}, timeout=30) == JobStatus.STOPPED
    # job_stop_wait_time_s (3 s) after the SIGTERM it ignored.
    assert time.monotonic() - started >= 2.5
