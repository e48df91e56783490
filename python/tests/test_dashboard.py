"""The dashboard process: started with a local cluster by photon.init(),
dashboard_url in the context, the cluster token asked of every API call, the
state API over HTTP (/api/v0/...), and stopped by photon.shutdown()."""
import json
import os
import socket
import urllib.error
import urllib.request

import pytest

import photon
from photon.dashboard import launcher


def _token(ctx):
    with open(os.path.join(ctx["session_dir"], "cluster_token")) as f:
        return f.read().strip()


def _get(url, token=None, raw=False):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return body if raw else json.loads(body)


@pytest.fixture
def dashboard_cluster():
    ctx = photon.init(num_cpus=2, include_dashboard=True)
    try:
        yield ctx
    finally:
        photon.shutdown()


def test_init_returns_dashboard_url_that_answers(dashboard_cluster):
    ctx = dashboard_cluster
    assert ctx.dashboard_url and ctx["dashboard_url"] == ctx.dashboard_url
    host, port = ctx.dashboard_url.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) >= launcher.DEFAULT_PORT
    version = _get(f"http://{ctx.dashboard_url}/api/version", _token(ctx))
    assert version["version"] and version["photon_version"] == photon.__version__
    assert version["ray_version"] >= "2"  # Ray's clients check it


def test_api_requires_the_cluster_token(dashboard_cluster):
    url = f"http://{dashboard_cluster.dashboard_url}/api/v0/nodes"
    with pytest.raises(urllib.error.HTTPError) as e:
        _get(url)
    assert e.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as e:
        _get(url, token="not-the-token")
    assert e.value.code == 401
    # ?token= works too (and sets a cookie for a browser).
    got = _get(url + "?token=" + _token(dashboard_cluster))
    assert got["result"] is True


def test_state_api_over_http(dashboard_cluster):
    ctx = dashboard_cluster
    base = f"http://{ctx.dashboard_url}/api/v0"
    token = _token(ctx)

    @photon.remote
    class Counter:
        def ping(self):
            return "pong"

    c = Counter.options(name="dash_counter").remote()
    assert photon.get(c.ping.remote()) == "pong"

    @photon.remote
    def f():
        return 1

    photon.get([f.remote() for _ in range(3)])
    nodes = _get(f"{base}/nodes", token)["data"]["result"]
    assert nodes["total"] == 1 and nodes["result"][0]["state"] == "ALIVE"
    actors = _get(f"{base}/actors?filter_keys=name&filter_predicates=%3D"
                  "&filter_values=dash_counter", token)["data"]["result"]["result"]
    assert len(actors) == 1 and actors[0]["class_name"] == "Counter"
    one = _get(f"{base}/actors/{actors[0]['actor_id']}", token)["data"]["result"]
    assert one[0]["name"] == "dash_counter"
    summary = _get(f"{base}/tasks/summarize", token)["data"]["result"]
    assert "f" in json.dumps(summary)
    with pytest.raises(urllib.error.HTTPError) as e:
        _get(f"{base}/nonsense", token)
    assert e.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as e:
        _get(f"{base}/tasks?filter_keys=state&filter_predicates=~&filter_values=x", token)
    assert e.value.code == 400
    timeline = _get(f"{base}/tasks/timeline", token)
    assert isinstance(timeline, list)


def test_shutdown_stops_the_dashboard(shutdown_only):
    ctx = photon.init(num_cpus=1, include_dashboard=True)
    host, port = ctx.dashboard_url.rsplit(":", 1)
    pid = photon._local_dashboard.pid
    photon.shutdown()
    assert not os.path.exists(f"/proc/{pid}") or \
        open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=1).close()


def test_taken_dashboard_port_is_a_clear_error(shutdown_only):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(ValueError, match=f"port {port}"):
            photon.init(num_cpus=1, include_dashboard=True, dashboard_port=port)
    assert not photon.is_initialized()


def test_no_dashboard_when_turned_off(shutdown_only):
    ctx = photon.init(num_cpus=1, include_dashboard=False)
    assert ctx.dashboard_url is None
