#include "photon/task_caller.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace photon::internal {

void ValidateResource(const char* option, const std::string& name, double quantity) {
  if (name.empty()) {
    throw std::invalid_argument(std::string(option) + ": the resource name is empty");
  }
  if (!std::isfinite(quantity) || quantity < 0) {
    throw std::invalid_argument(std::string(option) + ": the quantity of resource '" + name +
                                "' must be a finite number >= 0; got " + std::to_string(quantity));
  }
}

void ValidateMaxRetries(int max_retries) {
  if (max_retries < -1) {
    throw std::invalid_argument(
        "SetMaxRetries: max_retries must be >= 0, or -1 to retry forever; got " +
        std::to_string(max_retries));
  }
}

CallOptions FinalCallOptions(const CallOptions& options) {
  CallOptions final_options = options;
  // As in Ray, a task needs one CPU unless it says otherwise, also when it asks for other
  // resources.
  if (!final_options.resources.empty()) {
    final_options.resources.try_emplace("CPU", 1.0);
  }
  return final_options;
}

}  // namespace photon::internal
