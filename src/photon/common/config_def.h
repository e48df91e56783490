// The one table of Photon's tunables. Each row:
//   PHOTON_CONFIG(type, name, default, "one-line doc")
// Every row can be set by the environment variable PHOTON_<NAME> (upper case)
// and by name through SystemConfig::Set (init options, command-line flags).
// docs/config.md lists this table; a test keeps the two in step.
// No include guard: included with PHOTON_CONFIG defined by the includer.
// clang-format off: one row per line keeps the table readable.
// clang-format off

// --- cluster and session ---
PHOTON_CONFIG(std::string, address, "", "GCS address (host:port) to join; empty starts a private local cluster")
PHOTON_CONFIG(std::string, session_dir_root, "/tmp/photon", "Folder under which each session gets its own directory (logs, sockets, spill files)")
PHOTON_CONFIG(std::string, bin_dir, "", "Folder holding photon-gcs and photon-raylet; empty: found beside the Photon library")
PHOTON_CONFIG(std::string, job_namespace, "", "Namespace of the job; empty gives a random one")
PHOTON_CONFIG(std::string, log_level, "info", "Log level: trace, debug, info, warn, error, critical or off")
PHOTON_CONFIG(bool, log_to_driver, true, "Forward what tasks and actors print to the driver's console")
PHOTON_CONFIG(bool, mutex_deadlock_detection, false, "Check the order of every lock taken against a process-wide graph and abort on a potential deadlock (abseil's detector: slow; the tests turn it on)")
PHOTON_CONFIG(std::string, auth_mode, "token", "'token': a cluster's processes authenticate every RPC and store connection with the cluster token; 'disabled': no authentication (only for a cluster nobody else can reach)")
PHOTON_CONFIG(std::string, cluster_token, "", "The cluster's token (docs/security.md); empty: the token of the cluster started on this host (found in its session folder), or a new one for a cluster this process starts")

// --- GCS ---
PHOTON_CONFIG(std::string, redis_address, "", "Redis server (host:port) in which the GCS keeps its tables, so that a restarted GCS recovers the cluster (docs/fault-tolerance.md); empty: in memory, lost with the GCS")
PHOTON_CONFIG(std::string, redis_password, "", "Password the GCS gives Redis (AUTH); empty: none")
PHOTON_CONFIG(std::string, external_storage_namespace, "default", "Prefix of the GCS's keys in Redis, so that clusters sharing one Redis keep apart")
PHOTON_CONFIG(int64_t, health_check_period_ms, 1000, "How often the GCS checks that each raylet answers")
PHOTON_CONFIG(int64_t, health_check_timeout_ms, 1000, "How long one health check may take before it counts as failed")
PHOTON_CONFIG(int64_t, health_check_failure_threshold, 3, "Failed health checks in a row after which a node is marked dead")
PHOTON_CONFIG(int64_t, gcs_connect_timeout_ms, 5000, "How long a client keeps trying to reach the GCS before it fails")
PHOTON_CONFIG(int64_t, gcs_rpc_timeout_ms, 10000, "Deadline of one attempt of a call to the GCS")
PHOTON_CONFIG(int64_t, gcs_rpc_retry_deadline_ms, 60000, "How long a call to the GCS that fails transiently (unreachable, overloaded) is tried again before it fails")
PHOTON_CONFIG(int64_t, pubsub_poll_timeout_ms, 10000, "How long the GCS holds a subscriber's long poll open when there is nothing new")

// --- observability ---
PHOTON_CONFIG(bool, enable_task_events, true, "Record each task's and actor call's state transitions and send them to the GCS for the state API (list_tasks, timeline)")
PHOTON_CONFIG(int64_t, task_events_report_interval_ms, 1000, "How often a core worker sends the task events it recorded to the GCS")
PHOTON_CONFIG(int64_t, task_events_max_buffer_size, 100000, "Task state transitions a core worker keeps before sending; more are dropped and counted")
PHOTON_CONFIG(int64_t, task_events_max_num_task_in_gcs, 100000, "Task attempts the GCS keeps for the state API; beyond it the oldest finished go first, and the drops are counted")
PHOTON_CONFIG(bool, record_ref_creation_sites, false, "Record where each object reference was created (the Python call site of ray.put or .remote) for the memory view (photon memory, list_objects call_site); costs a stack walk per created reference")
PHOTON_CONFIG(bool, record_task_actor_creation_sites, false, "Record where each task, actor and actor call was made (the Python call site of .remote) for the state API (list_tasks and list_actors call_site); costs a stack walk per call")
PHOTON_CONFIG(bool, enable_metrics_collection, true, "Every raylet serves its node's metrics (its own, its workers', the GCS's on the head) on an HTTP /metrics endpoint in the Prometheus text format")
PHOTON_CONFIG(int64_t, metrics_scrape_timeout_ms, 2000, "How long a /metrics scrape waits for each process of the node; one that does not answer is left out of that scrape")

// --- dashboard, jobs, runtime environments (the Python package photon.dashboard) ---
PHOTON_CONFIG(bool, include_dashboard, true, "Start the dashboard (web UI and jobs REST API; needs starlette and uvicorn) with the head node of photon start --head and of the local cluster of photon.init()")
PHOTON_CONFIG(std::string, dashboard_host, "127.0.0.1", "Interface the dashboard listens on")
PHOTON_CONFIG(int64_t, dashboard_port, 8265, "Port of the dashboard; the local cluster of photon.init() takes the next free port when this one is taken and the port was not asked for")
PHOTON_CONFIG(int64_t, job_stop_wait_time_s, 3, "After stop_job's SIGTERM, how long a job's entrypoint has to exit before it is killed (SIGKILL)")
PHOTON_CONFIG(std::string, job_config_json, "", "Set by a job's supervisor in its entrypoint's environment: the submission id, runtime_env and metadata that the entrypoint's photon.init() gives its job (JSON)")
PHOTON_CONFIG(std::string, runtime_env, "", "Set in a worker's environment by its driver: the runtime_env its tasks run in (working_dir and py_modules as package URIs, pip), as JSON; workers with different values never share a process")
PHOTON_CONFIG(int64_t, runtime_env_working_dir_max_bytes, 256LL * 1024 * 1024, "Largest packed size (zip bytes) of a runtime_env working_dir or py_modules entry; a larger one is refused when the task, actor or job is submitted")

// --- RPC between raylets and core workers ---
PHOTON_CONFIG(int64_t, rpc_timeout_ms, 10000, "Deadline of one attempt of a control call between raylets and core workers (not task pushes or lease requests, which wait for work)")
PHOTON_CONFIG(int64_t, rpc_retry_deadline_ms, 60000, "How long a control call to a peer that is not known to be dead is tried again after transient failures")
PHOTON_CONFIG(int64_t, rpc_retry_initial_backoff_ms, 100, "First wait before a failed call is tried again (it doubles up to rpc_retry_max_backoff_ms)")
PHOTON_CONFIG(int64_t, rpc_retry_max_backoff_ms, 2000, "Longest wait between two attempts of a failed call")
PHOTON_CONFIG(int64_t, server_shutdown_grace_ms, 50, "How long a stopping process waits for the calls it is still serving before it ends them")
PHOTON_CONFIG(int64_t, shutdown_rpc_timeout_ms, 2000, "Deadline of the calls a process makes while it stops (unregistering, marking its job finished)")
PHOTON_CONFIG(std::string, testing_rpc_failure, "", "Testing only: injected RPC failures, 'Method=request_prob:reply_prob,...' (a request failure drops the call, a reply failure loses the reply after the call ran)")

// --- raylet, scheduling, workers ---
PHOTON_CONFIG(double, scheduler_spread_threshold, 0.5, "Default policy: a node whose utilization is below this counts as idle, and the local node is kept while it is")
PHOTON_CONFIG(double, scheduler_top_k_fraction, 0.2, "Default policy: the share of the least-loaded feasible nodes among which one is picked at random")
PHOTON_CONFIG(int64_t, scheduler_top_k_absolute, 1, "Default policy: the least number of nodes to pick among")
PHOTON_CONFIG(int64_t, worker_register_timeout_ms, 30000, "How long a started worker has to register with its raylet before it is stopped")
PHOTON_CONFIG(int64_t, worker_maximum_startup_concurrency, 0, "Most workers a raylet starts at once (started, not yet registered); 0: the node's CPU count")
PHOTON_CONFIG(int64_t, worker_lease_timeout_ms, 500, "How long an owner keeps an idle leased worker before returning it")
PHOTON_CONFIG(int64_t, max_lineage_bytes, 1073741824, "An owner keeps the specs of finished retriable tasks whose returns live in a store, up to this many bytes (oldest dropped first), to rebuild a return whose every copy was lost; 0 keeps none")
PHOTON_CONFIG(double, memory_usage_threshold, 0.95, "Out-of-memory prevention: when the node's memory use is above this fraction, the raylet kills a worker (retriable work first, the newest lease of the owner with the most) and its task fails with OutOfMemoryError or is retried")
PHOTON_CONFIG(int64_t, memory_monitor_refresh_ms, 250, "How often the raylet checks the node's memory use; 0 turns out-of-memory prevention off")
PHOTON_CONFIG(int64_t, memory_monitor_capacity_bytes, 0, "Count the node as having this much memory, used by its workers' resident memory (tests, nodes sharing a machine); 0: the machine's or its cgroup's memory")
PHOTON_CONFIG(int64_t, idle_worker_kill_ms, 1000, "Idle time after which workers above the soft limit are stopped")
PHOTON_CONFIG(int64_t, worker_reap_period_ms, 20, "How often a raylet collects the exit status of its workers that ended")
PHOTON_CONFIG(int64_t, raylet_tick_period_ms, 100, "How often a raylet reports changed resources, refreshes its view of the cluster, moves queued leases to free nodes and stops idle workers")
PHOTON_CONFIG(int64_t, resource_report_period_ms, 1000, "How often a raylet reports its resources to the GCS even when they did not change")
PHOTON_CONFIG(int64_t, driver_check_period_ms, 1000, "How often a raylet checks that the drivers it serves are alive")
PHOTON_CONFIG(int64_t, log_monitor_period_ms, 50, "How often a raylet reads new output from its workers' log files")
PHOTON_CONFIG(int64_t, log_rotation_max_bytes, 512LL * 1024 * 1024, "A log file (a process's .log, a worker's or daemon's .out and .err) larger than this is rotated: it becomes <file>.1 and writing goes on in a new file (0: never)")
PHOTON_CONFIG(int64_t, log_rotation_backup_count, 5, "Rotated log files kept per log (<file>.1 is the newest); 0 truncates instead")
PHOTON_CONFIG(int64_t, lease_retry_delay_ms, 500, "After a lease request failed, how long an owner (or the GCS, for an actor) waits before asking again")
PHOTON_CONFIG(int64_t, infeasible_retry_delay_ms, 1000, "How often a task or actor that no node can run asks again (a node that fits may join)")
PHOTON_CONFIG(int64_t, placement_group_retry_delay_ms, 200, "How long the GCS waits before it tries again to place a placement group that did not fit or whose reservation failed")

// --- tasks and objects ---
PHOTON_CONFIG(int64_t, task_max_retries, 3, "Default number of retries of a task whose worker died (-1: infinite)")
PHOTON_CONFIG(int64_t, max_direct_call_object_size, 102400, "Objects up to this many bytes travel inline and live in the owner's memory")
PHOTON_CONFIG(int64_t, task_rpc_inlined_bytes_limit, 10485760, "Most bytes of argument values an owner inlines into one task push; further arguments travel by reference")
PHOTON_CONFIG(int64_t, borrow_flush_delay_ms, 2, "How long a process gathers the references it dropped before telling their owners (one call per owner)")
PHOTON_CONFIG(int64_t, object_pull_timeout_ms, 600000, "Deadline of a request to the local raylet to copy an object here (it may wait for room in the store)")

// --- object store ---
PHOTON_CONFIG(double, object_store_memory_fraction, 0.3, "Share of the node's RAM given to its object store when no size is set")
PHOTON_CONFIG(int64_t, object_store_memory, 0, "Object store size in bytes; 0: object_store_memory_fraction of RAM")
PHOTON_CONFIG(int64_t, object_store_min_memory, 78643200, "Smallest object store allowed, in bytes")
PHOTON_CONFIG(double, object_spilling_threshold, 0.8, "Store usage above which primary copies spill to disk")
PHOTON_CONFIG(int64_t, object_spilling_retry_ms, 50, "While spilling is wanted but nothing can be spilled (all pinned or in use), how often the store looks again")
PHOTON_CONFIG(int64_t, object_spilling_error_retry_ms, 1000, "After writing a spill file failed (a full disk), how long the store waits before it spills again")
PHOTON_CONFIG(int64_t, object_store_full_grace_ms, 5000, "How long a put waits for space before ObjectStoreFullError")
PHOTON_CONFIG(int64_t, object_store_prefault_bytes, 268435456, "Bytes of the arena the raylet faults in at start (in the background), so first puts hit resident pages")
PHOTON_CONFIG(int64_t, object_chunk_size, 5242880, "Chunk size in bytes for moving objects between nodes")
PHOTON_CONFIG(int64_t, object_pull_admission_retry_ms, 5, "While the store has no room for the next pull, how often the raylet looks again")

// --- process roles (set by Photon for the processes it starts) ---
PHOTON_CONFIG(std::string, raylet_address, "", "Raylet (host:port) a worker registers with; set only in workers")
PHOTON_CONFIG(std::string, worker_id, "", "Hex WorkerID the raylet gave this worker")
PHOTON_CONFIG(std::string, job_id, "", "Hex JobID of the job a worker serves")
PHOTON_CONFIG(std::string, session_dir, "", "Session folder of the node a worker runs on")
PHOTON_CONFIG(int64_t, raylet_pid, 0, "PID of the raylet that started this worker (the worker exits with it)")
PHOTON_CONFIG(std::string, job_worker_command, "", "How this job's workers are started (argv joined by 0x1f), so nested tasks start the same kind of worker")
PHOTON_CONFIG(std::string, job_worker_env, "", "Environment of this job's workers (NAME=value joined by 0x1f)")
PHOTON_CONFIG(std::string, code_search_path, "", "':'-separated shared libraries or folders a C++ worker loads remote functions from")
