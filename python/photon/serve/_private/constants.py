"""Names and defaults of photon.serve, declared once (Ray Serve's values)."""

SERVE_NAMESPACE = "serve"
CONTROLLER_NAME = "SERVE_CONTROLLER_ACTOR"
PROXY_NAME_PREFIX = "SERVE_PROXY_ACTOR"
REPLICA_NAME_PREFIX = "SERVE_REPLICA"

DEFAULT_APP_NAME = "default"
DEFAULT_HTTP_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 8000

DEFAULT_MAX_ONGOING_REQUESTS = 5
DEFAULT_MAX_QUEUED_REQUESTS = -1  # unbounded
DEFAULT_HEALTH_CHECK_PERIOD_S = 10.0
DEFAULT_HEALTH_CHECK_TIMEOUT_S = 30.0
DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_S = 20.0
DEFAULT_GRACEFUL_SHUTDOWN_WAIT_LOOP_S = 2.0
# A replica is replaced after this many health checks in a row fail.
HEALTH_CHECK_FAILURES_BEFORE_REPLACE = 3
# A deployment whose replicas fail to start this many times (per target
# replica, capped) before any starts is DEPLOY_FAILED.
MAX_CONSTRUCTOR_RETRIES_PER_REPLICA = 3
MAX_CONSTRUCTOR_RETRIES = 20
# Of a deployment's target replicas, this fraction (at least one) may be
# started beyond the target or stopped at once during a rolling update.
ROLLING_UPDATE_FRACTION = 0.2

CONTROL_LOOP_INTERVAL_S = 0.1
# How long a long-poll call waits for a change before returning nothing.
LONG_POLL_TIMEOUT_S = 5.0
# How often a handle samples its queued and in-flight requests (autoscaling).
HANDLE_METRICS_SAMPLE_S = 0.1
# A request whose replica died before answering is sent to another replica
# this many times before its caller sees the error.
MAX_REPLICA_DEATH_RETRIES = 3

# The HTTP header that names a multiplexed model.
MULTIPLEXED_MODEL_ID_HEADER = "serve_multiplexed_model_id"
DEFAULT_MAX_MODELS_PER_REPLICA = 3
