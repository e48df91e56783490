// The cluster token: the shared secret every process of a cluster presents on
// every RPC it makes and requires on every RPC it serves (and on the object
// store socket's CONNECT, object_store/store_server.h).
//
// A call carries it as the metadata "authorization: Bearer <token>". A server
// with a token refuses a call without it, or with another one, before any
// handler runs: the caller gets UNAUTHENTICATED and the refusal is logged. A
// server or client with an empty token does no authentication (unit tests,
// clusters started with auth_mode=disabled).
//
// Threading: all of it is thread-safe. Each call reads the token as it is
// made, so a process that moves to another cluster (a new token) needs no new
// channels.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "photon/common/cluster_token.h"
#include "photon/common/config.h"

namespace photon::rpc {

// At the start of a daemon or worker: the token of `config`'s settings
// (TokenFromSettings) becomes the process's (SetClusterToken) and stays in
// config->cluster_token ("" when authentication is off).
absl::Status AdoptClusterToken(SystemConfig* config);

// The metadata key and the value prefix of the token on a call.
inline constexpr char kAuthMetadataKey[] = "authorization";
inline constexpr char kBearerPrefix[] = "Bearer ";

// The token this process presents on every call it makes ("" presents none).
void SetClusterToken(std::string token);
std::string ClusterToken();

// The token a daemon or worker requires and presents, from its settings
// (auth_mode, cluster_token): "" when auth_mode is "disabled"; the validated
// token when it is "token"; InvalidArgument for another mode, or a missing
// or malformed token (naming PHOTON_CLUSTER_TOKEN).
absl::StatusOr<std::string> TokenFromSettings(std::string_view auth_mode, std::string_view token);

// True if `presented` (a metadata value) is "Bearer <expected>"; the
// comparison takes the same time wherever the strings differ.
bool BearerMatches(std::string_view presented, std::string_view expected);

// Credentials for a listening port: with a non-empty `token`, every call
// must present it (`server_name` names the server in refusal logs); empty:
// plain insecure credentials.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsWithToken(std::string server_name,
                                                                    std::string token);

// Adds the process's token (ClusterToken(), if any) to a call's metadata.
// rpc::PrepareCall (client.h) calls it; use it directly only for a call
// without a deadline.
void AttachClusterToken(grpc::ClientContext* ctx);

}  // namespace photon::rpc
