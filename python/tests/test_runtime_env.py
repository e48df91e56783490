"""runtime_env beyond env_vars: working_dir (cwd and sys.path[0] of the
worker; excludes and .gitignore honoured; size limit), py_modules, pip (a
venv per distinct list, made once, with a clear error when the install
fails), per task and actor and from photon.init(); workers with different
runtime envs never share a process."""
import json
import os
import zipfile

import pytest

import photon
from photon._private.test_utils import wait_for_condition
from photon.exceptions import RuntimeEnvSetupError
from photon.runtime_env import RuntimeEnv, RuntimeEnvConfig
from photon.util import state

pytestmark = pytest.mark.timeout(120, method="thread")


@pytest.fixture(scope="module")
def cluster():
    ctx = photon.init(num_cpus=2)
    try:
        yield ctx
    finally:
        photon.shutdown()


def make_project(root, value):
    root.mkdir()
    (root / "proj_helper.py").write_text(f"VALUE = {value!r}\n")
    (root / "data.txt").write_text(f"data {value}\n")
    return root


@photon.remote
def probe():
    import importlib
    import sys

    mod = importlib.import_module("proj_helper")
    importlib.reload(mod)
    with open("data.txt") as f:
        data = f.read().strip()
    return os.getcwd(), sys.path[0], mod.VALUE, data, os.getpid()


def test_task_working_dir(cluster, tmp_path):
    a = make_project(tmp_path / "a", "alpha")
    b = make_project(tmp_path / "b", "beta")
    cwd_a, path0_a, value_a, data_a, pid_a = photon.get(
        probe.options(runtime_env={"working_dir": str(a)}).remote())
    cwd_b, _, value_b, data_b, pid_b = photon.get(
        probe.options(runtime_env={"working_dir": str(b)}).remote())
    assert (value_a, data_a) == ("alpha", "data alpha")
    assert (value_b, data_b) == ("beta", "data beta")
    assert cwd_a == path0_a and cwd_a != str(a) and "working_dir_files" in cwd_a
    assert cwd_a != cwd_b
    # Different runtime envs never share a worker.
    assert pid_a != pid_b
    # The same env again reuses the package (same folder).
    assert photon.get(probe.options(runtime_env={"working_dir": str(a)}).remote())[0] == cwd_a


def test_actor_working_dir_and_env_vars(cluster, tmp_path):
    proj = make_project(tmp_path / "actor_proj", "gamma")

    @photon.remote
    class Reader:
        def read(self):
            import proj_helper

            with open("data.txt") as f:
                return proj_helper.VALUE, f.read().strip(), os.environ.get("FLAVOUR")

    r = Reader.options(runtime_env=RuntimeEnv(working_dir=str(proj),
                                              env_vars={"FLAVOUR": "mint"})).remote()
    assert photon.get(r.read.remote()) == ("gamma", "data gamma", "mint")


def test_excludes_and_gitignore(cluster, tmp_path):
    proj = make_project(tmp_path / "ex", "delta")
    (proj / "big.bin").write_bytes(b"x" * 1000)
    (proj / "logs").mkdir()
    (proj / "logs" / "run.log").write_text("log")
    (proj / ".gitignore").write_text("*.bin\n")
    (proj / "keep.txt").write_text("kept")

    @photon.remote
    def listing():
        return sorted(os.listdir("."))

    files = photon.get(listing.options(
        runtime_env={"working_dir": str(proj), "excludes": ["logs/"]}).remote())
    assert "keep.txt" in files and "proj_helper.py" in files
    assert "big.bin" not in files and "logs" not in files


def test_py_modules(cluster, tmp_path):
    pkg = tmp_path / "shipped_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("def answer():\n    return 42\n")

    @photon.remote
    def use():
        import shipped_pkg

        return shipped_pkg.answer()

    assert photon.get(use.options(runtime_env={"py_modules": [str(pkg)]}).remote()) == 42


def test_bad_runtime_envs_are_refused_at_submission(cluster, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown runtime_env field"):
        probe.options(runtime_env={"workdir": "."})
    with pytest.raises(ValueError, match="not an existing folder"):
        probe.options(runtime_env={"working_dir": str(tmp_path / "missing")})
    with pytest.raises(ValueError, match="does not exist"):
        probe.options(runtime_env={"py_modules": [str(tmp_path / "missing_mod")]})
    with pytest.raises(TypeError, match="pip"):
        probe.options(runtime_env={"pip": 3})
    with pytest.raises(ValueError, match="conda"):
        RuntimeEnv(conda="env")
    with pytest.raises(ValueError, match="setup_timeout_seconds"):
        RuntimeEnvConfig(setup_timeout_seconds=0)
    big = tmp_path / "big"
    big.mkdir()
    (big / "blob").write_bytes(os.urandom(4096))
    monkeypatch.setenv("PHOTON_RUNTIME_ENV_WORKING_DIR_MAX_BYTES", "1024")
    with pytest.raises(ValueError, match="runtime_env_working_dir_max_bytes"):
        probe.options(runtime_env={"working_dir": str(big)}).remote()


def _wheel(folder, name, value):
    """A minimal pure-Python wheel, built by hand (no network, no build backend)."""
    path = folder / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": f"VALUE = {value!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: photon-tests\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    record = "".join(f"{k},,\n" for k in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for k, v in files.items():
            z.writestr(k, v)
        z.writestr(f"{info}/RECORD", record)
    return path


def test_pip_venv_per_spec(cluster, tmp_path):
    wheel = _wheel(tmp_path, "photon_pip_probe", "from-the-venv")

    @photon.remote
    def use():
        import sys

        import photon_pip_probe

        return photon_pip_probe.VALUE, sys.prefix, os.environ.get("VIRTUAL_ENV")

    env = {"pip": {"packages": [str(wheel)], "pip_install_options": ["--no-index"]}}
    value, _, venv = photon.get(use.options(runtime_env=env).remote())
    assert value == "from-the-venv" and venv and os.path.isdir(venv)
    # Made once: a second worker with the same spec finds it.
    assert photon.get(use.options(runtime_env=env).remote())[2] == venv
    # Without the env, the package is not there.
    with pytest.raises(photon.exceptions.RayTaskError, match="photon_pip_probe"):
        photon.get(use.remote())


def test_pip_install_failure_names_the_package(cluster, tmp_path):
    @photon.remote
    def never():
        return 1

    env = {"pip": {"packages": ["photon-no-such-package-xyz==9.9"],
                   "pip_install_options": ["--no-index"]}}
    with pytest.raises(RuntimeEnvSetupError, match="photon-no-such-package-xyz"):
        photon.get(never.options(runtime_env=env).remote())
    root = os.path.join(os.environ["PHOTON_SESSION_DIR_ROOT"], "runtime_resources", "pip")
    # Nothing left half-installed: every venv there is a complete one.
    for name in os.listdir(root):
        assert name.endswith(".lock") or os.path.exists(os.path.join(root, name, ".photon_ready"))


def test_list_runtime_envs(cluster):
    from photon.util.state import list_runtime_envs
    from photon.util.state.exception import RayStateApiException

    envs = list_runtime_envs(limit=1000)
    good = [e for e in envs if e.success and "working_dir" in e.runtime_env]
    assert good and all(e.runtime_env["working_dir"].startswith("gcs://") for e in good)
    assert good[0].node_id == cluster["node_id"] and good[0].creation_time_ms > 0
    bad = list_runtime_envs(filters=[("success", "=", "false")])
    assert bad and all(not e.success for e in bad)
    assert any("photon-no-such-package-xyz" in e.error for e in bad)
    with pytest.raises(RayStateApiException, match="cannot filter runtime envs on 'pid'"):
        list_runtime_envs(filters=[("pid", "=", "1")])


def test_init_runtime_env_applies_to_every_task(tmp_path, shutdown_only):
    if photon.is_initialized():
        photon.shutdown()
    proj = make_project(tmp_path / "job_proj", "epsilon")
    photon.init(num_cpus=1, runtime_env={"working_dir": str(proj)})

    @photon.remote
    def nested():
        return photon.get(probe.remote())[2]

    assert photon.get(probe.remote())[2] == "epsilon"
    # A task's children inherit its runtime_env.
    assert photon.get(nested.remote()) == "epsilon"
    wd = photon.get_runtime_context().runtime_env["working_dir"]
    assert wd.startswith("gcs://_photon_pkg_")


@photon.remote
def env_reader():
    return os.environ.get("STATE_TEST_ENV")


@photon.remote
class EnvActor:
    def ping(self):
        return os.environ.get("STATE_TEST_ENV")


def test_state_api_shows_runtime_envs_and_profiling(cluster, tmp_path):
    proj = make_project(tmp_path / "state_proj", "s")
    env = {"working_dir": str(proj), "env_vars": {"STATE_TEST_ENV": "state-env"}}
    assert photon.get(env_reader.options(runtime_env=env, name="env_reader_task").remote()) == "state-env"
    actor = EnvActor.options(runtime_env=env, name="env_state_actor").remote()
    assert photon.get(actor.ping.remote()) == "state-env"

    def finished(name):
        rows = state.list_tasks(filters=[("name", "=", name)], detail=True)
        return rows[0] if rows and rows[0].state == "FINISHED" and rows[0].profiling_data else None

    wait_for_condition(lambda: finished("env_reader_task"), timeout=30)
    row = finished("env_reader_task")
    shown = json.loads(row.runtime_env_info["serialized_runtime_env"])
    assert shown["working_dir"].startswith("gcs://")  # as Ray shows it: the uploaded package
    assert "runtime_env_config" in row.runtime_env_info
    span = row.profiling_data["events"][0]
    assert span["event_name"] == "task:execute"
    assert row.profiling_data["component_type"] == "worker"
    assert row.profiling_data["component_id"] == row.worker_id
    assert span["start_time"] <= span["end_time"]
    actors = state.list_actors(filters=[("name", "=", "env_state_actor")], detail=True)
    assert json.loads(actors[0].serialized_runtime_env)["working_dir"] == shown["working_dir"]
    # A task with no runtime_env shows Ray's empty one.
    photon.get(probe_plain.options(name="plain_state_task").remote())
    wait_for_condition(lambda: finished("plain_state_task"), timeout=30)
    plain = finished("plain_state_task")
    assert plain.runtime_env_info["serialized_runtime_env"] == "{}"
    photon.kill(actor)


@photon.remote
def probe_plain():
    return 1
