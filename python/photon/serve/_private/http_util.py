"""HTTP helpers of the proxy and replicas: the ASGI scope sent to a replica,
a handler's return value as a Response, and a FastAPI app's class-method
routes bound to the replica's instance."""
import inspect
import json


_SCOPE_KEYS = ("type", "asgi", "http_version", "method", "scheme", "path", "raw_path",
               "root_path", "query_string", "headers", "client", "server")


def sanitize_scope(scope, root_path):
    """The picklable part of an ASGI http scope, for the replica."""
    out = {k: scope[k] for k in _SCOPE_KEYS if k in scope}
    out["headers"] = [(bytes(k), bytes(v)) for k, v in scope.get("headers", ())]
    out["root_path"] = root_path
    out["asgi"] = dict(scope.get("asgi") or {"version": "3.0"})
    out["state"] = {}
    return out


def to_response(result):
    """A handler's return value as a starlette Response (Ray Serve's rules:
    a Response as is, str/bytes as text, anything else as JSON)."""
    from starlette.responses import Response, StreamingResponse
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(b"", media_type="text/plain")
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        # As Ray: a handler that yields streams its items.
        return StreamingResponse(result, media_type="text/plain")
    if isinstance(result, str):
        return Response(result, media_type="text/plain")
    if isinstance(result, (bytes, bytearray, memoryview)):
        return Response(bytes(result), media_type="text/plain")
    try:
        from fastapi.encoders import jsonable_encoder
        body = json.dumps(jsonable_encoder(result), separators=(",", ":"))
    except ImportError:
        body = json.dumps(result, separators=(",", ":"), default=str)
    return Response(body, media_type="application/json")


def internal_error():
    """Ray Serve's answer to an exception in a (non-ASGI) HTTP handler."""
    from starlette.responses import Response
    return Response("Internal Server Error", status_code=500)


def _class_functions(cls):
    out = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            out[id(value)] = name
    return out


def bind_asgi_app(app, cls, instance):
    """The ASGI app to serve for `instance` of the ingress class `cls`: a
    FastAPI app's routes whose endpoints are methods of `cls` are re-made
    with the bound methods (so `self` is not a request parameter)."""
    try:
        from fastapi.routing import APIRoute
    except ImportError:
        return app
    routes = getattr(getattr(app, "router", None), "routes", None)
    if routes is None:
        return app
    methods = _class_functions(cls)
    params = [p for p in inspect.signature(APIRoute.__init__).parameters
              if p not in ("self", "path", "endpoint")]
    changed = False
    for i, route in enumerate(list(routes)):
        if not isinstance(route, APIRoute) or id(route.endpoint) not in methods:
            continue
        bound = getattr(instance, methods[id(route.endpoint)])
        kwargs = {p: getattr(route, p) for p in params if hasattr(route, p)}
        if "methods" in kwargs and kwargs["methods"] is not None:
            kwargs["methods"] = list(kwargs["methods"])
        routes[i] = APIRoute(route.path, bound, **kwargs)
        changed = True
    if changed and hasattr(app, "openapi_schema"):
        app.openapi_schema = None
    return app
