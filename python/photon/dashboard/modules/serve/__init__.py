"""Serve's REST API on the dashboard (serve_head): the applications' state,
deploying a config, shutting Serve down."""
