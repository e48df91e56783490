// Where the GCS keeps its tables. In memory by default (lost with the GCS
// process); RedisGcsStorage (redis_storage.h) keeps them in a Redis server so
// that a restarted GCS finds the cluster as it was.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace photon::gcs {

// Tables of byte-string keys and values. Thread-safe.
class GcsStorage {
 public:
  virtual ~GcsStorage() = default;
  // Stores `value` under (table, key). With overwrite=false an existing key is
  // kept and false is returned; true means the value was written.
  virtual absl::StatusOr<bool> Put(const std::string& table, const std::string& key,
                                   const std::string& value, bool overwrite) = 0;
  virtual absl::StatusOr<std::optional<std::string>> Get(const std::string& table,
                                                         const std::string& key) = 0;
  // Deletes one key, or every key starting with `key` when by_prefix. Returns the count.
  virtual absl::StatusOr<int64_t> Delete(const std::string& table, const std::string& key,
                                         bool by_prefix) = 0;
  // Every key in `table` starting with `prefix`.
  virtual absl::StatusOr<std::vector<std::string>> Keys(const std::string& table,
                                                        const std::string& prefix) = 0;
  // Every (key, value) of `table`, in no particular order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> GetAll(
      const std::string& table) = 0;
  // True if the tables outlive this process (a restarted GCS recovers them).
  virtual bool durable() const = 0;
  // Where the tables live, for messages ("memory", "redis at host:port").
  virtual std::string Describe() const = 0;
};

class InMemoryGcsStorage : public GcsStorage {
 public:
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
  bool durable() const override { return false; }
  std::string Describe() const override { return "memory"; }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::gcs
