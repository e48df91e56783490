"""Entry point of a Python worker process (started by a raylet)."""
import os
import sys

from photon import _photon
from photon._private import actor_host
from photon._private import execution
from photon._private import state


def _before_exit():
    """A graceful end (exit_actor, __ray_terminate__, or asked to by its owner
    when the actor went out of scope): the actor's hooks run, once, before it
    tells the GCS it is gone."""
    hosted = state.connection.actor
    if hosted is not None:
        actor_host.run_shutdown_hooks(hosted.instance, hosted.loop)


def main():
    state.connection.mode = "worker"
    code = _photon.run_worker(execution.execute_task, execution.interrupt_task, _before_exit)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
