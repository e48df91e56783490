"""Entry point of a Python worker process (started by a raylet)."""
import os
import sys

from photon import _photon
from photon._private import execution
from photon._private import state


def main():
    state.connection.mode = "worker"
    code = _photon.run_worker(execution.execute_task, execution.interrupt_task)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
