// Injected RPC failures, for tests of the retry paths (Ray's
// RAY_testing_rpc_failure): the config row `testing_rpc_failure` holds
// "Method=request_prob:reply_prob,Method2=...", e.g. "PushTask=0.1:0.1".
// A request failure drops the call before it is sent; a reply failure lets
// the call run on the server and then loses its reply. Both reach the caller
// as UNAVAILABLE with a message that says the failure was injected.
//
// The setting is process-wide: each process installs it once at startup
// (InstallFaultInjection) from its SystemConfig, before it makes calls.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace photon::rpc {

enum class InjectedFailure { kNone, kRequest, kReply };

// Parses and installs `spec` (empty: no injection). InvalidArgument names the
// malformed entry.
absl::Status InstallFaultInjection(std::string_view spec);

// Which failure, if any, to inject into the call of `method` about to start.
InjectedFailure NextInjectedFailure(std::string_view method);

// The status an injected failure gives the caller.
absl::Status InjectedFailureStatus(std::string_view method, InjectedFailure failure);

}  // namespace photon::rpc
