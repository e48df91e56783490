"""JobSubmissionClient: Ray's job SDK on the jobs REST API (job_head.py).

The address is the dashboard's ("http://127.0.0.1:8265"); None takes
RAY_API_SERVER_ADDRESS or RAY_ADDRESS when they are http URLs, else the
dashboard of the cluster `photon start` started on this host. The cluster
token is sent as `Authorization: Bearer` (PHOTON_CLUSTER_TOKEN, else the one
a cluster on this host recorded for that dashboard)."""
import asyncio
import glob
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Union

from photon._private import config
from photon._private import options
from photon._private.runtime_env import packaging
from photon.dashboard import launcher
from photon.dashboard.modules.job.common import JobDetails, JobStatus

_POLL_S = 0.5


def _local_dashboard_url():
    root = config.setting("session_dir_root")
    try:
        with open(os.path.join(root, "cluster_address")) as f:
            gcs = f.read().strip()
    except OSError:
        gcs = ""
    if gcs:
        url = launcher.recorded_url(gcs)
        if url:
            return url
    newest = sorted(glob.glob(os.path.join(root, "session_*", "dashboard_url")),
                    key=os.path.getmtime)
    for path in reversed(newest):
        with open(path) as f:
            return f.read().strip()
    return None


def _find_token(url):
    token = config.setting("cluster_token")
    if token or config.setting("auth_mode") == "disabled":
        return token
    host_port = urllib.parse.urlparse(url).netloc
    root = config.setting("session_dir_root")
    for path in sorted(glob.glob(os.path.join(root, "session_*", "dashboard_url")),
                       key=os.path.getmtime, reverse=True):
        try:
            with open(path) as f:
                if f.read().strip() != host_port:
                    continue
            with open(os.path.join(os.path.dirname(path), "cluster_token")) as f:
                return f.read().strip()
        except OSError:
            continue
    return ""


def parse_address(address):
    if address is None:
        for var in ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS"):
            v = os.environ.get(var, "")
            if v.startswith("http://") or v.startswith("https://"):
                address = v
                break
    if address in (None, "", "auto"):
        address = _local_dashboard_url()
        if not address:
            raise ConnectionError("Could not find a running Photon cluster's dashboard on this "
                                  "host: pass address='http://<head>:8265'")
    if "://" not in address:
        address = "http://" + address
    if not (address.startswith("http://") or address.startswith("https://")):
        raise ValueError(f"the job client's address must be an http(s) URL of the dashboard, "
                         f"got {address!r}")
    return address.rstrip("/")


class JobSubmissionClient:
    """Submits and manages jobs of a cluster through its dashboard."""

    def __init__(self, address: Optional[str] = None, create_cluster_if_needed=False,
                 cookies: Optional[Dict[str, Any]] = None,
                 metadata: Optional[Dict[str, Any]] = None,
                 headers: Optional[Dict[str, Any]] = None, verify=True):
        self._address = parse_address(address)
        self._default_metadata = dict(metadata or {})
        self._headers = dict(headers or {})
        self._cookies = dict(cookies or {})
        token = _find_token(self._address)
        if token and "Authorization" not in self._headers:
            self._headers["Authorization"] = f"Bearer {token}"
        version = self._request("GET", "/api/version")
        if not isinstance(version, dict) or "version" not in version:
            raise ConnectionError(f"{self._address} is not a Photon or Ray dashboard")

    def get_address(self):
        return self._address

    # --- HTTP ---

    def _request(self, method, path, body=None, raw=None, ok_statuses=(200,)):
        url = self._address + path
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        for k, v in self._headers.items():
            req.add_header(k, v)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if self._cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self._cookies.items()))
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                payload = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            payload = e.read()
            status = e.code
            if status in ok_statuses:
                return None
            text = payload.decode("utf-8", errors="replace")
            raise RuntimeError(f"Request failed with status code {status}: {text}.") from None
        except (urllib.error.URLError, OSError) as e:
            raise ConnectionError(f"Failed to connect to the dashboard at {self._address}: "
                                  f"{getattr(e, 'reason', e)}") from None
        if not payload:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return payload.decode("utf-8", errors="replace")

    # --- runtime_env packages ---

    def _upload(self, path, excludes, include_parent, what):
        data, uri = packaging.pack(path, excludes, include_parent, what)
        protocol, name = uri.split("://", 1)
        try:
            self._request("GET", f"/api/packages/{protocol}/{name}")
            return uri  # the cluster has it
        except RuntimeError as e:
            if "status code 404" not in str(e):
                raise
        self._request("PUT", f"/api/packages/{protocol}/{name}", raw=data)
        return uri

    def _upload_local(self, runtime_env):
        env = dict(runtime_env)
        excludes = list(env.get("excludes") or [])
        wd = env.get("working_dir")
        if wd is not None and "://" not in os.fspath(wd):
            env["working_dir"] = self._upload(os.fspath(wd), excludes, False, "working_dir")
        if env.get("py_modules"):
            mods = []
            for m in env["py_modules"]:
                path = os.fspath(m.__file__ if hasattr(m, "__file__") else m)
                if hasattr(m, "__file__") and os.path.basename(path) == "__init__.py":
                    path = os.path.dirname(path)
                mods.append(path if "://" in path else
                            self._upload(path, excludes, os.path.isdir(path), "py_modules entry"))
            env["py_modules"] = mods
        env.pop("excludes", None)
        return env

    # --- Ray's methods ---

    def submit_job(self, *, entrypoint: str, job_id: Optional[str] = None,
                   runtime_env: Optional[Dict[str, Any]] = None,
                   metadata: Optional[Dict[str, str]] = None,
                   submission_id: Optional[str] = None,
                   entrypoint_num_cpus: Optional[Union[int, float]] = None,
                   entrypoint_num_gpus: Optional[Union[int, float]] = None,
                   entrypoint_memory: Optional[int] = None,
                   entrypoint_resources: Optional[Dict[str, float]] = None) -> str:
        if job_id is not None and submission_id is None:
            submission_id = job_id
        if runtime_env is not None:
            options.validate_runtime_env(runtime_env)
            runtime_env = self._upload_local(runtime_env)
        meta = dict(self._default_metadata)
        meta.update(metadata or {})
        body = {"entrypoint": entrypoint, "submission_id": submission_id,
                "runtime_env": runtime_env, "metadata": meta or None,
                "entrypoint_num_cpus": entrypoint_num_cpus,
                "entrypoint_num_gpus": entrypoint_num_gpus,
                "entrypoint_memory": entrypoint_memory,
                "entrypoint_resources": entrypoint_resources}
        reply = self._request("POST", "/api/jobs/", {k: v for k, v in body.items()
                                                     if v is not None})
        return reply["submission_id"]

    def _quote(self, job_id):
        return urllib.parse.quote(job_id, safe="")

    def get_job_info(self, job_id: str) -> JobDetails:
        return JobDetails.from_dict(self._request("GET", f"/api/jobs/{self._quote(job_id)}"))

    def list_jobs(self) -> List[JobDetails]:
        return [JobDetails.from_dict(j) for j in self._request("GET", "/api/jobs/")]

    def get_job_status(self, job_id: str) -> JobStatus:
        return self.get_job_info(job_id).status

    def stop_job(self, job_id: str) -> bool:
        return bool(self._request("POST", f"/api/jobs/{self._quote(job_id)}/stop")["stopped"])

    def delete_job(self, job_id: str) -> bool:
        return bool(self._request("DELETE", f"/api/jobs/{self._quote(job_id)}")["deleted"])

    def get_job_logs(self, job_id: str) -> str:
        return self._request("GET", f"/api/jobs/{self._quote(job_id)}/logs")["logs"]

    def _log_chunks(self, job_id) -> Iterator[str]:
        offset = 0
        while True:
            got = self._request("GET", f"/api/jobs/{self._quote(job_id)}/logs?offset={offset}")
            text, offset = got["logs"], got.get("next_offset", offset)
            if text:
                yield text
                continue
            if self.get_job_status(job_id).is_terminal():
                got = self._request("GET",
                                    f"/api/jobs/{self._quote(job_id)}/logs?offset={offset}")
                if got["logs"]:
                    yield got["logs"]
                return
            time.sleep(_POLL_S)

    async def tail_job_logs(self, job_id: str) -> AsyncIterator[str]:
        """Yields the job's output as it is written, until the job ends."""
        chunks = self._log_chunks(job_id)
        done = object()
        while True:
            chunk = await asyncio.get_running_loop().run_in_executor(None, next, chunks, done)
            if chunk is done:
                return
            yield chunk
