// Error-handling helpers for code inside the core, on top of absl::Status.
//
// Inside the core every fallible function returns absl::Status or
// absl::StatusOr<T> with a canonical code and a message that names the
// problem. Exceptions appear only at the edges users touch (the C++ API and
// the Python bindings), each translating in one place.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define PHOTON_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status photon_status_ = (expr);          \
    if (!photon_status_.ok()) return photon_status_; \
  } while (0)

#define PHOTON_STATUS_CONCAT_INNER(a, b) a##b
#define PHOTON_STATUS_CONCAT(a, b) PHOTON_STATUS_CONCAT_INNER(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, else moves the value into `lhs` (which may be a
// declaration, e.g. `auto x`).
#define PHOTON_ASSIGN_OR_RETURN(lhs, rexpr) \
  PHOTON_ASSIGN_OR_RETURN_IMPL(PHOTON_STATUS_CONCAT(photon_statusor_, __LINE__), lhs, rexpr)
#define PHOTON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

namespace photon {

// Returns `status` with `context` prepended to its message ("context: message"),
// keeping the code. OK stays OK.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace photon
