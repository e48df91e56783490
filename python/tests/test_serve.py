"""photon.serve as a Ray Serve user drives it: HTTP (httpx) and handle calls
against class, function, FastAPI and composed deployments; batching,
autoscaling, replica failure, rolling redeploys, backpressure, streaming,
`serve deploy` from YAML, state that outlives its driver, and bad input."""
import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import pytest
import yaml

import photon
from photon import serve
from photon.serve.exceptions import (BackPressureError, RayServeException,
                                     RequestCancelledError)

from conftest import _free_port

pytestmark = pytest.mark.timeout(180, method="thread")

NO_CPU = {"num_cpus": 0}


@pytest.fixture(scope="module")
def serve_instance():
    if photon.is_initialized():
        photon.shutdown()
    info = photon.init(num_cpus=4, include_dashboard=True)
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    token = open(os.path.join(info["session_dir"], "cluster_token")).read().strip()
    try:
        yield {"url": f"http://127.0.0.1:{port}", "address": info["address"], "port": port,
               "dashboard": f"http://{info['dashboard_url']}", "token": token}
    finally:
        serve.shutdown()
        photon.shutdown()


@pytest.fixture
def serve_url(serve_instance):
    try:
        yield serve_instance["url"]
    finally:
        for name in list(serve.status().applications):
            serve.delete(name)


def _wait_for(predicate, timeout=30, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def _replicas(app, deployment):
    d = serve.status().applications[app].deployments[deployment]
    return d.replica_states.get("RUNNING", 0)


# -- class and function deployments ------------------------------------------------
def test_function_and_class_deployments_over_http_and_handle(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU)
    def hello(request):
        return f"hello {request.query_params.get('name', 'world')}"

    @serve.deployment(num_replicas=2, ray_actor_options=NO_CPU)
    class Counter:
        def __init__(self, start):
            self.value = start

        async def __call__(self, request):
            body = await request.json()
            self.value += body["add"]
            return {"value": self.value, "replica": serve.get_replica_context().replica_tag}

        def add(self, n):
            self.value += n
            return self.value

    serve.run(hello.bind(), name="hello", route_prefix="/hello")
    r = httpx.get(f"{serve_url}/hello", params={"name": "photon"})
    assert r.status_code == 200 and r.text == "hello photon"
    assert r.headers["content-type"].startswith("text/plain")

    counter = serve.run(Counter.bind(10), name="counter", route_prefix="/counter")
    r = httpx.post(f"{serve_url}/counter", json={"add": 5})
    assert r.status_code == 200
    assert r.json()["value"] == 15
    assert counter.add.remote(1).result() in (11, 16)
    replicas = {httpx.post(f"{serve_url}/counter", json={"add": 0}).json()["replica"]
                for _ in range(30)}
    assert len(replicas) == 2

    status = serve.status()
    assert status.applications["counter"].status == "RUNNING"
    d = status.applications["counter"].deployments["Counter"]
    assert d.status == "HEALTHY" and d.replica_states == {"RUNNING": 2}
    assert httpx.get(f"{serve_url}/-/routes").json() == {"/hello": "hello",
                                                        "/counter": "counter"}
    assert httpx.get(f"{serve_url}/nowhere").status_code == 404
    assert serve.get_app_handle("counter").add.remote(0).result() >= 10


def test_errors_map_to_status_codes(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU)
    class Broken:
        def __call__(self, request):
            raise ValueError("no good input here")

        def method(self):
            raise KeyError("missing")

    h = serve.run(Broken.bind(), name="broken", route_prefix="/broken")
    r = httpx.get(f"{serve_url}/broken")
    assert r.status_code == 500 and r.text == "Internal Server Error"  # as Ray
    with pytest.raises(Exception, match="missing"):
        h.method.remote().result()
    with pytest.raises(RayServeException, match="does not exist"):
        h.nope.remote().result()


def test_http_handler_edge_cases(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU)
    def no_args():
        return "no request needed"

    @serve.deployment(num_replicas=2, ray_actor_options=NO_CPU)
    class Many:
        def __call__(self, request):
            if request.query_params.get("none"):
                return None
            n = int(request.query_params.get("n", 0))
            if n:
                return (f"{i}," for i in range(n))  # a generator streams
            ctx = serve.get_replica_context()
            return {"rank": ctx.rank.rank, "world_size": ctx.world_size,
                    "full": ctx.replica_id.to_full_id_str()}

        def _private(self):
            return "private"

    serve.run(no_args.bind(), name="noargs", route_prefix="/noargs")
    assert httpx.get(f"{serve_url}/noargs").text == "no request needed"
    h = serve.run(Many.bind(), name="many", route_prefix="/many")
    assert h._private.remote().result() == "private"
    r = httpx.get(f"{serve_url}/many", params={"none": 1})
    assert r.status_code == 200 and r.text == ""
    assert httpx.get(f"{serve_url}/many", params={"n": 4}).text == "0,1,2,3,"
    seen = [httpx.get(f"{serve_url}/many").json() for _ in range(30)]
    assert {s["rank"] for s in seen} == {0, 1} and {s["world_size"] for s in seen} == {2}
    assert all(s["full"].startswith("SERVE_REPLICA::many#Many#") for s in seen)
    r = httpx.get(f"{serve_url}/many", headers={"X-Request-ID": "my-id-1"})
    assert r.headers["x-request-id"] == "my-id-1"
    assert httpx.get(f"{serve_url}/many").headers["x-request-id"]


def test_cancel_and_backpressure_surface_at_result(serve_url):
    @serve.deployment(max_ongoing_requests=1, max_queued_requests=1, ray_actor_options=NO_CPU)
    class Slow:
        async def __call__(self):
            await asyncio.sleep(2)
            return "done"

    h = serve.run(Slow.bind(), name="cancel", route_prefix=None)
    running = h.remote()
    time.sleep(0.3)
    queued = h.remote()
    rejected = h.remote()  # as Ray: .remote() returns; result() raises
    with pytest.raises(BackPressureError):
        rejected.result()
    queued.cancel()
    with pytest.raises(RequestCancelledError):
        queued.result()
    running.cancel()
    with pytest.raises(RequestCancelledError):
        running.result(timeout_s=30)


# -- FastAPI ingress ---------------------------------------------------------------
def test_fastapi_ingress(serve_url):
    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel

    app = FastAPI()

    class Item(BaseModel):
        name: str
        price: float

    @serve.deployment(ray_actor_options=NO_CPU)
    @serve.ingress(app)
    class Store:
        def __init__(self):
            self.items = {}

        @app.get("/items/{item_id}")
        def get_item(self, item_id: int):
            if item_id not in self.items:
                raise HTTPException(status_code=404, detail=f"item {item_id} not found")
            return self.items[item_id]

        @app.put("/items/{item_id}")
        def put_item(self, item_id: int, item: Item):
            self.items[item_id] = {"id": item_id, "name": item.name, "price": item.price}
            return self.items[item_id]

        @app.get("/")
        def root(self):
            return {"items": len(self.items)}

    serve.run(Store.bind(), name="store", route_prefix="/store")
    r = httpx.put(f"{serve_url}/store/items/3", json={"name": "pen", "price": 1.5})
    assert r.status_code == 200 and r.json() == {"id": 3, "name": "pen", "price": 1.5}
    assert httpx.get(f"{serve_url}/store/items/3").json()["name"] == "pen"
    r = httpx.get(f"{serve_url}/store/items/4")
    assert r.status_code == 404 and r.json()["detail"] == "item 4 not found"
    assert httpx.put(f"{serve_url}/store/items/3", json={"name": "pen"}).status_code == 422
    assert httpx.get(f"{serve_url}/store/items/notanint").status_code == 422
    assert httpx.get(f"{serve_url}/store").status_code == 307  # as Ray: to /store/
    assert httpx.get(f"{serve_url}/store/").json() == {"items": 1}
    docs = httpx.get(f"{serve_url}/store/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = httpx.get(f"{serve_url}/store/openapi.json").json()
    assert "/items/{item_id}" in schema["paths"]


# -- composition -------------------------------------------------------------------
def test_composition_of_three_deployments(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU)
    class Preprocess:
        def __call__(self, x):
            return x * 2

    @serve.deployment(ray_actor_options=NO_CPU)
    class Model:
        def __init__(self, bias):
            self.bias = bias

        async def __call__(self, x):
            return x + self.bias

    @serve.deployment(ray_actor_options=NO_CPU)
    class Pipeline:
        def __init__(self, pre, model):
            self.pre = pre
            self.model = model

        async def __call__(self, request):
            x = int(request.query_params["x"])
            return {"y": await self.run(x)}

        async def run(self, x):
            # A DeploymentResponse is passed on without being resolved here.
            return await self.model.remote(self.pre.remote(x))

    h = serve.run(Pipeline.bind(Preprocess.bind(), Model.bind(100)), name="pipe",
                  route_prefix="/pipe")
    assert h.run.remote(5).result() == 110
    assert httpx.get(f"{serve_url}/pipe", params={"x": 7}).json() == {"y": 114}
    assert set(serve.status().applications["pipe"].deployments) == {"Pipeline",
                                                                    "Preprocess", "Model"}
    pre = serve.get_deployment_handle("Preprocess", "pipe")
    model = serve.get_deployment_handle("Model", "pipe")
    assert model.remote(pre.remote(1)).result() == 102


# -- batching ----------------------------------------------------------------------
def test_batching_groups_calls_up_to_max_batch_size(serve_url):
    @serve.deployment(max_ongoing_requests=100, ray_actor_options=NO_CPU)
    class Batcher:
        def __init__(self):
            self.sizes = []

        @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.2)
        async def handle(self, xs):
            self.sizes.append(len(xs))
            return [x * 10 for x in xs]

        async def __call__(self, x):
            return await self.handle(x)

        def sizes_seen(self):
            return self.sizes

    h = serve.run(Batcher.bind(), name="batch", route_prefix=None)
    responses = [h.remote(i) for i in range(20)]
    assert [r.result() for r in responses] == [i * 10 for i in range(20)]
    sizes = h.sizes_seen.remote().result()
    assert sum(sizes) == 20
    assert max(sizes) == 8 and all(s <= 8 for s in sizes)
    assert len(sizes) <= 5


def test_sync_batching_and_bad_batch_size():
    with pytest.raises(ValueError, match="max_batch_size"):
        serve.batch(max_batch_size=0)
    with pytest.raises(ValueError, match="batch_wait_timeout_s"):
        serve.batch(batch_wait_timeout_s=-1)


# -- autoscaling -------------------------------------------------------------------
def test_autoscaling_up_under_load_and_back_down(serve_url):
    @serve.deployment(
        max_ongoing_requests=4, ray_actor_options=NO_CPU,
        autoscaling_config={"min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 1,
                            "upscale_delay_s": 0.5, "downscale_delay_s": 2,
                            "metrics_interval_s": 0.2, "look_back_period_s": 1})
    class Slow:
        async def __call__(self, x):
            await asyncio.sleep(0.5)
            return x

    serve.run(Slow.bind(), name="auto", route_prefix=None)
    h = serve.get_app_handle("auto")
    assert _replicas("auto", "Slow") == 1
    stop = threading.Event()
    errors = []

    def load():
        while not stop.is_set():
            try:
                [r.result() for r in [h.remote(1) for _ in range(6)]]
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        _wait_for(lambda: _replicas("auto", "Slow") == 3, 40, what="scale up to 3")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    _wait_for(lambda: _replicas("auto", "Slow") == 1 and
              serve.status().applications["auto"].deployments["Slow"].replica_states ==
              {"RUNNING": 1}, 40, what="scale down to 1")


def test_scale_to_zero_and_back(serve_url):
    @serve.deployment(
        ray_actor_options=NO_CPU,
        autoscaling_config={"min_replicas": 0, "max_replicas": 2, "initial_replicas": 1,
                            "target_ongoing_requests": 1, "upscale_delay_s": 0,
                            "downscale_delay_s": 1, "metrics_interval_s": 0.2,
                            "look_back_period_s": 0.5})
    def echo(x):
        return x

    h = serve.run(echo.bind(), name="zero", route_prefix=None)
    assert h.remote(3).result() == 3
    _wait_for(lambda: serve.status().applications["zero"].deployments["echo"]
              .replica_states == {}, 30, what="scale to zero")
    assert h.remote(4).result(timeout_s=60) == 4


# -- failures ----------------------------------------------------------------------
def test_killed_replica_is_replaced_while_requests_succeed(serve_url):
    @serve.deployment(num_replicas=2, ray_actor_options=NO_CPU)
    class Worker:
        def __call__(self, request):
            return str(os.getpid())

    serve.run(Worker.bind(), name="kill", route_prefix="/kill")
    pids = _wait_for(lambda: (lambda s: s if len(s) == 2 else None)(
        {httpx.get(f"{serve_url}/kill").text for _ in range(20)}), what="two replicas")
    victim = int(sorted(pids)[0])
    failures = []
    stop = threading.Event()

    def load():
        with httpx.Client() as client:
            while not stop.is_set():
                r = client.get(f"{serve_url}/kill")
                if r.status_code != 200:
                    failures.append(r.status_code)

    t = threading.Thread(target=load)
    t.start()
    try:
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: len({httpx.get(f"{serve_url}/kill").text for _ in range(20)}
                              - {str(victim)}) == 2 and _replicas("kill", "Worker") == 2,
                  60, what="a replacement replica")
    finally:
        stop.set()
        t.join()
    assert failures == []
    assert serve.status().applications["kill"].status == "RUNNING"


def test_failing_health_check_replaces_replica(serve_url):
    @serve.deployment(health_check_period_s=0.2, health_check_timeout_s=1,
                      ray_actor_options=NO_CPU)
    class Flaky:
        def __init__(self):
            self.fail = False

        def check_health(self):
            if self.fail:
                raise RuntimeError("unhealthy on purpose")

        def break_me(self):
            self.fail = True
            return os.getpid()

        def pid(self):
            return os.getpid()

    h = serve.run(Flaky.bind(), name="flaky", route_prefix=None)
    old = h.break_me.remote().result()
    _wait_for(lambda: h.pid.remote().result() != old, 30, what="replacement after health "
              "checks failed")


def test_constructor_failure_is_deploy_failed(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU)
    class Bad:
        def __init__(self):
            raise ZeroDivisionError("constructor blew up")

    with pytest.raises(RuntimeError, match="constructor blew up"):
        serve.run(Bad.bind(), name="bad", route_prefix=None)
    app = serve.status().applications["bad"]
    assert app.status == "DEPLOY_FAILED"
    assert app.deployments["Bad"].status == "DEPLOY_FAILED"


# -- redeploys ---------------------------------------------------------------------
def test_rolling_redeploy_drops_no_request(serve_url):
    def make(version):
        @serve.deployment(name="Versioned", num_replicas=2, ray_actor_options=NO_CPU,
                          graceful_shutdown_timeout_s=5)
        class Versioned:
            async def __call__(self, request):
                await asyncio.sleep(0.05)
                return version
        return Versioned

    serve.run(make("v1").bind(), name="roll", route_prefix="/roll")
    assert httpx.get(f"{serve_url}/roll").text == "v1"
    seen = []
    failures = []
    stop = threading.Event()

    def load():
        with httpx.Client() as client:
            while not stop.is_set():
                r = client.get(f"{serve_url}/roll")
                (seen if r.status_code == 200 else failures).append(r.text)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        serve.run(make("v2").bind(), name="roll", route_prefix="/roll")
        _wait_for(lambda: serve.status().applications["roll"].deployments["Versioned"]
                  .replica_states == {"RUNNING": 2}, 30, what="old replicas gone")
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert "v1" in seen and seen[-1] == "v2"
    assert httpx.get(f"{serve_url}/roll").text == "v2"


def test_delete_lets_requests_in_flight_finish(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU, max_ongoing_requests=10)
    class Slow:
        async def __call__(self, x):
            await asyncio.sleep(1.0)
            return x

    h = serve.run(Slow.bind(), name="slowdel", route_prefix=None)
    responses = [h.remote(i) for i in range(5)]
    time.sleep(0.3)  # all five are running on the replica
    serve.delete("slowdel")
    assert [r.result(timeout_s=30) for r in responses] == list(range(5))
    assert "slowdel" not in serve.status().applications
    with pytest.raises(RayServeException):
        serve.get_app_handle("slowdel")


def test_user_config_reconfigures_in_place(serve_url):
    @serve.deployment(user_config={"greeting": "hi"}, ray_actor_options=NO_CPU)
    class Greeter:
        def __init__(self):
            self.pid = os.getpid()

        def reconfigure(self, config):
            self.greeting = config["greeting"]

        def __call__(self, name):
            return f"{self.greeting} {name} from {self.pid}"

    h = serve.run(Greeter.bind(), name="greet", route_prefix=None)
    first = h.remote("ann").result()
    assert first.startswith("hi ann")
    serve.run(Greeter.options(user_config={"greeting": "hello"}).bind(), name="greet",
              route_prefix=None)
    second = h.remote("ann").result()
    assert second.startswith("hello ann")
    assert first.split()[-1] == second.split()[-1]  # the same process

    @serve.deployment(user_config={"a": 1}, ray_actor_options=NO_CPU)
    class NoReconfigure:
        def __call__(self):
            return 1

    with pytest.raises(RuntimeError, match="reconfigure"):
        serve.run(NoReconfigure.bind(), name="noreconf", route_prefix=None)


# -- backpressure ------------------------------------------------------------------
def test_backpressure_rejects_with_503(serve_url):
    @serve.deployment(max_ongoing_requests=1, max_queued_requests=1, ray_actor_options=NO_CPU)
    class Busy:
        async def __call__(self, request=None):
            await asyncio.sleep(1.0)
            return "done"

    h = serve.run(Busy.bind(), name="busy", route_prefix="/busy")
    results = []

    def call():
        results.append(httpx.get(f"{serve_url}/busy", timeout=30).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(503) >= 3 and results.count(200) >= 1
    r1, r2 = h.remote(), h.remote()
    with pytest.raises(BackPressureError, match="backpressure"):
        h.remote().result()
    assert r1.result() == "done" and r2.result() == "done"


# -- streaming ---------------------------------------------------------------------
def test_streaming_over_http_and_handle(serve_url):
    from starlette.responses import StreamingResponse

    @serve.deployment(ray_actor_options=NO_CPU)
    class Streamer:
        def __call__(self, request):
            n = int(request.query_params["n"])

            async def gen():
                for i in range(n):
                    yield f"chunk{i}\n"
                    await asyncio.sleep(0.1)

            return StreamingResponse(gen(), media_type="text/plain")

        def numbers(self, n):
            for i in range(n):
                yield i

    h = serve.run(Streamer.bind(), name="stream", route_prefix="/stream")
    arrivals = []
    start = time.monotonic()
    with httpx.stream("GET", f"{serve_url}/stream", params={"n": 5}) as r:
        assert r.status_code == 200
        text = ""
        for chunk in r.iter_text():
            arrivals.append(time.monotonic() - start)
            text += chunk
    assert text == "".join(f"chunk{i}\n" for i in range(5))
    assert len(arrivals) >= 3 and arrivals[-1] - arrivals[0] >= 0.2  # it streamed
    assert list(h.options(method_name="numbers", stream=True).remote(4)) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="stream=True"):
        h.numbers.remote(2).result()


# -- multiplexing ------------------------------------------------------------------
def test_multiplexed_models(serve_url):
    @serve.deployment(ray_actor_options=NO_CPU)
    class Models:
        def __init__(self):
            self.loads = []

        @serve.multiplexed(max_num_models_per_replica=2)
        async def get_model(self, model_id):
            self.loads.append(model_id)
            return f"model-{model_id}"

        async def __call__(self, request=None):
            model_id = serve.get_multiplexed_model_id()
            return await self.get_model(model_id)

        def loaded(self):
            return self.loads

    h = serve.run(Models.bind(), name="mux", route_prefix="/mux")
    assert h.options(multiplexed_model_id="a").remote().result() == "model-a"
    assert h.options(multiplexed_model_id="a").remote().result() == "model-a"
    r = httpx.get(f"{serve_url}/mux", headers={"serve_multiplexed_model_id": "b"})
    assert r.text == "model-b"
    assert h.loaded.remote().result() == ["a", "b"]


# -- serve deploy, the CLI, state beyond the driver ---------------------------------
APP_MODULE = '''
from photon import serve

@serve.deployment(ray_actor_options={"num_cpus": 0})
class Echo:
    def __init__(self, prefix):
        self.prefix = prefix

    def __call__(self, request):
        return self.prefix + request.query_params.get("q", "")

def build(args):
    return Echo.bind(args.get("prefix", "default:"))

app = Echo.bind("plain:")
'''


def _cli_env(serve_instance, tmp_path):
    env = dict(os.environ)
    env["PHOTON_ADDRESS"] = serve_instance["address"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), os.path.join(root, "python"),
                                         env.get("PYTHONPATH", "")])
    return env


def test_serve_deploy_yaml_and_status_cli(serve_instance, serve_url, tmp_path):
    (tmp_path / "echo_app.py").write_text(APP_MODULE)
    (tmp_path / "config.yaml").write_text(textwrap.dedent("""
        applications:
          - name: echo1
            route_prefix: /echo1
            import_path: echo_app:build
            args:
              prefix: "one:"
            deployments:
              - name: Echo
                num_replicas: 2
          - name: echo2
            route_prefix: /echo2
            import_path: echo_app:app
    """))
    env = _cli_env(serve_instance, tmp_path)
    cli = [sys.executable, "-m", "photon.serve.scripts"]
    out = subprocess.run(cli + ["deploy", str(tmp_path / "config.yaml")], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Sent deploy request successfully" in out.stdout
    _wait_for(lambda: httpx.get(f"{serve_url}/echo1", params={"q": "x"}).text == "one:x",
              60, what="echo1 deployed")
    assert httpx.get(f"{serve_url}/echo2", params={"q": "y"}).text == "plain:y"
    _wait_for(lambda: _replicas("echo1", "Echo") == 2, 30, what="two replicas")
    out = subprocess.run(cli + ["status"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status = yaml.safe_load(out.stdout)
    assert status["applications"]["echo1"]["status"] == "RUNNING"
    assert status["applications"]["echo1"]["deployments"]["Echo"]["replica_states"] == {
        "RUNNING": 2}
    (tmp_path / "bad.yaml").write_text("applications:\n  - name: x\n")
    out = subprocess.run(cli + ["deploy", str(tmp_path / "bad.yaml")], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "import_path" in out.stderr


def test_serve_run_cli(serve_instance, serve_url, tmp_path):
    (tmp_path / "echo_app.py").write_text(APP_MODULE)
    env = _cli_env(serve_instance, tmp_path)
    out = subprocess.run([sys.executable, "-m", "photon.serve.scripts", "run", "echo_app:build",
                          "prefix=cli:", "--route-prefix", "/cli", "--name", "cliapp",
                          "--non-blocking"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Deployed app(s) cliapp successfully" in out.stdout
    assert httpx.get(f"{serve_url}/cli", params={"q": "w"}).text == "cli:w"
    bad = subprocess.run([sys.executable, "-m", "photon.serve.scripts", "run",
                          "echo_app:nothing"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0 and "has no attribute 'nothing'" in bad.stderr


def test_state_survives_the_driver_that_ran_it(serve_instance, serve_url, tmp_path):
    (tmp_path / "echo_app.py").write_text(APP_MODULE)
    driver = textwrap.dedent("""
        import photon
        from photon import serve
        import echo_app
        photon.init()
        serve.run(echo_app.Echo.bind("kept:"), name="kept", route_prefix="/kept")
        print("deployed", flush=True)
    """)
    out = subprocess.run([sys.executable, "-c", driver], env=_cli_env(serve_instance, tmp_path),
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert httpx.get(f"{serve_url}/kept", params={"q": "z"}).text == "kept:z"
    assert serve.status().applications["kept"].status == "RUNNING"
    assert serve.get_app_handle("kept") is not None


def test_dashboard_serve_api(serve_instance, serve_url, tmp_path):
    (tmp_path / "echo_app.py").write_text(APP_MODULE)
    auth = {"Authorization": f"Bearer {serve_instance['token']}"}
    api = f"{serve_instance['dashboard']}/api/serve/applications/"
    config = {"applications": [{"name": "viadash", "route_prefix": "/viadash",
                                "import_path": "echo_app:build", "args": {"prefix": "dash:"},
                                "runtime_env": {"working_dir": str(tmp_path)}}]}
    r = httpx.put(api, json=config, headers=auth, timeout=120)
    assert r.status_code == 200, r.text
    _wait_for(lambda: httpx.get(f"{serve_url}/viadash", params={"q": "1"}).text == "dash:1",
              60, what="the app deployed through the dashboard")
    details = _wait_for(lambda: (lambda d: d if d["applications"].get("viadash", {})
                                 .get("status") == "RUNNING" else None)(
        httpx.get(api, headers=auth, timeout=30).json()), 30, what="RUNNING in the API")
    app = details["applications"]["viadash"]
    assert app["route_prefix"] == "/viadash"
    echo = app["deployments"]["Echo"]
    assert echo["status"] == "HEALTHY" and len(echo["replicas"]) == 1
    replica = echo["replicas"][0]
    assert replica["state"] == "RUNNING" and replica["pid"] > 0 and replica["node_id"]
    assert details["http_options"]["port"] == serve_instance["port"]
    assert details["controller_info"]["actor_name"] == "SERVE_CONTROLLER_ACTOR"
    bad = httpx.put(api, json={"applications": [{"name": "x"}]}, headers=auth, timeout=30)
    assert bad.status_code == 400 and "import_path" in bad.text
    missing = httpx.put(api, json={"applications": [{"name": "x", "import_path": "nope_mod:app"}]},
                        headers=auth, timeout=60)
    assert missing.status_code == 400 and "nope_mod" in missing.text
    assert httpx.get(f"{serve_url}/viadash", params={"q": "2"}).text == "dash:2"


# -- bad input ---------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors(serve_url):
    with pytest.raises(TypeError, match="bind"):
        @serve.deployment
        class A:
            pass
        serve.run(A)
    with pytest.raises(ValueError, match="num_replicas"):
        serve.deployment(num_replicas=-1)
    with pytest.raises(ValueError, match="num_replicas"):
        serve.deployment(num_replicas=0)
    with pytest.raises(ValueError, match="num_replicas"):  # as Ray's pydantic error
        serve.deployment(num_replicas="x")
    with pytest.raises(KeyError, match="does not exist"):
        serve.get_deployment_handle("Nope", app_name="ghost")
    with pytest.raises(RayServeException, match="specify an application name"):
        serve.get_deployment_handle("Nope")
    with pytest.raises(TypeError, match="num_replica"):
        serve.deployment(num_replica=1)
    with pytest.raises(ValueError, match="must start with a forward slash"):
        serve.deployment(route_prefix="nope")
    with pytest.raises(ValueError, match="max_replicas"):
        serve.deployment(autoscaling_config={"min_replicas": 3, "max_replicas": 1})
    with pytest.raises(ValueError, match="Manually setting num_replicas"):
        serve.deployment(num_replicas=2, autoscaling_config={"max_replicas": 3})
    with pytest.raises(RayServeException, match="Application 'ghost' does not exist"):
        serve.get_app_handle("ghost")
    with pytest.raises(ValueError, match="@serve.ingress must be used with a class"):
        serve.ingress(object())(lambda: 1)

    @serve.deployment(ray_actor_options=NO_CPU)
    def f(request):
        return "f"

    serve.run(f.bind(), name="first", route_prefix="/same")
    with pytest.raises(RayServeException,
                       match='Prefix /same is being used by application "first"'):
        serve.run(f.bind(), name="second", route_prefix="/same")
    with pytest.raises(RuntimeError, match="Deployments cannot be constructed directly"):
        f()
