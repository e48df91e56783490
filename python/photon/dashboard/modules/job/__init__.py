"""Job submission: the REST routes (job_head), the manager that starts and
tracks jobs (job_manager), the supervisor actor that runs an entrypoint
(job_supervisor), the client SDK (sdk) and `photon job` (cli)."""
