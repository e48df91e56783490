"""record_ref_creation_sites: where each object reference was made (the
memory view's call_site), recorded only when the config row is on (env
PHOTON_RECORD_REF_CREATION_SITES=1, or RAY_record_ref_creation_sites=1 as in
Ray) — a stack walk per created reference costs too much to pay always.
record_task_actor_creation_sites does the same for the tasks, actors and
actor calls the state API lists (RAY_record_task_actor_creation_sites=1 as
in Ray)."""
import os
import sys

from photon import _photon
from photon._private import state

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MAX_FRAMES = 4


def _on(attr, row, ray_env):
    conn = state.connection
    cached = getattr(conn, attr, None)
    if cached is None or cached[0] != conn.epoch:
        on = bool(row()) or os.environ.get(ray_env, "") in ("1", "true", "True")
        cached = (conn.epoch, on)
        setattr(conn, attr, cached)
    return cached[1]


def _enabled():
    return _on("_record_sites", _photon.record_ref_creation_sites,
               "RAY_record_ref_creation_sites")


def task_site(kind):
    """The caller's call site for the spec of a task, actor or actor call
    ("" unless record_task_actor_creation_sites is on)."""
    if not _on("_record_task_sites", _photon.record_task_actor_creation_sites,
               "RAY_record_task_actor_creation_sites"):
        return ""
    return _site(kind)


def _site(kind):
    frames = []
    f = sys._getframe(2)
    while f is not None and len(frames) < _MAX_FRAMES:
        path = f.f_code.co_filename
        if not os.path.abspath(path).startswith(_PACKAGE_DIR):
            frames.append(f"{path}:{f.f_lineno}:{f.f_code.co_name}")
        f = f.f_back
    return f"({kind}) " + " | ".join(frames)


def record(ids, kind):
    """Records the caller's call site for `ids` (binary object ids) if enabled.
    kind: "put object", "task call", "actor call", "actor creation"."""
    if ids and _enabled():
        _photon.record_call_site(list(ids), _site(kind))
