// The cluster token as a value: making one, checking one a user gave,
// keeping it in a file only its owner can read, and comparing two without
// leaking where they differ. How calls carry it: rpc/auth.h.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace photon {

// A fresh token: 32 random bytes as 64 hex digits.
std::string GenerateClusterToken();

// A token given by a user: 16 to 256 characters out of [A-Za-z0-9_.-].
// InvalidArgument says what is wrong (never echoes the value).
absl::Status ValidateClusterToken(std::string_view token);

// Writes `token` to `path` readable and writable by its owner only (0600),
// atomically. ReadTokenFile trims whitespace and validates it.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// True if the two strings are equal; takes the same time wherever they differ.
bool TokensMatch(std::string_view presented, std::string_view expected);

}  // namespace photon
