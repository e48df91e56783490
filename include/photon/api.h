// The Photon C++ API: include this one header.
//
// Photon runs ordinary C++ functions as remote tasks and classes as actors
// across the processes and nodes of a cluster (see docs/cpp-api.md).
#pragma once

#include "photon/version.h"
