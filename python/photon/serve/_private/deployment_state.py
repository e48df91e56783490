"""One deployment's desired state and the replicas that realize it.

`DeploymentState.reconcile(now)` is called by the controller's loop: it
looks at each replica's pending calls without blocking (started? dead?
healthy? stopped?), then starts, updates and stops replicas until the
running ones are `target_num` replicas of the target version:

- a new code version rolls over: up to max(1, 20% of the target) new
  replicas beyond the target start first, and an old replica stops only while
  the running ones number more than the target, so capacity never drops;
- a new config of the same code (user_config, max_ongoing_requests, ...)
  reconfigures the running replicas in place;
- a replica whose process dies, or whose check_health fails 3 times in a row
  (or times out), is replaced; one whose constructor fails is retried, and
  after min(20, 3 x target) failures with none running the deployment is
  DEPLOY_FAILED;
- a replica stops gracefully: it leaves the routing table, finishes its
  requests (up to graceful_shutdown_timeout_s), runs __del__, then is killed.

The replica processes are reached through a backend (ReplicaBackend below in
production, a fake in unit tests). Threading: only the controller's loop
thread calls into a DeploymentState (the controller's lock is held).
"""
import math

from photon.serve._private import constants
from photon.serve.config import AutoscalingConfig

# Replica states (Ray Serve's names).
STARTING = "STARTING"
UPDATING = "UPDATING"
RUNNING = "RUNNING"
STOPPING = "STOPPING"

# Deployment statuses and triggers (Ray Serve's names).
S_UPDATING = "UPDATING"
S_HEALTHY = "HEALTHY"
S_UNHEALTHY = "UNHEALTHY"
S_DEPLOY_FAILED = "DEPLOY_FAILED"
S_UPSCALING = "UPSCALING"
S_DOWNSCALING = "DOWNSCALING"

T_CONFIG_UPDATE_STARTED = "CONFIG_UPDATE_STARTED"
T_CONFIG_UPDATE_COMPLETED = "CONFIG_UPDATE_COMPLETED"
T_UPSCALE_COMPLETED = "UPSCALE_COMPLETED"
T_DOWNSCALE_COMPLETED = "DOWNSCALE_COMPLETED"
T_AUTOSCALING = "AUTOSCALING"
T_REPLICA_STARTUP_FAILED = "REPLICA_STARTUP_FAILED"
T_HEALTH_CHECK_FAILED = "HEALTH_CHECK_FAILED"
T_DELETING = "DELETING"

# How long a stopping replica stays out of the routing table before it is
# asked to drain, so that routers stop sending to it first.
_UNPUBLISH_GRACE_S = 0.2
# Beyond graceful_shutdown_timeout_s, how long a drain call may take before
# the replica is killed anyway.
_DRAIN_SLACK_S = 5.0

# Of the options a running replica takes without a restart, those the replica
# itself acts on (the others only the controller and routers use).
_REPLICA_KEYS = ("user_config", "max_ongoing_requests")


def replica_actor_name(app_name, deployment_name, replica_id):
    return f"{constants.REPLICA_NAME_PREFIX}::{app_name}#{deployment_name}#{replica_id}"


class Replica:
    __slots__ = ("replica_id", "actor", "version", "config", "state", "init_ref", "death_ref",
                 "health_ref", "health_deadline", "next_health", "health_failures",
                 "reconfigure_ref", "stop_at", "drain_ref", "drain_deadline", "graceful",
                 "started_at", "handle", "info", "rank")

    def __init__(self, replica_id, version, config, now):
        self.replica_id = replica_id
        self.version = version
        self.config = config
        self.state = STARTING
        self.actor = None
        self.handle = None
        self.init_ref = None
        self.death_ref = None
        self.health_ref = None
        self.health_deadline = 0.0
        self.next_health = 0.0
        self.health_failures = 0
        self.reconfigure_ref = None
        self.stop_at = 0.0
        self.drain_ref = None
        self.drain_deadline = 0.0
        self.graceful = True
        self.started_at = now
        self.info = {}  # what the replica's initialize() returned (pid, node, ...)
        self.rank = 0


class DeploymentState:
    def __init__(self, app_name, name, spec, backend, now):
        self.app_name = app_name
        self.name = name
        self._backend = backend
        self.replicas = []
        self.status = S_UPDATING
        self.trigger = T_CONFIG_UPDATE_STARTED
        self.message = ""
        self.deleting = False
        self._startup_failures = 0
        self._ever_healthy = False
        self._want = None  # (num, since) an autoscaling decision waiting for its delay
        self.spec = None
        self.config = None
        self.target_num = 0
        self.deploy(spec, now)

    # -- desired state -------------------------------------------------------
    def deploy(self, spec, now):
        """Takes a new spec (a redeploy): a new code version rolls the
        replicas over; a new config of the same code reconfigures them."""
        old_config = self.config
        self.spec = spec
        self.config = spec["config"]
        self.deleting = False
        self._startup_failures = 0
        auto = self.autoscaling()
        if auto is not None:
            if old_config is None or old_config.get("autoscaling_config") is None:
                self.target_num = auto.initial()
            else:
                self.target_num = max(auto.min_replicas, min(auto.max_replicas,
                                                            self.target_num))
        else:
            self.target_num = self.config["num_replicas"]
        self._want = None
        self.status = S_UPDATING
        self.trigger = T_CONFIG_UPDATE_STARTED
        self.message = ""
        if old_config is not None:
            for r in self.replicas:
                if r.state not in (RUNNING, UPDATING) or r.version != spec["code_version"]:
                    continue
                if any(r.config.get(k) != self.config.get(k) for k in _REPLICA_KEYS):
                    self._reconfigure(r, now)
                else:
                    r.config = self.config  # only the controller acts on what changed

    def delete(self):
        self.deleting = True
        self.target_num = 0
        self.status = S_UPDATING
        self.trigger = T_DELETING

    def autoscaling(self):
        ac = self.config.get("autoscaling_config")
        return AutoscalingConfig.coerce(ac) if ac is not None else None

    # -- what routers see ------------------------------------------------------
    def routing_info(self):
        """The long-poll value of this deployment's routers."""
        replicas = [(r.replica_id, r.handle, r.config["max_ongoing_requests"])
                    for r in self.replicas if r.state in (RUNNING, UPDATING)]
        auto = self.autoscaling()
        return {
            "replicas": replicas,
            "max_queued_requests": self.config["max_queued_requests"],
            "status": self.status,
            "autoscaling": None if auto is None else {
                "metrics_interval_s": auto.metrics_interval_s,
                "look_back_period_s": auto.look_back_period_s},
        }

    def routing_key(self):
        """What routers care about in routing_info (to skip no-op updates)."""
        auto = self.config.get("autoscaling_config")
        return (tuple((r.replica_id, r.config["max_ongoing_requests"]) for r in self.replicas
                      if r.state in (RUNNING, UPDATING)),
                self.config["max_queued_requests"], self.status == S_DEPLOY_FAILED,
                None if auto is None else (auto["metrics_interval_s"],
                                           auto["look_back_period_s"]))

    # -- autoscaling -------------------------------------------------------------
    def autoscale(self, total_ongoing, now):
        """Applies the autoscaling policy to `total_ongoing` (the requests
        queued and running, summed over handles)."""
        auto = self.autoscaling()
        if auto is None or self.deleting or self.status == S_DEPLOY_FAILED:
            return
        current = self.target_num
        desired = auto.desired(current, total_ongoing)
        if desired == current:
            self._want = None
            return
        if self._want is None or (self._want[0] > current) != (desired > current):
            self._want = (desired, now)
        else:
            self._want = (desired, self._want[1])
        if desired > current:
            delay = 0.0 if current == 0 else auto.upscale_delay_s
        elif desired == 0 and auto.downscale_to_zero_delay_s is not None:
            delay = auto.downscale_to_zero_delay_s
        else:
            delay = auto.downscale_delay_s
        if now - self._want[1] >= delay:
            self.status = S_UPSCALING if desired > current else S_DOWNSCALING
            self.trigger = T_AUTOSCALING
            self.target_num = desired
            self._want = None

    # -- the reconciler ------------------------------------------------------------
    def reconcile(self, now):
        """One step toward the desired state; True if what routers see may
        have changed."""
        changed = False
        changed |= self._check_started(now)
        changed |= self._check_dead()
        changed |= self._check_health(now)
        self._check_reconfigured()
        changed |= self._scale(now)
        self._check_stopping(now)
        self._update_status()
        return changed

    def _new_replica(self, now):
        replica_id = self._backend.new_replica_id()
        r = Replica(replica_id, self.spec["code_version"], self.config, now)
        used = {x.rank for x in self.replicas
                if x.state != STOPPING and x.version == self.spec["code_version"]}
        r.rank = next(i for i in range(len(used) + 1) if i not in used)
        try:
            r.actor, r.handle, r.init_ref, r.death_ref = self._backend.start(
                self.app_name, self.name, replica_id, self.spec, r.rank,
                max(self.target_num, r.rank + 1))
        except Exception as e:  # noqa: BLE001 - e.g. bad ray_actor_options
            self._startup_failures += 1
            self.message = (f"Failed to start a replica of deployment '{self.name}' in "
                            f"application '{self.app_name}': {e}")
            return None
        self.replicas.append(r)
        return r

    def _failure_limit(self):
        return min(constants.MAX_CONSTRUCTOR_RETRIES,
                   constants.MAX_CONSTRUCTOR_RETRIES_PER_REPLICA * max(1, self.target_num))

    def _check_started(self, now):
        changed = False
        for r in list(self.replicas):
            if r.state != STARTING or not self._backend.ready(r.init_ref):
                continue
            try:
                r.info = self._backend.get(r.init_ref) or {}
            except Exception as e:  # noqa: BLE001 - the constructor's error
                self._startup_failures += 1
                self.message = (f"The deployment '{self.name}' in application "
                                f"'{self.app_name}' failed to start a replica: "
                                f"{self._backend.error_text(e)}")
                self.trigger = T_REPLICA_STARTUP_FAILED
                self._backend.kill(r.actor)
                self.replicas.remove(r)
                continue
            r.state = RUNNING
            r.next_health = now + r.config["health_check_period_s"]
            changed = True
        return changed

    def _check_dead(self):
        changed = False
        for r in list(self.replicas):
            if not self._backend.ready(r.death_ref):
                continue
            # wait_until_dead never returns: a result means the process died.
            if r.state == STARTING:
                self._startup_failures += 1
                self.message = (f"A replica of deployment '{self.name}' in application "
                                f"'{self.app_name}' died while starting.")
                self.trigger = T_REPLICA_STARTUP_FAILED
            elif r.state in (RUNNING, UPDATING):
                changed = True
                if self.status == S_HEALTHY:
                    self.status = S_UNHEALTHY
                    self.trigger = T_HEALTH_CHECK_FAILED
                    self.message = (f"A replica of deployment '{self.name}' died; it is "
                                    "being replaced.")
            self._backend.kill(r.actor)
            self.replicas.remove(r)
        return changed

    def _check_health(self, now):
        changed = False
        for r in self.replicas:
            if r.state not in (RUNNING, UPDATING):
                continue
            if r.health_ref is not None:
                if self._backend.ready(r.health_ref):
                    try:
                        self._backend.get(r.health_ref)
                        r.health_failures = 0
                    except Exception as e:  # noqa: BLE001 - check_health raised
                        r.health_failures += 1
                        self.message = (f"A replica of deployment '{self.name}' failed its "
                                        f"health check: {self._backend.error_text(e)}")
                    r.health_ref = None
                elif now >= r.health_deadline:
                    r.health_failures += 1
                    self.message = (f"A replica of deployment '{self.name}' did not answer "
                                    f"its health check within "
                                    f"{r.config['health_check_timeout_s']}s.")
                    r.health_ref = None
                if r.health_failures >= constants.HEALTH_CHECK_FAILURES_BEFORE_REPLACE:
                    if self.status == S_HEALTHY:
                        self.status = S_UNHEALTHY
                    self.trigger = T_HEALTH_CHECK_FAILED
                    self._stop(r, now, graceful=False)
                    changed = True
            elif now >= r.next_health:
                r.health_ref = self._backend.check_health(r.actor)
                r.health_deadline = now + r.config["health_check_timeout_s"]
                r.next_health = now + r.config["health_check_period_s"]
        return changed

    def _reconfigure(self, r, now):
        user_config = self.config.get("user_config")
        changed_user = user_config != r.config.get("user_config")
        r.config = self.config
        r.state = UPDATING
        r.reconfigure_ref = self._backend.reconfigure(
            r.actor, user_config if changed_user else None, self.config)

    def _check_reconfigured(self):
        for r in self.replicas:
            if r.state == UPDATING and self._backend.ready(r.reconfigure_ref):
                try:
                    self._backend.get(r.reconfigure_ref)
                    r.state = RUNNING
                except Exception as e:  # noqa: BLE001 - reconfigure raised
                    self.message = (f"reconfigure of a replica of deployment '{self.name}' "
                                    f"failed: {self._backend.error_text(e)}")
                    self._stop(r, 0.0, graceful=False)
                r.reconfigure_ref = None

    def _stop(self, r, now, graceful=True):
        r.state = STOPPING
        r.graceful = graceful
        r.stop_at = now + (_UNPUBLISH_GRACE_S if graceful else 0.0)

    def _scale(self, now):
        changed = False
        version = self.spec["code_version"]
        active = [r for r in self.replicas if r.state != STOPPING]
        old = [r for r in active if r.version != version]
        new = [r for r in active if r.version == version]
        # Old replicas that never started are of no use.
        for r in [r for r in old if r.state == STARTING]:
            self._stop(r, now, graceful=False)
            old.remove(r)
        target = self.target_num
        failed = self._startup_failures >= self._failure_limit() and \
            not any(r.state != STARTING for r in new)
        if failed:
            self.status = S_DEPLOY_FAILED
        surge = max(1, int(constants.ROLLING_UPDATE_FRACTION * target)) if old else 0
        if not failed:
            while len(new) < target and len(new) + len(old) < target + surge:
                r = self._new_replica(now)
                if r is None:
                    break
                new.append(r)
        running_new = sum(1 for r in new if r.state in (RUNNING, UPDATING))
        excess = running_new + len(old) - target
        if target == 0:
            excess = len(old)
        for r in old[:max(0, min(excess, len(old)))]:
            self._stop(r, now)
            changed = True
        if len(new) > target:
            extra = len(new) - target
            order = [r for r in new if r.state == STARTING][::-1] + \
                [r for r in new if r.state != STARTING][::-1]
            for r in order[:extra]:
                changed |= r.state != STARTING
                self._stop(r, now, graceful=r.state != STARTING)
        return changed

    def _check_stopping(self, now):
        for r in list(self.replicas):
            if r.state != STOPPING:
                continue
            if not r.graceful:
                self._backend.kill(r.actor)
                self.replicas.remove(r)
                continue
            if r.drain_ref is None:
                if now >= r.stop_at:
                    timeout = r.config["graceful_shutdown_timeout_s"]
                    r.drain_ref = self._backend.drain(r.actor, timeout)
                    r.drain_deadline = now + timeout + _DRAIN_SLACK_S
                continue
            if self._backend.ready(r.drain_ref) or self._backend.ready(r.death_ref) or \
                    now >= r.drain_deadline:
                self._backend.kill(r.actor)
                self.replicas.remove(r)

    def _update_status(self):
        if self.status == S_DEPLOY_FAILED:
            return
        version = self.spec["code_version"]
        running = [r for r in self.replicas
                   if r.state == RUNNING and r.version == version]
        others = [r for r in self.replicas if r.state != STOPPING and
                  (r.version != version or r.state != RUNNING)]
        if len(running) == self.target_num and not others:
            if self.status != S_HEALTHY:
                self.trigger = {S_UPSCALING: T_UPSCALE_COMPLETED,
                                S_DOWNSCALING: T_DOWNSCALE_COMPLETED}.get(
                                    self.status, T_CONFIG_UPDATE_COMPLETED)
                self.status = S_HEALTHY
                self.message = ""
                self._ever_healthy = True
                self._startup_failures = 0

    def done_deleting(self):
        return self.deleting and not self.replicas

    def replica_states(self):
        out = {}
        for r in self.replicas:
            out[r.state] = out.get(r.state, 0) + 1
        return out

    def details(self):
        """This deployment as the dashboard's Serve API shows it (Ray's
        DeploymentDetails fields)."""
        cfg = self.config
        return {
            "name": self.name,
            "status": self.status,
            "status_trigger": self.trigger,
            "message": self.message,
            "target_num_replicas": self.target_num,
            "required_resources": {"CPU": (cfg.get("ray_actor_options") or {}).get("num_cpus", 1)},
            "deployment_config": {
                "name": self.name,
                "num_replicas": cfg.get("num_replicas"),
                "max_ongoing_requests": cfg.get("max_ongoing_requests"),
                "max_queued_requests": cfg.get("max_queued_requests"),
                "user_config": cfg.get("user_config"),
                "autoscaling_config": cfg.get("autoscaling_config"),
                "graceful_shutdown_wait_loop_s": cfg.get("graceful_shutdown_wait_loop_s"),
                "graceful_shutdown_timeout_s": cfg.get("graceful_shutdown_timeout_s"),
                "health_check_period_s": cfg.get("health_check_period_s"),
                "health_check_timeout_s": cfg.get("health_check_timeout_s"),
                "ray_actor_options": cfg.get("ray_actor_options"),
            },
            "replicas": [{
                "replica_id": r.replica_id,
                "state": r.state,
                "pid": r.info.get("pid"),
                "actor_name": replica_actor_name(self.app_name, self.name, r.replica_id),
                "actor_id": r.info.get("actor_id"),
                "worker_id": r.info.get("worker_id"),
                "node_id": r.info.get("node_id"),
                "start_time_s": r.started_at,
            } for r in self.replicas],
        }

    def docs_path(self):
        for r in self.replicas:
            if r.info.get("docs_path"):
                return r.info["docs_path"]
        return None

    def stop_all_now(self):
        for r in self.replicas:
            self._backend.kill(r.actor)
        self.replicas = []


def total_ongoing_from(samples, now, look_back_s):
    """The autoscaling load of one deployment: for each handle, the mean of
    its samples in the look-back window; summed over handles. `samples` maps
    handle id -> [(timestamp, value)]; stale handles are dropped from it."""
    total = 0.0
    for handle_id in list(samples):
        points = [(t, v) for t, v in samples[handle_id] if t >= now - look_back_s]
        if not points:
            del samples[handle_id]
            continue
        samples[handle_id] = points
        total += sum(v for _, v in points) / len(points)
    return total if math.isfinite(total) else 0.0
