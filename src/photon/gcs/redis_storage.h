// GcsStorage in a Redis server, for a GCS that survives its own restart.
//
// Each table is one Redis hash, "photon:<namespace>:<table>", so several
// clusters can share one Redis (external_storage_namespace tells them apart).
// Commands go over one synchronous hiredis connection; a command that fails
// on the connection (Redis restarted, a dropped socket) reconnects and is
// sent again, a few times, before it fails with Unavailable naming Redis's
// address. Thread-safe: one mutex serializes the connection.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "photon/gcs/gcs_storage.h"

struct redisContext;
struct redisReply;

namespace photon::gcs {

struct RedisOptions {
  std::string address = "";   // "host:port"
  std::string password = "";  // empty: no AUTH
  std::string storage_namespace = "default";
  int64_t connect_timeout_ms = 5000;
  int64_t command_timeout_ms = 10000;
};

class RedisGcsStorage : public GcsStorage {
 public:
  // Connects (and authenticates); fails with Unavailable if Redis does not
  // answer, InvalidArgument for a malformed address, Unauthenticated if it
  // refuses the password.
  static absl::StatusOr<std::unique_ptr<RedisGcsStorage>> Connect(RedisOptions options);
  ~RedisGcsStorage() override;

  absl::StatusOr<bool> Put(const std::string& table, const std::string& key,
                           const std::string& value, bool overwrite) override;
  absl::StatusOr<std::optional<std::string>> Get(const std::string& table,
                                                 const std::string& key) override;
  absl::StatusOr<int64_t> Delete(const std::string& table, const std::string& key,
                                 bool by_prefix) override;
  absl::StatusOr<std::vector<std::string>> Keys(const std::string& table,
                                                const std::string& prefix) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> GetAll(
      const std::string& table) override;
  bool durable() const override { return true; }
  std::string Describe() const override { return "redis at " + options_.address; }

 private:
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

  explicit RedisGcsStorage(RedisOptions options);
  absl::Status ConnectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs one command; an error reply becomes Internal with Redis's message.
  absl::StatusOr<Reply> Command(const std::vector<std::string>& args) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Reply> CommandLocked(const std::vector<std::string>& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string HashKey(const std::string& table) const;

  const RedisOptions options_;
  std::string host_;
  int port_ = 0;
  absl::Mutex mu_;
  redisContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace photon::gcs
