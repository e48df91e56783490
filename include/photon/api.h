// The Photon C++ API: include this one header.
//
// Photon runs ordinary C++ functions as remote tasks and classes as actors
// across the processes and nodes of a cluster (see docs/cpp-api.md).
#pragma once

#include "photon/actor.h"
#include "photon/actor_handle.h"
#include "photon/config.h"
#include "photon/errors.h"
#include "photon/object_ref.h"
#include "photon/placement_group.h"
#include "photon/remote.h"
#include "photon/serializer.h"
#include "photon/task_caller.h"
#include "photon/version.h"

namespace photon {

// Starts Photon in this process (the driver): joins the cluster at config.address (or
// PHOTON_ADDRESS), or starts a private local cluster when neither is set. The overload
// without a config uses Config{}; the one with argc/argv also reads Photon's command-line
// flags, which override `config`. Blocks until connected. Throws photon::Error if Photon is
// already initialized in this process or the cluster cannot be started or reached, and
// std::invalid_argument for an invalid config. Call from one thread, before any other API.
void Init();
void Init(const Config& config);
void Init(const Config& config, int argc, char** argv);

// Stops Photon in this process: drops the connection to the cluster and stops a local
// cluster that Init started. Objects owned by this process are lost; ObjectRefs that
// outlive Shutdown may still be destroyed safely, but not used. Blocks until done. Does
// nothing if Photon is not initialized. Call from one thread, with no other API call in
// flight.
void Shutdown();

// True between Init and Shutdown. Thread-safe.
bool IsInitialized();

}  // namespace photon
