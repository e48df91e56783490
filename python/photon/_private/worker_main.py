"""Entry point of a Python worker process (started by a raylet)."""
import sys


def main():
    from photon import _photon
    from photon._private import worker

    worker.state.mode = "worker"
    code = _photon.run_worker(worker.execute_task, worker.interrupt_task)
    sys.stdout.flush()
    sys.stderr.flush()
    import os
    os._exit(code)


if __name__ == "__main__":
    main()
