"""The `photon` console script: runs the native CLI shipped in photon/_bin,
except for what is written in Python: `photon job ...` (the job client),
`photon serve ...` (photon.serve.scripts), and
the dashboard that `photon start --head` starts and `photon stop` stops."""
import importlib
import os
import re
import subprocess
import sys

import photon
from photon._private import config
from photon.dashboard import launcher
from photon.dashboard.modules.job import cli as job_cli

# The dashboards `photon start --head` started (pids), stopped by `photon stop`.
_DASHBOARD_PIDS = "cli_dashboards"


def bin_dir():
    """The folder holding photon-gcs, photon-raylet and the photon CLI."""
    for base in photon.__path__:
        candidate = os.path.join(base, "_bin")
        if os.path.exists(os.path.join(candidate, "photon-raylet")):
            return candidate
    raise FileNotFoundError("Photon's daemons are not installed next to the photon package")


def _pop_option(args, name, has_value=True):
    """Removes --name[=value] / --name value from args; returns the value
    (True for a flag), or None."""
    for i, a in enumerate(args):
        if a == name:
            if not has_value:
                del args[i]
                return True
            if i + 1 >= len(args):
                raise SystemExit(f"photon start: {name} needs a value")
            value = args[i + 1]
            del args[i:i + 2]
            return value
        if has_value and a.startswith(name + "="):
            del args[i]
            return a.split("=", 1)[1]
    return None


def _start(args):
    """`photon start`: the native command, then (for --head) the dashboard."""
    args = list(args)
    include = _pop_option(args, "--include-dashboard")
    host = _pop_option(args, "--dashboard-host")
    port = _pop_option(args, "--dashboard-port")
    head = "--head" in args
    exe = os.path.join(bin_dir(), "photon")
    proc = subprocess.Popen([exe, "start", *args], stdout=subprocess.PIPE, text=True)
    session, gcs = None, None
    want = head and (include is None and config.setting("include_dashboard") or
                     str(include).lower() in ("1", "true", "yes"))
    started = None
    for line in proc.stdout:
        sys.stdout.write(line)
        m = re.search(r"started \(session (.+)\)\.", line)
        if m:
            session = m.group(1)
        m = re.search(r"GCS address: (\S+)", line)
        if m:
            gcs = m.group(1)
        if want and started is None and session and gcs and "Stop:" in line:
            started = _start_dashboard(gcs, session, host, port, detached="--block" not in args)
        sys.stdout.flush()
    return proc.wait()


def _start_dashboard(gcs, session, host, port, detached):
    if not launcher.available():
        print("  Dashboard:   not started (pip install starlette uvicorn websockets)")
        return False
    try:
        dash = launcher.start(gcs, session, host, None if port is None else int(port),
                              detached=detached)
    except (ValueError, OSError) as e:
        print(f"  Dashboard:   not started: {e}")
        return False
    if detached:
        root = config.setting("session_dir_root")
        with open(os.path.join(root, _DASHBOARD_PIDS), "a") as f:
            f.write(f"{dash.pid}\n")
    print(f"  Dashboard:   http://{dash.url}")
    return True


def _stop_dashboards():
    root = config.setting("session_dir_root")
    path = os.path.join(root, _DASHBOARD_PIDS)
    try:
        with open(path) as f:
            pids = [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"photon.dashboard" not in f.read():
                    continue  # gone, and the pid reused
        except OSError:
            continue
        launcher.stop_pid(pid)
    os.remove(path)


def main():
    args = sys.argv[1:]
    if args and args[0] == "job":
        sys.exit(job_cli.main(args[1:]))
    if args and args[0] == "serve":
        # Loaded on use: photon.serve imports uvicorn and starlette.
        sys.exit(importlib.import_module("photon.serve.scripts").main(args[1:]))
    if args and args[0] == "start" and not any(a in ("-h", "--help") for a in args):
        sys.exit(_start(args[1:]))
    if args and args[0] == "stop":
        _stop_dashboards()
    exe = os.path.join(bin_dir(), "photon")
    os.execv(exe, [exe] + args)


if __name__ == "__main__":
    main()
