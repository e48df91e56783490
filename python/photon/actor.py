"""photon.actor: exit_actor() for use inside actors."""
from photon._private.actor import exit_actor  # noqa: F401
