"""The state API as a Ray user calls it (photon.util.state, modeled on Ray's
test_state_api.py) and the `photon list/get/summary` commands: task states
and attempts from task events, filters, limit, detail, summaries, and clear
errors for bad input."""
import json
import os
import subprocess
import time

import pytest

import photon as ray
from photon._private.cli import bin_dir
from photon.util.state import (
    RayStateApiException, get_actor, get_node, get_task, list_actors, list_jobs, list_nodes,
    list_placement_groups, list_tasks, list_workers, summarize_actors, summarize_tasks)


@ray.remote
def f(x):
    return x

@ray.remote
def boom():
    raise ValueError("boom")

@ray.remote
class Counter:
    def incr(self):
        return 1

@ray.remote(max_retries=3)
def flaky(path):
    with open(path, "a") as fh:
        fh.write("x")
    if len(open(path).read()) < 4:
        os._exit(1)
    return "done"

@ray.remote(num_cpus=64)
def too_big():
    return 1

@ray.remote
def wait_for(x):
    return x

@ray.remote
def slow():
    time.sleep(30)

@ray.remote
def a():
    return 1

@ray.remote
def b():
    return 2

@ray.remote(num_cpus=0)
class Named:
    def pid(self):
        return os.getpid()

@ray.remote
def g():
    return 1


def _wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.fixture
def ray_start(monkeypatch):
    monkeypatch.setenv("PHOTON_TASK_EVENTS_REPORT_INTERVAL_MS", "100")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2)
    try:
        yield
    finally:
        ray.shutdown()


def test_task_states_types_and_fields(ray_start):
    ref = f.remote(1)
    assert ray.get(ref) == 1
    with pytest.raises(ValueError):
        ray.get(boom.remote())
    c = Counter.remote()
    ray.get(c.incr.remote())

    tasks = _wait_for(lambda: (lambda t: t if len(t) >= 4 and all(
        x.state in ("FINISHED", "FAILED") for x in t) else None)(list_tasks()))
    by_name = {t.name: t for t in tasks}
    assert by_name["f"].state == "FINISHED" and by_name["f"].type == "NORMAL_TASK"
    assert by_name["boom"].state == "FAILED"
    assert by_name["boom"].error_type == "TASK_EXECUTION_EXCEPTION"
    assert by_name["Counter.incr"].type == "ACTOR_TASK"
    assert by_name["Counter.incr"].func_or_class_name == "Counter.incr"
    assert by_name["Counter.__init__"].type == "ACTOR_CREATION_TASK"
    t = by_name["f"]
    assert t.task_id == ref.task_id().hex()
    assert t.job_id == ray.get_runtime_context().get_job_id()
    assert t.node_id == ray.get_runtime_context().get_node_id()
    assert t.worker_pid > 0 and t.attempt_number == 0
    # Attribute and key access, as Ray's state objects allow.
    assert t["state"] == t.state
    # Without detail, the detail columns are not filled in.
    assert t.events is None and t.required_resources is None
    detailed = list_tasks(filters=[("name", "=", "f")], detail=True)[0]
    assert [e["state"] for e in detailed.events][-1] == "FINISHED"
    assert detailed.required_resources == {"CPU": 1.0}
    assert detailed.start_time_ms <= detailed.end_time_ms
    assert "ValueError" in list_tasks(filters=[("name", "=", "boom")], detail=True)[0].error_message


def test_retried_task_shows_every_attempt(ray_start, tmp_path):
    counter = tmp_path / "attempts"

    ref = flaky.remote(str(counter))
    assert ray.get(ref, timeout=60) == "done"
    attempts = _wait_for(lambda: (lambda a: a if isinstance(a, list) and len(a) == 4 and
                                  a[-1].state == "FINISHED" else None)(get_task(ref)))
    assert [a.attempt_number for a in attempts] == [0, 1, 2, 3]
    assert [a.state for a in attempts] == ["FAILED"] * 3 + ["FINISHED"]
    assert {a.task_id for a in attempts} == {ref.task_id().hex()}
    assert attempts[0].error_type == "WORKER_DIED"


def test_pending_tasks_say_why(ray_start):
    blocker = slow.remote()
    too_big.remote()
    waiting = wait_for.remote(blocker)
    del waiting
    rows = _wait_for(lambda: (lambda t: t if {"too_big", "wait_for"} <= {x.name for x in t}
                              else None)(list_tasks(filters=[("state", "!=", "FINISHED")])))
    by_name = {t.name: t for t in rows}
    assert by_name["too_big"].state == "PENDING_NODE_ASSIGNMENT"
    assert _wait_for(lambda: "infeasible" in (
        list_tasks(filters=[("name", "=", "too_big")])[0].pending_reason or ""))
    assert by_name["wait_for"].state == "PENDING_ARGS_AVAIL"
    # photon status groups the waiting tasks with their reasons.
    status = subprocess.run([os.path.join(bin_dir(), "photon"), "status", "--address",
                             ray.get_runtime_context().gcs_address],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "Pending tasks" in status.stdout
    assert "1 x too_big, PENDING_NODE_ASSIGNMENT: infeasible" in status.stdout
    assert "1 x wait_for, PENDING_ARGS_AVAIL: waiting for its arguments" in status.stdout
    ray.cancel(blocker, force=True)


def test_filters_limit_and_summary(ray_start):
    ray.get([a.remote() for _ in range(5)] + [b.remote() for _ in range(3)])
    _wait_for(lambda: len(list_tasks(filters=[("state", "=", "FINISHED")])) == 8)
    # Keys and values ignore case, as in Ray.
    assert len(list_tasks(filters=[("NAME", "=", "A")])) == 5
    assert len(list_tasks(filters=[("name", "!=", "a")])) == 3
    assert len(list_tasks(filters=[("name", "=", "a"), ("state", "=", "finished")])) == 5
    with pytest.warns(RuntimeWarning, match="limit=2"):
        assert len(list_tasks(limit=2)) == 2
    summary = summarize_tasks()["cluster"]
    assert summary["total_tasks"] == 8
    assert summary["summary"]["a"]["state_counts"] == {"FINISHED": 5}
    assert summary["summary"]["b"]["type"] == "NORMAL_TASK"


def test_bad_input_is_named(ray_start):
    with pytest.raises(RayStateApiException, match="cannot filter tasks on 'nope'"):
        list_tasks(filters=[("nope", "=", "x")])
    with pytest.raises(RayStateApiException, match="predicate '>'"):
        list_tasks(filters=[("state", ">", "x")])
    with pytest.raises(RayStateApiException, match="limit"):
        list_tasks(limit=0)
    with pytest.raises(RayStateApiException, match="not a task id"):
        get_task("not-hex")
    assert get_task("ab" * 24) is None
    assert get_actor("cd" * 16) is None


def test_actors_nodes_jobs_workers_groups(ray_start):
    h = Named.options(name="the_one").remote()
    pid = ray.get(h.pid.remote())
    actors = list_actors(filters=[("name", "=", "the_one")])
    assert len(actors) == 1
    a = actors[0]
    assert a.class_name == "Named" and a.state == "ALIVE" and a.pid == pid
    assert get_actor(a.actor_id).name == "the_one"
    assert summarize_actors()["cluster"]["summary"]["Named"]["state_counts"] == {"ALIVE": 1}
    nodes = list_nodes()
    assert len(nodes) == 1 and nodes[0].state == "ALIVE" and nodes[0].is_head_node
    assert get_node(nodes[0].node_id).node_ip == nodes[0].node_ip
    jobs = list_jobs()
    assert any(j.job_id == ray.get_runtime_context().get_job_id() and j.status == "RUNNING"
               for j in jobs)
    workers = {w.pid: w for w in list_workers()}
    assert workers[os.getpid()].worker_type == "DRIVER"
    assert workers[pid].worker_type == "WORKER" and workers[pid].is_alive
    pg = ray.util.placement_group([{"CPU": 1}], name="g")
    assert pg.wait(30)
    groups = list_placement_groups(filters=[("name", "=", "g")], detail=True)
    assert groups[0].state == "CREATED" and groups[0].bundles[0]["unit_resources"] == {"CPU": 1.0}


def test_cli_list_get_summary(ray_start):
    exe = os.path.join(bin_dir(), "photon")
    address = ray.get_runtime_context().gcs_address

    ref = g.remote()
    ray.get(ref)
    _wait_for(lambda: list_tasks(filters=[("name", "=", "g"), ("state", "=", "FINISHED")]))

    def run(*args):
        return subprocess.run([exe, *args, "--address", address], capture_output=True, text=True,
                              timeout=60)

    out = run("list", "tasks", "--filter", "name=g", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["state"] for r in rows] == ["FINISHED"]
    assert list(rows[0])[:4] == ["task_id", "attempt_number", "name", "state"]
    table = run("list", "tasks", "--limit", "1").stdout.splitlines()
    assert table[0].split()[:3] == ["TASK_ID", "ATTEMPT_NUMBER", "NAME"]
    got = run("get", "tasks", ref.task_id().hex())
    assert got.returncode == 0 and "state: \"FINISHED\"" in got.stdout
    missing = run("get", "actors", "ab" * 16)
    assert missing.returncode != 0 and f"Resource with id={'ab' * 16} not found" in missing.stderr
    summary = run("summary", "tasks")
    assert summary.returncode == 0 and "FINISHED: 1" in summary.stdout
    bad = run("list", "tasks", "--filter", "nope=1")
    assert bad.returncode != 0 and "cannot filter tasks on 'nope'" in bad.stderr


def test_unreachable_cluster_is_named_quickly(monkeypatch):
    monkeypatch.setenv("PHOTON_GCS_CONNECT_TIMEOUT_MS", "1000")
    if ray.is_initialized():
        ray.shutdown()
    start = time.monotonic()
    with pytest.raises(RayStateApiException, match="127.0.0.1:1"):
        list_nodes(address="127.0.0.1:1")
    assert time.monotonic() - start < 15


@ray.remote
def nap(seconds):
    time.sleep(seconds)
    return seconds


def test_timeline_is_a_chrome_trace_of_the_executions(ray_start, tmp_path):
    ray.get([nap.remote(0.2) for _ in range(4)])
    _wait_for(lambda: len(list_tasks(filters=[("name", "=", "nap"),
                                              ("state", "=", "FINISHED")])) == 4)
    events = ray.timeline()
    assert isinstance(events, list)
    execs = [e for e in events if e.get("ph") == "X" and e["name"] == "nap"]
    assert len(execs) == 4
    for e in execs:
        assert e["cat"] == "task:execute"
        assert isinstance(e["ts"], int) and isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert e["dur"] >= 200_000  # microseconds: at least the task's sleep
        assert e["args"]["state"] == "FINISHED" and len(e["args"]["task_id"]) > 0
    # Spans on one worker row never overlap (one task at a time per worker).
    by_row = {}
    for e in execs:
        by_row.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_row.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    # Each row is named; each scheduling span opens before its execution and closes at it.
    names = {(e["pid"], e.get("tid")): e["args"]["name"] for e in events if e.get("ph") == "M"}
    assert all(n.startswith("Worker ") for (p, t), n in names.items() if t is not None)
    assert any(n.startswith("Node ") for (p, t), n in names.items() if t is None)
    begins = {e["id"]: e["ts"] for e in events if e.get("ph") == "b"}
    ends = {e["id"]: e["ts"] for e in events if e.get("ph") == "e"}
    assert begins.keys() == ends.keys() and len(begins) >= 4
    assert all(begins[k] <= ends[k] for k in begins)
    # To a file, and from the CLI: the same JSON.
    path = tmp_path / "trace.json"
    assert ray.timeline(str(path)) is None
    assert json.loads(path.read_text())
    out = subprocess.run([os.path.join(bin_dir(), "photon"), "timeline", "--output",
                          str(tmp_path / "cli.json"), "--address",
                          ray.get_runtime_context().gcs_address],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "cli.json" in out.stdout
    assert len([e for e in json.loads((tmp_path / "cli.json").read_text())
                if e.get("ph") == "X" and e["name"] == "nap"]) == 4


def test_workers_that_ended_are_listed_dead_with_how(ray_start_regular):
    import signal

    @ray.remote(max_restarts=0)
    class Victim:
        def pid(self):
            return os.getpid()

    v = Victim.remote()
    pid = ray.get(v.pid.remote())
    os.kill(pid, signal.SIGKILL)

    def dead():
        rows = [w for w in list_workers(filters=[("is_alive", "=", "False")], detail=True)
                if w.pid == pid]
        return rows[0] if rows else None
    w = _wait_for(dead)
    assert w.state == "DEAD" and w.exit_type == "SYSTEM_ERROR"
    assert "signal 9" in w.exit_detail
    assert w.end_time_ms >= w.start_time_ms
    alive = list_workers(filters=[("is_alive", "=", "True")])
    assert pid not in [x.pid for x in alive] and os.getpid() in [x.pid for x in alive]


def test_actors_show_what_their_creation_asked_for(ray_start):
    from photon.util.placement_group import placement_group
    from photon.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    @ray.remote(num_cpus=0.5)
    class Asker:
        def ping(self):
            return 1

    plain = Asker.options(name="plain_asker").remote()
    ray.get(plain.ping.remote())
    pg = placement_group([{"CPU": 1}])
    ray.get(pg.ready())
    grouped = Asker.options(name="grouped_asker",
                            scheduling_strategy=PlacementGroupSchedulingStrategy(pg)).remote()
    ray.get(grouped.ping.remote())
    rows = {a.name: a for a in list_actors(detail=True)}
    assert rows["plain_asker"].required_resources == {"CPU": 0.5}
    assert rows["plain_asker"].placement_group_id is None
    # In a group: the resources it asked for, not the bundle's names.
    assert rows["grouped_asker"].required_resources == {"CPU": 0.5}
    assert rows["grouped_asker"].placement_group_id == pg.id.hex()
    tasks = list_tasks(filters=[("name", "=", "Asker.__init__")], detail=True)
    assert all(t.required_resources == {"CPU": 0.5} for t in tasks)


def test_call_sites_of_tasks_and_actors_when_recorded(monkeypatch):
    # Off by default (a stack walk per call), on with Ray's env flag.
    monkeypatch.setenv("PHOTON_TASK_EVENTS_REPORT_INTERVAL_MS", "100")
    monkeypatch.setenv("RAY_record_task_actor_creation_sites", "1")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2)
    try:
        assert ray.get(f.remote(1)) == 1  # the task's line
        c = Counter.remote()
        assert ray.get(c.incr.remote()) == 1
        tasks = _wait_for(lambda: (lambda t: t if len(t) >= 3 and all(
            x.state == "FINISHED" for x in t) else None)(list_tasks(detail=True)))
        by_name = {t.name: t for t in tasks}
        for name, kind in (("f", "task call"), ("Counter.__init__", "actor creation"),
                           ("Counter.incr", "actor call")):
            site = by_name[name].call_site
            assert site.startswith(f"({kind}) "), (name, site)
            assert "test_state_api.py" in site
            assert "test_call_sites_of_tasks_and_actors_when_recorded" in site
        [actor] = list_actors(detail=True)
        assert actor.call_site.startswith("(actor creation) ")
    finally:
        ray.shutdown()


def test_call_sites_are_not_recorded_by_default(ray_start):
    assert ray.get(f.remote(1)) == 1
    [t] = _wait_for(lambda: (lambda t: t if t and t[0].state == "FINISHED" else None)(
        list_tasks(detail=True)))
    assert t.call_site is None
