"""Photon internals: not part of the public API."""
