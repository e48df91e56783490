"""The `serve` command (also `photon serve`): run, deploy, status, shutdown,
with Ray Serve's CLI arguments."""
import argparse
import os
import sys
import time

import yaml

import photon
from photon.serve import api
from photon.serve.schema import ServeDeploySchema


def _connect(address, start_local):
    if photon.is_initialized():
        return
    address = address or os.environ.get("PHOTON_ADDRESS") or os.environ.get("RAY_ADDRESS")
    if address:
        photon.init(address=address)
        return
    try:
        photon.init(address="auto")
    except (ConnectionError, RuntimeError, ValueError):
        if not start_local:
            raise SystemExit("Could not find a running Photon cluster on this host: start one "
                             "with `photon start --head` (or pass --address).") from None
        photon.init()


def _load_config(path):
    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except OSError as e:
        raise SystemExit(f"Cannot read config file '{path}': {e.strerror}.") from None
    except yaml.YAMLError as e:
        raise SystemExit(f"Config file '{path}' is not valid YAML: {e}") from None
    try:
        return ServeDeploySchema.parse(raw, source=f"config file '{path}'")
    except (ValueError, TypeError) as e:
        raise SystemExit(str(e)) from None


def _parse_args_list(items):
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"Application arguments must be key=value, got '{item}'.")
        k, _, v = item.partition("=")
        out[k] = v
    return out


def _cmd_run(ns):
    sys.path.insert(0, ns.app_dir)
    _connect(ns.address, start_local=True)
    target = ns.config_or_import_path
    if target.endswith((".yaml", ".yml")):
        config = _load_config(target)
        api.deploy_config(config)
        for app in config.applications:
            api._wait_running(api._controller_or_raise(), app.name)
        names = [a.name for a in config.applications]
    else:
        try:
            app = api.build_app_from_import_path(target, _parse_args_list(ns.arguments))
        except (ImportError, AttributeError, TypeError, ValueError) as e:
            raise SystemExit(str(e)) from None
        route_prefix = ns.route_prefix if ns.route_prefix is not None else api.DEFAULT
        api.run(app, name=ns.name, route_prefix=route_prefix)
        names = [ns.name]
    address = api.http_address()
    where = f" at http://{address[0]}:{address[1]}" if address else ""
    print(f"Deployed app(s) {', '.join(names)} successfully{where}.", flush=True)
    if not ns.blocking:
        return 0
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("Got KeyboardInterrupt, shutting down...", flush=True)
        api.shutdown()
    return 0


def _cmd_deploy(ns):
    config = _load_config(ns.config_file_name)
    _connect(ns.address, start_local=False)
    try:
        api.deploy_config(config)
    except (ImportError, AttributeError, TypeError, ValueError) as e:
        raise SystemExit(str(e)) from None
    print("Sent deploy request successfully.", flush=True)
    return 0


def _cmd_status(ns):
    _connect(ns.address, start_local=False)
    status = api.status().to_dict()
    if ns.name:
        app = status["applications"].get(ns.name)
        if app is None:
            print(f"Application '{ns.name}' does not exist.", flush=True)
            return 0
        print(yaml.safe_dump(app, sort_keys=False), end="", flush=True)
        return 0
    if not status["applications"] and not status["proxies"]:
        print("There are no applications running on this cluster.", flush=True)
        return 0
    print(yaml.safe_dump(status, sort_keys=False), end="", flush=True)
    return 0


def _cmd_shutdown(ns):
    if not ns.yes:
        answer = input("This will shut down Serve on the cluster at the address and delete "
                       "all applications. Continue? [y/N]: ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Aborted.")
            return 1
    _connect(ns.address, start_local=False)
    api.shutdown()
    print("Sent shutdown request; applications will be deleted asynchronously.", flush=True)
    return 0


def _parser():
    p = argparse.ArgumentParser(prog="serve", description="Photon Serve's CLI (Ray Serve's "
                                "commands).")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="Run an application (import path or config file) and "
                         "block until Ctrl-C.")
    run.add_argument("config_or_import_path")
    run.add_argument("arguments", nargs="*", help="key=value arguments of a builder")
    run.add_argument("--address", "-a", default=None)
    run.add_argument("--route-prefix", default=None)
    run.add_argument("--name", default="default")
    run.add_argument("--app-dir", "-d", default=".")
    run.add_argument("--blocking", dest="blocking", action="store_true", default=True)
    run.add_argument("--non-blocking", dest="blocking", action="store_false")
    deploy = sub.add_parser("deploy", help="Deploy the applications of a config file.")
    deploy.add_argument("config_file_name")
    deploy.add_argument("--address", "-a", default=None)
    status = sub.add_parser("status", help="Print the status of Serve's applications.")
    status.add_argument("--address", "-a", default=None)
    status.add_argument("--name", "-n", default=None)
    shutdown = sub.add_parser("shutdown", help="Delete every application and stop Serve.")
    shutdown.add_argument("--address", "-a", default=None)
    shutdown.add_argument("--yes", "-y", action="store_true")
    return p


def main(argv=None):
    ns = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    handler = {"run": _cmd_run, "deploy": _cmd_deploy, "status": _cmd_status,
               "shutdown": _cmd_shutdown}[ns.command]
    return handler(ns)


if __name__ == "__main__":
    sys.exit(main())
