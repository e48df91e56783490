"""The jobs REST API, with Ray's routes and bodies (so Ray's
JobSubmissionClient talks to Photon too):

  POST   /api/jobs/                    submit: {"entrypoint", "submission_id", "runtime_env",
                                       "metadata", "entrypoint_num_cpus", ...} ->
                                       {"job_id", "submission_id"}
  GET    /api/jobs/                    every job (submissions and plain drivers)
  GET    /api/jobs/{id}                one (by submission id or job id)
  GET    /api/jobs/{id}/logs           {"logs": text}; ?offset=N gives the text from byte N
                                       and "next_offset" (Photon's addition, for polling)
  WS     /api/jobs/{id}/logs/tail      the log as it grows, until the job ends
  POST   /api/jobs/{id}/stop           {"stopped": bool}
  DELETE /api/jobs/{id}                {"deleted": bool}
  GET|PUT /api/packages/{protocol}/{name}  a runtime_env package (working_dir, py_modules)

Errors are plain text with 4xx/5xx, as Ray's client expects."""
import asyncio
import json

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from photon.dashboard.modules.job import common
from photon.dashboard.modules.job.job_manager import JobManager
from photon._private.runtime_env import packaging

_SUBMIT_FIELDS = ("entrypoint", "submission_id", "job_id", "runtime_env", "metadata",
                  "entrypoint_num_cpus", "entrypoint_num_gpus", "entrypoint_memory",
                  "entrypoint_resources")
_TAIL_POLL_S = 0.25


def _text(status, msg):
    return PlainTextResponse(msg, status_code=status)


class JobHead:
    def __init__(self, ctx):
        self.ctx = ctx
        self.manager = JobManager(ctx.gcs_address, ctx.session_dir)

    def routes(self):
        return [
            Route("/api/jobs/", self.list_or_submit, methods=["GET", "POST"]),
            Route("/api/jobs", self.list_or_submit, methods=["GET", "POST"]),
            Route("/api/jobs/{job_id}/logs", self.logs, methods=["GET"]),
            WebSocketRoute("/api/jobs/{job_id}/logs/tail", self.tail),
            Route("/api/jobs/{job_id}/stop", self.stop, methods=["POST"]),
            Route("/api/jobs/{job_id}", self.get_or_delete, methods=["GET", "DELETE"]),
            Route("/api/packages/{protocol}/{name}", self.package, methods=["GET", "PUT"]),
        ]

    def shutdown(self):
        self.manager.shutdown()

    async def list_or_submit(self, request):
        if request.method == "GET":
            try:
                jobs = await run_in_threadpool(self.manager.list_jobs)
            except (RuntimeError, ValueError) as e:
                return _text(500, str(e))
            return JSONResponse(jobs)
        try:
            body = await request.json()
        except (ValueError, json.JSONDecodeError):
            return _text(400, "the request body is not JSON")
        if not isinstance(body, dict):
            return _text(400, "the request body must be a JSON object")
        # Fields of newer Ray clients that Photon lacks pass when unset.
        unknown = sorted(k for k in set(body) - set(_SUBMIT_FIELDS) if body[k] is not None)
        if unknown:
            return _text(400, f"unknown field(s) in the job submission: {', '.join(unknown)}")
        kwargs = {k: body.get(k) for k in _SUBMIT_FIELDS if k != "job_id"}
        if kwargs.get("submission_id") is None and body.get("job_id") is not None:
            kwargs["submission_id"] = body["job_id"]  # Ray's deprecated name
        try:
            sid = await run_in_threadpool(lambda: self.manager.submit(**kwargs))
        except (ValueError, TypeError) as e:
            return _text(400, str(e))
        except Exception as e:  # noqa: BLE001 - the cluster refused: the client sees why
            return _text(500, f"{type(e).__name__}: {e}")
        return JSONResponse({"job_id": sid, "submission_id": sid})

    async def _find(self, job_id):
        return await run_in_threadpool(self.manager.find, job_id)

    async def _submission(self, job_id, what):
        """(its record, None) for a submitted job; (None, the error response)
        for an unknown job or a plain driver."""
        info = await self._find(job_id)
        if info is None:
            return None, _text(404, f"Job {job_id} does not exist")
        if info.get("type") != "SUBMISSION":
            return None, _text(400, f"Job {job_id} is a driver, not a submitted job: {what}")
        return info, None

    async def get_or_delete(self, request):
        job_id = request.path_params["job_id"]
        if request.method == "GET":
            info = await self._find(job_id)
            if info is None:
                return _text(404, f"Job {job_id} does not exist")
            return JSONResponse(info)
        info, error = await self._submission(job_id, "only submitted jobs can be deleted")
        if error is not None:
            return error
        try:
            deleted = await run_in_threadpool(self.manager.delete, info["submission_id"])
        except RuntimeError as e:
            return _text(400, str(e))
        return JSONResponse({"deleted": deleted})

    async def stop(self, request):
        info, error = await self._submission(request.path_params["job_id"],
                                             "stop it where it runs")
        if error is not None:
            return error
        try:
            stopped = await run_in_threadpool(self.manager.stop, info["submission_id"])
        except Exception as e:  # noqa: BLE001
            return _text(500, f"{type(e).__name__}: {e}")
        return JSONResponse({"stopped": stopped})

    async def logs(self, request):
        job_id = request.path_params["job_id"]
        info = await self._find(job_id)
        if info is None:
            return _text(404, f"Job {job_id} does not exist")
        if info.get("type") != "SUBMISSION":
            return JSONResponse({"logs": ""})
        polling = "offset" in request.query_params
        try:
            offset = int(request.query_params.get("offset", 0))
            text, nxt = await run_in_threadpool(self.manager.read_logs, info["submission_id"],
                                                offset)
        except ValueError as e:
            return _text(400, str(e))
        except Exception as e:  # noqa: BLE001 - the node is gone, say so
            return _text(500, f"cannot read the logs of job {job_id}: {e}")
        # Ray's client builds a JobLogsResponse of exactly {"logs"}: the
        # offset comes back only to a caller that polls with one.
        return JSONResponse({"logs": text, "next_offset": nxt} if polling else {"logs": text})

    async def tail(self, websocket):
        job_id = websocket.path_params["job_id"]
        await websocket.accept()
        info = await self._find(job_id)
        if info is None or info.get("type") != "SUBMISSION":
            await websocket.close(code=1000)
            return
        sid = info["submission_id"]
        offset = 0
        try:
            while True:
                text, offset = await run_in_threadpool(self.manager.read_logs, sid, offset)
                if text:
                    await websocket.send_text(text)
                    continue
                info = await run_in_threadpool(self.manager.get_info, sid)
                if info is None or common.JobStatus(info["status"]).is_terminal():
                    text, offset = await run_in_threadpool(self.manager.read_logs, sid, offset)
                    if text:
                        await websocket.send_text(text)
                    break
                await asyncio.sleep(_TAIL_POLL_S)
        except WebSocketDisconnect:
            return
        await websocket.close(code=1000)

    async def package(self, request):

        protocol, name = request.path_params["protocol"], request.path_params["name"]
        uri = f"{protocol}://{name}"
        try:
            packaging.check_uri(uri)
        except ValueError as e:
            return _text(400, str(e))
        if request.method == "GET":
            exists = await run_in_threadpool(packaging.package_exists, uri, self.ctx.gcs_address)
            return Response(status_code=200 if exists else 404)
        data = await request.body()
        try:
            await run_in_threadpool(packaging.store_package, uri, data, self.ctx.gcs_address)
        except ValueError as e:
            return _text(400, str(e))
        return Response(status_code=200)
