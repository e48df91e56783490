"""photon.serve: online serving with Ray Serve's API (see docs/serve.md).

A detached controller actor reconciles each application's deployments into
replica actors; DeploymentHandles route calls to replicas from any process;
an HTTP proxy actor (uvicorn) routes requests by route_prefix.
"""
from photon.serve.api import (RunTarget, delete, get_app_handle, get_deployment_handle,
                              get_replica_context, ingress, run, run_many, shutdown,
                              shutdown_async, start, status)
from photon.serve.batching import batch
from photon.serve.config import AutoscalingConfig, HTTPOptions, ProxyLocation, gRPCOptions
from photon.serve.deployment import Application, Deployment, deployment
from photon.serve.handle import (DeploymentHandle, DeploymentResponse,
                                 DeploymentResponseGenerator)
from photon.serve.multiplex import get_multiplexed_model_id, multiplexed

__all__ = [
    "batch", "start", "HTTPOptions", "get_replica_context", "shutdown", "ingress", "deployment",
    "run", "delete", "Application", "Deployment", "multiplexed", "get_multiplexed_model_id",
    "status", "get_app_handle", "get_deployment_handle", "AutoscalingConfig", "ProxyLocation",
    "gRPCOptions", "DeploymentHandle", "DeploymentResponse", "DeploymentResponseGenerator",
    "RunTarget", "run_many", "shutdown_async",
]
