"""photon.serve's reconciler (deployment_state.py) on a fake replica backend:
rolling updates keep capacity, light updates reconfigure in place, dead and
unhealthy replicas are replaced, constructor failures end in DEPLOY_FAILED,
and the autoscaling policy honours its delays."""
import itertools

from photon.serve._private import deployment_state as ds
from photon.serve.deployment import deployment


class Ref:
    def __init__(self, value=None):
        self.done = False
        self.value = value
        self.error = None

    def finish(self, value=None, error=None):
        self.done = True
        self.value = value
        self.error = error


class FakeActor:
    def __init__(self, rid):
        self.rid = rid
        self.init = Ref()
        self.death = Ref()
        self.health = []
        self.reconfigures = []
        self.drains = []
        self.killed = False


class FakeBackend:
    def __init__(self):
        self.actors = []
        self._ids = itertools.count()

    def new_replica_id(self):
        return f"r{next(self._ids)}"

    def start(self, app, dep, rid, spec, rank=0, world_size=1):
        a = FakeActor(rid)
        a.version = spec["code_version"]
        self.actors.append(a)
        return a, a, a.init, a.death

    @staticmethod
    def ready(ref):
        return ref is not None and ref.done

    @staticmethod
    def get(ref):
        if ref.error is not None:
            raise ref.error
        return ref.value

    @staticmethod
    def error_text(e):
        return str(e)

    @staticmethod
    def check_health(actor):
        ref = Ref()
        actor.health.append(ref)
        return ref

    @staticmethod
    def reconfigure(actor, user_config, config):
        ref = Ref()
        actor.reconfigures.append((user_config, ref))
        return ref

    @staticmethod
    def drain(actor, timeout):
        ref = Ref()
        actor.drains.append(ref)
        return ref

    @staticmethod
    def kill(actor):
        actor.killed = True

    def live(self):
        return [a for a in self.actors if not a.killed]


def spec(version="v1", **options):
    if "autoscaling_config" not in options:
        options.setdefault("num_replicas", 1)
    d = deployment(**options)(lambda: None)
    return {"name": "d", "serialized_def": b"", "serialized_args": b"", "is_function": True,
            "config": d.deployment_config(), "code_version": version}


def start_all(backend):
    for a in backend.live():
        if not a.init.done:
            a.init.finish({})


def running(state):
    return [r for r in state.replicas if r.state == ds.RUNNING]


def step(state, now, times=1):
    for _ in range(times):
        state.reconcile(now)


def test_start_to_healthy_and_scale():
    b = FakeBackend()
    s = ds.DeploymentState("app", "d", spec(num_replicas=3), b, 0.0)
    step(s, 0.0)
    assert len(b.actors) == 3 and s.status == ds.S_UPDATING
    start_all(b)
    step(s, 0.1)
    assert len(running(s)) == 3 and s.status == ds.S_HEALTHY
    assert len(s.routing_info()["replicas"]) == 3
    s.deploy(spec(num_replicas=1), 1.0)  # light: no restart, two stop
    step(s, 1.0)
    assert len([r for r in s.replicas if r.state == ds.STOPPING]) == 2
    assert len(s.routing_info()["replicas"]) == 1
    step(s, 1.3)  # after the unpublish grace, they are asked to drain
    for a in b.actors:
        for d in a.drains:
            d.finish(0)
    step(s, 1.4)
    assert len(b.live()) == 1 and s.status == ds.S_HEALTHY


def test_rolling_update_never_drops_below_target():
    b = FakeBackend()
    s = ds.DeploymentState("app", "d", spec("v1", num_replicas=2), b, 0.0)
    step(s, 0.0)
    start_all(b)
    step(s, 0.1)
    s.deploy(spec("v2", num_replicas=2), 1.0)
    now = 1.0
    for _ in range(50):
        step(s, now)
        published = s.routing_info()["replicas"]
        assert len(published) >= 2, "capacity dropped during the rollout"
        # New replicas start one at a time; the old ones drain when asked.
        for a in b.live():
            if a.version == "v2" and not a.init.done:
                a.init.finish({})
            for d in a.drains:
                if not d.done:
                    d.finish(0)
        now += 0.3
    assert {a.version for a in b.live()} == {"v2"} and len(b.live()) == 2
    assert s.status == ds.S_HEALTHY


def test_user_config_change_reconfigures_in_place():
    b = FakeBackend()
    s = ds.DeploymentState("app", "d", spec(user_config={"a": 1}), b, 0.0)
    step(s, 0.0)
    start_all(b)
    step(s, 0.1)
    s.deploy(spec(user_config={"a": 2}), 1.0)
    actor = b.actors[0]
    assert actor.reconfigures and actor.reconfigures[0][0] == {"a": 2}
    actor.reconfigures[0][1].finish(True)
    step(s, 1.1)
    assert len(b.actors) == 1 and s.status == ds.S_HEALTHY


def test_dead_and_unhealthy_replicas_are_replaced():
    b = FakeBackend()
    s = ds.DeploymentState("app", "d", spec(num_replicas=1, health_check_period_s=1,
                                            health_check_timeout_s=1), b, 0.0)
    step(s, 0.0)
    start_all(b)
    step(s, 0.1)
    b.actors[0].death.finish(error=RuntimeError("died"))
    step(s, 0.2)
    assert b.actors[0].killed and len(b.actors) == 2
    start_all(b)
    step(s, 0.3)
    assert s.status == ds.S_HEALTHY
    second = b.actors[1]
    now = 0.3
    for _ in range(3):  # three failed health checks in a row
        now += 1.1
        step(s, now)
        second.health[-1].finish(error=RuntimeError("bad"))
        step(s, now)
    step(s, now)
    assert second.killed and len(b.actors) == 3


def test_constructor_failures_end_in_deploy_failed():
    b = FakeBackend()
    s = ds.DeploymentState("app", "d", spec(num_replicas=1), b, 0.0)
    for i in range(10):
        step(s, i)
        for a in b.live():
            if not a.init.done:
                a.init.finish(error=ValueError("boom in __init__"))
    step(s, 11)
    assert s.status == ds.S_DEPLOY_FAILED and "boom in __init__" in s.message
    assert len(b.actors) == 3  # min(20, 3 x 1) attempts


def test_autoscaling_delays_and_zero():
    b = FakeBackend()
    auto = {"min_replicas": 0, "max_replicas": 4, "initial_replicas": 1,
            "target_ongoing_requests": 2, "upscale_delay_s": 1, "downscale_delay_s": 5,
            "metrics_interval_s": 0.1, "look_back_period_s": 1}
    s = ds.DeploymentState("app", "d", spec(autoscaling_config=auto), b, 0)
    assert s.target_num == 1
    s.autoscale(8, 0.0)
    assert s.target_num == 1  # wanted, not yet for upscale_delay_s
    s.autoscale(8, 1.0)
    assert s.target_num == 4 and s.status == ds.S_UPSCALING
    s.autoscale(0, 2.0)
    s.autoscale(0, 6.9)
    assert s.target_num == 4
    s.autoscale(0, 7.0)
    assert s.target_num == 0
    s.autoscale(1, 7.1)  # from zero: at once
    assert s.target_num == 1


def test_total_ongoing_averages_per_handle_and_drops_stale():
    samples = {"h1": [(0.0, 4), (0.5, 2)], "h2": [(0.9, 1)], "old": [(-10, 100)]}
    assert ds.total_ongoing_from(samples, 1.0, 1.0) == 3 + 1
    assert "old" not in samples
