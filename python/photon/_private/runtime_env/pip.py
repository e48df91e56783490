"""runtime_env pip: one virtual environment per distinct package list, on
each node, created once (under <session_dir_root>/runtime_resources/pip/<hash>,
so later sessions on the host reuse it) and put first on the worker's
sys.path. The venv sees the system's site-packages (Photon itself, numpy...),
and the packages are installed with this interpreter's pip into it."""
import fcntl
import hashlib
import json
import os
import shutil
import site
import subprocess
import sys

_READY = ".photon_ready"
_TAIL_LINES = 30


class PipSetupError(Exception):
    pass


def normalize(spec):
    """{"packages": [...], "pip_check": bool, "pip_version": str|None} from
    the list, requirements-file and dict forms; ValueError naming the problem."""
    if isinstance(spec, str):
        if not os.path.isfile(spec):
            raise ValueError(f"runtime_env pip {spec!r} is neither a list of packages nor an "
                             "existing requirements file")
        with open(spec) as f:
            lines = [ln.strip() for ln in f.read().splitlines()]
        spec = [ln for ln in lines if ln and not ln.startswith("#")]
    if isinstance(spec, (list, tuple)):
        spec = {"packages": list(spec)}
    if not isinstance(spec, dict):
        raise TypeError(f"runtime_env pip must be a list of packages, a requirements file or a "
                        f"dict with 'packages', got {type(spec).__name__}")
    unknown = sorted(set(spec) - {"packages", "pip_check", "pip_version", "pip_install_options"})
    if unknown:
        raise ValueError(f"unknown runtime_env pip field(s): {', '.join(unknown)}")
    packages = spec.get("packages")
    if isinstance(packages, str):
        packages = normalize(packages)["packages"]
    if not isinstance(packages, list) or not all(isinstance(p, str) and p.strip()
                                                 for p in packages):
        raise TypeError("runtime_env pip 'packages' must be a list of non-empty strings")
    options = spec.get("pip_install_options") or []
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise TypeError("runtime_env pip 'pip_install_options' must be a list of strings")
    return {"packages": [p.strip() for p in packages], "pip_check": bool(spec.get("pip_check")),
            "pip_version": spec.get("pip_version"), "pip_install_options": options}


def env_hash(spec):
    return hashlib.sha1(json.dumps([spec, sys.version], sort_keys=True).encode()).hexdigest()[:16]


def _site_packages(venv):
    return os.path.join(venv, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
                        "site-packages")


def _run(cmd, timeout, what):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PipSetupError(f"{what} did not finish within {timeout} s "
                            "(runtime_env config setup_timeout_seconds)") from None
    if p.returncode != 0:
        tail = "\n".join(p.stdout.splitlines()[-_TAIL_LINES:])
        raise PipSetupError(f"{what} failed (exit code {p.returncode}):\n{tail}")


def ensure(spec, root, timeout):
    """The venv of `spec` under `root`, created if no process made it yet."""
    venv = os.path.join(root, env_hash(spec))
    if os.path.exists(os.path.join(venv, _READY)):
        return venv
    os.makedirs(root, exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(venv, _READY)):
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # a half-made one from a crash
        try:
            _run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv],
                 timeout, "creating the virtual environment")
            cmd = [sys.executable, "-m", "pip", "--python", os.path.join(venv, "bin", "python"),
                   "install", "--disable-pip-version-check", "--no-input",
                   *spec["pip_install_options"], *spec["packages"]]
            _run(cmd, timeout, f"pip install {' '.join(spec['packages'])}")
            if spec["pip_check"]:
                _run([sys.executable, "-m", "pip", "--python",
                      os.path.join(venv, "bin", "python"), "check"], timeout, "pip check")
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)  # nothing left half-installed
            raise
        with open(os.path.join(venv, _READY), "w") as f:
            f.write(json.dumps(spec))
    return venv


def activate(venv):
    """Puts the venv's packages first on this process's sys.path, and its bin
    first on PATH (a subprocess's `python` and `pip` are the venv's)."""
    sp = _site_packages(venv)
    before = list(sys.path)
    site.addsitedir(sp)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + before
    os.environ["VIRTUAL_ENV"] = venv
    os.environ["PATH"] = os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", "")
