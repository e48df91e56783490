"""The dashboard process: `python -m photon.dashboard --gcs-address ...`
(started by launcher.start). Serves head.create_app on the socket it was
handed (--fd) or on --host/--port."""
import argparse
import logging
import os
import socket
import sys

from photon.dashboard import head, launcher
from photon._private import config

logger = logging.getLogger("photon.dashboard")


def _token(session_dir):
    """The cluster token the dashboard asks of its clients ("" when the
    cluster runs without authentication)."""

    if config.setting("auth_mode") == "disabled":
        return ""
    configured = config.setting("cluster_token")
    if configured:
        return configured
    try:
        with open(os.path.join(session_dir, "cluster_token")) as f:
            return f.read().strip()
    except OSError:
        return ""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m photon.dashboard")
    p.add_argument("--gcs-address", required=True)
    p.add_argument("--session-dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=launcher.DEFAULT_PORT)
    p.add_argument("--fd", type=int, default=-1, help="serve this listening socket")
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process ends")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.parent_pid:
        launcher.die_with_parent(args.parent_pid)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvicorn

    app = head.create_app(head.HeadContext(
        gcs_address=args.gcs_address, session_dir=args.session_dir,
        token=_token(args.session_dir), host=args.host, port=args.port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            ws="websockets", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    sockets = None
    if args.fd >= 0:
        sock = socket.socket(fileno=args.fd)
        sockets = [sock]
    else:
        config.host, config.port = args.host, args.port
    logger.info("dashboard of %s serving on %s:%d", args.gcs_address, args.host, args.port)
    server.run(sockets=sockets)


if __name__ == "__main__":
    main()
