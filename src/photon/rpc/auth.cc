#include "photon/rpc/auth.h"

#include <grpc/grpc_security.h>
#include <grpc/slice.h>

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::rpc {
namespace {

struct TokenHolder {
  absl::Mutex mu;
  std::string bearer ABSL_GUARDED_BY(mu);  // "Bearer <token>", or "" for none
};

TokenHolder& Holder() {
  static auto* holder = new TokenHolder();
  return *holder;
}

std::string_view SliceView(const grpc_slice& s) {
  return {reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)), GRPC_SLICE_LENGTH(s)};
}

// The state of one server's metadata processor: its token and a count of
// refusals (the first few are logged, then one in every 1000, so that a
// flood of bad calls cannot flood the log).
struct ProcessorState {
  std::string server_name;
  std::string token;
  std::atomic<int64_t> refused{0};
};

std::string PeerOf(grpc_auth_context* ctx) {
  if (ctx == nullptr) return "";
  grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, "peer_address");
  const grpc_auth_property* p = grpc_auth_property_iterator_next(&it);
  if (p == nullptr) {
    it = grpc_auth_context_find_properties_by_name(ctx, GRPC_PEER_IP_PROPERTY_NAME);
    p = grpc_auth_property_iterator_next(&it);
  }
  if (p == nullptr) return "";
  return " from " + std::string(p->value, p->value_length);
}

void ProcessMetadata(void* state, grpc_auth_context* ctx, const grpc_metadata* md, size_t num_md,
                     grpc_process_auth_metadata_done_cb done, void* user_data) {
  auto* st = static_cast<ProcessorState*>(state);
  bool presented = false;
  for (size_t i = 0; i < num_md; ++i) {
    if (SliceView(md[i].key) != kAuthMetadataKey) continue;
    presented = true;
    if (BearerMatches(SliceView(md[i].value), st->token)) {
      done(user_data, &md[i], 1, nullptr, 0, GRPC_STATUS_OK, nullptr);
      return;
    }
  }
  int64_t n = st->refused.fetch_add(1) + 1;
  const char* why = presented ? "a wrong cluster token" : "no cluster token";
  if (n <= 10 || n % 1000 == 0) {
    PHOTON_LOG_WARN("{}: refused a call{} with {} ({} refused so far)", st->server_name,
                    PeerOf(ctx), why, n);
  }
  std::string message = fmt::format(
      "{} refused the call: {} (every call to a Photon cluster must present the "
      "cluster's token; see docs/security.md)",
      st->server_name, why);
  done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, message.c_str());
}

void DestroyProcessor(void* state) { delete static_cast<ProcessorState*>(state); }

// Insecure transport plus a metadata processor that checks the token on every
// call before it reaches a service. (gRPC's C++ InsecureServerCredentials
// takes no processor; the core's insecure credentials do.)
class TokenServerCredentials final : public grpc::ServerCredentials {
 public:
  TokenServerCredentials(std::string server_name, std::string token)
      : server_name_(std::move(server_name)), token_(std::move(token)) {}

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    PHOTON_LOG_ERROR("{}: TokenServerCredentials keeps its own metadata processor", server_name_);
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    grpc_server_credentials* creds = grpc_insecure_server_credentials_create();
    grpc_auth_metadata_processor processor;
    processor.process = &ProcessMetadata;
    processor.destroy = &DestroyProcessor;
    processor.state = new ProcessorState{server_name_, token_};
    grpc_server_credentials_set_auth_metadata_processor(creds, processor);
    int port = grpc_server_add_http2_port(server, addr.c_str(), creds);
    grpc_server_credentials_release(creds);
    return port;
  }

  std::string server_name_;
  std::string token_;
};

}  // namespace

void SetClusterToken(std::string token) {
  TokenHolder& h = Holder();
  absl::MutexLock lock(&h.mu);
  h.bearer = token.empty() ? "" : kBearerPrefix + token;
}

std::string ClusterToken() {
  TokenHolder& h = Holder();
  absl::MutexLock lock(&h.mu);
  return h.bearer.empty() ? "" : h.bearer.substr(sizeof(kBearerPrefix) - 1);
}

absl::Status AdoptClusterToken(SystemConfig* config) {
  auto token = TokenFromSettings(config->auth_mode(), config->cluster_token());
  if (!token.ok()) return token.status();
  config->set_cluster_token(*token);
  SetClusterToken(*token);
  return absl::OkStatus();
}

absl::StatusOr<std::string> TokenFromSettings(std::string_view auth_mode, std::string_view token) {
  if (auth_mode == "disabled") return std::string();
  if (auth_mode != "token") {
    return absl::InvalidArgumentError(fmt::format(
        "auth_mode (PHOTON_AUTH_MODE) must be 'token' or 'disabled', not '{}'", auth_mode));
  }
  if (token.empty()) {
    return absl::InvalidArgumentError(
        "no cluster token: set PHOTON_CLUSTER_TOKEN (or pass --token) to the cluster's token, "
        "or set PHOTON_AUTH_MODE=disabled for a cluster without authentication");
  }
  if (auto s = ValidateClusterToken(token); !s.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("PHOTON_CLUSTER_TOKEN: {}", std::string(s.message())));
  }
  return std::string(token);
}

bool BearerMatches(std::string_view presented, std::string_view expected) {
  std::string_view prefix = kBearerPrefix;
  if (presented.substr(0, prefix.size()) != prefix) return false;
  return TokensMatch(presented.substr(prefix.size()), expected);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsWithToken(std::string server_name,
                                                                    std::string token) {
  if (token.empty()) return grpc::InsecureServerCredentials();
  return std::make_shared<TokenServerCredentials>(std::move(server_name), std::move(token));
}

void AttachClusterToken(grpc::ClientContext* ctx) {
  TokenHolder& h = Holder();
  absl::MutexLock lock(&h.mu);
  if (!h.bearer.empty()) ctx->AddMetadata(kAuthMetadataKey, h.bearer);
}

}  // namespace photon::rpc
