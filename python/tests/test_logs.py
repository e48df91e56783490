"""Logs as a Ray user reaches them (ray.util.state.list_logs/get_log and `ray logs`): a node's
log files, a task's output by its id (on any node, from the head), an actor's, a worker's by
pid, tail and follow, stderr, clear errors, and rotation of the files."""
import os
import subprocess
import sys
import time

import pytest

import photon as ray
from photon._private.cli import bin_dir
from photon.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from photon.util.state import RayStateApiException, get_log, get_task, list_actors, list_logs


def _wait_for(pred, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def _executed(task_ref):
    tid = task_ref.task_id().hex()
    _wait_for(lambda: (t := get_task(tid)) and t.task_log_info and
              t.task_log_info.get("stdout_end") is not None, what="the task's log range")
    return tid


@ray.remote
def chatty(i):
    print(f"out of task {i}")
    print(f"err of task {i}", file=sys.stderr)
    return i


@ray.remote
class Talker:
    def __init__(self):
        print("talker ready")

    def say(self, text):
        print(text)
        return os.getpid()


def test_list_logs_groups_the_nodes_files_by_kind(ray_start_regular):
    ray.get(chatty.remote(0))
    logs = list_logs()
    for kind in ("gcs_server", "raylet", "worker_out", "worker_err", "core_worker", "driver"):
        assert logs.get(kind), (kind, logs)
    assert all(f.endswith(".out") for f in logs["worker_out"])
    only = list_logs(glob_filter="raylet*")
    assert set(only) == {"raylet"}
    node_id = ray.nodes()[0]["NodeID"]
    assert list_logs(node_id=node_id) == list_logs()
    assert list_logs(node_ip="127.0.0.1")["raylet"] == logs["raylet"]


def test_a_tasks_output_is_found_by_its_id(ray_start_regular):
    refs = [chatty.remote(i) for i in range(3)]
    ray.get(refs)
    tid = _executed(refs[1])
    assert "".join(get_log(task_id=tid)) == "out of task 1\n"
    assert "".join(get_log(task_id=tid, suffix="err")) == "err of task 1\n"
    info = get_task(tid).task_log_info
    assert info["stdout_file"].startswith("worker-") and info["stdout_file"].endswith(".out")
    assert info["stdout_end"] - info["stdout_start"] == len("out of task 1\n")
    raw = list(get_log(task_id=tid, encoding=None))
    assert b"".join(raw) == b"out of task 1\n"


def test_an_actors_and_a_pids_output_and_tail(ray_start_regular):
    t = Talker.remote()
    pid = ray.get(t.say.remote("first"))
    ray.get(t.say.remote("second"))
    actor_id = list_actors()[0].actor_id

    def text(**kw):
        return "".join(get_log(**kw))
    out = _wait_for(lambda: (s := text(actor_id=actor_id)) and "second" in s and s,
                    what="the actor's output")
    assert out == "talker ready\nfirst\nsecond\n"  # the workers' task markers left out
    assert text(actor_id=actor_id, tail=1) == "second\n"
    assert text(pid=pid) == out
    assert text(pid=pid, tail=2) == "first\nsecond\n"


def test_follow_yields_what_is_written_later(ray_start_regular):
    t = Talker.remote()
    ray.get(t.say.remote("one"))
    actor_id = list_actors()[0].actor_id
    stream = get_log(actor_id=actor_id, follow=True, _interval=0.1)
    seen = ""
    while "one" not in seen:
        seen += next(stream)
    ray.get(t.say.remote("two"))
    while "two" not in seen:
        seen += next(stream)
    stream.close()
    assert seen.endswith("one\ntwo\n")


def test_a_task_on_another_node_is_read_from_the_head(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    other = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    cluster.connect()
    ref = chatty.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
        other.node_id, soft=False)).remote(7)
    assert ray.get(ref) == 7
    tid = _executed(ref)
    assert get_task(tid).node_id == other.node_id
    assert "".join(get_log(task_id=tid)) == "out of task 7\n"


def test_bad_log_queries_are_named(ray_start_regular):
    with pytest.raises(RayStateApiException, match="say which log"):
        list(get_log())
    with pytest.raises(RayStateApiException, match="only one of"):
        list(get_log(filename="gcs.out", pid=1))
    with pytest.raises(RayStateApiException, match="not a file name of the log folder"):
        list(get_log(filename="../cluster_token"))
    with pytest.raises(RayStateApiException, match="no log file 'nope.out'"):
        list(get_log(filename="nope.out"))
    with pytest.raises(RayStateApiException, match="no task"):
        list(get_log(task_id="ab" * 12))
    with pytest.raises(RayStateApiException, match="not a task id"):
        list(get_log(task_id="xyz"))
    with pytest.raises(RayStateApiException, match="no worker with pid 999999"):
        list(get_log(pid=999999))
    with pytest.raises(RayStateApiException, match="suffix must be"):
        list(get_log(pid=1, suffix="log"))
    with pytest.raises(RayStateApiException, match="no node"):
        list_logs(node_id="ab" * 16)
    with pytest.raises(RayStateApiException, match="no actor"):
        list(get_log(actor_id="ab" * ray.ActorID.size()))


def test_photon_logs_command(ray_start_regular):
    exe = os.path.join(bin_dir(), "photon")
    address = ray.get_runtime_context().gcs_address
    t = Talker.remote()
    pid = ray.get(t.say.remote("from the cli"))
    actor_id = list_actors()[0].actor_id
    ref = chatty.remote(3)
    ray.get(ref)
    tid = _executed(ref)

    def run(*args):
        return subprocess.run([exe, "logs", *args, "--address", address], capture_output=True,
                              text=True, timeout=60)
    listing = run()
    assert listing.returncode == 0, listing.stderr
    assert "raylet:" in listing.stdout and "worker_out:" in listing.stdout
    assert run("gcs.out").returncode == 0
    out = _wait_for(lambda: (r := run("actor", "--id", actor_id)) and
                    "from the cli" in r.stdout and r, what="photon logs actor")
    assert out.stdout == "talker ready\nfrom the cli\n"
    assert run("worker", "--pid", str(pid), "--tail", "1").stdout == "from the cli\n"
    assert run("task", "--id", tid).stdout == "out of task 3\n"
    assert run("task", "--id", tid, "--err").stdout == "err of task 3\n"
    missing = run("nothing-like-this*")
    assert missing.returncode == 1 and "no log file matches" in missing.stderr
    no_id = run("actor")
    assert no_id.returncode == 2 and "give --id" in no_id.stderr


def test_worker_output_rotates_and_the_driver_still_gets_every_line(monkeypatch, shutdown_only,
                                                                     capfd):
    monkeypatch.setenv("PHOTON_LOG_ROTATION_MAX_BYTES", "2000")
    monkeypatch.setenv("PHOTON_LOG_ROTATION_BACKUP_COUNT", "2")
    ray.init(num_cpus=1)

    @ray.remote
    class Printer:
        def burst(self, k):
            for i in range(30):
                print(f"burst {k} line {i:02d} " + "x" * 60)
            return True

    p = Printer.remote()
    for k in range(6):
        ray.get(p.burst.remote(k))
        time.sleep(1.2)  # workers check their files every second
    outs = _wait_for(lambda: [f for f in list_logs().get("worker_out", []) if ".out." in f],
                     what="a rotated worker file")
    assert all(f.rsplit(".", 1)[1] in ("1", "2") for f in outs), outs  # at most 2 backups
    base = outs[0].rsplit(".", 1)[0]
    assert sorted(outs) == [base + ".1", base + ".2"]
    texts = {name: "".join(get_log(filename=name)) for name in (base + ".2", base + ".1", base)}
    for name, text in texts.items():
        assert len(text) <= 2000 + 30 * 80, (name, len(text))  # rotated past 2000 bytes
    assert "burst 5 line 29" in "".join(texts.values())
    assert "burst 0 line 00" not in "".join(texts.values())  # the oldest were dropped
    # Every line reached the driver, across the rotations.
    deadline = time.monotonic() + 10
    printed = ""
    while time.monotonic() < deadline:
        printed += capfd.readouterr().out
        if "burst 5 line 29" in printed:
            break
        time.sleep(0.2)
    for k in range(6):
        for i in range(30):
            assert f"burst {k} line {i:02d}" in printed, (k, i)
