"""photon.util.list_named_actors and get_node_ip_address (Ray's names)."""
import socket

import photon
from photon import _photon
from photon._private import worker


def list_named_actors(all_namespaces=False):
    """The names of the live named actors in this job's namespace, or, with
    all_namespaces=True, dicts {"name", "namespace"} for every namespace."""
    worker.ensure_initialized()
    current = worker.current_namespace()
    out = []
    for a in _photon.list_actors():
        if not a["name"] or a["state"] == "DEAD":
            continue
        if all_namespaces:
            out.append({"name": a["name"], "namespace": a["namespace"]})
        elif a["namespace"] == current:
            out.append(a["name"])
    return out


def get_node_ip_address(address="8.8.8.8:53"):
    """This node's IP address as the cluster sees it."""
    if worker.is_initialized():
        for n in photon.nodes():
            if n["NodeID"] == _photon.node_id().hex():
                return n["NodeManagerAddress"]
    host, port = address.rsplit(":", 1)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, int(port)))
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
