"""photon.dashboard: the head's web service (port 8265 by default).

One Python process per cluster serves the web UI (static files under
client/), the JSON API the UI, the CLI and the SDKs use (/api/...), and the
jobs REST API with Ray's routes (modules/job). It reads the cluster through the
native state API by the GCS's address, and joins the cluster as a driver only
when it must start work (a submitted job's supervisor actor).

Started by photon.init() for a local cluster and by `photon start --head`
(launcher.py); see docs/dashboard.md.
"""
