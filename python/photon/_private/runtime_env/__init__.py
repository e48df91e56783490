"""runtime_env beyond env_vars: working_dir and py_modules shipped as packages
through the GCS (packaging), pip environments (pip), validation and the
driver-side resolution of local paths to package URIs (resolve), and the
worker-side setup before a worker's first task (setup)."""
