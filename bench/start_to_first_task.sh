#!/usr/bin/env bash
# Time from `photon start --head` (or, with --ray, `ray start --head` from the
# given Python environment) to a driver on the same machine getting its first
# task's result. Stops the cluster afterwards. Prints "start_to_first_task <ms>".
#   bench/start_to_first_task.sh                 # Photon (build/)
#   bench/start_to_first_task.sh --ray /venv     # Ray from /venv
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--ray" ]]; then
  venv="$2"
  start=$(date +%s.%N)
  "$venv/bin/ray" start --head --num-cpus 2 --include-dashboard=false > /dev/null 2>&1
  "$venv/bin/python" -c "
import ray
ray.init(address='auto')
@ray.remote
def f(): return 1
assert ray.get(f.remote()) == 1
ray.shutdown()" > /dev/null 2>&1
  end=$(date +%s.%N)
  "$venv/bin/ray" stop --force > /dev/null 2>&1
else
  start=$(date +%s.%N)
  build/bin/photon start --head --num-cpus 2 > /dev/null
  PYTHONPATH=python:build/python python3 -c "
import photon
photon.init(address='auto')
@photon.remote
def f(): return 1
assert photon.get(f.remote()) == 1
photon.shutdown()"
  end=$(date +%s.%N)
  build/bin/photon stop > /dev/null
fi
python3 -c "print(f'start_to_first_task {($end - $start) * 1000:.0f} ms')"
