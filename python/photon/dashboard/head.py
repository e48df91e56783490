"""The dashboard's web application (starlette): the JSON API under /api/, the
jobs REST API (modules/job/job_head.py), Serve's REST API
(modules/serve/serve_head.py) and the static web UI (client/).

Every route but the UI's static files asks for the cluster token (when the
cluster has one): `Authorization: Bearer <token>`, the `photon-token` cookie,
or `?token=<token>` (which also sets the cookie, so a browser opened on the
URL `photon start --head` prints stays signed in)."""
import contextlib
import dataclasses
import hmac
import json
import os

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import photon
from photon import _photon
from photon.dashboard.metrics_history import MetricsHistory
from photon.dashboard.modules.job import job_head
from photon.dashboard.modules.serve import serve_head

CLIENT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "client")
TOKEN_COOKIE = "photon-token"
# Ray's dashboard API version, and the Ray release whose API Photon follows:
# Ray's JobSubmissionClient refuses a cluster whose ray_version is below 1.9.
API_VERSION = "4"
RAY_API_RELEASE = "2.60.0"
# The state API resources the /api/v0/{resource} routes serve.
STATE_RESOURCES = ("tasks", "actors", "objects", "nodes", "jobs", "workers", "placement_groups")
SUMMARIES = ("tasks", "actors", "objects")


@dataclasses.dataclass
class HeadContext:
    gcs_address: str
    session_dir: str
    token: str = ""
    host: str = "127.0.0.1"
    port: int = 0


def _presented_token(scope_headers, query, cookies):
    auth = scope_headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return query.get("token") or cookies.get(TOKEN_COOKIE) or ""


class TokenAuth:
    """ASGI middleware: refuses requests (HTTP and websocket) without the
    cluster token, except the UI's static files (the page then asks the API
    with the token the user gave it)."""

    def __init__(self, app, token):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or not self.token or \
                not scope["path"].startswith("/api/"):
            return await self.app(scope, receive, send)
        from starlette.requests import HTTPConnection

        conn = HTTPConnection(scope)
        given = _presented_token(conn.headers, conn.query_params, conn.cookies)
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        response = JSONResponse(
            {"result": False, "msg": "Unauthorized: this cluster requires its token "
             "(Authorization: Bearer <token>, the photon-token cookie or ?token=); it is in "
             "cluster_token of the head's session folder"}, status_code=401)
        await response(scope, receive, send)


def ok(data, msg=""):
    """Ray's dashboard reply envelope."""
    return JSONResponse({"result": True, "msg": msg, "data": data})


def fail(msg, status_code=400):
    return JSONResponse({"result": False, "msg": msg, "data": {}}, status_code=status_code)


def _filters(params):
    keys = params.getlist("filter_keys")
    predicates = params.getlist("filter_predicates")
    values = params.getlist("filter_values")
    if not (len(keys) == len(predicates) == len(values)):
        raise ValueError("filter_keys, filter_predicates and filter_values must come in threes")
    for p in predicates:
        if p not in ("=", "!="):
            raise ValueError(f"unsupported predicate {p!r}: use '=' or '!='")
    return list(zip(keys, predicates, values))


def _bool(params, name, default=False):
    v = params.get(name)
    if v is None:
        return default
    return v.lower() in ("1", "true", "yes")


def create_app(ctx, history=None):
    jobs = job_head.JobHead(ctx)
    serve = serve_head.ServeHead(jobs.manager.connect)
    history = history or MetricsHistory(ctx.gcs_address)

    async def version(request):
        return JSONResponse({"version": API_VERSION, "ray_version": RAY_API_RELEASE,
                             "photon_version": photon.__version__, "ray_commit": "",
                             "session_name": os.path.basename(ctx.session_dir)})

    async def state_list(request):
        resource = request.path_params["resource"]
        if resource not in STATE_RESOURCES:
            return fail(f"unknown resource {resource!r}: one of {', '.join(STATE_RESOURCES)}",
                        404)
        try:
            limit = int(request.query_params.get("limit", 100))
            filters = _filters(request.query_params)
        except ValueError as e:
            return fail(str(e))
        detail = _bool(request.query_params, "detail")
        try:
            rows, total, warnings, failures = await run_in_threadpool(
                _photon.state_list, resource, filters, limit, detail, ctx.gcs_address)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e))
        rows = json.loads(rows)
        return ok({"result": {"total": total, "num_after_truncation": len(rows),
                              "num_filtered": len(rows), "result": rows,
                              "partial_failure_warning": "; ".join(failures),
                              "warnings": list(warnings)}})

    async def state_get(request):
        resource, rid = request.path_params["resource"], request.path_params["id"]
        if resource not in STATE_RESOURCES:
            return fail(f"unknown resource {resource!r}", 404)
        try:
            got = await run_in_threadpool(_photon.state_get, resource, rid, ctx.gcs_address)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e))
        if got is None:
            return fail(f"{resource[:-1]} {rid} does not exist", 404)
        return ok({"result": json.loads(got)})

    async def summarize(request):
        resource = request.path_params["resource"]
        if resource not in SUMMARIES:
            return fail(f"no summary of {resource!r}: one of {', '.join(SUMMARIES)}", 404)
        try:
            got = await run_in_threadpool(_photon.state_summarize, resource, ctx.gcs_address)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e))
        return ok({"result": json.loads(got)})

    async def timeline(request):
        try:
            got = await run_in_threadpool(_photon.state_timeline, ctx.gcs_address)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e))
        return Response(got, media_type="application/json")

    async def list_logs(request):
        q = request.query_params
        try:
            got = await run_in_threadpool(_photon.state_list_logs, q.get("node_id", ""),
                                          q.get("node_ip", ""), q.get("glob", "*"),
                                          ctx.gcs_address)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e))
        return ok({"result": json.loads(got)})

    async def get_log(request):
        q = request.query_params
        try:
            lines = int(q.get("lines", 1000))
            pid = int(q.get("pid", 0))
            text = await run_in_threadpool(
                read_log, ctx.gcs_address, q.get("node_id", ""), q.get("node_ip", ""),
                q.get("filename", ""), q.get("actor_id", ""), q.get("task_id", ""), pid,
                q.get("suffix", "out"), lines)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e))
        return PlainTextResponse(text)

    async def cluster_status(request):
        try:
            got = await run_in_threadpool(_photon.state_cluster_status, ctx.gcs_address)
        except (ValueError, RuntimeError, TimeoutError) as e:
            return fail(str(e), 503)
        return Response(got, media_type="application/json")

    async def metrics_history(request):
        try:
            since = float(request.query_params.get("since", 0))
        except ValueError:
            return fail("since must be a time in seconds since the epoch")
        return JSONResponse(history.snapshot(since))

    async def index(request):
        path = os.path.join(CLIENT_DIR, "index.html")
        if not os.path.exists(path):
            return PlainTextResponse("the dashboard's web UI is not installed", status_code=404)
        return FileResponse(path)

    routes = [
        Route("/", index),
        Route("/api/version", version),
        Route("/api/cluster_status", cluster_status),
        Route("/api/metrics/history", metrics_history),
        Route("/api/v0/tasks/timeline", timeline),
        Route("/api/v0/logs", list_logs),
        Route("/api/v0/logs/file", get_log),
        Route("/api/v0/{resource}/summarize", summarize),
        Route("/api/v0/{resource}/{id}", state_get),
        Route("/api/v0/{resource}", state_list),
    ] + jobs.routes() + serve.routes()
    if os.path.isdir(os.path.join(CLIENT_DIR, "static")):
        routes.append(Mount("/static", StaticFiles(directory=os.path.join(CLIENT_DIR, "static"))))
    @contextlib.asynccontextmanager
    async def lifespan(app):
        history.start()
        yield
        history.stop()
        await run_in_threadpool(jobs.shutdown)

    app = Starlette(routes=routes, middleware=[Middleware(TokenAuth, token=ctx.token)],
                    lifespan=lifespan)
    app.state.ctx = ctx
    return app


def read_log(gcs_address, node_id, node_ip, filename, actor_id, task_id, pid, suffix, lines):
    """The last `lines` lines of one log (by file name, actor, task or pid)."""
    raylet, request, empty, _ = _photon.state_resolve_log(
        node_id, node_ip, filename, actor_id, task_id, pid, 0, suffix, lines, gcs_address)
    if empty:
        return ""
    data, _, _ = _photon.state_read_log(raylet, request, empty, -1, -1, lines)
    return data.decode("utf-8", errors="replace")
