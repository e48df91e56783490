"""Serve's REST routes, with Ray's paths and bodies:

  GET    /api/serve/applications/   Serve's state: controller, proxies, HTTP options
                                    and every application with its deployments and
                                    replicas (Ray's ServeInstanceDetails fields)
  PUT    /api/serve/applications/   deploy a config (Ray's ServeDeploySchema, as JSON);
                                    each application is built in a task with its
                                    runtime_env; applications it does not name are deleted
  DELETE /api/serve/applications/   shut Serve down

The dashboard joins the cluster as a driver (the job manager's connection)
to reach the Serve controller."""
import json

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from photon.serve import api as serve_api
from photon.serve.schema import ServeDeploySchema


class ServeHead:
    def __init__(self, connect):
        self._connect = connect  # joins the cluster (once) as the dashboard's driver

    def routes(self):
        return [Route("/api/serve/applications/", self.dispatch,
                      methods=["GET", "PUT", "DELETE"])]

    async def dispatch(self, request):
        if request.method == "GET":
            return await self.get(request)
        if request.method == "PUT":
            return await self.put(request)
        return await self.delete(request)

    def _details(self):
        self._connect()
        return serve_api.serve_details()

    async def get(self, request):
        try:
            details = await run_in_threadpool(self._details)
        except Exception as e:  # noqa: BLE001 - the controller is busy or gone
            return PlainTextResponse(f"Failed to get Serve's state: {e}", status_code=503)
        return JSONResponse(details)

    def _deploy(self, config):
        self._connect()
        return serve_api.deploy_config(config, in_tasks=True)

    async def put(self, request):
        try:
            raw = json.loads(await request.body())
            config = ServeDeploySchema.parse(raw, source="the request body")
        except (ValueError, TypeError) as e:
            return PlainTextResponse(str(e), status_code=400)
        try:
            await run_in_threadpool(self._deploy, config)
        except Exception as e:  # noqa: BLE001 - e.g. an import_path that does not import
            cause = getattr(e, "cause", None) or e
            return PlainTextResponse(f"Failed to deploy the config: {cause}", status_code=400)
        return Response(status_code=200)

    def _shutdown(self):
        self._connect()
        serve_api.shutdown()

    async def delete(self, request):
        await run_in_threadpool(self._shutdown)
        return Response(status_code=200)
