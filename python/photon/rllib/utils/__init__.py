"""Helpers of photon.rllib: action distributions (distributions.py)."""
