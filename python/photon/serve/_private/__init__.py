"""photon.serve's internals: the controller, replicas, router and proxy."""
