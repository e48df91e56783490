"""The `photon` console script: runs the native CLI shipped in photon/_bin."""
import os
import sys

import photon


def bin_dir():
    """The folder holding photon-gcs, photon-raylet and the photon CLI."""
    for base in photon.__path__:
        candidate = os.path.join(base, "_bin")
        if os.path.exists(os.path.join(candidate, "photon-raylet")):
            return candidate
    raise FileNotFoundError("Photon's daemons are not installed next to the photon package")


def main():
    exe = os.path.join(bin_dir(), "photon")
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    main()
