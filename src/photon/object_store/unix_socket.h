// Framed messages over Unix stream sockets in Linux's abstract namespace (no
// file to clean up, no path-length limit from deep session folders), with
// optional descriptor passing.
//
// Each call is blocking; a socket may be used by one reader and one writer
// thread at a time.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace photon::object_store {

// Listens on the abstract socket `name` (without the leading NUL).
absl::StatusOr<int> ListenUnix(const std::string& name);
absl::StatusOr<int> ConnectUnix(const std::string& name);

// Sends one frame (u32 length + bytes), with `pass_fd` attached if >= 0.
absl::Status SendFrame(int sock, const std::string& payload, int pass_fd = -1);
// Receives one frame. If `received_fd` is not null, a descriptor that came
// with it is stored there (-1 if none). Unavailable when the peer closed.
absl::Status RecvFrame(int sock, std::string* payload, int* received_fd = nullptr);

}  // namespace photon::object_store
