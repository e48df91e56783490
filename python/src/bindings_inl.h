// Template definitions for bindings.h.
#pragma once

#include <chrono>
#include <functional>

namespace photon::python {

template <typename T>
absl::StatusOr<T> CallInSlices(int64_t timeout_ms,
                               const std::function<absl::StatusOr<T>(int64_t)>& call) {
  // Short enough that Ctrl-C feels immediate; a blocked call costs one wake-up per slice.
  constexpr int64_t kSliceMs = 100;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  absl::StatusOr<T> result;
  while (true) {
    int64_t slice = kSliceMs;
    if (timeout_ms >= 0) {
      int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(
                         deadline - std::chrono::steady_clock::now())
                         .count();
      slice = std::max<int64_t>(0, std::min(left, kSliceMs));
    }
    {
      nb::gil_scoped_release release;
      result = call(slice);
    }
    if (result.ok() || !absl::IsDeadlineExceeded(result.status())) return result;
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return result;
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
  }
}

}  // namespace photon::python
