#include "photon/task_caller.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "photon/actor.h"

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

// --- actors ---

namespace {

void ValidateAtLeast(const char* option, const char* field, int value, int minimum,
                     const char* meaning) {
  if (value < minimum) {
    throw std::invalid_argument(std::string(option) + ": " + field +
                                " must be >= " + std::to_string(minimum) + meaning + "; got " +
                                std::to_string(value));
  }
}

}  // namespace

void ValidateActorName(const std::string& name) {
  if (name.empty()) {
    throw std::invalid_argument("SetName: the actor name is empty");
  }
}

void ValidateMaxRestarts(int max_restarts) {
  ValidateAtLeast("SetMaxRestarts", "max_restarts", max_restarts, -1, " (-1: restart forever)");
}

void ValidateMaxTaskRetries(int max_task_retries) {
  ValidateAtLeast("SetMaxTaskRetries", "max_task_retries", max_task_retries, -1,
                  " (-1: retry forever)");
}

void ValidateMaxConcurrency(int max_concurrency) {
  ValidateAtLeast("SetMaxConcurrency", "max_concurrency", max_concurrency, 1, "");
}

std::string GetNamedActorId(const std::string& name, const std::string& ray_namespace) {
  if (name.empty()) {
    throw std::invalid_argument("photon::GetActor: the actor name is empty");
  }
  std::string actor_id = GetRuntime().GetNamedActor(name, ray_namespace);
  // The runtime's answer is a bare id; the handle made of it holds a reference.
  RetainActor(actor_id);
  return actor_id;
}

}  // namespace photon::internal

namespace photon {

void ExitActor() { internal::GetRuntime().ExitActor(); }

bool WasCurrentActorRestarted() { return internal::GetRuntime().WasCurrentActorRestarted(); }

}  // namespace photon
