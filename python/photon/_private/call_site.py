"""record_ref_creation_sites: where each object reference was made (the
memory view's call_site), recorded only when the config row is on (env
PHOTON_RECORD_REF_CREATION_SITES=1, or RAY_record_ref_creation_sites=1 as in
Ray) — a stack walk per created reference costs too much to pay always."""
import os
import sys

from photon import _photon
from photon._private import state

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MAX_FRAMES = 4


def _enabled():
    conn = state.connection
    cached = getattr(conn, "_record_sites", None)
    if cached is None or cached[0] != conn.epoch:
        on = bool(_photon.record_ref_creation_sites()) or \
            os.environ.get("RAY_record_ref_creation_sites", "") in ("1", "true", "True")
        cached = (conn.epoch, on)
        conn._record_sites = cached
    return cached[1]


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
