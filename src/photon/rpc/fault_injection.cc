#include "photon/rpc/fault_injection.h"

#include <atomic>
#include <map>
#include <memory>
#include <random>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "fmt/format.h"

namespace photon::rpc {
namespace {

struct Probabilities {
  double request = 0;
  double reply = 0;
};

struct Injection {
  absl::Mutex mu;
  std::map<std::string, Probabilities, std::less<>> methods ABSL_GUARDED_BY(mu);
  std::mt19937_64 rng ABSL_GUARDED_BY(mu){std::random_device{}()};
};

Injection& TheInjection() {
  static auto* injection = new Injection();
  return *injection;
}

// Fast path: no lookup at all while nothing is installed.
std::atomic<bool> g_enabled{false};

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Splits `text` at `sep`, trimming blanks around each piece (empty ones kept).
std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    out.push_back(Trim(text.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

absl::StatusOr<double> ParseProbability(const std::string& text, std::string_view entry) {
  double p = -1;
  size_t used = 0;
  try {
    p = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || p < 0 || p > 1) {
    return absl::InvalidArgumentError(
        fmt::format("testing_rpc_failure: '{}' needs probabilities between 0 and 1, as in "
                    "'PushTask=0.1:0.2'",
                    std::string(entry)));
  }
  return p;
}

}  // namespace

absl::Status InstallFaultInjection(std::string_view spec) {
  std::map<std::string, Probabilities, std::less<>> methods;
  for (const std::string& entry : Split(spec, ',')) {
    if (entry.empty()) continue;
    std::vector<std::string> kv = Split(entry, '=');
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "testing_rpc_failure: '{}' is not Method=request_prob:reply_prob", std::string(entry)));
    }
    std::vector<std::string> probs = Split(kv[1], ':');
    if (probs.size() != 2) {
      return absl::InvalidArgumentError(fmt::format(
          "testing_rpc_failure: '{}' is not Method=request_prob:reply_prob", std::string(entry)));
    }
    auto req = ParseProbability(probs[0], entry);
    if (!req.ok()) return req.status();
    auto rep = ParseProbability(probs[1], entry);
    if (!rep.ok()) return rep.status();
    methods[kv[0]] = Probabilities{*req, *rep};
  }
  Injection& inj = TheInjection();
  absl::MutexLock lock(&inj.mu);
  inj.methods = std::move(methods);
  g_enabled = !inj.methods.empty();
  return absl::OkStatus();
}

InjectedFailure NextInjectedFailure(std::string_view method) {
  if (!g_enabled.load(std::memory_order_relaxed)) return InjectedFailure::kNone;
  Injection& inj = TheInjection();
  absl::MutexLock lock(&inj.mu);
  auto it = inj.methods.find(method);
  if (it == inj.methods.end()) return InjectedFailure::kNone;
  std::uniform_real_distribution<double> u(0, 1);
  if (u(inj.rng) < it->second.request) return InjectedFailure::kRequest;
  if (u(inj.rng) < it->second.reply) return InjectedFailure::kReply;
  return InjectedFailure::kNone;
}

absl::Status InjectedFailureStatus(std::string_view method, InjectedFailure failure) {
  return absl::UnavailableError(
      fmt::format("{}: injected {} failure (testing_rpc_failure)", std::string(method),
                  failure == InjectedFailure::kRequest ? "request" : "reply"));
}

}  // namespace photon::rpc
