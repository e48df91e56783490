"""Entry point of a Python worker process (started by a raylet)."""
import os
import sys

from photon import _photon
from photon._private import actor_host
from photon._private import execution
from photon._private import state


def main():
    state.connection.mode = "worker"
    code = _photon.run_worker(execution.execute_task, execution.interrupt_task)
    hosted = state.connection.actor
    if hosted is not None:
        # A graceful end the actor did not ask for itself (asked by its
        # raylet or the GCS): its hooks still run, once.
        actor_host.run_shutdown_hooks(hosted.instance, hosted.loop)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
